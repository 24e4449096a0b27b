#include "model/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

#include "model/format.h"

namespace hearth::metrics {
namespace {

double Load(const std::atomic<uint64_t>& a) {
  return std::bit_cast<double>(a.load(std::memory_order_relaxed));
}

void AtomicAdd(std::atomic<uint64_t>& a, double v) {
  uint64_t old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + v),
                                  std::memory_order_relaxed)) {
  }
}

void AppendSample(std::string* out, std::string_view name, std::string_view label_prefix,
                  std::string_view extra_label, double v) {
  *out += name;
  if (!label_prefix.empty() || !extra_label.empty()) {
    if (label_prefix.empty()) {
      *out += '{';
    } else {
      *out += label_prefix;
      if (!extra_label.empty()) *out += ',';
    }
    *out += extra_label;
    *out += '}';
  }
  *out += ' ';
  *out += FormatExpositionValue(v);
  *out += '\n';
}

// A family with one unlabelled child whose value comes from a function.
class FuncFamily final : public FamilyBase {
 public:
  FuncFamily(std::string name, std::string help, std::string type, std::function<double()> f,
             Labels labels = {})
      : FamilyBase(std::move(name), std::move(help), std::move(type), {}),
        f_(std::move(f)), labels_(std::move(labels)) {}
  void Render(std::string* out) const override {
    RenderHeader(out);
    std::string prefix;
    if (!labels_.empty()) {
      prefix = "{";
      bool first = true;
      for (const Label& l : labels_) {
        if (!first) prefix += ',';
        first = false;
        prefix += l.name;
        prefix += "=\"";
        prefix += EscapeLabelValue(l.value);
        prefix += '"';
      }
    }
    AppendSample(out, name_, prefix, "", f_());
  }

 private:
  std::function<double()> f_;
  Labels labels_;
};

void RenderChild(std::string* out, const std::string& name, const std::string& prefix,
                 const Counter& c) {
  AppendSample(out, name, prefix, "", c.Value());
}
void RenderChild(std::string* out, const std::string& name, const std::string& prefix,
                 const Gauge& g) {
  AppendSample(out, name, prefix, "", g.Value());
}
void RenderChild(std::string* out, const std::string& name, const std::string& prefix,
                 const Histogram& h) {
  uint64_t cumulative = 0;
  const auto& bounds = h.upper_bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += h.BucketCount(i);
    double le = i < bounds.size() ? bounds[i] : INFINITY;
    AppendSample(out, name + "_bucket", prefix, "le=\"" + FormatExpositionValue(le) + "\"",
                 static_cast<double>(cumulative));
  }
  AppendSample(out, name + "_sum", prefix, "", h.Sum());
  AppendSample(out, name + "_count", prefix, "", static_cast<double>(cumulative));
}

}  // namespace

void Counter::Inc(double v) { AtomicAdd(bits_, v); }
double Counter::Value() const { return Load(bits_); }

void Gauge::Set(double v) { bits_.store(std::bit_cast<uint64_t>(v), std::memory_order_relaxed); }
void Gauge::Add(double v) { AtomicAdd(bits_, v); }
double Gauge::Value() const { return Load(bits_); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_bits_, v);
}

uint64_t Histogram::Count() const {
  uint64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += BucketCount(i);
  return n;
}

double Histogram::Sum() const { return Load(sum_bits_); }

std::vector<double> DefaultBuckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(start);
    start *= factor;
  }
  return out;
}

void FamilyBase::RenderHeader(std::string* out) const {
  *out += "# HELP ";
  *out += name_;
  *out += ' ';
  *out += EscapeHelp(help_);
  *out += "\n# TYPE ";
  *out += name_;
  *out += ' ';
  *out += type_;
  *out += '\n';
}

std::string FamilyBase::LabelPrefix(const std::vector<std::string>& values) const {
  if (label_names_.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names_[i];
    out += "=\"";
    out += EscapeLabelValue(i < values.size() ? values[i] : "");
    out += '"';
  }
  return out;
}

