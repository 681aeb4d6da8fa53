#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 12 (text transformer, BERT-style transfer learning at small scale): masked-
language-model (MLM) pretraining of a small transformer encoder on unlabeled English fortunes, then
fine-tuning with a new head on the topic task of example 08 (fortunes `computers` = 0 vs `people` = 1)
with 5 %, 20 % and 100 % of the training labels, against the same encoder trained from scratch and
against example 08's LSTM classifier (the model of tools/torch_text_classifier.py, imported from there).

Data: `build/examples/12_text_transformer --export-data FILE.npz`, all int32:
  pretrain_ids [N, 128] (packed windows of word ids, no padding), optional pretrain_test_ids [M, 128]
  (held-out windows) and pretrain_test_inputs / pretrain_test_labels [M, 128] (them masked, -100 = no target), vocab_size [1] = V, mask_id [1] (= V - 1; 0 = <pad>, 1 = <unk>, words in [2, V - 1));
  train_ids / test_ids [n, 128], train_lengths / test_lengths [n] (>= 1), train_labels / test_labels [n]
  (the topic task in the transformer's vocabulary, 0 after each length); lstm_train_ids, lstm_train_lengths,
  lstm_test_ids, lstm_test_lengths and lstm_vocab_size [1]: the same entries in the LSTM's vocabulary;
  seeds [k] and, for every seed s, subset_5_seed{s} and subset_20_seed{s}: row indices into train_* (the
  labelled subset of that seed; 100 % = every row; fraction F reads subset_{F}_seed{s}).

Encoder: Embedding(V, 64, padding_idx=0) + a learned [128, 64] position table (N(0, 0.02²)) →
nn.TransformerEncoder of 2 nn.TransformerEncoderLayer(64, 4, 256, dropout 0.1, gelu, batch_first,
norm_first) → LayerNorm(64). PyTorch's default initialisation otherwise.
Pretraining: + Linear(64, V) at every position; nn.CrossEntropyLoss(ignore_index=-100) over batch × 128
positions. Masking, fresh every epoch: each position is chosen with probability 0.15 (label = its id,
others -100); a chosen input becomes mask_id (p 0.8), a uniform word id in [2, V - 1) (p 0.1) or stays
(p 0.1). Adam, peak lr --pretrain-lr reached linearly over the first epoch, then a cosine to 0 (per step),
batch 32 windows reshuffled every epoch; one pretraining per invocation
(--pretrain-seed: torch.manual_seed before the model, a torch.Generator for order and masks). Held-out
MLM loss / accuracy (argmax == label over the masked positions) on pretrain_test_inputs / _labels (example
12's own masking of the held-out windows, so both score the same targets), else on pretrain_test_ids masked
once here with a Generator seeded 0.
Classifier: the encoder with src_key_padding_mask = (position >= length) → the mean over each sample's
first `length` positions → Linear(64, 1); nn.BCEWithLogitsLoss, class 1 when sigmoid(logit) >= 0.5.
"pretrained" copies the pretrained encoder (load_state_dict(strict=False); the missing / unexpected keys
are reported), "scratch" initialises everything; torch.manual_seed(seed) before the classifier is built.
Fine-tuning: Adam (--lr), batch 32, the subset's rows reshuffled every epoch (Generator seeded with the
seed), epochs = ceil(steps / ceil(n / 32)) for a subset of n rows (the same optimiser-step budget for every
fraction); test accuracy, precision, recall, F1 (class 1 positive) and loss after the last epoch.
LSTM rows: tools/torch_text_classifier.py's TextClassifier on the lstm_* arrays, nn.BCELoss, Adam (--lstm-lr),
the same subsets, order and epochs rule.

    /usr/bin/python3 tools/torch_text_transformer.py --data build/text_transformer.npz
        [--models pretrained scratch lstm] [--percents 5 20 100] [--seeds 1 2 3] [--steps 300]
        [--lr 5e-4] [--lstm-lr 1e-3] [--pretrain-epochs 40] [--pretrain-lr 2e-3] [--pretrain-seed 1]
        [--save-pretrained ENC.pt | --load-pretrained ENC.pt] [--trim] [--threads 1] [--json OUT.json]

Speed (one thread): the [32 × 128, 8192] MLM logits make glibc's malloc map and unmap ~100 MB buffers every
step; MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296 in the environment (both) keeps
them and cut a pretraining epoch of 2900 windows from ~190 s to ~40 s here, with identical numbers.
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
import torch_text_classifier as lstm_twin  # noqa: E402  (TextClassifier, batch_slice, evaluate, binary_scores, write_json)

BATCH, EMBED, HEADS, FF, LAYERS, DROPOUT, STEPS = 32, 64, 4, 256, 2, 0.1, 128
MASK_P, MASK_TOKEN_P, RANDOM_TOKEN_P = 0.15, 0.8, 0.1
MODELS = ("pretrained", "scratch", "lstm")


# ---------------------------------------------------------------------------------------------- data

def load(path):
    d = np.load(path)

    def arr(name):
        if name not in d.files:
            sys.exit(f"{path}: no array '{name}' (has {', '.join(sorted(d.files))})")
        return d[name]

    def ids(name, vocab, cols=STEPS):
        a = arr(name)
        if a.ndim != 2 or a.shape[1] != cols:
            sys.exit(f"{path}: {name} must be [N, {cols}]; got {a.shape}")
        if a.size and (a.min() < 0 or a.max() >= vocab):
            sys.exit(f"{path}: {name} holds ids outside [0, {vocab})")
        return torch.from_numpy(a.astype(np.int64))

    v = int(arr("vocab_size").reshape(-1)[0])
    out = {"vocab_size": v, "mask_id": int(arr("mask_id").reshape(-1)[0]),
           "lstm_vocab_size": int(arr("lstm_vocab_size").reshape(-1)[0])}
    out["pretrain"] = ids("pretrain_ids", v)
    out["pretrain_test"] = ids("pretrain_test_ids", v) if "pretrain_test_ids" in d.files else None
    out["pretrain_test_masked"] = None
    if "pretrain_test_inputs" in d.files and "pretrain_test_labels" in d.files:  # example 12's own masking
        out["pretrain_test_masked"] = (ids("pretrain_test_inputs", v),
                                       torch.from_numpy(arr("pretrain_test_labels").astype(np.int64)))
    for split in ("train", "test"):
        labels = arr(f"{split}_labels")
        if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
            sys.exit(f"{path}: {split}_labels must be [n] of 0 / 1")
        y = torch.from_numpy(labels.astype(np.float32))
        for prefix, vocab in (("", v), ("lstm_", out["lstm_vocab_size"])):
            x = ids(f"{prefix}{split}_ids", vocab)
            n = arr(f"{prefix}{split}_lengths")
            if x.shape[0] != y.shape[0] or n.shape != (y.shape[0],):
                sys.exit(f"{path}: {prefix}{split}_ids / _lengths must have {y.shape[0]} rows like {split}_labels")
            if n.min() < 1 or n.max() > STEPS:
                sys.exit(f"{path}: {prefix}{split}_lengths must lie in [1, {STEPS}]")
            out[f"{prefix}{split}"] = (x, torch.from_numpy(n.astype(np.int64)), y)
    out["seeds"] = [int(s) for s in arr("seeds").reshape(-1)] if "seeds" in d.files else []
    out["subsets"] = {k: torch.from_numpy(d[k].astype(np.int64)) for k in d.files if k.startswith("subset_")}
    return out


def subset_rows(data, fraction, seed):
    n = data["train"][0].shape[0]
    if fraction == 100:
        return torch.arange(n)
    key = f"subset_{fraction}_seed{seed}"
    if key not in data["subsets"]:
        sys.exit(f"no '{key}' in the data (seeds exported: {data['seeds']}, subsets: {sorted(data['subsets'])})")
    rows = data["subsets"][key]
    if rows.numel() == 0 or rows.min() < 0 or rows.max() >= n:
        sys.exit(f"{key} must be non-empty row indices in [0, {n})")
    return rows


def held_out_set(data):
    """The held-out MLM inputs and labels: as example 12 masked them when it exported them, else masked here
    once with a Generator seeded 0."""
    if data["pretrain_test_masked"] is not None:
        return data["pretrain_test_masked"]
    return mask_windows(data["pretrain_test"], data["vocab_size"], data["mask_id"], torch.Generator().manual_seed(0))


def mask_windows(windows, vocab_size, mask_id, gen):
    """BERT masking of [N, T] ids: (inputs, labels) with labels -100 where nothing was chosen."""
    chosen = torch.rand(windows.shape, generator=gen) < MASK_P
    how = torch.rand(windows.shape, generator=gen)
    random_ids = torch.randint(2, vocab_size - 1, windows.shape, generator=gen)  # [2, V - 1)
    labels = torch.where(chosen, windows, torch.full_like(windows, -100))
    inputs = torch.where(chosen & (how < MASK_TOKEN_P), torch.full_like(windows, mask_id), windows)
    swap = chosen & (how >= MASK_TOKEN_P) & (how < MASK_TOKEN_P + RANDOM_TOKEN_P)
    return torch.where(swap, random_ids, inputs), labels


# --------------------------------------------------------------------------------------------- models

class Encoder(nn.Module):
    """embed + pos → 2 pre-norm encoder layers → LayerNorm: [B, T] ids → [B, T, 64]."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, padding_idx=0)
        self.pos = nn.Parameter(0.02 * torch.randn(STEPS, EMBED))
        layer = nn.TransformerEncoderLayer(EMBED, HEADS, FF, DROPOUT, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.layers = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(EMBED)

    def encode(self, ids, padding=None):
        x = self.embed(ids) + self.pos[: ids.shape[1]]
        return self.norm(self.layers(x, src_key_padding_mask=padding))


class MaskedLM(Encoder):
    def __init__(self, vocab_size):
        super().__init__(vocab_size)
        self.mlm = nn.Linear(EMBED, vocab_size)

    def forward(self, ids):
        return self.mlm(self.encode(ids))  # [B, T, V]


class TransformerClassifier(Encoder):
    def __init__(self, vocab_size):
        super().__init__(vocab_size)
        self.head = nn.Linear(EMBED, 1)

    def forward(self, ids, lengths):
        """ids [B, T], lengths [B] → logit of class 1 [B]."""
        padding = torch.arange(ids.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1)  # True = padding
        h = self.encode(ids, padding).masked_fill(padding.unsqueeze(2), 0.0)  # padded rows never enter the mean
        return self.head(h.sum(1) / lengths.unsqueeze(1).to(h.dtype)).squeeze(1)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------------------------------ pretraining

def mlm_eval(model, inputs, labels):
    """Held-out masked-LM cross-entropy (mean over masked positions) and accuracy (argmax == label)."""
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for s in range(0, inputs.shape[0], BATCH):
            y = labels[s: s + BATCH]
            logits = model(inputs[s: s + BATCH])
            sel = y != -100
            if sel.any():
                loss_sum += nn.functional.cross_entropy(logits[sel], y[sel], reduction="sum").item()
                correct += int((logits[sel].argmax(1) == y[sel]).sum())
                count += int(sel.sum())
    return {"test_loss": loss_sum / max(count, 1), "test_accuracy": correct / max(count, 1), "test_masked": count}


def pretrain(data, args):
    v, mask_id = data["vocab_size"], data["mask_id"]
    torch.manual_seed(args.pretrain_seed)
    model = MaskedLM(v)
    gen = torch.Generator().manual_seed(args.pretrain_seed)
    held_out = None
    if data["pretrain_test"] is not None:
        held_out = held_out_set(data)
    windows = data["pretrain"]
    n = windows.shape[0]
    print(f"pretraining: {n} windows of {STEPS} ids, V = {v}, mask id {mask_id}, {parameter_count(model)} parameters, "
          f"Adam {args.pretrain_lr:g}, {args.pretrain_epochs} epochs, seed {args.pretrain_seed}"
          + (f"; held out: {data['pretrain_test'].shape[0]} windows" if held_out is not None else ""), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.pretrain_lr)
    # example 12's schedule, per step: linear warm-up to the peak over the first epoch (step t of it at
    # peak·(t+1)/per_epoch), then a cosine from the peak to 0 over the remaining steps
    per_epoch = (n + BATCH - 1) // BATCH
    decay = max(args.pretrain_epochs * per_epoch - per_epoch, 0)

    def lr_at(t):
        if t < per_epoch:
            return args.pretrain_lr * (t + 1) / per_epoch
        t -= per_epoch
        return 0.0 if t >= decay else args.pretrain_lr * (1 + math.cos(math.pi * t / decay)) / 2

    step = 0
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    curve, seconds = [], 0.0
    for epoch in range(1, args.pretrain_epochs + 1):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        inputs, labels = mask_windows(windows[order], v, mask_id, gen)
        loss_sum, masked, batch_losses = 0.0, 0, []
        for s in range(0, n, BATCH):
            x, y = inputs[s: s + BATCH], labels[s: s + BATCH]
            k = int((y != -100).sum())
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            step += 1
            if k == 0:  # nothing to predict in this batch (only with tiny synthetic data)
                continue
            loss = loss_fn(model(x).reshape(-1, v), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * k
            masked += k
            batch_losses.append(loss.item())
        secs = time.perf_counter() - t0
        seconds += secs
        m = {"epoch": epoch, "train_loss": loss_sum / max(masked, 1),
             "train_loss_batch_mean": float(np.mean(batch_losses)) if batch_losses else float("nan"),
             "train_masked": masked, "seconds": secs}
        line = f"pretrain epoch {epoch}/{args.pretrain_epochs}: train MLM loss {m['train_loss']:.4f}"
        if held_out is not None:
            m.update(mlm_eval(model, *held_out))
            line += (f"  held-out loss {m['test_loss']:.4f} (perplexity {math.exp(m['test_loss']):.1f}), accuracy "
                     f"{100 * m['test_accuracy']:.2f} % of {m['test_masked']} masked words")
        m["words_per_second"] = n * STEPS / secs
        print(f"{line}  ({secs:.1f} s, {m['words_per_second']:.0f} words/s)", flush=True)
        curve.append(m)
    return model, {"seconds": seconds, "curve": curve, "parameters": parameter_count(model),
                   "seconds_per_epoch": seconds / max(args.pretrain_epochs, 1)}


# ------------------------------------------------------------------------------------------ fine-tuning

def transformer_slice(data, idx, trim):
    ids, lengths, labels = data
    lengths_b = lengths[idx]
    t = int(lengths_b.max()) if trim else ids.shape[1]
    return ids[idx, :t], lengths_b, labels[idx]


def evaluate_logits(model, data, trim):
    """The metrics of torch_text_classifier.evaluate for a model that outputs logits (BCE with logits)."""
    model.eval()
    n = data[0].shape[0]
    logits = []
    with torch.no_grad():
        for s in range(0, n, 256):
            ids, lengths, _ = transformer_slice(data, torch.arange(s, min(n, s + 256)), trim)
            logits.append(model(ids, lengths))
    z, y = torch.cat(logits), data[2]
    return lstm_twin.binary_scores(torch.sigmoid(z) >= 0.5, y, nn.functional.binary_cross_entropy_with_logits(z, y).item())


def fine_tune(name, data, rows, seed, args, pretrained_state):
    n = rows.numel()
    epochs = math.ceil(args.steps / math.ceil(n / BATCH))
    torch.manual_seed(seed)
    load_report = None
    if name == "lstm":
        model = lstm_twin.TextClassifier(data["lstm_vocab_size"])
        train, test = data["lstm_train"], data["lstm_test"]
        loss_fn, lr = nn.BCELoss(), args.lstm_lr
        take = lstm_twin.batch_slice
    else:
        model = TransformerClassifier(data["vocab_size"])
        if name == "pretrained":
            r = model.load_state_dict(pretrained_state, strict=False)
            load_report = {"missing": list(r.missing_keys), "unexpected": list(r.unexpected_keys)}
        train, test = data["train"], data["test"]
        loss_fn, lr = nn.BCEWithLogitsLoss(), args.lr
        take = lambda d, idx: transformer_slice(d, idx, args.trim)  # noqa: E731
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    history, seconds, steps = [], 0.0, 0
    for epoch in range(1, epochs + 1):
        model.train()
        t0, total = time.perf_counter(), 0.0
        order = rows[torch.randperm(n, generator=gen)]
        for s in range(0, n, BATCH):
            ids, lengths, y = take(train, order[s: s + BATCH])
            loss = loss_fn(model(ids, lengths), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * y.shape[0]
            steps += 1
        secs = time.perf_counter() - t0
        seconds += secs
        history.append({"epoch": epoch, "train_loss": total / n, "seconds": secs})
    final = lstm_twin.evaluate(model, test, loss_fn) if name == "lstm" else evaluate_logits(model, test, args.trim)
    return {"model": name, "seed": seed, "rows": n, "epochs": epochs, "steps": steps, "lr": lr,
            "parameters": parameter_count(model), "train_seconds": seconds, "ms_per_step": 1e3 * seconds / steps,
            "epoch_losses": history, "final": final, **({"load": load_report} if load_report else {})}


# --------------------------------------------------------------------------------------------- report

def summarize(runs):
    out = {}
    for r in runs:
        cell = out.setdefault(str(r["fraction"]), {}).setdefault(r["model"], {"runs": []})
        cell["runs"].append({"seed": r["seed"], **r["final"]})
    for models in out.values():
        for cell in models.values():
            for k in ("accuracy", "precision", "recall", "f1", "loss"):
                values = [x[k] for x in cell["runs"]]
                cell[f"mean_{k}"], cell[f"std_{k}"] = float(np.mean(values)), float(np.std(values))
    return out


def table(runs, args):
    s = summarize(runs)
    models = [m for m in MODELS if m in args.models]
    head = {"pretrained": "pretrained", "scratch": "scratch", "lstm": "LSTM"}
    lines = ["| labels | rows | epochs | " + " | ".join(f"{head[m]} accuracy" for m in models) + " | "
             + " | ".join(f"{head[m]} F1" for m in models) + " |",
             "|---" * (3 + 2 * len(models)) + "|"]
    for f in args.percents:
        cells = s.get(str(f), {})
        done = [r for r in runs if r["fraction"] == f]
        rows = sorted({r["rows"] for r in done})
        epochs = sorted({r["epochs"] for r in done})
        acc, f1 = [], []
        for m in models:
            c = cells.get(m)
            if c is None:
                acc.append("-")
                f1.append("-")
                continue
            per = ", ".join(f"{100 * x['accuracy']:.1f}" for x in c["runs"])
            acc.append(f"{100 * c['mean_accuracy']:.2f} % ({per})")
            f1.append(f"{c['mean_f1']:.3f}")
        lines.append(f"| {f} % | {'/'.join(map(str, rows))} | {'/'.join(map(str, epochs))} | " + " | ".join(acc)
                     + " | " + " | ".join(f1) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help=".npz exported by build/examples/12_text_transformer --export-data")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--percents", type=int, nargs="+", default=[5, 20, 100], help="percent of the training labels")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--steps", type=int, default=300, help="optimiser-step budget: epochs = ceil(steps / ceil(n / 32))")
    ap.add_argument("--lr", type=float, default=5e-4, help="Adam lr for the transformer classifiers")
    ap.add_argument("--lstm-lr", type=float, default=1e-3)
    ap.add_argument("--pretrain-epochs", type=int, default=40)
    ap.add_argument("--pretrain-lr", type=float, default=2e-3, help="peak lr (warm-up over the first epoch, then a cosine to 0)")
    ap.add_argument("--pretrain-seed", type=int, default=1)
    ap.add_argument("--save-pretrained", help="torch.save the pretrained model's state_dict (encoder + mlm head) here")
    ap.add_argument("--load-pretrained", help="a state_dict from --save-pretrained: skips pretraining")
    ap.add_argument("--trim", action="store_true",
                    help="cut each transformer batch to its longest sample (ctnn runs all 128 positions; the same "
                         "model up to dropout draws and rounding, faster)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (ctnn: --threads)")
    ap.add_argument("--json", help="write everything here (atomically, after every run)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    data = load(args.data)
    print(f"{args.data}: pretrain {tuple(data['pretrain'].shape)}, train {tuple(data['train'][0].shape)} "
          f"({int(data['train'][2].sum())} positive), test {tuple(data['test'][0].shape)} "
          f"({int(data['test'][2].sum())} positive), V = {data['vocab_size']}, LSTM V = {data['lstm_vocab_size']}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)", flush=True)
    for f in args.percents:  # fail before any training when a subset is missing
        for seed in args.seeds:
            subset_rows(data, f, seed)

    out = {"script": "torch_text_transformer", "data": args.data, "torch": torch.__version__, "threads": args.threads,
           "settings": {**{k: v for k, v in vars(args).items() if k not in ("data", "json", "threads")},
                        "batch": BATCH, "embed": EMBED, "heads": HEADS, "ff": FF, "layers": LAYERS, "dropout": DROPOUT,
                        "steps_per_sequence": STEPS, "vocab_size": data["vocab_size"], "mask_id": data["mask_id"],
                        "lstm_vocab_size": data["lstm_vocab_size"],
                        "masking": {"chosen": MASK_P, "mask_token": MASK_TOKEN_P, "random_token": RANDOM_TOKEN_P},
                        "pretrain_windows": data["pretrain"].shape[0], "train_rows": data["train"][0].shape[0],
                        "test_rows": data["test"][0].shape[0]},
           "pretraining": None, "runs": []}

    def save():
        if args.json:
            out["summary"] = summarize(out["runs"])
            lstm_twin.write_json(args.json, out)

    pretrained_state = None
    if args.load_pretrained:
        mlm = MaskedLM(data["vocab_size"])
        mlm.load_state_dict(torch.load(args.load_pretrained))
        pretrained_state = mlm.state_dict()
        out["pretraining"] = {"loaded": args.load_pretrained}
        if data["pretrain_test"] is not None:
            m = mlm_eval(mlm, *held_out_set(data))
            out["pretraining"].update(m)
            print(f"loaded {args.load_pretrained}: held-out MLM loss {m['test_loss']:.4f}  "
                  f"accuracy {100 * m['test_accuracy']:.2f} %", flush=True)
    elif "pretrained" in args.models or args.save_pretrained:
        mlm, out["pretraining"] = pretrain(data, args)
        pretrained_state = mlm.state_dict()
        if args.save_pretrained:
            torch.save(pretrained_state, args.save_pretrained + ".tmp")
            os.replace(args.save_pretrained + ".tmp", args.save_pretrained)
            print(f"pretrained model written to {args.save_pretrained}", flush=True)
    save()

    for f in args.percents:
        for name in MODELS:
            if name not in args.models:
                continue
            for seed in args.seeds:
                r = {"fraction": f, **fine_tune(name, data, subset_rows(data, f, seed), seed, args, pretrained_state)}
                out["runs"].append(r)
                m = r["final"]
                load_note = ""
                if "load" in r:
                    load_note = (f"  [copied encoder; missing {r['load']['missing']}, "
                                 f"unexpected {r['load']['unexpected']}]")
                print(f"{f:3d} % ({r['rows']} rows, {r['epochs']} epochs, {r['steps']} steps) {name:10s} seed {seed}: "
                      f"train loss {r['epoch_losses'][-1]['train_loss']:.4f}  test loss {m['loss']:.4f}  "
                      f"acc {100 * m['accuracy']:.2f} %  P {m['precision']:.3f}  R {m['recall']:.3f}  "
                      f"F1 {m['f1']:.3f}  "
                      f"({r['train_seconds']:.1f} s, {r['ms_per_step']:.0f} ms/step){load_note}", flush=True)
                save()

    print(f"\ntest accuracy, mean over seeds {' '.join(map(str, args.seeds))} (per seed), and mean F1 (class 1):\n")
    print(table(out["runs"], args))
    if args.json:
        print(f"\nresults written to {args.json}")
    finite = all(math.isfinite(r["final"]["loss"]) for r in out["runs"])
    return 0 if finite else 1


if __name__ == "__main__":
    sys.exit(main())
