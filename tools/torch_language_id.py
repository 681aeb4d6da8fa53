#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 09 (language identification): trains on the .npz the C++ example exports and
reports test accuracy, per-class precision/recall/F1, macro F1 and the confusion matrix.

Data (written by the C++ example): train_ids int32 [N, T] (character ids, left-aligned, 0 = <pad>
after each sample's end), train_lengths int32 [N] (>= 1), train_labels int32 [N] (0 .. C-1), the same
test_*, vocab_size int32 [1], and optionally num_classes int32 [1] (else max(8, 1 + the largest label):
the example has C = 8).

Model: Embedding(V, 32, padding_idx=0) → 1-layer bidirectional GRU(32 → 64) on a PackedSequence
(pack_padded_sequence, enforce_sorted=False) → cat(h_n forward, h_n reverse) [B, 128] → Linear(128, C);
nn.CrossEntropyLoss (mean over the batch); Adam lr 2e-3; batch 32, the last one partial, reshuffled each
epoch. With packing, h_n forward is the state after each sample's own last step (lengths[b] - 1) and
h_n reverse the state after step 0, the reverse direction having started at step lengths[b] - 1 from a
zero state; padded steps are never read. PyTorch's default initialisation. Deterministic for a seed:
torch.manual_seed(seed) before the model is built, a torch.Generator seeded with `seed` shuffles.

    /usr/bin/python3 tools/torch_language_id.py --data build/language_id.npz [--epochs 5]
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

BATCH, LR, EMBED, HIDDEN, DEFAULT_CLASSES = 32, 2e-3, 32, 64, 8


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
        out[split] = (torch.from_numpy(ids.astype(np.int64)), torch.from_numpy(lengths.astype(np.int64)),
                      torch.from_numpy(labels.astype(np.int64)))
    out["vocab_size"] = int(d["vocab_size"].reshape(-1)[0])
    largest = int(max(out["train"][2].max(), out["test"][2].max()))
    out["classes"] = int(d["num_classes"].reshape(-1)[0]) if "num_classes" in d.files else max(DEFAULT_CLASSES,
                                                                                                largest + 1)
    if min(out["train"][2].min(), out["test"][2].min()) < 0 or largest >= out["classes"]:
        sys.exit(f"{path}: labels must lie in [0, {out['classes']})")
    return out


class LanguageId(nn.Module):
    def __init__(self, vocab_size, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, padding_idx=0)
        self.gru = nn.GRU(EMBED, HIDDEN, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * HIDDEN, classes)

    def forward(self, ids, lengths):
        """ids [B, T], lengths [B] (CPU int64) → logits [B, C]."""
        packed = pack_padded_sequence(self.embed(ids), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)  # [2, B, H]: forward, reverse; batch in its original order
        return self.head(torch.cat([h_n[0], h_n[1]], dim=1))


def batch_slice(data, idx):
    ids, lengths, labels = data
    lengths_b = lengths[idx]
    return ids[idx, : int(lengths_b.max())], lengths_b, labels[idx]


def evaluate(model, data, loss_fn, classes):
    model.eval()
    n = data[0].shape[0]
    logits = []
    with torch.no_grad():
        for s in range(0, n, 256):
            ids, lengths, _ = batch_slice(data, torch.arange(s, min(n, s + 256)))
            logits.append(model(ids, lengths))
    z, y = torch.cat(logits), data[2]
    loss = loss_fn(z, y).item()
    pred = z.argmax(1)
    confusion = torch.zeros(classes, classes, dtype=torch.int64)  # rows: true class, columns: predicted
    confusion.index_put_((y, pred), torch.ones_like(y), accumulate=True)
    cm = confusion.double()
    tp = cm.diag()
    precision = torch.where(cm.sum(0) > 0, tp / cm.sum(0).clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(cm.sum(1) > 0, tp / cm.sum(1).clamp(min=1), torch.zeros_like(tp))
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-300),
                     torch.zeros_like(tp))
    return {"accuracy": float((pred == y).double().mean()), "loss": loss, "macro_f1": float(f1.mean()),
            "precision": precision.tolist(), "recall": recall.tolist(), "f1": f1.tolist(),
            "confusion": confusion.tolist()}


def run(data, epochs, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = LanguageId(data["vocab_size"], data["classes"])
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
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
        m = {"epoch": epoch, "train_loss": total / n, **evaluate(model, test, loss_fn, data["classes"]),
             "seconds": time.perf_counter() - t0}
        history.append(m)
        print(f"seed {seed} epoch {epoch}: train loss {m['train_loss']:.4f}  test loss {m['loss']:.4f}  "
              f"acc {100 * m['accuracy']:.2f} %  macro F1 {m['macro_f1']:.3f}  ({m['seconds']:.1f} s)", flush=True)
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
    c = data["classes"]
    print(f"{args.data}: train {tuple(data['train'][0].shape)}, test {tuple(data['test'][0].shape)}, "
          f"vocab {data['vocab_size']}, {c} classes, test per class "
          f"{torch.bincount(data['test'][2], minlength=c).tolist()}")
    runs = [run(data, args.epochs, s) for s in (args.seeds or [args.seed])]
    finals = [r["final"] for r in runs]
    mean = {k: float(np.mean([f[k] for f in finals])) for k in ("accuracy", "macro_f1", "loss")}
    std = {k: float(np.std([f[k] for f in finals])) for k in ("accuracy", "macro_f1", "loss")}
    for k in ("precision", "recall", "f1"):
        mean[k] = np.mean([f[k] for f in finals], axis=0).tolist()
    mean["confusion"] = np.mean([f["confusion"] for f in finals], axis=0).tolist()
    print(f"summary over {len(runs)} seed(s), {args.epochs} epochs: test accuracy {100 * mean['accuracy']:.2f} % "
          f"(± {100 * std['accuracy']:.2f}), macro F1 {mean['macro_f1']:.3f}, loss {mean['loss']:.4f}")
    print("class  precision  recall     F1")
    for k in range(c):
        print(f"{k:5d}  {mean['precision'][k]:9.3f}  {mean['recall'][k]:6.3f}  {mean['f1'][k]:5.3f}")
    print("confusion matrix (rows = true class, columns = predicted" + (", mean over seeds)" if len(runs) > 1 else ")"))
    for row in mean["confusion"]:
        print(" ".join(f"{v:6.1f}" if len(runs) > 1 else f"{int(v):6d}" for v in row))
    if args.json:
        write_json(args.json, {"script": "torch_language_id", "data": args.data, "epochs": args.epochs,
                               "threads": args.threads, "classes": c, "torch": torch.__version__, "runs": runs,
                               "mean": mean, "std": std})
    return 0 if all(math.isfinite(f["loss"]) for f in finals) else 1


if __name__ == "__main__":
    sys.exit(main())
