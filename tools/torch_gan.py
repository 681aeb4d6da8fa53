#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 14 (GAN on Fashion-MNIST): the same MLP generator and discriminator, the same
recipe, so ctnn's losses, speed and samples have a peer.

Generator: z [N, 100] → Linear(100, 256, bias=False), BatchNorm1d, LeakyReLU(0.2) → Linear(256, 512), BN,
LeakyReLU → Linear(512, 1024), BN, LeakyReLU → Linear(1024, 784), Tanh → [N, 1, 28, 28]. Discriminator:
flatten → Linear(784, 1024), LeakyReLU(0.2), Dropout(0.3) → 512 → 256 (the same) → Linear(256, 1), Sigmoid.
--conditional: G reads cat(z, Embedding(10, 50)(label)) (first Linear 150 → 256), D reads
cat(flatten(image), Embedding(10, 50)(label)) (first Linear 834 → 1024); real images keep their labels,
fake labels are uniform in 0..9.

Images scaled to [-1, 1]; BCELoss; Adam lr 2e-4, betas (0.5, 0.999) for both; batch 256, reshuffled each
epoch, the last partial batch dropped. One step: fake = G(z); D step on the one batch cat(real,
fake.detach()) with targets cat(ones * (1 - smoothing), zeros); then the non-saturating G step,
BCE(D(fake), ones), on the same fake (D is not updated by it). D stays in train mode (dropout on).
Deterministic for a seed: torch.manual_seed(seed) before the models are built, a torch.Generator seeded
with `seed` shuffles, another draws the final samples' noise.

    /usr/bin/python3 tools/torch_gan.py [--conditional] [--epochs 20] [--seed 0] [--smoothing 0]
        [--samples 10000] [--out samples.npz] [--history history.csv] [--json OUT.json]
        [--limit N] [--threads 1] [--data DIR]

--out: `images` float32 [N, 28, 28, 1] (NHWC) in [-1, 1], and for --conditional `labels` int32 [N]
(sample i has label i % 10). --history: epoch,d_loss,g_loss,d_real,d_fake,seconds (tools/plot_history.py).
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
from export_torch import write_atomic  # noqa: E402
from fashion_mnist import add_run_args, data_dir, setup_torch, load_fashion_mnist, write_history, write_json  # noqa: E402

NOISE, EMBED, CLASSES, BATCH, LR, BETAS = 100, 50, 10, 256, 2e-4, (0.5, 0.999)
COLUMNS = ("epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds")


class Generator(nn.Module):
    def __init__(self, conditional):
        super().__init__()
        self.embed = nn.Embedding(CLASSES, EMBED) if conditional else None
        blocks = []
        for i, (n_in, n_out) in enumerate(((NOISE + (EMBED if conditional else 0), 256), (256, 512), (512, 1024))):
            blocks += [nn.Linear(n_in, n_out, bias=i > 0), nn.BatchNorm1d(n_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*blocks, nn.Linear(1024, 784), nn.Tanh())

    def forward(self, z, labels=None):
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], 1)
        return self.net(z).view(-1, 1, 28, 28)


class Discriminator(nn.Module):
    def __init__(self, conditional):
        super().__init__()
        self.embed = nn.Embedding(CLASSES, EMBED) if conditional else None
        blocks = []
        for n_in, n_out in ((784 + (EMBED if conditional else 0), 1024), (1024, 512), (512, 256)):
            blocks += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2), nn.Dropout(0.3)]
        self.net = nn.Sequential(*blocks, nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, x, labels=None):
        x = x.flatten(1)
        if self.embed is not None:
            x = torch.cat([x, self.embed(labels)], 1)
        return self.net(x).squeeze(1)


