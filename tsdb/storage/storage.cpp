#include "tsdb/storage/storage.h"

namespace hearth::storage {

size_t SampleIterator::NextBatch(std::span<Sample> out) {
  size_t n = 0;
  while (n < out.size() && Next()) out[n++] = At();
  return n;
}

}  // namespace hearth::storage
