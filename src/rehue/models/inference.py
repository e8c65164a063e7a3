"""Inference-time forms of a trained generator: same outputs, less work per frame.

Nothing here changes a model's parameters or their names (saved weights load as before); each helper
returns a new module or graph built from an evaluation-mode model.
"""

from __future__ import annotations

import copy
import io
import threading

import torch
from torch import nn

from rehue.errors import warnings_as

ONNX_OPSET = 17
_EXPORT_LOCK = threading.Lock()


def _fold_batchnorm(conv: nn.Conv2d | nn.ConvTranspose2d, norm: nn.BatchNorm2d) -> None:
    """Fold ``norm``'s running statistics and affine transform into ``conv``'s weight and bias, in place."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
    # Conv2d weights are (out, in, kh, kw); ConvTranspose2d weights are (in, out, kh, kw).
    shape = (-1, 1, 1, 1) if isinstance(conv, nn.Conv2d) else (1, -1, 1, 1)
    conv.weight = nn.Parameter(conv.weight * scale.reshape(shape))
    conv.bias = nn.Parameter((bias - norm.running_mean) * scale + norm.bias)


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """An evaluation copy of ``model`` with every BatchNorm2d that directly follows a convolution in an
    ``nn.Sequential`` folded into it, and Dropout layers (identities in evaluation) dropped.

    The copy computes what ``model.eval()`` computes (up to float rounding) with fewer passes over
    the activations; ``model`` itself is left untouched.
    """
    fused = copy.deepcopy(model).eval()
    with torch.no_grad():
        for parent in list(fused.modules()):
            if not isinstance(parent, nn.Sequential):
                continue
            kept: list[nn.Module] = []
            for layer in parent:
                if isinstance(layer, nn.Dropout):
                    continue
                previous = kept[-1] if kept else None
                follows_conv = isinstance(previous, (nn.Conv2d, nn.ConvTranspose2d))
                if isinstance(layer, nn.BatchNorm2d) and follows_conv:
                    _fold_batchnorm(previous, layer)
                    continue
                kept.append(layer)
            for name in list(parent._modules):
                del parent._modules[name]
            for index, layer in enumerate(kept):
                parent.add_module(str(index), layer)
    return fused


def prepare_for_cpu(model: nn.Module) -> nn.Module:
    """``fuse_batchnorm`` plus channels-last weights, the faster layout for oneDNN's CPU convolutions."""
    return fuse_batchnorm(model).to(memory_format=torch.channels_last)


def export_onnx(model: nn.Module, in_channels: int, size: int) -> bytes:
    """The ONNX graph (bytes) of ``model``, traced at (1, in_channels, size, size), for (N, in_channels, H, W)
    inputs (any batch and canvas size), named ``x`` -> ``ab``.

    Uses PyTorch's TorchScript-based exporter (needs the ``onnx`` package); any failure raises, so
    callers can fall back to running the model in PyTorch. Exports take turns: the exporter keeps its
    state in globals, and a second export on another thread fails while one runs.
    """
    buffer = io.BytesIO()
    example = torch.zeros(1, in_channels, size, size)
    with _EXPORT_LOCK, warnings_as("ignore"):
        torch.onnx.export(copy.deepcopy(model).cpu().eval(), (example,), buffer, dynamo=False,
                          input_names=["x"], output_names=["ab"], opset_version=ONNX_OPSET,
                          dynamic_axes={name: {0: "batch", 2: "height", 3: "width"} for name in ("x", "ab")})
    return buffer.getvalue()
