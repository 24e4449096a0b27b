#include "tests/common/test_paths.h"

namespace hearth::testing {

const char* const kSourceDir = HEARTH_SOURCE_DIR;
const char* const kBinaryDir = HEARTH_BINARY_DIR;

}  // namespace hearth::testing
