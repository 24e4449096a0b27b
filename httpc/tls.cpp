#include "httpc/internal/tls.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>

#include "httpc/auth.h"

namespace hearth::httpc {

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

std::string LowerMessage(const error_code& ec) {
  std::string m = ec.message();
  if (!m.empty() && m[0] >= 'A' && m[0] <= 'Z') m[0] = static_cast<char>(m[0] - 'A' + 'a');
  return m;
}

std::string ErrorText(const error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    std::string s = buf;
    auto pos = s.rfind(':');
    if (pos != std::string::npos) s = s.substr(pos + 1);
    return s;
  }
  return LowerMessage(ec);
}

Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const TlsConfig& t) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3);
  if (!t.ca_file.empty()) {
    HEARTH_ASSIGN_OR_RETURN(std::string pem, ReadConfigFile(t.ca_file, "CA file"));
    ctx->add_certificate_authority(boost::asio::buffer(pem), ec);
    if (ec) {
      return InvalidArgument("unable to use specified CA cert {}: {}", t.ca_file, ErrorText(ec));
    }
  } else if (!t.ca.empty()) {
    ctx->add_certificate_authority(boost::asio::buffer(t.ca), ec);
    if (ec) return InvalidArgument("unable to use inline CA cert: {}", ErrorText(ec));
  } else {
    ctx->set_default_verify_paths(ec);
  }
  std::string cert = t.cert, key = t.key;
  if (!t.cert_file.empty()) {
    HEARTH_ASSIGN_OR_RETURN(cert, ReadConfigFile(t.cert_file, "client certificate"));
  }
  if (!t.key_file.empty()) {
    HEARTH_ASSIGN_OR_RETURN(key, ReadConfigFile(t.key_file, "client key"));
  }
  if (!cert.empty() || !key.empty()) {
    if (cert.empty() || key.empty()) {
      return InvalidArgument("exactly one of cert and key is configured");
    }
    ctx->use_certificate_chain(boost::asio::buffer(cert), ec);
    if (!ec) ctx->use_private_key(boost::asio::buffer(key), ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("unable to use specified client cert ({}) & key ({}): {}",
                             t.cert_file, t.key_file, ErrorText(ec));
    }
  }
  ctx->set_verify_mode(t.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  return ctx;
}

}  // namespace hearth::httpc
