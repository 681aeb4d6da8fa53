#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch twin of example 17 (variational autoencoder on Fashion-MNIST): the same encoder, decoder and
loss, so ctnn's losses, test ELBO and speed have a peer.

Encoder: flatten → Linear(784, 512), ReLU → Linear(512, 256), ReLU → Linear(256, 2L), the packed statistics
[mu | logvar] (first L columns mu, last L the log-variance). z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1).
Decoder: Linear(L, 256), ReLU → Linear(256, 512), ReLU → Linear(512, 784), Sigmoid. Pixels in [0, 1].
Loss per batch: BCE averaged over all B * 784 pixels + beta * KL / 784, KL = 0.5 * sum(mu² + exp(logvar)
- 1 - logvar) averaged over the batch (with beta = 1, the negative ELBO per pixel). Adam lr 1e-3, batch 128,
reshuffled each epoch, the last partial batch kept.

After each epoch, on the 10 000 test images: test_rec = BCE summed over pixels, averaged over images, with
z from one eps drawn once with a fixed seed (the same eps every epoch); test_kl (nats); test_neg_elbo =
test_rec + test_kl (nats per image); test_mse = mean squared error per pixel of the reconstruction from
z = mu. Deterministic for a seed: torch.manual_seed(seed) before the model is built, a torch.Generator
seeded with `seed` shuffles, another draws the test eps.

    /usr/bin/python3 tools/torch_vae.py [--latent 2] [--beta 1] [--epochs 20] [--seed 0]
        [--history history.csv] [--json OUT.json] [--limit N] [--threads 1] [--data DIR]

--history: epoch,train_loss,test_rec,test_kl,test_neg_elbo,test_mse,seconds (tools/plot_history.py).
--limit N uses the first N training images (the test set stays whole).
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
from fashion_mnist import add_run_args, data_dir, setup_torch, load_fashion_mnist, write_history, write_json  # noqa: E402

BATCH, LR, PIXELS = 128, 1e-3, 784
COLUMNS = ("epoch", "train_loss", "test_rec", "test_kl", "test_neg_elbo", "test_mse", "seconds")


class VAE(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.latent = latent
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                                     nn.Linear(256, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                                     nn.Linear(512, PIXELS), nn.Sigmoid())

    def forward(self, x, eps):
        """x [B, 784] and eps [B, L] → (reconstruction [B, 784], mu, logvar)."""
        stats = self.encoder(x)
        mu, logvar = stats[:, : self.latent], stats[:, self.latent:]
        return self.decoder(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


def kl_per_image(mu, logvar):
    return (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).sum(1)


def evaluate(model, x, eps):
    """Test metrics (nats per image, and MSE per pixel with z = mu) over x in chunks of 1000."""
    model.eval()
    rec = kl = se = 0.0
    with torch.no_grad():
        for s in range(0, x.shape[0], 1000):
            xb = x[s: s + 1000]
            recon, mu, logvar = model(xb, eps[s: s + 1000])
            rec += F.binary_cross_entropy(recon, xb, reduction="sum").item()
            kl += kl_per_image(mu, logvar).sum().item()
            se += F.mse_loss(model.decoder(mu), xb, reduction="sum").item()
    model.train()
    n = x.shape[0]
    return {"test_rec": rec / n, "test_kl": kl / n, "test_neg_elbo": (rec + kl) / n, "test_mse": se / (n * PIXELS)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latent", type=int, default=2, help="latent dimensions L")
    ap.add_argument("--beta", type=float, default=1.0, help="weight of the KL term")
    add_run_args(ap)
    args = ap.parse_args()
    if args.epochs < 1 or args.latent < 1:
        ap.error("--epochs and --latent must be at least 1")
    setup_torch(args)
    directory = data_dir(args.data)
    train_x, test_x = (torch.from_numpy(load_fashion_mnist(directory, part, limit)[0].reshape(-1, PIXELS)
                                        .astype(np.float32) / 255.0)
                       for part, limit in (("train", args.limit), ("t10k", None)))
    n = train_x.shape[0]
    print(f"VAE: latent {args.latent}, beta {args.beta}, {n} training images (batch {BATCH}), "
          f"{test_x.shape[0]} test images, seed {args.seed}")

    torch.manual_seed(args.seed)
    shuffle = torch.Generator().manual_seed(args.seed)
    test_eps = torch.randn(test_x.shape[0], args.latent, generator=torch.Generator().manual_seed(args.seed))
    model = VAE(args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    history = []
    for epoch in range(1, args.epochs + 1):
        t0, total = time.perf_counter(), 0.0
        order = torch.randperm(n, generator=shuffle)
        for s in range(0, n, BATCH):
            x = train_x[order[s: s + BATCH]]
            recon, mu, logvar = model(x, torch.randn(x.shape[0], args.latent))
            loss = F.binary_cross_entropy(recon, x) + args.beta * kl_per_image(mu, logvar).mean() / PIXELS
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        seconds = time.perf_counter() - t0  # training only; the evaluation is not timed
        m = {"epoch": epoch, "train_loss": total / n, **evaluate(model, test_x, test_eps), "seconds": seconds}
        history.append(m)
        print(f"epoch {epoch}/{args.epochs}: train loss {m['train_loss']:.5f}  test: rec {m['test_rec']:.2f}  "
              f"KL {m['test_kl']:.2f}  -ELBO {m['test_neg_elbo']:.2f} nats  MSE(z=mu) {m['test_mse']:.5f}  "
              f"({seconds:.1f} s)", flush=True)
        if args.history:
            write_history(args.history, COLUMNS, history)

    seconds = sum(m["seconds"] for m in history)
    rate = len(history) * n / seconds
    print(f"{len(history)} epochs in {seconds:.1f} s: {seconds / len(history):.2f} s/epoch, {rate:.0f} images/s")
    final = history[-1]
    if args.json:
        write_json(args.json, {
            "script": "torch_vae", "latent": args.latent, "beta": args.beta, "epochs": args.epochs,
            "seed": args.seed, "train_images": n, "batch": BATCH, "threads": args.threads, "torch": torch.__version__,
            "final": {k: final[k] for k in COLUMNS[1:6]}, "seconds_per_epoch": seconds / len(history),
            "samples_per_second": rate, "history": history})
    return 0 if math.isfinite(final["test_neg_elbo"]) else 1


if __name__ == "__main__":
    sys.exit(main())
