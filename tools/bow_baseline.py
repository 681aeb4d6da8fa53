#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Bag-of-words logistic-regression baseline for binary topic tasks built from Debian's English fortune
files, with ctnn's own reading, tokenizing, vocabulary and train/test rules (so the numbers apply to
example 08_text_classifier):

- entries: parse_fortunes (include/ctnn/data/text/fortune.hpp): a line that is `%` followed only by
  spaces, tabs or CR separates entries; an entry is the lines between separators joined by '\\n';
  entries holding only white space are dropped; no de-duplication.
- split: is_test_text(text, 0.2) (include/ctnn/data/text/split.hpp): h = FNV-1a-64 of the text with
  white space normalised (trimmed, inner runs → one space), splitmix64 finaliser, test when
  (h >> 11) / 2^53 < 0.2. (Not crc32.)
- words: word_tokenizer (tokenizer.hpp, utf8.hpp): maximal runs of letters (is_letter), ASCII digits
  and apostrophes (' and U+2019, both as '), lower-cased by to_lower, apostrophes at either end dropped.
- vocabulary: build_vocabulary on the training split, default max_size 10000 ids = <pad>, <unk> and the
  9998 most frequent training words (ties in byte order); other words are ignored here.
- model: word counts → logistic regression with an L2 penalty 0.5 * ||w||^2 / C (C = 1, the bias not
  penalised; scikit-learn's LogisticRegression default), fitted to convergence by L-BFGS in float64.

A task is `NEG:POS`, each side one or more topics joined by '+' (label 0 = NEG, 1 = POS):

    /usr/bin/python3 tools/bow_baseline.py computers:people              # one task
    /usr/bin/python3 tools/bow_baseline.py --candidates                  # the candidates in tools/text_tasks.md
    /usr/bin/python3 tools/bow_baseline.py --binary science:politics     # 0/1 presence instead of counts
"""
import argparse
import os
import sys

import numpy as np
import torch

FORTUNE_DIR = "/usr/share/games/fortunes"
CANDIDATES = [
    "computers:people", "computers:politics", "science:politics", "people:politics", "work:men-women",
    "science:computers", "literature:people", "songs-poems:people", "wisdom:platitudes", "work:politics",
    "computers+linux+perl:people+politics+men-women",
]
MASK64 = (1 << 64) - 1


def parse_fortunes(data):
    """The entries of fortune-file text `data` (str), as ctnn's parse_fortunes gives them."""
    if data.startswith("\ufeff"):
        data = data[1:]
    out, cur, have_lines, separators = [], [], False, 0

    def flush(between):
        text = "\n".join(cur)
        if (have_lines or between) and text.strip(" \t\r\n\f\v"):
            out.append(text)

    lines = data.split("\n")
    if lines and lines[-1] == "":  # a final '\n' ends the last line; it does not start another
        lines.pop()
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        if line.rstrip(" \t\r") == "%":
            flush(separators > 0)
            separators += 1
            cur, have_lines = [], False
            continue
        cur.append(line)
        have_lines = True
    flush(False)
    return out


def read_topic(topic, directory=FORTUNE_DIR):
    with open(os.path.join(directory, topic), encoding="utf-8") as f:
        return parse_fortunes(f.read())


def normalize_space(s):
    ws = " \t\n\r\f\v"
    out, gap = [], False
    for c in s:
        if c in ws:
            gap = bool(out)
            continue
        if gap:
            out.append(" ")
        gap = False
        out.append(c)
    return "".join(out)


def split_position(text, seed=0):
    h = 0xcbf29ce484222325
    for b in normalize_space(text).encode("utf-8"):
        h = ((h ^ b) * 0x100000001b3) & MASK64
    h ^= seed
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & MASK64
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & MASK64
    h ^= h >> 31
    return (h >> 11) * 2.0 ** -53


def is_test_text(text, test_fraction=0.2, seed=0):
    return split_position(text, seed) < test_fraction


def is_letter(c):
    if c < 0x80:
        return 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A
    if c < 0x100:
        return c in (0xAA, 0xB5, 0xBA) or (c >= 0xC0 and c not in (0xD7, 0xF7))
    if c <= 0x2AF or 0x300 <= c <= 0x36F:
        return True
    if 0x370 <= c <= 0x3FF:
        return c not in (0x374, 0x375, 0x37E, 0x384, 0x385, 0x387, 0x3F6)
    if 0x400 <= c <= 0x52F:
        return c != 0x482
    return (0x5D0 <= c <= 0x5EA or 0x620 <= c <= 0x64A or 0x1E00 <= c <= 0x1EFF or 0x3041 <= c <= 0x30FA
            or 0x4E00 <= c <= 0x9FFF or 0xAC00 <= c <= 0xD7A3)


def to_lower(c):
    if c < 0x80:
        return c + 32 if 0x41 <= c <= 0x5A else c
    if 0xC0 <= c <= 0xDE:
        return c if c == 0xD7 else c + 0x20
    if 0x100 <= c <= 0x17F:
        if c == 0x130:
            return 0x69
        if c == 0x178:
            return 0xFF
        if c <= 0x12F or 0x132 <= c <= 0x137 or 0x14A <= c <= 0x177:
            return c | 1
        if 0x139 <= c <= 0x148 or 0x179 <= c <= 0x17E:
            return c + 1 if c & 1 else c
        return c
    if 0x386 <= c <= 0x3AB:
        if c == 0x386:
            return 0x3AC
        if 0x388 <= c <= 0x38A:
            return c + 37
        if c == 0x38C:
            return 0x3CC
        if c in (0x38E, 0x38F):
            return c + 63
        if c >= 0x391 and c != 0x3A2:
            return c + 0x20
        return c
    if 0x400 <= c <= 0x52F:
        if c <= 0x40F:
            return c + 0x50
        if c <= 0x42F:
            return c + 0x20
        if 0x460 <= c <= 0x481 or 0x48A <= c <= 0x4BF or c >= 0x4D0:
            return c | 1
        if c == 0x4C0:
            return 0x4CF
        if 0x4C1 <= c <= 0x4CE:
            return c + 1 if c & 1 else c
    return c


def words(s):
    """ctnn's word_tokenizer (lower-casing)."""
    out, word = [], []

    def flush():
        w = "".join(word).strip("'")
        if w:
            out.append(w)
        word.clear()

    for ch in s:
        c = ord(ch)
        if is_letter(c) or 0x30 <= c <= 0x39:
            word.append(chr(to_lower(c)))
        elif c in (0x27, 0x2019):
            word.append("'")
        else:
            flush()
    flush()
    return out


def vocabulary(token_lists, max_size=10000):
    """Word → id (2..) of the max_size - 2 most frequent words, ties by UTF-8 byte order (ctnn's rule)."""
    counts = {}
    for toks in token_lists:
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    kept = sorted(counts, key=lambda t: (-counts[t], t.encode("utf-8")))[: max_size - 2]
    return {t: i + 2 for i, t in enumerate(kept)}


def load_task(task, directory=FORTUNE_DIR):
    """(texts, labels, {topic: entries}) of task 'NEG:POS' (sides are topics joined by '+')."""
    neg, pos = task.split(":")
    texts, labels, sizes = [], [], {}
    for label, side in ((0, neg), (1, pos)):
        for topic in side.split("+"):
            entries = read_topic(topic, directory)
            sizes[topic] = len(entries)
            texts += entries
            labels += [label] * len(entries)
    return texts, np.asarray(labels), sizes


def features(token_lists, vocab, binary):
    x = np.zeros((len(token_lists), len(vocab)), dtype=np.float64)
    for i, toks in enumerate(token_lists):
        for t in toks:
            j = vocab.get(t)
            if j is not None:
                x[i, j - 2] = 1.0 if binary else x[i, j - 2] + 1.0
    return x


def fit_logistic(x, y, c=1.0):
    """Weights and bias minimising sum(logloss) + 0.5 * ||w||^2 / c (L-BFGS, float64)."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.float64))
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=1000, tolerance_grad=1e-7, tolerance_change=1e-12,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt, reduction="sum")
        loss = loss + 0.5 * (w * w).sum() / c
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy(), b.item()


def evaluate(task, binary=False, c=1.0, directory=FORTUNE_DIR):
    texts, labels, sizes = load_task(task, directory)
    test = np.array([is_test_text(t) for t in texts])
    toks = [words(t) for t in texts]
    train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
    vocab = vocabulary([toks[i] for i in train_idx])
    x = features(toks, vocab, binary)
    w, b = fit_logistic(x[train_idx], labels[train_idx], c)
    pred = (x @ w + b > 0).astype(int)
    acc = lambda idx: float((pred[idx] == labels[idx]).mean())  # noqa: E731
    tp = int(((pred == 1) & (labels == 1))[test_idx].sum())
    fp = int(((pred == 1) & (labels == 0))[test_idx].sum())
    fn = int(((pred == 0) & (labels == 1))[test_idx].sum())
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    distinct = len({normalize_space(t) for t in texts})
    return {"task": task, "sizes": sizes, "n": len(texts), "distinct": distinct, "positive": int(labels.sum()),
            "train": len(train_idx), "test": len(test_idx), "test_positive": int(labels[test_idx].sum()),
            "vocab_words": len(vocab), "train_acc": acc(train_idx), "test_acc": acc(test_idx), "test_f1": f1,
            "majority_test_acc": max(labels[test_idx].mean(), 1 - labels[test_idx].mean())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tasks", nargs="*", help="NEG:POS, sides are topics joined by '+'")
    ap.add_argument("--candidates", action="store_true", help="evaluate the built-in candidate list")
    ap.add_argument("--binary", action="store_true", help="0/1 word presence instead of counts")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (default 1)")
    ap.add_argument("--dir", default=FORTUNE_DIR)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tasks = (CANDIDATES if args.candidates else []) + args.tasks
    if not tasks:
        ap.error("give a task NEG:POS or --candidates")
    print(f"{'task (0:1)':48s} {'sizes':>22s} {'train/test':>10s} {'pos%':>5s} {'maj%':>5s} "
          f"{'train%':>6s} {'test%':>6s} {'F1':>5s}")
    for task in tasks:
        r = evaluate(task, args.binary, args.C, args.dir)
        sizes = "+".join(str(r["sizes"][t]) for t in r["sizes"])
        print(f"{task:48s} {sizes:>22s} {r['train']:>5d}/{r['test']:<4d} {100 * r['positive'] / r['n']:5.1f} "
              f"{100 * r['majority_test_acc']:5.1f} {100 * r['train_acc']:6.1f} {100 * r['test_acc']:6.1f} "
              f"{r['test_f1']:5.3f}", flush=True)
        if r["distinct"] != r["n"]:
            print(f"    ({r['n'] - r['distinct']} entries repeat another entry after white-space normalisation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
