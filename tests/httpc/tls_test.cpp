#include "httpc/internal/tls.h"

#include <catch2/catch.hpp>

namespace hearth::httpc {
namespace {

TEST_CASE("TLS client context: defaults, and errors naming the bad input", "[httpc]") {
  TlsConfig t;
  CHECK(MakeClientTlsContext(t).ok());

  t.ca_file = "/nonexistent/ca.pem";
  auto missing = MakeClientTlsContext(t);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() ==
        "unable to read CA file /nonexistent/ca.pem: no such file or directory");

  TlsConfig bad_ca;
  bad_ca.ca = "not a certificate";
  auto bad = MakeClientTlsContext(bad_ca);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("unable to use inline CA cert: ", 0) == 0);

  TlsConfig half;
  half.cert = "-----BEGIN CERTIFICATE-----\n";
  auto only_cert = MakeClientTlsContext(half);
  REQUIRE_FALSE(only_cert.ok());
  CHECK(only_cert.status().message() == "exactly one of cert and key is configured");
}

}  // namespace
}  // namespace hearth::httpc
