#!/usr/bin/env python3
"""End-to-end tests of `hearthctl query ...` against a real Prometheus 2.42 server.

Prometheus is started on a free loopback port on a TSDB built from a small OpenMetrics file with
`promtool tsdb create-blocks-from openmetrics`, so the data and the answers are deterministic.
The test is skipped when prometheus/promtool are not installed.

Usage: hearthctl_query_test.py HEARTHCTL
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HEARTHCTL = None
T0 = 1700000000  # 2023-11-14T22:13:20Z; samples every 15 s from here


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openmetrics():
    lines = ["# HELP http_requests_total Requests.", "# TYPE http_requests_total counter"]
    for i in range(41):  # 10 minutes
        t = T0 + 15 * i
        lines.append(f'http_requests_total{{job="api",instance="a:1",code="200"}} {10 * i} {t}')
        lines.append(f'http_requests_total{{job="api",instance="a:1",code="500"}} {i} {t}')
    lines += ["# HELP up Up.", "# TYPE up gauge"]
    for i in range(41):
        t = T0 + 15 * i
        lines.append(f'up{{job="api",instance="a:1"}} 1 {t}')
        lines.append(f'up{{job="node",instance="b:1"}} {0 if 10 <= i < 20 else 1} {t}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


class Prometheus:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hearthctl-e2e-")
        with open(os.path.join(self.dir, "in.om"), "w") as f:
            f.write(openmetrics())
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                        os.path.join(self.dir, "in.om"), os.path.join(self.dir, "data")],
                       check=True, capture_output=True)
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 15s\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={self.dir}/prometheus.yml",
             f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.path={self.dir}/data", "--storage.tsdb.retention.time=100y"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("prometheus exited: " + self.proc.stderr.read())
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("prometheus did not become ready")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def ctl(*args, env=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    return subprocess.run([HEARTHCTL, "query", *args], capture_output=True, text=True, timeout=60,
                          env=e)


@unittest.skipUnless(shutil.which("prometheus") and shutil.which("promtool"),
                     "prometheus 2.42 not installed")
class HearthctlQueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prom = Prometheus()
        cls.url = cls.prom.url

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()

    def test_instant_table_csv_json(self):
        t = str(T0 + 195.5)
        p = ctl("instant", "--time", t, self.url, "up")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout,
                         "METRIC  instance  job   VALUE  TIME\n"
                         "up      a:1       api   1      2023-11-14T22:16:35.500Z\n"
                         "up      b:1       node  0      2023-11-14T22:16:35.500Z\n")
        p = ctl("instant", "--time", t, "--format", "csv", self.url, "up")
        self.assertEqual(p.stdout, "__name__,instance,job,timestamp,value\n"
                                   "up,a:1,api,1700000195.500,1\nup,b:1,node,1700000195.500,0\n")
        p = ctl("instant", "--time", t, "-o", "json", self.url, "sum(up)")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout),
                         {"resultType": "vector",
                          "result": [{"metric": {}, "value": [T0 + 195.5, "1"]}]})
        p = ctl("instant", "--time", "2023-11-14T22:18:20Z", self.url, "1+1")
        self.assertEqual(p.stdout, "VALUE  TIME\n2      2023-11-14T22:18:20.000Z\n")

    def test_range_table_and_chart(self):
        p = ctl("range", "--start", str(T0), "--end", str(T0 + 60), "--step", "30s",
                self.url, 'up{job="node"}')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout,
                         "METRIC  instance  job   TIME                      VALUE\n"
                         "up      b:1       node  2023-11-14T22:13:20.000Z  1\n"
                         "up      b:1       node  2023-11-14T22:13:50.000Z  1\n"
                         "up      b:1       node  2023-11-14T22:14:20.000Z  1\n")
        p = ctl("range", "--start", str(T0 + 60), "--end", str(T0 + 540), "--step", "15s",
                "--chart", "--color=never", "--chart-width=70", "--chart-height=8",
                self.url, "rate(http_requests_total[1m])")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        # 8 plot rows, the axis, the time labels, the caption, two legend lines, the common labels.
        self.assertEqual(len(lines), 14, p.stdout)
        # y ticks at 0, 0.5/s and 1/s; the 200s (10 per 15 s = 0.667/s) run along row 2.
        self.assertTrue(lines[0].startswith("  1/s ┤"), p.stdout)
        self.assertTrue(lines[4].startswith("0.5/s ┤"), p.stdout)
        self.assertTrue(lines[7].startswith("    0 ┤"), p.stdout)
        self.assertEqual(lines[2], "      │" + "*" * 63)
        self.assertIn("└", lines[8])
        self.assertEqual(lines[9].split(), ["22:16", "22:18", "22:20", "22:22"])
        self.assertIn("time (UTC), step 15s, values in /s", lines[10])
        self.assertIn('** {code="200"}', p.stdout)
        self.assertIn('++ {code="500"}', p.stdout)
        self.assertIn('all series: {instance="a:1", job="api"}', p.stdout)
        # Colour: braille dots and ANSI escapes.
        p = ctl("range", "--start", str(T0 + 60), "--end", str(T0 + 540), "--chart",
                "--color=always", "--chart-width=70", self.url, "rate(http_requests_total[1m])")
        self.assertIn("\x1b[32m", p.stdout)
        self.assertTrue(any(0x2800 <= ord(ch) <= 0x28FF for ch in p.stdout))

    def test_series_and_labels(self):
        p = ctl("series", "--match", "up", "--match", 'http_requests_total{code="500"}',
                "--start", str(T0), "--end", str(T0 + 600), self.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout,
                         "METRIC               code  instance  job\n"
                         "http_requests_total  500   a:1       api\n"
                         "up                         a:1       api\n"
                         "up                         b:1       node\n")
        p = ctl("labels", "--start", str(T0), "--end", str(T0 + 600), self.url, "job")
        self.assertEqual(p.stdout, "api\nnode\n")
        p = ctl("labels", "--match", "http_requests_total", self.url, "code")
        self.assertEqual(p.stdout, "200\n500\n")
        p = ctl("labels", "--format", "json", self.url, "__name__")
        self.assertEqual(json.loads(p.stdout), ["http_requests_total", "up"])

    def test_errors(self):
        p = ctl("instant", self.url, "up(")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, 'query error: bad_data: invalid parameter "query": '
                                   "1:4: parse error: unclosed left parenthesis\n")
        p = ctl("instant", f"http://127.0.0.1:{free_port()}", "up")
        self.assertEqual(p.returncode, 1)
        self.assertIn("query error: dial tcp", p.stderr)
        p = ctl("instant", self.url)
        self.assertEqual(p.returncode, 2)
        self.assertIn("required argument 'expr' not provided", p.stderr)
        p = ctl("series", self.url)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--match", p.stderr)
        p = ctl("series", "--match", "up", "--start", "yesterday", self.url)
        self.assertEqual((p.returncode, p.stderr),
                         (1, 'query error: invalid value "yesterday" for --start: cannot parse '
                             '"yesterday" to a valid timestamp\n'))
        p = ctl("instant", "--time", "bad", self.url, "up")
        self.assertEqual(p.returncode, 1)
        self.assertIn('invalid value "bad" for --time', p.stderr)
        p = ctl("instant", "--format", "yaml", self.url, "up")
        self.assertEqual(p.returncode, 2)
        p = ctl("instant", "--data-dir", "/nonexistent", "up")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--data-dir", p.stderr)
        p = ctl("instant", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--time", p.stdout)


if __name__ == "__main__":
    HEARTHCTL = os.path.abspath(sys.argv.pop(1))
    unittest.main()
