"""Scrape targets: pre-rendered gzip bodies served over HTTP/1.1 keep-alive, one port each.

Target t serves body set t % len(sets); the body of a scrape is chosen by wall-clock phase,
floor((now - t0) / interval), so every server scraping a target within the same interval gets
the same body whatever its scrape offset. Bodies are rendered before the servers start, so
serving costs a dictionary lookup and a socket write.
"""
import gzip
import http.server
import socketserver
import threading
import time

from servers import free_port


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner = None  # set per server class
    target = 0

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        body = self.owner.body(self.target)
        headers = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            headers["Content-Encoding"] = "gzip"
        else:
            body = gzip.decompress(body)
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.owner.count(self.target, self.headers.get("User-Agent") or "")

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Targets:
    """`n` scrape targets on loopback serving `sets` (lists of gzip bodies per phase)."""

    def __init__(self, n, sets, interval):
        self.sets = sets
        self.interval = interval
        self.t0 = None
        self.lock = threading.Lock()
        self.scrapes = {}  # user agent -> count
        self.servers = []
        self.ports = []
        for t in range(n):
            handler = type(f"H{t}", (_Handler,), {"owner": self, "target": t})
            srv = _Server(("127.0.0.1", free_port()), handler)
            self.servers.append(srv)
            self.ports.append(srv.server_address[1])
        self.threads = []

    def start(self):
        """Starts serving; phase 0 begins now, aligned down to the interval."""
        self.t0 = time.time() // self.interval * self.interval
        for srv in self.servers:
            th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.5},
                                  daemon=True)
            th.start()
            self.threads.append(th)

    def phase(self):
        n = len(self.sets[0])
        return int((time.time() - self.t0) // self.interval) % n

    def body(self, target):
        return self.sets[target % len(self.sets)][self.phase()]

    def count(self, target, agent):
        with self.lock:
            self.scrapes[agent] = self.scrapes.get(agent, 0) + 1

    def addresses(self):
        return [f"127.0.0.1:{p}" for p in self.ports]

    def close(self):
        for srv in self.servers:
            srv.shutdown()
            srv.server_close()


def scrape_config(path, job, addresses, interval):
    """A prometheus.yml that every server reads unchanged."""
    lines = ["global:", f"  scrape_interval: {interval}s", f"  scrape_timeout: {interval}s",
             "scrape_configs:", f"  - job_name: {job}", "    static_configs:",
             "      - targets:"]
    lines += [f"          - '{a}'" for a in addresses]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
