#pragma once

// Import of OpenMetrics text (the input of `promtool tsdb create-blocks-from openmetrics`:
// every sample with a timestamp in seconds, `# EOF` at the end) into an ImportSink. Shared by
// POST /api/v1/import/openmetrics and `hearthctl tsdb import openmetrics`.
//
// A bad line is counted and reported with its line number in the whole input, and the import
// goes on with the next line; HELP, TYPE and UNIT are kept as metadata. Only a failing sink
// (other than rejecting one sample) ends an import early.
//
// Thread-safety: none; one import runs on one thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/status.h"
#include "web/api_sources.h"

namespace hearth::web {

struct ImportError {
  int64_t line = 0;  // 1-based line of the input; 0 when the error concerns no one line
  std::string message;
};

class OpenMetricsImport {
 public:
  static constexpr size_t kMaxErrors = 10;  // errors listed; all are counted

  // Reads up to `size` bytes into `buf`; 0 at the end of the input.
  using ReadFunc = std::function<Result<size_t>(char* buf, size_t size)>;
  // Bytes of input consumed so far and samples imported so far.
  using ProgressFunc = std::function<void(uint64_t bytes, uint64_t samples)>;

  // `sink` must outlive the import.
  explicit OpenMetricsImport(ImportSink& sink);
  ~OpenMetricsImport();

  // Reads the whole input, imports it and flushes the sink (Batch... then Finish).
  Status Run(const ReadFunc& read, const ProgressFunc& progress = {});

  // The steps of Run: whole lines in order (`last` for the final piece), then Finish once.
  Status Batch(std::string_view lines, bool last);
  Status Finish();

  uint64_t imported() const;
  uint64_t rejected() const;
  const std::vector<ImportError>& errors() const;  // the first kMaxErrors

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::web
