"""Wire formats the driver writes by hand: Snappy (raw block format) and the Prometheus
remote-write 1.0 protobuf (prometheus.WriteRequest).

Debian's python3-snappy and protobuf are not assumed; both formats are small:

- Snappy raw block (https://github.com/google/snappy/blob/main/format_description.txt):
  uvarint(uncompressed length), then elements. A literal element is a tag byte whose low two
  bits are 00; lengths 1..60 are stored as (len-1) << 2 in the tag, longer ones as tag 60..63
  followed by len-1 in 1..4 little-endian bytes. A stream of literals only is valid Snappy, so
  `compress` emits literals of at most 64 KiB (the fragment size of the reference compressor).
  `decompress` handles every element type (it is used by the self-test and for checking).
- remote write: WriteRequest{ repeated TimeSeries timeseries = 1; }
  TimeSeries{ repeated Label labels = 1; repeated Sample samples = 2; }
  Label{ string name = 1; string value = 2; }  Sample{ double value = 1; int64 timestamp = 2; }
  Labels must be sorted by name (receivers build their series identity from them as given).
"""
import functools
import struct

_LITERAL_FRAGMENT = 1 << 16


def uvarint(n):
    """Protobuf/Snappy base-128 varint of a non-negative int."""
    if 0 <= n < 0x80:
        return _SMALL[n]
    if n < 0:
        raise ValueError(f"uvarint of negative {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [bytes([i]) for i in range(0x80)]


def read_uvarint(buf, pos):
    """Returns (value, next position); raises ValueError on a truncated or overlong varint."""
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError(f"truncated varint at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError(f"varint longer than 10 bytes at byte {pos}")


def _literal_tag(n):
    m = n - 1
    if m < 60:
        return bytes([m << 2])
    nbytes = (m.bit_length() + 7) // 8
    return bytes([(59 + nbytes) << 2]) + m.to_bytes(nbytes, "little")


def snappy_compress(data):
    """Snappy raw block of `data` using literal elements only (valid, not smaller)."""
    data = bytes(data)
    parts = [uvarint(len(data))]
    for i in range(0, len(data), _LITERAL_FRAGMENT):
        frag = data[i:i + _LITERAL_FRAGMENT]
        parts.append(_literal_tag(len(frag)))
        parts.append(frag)
    return b"".join(parts)


def snappy_decompress(buf):
    """Decodes a Snappy raw block (literals and copies); raises ValueError naming the offset."""
    buf = bytes(buf)
    want, pos = read_uvarint(buf, 0)
    out = bytearray()
    while pos < len(buf):
        tag = buf[pos]
        kind = tag & 3
        pos += 1
        if kind == 0:
            n = tag >> 2
            if n >= 60:
                nb = n - 59
                if pos + nb > len(buf):
                    raise ValueError(f"truncated literal length at byte {pos}")
                n = int.from_bytes(buf[pos:pos + nb], "little")
                pos += nb
            n += 1
            if pos + n > len(buf):
                raise ValueError(f"literal of {n} bytes overruns input at byte {pos}")
            out += buf[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            if pos >= len(buf):
                raise ValueError(f"truncated copy-1 at byte {pos}")
            length = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | buf[pos]
            pos += 1
        elif kind == 2:
            if pos + 2 > len(buf):
                raise ValueError(f"truncated copy-2 at byte {pos}")
            length = (tag >> 2) + 1
            offset = int.from_bytes(buf[pos:pos + 2], "little")
            pos += 2
        else:
            if pos + 4 > len(buf):
                raise ValueError(f"truncated copy-4 at byte {pos}")
            length = (tag >> 2) + 1
            offset = int.from_bytes(buf[pos:pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise ValueError(f"copy offset {offset} outside output of {len(out)} at byte {pos}")
        start = len(out) - offset
        for i in range(length):  # copies may overlap their own output
            out.append(out[start + i])
    if len(out) != want:
        raise ValueError(f"decoded {len(out)} bytes, header says {want}")
    return bytes(out)


# --- protobuf -----------------------------------------------------------------------------

def _field_bytes(field, payload):
    return uvarint(field << 3 | 2) + uvarint(len(payload)) + payload


def encode_labels(labels):
    """Encoded `repeated Label labels = 1` of a TimeSeries; `labels` is a dict or pairs.

    Sorted by name, as receivers require."""
    items = sorted(labels.items() if isinstance(labels, dict) else labels)
    return b"".join([_label_field(name, str(value)) for name, value in items])


@functools.lru_cache(maxsize=1 << 16)
def _label_field(name, value):
    return _field_bytes(1, _field_bytes(1, name.encode()) + _field_bytes(2, value.encode()))


_SAMPLE_VALUE = struct.Struct("<d")


def encode_sample(value, timestamp_ms):
    """Encoded `Sample samples = 2` element of a TimeSeries (with its field tag)."""
    return _sample(_SAMPLE_VALUE.pack(value), _timestamp_field(timestamp_ms))


def _sample(value_bytes, ts_field):
    # 0x09 + 8 value bytes + the timestamp field (at most 11 bytes): one length byte.
    return b"\x12" + _SMALL[9 + len(ts_field)] + b"\x09" + value_bytes + ts_field


@functools.lru_cache(maxsize=1 << 16)
def _timestamp_field(timestamp_ms):
    return b"\x10" + _int64(timestamp_ms)


def _int64(n):
    return uvarint(n & 0xFFFFFFFFFFFFFFFF)


def encode_samples(values, timestamps_ms):
    """The Sample elements of many samples at once (timestamps' varints are cached, since
    series of one scrape share them)."""
    packed = struct.pack(f"<{len(values)}d", *values)
    return b"".join([_sample(packed[8 * i:8 * i + 8], _timestamp_field(t))
                     for i, t in enumerate(timestamps_ms)])


def encode_timeseries(encoded_labels, encoded_samples):
    """One `TimeSeries timeseries = 1` element of a WriteRequest from pre-encoded parts."""
    body_len = len(encoded_labels) + len(encoded_samples)
    return b"\x0a" + uvarint(body_len) + encoded_labels + encoded_samples


def write_request(series):
    """WriteRequest bytes from [(labels, [(value, ts_ms), ...]), ...]."""
    parts = []
    for labels, samples in series:
        enc = encode_samples([v for v, _ in samples], [t for _, t in samples])
        parts.append(encode_timeseries(encode_labels(labels), enc))
    return b"".join(parts)


def decode_write_request(buf):
    """Parses a WriteRequest into [(labels dict, [(value, ts_ms)])] (for tests and checks)."""
    out = []
    for field, wire, val in _fields(buf):
        if field == 1 and wire == 2:
            labels, samples = {}, []
            for f2, w2, v2 in _fields(val):
                if f2 == 1 and w2 == 2:
                    name = value = ""
                    for f3, w3, v3 in _fields(v2):
                        if f3 == 1 and w3 == 2:
                            name = v3.decode()
                        elif f3 == 2 and w3 == 2:
                            value = v3.decode()
                    labels[name] = value
                elif f2 == 2 and w2 == 2:
                    value, ts = 0.0, 0
                    for f3, w3, v3 in _fields(v2):
                        if f3 == 1 and w3 == 1:
                            value = _SAMPLE_VALUE.unpack(v3)[0]
                        elif f3 == 2 and w3 == 0:
                            ts = v3 - (1 << 64) if v3 >= 1 << 63 else v3
                    samples.append((value, ts))
            out.append((labels, samples))
    return out


def _fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = read_uvarint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = read_uvarint(buf, pos)
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ValueError(f"truncated fixed64 at byte {pos}")
            val, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = read_uvarint(buf, pos)
            if pos + n > len(buf):
                raise ValueError(f"field {field} of {n} bytes overruns input at byte {pos}")
            val, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            if pos + 4 > len(buf):
                raise ValueError(f"truncated fixed32 at byte {pos}")
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire} at byte {pos}")
        yield field, wire, val
