"""The colouring step shared by images and video.

The model sees the picture's L* at its working size: a photo with its short side at that size
(``native_view``), a video frame letterboxed into the working square (``letterbox``, thesis 4.1). The
predicted a*b* is cut back to the picture's box, upsampled to the full resolution and joined with the
full-resolution L* of the input, so every edge and every grain of the original survives.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import numbers
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehue.color.lab import AB_SCALE, L_SCALE, rgb_to_gray, rgb_to_lab, table_once
from rehue.data.images import image_levels, to_uint8
from rehue.errors import RehueError, UsageError, as_memory_error, bytes_escaped, out_of_memory_as_memory_error
from rehue.words import counted

log = logging.getLogger(__name__)

DEFAULT_MODEL = "default"
BACKENDS = ("auto", "onnxruntime", "torch")
# How a photo meets the model: "native" (short side at the working size, see native_view) or "letterbox"
FITS = ("native", "letterbox")
# Plain white or black borders around a photo (scanned prints, mounts, letterbox bars): "neutral" leaves
# them uncoloured and shows the model the picture inside them (picture_box); "model" shows it everything
BORDERS = ("neutral", "model")
# A border line is one whose pixels are, nearly all, within BORDER_TOLERANCE gray levels of one level
# that is at most BORDER_DARK or at least BORDER_LIGHT (photo paper, mounts, scanner lids, black bars)
BORDER_TOLERANCE = 6
BORDER_SHARE = 0.98
BORDER_DARK = 30
BORDER_LIGHT = 215
# Both generators halve the picture at most five times (gen2's five stride-2 blocks): a canvas whose
# sides are multiples of 32 comes back at its own size.
CANVAS_MULTIPLE = 32
# A native canvas's long side is at most this many working sizes; longer strips are shrunk to fit
MAX_NATIVE_ASPECT = 8
# Model threads: the video pipeline decodes, composes and encodes on other threads meanwhile, so one
# intra-op thread per model call keeps the cores busy without the threads fighting (docs/performance.md).
DEFAULT_MODEL_THREADS = 1
GAMUT_HUE_BINS = 256  # hue bins of the gamut table: one byte, so gray and hue index it as one uint16
GAMUT_MAX_CHROMA = 200.0  # above any sRGB colour's chroma (about 134, for blue)
GAMUT_BISECTION_STEPS = 14  # chroma limits to GAMUT_MAX_CHROMA / 2**14, about 0.01
GAMUT_MIN_CHROMA = 1e-6  # chroma below this counts as gray (keeps 0 / 0 out of the fit)
GAMUT_TOLERANCE = 1e-4  # linear RGB may leave [0, 1] by this much: clipping it moves L* by far less than 0.01


def _gray_lut() -> np.ndarray:
    levels = np.arange(256, dtype=np.uint8)
    return rgb_to_lab(np.repeat(levels[:, None], 3, axis=1))[:, 0].astype(np.float32)


GRAY_TO_LIGHTNESS = _gray_lut()
GRAY_TO_NORMALIZED_LIGHTNESS = GRAY_TO_LIGHTNESS / np.float32(L_SCALE) - np.float32(1.0)
MAX_GUIDE_RADIUS = 32  # working-size pixels
MAX_SMOOTHING = 32.0  # working-size pixels, as a model's JSON may set it (rehue.models.io.INFERENCE_RANGES)
DEFAULT_GUIDE_EPS = 0.01  # of the guide's 0-1 range squared: edges weaker than about 0.1 (25 levels) are smoothed over


@dataclass(frozen=True)
class Box:
    """Where the picture sits inside the canvas the model sees."""

    top: int
    left: int
    height: int
    width: int

    @property
    def region(self) -> tuple[slice, slice]:
        """(rows, columns) of the box, to index an array with."""
        return slice(self.top, self.top + self.height), slice(self.left, self.left + self.width)


def inside_gray(gray: np.ndarray, box: Box, picture_rgb: np.ndarray) -> np.ndarray:
    """RGB of the uint8 ``gray`` image, neutral everywhere but ``box``, which holds ``picture_rgb``."""
    rgb = np.repeat(gray[..., None], 3, axis=2)
    rgb[box.region] = picture_rgb
    return rgb


def letterbox(picture: np.ndarray, size: int) -> tuple[np.ndarray, Box]:
    """Fit ``picture`` (H, W gray or H, W, 3 colour, uint8) into a ``size`` square without distortion,
    padding with black (thesis 4.1); returns the canvas and where the picture sits in it."""
    height, width = picture.shape[:2]
    scale = size / max(height, width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    small = _resized(picture, new_h, new_w)
    canvas = np.zeros((size, size, *picture.shape[2:]), dtype=np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = small
    return canvas, Box(top, left, new_h, new_w)


def guided_filter(guide: np.ndarray, planes: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """``planes`` (C, H, W) smoothed along ``guide`` (H, W, values 0-1): He, Sun and Tang (2010),
    "Guided image filtering". Within each (2 radius + 1)^2 window each plane is fitted as a linear
    function of the guide (least squares, the slope regularised by ``eps``) and every pixel takes the
    mean of the fits that cover it, so a*b* is smoothed within regions of L* and changes where L* does,
    where a Gaussian blur would carry colour across the edge."""
    import cv2

    def box(image):
        return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)

    guide = np.asarray(guide, np.float32)
    mean_guide = box(guide)
    variance = box(guide * guide) - mean_guide * mean_guide
    filtered = []
    for plane in np.asarray(planes, np.float32):
        mean_plane = box(plane)
        slope = (box(guide * plane) - mean_guide * mean_plane) / (variance + np.float32(eps))
        filtered.append(box(slope) * guide + box(mean_plane - slope * mean_guide))
    return np.stack(filtered)


def native_view(picture: np.ndarray, size: int) -> tuple[np.ndarray, Box]:
    """``picture`` (H, W or H, W, 3, uint8) scaled so that its short side is ``size``, then padded by
    mirroring its edges to sides that are multiples of ``CANVAS_MULTIPLE``; returns the canvas and
    where the picture sits in it.

    The photo models are trained on square crops of 70-100% of a photo's short side at the working
    size, so this shows a photo at the scale they learned, with no black bars. Letterboxed, a 16:9
    photo would fill 56% of the square's height, its objects at 0.56 of that scale. The generators
    are fully convolutional, so the canvas need not be square; a 16:9 canvas costs about twice the
    model time of the square. A strip longer than ``MAX_NATIVE_ASPECT`` to 1 is shrunk further.
    """
    import cv2

    height, width = picture.shape[:2]
    scale = min(size / min(height, width), MAX_NATIVE_ASPECT * size / max(height, width))
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    small = _resized(picture, new_h, new_w)
    pad_h, pad_w = -new_h % CANVAS_MULTIPLE, -new_w % CANVAS_MULTIPLE
    top, left = pad_h // 2, pad_w // 2
    canvas = cv2.copyMakeBorder(small, top, pad_h - top, left, pad_w - left, cv2.BORDER_REFLECT)
    return canvas, Box(top, left, new_h, new_w)


def picture_box(gray: np.ndarray) -> Box:
    """Where the picture lies inside plain white or black borders of a uint8 gray image (the whole
    image if it has none).

    A border line is a row or column with ``BORDER_SHARE`` of its pixels within ``BORDER_TOLERANCE``
    of the level of that side's outermost line, a level near black or near white. Each side is
    trimmed while its next line is a border line, and a border counts only where the opposite side has
    one of about the same level too: scanned prints and mounts are framed all round, letterbox and
    pillarbox bars come in pairs, while a clear sky or a dark stage on one side is picture. A side
    whose border would take more than 3/8 of the image means a blank image or a small picture on a
    large page, and the image is shown whole.

    Borders are blank, so the model can only guess their colour, and they shrink the picture in the
    model's view: a 6% white frame around the held-out photos cost them 0.27 dB of PSNR and a quarter
    of their colour (docs/model-card.md).
    """
    height, width = gray.shape
    sides = []
    for lines in (gray, gray[::-1], gray.T, gray.T[::-1]):  # top, bottom, left, right
        limit = lines.shape[0] * 3 // 8
        level = int(np.median(lines[0]))
        if limit == 0 or BORDER_DARK < level < BORDER_LIGHT:
            sides.append((0, level))
            continue
        border = _border_width(lines, level, limit)
        if border == limit:
            return Box(0, 0, height, width)
        sides.append((border, level))

    def paired(first, second):
        (a, level_a), (b, level_b) = first, second
        return (a, b) if a and b and abs(level_a - level_b) <= 2 * BORDER_TOLERANCE else (0, 0)

    (top, bottom), (left, right) = paired(*sides[:2]), paired(*sides[2:])
    return Box(top, left, height - top - bottom, width - left - right)


def _border_width(lines: np.ndarray, level: int, limit: int, chunk: int = 32) -> int:
    """How many of the first ``limit`` lines are border lines of ``level`` (read a chunk at a time:
    borders are thin, and a 12-megapixel image has thousands of lines)."""
    width = 0
    while width < limit:
        band = lines[width : min(width + chunk, limit)].astype(np.int16)
        plain = (np.abs(band - level) <= BORDER_TOLERANCE).mean(axis=1) >= BORDER_SHARE
        if not plain.all():
            return width + int(plain.argmin())
        width += len(band)
    return limit


def _resized(picture: np.ndarray, height: int, width: int) -> np.ndarray:
    import cv2

    if (height, width) == picture.shape[:2]:
        return picture
    shrinking = height * width < picture.shape[0] * picture.shape[1]
    return cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


@table_once
def gamut_chroma_limits() -> np.ndarray:
    """(65536,) float32: the largest in-sRGB chroma for a gray level's L* and a hue, at index
    ``gray << 8 | hue_bin``.

    Hue bins are 360/256 degrees wide and centred on multiples of that width (bin 255 also takes the
    angles that round up to 256); each entry is the smallest limit over its bin's centre and edges.
    Built once by bisection on chroma, in about 0.1 s.
    """
    from rehue.color.lab import _EPS, _KAPPA, _RGB_TO_XYZ, _WHITE

    to_linear = (np.linalg.inv(_RGB_TO_XYZ.astype(np.float64)) * _WHITE.astype(np.float64)).astype(np.float32)

    def f_inv(value):
        cubed = value * value * value
        return np.where(cubed > _EPS, cubed, (116.0 * value - 16.0) / _KAPPA)

    fy = ((GRAY_TO_LIGHTNESS + 16.0) / 116.0)[:, None]
    y = f_inv(fy)
    half_bins = np.arange(-1, 2 * GAMUT_HUE_BINS + 1)  # bin k spans half-bins 2k-1 .. 2k+1
    angles = np.deg2rad(half_bins * (180.0 / GAMUT_HUE_BINS))
    a_step = (np.cos(angles) / 500.0).astype(np.float32)[None, :]
    b_step = (-np.sin(angles) / 200.0).astype(np.float32)[None, :]
    low = np.zeros((GRAY_TO_LIGHTNESS.size, angles.size), np.float32)
    high = np.full_like(low, GAMUT_MAX_CHROMA)
    for _ in range(GAMUT_BISECTION_STEPS):
        mid = (low + high) * np.float32(0.5)
        x, z = f_inv(fy + mid * a_step), f_inv(fy + mid * b_step)
        inside = np.ones(mid.shape, bool)
        for row in to_linear:
            channel = row[0] * x + row[1] * y + row[2] * z
            inside &= (channel >= -GAMUT_TOLERANCE) & (channel <= 1 + GAMUT_TOLERANCE)
        low = np.where(inside, mid, low)
        high = np.where(inside, high, mid)
    limits = np.minimum(np.minimum(low[:, 0:-2:2], low[:, 1:-1:2]), low[:, 2::2])
    limits[:, -1] = np.minimum(limits[:, -1], low[:, -1])
    return np.ascontiguousarray(limits.ravel())


AB_TABLE_OFFSET = 128  # a*b* from -128 to 127 in steps of 1 index the colour table as one byte each


def _gamut_fitted_rgb(gray: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The exact join, for float32 planes of a*b* (Lab units) and uint8 gray of one shape -> RGB uint8.

    Out-of-gamut chroma is shrunk to the largest in-sRGB chroma at the pixel's L* and hue (a table of
    those limits per gray level and hue bin replaces a per-pixel bisection); L* and hue are kept.
    """
    import cv2

    scale = _gamut_scale(a, b, gray)
    lab = cv2.merge([GRAY_TO_LIGHTNESS[gray], a * scale, b * scale])
    return cv2.convertScaleAbs(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), alpha=255.0)


