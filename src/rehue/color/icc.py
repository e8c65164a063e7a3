"""Gray ICC profiles read in floating point, for 16-bit scans.

Pillow's colour management (LittleCMS through ``ImageCms``) transforms 8-bit images only. A gray profile
is one tone curve (its ``kTRC`` tag) from the stored levels to luminance Y, so a 16-bit gray scan tagged
"Dot Gain 20%" (Photoshop's default for gray) or "Gray Gamma 2.2" is brought into sRGB here exactly:
level -> Y by the curve -> sRGB's encoding of Y, what LittleCMS gives for gray into sRGB. An RGB profile
of three curves and a matrix gives Y as the curves' outputs weighted by the matrix's Y row, which is all
rehue needs of a 16-bit colour scan of a black-and-white print: its gray.
"""

from __future__ import annotations

import struct

import numpy as np

from rehue.color.lab import linear_to_srgb

HEADER_BYTES = 128
# parametric curve types (ICC.1 10.18): how many parameters each takes
PARAMETERS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}
# luminance is encoded to sRGB through a table this fine: its steps are under one 16-bit level everywhere
# (0.8 where sRGB's curve is steepest, slope 12.92 near black)
LUMINANCE_STEPS = 1 << 20
BAND_ROWS = 256  # rows converted at a time: a large scan's float planes stay small


def _tags(profile: bytes) -> dict[bytes, bytes]:
    count = struct.unpack_from(">I", profile, HEADER_BYTES)[0]
    tags = {}
    for k in range(count):
        signature, offset, size = struct.unpack_from(">4sII", profile, HEADER_BYTES + 4 + 12 * k)
        tags[signature] = profile[offset:offset + size]
    return tags


def _parametric(tag: bytes, x: np.ndarray) -> np.ndarray | None:
    function = struct.unpack_from(">H", tag, 8)[0]
    if function not in PARAMETERS:
        return None
    p = [struct.unpack_from(">i", tag, 12 + 4 * k)[0] / 65536.0 for k in range(PARAMETERS[function])]
    if function == 0:
        return x ** p[0]
    g, a, b = p[:3]
    curve = np.clip(a * x + b, 0.0, None) ** g
    if function == 1:
        return np.where(x >= -b / a, curve, 0.0)
    if function == 2:
        return np.where(x >= -b / a, curve + p[3], p[3])
    if function == 3:
        return np.where(x >= p[4], curve, p[3] * x)
    c, d, e, f = p[3:7]
    return np.where(x >= d, curve + e, c * x + f)


def _tone_curve(tag: bytes, x: np.ndarray) -> np.ndarray | None:
    kind = tag[:4]
    if kind == b"curv":
        count = struct.unpack_from(">I", tag, 8)[0]
        if count == 0:
            return x
        if count == 1:
            return x ** (struct.unpack_from(">H", tag, 12)[0] / 256.0)
        table = np.frombuffer(tag, ">u2", count, 12).astype(np.float64) / 65535.0
        return np.interp(x, np.linspace(0.0, 1.0, count), table)
    if kind == b"para":
        return _parametric(tag, x)
    return None


def gray_levels_in_srgb(profile: bytes) -> np.ndarray | None:
    """For a gray ICC profile: the sRGB level (uint16) each of the 65,536 16-bit levels shows as; None for
    any other profile (colour, or a gray one without a tone curve this reads)."""
    try:
        if profile[16:20] != b"GRAY":
            return None
        tag = _tags(profile).get(b"kTRC")
        if tag is None:
            return None
        luminance = _tone_curve(tag, np.arange(65536, dtype=np.float64) / 65535.0)
    except (struct.error, ValueError, ZeroDivisionError):
        return None
    if luminance is None or not np.all(np.isfinite(luminance)):
        return None
    return np.round(linear_to_srgb(np.clip(luminance, 0.0, 1.0)).astype(np.float64) * 65535.0).astype(np.uint16)


def rgb_gray_in_srgb(profile: bytes):
    """For an RGB profile of three tone curves and a matrix (Adobe RGB, ProPhoto, a scanner's own): a
    function from (H, W, 3) uint16 samples to the uint16 sRGB gray of their luminance, the deep gray
    rehue colours; None for any other profile (one with lookup tables, which LittleCMS would prefer)."""
    try:
        if profile[16:20] != b"RGB ":
            return None
        tags = _tags(profile)
        if any(name in tags for name in (b"A2B0", b"A2B1", b"A2B2")):
            return None
        x = np.arange(65536, dtype=np.float64) / 65535.0
        curves = [_tone_curve(tags[name], x) for name in (b"rTRC", b"gTRC", b"bTRC")]
        weights = [struct.unpack_from(">i", tags[name], 12)[0] / 65536.0 for name in (b"rXYZ", b"gXYZ", b"bXYZ")]
    except (KeyError, struct.error, ValueError, ZeroDivisionError):
        return None
    if any(curve is None or not np.all(np.isfinite(curve)) for curve in curves):
        return None
    tables = [(np.clip(curve, 0.0, 1.0) * weight).astype(np.float32)
              for curve, weight in zip(curves, weights, strict=True)]
    encode = np.round(linear_to_srgb(np.linspace(0.0, 1.0, LUMINANCE_STEPS)).astype(np.float64) * 65535.0
                      ).astype(np.uint16)

    def gray(rgb: np.ndarray) -> np.ndarray:
        out = np.empty(rgb.shape[:2], np.uint16)
        for top in range(0, rgb.shape[0], BAND_ROWS):
            band = rgb[top:top + BAND_ROWS]
            luminance = tables[0][band[..., 0]] + tables[1][band[..., 1]] + tables[2][band[..., 2]]
            index = np.clip(luminance * np.float32(LUMINANCE_STEPS - 1) + np.float32(0.5), 0, LUMINANCE_STEPS - 1)
            out[top:top + BAND_ROWS] = encode[index.astype(np.int32)]
        return out

    return gray