template <typename M>
void Family<M>::Render(std::string* out) const {
  std::lock_guard lock(mu_);
  if (children_.empty() && !label_names_.empty()) return;
  RenderHeader(out);
  for (const auto& [values, child] : children_) {
    RenderChild(out, name_, LabelPrefix(values), *child);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <typename F>
F& Registry::Add(std::unique_ptr<F> f) {
  std::lock_guard lock(mu_);
  F& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

Counter& Registry::NewCounter(std::string name, std::string help) {
  return NewCounterFamily(std::move(name), std::move(help), {}).With({});
}
Gauge& Registry::NewGauge(std::string name, std::string help) {
  return NewGaugeFamily(std::move(name), std::move(help), {}).With({});
}
Histogram& Registry::NewHistogram(std::string name, std::string help,
                                  std::vector<double> buckets) {
  return NewHistogramFamily(std::move(name), std::move(help), {}, std::move(buckets)).With({});
}
Family<Counter>& Registry::NewCounterFamily(std::string name, std::string help,
                                            std::vector<std::string> labels) {
  return Add(std::make_unique<Family<Counter>>(std::move(name), std::move(help), "counter",
                                               std::move(labels)));
}
Family<Gauge>& Registry::NewGaugeFamily(std::string name, std::string help,
                                        std::vector<std::string> labels) {
  return Add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), "gauge",
                                             std::move(labels)));
}
Family<Histogram>& Registry::NewHistogramFamily(std::string name, std::string help,
                                                std::vector<std::string> labels,
                                                std::vector<double> buckets) {
  return Add(std::make_unique<Family<Histogram>>(std::move(name), std::move(help), "histogram",
                                                 std::move(labels), std::move(buckets)));
}
void Registry::NewGaugeFunc(std::string name, std::string help, std::function<double()> f) {
  Add(std::make_unique<FuncFamily>(std::move(name), std::move(help), "gauge", std::move(f)));
}
void Registry::NewCounterFunc(std::string name, std::string help, std::function<double()> f) {
  Add(std::make_unique<FuncFamily>(std::move(name), std::move(help), "counter", std::move(f)));
}
void Registry::NewInfo(std::string name, std::string help, Labels labels) {
  Add(std::make_unique<FuncFamily>(std::move(name), std::move(help), "gauge", [] { return 1.0; },
                                   std::move(labels)));
}

std::string Registry::Render() const {
  std::vector<const FamilyBase*> sorted;
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families_) sorted.push_back(f.get());
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](auto* a, auto* b) { return a->name() < b->name(); });
  std::string out;
  out.reserve(8192);
  for (const FamilyBase* f : sorted) f->Render(&out);
  return out;
}

namespace {

struct ProcStat {
  double utime_ticks = 0, stime_ticks = 0, start_ticks = 0;
  double vsize = 0, rss_pages = 0;
  bool ok = false;
};

ProcStat ReadProcStat() {
  ProcStat s;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return s;
  // Fields after the command name, which is in parentheses and may contain spaces.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (rest >> tok) f.push_back(tok);
  // rest starts at field 3 (state); utime is field 14 -> index 11.
  if (f.size() < 22) return s;
  s.utime_ticks = std::stod(f[11]);
  s.stime_ticks = std::stod(f[12]);
  s.start_ticks = std::stod(f[19]);
  s.vsize = std::stod(f[20]);
  s.rss_pages = std::stod(f[21]);
  s.ok = true;
  return s;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double v = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

uint64_t ProcessResidentBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void RegisterProcessMetrics(Registry& r) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double start = BootTimeSeconds() + ReadProcStat().start_ticks / ticks;
  r.NewCounterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                   [ticks] {
                     ProcStat s = ReadProcStat();
                     return (s.utime_ticks + s.stime_ticks) / ticks;
                   });
  r.NewGaugeFunc("process_open_fds", "Number of open file descriptors.", [] {
    double n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') ++n;
      }
      closedir(d);
      n -= 1;  // the descriptor of the directory listing itself
    }
    return n;
  });
  r.NewGaugeFunc("process_max_fds", "Maximum number of open file descriptors.", [] {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<double>(rl.rlim_cur);
  });
  r.NewGaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                 [] { return ReadProcStat().vsize; });
  r.NewGaugeFunc("process_virtual_memory_max_bytes",
                 "Maximum amount of virtual memory available in bytes.", [] {
                   rlimit rl{};
                   getrlimit(RLIMIT_AS, &rl);
                   return rl.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(rl.rlim_cur);
                 });
  r.NewGaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.",
                 [page] { return ReadProcStat().rss_pages * page; });
  r.NewGaugeFunc("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.",
                 [start] { return start; });
}

std::string EscapeHelp(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeLabelValue(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace hearth::metrics
