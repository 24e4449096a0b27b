#!/usr/bin/env python3
"""Side-by-side benchmark: Hearth vs Prometheus 2.42 vs VictoriaMetrics 1.79.

Starts each server on loopback in its own temporary data directory, feeds each the same data,
measures them the same way, checks their answers against Prometheus', prints a Markdown table
and writes the figures as JSON. See README.md next to this file for the methodology.

    benchmarks/compare/compare.py --quick                  # about 3 minutes
    benchmarks/compare/compare.py                          # the full run, about 30 minutes
    benchmarks/compare/compare.py --only queries --servers prometheus,hearth

Python 3 standard library only (PyYAML is not needed). Nothing here needs root.
"""
import argparse
import atexit
import datetime
import json
import math
import os
import platform
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datagen  # noqa: E402
import results as res  # noqa: E402
import servers as srv  # noqa: E402
import targets as tg  # noqa: E402
import wire  # noqa: E402

SERVER_ORDER = ["prometheus", "victoria-metrics", "hearth"]
DISPLAY = {"prometheus": "Prometheus 2.42", "victoria-metrics": "VictoriaMetrics 1.79",
           "hearth": "Hearth"}
WORKLOADS = ["scrape", "disk", "queries", "restart", "scale"]

# Sizes of the default run and of --quick.
SIZES = {
    "default": {
        "scrape": dict(targets=20, per_target=5000, interval=5, warmup=60, windows=4, window=45),
        "disk": dict(series=2000, hours=24, interval=15, jitter_ms=4),
        "queries": dict(windows=[("1h", 3600, 15), ("6h", 21600, 20), ("24h", 86400, 60)],
                        repeats=5),
        # The issue asks for 200 k x 2 h; 1 h keeps the full run within 30 minutes (Hearth's
        # live import, about 190 k samples/s here, is the slowest feed).
        "restart": dict(series=200_000, hours=1, interval=15, restarts=2),
        "scale": dict(targets=100, per_target=10_000, interval=15, warmup=45, windows=3,
                      window=30, restart=1, servers=["prometheus", "hearth"]),
    },
    "quick": {
        "scrape": dict(targets=4, per_target=1000, interval=5, warmup=12, windows=2, window=10),
        "disk": dict(series=100, hours=24, interval=15, jitter_ms=4),
        "queries": dict(windows=[("1h", 3600, 15), ("6h", 21600, 20), ("24h", 86400, 60)],
                        repeats=3),
        "restart": dict(series=10_000, hours=0.5, interval=15, restarts=1),
        "scale": dict(targets=10, per_target=5000, interval=5, warmup=12, windows=1,
                      window=10, restart=1, servers=["prometheus", "hearth"]),
    },
}

# Dashboard queries. $__rate_interval is Grafana's max(4 * scrape interval, step + scrape
# interval). The subquery's range is not a multiple of its step so that no inner point lies
# on the range boundary, where Prometheus 2.x (closed) and 3.x (left-open) differ.
QUERIES = [
    ("rate_sum_by", 'sum by (mode) (rate(node_cpu_seconds_total[$__rate_interval]))'),
    ("increase_sum_by",
     'sum by (instance) (increase(node_network_receive_bytes_total[$__rate_interval]))'),
    ("histogram_quantile",
     'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
     '[$__rate_interval])))'),
    ("histogram_quantile_regex",
     'histogram_quantile(0.9, sum by (le, handler) (rate(http_request_duration_seconds_bucket'
     '{handler=~"/api/v1/query.*"}[$__rate_interval])))'),
    ("topk", 'topk(5, rate(node_network_transmit_bytes_total[$__rate_interval]))'),
    ("avg_over_time", 'avg_over_time(node_memory_MemAvailable_bytes[10m])'),
    ("binary_ratio", '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes'),
    ("binary_latency",
     'sum by (handler) (rate(http_request_duration_seconds_sum[$__rate_interval]))'
     ' / sum by (handler) (rate(http_request_duration_seconds_count[$__rate_interval]))'),
    ("error_ratio",
     'sum(rate(http_requests_total{code=~"5.."}[$__rate_interval]))'
     ' / sum(rate(http_requests_total[$__rate_interval]))'),
    ("subquery",
     'max_over_time(sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))'
     '[30m7s:1m])'),
    ("regex_matcher",
     'sum by (instance) (rate(node_network_receive_bytes_total{device=~"eth.+"}'
     '[$__rate_interval]))'),
    ("count_by_name", 'count by (__name__) ({__name__=~".+"})'),
]

NOT_YET = "not measurable yet"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- environment ----------------------------------------------------------------------------

class Env:
    """Binaries, the work directory, the RSS sampler, and every process started (for cleanup)."""

    def __init__(self, args):
        self.args = args
        self.sizes = json.loads(json.dumps(SIZES["quick" if args.quick else "default"]))
        for item in args.set:
            key, _, value = item.partition("=")
            workload, _, field = key.partition(".")
            if workload not in self.sizes or field not in self.sizes[workload]:
                raise SystemExit(f"--set {item}: unknown size {key!r}; known: " + ", ".join(
                    f"{w}.{k}" for w, d in self.sizes.items() for k in d))
            old = self.sizes[workload][field]
            if isinstance(old, (int, float)):
                v = float(value)
                self.sizes[workload][field] = int(v) if v.is_integer() else v
            else:
                self.sizes[workload][field] = value.split(",")
        self.workdir = tempfile.mkdtemp(prefix="hearth-compare-", dir=args.workdir)
        self.sampler = srv.Sampler(1.0)
        self.running = []
        self.binaries = {"prometheus": args.prometheus, "victoria-metrics": args.victoria_metrics,
                         "hearth": args.hearth}
        self.selected = [s for s in SERVER_ORDER if s in args.servers]
        self.unavailable = {}
        for name in self.selected:
            path = self.binaries[name]
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                self.unavailable[name] = f"no executable at {path}"
        self.versions = {name: version_of(name, self.binaries[name]) for name in self.selected
                         if name not in self.unavailable}

    def available(self, names=None):
        return [n for n in (names or self.selected) if n in self.selected
                and n not in self.unavailable]

    def server(self, name, label, scrape_config=None, extra=()):
        cls = srv.SERVER_CLASSES[name]
        s = cls(self.binaries[name], self.workdir, label, scrape_config, extra)
        return s

    def start(self, s):
        pid = s.start()
        self.running.append(s)
        self.sampler.watch(f"{s.name}-{s.label}", pid)
        return pid

    def stop(self, s):
        self.sampler.unwatch(f"{s.name}-{s.label}")
        secs = s.stop()
        if s in self.running:
            self.running.remove(s)
        return secs

    def cleanup(self):
        for s in list(self.running):
            try:
                s.stop(timeout=30)
            except Exception:  # noqa: BLE001 (best effort at exit)
                pass
        self.running.clear()
        self.sampler.close()
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def version_of(name, path):
    try:
        if name == "victoria-metrics":
            out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=10)
            text = (out.stdout + out.stderr).strip()
            if text:
                return text.splitlines()[0]
            pkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"],
                                 capture_output=True, text=True, timeout=10)
            return f"victoria-metrics {pkg.stdout.strip()}"
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        first = (out.stdout + out.stderr).strip().splitlines()[0]
        # "prometheus, version 2.42.0+ds (branch: x, revision: y)" -> "prometheus 2.42.0+ds (y)"
        words = first.replace(",", "").split()
        if len(words) >= 3 and words[1] == "version":
            rev = first.split("revision: ")[-1].rstrip(")") if "revision: " in first else ""
            if re.fullmatch(r"[0-9a-f]{40}", rev):
                rev = rev[:12]
            return f"{words[0]} {words[2]}" + (f" ({rev})" if rev else "")
        return first
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def machine_info():
    info = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["mem_gib"] = round(int(line.split()[1]) / (1 << 20), 1)
        with open("/etc/debian_version") as f:
            info["debian"] = f.read().strip()
    except OSError:
        pass
    return info


