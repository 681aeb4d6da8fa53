#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_attention_reference.npz: nn.MultiheadAttention(8, 2, batch_first=True) as
self-attention (query = key = value = x) followed by Linear(8, 3), in an nn.Sequential (names
0.in_proj_weight, 0.in_proj_bias, 0.out_proj.weight, 0.out_proj.bias, 1.weight, 1.bias), on a batch of
3 sequences of 5 positions, in three cases (prefix `<case>.`):
  plain   — no mask;
  padded  — key_padding_mask from lengths 5, 3, 1 (padded query rows still get outputs, as in PyTorch);
  causal  — that key_padding_mask and the causal attn_mask (key j > query i masked).
Each case holds the parameters (param.<name>), x, lengths, an upstream gradient dy, and PyTorch's
output y, input gradient dx and parameter gradients (grad.<name>), all float32 (lengths int32).

    /usr/bin/python3 tools/export_torch_attention_reference.py [OUT.npz]
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402

STEPS, E, HEADS = 5, 8, 2


class SelfAttention(nn.MultiheadAttention):
    def __init__(self, lengths=None, causal=False):
        super().__init__(E, HEADS, batch_first=True)
        self.lengths, self.causal = lengths, causal

    def forward(self, x):
        kpm = None
        if self.lengths is not None:
            kpm = torch.arange(STEPS).unsqueeze(0) >= torch.tensor(self.lengths).unsqueeze(1)
        mask = torch.triu(torch.ones(STEPS, STEPS, dtype=torch.bool), 1) if self.causal else None
        return super().forward(x, x, x, key_padding_mask=kpm, attn_mask=mask, need_weights=False)[0]


def case(prefix, lengths, causal, arrays):
    model = nn.Sequential(SelfAttention(lengths, causal), nn.Linear(E, 3))
    with torch.no_grad():  # biases away from zero, so they are tested
        model[0].in_proj_bias.uniform_(-0.5, 0.5)
        model[0].out_proj.bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, STEPS, E, requires_grad=True)
    y = model(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    arrays[prefix + "x"] = x.detach().numpy()
    arrays[prefix + "lengths"] = np.array(lengths if lengths is not None else [STEPS] * 3, dtype=np.int32)
    arrays[prefix + "dy"] = dy.numpy()
    arrays[prefix + "y"] = y.detach().numpy()
    arrays[prefix + "dx"] = x.grad.numpy()
    for name, p in model.named_parameters():
        arrays[prefix + "param." + name] = p.detach().numpy()
        arrays[prefix + "grad." + name] = p.grad.numpy()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                             "torch_attention_reference.npz")
    torch.manual_seed(0)
    arrays = {}
    case("plain.", None, False, arrays)
    case("padded.", [5, 3, 1], False, arrays)
    case("causal.", [5, 3, 1], True, arrays)
    write_atomic(out, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    print(f"wrote {out}: {len(arrays)} arrays")


if __name__ == "__main__":
    main()
