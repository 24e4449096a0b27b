#!/usr/bin/env python3
"""Self-test of the pure parts of benchmarks/compare (no server is started): the hand-written
Snappy and remote-write protobuf encoders, the answer comparison, and the data generator."""
import json
import math
import os
import random
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "benchmarks", "compare"))

import compare  # noqa: E402
import datagen  # noqa: E402
import results  # noqa: E402
import servers  # noqa: E402
import wire  # noqa: E402


class SnappyTest(unittest.TestCase):
    def test_literal_encoding_matches_the_format(self):
        self.assertEqual(wire.snappy_compress(b""), b"\x00")
        self.assertEqual(wire.snappy_compress(b"hello"), b"\x05\x10hello")
        data = bytes(range(61))
        # 61 bytes: tag 60 (one length byte follows) and len-1 = 60.
        self.assertEqual(wire.snappy_compress(data), b"\x3d\xf0\x3c" + data)
        big = b"x" * 70000
        enc = wire.snappy_compress(big)
        # uvarint(70000), then a 64 KiB literal (tag 61: two length bytes) and the rest.
        self.assertEqual(enc[:3], wire.uvarint(70000))
        self.assertEqual(enc[3:6], b"\xf4\xff\xff")

    def test_round_trip_at_fragment_boundaries(self):
        rng = random.Random(1)
        for n in (1, 59, 60, 61, 255, 256, 257, 65535, 65536, 65537, 200000):
            data = bytes(rng.getrandbits(8) for _ in range(n))
            self.assertEqual(wire.snappy_decompress(wire.snappy_compress(data)), data, n)

    def test_decoder_reads_copies_from_a_real_compressor(self):
        # "abcd" literal, then copy-1 of 8 bytes at offset 4 (overlapping its own output).
        self.assertEqual(wire.snappy_decompress(b"\x0c\x0cabcd\x11\x04"), b"abcdabcdabcd")
        # copy-2: 5 bytes at offset 3.
        self.assertEqual(wire.snappy_decompress(b"\x08\x08xyz\x12\x03\x00"), b"xyzxyzxy")

    def test_decoder_rejects_bad_input_with_a_position(self):
        with self.assertRaisesRegex(ValueError, "overruns"):
            wire.snappy_decompress(b"\x05\x10hel")
        with self.assertRaisesRegex(ValueError, "offset"):
            wire.snappy_decompress(b"\x08\x11\x04")
        with self.assertRaisesRegex(ValueError, "header says"):
            wire.snappy_decompress(b"\x06\x10hello")


class RemoteWriteTest(unittest.TestCase):
    def test_known_bytes_of_a_one_sample_request(self):
        got = wire.write_request([({"__name__": "up"}, [(1.0, 1000)])])
        label = b"\x0a\x08__name__" + b"\x12\x02up"
        sample = b"\x09" + b"\x00\x00\x00\x00\x00\x00\xf0\x3f" + b"\x10\xe8\x07"
        ts = b"\x0a\x0e" + label + b"\x12\x0c" + sample
        self.assertEqual(got, b"\x0a" + bytes([len(ts)]) + ts)

    def test_labels_are_sorted_and_everything_decodes(self):
        series = [({"job": "rw", "__name__": "x", "a": "1"}, [(0.5, 1764000000000), (-2.0, -5)]),
                  ({"__name__": "y"}, [(float("inf"), 0)])]
        decoded = wire.decode_write_request(wire.write_request(series))
        self.assertEqual(list(decoded[0][0]), ["__name__", "a", "job"])
        self.assertEqual(decoded[0][1], [(0.5, 1764000000000), (-2.0, -5)])
        self.assertEqual(decoded[1], ({"__name__": "y"}, [(float("inf"), 0)]))

    def test_pre_encoded_parts_equal_the_plain_encoder(self):
        labels = [("__name__", "node_load1"), ("instance", "h:1")]
        samples = [(0.25, 1000), (0.5, 16000)]
        parts = wire.encode_timeseries(wire.encode_labels(labels),
                                       wire.encode_samples([0.25, 0.5], [1000, 16000]))
        self.assertEqual(parts, wire.write_request([(dict(labels), samples)]))