class LoadMeter:
    """Machine load over a workload: load averages and the busy share of all cores."""

    def __init__(self):
        self.load0 = srv.loadavg()
        self.busy0 = srv.machine_busy()
        self.t0 = time.time()

    def done(self):
        b1, t1 = srv.machine_busy()
        b0, t0 = self.busy0
        return {"loadavg_start": self.load0, "loadavg_end": srv.loadavg(),
                "machine_busy_pct": round(100.0 * (b1 - b0) / max(1, t1 - t0), 1),
                "seconds": round(time.time() - self.t0, 1)}


# --- helpers --------------------------------------------------------------------------------

def scalar_of(data):
    """The single value of a one-element vector (or None when empty)."""
    if data["resultType"] == "scalar":
        return float(data["result"][1])
    if not data["result"]:
        return None
    if len(data["result"]) != 1:
        raise ValueError(f"{len(data['result'])} series where one was expected")
    return float(data["result"][0]["value"][1])


def label_values(server, label, selector, start, end):
    """Values of a label among series matching selector; returns (values, error)."""
    q = urllib.parse.urlencode({"match[]": selector, "start": f"{start:.3f}",
                                "end": f"{end:.3f}"})
    try:
        status, body, _ = server.client.get(f"/api/v1/label/{label}/values?{q}")
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            return [], f"HTTP {status}: {body[:200]!r}"
        return sorted(doc["data"]), None
    except (OSError, ValueError) as e:
        return [], str(e)[:200]


def count_samples(server, selector, window_ms, t, names=None):
    """Samples stored in (t - window, t] of the series matching selector, per metric name
    (count_over_time drops the name, so different metrics with equal labels would collide in
    one query). Returns ({name: count}, error)."""
    if names is None:
        names, err = label_values(server, "__name__", selector, t - window_ms / 1000, t)
        if err:
            return {}, err
        if not names:
            return {}, f"no series match {selector}"
    counts = {}
    for name in names:
        v, e = try_scalar(server, f"sum(count_over_time({name}{selector}[{window_ms}ms]))", t)
        if e:
            return counts, e
        counts[name] = v or 0
    return counts, None


def try_scalar(server, expr, t):
    try:
        data, _ = server.query(expr, t)
        return scalar_of(data), None
    except (srv.HttpError, RuntimeError, OSError, ValueError, KeyError) as e:
        return None, str(e)[:200]


def short_count(n):
    """1000000 -> '1M', 200000 -> '200k', 5000 -> '5000'."""
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1e6:g}M"
    if n >= 10_000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def not_measurable(reason):
    return {"status": "not measurable", "reason": reason}


