"""Image and video quality numbers for colorization, and the table that compares a model with gray.

Every function takes 8-bit RGB arrays (H, W, 3) as rehue reads and writes them. Definitions:

* **PSNR** in dB over all pixels and channels, ``10 log10(R^2 / MSE)`` with ``R = data_range``
  (255 for uint8). Identical images would give +inf; the MSE is floored at ``R^2 * 1e-10`` so they
  give exactly :data:`PSNR_CAP_DB` (100 dB) and means over a data set stay finite. For scale: every
  pixel off by one level is 48.1 dB, so the cap only touches images that are equal or nearly so.
* **SSIM** after Wang et al. (2004): Gaussian window (sigma 1.5, 11 taps), K1 = 0.01, K2 = 0.03,
  population covariances, mean over the pixels whose window lies inside the image, then over the
  three channels. This is ``skimage.metrics.structural_similarity(a, b, channel_axis=-1,
  data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`` and
  ``tf.image.ssim``. Images under 11 pixels on a side get the largest odd window that fits, with
  sigma scaled to it (sigma = 1.5 * radius / 5); below 3 pixels SSIM is undefined.
* **CIEDE2000**: mean per-pixel Delta E 2000 between the two images in CIE LAB (D65).
* **Colourfulness** after Hasler and Suesstrunk (2003) on 0..255 RGB:
  ``rg = R - G``, ``yb = (R + G) / 2 - B``, ``M = sqrt(var rg + var yb) + 0.3 sqrt(mean rg^2 + mean yb^2)``
  (their scale: 0 gray, ~33 moderately, ~59 quite, ~82 highly, ~109 extremely colourful).
* **Warm share**: the share of an image's chroma (the a*b* length of its pixels above
  ``CAST_MIN_CHROMA``) in red, orange and yellow hues (LAB hue 340-115 degrees, the warm families of
  :mod:`rehue.data.demo`); undefined for an image with almost no colour. A uniform sepia or brown cast
  puts nearly all of an output's colour there whatever the truth holds.
* **Temporal stability**: see :func:`temporal_stability`.
* **How sure a gain over gray is**: the 95% confidence interval of the mean gain, Student's t over
  independent units (a photo, or a clip whose frames' gains are averaged first, since neighbouring
  frames share their mistakes); see :func:`mean_interval`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from rehue.color.lab import rgb_to_gray, rgb_to_lab
from rehue.errors import RehueError, one_line

PSNR_CAP_DB = 100.0

SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_SIGMA = 1.5
SSIM_RADIUS = 5  # int(3.5 * sigma + 0.5): scipy's default truncation, as skimage uses it
SSIM_MIN_SIDE = 3

COLOURFULNESS_MEAN_WEIGHT = 0.3

CAST_MIN_CHROMA = 2.0  # a*b* units: fainter pixels are gray with compression noise, not a tint
CAST_MIN_SHARE = 0.01  # an image with fewer chromatic pixels than this has no colour to share out
SEPIA_WARM_SHARE = 0.9  # an output with at least this warm share is counted as a uniform warm cast

# Occlusion test of Sundaram, Brox and Keutzer (2010), "Dense point trajectories by GPU-accelerated
# large displacement optical flow": a pixel is kept when |w + w_back|^2 <= a (|w|^2 + |w_back|^2) + b.
FLOW_CONSISTENCY_RELATIVE = 0.01
FLOW_CONSISTENCY_ABSOLUTE_PX2 = 0.5
LIGHTNESS_MAX = 100.0

GRAY_BASELINE = "gray baseline"
CONFIDENCE = 0.95


# ------------------------------------------------------------------------------------------- checks


def _check_rgb(rgb: np.ndarray, what: str = "image") -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise RehueError(f"{what} must be RGB (H, W, 3), got shape {rgb.shape}")
    return rgb


def _check_pair(output_rgb: np.ndarray, truth_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    output_rgb = _check_rgb(output_rgb, "output")
    truth_rgb = _check_rgb(truth_rgb, "ground truth")
    if output_rgb.shape != truth_rgb.shape:
        raise RehueError(f"output is {output_rgb.shape[1]}x{output_rgb.shape[0]} but ground truth is "
                         f"{truth_rgb.shape[1]}x{truth_rgb.shape[0]}")
    return output_rgb, truth_rgb


def _rgb_255(rgb: np.ndarray) -> np.ndarray:
    """float32 RGB on the 0..255 scale; float input is taken as [0, 1] like :mod:`rehue.color.lab`."""
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32)
    if np.issubdtype(rgb.dtype, np.floating):
        return rgb.astype(np.float32) * np.float32(255.0)
    raise RehueError(f"RGB must be uint8 or float in [0, 1], got {rgb.dtype}")


# ------------------------------------------------------------------------------------ image metrics


def psnr(output_rgb: np.ndarray, truth_rgb: np.ndarray, data_range: float = 255) -> float:
    """Peak signal-to-noise ratio in dB; ``data_range`` is the span of the pixel values (255 for uint8).

    Identical images give :data:`PSNR_CAP_DB` instead of +inf (see the module docstring).
    """
    import cv2

    output_rgb, truth_rgb = _check_pair(output_rgb, truth_rgb)
    if output_rgb.dtype == np.uint8 and truth_rgb.dtype == np.uint8:
        squared_error = cv2.norm(output_rgb, truth_rgb, cv2.NORM_L2SQR)  # exact integer sums
    else:
        difference = (output_rgb.astype(np.float64) - truth_rgb.astype(np.float64)).ravel()
        squared_error = float(np.dot(difference, difference))
    mse = squared_error / output_rgb.size
    peak = float(data_range) ** 2
    return 10.0 * math.log10(peak / max(mse, peak * 10.0 ** (-PSNR_CAP_DB / 10.0)))


def _ssim_window(height: int, width: int) -> tuple[int, float]:
    """(radius, sigma) of the Gaussian window; smaller for images under 11 pixels on a side."""
    side = min(height, width)
    if side < SSIM_MIN_SIDE:
        raise RehueError(f"image is {width}x{height}; SSIM needs at least {SSIM_MIN_SIDE} pixels a side")
    radius = min(SSIM_RADIUS, (side - 1) // 2)
    return radius, SSIM_SIGMA * radius / SSIM_RADIUS


def ssim(output_rgb: np.ndarray, truth_rgb: np.ndarray, data_range: float = 255) -> float:
    """Mean structural similarity of two RGB images, channel-averaged (definition in the module docstring).

    Computed with OpenCV separable filters in float32; agrees with scikit-image to about 1e-6.
    """
    import cv2

    output_rgb, truth_rgb = _check_pair(output_rgb, truth_rgb)
    height, width = output_rgb.shape[:2]
    radius, sigma = _ssim_window(height, width)
    taps = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (taps / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)

    c1 = np.float32((SSIM_K1 * data_range) ** 2)
    c2 = np.float32((SSIM_K2 * data_range) ** 2)
    total, count = 0.0, 0
    # in bands of rows, each with the window's reach of rows around it: a full-resolution scan's dozen
    # float planes would take over 100 bytes a pixel; each band's filtered rows are the whole image's
    for start, stop in _bands(radius, height - radius, width):
        x = output_rgb[start - radius : stop + radius].astype(np.float32)
        y = truth_rgb[start - radius : stop + radius].astype(np.float32)

        def local_mean(image, rows=stop - start):
            blurred = cv2.sepFilter2D(image, cv2.CV_32F, kernel, kernel, borderType=cv2.BORDER_REFLECT)
            return blurred[radius : radius + rows, radius : width - radius]

        mean_x, mean_y = local_mean(x), local_mean(y)
        mean_xx, mean_yy, mean_xy = local_mean(x * x), local_mean(y * y), local_mean(x * y)
        mean_x_mean_y = mean_x * mean_y
        mean_x_sq, mean_y_sq = mean_x * mean_x, mean_y * mean_y
        numerator = (2.0 * mean_x_mean_y + c1) * (2.0 * (mean_xy - mean_x_mean_y) + c2)
        denominator = (mean_x_sq + mean_y_sq + c1) * ((mean_xx - mean_x_sq) + (mean_yy - mean_y_sq) + c2)
        total += float(np.sum(numerator / denominator, dtype=np.float64))
        count += numerator.size
    return total / count


BAND_PIXELS = 1 << 20  # pixels a metric works on at once: its float copies stay tens of MB on any image


def _bands(first: int, last: int, width: int):
    """(start, stop) row ranges covering rows ``first`` to ``last`` of an image ``width`` wide, each about
    ``BAND_PIXELS`` pixels."""
    rows = max(1, BAND_PIXELS // max(1, width))
    for start in range(first, last, rows):
        yield start, min(start + rows, last)


def ciede2000(output_rgb: np.ndarray, truth_rgb: np.ndarray) -> float:
    """Mean CIEDE2000 colour difference (Delta E 00) between the images; 0 for identical images."""
    output_rgb, truth_rgb = _check_pair(output_rgb, truth_rgb)
    return _ciede2000_of_lab(rgb_to_lab(output_rgb), rgb_to_lab(truth_rgb))


def _ciede2000_of_lab(output_lab: np.ndarray, truth_lab: np.ndarray) -> float:
    """In bands of rows: scikit-image's formula makes about thirty float64 planes of its input's size."""
    from skimage.color import deltaE_ciede2000

    height, width = output_lab.shape[:2]
    total = sum(float(np.sum(deltaE_ciede2000(output_lab[start:stop], truth_lab[start:stop], channel_axis=-1),
                             dtype=np.float64)) for start, stop in _bands(0, height, width))
    return total / (height * width)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk (2003) colourfulness M on the 0..255 scale; 0 for any gray image."""
    rgb = _check_rgb(rgb)
    height, width = rgb.shape[:2]
    sums = np.zeros(4, dtype=np.float64)  # of red - green, yellow - blue and their squares
    for start, stop in _bands(0, height, width):
        band = _rgb_255(rgb[start:stop]).astype(np.float64)
        red, green, blue = band[..., 0], band[..., 1], band[..., 2]
        red_green = red - green
        yellow_blue = 0.5 * (red + green) - blue
        sums += (red_green.sum(), yellow_blue.sum(), np.square(red_green).sum(), np.square(yellow_blue).sum())
    mean_rg, mean_yb, mean_rg2, mean_yb2 = sums / (height * width)
    spread = math.sqrt(max(0.0, mean_rg2 - mean_rg**2) + max(0.0, mean_yb2 - mean_yb**2))
    return spread + COLOURFULNESS_MEAN_WEIGHT * math.hypot(mean_rg, mean_yb)


