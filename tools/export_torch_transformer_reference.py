#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_transformer_parts_reference.npz: the transformer's elementwise and
normalisation parts in one nn.Sequential on a batch of 3 sequences of 4 positions × 6 features —
0: a learned position table [4, 6] added (ctnn::positional_embedding), 1: the sinusoidal code added
(ctnn::sinusoidal_encoding), 2: Linear(6, 8), 3: LayerNorm(8), 4: GELU(), 5: Linear(8, 8),
6: GELU(approximate="tanh"), 7: LayerNorm(8, elementwise_affine=False), 8: Linear(8, 3) — its
parameters (param.<name>), the input x, an upstream gradient dy, and PyTorch's output y, input
gradient dx and parameter gradients (grad.<name>), all float32.

    /usr/bin/python3 tools/export_torch_transformer_reference.py [OUT.npz]
"""
import math
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402


class LearnedPositions(nn.Module):
    def __init__(self, steps, dim):
        super().__init__()
        self.weight = nn.Parameter(0.5 * torch.randn(steps, dim))

    def forward(self, x):
        return x + self.weight


class Sinusoid(nn.Module):
    """PyTorch tutorial's PositionalEncoding (batch-first, no dropout), computed in double."""
    def __init__(self, steps, dim):
        super().__init__()
        pos = torch.arange(steps, dtype=torch.float64).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64) * (-math.log(10000.0) / dim))
        pe = torch.zeros(steps, dim, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.float(), persistent=False)

    def forward(self, x):
        return x + self.pe


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                             "torch_transformer_parts_reference.npz")
    torch.manual_seed(0)
    model = nn.Sequential(LearnedPositions(4, 6), Sinusoid(4, 6), nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(),
                          nn.Linear(8, 8), nn.GELU(approximate="tanh"), nn.LayerNorm(8, elementwise_affine=False),
                          nn.Linear(8, 3))
    with torch.no_grad():  # affine parameters away from their 1/0 start, so they are tested
        model[3].weight.uniform_(0.5, 1.5)
        model[3].bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, 4, 6, requires_grad=True)
    y = model(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    arrays = {"x": x.detach().numpy(), "dy": dy.numpy(), "y": y.detach().numpy(), "dx": x.grad.numpy()}
    for name, p in model.named_parameters():
        arrays["param." + name] = p.detach().numpy()
        arrays["grad." + name] = p.grad.numpy()
    write_atomic(out, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    print(f"wrote {out}: {len(arrays)} arrays")


if __name__ == "__main__":
    main()
