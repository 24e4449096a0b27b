#!/usr/bin/env bash
# Installs dependencies, builds everything with warnings as errors, runs the whole test suite,
# then builds the code that takes untrusted bytes with ASan + UBSan and runs its tests.
# This is the README's test command; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

jobs=$(nproc)
start=$(date +%s)
cmake -S . -B build -G Ninja -DHEARTH_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARTH_SANITIZE=ON \
      -DHEARTH_WERROR=ON -DHEARTH_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j "$jobs" --target untrusted_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L untrusted --output-on-failure -j "$jobs"

echo "scripts/test.sh: all tests passed in $(( $(date +%s) - start ))s"
