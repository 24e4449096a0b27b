#!/usr/bin/env python3
"""Hearth's scraper and Prometheus 2.42 scrape the same targets; the sets of series they store
must agree (values may differ).

Targets: prometheus-node-exporter, and Prometheus' own /metrics. Prometheus scrapes both every
second; Hearth's scraper (scraper_scrape_once) scrapes each once. The series of a target are
compared as label sets. Prometheus' own metrics move between scrapes (request counters of the
API handlers we call, ...), so for that target a few differences are tolerated and printed.

Usage: scrape_vs_prometheus_test.py SCRAPE_ONCE
Skipped (exit 0 with a message) when prometheus or prometheus-node-exporter is not installed.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PROMETHEUS = "/usr/bin/prometheus"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def wait_http(url, deadline_s=30):
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except Exception:
            time.sleep(0.2)
    return False


def prom_series(prom_port, job):
    q = urllib.parse.urlencode({"match[]": '{job="%s"}' % job})
    data = get_json(f"http://127.0.0.1:{prom_port}/api/v1/series?{q}")
    return {json.dumps(s, sort_keys=True) for s in data["data"]}


def hearth_series(scrape_once, url, job):
    out = subprocess.run([scrape_once, url, job], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"scrape_once failed: {out.stderr}")
    return {json.dumps(json.loads(line), sort_keys=True) for line in out.stdout.splitlines() if line}


def main():
    scrape_once = sys.argv[1]
    if not (os.path.exists(PROMETHEUS) and os.path.exists(NODE_EXPORTER)):
        print("SKIP: prometheus or prometheus-node-exporter not installed")
        return 0
    tmp = tempfile.mkdtemp(prefix="hearth-scrape-e2e-")
    procs = []
    try:
        ne_port = free_port()
        procs.append(subprocess.Popen(
            [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{ne_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if not wait_http(f"http://127.0.0.1:{ne_port}/metrics"):
            print("FAIL: node exporter did not start")
            return 1
        prom_port = free_port()
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:{ne_port}']
  - job_name: prom
    static_configs:
      - targets: ['127.0.0.1:{prom_port}']
""")
        procs.append(subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if not wait_http(f"http://127.0.0.1:{prom_port}/-/ready", 60):
            print("FAIL: prometheus did not become ready")
            return 1
        # Let Prometheus scrape each target a few times.
        end = time.time() + 30
        while time.time() < end:
            targets = get_json(f"http://127.0.0.1:{prom_port}/api/v1/targets")["data"]["activeTargets"]
            if len(targets) == 2 and all(t["health"] == "up" for t in targets):
                break
            time.sleep(0.5)
        else:
            print("FAIL: prometheus did not scrape both targets:", targets)
            return 1
        # The series API's own request metrics appear in Prometheus' /metrics after the first
        # call: call it once and let Prometheus scrape those too, so both sides see them.
        prom_series(prom_port, "node")
        time.sleep(2.5)
        failures = 0
        for job, url, tolerance in [
                ("node", f"http://127.0.0.1:{ne_port}/metrics", 0),
                ("prom", f"http://127.0.0.1:{prom_port}/metrics", 0.03)]:
            hearth = hearth_series(scrape_once, url, job)
            prom = prom_series(prom_port, job)
            only_h = sorted(hearth - prom)
            only_p = sorted(prom - hearth)
            allowed = int(tolerance * max(len(prom), 1))
            print(f"{job}: prometheus {len(prom)} series, hearth {len(hearth)}, "
                  f"only in hearth {len(only_h)}, only in prometheus {len(only_p)} "
                  f"(tolerated {allowed})")
            for s in only_h[:20]:
                print("  only hearth:", s)
            for s in only_p[:20]:
                print("  only prometheus:", s)
            if len(prom) < 50 or len(hearth) < 50:
                print(f"FAIL: {job}: too few series")
                failures += 1
            elif len(only_h) + len(only_p) > allowed:
                failures += 1
        return 1 if failures else 0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
