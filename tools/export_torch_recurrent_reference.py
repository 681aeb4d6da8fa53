#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_<kind>_reference.npz for kind = lstm, gru and rnn: nn.LSTM/nn.GRU/nn.RNN(3, 4,
batch_first=True) (every step's output) → nn.LSTM/nn.GRU/nn.RNN(4, 3, batch_first=True; the RNN with
nonlinearity="relu") (the last step's output) → nn.Linear(3, 2) on a batch of 3 sequences of 5 steps; parameters under ctnn's sequential
names (param.0.weight_ih_l0, ..., param.2.weight), the input x [3, 5, 3], an upstream gradient dy
[3, 2], and PyTorch's output y, input gradient dx and parameter gradients (grad.<name>), all float32.

    /usr/bin/python3 tools/export_torch_recurrent_reference.py [OUT_DIR]
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402


def export(kind, out):
    torch.manual_seed(0)
    if kind == "rnn":  # tanh, then relu
        layers = [nn.RNN(3, 4, batch_first=True), nn.RNN(4, 3, nonlinearity="relu", batch_first=True), nn.Linear(3, 2)]
    else:
        cell = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
        layers = [cell(3, 4, batch_first=True), cell(4, 3, batch_first=True), nn.Linear(3, 2)]
    x = torch.randn(3, 5, 3, requires_grad=True)
    seq, _ = layers[0](x)
    last, _ = layers[1](seq)
    y = layers[2](last[:, -1, :])
    dy = torch.randn(y.shape)
    y.backward(dy)
    arrays = {"x": x.detach().numpy(), "dy": dy.numpy(), "y": y.detach().numpy(), "dx": x.grad.numpy()}
    for i, layer in enumerate(layers):
        for name, p in layer.named_parameters():
            arrays[f"param.{i}.{name}"] = p.detach().numpy()
            arrays[f"grad.{i}.{name}"] = p.grad.numpy()
    write_atomic(out, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    print(f"wrote {out}: {len(arrays)} arrays")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")
    for kind in ("lstm", "gru", "rnn"):
        export(kind, os.path.join(out_dir, f"torch_{kind}_reference.npz"))


if __name__ == "__main__":
    main()
