#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Offline tests for extract_dslabs_movielens.py.

A tiny XDR serializer below builds synthetic lazy-load databases, so no R and
no network are needed.  Set DSLABS_DEB=/path/to/r-cran-dslabs_*.deb to also
check the real package.  Run: python3 tools/test_extract_dslabs.py
"""
import bz2, csv, gzip, lzma, os, struct, subprocess, sys, tempfile, unittest, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import extract_dslabs_movielens as ex  # noqa: E402

SCRIPT = os.path.join(HERE, "extract_dslabs_movielens.py")


class Writer:
    """Just enough of R's serialize() to write named lists and data frames."""
    def __init__(self, version=3):
        self.out, self.syms = [b"X\n", struct.pack(">3i", version, 0x040200, 0x030500)], {}
        if version == 3:
            self.out.append(struct.pack(">i", 5) + b"UTF-8")

    def i(self, *v):
        self.out.append(struct.pack(f">{len(v)}i", *v))

    def chars(self, s):
        if s is None:
            return self.i(9, -1)
        b = s.encode()
        self.i(9 | (8 << 12), len(b))
        self.out.append(b)

    def sym(self, name):
        if name in self.syms:                  # packed back-reference
            return self.i(255 | (self.syms[name] << 8))
        self.syms[name] = len(self.syms) + 1
        self.i(1)
        self.chars(name)

    def vec(self, t, vals, attrs=None):
        self.i(t | ((1 << 9) if attrs else 0) | ((1 << 8) if attrs and "class" in attrs else 0),
               len(vals))
        if t in (13, 10):
            self.i(*[-2**31 if v is None else int(v) for v in vals])
        elif t == 14:
            self.out.append(struct.pack(f">{len(vals)}d", *vals))
        elif t == 16:
            for v in vals:
                self.chars(v)
        else:
            for v in vals:
                v(self)
        if attrs:
            for k, v in attrs.items():         # pairlist cells: flags, tag, car
                self.i(2 | (1 << 10))
                self.sym(k)
                v(self)
            self.i(254)

    def bytes(self):
        return b"".join(self.out)


def strs(*v):
    return lambda w: w.vec(16, list(v))


def frame_bytes(version=3, n=4):
    w = Writer(version)
    cols = {"userId": lambda w: w.vec(13, [1, 1, 2, 3][:n]),
            "movieId": lambda w: w.vec(13, [10, 20, 10, 30][:n]),
            "title": strs(*["A, \"quoted\"", "B", "A, \"quoted\"", None][:n]),
            "genres": lambda w: w.vec(13, [2, 1, 2, 1][:n], {"levels": strs("Drama", "Action|Comedy"),
                                                              "class": strs("factor")}),
            "rating": lambda w: w.vec(14, [4.0, 3.5, 0.5, 5.0][:n]),
            "timestamp": lambda w: w.vec(13, [1260759144, 1260759179, 5, 6][:n])}
    w.vec(19, [cols[k] for k in cols], {"names": strs(*cols), "class": strs("data.frame"),
                                         "row.names": lambda w: w.vec(13, [None, -n])})
    return w.bytes()


def compress(payload, comp, method):
    head = struct.pack(">I", len(payload))
    if comp == 1:
        return head + zlib.compress(payload)
    body = {b"0": payload, b"1": zlib.compress(payload), b"2": bz2.compress(payload),
            b"Z": lzma.compress(payload, format=lzma.FORMAT_RAW,
                                filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])}[method]
    return head + method + body


def make_db(root, comp=1, method=b"1", version=3, payload=None):
    blob = compress(payload or frame_bytes(version), comp, method)
    pad = b"\0" * 7                              # movielens is not the first entry
    with open(os.path.join(root, "Rdata.rdb"), "wb") as f:
        f.write(pad + blob)
    w = Writer(version)
    w.vec(19, [lambda w: w.vec(19, [lambda w: w.vec(13, [len(pad), len(blob)])],
                                {"names": strs("movielens")}),
               lambda w: w.vec(19, []),
               lambda w: (w.vec(10, [True]) if comp == 1 else w.vec(13, [comp]))],
          {"names": strs("variables", "references", "compressed")})
    with open(os.path.join(root, "Rdata.rdx"), "wb") as f:
        f.write(gzip.compress(w.bytes()))


class ExtractTests(unittest.TestCase):
    def fetch(self, **kw):
        with tempfile.TemporaryDirectory() as d:
            make_db(d, **kw)
            return ex.lazyload_fetch(os.path.join(d, "Rdata.rdx"), os.path.join(d, "Rdata.rdb"),
                                     "movielens")

    def test_all_compressions_and_versions(self):
        for comp, method in [(1, None), (2, b"0"), (2, b"1"), (2, b"2"), (3, b"Z"), (3, b"2")]:
            for version in (2, 3):
                with self.subTest(comp=comp, method=method, version=version):
                    df = ex.named(self.fetch(comp=comp, method=method, version=version))
                    self.assertEqual(ex.column(df, "genres"), ["Action|Comedy", "Drama"] * 2)
                    self.assertEqual(df["title"][3], None)
                    self.assertEqual(list(df["rating"]), [4.0, 3.5, 0.5, 5.0])

    def test_altrep_is_rejected(self):
        w = Writer()
        w.i(238)
        with self.assertRaisesRegex(ex.RFormatError, "ALTREP"):
            ex.Unserializer(w.bytes()).item()

    def test_cli_writes_csvs(self):
        with tempfile.TemporaryDirectory() as d:
            make_db(d, comp=3, method=b"Z")
            out = os.path.join(d, "o", "ratings.csv")
            r = subprocess.run([sys.executable, SCRIPT, "--dir", d, "--out", out, "--movies"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("4 ratings, 3 users, 3 movies", r.stderr)
            with open(out) as f:
                self.assertEqual(f.read().splitlines()[:3], ["userId,movieId,rating,timestamp",
                                                             "1,10,4.0,1260759144", "1,20,3.5,1260759179"])
            with open(os.path.join(d, "o", "movies.csv"), newline="") as f:
                rows = list(csv.reader(f))
            self.assertEqual(rows[1], ["10", 'A, "quoted"', "Action|Comedy"])
            self.assertFalse(os.path.exists(out + ".tmp"))

    @unittest.skipUnless(os.environ.get("DSLABS_DEB"), "set DSLABS_DEB to test the real package")
    def test_real_package(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "ratings.csv")
            r = subprocess.run([sys.executable, SCRIPT, "--deb", os.environ["DSLABS_DEB"], "--out", out],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("100004 ratings, 671 users", r.stderr)


if __name__ == "__main__":
    unittest.main()