def _gamut_scale(a: np.ndarray, b: np.ndarray, *levels: np.ndarray) -> np.ndarray:
    """The factor (at most 1) that brings each pixel's a*b* (float32 planes, Lab units) within sRGB at
    every one of the uint8 gray ``levels`` given for it, at its hue (``gamut_chroma_limits``)."""
    import cv2

    chroma, hue = cv2.cartToPolar(a, b, angleInDegrees=True)
    hue_bin = cv2.convertScaleAbs(hue, alpha=GAMUT_HUE_BINS / 360.0)
    limit = None
    for level in levels:  # little-endian byte pairs index the table: gray << 8 | hue_bin
        level_limit = np.take(gamut_chroma_limits(), cv2.merge([hue_bin, level]).view(np.uint16)[..., 0])
        limit = level_limit if limit is None else np.minimum(limit, level_limit)
    return np.minimum(limit / np.maximum(chroma, GAMUT_MIN_CHROMA), 1.0)


@table_once
def colour_table() -> np.ndarray:
    """(2**24,) uint32: the gamut-fitted sRGB colour (R, G, B, 0 bytes) of every gray level and integer
    a*b*, at index ``(a + 128) << 16 | (b + 128) << 8 | gray``.

    L* comes from 8-bit gray, so it takes 256 values; a*b* is smooth (upsampled from the working
    size) and rounding it to whole units moves a colour by less than a 8-bit RGB step does. With
    every combination computed once (0.4-0.8 s, 64 MiB), joining a 720p frame is one lookup per
    pixel instead of a dozen float passes (docs/performance.md).
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    import cv2

    levels = np.arange(-AB_TABLE_OFFSET, 256 - AB_TABLE_OFFSET, dtype=np.float32)
    gray = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :], (256, 256)).copy()
    b = np.broadcast_to(levels[:, None], (256, 256)).copy()
    table = np.empty((256, 256, 256, 4), np.uint8)

    def fill(a_index: int) -> None:  # the fourth byte is never read
        rgb = _gamut_fitted_rgb(gray, np.full_like(b, levels[a_index]), b)
        cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA, dst=table[a_index])

    with ThreadPoolExecutor(min(4, os.cpu_count() or 1)) as pool:  # OpenCV releases the GIL
        list(pool.map(fill, range(256)))
    return table.reshape(-1).view(np.uint32)


class ComposeWorkspace:
    """Work arrays of ``compose_full_resolution`` for one frame size, to reuse from frame to frame.

    At 720p a float plane is 3.7 MB; allocating fresh ones per frame costs more in page faults than
    the arithmetic on them. A video keeps one workspace (about 20 bytes per pixel) for all its
    frames; one workspace serves one thread at a time.
    """

    def __init__(self, height: int, width: int):
        self.shape = (height, width)
        self.a, self.b = (np.empty((height, width), np.float32) for _ in range(2))
        self.a_index, self.b_index = (np.empty((height, width), np.uint8) for _ in range(2))
        self.index_bytes = np.empty((height, width, 4), np.uint8)
        self.rgbx = np.empty((height, width), np.uint32)
        self.zero = np.zeros((height, width), np.uint8)

    def compose(self, gray: np.ndarray, ab_small: np.ndarray) -> np.ndarray:
        height, width = self.shape
        for channel, plane in ((0, self.a), (1, self.b)):
            small = np.ascontiguousarray(ab_small[..., channel], dtype=np.float32)
            if small.shape == self.shape:
                plane[...] = small
            else:
                upsample_plane(small, height, width, out=plane)
        return self.compose_planes(gray)

    def compose_planes(self, gray: np.ndarray) -> np.ndarray:
        """The join once ``self.a`` and ``self.b`` hold the frame's full-resolution a*b*."""
        import cv2

        height, width = self.shape
        for plane, index in ((self.a, self.a_index), (self.b, self.b_index)):
            np.clip(plane, -AB_TABLE_OFFSET, 255 - AB_TABLE_OFFSET, out=plane)
            cv2.convertScaleAbs(plane, dst=index, beta=AB_TABLE_OFFSET)  # rounds to the nearest unit
        cv2.merge([gray, self.b_index, self.a_index, self.zero], dst=self.index_bytes)
        np.take(colour_table(), self.index_bytes.view(np.uint32)[..., 0], out=self.rgbx)
        return cv2.cvtColor(self.rgbx.view(np.uint8).reshape(height, width, 4), cv2.COLOR_RGBA2RGB)


