#!/usr/bin/env python3
"""End-to-end tests of `hearthctl check config` and `hearthctl check rules`.

Output and exit codes follow promtool's; when promtool is installed, its stdout on the same
valid files is compared byte for byte.

Usage: hearthctl_check_test.py HEARTHCTL SOURCE_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HEARTHCTL = SOURCE_DIR = None


def run(*args, cwd=None):
    p = subprocess.run([HEARTHCTL, *args], capture_output=True, text=True, cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hearthctl-check-")
        seed = os.path.join(SOURCE_DIR, "tests", "fixtures", "seed")
        for name in ("prometheus.yml", "alert.rules.yml"):
            shutil.copy(os.path.join(seed, name), self.dir)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def test_seed_config_passes(self):
        rc, out, err = run("check", "config", "prometheus.yml", cwd=self.dir)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "Checking prometheus.yml\n"
                              "  SUCCESS: 1 rule files found\n"
                              " SUCCESS: prometheus.yml is valid prometheus config file syntax\n"
                              "\n"
                              "Checking alert.rules.yml\n"
                              "  SUCCESS: 2 rules found\n"
                              "\n")
        self.assertEqual(err, "")

    def test_seed_rules_pass(self):
        rc, out, err = run("check", "rules", "alert.rules.yml", cwd=self.dir)
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "Checking alert.rules.yml\n  SUCCESS: 2 rules found\n\n")

    def test_same_stdout_as_promtool(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed")
        for args in (["check", "config", "prometheus.yml"], ["check", "rules", "alert.rules.yml"]):
            want = subprocess.run([promtool, *args], capture_output=True, text=True,
                                  cwd=self.dir, timeout=60)
            rc, out, _ = run(*args, cwd=self.dir)
            self.assertEqual((rc, out), (want.returncode, want.stdout), args)

    def test_bad_config_fails_with_position(self):
        self.write("bad.yml", "global:\n  scrape_intervl: 1m\n")
        rc, out, err = run("check", "config", "bad.yml", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "Checking bad.yml\n\n")
        self.assertEqual(err, "  FAILED: parsing YAML file bad.yml: bad.yml:2:3: field "
                              "scrape_intervl not found in type config.GlobalConfig\n")

    def test_missing_rule_file_fails(self):
        self.write("cfg.yml", "rule_files: [missing.yml]\n")
        rc, _, err = run("check", "config", "cfg.yml", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertIn('FAILED: "missing.yml" does not point to an existing file', err)

    def test_bad_rules_list_every_error(self):
        self.write("bad.rules.yml", "groups:\n  - name: g\n    rules:\n      - record: r\n"
                                    "        for: 1m\n  - name: g\n")
        rc, out, err = run("check", "rules", "bad.rules.yml", "alert.rules.yml", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "Checking bad.rules.yml\n\nChecking alert.rules.yml\n"
                              "  SUCCESS: 2 rules found\n\n")
        self.assertEqual(err.splitlines(), [
            "  FAILED:",
            "bad.rules.yml: 0:0: group \"g\", rule 1, \"r\": field 'expr' must be set in rule",
            "bad.rules.yml: 4:17: group \"g\", rule 1, \"r\": invalid field 'for' in recording rule",
            "bad.rules.yml: 6:5: groupname: \"g\" is repeated in the same file",
        ])

    def test_bad_expression_is_reported_by_the_promql_parser(self):
        self.write("expr.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n"
                               "        expr: sum(\n")
        rc, _, err = run("check", "rules", "expr.yml", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertEqual(err, "  FAILED:\nexpr.yml: 5:15: group \"g\", rule 1, \"A\": could not "
                              "parse expression: 1:5: parse error: unclosed left parenthesis\n")

    def test_duplicate_rules_are_a_lint_error(self):
        self.write("dup.yml", "groups:\n- name: a\n  rules:\n  - record: x\n    expr: up\n"
                              "  - record: x\n    expr: up\n")
        rc, out, err = run("check", "rules", "dup.yml", cwd=self.dir)
        self.assertEqual(rc, 0)
        self.assertIn("lint error 1 duplicate rule(s) found.", err)
        rc, _, _ = run("check", "rules", "--lint-fatal", "dup.yml", cwd=self.dir)
        self.assertEqual(rc, 3)
        rc, out, _ = run("check", "rules", "--lint=none", "dup.yml", cwd=self.dir)
        self.assertEqual((rc, out), (0, "Checking dup.yml\n  SUCCESS: 2 rules found\n\n"))

    def test_bad_template_is_an_error_with_position(self):
        self.write("tmpl.yml", "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up == 0\n"
                               "    annotations:\n"
                               "      summary: '{{ $labels.instance | humanise }}'\n")
        rc, out, err = run("check", "rules", "tmpl.yml", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "Checking tmpl.yml\n\n")
        self.assertEqual(err, "  FAILED:\ntmpl.yml: 4:5: group \"g\", rule 1, \"X\": annotation "
                              "\"summary\": template: __alert_X:1:22: function \"humanise\" not "
                              "defined\n")

    def test_usage_errors(self):
        rc, _, err = run("check", "rules", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertIn("required argument 'rule-files' not provided", err)
        rc, _, err = run("check", "config", "nope.yml", cwd=self.dir)
        self.assertEqual(rc, 1)
        self.assertIn("path 'nope.yml' does not exist", err)


if __name__ == "__main__":
    HEARTHCTL, SOURCE_DIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
