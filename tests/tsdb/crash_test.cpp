// Crash safety: a writer process (tests/tsdb/crash_writer.cpp) commits batches continuously
// and reports each committed one; the test SIGKILLs it at random moments, round after round,
// then opens the data directory and checks that every reported batch is there with its exact
// values, that the batch in flight at the kill is there entirely or not at all, and that
// nothing else is.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "model/clock.h"
#include "model/metrics.h"
#include "tests/common/test_paths.h"
#include "tests/tsdb/crash_batch.h"
#include "tests/tsdb/tsdb_test_util.h"
#include "tsdb/internal/db_impl.h"
#include "tsdb/tsdb.h"

namespace hearth::tsdb {
namespace {

using testing::Eq;
using testing::ReadAll;
using testing::TempDir;

const std::string kWriterPath = std::string(hearth::testing::kBinaryDir) + "/tests/tsdb/tsdb_crash_writer";
const char* const kWriter = kWriterPath.c_str();

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The last complete line of the report, or -1.
int64_t LastReported(const std::string& path) {
  std::string text = ReadFile(path);
  if (!text.empty() && text.back() != '\n') text.erase(text.rfind('\n') + 1);  // torn line
  if (text.empty()) return -1;
  text.pop_back();
  size_t nl = text.rfind('\n');
  return std::stoll(nl == std::string::npos ? text : text.substr(nl + 1));
}

// Runs one writer round for `ms` milliseconds, then kills it. Returns the last reported batch.
int64_t RunRound(const std::string& data, const std::string& scratch, int round, int ms) {
  const std::string report = scratch + "/report." + std::to_string(round);
  const std::string err = scratch + "/stderr." + std::to_string(round);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 2);
    const std::string r = std::to_string(round);
    ::execl(kWriter, kWriter, data.c_str(), report.c_str(), r.c_str(), nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  ::kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("writer round " << round << " stderr: " << ReadFile(err));
  // The writer only ever stops because it was killed.
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  return LastReported(report);
}

Options WriterOptions(const std::string& dir, Clock& clock, metrics::Registry& reg) {
  Options o(dir, clock, reg);
  o.retention_time_ms = 0;
  o.samples_per_chunk = 16;
  o.partition_ms = 10 * kMillisPerMinute;
  o.background_maintenance = false;
  return o;
}

// Opens the directory and checks it holds exactly the committed batches of rounds [0, last.size()).
void Verify(const std::string& data, const std::vector<int64_t>& last) {
  RealClock clock;
  metrics::Registry reg;
  auto db = OpenDB(WriterOptions(data, clock, reg));
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  auto got = ReadAll(**db, kMinTime, kMaxTime, {Eq("job", "crash")});
  {
    // One label set, one ref: in RocksDB and in the head alike.
    auto* impl = static_cast<DBImpl*>(db->get());
    std::map<Labels, SeriesRef> refs;
    REQUIRE(impl->store()
                ->ForEachSeries([&](SeriesRef ref, const Labels& l) {
                  auto [it, inserted] = refs.emplace(l, ref);
                  if (!inserted) FAIL_CHECK("stored twice: " << l.ToString());
                })
                .ok());
    std::map<Labels, SeriesRef> head;
    impl->head().ForEachSeries([&](MemSeries* s) {
      auto [it, inserted] = head.emplace(s->labels, s->ref);
      if (!inserted) FAIL_CHECK("in the head twice: " << s->labels.ToString());
      auto st = refs.find(s->labels);
      if (st != refs.end() && st->second != s->ref) {
        FAIL_CHECK("head and store disagree on the ref of " << s->labels.ToString());
      }
    });
  }

  std::map<Labels, std::vector<Sample>> want;
  std::map<int, Labels> labels;
  auto add = [&](const crash::BatchSample& s) {
    auto it = labels.find(s.series);
    if (it == labels.end()) it = labels.emplace(s.series, crash::SeriesLabels(s.series)).first;
    want[it->second].push_back({s.t, s.v});
  };
  for (int r = 0; r < static_cast<int>(last.size()); ++r) {
    for (int64_t k = 0; k <= last[r]; ++k) {
      for (const auto& s : crash::Batch(r, k)) add(s);
    }
    // The batch in flight when the writer died: all of it or none of it.
    const auto inflight = crash::Batch(r, last[r] + 1);
    size_t present = 0;
    for (const auto& s : inflight) {
      const auto& samples = got[crash::SeriesLabels(s.series)];
      for (const Sample& x : samples) present += x.t == s.t ? 1 : 0;
    }
    INFO("round " << r << " last reported batch " << last[r] << ", in-flight samples present "
                  << present << " of " << inflight.size());
    REQUIRE((present == 0 || present == inflight.size()));
    if (present > 0) {
      for (const auto& s : inflight) add(s);
    }
  }
  // Nothing more and nothing less.
  std::erase_if(got, [](const auto& kv) { return kv.second.empty(); });
  REQUIRE(got.size() == want.size());
  size_t samples = 0;
  for (const auto& [l, w] : want) {
    INFO("series " << l.ToString());
    auto it = got.find(l);
    REQUIRE(it != got.end());
    REQUIRE(it->second.size() == w.size());
    REQUIRE(testing::SameSamples(it->second, w));
    samples += w.size();
  }
  REQUIRE(samples > 0);
  REQUIRE((*db)->Close().ok());
}

TEST_CASE("every committed sample survives SIGKILL of the writer", "[tsdb][crash]") {
  TempDir dir;
  const std::string data = dir / "data";
  const uint32_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  std::vector<int64_t> last;
  constexpr int kRounds = 10;
  for (int r = 0; r < kRounds; ++r) {
    // Mostly long enough to commit, checkpoint and seal; sometimes so short that the kill
    // lands during recovery.
    const int ms = r % 4 == 3 ? 5 + static_cast<int>(rng() % 40) : 80 + static_cast<int>(rng() % 400);
    last.push_back(RunRound(data, dir.path(), r, ms));
    if (r == kRounds / 2) Verify(data, last);  // a reopen in between, as a restart would
  }
  int64_t committed = 0;
  for (int64_t k : last) committed += k + 1;
  INFO("batches committed: " << committed);
  REQUIRE(committed > 100);
  Verify(data, last);
}

}  // namespace
}  // namespace hearth::tsdb
