#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_gan_step.npz: two iterations of the seeds' GAN (tools/torch_gan.py's Generator and
Discriminator, unconditional) in PyTorch, for tests/unit/nn/gan_test.cpp, which runs the same two iterations
with example 14's gan::trainer and compares.

    /usr/bin/python3 tools/export_torch_gan_reference.py [OUT.npz]

Everything is defined by one integer hash, so the C++ test recomputes the inputs instead of reading 12 MB of
initial weights: u(i, salt) = ((i·2654435761 + salt·40503 + 12345) mod 2³²) / 2³², v = (2u - 1)·scale, in
float64, then rounded to float32. Parameter k of named_parameters() (ctnn's order and names: the generator's
"0.weight", "1.weight", "1.bias", "3.weight", ...; the discriminator's "1.weight", ...) gets salt k (generator)
or 100 + k (discriminator) and scale 1/√fan_in for a matrix, 0.05 for a bias, and 1 + 0.1·(2u - 1) for a
batch-norm weight. Iteration t (0, 1) uses noise z [64, 100] of salt 1000 + t and real images x [64, 784] of
salt 2000 + t, both with scale 1.

Recipe (example 14's, batch 64): G in training mode; D in eval mode (its dropout off: the masks of two
frameworks cannot match); fake = G(z); D step on [x; fake.detach()] with targets [0.9; 0] (one-sided label
smoothing 0.1), BCELoss, Adam(lr 2e-4, betas (0.5, 0.999)); G step: BCE(D(fake), 1) through the updated D,
D not updated, Adam step of G.

Computed in float64 (stored as float64): the test runs ctnn's models over double against it (agreement to
~1e-14), and over float for the first discriminator step and the losses. It also runs the recipe in float32 and
prints how far PyTorch's own float32 run lands from its float64 run.

Keys: losses [2, 4] (d_loss, g_loss, D(real) mean, D(fake) mean per iteration); "G.<name>" / "D.<name>": the
parameters after both iterations, every 31st element (flattened, C order) of a matrix, all of a vector;
"D0.<name>": the discriminator's after its first step, sampled alike; "G.<k>.running_mean" / "running_var"
of the three batch norms.
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402
from torch_gan import Discriminator, Generator  # noqa: E402

BATCH, STRIDE = 64, 61
NOISE_SALT, IMAGE_SALT = 1000, 2000


def hashed(n, salt, scale):
    i = np.arange(n, dtype=np.uint64)
    u = ((i * np.uint64(2654435761) + np.uint64(salt * 40503 + 12345)) % np.uint64(2 ** 32)).astype(np.float64) / 2.0 ** 32
    return ((2 * u - 1) * scale).astype(np.float32)


def ctnn_names(model, shift):
    """(ctnn name, parameter) in order: "net.k.x" becomes "<k + shift>.x"."""
    for name, p in model.named_parameters():
        _, k, what = name.split(".")
        yield f"{int(k) + shift}.{what}", p


def initialise(model, shift, salt0):
    with torch.no_grad():
        for k, (name, p) in enumerate(ctnn_names(model, shift)):
            n = p.numel()
            if p.dim() == 2:
                v = hashed(n, salt0 + k, 1 / np.sqrt(p.shape[1]))
            elif name.endswith("weight"):  # batch-norm weight
                v = 1 + hashed(n, salt0 + k, 0.1)
            else:
                v = hashed(n, salt0 + k, 0.05)
            p.copy_(torch.from_numpy(v).view_as(p))


def run(dtype):
    """The two iterations in `dtype`: (losses [2, 4], {"G.<name>" / "D.<name>": sampled parameters, BN statistics})."""
    G, D = Generator(False), Discriminator(False)
    initialise(G, 0, 0)
    initialise(D, 1, 100)
    G.to(dtype).train()
    D.to(dtype).eval()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    targets = torch.cat([torch.full((BATCH,), 0.9, dtype=dtype), torch.zeros(BATCH, dtype=dtype)])
    losses, arrays = [], {}
    for t in range(2):
        z = torch.from_numpy(hashed(BATCH * 100, NOISE_SALT + t, 1.0)).view(BATCH, 100).to(dtype)
        x = torch.from_numpy(hashed(BATCH * 784, IMAGE_SALT + t, 1.0)).view(BATCH, 1, 28, 28).to(dtype)
        fake = G(z)
        p = D(torch.cat([x, fake.detach()]))
        loss_d = bce(p, targets)
        D.zero_grad()
        loss_d.backward()
        opt_d.step()
        if t == 0:  # the discriminator after its first step
            for name, w in ctnn_names(D, 1):
                v = w.detach().numpy().ravel().copy()
                arrays[f"D0.{name}"] = v[::STRIDE] if w.dim() == 2 else v
        D.requires_grad_(False)
        loss_g = bce(D(fake), torch.ones(BATCH, dtype=dtype))
        G.zero_grad()
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
        p = p.detach()
        losses.append([loss_d.item(), loss_g.item(), p[:BATCH].mean().item(), p[BATCH:].mean().item()])
    for prefix, model, shift in (("G", G, 0), ("D", D, 1)):
        for name, p in ctnn_names(model, shift):
            v = p.detach().numpy().ravel()
            arrays[f"{prefix}.{name}"] = v[::STRIDE] if p.dim() == 2 else v
    for k in (1, 4, 7):
        arrays[f"G.{k}.running_mean"] = G.net[k].running_mean.numpy()
        arrays[f"G.{k}.running_var"] = G.net[k].running_var.numpy()
    return np.array(losses), arrays


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "torch_gan_step.npz")
    torch.set_num_threads(1)
    losses, arrays = run(torch.float64)
    losses32, arrays32 = run(torch.float32)
    arrays = {k: v.astype(np.float64) for k, v in arrays.items()}
    arrays["losses"] = losses
    for k, v in arrays32.items():  # how far PyTorch's own float32 run is from its float64 run
        dev = np.abs(v.astype(np.float64) - arrays[k])
        print(f"{k:20s} float32 vs float64: max {dev.max():.3g}, {np.mean(dev > 1e-5) * 100:.2f} % above 1e-5")
    print("losses float64:", losses.tolist(), "float32 - float64: max", np.abs(losses32 - losses).max())
    write_atomic(out, lambda tmp: np.savez_compressed(tmp, **arrays), ".tmp.npz")
    print(f"{out}: {len(arrays)} arrays, {sum(a.size for a in arrays.values())} values")


if __name__ == "__main__":
    main()
