# SPDX-License-Identifier: MIT
"""Small PyTorch models for tests, built by MODULE:FUNCTION with tools/export_torch.py:

    PYTHONPATH=tools /usr/bin/python3 tools/export_torch.py torch_models:small_cnn --input 1,8,8 --batch 3 \
        --random-stats --out tests/data/torch_small_cnn.npz --reference tests/data/torch_small_cnn_reference.npz

ctnn's equivalent of small_cnn (tests/unit/conv/conv_test.cpp): sequential<input<8, 8, 1>, conv2d<8, 3,
{.padding = 1}>, batch_norm2d<>, relu, max_pool2d<2>, conv2d<16, 3, {.padding = 1}>, relu, flatten, dense<10>>.
"""
from torch import nn


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
