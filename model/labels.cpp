#include "model/labels.h"

#include <algorithm>
#include <cstring>

#define XXH_INLINE_ALL  // inline the hash into our loops; also exposes XXH3_state_t
#include <xxhash.h>

#include "model/strutil.h"

namespace hearth {
namespace {

void PutVarint(std::string* out, size_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint; returns nullptr when the bytes end early or the value is too large.
const char* GetVarint(const char* p, const char* end, size_t* v) {
  size_t result = 0;
  for (int shift = 0; shift <= 28 && p < end; shift += 7) {
    auto b = static_cast<unsigned char>(*p++);
    result |= static_cast<size_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

uint64_t HashBytes(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

}  // namespace

void Labels::Iterator::Decode() {
  if (p_ >= end_) {
    p_ = end_;
    next_ = end_;
    return;
  }
  size_t n = 0, v = 0;
  const char* q = GetVarint(p_, end_, &n);
  cur_.name = std::string_view(q, n);
  q = GetVarint(q + n, end_, &v);
  cur_.value = std::string_view(q, v);
  next_ = q + v;
}

Labels::Labels() : hash_(HashBytes({})) {}

Labels::Labels(std::string packed) : data_(std::move(packed)), hash_(HashBytes(data_)) {}

Labels::Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs)
    : Labels(FromPairs(std::span(pairs.begin(), pairs.size()))) {}

namespace {
template <typename Pair>
Labels BuildFromPairs(std::span<const Pair> pairs) {
  LabelsBuilder b;
  for (const auto& [n, v] : pairs) b.Set(n, v);
  return b.Build();
}
}  // namespace

Labels Labels::FromPairs(std::span<const std::pair<std::string_view, std::string_view>> pairs) {
  return BuildFromPairs(pairs);
}
Labels Labels::FromPairs(std::span<const std::pair<std::string, std::string>> pairs) {
  return BuildFromPairs(pairs);
}

Labels Labels::FromPacked(std::string_view packed, bool* ok) {
  const char* p = packed.data();
  const char* end = p + packed.size();
  std::string_view prev;
  bool valid = true;
  while (valid && p < end) {
    size_t n = 0, v = 0;
    p = GetVarint(p, end, &n);
    valid = p != nullptr && n != 0 && static_cast<size_t>(end - p) >= n;
    if (!valid) break;
    std::string_view name(p, n);
    valid = prev.empty() || name > prev;  // sorted, unique names
    p = GetVarint(p + n, end, &v);
    valid = valid && p != nullptr && v != 0 && static_cast<size_t>(end - p) >= v;
    if (!valid) break;
    p += v;
    prev = name;
  }
  if (ok) *ok = valid;
  return valid ? Labels(std::string(packed)) : Labels();
}

size_t Labels::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::string_view Labels::Get(std::string_view name) const {
  for (const Label& l : *this) {
    if (l.name == name) return l.value;
    if (l.name > name) break;
  }
  return {};
}

bool Labels::Has(std::string_view name) const { return !Get(name).empty(); }

uint64_t Labels::HashForLabels(std::span<const std::string> names) const {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const Label& l : *this) {
    if (std::find(names.begin(), names.end(), l.name) == names.end()) continue;
    XXH3_64bits_update(&state, l.name.data(), l.name.size());
    XXH3_64bits_update(&state, "\xff", 1);
    XXH3_64bits_update(&state, l.value.data(), l.value.size());
    XXH3_64bits_update(&state, "\xff", 1);
  }
  return XXH3_64bits_digest(&state);
}

uint64_t Labels::HashWithoutLabels(std::span<const std::string> names) const {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const Label& l : *this) {
    if (l.name == kMetricName) continue;
    if (std::find(names.begin(), names.end(), l.name) != names.end()) continue;
    XXH3_64bits_update(&state, l.name.data(), l.name.size());
    XXH3_64bits_update(&state, "\xff", 1);
    XXH3_64bits_update(&state, l.value.data(), l.value.size());
    XXH3_64bits_update(&state, "\xff", 1);
  }
  return XXH3_64bits_digest(&state);
}

std::string Labels::ToString() const {
  std::string out = "{";
  bool first = true;
  for (const Label& l : *this) {
    if (!first) out += ", ";
    first = false;
    if (IsLegacyLabelName(l.name)) {
      out += l.name;
    } else {
      out += QuoteGo(l.name);
    }
    out += '=';
    out += QuoteGo(l.value);
  }
  out += '}';
  return out;
}

Labels Labels::WithoutMetricName() const {
  if (!Has(kMetricName)) return *this;
  LabelsBuilder b(*this);
  b.Del(kMetricName);
  return b.Build();
}

std::strong_ordering operator<=>(const Labels& a, const Labels& b) {
  auto ia = a.begin(), ib = b.begin();
  auto ea = a.end(), eb = b.end();
  for (; ia != ea && ib != eb; ++ia, ++ib) {
    if (auto c = ia->name.compare(ib->name); c != 0) {
      return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    if (auto c = ia->value.compare(ib->value); c != 0) {
      return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
  }
  if (ia == ea && ib == eb) return std::strong_ordering::equal;
  return ia == ea ? std::strong_ordering::less : std::strong_ordering::greater;
}

void LabelsBuilder::Reset(const Labels& base) {
  labels_.clear();
  for (const Label& l : base) labels_.emplace_back(std::string(l.name), std::string(l.value));
}

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) return Del(name);
  for (auto& [n, v] : labels_) {
    if (n == name) {
      v.assign(value);
      return *this;
    }
  }
  labels_.emplace_back(std::string(name), std::string(value));
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  std::erase_if(labels_, [&](const auto& p) { return p.first == name; });
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  for (const auto& [n, v] : labels_) {
    if (n == name) return v;
  }
  return {};
}

LabelsBuilder& LabelsBuilder::Keep(std::span<const std::string> names) {
  std::erase_if(labels_, [&](const auto& p) {
    return std::find(names.begin(), names.end(), p.first) == names.end();
  });
  return *this;
}

Labels LabelsBuilder::Build() const {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(labels_.size());
  size_t bytes = 0;
  for (const auto& p : labels_) {
    if (p.second.empty() || p.first.empty()) continue;
    sorted.push_back(&p);
    bytes += p.first.size() + p.second.size() + 4;
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string packed;
  packed.reserve(bytes);
  for (auto* p : sorted) {
    PutVarint(&packed, p->first.size());
    packed += p->first;
    PutVarint(&packed, p->second.size());
    packed += p->second;
  }
  return Labels(std::move(packed));
}

bool IsLegacyMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLegacyLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned char c = u[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // continuation bytes missing
    for (size_t k = 1; k <= n; ++k) {
      if ((u[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (u[i + k] & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace hearth