def matrix(series):
    return {"resultType": "matrix", "result": [
        {"metric": m, "values": [[t, v] for t, v in pts]} for m, pts in series]}


class CompareAnswersTest(unittest.TestCase):
    REF = matrix([({"a": "1", "b": "2"}, [(10, "1.5"), (25, "NaN")]), ({"a": "2"}, [(10, "+Inf")])])

    def test_equal_within_tolerance_whatever_the_order(self):
        got = matrix([({"a": "2"}, [(10, "+Inf")]),
                      ({"b": "2", "a": "1"}, [(10.0, "1.5000000001"), (25, "NaN")])])
        self.assertIsNone(results.compare_answers(self.REF, got))

    def test_value_beyond_tolerance_is_named(self):
        got = matrix([({"a": "1", "b": "2"}, [(10, "1.50001"), (25, "NaN")]),
                      ({"a": "2"}, [(10, "+Inf")])])
        why = results.compare_answers(self.REF, got)
        self.assertIn('{a="1",b="2"} at 10.000', why)

    def test_missing_series_extra_point_and_shifted_timestamp(self):
        self.assertIn("1 series instead of 2",
                      results.compare_answers(self.REF, matrix([({"a": "2"}, [(10, "+Inf")])])))
        extra = matrix([({"a": "1", "b": "2"}, [(10, "1.5"), (25, "NaN")]),
                        ({"a": "2"}, [(10, "+Inf"), (40, "1")])])
        self.assertIn("extra t=40.000", results.compare_answers(self.REF, extra))
        shifted = matrix([({"a": "1", "b": "2"}, [(10.001, "1.5"), (25, "NaN")]),
                          ({"a": "2"}, [(10, "+Inf")])])
        self.assertIn("timestamp 10.001", results.compare_answers(self.REF, shifted))

    def test_nan_differs_from_a_number_and_types_must_match(self):
        got = matrix([({"a": "1", "b": "2"}, [(10, "1.5"), (25, "0")]), ({"a": "2"}, [(10, "+Inf")])])
        self.assertIsNotNone(results.compare_answers(self.REF, got))
        vec = {"resultType": "vector", "result": []}
        self.assertIn("result type", results.compare_answers(self.REF, vec))

    def test_values_near_zero_and_scalars(self):
        self.assertTrue(results.values_equal(0.0, 1e-17))
        self.assertFalse(results.values_equal(1e-3, 2e-3))
        s1 = {"resultType": "scalar", "result": [5, "2"]}
        self.assertIsNone(results.compare_answers(s1, {"resultType": "scalar", "result": [5, "2"]}))

    def test_summaries(self):
        self.assertEqual(results.summary([3, 1, 2]), {"median": 2, "min": 1, "max": 3, "n": 3})
        self.assertAlmostEqual(results.geomean([1, 100]), 10.0)
        self.assertIsNone(results.geomean([1, None, 0]))
        self.assertEqual(results.fmt_summary({"median": 2, "min": 1, "max": 3, "n": 3}),
                         "2.00 [1.00..3.00]")


