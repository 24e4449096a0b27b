#pragma once

// Credentials of an HTTP client configuration (basic_auth, authorization, bearer_token and
// their _file variants), as Prometheus' common config sends them.

#include <string>
#include <string_view>

#include "config/config.h"
#include "model/status.h"

namespace hearth::httpc {

// The contents of a file named in the configuration; an error names `what` and the path.
Result<std::string> ReadConfigFile(const std::string& path, std::string_view what);

// Standard base64 with padding.
std::string Base64(std::string_view in);

// The Authorization header value ("Basic ...", "Bearer ..."), or "" when no credentials are
// configured. Secret files are read on every call (they may be rotated), a trailing newline cut.
Result<std::string> AuthorizationHeader(const HttpClientConfig& config);

}  // namespace hearth::httpc
