"""a*b* as classes (Zhang, Isola and Efros 2016): a square grid of bins over normalised a*b*.

A generator that predicts a distribution over these bins, rather than one a*b* value, can say that a
pixel may be blue or yellow. Shown as the distribution's mean, such a pixel goes grey, which is the
closest guess in squared error; where the model is sure, the mean keeps its colour.
"""

from __future__ import annotations

import torch

GRID = 23  # bins per axis: a*b* from -110 to 110 in steps of 10 (normalised: -1 to 1)
BINS = GRID * GRID
STEP = 2.0 / (GRID - 1)


def bin_centres() -> torch.Tensor:
    """(BINS, 2) normalised a*b* of the bins, a-major."""
    axis = torch.linspace(-1.0, 1.0, GRID)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([a.reshape(-1), b.reshape(-1)], dim=1)


def soft_targets(ab: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) normalised a*b* -> (N, BINS, H, W): each pixel spread bilinearly over its four nearest
    bins, so that the target distribution's mean is the pixel's a*b* (clamped to the grid). Cross-entropy
    against these targets then teaches a distribution whose mean estimates the true a*b*."""
    position = ((ab.float().clamp(-1.0, 1.0) + 1.0) / STEP).clamp(0.0, GRID - 1 - 1e-4)
    low = position.floor()
    frac = position - low
    low = low.long()
    n, _, h, w = ab.shape
    target = torch.zeros(n, BINS, h, w, dtype=torch.float32, device=ab.device)
    for da in (0, 1):
        for db in (0, 1):
            weight = (frac[:, 0] if da else 1 - frac[:, 0]) * (frac[:, 1] if db else 1 - frac[:, 1])
            index = (low[:, 0] + da) * GRID + (low[:, 1] + db)
            target.scatter_add_(1, index[:, None], weight[:, None])
    return target


def sharpened(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """(N, BINS, H, W) logits -> the distribution over the bins, sharpened by ``temperature``."""
    return torch.softmax(logits.float() / temperature, dim=1)


def distribution_mean(probs: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(N, BINS, H, W) distribution -> (N, 2, H, W) normalised a*b*: its mean."""
    return torch.einsum("nkhw,kc->nchw", probs, centres)


def annealed_mean(logits: torch.Tensor, centres: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """(N, BINS, H, W) logits -> (N, 2, H, W) normalised a*b*: the mean of the distribution sharpened by
    ``temperature`` (1: the plain mean; Zhang et al. show 0.38, between the mean and the likeliest bin)."""
    return distribution_mean(sharpened(logits, temperature), centres)
