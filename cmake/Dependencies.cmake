# All from Debian 12 packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(RocksDB CONFIG REQUIRED)
find_package(Snappy CONFIG QUIET)
find_package(Catch2 REQUIRED)
if(HEARTH_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# Boost.Asio/Beast are header-only here; this target carries their defines.
add_library(hearth_asio INTERFACE)
target_link_libraries(hearth_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(hearth_asio INTERFACE BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW BOOST_ASIO_DISABLE_BOOST_COROUTINE)
