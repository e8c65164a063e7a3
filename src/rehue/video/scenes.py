"""Scene-change detection for the video pipeline, which colours frame by frame and must forget the
previous scene's colours when a new scene starts.

Modes, picked by name from :data:`SCENE_MODES`:

``robust`` (default)
    Compares frames shrunk to 64x64 and normalised to zero mean and unit variance, after aligning
    them by the global shift that phase correlation finds (or, where dirt on an old print misleads it,
    by the camera's recent motion or no shift, whichever matches best: `RobustEngine.difference`).
    That difference stays low for pans, tilts, slow zooms and most object motion, and is high across
    a cut; normalising removes fades and brightness flicker. A frame is a cut when

    * its difference to the previous frame exceeds ``cut_score``,
    * that difference is a spike: ``spike_ratio`` times above every frame-to-frame difference in the
      ``lookahead`` frames before and after it (fast motion and fast zooms raise a run of frames), and
    * the change lasts: each of the ``lookahead`` frames after it also differs from the frame before
      it. A flash (one or two bright frames after which the shot resumes) fails this test and is
      skipped as if absent.

    A shot of one or two frames between two others (a stray frame at a splice, an insert) makes two changes
    close together, each failing the spike test for the other's sake; the frame after it is a cut where both
    changes stand far above the differences around them and the picture before the short shot differs from
    it (`RobustEngine._ends_a_short_shot`). The short shot's own frames are not a scene of their own.

    Near-uniform frames are skipped: flatter than ``flat_std``, or flatter than ``blank_std`` and
    within ``blank_level`` of black or white (the black of a fade, a white flash frame). A fade through
    black is therefore judged between the last frame before the black and the first visible frame
    after it; where they differ by less than ``cut_score``, once more without their finest detail (their
    grain), against ``fade_cut_score``: two soft pictures (a still magnified by a slow zoom) can differ by
    less than a cut's score, and a dip to black and back into the same shot, even a moving one, differs far
    less.

    A dissolve is found when the current frame, the frame ``dissolve_window`` frames back and the frame
    midway between are a cross-fade: the middle frame is a mixture of the two ends with a substantial share
    of each (:meth:`RobustEngine.mixture`), has lost contrast the way a mix of two unrelated pictures does,
    and the two ends differ even after alignment; or the same three frames over ``slow_dissolve_window``
    frames, for a dissolve too slow to show across the shorter window. A pan or a zoom is not a mixture of
    its first and last view.

    Decisions come ``lookahead`` (2) frames late, so this mode is used through
    :meth:`SceneDetector.push` and :meth:`SceneDetector.flush`.

``thesis``
    The rule of thesis section 4.2.3: a frame starts a new scene when the correlation of its 256-bin
    gray histogram with the previous frame's (OpenCV ``HISTCMP_CORREL``) is below 0.997 *and* the SSIM
    of the two frames at 128x128 is below 0.5. It decides every frame at once, and fires on nearly
    every frame of a fast pan, because a moving camera lowers SSIM as much as a cut does.

The frame reported as the first of a new scene: for a cut, the first frame of the new shot; for a fade
through black, the first frame after the black that is not near-uniform (the new shot fading in); for
a dissolve, the frame at which the mixture is recognised: on the evaluation plans the new shot made up
36% to 100% of that frame (median 55-59% per plan; 16% to 77% on probe 52's films of still photos): part
way through the cross-fade or just after it.

``benchmarks/scenes_eval.py`` measures both modes and PySceneDetect's detectors on a labelled set;
``docs/scenes.md`` has the numbers.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields

import numpy as np

from rehue.errors import RehueError, UsageError

GRAY_RANGE = 255.0

# ------------------------------------------------------------------------------------------- thesis

SSIM_WINDOW = 7
SSIM_K1 = 0.01
SSIM_K2 = 0.03


@dataclass(frozen=True)
class ThesisThresholds:
    """A scene change is ``histogram correlation < histogram_similarity and SSIM < ssim``."""

    histogram_similarity: float = 0.997
    ssim: float = 0.5
    working_size: int = 128


def gray_histogram(gray: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.calcHist([gray], [0], None, [256], [0, 256]).reshape(-1)  # (256, 1) from OpenCV 4, (256,) from 5


def histogram_similarity(previous_histogram: np.ndarray, histogram: np.ndarray) -> float:
    """Correlation of two gray histograms, as OpenCV's ``compareHist(..., HISTCMP_CORREL)``."""
    import cv2

    return float(cv2.compareHist(previous_histogram, histogram, cv2.HISTCMP_CORREL))


def ssim(first: np.ndarray, second: np.ndarray) -> float:
    """Mean SSIM of two uint8 gray images, equal to scikit-image's ``structural_similarity`` with its
    defaults (7x7 uniform window, sample covariance, K1=0.01, K2=0.03, data range 255) but computed
    with box filters, which is several times faster."""
    import cv2

    x = first.astype(np.float32)
    y = second.astype(np.float32)
    window = (SSIM_WINDOW, SSIM_WINDOW)
    covariance_norm = SSIM_WINDOW**2 / (SSIM_WINDOW**2 - 1)
    mean_x = cv2.boxFilter(x, -1, window)
    mean_y = cv2.boxFilter(y, -1, window)
    var_x = covariance_norm * (cv2.boxFilter(x * x, -1, window) - mean_x * mean_x)
    var_y = covariance_norm * (cv2.boxFilter(y * y, -1, window) - mean_y * mean_y)
    cov_xy = covariance_norm * (cv2.boxFilter(x * y, -1, window) - mean_x * mean_y)
    c1 = (SSIM_K1 * GRAY_RANGE) ** 2
    c2 = (SSIM_K2 * GRAY_RANGE) ** 2
    index_map = ((2 * mean_x * mean_y + c1) * (2 * cov_xy + c2)) / (
        (mean_x * mean_x + mean_y * mean_y + c1) * (var_x + var_y + c2)
    )
    border = (SSIM_WINDOW - 1) // 2
    return float(index_map[border:-border, border:-border].mean(dtype=np.float64))


