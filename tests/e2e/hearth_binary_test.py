#!/usr/bin/env python3
"""End-to-end tests of the hearth and hearthctl binaries, as a user runs them.

Usage: hearth_binary_test.py HEARTH HEARTHCTL
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HEARTH = HEARTHCTL = None


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


class Server:
    """Starts hearth in a temporary working directory on a free loopback port."""

    def __init__(self, *args, cwd=None, port=None):
        self.port = port or free_port()
        self.dir = cwd or tempfile.mkdtemp(prefix="hearth-e2e-")
        self.proc = subprocess.Popen(
            [HEARTH, f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.path={self.dir}/data", *args],
            cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hearth exited early: {self.proc.stderr.read()}")
            try:
                if get(self.port, "/-/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("hearth did not become ready in 20s")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out, err = self.proc.communicate()
        return self.proc.returncode, err


class HearthBinaryTest(unittest.TestCase):
    def test_version_and_help(self):
        p = subprocess.run([HEARTH, "--version"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("hearth, version", p.stdout)
        p = subprocess.run([HEARTH, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for flag in ("--config.file", "--storage.tsdb.retention.time", "--query.lookback-delta",
                     "web.enable-lifecycle", "--log.format"):
            self.assertIn(flag, p.stdout)

    def test_unknown_flag_and_bad_value_fail_naming_them(self):
        p = subprocess.run([HEARTH, "--no.such-flag"], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown long flag '--no.such-flag'", p.stderr)
        p = subprocess.run([HEARTH, "--query.timeout=fast"], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('invalid value "fast" for flag --query.timeout', p.stderr)
        p = subprocess.run([HEARTH, "--log.level=loud"], capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("loud", p.stderr)

    def test_missing_config_file_given_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([HEARTH, "--config.file=nope.yml",
                                f"--web.listen-address=127.0.0.1:{free_port()}"],
                               cwd=d, capture_output=True, text=True, timeout=20)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("nope.yml", p.stderr)

    def test_embedded_default_config_without_flag(self):
        s = Server()
        try:
            self.assertEqual(get(s.port, "/-/healthy"), (200, "Prometheus Server is Healthy.\n"))
        finally:
            code, err = s.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("<embedded default>", err)

    def test_local_prometheus_yml_is_used_when_present(self):
        d = tempfile.mkdtemp(prefix="hearth-e2e-")
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 15s\n")
        s = Server(cwd=d)
        code, err = s.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("filename=prometheus.yml", err)
        shutil.rmtree(d)

    def test_metrics_pass_promtool_check_metrics(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed (scripts/install-deps.sh installs it)")
        s = Server()
        try:
            get(s.port, "/-/healthy")
            status, body = get(s.port, "/metrics")
            self.assertEqual(status, 200)
            for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                         "process_start_time_seconds", "process_open_fds", "hearth_build_info",
                         "prometheus_http_requests_total"):
                self.assertIn(name, body)
            p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                               text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(p.stdout.strip() + p.stderr.strip(), "")
        finally:
            s.stop()

    def test_sigint_and_json_logs(self):
        s = Server("--log.format=json", "--log.level=debug")
        code, err = s.stop(signal.SIGINT)
        self.assertEqual(code, 0)
        first = err.strip().splitlines()[0]
        self.assertTrue(first.startswith('{"time":"'), first)
        self.assertIn('"level":"info"', first)

    def test_lifecycle_quit(self):
        s = Server("--web.enable-lifecycle")
        req = urllib.request.Request(f"http://127.0.0.1:{s.port}/-/quit", method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            self.assertEqual(r.status, 200)
        s.proc.wait(timeout=20)
        self.assertEqual(s.proc.returncode, 0)
        s.stop()

    def test_scrapes_itself_and_reloads_on_sighup(self):
        d = tempfile.mkdtemp(prefix="hearth-e2e-")
        port = free_port()
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                    f"  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
        s = Server(f"--config.file={cfg}", cwd=d, port=port)
        try:
            def appended():
                _, body = get(s.port, "/metrics")
                for line in body.splitlines():
                    if line.startswith("prometheus_tsdb_head_samples_appended_total"):
                        return float(line.split()[-1])
                return 0.0
            deadline = time.time() + 15
            while appended() == 0 and time.time() < deadline:
                time.sleep(0.2)
            self.assertGreater(appended(), 0, "no scraped samples reached the TSDB")
            # A broken config is refused on SIGHUP; the old one keeps running.
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_intervl: 1s\n")
            s.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while time.time() < deadline:
                if "prometheus_config_last_reload_successful 0" in get(s.port, "/metrics")[1]:
                    break
                time.sleep(0.1)
            self.assertIn("prometheus_config_last_reload_successful 0", get(s.port, "/metrics")[1])
            before = appended()
            time.sleep(2.5)
            self.assertGreater(appended(), before, "scraping stopped after a failed reload")
        finally:
            code, err = s.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("scrape_intervl", err)
        shutil.rmtree(d)

    def test_hearthctl_help_and_unknown_command(self):
        p = subprocess.run([HEARTHCTL, "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: hearthctl", p.stdout)
        p = subprocess.run([HEARTHCTL, "frobnicate"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn('expected command but got "frobnicate"', p.stderr)


if __name__ == "__main__":
    HEARTH, HEARTHCTL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]], verbosity=2)
