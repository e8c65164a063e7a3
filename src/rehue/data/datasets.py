"""One dataset interface for training: every item is a dict of normalised tensors

* ``lightness``: (1, S, S) L*/50 - 1
* ``ab``: (2, S, S) a*b*/110, the target
* ``prev_ab``: (2, S, S), only for dependent (3-channel) models: the previous frame's colours,
  degraded to look like what the model will be fed at inference time (its own predictions).
* ``prev_lightness``: (1, S, S), with ``prev_ab``: the previous frame's L*, from which training can
  compute what a model would have predicted for that frame.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from rehue.color.lab import normalize_ab, normalize_lightness, rgb_to_lab
from rehue.errors import RehueError, shown_path
from rehue.progress import lines_to
from rehue.words import counted

# Training crops of a photo are squares of this share of its short side, up to all of it. The shipped
# independent model uses 0.7: closer to the whole pictures it colours (docs/model-card.md).
DEFAULT_CROP_MIN = 0.35
# A training clip's frames together count like this many photos when batches are sampled.
VIDEO_WEIGHT_IN_PHOTOS = 3.0
VIDEO_FRAME_EVERY_S = 0.5  # a training clip's frames: one every half second
DEMO_HINT = "; `rehue data demo --out DIR` assembles the demo set (docs/data.md)"


def frames_every(video: Path, every_s: float, log=None):
    """The RGB frames of ``video`` a training set samples: its first, then the first at or after each
    further ``every_s`` seconds, upright; none of a film rehue coloured (said to ``log``)."""
    from rehue.video.io import VideoReader, upright

    next_time = 0.0
    with VideoReader(video) as reader:
        if reader.coloured_by_rehue:
            lines_to(log)(
                f"warning: skipping {shown_path(video)}: rehue coloured it, so its colours are a model's guess, "
                "not a truth to learn from")
            return
        rotation = reader.rotation
        for frame in reader:
            if frame.time + 1e-6 >= next_time:
                yield upright(frame.rgb, rotation)
                next_time = frame.time + every_s


def lab_item(rgb: np.ndarray) -> dict:
    lab = rgb_to_lab(rgb)
    return {
        "lightness": torch.from_numpy(normalize_lightness(lab[..., :1]).transpose(2, 0, 1).copy()),
        "ab": torch.from_numpy(normalize_ab(lab[..., 1:]).transpose(2, 0, 1).copy()),
    }


def pair_item(prev: np.ndarray, frame: np.ndarray, rng: np.random.Generator) -> dict:
    """A dependent-model item from two RGB frames: ``frame``'s L* and a*b*, ``prev``'s L* and degraded a*b*."""
    item = lab_item(frame)
    prev_item = lab_item(prev)
    prev_ab = prev_item["ab"].numpy().transpose(1, 2, 0)
    item["prev_ab"] = torch.from_numpy(degrade_prev_ab(prev_ab, rng).transpose(2, 0, 1).copy())
    item["prev_lightness"] = prev_item["lightness"]
    return item


def degrade_prev_ab(ab: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make true previous-frame a*b* (S, S, 2, normalised) look like a generator's output.

    Predictions are smoother and a little off in hue and strength; sometimes the model must also
    recover from a poor previous frame, so now and then the colours are dropped entirely. The
    strength is jittered symmetrically around 1: a model taught that the previous colours are usually
    too weak learns to boost them, and fed its own output frame after frame it then saturates
    (measured with benchmarks/drift.py: the error to the truth rose from 6 to 15 a*b* units in 40 frames).
    """
    import cv2

    if rng.random() < 0.1:
        return np.zeros_like(ab)
    sigma = rng.uniform(0.5, 3.0)
    out = cv2.GaussianBlur(ab.astype(np.float32), (0, 0), sigma)
    angle = rng.normal(0.0, 0.15)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], np.float32)
    out = out @ rot.T * rng.uniform(0.85, 1.15)
    out += rng.normal(0.0, 0.02, size=out.shape).astype(np.float32)
    return np.clip(out, -1.0, 1.0)


def jitter_colour(ab: torch.Tensor, rng: np.random.Generator, strength: float) -> torch.Tensor:
    """The crop's colours with chroma scaled by up to +-``strength`` and hue turned by up to +-40x``strength``
    degrees (L* untouched): one scene photographed, printed or graded a little differently. Taught that
    colours vary so, the model commits less to the grading of a few hundred training photos."""
    scale = rng.uniform(1 - strength, 1 + strength)
    angle = math.radians(rng.uniform(-40 * strength, 40 * strength))
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    a, b = ab[0], ab[1]
    return torch.stack([a * cos - b * sin, a * sin + b * cos]).clamp(-1, 1)