# Pixels joined at a time when a photo is composed without a workspace: a large scan's work arrays are
# made for a band of rows, not for the whole picture, so its peak memory grows by about 12 bytes (8-bit)
# or 16 bytes (16-bit) a pixel, not 30 or 60.
BAND_PIXELS = 1 << 21


def upsample_plane(small: np.ndarray, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """One a*b* plane (float32) resized bilinearly to ``height`` x ``width``."""
    import cv2

    return cv2.resize(np.ascontiguousarray(small, dtype=np.float32), (width, height), dst=out,
                      interpolation=cv2.INTER_LINEAR)


def _bands(height: int, width: int):
    rows = max(1, BAND_PIXELS // max(1, width))
    for top in range(0, height, rows):
        yield slice(top, min(height, top + rows))


def compose_full_resolution(gray: np.ndarray, ab_small: np.ndarray,
                            workspace: ComposeWorkspace | None = None) -> np.ndarray:
    """Join full-resolution L* (from uint8 gray, H x W) with a*b* (h x w x 2, Lab units) -> RGB uint8.

    Colours outside sRGB at a pixel's L* get less chroma rather than being clipped, so the output's
    L* stays the input's. ``workspace`` (of the frame's size) saves reallocating the work arrays
    frame after frame; without one the picture is joined a band of rows at a time (``BAND_PIXELS``),
    with the same result. The returned RGB array is new.
    """
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    if workspace is not None and workspace.shape == gray.shape:
        return workspace.compose(gray, ab_small)
    height, width = gray.shape
    a, b = (upsample_plane(ab_small[..., channel], height, width) for channel in (0, 1))
    rgb = np.empty((height, width, 3), np.uint8)
    band_workspace = None
    for rows in _bands(height, width):
        if band_workspace is None or band_workspace.shape[0] != rows.stop - rows.start:
            band_workspace = ComposeWorkspace(rows.stop - rows.start, width)
        band_workspace.a[...], band_workspace.b[...] = a[rows], b[rows]
        rgb[rows] = band_workspace.compose_planes(gray[rows])
    return rgb


@table_once
def deep_gray_to_lightness() -> np.ndarray:
    """(65536,) float32: L* of each 16-bit gray level."""
    from rehue.color.lab import rgb_to_lightness

    levels = np.arange(65536, dtype=np.uint16)
    return rgb_to_lightness(np.repeat(levels[:, None], 3, axis=1))


def compose_deep(gray: np.ndarray, ab_small: np.ndarray) -> np.ndarray:
    """``compose_full_resolution`` for 16-bit gray (H x W uint16) -> RGB uint16: the output keeps all
    of a deep scan's tones. Slower than the 8-bit table (float arithmetic on every pixel), for photos.

    The gamut limits are tabled per 8-bit gray level; a 16-bit level takes the smaller limit of the
    two 8-bit levels around it (a hue's chroma limit rises with L* to one peak and falls after it, so
    the smaller of two neighbours is within the gamut between them).
    """
    import cv2

    height, width = gray.shape
    a_full, b_full = (upsample_plane(ab_small[..., channel], height, width) for channel in (0, 1))
    rgb16 = np.empty((height, width, 3), np.uint16)
    for rows in _bands(height, width):  # every step is per pixel: bands give the whole picture's result
        band, a, b = gray[rows], a_full[rows], b_full[rows]
        below = (band // 257).astype(np.uint8)
        above = np.minimum(below + (band % 257 != 0), 255).astype(np.uint8)
        scale = _gamut_scale(a, b, below, above)
        lab = cv2.merge([np.take(deep_gray_to_lightness(), band), a * scale, b * scale])
        rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        rgb16[rows] = np.round(np.clip(rgb, 0.0, 1.0) * np.float32(65535.0))
    return rgb16


def resolve_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        if not isinstance(device, str):  # probe 62: None gave PyTorch's own TypeError
            raise UsageError(f"device must be a name (auto, cpu, cuda, cuda:N or mps), not {device!r}")
        try:
            kind = torch.device(device).type
        except RuntimeError:
            kind = None
        if kind not in ("cpu", "cuda", "mps"):  # probe 104: "xpu", "meta", "hpu" gave PyTorch's own errors
            raise UsageError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps")
        if kind == "cpu":
            return "cpu"  # "cpu:0" too: one cpu
        if kind == "cuda" and not torch.cuda.is_available():
            raise RehueError(f"device {device!r} requested but CUDA is not available")
        index = torch.device(device).index
        if kind == "cuda" and index is not None and index >= torch.cuda.device_count():
            raise RehueError(f"device {device!r} requested but this machine has "
                             f"{counted(torch.cuda.device_count(), 'CUDA device')} (cuda:0 is the first)")
        if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise RehueError(f"device {device!r} requested but MPS is not available")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


class _TorchThreads:
    """PyTorch's CPU thread count set to a model's for its calls. The count is each thread's own, and the last one
    set is the process's, which a new thread starts with; two models of different counts called at once from
    threads gave back each other's counts, and left the process with one of theirs (probe 225). The process's count
    is read once no call is running, and each call gives it back to its thread as it ends: no thread is left at a
    model's count, so the calling thread's is the process's."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0
        self._before = 1

    @contextlib.contextmanager
    def __call__(self, threads: int | None):
        import torch

        if threads is None:
            yield
            return
        with self._lock:
            if self._running == 0:
                self._before = torch.get_num_threads()
            self._running += 1
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if torch.get_num_threads() != self._before:
                    torch.set_num_threads(self._before)


_torch_threads = _TorchThreads()


DEPENDENT_ALONE = ("is a dependent model (it colours a frame from the one before); photos and each scene's first "
                   "frame need an independent model, such as rehue-gen2-128-independent (a dependent model goes "
                   "to --dependent-model)")


def _file_digest(path, length: int = 12) -> str:
    from rehue.models.io import file_sha256

    return file_sha256(path)[:length]


def _setting_error(given) -> type[RehueError]:
    """A bad setting passed in is a usage error (exit 2); one read from the model's config is its file's."""
    return RehueError if given is None else UsageError


def import_onnxruntime():
    """ONNX Runtime, with its telemetry off unless the user's environment says otherwise. From 1.32 on
    Linux it otherwise writes a device id and an event database under ~/.cache/Microsoft and queues a
    report of the machine (system, Python, network) for upload to Microsoft; a tool for archives that
    promises to work offline should not. The switch is read once, as ONNX Runtime is first imported."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    return onnxruntime


def _number(name: str, value, given) -> float:
    """``value`` (``given``, else the model config's) as a float, or the error ``_setting_error`` picks."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):  # not "2" or True (probe 76)
        return float(value)
    raise _setting_error(given)(f"{name} must be a number, not {value!r}")


def check_threads(threads) -> None:
    """A model call's thread count: a whole number from 1 to 4 times the machine's logical cores. Beyond
    that they only wait for each other, and ONNX Runtime, asked for 100,000, made them for minutes, its
    memory growing by 60 MB a second, deaf to SIGTERM (probe 89)."""
    most = 4 * (os.cpu_count() or 1)
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 1 <= threads <= most:
        raise UsageError(f"threads must be a whole number from 1 to {most} (4 times this machine's "
                         f"{counted(os.cpu_count() or 1, 'logical core')}), not {threads!r}")


class Colorizer:
    """One loaded generator, reused for every image or frame (like rembg's session).

    On the CPU the generator runs in ONNX Runtime when it is installed (with the ``onnx`` package for
    the export), else in PyTorch with BatchNorm folded into the convolutions and channels-last weights:
    the same outputs up to float rounding, in less time (docs/performance.md). ``backend`` picks one
    ("auto", "onnxruntime", "torch"); ``threads`` is the intra-op thread count of each model call.
    ``generator`` stays the PyTorch module as loaded. ``fit`` is how ``colorize`` shows a picture to
    the model (``FITS``; default: the model config's, else "native"); the video pipeline letterboxes
    every frame, as the thesis does (4.1). ``borders`` is what ``colorize`` and the video pipeline do with
    plain white or black borders around a picture (``BORDERS``; default "neutral": see ``picture_box``
    and ``rehue.video.pipeline.find_bars``).
    """

    def __init__(self, generator, card, device: str = "cpu", *, backend: str = "auto",
                 threads: int = DEFAULT_MODEL_THREADS, chroma: float | None = None,
                 ab_smoothing: float | None = None, ab_guide: tuple[int, float] | None = None,
                 mean_share: float | None = None, fit: str | None = None, borders: str | None = None):
        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
        check_threads(threads)
        self.generator = generator
        self.card = card
        self.shipped = False  # one of the models shipped in the package (``load`` says)
        self.by_default = False  # ``load`` picked it as the default for its role (see ``for_video``)
        self._settings: dict = {}  # the settings ``load`` was given, for ``for_video``'s model
        self._video: Colorizer | None = None
        self._dependents: dict = {}  # dependent models loaded beside this one (``video.pipeline.load_dependent``)
        self.name = card.architecture  # the model file's name once ``load`` has read it
        self.path: Path | None = None  # the model's file, once ``load`` has read it
        self.fingerprint: str | None = None  # the start of a model of one's own's SHA-256, for ``provenance``
        self.device = device
        self.size = card.size
        self.threads = int(threads)
        self.backend, self._run = self._runner(backend)
        # restraint from the model's config: "chroma" scales the predicted a*b*, "ab_smoothing" is a
        # Gaussian sigma in working-size pixels (colour is low-frequency; a generator's chroma speckle is not)
        settings = card.inference or {}
        self.chroma = _number("chroma", settings.get("chroma", 1.0) if chroma is None else chroma, chroma)
        if not 0 <= self.chroma <= 4:
            raise _setting_error(chroma)(f"chroma must be between 0 and 4, not {self.chroma:g}")
        self.ab_smoothing = _number("ab_smoothing", settings.get("ab_smoothing", 0.0) if ab_smoothing is None
                                    else ab_smoothing, ab_smoothing)
        if not 0 <= self.ab_smoothing <= MAX_SMOOTHING:  # probe 75: inf never returned, 1e5 took 37 s a photo
            raise _setting_error(ab_smoothing)(f"ab_smoothing must be between 0 and {MAX_SMOOTHING:g} (a Gaussian's "
                                               f"sigma in the model's pixels), not {self.ab_smoothing:g}")
        # "ab_guide_radius"/"ab_guide_eps": a guided filter along the gray input (``guided_filter``) in place
        # of the Gaussian; an ``ab_smoothing`` given here asks for the Gaussian and so turns it off
        guide_error = _setting_error(ab_guide)
        if ab_guide is None:
            ab_guide = ((0, 0.0) if ab_smoothing is not None else
                        (settings.get("ab_guide_radius", 0), settings.get("ab_guide_eps", DEFAULT_GUIDE_EPS)))
        try:
            radius, eps = ab_guide if isinstance(ab_guide, (tuple, list)) else ()  # not "40" or a dict (probe 76)
            if not all(isinstance(value, numbers.Real) and not isinstance(value, bool) for value in ab_guide):
                raise TypeError
            self.ab_guide_radius, self.ab_guide_eps = int(radius), float(eps)
        except (TypeError, ValueError, OverflowError):
            raise guide_error(f"ab_guide must be a (radius, eps) pair of numbers, such as (4, {DEFAULT_GUIDE_EPS:g}), "
                              f"not {ab_guide!r}") from None
        if self.ab_guide_radius != radius or not 0 <= self.ab_guide_radius <= MAX_GUIDE_RADIUS:
            raise guide_error(f"ab_guide_radius must be a whole number from 0 to {MAX_GUIDE_RADIUS}, not {ab_guide[0]}")
        if self.ab_guide_radius and not (self.ab_guide_eps > 0 and np.isfinite(self.ab_guide_eps)):
            raise guide_error(f"ab_guide_eps must be above 0 and finite, not {self.ab_guide_eps:g}")
        self.mean_share = _number("mean_share", settings.get("mean_share", 1.0) if mean_share is None else mean_share,
                                  mean_share)
        if not 0 <= self.mean_share <= 1:
            raise _setting_error(mean_share)(f"mean_share must be between 0 and 1, not {self.mean_share:g}")
        self.fit = str(settings.get("fit", "native") if fit is None else fit)
        if self.fit not in FITS:
            raise _setting_error(fit)(f"unknown fit {self.fit!r}; choose one of: {', '.join(FITS)}")
        self.borders = str(settings.get("borders", "neutral") if borders is None else borders)
        if self.borders not in BORDERS:
            raise _setting_error(borders)(f"unknown borders {self.borders!r}; choose one of: {', '.join(BORDERS)}")

    @classmethod
    def load(cls, model: str | Path = DEFAULT_MODEL, device: str = "auto", role: str = "independent", *,
             backend: str = "auto", threads: int = DEFAULT_MODEL_THREADS, **settings) -> Colorizer:
        from rehue.models.io import (
            default_model_name,
            incomplete_shipped_models,
            load_model,
            resolve_model_path,
            shipped_models,
        )

        if role not in ("independent", "dependent"):
            raise UsageError(f"role must be \"independent\" or \"dependent\", not {role!r}")
        known = ["device", "role", *list(inspect.signature(cls.__init__).parameters)[4:]]
        unknown = sorted(set(settings) - set(known))
        if unknown:  # probe 88: a TypeError of Colorizer.__init__, not a setting of load's
            raise UsageError(f"Colorizer.load takes no setting {unknown[0]!r}; its settings: {', '.join(known)}")
        device = resolve_device(device)
        by_default = str(model) == DEFAULT_MODEL
        if by_default:
            model = default_model_name(role)
            suffix = "-dependent" if role == "dependent" else "-independent"
            incomplete = {name: why for name, why in incomplete_shipped_models().items() if name.endswith(suffix)}
            if model is None and incomplete:  # probe 130: "this installation ships no pretrained model"
                name, why = next(iter(incomplete.items()))
                raise RehueError(f"the shipped model {name} cannot be read ({why}): the installation is damaged; "
                                 "reinstall rehue")
            if model is None:
                raise RehueError(
                    "no model available: this installation ships no pretrained model; train one with "
                    "`rehue train` and pass --model PATH")
        path = resolve_model_path(model)
        generator, card = load_model(path, device=device)
        try:
            colorizer = cls(generator, card, device, backend=backend, threads=threads, **settings)
        except RehueError as exc:
            if type(exc) is RehueError and exc.path is None:  # a setting of the model's JSON: it is named
                raise RehueError(f"inference: {exc.reason}", Path(path).with_suffix(".json")) from None
            raise
        colorizer.shipped = path in shipped_models().values()
        colorizer.path = Path(path)
        colorizer.name = Path(path).stem
        if not colorizer.shipped:  # a run's model is "model": say which run, and which weights exactly
            if colorizer.name == "model" and Path(path).parent.name:
                colorizer.name = f"{Path(path).parent.name}/{colorizer.name}"
            colorizer.fingerprint = _file_digest(path)
        colorizer.by_default, colorizer._settings = by_default, settings
        return colorizer

    @classmethod
    def load_independent(cls, model: str | Path = DEFAULT_MODEL, device: str = "auto", **settings) -> Colorizer:
        """``load`` for photos and scene starts: a dependent model, which needs the frame before, is refused."""
        colorizer = cls.load(model, device, **settings)
        if colorizer.dependent:
            raise RehueError(DEPENDENT_ALONE, model)
        return colorizer

    def for_video(self) -> Colorizer:
        """The model that colours films and frame sequences: the shipped video model (``DEFAULT_MODELS``)
        with this one's settings when this one was picked by default for photos, else this one. A
        photo model of another kind needs this: the shipped dependent model learned to follow the video
        model's colours only (docs/model-card.md, "Colour as classes")."""
        from rehue.models.io import default_model_name

        if not self.by_default or self.card.in_channels != 1:
            return self
        name = default_model_name("video")
        if name is None or name == self.name:
            return self
        if self._video is None:
            self._video = Colorizer.load(name, device=self.device, backend=self.backend, threads=self.threads,
                                         **self._settings)
            self._video.by_default = True
        return self._video

    def _runner(self, backend: str):
        """(backend name, function from an (N, C, H, W) float32 array to the (N, 2, H, W) float32 output)."""
        if backend != "torch" and self.device == "cpu":
            try:
                return "onnxruntime", self._onnxruntime_runner()
            except Exception as exc:  # missing packages or an export/runtime failure: PyTorch still works
                if backend == "onnxruntime" and isinstance(exc, ImportError):  # this machine's, not the model's
                    raise UsageError(f"backend onnxruntime: ONNX Runtime cannot be imported ({exc}); install it "
                                     "(pip install onnxruntime) or choose backend auto or torch") from None
                if backend == "onnxruntime":
                    raise RehueError(f"cannot run the model in ONNX Runtime ({exc})") from None
                log.debug("ONNX Runtime unavailable (%s); running the model in PyTorch", exc)
        elif backend == "onnxruntime":
            raise UsageError(f"the onnxruntime backend runs on the CPU only, not on {self.device}")
        return "torch", self._torch_runner()

    def _onnxruntime_runner(self):
        from rehue.models.inference import export_onnx

        onnxruntime = import_onnxruntime()

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # fatal only: its notes are not the user's business, and its errors come as exceptions, worded here
        # (probe 63: its own red line of an allocation that failed, escape codes and all, into a log file)
        options.log_severity_level = 4
        graph = export_onnx(self.generator, self.card.in_channels, self.size)
        with out_of_memory_as_memory_error():
            session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

        def run(batch: np.ndarray) -> np.ndarray:
            return session.run(None, {"x": batch})[0]

        return run

    def _torch_runner(self):
        import torch

        from rehue.models.inference import prepare_for_cpu

        on_cpu = self.device == "cpu"
        module = prepare_for_cpu(self.generator) if on_cpu else self.generator
        memory_format = torch.channels_last if on_cpu else torch.contiguous_format

        def run(batch: np.ndarray) -> np.ndarray:
            with _torch_threads(self.threads if on_cpu else None), torch.inference_mode():
                inputs = torch.from_numpy(batch).to(self.device, non_blocking=True)
                ab = module(inputs.contiguous(memory_format=memory_format))
                return np.ascontiguousarray(ab.float().cpu().numpy())

        return run

    @property
    def provenance(self) -> str:
        """What a coloured file says of itself (an image's Software tag, a video's comment): a coloured
        archive picture is an interpretation, and should say whose."""
        from rehue import __version__

        return f"rehue {__version__}, colorized with {self.label}"

    @property
    def label(self) -> str:
        """The model's name, and for a model of one's own the start of its SHA-256 (which weights exactly)."""
        name = bytes_escaped(self.name)  # a folder's name not UTF-8, as a tag holds it
        return f"{name} (sha256 {self.fingerprint})" if self.fingerprint else name

    @property
    def dependent(self) -> bool:
        return self.card.in_channels == 3

    def predict_ab(self, gray_small: np.ndarray, prev_ab: np.ndarray | None = None, *,
                   restrain: bool = True, box: Box | None = None) -> np.ndarray:
        """(N, H, W) uint8 gray canvas [+ (N, 2, H, W) normalised a*b*] -> (N, 2, H, W) normalised a*b*,
        with the model's restraint applied unless ``restrain`` is False (``restrain`` below; ``box``: where
        the picture lies in the canvas)."""
        batch = GRAY_TO_NORMALIZED_LIGHTNESS[gray_small][:, None]
        if self.dependent:
            if prev_ab is None:
                raise RehueError(DEPENDENT_ALONE, self.name)
            batch = np.concatenate([batch, np.asarray(prev_ab, np.float32)], axis=1)
        try:
            ab = self._run(np.ascontiguousarray(batch))
        except Exception as exc:  # either runtime's failed allocation, as the MemoryError it is (probes 63, 64)
            if (memory_error := as_memory_error(exc)) is not None:
                raise memory_error from None
            raise
        if not np.isfinite(ab).all():  # finite weights that overflow (probe 204: a warm cast, exit 0, and scored)
            raise RehueError("its colours come out NaN or infinite: its weights overflow (the file is damaged, or its "
                             "training diverged)", self.path or self.name)
        return self.restrain(ab, box, gray_small) if restrain else np.ascontiguousarray(ab, dtype=np.float32)

    def restrain(self, ab: np.ndarray, box: Box | None = None, gray: np.ndarray | None = None) -> np.ndarray:
        """The restraint of this model's config on (N, 2, H, W) normalised a*b*: ``mean_share`` of each
        picture's mean a*b* kept (the mean taken inside ``box``, where the picture lies; the whole canvas
        without one) and all the variation around it; smoothed, by a guided filter along ``gray`` (the
        (N, H, W) uint8 canvas the model saw) when the config sets ``ab_guide_radius``, else by a Gaussian
        blur of ``ab_smoothing`` pixels; then chroma scaled by ``chroma``. It is for what is shown; a video
        feeds the dependent model the unrestrained a*b*, or the restraint would compound frame by frame."""
        if self.mean_share != 1.0:
            picture = ab if box is None else ab[(..., *box.region)]
            mean = picture.mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(np.float32)
            ab = ab - np.float32(1.0 - self.mean_share) * mean
        if self.ab_guide_radius:
            if gray is None:
                raise ValueError("the guided smoothing of a*b* needs the gray canvas the model saw")
            guides = np.asarray(gray, np.float32).reshape(len(ab), *ab.shape[2:]) / np.float32(255)
            ab = np.stack([guided_filter(guide, planes, self.ab_guide_radius, self.ab_guide_eps)
                           for guide, planes in zip(guides, ab, strict=True)])
        elif self.ab_smoothing > 0:
            import cv2

            n, c, h, w = ab.shape
            planes = np.ascontiguousarray(ab.reshape(n * c, h, w).transpose(1, 2, 0))
            planes = cv2.GaussianBlur(planes, (0, 0), self.ab_smoothing).reshape(h, w, n * c)
            ab = planes.transpose(2, 0, 1).reshape(n, c, h, w)
        if self.chroma != 1.0:
            ab = ab * np.float32(self.chroma)
        return np.ascontiguousarray(ab, dtype=np.float32)

    def colorize_gray(self, gray: np.ndarray, prev_ab: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Colour one gray picture, uint8 or uint16; returns (RGB of the same type at full size,
        normalised a*b* of the model's canvas, ``fit`` deciding its shape). With ``borders`` "neutral",
        plain borders stay gray and only the picture inside them is shown to the model."""
        gray8 = to_uint8(gray)  # what the border rule and the model see
        if self.borders == "neutral" and prev_ab is None:
            inner = picture_box(gray8)
            if (inner.height, inner.width) != gray.shape:
                picture = np.ascontiguousarray(gray[inner.region])
                picture8 = picture if gray8 is gray else np.ascontiguousarray(gray8[inner.region])
                picture_rgb, ab_norm = self._colorize_gray(picture, gray8=picture8)
                return inside_gray(gray, inner, picture_rgb), ab_norm
        return self._colorize_gray(gray, prev_ab, gray8=gray8)

    def _colorize_gray(self, gray: np.ndarray, prev_ab: np.ndarray | None = None, *,
                       gray8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        small, box = (native_view if self.fit == "native" else letterbox)(gray8, self.size)
        ab_norm = self.predict_ab(small[None], None if prev_ab is None else prev_ab[None], box=box)[0]
        crop = ab_norm[:, box.top : box.top + box.height, box.left : box.left + box.width]
        ab = np.moveaxis(crop, 0, -1) * AB_SCALE
        compose = compose_deep if gray.dtype == np.uint16 else compose_full_resolution
        return compose(gray, ab), ab_norm

    def colorize(self, image) -> np.ndarray:
        """Colour a numpy array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), a PIL image, an image file's
        path, or an image file's bytes (``bytes`` or a binary file object, as a web upload arrives); returns
        RGB at the same size, or RGBA where the input has alpha (kept as it was). uint16 for a uint16
        array, a 16-bit file (16-bit scans keep their depth) or other integers above 255, else uint8.
        Other integer arrays hold levels 0-255, or 16-bit levels 0-65535 where a value is above 255
        (outside 0-65535 is an error); a float array is read as 0-1,
        or as 0-255 when a value is 2 or above (as a float TIFF is); a resampler's overshoot, up to a tenth of
        the range past either end, is clipped. A PIL image or a file is turned upright
        by its EXIF orientation, as a viewer shows it.

        Colour input is converted to gray first (its L* is kept), so the result depends on L* alone.
        """
        from rehue.data.images import (
            check_pixel_count,
            in_srgb,
            is_neutral,
            load_image,
            pil_to_loaded,
            tiff_pillow_misreads,
        )

        alpha = None
        if type(image).__module__.split(".")[0] == "torch":
            raise RehueError("a torch tensor is not an image here: pass tensor.cpu().numpy(), as (H, W) or (H, W, 3) "
                             "levels")
        if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(image, "read"):
            loaded = load_image(image)
        elif hasattr(image, "mode") and hasattr(image, "size") and hasattr(image, "getexif"):
            from PIL import ImageOps

            check_pixel_count(*image.size)
            try:
                # a TIFF of a layout Pillow misreads (turned by Orientation 5-8, uncompressed: probe 143), read
                # from its file as load_image reads it
                loaded = tiff_pillow_misreads(image)
                # a colour key is a file's transparency, as opened; not once a program converted the picture
                loaded = loaded or pil_to_loaded(ImageOps.exif_transpose(in_srgb(image, None)),
                                                 colour_key=getattr(image, "format", None) is not None)
            except (ValueError, AssertionError) as exc:  # closed, or its file object closed ("seek of closed
                # file": probe 148), before it was ever read (Pillow's own assert that its file is open: probe 146)
                if "closed image" not in str(exc) and "of closed file" not in str(exc) and not (
                        isinstance(exc, AssertionError) and getattr(image, "fp", None) is None):
                    raise
                raise RehueError("the PIL image is closed: colour it before closing it") from None
        else:
            loaded = None
        if loaded is not None:
            image, alpha = (loaded.rgb if loaded.deep_gray is None else loaded.deep_gray), loaded.alpha
        try:
            array = np.asarray(image)
        except ValueError:  # rows of unequal lengths (probe 225: numpy's own ValueError)
            raise RehueError(f"a {type(image).__name__} whose rows are not all of one length is not an image: pass a "
                             "numpy array of numbers, a PIL image, a path or a file's bytes") from None
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            what = f"an array of {array.dtype} values" if isinstance(image, np.ndarray) else (
                f"a {type(image).__name__} of values other than numbers (None, text, or integers past 64 bits)"
                if isinstance(image, (list, tuple)) else type(image).__name__)
            raise RehueError(f"{what} is not an image: pass a numpy array of numbers, a PIL image, a path or "
                             "a file's bytes")
        if array.size == 0:
            raise RehueError(f"the image is empty (shape {array.shape})")
        if array.ndim >= 2:
            check_pixel_count(array.shape[1], array.shape[0])
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[..., 0]
        if array.ndim == 3 and array.shape[2] == 4 and array.dtype.kind == "f":  # colour and alpha each on its
            # own scale, as an RGB float's (probe 133: 0-1 colour beside an alpha of 255.0 was read as 0-255, and
            # came out black; 0-255 colour beside an alpha of 1.0 came out all but transparent)
            array, alpha = array[..., :3], array[..., 3]
        elif array.ndim == 3 and array.shape[2] == 4:  # integer levels read as one picture's, alpha's with them
            array, alpha = (levels := image_levels(array))[..., :3], levels[..., 3]  # (probe 75: 200 read as 8-bit)
        if not (array.ndim == 2 or array.ndim == 3 and array.shape[2] == 3):
            first = array.ndim == 3 and array.shape[0] in (1, 3, 4)  # a torch-style (C, H, W) array
            raise RehueError(f"expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) image, got shape {array.shape}"
                             + ("; its channels first? pass array.transpose(1, 2, 0)" if first else ""))
        array = image_levels(array)
        depth = np.uint16 if array.dtype == np.uint16 else np.uint8
        if array.ndim == 3:
            gray = array[..., 0] if array.dtype == depth and is_neutral(array) else rgb_to_gray(array, depth)
        else:
            # a float gray's levels are its own: rounded, not made RGB for rgb_to_gray (50 bytes a pixel more)
            gray = array if array.dtype == depth else np.round(array * np.float32(255)).astype(np.uint8)
        rgb = self.colorize_gray(np.ascontiguousarray(gray))[0]
        if alpha is None:
            return rgb
        return np.dstack([rgb, _alpha_at(np.asarray(alpha), depth)])

    def colorize_video(self, source, target, **options):
        """Colour the video file ``source`` into ``target`` as ``rehue colorize`` does: scene detection, this
        model at each scene's start and the dependent model within scenes, sound and timing kept, nothing at
        ``target`` unless the whole video succeeds. ``options`` are those of
        :func:`rehue.video.pipeline.colorize_video` (``dependent_model``, ``start``, ``end``, ``codec``,
        ``overwrite``, ``progress``, ...); returns its summary (frames, scenes, frames per second). Its
        lines for a person (the summary, bars found) go to ``log`` if given, else to the ``rehue`` logger
        at INFO. A progress bar is drawn on stderr, as in the CLI, unless ``progress=False``; a service passes
        a function instead, called as ``progress(done, total)`` after each frame, which may raise to cancel."""

        import inspect

        from rehue.progress import lines_to
        from rehue.video.pipeline import colorize_video

        known = [name for name, parameter in inspect.signature(colorize_video).parameters.items()
                 if parameter.kind is parameter.KEYWORD_ONLY and name != "colorizer"]
        unknown = sorted(set(options) - set(known))
        if unknown:  # probe 155: "colorize_video() got an unexpected keyword argument", of the pipeline's function
            raise UsageError(f"colorize_video has no option {unknown[0]!r}; its options: {', '.join(known)}")
        # its warnings as warnings (probe 147: at INFO, unseen without a handler), the rest at INFO
        options.setdefault("log", lines_to(None, progress=False, logger_name="rehue.video"))
        if not isinstance(target, (str, os.PathLike)):
            raise UsageError(f"colorize_video takes video files' paths, not {type(target).__name__}")
        return colorize_video(source, target, colorizer=self, **options)  # which holds the output (one_writer)


def _alpha_at(alpha: np.ndarray, depth) -> np.ndarray:
    """An alpha plane's levels on the scale of ``depth`` (uint8 or uint16), the output's."""
    try:
        levels = image_levels(alpha)
    except RehueError as exc:
        raise RehueError(f"its alpha: {exc.reason}") from None
    if levels.dtype == depth:
        return levels
    unit = levels if levels.dtype.kind == "f" else levels.astype(np.float32) / np.float32(np.iinfo(levels.dtype).max)
    return np.round(unit * np.iinfo(depth).max).astype(depth)
