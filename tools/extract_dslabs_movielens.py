#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extract the MovieLens ratings bundled with R's dslabs package -- without R.

Debian ships dslabs as ``r-cran-dslabs``; its data sets live in an R
"lazy-load database" under ``usr/lib/R/site-library/dslabs/data/``:

* ``Rdata.rdx`` -- the index, written by ``saveRDS`` (so a gzip file, possibly
  bzip2/xz) holding one serialized R list with ``variables`` (name -> integer
  pair [byte offset, byte length] into the .rdb), ``references`` and
  ``compressed`` (TRUE/1 = zlib, 2 = bzip2 family, 3 = xz family).
* ``Rdata.rdb`` -- concatenated blobs.  Each blob starts with the uncompressed
  size as a 4-byte big-endian integer.  With compressed == 1 a zlib stream
  follows directly; with 2 or 3 a one-byte method tag comes first: '0' stored,
  '1' zlib, '2' bzip2 and (type 3 only) 'Z' raw LZMA2 with xz preset 6 (no
  .xz container).  Uncompressed, each blob is one serialized R object.

R's binary serialization ("X\\n" = XDR, big-endian) is a header (format
version 2 or 3, writer and minimal reader R versions, and for version 3 the
native encoding) followed by a tree of items.  Each item begins with an int32
of flags: SEXP type in bits 0-7, "is object" bit 8, "has attributes" bit 9,
"has tag" bit 10, gp/levels (string encoding for CHARSXP) in bits 12+.
Vectors carry a length and their payload, then an attribute pairlist; pairlist
cells carry [attributes] [tag] car, then the cdr.  Symbols are entered in a
reference table and later repeated as REFSXP back-references.

The ``movielens`` data frame (100 004 ratings, 671 users) is written as
MovieLens's own ``ratings.csv``: ``userId,movieId,rating,timestamp``.
"""
import argparse, bz2, csv, glob, gzip, lzma, os, shutil, struct, subprocess, sys, tarfile, tempfile, time, zlib

NILVALUE, REFSXP, GLOBALENV, EMPTYENV, BASEENV, ALTREP = 254, 255, 253, 242, 241, 238
SYMSXP, LISTSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP = 1, 2, 9, 10, 13, 14, 16, 19
NA_INT = -2**31
LATIN1_MASK, BYTES_MASK = 1 << 2, 1 << 1
DB_SUBDIR = os.path.join("usr", "lib", "R", "site-library", "dslabs", "data")


class RFormatError(Exception):
    pass


class RSym(str):
    """An R symbol (name)."""


class RVec(list):
    """An R vector or pairlist: elements plus type and attribute dict."""
    def __init__(self, rtype, items, attrs=None):
        super().__init__(items)
        self.rtype, self.attrs = rtype, attrs or {}


class Unserializer:
    def __init__(self, data):
        self.buf, self.pos, self.refs = data, 0, []
        if data[:2] != b"X\n":
            raise RFormatError(f"not XDR binary serialization (header {data[:2]!r})")
        self.pos = 2
        self.version, _writer, _reader = self.ints(3)
        if self.version not in (2, 3):
            raise RFormatError(f"unsupported serialization version {self.version}")
        self.encoding = "utf-8"
        if self.version == 3:
            self.encoding = self.take(self.ints(1)[0]).decode("ascii")

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise RFormatError("truncated serialization stream")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def ints(self, n):
        return struct.unpack(f">{n}i", self.take(4 * n))

    def length(self):
        n = self.ints(1)[0]
        if n == -1:                      # long vector: two 32-bit halves
            hi, lo = struct.unpack(">II", self.take(8))
            n = (hi << 32) | lo
        return n

    def item(self):
        return self.dispatch(self.ints(1)[0])

    def dispatch(self, flags):
        t = flags & 0xFF
        if t == NILVALUE:
            return None
        if t in (GLOBALENV, EMPTYENV, BASEENV):
            return RSym({GLOBALENV: "<globalenv>", EMPTYENV: "<emptyenv>", BASEENV: "<baseenv>"}[t])
        if t == REFSXP:
            i = (flags >> 8) or self.ints(1)[0]
            return self.refs[i - 1]
        if t == SYMSXP:
            sym = RSym(self.item())
            self.refs.append(sym)
            return sym
        if t == LISTSXP:
            return self.pairlist(flags)
        if t == CHARSXP:
            n = self.ints(1)[0]
            if n == -1:
                return None              # NA_character_
            raw, levs = self.take(n), flags >> 12
            if levs & BYTES_MASK:
                return raw
            return raw.decode("latin-1" if levs & LATIN1_MASK else "utf-8", "replace")
        if t == ALTREP:
            raise RFormatError("ALTREP_SXP (238) objects are not supported; re-save "
                               "the data without ALTREP (e.g. serialization version 2)")
        if t in (LGLSXP, INTSXP):
            n = self.length()
            vals = [None if v == NA_INT else v for v in self.ints(n)] if n else []
            if t == LGLSXP:
                vals = [None if v is None else bool(v) for v in vals]
        elif t == REALSXP:
            n = self.length()
            vals = list(struct.unpack(f">{n}d", self.take(8 * n)))
        elif t in (STRSXP, VECSXP):
            vals = [self.item() for _ in range(self.length())]
        else:
            raise RFormatError(f"unsupported SEXP type {t} at byte {self.pos - 4}")
        attrs = self.attributes() if flags & (1 << 9) else {}
        return RVec(t, vals, attrs)

    def attributes(self):
        plist = self.item()
        return {} if plist is None else {str(k): v for k, v in plist}

    def pairlist(self, flags):
        """LISTSXP chain, read iteratively: [attr] [tag] car, then cdr."""
        cells, attrs = [], {}
        while (flags & 0xFF) == LISTSXP:
            a = self.attributes() if flags & (1 << 9) else {}
            attrs = attrs or a
            tag = self.item() if flags & (1 << 10) else None
            cells.append((tag, self.item()))
            flags = self.ints(1)[0]
        if self.dispatch(flags) is not None:
            raise RFormatError("dotted pairlist (non-NULL tail) not supported")
        return RVec(LISTSXP, cells, attrs)


def named(vec):
    """Turn a named R list/vector into a Python dict."""
    names = vec.attrs.get("names")
    if names is None:
        raise RFormatError("expected a named R list")
    return dict(zip(names, vec))


def read_rds(path):
    """saveRDS output: gzip by default, but bzip2/xz/plain are legal too."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    return data


