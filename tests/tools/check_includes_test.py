#!/usr/bin/env python3
"""The include check must fail, naming file, line and include, on each kind of violation."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "check_includes.py")


def run(tree):
    with tempfile.TemporaryDirectory() as root:
        for path, text in tree.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        p = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)
        return p.returncode, p.stdout


class IncludeCheckTest(unittest.TestCase):
    def test_clean_tree_passes(self):
        code, out = run({
            "model/labels.h": "#pragma once\n#include <string>\n",
            "tsdb/storage/storage.h": '#include "model/labels.h"\n',
            "tsdb/head.cpp": '#include "tsdb/storage/storage.h"\n#include <rocksdb/db.h>\n',
            "scraper/loop.cpp": '#include "tsdb/storage/storage.h"\n#include "config/config.h"\n',
            "cmd/hearth/main.cpp": '#include "tsdb/head.h"\n',
            "tsdb/internal/rocks.h": "#include <rocksdb/db.h>\n",
        })
        self.assertEqual(code, 0, out)

    def test_engine_include_from_scraper_fails(self):
        code, out = run({"scraper/loop.cpp": '// x\n#include "tsdb/head.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn('scraper/loop.cpp:2: forbidden include "tsdb/head.h"', out)

    def test_upward_include_fails(self):
        code, out = run({"model/labels.cpp": '#include "query/engine.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn('model/labels.cpp:1: forbidden include "query/engine.h"', out)

    def test_storage_seam_cannot_see_engine(self):
        code, out = run({"tsdb/storage/storage.h": '#include "tsdb/head.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn("module 'tsdb/storage' may use model", out)

    def test_unrooted_include_fails(self):
        code, out = run({"query/engine.cpp": '#include "engine.h"\n'})
        self.assertEqual(code, 1)
        self.assertIn("not rooted at a module folder", out)

    def test_heavy_header_in_public_header_fails(self):
        code, out = run({"web/http.h": "#include <boost/beast/http.hpp>\n"})
        self.assertEqual(code, 1)
        self.assertIn("web/http.h:1: heavy header <boost/beast/http.hpp>", out)


if __name__ == "__main__":
    unittest.main()
