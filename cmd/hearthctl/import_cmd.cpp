// hearthctl tsdb import openmetrics <input file> [<data dir>]
// hearthctl tsdb import openmetrics <input file> --server http://host:9090
//
// Without --server the data directory is opened for writing (no hearth may run on it) and the
// samples are written as sealed chunks by the TSDB's bulk importer; a hearth started on it
// later serves them. With --server the file is streamed to the running server's
// POST /api/v1/import/openmetrics (it needs --web.enable-admin-api), which does the same.
// Either way the input is the same, bad lines are reported with their line numbers and skipped,
// and on a terminal a progress bar shows on stderr. Exit status 1 when anything was rejected.

#include "cmd/hearthctl/import_cmd.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cmd/common/db_import_sink.h"
#include "cmd/common/flags.h"
#include "cmd/hearthctl/api_client.h"
#include "model/clock.h"
#include "model/metrics.h"
#include "tsdb/tsdb.h"
#include "web/openmetrics_import.h"

namespace hearth::ctl {
namespace {

using cli::FlagSet;
using cli::FlagType;

// A one-line progress bar on stderr, redrawn at most ten times a second; silent when stderr is
// not a terminal.
class Progress {
 public:
  Progress(uint64_t total_bytes, bool enabled)
      : total_(total_bytes), enabled_(enabled && isatty(STDERR_FILENO) == 1) {}

  void Update(uint64_t bytes, uint64_t samples, bool force = false) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 30;
    double frac = total_ == 0 ? 1.0 : std::min(1.0, static_cast<double>(bytes) / total_);
    int filled = static_cast<int>(frac * kWidth);
    std::fprintf(stderr, "\r[%s%s] %3d%%  %.1f/%.1f MiB  %llu samples", 
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), '.').c_str(),
                 static_cast<int>(frac * 100), static_cast<double>(bytes) / (1 << 20),
                 static_cast<double>(total_) / (1 << 20),
                 static_cast<unsigned long long>(samples));
    drawn_ = true;
  }
  void Done() {
    if (drawn_) std::fputc('\n', stderr);
  }

 private:
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

struct Outcome {
  uint64_t imported = 0;
  uint64_t rejected = 0;
  std::vector<web::ImportError> errors;
};

int Report(const Outcome& o, const std::string& input, const std::string& into) {
  for (const web::ImportError& e : o.errors) {
    if (e.line > 0) {
      std::fprintf(stderr, "%s:%lld: %s\n", input.c_str(), static_cast<long long>(e.line),
                   e.message.c_str());
    } else {
      std::fprintf(stderr, "%s: %s\n", input.c_str(), e.message.c_str());
    }
  }
  if (o.rejected > o.errors.size()) {
    std::fprintf(stderr, "(%llu rejected samples in all; the first %zu errors are shown)\n",
                 static_cast<unsigned long long>(o.rejected), o.errors.size());
  }
  std::printf("imported %llu samples into %s, rejected %llu\n",
              static_cast<unsigned long long>(o.imported), into.c_str(),
              static_cast<unsigned long long>(o.rejected));
  return o.rejected > 0 || !o.errors.empty() ? 1 : 0;
}

int Fail(std::string_view what, const Status& st) {
  std::fprintf(stderr, "hearthctl: error: %.*s: %s\n", static_cast<int>(what.size()),
               what.data(), st.message().c_str());
  return 1;
}

web::OpenMetricsImport::ReadFunc FileReader(std::ifstream& in, const std::string& path) {
  return [&in, path](char* buf, size_t size) -> Result<size_t> {
    in.read(buf, static_cast<std::streamsize>(size));
    if (in.bad()) return Errorf(StatusCode::kIOError, "read {}", path);
    return static_cast<size_t>(in.gcount());
  };
}

