#include "tsdb/postings.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <queue>

namespace hearth::tsdb {

Postings Intersect(const Postings& a, const Postings& b) {
  Postings out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Subtract(const Postings& a, const Postings& b) {
  if (b.empty()) return a;
  Postings out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

Postings Merge(std::vector<Postings> lists) {
  std::erase_if(lists, [](const Postings& p) { return p.empty(); });
  if (lists.empty()) return {};
  if (lists.size() == 1) return std::move(lists[0]);
  if (lists.size() == 2) {
    Postings out;
    out.reserve(lists[0].size() + lists[1].size());
    std::set_union(lists[0].begin(), lists[0].end(), lists[1].begin(), lists[1].end(),
                   std::back_inserter(out));
    return out;
  }
  // k-way merge with a heap of (value, list index, position).
  using Item = std::pair<SeriesRef, size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
  std::vector<size_t> pos(lists.size(), 0);
  size_t total = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    heap.push({lists[i][0], i});
    total += lists[i].size();
  }
  Postings out;
  out.reserve(total);
  while (!heap.empty()) {
    auto [v, i] = heap.top();
    heap.pop();
    if (out.empty() || out.back() != v) out.push_back(v);
    if (++pos[i] < lists[i].size()) heap.push({lists[i][pos[i]], i});
  }
  return out;
}

namespace {

// Values of `name` that `m` accepts, as the index lists them.
Result<std::vector<std::string>> MatchingValues(IndexReader& index, const Matcher& m,
                                                bool accept) {
  if (accept && m.type() == MatchType::kEqual) return std::vector<std::string>{m.value()};
  if (accept && m.type() == MatchType::kRegexMatch && !m.SetMatches().empty()) {
    return m.SetMatches();
  }
  HEARTH_ASSIGN_OR_RETURN(auto values, index.LabelValues(m.name()));
  std::erase_if(values, [&](const std::string& v) { return m.Matches(v) != accept; });
  return values;
}

}  // namespace

Result<Postings> PostingsForMatchers(IndexReader& index, std::span<const Matcher> matchers) {
  std::vector<Postings> its;
  std::vector<Postings> nots;
  for (const Matcher& m : matchers) {
    if (!m.MatchesEmpty()) {
      // Series must carry a value the matcher accepts.
      HEARTH_ASSIGN_OR_RETURN(auto values, MatchingValues(index, m, true));
      HEARTH_ASSIGN_OR_RETURN(auto p, index.PostingsFor(m.name(), values));
      if (p.empty()) return Postings{};
      its.push_back(std::move(p));
    } else {
      // Series without the label match; remove those whose value the matcher rejects.
      HEARTH_ASSIGN_OR_RETURN(auto values, MatchingValues(index, m, false));
      if (values.empty()) continue;
      HEARTH_ASSIGN_OR_RETURN(auto p, index.PostingsFor(m.name(), values));
      nots.push_back(std::move(p));
    }
  }
  Postings result;
  if (its.empty()) {
    HEARTH_ASSIGN_OR_RETURN(result, index.AllPostings());
  } else {
    std::sort(its.begin(), its.end(),
              [](const Postings& a, const Postings& b) { return a.size() < b.size(); });
    result = std::move(its[0]);
    for (size_t i = 1; i < its.size() && !result.empty(); ++i) result = Intersect(result, its[i]);
  }
  for (const Postings& n : nots) {
    if (result.empty()) break;
    result = Subtract(result, n);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

namespace {
void InsertSorted(Postings& p, SeriesRef ref) {
  if (p.empty() || p.back() < ref) {
    p.push_back(ref);
    return;
  }
  auto it = std::lower_bound(p.begin(), p.end(), ref);
  if (it == p.end() || *it != ref) p.insert(it, ref);
}
}  // namespace

void MemPostings::Add(SeriesRef ref, const Labels& labels) {
  std::unique_lock lock(mu_);
  void (*add)(Postings&, SeriesRef) =
      bulk_ ? +[](Postings& p, SeriesRef r) { p.push_back(r); } : &InsertSorted;
  for (const Label& l : labels) {
    auto& values = m_[std::string(l.name)];
    add(values[std::string(l.value)], ref);
  }
  add(all_, ref);
}

void MemPostings::BeginBulk() {
  std::unique_lock lock(mu_);
  bulk_ = true;
}

void MemPostings::EndBulk() {
  std::unique_lock lock(mu_);
  if (!bulk_) return;
  bulk_ = false;
  auto sort_unique = [](Postings& p) {
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
  };
  for (auto& [name, values] : m_) {
    for (auto& [value, list] : values) sort_unique(list);
  }
  sort_unique(all_);
}

void MemPostings::Delete(std::span<const SeriesRef> refs, std::span<const Labels* const> labels) {
  // Group the refs per label pair, then filter each touched list once.
  std::map<std::pair<std::string_view, std::string_view>, Postings> del;
  for (size_t i = 0; i < refs.size(); ++i) {
    for (const Label& l : *labels[i]) del[{l.name, l.value}].push_back(refs[i]);
  }
  Postings all_del(refs.begin(), refs.end());
  std::unique_lock lock(mu_);
  for (auto& [pair, drop] : del) {
    auto n = m_.find(std::string(pair.first));
    if (n == m_.end()) continue;
    auto v = n->second.find(std::string(pair.second));
    if (v == n->second.end()) continue;
    std::sort(drop.begin(), drop.end());
    v->second = Subtract(v->second, drop);
    if (v->second.empty()) {
      n->second.erase(v);
      if (n->second.empty()) m_.erase(n);
    }
  }
  all_ = Subtract(all_, all_del);
}

Postings MemPostings::Get(std::string_view name, std::string_view value) const {
  std::shared_lock lock(mu_);
  auto n = m_.find(std::string(name));
  if (n == m_.end()) return {};
  auto v = n->second.find(std::string(value));
  if (v == n->second.end()) return {};
  return v->second;
}

Postings MemPostings::GetAny(std::string_view name, std::span<const std::string> values) const {
  std::vector<Postings> lists;
  {
    std::shared_lock lock(mu_);
    auto n = m_.find(std::string(name));
    if (n == m_.end()) return {};
    for (const std::string& value : values) {
      auto v = n->second.find(value);
      if (v != n->second.end()) lists.push_back(v->second);
    }
  }
  return Merge(std::move(lists));
}

Postings MemPostings::All() const {
  std::shared_lock lock(mu_);
  return all_;
}

std::vector<std::string> MemPostings::LabelNames() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(m_.size());
    for (const auto& [n, _] : m_) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> MemPostings::LabelValues(std::string_view name) const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(mu_);
    auto n = m_.find(std::string(name));
    if (n == m_.end()) return out;
    out.reserve(n->second.size());
    for (const auto& [v, _] : n->second) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t MemPostings::NumSeries() const {
  std::shared_lock lock(mu_);
  return all_.size();
}

void MemPostings::ForEach(
    const std::function<void(std::string_view, std::string_view, size_t)>& f) const {
  std::shared_lock lock(mu_);
  for (const auto& [n, values] : m_) {
    for (const auto& [v, refs] : values) f(n, v, refs.size());
  }
}

size_t MemPostings::MemoryBytes() const {
  std::shared_lock lock(mu_);
  // Node sizes of the hash maps are estimates: key string, value, links and bucket.
  size_t bytes = all_.capacity() * sizeof(SeriesRef);
  for (const auto& [n, values] : m_) {
    bytes += 64 + n.capacity();
    for (const auto& [v, refs] : values) {
      bytes += 80 + (v.size() > 15 ? v.capacity() : 0) + refs.capacity() * sizeof(SeriesRef);
    }
  }
  return bytes;
}

void MemPostings::Load(
    std::unordered_map<std::string, std::unordered_map<std::string, Postings>> m, Postings all) {
  std::unique_lock lock(mu_);
  m_ = std::move(m);
  all_ = std::move(all);
}

}  // namespace hearth::tsdb
