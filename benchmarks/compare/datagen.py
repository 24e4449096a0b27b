"""Synthetic data shaped like node_exporter and an instrumented HTTP service.

A *group* is one host: 219 series in 8 families (CPU seconds, network and disk byte counters,
memory and filesystem gauges, load averages, an HTTP latency histogram with 12 buckets plus
_sum and _count per handler and method, request counters). A model of N series is
ceil(N / 219) groups, the last one cut at N (its missing tail filled with temperature gauges
so the count is exact). Counters grow by noisy rates and reset when a host "reboots" (a
fraction of the groups reboot once, at a random step); gauges are bounded random walks with
the precision real exporters print (2 decimals for load, 4 KiB pages for memory); one series
in eight is constant (MemTotal, filesystem sizes, idle modes at zero).

Everything is deterministic from the seed. Values are produced as strings (the shortest repr
of a double, or an integer), so every server parses exactly the same doubles.
"""
import gzip
import json
import math
import random

GROUP_SIZE = 219

MODES = [("idle", 0.62), ("user", 0.21), ("system", 0.08), ("iowait", 0.015),
         ("irq", 0.0), ("softirq", 0.006), ("steal", 0.0), ("nice", 0.001)]
NET_DEVICES = ["eth0", "eth1", "lo"]
DISK_DEVICES = ["nvme0n1", "sda"]
MOUNTS = [("/", "/dev/nvme0n1p2", "ext4"), ("/boot", "/dev/nvme0n1p1", "vfat"),
          ("/var", "/dev/sda1", "xfs"), ("/run", "tmpfs", "tmpfs")]
HANDLERS = [("/api/v1/query", 40.0, 0.03), ("/api/v1/query_range", 12.0, 0.2),
            ("/api/v1/series", 3.0, 0.01), ("/metrics", 0.5, 0.004), ("/-/ready", 0.2, 0.001)]
METHODS = [("GET", 0.8), ("POST", 0.2)]
LE = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
LE_STR = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]


def series_text(name, labels):
    """`name{a="b",...}` with labels in the given order (values need no escaping here)."""
    if not labels:
        return name
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"


class Unit:
    """Some series of one family in one group, with their value generator."""

    def __init__(self, family, mtype, names_labels):
        self.family = family          # metric family name (OpenMetrics TYPE name)
        self.mtype = mtype            # counter | gauge | histogram
        self.series = names_labels    # [(metric name, [(label, value), ...]), ...]

    def run(self, n, dt, rng, reset_step):
        """Returns one list of n value strings per series."""
        raise NotImplementedError


class Counter(Unit):
    """Counters growing by rate*dt with noise; `cents` counters print 2 decimals."""

    def __init__(self, family, names_labels, rates, cents):
        super().__init__(family, "counter", names_labels)
        self.rates = rates
        self.cents = cents

    def run(self, n, dt, rng, reset_step):
        out = []
        scale = 100 if self.cents else 1
        for rate in self.rates:
            acc = int(rng.random() * rate * 86400 * scale)
            vals = []
            mean = rate * dt * scale
            rnd = rng.random
            for i in range(n):
                if i == reset_step:
                    acc = 0
                acc += int(mean * (0.5 + rnd()))
                vals.append(repr(acc / 100) if self.cents else str(acc))
            out.append(vals)
        return out


