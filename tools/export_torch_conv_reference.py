#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch_conv_reference.npz: small CNNs built with torch.nn (NCHW), their parameters
under ctnn's nn.Sequential names, a random input and upstream gradient in ctnn's NHWC layout, and
PyTorch's outputs, input gradients and parameter gradients (all float32), through
export_torch.reference_with_gradients.

    /usr/bin/python3 tools/export_torch_conv_reference.py [OUT.npz]

Model "cnn":       Conv2d(3,4,3,p=1) ReLU MaxPool2d(2) Conv2d(4,6,3,p=1,groups=2) Tanh AvgPool2d(2)
                   AdaptiveAvgPool2d(1) Flatten Linear(6,3)           on 3×8×8 inputs, batch 2
Model "strided":   Conv2d(2,3,(3,2),stride=(2,1),padding=(1,0),dilation=(1,2),bias=False)
                   MaxPool2d(3,stride=2,padding=1)                      on 2×9×8 inputs, batch 2
Model "bn":        Conv2d(2,3,3,p=1) BatchNorm2d(3) ReLU AdaptiveAvgPool2d(1) Flatten Linear(3,4)
                   BatchNorm1d(4), training mode, on 2×5×5 inputs, batch 4: running statistics before
                   (state0.*) and after (state.*) the forward, and the eval-mode output (y_eval).
                   (num_batches_tracked is stored as float32 here; ctnn saves it as int64.)
Model "block":     torchvision's BasicBlock(4, 6, stride=2) with its downsample (conv1x1 + BatchNorm2d),
                   named "block", on 4×6×6 inputs, batch 3 (training mode, then y_eval)
Model "transpose": ZeroPad2d((0,1,2,0)) ConvTranspose2d(3,4,3,stride=2,padding=1,output_padding=1) ReLU
                   ConvTranspose2d(4,2,(2,3),stride=(1,2),dilation=(2,1),groups=2,bias=False)
                   Upsample(scale_factor=(2,1), nearest)                on 3×3×4 inputs, batch 2
Model "flat":      Conv2d(2,3,3,p=1) ReLU Flatten Linear(60,4)          on 2×4×5 inputs, batch 2
                   (nn.Flatten's (c, h, w) feature order, which ctnn's flatten reproduces)
"""
import collections
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torch import reference_with_gradients  # noqa: E402


def export(prefix, model, in_chw, out, batch=2):
    torch.manual_seed(0)
    for p in model.parameters():
        nn.init.uniform_(p, -0.5, 0.5)
    for b in model.buffers():  # batch norm: start from non-trivial running statistics
        if b.is_floating_point():
            b.uniform_(0.5, 1.5)
    reference_with_gradients(prefix, model, torch.randn(batch, *in_chw), out)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_conv_reference.npz"
    out = {}
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1, groups=2),
                        nn.Tanh(), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    export("cnn", cnn, (3, 8, 8), out)
    strided = nn.Sequential(nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), bias=False),
                            nn.MaxPool2d(3, stride=2, padding=1))
    export("strided", strided, (2, 9, 8), out)
    bn = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                       nn.Linear(3, 4), nn.BatchNorm1d(4))
    export("bn", bn, (2, 5, 5), out, batch=4)
    from torchvision.models.resnet import BasicBlock, conv1x1
    block = nn.Sequential(collections.OrderedDict(
        block=BasicBlock(4, 6, stride=2, downsample=nn.Sequential(conv1x1(4, 6, 2), nn.BatchNorm2d(6)))))
    export("block", block, (4, 6, 6), out, batch=3)
    transpose = nn.Sequential(nn.ZeroPad2d((0, 1, 2, 0)), nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
                              nn.ReLU(), nn.ConvTranspose2d(4, 2, (2, 3), stride=(1, 2), dilation=(2, 1), groups=2, bias=False),
                              nn.Upsample(scale_factor=(2, 1), mode="nearest"))
    export("transpose", transpose, (3, 3, 4), out)
    flat = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(60, 4))
    export("flat", flat, (2, 4, 5), out)
    np.savez_compressed(path, **{k: v.astype(np.float32) for k, v in out.items()})
    print(f"wrote {path}: {len(out)} arrays (torch {torch.__version__})")


if __name__ == "__main__":
    main()
