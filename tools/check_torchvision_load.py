#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The export half of the ResNet-18 interop test: loads an npz that ctnn saved (CTNN.npz) into
torchvision's resnet18(num_classes=10) with load_state_dict(strict=True) and checks that its eval-mode
logits for the reference inputs equal the reference logits (REFERENCE.npz from
export_torchvision_resnet18.py) within 1e-3 relative.

    /usr/bin/python3 tools/check_torchvision_load.py CTNN.npz REFERENCE.npz
"""
import sys

import numpy as np
import torch
import torchvision


def main():
    saved, ref = np.load(sys.argv[1]), np.load(sys.argv[2])
    model = torchvision.models.resnet18(num_classes=10)
    model.load_state_dict({k: torch.from_numpy(saved[k]) for k in saved.files}, strict=True)
    model.eval()
    x = torch.from_numpy(ref["x"]).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        logits = model(x).numpy()
    err = np.abs(logits - ref["logits"]).max() / np.abs(ref["logits"]).max()
    print(f"torchvision loaded ctnn's npz with strict=True; logits differ by {err:.2e} relative")
    sys.exit(0 if err < 1e-3 else 1)


if __name__ == "__main__":
    main()
