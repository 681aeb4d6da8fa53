#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_<kind>_bidir2_padded_reference.npz for kind = lstm and gru: a masked, 2-layer,
bidirectional nn.LSTM/nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True) (dropout 0,
torch.manual_seed(0), float64) run through pack_padded_sequence(enforce_sorted=False) on a batch of 3
sequences of T = 5 steps with lengths [3, 5, 1] (unsorted). The padded steps of x hold nonzero values,
so a test that matches proves they are ignored.

    out  = pad_packed_sequence(rnn(packed).output, batch_first=True, total_length=5)   [3, 5, 8], 0 when padded
    last = cat(h_n[-2], h_n[-1])   [3, 8]: the last layer's forward state after each sample's own last
                                   step and its reverse state after step 0
    L    = sum(out * w_out) + sum(last * w_last)

Arrays (all float64 but lengths, int32): x [3, 5, 3], lengths [3], param.<name> under nn.LSTM/nn.GRU's
state_dict names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, the same with _reverse, then _l1
whose weight_ih is [G*4, 8]), out [3, 5, 8], h_n [4, 3, 4] (layer-major: l0 fwd, l0 rev, l1 fwd, l1 rev),
c_n [4, 3, 4] (LSTM only), last [3, 8], w_out [3, 5, 8], w_last [3, 8], dx = dL/dx [3, 5, 3] (0 at padded
steps) and grad.<name> = dL/d param.<name>.

It also writes tests/data/torch_<kind>_states_reference.npz: the same module and padded batch (seed 1)
started from given states h0 (and c0) [4, 3, 4], with L = sum(out * w_out) + sum(h_n * w_hn)
(+ sum(c_n * w_cn)): arrays x, lengths, param.*, h0, c0, out, h_n, c_n, w_out, w_hn, w_cn, dx, dh0,
dc0 and grad.* — initial states as inputs, final states as outputs, and both their gradients.

    /usr/bin/python3 tools/export_torch_recurrent_padded_reference.py [OUT_DIR]
"""
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import write_atomic  # noqa: E402

BATCH, T, IN, HIDDEN = 3, 5, 3, 4
LENGTHS = [3, 5, 1]


def export(kind, out_path):
    torch.manual_seed(0)
    cell = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
    rnn = cell(IN, HIDDEN, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(BATCH, T, IN, dtype=torch.float64)  # padded steps keep their random (nonzero) values
    x.requires_grad_(True)
    lengths = torch.tensor(LENGTHS, dtype=torch.int64)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_packed, state = rnn(packed)
    out = pad_packed_sequence(out_packed, batch_first=True, total_length=T)[0]
    h_n, c_n = state if kind == "lstm" else (state, None)
    last = torch.cat([h_n[-2], h_n[-1]], dim=1)
    w_out = torch.randn(out.shape, dtype=torch.float64)
    w_last = torch.randn(last.shape, dtype=torch.float64)
    loss = (out * w_out).sum() + (last * w_last).sum()
    loss.backward()

    for b, n in enumerate(LENGTHS):  # self-checks of what the C++ test relies on
        assert torch.all(x[b, n:] != 0), "padded steps must hold nonzero garbage"
        assert torch.all(out[b, n:] == 0) and torch.all(x.grad[b, n:] == 0)
        assert torch.equal(last[b, :HIDDEN], out[b, n - 1, :HIDDEN])  # forward: state at the sample's own end
        assert torch.equal(last[b, HIDDEN:], out[b, 0, HIDDEN:])  # reverse: state after step 0

    arrays = {"x": x.detach().numpy(), "lengths": np.asarray(LENGTHS, dtype=np.int32), "out": out.detach().numpy(),
              "h_n": h_n.detach().numpy(), "last": last.detach().numpy(), "w_out": w_out.numpy(),
              "w_last": w_last.numpy(), "dx": x.grad.numpy()}
    if c_n is not None:
        arrays["c_n"] = c_n.detach().numpy()
    for name, p in rnn.named_parameters():
        arrays[f"param.{name}"] = p.detach().numpy()
        arrays[f"grad.{name}"] = p.grad.numpy()
    assert all(a.dtype == np.float64 for k, a in arrays.items() if k != "lengths")
    write_atomic(out_path, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    print(f"wrote {out_path}: {len(arrays)} arrays, loss {loss.item():.12g}")


def export_states(kind, out_path):
    torch.manual_seed(1)
    cell = {"lstm": nn.LSTM, "gru": nn.GRU}[kind]
    rnn = cell(IN, HIDDEN, num_layers=2, bidirectional=True, batch_first=True).double()
    x = torch.randn(BATCH, T, IN, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, BATCH, HIDDEN, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(4, BATCH, HIDDEN, dtype=torch.float64, requires_grad=True)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out_packed, state = rnn(packed, (h0, c0) if kind == "lstm" else h0)
    out = pad_packed_sequence(out_packed, batch_first=True, total_length=T)[0]
    h_n, c_n = state if kind == "lstm" else (state, None)
    w_out = torch.randn(out.shape, dtype=torch.float64)
    w_hn = torch.randn(h_n.shape, dtype=torch.float64)
    w_cn = torch.randn(h_n.shape, dtype=torch.float64)
    loss = (out * w_out).sum() + (h_n * w_hn).sum() + ((c_n * w_cn).sum() if c_n is not None else 0)
    loss.backward()
    arrays = {"x": x.detach().numpy(), "lengths": np.asarray(LENGTHS, dtype=np.int32), "h0": h0.detach().numpy(),
              "out": out.detach().numpy(), "h_n": h_n.detach().numpy(), "w_out": w_out.numpy(), "w_hn": w_hn.numpy(),
              "dx": x.grad.numpy(), "dh0": h0.grad.numpy()}
    if c_n is not None:
        arrays.update({"c0": c0.detach().numpy(), "c_n": c_n.detach().numpy(), "w_cn": w_cn.numpy(), "dc0": c0.grad.numpy()})
    for name, p in rnn.named_parameters():
        arrays[f"param.{name}"] = p.detach().numpy()
        arrays[f"grad.{name}"] = p.grad.numpy()
    write_atomic(out_path, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")
    print(f"wrote {out_path}: {len(arrays)} arrays, loss {loss.item():.12g}")


def main():
    torch.set_num_threads(1)
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")
    for kind in ("lstm", "gru"):
        export(kind, os.path.join(out_dir, f"torch_{kind}_bidir2_padded_reference.npz"))
        export_states(kind, os.path.join(out_dir, f"torch_{kind}_states_reference.npz"))


if __name__ == "__main__":
    main()
