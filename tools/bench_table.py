#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns the JSON of scripts/bench into one markdown summary: every figure as a ratio to a peer or to
the machine's limits measured in the same run (peak FMA, STREAM triad). Standard library only."""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench-results"


def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)["benchmarks"]


machine = {b["name"]: b for b in load("bench_machine")}
peak = {t: machine[f"BM_Peak_FMA/{t}/real_time"]["FLOP/s"] for t in (1, 2)}
stream = {t: machine[f"BM_Stream_Triad/{t}/real_time"]["bytes/s"] for t in (1, 2)}
print("## Machine (measured in this run)\n")
print("| threads | peak FMA fp32 | STREAM triad |\n|---|---|---|")
for t in (1, 2):
    print(f"| {t} | {peak[t] / 1e9:.0f} GFLOP/s | {stream[t] / 1e9:.1f} GB/s |")
core = open(os.path.join(out, "openblas_core.txt")).read().strip() if os.path.exists(os.path.join(out, "openblas_core.txt")) else "?"
print(f"\nOpenBLAS core type as run by default: {core or '?'}\n")

rows = {}
for b in load("bench_gemm"):
    parts = b["name"].split("/")
    peer, key = parts[1], "/".join(p for p in parts[2:] if p != "real_time")
    rows.setdefault(key, {})[peer] = b["FLOP/s"]
form = {"0": "A·B", "1": "A·Bᵀ", "2": "Aᵀ·B"}
print("## sgemm (GFLOP/s)\n")
print("| M×N×K | form | threads | ctnn | OpenBLAS | oneDNN | ctnn / best peer | ctnn % of peak |\n|---|---|---|---|---|---|---|---|")
for key, v in rows.items():
    f = dict(p.split(":") for p in key.split("/"))
    t = int(f["threads"])
    best = max(v.get("openblas", 0), v.get("onednn", 0))
    c = v.get("ctnn", 0)
    print(f"| {f['M']}×{f['N']}×{f['K']} | {form[f['form']]} | {t} | {c / 1e9:.1f} | {v.get('openblas', 0) / 1e9:.1f} | "
          f"{v.get('onednn', 0) / 1e9:.1f} | {c / best if best else float('nan'):.2f} | {100 * c / peak[t]:.0f} % |")

print("\n## Memory-bound kernels (1 thread)\n")
print("| kernel | GB/s | % of STREAM triad |\n|---|---|---|")
for b in load("bench_kernels"):
    if "bytes/s" in b:
        print(f"| {b['name'].replace('/real_time', '')} | {b['bytes/s'] / 1e9:.1f} | {100 * b['bytes/s'] / stream[1]:.0f} % |")

print("\n## MLP 784-256-128-10 (ctnn alone)\n")
print("| benchmark | samples/s | GFLOP/s | % of peak |\n|---|---|---|---|")
for b in load("bench_mlp"):
    name = b["name"].replace("/real_time", "")
    t = int(name.split("/")[2]) if name.startswith("BM_MLP_TrainStep") else 1
    flops = b.get("FLOP/s")
    pct = f"{100 * flops / peak[t]:.0f} %" if flops else "-"
    print(f"| {name} | {b['samples/s']:.0f} | {flops / 1e9 if flops else 0:.0f} | {pct} |")

print("\n## ctnn vs libtorch, same process, same data, same threads\n")
print(open(os.path.join(out, "compare_mlp.md")).read())

cnn = os.path.join(out, "compare_cnn.md")
if os.path.exists(cnn):
    print("\n## CNN and conv2d: ctnn vs libtorch, same process, same threads\n")
    print(open(cnn).read())

for name, title in (("compare_lstm", "LSTM and the text classifier: ctnn vs libtorch"),
                    ("compare_lstm_avx2", "The same with ctnn's AVX2 paths (-mno-avx512f)"),
                    ("compare_attention", "Attention and a transformer encoder layer: ctnn vs libtorch"),
                    ("compare_attention_avx2", "The same with ctnn's AVX2 paths (-mno-avx512f)"),
                    ("compare_generative", "A GAN iteration and a VAE step (examples 14 and 17): ctnn vs libtorch"),
                    ("compare_recsys", "A biased-MF epoch and a NeuMF step (example 22): ctnn vs libtorch")):
    path = os.path.join(out, name + ".md")
    if os.path.exists(path):
        print(f"\n## {title}\n")
        print(open(path).read())