def unpack_blob(blob, compressed):
    size = struct.unpack(">I", blob[:4])[0]
    if compressed in (2, 3):
        method, body = blob[4:5], blob[5:]
        if method == b"0":
            out = body
        elif method == b"1":
            out = zlib.decompress(body)
        elif method == b"2":
            out = bz2.decompress(body)
        elif method == b"Z" and compressed == 3:
            out = lzma.decompress(body, format=lzma.FORMAT_RAW,
                                  filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])
        else:
            raise RFormatError(f"unknown .rdb compression method {method!r}")
    elif compressed:
        out = zlib.decompress(blob[4:])
    else:
        out = blob
    if compressed and len(out) != size:
        raise RFormatError(f".rdb blob size mismatch: {len(out)} != {size}")
    return out


def lazyload_fetch(rdx, rdb, name):
    index = named(Unserializer(read_rds(rdx)).item())
    variables = named(index["variables"])
    if name not in variables:
        raise RFormatError(f"{name!r} not in {rdx}; have {sorted(variables)}")
    comp = index.get("compressed")
    comp = int(comp[0]) if comp else 0          # TRUE -> 1, or 2 / 3
    offset, length = variables[name]
    with open(rdb, "rb") as f:
        f.seek(offset)
        blob = f.read(length)
    return Unserializer(unpack_blob(blob, comp)).item()


def extract_deb(deb, dest):
    if shutil.which("dpkg"):
        subprocess.run(["dpkg", "-x", deb, dest], check=True)
        return
    with open(deb, "rb") as f:                  # fallback: ar archive by hand
        data, pos = f.read(), 8
    while pos < len(data):
        name, size = data[pos:pos + 16].decode().strip().rstrip("/"), int(data[pos + 48:pos + 58])
        if name.startswith("data.tar"):
            tmp = os.path.join(dest, name)
            with open(tmp, "wb") as out:
                out.write(data[pos + 60:pos + 60 + size])
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            with tarfile.open(tmp) as tar:     # .zst is not handled by tarfile
                tar.extractall(dest, **safe)
            return
        pos += 60 + size + (size & 1)
    raise RFormatError(f"no data.tar member in {deb}")