class ThesisEngine:
    """Histogram correlation and SSIM between consecutive frames; decides each frame at once."""

    lookahead = 0
    gradual = ()  # no change of this rule is found in a dissolve or a wipe

    def __init__(self, thresholds: ThesisThresholds):
        self.thresholds = thresholds
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._count = 0

    def push(self, gray: np.ndarray) -> list[tuple[int, bool]]:
        import cv2

        size = self.thresholds.working_size
        working = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
        histogram = gray_histogram(working)
        scene_changed = False
        if self._previous is not None:
            previous_working, previous_histogram = self._previous
            scene_changed = (
                histogram_similarity(previous_histogram, histogram) < self.thresholds.histogram_similarity
                and ssim(previous_working, working) < self.thresholds.ssim
            )
        self._previous = (working, histogram)
        self._count += 1
        return [(self._count - 1, scene_changed)]

    def flush(self) -> list[tuple[int, bool]]:
        return []

    def state(self, first: int = 0) -> dict[str, np.ndarray]:
        """What it knows of the frames pushed so far (``SceneDetector.state``)."""
        working, histogram = self._previous if self._previous is not None else (np.zeros((0, 0), np.uint8),
                                                                                  np.zeros(0, np.float32))
        return {"count": np.int64(first + self._count), "previous_working": working, "previous_histogram": histogram}

    def restore(self, state: dict[str, np.ndarray], first: int) -> None:
        count = int(state["count"]) - first
        working, histogram = np.asarray(state["previous_working"]), np.asarray(state["previous_histogram"])
        size = self.thresholds.working_size
        if working.size and (working.shape != (size, size) or working.dtype != np.uint8 or histogram.size != 256):
            raise ValueError("a frame of another working size, or no frame")  # probe 216: taken, then a push failed
        self._count = count
        self._previous = (working, histogram.reshape(-1).astype(np.float32)) if working.size else None


# ------------------------------------------------------------------------------------------- robust


@dataclass(frozen=True)
class RobustThresholds:
    """Settings of the robust mode (see the module docstring for how they are used).

    Differences are mean absolute differences of aligned normalised frames: 0.79-1.39 across the cuts
    of ``benchmarks/scenes_eval.py``; within a shot a median of 0.03-0.1, but single frames up to 0.97
    (a fast zoom over gravel), which is why a cut must also be a spike that lasts. Standard
    deviations and levels are in gray levels of the frame shrunk to ``working_size``.
    """

    working_size: int = 64
    cut_score: float = 0.6
    fade_cut_score: float = 0.45
    spike_ratio: float = 1.3
    lookahead: int = 2
    flat_std: float = 2.0
    blank_std: float = 5.0
    blank_level: float = 40.0
    dissolve_window: int = 6
    slow_dissolve_window: int = 8
    dissolve_score: float = 0.35
    dissolve_residual: float = 0.03
    dissolve_share: float = 0.2
    dissolve_dip: float = 0.03
    wipe_window: int = 16
    wipe_score: float = 0.8
    wipe_match: float = 0.6
    wipe_kept: float = 0.25
    wipe_explained: float = 0.75
    wipe_split: float = 0.2


UNRELATED_SCORE = 2.0 / np.sqrt(np.pi)
"""Mean absolute difference of two independent unit-variance Gaussian images: the difference given
when phase correlation finds no shift inside the frame, i.e. nothing in common."""
MIN_STD = 1e-3
MIN_WORKING_SIZE = 16  # a frame shrunk further holds no picture to compare
MAX_WORKING_SIZE = 1024  # the frames rehue feeds are 128 px (`SCENE_VIEW_SIZE`): more is memory and time for nothing
MAX_COUNT = 10_000  # frames of lookahead or of a window: each is kept in memory
NOT_A_MIXTURE = (1.0, 0.0, 1.0)
"""What :meth:`RobustEngine.mixture` answers when the two ends are (nearly) the same picture."""
MIN_DETERMINANT = 1e-6
SMOOTH_SIGMA = 1.0
"""Pixels (at working size) of the blur under which a dissolve's ends must still differ: fine texture moved
by part of a pixel (a slow pan over foliage, gravel, a fine print) differs at every point, and its middle
frame is a mix of its ends, as a dissolve's is (probe 49: 12 changes in 300 frames of one shot). 1.0 kept
every transition of ``benchmarks/scenes_eval.py`` and took one false change away on an old print; 1.5 and 2.0
lost dissolves."""
SHORT_SHOT_RATIO = 2.0
"""How far above the differences around them the two changes of a shot of one or two frames between two others
must be (`RobustEngine._ends_a_short_shot`): at 1.3, the spike test's ratio, an accelerating zoom's run of
differences (0.34, 0.71, 0.63) made a false change on each clean plan of `benchmarks/scenes_eval.py`."""
MOTION_MEMORY = 3
"""Frame-to-frame shifts within the shot whose median is the camera's recent motion (`RobustEngine.difference`)."""
OVERLAP_SHARE = 0.5
"""The least share of the frame two frames must have in common, at the shift that brings them together, to be
compared over that part alone (`RobustEngine._aligned_difference`): less is a small patch, which two unrelated
pictures of little structure can match."""
WIPE_BLOCK = 8
"""Side, in pixels at working size, of the blocks the wipe test compares: 64 in a 64x64 frame."""
FLAT_BLOCK_STD = 0.15
"""Standard deviation (of a normalised frame) under which a block shows nothing to match: sky, black."""
MIN_TEXTURED_BLOCKS = 8
"""Textured blocks under which a frame between a wipe's ends is passed over: a small disc on black, as an iris
leaves, matches little of either end at its edge (`benchmarks/wipes.py`: 12 irises through black found at 4,
20 of 32 at 8)."""
SPLIT_FRAMES = 3
"""Frames a wipe must show split between its two shots: a fast zoom or a bike crossing close to the camera can
split one or two frames so; at 2, `benchmarks/scenes_eval.py` on worn prints (``--old-film 1``) had 8 false
changes more than without the wipe test, at 3 it has 4 (and `benchmarks/wipes.py` found 89 of 160, not 114)."""