def warm_share(rgb: np.ndarray) -> float | None:
    """Share of the image's chroma in warm hues (see the module docstring); None for an image with
    (almost) no colour."""
    return _warm_share_of_lab(rgb_to_lab(_check_rgb(rgb)))


def warm_casts(shares) -> int:
    """How many of these warm shares (``warm_share``'s; None or NaN for an image without colour) are at
    least ``SEPIA_WARM_SHARE``: outputs nearly all warm, as a uniform sepia cast makes them."""
    return sum(share is not None and share >= SEPIA_WARM_SHARE for share in shares)


def _warm_share_of_lab(lab: np.ndarray) -> float | None:
    from rehue.data.demo import HUE_FAMILIES, WARM_FAMILIES, in_hue_family

    height, width = lab.shape[:2]
    chromatic_pixels, chromatic_chroma, warm_chroma = 0, 0.0, 0.0
    for start, stop in _bands(0, height, width):
        band = lab[start:stop]
        chroma = np.hypot(band[..., 1], band[..., 2])
        chromatic = chroma >= CAST_MIN_CHROMA
        hue = np.degrees(np.arctan2(band[..., 2], band[..., 1])) % 360.0
        warm = np.any([in_hue_family(hue, lo, hi) for name, lo, hi in HUE_FAMILIES if name in WARM_FAMILIES],
                      axis=0)
        chromatic_pixels += int(chromatic.sum())
        chromatic_chroma += float(chroma[chromatic].sum(dtype=np.float64))
        warm_chroma += float(chroma[chromatic & warm].sum(dtype=np.float64))
    if chromatic_pixels < CAST_MIN_SHARE * height * width:
        return None
    return warm_chroma / chromatic_chroma


