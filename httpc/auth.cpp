#include "httpc/auth.h"

#include <cstdint>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace hearth::httpc {
namespace {

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> ReadConfigFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(StatusCode::kIOError,
                  fmt::format("unable to read {} {}: no such file or directory", what, path));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[i])); };
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> AuthorizationHeader(const HttpClientConfig& config) {
  if (config.basic_auth) {
    const BasicAuth& b = *config.basic_auth;
    std::string user = b.username, pass = b.password;
    if (!b.username_file.empty()) {
      HEARTH_ASSIGN_OR_RETURN(user, ReadConfigFile(b.username_file, "basic auth username file"));
      user = TrimNewline(std::move(user));
    }
    if (!b.password_file.empty()) {
      HEARTH_ASSIGN_OR_RETURN(pass, ReadConfigFile(b.password_file, "basic auth password file"));
      pass = TrimNewline(std::move(pass));
    }
    return "Basic " + Base64(user + ":" + pass);
  }
  if (config.authorization) {
    const Authorization& a = *config.authorization;
    std::string cred = a.credentials;
    if (!a.credentials_file.empty()) {
      HEARTH_ASSIGN_OR_RETURN(
          cred, ReadConfigFile(a.credentials_file, "authorization credentials file"));
      cred = TrimNewline(std::move(cred));
    }
    return (a.type.empty() ? std::string("Bearer") : a.type) + " " + cred;
  }
  return std::string();
}

}  // namespace hearth::httpc
