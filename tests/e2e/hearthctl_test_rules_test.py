#!/usr/bin/env python3
"""`hearthctl test rules` against the real `promtool test rules` (Prometheus 2.42).

Every *_test.yml in testdata/rules_unit/ is run by both tools from that directory; stdout,
stderr and the exit code must be identical. Files under hearth_only/ use features the installed
promtool does not have (external_labels, external_url, the 3.x interval default) and must pass
under hearthctl.

Usage: hearthctl_test_rules_test.py HEARTHCTL
"""
import glob
import os
import shutil
import subprocess
import sys
import unittest

HEARTHCTL = None
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "rules_unit")
PROMTOOL = shutil.which("promtool")


def run(argv):
    p = subprocess.run(argv, cwd=DATA, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


class TestRulesAgainstPromtool(unittest.TestCase):
    def compare(self, files):
        want = run([PROMTOOL, "test", "rules", *files])
        got = run([HEARTHCTL, "test", "rules", *files])
        self.assertEqual(want[1], got[1], f"stdout of {files}")
        self.assertEqual(want[2], got[2], f"stderr of {files}")
        self.assertEqual(want[0], got[0], f"exit code of {files}")
        return got

    @unittest.skipUnless(PROMTOOL, "promtool not installed")
    def test_each_file_matches_promtool(self):
        files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(DATA, "*_test.yml")))
        self.assertGreaterEqual(len(files), 8)
        for f in files:
            with self.subTest(file=f):
                self.compare([f])

    @unittest.skipUnless(PROMTOOL, "promtool not installed")
    def test_documentation_example_passes(self):
        rc, out, err = self.compare(["docs_example_test.yml"])
        self.assertEqual(rc, 0)
        self.assertIn("  SUCCESS", out)

    @unittest.skipUnless(PROMTOOL, "promtool not installed")
    def test_several_files_in_one_run(self):
        rc, out, _ = self.compare(
            ["docs_example_test.yml", "errors_test.yml", "recording_test.yml"])
        self.assertEqual(rc, 1)
        self.assertEqual(out.count("Unit Testing:"), 3)

    @unittest.skipUnless(PROMTOOL, "promtool not installed")
    def test_usage_errors_match_promtool(self):
        for args in ([], ["no_such_file.yml"]):
            with self.subTest(args=args):
                want = run([PROMTOOL, "test", "rules", *args])
                got = run([HEARTHCTL, "test", "rules", *args])
                self.assertEqual(want[0], got[0])
                self.assertEqual(want[2].replace("promtool", "hearthctl"), got[2])

    def test_hearth_only_features(self):
        files = sorted(glob.glob(os.path.join(DATA, "hearth_only", "*_test.yml")))
        self.assertGreaterEqual(len(files), 2)
        for f in files:
            with self.subTest(file=f):
                rc, out, err = run([HEARTHCTL, "test", "rules", f])
                self.assertEqual(rc, 0, out + err)
                self.assertIn("  SUCCESS", out)

    def test_failing_file_fails_without_promtool_too(self):
        rc, out, err = run([HEARTHCTL, "test", "rules", "docs_example_failing_test.yml"])
        self.assertEqual(rc, 1)
        self.assertIn("  FAILED:", err)
        self.assertIn("alertname: InstanceDown, time: 14m", err)

    def test_run_flag_selects_test_groups(self):
        rc, out, err = run([HEARTHCTL, "test", "rules", "--run", "no such group",
                            "docs_example_failing_test.yml"])
        # The unnamed second group does not match either: nothing runs, nothing fails.
        self.assertEqual(rc, 0, err)
        rc, out, err = run([HEARTHCTL, "test", "rules", "--run=wrong",
                            "docs_example_failing_test.yml"])
        self.assertEqual(rc, 1)
        self.assertIn("name: wrong expectations", err)


if __name__ == "__main__":
    HEARTHCTL = os.path.abspath(sys.argv.pop(1))
    unittest.main()