class ImageFolderDataset(Dataset):
    """Every readable image under a folder, decoded and downscaled once, kept in memory.

    Training items are random crops at random scales with flips; validation items are
    deterministic centre crops. Unreadable files are skipped with one warning line each.
    With ``pairs=True`` items are synthetic temporal pairs: the same photo seen twice with a small
    pan, zoom and rotation between the two "frames", for the dependent model.
    """

    def __init__(self, root, size: int, *, train: bool = True, pairs: bool = False, files=None,
                 weights=None, stamps=(), stamp_share: float = 0.0, studio_share: float = 0.0,
                 colour_jitter: float = 0.0, crop_min: float = DEFAULT_CROP_MIN, cache_side: int | None = None,
                 log=None, progress: bool = False):
        from rehue.data.images import iter_image_files, load_image
        from rehue.progress import progress_bar

        log = lines_to(log, progress)
        self.size, self.train, self.pairs = size, train, pairs
        self.cache_side = cache_side or max(2 * size, 160)
        paths = list(files) if files is not None else list(iter_image_files(Path(root)))
        self.images, self.paths, skipped, coloured, kept = [], [], 0, [], []
        # a big folder of large scans takes minutes
        reading = progress_bar(paths, unit="photo", desc="reading the photos", disable=not progress, leave=False)
        for number, path in enumerate(reading):
            try:
                loaded = load_image(path)
            except RehueError as exc:
                if root is not None and Path(root).is_file():  # DATA named one file: its reason alone (probe 107)
                    raise
                log(f"warning: skipping {exc}")
                skipped += 1
                continue
            if loaded.coloured_by_rehue:
                coloured.append(path)
                continue
            self.images.append(self._downscale(loaded.rgb))
            self.paths.append(Path(path))
            kept.append(number)
        if skipped:
            log(f"{skipped} of {len(paths)} files skipped as unreadable")
        if coloured:
            log(f"warning: skipping {counted(len(coloured), 'picture')} that rehue coloured (or drew: a report's "
                f"sample grid or plot), such as {shown_path(coloured[0])}: their colours are a model's guess, not a "
                "truth to learn from")
        if not self.images and coloured:
            raise RehueError("every picture here was coloured by rehue: their colours are a model's guess, not a "
                             "truth to learn from (train needs the colour originals)", root)
        if not self.images:
            from rehue.data.cifar import cifar_form_hint

            hint = cifar_form_hint(root) if root is not None else None
            raise RehueError("no readable images found" + (f"; {hint}" if hint else ""), root)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)[kept]  # of those read
        self.log = log
        self.stamps = [self._load_stamp(p, log) for p in stamps]
        self.stamps = [s for s in self.stamps if s is not None]
        self.stamp_share, self.studio_share, self.colour_jitter = stamp_share, studio_share, colour_jitter
        self.crop_min = crop_min
        self.epoch_length = max(len(self.images), 64) if train else len(self.images)
        self._rng = np.random.default_rng()
        if train:
            self._check_colour(root, log)
            small = [path for path, rgb in zip(self.paths, self.images, strict=True) if min(rgb.shape[:2]) < size]
            if small:
                log(f"warning: {len(small)} of {len(self.images)} photos are smaller than the training size ({size} "
                    f"px on their short side), such as {shown_path(small[0])}: they are enlarged, and teach the "
                    "model soft pictures")

    def _check_colour(self, root, log) -> None:
        """Gray photos teach a model that their scenes are gray: refused when every photo is (and no cut-out
        is pasted on them), else named."""
        from rehue.data.images import has_colour

        self.coloured = [has_colour(rgb) for rgb in self.images]  # the folder's split draws validation among these
        gray = [path for path, coloured in zip(self.paths, self.coloured, strict=True) if not coloured]
        pasted = self.stamps and (self.stamp_share or self.studio_share)  # cut-outs bring colour of their own
        if len(gray) == len(self.images) and not pasted:
            raise RehueError(f"{'the photo is' if len(gray) == 1 else f'all {len(gray)} photos are'} gray: there "
                             "is no colour to learn from (train needs colour photos)", root)
        if gray:
            log(f"warning: {len(gray)} of {counted(len(self.images), 'photo')} {'is' if len(gray) == 1 else 'are'} "
                f"gray ({gray[0]}{', ...' if len(gray) > 1 else ''}); a model learns from them that such scenes have "
                "no colour (validation does not score them)")

    def subset(self, indices, *, train: bool) -> ImageFolderDataset:
        """The images at ``indices`` as a training set with this one's settings, or as a validation set
        with none of its augmentation, sharing its decoded images."""
        import copy

        part = copy.copy(self)
        part.images, part.paths = [self.images[i] for i in indices], [self.paths[i] for i in indices]
        if hasattr(self, "coloured"):
            part.coloured = [self.coloured[i] for i in indices]
        part.weights = None if self.weights is None or not train else self.weights[list(indices)]
        if not train:
            part.stamps, part.stamp_share, part.studio_share = [], 0.0, 0.0
            part.colour_jitter, part.crop_min = 0.0, DEFAULT_CROP_MIN
        part.train = train
        part.epoch_length = max(len(part.images), 64) if train else len(part.images)
        part._rng = np.random.default_rng()
        return part

    def _downscale(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        height, width = rgb.shape[:2]
        scale = self.cache_side / min(height, width)
        if scale < 1:
            rgb = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                             interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb)

    def add_video_frames(self, video: Path, every_s: float, weight: float) -> int:
        """Add frames sampled every ``every_s`` seconds of a training video; together they weigh ``weight``
        in sampling (a clip counts like a few photos, however long it is). A film rehue coloured adds none."""
        frames = [self._downscale(rgb) for rgb in frames_every(video, every_s, self.log)]
        self.images += frames
        self.paths += [Path(f"{video}#{i}") for i in range(len(frames))]
        if self.weights is not None:
            self.weights = np.concatenate([self.weights, np.full(len(frames), weight / max(len(frames), 1))])
        self.epoch_length = max(self.epoch_length, len(self.images))
        return len(frames)

    def _load_stamp(self, path, log):
        """A cut-out (RGBA) kept at most ``size`` pixels on its long side."""
        import cv2
        from PIL import Image

        try:
            with Image.open(path) as image:
                rgba = np.asarray(image.convert("RGBA"))
        except (OSError, ValueError) as exc:
            log(f"warning: skipping stamp {path} ({exc})")
            return None
        scale = self.size / max(rgba.shape[:2])
        if scale < 1:
            rgba = cv2.resize(rgba, (max(1, round(rgba.shape[1] * scale)), max(1, round(rgba.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA)
        return rgba

    def _paste_stamps(self, rgb: np.ndarray, rng) -> np.ndarray:
        """Paste one or two photographed cut-outs (animals, fruit, vehicles...) onto a training crop, so the
        model sees more kinds of objects and colours than a few dozen landscapes hold."""
        import cv2

        out = rgb.astype(np.float32)
        for _ in range(int(rng.integers(1, 3))):
            stamp = self.stamps[int(rng.integers(len(self.stamps)))]
            scale = rng.uniform(0.3, 0.8) * self.size / max(stamp.shape[:2])
            h, w = max(1, round(stamp.shape[0] * scale)), max(1, round(stamp.shape[1] * scale))
            stamp = cv2.resize(stamp, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            if rng.random() < 0.5:
                stamp = stamp[:, ::-1]
            top, left = int(rng.integers(0, self.size - h + 1)), int(rng.integers(0, self.size - w + 1))
            alpha = stamp[..., 3:4].astype(np.float32) / 255.0
            region = out[top : top + h, left : left + w]
            out[top : top + h, left : left + w] = region * (1 - alpha) + stamp[..., :3] * alpha
        return out.round().astype(np.uint8)

    def _studio_backdrop(self, rng) -> np.ndarray:
        """A plain, nearly neutral backdrop with a soft gradient and grain: a studio or museum shot's
        background, which the photos lack and which the model otherwise paints like a clear sky."""
        size = self.size
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
        angle = rng.uniform(0, 2 * np.pi)
        ramp = xx * np.cos(angle) + yy * np.sin(angle)
        vignette = xx ** 2 + yy ** 2
        grey = (rng.uniform(60, 235) + rng.uniform(-60, 60) * ramp - rng.uniform(0, 80) * vignette)
        tint = rng.normal(0.0, 3.0, size=3) if rng.random() < 0.5 else np.zeros(3)
        backdrop = grey[..., None] + tint + rng.normal(0.0, rng.uniform(0.5, 3.0), size=(size, size, 1))
        return np.clip(backdrop, 0, 255).round().astype(np.uint8)

    def __len__(self) -> int:
        return self.epoch_length

    def _pick(self, index: int, rng) -> np.ndarray:
        if not self.train:
            return self.images[index]
        if self.weights is not None:
            return self.images[rng.choice(len(self.images), p=self.weights / self.weights.sum())]
        return self.images[index % len(self.images)]

    def _crop(self, rgb: np.ndarray, rng) -> np.ndarray:
        import cv2

        height, width = rgb.shape[:2]
        short = min(height, width)
        if self.train:
            side = int(rng.uniform(self.crop_min, 1.0) * short)
            side = max(min(side, short), min(short, self.size // 2))
            top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        else:
            side = short
            top, left = (height - side) // 2, (width - side) // 2
        crop = rgb[top : top + side, left : left + side]
        if self.train and rng.random() < 0.5:
            crop = crop[:, ::-1]
        interp = cv2.INTER_AREA if side > self.size else cv2.INTER_LINEAR
        return cv2.resize(np.ascontiguousarray(crop), (self.size, self.size), interpolation=interp)

    def _pair(self, rgb: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Two views of one photo related by a small pan, zoom and rotation (a camera move)."""
        import cv2

        frame = self._crop(rgb, rng) if self.train else self._crop(rgb, np.random.default_rng(0))
        centre = (self.size / 2, self.size / 2)
        matrix = cv2.getRotationMatrix2D(centre, rng.normal(0, 2.0), rng.uniform(0.95, 1.05))
        matrix[:, 2] += rng.normal(0, self.size * 0.03, size=2)
        prev = cv2.warpAffine(frame, matrix, (self.size, self.size), borderMode=cv2.BORDER_REFLECT)
        return prev, frame

    def __getitem__(self, index: int) -> dict:
        rng = self._rng if self.train else np.random.default_rng(index)
        rgb = self._pick(index, rng)
        if not self.pairs:
            if self.train and self.stamps and rng.random() < self.studio_share:
                return lab_item(self._paste_stamps(self._studio_backdrop(rng), rng))
            crop = self._crop(rgb, rng)
            if self.train and self.stamps and rng.random() < self.stamp_share:
                crop = self._paste_stamps(crop, rng)
            item = lab_item(crop)
            if self.train and self.colour_jitter:
                item["ab"] = jitter_colour(item["ab"], rng, self.colour_jitter)
            return item
        prev, frame = self._pair(rgb, rng)
        return pair_item(prev, frame, rng)


class ArrayDataset(Dataset):
    """Images already at the working size, as one (N, S, S, 3) uint8 array (CIFAR-10, frame folders)."""

    def __init__(self, images: np.ndarray, *, train: bool = True, flips: bool = True, colour_jitter: float = 0.0):
        self.images, self.train, self.flips, self.colour_jitter = images, train, flips, colour_jitter
        self.epoch_length = len(images)  # training may raise it to fill a batch from a few frames
        # per item, the clip it comes from (a frame dataset's test split): a clip's frames are one unit of
        # evidence when scores are compared, not one each
        self.sources: list[str] | None = None
        self._rng = np.random.default_rng()

    def __len__(self) -> int:
        return self.epoch_length if self.train else len(self.images)

    def __getitem__(self, index: int) -> dict:
        rgb = self.images[index % len(self.images)]
        if self.train and self.flips and self._rng.random() < 0.5:
            rgb = rgb[:, ::-1]
        item = lab_item(np.ascontiguousarray(rgb))
        if self.train and self.colour_jitter:
            item["ab"] = jitter_colour(item["ab"], self._rng, self.colour_jitter)
        return item


class FramePairDataset(Dataset):
    """Consecutive sampled frames of one video and one scene: (L*_t, a*b*_{t-1}) -> a*b*_t."""

    def __init__(self, frames: np.ndarray, pairs: list[tuple[int, int]], *, train: bool = True):
        self.frames, self.pair_index, self.train = frames, pairs, train
        self.epoch_length = len(pairs)  # training may raise it to fill a batch from a few pairs
        self.sources: list[str] | None = None  # per item, the clip it comes from (``ArrayDataset.sources``)
        self._rng = np.random.default_rng()

    def __len__(self) -> int:
        return self.epoch_length if self.train else len(self.pair_index)

    def __getitem__(self, index: int) -> dict:
        rng = self._rng if self.train else np.random.default_rng(index)
        prev_i, cur_i = self.pair_index[index % len(self.pair_index)]
        return pair_item(self.frames[prev_i], self.frames[cur_i], rng)


def spread_indices(length: int, count: int) -> list[int]:
    """``count`` indices spread evenly over ``range(length)``; all of them where ``count`` is 0 or at least
    ``length``. A frame dataset's validation frames come video by video, and a demo set's held-out photos
    set by set: the first ``count`` would be one video's, or one set's."""
    if not count or count >= length:
        return list(range(length))
    return np.linspace(0, length - 1, count).round().astype(int).tolist()


def frame_split_videos(root: Path, column: str = "video") -> dict[str, set[str]]:
    """The names of a frame dataset's videos in each of its splits ("train", "test"), or with ``column``
    ``"video_sha256"`` their fingerprints (``rehue.data.frames.FINGERPRINT_FIELD``; none in an older dataset)."""
    split: dict[str, set[str]] = {"train": set(), "test": set()}
    for row in read_frame_manifest(root):
        if row.get(column):
            split.setdefault(row.get("split") or "train", set()).add(row[column])
    return split


def frame_video_fingerprints(root: Path) -> dict[str, str]:
    """Each of a frame dataset's videos' fingerprints, by name (``rehue.data.frames.FINGERPRINT_FIELD``; none
    in a dataset built before stop 46, or for a film of frames)."""
    from rehue.data.frames import FINGERPRINT_FIELD

    return {row["video"]: row[FINGERPRINT_FIELD] for row in read_frame_manifest(root)
            if row.get("video") and row.get(FINGERPRINT_FIELD)}


def read_frame_manifest(root: Path) -> list[dict]:
    manifest = Path(root) / "manifest.csv"
    rows = _with_paths(manifest, _read_manifest_rows(root) or [], ("path", "video"))
    for number, row in zip(_line_numbers(rows), rows, strict=True):  # probe 213: a line of junk was dropped from
        # both splits without a word
        fields = sum(value is not None for key, value in row.items() if key is not None) + len(row.get(None, ()))
        if fields != len(row) - (None in row):
            raise RehueError(f"line {number} has {counted(fields, 'field')}, and the header "
                             f"{counted(len(row) - (None in row), 'column')}: "
                             "the manifest was edited or damaged (rehue frames writes one field for each column)",
                             manifest)
    return rows


def _with_paths(manifest: Path, rows: list[dict], columns: tuple[str, ...] = ("path",)) -> list[dict]:
    """``rows`` of a set's manifest, which must have ``columns``, each row naming its file in "path" (a
    header saved tab-separated or another way is refused here, not met later as a missing key: probe 61)."""
    missing = [name for name in columns if rows and name not in rows[0]]
    if missing:
        header = ",".join(str(name) for name in rows[0])[:120]
        raise RehueError(f"has no {' or '.join(repr(name) for name in missing)} column (its header reads "
                         f"{header!r}): a set's manifest is comma-separated with a header naming its columns, as "
                         "rehue writes it", manifest)
    for number, row in zip(_line_numbers(rows), rows, strict=True):
        if not row.get("path"):
            raise RehueError(f"line {number} names no file (its path is empty)", manifest)
    return rows


def warn_of_links_outside(root: Path, files: list[Path], log) -> None:
    """A warning where a set's files lead outside its folder through links: a set on two disks may be made
    so, but a set from someone else could have training read any picture of the user's (probe 30)."""
    from rehue.data.images import real_path

    inside = real_path(root)
    outside = [file for file in files if not real_path(file).is_relative_to(inside)]
    if outside:
        log(f"warning: {root}: {len(outside)} of the files its manifest names lead outside it through links, such as "
            f"{shown_path(outside[0])}; they are read as the set's")


def _inside(manifest: Path, rows: list[dict]) -> list[dict]:
    """``rows``, whose paths must name files inside the set's folder, as rehue writes them: a set from
    someone else whose manifest names /home/... or ../.. would have training read files from anywhere."""
    for number, row in zip(_line_numbers(rows), rows, strict=True):
        path = row.get("path")
        if not path:  # no file named: a set's manifest is refused for it (_with_paths), another's is not read
            continue
        parts = Path(path).parts
        if Path(path).is_absolute() or ".." in parts or not parts:
            raise RehueError(f"line {number} names {shown_path(path)[:200]!r}, outside the set's folder (a set's "
                             "files are named from its folder, as rehue writes them)", manifest)
    return rows


def is_frame_dir(path: Path) -> bool:
    return (Path(path) / "manifest.csv").is_file() and (Path(path) / "frames").is_dir()


def _load_frames(root: Path, rows: list[dict], size: int, log, warn_small: bool = True, progress: bool = False
                 ) -> tuple[np.ndarray, list[int]]:
    """The frames of ``rows`` at ``size``, and the indices of the rows they come from: an unreadable frame
    is skipped with a warning, as an unreadable photo is; frames smaller than ``size`` are enlarged, with a
    warning where ``warn_small``; with ``progress``, a bar (probe 129: 100,000 frames are 40 s of silence)."""
    import cv2

    from rehue.data.images import load_image
    from rehue.progress import progress_bar

    frames, kept, enlarged, small = [], [], None, 0
    reading = progress_bar(rows, unit="frame", desc=f"reading the {'training' if warn_small else 'validation'} frames",
                           disable=not progress, leave=False)
    for index, row in enumerate(reading):
        try:
            rgb = load_image(Path(root) / row["path"]).rgb
        except RehueError as exc:
            log(f"warning: skipping {exc}")
            continue
        if rgb.shape[:2] != (size, size):
            if min(rgb.shape[:2]) < size:
                small += 1
                enlarged = enlarged or (row["path"], rgb.shape[:2])
            rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
        frames.append(rgb)
        kept.append(index)
    if enlarged is not None and warn_small:  # probe 46: said of photos, not of frames
        path, (height, width) = enlarged
        which = (f"its frames are {width}x{height}," if small == len(kept) else  # probe 213: one frame said as all
                 f"{small} of its {len(kept)} frames (such as {path}, {width}x{height}) "
                 f"{'is' if small == 1 else 'are'}")
        log(f"warning: {root}: {which} smaller than the training size {size}: they are enlarged, and teach the model "
            f"blurred pictures (rehue frames --size {size} builds them at it)")
    if len(kept) < len(rows):
        log(f"{len(rows) - len(kept)} of {len(rows)} frames skipped as unreadable")
    return (np.stack(frames) if frames else np.zeros((0, size, size, 3), np.uint8)), kept


def frame_pairs(rows: list[dict]) -> list[tuple[int, int]]:
    """Index pairs of consecutive sampled frames from the same video and the same scene."""
    pairs = []
    for i in range(1, len(rows)):
        prev, cur = rows[i - 1], rows[i]
        if prev["video"] == cur["video"] and prev.get("scene", "0") == cur.get("scene", "0"):
            pairs.append((i - 1, i))
    return pairs


def _check_frames_colour(root: Path, frames: np.ndarray, videos: list[str], log) -> None:
    """A gray film's frames teach a model that its scenes are gray, as gray photos do: refused when every
    training frame is gray, else the gray films are named (`rehue frames` leaves them out; a dataset
    made otherwise may hold them)."""
    from rehue.data.images import has_colour

    coloured = [has_colour(frame) for frame in frames]  # one at a time: the whole set at once is GBs at int16
    if not any(coloured):
        raise RehueError(f"all {len(frames)} training frames are gray: there is no colour to learn from (train "
                         "needs frames of colour films)", root)
    coloured_films = {video for video, colour in zip(videos, coloured, strict=True) if colour}
    gray_films = sorted(set(videos) - coloured_films)
    if gray_films:
        log(f"warning: every training frame of {counted(len(gray_films), 'film')} is gray ({gray_films[0]}"
            f"{', ...' if len(gray_films) > 1 else ''}); a model learns from them that such scenes have no colour")


def _check_cifar_alone(path: Path) -> None:
    """A folder that holds CIFAR-10's batches in a cifar-10-batches-py folder and photos beside it is refused:
    which to train on cannot be told (probe 129: the photos were passed over without a word)."""
    from rehue.data.cifar import find_cifar_root
    from rehue.data.images import folder_media

    root = find_cifar_root(path)
    if root == path:
        return
    photos = [photo for photo in folder_media(path)[0] if not photo.is_relative_to(root)]
    if photos:
        raise RehueError(f"holds CIFAR-10 ({root.name}) and {counted(len(photos), 'photo')} beside it, such as "
                         f"{photos[0].relative_to(path)}; name {root} to train on CIFAR-10, or move it out of the "
                         "folder to train on the photos", path)


def used_whole(path: Path) -> str | None:
    """What ``path`` is where its images are used whole, not cropped, and hold no cut-outs: "CIFAR-10" or "a
    frame dataset"; None for photos."""
    from rehue.data.cifar import is_cifar_dir

    return "CIFAR-10" if is_cifar_dir(path) else "a frame dataset" if is_frame_dir(path) else None


STAMPS_NEEDED = "cut-outs to paste (--stamp-share, --studio-share) need a set whose manifest.csv lists stamps, as " \
    "`rehue data demo` makes"


def build_datasets(data: str | Path, size: int, *, dependent: bool = False, val_fraction: float = 0.1,
                   seed: int = 0, stamp_share: float = 0.0, studio_share: float = 0.0, colour_jitter: float = 0.0,
                   crop_min: float = DEFAULT_CROP_MIN, log=None, progress: bool = False):
    """(train, validation) datasets for any data path rehue knows: a CIFAR-10 folder, a frame
    dataset made by ``rehue frames``, or a folder of photos (split by file). A demo-style set's
    stamps are pasted on ``stamp_share`` of the training crops and fill ``studio_share`` of them on a plain
    backdrop (and are not even loaded at 0); ``colour_jitter`` varies every training image's colours;
    a photo's training crops are ``crop_min`` to 1 times its short side (CIFAR-10 and frames are used whole)."""
    from rehue.data.cifar import load_cifar10

    log = lines_to(log, progress)  # probe 76: a photo folder's warnings called a missing log
    path = Path(data)
    if not path.exists():
        raise RehueError(f"training data not found{DEMO_HINT if path.name == 'demo' else ''}", path)
    from rehue.data.images import media_kind

    if path.is_file() and media_kind(path) == "video":
        raise RehueError(f"is a video: build a frame dataset from it first (rehue frames {path} --out DIR), "
                         "then train on DIR", path)
    whole = used_whole(path)
    if crop_min != DEFAULT_CROP_MIN and whole:
        raise RehueError("crop_min sets the size of crops of photos; CIFAR-10 images and extracted frames are "
                         "used whole", path)
    if (stamp_share > 0 or studio_share > 0) and whole:  # probe 129: kept in the model card, never pasted
        raise RehueError(f"{STAMPS_NEEDED}; {whole} has none", path)
    if whole == "CIFAR-10":
        _check_cifar_alone(path)
        if dependent:
            raise RehueError("CIFAR-10 has no temporal pairs; train a dependent model on photos or frames", path)
        if size != 32:
            raise RehueError(f"CIFAR-10 images are 32x32; use --size 32, not {size}", path)
        train, _ = load_cifar10(path, "train")
        test, _ = load_cifar10(path, "test")
        if not (np.any(train[..., 0] != train[..., 1]) or np.any(train[..., 1] != train[..., 2])):  # probe 129:
            # trained without a word, where gray photos are refused
            raise RehueError(f"all {len(train)} CIFAR-10 training images are gray: there is no colour to learn from",
                             path)
        return ArrayDataset(train, colour_jitter=colour_jitter), ArrayDataset(test, train=False)
    if whole:
        rows = read_frame_manifest(path)
        splits = {name: [r for r in rows if r.get("split", "train") == name] for name in ("train", "test")}
        if not splits["train"]:
            raise RehueError("frame dataset has no training frames", path)
        if not splits["test"]:
            if rows and "split" not in rows[0]:  # probe 64: said of a set of four videos
                raise RehueError("frame dataset's manifest.csv has no split column, so no frame is held out for "
                                 "validation; build it again with rehue frames", path)
            if len({r["video"] for r in rows}) < 2:
                raise RehueError("frame dataset holds one video, and training validates on the frames of another held "
                                 "out; build it again from 2 or more colour videos (rehue frames)", path)
            raise RehueError("frame dataset holds out no video (built with --test-fraction 0?), and training validates "
                             "on a held-out video's frames; build it again with --test-fraction above 0, or name one "
                             "with --test-video", path)
        warn_of_links_outside(path, [path / r["path"] for r in rows], log)
        frames, kept = {}, {}
        for name, part in splits.items():
            frames[name], kept[name] = _load_frames(path, part, size, log, warn_small=name == "train",
                                                    progress=progress)
            if not kept[name]:
                raise RehueError(f"frame dataset has no readable {name} frame", path)
        _check_frames_colour(path, frames["train"], [splits["train"][index]["video"] for index in kept["train"]], log)
        if dependent:
            pairs = {}
            for name, part in splits.items():  # a skipped frame breaks its pairs; its neighbours are not paired
                position = {index: at for at, index in enumerate(kept[name])}
                pairs[name] = [(position[a], position[b]) for a, b in frame_pairs(part)
                               if a in position and b in position]
            for name, found in pairs.items():
                if not found:
                    raise RehueError(f"frame dataset has no {name} pair of consecutive frames in one scene, which a "
                                     "dependent model learns from; sample the videos more often (rehue frames "
                                     "--fps)", path)
            test = FramePairDataset(frames["test"], pairs["test"], train=False)
            test.sources = [splits["test"][kept["test"][b]]["video"] for _, b in pairs["test"]]
            return FramePairDataset(frames["train"], pairs["train"]), test
        test = ArrayDataset(frames["test"], train=False)
        test.sources = [splits["test"][index]["video"] for index in kept["test"]]
        return ArrayDataset(frames["train"], colour_jitter=colour_jitter), test

    rows = _read_manifest_rows(path)
    check_frames_folder(path)
    demo_style = bool(rows) and "kind" in rows[0]
    if demo_style:
        _with_paths(path / "manifest.csv", rows)
    stamps = []
    if demo_style and (stamp_share > 0 or studio_share > 0):
        stamps = [path / r["path"] for r in rows if r["kind"] == "stamp" and r.get("split", "train") == "train"]
    if (stamp_share > 0 or studio_share > 0) and not stamps:
        raise RehueError(STAMPS_NEEDED, path)
    if not demo_style:
        if rows and "split" in rows[0]:  # probe 192: a split of the user's own, dropped without a word
            log(f"warning: {path / 'manifest.csv'}: its split is not used: a manifest is read where it has a kind "
                "column, as `rehue data demo` writes it; the photos held out are drawn at random")
        return _split_photo_folder(path, size, dependent=dependent, val_fraction=val_fraction, seed=seed,
                                   colour_jitter=colour_jitter, crop_min=crop_min, log=log, progress=progress)
    # a demo-style set: photos with a held-out split and sampling weights, cut-outs to paste
    photos = [r for r in rows if r["kind"] == "photo"]
    train_rows = [r for r in photos if r.get("split", "train") == "train"]
    val_files = [path / r["path"] for r in photos if r.get("split") in ("test", "held_out", "val")]
    train_files = [path / r["path"] for r in train_rows]
    train_weights = [float(r.get("weight") or 1.0) for r in train_rows]
    train_videos = [path / r["path"] for r in rows if r["kind"] == "video" and r.get("split") == "train"]
    if not train_files:
        raise RehueError("no training photos: its manifest.csv lists none in the train split", path)
    warn_of_links_outside(path, [path / r["path"] for r in rows], log)
    train = ImageFolderDataset(path, size, train=True, pairs=dependent, files=train_files, weights=train_weights,
                               stamps=stamps, stamp_share=stamp_share, studio_share=studio_share,
                               colour_jitter=colour_jitter, crop_min=crop_min, log=log, progress=progress)
    for video in train_videos:
        try:
            train.add_video_frames(video, every_s=VIDEO_FRAME_EVERY_S,
                                   weight=VIDEO_WEIGHT_IN_PHOTOS * float(np.median(train.weights))
                                   if train.weights is not None else VIDEO_WEIGHT_IN_PHOTOS)
        except RehueError as exc:  # probe 129: one damaged clip ended the run, where a damaged photo is skipped
            log(f"warning: skipping {exc}")
    if not val_files:
        log(ONE_PHOTO_WARNING.format(what="the manifest holds no photo out", path=path))
    val = ImageFolderDataset(path, size, train=False, pairs=dependent, files=val_files or train_files[:1], log=log,
                             progress=progress)
    return train, val


ONE_PHOTO_WARNING = ("warning: {path}: {what}, so validation scores a photo the model trains on, and its scores "
                     "flatter the model")


def _split_photo_folder(path: Path, size: int, *, dependent: bool, val_fraction: float, seed: int,
                        colour_jitter: float, crop_min: float, log, progress: bool = False
                        ) -> tuple[ImageFolderDataset, ImageFolderDataset]:
    """(train, validation) of a plain folder of photos, split by file. The photos are decoded once and the
    split is drawn among those that decode and have colour: validation does not score a gray photo, and
    one left with none to score stopped the run after its first epoch (probe 61). At least one colour
    photo is left to train on."""
    from rehue.data.images import folder_media

    files = _photos_said_of(path, *folder_media(path)[:3], log) if path.is_dir() else [path]
    photos = ImageFolderDataset(path, size, train=True, pairs=dependent, files=files,
                                colour_jitter=colour_jitter, crop_min=crop_min, log=log, progress=progress)
    coloured = photos.coloured
    drawn = np.random.default_rng(seed).permutation(len(photos.images))
    order = [i for i in drawn if coloured[i]] + [i for i in drawn if not coloured[i]]  # all colour: as drawn
    n_val = min(max(1, round(len(photos.images) * val_fraction)), sum(coloured) - 1)
    if n_val < 1:
        what = ("one photo, none held out" if len(photos.images) == 1 else
                "only one of its photos has colour, none held out")
        log(ONE_PHOTO_WARNING.format(what=what, path=path))
        n_val = 0
    return (photos.subset(sorted(order[n_val:]), train=True),
            photos.subset(sorted(order[:n_val]) if n_val else [order[0]], train=False))


def _photos_said_of(folder: Path, photos: list[Path], videos: list[Path], unread: list[Path], log) -> list[Path]:
    """A plain folder's photos, the videos and files of formats rehue does not read beside them said (probe 129:
    passed over without a word, and a folder of videos alone was "no readable images found")."""
    frames_first = f"build a frame dataset from them first (rehue frames {folder} --out DIR), then train on DIR"
    if not photos and videos:
        raise RehueError(f"holds no photos, but {counted(len(videos), 'video')}, such as {videos[0].name}: "
                         f"{frames_first}", folder)
    if not photos and unread:
        raise RehueError(f"holds no photos rehue reads, but {counted(len(unread), 'file')} in formats it does not "
                         f"read, such as {unread[0].name}; convert them to TIFF or PNG first", folder)
    if videos:
        log(f"warning: {folder}: {counted(len(videos), 'video')} passed over, such as {videos[0].name}: train learns "
            f"from the photos here; to learn from films, {frames_first}")
    if unread:
        log(f"warning: {folder}: {counted(len(unread), 'file')} passed over, in formats rehue does not read, such as "
            f"{unread[0].name}; convert them to TIFF or PNG first")
    return photos


def check_frames_folder(path: Path) -> None:
    """A frame dataset (a manifest with the columns `rehue frames` writes) whose frames/ folder is gone is refused in
    those words: read as a folder of photos, it was "its split is not used ... no readable images found" (probe
    213). A manifest that cannot be read is left to be said as it is read."""
    from rehue.data.frames import MANIFEST_FIELDS
    from rehue.data.manifests import read_header

    manifest = Path(path) / "manifest.csv"
    if not manifest.is_file() or (Path(path) / "frames").is_dir():
        return
    try:
        columns = read_header(manifest)[0]
    except OSError:
        return
    if set(MANIFEST_FIELDS) <= set(columns):
        frames = Path(path) / "frames"
        what = ("frames/ folder is missing" if not os.path.lexists(frames) else  # probe 216: a file said missing
                f"frames/ is a link to {os.readlink(frames)}, which is not there" if not frames.exists() else
                "frames/ is a file, not a folder")
        raise RehueError(f"its manifest.csv is a frame dataset's (rehue frames), and its {what}", path)


class _ManifestRows(list):
    """A manifest's rows, and the line of the file each ends on (``lines``): blank lines and quoted fields that
    hold a line break make a row's place in the list another number (probe 216: "line 6" of junk on line 8)."""
    lines: list[int]


def _line_numbers(rows: list[dict]) -> list[int]:
    """The line of its manifest each of ``rows`` ends on, where it was read from one; else as if each row were
    one line after the header."""
    return getattr(rows, "lines", None) or list(range(2, len(rows) + 2))


def _read_manifest_rows(root: Path) -> list[dict] | None:
    from rehue.data.manifests import read_header

    manifest = Path(root) / "manifest.csv"
    if not manifest.is_file():
        return None
    columns, utf16 = read_header(manifest)
    sets = "path" in columns and bool({"kind", "split", "video"} & set(columns))  # not the user's own (probe 65)
    if utf16:  # probe 70: read as UTF-8, its header was noise
        if sets:
            raise RehueError("is UTF-16 (a spreadsheet's \"Unicode Text\"); save it as \"CSV UTF-8\"", manifest)
        return None
    # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which would be read into the first
    # column's name (probe 61); names that are not UTF-8 are kept as they are
    with open(manifest, newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
        reader = csv.DictReader(fh)
        rows = _ManifestRows()
        rows.lines = []
        for row in reader:
            rows.append(row)
            rows.lines.append(reader.line_num)
        header = reader.fieldnames or []
    if sets and len(header) == 1:  # a set's manifest saved with semicolons or tabs would be read as no set's (probe 64)
        raise RehueError(f"is not comma-separated (its header reads {header[0][:120]!r}): a set's manifest is "
                         "read with commas, as rehue writes it; save it as CSV", manifest)
    return _inside(manifest, rows)
