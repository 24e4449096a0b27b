#!/usr/bin/env python3
"""Side by side with Prometheus: the same OpenMetrics data in Hearth and in Prometheus 2.42, and
the JSON of a few dozen API calls compared value by value.

Prometheus gets the data through `promtool tsdb create-blocks-from openmetrics`, Hearth through
its live import endpoint (POST /api/v1/import/openmetrics, streamed). Evaluation times and range
boundaries never fall on a sample (Prometheus 2.x closes range selectors on the left, 3.x does
not, and Hearth follows 3.x).

Usage: api_side_by_side_test.py HEARTH [HEARTHCTL]
Skipped when prometheus/promtool are not installed.
"""
import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HEARTH = None
HEARTHCTL = None
T0 = 1700000000          # first sample (s)
STEP = 15                # scrape interval (s)
POINTS = 481             # two hours
T_END = T0 + STEP * (POINTS - 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openmetrics():
    """Counters (one with a reset), gauges and a classic histogram, as OpenMetrics text."""
    out = []
    out += ["# HELP http_requests_total Requests handled.", "# TYPE http_requests_total counter"]
    series = [("api", "a:8000", "GET", "200", 7), ("api", "a:8000", "GET", "500", 1),
              ("api", "b:8000", "POST", "200", 3), ("worker", "c:9000", "GET", "200", 11)]
    for job, inst, method, code, rate in series:
        total = 0
        for i in range(POINTS):
            total += rate + (i % 3)
            if job == "worker" and i == 240:
                total = 5  # a counter reset
            out.append(f'http_requests_total{{job="{job}",instance="{inst}",method="{method}",'
                       f'code="{code}"}} {total} {T0 + STEP * i}')
    out += ["# HELP node_memory_bytes Memory in use.", "# TYPE node_memory_bytes gauge",
            "# UNIT node_memory_bytes bytes"]
    for inst, base in (("a:8000", 1e9), ("b:8000", 2.5e9), ("c:9000", 7.25e8)):
        for i in range(POINTS):
            v = base + 1e7 * ((i * 37) % 101) - 3e6 * (i % 7)
            out.append(f'node_memory_bytes{{instance="{inst}"}} {v:.1f} {T0 + STEP * i}')
    out += ["# HELP temperature_celsius Room temperature.", "# TYPE temperature_celsius gauge",
            "# UNIT temperature_celsius celsius"]
    for room, base in (("kitchen", 21.5), ("cellar", 12.25)):
        for i in range(POINTS):
            out.append(f'temperature_celsius{{room="{room}"}} {base + ((i * 13) % 17) / 8} '
                       f'{T0 + STEP * i}')
    out += ["# HELP http_request_duration_seconds Latency.",
            "# TYPE http_request_duration_seconds histogram"]
    bounds = ["0.1", "0.5", "1", "+Inf"]
    for job, speed in (("api", 1), ("worker", 3)):
        counts = [0, 0, 0, 0]
        total_sum = 0.0
        for i in range(POINTS):
            new = [5 * speed + i % 4, 3 + (i % 5) * speed, 1 + i % 2, i % 3]
            for k in range(4):
                counts[k] += new[k]
            total_sum += 0.05 * new[0] + 0.3 * new[1] + 0.8 * new[2] + 2.5 * new[3]
            cum = 0
            t = T0 + STEP * i
            for k, le in enumerate(bounds):
                cum += counts[k]
                out.append(f'http_request_duration_seconds_bucket{{job="{job}",le="{le}"}} {cum} {t}')
            out.append(f'http_request_duration_seconds_sum{{job="{job}"}} {total_sum:.4f} {t}')
            out.append(f'http_request_duration_seconds_count{{job="{job}"}} {cum} {t}')
    out.append("# EOF")
    return "\n".join(out) + "\n"


def wait_ready(url, proc, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited early")
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not become ready")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api(url, path, params=None, method="GET"):
    data = None
    if params is not None and method == "POST":
        data = urllib.parse.urlencode(params, doseq=True).encode()
    elif params is not None:
        path += "?" + urllib.parse.urlencode(params, doseq=True)
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            body = r.read()
            return r.status, json.loads(body) if body else None
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body else None


def as_float(s):
    return float(s)  # Python reads "NaN", "+Inf", "-Inf" as Go writes them


def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def normalize(data):
    """A query result as {metric labels (sorted tuple): [(t, v), ...]}."""
    rt = data["resultType"]
    res = data["result"]
    if rt in ("scalar", "string"):
        return rt, {(): [(res[0], res[1])]}
    out = {}
    for s in res:
        key = tuple(sorted(s["metric"].items()))
        points = s.get("values") or ([s["value"]] if "value" in s else [])
        out[key] = [(p[0], p[1]) for p in points]
    return rt, out


INSTANT_QUERIES = [
    "http_requests_total",
    'http_requests_total{job="api",code!="500"}',
    "rate(http_requests_total[5m])",
    "irate(http_requests_total[1m])",
    "increase(http_requests_total[10m])",
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum without (instance) (rate(http_requests_total[2m]))",
    "resets(http_requests_total[1h])",
    "topk(2, rate(http_requests_total[5m]))",
    "count by (code) (http_requests_total)",
    "avg_over_time(node_memory_bytes[10m])",
    "max_over_time(temperature_celsius[30m]) - min_over_time(temperature_celsius[30m])",
    "quantile_over_time(0.9, temperature_celsius[20m])",
    "stddev_over_time(node_memory_bytes[15m])",
    "deriv(node_memory_bytes[10m])",
    "predict_linear(node_memory_bytes[30m], 3600)",
    "delta(temperature_celsius[10m])",
    "node_memory_bytes / on(instance) group_left sum by (instance) (rate(http_requests_total[5m]))",
    "node_memory_bytes > 1.5e9",
    "node_memory_bytes > bool 1.5e9",
    "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[10m]))",
    "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
    'label_replace(temperature_celsius, "place", "$1", "room", "(.*)")',
    "temperature_celsius offset 30m",
    "absent(nonexistent_metric)",
    "scalar(sum(node_memory_bytes))",
    "vector(1) + 2",
    "time()",
    "round(temperature_celsius, 0.5)",
    "clamp(temperature_celsius, 13, 22)",
    "sort_desc(sum by (instance) (node_memory_bytes))",
]

RANGE_QUERIES = [
    "rate(http_requests_total[5m])",
    "sum by (job) (increase(http_requests_total[10m]))",
    "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
    "avg(temperature_celsius)",
    "node_memory_bytes",
]


@unittest.skipUnless(shutil.which("prometheus") and shutil.which("promtool"),
                     "prometheus 2.42 not installed")
class SideBySideTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hearth-sbs-")
        om = os.path.join(cls.dir, "data.om")
        with open(om, "w") as f:
            f.write(openmetrics())
        cfg = os.path.join(cls.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 15s\n")
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om,
                        os.path.join(cls.dir, "prom")], check=True, capture_output=True)
        cls.prom_port, cls.hearth_port = free_port(), free_port()
        cls.prom = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{cls.prom_port}",
             f"--storage.tsdb.path={cls.dir}/prom", "--storage.tsdb.retention.time=100y"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.hearth = subprocess.Popen(
            [HEARTH, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{cls.hearth_port}",
             f"--storage.tsdb.path={cls.dir}/hearth", "--storage.tsdb.retention.time=100y",
             "--web.enable-admin-api"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        cls.prom_url = f"http://127.0.0.1:{cls.prom_port}"
        cls.hearth_url = f"http://127.0.0.1:{cls.hearth_port}"
        try:
            wait_ready(cls.prom_url, cls.prom, "prometheus")
            wait_ready(cls.hearth_url, cls.hearth, "hearth")
            cls.import_result = cls.import_into_hearth(om)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def import_into_hearth(cls, om):
        conn = http.client.HTTPConnection("127.0.0.1", cls.hearth_port, timeout=120)
        conn.putrequest("POST", "/api/v1/import/openmetrics")
        conn.putheader("Content-Type", "application/openmetrics-text; version=1.0.0")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        with open(om, "rb") as f:
            while True:
                piece = f.read(64 * 1024)
                if not piece:
                    break
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        body = json.loads(r.read())
        conn.close()
        return r.status, body

    @classmethod
    def tearDownClass(cls):
        stop(cls.prom)
        stop(cls.hearth)
        cls.hearth.stderr.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def both(self, path, params=None, method="GET"):
        return api(self.prom_url, path, params, method), api(self.hearth_url, path, params, method)

    def assert_same_result(self, what, p, h):
        (ps, pj), (hs, hj) = p, h
        self.assertEqual(ps, 200, f"{what}: prometheus: {pj}")
        self.assertEqual(hs, 200, f"{what}: hearth: {hj}")
        prt, pres = normalize(pj["data"])
        hrt, hres = normalize(hj["data"])
        self.assertEqual(prt, hrt, what)
        self.assertEqual(sorted(pres), sorted(hres), f"{what}: different series")
        for key, ppoints in pres.items():
            hpoints = hres[key]
            self.assertEqual([t for t, _ in ppoints], [t for t, _ in hpoints],
                             f"{what} {key}: timestamps")
            for (t, pv), (_, hv) in zip(ppoints, hpoints):
                if prt == "string":
                    self.assertEqual(pv, hv)
                    continue
                self.assertTrue(close(as_float(pv), as_float(hv)),
                                f"{what} {dict(key)} at {t}: prometheus {pv}, hearth {hv}")
        return len(pres)

    def test_import_counts(self):
        status, body = self.import_result
        self.assertEqual(status, 200, body)
        lines = openmetrics().count("\n") - openmetrics().count("#")
        self.assertEqual(body["data"]["samplesImported"], lines, body)
        self.assertEqual(body["data"]["samplesRejected"], 0, body)
        self.assertEqual(body["data"]["errors"], [])

    def test_instant_queries(self):
        times = [T0 + 3600 + 7, T0 + 5400 + 7.5, T_END - 8]
        compared = 0
        for q in INSTANT_QUERIES:
            for t in times:
                for method in ("GET", "POST"):
                    compared += self.assert_same_result(
                        f"{q} @ {t}", *self.both("/api/v1/query", {"query": q, "time": t}, method))
        self.assertGreater(compared, 300)
        print(f"\ninstant queries: {compared} series compared", file=sys.stderr)

    def test_range_queries(self):
        for q in RANGE_QUERIES:
            params = {"query": q, "start": T0 + 1807, "end": T_END - 300 + 7, "step": 60}
            self.assert_same_result(q, *self.both("/api/v1/query_range", params, "POST"))
        # Grafana's form: aligned start and end, step in seconds, $__rate_interval durations.
        params = {"query": "sum(rate(http_requests_total[1m0s]))", "start": T0 + 3600 - 7,
                  "end": T_END - 7, "step": "30"}
        self.assert_same_result("grafana", *self.both("/api/v1/query_range", params, "POST"))

    def test_series_labels_values(self):
        rng = {"start": T0, "end": T_END}
        for path, params in [
            ("/api/v1/series", {"match[]": ["http_requests_total"], **rng}),
            ("/api/v1/series", {"match[]": ['{__name__=~"node.*|temp.*"}', "up"], **rng}),
            ("/api/v1/series", {"match[]": ['{__name__!=""}'], **rng}),
            ("/api/v1/labels", rng),
            ("/api/v1/labels", {"match[]": ["node_memory_bytes"], **rng}),
            ("/api/v1/label/__name__/values", rng),
            ("/api/v1/label/job/values", rng),
            ("/api/v1/label/le/values", {"match[]": ['http_request_duration_seconds_bucket{job="api"}'], **rng}),
            ("/api/v1/label/nonexistent/values", rng),
        ]:
            (ps, pj), (hs, hj) = self.both(path, params)
            self.assertEqual((ps, hs), (200, 200), path)
            key = lambda s: sorted(s.items()) if isinstance(s, dict) else s
            self.assertEqual(sorted(pj["data"], key=key), sorted(hj["data"], key=key),
                             f"{path} {params}")

    def test_shapes_and_errors(self):
        # Metadata: Prometheus serves it from scraped targets only (nothing here), Hearth from
        # storage; the shape is what clients read.
        (ps, pj), (hs, hj) = self.both("/api/v1/metadata")
        self.assertIsInstance(pj["data"], dict)
        self.assertIsInstance(hj["data"], dict)
        self.assertEqual(hj["data"]["http_requests_total"],
                         [{"type": "counter", "help": "Requests handled.", "unit": ""}])
        for path in ("/api/v1/rules", "/api/v1/alerts", "/api/v1/alertmanagers",
                     "/api/v1/status/walreplay"):
            (ps, pj), (hs, hj) = self.both(path)
            self.assertEqual(pj, hj, path)
        (_, pj), (_, hj) = self.both("/api/v1/status/buildinfo")
        self.assertEqual(sorted(pj["data"]), sorted(hj["data"]))
        (_, pj), (_, hj) = self.both("/api/v1/targets")
        self.assertEqual(pj["data"]["activeTargets"], hj["data"]["activeTargets"])
        (_, pj), (_, hj) = self.both("/api/v1/format_query",
                                     {"query": "sum(rate(x[5m]))by(job)"})
        self.assertEqual(pj, hj)
        for q in ("up(", "sum by (x (y)", "rate(x)", "foo{"):
            (ps, pj), (hs, hj) = self.both("/api/v1/query", {"query": q, "time": T_END})
            self.assertEqual((ps, pj["errorType"]), (hs, hj["errorType"]), q)
            self.assertEqual(pj["error"], hj["error"], q)
        (ps, pj), (hs, hj) = self.both("/api/v1/query_range",
                                       {"query": "up", "start": T0, "end": T0 + 200000, "step": 1})
        self.assertEqual((ps, pj), (hs, hj))
        (ps, _), (hs, _) = self.both("/api/v1/query_exemplars", {"query": "1+1"})
        self.assertEqual((ps, hs), (204, 204))
        (ps, pj), (hs, hj) = self.both("/api/v1/query_exemplars",
                                       {"query": "http_requests_total", "start": T0, "end": T_END})
        self.assertEqual(pj, hj)


    def test_promtool_query_against_both(self):
        """promtool 2.42's query commands print the same against Hearth as against Prometheus."""
        t = str(T0 + 3600 + 7)
        for args in (["instant", f"--time={t}", "sum by (job) (rate(http_requests_total[5m]))"],
                     ["instant", f"--time={t}", "1+1"],
                     ["range", f"--start={T0 + 1807}", f"--end={T0 + 3607}", "--step=5m",
                      "max by (room) (temperature_celsius)"],
                     ["instant", "up("]):
            *flags, expr = args
            out = []
            for url in (self.prom_url, self.hearth_url):
                r = subprocess.run(["promtool", "query", *flags, url, expr], capture_output=True,
                                   text=True, timeout=60)
                out.append((r.returncode, r.stdout, r.stderr))
            self.assertEqual(out[0], out[1], args)
            if expr == "1+1":
                self.assertEqual(out[1][1], f"scalar: 2 @[{t}]\n")

    def test_hearthctl_data_dir_matches_prometheus(self):
        """`hearthctl query ... --data-dir` on Hearth's directory prints what the same command
        prints against Prometheus."""
        ctl = os.environ.get("HEARTHCTL")
        if not ctl:
            self.skipTest("no hearthctl given")
        t = str(T0 + 3600 + 7)
        for args in (["instant", "--time", t, "sum by (instance) (node_memory_bytes)"],
                     ["instant", "--time", t, "-o", "csv", "temperature_celsius"],
                     ["range", "--start", str(T0 + 1807), "--end", str(T0 + 3607), "--step", "5m",
                      "max by (room) (temperature_celsius)"],
                     ["series", "--match", "http_request_duration_seconds_count"],
                     ["labels", "--match", "http_requests_total", "code"]):
            *flags, last = args
            if args[0] == "series":
                prom = [ctl, "query", *args, self.prom_url]
                server = [ctl, "query", *args, self.hearth_url]
                local = [ctl, "query", *args, "--data-dir", f"{self.dir}/hearth"]
            else:
                prom = [ctl, "query", *flags, self.prom_url, last]
                server = [ctl, "query", *flags, self.hearth_url, last]
                local = [ctl, "query", *flags, "--data-dir", f"{self.dir}/hearth", last]
            p = subprocess.run(prom, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertGreater(len(p.stdout.splitlines()), 1, args)
            for cmd in (server, local):
                h = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                self.assertEqual(h.returncode, 0, h.stderr)
                self.assertEqual(p.stdout, h.stdout, cmd)


if __name__ == "__main__":
    HEARTH = os.path.abspath(sys.argv.pop(1))
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        os.environ["HEARTHCTL"] = os.path.abspath(sys.argv.pop(1))
    unittest.main()
