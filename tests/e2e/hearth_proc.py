"""A hearth process for end-to-end tests: started on a loopback port the test picks, on its own
temporary data directory (or one given), waited for until /-/ready answers, stopped cleanly."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hearth:
    def __init__(self, binary, *flags, data_dir=None, prefix="",
                 config="global:\n  scrape_interval: 15s\n"):
        self.dir = tempfile.mkdtemp(prefix="hearth-e2e-")
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        with open(os.path.join(self.dir, "prometheus.yml"), "w") as f:
            f.write(config)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}{prefix}"
        self.proc = subprocess.Popen(
            [binary, f"--config.file={self.dir}/prometheus.yml",
             f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.path={self.data_dir}", *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("hearth exited: " + self.proc.stderr.read())
            try:
                with urllib.request.urlopen(self.base + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("hearth did not become ready")

    def request(self, path, data=None, headers=None, method=None):
        """(status, headers, body) of a request to base + path."""
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {},
                                     method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path, data=None):
        status, _, body = self.request(path, data)
        return status, json.loads(body) if body else None

    def get_json(self, path):
        return self.json(path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
