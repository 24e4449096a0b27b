#!/usr/bin/env python3
"""Expands alert templates with the real Prometheus (promtool test rules) to get reference
outputs for tests/rules/template_test.cpp.

Usage: template_oracle.py < templates.txt   (one template per line, taken literally)
Prints one JSON string per line: the expansion promtool reports. The alert sees
$labels = {__name__="m", instance="a:9090", job="api"}, $value = 1234567 (promtool 2.42 has
no external labels or URL in test files).
"""
import json
import os
import re
import subprocess
import sys
import tempfile


def go_unquote(s):
    # Go's strconv.Quote output is valid JSON for the characters Prometheus emits here.
    return json.loads(s)


def main():
    templates = [l.rstrip("\n") for l in sys.stdin if l.strip()]
    d = tempfile.mkdtemp()
    rules = ["groups:", "- name: g", "  rules:"]
    tests = ["rule_files: [r.yml]", "evaluation_interval: 1m",
             "tests:", "  - interval: 1m", "    input_series:",
             "      - series: 'm{instance=\"a:9090\",job=\"api\"}'",
             "        values: '1234567'",
             "      - series: 'up{job=\"a\",instance=\"h1:1\"}'",
             "        values: '1'",
             "      - series: 'up{job=\"b\",instance=\"h2:1\"}'",
             "        values: '0'",
             "    alert_rule_test:"]
    for i, t in enumerate(templates):
        rules += [f"  - alert: T{i}", "    expr: m", "    annotations:",
                  f"      t: {json.dumps(t)}"]
        tests += ["      - eval_time: 0m", f"        alertname: T{i}", "        exp_alerts:",
                  "          - exp_labels: {instance: 'a:9090', job: api}",
                  "            exp_annotations: {t: 'XX-NEVER'}"]
    open(os.path.join(d, "r.yml"), "w").write("\n".join(rules) + "\n")
    open(os.path.join(d, "t.yml"), "w").write("\n".join(tests) + "\n")
    p = subprocess.run(["promtool", "test", "rules", "t.yml"], cwd=d, capture_output=True,
                       text=True)
    out = p.stdout + p.stderr
    got = {}
    for m in re.finditer(r"alertname: T(\d+), time: 0s, \n.*?got:\[\n.*?Annotations:\{t=(\".*?\")\}\n",
                         out, re.S):
        got[int(m.group(1))] = go_unquote(m.group(2))
    if not got and out:
        sys.stderr.write(out)
    for i in range(len(templates)):
        print(json.dumps(got.get(i, "<ORACLE-NO-RESULT>")))


if __name__ == "__main__":
    main()