class _Frame:
    """One frame at working size: pixels normalised to zero mean and unit variance, the same times
    a Hanning window (for phase correlation), and whether it is near-uniform."""

    __slots__ = ("index", "normalized", "windowed", "blank", "dark", "_smooth")

    def __init__(self, index: int, gray: np.ndarray, thresholds: RobustThresholds, window: np.ndarray):
        import cv2

        size = thresholds.working_size
        small = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
        mean, std = (float(value[0, 0]) for value in cv2.meanStdDev(small))
        self.index = index
        self.blank = std < thresholds.flat_std or (
            std < thresholds.blank_std and min(mean, GRAY_RANGE - mean) < thresholds.blank_level
        )
        self.dark = self.blank and mean < GRAY_RANGE / 2  # the black of a fade, not a white flash
        self.normalized = (small - np.float32(mean)) / np.float32(max(std, MIN_STD))
        self.windowed = self.normalized * window
        self._smooth = None

    @property
    def smooth(self) -> np.ndarray:
        """The frame without its finest detail, normalised again (made when first asked for)."""
        if self._smooth is None:
            import cv2

            self._smooth = _renormalised(cv2.GaussianBlur(self.normalized, (0, 0), SMOOTH_SIGMA))
        return self._smooth


def _mixture_of(start: np.ndarray, middle: np.ndarray, end: np.ndarray) -> tuple[float, float, float]:
    """`RobustEngine.mixture` of three normalised pictures of one shape."""
    count = start.size
    first, second, target = start.ravel(), end.ravel(), middle.ravel()
    cross = float(first @ second) / count
    determinant = 1.0 - cross * cross
    if determinant < MIN_DETERMINANT:
        return NOT_A_MIXTURE
    with_first = float(first @ target) / count
    with_second = float(second @ target) / count
    share_first = (with_first - cross * with_second) / determinant
    share_second = (with_second - cross * with_first) / determinant
    return share_first, share_second, 1.0 - share_first * with_first - share_second * with_second


