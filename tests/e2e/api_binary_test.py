#!/usr/bin/env python3
"""End-to-end tests of the API as the hearth binary serves it: flags (--web.external-url,
--web.route-prefix, --web.enable-admin-api, --web.cors.origin), gzip, admin endpoints on the
real TSDB, import, federation.

Usage: api_binary_test.py HEARTH
"""
import gzip
import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hearth_proc  # noqa: E402

HEARTH = None


class Hearth(hearth_proc.Hearth):
    def __init__(self, *flags, prefix=""):
        super().__init__(HEARTH, *flags, prefix=prefix)


class ApiBinaryTest(unittest.TestCase):
    def test_external_url_prefix_and_defaults(self):
        port_probe = Hearth("--web.external-url=http://proxy.example:8080/prometheus/",
                            prefix="/prometheus")
        try:
            h = port_probe
            status, body = h.json("/api/v1/query", b"query=1%2B1&time=4")
            self.assertEqual((status, body),
                             (200, {"status": "success",
                                    "data": {"resultType": "scalar", "result": [4, "2"]}}))
            self.assertEqual(h.request("/-/healthy")[0], 200)
            # Without the prefix: nothing.
            status, _, _ = Hearth.request(
                type("R", (), {"base": f"http://127.0.0.1:{h.port}"})(), "/api/v1/query?query=1")
            self.assertEqual(status, 404)
            # Admin API is off by default.
            status, body = h.json("/api/v1/admin/tsdb/snapshot", b"")
            self.assertEqual((status, body["errorType"], body["error"]),
                             (500, "unavailable", "admin APIs disabled"))
            # Flags are reported as strings.
            status, body = h.json("/api/v1/status/flags")
            self.assertEqual(body["data"]["web.external-url"],
                             "http://proxy.example:8080/prometheus/")
            # gzip when asked for.
            status, headers, raw = h.request("/api/v1/status/buildinfo",
                                             headers={"Accept-Encoding": "gzip"})
            self.assertEqual(headers.get("Content-Encoding"), "gzip")
            info = json.loads(gzip.decompress(raw))
            self.assertEqual(info["status"], "success")
            major, minor = (int(x) for x in info["data"]["version"].split(".")[:2])
            self.assertGreaterEqual((major, minor), (2, 24))
            # CORS: the default origin regex answers "*".
            status, headers, _ = h.request("/api/v1/query", method="OPTIONS",
                                           headers={"Origin": "http://grafana"})
            self.assertEqual(status, 204)
            self.assertEqual(headers.get("Access-Control-Allow-Origin"), "*")
        finally:
            port_probe.stop()

    def test_runtimeinfo_reports_retention_and_reload(self):
        for flags, want in (((), "15d"), (("--storage.tsdb.retention.time=2d",), "2d"),
                            (("--storage.tsdb.retention.size=10GB",), "10GB"),
                            (("--storage.tsdb.retention.time=2d",
                              "--storage.tsdb.retention.size=10GB"), "2d or 10GB")):
            h = Hearth(*flags)
            try:
                status, body = h.json("/api/v1/status/runtimeinfo")
                self.assertEqual(status, 200)
                self.assertEqual(body["data"]["storageRetention"], want, flags)
                self.assertTrue(body["data"]["reloadConfigSuccess"])
            finally:
                h.stop()

    def test_cors_origin_flag(self):
        h = Hearth(r"--web.cors.origin=https://grafana\.example")
        try:
            _, headers, _ = h.request("/api/v1/status/buildinfo",
                                      headers={"Origin": "https://grafana.example"})
            self.assertEqual(headers.get("Access-Control-Allow-Origin"), "https://grafana.example")
            _, headers, _ = h.request("/api/v1/status/buildinfo",
                                      headers={"Origin": "https://evil.example"})
            self.assertIsNone(headers.get("Access-Control-Allow-Origin"))
        finally:
            h.stop()

    def test_import_query_federate_admin_on_the_tsdb(self):
        h = Hearth("--web.enable-admin-api")
        try:
            now = int(time.time())
            lines = ["# TYPE room_temperature_celsius gauge"]
            for i in range(20):
                lines.append(f'room_temperature_celsius{{room="a"}} {20 + i / 10} {now - 300 + 15 * i}')
                lines.append(f'room_temperature_celsius{{room="b"}} {10 + i / 10} {now - 300 + 15 * i}')
            lines.append("# EOF")
            status, body = h.json("/api/v1/import/openmetrics", ("\n".join(lines) + "\n").encode())
            self.assertEqual(status, 200, body)
            self.assertEqual(body["data"]["samplesImported"], 40)
            status, body = h.json("/api/v1/query?query=max(room_temperature_celsius)")
            self.assertEqual(body["data"]["result"][0]["value"][1], "21.9")
            # Federation: the latest sample of each series, with its timestamp.
            status, _, text = h.request("/federate?match[]=room_temperature_celsius")
            self.assertEqual(status, 200)
            text = text.decode()
            self.assertIn("# TYPE room_temperature_celsius untyped\n", text)
            self.assertIn(f'room_temperature_celsius{{room="a",instance=""}} 21.9 '
                          f'{(now - 300 + 15 * 19) * 1000}\n', text)
            # Delete one series, then it is gone from queries. (/api/v1/series still lists it on
            # Hearth's TSDB, which answers label-only selects from the postings; Prometheus
            # drops fully deleted series there. Reported to the TSDB owner.)
            status, _, _ = h.request(
                "/api/v1/admin/tsdb/delete_series?" +
                urllib.parse.urlencode({"match[]": 'room_temperature_celsius{room="b"}'}),
                data=b"", method="POST")
            self.assertEqual(status, 204)
            status, body = h.json("/api/v1/query?query=room_temperature_celsius")
            self.assertEqual([s["metric"]["room"] for s in body["data"]["result"]], ["a"])
            self.assertEqual(h.request("/api/v1/admin/tsdb/clean_tombstones", b"")[0], 204)
            status, body = h.json("/api/v1/admin/tsdb/snapshot", b"")
            self.assertEqual(status, 200, body)
            self.assertTrue(os.path.isdir(os.path.join(h.dir, "data", "snapshots",
                                                       body["data"]["name"])))
        finally:
            h.stop()


if __name__ == "__main__":
    HEARTH = os.path.abspath(sys.argv.pop(1))
    unittest.main()