int ImportIntoDir(const std::string& input, uint64_t size, std::ifstream& in,
                  const std::string& dir, bool quiet) {
  RealClock clock;
  metrics::Registry registry;
  tsdb::Options o(dir, clock, registry, Logger::Discard());
  o.background_maintenance = false;
  o.retention_time_ms = 0;  // keep what is imported; the server applies its own retention
  auto db = tsdb::OpenDB(o);
  if (!db.ok()) return Fail("open " + dir, db.status());
  Outcome out;
  {
    auto sink = DbImportSink::Make(**db);
    if (!sink.ok()) return Fail("import", sink.status());
    web::OpenMetricsImport import(**sink);
    Progress progress(size, !quiet);
    Status st = import.Run(FileReader(in, input), [&](uint64_t bytes, uint64_t samples) {
      progress.Update(bytes, samples);
    });
    progress.Update(size, import.imported(), true);
    progress.Done();
    if (!st.ok()) {
      (void)(*db)->Close();
      return Fail("import " + input, st);
    }
    out = {import.imported(), import.rejected(), import.errors()};
  }
  if (Status st = (*db)->Close(); !st.ok()) return Fail("close " + dir, st);
  return Report(out, input, dir);
}

int ImportIntoServer(const std::string& input, uint64_t size, std::ifstream& in,
                     const std::string& server, int64_t timeout_ms, bool quiet) {
  auto client = ApiClient::Make(server, {}, timeout_ms);
  if (!client.ok()) return Fail("server", client.status());
  Progress progress(size, !quiet);
  auto reply = client->PostStream("import/openmetrics", "application/openmetrics-text", size,
                                  FileReader(in, input),
                                  [&](uint64_t sent) { progress.Update(sent, 0); });
  progress.Update(size, 0, true);
  progress.Done();
  if (!reply.ok()) return Fail("import " + input, reply.status());
  Outcome out;
  const auto& d = reply->data;
  out.imported = d.value("samplesImported", uint64_t{0});
  out.rejected = d.value("samplesRejected", uint64_t{0});
  if (d.contains("errors") && d["errors"].is_array()) {
    for (const auto& e : d["errors"]) {
      out.errors.push_back({e.value("line", int64_t{0}), e.value("error", std::string())});
    }
  }
  return Report(out, input, server);
}

}  // namespace

int RunTsdbImportOpenMetrics(const std::vector<std::string>& args) {
  FlagSet flags("hearthctl tsdb import openmetrics");
  flags.Add({"server", FlagType::kString, "",
             "Import into this running server (it needs --web.enable-admin-api) instead of a "
             "data directory.",
             false, "<url>"});
  flags.Add({"timeout", FlagType::kDuration, "5m",
             "With --server: timeout of each write and of the answer.", false, "<duration>"});
  flags.Add({"quiet", FlagType::kBool, "false", "No progress bar.", false, ""});
  flags.Add({"help", FlagType::kBool, "false", "Show help.", false, ""});
  if (Status st = flags.Parse(args); !st.ok()) {
    std::fprintf(stderr, "hearthctl: error: %s\n", st.message().c_str());
    return 2;
  }
  if (flags.GetBool("help")) {
    std::fputs(flags.Usage("Import samples from OpenMetrics input into a data directory or a "
                           "running server: <input file> [<output directory>]")
                   .c_str(),
               stdout);
    return 0;
  }
  const auto& pos = flags.positional();
  const std::string server = flags.GetString("server");
  if (pos.empty() || pos.size() > 2 || (!server.empty() && pos.size() > 1)) {
    std::fprintf(stderr, "hearthctl: error: expected <input file> [<output directory>] or "
                         "<input file> --server <url>, try --help\n");
    return 2;
  }
  const std::string& input = pos[0];
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(input, ec);
  std::ifstream in(input, std::ios::binary);
  if (ec || !in) {
    std::fprintf(stderr, "hearthctl: error: open %s: %s\n", input.c_str(),
                 ec ? ec.message().c_str() : "cannot read");
    return 1;
  }
  const bool quiet = flags.GetBool("quiet");
  if (!server.empty()) {
    return ImportIntoServer(input, size, in, server, flags.GetDurationMs("timeout"), quiet);
  }
  return ImportIntoDir(input, size, in, pos.size() > 1 ? pos[1] : "data/", quiet);
}

}  // namespace hearth::ctl
