// The writer process of the crash test (tests/tsdb/crash_test.cpp): opens the data directory,
// commits batch after batch of tests/tsdb/crash_batch.h, and after each Commit that returned
// OK appends "<k>\n" to the report file. It runs until killed. Maintenance is set to run all
// the time (checkpoints, idle series, chunk sealing) so that kills land in every phase.
//
// usage: tsdb_crash_writer DATA_DIR REPORT_FILE ROUND
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/tsdb/crash_batch.h"
#include "tsdb/tsdb.h"

int main(int argc, char** argv) {
  using namespace hearth;
  if (argc != 4) {
    std::fprintf(stderr, "usage: tsdb_crash_writer DATA_DIR REPORT_FILE ROUND\n");
    return 2;
  }
  const int round = std::atoi(argv[3]);
  RealClock clock;
  metrics::Registry registry;
  tsdb::Options o(argv[1], clock, registry);
  o.retention_time_ms = 0;
  o.samples_per_chunk = 16;
  o.partition_ms = 10 * kMillisPerMinute;  // data time: a new partition every 600 batches
  o.checkpoint_interval_ms = 150;
  o.maintenance_interval_ms = 25;
  o.idle_series_ms = 100;
  o.sync_interval_ms = 25;
  o.block_cache_bytes = 8 << 20;
  o.write_buffer_bytes = 8 << 20;
  auto db = tsdb::OpenDB(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 3;
  }
  const int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 5;
  auto app = (*db)->NewAppender();
  std::map<int, storage::SeriesRef> refs;
  for (int64_t k = 0;; ++k) {
    for (const auto& s : tsdb::crash::Batch(round, k)) {
      auto r = app->Append(refs[s.series], tsdb::crash::SeriesLabels(s.series), s.t, s.v);
      if (!r.ok()) {
        std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
        return 4;
      }
      refs[s.series] = *r;
    }
    if (Status st = app->Commit(); !st.ok()) {
      std::fprintf(stderr, "commit: %s\n", st.ToString().c_str());
      return 4;
    }
    const std::string line = std::to_string(k) + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 5;
  }
}
