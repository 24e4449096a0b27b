"""The three servers behind one interface, and what the driver measures of their processes.

Each server runs on 127.0.0.1 on a port the driver picks, in its own data directory, with its
output in <data dir>.log. CPU is user+sys of the process tree from /proc (live descendants
plus the reaped children's totals); RSS is the sum of VmRSS over the tree, sampled every
second by `Sampler`.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- /proc ----------------------------------------------------------------------------------

def _children(pid):
    """Direct children of pid (from /proc/<pid>/task/*/children, else a /proc scan)."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids.extend(int(x) for x in f.read().split())
            except OSError:
                pass
        return kids
    except OSError:
        return kids


def process_tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()


def tree_cpu_seconds(pid):
    """user+sys seconds of pid and its descendants, including reaped children."""
    total = 0
    for p in process_tree(pid):
        try:
            f = _stat_fields(p)
        except (OSError, ValueError):
            continue
        # fields after the command: state=0 ... utime=11 stime=12 cutime=13 cstime=14
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total / CLK_TCK


def tree_rss_bytes(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
    return total


def dir_bytes(path):
    """(apparent bytes, allocated bytes) of every file under path."""
    apparent = allocated = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated


# Hearth's column families (tsdb/FORMAT.md section 3): c<start>_<len> chunks and
# i<start>_<len> postings of a time partition, `series` (labels), `default` (metadata).
SST_KINDS = {"c": "chunks", "i": "index", "s": "series", "d": "default"}


def _uvarint(b, i):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return x, i


def sst_properties(path):
    """The table properties of a RocksDB block-based SST file ({name: bytes}), read from its
    properties block near the end of the file (entries: varint shared, varint unshared,
    varint value length, key suffix, value), or {} when the file does not look like one."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            f.seek(max(0, size - 65536))
            b = f.read()
    except OSError:
        return {}
    first = b"rocksdb.block.based.table.index.type"
    i = b.find(first) - 3
    if i < 0 or b[i] != 0 or b[i + 1] != len(first):
        return {}
    out, key = {}, b""
    try:
        while i < len(b):
            shared, i = _uvarint(b, i)
            unshared, i = _uvarint(b, i)
            vlen, i = _uvarint(b, i)
            if shared > len(key) or unshared > 256 or vlen > 65536:
                break
            key = key[:shared] + b[i:i + unshared]
            i += unshared
            if not key.startswith(b"rocksdb."):
                break
            out[key.decode(errors="replace")] = b[i:i + vlen]
            i += vlen
    except IndexError:
        pass
    return out


def sst_column_family(path):
    name = sst_properties(path).get("rocksdb.column.family.name")
    return name.decode(errors="replace") if name else None


def hearth_sst_stats(path):
    """Per kind of column family (chunks, index, series, default): files, bytes on disk, and
    the SST properties that say where they go: raw key and value bytes (before block
    encoding), data/index/filter block bytes, entries (for chunks: one per chunk)."""
    keys = ("data.size", "index.size", "filter.size", "raw.key.size", "raw.value.size",
            "num.entries")
    out = {}
    for root, _dirs, files in os.walk(os.path.join(path, "db")):
        for name in files:
            if not name.endswith(".sst"):
                continue
            full = os.path.join(root, name)
            props = sst_properties(full)
            cf = props.get("rocksdb.column.family.name", b"?").decode(errors="replace")
            kind = SST_KINDS.get(cf[:1], cf)
            d = out.setdefault(kind, dict({"files": 0, "file_bytes": 0}, **{k: 0 for k in keys}))
            d["files"] += 1
            d["file_bytes"] += os.path.getsize(full)
            for k in keys:
                v = props.get("rocksdb." + k)
                if v:
                    d[k] += _uvarint(v, 0)[0]
    return out


def dir_breakdown(path):
    """{kind: apparent bytes} of the files under path, by what they are: Hearth's RocksDB
    SSTs, RocksDB's own log, its manifest and options files, Hearth's commit log and head
    checkpoints; Prometheus' blocks (chunks, index), WAL and head chunks; VictoriaMetrics'
    parts and indexdb. Other files are counted under their first two directory levels."""
    out = {}
    for root, _dirs, files in os.walk(path):
        rel_root = os.path.relpath(root, path)
        parts = [] if rel_root == "." else rel_root.split(os.sep)
        for name in files:
            try:
                size = os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
            top = parts[0] if parts else ""
            if top == "db":              # Hearth: RocksDB
                if name.endswith(".sst"):
                    cf = sst_column_family(os.path.join(root, name))
                    kind = "rocksdb sst: " + SST_KINDS.get(cf[:1] if cf else None, cf or "?")
                else:
                    kind = "rocksdb log" if name.endswith(".log") else "rocksdb manifest/options"
            elif top == "wal" and name.startswith("checkpoint"):
                kind = "head checkpoints"
            elif top == "wal":           # Hearth's commit log or Prometheus' WAL
                kind = "wal"
            elif len(parts) >= 1 and len(top) == 26 and top.isalnum():   # a Prometheus block
                kind = ("block chunks" if len(parts) > 1 and parts[1] == "chunks" else
                        "block index" if name == "index" else "block other")
            else:                        # VictoriaMetrics: data/small, data/big, indexdb
                kind = "/".join(parts[:2]) or "top-level files"
            out[kind] = out.get(kind, 0) + size
    return out


def machine_busy():
    """(busy jiffies, total jiffies) of the whole machine from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


class Sampler:
    """Samples RSS of registered process trees every `period` seconds in a thread."""

    def __init__(self, period=1.0):
        self.period = period
        self.series = {}   # name -> [(t, rss bytes)]
        self.pids = {}
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def watch(self, name, pid):
        with self.lock:
            self.pids[name] = pid
            self.series.setdefault(name, [])

    def unwatch(self, name):
        with self.lock:
            self.pids.pop(name, None)

    def _run(self):
        while not self.stop_event.wait(self.period):
            with self.lock:
                pids = dict(self.pids)
            now = time.time()
            for name, pid in pids.items():
                rss = tree_rss_bytes(pid)
                if rss:
                    with self.lock:
                        self.series[name].append((now, rss))

    def window(self, name, t0, t1):
        with self.lock:
            return [r for t, r in self.series.get(name, []) if t0 <= t <= t1]

    def close(self):
        self.stop_event.set()


# --- HTTP -----------------------------------------------------------------------------------

class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


class Client:
    """A keep-alive HTTP/1.1 client to one loopback server."""

    def __init__(self, port, timeout=300):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=None):
        """Returns (status, body bytes, seconds); reconnects once on a dropped connection."""
        for attempt in (0, 1):
            if self.conn is None:
                # File bodies go out in 1 MiB writes (http.client's default is 8 KiB).
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=timeout or self.timeout,
                                                       blocksize=1 << 20)
            try:
                t0 = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - t0
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data, elapsed
            except (http.client.HTTPException, ConnectionError, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, timeout=None):
        return self.request("GET", path, timeout=timeout)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- servers --------------------------------------------------------------------------------

class Server:
    """One server process. Subclasses give the command line and endpoints."""

    name = "?"
    ready_path = "/-/ready"

    def __init__(self, binary, workdir, label, scrape_config=None, extra=()):
        self.binary = binary
        self.label = label
        self.data_dir = os.path.join(workdir, f"{self.name}-{label}")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = self.data_dir + ".log"
        self.scrape_config = scrape_config
        self.extra = list(extra)
        self.port = free_port()
        self.proc = None
        self.client = Client(self.port)
        self.started_at = None
        self.caps = {}

    def argv(self):
        raise NotImplementedError

    def start(self):
        self.client = Client(self.port)
        log = open(self.log_path, "ab")
        log.write(f"\n=== start {time.strftime('%H:%M:%S')}: {' '.join(self.argv())}\n".encode())
        log.flush()
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.data_dir)
        log.close()
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def wait_ready(self, timeout=600, poll=0.02):
        """Seconds from start() until the ready endpoint answers 200."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                status, _, _ = self.client.get(self.ready_path, timeout=5)
                if status == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(poll)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout=120):
        """SIGTERM, wait (then SIGKILL); returns the seconds the shutdown took."""
        self.client.close()
        if not self.alive():
            return 0.0
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.perf_counter() - t0

    # -- queries --

    def query(self, expr, t=None, timeout=300):
        """Instant query; returns (parsed data, seconds). Raises HttpError / RuntimeError."""
        params = {"query": expr}
        if t is not None:
            params["time"] = _fmt_time(t)
        return self._api("/api/v1/query", params, timeout)

    def query_range(self, expr, start, end, step, timeout=300):
        params = {"query": expr, "start": _fmt_time(start), "end": _fmt_time(end),
                  "step": _fmt_time(step)}
        return self._api("/api/v1/query_range", params, timeout)

    def _api(self, path, params, timeout):
        body = urllib.parse.urlencode(params)
        status, data, elapsed = self.client.request(
            "POST", path, body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=timeout)
        if status != 200:
            raise HttpError(status, data.decode(errors="replace"))
        doc = json.loads(data)
        if doc.get("status") != "success":
            raise RuntimeError(f"{self.name} {path}: {doc}")
        return doc["data"], elapsed

    # -- capabilities --

    def probe(self):
        """Which endpoints this running server answers (used to decide what is measurable)."""
        caps = {}
        try:
            self.query("1")
            caps["query"] = True
        except (HttpError, RuntimeError, OSError, ValueError) as e:
            caps["query"] = False
            caps["query_error"] = str(e)[:200]
        try:
            self.query_range("1", 0, 60, 15)
            caps["query_range"] = True
        except (HttpError, RuntimeError, OSError, ValueError) as e:
            caps["query_range"] = False
            caps["query_range_error"] = str(e)[:200]
        caps["remote_write"] = self._accepts("POST", "/api/v1/write", b"\x00",
                                             {"Content-Type": "application/x-protobuf",
                                              "Content-Encoding": "snappy",
                                              "X-Prometheus-Remote-Write-Version": "0.1.0"})
        self.caps = caps
        return caps

    def _accepts(self, method, path, body, headers):
        try:
            status, _, _ = self.client.request(method, path, body=body, headers=headers,
                                               timeout=30)
        except OSError:
            return False
        return 200 <= status < 300

    def metrics_text(self):
        status, data, _ = self.client.get("/metrics", timeout=30)
        return data.decode(errors="replace") if status == 200 else ""


def _fmt_time(t):
    if isinstance(t, int):
        return str(t)
    return f"{t:.3f}"


class Prometheus(Server):
    name = "prometheus"

    def argv(self):
        a = [self.binary, f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.path={self.data_dir}/data",
             "--web.enable-remote-write-receiver", "--web.enable-admin-api",
             "--web.enable-lifecycle", "--log.level=warn"]
        cfg = self.scrape_config or os.path.join(self.data_dir, "empty.yml")
        if not self.scrape_config and not os.path.exists(cfg):
            with open(cfg, "w") as f:
                f.write("global: {}\n")
        a.append(f"--config.file={cfg}")
        return a + self.extra

    def storage_dir(self):
        return os.path.join(self.data_dir, "data")


class Hearth(Prometheus):
    """Hearth takes Prometheus' flags."""
    name = "hearth"

    def probe(self):
        caps = super().probe()
        caps["live_import"] = self._accepts("POST", "/api/v1/import/openmetrics", b"# EOF\n",
                                            {"Content-Type": "application/openmetrics-text"})
        return caps


class VictoriaMetrics(Server):
    name = "victoria-metrics"
    ready_path = "/health"

    def argv(self):
        a = [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}",
             f"-storageDataPath={self.data_dir}/data", "-retentionPeriod=100y",
             # Benchmark settings: answer from raw data on every request (no response cache),
             # and show samples as soon as they are stored (no 30 s latency offset).
             "-search.disableCache", "-search.latencyOffset=0s", "-loggerLevel=WARN",
             # the driver's checks may touch every series of the scale workload
             "-search.maxUniqueTimeseries=10000000"]
        if self.scrape_config:
            a.append(f"-promscrape.config={self.scrape_config}")
        return a + self.extra

    def storage_dir(self):
        return os.path.join(self.data_dir, "data")

    def probe(self):
        caps = super().probe()
        caps["vm_import"] = True
        return caps


SERVER_CLASSES = {"prometheus": Prometheus, "victoria-metrics": VictoriaMetrics,
                  "hearth": Hearth}
