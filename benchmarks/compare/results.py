"""Comparing query answers and summarising figures.

`compare_answers` decides whether a server's answer equals Prometheus': the same series (label
sets), the same timestamps, and values equal within a relative tolerance (NaN equals NaN,
infinities by sign). A query that answers differently does not count as measured, however
fast it was.
"""
import math
import statistics

REL_TOL = 1e-6
# Below this magnitude two values are equal whatever their ratio (sums that cancel to ~0 in a
# different order of addition).
ABS_TOL = 1e-12


def _float(s):
    # Prometheus and VictoriaMetrics write "NaN", "+Inf", "-Inf"; Python reads all three.
    return float(s)


def normalize(data):
    """API `data` -> {labels tuple: [(ts ms, value)]} for matrix, vector and scalar results."""
    rtype = data.get("resultType")
    result = data.get("result")
    out = {}
    if rtype == "matrix":
        for s in result:
            key = tuple(sorted(s.get("metric", {}).items()))
            out[key] = [(int(round(float(t) * 1000)), _float(v)) for t, v in s.get("values", [])]
    elif rtype == "vector":
        for s in result:
            key = tuple(sorted(s.get("metric", {}).items()))
            t, v = s["value"]
            out[key] = [(int(round(float(t) * 1000)), _float(v))]
    elif rtype in ("scalar", "string"):
        t, v = result
        out[()] = [(int(round(float(t) * 1000)), _float(v) if rtype == "scalar" else v)]
    else:
        raise ValueError(f"unknown resultType {rtype!r}")
    return out


def values_equal(a, b, rel=REL_TOL, abs_tol=ABS_TOL):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    diff = abs(a - b)
    return diff <= abs_tol or diff <= rel * max(abs(a), abs(b))


def _fmt_labels(key):
    return "{" + ",".join(f'{k}="{v}"' for k, v in key) + "}"


def compare_answers(ref, got, rel=REL_TOL):
    """None when `got` equals `ref` (both API `data` objects), else a one-line reason."""
    try:
        r, g = normalize(ref), normalize(got)
    except (KeyError, TypeError, ValueError) as e:
        return f"unreadable answer: {e}"
    if ref.get("resultType") != got.get("resultType"):
        return f"result type {got.get('resultType')} instead of {ref.get('resultType')}"
    missing = [k for k in r if k not in g]
    extra = [k for k in g if k not in r]
    if missing or extra:
        parts = [f"{len(g)} series instead of {len(r)}" if len(g) != len(r)
                 else "other label sets"]
        if missing:
            parts.append(f"missing {_fmt_labels(missing[0])}")
        if extra:
            parts.append(f"unexpected {_fmt_labels(extra[0])}")
        return "; ".join(parts)
    for key, rs in r.items():
        gs = g[key]
        if len(rs) != len(gs):
            rt = {t for t, _ in rs}
            gt = {t for t, _ in gs}
            only_r = sorted(rt - gt)
            only_g = sorted(gt - rt)
            what = (f"missing t={only_r[0] / 1000:.3f}" if only_r
                    else f"extra t={only_g[0] / 1000:.3f}")
            return f"{_fmt_labels(key)}: {len(gs)} points instead of {len(rs)} ({what})"
        for (rt, rv), (gt, gv) in zip(rs, gs):
            if rt != gt:
                return f"{_fmt_labels(key)}: timestamp {gt / 1000:.3f} instead of {rt / 1000:.3f}"
            if not values_equal(rv, gv, rel):
                return f"{_fmt_labels(key)} at {rt / 1000:.3f}: {gv!r} instead of {rv!r}"
    return None


def count_points(data):
    return sum(len(v) for v in normalize(data).values())


# --- statistics ---------------------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x is not None]
    if not xs or any(x <= 0 for x in xs):
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def summary(xs):
    """{'median', 'min', 'max', 'n'} of a list of numbers (None when empty)."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def fmt_num(x, digits=3):
    """A figure with `digits` significant digits, plain notation for everyday magnitudes."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= 6 or mag < -4:
        return f"{x:.{digits - 1}e}"
    decimals = max(0, digits - 1 - mag)
    return f"{x:,.{decimals}f}"


def fmt_summary(s, scale=1.0, digits=3):
    """'median [min..max]' (or just the median when there was one measurement)."""
    if s is None:
        return "—"
    m = fmt_num(s["median"] * scale, digits)
    lo, hi = fmt_num(s["min"] * scale, digits), fmt_num(s["max"] * scale, digits)
    if s.get("n", 1) <= 1 or lo == hi:
        return m
    return f"{m} [{lo}..{hi}]"


def fmt_bytes(n):
    if n is None:
        return "—"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"
