#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Training history CSVs (written by the examples and the tools/torch_*.py twins) as PNG curves.

A CSV: a header of column names, then numeric rows; the first column (`step`, `epoch`, ...) is the x axis,
the others are plotted one subplot each, on a shared x axis. Empty cells are missing values (a sparse
column, e.g. one evaluated every few steps, is drawn through its own points). Several CSVs overlay,
each curve labelled `file:column`.

    /usr/bin/python3 tools/plot_history.py history.csv [more.csv ...] -o curves.png \
        [--columns a,b] [--title T] [--log]

--columns: only these (in this order; each must be in at least one file), else every column of every file.
--log: logarithmic y axes. Errors (a missing or empty file, a non-numeric cell, a ragged row) exit with
status 2 and a message naming the file.
"""
import argparse
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def fail(message):
    print(f"plot_history: {message}", file=sys.stderr)
    sys.exit(2)


def read_history(path):
    """→ (column names, list of columns of floats, NaN for empty cells)."""
    try:
        with open(path, newline="") as f:
            rows = [(i, r) for i, r in enumerate(csv.reader(f), 1) if any(c.strip() for c in r)]
    except OSError as e:
        fail(f"{path}: cannot read: {e.strerror}")
    except (UnicodeDecodeError, csv.Error) as e:
        fail(f"{path}: not a CSV text file ({e})")
    if not rows:
        fail(f"{path}: empty file (expected a header such as 'epoch,loss' and rows of numbers)")
    header = [c.strip() for c in rows[0][1]]
    if len(header) < 2 or not all(header):
        fail(f"{path}: line 1: the header needs an x column and at least one more, all named; got {rows[0][1]}")
    if len(rows) == 1:
        fail(f"{path}: no data rows after the header")
    columns = [[] for _ in header]
    for line, row in rows[1:]:
        if len(row) != len(header):
            fail(f"{path}: line {line}: {len(row)} cells, the header has {len(header)}")
        for name, cell, column in zip(header, row, columns):
            try:
                column.append(float(cell) if cell.strip() else math.nan)
            except ValueError:
                fail(f"{path}: line {line}, column '{name}': '{cell}' is not a number")
    return header, columns


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+", help="history CSV file(s)")
    ap.add_argument("-o", "--output", help="PNG to write (default: the first CSV's name with .png)")
    ap.add_argument("--columns", help="comma-separated columns to plot (default: all)")
    ap.add_argument("--title", help="figure title")
    ap.add_argument("--log", action="store_true", help="logarithmic y axes")
    args = ap.parse_args()
    histories = {path: read_history(path) for path in dict.fromkeys(args.csv)}

    available = list(dict.fromkeys(name for header, _ in histories.values() for name in header[1:]))
    if args.columns:
        wanted = [c.strip() for c in args.columns.split(",") if c.strip()]
        missing = [c for c in wanted if c not in available]
        if missing or not wanted:
            fail(f"--columns {args.columns}: {', '.join(missing) or 'nothing'} not in "
                 f"{', '.join(histories)} (columns: {', '.join(available)})")
    else:
        wanted = available

    fig, axes = plt.subplots(len(wanted), 1, sharex=True, squeeze=False, figsize=(8, 1.2 + 2.4 * len(wanted)))
    for ax, name in zip(axes[:, 0], wanted):
        for path, (header, columns) in histories.items():
            if name not in header:
                continue
            points = [(x, y) for x, y in zip(columns[0], columns[header.index(name)])
                      if not (math.isnan(x) or math.isnan(y))]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="." if len(xs) <= 50 else None, label=f"{path}:{name}")
        ax.set_ylabel(name)
        if args.log:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if len(histories) > 1:
            ax.legend(fontsize="small")
    axes[-1, 0].set_xlabel(" / ".join(dict.fromkeys(header[0] for header, _ in histories.values())))
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()

    output = args.output or os.path.splitext(args.csv[0])[0] + ".png"
    tmp = output + ".tmp"
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, output)
    print(f"{output}: {len(wanted)} column(s) from {len(histories)} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
