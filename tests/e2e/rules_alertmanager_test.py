#!/usr/bin/env python3
"""End-to-end: the seed's prometheus.yml and alert.rules.yml (loopback addresses; fast intervals
and short `for` in a copy) run by the hearth binary against a fake FastAPI target whose latency
and availability the test controls. HighRequestLatency and ServiceDown go pending, fire and
resolve; a real Alertmanager (Debian's prometheus-alertmanager 0.25) receives them and its webhook
receiver (an HTTP server in this test) sees the labels and annotations Prometheus would send.
/api/v1/rules and /api/v1/alerts are checked on the way, and a restart during a pending alert
keeps its activeAt.

Skips when Alertmanager is not installed or when the hearth binary does not evaluate rules yet
(the rule manager is wired in cmd/hearth/main.cpp).

Usage: rules_alertmanager_test.py HEARTH
"""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import sys

HEARTH = None
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
SEED = "/work/shared/seed"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class FakeApi:
    """The FastAPI service of the seed: /metrics with `up`-able scrapes and a latency histogram
    whose new observations are fast or slow."""

    def __init__(self):
        self.slow = False
        self.down = False
        self.counts = {"0.1": 0, "0.5": 0, "1.0": 0, "+Inf": 0}
        self.lock = threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if api.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                with api.lock:
                    for le in ("1.0", "+Inf"):
                        api.counts[le] += 10
                    if not api.slow:
                        for le in ("0.1", "0.5"):
                            api.counts[le] += 10
                    c = dict(api.counts)
                body = "# TYPE app_request_latency_seconds histogram\n"
                for le in ("0.1", "0.5", "1.0", "+Inf"):
                    body += f'app_request_latency_seconds_bucket{{le="{le}"}} {c[le]}\n'
                body += f"app_request_latency_seconds_count {c['+Inf']}\n"
                body += f"app_request_latency_seconds_sum {c['+Inf'] * 0.3}\n"
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Webhook:
    def __init__(self):
        self.bodies = []
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                hook.bodies.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def find(self, status, alertname):
        for b in list(self.bodies):
            for a in b.get("alerts", []):
                if a["status"] == status and a["labels"].get("alertname") == alertname:
                    return a
        return None

    def close(self):
        self.server.shutdown()


class Proc:
    def __init__(self, argv, cwd):
        self.p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.stderr.read()


