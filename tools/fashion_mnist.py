# SPDX-License-Identifier: MIT
"""Fashion-MNIST IDX loading and the history/JSON writers shared by the PyTorch twins of the generative
examples (tools/torch_gan.py, tools/torch_vae.py). Not a program: imported by them.

Data: --data DIR, else $CTNN_DATA_DIR, else /usr/share/datasets/fashion-mnist (Debian's
dataset-fashion-mnist); the IDX files raw or .gz, as ctnn's loader reads them.
"""
import csv
import gzip
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# write_json is re-exported for the twins
from export_torch import write_atomic, write_json  # noqa: E402,F401

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def add_run_args(ap, epochs=20):
    """The options both twins share: --epochs --seed --history --json --limit --threads --data."""
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--history", help="per-epoch CSV")
    ap.add_argument("--json", help="write the metrics here (atomically)")
    ap.add_argument("--limit", type=int, help="use only the first N training images")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", help="Fashion-MNIST directory")


def setup_torch(args):
    """--threads and deterministic algorithms, as every twin runs."""
    import torch
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)


def data_dir(arg=None):
    return arg or os.environ.get("CTNN_DATA_DIR") or DEFAULT_DIR


def read_idx(directory, stem):
    for name, opener in ((stem, open), (stem + ".gz", gzip.open)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with opener(path, "rb") as f:
                raw = f.read()
            ndim = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
            return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    sys.exit(f"fashion-mnist: '{os.path.join(directory, stem)}[.gz]' not found; pass --data DIR, set "
             "CTNN_DATA_DIR, or install Debian's dataset-fashion-mnist")


def load_fashion_mnist(directory, part, limit=None):
    """part 'train' or 't10k' → (images uint8 [N, 28, 28], labels int64 [N]), the first `limit` if given."""
    x = read_idx(directory, f"{part}-images-idx3-ubyte")
    y = read_idx(directory, f"{part}-labels-idx1-ubyte").astype(np.int64)
    if len(x) != len(y):
        sys.exit(f"fashion-mnist: {part}: {len(x)} images but {len(y)} labels")
    return (x[:limit], y[:limit]) if limit else (x, y)


def write_history(path, columns, rows):
    """A CSV for tools/plot_history.py: a header, then one row of `columns` per dict in rows (atomically)."""
    def write(tmp):
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(columns)
            w.writerows([[f"{r[c]:.6g}" if isinstance(r[c], float) else r[c] for c in columns] for r in rows])
    write_atomic(path, write)