def wait_until(pred, timeout, poll=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(poll)
    return pred()


def start_all(env, servers_):
    """Starts servers, waits until ready; returns {name: error} for those that failed."""
    errors = {}
    for s in servers_:
        env.start(s)
    for s in servers_:
        try:
            s.wait_ready(timeout=300)
            s.probe()
        except RuntimeError as e:
            errors[s.name] = str(e)[:500]
    return errors


# --- workload 1 and 5: scrape + ingest ------------------------------------------------------

def render_sets(per_target, n_sets, phases, interval, seed):
    sets = []
    for k in range(n_sets):
        model = datagen.Model(per_target, lambda g: [("node", f"node-{g:03d}")], seed + k,
                              reboot_fraction=0.1)
        sets.append(datagen.render_bodies(model, phases, interval))
    return sets


def scrape_workload(env, label, cfg, names, concurrent):
    """Scrapes cfg['targets'] x cfg['per_target'] series; measures each server in `names`."""
    out = {"config": {k: v for k, v in cfg.items() if k != "servers"}, "servers": {}}
    interval = cfg["interval"]
    total = cfg["warmup"] + cfg["windows"] * cfg["window"] + 4 * interval + 30
    runs = 1 if concurrent else len(names)
    phases = int(math.ceil(total * runs / interval)) + 4
    n_sets = min(cfg["targets"], 4)
    t_render = time.time()
    sets = render_sets(cfg["per_target"], n_sets, phases, interval, seed=100)
    body_kib = sum(len(b) for b in sets[0]) / len(sets[0]) / 1024
    log(f"{label}: rendered {n_sets} x {phases} bodies ({body_kib:.0f} KiB gzip each) "
        f"in {time.time() - t_render:.1f}s")
    out["config"]["body_gzip_kib"] = round(body_kib, 1)
    targets = tg.Targets(cfg["targets"], sets, interval)
    targets.start()
    conf = tg.scrape_config(os.path.join(env.workdir, f"{label}.yml"), label,
                            targets.addresses(), interval)
    try:
        groups = [names] if concurrent else [[n] for n in names]
        for group in groups:
            servers_ = [env.server(n, label, scrape_config=conf) for n in group]
            out["servers"].update(measure_scrape(env, label, cfg, servers_, targets))
    finally:
        targets.close()
    out["scrapes_served_by_user_agent"] = dict(targets.scrapes)
    return out


def measure_scrape(env, label, cfg, servers_, targets):
    result = {}
    load = LoadMeter()
    errors = start_all(env, servers_)
    live, blind = [], []
    for s in servers_:
        if s.name in errors:
            result[s.name] = {"status": "error", "reason": errors[s.name]}
            env.stop(s)
        elif not s.caps.get("query"):
            result[s.name] = not_measurable(
                f"no query API to verify what was stored ({s.caps.get('query_error', '')})")
            blind.append(s)
        else:
            live.append(s)
    # Without a query API nothing a server stored can be verified: only note whether it
    # scrapes at all (after the warm-up, or two intervals when it runs alone), then stop it
    # so that it does not load the machine for the others.
    if live:
        log(f"{label}: {', '.join(s.name for s in live)} running; warm-up {cfg['warmup']}s")
    time.sleep(cfg["warmup"] if live else 2 * cfg["interval"] + 1)
    agents = dict(targets.scrapes)
    for s in blind:
        seen = [a for a in agents if s.name in a.lower()]
        result[s.name]["scraped_targets"] = bool(seen)
        if not seen:
            result[s.name]["reason"] += "; the targets saw no scrape from it"
        env.stop(s)
    if not live:
        for r in result.values():
            r["load"] = load.done()
        return result
    marks = []  # (wall time, {name: cpu seconds}, {name: disk bytes})

    def mark():
        marks.append((time.time(), {s.name: srv.tree_cpu_seconds(s.proc.pid) for s in live},
                      {s.name: srv.dir_bytes(s.data_dir)[0] for s in live}))

    mark()
    for _ in range(cfg["windows"]):
        time.sleep(cfg["window"])
        mark()
    time.sleep(cfg["interval"] + 5)  # let the last scrapes of the window become queryable
    for s in live:
        if not s.alive():
            result[s.name] = {"status": "error", "reason": f"exited: {s.log_tail()}"}
            continue
        result[s.name] = scrape_figures(env, s, label, cfg, marks)
        if cfg.get("restart") and result[s.name]["status"] == "ok":
            run = result[s.name]["restart"] = restart_scraping(env, s, label, result[s.name],
                                                               marks[-1][0])
            for k in ("ready_seconds", "first_correct_query_seconds", "rss_at_ready_bytes"):
                result[s.name]["restart_" + k] = run.get(k)
    for s in live:
        if s.alive():
            secs = env.stop(s)
            if result.get(s.name, {}).get("status") == "ok":
                result[s.name]["final_shutdown_seconds"] = round(secs, 2)
    for r in result.values():
        r["load"] = load.done()
    return result


def scrape_figures(env, s, label, cfg, marks):
    r = {"status": "ok", "checks": {}, "windows": []}
    t_last = marks[-1][0]
    sel = f'{{job="{label}"}}'
    up, _ = try_scalar(s, f'count(up{sel} == 1)', t_last)
    r["checks"]["targets_up"] = up
    ok = up == cfg["targets"]
    lo, _ = try_scalar(s, f'min(scrape_samples_scraped{sel})', t_last)
    hi, _ = try_scalar(s, f'max(scrape_samples_scraped{sel})', t_last)
    r["checks"]["scrape_samples_scraped"] = [lo, hi]
    ok = ok and lo == hi == cfg["per_target"]
    active, _ = try_scalar(s, f"count({sel})", t_last)
    r["active_series"] = active
    sample_rates, cpu_per_m = [], []
    all_samples = 0
    counts_ok = True
    names, name_err = label_values(s, "__name__", sel, marks[0][0] - 60, t_last)
    r["metric_names"] = len(names)
    if not names and up is None:
        return not_measurable(f"it answers queries but holds no series of job {label!r} "
                              f"(scraping not wired yet?) {name_err or ''}".strip())
    for (t0, cpu0, _), (t1, cpu1, _) in zip(marks, marks[1:]):
        w_ms = int(round((t1 - t0) * 1000))
        counts, err = count_samples(s, sel, w_ms, t1, names)
        err = name_err or err
        samples = sum(counts.values())
        stored = sum(v for k, v in counts.items() if k != "up" and not k.startswith("scrape_"))
        good_scrapes, e3 = try_scalar(s, f'sum(sum_over_time(up{sel}[{w_ms}ms]))', t1)
        w = {"seconds": round(t1 - t0, 3), "samples": samples, "scraped_series_samples": stored,
             "successful_scrapes": good_scrapes,
             "cpu_seconds": round(cpu1[s.name] - cpu0[s.name], 3)}
        if err or e3 or good_scrapes is None or not names:
            w["error"] = err or e3 or "no metric names"
            counts_ok = False
        else:
            w["expected_scraped_series_samples"] = good_scrapes * cfg["per_target"]
            if stored != good_scrapes * cfg["per_target"]:
                counts_ok = False
            all_samples += samples
            if samples > 0:
                sample_rates.append(samples / (t1 - t0))
                cpu_per_m.append(w["cpu_seconds"] / samples * 1e6)
        r["windows"].append(w)
    r["checks"]["sample_counts_match_scrapes"] = counts_ok
    r["checks"]["all_ok"] = bool(ok and counts_ok)
    r["samples_per_second"] = res.summary(sample_rates)
    r["cpu_seconds_per_million_samples"] = res.summary(cpu_per_m)
    rss = env.sampler.window(f"{s.name}-{label}", marks[0][0], t_last)
    r["rss_bytes"] = res.summary(rss)
    r["rss_peak_bytes"] = max(rss) if rss else None
    if active and rss:
        r["rss_per_active_series_bytes"] = max(rss) / active
    disk0, disk1 = marks[0][2][s.name], marks[-1][2][s.name]
    r["disk_growth_bytes"] = disk1 - disk0
    if all_samples:
        r["disk_growth_per_sample_bytes"] = (disk1 - disk0) / all_samples
    if not r["checks"]["all_ok"]:
        r["status"] = "checks failed"
    return r


def restart_scraping(env, s, label, figures, t_last):
    """Stops a server that holds the scraped series in its head and starts it again: seconds
    to ready, to the first query that counts every series seen before the restart (at t_last),
    RSS at ready. The targets keep serving, so it scrapes again once up."""
    expr = f'count({{job="{label}"}})'
    want = figures.get("active_series")
    run = {"active_series": want, "shutdown_seconds": round(env.stop(s), 2)}
    try:
        env.start(s)
        run["ready_seconds"] = s.wait_ready(timeout=900, poll=0.01)
        run["rss_at_ready_bytes"] = srv.tree_rss_bytes(s.proc.pid)
        deadline = time.time() + 900
        while time.time() < deadline and try_scalar(s, expr, t_last)[0] != want:
            time.sleep(0.05)
        run["first_correct_query_seconds"] = time.perf_counter() - s.started_at
        got, err = try_scalar(s, expr, t_last)
        if got != want:
            run["first_correct_query_seconds"] = None
            run["error"] = f"{expr} = {got} after 900 s, want {want} {err or ''}".strip()
    except RuntimeError as e:
        run["error"] = str(e)[:500]
    log(f"{label}: {s.name}: restart with {want:,.0f} series in the head: ready "
        f"{run.get('ready_seconds') or float('nan'):.2f}s, first correct query "
        f"{run.get('first_correct_query_seconds') or float('nan'):.2f}s"
        + (f" ({run['error']})" if run.get("error") else ""))
    return run


# --- workload 2 and 3: imported data, disk, queries -----------------------------------------

class Dataset:
    def __init__(self, env):
        cfg = env.sizes["disk"]
        self.cfg = cfg
        self.model = datagen.Model(cfg["series"],
                                   lambda g: [("instance", f"host-{g:04d}:9100"), ("job", "node")],
                                   seed=7)
        self.steps = int(cfg["hours"] * 3600 / cfg["interval"])
        # End a minute in the past, on a minute boundary; range queries end at end_s.
        end_ms = (int(time.time()) // 60 * 60 - 60) * 1000
        self.t0_ms = end_ms - (self.steps - 1) * cfg["interval"] * 1000
        self.om = os.path.join(env.workdir, "data.om")
        self.vm = os.path.join(env.workdir, "data.vm.jsonl")
        t = time.time()
        self.samples, self.first_ms, self.last_ms = datagen.write_import_files(
            self.model, self.steps, cfg["interval"], self.t0_ms, cfg["jitter_ms"], 7,
            self.om, self.vm)
        self.end_s = self.last_ms // 60000 * 60
        log(f"disk: wrote {self.samples:,} samples of {cfg['series']} series "
            f"({os.path.getsize(self.om) / 1e6:.0f} MB OpenMetrics) in {time.time() - t:.1f}s")


def run_child(argv, timeout=3600):
    """Runs a command; returns (returncode, output tail, wall seconds, cpu seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.time()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.returncode, (p.stdout + p.stderr)[-1500:], time.time() - t, cpu


def post_file(server, path, file_path, content_type, timeout=3600):
    size = os.path.getsize(file_path)
    with open(file_path, "rb") as f:
        status, body, secs = server.client.request(
            "POST", path, body=f, headers={"Content-Type": content_type,
                                           "Content-Length": str(size)}, timeout=timeout)
    return status, body.decode(errors="replace")[:500], secs


def hearthctl_path(env):
    return env.args.hearthctl or os.path.join(os.path.dirname(env.binaries["hearth"]),
                                              "hearthctl")


def hearthctl_can_import(env):
    path = hearthctl_path(env)
    if not os.access(path, os.X_OK):
        return False, f"no hearthctl at {path}"
    try:
        p = subprocess.run([path, "tsdb", "import", "openmetrics", "--help"],
                           capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as e:
        return False, str(e)
    if p.returncode != 0:
        return False, ("`hearthctl tsdb import openmetrics` not available: "
                       + (p.stderr or p.stdout).strip().splitlines()[-1:][0][:200]
                       if (p.stderr or p.stdout).strip() else "exit status "
                       + str(p.returncode))
    return True, ""


def import_dataset(env, ds):
    """Imports the dataset into each server; returns ({name: server}, {name: info})."""
    started, info = {}, {}
    for name in env.available():
        s = env.server(name, "disk")
        i = info[name] = {}
        try:
            if name == "prometheus":
                os.makedirs(s.storage_dir(), exist_ok=True)
                rc, out, wall, cpu = run_child([env.args.promtool, "tsdb",
                                                "create-blocks-from", "openmetrics", ds.om,
                                                s.storage_dir()])
                i.update(method="promtool tsdb create-blocks-from openmetrics",
                         seconds=round(wall, 1), cpu_seconds=round(cpu, 1))
                if rc != 0:
                    raise RuntimeError(f"promtool failed: {out}")
                env.start(s)
                s.wait_ready()
                s.probe()
            elif name == "victoria-metrics":
                env.start(s)
                s.wait_ready()
                s.probe()
                cpu0 = srv.tree_cpu_seconds(s.proc.pid)
                status, body, secs = post_file(s, "/api/v1/import", ds.vm, "application/json")
                i.update(method="POST /api/v1/import (JSON lines)", seconds=round(secs, 1),
                         cpu_seconds=round(srv.tree_cpu_seconds(s.proc.pid) - cpu0, 1))
                if status // 100 != 2:
                    raise RuntimeError(f"import answered {status}: {body}")
                s.client.get("/internal/force_flush")
            else:
                can, why = hearthctl_can_import(env)
                if can:
                    os.makedirs(s.storage_dir(), exist_ok=True)
                    rc, out, wall, cpu = run_child([hearthctl_path(env), "tsdb", "import",
                                                    "openmetrics", ds.om, s.storage_dir()])
                    i.update(method="hearthctl tsdb import openmetrics", seconds=round(wall, 1),
                             cpu_seconds=round(cpu, 1))
                    if rc != 0:
                        raise RuntimeError(f"hearthctl tsdb import failed: {out}")
                    env.start(s)
                    s.wait_ready()
                    s.probe()
                else:
                    env.start(s)
                    s.wait_ready()
                    s.probe()
                    if not s.caps.get("live_import"):
                        env.stop(s)
                        i["error"] = (f"no import path yet ({why}; "
                                      "POST /api/v1/import/openmetrics not served)")
                        log(f"disk: hearth: {i['error']}")
                        continue
                    cpu0 = srv.tree_cpu_seconds(s.proc.pid)
                    status, body, secs = post_file(s, "/api/v1/import/openmetrics", ds.om,
                                                   "application/openmetrics-text")
                    i.update(method="POST /api/v1/import/openmetrics", seconds=round(secs, 1),
                             cpu_seconds=round(srv.tree_cpu_seconds(s.proc.pid) - cpu0, 1),
                             answer=body)
                    if status // 100 != 2:
                        raise RuntimeError(f"live import answered {status}: {body}")
            started[name] = s
            log(f"disk: {name}: imported via {i['method']} in {i['seconds']}s")
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            i["error"] = str(e)[:800]
            log(f"disk: {name}: {i['error']}")
            if s.alive():
                env.stop(s)
    return started, info


def prometheus_blocks(path):
    blocks = []
    for d in sorted(os.listdir(path)):
        meta = os.path.join(path, d, "meta.json")
        if os.path.isfile(meta):
            with open(meta) as f:
                m = json.load(f)
            blocks.append((m["minTime"], m["maxTime"], m["stats"]["numSamples"],
                           m["compaction"]["level"]))
    return blocks


def metric_sum(text, name):
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None


def settle_storage(env, started, ds, budget):
    """Waits until each server has compacted/merged what it will; returns notes per server."""
    notes = {}
    deadline = time.time() + budget
    if "victoria-metrics" in started:
        s = started["victoria-metrics"]
        months = sorted({time.strftime("%Y_%m", time.gmtime(t / 1000))
                         for t in (ds.first_ms, ds.last_ms)})
        for m in months:
            s.client.get(f"/internal/force_merge?partition_prefix={m}")
        notes["victoria-metrics"] = f"force_merge of {', '.join(months)}"
    stable = {name: (None, 0) for name in started}
    compactions_seen = False
    while time.time() < deadline:
        done = True
        for name, s in started.items():
            size = srv.dir_bytes(s.storage_dir())[0]
            last, since = stable[name]
            if last != size:
                stable[name] = (size, time.time())
                done = False
                continue
            quiet = time.time() - since
            if name == "prometheus":
                text = s.metrics_text()
                c = metric_sum(text, "prometheus_tsdb_compactions_total") or 0
                compactions_seen = compactions_seen or c > 0
                # It compacts a minute after start; with nothing to compact, waiting longer
                # than its first compaction tick is enough.
                up_for = time.perf_counter() - s.started_at
                if quiet < 10 or not (compactions_seen or up_for > 75):
                    done = False
            elif name == "victoria-metrics":
                active = metric_sum(s.metrics_text(), "vm_active_merges") or 0
                if active > 0 or quiet < 5:
                    done = False
            elif quiet < 10:
                done = False
        if done:
            break
        time.sleep(1)
    if "hearth" in started:
        notes["hearth"] = settle_hearth(env, started["hearth"])
    if "prometheus" in started:
        blocks = prometheus_blocks(started["prometheus"].storage_dir())
        notes["prometheus"] = (f"{len(blocks)} blocks after compaction (levels "
                               f"{sorted({b[3] for b in blocks})})"
                               if compactions_seen else
                               f"no compaction within {budget}s ({len(blocks)} blocks)")
    return notes


def settle_hearth(env, s):
    """Hearth writes imported chunks into RocksDB (memtables, backed by RocksDB's own log) and
    holds nothing of them in its head. A clean shutdown checkpoints the head and syncs that log;
    the next start replays the log into SST files. The data directory is measured stopped,
    after each of the two; the second (SSTs, nothing left in any log) is the settled state the
    table reports, the first is kept in the JSON. Leaves the server running."""
    out = {}
    for stage in ("after_clean_shutdown", "after_restart_and_shutdown"):
        secs = env.stop(s)
        apparent, allocated = srv.dir_bytes(s.storage_dir())
        out[stage] = {"shutdown_seconds": round(secs, 2), "dir_bytes": apparent,
                      "dir_bytes_allocated": allocated,
                      "breakdown": srv.dir_breakdown(s.storage_dir()),
                      "sst_stats": srv.hearth_sst_stats(s.storage_dir())}
        env.start(s)
        out[stage]["next_ready_seconds"] = round(s.wait_ready(timeout=900), 2)
    s.probe()
    return out


def disk_workload(env, ds, started, info):
    out = {"config": dict(ds.cfg, samples=ds.samples, steps=ds.steps), "servers": {}}
    load = LoadMeter()
    notes = settle_storage(env, started, ds, budget=240)
    for name in env.available():
        if name not in started:
            out["servers"][name] = not_measurable(info.get(name, {}).get("error", "not started"))
            continue
        s = started[name]
        r = {"status": "ok", "import": info[name], "storage": notes.get(name, "")}
        settled = None
        if name == "hearth" and isinstance(r["storage"], dict):
            settled = r["storage"]["after_restart_and_shutdown"]
            r["storage"] = dict(r["storage"], how=(
                "measured stopped, after a clean shutdown, a restart (RocksDB moves its log "
                "into SST files) and a second clean shutdown"))
        if not s.caps.get("query"):
            out["servers"][name] = dict(r, **not_measurable(
                "no query API to verify the imported samples"))
            continue
        window_ms = int(ds.cfg["hours"] * 3600 + 3600) * 1000
        t = ds.last_ms / 1000 + 0.001
        n_series, e1 = try_scalar(s, 'count({job="node"})', t)
        per_name, e2 = count_samples(s, '{job="node"}', window_ms, t)
        n_samples = None if e2 else sum(per_name.values())
        r["series"] = n_series
        r["samples"] = n_samples
        if settled:
            apparent, allocated = settled["dir_bytes"], settled["dir_bytes_allocated"]
            r["breakdown"] = settled["breakdown"]
            chunks = settled["sst_stats"].get("chunks")
            if chunks and chunks["num.entries"]:
                # raw.value.size: the chunk bytes (plus a varint of maxt - mint per chunk)
                r["chunk_payload_bytes_per_sample"] = chunks["raw.value.size"] / ds.samples
                r["chunk_keys_bytes_per_sample"] = chunks["raw.key.size"] / ds.samples
                r["samples_per_chunk"] = ds.samples / chunks["num.entries"]
        else:
            apparent, allocated = srv.dir_bytes(s.storage_dir())
            r["breakdown"] = srv.dir_breakdown(s.storage_dir())
        r["dir_bytes"] = apparent
        r["dir_bytes_allocated"] = allocated
        r["bytes_per_sample"] = apparent / ds.samples
        r["breakdown_bytes_per_sample"] = {k: round(v / ds.samples, 4)
                                           for k, v in r["breakdown"].items()}
        if name == "prometheus":
            blocks_bytes = sum(srv.dir_bytes(os.path.join(s.storage_dir(), d))[0]
                               for d in os.listdir(s.storage_dir())
                               if os.path.isfile(os.path.join(s.storage_dir(), d, "meta.json")))
            r["blocks_bytes_per_sample"] = blocks_bytes / ds.samples
        if n_series != len(ds.model.series()) or n_samples != ds.samples:
            r["status"] = "checks failed"
            r["reason"] = (f"server holds {n_series} series / {n_samples} samples, "
                           f"imported {len(ds.model.series())} / {ds.samples} {e1 or ''} "
                           f"{e2 or ''}").strip()
        out["servers"][name] = r
        log(f"disk: {name}: {r['bytes_per_sample']:.3f} bytes/sample, {r['status']}")
    out["load"] = load.done()
    return out


def queries_workload(env, ds, started, info):
    cfg = env.sizes["queries"]
    out = {"config": {"repeats": cfg["repeats"], "windows": [w[0] for w in cfg["windows"]],
                      "end": ds.end_s, "queries": dict(QUERIES)}, "servers": {}, "queries": []}
    load = LoadMeter()
    names = [n for n in env.available() if n in started and started[n].caps.get("query_range")]
    for n in env.available():
        if n not in names:
            why = (info.get(n, {}).get("error", "not started") if n not in started
                   else "no /api/v1/query_range")
            out["servers"][n] = not_measurable(why)
    ref = "prometheus" if "prometheus" in names else None
    interval = ds.cfg["interval"]
    for wname, span, step in cfg["windows"]:
        if span > ds.cfg["hours"] * 3600:
            continue
        end = ds.end_s
        start = end - span
        rate_interval = max(4 * interval, step + interval)
        for qi, (qname, qtext) in enumerate(QUERIES):
            expr = qtext.replace("$__rate_interval", f"{rate_interval}s")
            row = {"window": wname, "query": qname, "expr": expr, "step": step, "servers": {}}
            answers = {}
            times = {n: [] for n in names}
            errors = {}
            for rep in range(cfg["repeats"] + 1):       # repetition 0 is the warm-up
                k = (rep + qi) % max(1, len(names))
                order = names[k:] + names[:k]
                for n in order:
                    if n in errors:
                        continue
                    try:
                        data, secs = started[n].query_range(expr, start, end, step)
                    except (srv.HttpError, RuntimeError, OSError, ValueError) as e:
                        errors[n] = str(e)[:300]
                        continue
                    if rep:
                        times[n].append(secs)
                    if n not in answers:
                        answers[n] = data
                    elif n != ref and ref in answers:
                        # every answer is checked, not just the first one
                        why = res.compare_answers(answers[ref], data)
                        if why and "mismatch" not in row["servers"].get(n, {}):
                            row["servers"].setdefault(n, {})["mismatch"] = why
            for n in names:
                r = row["servers"].setdefault(n, {})
                if n in errors:
                    r["error"] = errors[n]
                    continue
                r["seconds"] = res.summary(times[n])
                if ref and n != ref and ref in answers:
                    why = r.get("mismatch") or res.compare_answers(answers[ref], answers[n])
                    r["equal_to_prometheus"] = why is None
                    if why:
                        r["mismatch"] = why
                elif n == ref:
                    r["equal_to_prometheus"] = True
                    r["points"] = res.count_points(answers[n])
            out["queries"].append(row)
        log(f"queries: window {wname} done")
    out["windows"] = summarize_windows(out, names, ref)
    out["load"] = load.done()
    return out


def summarize_windows(out, names, ref):
    windows = {}
    for row in out["queries"]:
        w = windows.setdefault(row["window"], {n: {"medians": [], "equal": 0, "errors": 0,
                                                   "n": 0} for n in names})
        for n in names:
            r = row["servers"].get(n, {})
            w[n]["n"] += 1
            if "error" in r:
                w[n]["errors"] += 1
                continue
            w[n]["medians"].append(r["seconds"]["median"] if r.get("seconds") else None)
            if r.get("equal_to_prometheus"):
                w[n]["equal"] += 1
    summary = {}
    for wname, per in windows.items():
        summary[wname] = {}
        for n, d in per.items():
            complete = d["errors"] == 0 and None not in d["medians"]
            summary[wname][n] = {
                "geomean_seconds": res.geomean(d["medians"]) if complete else None,
                "queries": d["n"], "equal_to_prometheus": d["equal"] if ref else None,
                "errors": d["errors"]}
    return summary


# --- workload 4: restart --------------------------------------------------------------------

class RestartData:
    """200 k series x 2 h at 15 s, as remote-write requests and (for Hearth's live import)
    OpenMetrics. Values repeat per host template: host g takes the values of host g % 8, so the
    encoding cost is that of 8 hosts while every series is distinct."""

    POOL_GROUPS = 8
    WINDOW_STEPS = 120   # one remote-write window: 30 min at 15 s, all series
    BATCH_SERIES = 2000  # series per request (about 4.5 MB before snappy)

    def __init__(self, env):
        cfg = env.sizes["restart"]
        self.cfg = cfg
        self.model = datagen.Model(
            cfg["series"], lambda g: [("instance", f"host-{g:05d}:9100"), ("job", "rw")], seed=11)
        self.series = self.model.series()
        self.steps = int(cfg["hours"] * 3600 / cfg["interval"])
        dt_ms = cfg["interval"] * 1000
        t_end = int(time.time()) // cfg["interval"] * cfg["interval"] * 1000 - dt_ms
        self.t0 = t_end - (self.steps - 1) * dt_ms
        self.ts = [self.t0 + i * dt_ms for i in range(self.steps)]
        self.t_last = self.ts[-1]
        t = time.time()
        pool_groups = min(self.POOL_GROUPS, len(self.model.groups))
        self.pool = []   # value strings per pool series
        for gi in range(pool_groups):
            for ui in range(len(self.model.groups[gi][0])):
                self.pool.extend(self.model.run_unit(gi, ui, self.steps, cfg["interval"]))
        self.pool_n = len(self.pool)
        self.labels = [wire.encode_labels([("__name__", n)] + lab) for n, lab in self.series]
        self.windows = []
        for w0 in range(0, self.steps, self.WINDOW_STEPS):
            w1 = min(self.steps, w0 + self.WINDOW_STEPS)
            self.windows.append([wire.encode_samples([float(v) for v in vals[w0:w1]],
                                                     self.ts[w0:w1]) for vals in self.pool])
        self.load1_count = sum(1 for n, _ in self.series if n == "node_load1")
        log(f"restart: {len(self.series):,} series x {self.steps} steps "
            f"({len(self.series) * self.steps:,} samples) encoded in {time.time() - t:.1f}s")

    def samples(self):
        return len(self.series) * self.steps

    def requests(self):
        """Yields snappy-compressed WriteRequest bodies, window by window (time order)."""
        for enc in self.windows:
            for b0 in range(0, len(self.series), self.BATCH_SERIES):
                body = b"".join(wire.encode_timeseries(self.labels[i], enc[i % self.pool_n])
                                for i in range(b0, min(len(self.series), b0 + self.BATCH_SERIES)))
                yield wire.snappy_compress(body)

    def openmetrics_chunks(self, part=0, parts=1):
        """The same samples as OpenMetrics text (for live import): family by family under one
        TYPE line each, series by series within a family, each series in time order. With
        `parts` > 1, only the hosts g with g % parts == part (one request body of several sent
        at the same time). Pieces of about 1 MiB (each becomes one HTTP chunk)."""
        piece = []
        size = 0
        for b in self._openmetrics_pieces(part, parts):
            piece.append(b)
            size += len(b)
            if size >= 1 << 20:
                yield b"".join(piece)
                piece, size = [], 0
        if piece:
            yield b"".join(piece)

    def _openmetrics_pieces(self, part, parts):
        ts = [" " + datagen.om_timestamp(t) + "\n" for t in self.ts]
        pool_tail = [[" " + v + t for v, t in zip(vals, ts)] for vals in self.pool]
        first = {}
        i = 0
        for gi, (units, _) in enumerate(self.model.groups):
            for ui, u in enumerate(units):
                first[(gi, ui)] = i
                i += len(u.series)
        for fam, members in self.model.family_order():
            members = [(gi, ui) for gi, ui in members if gi % parts == part]
            if not members:
                continue
            gi0, ui0 = members[0]
            yield f"# TYPE {fam} {self.model.groups[gi0][0][ui0].mtype}\n".encode()
            for gi, ui in members:
                i = first[(gi, ui)]
                for k, (name, lab) in enumerate(self.model.groups[gi][0][ui].series):
                    prefix = datagen.series_text(name, lab)
                    tail = pool_tail[(i + k) % self.pool_n]
                    yield "".join([prefix + x for x in tail]).encode()
        yield b"# EOF\n"

    def probes(self):
        """[(expr, expected value)] that are all right only once every sample is queryable."""
        window = int(self.cfg["hours"] * 3600 + 60)
        return [('count(node_load1{job="rw"})', float(self.load1_count)),
                (f'count_over_time(node_load1{{job="rw",instance="host-00000:9100"}}'
                 f'[{window}s])', float(self.steps))]


def probes_ok(s, data):
    t = data.t_last / 1000
    for expr, want in data.probes():
        got, _ = try_scalar(s, expr, t)
        if got != want:
            return False
    return True


def feed_remote_write(s, data, senders=2):
    """Sends every request over `senders` keep-alive connections; returns (seconds, errors)."""
    q = queue.Queue(maxsize=4)
    errors = []
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
               "X-Prometheus-Remote-Write-Version": "0.1.0"}

    def sender():
        c = srv.Client(s.port, timeout=600)
        while True:
            body = q.get()
            if body is None:
                break
            try:
                status, answer, _ = c.request("POST", "/api/v1/write", body=body, headers=headers)
                if status // 100 != 2 and len(errors) < 5:
                    errors.append(f"{status}: {answer[:200]!r}")
            except OSError as e:
                if len(errors) < 5:
                    errors.append(str(e))
        c.close()

    t = time.time()
    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for th in threads:
        th.start()
    for i, body in enumerate(data.requests()):
        q.put(body)
        if i % 50 == 0 and not s.alive():
            break
    for _ in threads:
        q.put(None)
    for th in threads:
        th.join()
    return time.time() - t, errors


def feed_live_import(s, data, senders=2):
    """Streams the samples as `senders` OpenMetrics bodies at the same time (as remote write
    uses two connections), each over its own connection; returns (seconds, errors)."""
    errors, imported = [], []

    def sender(part):
        c = srv.Client(s.port, timeout=3600)
        try:
            status, body, _ = c.request(
                "POST", "/api/v1/import/openmetrics", body=data.openmetrics_chunks(part, senders),
                headers={"Content-Type": "application/openmetrics-text"})  # chunked
            text = body.decode(errors="replace")
            if status // 100 != 2:
                errors.append(f"{status}: {text[:300]!r}")
            else:
                doc = json.loads(text)["data"]
                imported.append(doc["samplesImported"])
                if doc.get("samplesRejected"):
                    errors.append(f"{doc['samplesRejected']} samples rejected: "
                                  f"{doc.get('errors', [])[:2]}")
        except (OSError, ValueError, KeyError) as e:
            errors.append(str(e)[:300])
        finally:
            c.close()

    t = time.time()
    threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(senders)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if not errors and sum(imported) != data.samples():
        errors.append(f"imported {sum(imported)} samples of {data.samples()}")
    return time.time() - t, errors


def restart_workload(env):
    cfg = env.sizes["restart"]
    out = {"config": dict(cfg), "servers": {}}
    names = env.available()
    if not names:
        return out
    data = RestartData(env)
    out["config"].update(series=len(data.series), samples=data.samples())
    for name in names:
        load = LoadMeter()
        s = env.server(name, "restart")
        r = out["servers"][name] = {"status": "ok"}
        try:
            env.start(s)
            s.wait_ready()
            s.probe()
            if not s.caps.get("query"):
                r.update(not_measurable("no query API to check the data after a restart"))
                continue
            if s.caps.get("remote_write"):
                method, feed = "remote write", feed_remote_write
            elif s.caps.get("live_import"):
                method, feed = "POST /api/v1/import/openmetrics", feed_live_import
            else:
                r.update(not_measurable("no remote-write receiver and no live import"))
                continue
            cpu0 = srv.tree_cpu_seconds(s.proc.pid)
            secs, errors = feed(s, data)
            r["feed"] = {"method": method, "seconds": round(secs, 1),
                         "samples_per_second": round(data.samples() / secs),
                         "cpu_seconds": round(srv.tree_cpu_seconds(s.proc.pid) - cpu0, 1),
                         "errors": errors}
            log(f"restart: {name}: fed {data.samples():,} samples by {method} in {secs:.1f}s"
                + (f" ({len(errors)} errors: {errors[0]})" if errors else ""))
            if not wait_until(lambda: probes_ok(s, data), 300, 1):
                r.update(status="checks failed",
                         reason="data not queryable after feeding: " +
                         "; ".join(f"{e} = {try_scalar(s, e, data.t_last / 1000)[0]}, want {w}"
                                   for e, w in data.probes()))
                continue
            r["rss_before_restart_bytes"] = srv.tree_rss_bytes(s.proc.pid)
            r["dir_bytes"] = srv.dir_bytes(s.storage_dir())[0]
            r["dir_bytes_per_sample"] = r["dir_bytes"] / data.samples()
            runs = []
            for _ in range(cfg["restarts"]):
                run = {"shutdown_seconds": round(env.stop(s), 2)}
                env.start(s)
                run["ready_seconds"] = s.wait_ready(timeout=900, poll=0.01)
                run["rss_at_ready_bytes"] = srv.tree_rss_bytes(s.proc.pid)
                deadline = time.time() + 900
                while time.time() < deadline and not probes_ok(s, data):
                    time.sleep(0.05)
                run["first_correct_query_seconds"] = time.perf_counter() - s.started_at
                if not probes_ok(s, data):
                    run["first_correct_query_seconds"] = None
                    run["error"] = "the data did not come back within 900 s"
                runs.append(run)
                log(f"restart: {name}: ready {run['ready_seconds']:.2f}s, first correct query "
                    f"{run['first_correct_query_seconds'] or float('nan'):.2f}s, RSS "
                    f"{res.fmt_bytes(run['rss_at_ready_bytes'])}")
            r["runs"] = runs
            r["ready_seconds"] = res.summary([x["ready_seconds"] for x in runs])
            r["first_correct_query_seconds"] = res.summary(
                [x["first_correct_query_seconds"] for x in runs])
            r["rss_at_ready_bytes"] = res.summary([x["rss_at_ready_bytes"] for x in runs])
            if any(x.get("error") for x in runs):
                r["status"] = "checks failed"
        except (RuntimeError, OSError) as e:
            r.update(status="error", reason=str(e)[:800])
        finally:
            r["load"] = load.done()
            if s.alive():
                env.stop(s)
            if not env.args.keep:
                shutil.rmtree(s.data_dir, ignore_errors=True)
    return out


# --- the table ------------------------------------------------------------------------------

def cell(r, key, scale=1.0, digits=3, fmt=None):
    """A server's figure for the table, or why it has none."""
    if r is None:
        return "—"
    if r.get("status") == "not measurable":
        return NOT_YET
    if r.get("status") == "error":
        return "error"
    v = r.get(key)
    if v is None:
        return "—"
    if fmt:
        return fmt(v)
    if isinstance(v, dict):
        text = res.fmt_summary(v, scale, digits)
    else:
        text = res.fmt_num(v * scale, digits)
    if r.get("status") == "checks failed":
        text += " (checks failed)"
    return text


def median_of(r, key):
    if not r or r.get("status") != "ok":
        return None
    v = r.get(key)
    if isinstance(v, dict):
        return v.get("median")
    return v


def ratio_cell(h, p):
    if h is None or p is None or p == 0:
        return "—"
    return f"{h / p:.2f}×"


def verdict(h_result, ok):
    """'met', 'missed' or why there is no verdict for Hearth."""
    if h_result is None:
        return "—"
    if h_result.get("status") == "not measurable":
        return NOT_YET
    if h_result.get("status") == "error":
        return "error"
    if h_result.get("status") == "checks failed":
        return "missed (checks failed)"
    if ok is None:
        return "—"
    return "met" if ok else "missed"


def table(report):
    wl = report["workloads"]
    hdr = ["Workload", "Figure", DISPLAY["prometheus"], DISPLAY["victoria-metrics"],
           DISPLAY["hearth"], "Hearth ÷ Prometheus", "Goal", "Hearth vs goal"]
    rows = []

    def get(w, n):
        return wl.get(w, {}).get("servers", {}).get(n)

    def add(workload, figure, key, goal, judge, scale=1.0, digits=3, fmt=None):
        p, v, h = get(workload, "prometheus"), get(workload, "victoria-metrics"), \
            get(workload, "hearth")
        hm, pm, vm = median_of(h, key), median_of(p, key), median_of(v, key)
        ok = judge(hm, pm, vm) if judge and hm is not None else None
        rows.append([wl[workload]["label"], figure, cell(p, key, scale, digits, fmt),
                     cell(v, key, scale, digits, fmt), cell(h, key, scale, digits, fmt),
                     ratio_cell(hm, pm), goal, verdict(h, ok) if judge else
                     (NOT_YET if h and h.get("status") == "not measurable" else "—")])

    if "scrape" in wl:
        add("scrape", "ingested samples/s", "samples_per_second", "—", None, digits=3)
        add("scrape", "CPU s per 1 M samples", "cpu_seconds_per_million_samples",
            "≤ 0.5× Prometheus", lambda h, p, v: None if p is None else h <= 0.5 * p)
        add("scrape", "RSS per active series", "rss_per_active_series_bytes", "≤ 1 KiB",
            lambda h, p, v: h <= 1024, fmt=res.fmt_bytes)
        add("scrape", "disk growth per sample (B)", "disk_growth_per_sample_bytes", "—", None)
    if "disk" in wl:
        add("disk", "bytes per sample, whole data dir", "bytes_per_sample",
            "≤ 0.5× Prometheus and ≤ VictoriaMetrics",
            lambda h, p, v: None if p is None or v is None else (h <= 0.5 * p and h <= v))
    if "queries" in wl:
        q = wl["queries"]
        for wname, per in q.get("windows", {}).items():
            step = next(r["step"] for r in q["queries"] if r["window"] == wname)
            cells = {}
            for n in SERVER_ORDER:
                d = per.get(n)
                r = q["servers"].get(n)
                if r and r.get("status") == "not measurable":
                    cells[n] = NOT_YET
                elif d is None:
                    cells[n] = "—"
                else:
                    g = d["geomean_seconds"]
                    text = res.fmt_num(g * 1000) + " ms" if g else "error"
                    if n != "prometheus" and d["equal_to_prometheus"] is not None:
                        text += f" ({d['equal_to_prometheus']}/{d['queries']} equal)"
                    cells[n] = text
            hd, pd, vd = per.get("hearth"), per.get("prometheus"), per.get("victoria-metrics")
            hg = hd and hd["geomean_seconds"]
            pg = pd and pd["geomean_seconds"]
            vg = vd and vd["geomean_seconds"]
            if q["servers"].get("hearth", {}).get("status") == "not measurable":
                v = NOT_YET
            elif hd is None:
                v = "—"
            elif hd["errors"]:
                v = f"missed ({hd['errors']} queries failed)"
            elif hd["equal_to_prometheus"] != hd["queries"]:
                v = "missed (answers differ)"
            elif hg is None or vg is None:
                v = "—"
            else:
                v = "met" if hg <= vg else "missed"
            rows.append([q["label"], f"range-query latency geomean, {wname} (step {step}s)",
                         cells["prometheus"], cells["victoria-metrics"], cells["hearth"],
                         ratio_cell(hg, pg), "≤ VictoriaMetrics, answers = Prometheus'", v])
    if "restart" in wl:
        add("restart", "seconds to ready", "ready_seconds", "≤ 1 s",
            lambda h, p, v: h <= 1.0, digits=3)
        add("restart", "seconds to first correct query", "first_correct_query_seconds", "—",
            None)
        add("restart", "RSS at ready", "rss_at_ready_bytes", "—", None,
            fmt=lambda s: res.fmt_bytes(s["median"]) if isinstance(s, dict) else
            res.fmt_bytes(s))
    if "scale" in wl:
        add("scale", "RSS per active series", "rss_per_active_series_bytes", "≤ 1 KiB",
            lambda h, p, v: h <= 1024, fmt=res.fmt_bytes)
        add("scale", "CPU s per 1 M samples", "cpu_seconds_per_million_samples",
            "≤ 0.5× Prometheus", lambda h, p, v: None if p is None else h <= 0.5 * p)
        if any("restart_ready_seconds" in (r or {}) for r in wl["scale"]["servers"].values()):
            add("scale", "restart with these series in the head: seconds to ready",
                "restart_ready_seconds", "≤ 1 s", lambda h, p, v: h <= 1.0)
            add("scale", "restart: seconds to first correct query",
                "restart_first_correct_query_seconds", "—", None)
            add("scale", "restart: RSS at ready", "restart_rss_at_ready_bytes", "—", None,
                fmt=res.fmt_bytes)
    lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def query_table(report):
    q = report["workloads"].get("queries")
    if not q or not q.get("queries"):
        return ""
    lines = ["| window | query | " + " | ".join(DISPLAY[n] for n in SERVER_ORDER) + " |",
             "|---|---|" + "---|" * len(SERVER_ORDER)]
    for row in q["queries"]:
        cells = []
        for n in SERVER_ORDER:
            r = row["servers"].get(n)
            if r is None:
                cells.append(NOT_YET if q["servers"].get(n, {}).get("status") ==
                             "not measurable" else "—")
            elif "error" in r:
                cells.append("error")
            else:
                t = res.fmt_summary(r["seconds"], 1000) + " ms"
                if r.get("equal_to_prometheus") is False:
                    t += " ≠"
                cells.append(t)
        lines.append(f"| {row['window']} | {row['query']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(report):
    out = []
    wl = report["workloads"]
    for w, d in wl.items():
        if d.get("error"):
            out.append(f"- {d.get('label', w)}: the driver failed: "
                       f"{d['error'].strip().splitlines()[-1]}")
        for n, r in d.get("servers", {}).items():
            if r.get("status") in ("not measurable", "error", "checks failed"):
                status = NOT_YET if r["status"] == "not measurable" else r["status"]
                out.append(f"- {d.get('label', w)}, {DISPLAY[n]}: {status}: "
                           f"{r.get('reason', '')}".rstrip(": "))
    disk = wl.get("disk", {}).get("servers", {})
    how = []
    for n in SERVER_ORDER:
        r = disk.get(n) or {}
        method = (r.get("import") or {}).get("method")
        if method:
            store = r.get("storage")
            extra = (store.get("how") if isinstance(store, dict) else store) or ""
            how.append(f"{DISPLAY[n]} by {method}" + (f" ({extra})" if extra else ""))
    if how:
        out.append(f"- {wl['disk'].get('label', 'disk')}: ingested: " + "; ".join(how) + ".")
    h = disk.get("hearth") or {}
    if h.get("chunk_payload_bytes_per_sample"):
        parts = ", ".join(f"{k} {v:.3f}" for k, v in sorted(
            h.get("breakdown_bytes_per_sample", {}).items(), key=lambda kv: -kv[1]) if v >= 0.001)
        out.append(f"- {wl['disk'].get('label', 'disk')}: Hearth's bytes per sample by kind of "
                   f"file: {parts}; the chunks' own bytes are "
                   f"{h['chunk_payload_bytes_per_sample']:.3f} per sample (their RocksDB keys "
                   f"{h['chunk_keys_bytes_per_sample']:.3f}), {h['samples_per_chunk']:.0f} "
                   f"samples per chunk on average.")
    rs = wl.get("restart", {}).get("servers", {})
    feeds = [f"{DISPLAY[n]} by {rs[n]['feed']['method']}" for n in SERVER_ORDER
             if (rs.get(n) or {}).get("feed")]
    if feeds:
        out.append(f"- {wl['restart'].get('label', 'restart')}: fed " + "; ".join(feeds) + ".")
    if "import" in ((rs.get("hearth") or {}).get("feed") or {}).get("method", ""):
        out.append("- Hearth's import writes sealed chunks straight into RocksDB: its head "
                   "holds none of the restart workload's series, so that restart replays no "
                   "head while Prometheus replays its WAL (Hearth has no remote-write receiver "
                   "yet). The scale rows restart Prometheus and Hearth with the same scraped "
                   "series in both heads.")
    for n, r in wl.get("scale", {}).get("servers", {}).items():
        err = (r.get("restart") or {}).get("error")
        if err:
            out.append(f"- {wl['scale'].get('label', 'scale')}, {DISPLAY[n]}: restart failed: "
                       f"{err}")
    q = wl.get("queries")
    if q and q.get("queries"):
        diffs = {}
        for row in q["queries"]:
            for n, r in row["servers"].items():
                why = r.get("mismatch") or (f"error: {r['error']}" if r.get("error") else None)
                if why:
                    diffs.setdefault((n, row["query"]), []).append((row["window"], why))
        for (n, qname), items in sorted(diffs.items(), key=lambda x: SERVER_ORDER.index(x[0][0])):
            out.append(f"- queries `{qname}` ({', '.join(w for w, _ in items)}): {DISPLAY[n]} "
                       f"differs from Prometheus: {items[0][1]}")
        if any(n == "victoria-metrics" for n, _ in diffs):
            out.append("- VictoriaMetrics answers MetricsQL, not PromQL: rate() and increase() "
                       "do not extrapolate to the window edges, some functions keep the metric "
                       "name, NaN points are dropped; its answers differ from Prometheus' by "
                       "design and its latencies are given for reference (≠ in the table).")
    return "\n".join(out)


def header(report):
    m = report["machine"]
    loads = [d.get("load") or next((r.get("load") for r in d.get("servers", {}).values()
                                    if r.get("load")), None)
             for d in report["workloads"].values()]
    busy = [l["machine_busy_pct"] for l in loads if l]
    la = [l["loadavg_start"][0] for l in loads if l] + [l["loadavg_end"][0] for l in loads if l]
    return (f"Run {m['date_utc']} UTC ({'quick' if report['quick'] else 'full'} mode), "
            f"{m.get('cpu', '?')}, {m['cores']} cores, {m.get('mem_gib', '?')} GiB, "
            f"Debian {m.get('debian', '?')}, kernel {m['kernel']}. Machine load during the run: "
            f"1-min load average {min(la, default=0):.1f}–{max(la, default=0):.1f}, all cores "
            f"{min(busy, default=0):.0f}–{max(busy, default=0):.0f}% busy (other users "
            f"included). Versions: " + "; ".join(f"{v}" for v in report["versions"].values())
            + ".")


# --- main -----------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, about 3 minutes")
    p.add_argument("--only", default=",".join(WORKLOADS),
                   help=f"comma-separated workloads among {', '.join(WORKLOADS)}")
    p.add_argument("--servers", default=",".join(SERVER_ORDER),
                   help="comma-separated servers among " + ", ".join(SERVER_ORDER))
    p.add_argument("--hearth", default="./build/cmd/hearth")
    p.add_argument("--hearthctl", default=None, help="default: next to --hearth")
    p.add_argument("--prometheus", default="/usr/bin/prometheus")
    p.add_argument("--promtool", default="/usr/bin/promtool")
    p.add_argument("--victoria-metrics", default="/usr/bin/victoria-metrics")
    p.add_argument("--set", action="append", default=[], metavar="WORKLOAD.KEY=VALUE",
                   help="override a size, e.g. --set restart.series=50000 --set scrape.window=30")
    p.add_argument("--workdir", default=None, help="parent of the temporary directory")
    p.add_argument("--keep", action="store_true", help="keep data directories and logs")
    p.add_argument("--json", default=None, help="where to write the figures (default "
                   "results/compare-<date>.json next to this script; results/ is ignored by git)")
    p.add_argument("--markdown", default=None, help="also write the tables to this file")
    args = p.parse_args(argv)
    args.only = [w.strip() for w in args.only.split(",") if w.strip()]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for w in args.only:
        if w not in WORKLOADS:
            p.error(f"unknown workload {w!r} (choose from {', '.join(WORKLOADS)})")
    for s in args.servers:
        if s not in SERVER_ORDER:
            p.error(f"unknown server {s!r} (choose from {', '.join(SERVER_ORDER)})")
    args.hearth = os.path.abspath(args.hearth)
    return args


def run(args):
    env = Env(args)
    atexit.register(env.cleanup)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(130))
    report = {"quick": args.quick, "machine": machine_info(), "versions": env.versions,
              "unavailable": env.unavailable, "workdir": env.workdir, "workloads": {}}
    t_run = time.time()
    log(f"work directory {env.workdir}; servers {', '.join(env.available())}"
        + (f"; unavailable: {env.unavailable}" if env.unavailable else ""))

    def mark_unavailable(d):
        for n, why in env.unavailable.items():
            d.setdefault("servers", {})[n] = not_measurable(why)
        return d

    sz = env.sizes

    def guarded(name, fn):
        """Runs one workload; a crash is recorded as that workload's error, not the run's."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 (the other workloads still run)
            import traceback
            log(f"{name}: failed: {e!r}")
            return {"label": name, "error": traceback.format_exc()[-2000:], "servers": {
                n: {"status": "error", "reason": f"driver error: {e!r}"[:300]}
                for n in env.available()}}

    # The imported dataset goes in first: Prometheus compacts imported blocks only a minute
    # after it starts, so the scrape workload (other processes) runs while it waits.
    ds = started = info = None
    if "disk" in args.only or "queries" in args.only:
        def prepare():
            nonlocal ds, started, info
            ds = Dataset(env)
            started, info = import_dataset(env, ds)
        err = guarded("disk", prepare)
        if err:
            report["workloads"]["disk"] = err
    if "scrape" in args.only:
        c = sz["scrape"]

        def scrape():
            d = scrape_workload(env, "scrape", c, env.available(), concurrent=True)
            d["label"] = f"scrape {c['targets']}×{c['per_target']} @{c['interval']}s"
            return mark_unavailable(d)
        report["workloads"]["scrape"] = guarded("scrape", scrape)
    if started is not None:
        def disk():
            d = disk_workload(env, ds, started, info)
            d["label"] = f"disk {ds.cfg['series']}×{ds.cfg['hours']}h @{ds.cfg['interval']}s"
            return mark_unavailable(d)
        d = guarded("disk", disk)
        if "disk" in args.only:
            report["workloads"]["disk"] = d
        if "queries" in args.only:
            def queries():
                q = queries_workload(env, ds, started, info)
                q["label"] = "queries"
                return mark_unavailable(q)
            report["workloads"]["queries"] = guarded("queries", queries)
        for s in started.values():
            if s.alive():
                env.stop(s)
            if not args.keep:
                shutil.rmtree(s.data_dir, ignore_errors=True)
        if not args.keep:
            for p in (ds.om, ds.vm):
                os.unlink(p)
    if "restart" in args.only:
        c = sz["restart"]

        def restart():
            d = restart_workload(env)
            d["label"] = f"restart {short_count(c['series'])}×{c['hours']:g}h"
            return mark_unavailable(d)
        report["workloads"]["restart"] = guarded("restart", restart)
    if "scale" in args.only:
        c = sz["scale"]

        def scale():
            names = env.available(c["servers"])
            d = scrape_workload(env, "scale", c, names, concurrent=False)
            d["label"] = (f"scale {short_count(c['targets'] * c['per_target'])} series "
                          f"@{c['interval']}s")
            for n in env.available():
                if n not in c["servers"]:
                    d["servers"][n] = {"status": "skipped", "reason": "not part of this workload"}
            return mark_unavailable(d)
        report["workloads"]["scale"] = guarded("scale", scale)
    report["seconds"] = round(time.time() - t_run, 1)
    return report


def main(argv=None):
    args = parse_args(argv)
    report = run(args)
    text = (header(report) + "\n\n" + table(report) + "\n\n" + query_table(report) + "\n\n"
            + notes(report)).rstrip() + "\n"
    path = args.json
    if not path:
        out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
                            f"{'-quick' if args.quick else ''}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1, default=str)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    log(f"wrote {path}; total {report['seconds']}s")
    try:
        print(text)
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
