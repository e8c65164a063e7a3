"""sRGB <-> CIE LAB under D65, for numpy arrays (H, W, 3) and torch tensors (N, 3, H, W).

Normalisation, defined here once and used by data, models, inference and evaluation:

* lightness: ``L* / 50 - 1``, so L* in [0, 100] maps to [-1, 1];
* colour: ``ab / 110``, so a*, b* in [-110, 110] map to [-1, 1] (every sRGB colour fits).

The numpy path works in float32 (no float64 round trip over a 720p frame); the torch path is
batched and differentiable.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

L_SCALE = 50.0
AB_SCALE = 110.0

# D65 reference white and the sRGB -> XYZ matrix (IEC 61966-2-1).
_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
_RGB_TO_XYZ = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]],
    dtype=np.float32,
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ.astype(np.float64)).astype(np.float32)
_EPS = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0
# Bound on f(X/Xn) before cubing: real colours have |f| < 2, and past about 7e12 the cube overflows float32 and
# the XYZ -> RGB product turns inf - inf into NaN. Clamping there keeps any finite L*a*b* finite.
_F_LIMIT = 1e4


def normalize_lightness(lightness):
    return lightness / L_SCALE - 1.0


def denormalize_lightness(lightness_norm):
    return (lightness_norm + 1.0) * L_SCALE


def normalize_ab(ab):
    return ab / AB_SCALE


def denormalize_ab(ab_norm):
    return ab_norm * AB_SCALE


def _as_float_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype in (np.uint8, np.uint16):
        return rgb  # _srgb_to_linear looks 8- and 16-bit values up in a table
    return np.clip(rgb.astype(np.float32, copy=False), 0.0, 1.0)


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    if c.dtype == np.uint8:
        return _LINEAR_LUT[c]
    if c.dtype == np.uint16:  # a 2K scan's 9.6 million samples: 4 times faster looked up than computed
        return _linear_table_16()[c]
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92).astype(np.float32)


def table_once(make):
    """``functools.cache`` of a function without arguments that builds a table, the table built by one thread
    while the others wait for it (probe 147: a burst of 16 threads' first calls built the 64 MiB colour table 16
    times, 2 GB at its peak)."""
    lock = threading.Lock()
    cached = functools.cache(make)

    @functools.wraps(make)
    def once():
        with lock:
            return cached()
    return once


@table_once
def _linear_table_16() -> np.ndarray:
    """Linear light of each 16-bit sRGB level, as computed for the level itself (256 kB)."""
    table = _srgb_to_linear(np.arange(65536, dtype=np.float32) * np.float32(1.0 / 65535.0))
    table.flags.writeable = False
    return table


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c > 0.0031308, 1.055 * np.power(c, 1 / 2.4) - 0.055, 12.92 * c).astype(np.float32)


_LINEAR_LUT = _srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0).astype(np.float32)


def _f_inv(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, -_F_LIMIT, _F_LIMIT)
    t3 = t**3
    return np.where(t3 > _EPS, t3, (116.0 * t - 16.0) / _KAPPA).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB (uint8, uint16 or float in [0, 1]) -> (..., 3) float32 L*a*b*."""
    linear = _srgb_to_linear(_as_float_rgb(rgb))
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    fx, fy, fz = (_f(xyz[..., i]) for i in range(3))
    return np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1).astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) L*a*b* -> (..., 3) float32 sRGB in [0, 1] (out-of-gamut colours clipped)."""
    lab = lab.astype(np.float32, copy=False)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    xyz = np.stack([_f_inv(fx), _f_inv(fy), _f_inv(fz)], axis=-1) * _WHITE
    return linear_to_srgb(xyz @ _XYZ_TO_RGB.T)


def rgb_to_lightness(rgb: np.ndarray) -> np.ndarray:
    """L* only, cheaper than a full conversion: L* depends on relative luminance Y alone."""
    linear = _srgb_to_linear(_as_float_rgb(rgb))
    y = linear @ _RGB_TO_XYZ[1]
    return (116.0 * _f(y) - 16.0).astype(np.float32)


_GRAY_STEPS = 2**22 - 1  # luminance steps: at most 1 pixel in 10,000 of skimage's photos rounds the other way


@table_once
def _gray_table() -> np.ndarray:
    """8-bit sRGB gray for each relative luminance step (4 MB; made on first use, in float64)."""
    luminance = np.arange(_GRAY_STEPS + 1, dtype=np.float64) / _GRAY_STEPS
    encoded = np.where(luminance > 0.0031308, 1.055 * luminance ** (1 / 2.4) - 0.055, 12.92 * luminance)
    return np.round(encoded * 255).astype(np.uint8)


def rgb_to_gray(rgb: np.ndarray, dtype=np.uint8) -> np.ndarray:
    """Gray image with the same L* as ``rgb`` (what a grayscale film of it would look like), uint8 or,
    with ``dtype=np.uint16``, 16-bit.

    A gray's L* is its relative luminance Y's, so the gray is Y encoded as sRGB: for 8 bits through a
    table of 2**22 luminance steps, several times faster than through L* and back (a tinted film's 720p
    frame: 9 ms, 73 ms before). A table of 2**16 steps rounded 19% of a dark photo's pixels the wrong way.
    16-bit: Y through sRGB's curve (a 2K scan in colour: 60 ms, 200 ms through L* and back)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16):
        raise ValueError(f"gray images are uint8 or uint16, not {dtype}")
    luminance = _srgb_to_linear(_as_float_rgb(rgb)) @ _RGB_TO_XYZ[1]
    if dtype == np.uint8:
        return _gray_table()[np.clip(luminance * np.float32(_GRAY_STEPS) + np.float32(0.5), 0, _GRAY_STEPS)
                             .astype(np.uint32)]
    return np.round(linear_to_srgb(luminance) * np.float32(65535.0)).astype(np.uint16)


# ---------------------------------------------------------------------------------------- torch


def _torch_constants(like):
    import torch

    kw = {"dtype": like.dtype, "device": like.device}
    return torch.tensor(_RGB_TO_XYZ, **kw), torch.tensor(_XYZ_TO_RGB, **kw), torch.tensor(_WHITE, **kw)


def rgb_to_lab_torch(rgb):
    """(N, 3, H, W) sRGB in [0, 1] -> (N, 3, H, W) L*a*b*; differentiable."""
    import torch

    to_xyz, _, white = _torch_constants(rgb)
    rgb = rgb.clamp(0.0, 1.0)
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).clamp_min(1e-8) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", to_xyz, linear) / white.view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp_min(_EPS) ** (1.0 / 3.0), (_KAPPA * xyz + 16.0) / 116.0)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    return torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=1)


def lab_to_rgb_torch(lab):
    """(N, 3, H, W) L*a*b* -> (N, 3, H, W) sRGB in [0, 1]; differentiable."""
    import torch

    _, to_rgb, white = _torch_constants(lab)
    fy = (lab[:, 0] + 16.0) / 116.0
    fx = fy + lab[:, 1] / 500.0
    fz = fy - lab[:, 2] / 200.0
    f = torch.stack([fx, fy, fz], dim=1).clamp(-_F_LIMIT, _F_LIMIT)
    xyz = torch.where(f**3 > _EPS, f**3, (116.0 * f - 16.0) / _KAPPA) * white.view(1, 3, 1, 1)
    linear = torch.einsum("ij,njhw->nihw", to_rgb, xyz).clamp(0.0, 1.0)
    return torch.where(
        linear > 0.0031308, 1.055 * linear.clamp_min(1e-8) ** (1 / 2.4) - 0.055, 12.92 * linear
    ).clamp(0.0, 1.0)
