#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The export half of the PyTorch interop test: loads an npz that ctnn saved (CTNN.npz) into the
torchvision model MODEL with load_state_dict(strict=True), checks that every array has the dtype of
PyTorch's own state_dict entry, and that the eval-mode outputs for the reference inputs equal the
reference outputs (REFERENCE.npz from tools/export_torch.py: "x" NHWC, "y") within 1e-3 relative.

    /usr/bin/python3 tools/check_torchvision_load.py MODEL CTNN.npz REFERENCE.npz
"""
import sys

import numpy as np
import torch
import torchvision


def main():
    name, saved, ref = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
    model = torchvision.models.get_model(name, weights=None, num_classes=ref["y"].shape[1])
    own = model.state_dict()
    wrong = [k for k in saved.files if k in own and saved[k].dtype != own[k].numpy().dtype]
    if wrong:
        print(f"FAILED: dtypes differ from PyTorch's for {wrong[:5]}")
        sys.exit(1)
    model.load_state_dict({k: torch.from_numpy(saved[k]) for k in saved.files}, strict=True)
    model.eval()
    x = torch.from_numpy(ref["x"]).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        y = model(x).numpy()
    err = np.abs(y - ref["y"]).max() / np.abs(ref["y"]).max()
    print(f"torchvision {name} loaded ctnn's npz with strict=True ({len(saved.files)} arrays, same dtypes); "
          f"outputs differ by {err:.2e} relative")
    sys.exit(0 if err < 1e-3 else 1)


if __name__ == "__main__":
    main()
