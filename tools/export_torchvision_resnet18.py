#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes OUT.npz for the ResNet-18 interop test: torchvision's resnet18(num_classes=10) with random
weights and random batch-norm running statistics (seeded), its state_dict under torchvision's names
("state.conv1.weight", "state.layer1.0.bn1.running_mean", ...), two random 224×224 RGB inputs in ctnn's
NHWC layout ("x") and PyTorch's eval-mode logits for them ("logits").

    /usr/bin/python3 tools/export_torchvision_resnet18.py OUT.npz
"""
import sys

import numpy as np
import torch
import torchvision


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "resnet18_reference.npz"
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.uniform_(-0.2, 0.2)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        logits = model(x)
    arrays = {"state." + k: v.numpy() for k, v in model.state_dict().items()}
    arrays["x"] = x.permute(0, 2, 3, 1).contiguous().numpy()
    arrays["logits"] = logits.numpy()
    np.savez(out, **arrays)
    print(f"wrote {out}: {len(arrays)} arrays (torch {torch.__version__}, torchvision {torchvision.__version__})")


if __name__ == "__main__":
    main()
