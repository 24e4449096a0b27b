// promqltest: runs Prometheus' PromQL test scripts against Hearth's engine.
//
//   promqltest [--dir DIR] [--passing FILE] [--update] [--verbose] [FILE.test ...]
//
// Prints passed / failed / unsupported per file. FILE (passing.txt) lists the evals that passed
// before, one `file.test:LINE` per line; the run fails (exit 1) when any of them no longer
// passes. --update (or HEARTH_PROMQLTEST_UPDATE=1) adds the evals that pass now to the list;
// entries are never removed. Exit 77 (ctest's skip) when the test-data directory is absent.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/common/test_paths.h"
#include "tests/query/promqltest/runner.h"


namespace fs = std::filesystem;
using hearth::promqltest::EvalOutcome;
using hearth::promqltest::FileReport;

namespace {

std::set<std::string> ReadList(const std::string& path) {
  std::set<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') out.insert(line);
  }
  return out;
}

// Sorts "file:line" by file, then numerically by line.
bool EntryLess(const std::string& a, const std::string& b) {
  auto split = [](const std::string& s) {
    size_t c = s.rfind(':');
    return std::make_pair(s.substr(0, c), std::atoi(s.c_str() + c + 1));
  };
  return split(a) < split(b);
}

int Usage() {
  std::fprintf(stderr,
               "usage: promqltest [--dir DIR] [--passing FILE] [--update] [--verbose] "
               "[FILE.test ...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::string(hearth::testing::kSourceDir) + "/../shared/promql-testdata";
  std::string passing = std::string(hearth::testing::kSourceDir) + "/tests/query/promqltest/passing.txt";
  bool update = false, verbose = false;
  if (const char* e = std::getenv("HEARTH_PROMQLTEST_UPDATE"); e != nullptr && e[0] == '1') {
    update = true;
  }
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--passing" && i + 1 < argc) {
      passing = argv[++i];
    } else if (a == "--update") {
      update = true;
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (!a.empty() && a[0] == '-') {
      return Usage();
    } else {
      only.push_back(a);
    }
  }
  if (!fs::is_directory(dir)) {
    std::printf("SKIP: PromQL test data directory %s not found\n", dir.c_str());
    return 77;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".test") continue;
    std::string name = e.path().filename().string();
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());

  std::set<std::string> listed = ReadList(passing);
  std::set<std::string> now_passing;
  std::set<std::string> seen_files;
  std::set<std::string> all_evals;
  int regressions = 0, total_pass = 0, total_fail = 0, total_unsup = 0;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string name = path.filename().string();
    seen_files.insert(name);
    FileReport r = hearth::promqltest::RunScript(name, buf.str());
    if (!r.error.empty()) {
      std::printf("%-28s script error: %s\n", name.c_str(), r.error.c_str());
      total_fail++;
    }
    int p = r.Count(EvalOutcome::Status::kPassed);
    int f = r.Count(EvalOutcome::Status::kFailed);
    int u = r.Count(EvalOutcome::Status::kUnsupported);
    total_pass += p;
    total_fail += f;
    total_unsup += u;
    std::printf("%-28s %4d passed %4d failed %4d unsupported (of %zu)\n", name.c_str(), p, f, u,
                r.evals.size());
    for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
    for (const auto& e : r.evals) {
      std::string key = fmt::format("{}:{}", name, e.line);
      all_evals.insert(key);
      if (e.status == EvalOutcome::Status::kPassed) now_passing.insert(key);
      bool regressed = listed.count(key) > 0 && e.status != EvalOutcome::Status::kPassed;
      if (regressed) regressions++;
      if (regressed || (verbose && e.status != EvalOutcome::Status::kPassed)) {
        const char* what = regressed                                  ? "REGRESSION"
                           : e.status == EvalOutcome::Status::kFailed ? "FAIL"
                                                                      : "UNSUPPORTED";
        std::printf("  %s %s:%d %s\n      %s\n", what, name.c_str(), e.line, e.expr.c_str(),
                    e.message.c_str());
      }
    }
  }
  // A listed eval that is no longer there (the script changed) counts as a regression too.
  for (const auto& key : listed) {
    std::string file = key.substr(0, key.rfind(':'));
    if (seen_files.count(file) && !all_evals.count(key)) {
      regressions++;
      std::printf("  REGRESSION %s: no eval command at this line\n", key.c_str());
    }
  }
  std::printf("total: %d passed, %d failed, %d unsupported\n", total_pass, total_fail, total_unsup);
  size_t new_passing = 0;
  for (const auto& k : now_passing) new_passing += listed.count(k) == 0;
  if (update) {
    std::set<std::string> merged = listed;
    merged.insert(now_passing.begin(), now_passing.end());
    std::vector<std::string> sorted(merged.begin(), merged.end());
    std::sort(sorted.begin(), sorted.end(), EntryLess);
    std::ofstream out(passing);
    out << "# Evals of the PromQL test scripts that pass (file:line of the eval command).\n"
        << "# Maintained by `promqltest --update`; entries are only ever added.\n";
    for (const auto& s : sorted) out << s << "\n";
    std::printf("updated %s: %zu entries (%zu new)\n", passing.c_str(), sorted.size(), new_passing);
  } else if (new_passing > 0) {
    std::printf("%zu passing evals are not in %s yet; run with --update to add them\n", new_passing,
                passing.c_str());
  }
  if (regressions > 0) {
    std::printf("FAILED: %d evals listed in %s no longer pass\n", regressions, passing.c_str());
    return 1;
  }
  return 0;
}
