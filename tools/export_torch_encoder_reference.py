#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_encoder_reference.npz and tests/data/torch_encoder_state_dict.npz:
nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0,
batch_first=True, ...), num_layers=2) followed by Linear(8, 3), in an nn.Sequential (names
0.layers.0.self_attn.in_proj_weight, ..., 1.weight), on 3 sequences of 5 positions, two cases (prefix):
  post — norm_first=False, relu, src_key_padding_mask from lengths 5, 3, 1;
  pre  — norm_first=True, gelu, lengths 4, 5, 2.
Each case: parameters (param.<name>), x, lengths, upstream gradient dy, PyTorch's output y, input
gradient dx and parameter gradients (grad.<name>), float32 (lengths int32). The state_dict file is the
post model's, written by export_torch.save_state_dict (what tools/export_torch.py writes).

    /usr/bin/python3 tools/export_torch_encoder_reference.py [OUT.npz STATE.npz]
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import save_state_dict, write_atomic  # noqa: E402

STEPS, E = 5, 8


class Encoder(nn.Module):
    def __init__(self, norm_first, activation, lengths):
        super().__init__()
        layer = nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.lengths = lengths

    def forward(self, x):
        kpm = torch.arange(STEPS).unsqueeze(0) >= torch.tensor(self.lengths).unsqueeze(1)
        return self.encoder(x, src_key_padding_mask=kpm)


def build(norm_first, activation, lengths):
    model = nn.Sequential(Encoder(norm_first, activation, lengths), nn.Linear(E, 3))
    with torch.no_grad():  # every parameter away from its start value, so all are tested
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            elif name.endswith("bias"):
                p.uniform_(-0.3, 0.3)
    return model


def case(prefix, norm_first, activation, lengths, arrays):
    model = build(norm_first, activation, lengths)
    x = torch.randn(3, STEPS, E, requires_grad=True)
    y = model(x)
    dy = torch.randn(y.shape)
    y.backward(dy)
    arrays[prefix + "x"] = x.detach().numpy()
    arrays[prefix + "lengths"] = np.array(lengths, dtype=np.int32)
    arrays[prefix + "dy"] = dy.numpy()
    arrays[prefix + "y"] = y.detach().numpy()
    arrays[prefix + "dx"] = x.grad.numpy()
    for name, p in model.named_parameters():
        name = name.replace("0.encoder.", "0.")  # the wrapper's attribute is not part of ctnn's names
        arrays[prefix + "param." + name] = p.detach().numpy()
        arrays[prefix + "grad." + name] = p.grad.numpy()
    return model


def main():
    here = os.path.join(os.path.dirname(__file__), "..", "tests", "data")
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "torch_encoder_reference.npz")
    state = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "torch_encoder_state_dict.npz")
    torch.manual_seed(0)
    arrays = {}
    post = case("post.", False, "relu", [5, 3, 1], arrays)
    case("pre.", True, "gelu", [4, 5, 2], arrays)
    write_atomic(out, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    save_state_dict(post[0].encoder, state)  # nn.TransformerEncoder's own state_dict: layers.0.self_attn...
    print(f"wrote {out}: {len(arrays)} arrays; {state}")


if __name__ == "__main__":
    main()
