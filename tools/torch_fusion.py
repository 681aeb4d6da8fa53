#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Example 11 (examples/11_fusion) in PyTorch: the same CNN branch, LSTM branch and their fusion (the
average of the two branches' softmax probabilities, trained end to end on nll_loss(log(p.clamp_min(1e-7)))),
on the same Fashion-MNIST files, with the same settings — Adam, lr cosine-decayed per epoch to lr/100,
batch 64, evaluation on the test set after every epoch — and the same JSON layout, to compare with ctnn.

    /usr/bin/python3 tools/torch_fusion.py [--model lstm cnn fusion] [--seeds 1 2 3] [--epochs 10] \
        [--batch 64] [--lr 1e-3] [--threads 1] [--limit N] [--data DIR] [--json FILE]

Data: --data DIR, else $CTNN_DATA_DIR, else /usr/share/datasets/fashion-mnist (Debian's
dataset-fashion-mnist); the IDX files raw or .gz, pixels scaled to [0, 1] as ctnn's loader does.
Parameters start from PyTorch's default initialisation (ctnn's default for conv/dense differs: He-uniform
with zero biases; the LSTM's is the same, U(±1/√128)).
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_json  # noqa: E402
from fashion_mnist import read_idx  # noqa: E402


def load(directory, limit):
    parts = []
    for part in ("train", "t10k"):
        x = read_idx(directory, f"{part}-images-idx3-ubyte").astype(np.float32) / 255.0
        y = read_idx(directory, f"{part}-labels-idx1-ubyte").astype(np.int64)
        if limit:
            x, y = x[:limit], y[:limit]
        parts.append((torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1), torch.from_numpy(y)))  # [N, 1, 28, 28]
    return parts


def cnn_branch():
    """ctnn: conv2d<16, 3, {.padding = 1}>, relu, max_pool2d<2>, conv2d<32, ...>, relu, max_pool2d<2>, flatten,
    dense<128>, relu, dropout<0.3>, dense<10>, softmax."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10), nn.Softmax(dim=-1))


class LstmBranch(nn.Module):
    """ctnn: reshape<28, 28>, lstm<128> (last hidden state), dense<10>, softmax — the rows as 28 steps."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        out, _ = self.lstm(x.view(x.shape[0], 28, 28))
        return torch.softmax(self.fc(out[:, -1]), dim=-1)


class Fusion(nn.Module):
    """ctnn: parallel<merge::average, cnn_branch, lstm_branch>: the mean of the two distributions."""

    def __init__(self):
        super().__init__()
        self.branches = nn.ModuleList([cnn_branch(), LstmBranch()])

    def forward(self, x):
        return (self.branches[0](x) + self.branches[1](x)) / 2


BUILD = {"lstm": LstmBranch, "cnn": cnn_branch, "fusion": Fusion}


def categorical_cross_entropy(p, y, eps=1e-7):
    """ctnn's loss::categorical_cross_entropy: NLL of log(p) with p clamped from below at eps."""
    return F.nll_loss(torch.log(p.clamp_min(eps)), y)


def accuracy(model, x, y, batch=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(dim=1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x)


def train(name, seed, args, data):
    (xtr, ytr), (xte, yte) = data
    wall0 = time.perf_counter()
    torch.manual_seed(seed)
    model = BUILD[name]()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    order = torch.Generator().manual_seed(seed + 1)
    params = sum(p.numel() for p in model.parameters())
    print(f"-- {name} ({params} parameters), seed {seed}", flush=True)
    run = {"seed": seed, "test_accuracy_per_epoch": []}
    seconds = 0.0
    for epoch in range(args.epochs):
        lr = args.lr / 100 + (args.lr - args.lr / 100) * (1 + math.cos(math.pi * epoch / args.epochs)) / 2  # ctnn's cosine_lr
        for group in opt.param_groups:
            group["lr"] = lr
        model.train()
        perm = torch.randperm(len(xtr), generator=order)
        loss_sum, correct = 0.0, 0
        t0 = time.perf_counter()
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = xtr[idx], ytr[idx]
            p = model(xb)
            loss = categorical_cross_entropy(p, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (p.argmax(dim=1) == yb).sum().item()
        secs = time.perf_counter() - t0
        seconds += secs
        acc = accuracy(model, xte, yte)
        run["test_accuracy_per_epoch"].append(acc)
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss_sum / len(xtr):.4f} train_acc {correct / len(xtr):.4f} "
              f"test_accuracy {acc:.4f} {secs:.1f}s {len(xtr) / secs:.0f} samples/s", flush=True)
        run["final_loss"] = loss_sum / len(xtr)
    run.update(test_accuracy=run["test_accuracy_per_epoch"][-1], train_seconds=seconds,
               wall_seconds=time.perf_counter() - wall0,
               seconds_per_epoch=seconds / args.epochs, samples_per_second=len(xtr) * args.epochs / seconds)
    print(f"{name} seed {seed}: test accuracy {run['test_accuracy']:.4f}, {run['seconds_per_epoch']:.1f} s/epoch", flush=True)
    if name == "fusion":  # each trained branch on its own
        cnn, lstm = (accuracy(b, xte, yte) for b in model.branches)
        run["branch_test_accuracy"] = {"cnn": cnn, "lstm": lstm}
        print(f"{name} seed {seed}: its CNN branch alone {cnn:.4f}, its LSTM branch alone {lstm:.4f}", flush=True)
    return params, run, model