class DataGenTest(unittest.TestCase):
    def test_model_has_exactly_n_distinct_series_and_is_deterministic(self):
        for n in (1, 100, 219, 500):
            m = datagen.Model(n, lambda g: [("node", str(g))], seed=3)
            keys = {(name, tuple(lab)) for name, lab in m.series()}
            self.assertEqual(len(keys), n)
        a = datagen.Model(300, lambda g: [("node", str(g))], seed=3)
        b = datagen.Model(300, lambda g: [("node", str(g))], seed=3)
        self.assertEqual(a.run_unit(1, 2, 50, 15), b.run_unit(1, 2, 50, 15))

    def test_counters_only_drop_at_a_reboot_and_buckets_are_cumulative(self):
        m = datagen.Model(219 * 2, lambda g: [("node", str(g))], seed=5, reboot_fraction=1.0)
        n = 80
        for gi, (units, _) in enumerate(m.groups):
            reset = m.reset_step(gi, n)
            self.assertGreater(reset, 0)
            for ui, u in enumerate(units):
                vals = m.run_unit(gi, ui, n, 15)
                if u.mtype == "counter":
                    for series in vals:
                        x = [float(v) for v in series]
                        drops = [i for i in range(1, n) if x[i] < x[i - 1]]
                        self.assertTrue(set(drops) <= {reset}, (u.family, drops, reset))
                if u.mtype == "histogram":
                    buckets = [[float(v) for v in s] for s in vals[:12]]
                    for step in range(n):
                        col = [b[step] for b in buckets]
                        self.assertEqual(col, sorted(col))
                        self.assertEqual(float(vals[13][step]), col[-1])  # _count == +Inf

    def test_openmetrics_timestamps_read_back_exactly(self):
        rng = random.Random(9)
        for _ in range(5000):
            ms = 1764000000000 + rng.randrange(10 ** 9)
            s = datagen.om_timestamp(ms)
            self.assertEqual(int(float(s) * 1000), ms, s)
            self.assertEqual(round(float(s) * 1000), ms, s)

    def test_import_files_hold_the_same_samples(self):
        m = datagen.Model(230, lambda g: [("instance", f"h{g}"), ("job", "node")], seed=2)
        with tempfile.TemporaryDirectory() as d:
            om, vm = os.path.join(d, "x.om"), os.path.join(d, "x.jsonl")
            n, first, last = datagen.write_import_files(m, 20, 15, 1764000000000, 4, 2, om, vm)
            self.assertEqual(n, 230 * 20)
            with open(om) as f:
                lines = f.read().splitlines()
            self.assertEqual(lines[-1], "# EOF")
            types = [ln.split()[2] for ln in lines if ln.startswith("# TYPE")]
            self.assertEqual(len(types), len(set(types)))  # each family contiguous
            om_samples = {}
            for ln in lines:
                if ln.startswith("#"):
                    continue
                series, value, ts = ln.rsplit(" ", 2)
                om_samples.setdefault(series, []).append(
                    (round(float(ts) * 1000), float(value)))
            vm_samples = {}
            with open(vm) as f:
                for ln in f:
                    doc = json.loads(ln)
                    metric = doc["metric"]
                    name = metric.pop("__name__")
                    key = datagen.series_text(name, list(metric.items()))
                    vm_samples[key] = list(zip(doc["timestamps"], doc["values"]))
            self.assertEqual(om_samples, vm_samples)
            stamps = sorted({t for pts in om_samples.values() for t, _ in pts})
            self.assertEqual((stamps[0], stamps[-1]), (first, last))
            # jitter is never zero, so no sample sits on a 15 s boundary
            self.assertTrue(all(t % 15000 for t in stamps))
            self.assertTrue(all(math.isfinite(v) for pts in om_samples.values() for _, v in pts))

    def test_bodies_are_gzip_text_with_one_type_per_family(self):
        import gzip
        m = datagen.Model(300, lambda g: [("node", str(g))], seed=1)
        bodies = datagen.render_bodies(m, 3, 5)
        self.assertEqual(len(bodies), 3)
        text = gzip.decompress(bodies[1]).decode()
        samples = [ln for ln in text.splitlines() if not ln.startswith("#")]
        self.assertEqual(len(samples), 300)
        types = [ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE")]
        self.assertEqual(len(types), len(set(types)))


class RestartFeedTest(unittest.TestCase):
    def test_remote_write_and_openmetrics_carry_the_same_samples(self):
        class Env:
            sizes = {"restart": dict(series=300, hours=0.1, interval=15, restarts=1)}
        data = compare.RestartData(Env())
        via_rw = {}
        for body in data.requests():
            for labels, samples in wire.decode_write_request(wire.snappy_decompress(body)):
                name = labels.pop("__name__")
                via_rw.setdefault((name, tuple(sorted(labels.items()))), []).extend(samples)
        via_om = {}
        text = b"".join(data.openmetrics_chunks()).decode()
        self.assertTrue(text.endswith("# EOF\n"))
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            series, value, ts = line.rsplit(" ", 2)
            name, rest = series.split("{", 1)
            labels = tuple(sorted((k, v.strip('"')) for k, v in
                                  (pair.split("=", 1) for pair in rest[:-1].split(","))))
            via_om.setdefault((name, labels), []).append((float(value), round(float(ts) * 1000)))
        self.assertEqual(len(via_rw), 300)
        self.assertEqual(via_rw, via_om)
        self.assertEqual(sum(len(v) for v in via_rw.values()), data.samples())
        # the probes' expectations follow from the data
        (count_expr, count_want), (_, steps_want) = data.probes()
        self.assertEqual(count_want, sum(1 for name, _ in via_rw if name == "node_load1"))
        self.assertEqual(steps_want, data.steps)

    def test_openmetrics_in_parts_is_the_whole_split_by_host(self):
        class Env:
            sizes = {"restart": dict(series=700, hours=0.1, interval=15, restarts=1)}
        data = compare.RestartData(Env())

        def lines(text):
            return [ln for ln in text.splitlines() if not ln.startswith("#")]
        whole = b"".join(data.openmetrics_chunks()).decode()
        parts = [b"".join(data.openmetrics_chunks(k, 2)).decode() for k in range(2)]
        for text in parts:
            self.assertTrue(text.endswith("# EOF\n"))
            types = [ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE")]
            self.assertEqual(len(types), len(set(types)))
        self.assertEqual(sorted(lines(whole)), sorted(lines(parts[0]) + lines(parts[1])))
        hosts = [{ln.split('instance="')[1].split('"')[0] for ln in lines(t)} for t in parts]
        self.assertTrue(hosts[0] and hosts[1] and not hosts[0] & hosts[1])


class StorageFilesTest(unittest.TestCase):
    @staticmethod
    def entry(shared, suffix, value):
        return bytes([shared, len(suffix), len(value)]) + suffix + value

    def properties_block(self, cf):
        first = b"rocksdb.block.based.table.index.type"
        return (b"\x00" * 100 + self.entry(0, first, b"\x00\x00\x00\x00")
                + self.entry(8, b"column.family.name", cf)
                + self.entry(8, b"num.entries", bytes([0xAC, 0x02]))   # varint 300
                + self.entry(8, b"raw.value.size", bytes([0x05]))
                + b"\x00\x00\x00\x00\x01\x00\x00\x00")      # restart array: not a key

    def test_sst_properties_and_breakdown(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "db"))
            os.makedirs(os.path.join(d, "wal"))
            files = {"db/000010.sst": self.properties_block(b"c1700000000000_7200000"),
                     "db/000011.sst": self.properties_block(b"i1700000000000_7200000"),
                     "db/000012.sst": b"not an sst",
                     "db/000013.log": b"x" * 7, "db/MANIFEST-000001": b"m",
                     "wal/0000000000000001.log": b"l" * 3, "wal/checkpoint.0000000000000001": b"c"}
            for name, data in files.items():
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            props = servers.sst_properties(os.path.join(d, "db/000010.sst"))
            self.assertEqual(props["rocksdb.column.family.name"], b"c1700000000000_7200000")
            self.assertEqual(props["rocksdb.num.entries"], bytes([0xAC, 0x02]))
            self.assertEqual(len(props), 4)
            size = len(files["db/000010.sst"])
            self.assertEqual(servers.dir_breakdown(d), {
                "rocksdb sst: chunks": size, "rocksdb sst: index": size, "rocksdb sst: ?": 10,
                "rocksdb log": 7, "rocksdb manifest/options": 1, "wal": 3,
                "head checkpoints": 1})
            stats = servers.hearth_sst_stats(d)
            self.assertEqual(stats["chunks"]["num.entries"], 300)
            self.assertEqual(stats["chunks"]["raw.value.size"], 5)
            self.assertEqual(stats["chunks"]["files"], 1)
            self.assertEqual(stats["?"]["files"], 1)


if __name__ == "__main__":
    unittest.main()
