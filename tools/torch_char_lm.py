#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 10 (character language model): trains on the .npz the C++ example exports and
reports held-out bits per character.

Data (written by the C++ example): train_text int32 [N] and test_text int32 [M] (streams of character
ids), vocab_size int32 [1].

Windows: a stream is cut into non-overlapping windows of 65 ids, window k = text[65 k : 65 k + 65] for
k < len // 65 (a shorter tail is dropped); inputs are a window's first 64 ids, targets its last 64.
Every window starts from a zero state. Model: Embedding(V, 32) → LSTM(32 → 128, every step) →
Linear(128, V) at every step; nn.CrossEntropyLoss (mean over batch × 64 targets); Adam lr 2e-3, no
gradient clipping; batch 32 windows, the last one partial, windows reshuffled each epoch. PyTorch's
default initialisation. Held-out bits per character = mean cross-entropy over every target of every
test window / ln 2. Deterministic for a seed: torch.manual_seed(seed) before the model is built, a
torch.Generator seeded with `seed` shuffles.

    /usr/bin/python3 tools/torch_char_lm.py --data build/char_lm.npz [--epochs 3]
        [--seed 0 | --seeds 1 2 3] [--threads 1] [--json OUT.json]
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_json  # noqa: E402

BATCH, LR, EMBED, HIDDEN, WINDOW = 32, 2e-3, 32, 128, 65


def windows(stream):
    """[len // 65, 65] int64: the non-overlapping 65-id windows of `stream`."""
    n = stream.shape[0] // WINDOW
    return torch.from_numpy(stream[: n * WINDOW].astype(np.int64).reshape(n, WINDOW))


def load(path):
    d = np.load(path)
    v = int(d["vocab_size"].reshape(-1)[0])
    out = {"vocab_size": v}
    for split in ("train", "test"):
        s = d[f"{split}_text"]
        if s.ndim != 1 or s.shape[0] < WINDOW:
            sys.exit(f"{path}: {split}_text must be a 1-D stream of at least {WINDOW} ids; got shape {s.shape}")
        if s.min() < 0 or s.max() >= v:
            sys.exit(f"{path}: {split}_text ids must lie in [0, vocab_size = {v})")
        out[split] = windows(s)
    return out


class CharLM(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED)
        self.lstm = nn.LSTM(EMBED, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, vocab_size)

    def forward(self, ids):
        """ids [B, 64] → logits [B, 64, V]; zero initial state."""
        seq, _ = self.lstm(self.embed(ids))
        return self.head(seq)


def loss_of(model, win, loss_fn):
    logits = model(win[:, :-1])
    return loss_fn(logits.reshape(-1, logits.shape[-1]), win[:, 1:].reshape(-1))


def bits_per_char(model, test):
    """Mean cross-entropy over every target of every test window, in bits."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for s in range(0, test.shape[0], 256):
            total += loss_of(model, test[s: s + 256], nn.CrossEntropyLoss(reduction="sum")).item()
    return total / (test.shape[0] * (WINDOW - 1)) / math.log(2)


def train_model(data, epochs, seed, make_model, lr):
    """Trains make_model(vocab_size) (built after torch.manual_seed(seed)) with Adam(lr), batch 32, windows
    reshuffled each epoch by a generator seeded with `seed`; returns the model and the per-epoch metrics."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = make_model(data["vocab_size"])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    train = data["train"]
    n = train.shape[0]
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        t0, total = time.perf_counter(), 0.0
        order = torch.randperm(n, generator=gen)
        for s in range(0, n, BATCH):
            win = train[order[s: s + BATCH]]
            loss = loss_of(model, win, loss_fn)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * win.shape[0]
        m = {"epoch": epoch, "train_loss": total / n, "train_bpc": total / n / math.log(2),
             "test_bpc": bits_per_char(model, data["test"]), "seconds": time.perf_counter() - t0}
        history.append(m)
        print(f"seed {seed} epoch {epoch}: train loss {m['train_loss']:.4f} nat ({m['train_bpc']:.4f} bpc)  "
              f"test {m['test_bpc']:.4f} bpc  ({m['seconds']:.1f} s)", flush=True)
    return model, {"seed": seed, "epochs": history, "final": history[-1] if history else None}


def run(data, epochs, seed):
    return train_model(data, epochs, seed, CharLM, LR)[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help=".npz exported by the C++ example")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, nargs="+", help="several seeds; reports the mean (overrides --seed)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the metrics here (atomically)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    data = load(args.data)
    v = data["vocab_size"]
    print(f"{args.data}: vocab {v} ({math.log2(v):.3f} bits uniform), train {data['train'].shape[0]} windows, "
          f"test {data['test'].shape[0]} windows of {WINDOW} ids")
    runs = [run(data, args.epochs, s) for s in (args.seeds or [args.seed])]
    keys = ("train_loss", "train_bpc", "test_bpc")
    mean = {k: float(np.mean([r["final"][k] for r in runs])) for k in keys}
    std = {k: float(np.std([r["final"][k] for r in runs])) for k in keys}
    print(f"summary over {len(runs)} seed(s), {args.epochs} epochs: held-out {mean['test_bpc']:.4f} bits per "
          f"character (± {std['test_bpc']:.4f}), train {mean['train_bpc']:.4f}")
    if args.json:
        write_json(args.json, {"script": "torch_char_lm", "data": args.data, "epochs": args.epochs,
                               "threads": args.threads, "window": WINDOW, "torch": torch.__version__, "runs": runs,
                               "mean": mean, "std": std})
    return 0 if all(math.isfinite(r["final"]["test_bpc"]) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
