#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_embedding_reference.npz: nn.Embedding(7, 4, padding_idx=0) → Flatten →
Linear(20, 3) on a batch of 3 sequences of 5 token ids (with repeats and padding), its parameters
under nn.Sequential names (param.0.weight, param.2.weight, param.2.bias), the ids (as float32, how
ctnn's models carry them), an upstream gradient dy, and PyTorch's output y and parameter gradients
(grad.<name>), all float32.

    /usr/bin/python3 tools/export_torch_embedding_reference.py [OUT.npz]
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                             "torch_embedding_reference.npz")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(7, 4, padding_idx=0), nn.Flatten(), nn.Linear(20, 3))
    ids = torch.tensor([[3, 1, 3, 6, 0], [0, 0, 2, 5, 5], [6, 4, 1, 3, 2]])
    y = model(ids)
    dy = torch.randn(y.shape)
    y.backward(dy)
    arrays = {"ids": ids.numpy().astype(np.float32), "dy": dy.numpy(), "y": y.detach().numpy()}
    for name, p in model.named_parameters():
        arrays["param." + name] = p.detach().numpy()
        arrays["grad." + name] = p.grad.numpy()
    write_atomic(out, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    print(f"wrote {out}: {len(arrays)} arrays")


if __name__ == "__main__":
    main()
