#pragma once

// The TLS client context of an HTTP client configuration (tls_config), and Go-like texts for
// Asio and OpenSSL errors. Internal: it includes Boost.Asio's SSL headers, so only .cpp files
// of HTTP clients include it.

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "config/config.h"
#include "model/status.h"

namespace hearth::httpc {

// CA (file or inline PEM, else the system's), client certificate and key (both or neither),
// verification unless insecure_skip_verify. Errors name the file and OpenSSL's reason.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const TlsConfig& tls);

// An error's message with a lower-case first letter (Go's style).
std::string LowerMessage(const boost::system::error_code& ec);
// For OpenSSL errors only the reason ("certificate verify failed"), else LowerMessage.
std::string ErrorText(const boost::system::error_code& ec);

}  // namespace hearth::httpc
