#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""numpy reads ctnn's npz archives: the names are torch.nn.Sequential's, weights are [out, in], and a
forward pass computed with numpy from the loaded arrays reproduces ctnn's outputs."""
import sys
import numpy as np

d = sys.argv[1]
x = np.load(f"{d}/input.npy").reshape(2, -1)
expected = np.load(f"{d}/output.npy")
for name in ("model_deflated.npz", "model_stored.npz"):
    w = np.load(f"{d}/{name}")
    assert sorted(w.files) == ["1.bias", "1.weight", "3.bias", "3.weight"], w.files
    assert w["1.weight"].shape == (4, 6) and w["1.weight"].dtype == np.float32
    assert w["3.weight"].shape == (3, 4) and w["3.bias"].shape == (3,)
    h = np.maximum(x @ w["1.weight"].T + w["1.bias"], 0)
    z = h @ w["3.weight"].T + w["3.bias"]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, expected, rtol=1e-5, atol=1e-6)
    print(f"{name}: numpy forward matches ctnn, max |diff| = {np.abs(p - expected).max():.2e}")
