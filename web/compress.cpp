#include "web/compress.h"

#include <zlib.h>

#include "model/strutil.h"

namespace hearth::web {

std::string GzipCompress(std::string_view data, int level) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

Result<std::string> GzipDecompress(std::string_view data, size_t max_size) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Status(StatusCode::kInternal, "inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return InvalidArgument("gzip: {}", zs.msg != nullptr ? zs.msg : "invalid or truncated data");
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_size) {
      inflateEnd(&zs);
      return Status(StatusCode::kResourceExhausted, "gzip: decompressed data too large");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return InvalidArgument("gzip: unexpected end of data");
    }
  }
  inflateEnd(&zs);
  return out;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  for (std::string_view part : SplitString(accept_encoding, ',')) {
    std::string_view token = TrimSpace(part);
    size_t semi = token.find(';');
    std::string_view name = TrimSpace(token.substr(0, semi));
    if (ToLowerAscii(name) != "gzip") continue;
    if (semi == std::string_view::npos) return true;
    // "gzip;q=0" refuses gzip.
    std::string_view params = TrimSpace(token.substr(semi + 1));
    if (params.substr(0, 2) == "q=" || params.substr(0, 2) == "Q=") {
      auto q = ParseGoFloat(params.substr(2));
      return !q || *q > 0;
    }
    return true;
  }
  return false;
}

}  // namespace hearth::web