def train(args, images, labels):
    torch.manual_seed(args.seed)
    shuffle = torch.Generator().manual_seed(args.seed)
    G, D = Generator(args.conditional), Discriminator(args.conditional)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    bce = nn.BCELoss()
    targets = torch.cat([torch.full((BATCH,), 1.0 - args.smoothing), torch.zeros(BATCH)])
    ones = torch.ones(BATCH)
    batches, history = images.shape[0] // BATCH, []
    for epoch in range(1, args.epochs + 1):
        t0, sums = time.perf_counter(), np.zeros(4)
        order = torch.randperm(images.shape[0], generator=shuffle)
        for b in range(batches):
            idx = order[b * BATCH: (b + 1) * BATCH]
            real, real_labels = images[idx], labels[idx]
            fake_labels = torch.randint(0, CLASSES, (BATCH,)) if args.conditional else None
            fake = G(torch.randn(BATCH, NOISE), fake_labels)
            # D step: one batch of real then fake.
            d_labels = torch.cat([real_labels, fake_labels]) if args.conditional else None
            p = D(torch.cat([real, fake.detach()]), d_labels)
            loss_d = bce(p, targets)
            D.zero_grad()
            loss_d.backward()
            opt_d.step()
            # G step (non-saturating) on the same fake; D's weights get no gradient and no update.
            D.requires_grad_(False)
            loss_g = bce(D(fake, fake_labels), ones)
            G.zero_grad()
            loss_g.backward()
            opt_g.step()
            D.requires_grad_(True)
            p = p.detach()
            sums += (loss_d.item(), loss_g.item(), p[:BATCH].mean().item(), p[BATCH:].mean().item())
        m = dict(zip(COLUMNS, (epoch, *(sums / batches).tolist(), time.perf_counter() - t0)))
        history.append(m)
        print(f"epoch {epoch}/{args.epochs}: d_loss {m['d_loss']:.4f}  g_loss {m['g_loss']:.4f}  "
              f"D(real) {m['d_real']:.3f}  D(fake) {m['d_fake']:.3f}  ({m['seconds']:.1f} s)", flush=True)
        if args.history:
            write_history(args.history, COLUMNS, history)
    return G, history


def generate(G, n, seed, conditional):
    """n samples as NHWC float32 [n, 28, 28, 1] in [-1, 1] (and labels i % 10 when conditional)."""
    G.eval()
    z = torch.randn(n, NOISE, generator=torch.Generator().manual_seed(seed))
    labels = torch.arange(n) % CLASSES
    with torch.no_grad():
        out = [G(z[s: s + 1000], labels[s: s + 1000] if conditional else None) for s in range(0, n, 1000)]
    images = torch.cat(out).reshape(n, 28, 28, 1).numpy().astype(np.float32)
    return images, labels.numpy().astype(np.int32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conditional", action="store_true", help="label-conditioned G and D")
    ap.add_argument("--smoothing", type=float, default=0.0, help="one-sided label smoothing of D's real targets")
    ap.add_argument("--samples", type=int, default=10000, help="images to generate into --out")
    ap.add_argument("--out", help="write the generated samples here (.npz)")
    add_run_args(ap)
    args = ap.parse_args()
    if args.epochs < 1 or args.samples < 1:
        ap.error("--epochs and --samples must be at least 1")
    setup_torch(args)
    x, y = load_fashion_mnist(data_dir(args.data), "train", args.limit)
    if len(x) < BATCH:
        sys.exit(f"torch_gan: {len(x)} training images, fewer than one batch of {BATCH}")
    images = torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)  # [N, 1, 28, 28] in [-1, 1]
    print(f"{'conditional ' if args.conditional else ''}GAN: {len(x)} training images, {len(x) // BATCH} batches "
          f"of {BATCH} per epoch, seed {args.seed}, smoothing {args.smoothing}")
    G, history = train(args, images, torch.from_numpy(y))
    seconds = sum(m["seconds"] for m in history)
    rate = len(history) * (len(x) // BATCH) * BATCH / seconds
    print(f"{len(history)} epochs in {seconds:.1f} s: {seconds / len(history):.2f} s/epoch, {rate:.0f} real images/s")
    if args.out:
        imgs, labels = generate(G, args.samples, args.seed, args.conditional)
        arrays = {"images": imgs, **({"labels": labels} if args.conditional else {})}
        write_atomic(args.out, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
        print(f"{args.out}: images {imgs.shape} in [{imgs.min():.3f}, {imgs.max():.3f}]")
    final = history[-1]
    if args.json:
        write_json(args.json, {
            "script": "torch_gan", "conditional": args.conditional, "epochs": args.epochs, "seed": args.seed,
            "smoothing": args.smoothing, "train_images": len(x), "batch": BATCH, "threads": args.threads,
            "torch": torch.__version__, "final": {k: final[k] for k in COLUMNS[1:5]},
            "seconds_per_epoch": seconds / len(history), "samples_per_second": rate, "history": history})
    return 0 if math.isfinite(final["d_loss"]) and math.isfinite(final["g_loss"]) else 1


if __name__ == "__main__":
    sys.exit(main())
