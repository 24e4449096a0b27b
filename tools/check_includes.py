#!/usr/bin/env python3
"""Checks the module dependency rules of DESIGN.md on every #include.

1. A quoted include must be rooted at the repository ("tsdb/storage/storage.h") and name a
   module the including file's module may use.
2. Public headers of a module (any .h not under an `internal/` folder) must not include heavy
   third-party headers (Boost, RocksDB, yaml-cpp): those stay in .cpp files.

Usage: check_includes.py REPO_ROOT. Prints one line per violation (file:line: message) and
exits 1 if there is any.
"""
import os
import re
import sys

# module -> modules it may include (besides itself). Longest prefix wins: "tsdb/storage" is the
# seam other modules see; the rest of tsdb/ is the engine behind it.
ALLOWED = {
    "model": set(),
    "tsdb/storage": {"model"},
    "tsdb": {"model", "tsdb/storage"},
    "config": {"model"},
    "httpc": {"model", "config"},
    "scraper": {"model", "config", "httpc", "tsdb/storage"},
    "query": {"model", "tsdb/storage"},
    "rules": {"model", "query", "tsdb/storage", "config", "httpc"},
    "remote": {"model", "tsdb/storage", "config", "httpc"},
    "web": {"model", "config", "httpc", "tsdb/storage", "scraper", "query", "rules", "remote"},
    "cmd": None,         # the composition root sees everything
    "tests": None,
    "benchmarks": None,
    "tools": None,
}
HEAVY = ("boost/", "rocksdb/", "yaml-cpp/")
SOURCE_EXT = (".h", ".hpp", ".cpp", ".cc")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SKIP_DIRS = {".git", "node_modules", ".cache"}


def module_of(path):
    best = None
    for m in ALLOWED:
        if path == m or path.startswith(m + "/"):
            if best is None or len(m) > len(best):
                best = m
    return best


def check_file(root, rel):
    errors = []
    mod = module_of(rel)
    if mod is None:
        return errors
    allowed = ALLOWED[mod]
    public_header = rel.endswith((".h", ".hpp")) and "/internal/" not in rel and allowed is not None
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if not m:
                continue
            kind, inc = m.groups()
            if kind == "<":
                if public_header and inc.startswith(HEAVY):
                    errors.append(f"{rel}:{lineno}: heavy header <{inc}> in a public header of "
                                  f"module '{mod}'; include it from a .cpp (pimpl) or an "
                                  f"internal/ header")
                continue
            if allowed is None:
                continue
            target = module_of(inc)
            if target is None:
                errors.append(f"{rel}:{lineno}: include \"{inc}\" is not rooted at a module "
                              f"folder (write \"{mod}/...\")")
                continue
            if target == mod or target in allowed:
                continue
            may = ", ".join(sorted(allowed)) or "nothing else"
            errors.append(f"{rel}:{lineno}: forbidden include \"{inc}\": module '{mod}' may "
                          f"use {may}")
    return errors


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    errors = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build"))
        for name in sorted(filenames):
            if name.endswith(SOURCE_EXT):
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                errors.extend(check_file(root, rel))
    for e in errors:
        print(e)
    if errors:
        print(f"include check: {len(errors)} violation(s)", file=sys.stderr)
        return 1
    print("include check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
