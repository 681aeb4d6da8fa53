#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Exports a PyTorch model's state_dict to an npz that ctnn's load_npz reads, and reference inputs and
outputs to compare ctnn's predictions with. Run with Debian's /usr/bin/python3 (python3-torch,
python3-torchvision).

    /usr/bin/python3 tools/export_torch.py MODEL --out STATE.npz [--reference REF.npz] [options]

MODEL is a torchvision model name (resnet18, resnet34, vgg11, mobilenet_v2, ...: any name
torchvision.models.get_model knows) or MODULE:FUNCTION, a Python function returning an nn.Module
(MODULE is imported from the current directory or PYTHONPATH), e.g. my_nets:small_cnn.

STATE.npz holds every state_dict entry under its PyTorch name with its dtype (float32 parameters and
running statistics, int64 num_batches_tracked) and PyTorch's shape (conv weights [out, in/groups, kh,
kw]) — ctnn converts to its NHWC activations itself, so the same names load with load_npz.
REF.npz (optional) holds "x": the inputs in ctnn's layout (NHWC for images: [N, H, W, C]), "y": the
model's outputs in eval mode (NHWC for 4-D outputs), and "top5": the top-5 class indices per input.

Options:
  --weights FILE.pth   load these weights first (a state_dict saved with torch.save, e.g. torchvision's
                       pretrained resnet18-f37072fd.pth); otherwise the model keeps its seeded random init
  --num-classes K      for torchvision models: the classifier's size (default: torchvision's, 1000)
  --input C,H,W        input shape per sample for the reference (default 3,224,224)
  --batch N            number of random reference inputs (default 2)
  --images F [F ...]   use these image files (resized to H×W, ImageNet mean/std) instead of random inputs
  --random-stats       give batch-norm running statistics random values (so eval mode is not trivial)
  --seed S             seed of init, statistics and inputs (default 0)
  --torchscript FILE   also save the model traced with TorchScript (for libtorch in C++: torch::jit::load;
                       benchmarks/compare_cnn times it beside ctnn)
  --categories FILE    write the class names of the torchvision model's pretrained weights, one per line

The functions below (load_model, save_state_dict, nhwc, reference_with_gradients) are also used by
tools/export_torch_conv_reference.py.
"""
import argparse
import importlib
import json
import os
import pathlib
import sys

import numpy as np
import torch
from torch import nn


def load_model(spec, num_classes=None):
    """A torchvision model by name, or MODULE:FUNCTION."""
    if ":" in spec:
        module, function = spec.split(":", 1)
        sys.path.insert(0, os.getcwd())
        return getattr(importlib.import_module(module), function)()
    import torchvision

    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    return torchvision.models.get_model(spec, weights=None, **kwargs)


def nhwc(t):
    """A tensor as numpy, NCHW images permuted to ctnn's NHWC."""
    t = t.detach()
    return (t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t).numpy()


def write_atomic(path, write, suffix=".tmp"):
    """write(temporary path), then rename it to `path`: a reader never sees a half-written file."""
    tmp = path + suffix
    write(tmp)
    os.replace(tmp, path)


def write_json(path, obj, indent=1):
    """`obj` as JSON (atomically), the form every tools/ script writes its --json in."""
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=indent)
            f.write("\n")
    write_atomic(path, write)


def save_state_dict(model, path):
    """Every state_dict entry under its own name, with its own dtype (atomically)."""
    arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    write_atomic(path, lambda tmp: np.savez(tmp, **arrays), ".tmp.npz")  # savez keeps a .npz name as it is
    return arrays


def randomize_statistics(model, generator=None):
    """Random batch-norm running statistics (mean in [-0.2, 0.2], variance in [0.5, 1.5])."""
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.uniform_(-0.2, 0.2, generator=generator)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 1.5, generator=generator)


def reference_with_gradients(prefix, model, x, out):
    """Training-mode forward and backward of `model` on `x` with a random upstream gradient: writes
    <prefix>.x/.r/.y/.dx (NHWC), .param.<name> and .grad.<name> for every parameter, .state0.<name> and
    .state.<name> (buffers before and after the forward) and, when the model has buffers, .y_eval."""
    for name, b in model.named_buffers():
        if b.is_floating_point():
            out[f"{prefix}.state0.{name}"] = b.detach().numpy().copy()
    x = x.clone().requires_grad_(True)
    model.train()
    y = model(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    out[f"{prefix}.x"], out[f"{prefix}.r"], out[f"{prefix}.y"], out[f"{prefix}.dx"] = nhwc(x), nhwc(r), nhwc(y), nhwc(x.grad)
    for name, p in model.named_parameters():
        out[f"{prefix}.param.{name}"] = p.detach().numpy()
        out[f"{prefix}.grad.{name}"] = p.grad.numpy()
    for name, b in model.named_buffers():
        out[f"{prefix}.state.{name}"] = b.detach().numpy()
    if any(True for _ in model.buffers()):
        model.eval()
        with torch.no_grad():
            out[f"{prefix}.y_eval"] = nhwc(model(x))


def image_inputs(files, h, w):
    """Image files as a [N, 3, H, W] batch: resize the short side, centre crop, ImageNet mean/std."""
    from PIL import Image
    from torchvision import transforms

    t = transforms.Compose([transforms.Resize(min(h, w)), transforms.CenterCrop((h, w)), transforms.ToTensor(),
                            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    return torch.stack([t(Image.open(f).convert("RGB")) for f in files])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reference")
    ap.add_argument("--weights")
    ap.add_argument("--num-classes", type=int)
    ap.add_argument("--input", default="3,224,224")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--images", nargs="+")
    ap.add_argument("--random-stats", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--categories")
    ap.add_argument("--torchscript")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    model = load_model(a.model, a.num_classes)
    if a.weights:
        model.load_state_dict(torch.load(a.weights, map_location="cpu", weights_only=True), strict=True)
    if a.random_stats:
        randomize_statistics(model)
    model.eval()
    arrays = save_state_dict(model, a.out)
    print(f"wrote {a.out}: {len(arrays)} arrays, {sum(v.size for v in arrays.values())} values "
          f"(torch {torch.__version__})")
    if a.torchscript:
        c, h, w = (int(v) for v in a.input.split(","))
        with torch.no_grad():
            traced = torch.jit.trace(model, torch.randn(1, c, h, w))
        write_atomic(a.torchscript, traced.save)
        print(f"wrote {a.torchscript}: TorchScript trace for 1×{c}×{h}×{w} inputs")
    if a.categories:
        import torchvision

        names = torchvision.models.get_model_weights(a.model).DEFAULT.meta["categories"]
        write_atomic(a.categories, lambda tmp: pathlib.Path(tmp).write_text("\n".join(names) + "\n"))
        print(f"wrote {a.categories}: {len(names)} class names")
    if a.reference:
        c, h, w = (int(v) for v in a.input.split(","))
        x = image_inputs(a.images, h, w) if a.images else torch.randn(a.batch, c, h, w)
        with torch.no_grad():
            y = model(x)
        ref = {"x": nhwc(x), "y": nhwc(y)}
        if y.dim() == 2:
            ref["top5"] = torch.topk(y, min(5, y.shape[1]), dim=1).indices.numpy().astype(np.int64)
        write_atomic(a.reference, lambda tmp: np.savez(tmp, **ref), ".tmp.npz")
        print(f"wrote {a.reference}: {x.shape[0]} inputs {tuple(ref['x'].shape[1:])} (NHWC), outputs {tuple(y.shape[1:])}")


if __name__ == "__main__":
    main()