def download_deb(dest):
    cmd = ["apt-get", "download", "r-cran-dslabs"]
    if subprocess.run(cmd, cwd=dest).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(cmd, cwd=dest, check=True)
    debs = glob.glob(os.path.join(dest, "r-cran-dslabs_*.deb"))
    if not debs:
        raise RFormatError("apt-get download produced no .deb")
    return debs[0]


def find_db(root):
    for cand in (os.path.join(root, DB_SUBDIR), os.path.join(root, "dslabs", "data"),
                 os.path.join(root, "data"), root):
        if os.path.isfile(os.path.join(cand, "Rdata.rdx")):
            return os.path.join(cand, "Rdata.rdx"), os.path.join(cand, "Rdata.rdb")
    raise RFormatError(f"no Rdata.rdx found under {root}")


def column(df, name):
    col = df[name]
    levels = col.attrs.get("levels")
    return [None if v is None else levels[v - 1] for v in col] if levels else list(col)


def validate(df):
    missing = {"userId", "movieId", "rating", "timestamp"} - set(df)
    if missing:
        raise RFormatError(f"movielens lacks columns {sorted(missing)}; has {list(df)}")
    cols = {k: column(df, k) for k in ("userId", "movieId", "rating", "timestamp")}
    n = len(cols["rating"])
    if any(len(c) != n for c in cols.values()) or any(None in c for c in cols.values()):
        raise RFormatError("ragged columns or NA values in movielens")
    bad = [r for r in cols["rating"] if not (0.5 <= r <= 5 and (2 * r).is_integer())]
    if bad:
        raise RFormatError(f"{len(bad)} ratings off the half-star scale, e.g. {bad[0]}")
    users, movies = len(set(cols["userId"])), len(set(cols["movieId"]))
    if (n, users) != (100004, 671):
        print(f"warning: expected 100004 ratings of 671 users, got {n} / {users}", file=sys.stderr)
    mean = sum(cols["rating"]) / n
    print(f"movielens: {n} ratings, {users} users, {movies} movies, rating "
          f"{min(cols['rating'])}..{max(cols['rating'])} (mean {mean:.4f})", file=sys.stderr)
    return cols


def write_csv(path, header, rows):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--deb", help="use this r-cran-dslabs .deb instead of apt-get download")
    src.add_argument("--dir", help="already-extracted package tree (or its data/ dir)")
    ap.add_argument("--out", default=os.path.join("data", "movielens", "ratings.csv"),
                    help="ratings CSV path (default: %(default)s)")
    ap.add_argument("--movies", action="store_true",
                    help="also write movies.csv (movieId,title,genres) next to --out; dslabs "
                         "titles lack MovieLens's trailing ' (year)'")
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="dslabs-") as tmp:
        root = args.dir
        if root is None:
            deb = os.path.abspath(args.deb) if args.deb else download_deb(tmp)
            root = os.path.join(tmp, "pkg")
            extract_deb(deb, root)
        rdx, rdb = find_db(root)
        frame = lazyload_fetch(rdx, rdb, "movielens")
    if frame is None or frame.rtype != VECSXP or "data.frame" not in (frame.attrs.get("class") or []):
        raise RFormatError("movielens is not a data.frame")
    df = named(frame)
    cols = validate(df)
    rows = zip(cols["userId"], cols["movieId"], (repr(float(r)) for r in cols["rating"]),
               (int(t) for t in cols["timestamp"]))
    write_csv(args.out, ["userId", "movieId", "rating", "timestamp"], rows)
    if args.movies and not {"title", "genres"} <= set(df):
        print("warning: no title/genres columns, movies.csv not written", file=sys.stderr)
    elif args.movies:
        movies = dict(zip(cols["movieId"], zip(column(df, "title"), column(df, "genres"))))
        write_csv(os.path.join(os.path.dirname(args.out), "movies.csv"), ["movieId", "title", "genres"],
                  ((m, t, g) for m, (t, g) in sorted(movies.items())))
    print(f"wrote {args.out} in {time.time() - t0:.2f}s", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except (RFormatError, subprocess.CalledProcessError, OSError) as e:
        sys.exit(f"error: {e}")