def _blocks(picture: np.ndarray) -> np.ndarray:
    """``picture``'s whole `WIPE_BLOCK`-sided blocks, a row each, each less its mean."""
    rows, cols = (side - side % WIPE_BLOCK for side in picture.shape)
    blocks = picture[:rows, :cols].reshape(rows // WIPE_BLOCK, WIPE_BLOCK, cols // WIPE_BLOCK, WIPE_BLOCK)
    blocks = blocks.swapaxes(1, 2).reshape(-1, WIPE_BLOCK * WIPE_BLOCK)
    return blocks - blocks.sum(axis=1, keepdims=True) / blocks.shape[1]


def _block_agreement(picture: np.ndarray, others: list[tuple[np.ndarray, tuple[float, float]]], match: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each block of ``picture``: whether one of ``others`` (one picture in different places over it, each
    with the shift that put it there) shows the same there (both flat, or correlated above ``match``), whether
    ``picture`` is textured (not flat) there, whether the first of ``others`` is, and whether any of ``others``
    covers it whole (a shift leaves a strip on one side uncovered). Correlating block by block forgives what a
    whole frame's levels do not: a wipe's two halves, flicker, an uneven scan."""
    def spread(blocks: np.ndarray) -> np.ndarray:
        return np.sqrt(np.einsum("ij,ij->i", blocks, blocks) / blocks.shape[1])

    blocks = _blocks(picture)
    picture_spread = spread(blocks)
    textured = picture_spread >= FLAT_BLOCK_STD
    same, others_textured, covered_any = np.zeros_like(textured), [], np.zeros_like(textured)
    size = picture.shape[0]
    first_pixel = np.arange(size // WIPE_BLOCK) * WIPE_BLOCK
    for other, (shift_x, shift_y) in others:
        covered = np.outer(*((first_pixel + np.floor(shift) >= 0) & (first_pixel + WIPE_BLOCK + np.ceil(shift) <= size)
                             for shift in (shift_y, shift_x))).ravel()
        covered_any |= covered
        other_blocks = _blocks(other)
        other_spread = spread(other_blocks)
        other_textured = other_spread >= FLAT_BLOCK_STD
        correlation = np.einsum("ij,ij->i", blocks, other_blocks) / blocks.shape[1] \
            / np.maximum(picture_spread * other_spread, MIN_STD)
        same |= covered & np.where(textured & other_textured, correlation > match, ~textured & ~other_textured)
        others_textured.append(other_textured)
    return same, textured, others_textured[0], covered_any


def _between(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Blocks (of a square grid, flattened) with a block of ``first`` and one of ``second`` among their eight
    neighbours: where a wipe's edge crosses a block, the block shows part of each shot and matches neither."""
    import cv2

    side = int(round(np.sqrt(first.size)))
    near = [cv2.dilate(marks.reshape(side, side).astype(np.uint8), np.ones((3, 3), np.uint8)).ravel().astype(bool)
            for marks in (first, second)]
    return near[0] & near[1]


def _renormalised(picture: np.ndarray) -> np.ndarray:
    """``picture`` at zero mean and unit variance again (a part of a normalised frame is not)."""
    return (picture - picture.mean()) / max(float(picture.std()), MIN_STD)


class RobustEngine:
    """Motion-compensated, flash-, fade- and dissolve-aware detector; decides ``lookahead`` frames late.

    Each pushed frame is compared with its predecessor once (one phase correlation, the bulk of the
    cost); a frame is decided when the ``lookahead`` frames after it have arrived.
    """

    def __init__(self, thresholds: RobustThresholds):
        import cv2

        self.thresholds = thresholds
        self.lookahead = thresholds.lookahead
        size = thresholds.working_size
        self._window = cv2.createHanningWindow((size, size), cv2.CV_32F)
        kept = max(thresholds.dissolve_window, thresholds.slow_dissolve_window, thresholds.wipe_window,
                   thresholds.lookahead) \
            + thresholds.lookahead + 1
        self._frames: deque[_Frame] = deque(maxlen=kept)
        self._consecutive: deque[float | None] = deque(maxlen=kept)
        self._reference: _Frame | None = None
        self._last_change = 0
        self._last_change_gradual = False
        self._in_dissolve = False
        self._through_black = False  # dark frames since the reference: the next is judged as a fade's end
        self.gradual: deque[int] = deque(maxlen=8)  # the latest changes found by the dissolve or the wipe test
        self._count = 0
        self._decided = 0
        self._motion: deque[tuple[int, int]] = deque(maxlen=MOTION_MEMORY)

    def difference(self, reference: _Frame, frame: _Frame) -> float:
        """Mean absolute difference of two normalised frames over their overlap once the global shift
        between them, found by phase correlation, is undone.

        Where that difference is as high as a cut's, two more shifts are tried and the lowest
        difference kept: the camera's recent motion (over as many frames as lie between the two) and
        none. Phase correlation weighs every spatial frequency alike, so on an old print a blotch of dirt
        on each frame, or grain on a smooth picture, can outweigh the picture and give a wrong shift;
        two unrelated pictures differ at every shift, so a cut still scores high."""
        return self._aligned_difference(reference, frame)[0]

    def _aligned_difference(self, reference: _Frame, frame: _Frame, overlap: bool = False
                            ) -> tuple[float, tuple[int, int] | None]:
        """`difference` and the shift it was found at (None: no shift brought the two together).

        ``overlap`` (two consecutive frames): where every shift scores as a cut, the shifts that leave
        `OVERLAP_SHARE` of the frame in common are scored once more over that part alone, normalised again. A whip
        pan brings a quarter of the frame in new, and a bright or dark quarter changes the whole frame's
        normalisation, so that the part both frames show differed by a cut's score (probe 227: 0.64 at the right
        shift, 0.04 over the part alone; two unrelated pictures differ by about 1 either way). Not between frames
        further apart: two soft pictures of a blob of light, on either side of a cut, came within a cut's score
        of each other over part of the frame (`benchmarks/scenes_eval.py`'s cut at 687 missed as a flash)."""
        import cv2

        # Windowed copies go in: OpenCV 5's phaseCorrelate multiplies its inputs by the window in place.
        (shift_x, shift_y), _ = cv2.phaseCorrelate(reference.windowed, frame.windowed)
        size = self.thresholds.working_size
        best: tuple[float, tuple[int, int] | None] = (float(UNRELATED_SCORE), None)
        shifts = []
        if abs(shift_x) < size / 2 and abs(shift_y) < size / 2:
            shifts.append((int(round(shift_x)), int(round(shift_y))))
            best = (self._shifted_difference(reference, frame, *shifts[0]), shifts[0])
        if best[0] > self.thresholds.cut_score:
            steps = frame.index - reference.index
            motion = np.median(self._motion, axis=0) * steps if self._motion else (0.0, 0.0)
            for shift in {(int(round(motion[0])), int(round(motion[1]))), (0, 0)}:
                if abs(shift[0]) < size / 2 and abs(shift[1]) < size / 2:
                    shifts.append(shift)
                    best = min(best, (self._shifted_difference(reference, frame, *shift), shift),
                               key=lambda found: found[0])
        if overlap and best[0] > self.thresholds.cut_score:
            for shift in dict.fromkeys(shifts):
                if (size - abs(shift[0])) * (size - abs(shift[1])) >= OVERLAP_SHARE * size * size:
                    best = min(best, (self._overlap_difference(reference, frame, *shift), shift),
                               key=lambda found: found[0])
        return best

    def consecutive(self, previous: _Frame | None, frame: _Frame) -> float | None:
        """`difference` between a frame and the one before it (None if either is near-uniform or
        missing); a shift that brings them together counts as the camera's motion."""
        if previous is None or previous.blank or frame.blank:
            return None
        score, shift = self._aligned_difference(previous, frame, overlap=True)
        if score <= self.thresholds.cut_score and shift is not None:
            self._motion.append(shift)
        return score

    def _overlap_difference(self, reference: _Frame, frame: _Frame, dx: int, dy: int) -> float:
        """Mean absolute difference of the part the two frames share at the shift ``dx``, ``dy``, each normalised
        again over that part."""
        size = self.thresholds.working_size
        frame_part = frame.normalized[max(dy, 0) : size + min(dy, 0), max(dx, 0) : size + min(dx, 0)]
        reference_part = reference.normalized[max(-dy, 0) : size + min(-dy, 0), max(-dx, 0) : size + min(-dx, 0)]
        return float(np.mean(np.abs(_renormalised(frame_part) - _renormalised(reference_part))))

    def _shifted_difference(self, reference: _Frame, frame: _Frame, dx: int, dy: int, smooth: bool = False
                            ) -> float:
        import cv2

        size = self.thresholds.working_size
        overlap = (size - abs(dx)) * (size - abs(dy))
        frame_picture, reference_picture = (frame.smooth, reference.smooth) if smooth else \
            (frame.normalized, reference.normalized)
        frame_part = frame_picture[max(dy, 0) : size + min(dy, 0), max(dx, 0) : size + min(dx, 0)]
        reference_part = reference_picture[
            max(-dy, 0) : size + min(-dy, 0), max(-dx, 0) : size + min(-dx, 0)
        ]
        return float(cv2.norm(frame_part, reference_part, cv2.NORM_L1)) / overlap

    @staticmethod
    def mixture(start: _Frame, middle: _Frame, end: _Frame) -> tuple[float, float, float]:
        """Least-squares fit ``middle ~ a * start + b * end`` of normalised frames.

        Returns ``(a, b, unexplained)``, ``unexplained`` being the share of the middle frame's variance
        the fit leaves. In a cross-fade between unrelated pictures the middle frame has less contrast
        than either end, so after normalisation ``a + b`` exceeds 1; a small shift of a fine texture
        looks like a mixture too, but keeps ``a + b`` near 1.
        """
        return _mixture_of(start.normalized, middle.normalized, end.normalized)

    def aligned_mixture(self, start: _Frame, middle: _Frame, end: _Frame) -> tuple[float, float, float]:
        """`mixture` with each end first moved onto the middle frame by the global shift that phase
        correlation finds between them, over the part of the frame that all three share: in a dissolve
        between two moving shots, each shot has moved between the three frames."""
        onto = [self._moved_onto(middle, frame) for frame in (start, end)]
        if None in onto:
            return NOT_A_MIXTURE
        inner = max(onto[0][1], onto[1][1])
        start_part, middle_part, end_part = (_renormalised(picture[inner, inner])
                                             for picture in (onto[0][0], middle.normalized, onto[1][0]))
        return _mixture_of(start_part, middle_part, end_part)

    def _moved_onto(self, target: _Frame, frame: _Frame, smooth: bool = False
                    ) -> tuple[np.ndarray, slice, tuple[float, float]] | None:
        """``frame``'s normalised picture (``smooth``: without its finest detail) moved onto ``target`` by the
        global shift, to part of a pixel, that phase correlation finds between them, the part of the frame
        both then cover, and the shift; None where the shift is a quarter of the frame or more (nothing in
        common)."""
        import cv2

        size = self.thresholds.working_size
        (shift_x, shift_y), _ = cv2.phaseCorrelate(target.windowed, frame.windowed)
        if not (abs(shift_x) < size / 4 and abs(shift_y) < size / 4):
            return None
        onto_target = np.float32([[1, 0, shift_x], [0, 1, shift_y]])
        moved = cv2.warpAffine(frame.smooth if smooth else frame.normalized, onto_target, (size, size),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        margin = int(np.ceil(max(abs(shift_x), abs(shift_y)))) + 1
        return moved, slice(margin, size - margin), (shift_x, shift_y)

    def _frame(self, index: int) -> _Frame | None:
        offset = index - (self._count - len(self._frames))
        return self._frames[offset] if 0 <= offset < len(self._frames) else None

    def _consecutive_difference(self, index: int) -> float | None:
        """Difference between frame ``index`` and its predecessor (None if either was near-uniform)."""
        offset = index - (self._count - len(self._consecutive))
        return self._consecutive[offset] if 0 <= offset < len(self._consecutive) else None

    def _looks_dissolved(self, frame: _Frame) -> bool:
        """Whether ``frame`` ends a cross-fade, seen over ``dissolve_window`` frames or, where a dissolve is
        too slow for its ends to differ that soon, over ``slow_dissolve_window``: the longer window alone
        finds fewer (`benchmarks/scenes_eval.py`), a still longer one finds false ones in pans."""
        settings = self.thresholds
        return any(self._looks_dissolved_over(frame, window)
                   for window in dict.fromkeys((settings.dissolve_window, settings.slow_dissolve_window)))

    def _looks_dissolved_over(self, frame: _Frame, window: int) -> bool:
        settings = self.thresholds
        if window < 2:
            return False
        start, middle = self._frame(frame.index - window), self._frame(frame.index - window // 2)
        if start is None or middle is None or start.blank or middle.blank:
            return False

        def mixed(fit) -> bool:
            share_start, share_end, unexplained = fit
            return (
                unexplained < settings.dissolve_residual
                and min(share_start, share_end) > settings.dissolve_share
                and share_start + share_end > 1.0 + settings.dissolve_dip
            )

        # most frames end here: within a shot the two ends match once aligned, and aligning costs two more; so
        # does a pan over fine texture moving by part of a pixel, once its finest detail is left out: its middle
        # frame is a mix of its ends, as a dissolve's is (probe 49: a cut every 10 frames of one slow shot)
        score, shift = self._aligned_difference(start, frame)
        if score <= settings.dissolve_score or \
                self._shifted_difference(start, frame, *(shift or (0, 0)), smooth=True) <= settings.dissolve_score:
            return False
        # over the longer window, a pan of half a pixel a frame over fine texture has moved too far for the blur
        # to hide; aligned to part of a pixel, its ends match again (tests/video/test_scenes.py: 9 changes in 300)
        if window != settings.dissolve_window and self._subpixel_difference(start, frame) <= settings.dissolve_score:
            return False
        return mixed(self.mixture(start, middle, frame)) or mixed(self.aligned_mixture(start, middle, frame))

    def _looks_wiped(self, frame: _Frame) -> bool:
        """Whether ``frame`` ends a wipe or an iris: over ``wipe_window`` frames the picture has changed by more
        than ``wipe_score`` (two unrelated pictures differ by 1.0-1.2; at the cut score, 0.6, worn prints gave
        false changes) and block by block (fewer than ``wipe_kept`` of either end's textured blocks show the
        same in the other), each frame between shows, in at least ``wipe_explained`` of its textured blocks,
        what one end or the other shows there, the new shot's share growing, and `SPLIT_FRAMES` of them show
        each shot alone in ``wipe_split`` of the frame or more (or, for an iris through black, black lies
        between those that show mostly one and those that show mostly the other). A cut the cut test missed
        passes too; a pan, a zoom, a person crossing the frame or a flash leaves blocks that neither end
        explains, or that both do."""
        settings = self.thresholds
        window = settings.wipe_window
        start = self._frame(frame.index - window)
        if window < 2 or start is None or start.blank or \
                self._aligned_difference(start, frame)[0] <= settings.wipe_score:
            return False
        end_part, (start_parts,) = self._placed_onto(frame, (start,))
        same, textured_end, textured_start, covered = _block_agreement(end_part, start_parts, settings.wipe_match)
        textured_end, textured_start = textured_end & covered, textured_start & covered
        if max(np.mean(same[textured]) if textured.any() else 1.0 for textured in (textured_start, textured_end)) \
                >= settings.wipe_kept:
            return False
        # the middle frames first: a pan's or a zoom's, furthest from both ends, are the ones neither explains
        between = range(start.index + 1, frame.index)
        shares, splits, black = {}, 0, []
        for index in sorted(between, key=lambda index: abs(2 * index - start.index - frame.index)):
            middle = self._frame(index)
            if middle.blank:
                black += [index] if middle.dark else []
                continue
            middle_part, placed = self._placed_onto(middle, (start, frame))
            (with_start, textured, _, covered_start), (with_end, _, _, covered_end) = (
                _block_agreement(middle_part, parts, settings.wipe_match) for parts in placed)
            textured &= covered_start | covered_end
            if textured.sum() < MIN_TEXTURED_BLOCKS:
                continue
            if np.mean((with_start | with_end | _between(with_start, with_end))[textured]) < settings.wipe_explained:
                return False
            only_start, only_end = (np.sum((one & ~other)[textured]) for one, other in
                                    ((with_start, with_end), (with_end, with_start)))
            shares[index] = only_end / max(only_start + only_end, 1)
            # split: each shot in a good part of the frame, and more of each alone than of both at once (a zoom's
            # middle frames show much of both ends: `benchmarks/scenes_eval.py`, two false changes)
            both = np.sum((with_start & with_end)[textured])
            splits += min(only_start, only_end) >= max(settings.wipe_split * textured.sum(), both)
        reached = 0.0
        for index in sorted(shares):
            if shares[index] < reached - 0.5:  # the old shot back after the new one showed: not one change
                return False
            reached = max(reached, shares[index])
        if splits >= SPLIT_FRAMES:
            return True
        # an iris closing to black on one shot and opening on another: no frame shows both, but black lies
        # between the frames that show mostly the old shot and those that show mostly the new one
        if not black:
            return False
        before = [share for index, share in shares.items() if index < min(black)]
        after = [share for index, share in shares.items() if index > min(black)]
        return bool(before and after) and max(before) <= 1 - settings.wipe_kept and min(after) >= settings.wipe_kept

    def _placed_onto(self, target: _Frame, frames: tuple[_Frame, ...]
                     ) -> tuple[np.ndarray, list[list[tuple[np.ndarray, tuple[float, float]]]]]:
        """``target``'s picture without its finest detail, and each of ``frames``' in up to three places over it,
        each with the shift that put it there: as it is, moved onto it by the shift phase correlation finds
        (`_moved_onto`), and moved by the camera's recent motion times the frames between. Phase correlation
        between a frame half one shot and half another, or between two shots, can lock onto either shot, or
        onto nothing."""
        import cv2

        size = self.thresholds.working_size
        motion = np.median(self._motion, axis=0) if self._motion else None
        placements = []
        for frame in frames:
            onto = self._moved_onto(target, frame, smooth=True)
            placed = [(frame.smooth, (0.0, 0.0))] + ([] if onto is None else [(onto[0], onto[2])])
            if motion is not None and np.any(motion):
                shift_x, shift_y = motion * (frame.index - target.index)
                if abs(shift_x) < size / 4 and abs(shift_y) < size / 4:
                    moved = cv2.warpAffine(frame.smooth, np.float32([[1, 0, shift_x], [0, 1, shift_y]]), (size, size),
                                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                           borderMode=cv2.BORDER_REPLICATE)
                    placed.append((moved, (shift_x, shift_y)))
            placements.append(placed)
        return target.smooth, placements

    def _subpixel_difference(self, start: _Frame, end: _Frame) -> float:
        """Mean absolute difference of the two frames without their finest detail (`_Frame.smooth`), ``end``
        moved onto ``start`` by the shift, to part of a pixel, that phase correlation finds."""
        onto = self._moved_onto(start, end, smooth=True)
        if onto is None:
            return float(UNRELATED_SCORE)
        moved, inner, _ = onto
        return float(np.mean(np.abs(_renormalised(moved[inner, inner]) - _renormalised(start.smooth[inner, inner]))))

    def _fade_difference(self, reference: _Frame, frame: _Frame, shift: tuple[int, int] | None = None) -> float:
        """`difference` of the two frames without their finest detail (`_Frame.smooth`), at the shift that
        brings them together (``shift``, where `_aligned_difference` has looked for it already) or none, whichever
        matches better. The last frame before black and the first after it are dim, and normalising lifts
        their grain: compared as they are, a night shot flickering into black and a dip to black into the same
        shot differed by more than a fade's score (probe 53)."""
        if shift is None:
            shift = self._aligned_difference(reference, frame)[1] or (0, 0)
        return min(self._shifted_difference(reference, frame, *moved, smooth=True) for moved in {shift, (0, 0)})

    def _is_cut(self, reference: _Frame, frame: _Frame) -> bool | None:
        """True for a cut, None for a transient frame (a flash) to skip, False otherwise."""
        settings = self.thresholds
        measure, threshold = self.difference, settings.cut_score
        if reference.index == frame.index - 1:
            score, shift = self._consecutive_difference(frame.index), None
        else:
            score, found = self._aligned_difference(reference, frame)
            shift = found or (0, 0)
        faded = self._through_black and score <= threshold
        if faded:  # a fade's two ends, judged without their grain
            measure, threshold = self._fade_difference, settings.fade_cut_score
            score = self._fade_difference(reference, frame, shift)
        if score <= threshold:
            return False
        later = [self._frame(frame.index + step) for step in range(1, self.lookahead + 1)]
        if any(
            measure(reference, other) <= threshold
            for other in later
            if other is not None and not other.blank
        ):
            return None
        neighbours = [
            self._consecutive_difference(frame.index + step)
            for step in range(-self.lookahead, self.lookahead + 1)
            if step
        ]
        neighbours = [value for value in neighbours if value is not None]
        if not neighbours or score > settings.spike_ratio * max(neighbours):
            return True
        return not faded and self._ends_a_short_shot(frame, score)

    def _ends_a_short_shot(self, frame: _Frame, score: float) -> bool:
        """Whether ``frame`` starts a shot that follows a shot of one or two frames (a stray frame at a splice,
        an insert): its change, and the change into the short shot in the ``lookahead`` frames before it, are
        each above ``cut_score`` and more than `SHORT_SHOT_RATIO` times every other difference in the
        ``lookahead`` frames around them, and the picture before the short shot differs from this frame. The two
        changes failed the spike test, each for the other's sake (probe 83: a cut missed whole, and the
        dependent model carried the old shot's colours into the new one). Motion raises a run of differences,
        or (on twos, a picture held for two frames) every other one, which are not so far above the rest."""
        settings, lookahead = self.thresholds, self.lookahead
        before = [index for index in range(frame.index - lookahead, frame.index)  # of frames there are (probe 179:
                  if (change := self._consecutive_difference(index)) is not None  # a cut_score below 0 took one
                  and change > settings.cut_score]  # before the film's first)
        if len(before) != 1:
            return False
        (into_short,) = before
        changes = min(score, self._consecutive_difference(into_short))
        around = range(into_short - lookahead, frame.index + lookahead + 1)
        if any(changes <= SHORT_SHOT_RATIO * (self._consecutive_difference(index) or 0.0)
               for index in around if index not in (into_short, frame.index)):
            return False
        earlier = self._frame(into_short - 1)
        return earlier is not None and not earlier.blank and self.difference(earlier, frame) > settings.cut_score

    def _decide(self, index: int) -> bool:
        frame = self._frame(index)
        if frame.blank:
            self._through_black = self._through_black or (frame.dark and self._reference is not None)
            return False
        if self._reference is None:
            self._reference = frame
            return False
        cut = self._is_cut(self._reference, frame)
        if cut is None:
            return False
        self._reference, self._through_black = frame, False
        if cut:
            self._last_change, self._last_change_gradual = index, False
            return True
        reaches_back = index - (2 if self._last_change_gradual else 1) * self.thresholds.wipe_window \
            >= self._last_change
        was_dissolving, self._in_dissolve = self._in_dissolve, \
            self._looks_dissolved(frame) or (reaches_back and self._looks_wiped(frame))
        # No window reaching back past the last change: a colouring gone on from that change, with a fresh
        # detector, has not seen those frames, and decides as the uninterrupted one does. After a dissolve, none
        # again within twice the longer window: grain turns the test off and on within one dissolve, and each
        # time it came on was a new scene (probe 55: 2 or 3 in one dissolve).
        longest = max(self.thresholds.dissolve_window, self.thresholds.slow_dissolve_window)
        gap = 2 * longest if self._last_change_gradual else longest
        if self._in_dissolve and not was_dissolving and index - gap >= self._last_change:
            self._last_change, self._last_change_gradual = index, True
            self.gradual.append(index)
            return True
        return False

    def prepare(self, index: int, gray: np.ndarray) -> _Frame:
        return _Frame(index, gray, self.thresholds, self._window)

    def push(self, gray: np.ndarray) -> list[tuple[int, bool]]:
        frame = self.prepare(self._count, gray)
        previous = self._frames[-1] if self._frames else None
        self._consecutive.append(self.consecutive(previous, frame))
        self._frames.append(frame)
        self._count += 1
        decisions = []
        while self._decided + self.lookahead < self._count:
            decisions.append((self._decided, self._decide(self._decided)))
            self._decided += 1
        return decisions

    def flush(self) -> list[tuple[int, bool]]:
        decisions = []
        while self._decided < self._count:
            decisions.append((self._decided, self._decide(self._decided)))
            self._decided += 1
        return decisions

    def state(self, first: int = 0) -> dict[str, np.ndarray]:
        """What it knows of the frames pushed so far (``SceneDetector.state``): a frame's windowed copy is
        made again from its normalised one, as it was made."""
        size = self.thresholds.working_size

        def frames(kept: list[_Frame]) -> dict[str, np.ndarray]:
            return {"index": np.array([first + frame.index for frame in kept], np.int64),
                    "blank": np.array([frame.blank for frame in kept], bool),
                    "dark": np.array([frame.dark for frame in kept], bool),
                    "normalized": np.stack([frame.normalized for frame in kept]) if kept
                    else np.zeros((0, size, size), np.float32)}

        state = {f"frames.{key}": value for key, value in frames(list(self._frames)).items()}
        state.update({f"reference.{key}": value
                      for key, value in frames([self._reference] if self._reference is not None else []).items()})
        state.update(count=np.int64(first + self._count), decided=np.int64(first + self._decided),
                     last_change=np.int64(first + self._last_change), in_dissolve=np.bool_(self._in_dissolve),
                     last_change_gradual=np.bool_(self._last_change_gradual),
                     through_black=np.bool_(self._through_black),
                     consecutive=np.array([np.nan if value is None else value for value in self._consecutive],
                                          np.float64),
                     motion=np.array(list(self._motion), np.int64).reshape(-1, 2))
        return state

    def restore(self, state: dict[str, np.ndarray], first: int) -> None:
        """Take up ``state``, a frame's index ``first`` taken as 0: the next frame pushed is the one after
        those ``state`` was taken after, decisions on frames before ``first`` come again, as they came."""

        def frames(prefix: str) -> list[_Frame]:
            kept = []
            dark = state.get(f"{prefix}.dark", np.zeros(len(state[f"{prefix}.index"]), bool))  # saved before stop 41
            for index, blank, is_dark, normalized in zip(state[f"{prefix}.index"], state[f"{prefix}.blank"], dark,
                                                         state[f"{prefix}.normalized"], strict=True):
                frame = _Frame.__new__(_Frame)
                frame.index, frame.blank, frame.dark = int(index) - first, bool(blank), bool(is_dark)
                frame.normalized = np.ascontiguousarray(normalized, np.float32)
                frame.windowed = frame.normalized * self._window
                frame._smooth = None
                kept.append(frame)
            return kept

        self._frames = deque(frames("frames"), maxlen=self._frames.maxlen)
        self._reference = next(iter(frames("reference")), None)
        self._count, self._decided = int(state["count"]) - first, int(state["decided"]) - first
        self._last_change, self._in_dissolve = int(state["last_change"]) - first, bool(state["in_dissolve"])
        self._last_change_gradual = bool(state.get("last_change_gradual", False))
        self._through_black = bool(state.get("through_black", False))
        if np.ndim(state["consecutive"]) != 1:  # probe 216: taken, then a push failed
            raise ValueError("consecutive: not one score a frame")
        self._consecutive = deque((None if np.isnan(value) else float(value) for value in state["consecutive"]),
                                  maxlen=self._consecutive.maxlen)
        self._motion = deque((tuple(int(v) for v in shift) for shift in state["motion"]), maxlen=MOTION_MEMORY)


# ------------------------------------------------------------------------------------------ registry


@dataclass(frozen=True)
class SceneMode:
    name: str
    description: str
    thresholds: type
    engine: Callable


SCENE_MODES: dict[str, SceneMode] = {
    mode.name: mode
    for mode in (
        SceneMode(
            "robust",
            "motion-compensated difference, cut = lasting spike; handles fades, flashes and dissolves "
            "(decides 2 frames late)",
            RobustThresholds,
            RobustEngine,
        ),
        SceneMode(
            "thesis",
            "thesis 4.2.3: histogram correlation < 0.997 and SSIM < 0.5 between consecutive frames",
            ThesisThresholds,
            ThesisEngine,
        ),
    )
}
DEFAULT_SCENE_MODE = "robust"


def _checked_thresholds(spec: SceneMode, mode: str, thresholds: dict[str, object]):
    """``spec``'s thresholds dataclass of ``thresholds``, each checked (probe 176: tracebacks from OpenCV, or NaN
    taken, a false cut) and made a Python number (probe 177: numpy's int8 overflowed)."""
    names = [field.name for field in fields(spec.thresholds)]
    unknown = sorted(set(thresholds) - set(names))
    if unknown:
        raise RehueError(f"unknown threshold {', '.join(unknown)} for scene mode {mode!r}; valid: {', '.join(names)}")
    checked = {}
    for name, value in thresholds.items():
        whole = isinstance(getattr(spec.thresholds, name), int)
        try:
            finite = whole or math.isfinite(value)
        except (TypeError, OverflowError):  # a string; an integer past a float (probe 177)
            finite = False
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if whole else numbers.Real) or \
                not finite:
            raise UsageError(f"{name} must be {'a whole number' if whole else 'a finite number'}, not {value!r}")
        value = checked[name] = int(value) if whole else float(value)
        least, most = (MIN_WORKING_SIZE, MAX_WORKING_SIZE) if name == "working_size" else (0, MAX_COUNT)
        if whole and not least <= value <= most:  # a count (0: its test off); a score may be any number
            raise UsageError(f"{name} must be from {least} to {most}, not {value}")
    return spec.thresholds(**checked)


def _check_frame(gray: object) -> None:
    if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8 or 0 in gray.shape:
        is_array = isinstance(gray, np.ndarray)
        described = f"{gray.dtype} array of shape {gray.shape}" if is_array else type(gray).__name__
        raise ValueError(f"scene detection needs a non-empty 2-D uint8 gray frame, got {described}")


class SceneDetector:
    """Streaming scene-change detector; frames are uint8 gray arrays of any size.

    Modes without lookahead (``thesis``) answer each frame at once::

        detector = SceneDetector("thesis")
        scene_changed = detector.update(gray)

    The default ``robust`` mode decides a frame only once ``detector.lookahead`` (2) more frames have
    arrived, so the caller keeps that many frames waiting::

        detector = SceneDetector()
        for gray in frames:
            for index, scene_changed in detector.push(gray):
                ...  # frame `index` is now decided, in order, each exactly once
        for index, scene_changed in detector.flush():
            ...  # the last `lookahead` frames, at the end of the video

    ``push``/``flush`` work for every mode. Thresholds are keyword arguments named after the fields
    of the mode's dataclass (:class:`RobustThresholds`, :class:`ThesisThresholds`).
    """

    def __init__(self, mode: str = DEFAULT_SCENE_MODE, **thresholds: float):
        if mode not in SCENE_MODES:
            raise UsageError(f"unknown scene mode {mode!r}; choose one of: {', '.join(SCENE_MODES)}")
        spec = SCENE_MODES[mode]
        self.mode = mode
        self.thresholds = _checked_thresholds(spec, mode, thresholds)
        self._engine = spec.engine(self.thresholds)
        self.lookahead: int = self._engine.lookahead
        self._flushed = False

    def push(self, gray: np.ndarray) -> list[tuple[int, bool]]:
        """Add the next frame; returns ``(frame_index, scene_changed)`` for the frames now decided."""
        if self._flushed:  # probe 184: the frame was taken and never decided
            raise ValueError("the scene detector was flushed, at the end of its film: make a new one for another "
                             "film, or restore() a state to go on from it")
        _check_frame(gray)
        return self._engine.push(gray)

    def flush(self) -> list[tuple[int, bool]]:
        """Decide the frames still waiting for lookahead (call once, after the last frame)."""
        self._flushed = True
        return self._engine.flush()

    def state(self, first: int = 0) -> dict[str, np.ndarray]:
        """What the detector knows of the frames pushed so far, as arrays (to be saved without pickling),
        its frames counted from ``first`` (the film's number of its frame 0, where it was itself taken up
        from a state): a detector given it by ``restore`` decides the frames after them as this one goes on
        to."""
        return self._engine.state(first)

    def restore(self, state: dict[str, np.ndarray], first: int = 0) -> None:
        """Go on from ``state`` (``state()``, taken after frame ``first - 1`` was pushed), counting frames from
        ``first``: the next frame pushed is frame 0, and decisions on frames before it that were waiting
        for it come again with negative indices, as they came the first time. A state of another mode, or not a
        state, is a ValueError, and the detector is left as it was (probe 214: a bare KeyError)."""
        engine = SCENE_MODES[self.mode].engine(self.thresholds)
        try:
            engine.restore(state, first)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
            raise ValueError(f"state: not the state() of a {self.mode!r} scene detector") from None
        self._engine, self._flushed = engine, False

    def gradual(self, index: int) -> bool:
        """Whether the change at frame ``index``, just decided, was found in a dissolve or a wipe: that frame can
        still show some of the old shot (``SceneColorizer`` settles the new scene's colour over the frames after
        it)."""
        return index in self._engine.gradual

    def update(self, gray: np.ndarray) -> bool:
        """``scene_changed`` for ``gray`` (False for the first frame); modes without lookahead only."""
        if self.lookahead:
            raise ValueError(
                f"scene mode {self.mode!r} decides {self.lookahead} frames late: use push() and flush()"
            )
        ((_, scene_changed),) = self.push(gray)
        return scene_changed


def consecutive_differences(frames: Iterable[np.ndarray], **thresholds: float) -> list[float | None]:
    """The robust mode's difference between each frame and its predecessor (None for the first frame
    and wherever either frame is near-uniform): what its cut test starts from, for plots and tuning."""
    engine = RobustEngine(_checked_thresholds(SCENE_MODES["robust"], "robust", thresholds))  # as SceneDetector's
    differences: list[float | None] = []
    previous = None
    for index, gray in enumerate(frames):
        _check_frame(gray)
        frame = engine.prepare(index, gray)
        differences.append(engine.consecutive(previous, frame))
        previous = frame
    return differences


def detect_scenes(
    frames: Iterable[np.ndarray], mode: str = DEFAULT_SCENE_MODE, **thresholds: float
) -> list[int]:
    """0-based indices of the first frame of every scene after the first."""
    detector = SceneDetector(mode, **thresholds)
    starts = []
    for gray in frames:
        starts += [index for index, scene_changed in detector.push(gray) if scene_changed]
    starts += [index for index, scene_changed in detector.flush() if scene_changed]
    return starts
