#pragma once

// gzip for HTTP responses (zlib).
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "model/status.h"

namespace hearth::web {

// gzip-compresses `data` (RFC 1952) at the given zlib level (1 fastest .. 9 smallest).
std::string GzipCompress(std::string_view data, int level = 1);
// Decompresses a whole gzip stream; fails on corrupt or truncated input. For tests and
// clients (hearthctl). `max_size` bounds the output.
Result<std::string> GzipDecompress(std::string_view data, size_t max_size = size_t{1} << 31);

// Whether an Accept-Encoding header value accepts gzip (a "gzip" token without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace hearth::web
