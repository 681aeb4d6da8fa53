#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 08_text_classifier: trains on the .npz the C++ example exports and reports
test accuracy, precision, recall, F1 (class 1 positive) and loss, so ctnn's numbers have a peer.

Data (written by the C++ example): train_ids int32 [N, T] (word ids, left-aligned, 0 = <pad> after
each sample's end), train_lengths int32 [N] (>= 1), train_labels int32 [N] (0/1), the same test_*,
and vocab_size int32 [1].

Model: Embedding(V, 64, padding_idx=0) → LSTM(64 → 64, every step) → LSTM(64 → 64, the state after
each sample's own last step) → Linear(64, 64) + ReLU → Linear(64, 1) + Sigmoid; nn.BCELoss (mean over
the batch); Adam lr 1e-3; batch 32, the last one partial, reshuffled each epoch. Both LSTMs run on one
PackedSequence (pack_padded_sequence, enforce_sorted=False), so padded steps are never read; for the
second LSTM that gives exactly "last state at the sample's own length", and the first one's outputs
at valid steps are what an unmasked forward LSTM gives there. PyTorch's default initialisation.
Deterministic for a seed: torch.manual_seed(seed) before the model is built, a torch.Generator seeded
with `seed` shuffles.

    /usr/bin/python3 tools/torch_text_classifier.py --data build/text_classifier.npz [--epochs 5]
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
from torch.nn.utils.rnn import pack_padded_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_json  # noqa: E402

BATCH, LR, EMBED, HIDDEN = 32, 1e-3, 64, 64


def load(path):
    d = np.load(path)
    out = {}
    for split in ("train", "test"):
        ids, lengths, labels = (d[f"{split}_{k}"] for k in ("ids", "lengths", "labels"))
        if ids.ndim != 2 or lengths.shape != (ids.shape[0],) or labels.shape != (ids.shape[0],):
            sys.exit(f"{path}: {split}_ids must be [N, T] and {split}_lengths, {split}_labels [N]; got "
                     f"{ids.shape}, {lengths.shape}, {labels.shape}")
        if lengths.min() < 1 or lengths.max() > ids.shape[1]:
            sys.exit(f"{path}: {split}_lengths must lie in [1, T = {ids.shape[1]}]")
        if not np.isin(labels, (0, 1)).all():
            sys.exit(f"{path}: {split}_labels must be 0 or 1")
        out[split] = (torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(lengths.astype(np.int64)),
                      torch.from_numpy(labels.astype(np.float32)))
    out["vocab_size"] = int(d["vocab_size"].reshape(-1)[0])
    return out


class TextClassifier(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, padding_idx=0)
        self.lstm1 = nn.LSTM(EMBED, HIDDEN, batch_first=True)
        self.lstm2 = nn.LSTM(HIDDEN, HIDDEN, batch_first=True)
        self.head = nn.Sequential(nn.Linear(HIDDEN, 64), nn.ReLU(), nn.Linear(64, 1), nn.Sigmoid())

    def forward(self, ids, lengths):
        """ids [B, T], lengths [B] (CPU int64) → P(class 1) [B]."""
        packed = pack_padded_sequence(self.embed(ids), lengths, batch_first=True, enforce_sorted=False)
        seq, _ = self.lstm1(packed)
        _, (h_n, _) = self.lstm2(seq)  # h_n [1, B, H] in the batch's original order
        return self.head(h_n[-1]).squeeze(1)


def batch_slice(data, idx):
    ids, lengths, labels = data
    lengths_b = lengths[idx]
    return ids[idx, : int(lengths_b.max())], lengths_b, labels[idx]


def evaluate(model, data, loss_fn):
    model.eval()
    n = data[0].shape[0]
    probs = []
    with torch.no_grad():
        for s in range(0, n, 256):
            ids, lengths, _ = batch_slice(data, torch.arange(s, min(n, s + 256)))
            probs.append(model(ids, lengths))
    p, y = torch.cat(probs), data[2]
    return binary_scores(p >= 0.5, y, loss_fn(p, y).item())


def binary_scores(predicted, y, loss):
    """Accuracy, precision, recall and F1 (class 1 positive) of boolean predictions against 0/1 labels y."""
    pred = predicted.float()
    tp = float(((pred == 1) & (y == 1)).sum())
    fp = float(((pred == 1) & (y == 0)).sum())
    fn = float(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": float((pred == y).float().mean()), "precision": precision, "recall": recall, "f1": f1,
            "loss": loss}


def run(data, epochs, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = TextClassifier(data["vocab_size"])
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.BCELoss()
    train, test = data["train"], data["test"]
    n = train[0].shape[0]
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        t0, total = time.perf_counter(), 0.0
        order = torch.randperm(n, generator=gen)
        for s in range(0, n, BATCH):
            ids, lengths, y = batch_slice(train, order[s: s + BATCH])
            loss = loss_fn(model(ids, lengths), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * y.shape[0]
        m = {"epoch": epoch, "train_loss": total / n, **evaluate(model, test, loss_fn),
             "seconds": time.perf_counter() - t0}
        history.append(m)
        print(f"seed {seed} epoch {epoch}: train loss {m['train_loss']:.4f}  test loss {m['loss']:.4f}  "
              f"acc {100 * m['accuracy']:.2f} %  P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}  "
              f"({m['seconds']:.1f} s)", flush=True)
    return {"seed": seed, "epochs": history, "final": history[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help=".npz exported by the C++ example")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, nargs="+", help="several seeds; reports the mean (overrides --seed)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the metrics here (atomically)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    data = load(args.data)
    print(f"{args.data}: train {tuple(data['train'][0].shape)}, test {tuple(data['test'][0].shape)}, "
          f"vocab {data['vocab_size']}, train positives {int(data['train'][2].sum())}, "
          f"test positives {int(data['test'][2].sum())}")
    runs = [run(data, args.epochs, s) for s in (args.seeds or [args.seed])]
    keys = ("accuracy", "precision", "recall", "f1", "loss")
    mean = {k: float(np.mean([r["final"][k] for r in runs])) for k in keys}
    std = {k: float(np.std([r["final"][k] for r in runs])) for k in keys}
    print(f"summary over {len(runs)} seed(s), {args.epochs} epochs: test accuracy {100 * mean['accuracy']:.2f} % "
          f"(± {100 * std['accuracy']:.2f}), precision {mean['precision']:.3f}, recall {mean['recall']:.3f}, "
          f"F1 {mean['f1']:.3f}, loss {mean['loss']:.4f}")
    if args.json:
        out = {"script": "torch_text_classifier", "data": args.data, "epochs": args.epochs, "threads": args.threads,
               "torch": torch.__version__, "runs": runs, "mean": mean, "std": std}
        write_json(args.json, out)
    return 0 if all(math.isfinite(r["final"]["loss"]) for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
