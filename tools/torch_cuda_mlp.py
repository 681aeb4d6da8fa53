#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PyTorch's side of bench_cuda: the flagship MLP (784-256-128-10, ReLU, Adam 1e-3, cross-entropy)
trained on the same kind of batches, samples/s at batch 64, 256 and 1024, timed like bench_cuda
(warm-up, then whole-second repetitions with the device synchronised at both ends).

    python3 tools/torch_cuda_mlp.py [--device cuda|cpu] [--json FILE]
"""
import argparse
import json
import time

import torch
from torch import nn


def samples_per_second(device: str, batch: int, min_seconds: float = 1.0) -> float:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x_host = torch.full((batch, 784), 0.5).pin_memory() if device == "cuda" else torch.full((batch, 784), 0.5)
    y_host = torch.arange(batch) % 10

    def step():
        x = x_host.to(device, non_blocking=True)
        y = y_host.to(device, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(3):
        step()
    sync()
    n, t0 = 0, time.perf_counter()
    while True:
        for _ in range(10):
            step()
        n += 10
        sync()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return batch * n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch_cuda_mlp: this PyTorch has no usable CUDA device")
    out = {"device": torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu", "torch": torch.__version__}
    for b in (64, 256, 1024):
        out[f"mlp_train_b{b}_samples_per_s"] = samples_per_second(a.device, b)
        print(f"| PyTorch MLP training, batch {b} | {out[f'mlp_train_b{b}_samples_per_s']:.0f} samples/s |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
