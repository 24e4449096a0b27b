#!/usr/bin/env python3
"""End-to-end tests of `hearthctl tsdb import openmetrics`: into a data directory that hearth
then serves, and into a running hearth with --server; bad lines reported by line number and
skipped; out-of-order input kept; the input format is promtool's (checked with promtool when
installed).

Usage: hearthctl_import_test.py HEARTH HEARTHCTL
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hearth_proc import Hearth  # noqa: E402

HEARTH = None
HEARTHCTL = None

# Two hours of 15 s samples ending ten minutes ago, in whole seconds.
END = (int(time.time()) // 60) * 60 - 600
START = END - 2 * 3600
STEP = 15


def expected_value(code, i):
    return i * (3 if code == "500" else 10)


def write_input(path, bad_line=False, shuffled=False):
    """OpenMetrics as promtool takes it. Returns the 1-based line of the bad line, if any."""
    lines = ["# HELP http_requests_total Requests handled.",
             "# TYPE http_requests_total counter"]
    bad_at = None
    for code in ("200", "500"):
        idx = list(range((END - START) // STEP + 1))
        if shuffled and code == "500":
            idx = idx[1::2] + idx[0::2]  # every other sample first: out of order
        for i in idx:
            lines.append(f'http_requests_total{{code="{code}"}} {expected_value(code, i)} '
                         f"{START + i * STEP}")
        if bad_line and code == "200":
            lines.append('http_requests_total{code="200" 17 ' + str(END))
            bad_at = len(lines)
    lines.append("# EOF")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return bad_at


class ImportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hearthctl-import-")
        self.input = os.path.join(self.dir, "input.om")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args):
        return subprocess.run([HEARTHCTL, "tsdb", "import", "openmetrics", *args],
                              capture_output=True, text=True, timeout=120)

    def check_served(self, h):
        """The imported data as the API answers it, against the generated values."""
        n = (END - START) // STEP + 1
        for code in ("200", "500"):
            q = urllib.parse.quote(f'http_requests_total{{code="{code}"}}')
            status, body = h.get_json(f"/api/v1/query_range?query={q}&start={START}&end={END}"
                                      f"&step={STEP}")
            self.assertEqual(status, 200, body)
            result = body["data"]["result"]
            self.assertEqual(len(result), 1, body)
            values = result[0]["values"]
            self.assertEqual(len(values), n)
            for i in (0, 1, n // 2, n - 1):
                self.assertEqual(values[i], [START + i * STEP, str(expected_value(code, i))])
        status, body = h.get_json("/api/v1/metadata?metric=http_requests_total")
        self.assertEqual(body["data"]["http_requests_total"][0]["type"], "counter", body)
        self.assertEqual(body["data"]["http_requests_total"][0]["help"], "Requests handled.")

    def test_into_data_dir_then_served(self):
        write_input(self.input, shuffled=True)
        data = os.path.join(self.dir, "data")
        r = self.ctl(self.input, data)
        self.assertEqual(r.returncode, 0, r.stderr)
        n = (END - START) // STEP + 1
        self.assertIn(f"imported {2 * n} samples into {data}, rejected 0", r.stdout)
        h = Hearth(HEARTH, data_dir=data)
        try:
            self.check_served(h)
        finally:
            h.stop()

    def test_bad_line_named_and_skipped(self):
        bad_at = write_input(self.input, bad_line=True)
        data = os.path.join(self.dir, "data")
        r = self.ctl(self.input, data)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{self.input}:{bad_at}: ", r.stderr)
        n = (END - START) // STEP + 1
        self.assertIn(f"imported {2 * n} samples into {data}, rejected 1", r.stdout)

    def test_into_running_server(self):
        write_input(self.input)
        h = Hearth(HEARTH, "--web.enable-admin-api")
        try:
            r = self.ctl(self.input, f"--server={h.base}")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.check_served(h)
        finally:
            h.stop()

    def test_server_without_admin_api_refuses(self):
        write_input(self.input)
        h = Hearth(HEARTH)
        try:
            r = self.ctl(self.input, f"--server={h.base}")
            self.assertEqual(r.returncode, 1)
            self.assertIn("admin APIs disabled", r.stderr)
        finally:
            h.stop()

    def test_missing_input(self):
        r = self.ctl(os.path.join(self.dir, "nope.om"), os.path.join(self.dir, "data"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("nope.om", r.stderr)

    @unittest.skipUnless(shutil.which("promtool"), "promtool not installed")
    def test_promtool_accepts_the_same_input(self):
        write_input(self.input, shuffled=True)
        r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", self.input,
                            os.path.join(self.dir, "blocks")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    HEARTH, HEARTHCTL = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
