#pragma once

// Where the tests find their files: the source tree (fixtures, test data) and the build tree
// (helper binaries). Defined in one small object (tests/common/test_paths.cpp) rather than on
// every test's command line, so that ccache shares the other objects between clones.

namespace hearth::testing {

extern const char* const kSourceDir;
extern const char* const kBinaryDir;

}  // namespace hearth::testing
