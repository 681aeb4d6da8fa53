#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 13 (character GPT): the same model trained on the streams example 10 exports
(`build/examples/10_char_lm --export-data char_lm.npz`: example 13 reads the same split, vocabulary and
order), held-out bits per character, and batch-1 generation speed in PyTorch eager (nn.TransformerEncoder
has no KV cache: every character runs the model over the whole context, as example 13 without its cache).

Model: Embedding(V, 64) + a learned [64, 64] position table (N(0, 0.02²)) → nn.TransformerEncoder of 2
nn.TransformerEncoderLayer(64, 4, 256, dropout 0.1, gelu, batch_first, norm_first) with the causal mask →
LayerNorm(64) → Linear(64, V) per position; nn.CrossEntropyLoss over batch × 64 targets; Adam lr 1e-3;
batch 32 windows of 65 ids (inputs the first 64, targets the last 64), reshuffled every epoch.

    /usr/bin/python3 tools/torch_char_gpt.py --data char_lm.npz [--epochs 3] [--seeds 1 2 3] [--threads 1]
        [--json OUT.json]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_char_lm import load, train_model, write_json  # noqa: E402

LR, EMBED, STEPS = 1e-3, 64, 64


class CharGPT(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED)
        self.pos = nn.Parameter(0.02 * torch.randn(STEPS, EMBED))
        layer = nn.TransformerEncoderLayer(EMBED, 4, 256, 0.1, activation="gelu", batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(EMBED)
        self.head = nn.Linear(EMBED, vocab_size)
        self.register_buffer("mask", torch.triu(torch.ones(STEPS, STEPS, dtype=torch.bool), 1), persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.embed(ids) + self.pos[:t]
        return self.head(self.norm(self.layers(x, mask=self.mask[:t, :t])))


def generation_us_per_char(model, first_id, runs=20):
    """63 characters after a 1-character prompt (greedy), the best of `runs`: µs per character."""
    model.eval()
    best = float("inf")
    with torch.no_grad():
        for _ in range(runs):
            ids = torch.tensor([[first_id]])
            t0 = time.perf_counter()
            for _ in range(STEPS - 1):
                nxt = model(ids)[0, -1].argmax().view(1, 1)
                ids = torch.cat([ids, nxt], dim=1)
            best = min(best, (time.perf_counter() - t0) / (STEPS - 1) * 1e6)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help=".npz exported by build/examples/10_char_lm --export-data")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the metrics here (atomically)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load(args.data)
    results, us = [], None
    for seed in args.seeds:
        model, r = train_model(data, args.epochs, seed, CharGPT, LR)
        results.append(r)
        if us is None:
            us = generation_us_per_char(model, int(data["test"][0, 0]))
            print(f"generation, batch 1, {args.threads} thread(s), no KV cache: {us:.1f} µs per character "
                  f"({1e6 / us:.0f} characters/s)", flush=True)
    done = [r["final"]["test_bpc"] for r in results if r["final"]]
    if done:
        print(f"held-out {np.mean(done):.4f} ± {np.std(done):.4f} bits per character over {len(done)} seed(s)")
    if args.json:
        write_json(args.json, {"script": "torch_char_gpt", "data": args.data, "epochs": args.epochs, "threads": args.threads,
                               "torch": torch.__version__, "runs": results, "us_per_char_uncached": us,
                               "mean_test_bpc": float(np.mean(done)) if done else None})
    return 0


if __name__ == "__main__":
    sys.exit(main())