def gray_baseline(truth_rgb: np.ndarray) -> np.ndarray:
    """The "no colour" answer a colorizer has to beat: the truth's L* with a* = b* = 0, as uint8 RGB."""
    gray = rgb_to_gray(_check_rgb(truth_rgb, "ground truth"))
    return np.repeat(gray[..., None], 3, axis=-1)


@dataclass(frozen=True)
class ImageMetrics:
    """Numbers for one output image against its ground truth."""

    psnr: float
    ssim: float
    ciede2000: float
    colourfulness_output: float
    colourfulness_truth: float
    warm_share_output: float | None = None  # None: the image has (almost) no colour
    warm_share_truth: float | None = None


def evaluate_pair(output_rgb: np.ndarray, truth_rgb: np.ndarray, path=None) -> ImageMetrics:
    """Every image metric for one (output, truth) pair; ``path`` names the file in error messages."""
    try:
        output_rgb, truth_rgb = _check_pair(output_rgb, truth_rgb)
        output_lab, truth_lab = rgb_to_lab(output_rgb), rgb_to_lab(truth_rgb)  # once each, for two metrics
        return ImageMetrics(
            psnr=psnr(output_rgb, truth_rgb),
            ssim=ssim(output_rgb, truth_rgb),
            ciede2000=_ciede2000_of_lab(output_lab, truth_lab),
            colourfulness_output=colourfulness(output_rgb),
            colourfulness_truth=colourfulness(truth_rgb),
            warm_share_output=_warm_share_of_lab(output_lab),
            warm_share_truth=_warm_share_of_lab(truth_lab),
        )
    except RehueError as exc:
        if path is None or exc.path is not None:
            raise
        raise RehueError(exc.reason, path) from None


