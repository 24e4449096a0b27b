#include "httpc/auth.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

namespace hearth::httpc {
namespace {

struct TempFile {
  explicit TempFile(const std::string& content) {
    path = (std::filesystem::temp_directory_path() /
            ("hearth-httpc-" + std::to_string(reinterpret_cast<uintptr_t>(this))))
               .string();
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

TEST_CASE("Base64 matches RFC 4648's test vectors", "[httpc]") {
  CHECK(Base64("") == "");
  CHECK(Base64("f") == "Zg==");
  CHECK(Base64("fo") == "Zm8=");
  CHECK(Base64("foo") == "Zm9v");
  CHECK(Base64("foob") == "Zm9vYg==");
  CHECK(Base64("fooba") == "Zm9vYmE=");
  CHECK(Base64("foobar") == "Zm9vYmFy");
  CHECK(Base64(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("Authorization header from basic_auth, authorization and their files", "[httpc]") {
  HttpClientConfig c;
  CHECK(AuthorizationHeader(c).value() == "");

  c.basic_auth = BasicAuth{};
  c.basic_auth->username = "user";
  c.basic_auth->password = "pass";
  CHECK(AuthorizationHeader(c).value() == "Basic dXNlcjpwYXNz");

  TempFile password("from-file\n");
  c.basic_auth->password_file = password.path;
  CHECK(AuthorizationHeader(c).value() == "Basic " + Base64("user:from-file"));

  HttpClientConfig bearer;
  bearer.authorization = Authorization{};
  bearer.authorization->credentials = "token";
  CHECK(AuthorizationHeader(bearer).value() == "Bearer token");
  bearer.authorization->type = "Custom";
  TempFile credentials("secret\r\n");
  bearer.authorization->credentials_file = credentials.path;
  CHECK(AuthorizationHeader(bearer).value() == "Custom secret");
}

TEST_CASE("a missing secret file is an error naming it", "[httpc]") {
  HttpClientConfig c;
  c.authorization = Authorization{};
  c.authorization->credentials_file = "/nonexistent/hearth-token";
  auto r = AuthorizationHeader(c);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "unable to read authorization credentials file /nonexistent/hearth-token: no such file "
        "or directory");
}

}  // namespace
}  // namespace hearth::httpc