@unittest.skipUnless(os.path.exists(ALERTMANAGER), "prometheus-alertmanager not installed")
class RulesAlertmanagerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hearth-rules-e2e-")
        self.api = FakeApi()
        self.hook = Webhook()
        self.am_port = free_port()
        with open(os.path.join(self.dir, "alertmanager.yml"), "w") as f:
            f.write(f"""route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:{self.hook.port}/hook
        send_resolved: true
""")
        os.makedirs(os.path.join(self.dir, "am"))
        self.am = Proc([ALERTMANAGER, "--config.file=alertmanager.yml",
                        f"--web.listen-address=127.0.0.1:{self.am_port}",
                        "--cluster.listen-address=", "--storage.path=am"], self.dir)
        wait_for(lambda: get(self.am_port, "/-/ready")[0] == 200, 30, "Alertmanager ready")
        self.hearth = None
        self.port = free_port()
        self.write_config()

    def tearDown(self):
        if self.hearth:
            self.hearth.stop()
        self.am.stop()
        self.api.close()
        self.hook.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, service_down_for="4s"):
        with open(os.path.join(SEED, "prometheus.yml")) as f:
            cfg = f.read()
        cfg = cfg.replace("api:8000", f"127.0.0.1:{self.api.port}")
        cfg = cfg.replace("localhost:9090", f"127.0.0.1:{self.port}")
        cfg = cfg.replace("alertmanager:9093", f"127.0.0.1:{self.am_port}")
        cfg = cfg.replace("scrape_interval: 15s", "scrape_interval: 1s")
        cfg = cfg.replace("evaluation_interval: 15s", "evaluation_interval: 1s")
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write(cfg)
        with open(os.path.join(SEED, "alert.rules.yml")) as f:
            rules = f.read()
        rules = rules.replace("for: 2m", "for: 3s").replace("for: 5m", f"for: {service_down_for}")
        with open(os.path.join(self.dir, "alert.rules.yml"), "w") as f:
            f.write(rules)

    def start_hearth(self, extra=()):
        help_text = subprocess.run([HEARTH, "--help"], capture_output=True, text=True).stdout
        flags = [f for f in extra if f.split("=")[0] in help_text]
        self.hearth = Proc([HEARTH, "--config.file=prometheus.yml",
                            f"--web.listen-address=127.0.0.1:{self.port}",
                            "--storage.tsdb.path=data", "--web.external-url=http://hearth.test:9090",
                            *flags], self.dir)
        wait_for(lambda: get(self.port, "/-/ready")[0] == 200, 30, "hearth ready")
        status, body = get(self.port, "/api/v1/rules")
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["data"]["groups"], "hearth loaded no rule groups")
        status, ams = get(self.port, "/api/v1/alertmanagers")
        self.assertEqual(json.loads(ams)["data"]["activeAlertmanagers"],
                         [{"url": f"http://127.0.0.1:{self.am_port}/api/v2/alerts"}])
        return json.loads(body)

    def rules(self):
        return json.loads(get(self.port, "/api/v1/rules")[1])["data"]["groups"]

    def alert_state(self, name):
        for g in self.rules():
            for r in g["rules"]:
                if r["name"] == name:
                    return r["state"]
        return None

    def test_seed_alerts_pending_firing_resolved_through_alertmanager(self):
        body = self.start_hearth()
        group = body["data"]["groups"][0]
        self.assertEqual(group["name"], "example-alerts")
        self.assertEqual(group["interval"], 1)
        names = [r["name"] for r in group["rules"]]
        self.assertEqual(names, ["HighRequestLatency", "ServiceDown"])
        for r in group["rules"]:
            for key in ("state", "name", "query", "duration", "keepFiringFor", "labels",
                        "annotations", "alerts", "health", "evaluationTime", "lastEvaluation",
                        "type"):
                self.assertIn(key, r)
            self.assertEqual(r["type"], "alerting")

        # Slow requests: HighRequestLatency goes pending, then fires.
        self.api.slow = True
        wait_for(lambda: self.alert_state("HighRequestLatency") == "pending", 30, "pending")
        wait_for(lambda: self.alert_state("HighRequestLatency") == "firing", 30, "firing")
        a = wait_for(lambda: self.hook.find("firing", "HighRequestLatency"), 30, "webhook")
        self.assertEqual(a["labels"]["severity"], "warning")
        self.assertEqual(a["annotations"]["summary"], "High request latency detected")
        self.assertEqual(a["annotations"]["description"],
                         "99th percentile latency is above 0.5 seconds for more than 2 minutes.")
        self.assertTrue(a["generatorURL"].startswith("http://hearth.test:9090/graph?g0.expr="))
        alerts = json.loads(get(self.port, "/api/v1/alerts")[1])["data"]["alerts"]
        firing = [x for x in alerts if x["labels"]["alertname"] == "HighRequestLatency"]
        self.assertEqual(firing[0]["state"], "firing")
        self.assertRegex(firing[0]["value"], r"^-?\d(\.\d+)?e[+-]\d\d$")

        # The service goes down: ServiceDown fires with the seed's labels and annotations.
        self.api.slow = False
        self.api.down = True
        wait_for(lambda: self.alert_state("ServiceDown") == "firing", 30, "ServiceDown firing")
        a = wait_for(lambda: self.hook.find("firing", "ServiceDown"), 30, "ServiceDown webhook")
        self.assertEqual(a["labels"]["job"], "fastapi")
        self.assertEqual(a["labels"]["severity"], "critical")
        self.assertEqual(a["annotations"]["summary"], "FastAPI service down")

        # And comes back: the resolution reaches the webhook.
        self.api.down = False
        a = wait_for(lambda: self.hook.find("resolved", "ServiceDown"), 60, "resolved webhook")
        self.assertEqual(a["labels"]["alertname"], "ServiceDown")

    def test_restart_during_pending_keeps_active_at(self):
        # `for` longer than the test; a 1s grace period so that restoring applies (Prometheus
        # restores only rules whose `for` is at least the grace period).
        self.write_config(service_down_for="5m")
        flags = ["--rules.alert.for-grace-period=1s", "--rules.alert.for-outage-tolerance=1h"]
        self.start_hearth(flags)
        self.api.down = True

        def active_at():
            alerts = json.loads(get(self.port, "/api/v1/alerts")[1])["data"]["alerts"]
            for x in alerts:
                if x["labels"]["alertname"] == "ServiceDown" and x["state"] == "pending":
                    return parse_time(x["activeAt"])
            return None

        before = wait_for(active_at, 30, "ServiceDown pending")
        time.sleep(8)  # pending for a while, ALERTS_FOR_STATE written every second
        stopped = time.time()
        self.hearth.stop()
        restarted = time.time()
        self.start_hearth(flags)
        # A new episode would start after the restart; the restored one keeps its start, moved
        # on by the time the server was down (Prometheus' rule), so it stays well before.
        after = wait_for(lambda: (lambda v: v if v and v < restarted else None)(active_at()), 30,
                         "restored activeAt")
        self.assertGreaterEqual(after, before - 1)
        self.assertLessEqual(after - before, (restarted - stopped) + 10)


def parse_time(s):
    """Go's RFC 3339 (nanosecond) time to Unix seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        raise AssertionError(f"not an RFC 3339 time: {s}")
    from datetime import datetime, timezone
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = m.group(3)
    offset = 0
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    frac = float("0" + m.group(2)) if m.group(2) else 0.0
    return base.replace(tzinfo=timezone.utc).timestamp() - offset + frac


if __name__ == "__main__":
    HEARTH = os.path.abspath(sys.argv.pop(1))
    unittest.main()