# ----------------------------------------------------------------------------- temporal stability


FLOW_MIN_SIDE = 32
"""Pixels a frame needs on each side for OpenCV's DIS optical flow: on thinner ones (a ticker's 1280x48 clip
scored at 256x10) it crashed the process (probe 121: a segmentation fault), at heights from 1 to 31 but 8 and 9
beside a width of 256; 32 x 32 to 32 x 4000 did not. A thinner frame's edges are repeated out to it for the
flow, and the flow cut back to the frame."""


def _new_flow():
    import cv2

    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)


@dataclass
class _Frame:
    lightness: np.ndarray  # (H, W) uint8, L* scaled to 0..255 for the optical flow
    ab: np.ndarray  # (H, W, 2) float32


def _frame(rgb: np.ndarray) -> _Frame:
    lab = rgb_to_lab(_check_rgb(rgb, "frame"))
    lightness = np.clip(lab[..., 0] * np.float32(255.0 / LIGHTNESS_MAX) + 0.5, 0, 255).astype(np.uint8)
    return _Frame(lightness, np.ascontiguousarray(lab[..., 1:]))


def _compensated_ab_change(flow, previous: _Frame, current: _Frame) -> float:
    import cv2

    if previous.ab.shape != current.ab.shape:
        raise RehueError(f"frame size changed from {previous.ab.shape[1]}x{previous.ab.shape[0]} "
                         f"to {current.ab.shape[1]}x{current.ab.shape[0]}")
    height, width = current.lightness.shape
    below, right = max(0, FLOW_MIN_SIDE - height), max(0, FLOW_MIN_SIDE - width)

    def flow_between(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        if below or right:  # a thin frame's edges repeated out to the side DIS needs, its flow cut back
            first, second = (cv2.copyMakeBorder(image, 0, below, 0, right, cv2.BORDER_REPLICATE)
                             for image in (first, second))
        return np.ascontiguousarray(flow.calc(first, second, None)[:height, :width])

    # backward[p]: where pixel p of the current frame was in the previous one.
    backward_x, backward_y = cv2.split(flow_between(current.lightness, previous.lightness))
    forward = flow_between(previous.lightness, current.lightness)
    source_x = backward_x + np.arange(width, dtype=np.float32)[None, :]
    source_y = backward_y + np.arange(height, dtype=np.float32)[:, None]
    inside = (source_x >= 0) & (source_x <= width - 1) & (source_y >= 0) & (source_y <= height - 1)

    forward_x, forward_y = cv2.split(
        cv2.remap(forward, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    )
    round_trip = np.square(backward_x + forward_x) + np.square(backward_y + forward_y)
    motion = backward_x * backward_x + backward_y * backward_y + forward_x * forward_x + forward_y * forward_y
    consistent = round_trip <= FLOW_CONSISTENCY_RELATIVE * motion + FLOW_CONSISTENCY_ABSOLUTE_PX2
    valid = inside & consistent
    if not valid.any():
        return math.nan

    warped_ab = cv2.remap(previous.ab, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    change_a, change_b = cv2.split(current.ab - warped_ab)
    change = cv2.magnitude(change_a, change_b)
    return float(np.mean(change[valid], dtype=np.float64))


def temporal_stability(prev_rgb: np.ndarray, rgb: np.ndarray) -> float:
    """Motion-compensated colour change between two consecutive frames, in L*a*b* units (lower is steadier).

    Definition:

    1. L* of both frames, scaled to uint8 (``round(L* * 255 / 100)``), goes through OpenCV DIS optical
       flow (``DISOPTICAL_FLOW_PRESET_FAST``) both ways: ``backward`` (current -> previous) and
       ``forward`` (previous -> current). Colorization keeps L*, so the flow is that of the input film.
    2. Each current pixel p maps to ``q = p + backward(p)`` in the previous frame. It is kept when q
       lies inside the frame and the flow is forward-backward consistent there:
       ``|backward(p) + forward(q)|^2 <= 0.01 (|backward(p)|^2 + |forward(q)|^2) + 0.5 px^2``
       (Sundaram et al. 2010); the rest are occluded or flowed out of frame.
    3. The previous a*b* is sampled at q (bilinear, ``cv2.remap``) and the result is the mean over kept
       pixels of the Euclidean a*b* distance ``sqrt(da*^2 + db*^2)`` to the current a*b*.

    Returns NaN when no pixel is kept (e.g. across a scene cut where every match fails the check).
    """
    return _compensated_ab_change(_new_flow(), _frame(prev_rgb), _frame(rgb))


class TemporalStability:
    """:func:`temporal_stability` over a film, frame by frame, each frame converted to LAB once.

    ``update(rgb)`` returns the value for (previous frame, this frame), or None for the first frame
    (and the first after :meth:`reset`, which a caller uses at scene cuts). ``mean()`` averages the
    pairs that had matched pixels; NaN when there were none.
    """

    def __init__(self):
        self._flow = _new_flow()
        self._previous: _Frame | None = None
        self.values: list[float] = []

    def update(self, rgb: np.ndarray) -> float | None:
        current = _frame(rgb)
        previous, self._previous = self._previous, current
        if previous is None:
            return None
        value = _compensated_ab_change(self._flow, previous, current)
        self.values.append(value)
        return value

    def reset(self) -> None:
        self._previous = None

    def mean(self) -> float:
        defined = [value for value in self.values if not math.isnan(value)]
        return float(np.mean(defined)) if defined else math.nan


# ----------------------------------------------------------------------------------------- tables


def summarize(values) -> dict[str, float | None]:
    """min, max and mean of a sequence of numbers, leaving out the Nones (undefined values; all three
    are None when nothing is left)."""
    values = list(values)
    if not values:
        raise RehueError("no values to summarize")
    defined = np.asarray([value for value in values if value is not None], dtype=np.float64)
    if defined.size == 0:
        return {"min": None, "max": None, "mean": None}
    return {"min": float(defined.min()), "max": float(defined.max()), "mean": float(defined.mean())}


def mean_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Student's t confidence interval of the mean of independent values; None for fewer than two.

    With the few photos a user holds out (4, 23), a bootstrap interval comes out too narrow; the t
    interval is exact for normal values and wide enough for the heavy-tailed PSNR gains seen here.
    """
    from scipy import stats

    values = np.asarray(list(values), dtype=np.float64)
    if values.size < 2:
        return None
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))
    return mean - half, mean + half


def unit_means(values, sources) -> list[float]:
    """``values`` averaged per source, in the order sources first appear; a None source is a unit of its own."""
    groups: dict = {}
    for index, (value, source) in enumerate(zip(values, sources, strict=True)):
        groups.setdefault(index if source is None else ("source", source), []).append(value)
    return [float(np.mean(group)) for group in groups.values()]


FEW_UNITS = 4  # below this many photos or clips, an interval around zero cannot tell a model from another


def standing(interval: tuple[float, float] | None) -> str | None:
    """"clearly above" or "clearly below" zero when the interval leaves it out, else "level"."""
    if interval is None:
        return None
    low, high = interval
    return "clearly above" if low > 0 else "clearly below" if high < 0 else "level"


def _psnr_and_ssim_words(psnr_interval, ssim_interval, other: str, units: int | None = None) -> str:
    """"PSNR ... dB: ... OTHER; SSIM ...: ... OTHER", the two intervals of a verdict or a comparison."""
    return (f"{interval_words('PSNR', psnr_interval, 2, ' dB', other, units)}; "
            f"{interval_words('SSIM', ssim_interval, 4, '', other, units)}")


def interval_words(metric: str, interval: tuple[float, float], decimals: int, unit: str, other: str,
                   units: int | None = None) -> str:
    """"PSNR -0.12 to +0.80 dB: level with OTHER" and the like, for the Markdown report. An interval
    around zero from fewer than ``FEW_UNITS`` photos or clips says it cannot tell (two clips give
    intervals of +-90 dB, which "level" would misread), and a clear difference too small for the shown
    decimals says how small."""
    low, high = interval
    where = standing(interval)
    shown = f"{metric} {low:+.{decimals}f} to {high:+.{decimals}f}{unit}: "
    if where == "level":
        if units is not None and units < FEW_UNITS and high > low:
            return shown + f"too few photos or clips ({units}) to tell it from {other}"
        return shown + f"level with {other}"
    smallest = 0.5 * 10.0**-decimals
    said = shown + f"{where} {other}"
    if max(abs(low), abs(high)) < smallest:
        said += f", by less than {smallest:g}{unit}"
    if math.isclose(low, high, rel_tol=1e-9, abs_tol=1e-12):  # no spread: "clearly" from units that gain
        # exactly alike, as copies do (probe 71); not ==, which rounding missed for 3 copies' SSIM (probe 72)
        alike = f"its {units} photos or clips" if units else "its photos or clips"
        said += f", though {alike} gain exactly alike, as copies of one picture would"
    return said


@dataclass
class Comparison:
    """One model against another on the same images: the mean per-unit difference in PSNR and SSIM
    with its CONFIDENCE interval (units as for ``Verdict``), and on how many images the first is ahead."""

    name: str
    other: str
    units: int
    psnr_interval: tuple[float, float] | None
    ssim_interval: tuple[float, float] | None
    images_ahead: int
    images: int

    def sentence(self) -> str:
        if self.psnr_interval is None or self.ssim_interval is None:
            return (f"{self.name} against {self.other}: higher PSNR on {self.images_ahead} of {self.images} images "
                    f"(one photo or clip: no interval).")
        return (f"{self.name} against {self.other}, {CONFIDENCE:.0%} confidence intervals of the mean difference over "
                f"{self.units} photos or clips: "
                f"{_psnr_and_ssim_words(self.psnr_interval, self.ssim_interval, self.other, self.units)}; higher "
                f"PSNR on "
                f"{self.images_ahead} of {self.images} images.")


METRIC_NAMES = tuple(f.name for f in fields(ImageMetrics))
# (metric, statistics shown, header label, decimals) in the order of the Markdown table.
_MARKDOWN_COLUMNS = (
    ("ssim", ("min", "max", "mean"), "SSIM", 4),
    ("psnr", ("min", "max", "mean"), "PSNR", 2),
    ("ciede2000", ("mean",), "CIEDE2000", 2),
    ("colourfulness_output", ("mean",), "Colourfulness output", 1),
    ("colourfulness_truth", ("mean",), "Colourfulness truth", 1),
    ("warm_share_output", ("mean",), "Warm share output", 2),
    ("warm_share_truth", ("mean",), "Warm share truth", 2),
)
_STATISTIC_LETTER = {"min": "a", "max": "b", "mean": "c"}


@dataclass
class Verdict:
    """Whether a row's mean PSNR and mean SSIM are above those of the gray baseline, and on how many images.

    The per-image count matters because a mean of PSNRs is ruled by the near-neutral images: gray scores
    35 dB or more on them, so a faint wrong tint there costs more than a good colouring gains elsewhere.
    """

    name: str
    psnr: float
    ssim: float
    baseline_psnr: float
    baseline_ssim: float
    psnr_gains: tuple[float, ...] = ()  # per image, this row's PSNR minus the baseline's on the same image
    units: int = 0  # independent units behind the intervals: photos, and clips counted once each
    psnr_interval: tuple[float, float] | None = None  # CONFIDENCE interval of the mean PSNR gain per unit
    ssim_interval: tuple[float, float] | None = None

    @property
    def beats_psnr(self) -> bool:
        return self.psnr > self.baseline_psnr

    @property
    def beats_ssim(self) -> bool:
        return self.ssim > self.baseline_ssim

    @property
    def beats_baseline(self) -> bool:
        return self.beats_psnr and self.beats_ssim

    @property
    def images_ahead(self) -> int:
        """Images on which this row's PSNR is above the baseline's."""
        return sum(gain > 0 for gain in self.psnr_gains)

    @property
    def median_psnr_gain(self) -> float | None:
        return float(np.median(self.psnr_gains)) if self.psnr_gains else None

    def sentence(self, baseline: str) -> str:
        numbers = (f"PSNR {self.psnr:.2f} vs {self.baseline_psnr:.2f} dB, "
                   f"SSIM {self.ssim:.4f} vs {self.baseline_ssim:.4f}")
        per_image = (f"; higher PSNR on {self.images_ahead} of {len(self.psnr_gains)} images, median "
                     f"{self.median_psnr_gain:+.2f} dB" if self.psnr_gains else "")
        if self.psnr_interval is not None and self.units < len(self.psnr_gains):  # a clip's frames outweigh its
            # photos in the means above (probe 143: "beats" beside an interval and a plot below zero)
            per_image += (f"; with each clip counted once, as the intervals count them, a mean PSNR gain of "
                          f"{sum(self.psnr_interval) / 2:+.2f} dB over {self.units} photos or clips")
        if self.beats_baseline:
            return f"{self.name} beats the {baseline} on PSNR and SSIM ({numbers}{per_image})."
        lost = " and ".join(metric for metric, won in (("PSNR", self.beats_psnr), ("SSIM", self.beats_ssim))
                            if not won)
        return f"{self.name} does NOT beat the {baseline} on {lost} ({numbers}{per_image})."

    @property
    def psnr_standing(self) -> str | None:
        """Whether the interval of the mean PSNR gain lies above zero, below it, or around it."""
        return standing(self.psnr_interval)

    @property
    def ssim_standing(self) -> str | None:
        return standing(self.ssim_interval)

    def interval_sentence(self, baseline: str) -> str | None:
        """How sure the gains are: the intervals and where they put the row against the baseline."""
        if self.psnr_interval is None or self.ssim_interval is None:
            return (f"{self.name}: no confidence interval of its gain over the {baseline}, from one photo or clip "
                    "(a clip's frames count as one)" if self.units == 1 else None)
        return (f"{self.name}, {CONFIDENCE:.0%} confidence intervals of the mean gain over {self.units} photos "
                f"or clips (a clip's frames count as one): "
                f"{_psnr_and_ssim_words(self.psnr_interval, self.ssim_interval, f'the {baseline}', self.units)}.")


def markdown_cell(text: str) -> str:
    """``text`` as one cell of a Markdown table: a control character (a newline) as its escape and ``|`` escaped,
    so a name holding them stays in its row and column (probe 140: ``run|a`` split its row)."""
    return one_line(text).replace("|", "\\|")


@dataclass
class MetricTable:
    """Per-image metrics for named rows ("model", "gray baseline", ...), in the order rows first appear."""

    baseline: str = GRAY_BASELINE
    rows: dict[str, list[ImageMetrics]] = field(default_factory=dict)
    sources: dict[str, list[str | None]] = field(default_factory=dict)  # per row, the file each image came from
    files: dict[str, list[str | None]] = field(default_factory=dict)  # a frame's own file, where its source is a clip

    def add(self, name: str, metrics: ImageMetrics, source=None, file=None) -> None:
        """One image's metrics; ``source`` (a photo or video path) groups a clip's frames into one unit;
        ``file``, a frame dataset's frame's own, names it in the report."""
        self.rows.setdefault(name, []).append(metrics)
        self.sources.setdefault(name, []).append(None if source is None else str(source))
        self.files.setdefault(name, []).append(None if file is None or str(file) == str(source) else str(file))

    def values(self, name: str, metric: str) -> list[float]:
        return [getattr(image, metric) for image in self.rows[name]]

    def summary(self, name: str) -> dict[str, dict[str, float]]:
        return {metric: summarize(self.values(name, metric)) for metric in METRIC_NAMES}

    def verdicts(self) -> list[Verdict]:
        """One per row other than the baseline; empty when there is no baseline row."""
        if self.baseline not in self.rows:
            return []
        base = self.summary(self.baseline)
        verdicts = []
        for name in self.rows:
            if name == self.baseline:
                continue
            summary = self.summary(name)
            paired = {}
            # rows filled image by image pair up; a row of other images has no per-image comparison
            if self.sources[name] == self.sources[self.baseline]:
                gains, units, psnr_interval, ssim_interval = self._differences(name, self.baseline)
                paired = {"psnr_gains": tuple(gains), "units": units, "psnr_interval": psnr_interval,
                          "ssim_interval": ssim_interval}
            verdicts.append(Verdict(name, summary["psnr"]["mean"], summary["ssim"]["mean"],
                                    base["psnr"]["mean"], base["ssim"]["mean"], **paired))
        return verdicts

    def _differences(self, name: str, other: str):
        """(per-image PSNR of ``name`` minus ``other``'s, number of units, CONFIDENCE intervals of the
        mean PSNR and SSIM difference per unit), for two rows scored on the same images."""
        psnr = [a - b for a, b in zip(self.values(name, "psnr"), self.values(other, "psnr"), strict=True)]
        ssim_values = [a - b for a, b in zip(self.values(name, "ssim"), self.values(other, "ssim"), strict=True)]
        units = unit_means(psnr, self.sources[name])
        return (psnr, len(units), mean_interval(units),
                mean_interval(unit_means(ssim_values, self.sources[name])))

    def comparisons(self) -> list[Comparison]:
        """The first model row against each later one (rows other than the baseline), image by image;
        rows scored on other images are left out."""
        models = [name for name in self.rows if name != self.baseline]
        found = []
        for other in models[1:]:
            if self.sources[models[0]] != self.sources[other]:
                continue
            psnr, units, psnr_interval, ssim_interval = self._differences(models[0], other)
            found.append(Comparison(models[0], other, units, psnr_interval, ssim_interval,
                                    sum(gain > 0 for gain in psnr), len(psnr)))
        return found

    def to_dict(self) -> dict:
        """Everything, for JSON: per-row summaries, per-image values, the baseline verdicts and the
        comparisons between models."""
        return {
            "baseline": self.baseline,
            "psnr_cap_db": PSNR_CAP_DB,
            "rows": {
                name: {
                    "count": len(images),
                    "summary": self.summary(name),
                    "images": [{**({} if source is None else {"source": source}),
                                **({} if file is None else {"file": file}), **asdict(image)}
                               for image, source, file in zip(images, self.sources[name],
                                                              self.files.get(name, [None] * len(images)),
                                                              strict=True)],
                }
                for name, images in self.rows.items()
            },
            "verdicts": {
                verdict.name: {"beats_psnr": verdict.beats_psnr, "beats_ssim": verdict.beats_ssim,
                               "beats_baseline": verdict.beats_baseline,
                               "psnr_ahead_images": verdict.images_ahead,
                               "psnr_gain_median_db": verdict.median_psnr_gain,
                               "units": verdict.units, "confidence": CONFIDENCE,
                               "psnr_gain_interval_db": verdict.psnr_interval, "psnr_standing": verdict.psnr_standing,
                               "ssim_gain_interval": verdict.ssim_interval, "ssim_standing": verdict.ssim_standing}
                for verdict in self.verdicts()
            },
            "comparisons": {
                f"{comparison.name} vs {comparison.other}": {
                    "units": comparison.units, "confidence": CONFIDENCE,
                    "psnr_difference_interval_db": comparison.psnr_interval,
                    "psnr_standing": standing(comparison.psnr_interval),
                    "ssim_difference_interval": comparison.ssim_interval,
                    "ssim_standing": standing(comparison.ssim_interval),
                    "psnr_higher_images": comparison.images_ahead, "images": comparison.images}
                for comparison in self.comparisons()
            },
        }

    def to_markdown(self) -> str:
        """The thesis' Table 5.2 layout (a = min, b = max, c = mean) plus rehue's columns and verdicts."""
        header = ["Name"]
        for _, statistics, label, _ in _MARKDOWN_COLUMNS:
            header += [f"{label} {_STATISTIC_LETTER[statistic]}" for statistic in statistics]
        header.append("Images")
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, images in self.rows.items():
            summary = self.summary(name)
            cells = [markdown_cell(name)]
            for metric, statistics, _, decimals in _MARKDOWN_COLUMNS:
                cells += ["-" if summary[metric][statistic] is None else f"{summary[metric][statistic]:.{decimals}f}"
                          for statistic in statistics]
            cells.append(str(len(images)))
            lines.append("| " + " | ".join(cells) + " |")
        lines += [
            "",
            "a = min, b = max, c = mean over the images. PSNR in dB (identical images count as "
            f"{PSNR_CAP_DB:g} dB); CIEDE2000 is the mean colour difference to the ground truth (lower is "
            "better); colourfulness after Hasler and Suesstrunk (2003); warm share: the share of an image's "
            "colour in red, orange and yellow hues, over the images that have colour (- where none has).",
            "",
        ]
        verdicts = self.verdicts()
        if verdicts:
            lines += [f"- {verdict.sentence(self.baseline)}" for verdict in verdicts]
            lines += [f"- {sentence}" for verdict in verdicts if (sentence := verdict.interval_sentence(self.baseline))]
        else:
            lines.append(f"- No {self.baseline} row: no comparison with gray.")
        lines += [f"- {comparison.sentence()}" for comparison in self.comparisons()]
        lines += [f"- {line}" for line in self.cast_lines()]
        return "\n".join(lines) + "\n"

    def cast_lines(self) -> list[str]:
        """Per row: how warm its colours are against the truth's, and how many of its outputs are
        nearly all warm, as a uniform sepia cast would make them."""
        lines = []
        for name in self.rows:
            output, truth = self.values(name, "warm_share_output"), self.values(name, "warm_share_truth")
            coloured = [o for o in output if o is not None]
            if not coloured:
                continue
            cast, truth_cast = warm_casts(coloured), warm_casts(truth)
            truth_mean = summarize(truth)["mean"]
            lines.append(
                f"{name}: {np.mean(coloured):.0%} of its colour is warm (red, orange, yellow) on average, the truth's "
                + ("-" if truth_mean is None else f"{truth_mean:.0%}")
                + f"; {cast} of {len(coloured)} coloured outputs are at least {SEPIA_WARM_SHARE:.0%} warm, against "
                f"{truth_cast} of the truths (a uniform sepia cast would make nearly all of them so).")
        return lines
