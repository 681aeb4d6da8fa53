#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_loss_reference.npz: inputs, loss values and input gradients of PyTorch's losses
(and of nn.LogSoftmax), for tests/unit/nn/loss_test.cpp. Computed in float64 by torch, stored as float32
(labels as int32); every loss uses reduction="mean" (PyTorch's default) unless said otherwise.

    /usr/bin/python3 tools/export_torch_loss_reference.py [OUT.npz]

Keys, per case (<case>.<array>):
  huber.{y,t,loss,dy}             nn.HuberLoss(delta=0.7) on [4, 5]
  smooth_l1.{y,t,loss,dy}         nn.SmoothL1Loss(beta=0.5) on the same y, t
  cross_entropy.{z,labels,loss,dz} nn.CrossEntropyLoss on logits [6, 5]
  nll.{logp,labels,loss,dlogp}    nn.NLLLoss on log_softmax(logits) [6, 5]
  log_softmax.{x,r,y,dx}          nn.LogSoftmax(dim=-1) on [6, 5]; dx = d(sum(r * y))/dx
  bce_one_sided.{z,t,w,loss,dz}   nn.BCEWithLogitsLoss(weight=w [3]) on [4, 3], targets t·(1 - 0.1)
  bce_two_sided.{z,t,w,loss,dz}   the same with targets t·(1 - 0.1) + 0.1/2
  kl.{mu,logvar,loss,dmu,dlogvar} kl_divergence(Normal(mu, exp(logvar/2)), Normal(0, 1)).sum(-1).mean(), [4, 3]
  cosine.{a,b,t,loss,da,db}       nn.CosineEmbeddingLoss(margin=0.2) on [5, 4], t in {1, -1} [5]
  margin_ranking.{a,b,t,loss,da,db} nn.MarginRankingLoss(margin=0.3) on [8]
  categorical.{p,labels,loss,dp}  nll_loss(log(p.clamp_min(1e-7))) on probabilities [6, 5] (averages of two
                                  softmaxes; one label's probability 1e-9, below the clamp)
  cross_entropy_seq.{z,labels,loss,dz} nn.CrossEntropyLoss on a sequence's every step: logits [3, 4, 5]
                                  (batch 3, 4 steps, 5 classes), labels [3, 4]; the loss of the flattened
                                  (12, 5) logits and (12) labels, mean over all 12 (= PyTorch's (N, C, T) form)
  cross_entropy_ignore.{z,labels,loss,dz} nn.CrossEntropyLoss(ignore_index=-100) on logits [3, 4, 6], labels
                                  [3, 4] that are -100 but at 4 steps (masked-LM targets): mean over those 4
"""
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.distributions import Normal, kl_divergence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402


def leaf(x):
    return x.clone().detach().requires_grad_(True)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_loss_reference.npz"
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    out = {}

    def put(prefix, **arrays):
        for k, v in arrays.items():
            out[f"{prefix}.{k}"] = v.detach().numpy() if torch.is_tensor(v) else v

    # elementwise regression losses: differences on both sides of delta/beta
    y, t = torch.randn(4, 5) * 1.5, torch.randn(4, 5)
    for name, fn in (("huber", nn.HuberLoss(delta=0.7)), ("smooth_l1", nn.SmoothL1Loss(beta=0.5))):
        yl = leaf(y)
        loss = fn(yl, t)
        loss.backward()
        put(name, y=y, t=t, loss=loss.reshape(1), dy=yl.grad)

    # classification on logits / log-probabilities
    z = torch.randn(6, 5) * 2
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    zl = leaf(z)
    loss = nn.CrossEntropyLoss()(zl, labels)
    loss.backward()
    put("cross_entropy", z=z, labels=labels.numpy().astype(np.int32), loss=loss.reshape(1), dz=zl.grad)
    logp = torch.log_softmax(z, dim=-1)
    ll = leaf(logp)
    loss = nn.NLLLoss()(ll, labels)
    loss.backward()
    put("nll", logp=logp, labels=labels.numpy().astype(np.int32), loss=loss.reshape(1), dlogp=ll.grad)
    x, r = torch.randn(6, 5) * 3, torch.randn(6, 5)
    xl = leaf(x)
    ys = nn.LogSoftmax(dim=-1)(xl)
    (ys * r).sum().backward()
    put("log_softmax", x=x, r=r, y=ys, dx=xl.grad)

    # weighted binary cross-entropy on logits with label smoothing applied to the targets
    z, t, w = torch.randn(4, 3) * 2, (torch.rand(4, 3) > 0.5).double(), torch.tensor([0.5, 1.0, 2.0])
    eps = 0.1
    for name, ts in (("bce_one_sided", t * (1 - eps)), ("bce_two_sided", t * (1 - eps) + eps / 2)):
        zl = leaf(z)
        loss = nn.BCEWithLogitsLoss(weight=w)(zl, ts)
        loss.backward()
        put(name, z=z, t=t, w=w, loss=loss.reshape(1), dz=zl.grad)

    # VAE: KL of the encoder's Gaussian to the standard normal
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3) * 0.8
    ml, vl = leaf(mu), leaf(logvar)
    loss = kl_divergence(Normal(ml, torch.exp(0.5 * vl)), Normal(torch.zeros(4, 3), torch.ones(4, 3))).sum(-1).mean()
    loss.backward()
    put("kl", mu=mu, logvar=logvar, loss=loss.reshape(1), dmu=ml.grad, dlogvar=vl.grad)

    # recommenders: two towers and a ±1 target
    a, b = torch.randn(5, 4), torch.randn(5, 4)
    b[1] = a[1] * 0.8 + 0.1 * b[1]  # a dissimilar pair with cos > margin (active hinge)
    t = torch.tensor([1.0, -1.0, -1.0, 1.0, -1.0])
    al, bl = leaf(a), leaf(b)
    loss = nn.CosineEmbeddingLoss(margin=0.2)(al, bl, t)
    loss.backward()
    put("cosine", a=a, b=b, t=t, loss=loss.reshape(1), da=al.grad, db=bl.grad)
    a, b = torch.randn(8), torch.randn(8)
    t = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0])
    al, bl = leaf(a), leaf(b)
    loss = nn.MarginRankingLoss(margin=0.3)(al, bl, t)
    loss.backward()
    put("margin_ranking", a=a, b=b, t=t, loss=loss.reshape(1), da=al.grad, db=bl.grad)

    # categorical cross-entropy on probabilities: an ensemble's averaged softmaxes; in the last row the
    # label's probability is below eps (clamped: value -log(eps), no gradient)
    p = (torch.softmax(torch.randn(6, 5) * 2, -1) + torch.softmax(torch.randn(6, 5) * 2, -1)) / 2
    p[5] = torch.tensor([1e-9, 0.25, 0.25, 0.25, 0.25 - 1e-9])
    labels = torch.tensor([1, 0, 3, 4, 2, 0])
    pl = leaf(p)
    loss = nn.functional.nll_loss(torch.log(pl.clamp_min(1e-7)), labels)
    loss.backward()
    put("categorical", p=p, labels=labels.numpy().astype(np.int32), loss=loss.reshape(1), dp=pl.grad)

    # cross-entropy at every step of a sequence (a character language model's loss): mean over batch × steps
    z = torch.randn(3, 4, 5) * 2
    labels = torch.randint(0, 5, (3, 4))
    zl = leaf(z)
    loss = nn.CrossEntropyLoss()(zl.reshape(-1, 5), labels.reshape(-1))
    assert torch.allclose(loss, nn.CrossEntropyLoss()(z.permute(0, 2, 1), labels))
    loss.backward()
    put("cross_entropy_seq", z=z, labels=labels.numpy().astype(np.int32), loss=loss.reshape(1), dz=zl.grad)

    # masked-language-model targets: ignore_index -100 on most steps, the mean over the 4 labelled ones
    z = torch.randn(3, 4, 6) * 2
    labels = torch.full((3, 4), -100, dtype=torch.long)
    labels[0, 1], labels[1, 0], labels[1, 3], labels[2, 2] = 5, 0, 3, 3
    zl = leaf(z)
    loss = nn.CrossEntropyLoss(ignore_index=-100)(zl.reshape(12, 6), labels.reshape(12))
    loss.backward()
    put("cross_entropy_ignore", z=z, labels=labels.numpy().astype(np.int32), loss=loss.reshape(1), dz=zl.grad)

    arrays = {k: (v if v.dtype == np.int32 else v.astype(np.float32)) for k, v in out.items()}
    write_atomic(path, lambda tmp: np.savez_compressed(tmp, **arrays), ".tmp.npz")
    print(f"wrote {path}: {len(arrays)} arrays (torch {torch.__version__})")


if __name__ == "__main__":
    main()