class Walk(Unit):
    """Bounded random walks; `quantum` > 0 prints integers that are multiples of it."""

    def __init__(self, family, names_labels, lo, hi, sigma, quantum=0, decimals=2):
        super().__init__(family, "gauge", names_labels)
        self.lo, self.hi, self.sigma = lo, hi, sigma
        self.quantum, self.decimals = quantum, decimals

    def run(self, n, dt, rng, reset_step):
        out = []
        for _ in self.series:
            v = self.lo + (self.hi - self.lo) * rng.random()
            vals = []
            rnd = rng.random
            s2 = 2 * self.sigma
            for _i in range(n):
                v += (rnd() - 0.5) * s2
                if v < self.lo:
                    v = 2 * self.lo - v
                elif v > self.hi:
                    v = 2 * self.hi - v
                if self.quantum:
                    vals.append(str(int(v // self.quantum) * self.quantum))
                else:
                    vals.append(repr(round(v, self.decimals)))
            out.append(vals)
        return out


class Const(Unit):
    def __init__(self, family, names_labels, values):
        super().__init__(family, "gauge", names_labels)
        self.values = values

    def run(self, n, dt, rng, reset_step):
        return [[v] * n for v in self.values]


class Histogram(Unit):
    """One histogram (12 cumulative buckets, _sum, _count) of request latencies."""

    def __init__(self, family, base_labels, rps, median):
        names = [(family + "_bucket", base_labels + [("le", le)]) for le in LE_STR]
        names += [(family + "_sum", base_labels), (family + "_count", base_labels)]
        super().__init__(family, "histogram", names)
        self.rps = rps
        # Bucket probabilities of a log-normal latency with the given median (sigma 1).
        cdf = [0.5 * (1 + math.erf(math.log(le / median) / math.sqrt(2))) for le in LE] + [1.0]
        self.p = [cdf[0]] + [cdf[i] - cdf[i - 1] for i in range(1, len(cdf))]
        mids = [LE[0] / 2] + [(LE[i - 1] + LE[i]) / 2 for i in range(1, len(LE))] + [LE[-1] * 2]
        self.mids_us = [int(m * 1e6) for m in mids]

    def run(self, n, dt, rng, reset_step):
        nb = len(self.p)
        cum = [[] for _ in range(nb)]
        sums, counts = [], []
        acc = [int(rng.random() * self.rps * 3600 * p) for p in self.p]
        sum_us = sum(a * m for a, m in zip(acc, self.mids_us))
        rnd = rng.random
        mean = self.rps * dt
        for i in range(n):
            if i == reset_step:
                acc = [0] * nb
                sum_us = 0
            total = mean * (0.6 + 0.8 * rnd())
            running = 0
            for b in range(nb):
                inc = int(total * self.p[b] + rnd())
                if inc:
                    acc[b] += inc
                    sum_us += inc * self.mids_us[b] * (900 + int(200 * rnd())) // 1000
                running += acc[b]
                cum[b].append(str(running))
            sums.append(repr(sum_us / 1e6))
            counts.append(str(running))
        return cum + [sums, counts]


def group_units(group_labels):
    """The 219-series template of one host; `group_labels` are prepended to every series."""
    g = list(group_labels)
    units = []
    cpu = [("node_cpu_seconds_total", g + [("cpu", str(c)), ("mode", m)])
           for c in range(4) for m, _ in MODES]
    units.append(Counter("node_cpu_seconds", cpu, [r for _ in range(4) for _, r in MODES], True))
    for direction, rate in (("receive", 180e3), ("transmit", 95e3)):
        s = [(f"node_network_{direction}_bytes_total", g + [("device", d)]) for d in NET_DEVICES]
        units.append(Counter(f"node_network_{direction}_bytes", s, [rate, rate / 7, rate / 30],
                             False))
    for op, rate in (("read", 2.1e6), ("written", 3.4e6)):
        s = [(f"node_disk_{op}_bytes_total", g + [("device", d)]) for d in DISK_DEVICES]
        units.append(Counter(f"node_disk_{op}_bytes", s, [rate, rate / 5], False))
    units.append(Const("node_memory_MemTotal_bytes",
                       [("node_memory_MemTotal_bytes", g)], ["16777216000"]))
    for name, lo, hi in (("MemAvailable", 4e9, 12e9), ("MemFree", 1e9, 6e9),
                         ("Cached", 2e9, 8e9), ("Buffers", 1e8, 6e8), ("SwapFree", 1e9, 2e9)):
        units.append(Walk(f"node_memory_{name}_bytes", [(f"node_memory_{name}_bytes", g)],
                          lo, hi, (hi - lo) / 200, quantum=4096))
    for name, sigma in (("node_load1", 0.15), ("node_load5", 0.05), ("node_load15", 0.02)):
        units.append(Walk(name, [(name, g)], 0.0, 8.0, sigma, decimals=2))
    fs_labels = [g + [("device", dev), ("fstype", fst), ("mountpoint", mp)]
                 for mp, dev, fst in MOUNTS]
    units.append(Walk("node_filesystem_avail_bytes",
                      [("node_filesystem_avail_bytes", lab) for lab in fs_labels],
                      1e9, 9e10, 5e7, quantum=4096))
    units.append(Const("node_filesystem_size_bytes",
                       [("node_filesystem_size_bytes", lab) for lab in fs_labels],
                       ["107374182400", "535822336", "214748364800", "1649410048"]))
    for handler, rps, median in HANDLERS:
        for method, share in METHODS:
            units.append(Histogram("http_request_duration_seconds",
                                   g + [("handler", handler), ("method", method)],
                                   rps * share, median))
    req = []
    rates = []
    for handler, rps, _ in HANDLERS:
        for method, share in METHODS:
            for code, cshare in (("200", 0.995), ("500", 0.005)):
                req.append(("http_requests_total",
                            g + [("code", code), ("handler", handler), ("method", method)]))
                rates.append(rps * share * cshare)
    units.append(Counter("http_requests", req, rates, False))
    return units


def _filler(group_labels, count):
    s = [("node_hwmon_temp_celsius", list(group_labels) + [("sensor", f"temp{i}")])
         for i in range(count)]
    return Walk("node_hwmon_temp_celsius", s, 30.0, 90.0, 0.5, decimals=1)


class Model:
    """N series in groups of 219; `group_labels(g)` gives the labels identifying group g."""

    def __init__(self, n_series, group_labels, seed, reboot_fraction=0.3):
        self.n_series = n_series
        self.seed = seed
        self.groups = []  # [(units, reboot flag)]
        rng = random.Random(seed)
        left = n_series
        g = 0
        while left > 0:
            units = group_units(group_labels(g))
            size = sum(len(u.series) for u in units)
            if size > left:
                kept, count = [], 0
                for u in units:
                    if count + len(u.series) > left:
                        break
                    kept.append(u)
                    count += len(u.series)
                if left - count:
                    kept.append(_filler(group_labels(g), left - count))
                units, size = kept, left
            self.groups.append((units, rng.random() < reboot_fraction))
            left -= size
            g += 1

    def series(self):
        """All (name, labels) in group order."""
        return [s for units, _ in self.groups for u in units for s in u.series]

    def families(self):
        """{family: type} of every family in the model."""
        return {u.family: u.mtype for units, _ in self.groups for u in units}

    def reset_step(self, gi, n):
        """The step at which group gi reboots (its counters restart from 0), or -1."""
        if not self.groups[gi][1]:
            return -1
        return random.Random(self.seed * 1000003 + gi).randrange(n // 4, max(n // 4 + 1, 3 * n // 4))

    def run_unit(self, gi, ui, n, dt):
        """Value strings of unit ui of group gi over n steps of dt seconds.

        Deterministic per (seed, group, unit), so units can be generated in any order."""
        rng = random.Random((self.seed * 1000003 + gi) * 4099 + ui)
        return self.groups[gi][0][ui].run(n, dt, rng, self.reset_step(gi, n))

    def family_order(self):
        """[(family, [(gi, ui), ...])]: units grouped by family, families in first-seen order."""
        order = {}
        for gi, (units, _) in enumerate(self.groups):
            for ui, u in enumerate(units):
                order.setdefault(u.family, []).append((gi, ui))
        return list(order.items())


# --- outputs ------------------------------------------------------------------------------

def render_bodies(model, phases, dt, level=1):
    """Prometheus text 0.0.4 bodies, one per phase (scrape number), gzip-compressed.

    Families are contiguous with one HELP/TYPE each, as exporters write them."""
    rows_by_family = []
    for fam, members in model.family_order():
        mtype = model.groups[members[0][0]][0][members[0][1]].mtype
        rows = []
        for gi, ui in members:
            unit = model.groups[gi][0][ui]
            for (name, labels), vals in zip(unit.series, model.run_unit(gi, ui, phases, dt)):
                rows.append((series_text(name, labels) + " ", vals))
        tname = fam + "_total" if mtype == "counter" else fam
        rows_by_family.append((f"# HELP {tname} Synthetic {fam}.\n# TYPE {tname} {mtype}\n", rows))
    bodies = []
    for p in range(phases):
        parts = []
        for header, rows in rows_by_family:
            parts.append(header)
            parts.append("".join([prefix + vals[p] + "\n" for prefix, vals in rows]))
        bodies.append(gzip.compress("".join(parts).encode(), compresslevel=level))
    return bodies


def om_timestamp(ms):
    """OpenMetrics seconds for an int ms timestamp that parses back to exactly `ms`.

    Readers compute int(seconds * 1000) or round it; three decimals are exact for most values,
    and when float rounding would truncate one below, a trailing 01 keeps both readings."""
    s = f"{ms // 1000}.{ms % 1000:03d}"
    x = float(s) * 1000
    if int(x) == ms and round(x) == ms:
        return s
    return s + "01"


def group_timestamps(n, dt_ms, t0_ms, jitter_ms, seed, gi):
    """Sample timestamps of group gi: t0 + i*dt plus a jitter in +-[1, jitter] ms (never 0)
    per step, shared by the group's series as one scrape's samples are."""
    ts = []
    if not jitter_ms:
        return [t0_ms + i * dt_ms for i in range(n)]
    rng = random.Random(seed * 7919 + gi)
    for i in range(n):
        j = rng.randint(1, jitter_ms)
        ts.append(t0_ms + i * dt_ms + (j if rng.random() < 0.5 else -j))
    return ts


def write_import_files(model, n, dt, t0_ms, jitter_ms, seed, om_path, vm_path):
    """Writes the same data as OpenMetrics (promtool, hearthctl) and VictoriaMetrics JSON lines
    (/api/v1/import). The OpenMetrics file is family-major (each family contiguous under one
    TYPE line) and series-major within it, each series' samples in time order.

    Jittered timestamps keep samples off step-aligned range boundaries, where Prometheus 2.x
    (closed) and 3.x (left-open) differ. Returns (samples, first ts ms, last ts ms)."""
    dt_ms = int(round(dt * 1000))
    ts_cache = {}
    samples = 0
    first, last = None, None
    with open(om_path, "w") as om, open(vm_path, "w") as vm:
        for fam, members in model.family_order():
            mtype = model.groups[members[0][0]][0][members[0][1]].mtype
            om.write(f"# TYPE {fam} {mtype}\n")
            for gi, ui in members:
                if gi not in ts_cache:
                    ts = group_timestamps(n, dt_ms, t0_ms, jitter_ms, seed, gi)
                    ts_cache[gi] = ([" " + om_timestamp(t) + "\n" for t in ts], json.dumps(ts))
                    first = ts[0] if first is None else min(first, ts[0])
                    last = ts[-1] if last is None else max(last, ts[-1])
                ts_om, ts_json = ts_cache[gi]
                unit = model.groups[gi][0][ui]
                for (name, labels), vals in zip(unit.series, model.run_unit(gi, ui, n, dt)):
                    prefix = series_text(name, labels) + " "
                    om.write("".join([prefix + v + t for v, t in zip(vals, ts_om)]))
                    metric = {"__name__": name}
                    metric.update(labels)
                    vm.write('{"metric":' + json.dumps(metric) + ',"values":[' + ",".join(vals)
                             + '],"timestamps":' + ts_json + "}\n")
                    samples += len(vals)
        om.write("# EOF\n")
    return samples, first, last
