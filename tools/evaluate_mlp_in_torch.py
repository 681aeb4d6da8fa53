#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Loads the flagship MLP saved by ctnn (examples/01, --save FILE) into the equivalent PyTorch
nn.Sequential and evaluates it on the Fashion-MNIST test set: the accuracy must equal ctnn's.

usage: /usr/bin/python3 tools/evaluate_mlp_in_torch.py out/fashion_mnist_mlp.npz [DATA_DIR]
"""
import gzip
import sys

import numpy as np
import torch

path = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(f"{data}/{name}.gz", "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                            torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(path).items()})
x = torch.from_numpy(idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0)
y = torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))
with torch.no_grad():
    acc = (model(x).argmax(dim=1) == y).float().mean().item()
print(f"PyTorch {torch.__version__} on the ctnn-trained weights: test accuracy {acc:.4f}")
