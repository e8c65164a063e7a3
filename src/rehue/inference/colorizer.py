"""The colouring step shared by images and video.

The model sees the frame's L* letterboxed to its square working size; the predicted a*b* is cut
back to the picture's box, upsampled to the full resolution and joined with the full-resolution
L* of the input, so every edge and every grain of the original survives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehue.color.lab import AB_SCALE, L_SCALE, rgb_to_gray, rgb_to_lab
from rehue.errors import RehueError

DEFAULT_MODEL = "default"


def _gray_lut() -> np.ndarray:
    levels = np.arange(256, dtype=np.uint8)
    return rgb_to_lab(np.repeat(levels[:, None], 3, axis=1))[:, 0].astype(np.float32)


GRAY_TO_LIGHTNESS = _gray_lut()


@dataclass(frozen=True)
class Box:
    """Where the picture sits inside the square letterboxed canvas."""

    top: int
    left: int
    height: int
    width: int


def letterbox(gray: np.ndarray, size: int) -> tuple[np.ndarray, Box]:
    """Fit ``gray`` (H, W uint8) into a ``size`` square without distortion, padding with black (thesis 4.1)."""
    import cv2

    height, width = gray.shape
    scale = size / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(gray, (new_w, new_h), interpolation=interp) if (new_h, new_w) != gray.shape else gray
    canvas = np.zeros((size, size), dtype=np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = small
    return canvas, Box(top, left, new_h, new_w)


def fit_ab_to_gamut(lightness: np.ndarray, ab: np.ndarray, steps: int = 6) -> np.ndarray:
    """Shrink the chroma of colours that fall outside sRGB so that clipping cannot shift L*.

    ``lightness`` is L* (H, W), ``ab`` is a*b* in Lab units (H, W, 2). Hue and L* are kept; only the
    out-of-gamut pixels are touched (a bisection on their chroma scale).
    """
    from rehue.color.lab import _RGB_TO_XYZ, _WHITE, _f_inv

    to_linear = np.linalg.inv(_RGB_TO_XYZ.astype(np.float64)).astype(np.float32)

    def linear_rgb(lum, ab_px):
        fy = (lum + 16.0) / 116.0
        f = np.stack([fy + ab_px[:, 0] / 500.0, fy, fy - ab_px[:, 1] / 200.0], axis=-1)
        return (_f_inv(f) * _WHITE) @ to_linear.T

    flat_l, flat_ab = lightness.reshape(-1), ab.reshape(-1, 2)
    rgb = linear_rgb(flat_l, flat_ab)
    outside = np.nonzero(((rgb < -1e-4) | (rgb > 1 + 1e-4)).any(axis=1))[0]
    if outside.size == 0:
        return ab
    lum, ab_px = flat_l[outside], flat_ab[outside]
    low, high = np.zeros(outside.size, np.float32), np.ones(outside.size, np.float32)
    for _ in range(steps):
        mid = (low + high) / 2
        rgb_mid = linear_rgb(lum, ab_px * mid[:, None])
        inside = ((rgb_mid >= -1e-4) & (rgb_mid <= 1 + 1e-4)).all(axis=1)
        low = np.where(inside, mid, low)
        high = np.where(inside, high, mid)
    fitted = flat_ab.copy()
    fitted[outside] = ab_px * low[:, None]
    return fitted.reshape(ab.shape)


def compose_full_resolution(gray: np.ndarray, ab_small: np.ndarray) -> np.ndarray:
    """Join full-resolution L* (from uint8 gray, H x W) with a*b* (h x w x 2, Lab units) -> RGB uint8.

    Colours outside sRGB at a pixel's L* get less chroma rather than being clipped, so the output's
    L* stays the input's.
    """
    import cv2

    height, width = gray.shape
    lightness = GRAY_TO_LIGHTNESS[gray]
    if ab_small.shape[:2] != (height, width):
        ab = cv2.resize(ab_small.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    else:
        ab = ab_small.astype(np.float32)
    ab = fit_ab_to_gamut(lightness, ab)
    lab = np.dstack([lightness, ab])
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def resolve_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RehueError(f"device {device!r} requested but CUDA is not available")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


class Colorizer:
    """One loaded generator, reused for every image or frame (like rembg's session)."""

    def __init__(self, generator, card, device: str = "cpu"):
        self.generator = generator
        self.card = card
        self.device = device
        self.size = card.size

    @classmethod
    def load(cls, model: str | Path = DEFAULT_MODEL, device: str = "auto", role: str = "independent") -> Colorizer:
        from rehue.models.io import load_model, shipped_models

        device = resolve_device(device)
        if str(model) == DEFAULT_MODEL:
            shipped = shipped_models()
            wanted = [name for name in shipped if name.endswith(role)]
            if not wanted:
                raise RehueError(
                    "no model available: this installation ships no pretrained model; train one with "
                    "`rehue train` and pass --model PATH")
            model = wanted[0]
        generator, card = load_model(model, device=device)
        return cls(generator, card, device)

    @property
    def dependent(self) -> bool:
        return self.card.in_channels == 3

    def predict_ab(self, gray_small: np.ndarray, prev_ab: np.ndarray | None = None) -> np.ndarray:
        """(N, S, S) uint8 letterboxed gray [+ (N, 2, S, S) normalised a*b*] -> (N, 2, S, S) normalised a*b*."""
        import torch

        lightness = torch.from_numpy(GRAY_TO_LIGHTNESS[gray_small] / L_SCALE - 1.0).unsqueeze(1)
        if self.dependent:
            if prev_ab is None:
                raise ValueError("a dependent model needs the previous frame's a*b*")
            lightness = torch.cat([lightness, torch.from_numpy(np.asarray(prev_ab, np.float32))], dim=1)
        with torch.inference_mode():
            ab = self.generator(lightness.to(self.device, non_blocking=True))
        return ab.float().cpu().numpy()

    def colorize_gray(self, gray: np.ndarray, prev_ab: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Colour one uint8 gray picture; returns (RGB uint8 at full size, normalised a*b* at working size)."""
        small, box = letterbox(gray, self.size)
        ab_norm = self.predict_ab(small[None], None if prev_ab is None else prev_ab[None])[0]
        crop = ab_norm[:, box.top : box.top + box.height, box.left : box.left + box.width]
        ab = np.moveaxis(crop, 0, -1) * AB_SCALE
        return compose_full_resolution(gray, ab), ab_norm

    def colorize(self, image) -> np.ndarray:
        """Colour a numpy array (H, W) / (H, W, 3) or a PIL image; returns RGB uint8 at the same size.

        Colour input is converted to gray first (its L* is kept), so the result depends on L* alone.
        """
        from rehue.data.images import pil_to_loaded

        if hasattr(image, "mode") and hasattr(image, "size"):
            image = pil_to_loaded(image).rgb
        array = np.asarray(image)
        if array.ndim == 3 and array.shape[2] in (3, 4):
            gray = rgb_to_gray(array[..., :3]) if array.dtype != np.uint8 or not _is_gray(array[..., :3]) \
                else array[..., 0]
        elif array.ndim == 2:
            gray = array if array.dtype == np.uint8 else rgb_to_gray(np.repeat(array[..., None], 3, axis=2))
        else:
            raise RehueError(f"expected an (H, W) or (H, W, 3) image, got shape {array.shape}")
        return self.colorize_gray(np.ascontiguousarray(gray))[0]


def _is_gray(rgb: np.ndarray) -> bool:
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