def apart_accuracy(cnn, lstm, x, y, batch=256):
    """The LSTM and the CNN trained apart, their probabilities averaged at test time (ctnn's "apart")."""
    fused = Fusion()
    fused.branches[0].load_state_dict(cnn.state_dict())
    fused.branches[1].load_state_dict(lstm.state_dict())
    return accuracy(fused, x, y, batch)


def mean_std(values):
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((a - mean) ** 2 for a in values) / (len(values) - 1)) if len(values) > 1 else 0.0


def summary(results, args, data):
    models = {}
    for name in ("lstm", "cnn", "fusion"):
        if name not in results:
            continue
        params, runs = results[name]
        mean, std = mean_std([r["test_accuracy"] for r in runs])
        models[name] = {"parameters": params, "mean_test_accuracy": mean, "std_test_accuracy": std,
                        "mean_seconds_per_epoch": sum(r["seconds_per_epoch"] for r in runs) / len(runs),
                        "mean_train_seconds": sum(r["train_seconds"] for r in runs) / len(runs),
                        "mean_wall_seconds": sum(r["wall_seconds"] for r in runs) / len(runs), "runs": runs}
    if "apart" in results:
        mean, std = mean_std([r["test_accuracy"] for r in results["apart"]])
        models["apart"] = {"description": "lstm and cnn of the same seed trained apart, probabilities averaged at test time",
                           "mean_test_accuracy": mean, "std_test_accuracy": std, "runs": results["apart"]}
    return {"framework": f"pytorch {torch.__version__}", "device": "cpu", "threads": args.threads, "epochs": args.epochs,
            "batch": args.batch, "lr": args.lr, "schedule": "cosine to lr/100 per epoch",
            "loss": "nll_loss(log(p.clamp_min(1e-7)))", "limit": args.limit, "train_samples": len(data[0][1]),
            "test_samples": len(data[1][1]), "models": models}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="+", default=["lstm", "cnn", "fusion"], choices=["lstm", "cnn", "fusion"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (ctnn: --threads)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training and N test images")
    ap.add_argument("--data", default=os.environ.get("CTNN_DATA_DIR") or "/usr/share/datasets/fashion-mnist")
    ap.add_argument("--json", help="write the results here (atomically)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load(args.data, args.limit)
    print(f"Fashion-MNIST: {len(data[0][1])} train, {len(data[1][1])} test; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); {args.epochs} epochs, batch {args.batch}, Adam {args.lr:g} cosine to "
          f"{args.lr / 100:g}", flush=True)
    results, trained = {}, {}
    for name in args.model:
        runs = []
        for seed in args.seeds:
            params, run, model = train(name, seed, args, data)
            runs.append(run)
            results[name] = (params, runs)
            if name != "fusion":
                trained[(name, seed)] = model
            if args.json:  # after every run, so a long session leaves its results behind
                write_json(args.json, summary(results, args, data))
    if "lstm" in results and "cnn" in results:  # the same two branches trained apart, averaged only at test time
        results["apart"] = []
        for seed in args.seeds:
            acc = apart_accuracy(trained[("cnn", seed)], trained[("lstm", seed)], data[1][0], data[1][1])
            results["apart"].append({"seed": seed, "test_accuracy": acc})
            print(f"lstm and cnn of seed {seed} trained apart, averaged: test accuracy {acc:.4f}", flush=True)
        if args.json:
            write_json(args.json, summary(results, args, data))
    s = summary(results, args, data)
    print(f"\n| model | parameters | test accuracy (mean ± std over {len(args.seeds)} seeds) | per seed | s/epoch |")
    print("|---|---|---|---|---|")
    for name, m in s["models"].items():
        per = ", ".join(f"{100 * r['test_accuracy']:.2f}" for r in m["runs"])
        label, params = ("lstm, cnn trained apart, averaged", s["models"]["fusion"]["parameters"] if "fusion" in s["models"]
                         else "-") if name == "apart" else (name, m["parameters"])
        secs = f"{m['mean_seconds_per_epoch']:.1f}" if name != "apart" else "-"
        print(f"| {label} | {params} | {100 * m['mean_test_accuracy']:.2f} % ± {100 * m['std_test_accuracy']:.2f} "
              f"| {per} | {secs} |")
    if args.json:
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
