#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Exports PyTorch reference data for ctnn's tests (run with Debian's /usr/bin/python3, which has torch).

Writes tests/data/torch_reference.npz: a float64 nn.Sequential(Linear(5,4), Tanh(), Linear(4,3)), its
initial weights, a batch with labels, the logits, the cross-entropy loss, every parameter gradient,
and the weights after 3 steps of each optimizer configuration ctnn mirrors.
"""
import sys
import numpy as np
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_reference.npz"


def make():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))


model = make()
x = torch.randn(6, 5)
labels = torch.tensor([0, 2, 1, 1, 0, 2])
arrays = {f"init.{k}": v.detach().numpy().copy() for k, v in model.state_dict().items()}
arrays["x"] = x.numpy()
arrays["labels"] = labels.numpy().astype(np.int64)
logits = model(x)
loss = torch.nn.functional.cross_entropy(logits, labels)
loss.backward()
arrays["logits"] = logits.detach().numpy()
arrays["loss"] = np.array([loss.item()])
for k, p in model.named_parameters():
    arrays[f"grad.{k}"] = p.grad.numpy().copy()

configs = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
    "rmsprop_momentum": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, weight_decay=0.1),
}
for name, make_opt in configs.items():
    m = make()
    opt = make_opt(m.parameters())
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), labels).backward()
        opt.step()
    for k, v in m.state_dict().items():
        arrays[f"{name}.{k}"] = v.detach().numpy().copy()

np.savez(out, **arrays)
print(f"wrote {out} ({len(arrays)} arrays) with torch {torch.__version__}")

# A plain float32 state_dict as PyTorch users export it (np.savez_compressed: deflated entries), with
# the model's outputs on a fixed input, for ctnn's load_npz interoperability test.
state_out = out.replace("torch_reference.npz", "torch_state_dict.npz")
m32 = make().float()
x32 = torch.linspace(-1, 1, 10).reshape(2, 5).float()
np.savez_compressed(state_out, **{k: v.detach().numpy() for k, v in m32.state_dict().items()})
np.save(state_out.replace(".npz", "_logits.npy"), m32(x32).detach().numpy())
print(f"wrote {state_out}")
