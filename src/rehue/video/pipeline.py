"""Scene-aware video colouring (thesis 4.2.3, fig. 4.8).

The first frame and every frame that starts a new scene go to the independent generator (L* in);
every other frame goes to the dependent generator with the previous *output* frame's a*b*, so a
scene keeps one set of colours (eased back towards the independent model's where the dependent
model's colour fades, when its config asks: ``DriftCheck``). The models run at their working size;
the a*b* they predict is upsampled onto each frame's own full-resolution L*. Frames stream through:
decode, detect, colour, encode, with only the scene detector's few frames of lookahead held in memory.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import queue
import re
import shutil
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import islice
from pathlib import Path

import numpy as np

from rehue.data import dpx
from rehue.data.images import (
    as_it_will_be,
    as_rehue_worker,
    has_colour,
    move_into_place,
    staging_folder_for,
    to_uint8,
    with_output_suffix,
)
from rehue.errors import OutputExists, RehueError, UsageError, check_flags, check_log, path_exists
from rehue.inference.colorizer import (
    AB_SCALE,
    Box,
    Colorizer,
    ComposeWorkspace,
    colour_table,
    compose_deep,
    compose_full_resolution,
    inside_gray,
    letterbox,
    picture_box,
)
from rehue.progress import finished
from rehue.signals import signals_held
from rehue.video.frame_folder import PATTERN, FramePattern
from rehue.video.io import DEEP_CODECS, as_stored, upright, upright_box
from rehue.video.pieces import PiecedVideo, check_video_output, encoder_settings, interrupted_video
from rehue.video.rates import exact_rate
from rehue.video.resume import (
    Interrupted,
    InterruptedVideo,
    add_scene_start,
    add_state,
    frame_stats,
    hold_staging,
    interrupted_runs,
    load_state,
    mark_moving,
    moved_over,
    moving_run,
    refuse_if_written_elsewhere,
    release_staging,
    remove_journal,
    resumable,
    saved_states,
    say_what_was_kept,
    scene_start_times,
    was_moving,
    what_differs,
    write_journal,
)
from rehue.words import counted, listed

SETTLE_FRAMES = 16
"""Frames after a scene start found in a dissolve or a wipe over which the dependent model is eased towards
the independent model (by the drift check's anchor, each frame): the start itself can still show the old
shot, and its colour, fed on, stayed on the new shot (probe 54: a rocket's sky warm for the whole shot)."""
# a film is checked for colour on its first frame brighter than this mean level, or this frame at the latest
TINT_CHECK_LEVEL, TINT_CHECK_FRAMES = 24, 250
FILM_GUESS = "a tinted or toned print?"  # what a film in colour already may be
QUEUE_FRAMES = 4
FLICKER_FOLLOW = 0.2  # the share of each frame's brightness by which the scene's level follows it
FLICKER_GAINS = (0.75, 1.33)  # the most by which a frame is brightened or darkened for the models
"""Frames waiting between two pipeline threads: enough to absorb their jitter, few enough that memory
stays flat (a 720p frame is about 3 MB as RGB)."""
MAX_MODEL_WORKERS = 4
WORKER_POLL_S = 0.1  # how often a blocked decode thread checks whether the consumer stopped, and a waiting
# worker whether it was cancelled
# Letterbox or pillarbox bars are looked for in the first BAR_KEY_FRAMES key frames (a film's first
# minutes, decoding nothing else), or, in a clip with fewer, in every BAR_PROBE_STEP-th of its first
# BAR_PROBE_FRAMES frames
BAR_KEY_FRAMES = 24
BAR_PROBE_FRAMES = 48
BAR_PROBE_STEP = 4
BLANK_FRAME_STD = 4.0  # gray levels: a black or faded frame shows no bars
# Bars are kept only when at least BAR_MIN_FRAMES frames that are not blank were seen, BAR_AGREEMENT of
# them show the same bars (to BAR_SLACK_PX), and the picture keeps BAR_MIN_PICTURE of each dimension:
# a title card on black shows "bars" too, but they are rarely the same from card to card, or so wide
BAR_MIN_FRAMES = 4
BAR_AGREEMENT = 0.6
BAR_SLACK_PX = 2
BAR_MIN_PICTURE = 0.5
# frames per second of a video made from numbered frames (``colorize_frames``): below a tenth, FFmpeg's
# encoders fail in their own words (probe 30)
DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))  # the rates a drop-frame time code counts
MIN_FRAMES_FPS, MAX_FRAMES_FPS = Fraction(1, 10), 1000  # exact: a typed 0.1, read as 1/10, lies below the float
# 0.1 (probe 137: "--fps must be from 0.1 to 1000, not 0.1")
DEFAULT_FILM_FPS = 24  # a film of frames into a video, where neither --fps nor a DPX header gives its rate

logger = logging.getLogger(__name__)


@dataclass
class VideoSummary:
    frames: int = 0
    scenes: int = 0
    scene_starts: list[int] = field(default_factory=list)
    seconds: float = 0.0
    independent_frames: int = 0
    dependent_frames: int = 0
    eased_frames: int = 0
    timings_ms: dict = field(default_factory=dict)
    output: Path | None = None
    kept: int = 0  # frames an interrupted run coloured before this one went on from them
    placed: bool = False  # the kept frames were only put in place: that run was killed while it moved them

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        frames = counted(self.frames, "frame")
        if self.kept and not self.frames:
            done = "put in place the last" if self.placed else "joined the"
            return f"{done} {counted(self.kept, 'frame')} an earlier run coloured, in {self.seconds:.1f} s"
        if self.kept:
            frames += f" ({self.frames + self.kept:,} in all with the {self.kept:,} an earlier run coloured)"
        return (f"{frames}, {counted(self.scenes, 'scene')}, {self.seconds:.1f} s, {self.fps:.1f} frames/s "
                f"({self.independent_frames:,} independent, {self.dependent_frames:,} dependent"
                + (f", {self.eased_frames:,} eased against drift" if self.eased_frames else "") + ")")


@dataclass(frozen=True)
class DriftCheck:
    """Easing the dependent model back where its colour fades in a scene (docs/model-card.md, "The drift check").

    Fed its own output, the dependent model can lose a scene's colour frame by frame (a warm-lit face
    went gray over 68 frames). Every ``every`` frames of a scene the independent model colours the
    frame too; where the dependent a*b*'s mean chroma is below ``ratio`` x the independent's, the frame
    is anchored, raw a*b* = (1 - anchor) x dependent + anchor x independent (which the next frame is
    fed), and the check runs on every frame until the chroma is back at ``release`` x the independent's
    (default: ``ratio``). Jumping to the independent colour instead flickered; a small anchor pulls the
    chain back over several frames. Set by the dependent model's JSON ("inference": "drift_check_every",
    "drift_ratio", "drift_anchor", "drift_release")."""

    every: int
    ratio: float
    anchor: float
    release: float | None = None

    @classmethod
    def of(cls, dependent: Colorizer) -> DriftCheck | None:
        """The dependent model's check, or None when its JSON sets no anchor."""
        settings = dependent.card.inference or {}
        if not settings.get("drift_anchor"):
            return None
        release = settings.get("drift_release")
        return cls(int(settings.get("drift_check_every", 1)), float(settings.get("drift_ratio", 1.0)),
                   float(settings["drift_anchor"]), None if release is None else float(release))

    def due(self, frame_in_scene: int, easing: bool) -> bool:
        """Whether the independent model colours this frame too (frame 0 starts the scene)."""
        return easing or frame_in_scene % self.every == 0

    def bound(self, easing: bool) -> float:
        return self.release if easing and self.release is not None else self.ratio

    def drifted(self, dependent_ab: np.ndarray, independent_ab: np.ndarray, easing: bool = False) -> bool:
        """Whether the dependent colour has (still) faded: its mean chroma below ``ratio`` x the independent
        model's to start easing, below ``release`` x it to go on."""
        return self.share(dependent_ab, independent_ab) < self.bound(easing)

    @staticmethod
    def share(dependent_ab: np.ndarray, independent_ab: np.ndarray) -> float:
        """The dependent a*b*'s mean chroma over the independent's."""
        return float(np.hypot(*dependent_ab).mean()) / max(float(np.hypot(*independent_ab).mean()), 1e-12)

    def mix(self, dependent_ab: np.ndarray, independent_ab: np.ndarray) -> np.ndarray:
        anchor = np.float32(self.anchor)
        return (1 - anchor) * dependent_ab + anchor * independent_ab


def video_provenance(independent: Colorizer, dependent: Colorizer | None) -> str:
    """What a coloured film says of itself: the independent model and, when one ran, the dependent model,
    which colours most of its frames."""
    if dependent is None:
        return independent.provenance
    return f"{independent.provenance}; within scenes {dependent.label}"


def load_dependent(spec: str, independent: Colorizer, log) -> Colorizer | None:
    """The dependent generator to pair with ``independent``; None means colour every frame independently.

    "default" is the shipped dependent model, paired with the shipped video model only (``DEFAULT_MODELS``):
    it learned to carry that model's colours from frame to frame; beside a model fine-tuned on other
    footage it pulled the colours back towards its own, and beside a colour-as-classes model its colours
    grew along the held-out clip (docs/model-card.md, "Fine-tuning on your own footage", "Colour as
    classes")."""
    from rehue.models.io import default_model_name

    if not isinstance(spec, (str, os.PathLike)):  # None read as "default" by some, as "none" by others
        raise UsageError(f"dependent_model: a model's name or file path, \"default\" (the shipped one) or \"none\" "
                         f"(each frame coloured by the model alone), not {spec!r}")
    if spec == "none":
        return None
    partner = default_model_name("video")
    if spec == "default" and not (independent.shipped and independent.name == partner):
        log(f"note: the shipped dependent model learned to carry {partner}'s colours, not this "
            "model's, so every frame is coloured by this model alone; --dependent-model pairs one (a dependent "
            "model trained beside this one, or the shipped one by its name; docs/model-card.md, \"Fine-tuning on "
            "your own footage\")")
        return None
    try:
        dependent = _loaded_beside(independent, spec)
    except RehueError as exc:
        if spec != "default":
            raise
        from rehue.models.io import incomplete_shipped_models, shipped_models

        name = default_model_name("dependent") or next(
            (name for name in incomplete_shipped_models() if name.endswith("-dependent")), None)
        if name in shipped_models():  # installed, and unreadable (probe 124: a note that there is none, exit 0)
            log(f"warning: the shipped dependent model cannot be read ({exc}): reinstall rehue; every frame is "
                "coloured by the independent model")
        elif name in incomplete_shipped_models():  # one of its files gone (probe 131)
            log(f"warning: the shipped dependent model {name} cannot be read ({incomplete_shipped_models()[name]}): "
                "reinstall rehue; every frame is coloured by the independent model")
        else:
            log("note: no dependent model available; every frame is coloured by the independent model")
        return None
    if not dependent.dependent:
        raise RehueError("the dependent model must take 3 input channels (L* + previous a*b*)", spec)
    if dependent.size != independent.size:
        if spec == "default":
            log(f"note: shipped dependent model works at {dependent.size}, the independent one at "
                f"{independent.size}; colouring every frame independently")
            return None
        raise RehueError(f"dependent model works at {dependent.size}x{dependent.size} but the independent one at "
                         f"{independent.size}x{independent.size}", spec)
    return dependent


def find_bars(frames) -> Box | None:
    """The picture's box inside letterbox or pillarbox bars (black or white) of the uint8 gray
    ``frames``, or None. A video keeps one box, so the models see the same view in every scene.

    Each side takes the narrowest bar among the frames, so a dark scene, whose picture merges with
    the bars, does not widen them; and bars count only where most frames show exactly them and they
    leave at least half of each dimension (``BAR_*``), so an opening title card is not taken for them.
    """
    sides, shape = [], None
    for gray in frames:
        if float(gray.std()) < BLANK_FRAME_STD or shape not in (None, gray.shape):  # blank, or resized part way
            continue
        shape = gray.shape
        box = picture_box(gray)
        sides.append((box.top, gray.shape[0] - box.top - box.height, box.left, gray.shape[1] - box.left - box.width))
    if len(sides) < BAR_MIN_FRAMES:
        return None
    narrowest = np.min(np.array(sides), axis=0)
    if not narrowest.any():
        return None
    agreeing = sum(bool(np.all(np.abs(np.array(frame) - narrowest) <= BAR_SLACK_PX)) for frame in sides)
    top, bottom, left, right = (int(width) for width in narrowest)
    height, width = shape
    box = Box(top, left, height - top - bottom, width - left - right)
    if agreeing < BAR_AGREEMENT * len(sides) or box.height < BAR_MIN_PICTURE * height \
            or box.width < BAR_MIN_PICTURE * width:
        return None
    return box


def find_video_bars(reader) -> Box | None:
    """``find_bars`` over a video's first key frames, or its first frames when it has few key frames."""
    key_frames = list(reader.key_frames(BAR_KEY_FRAMES))
    if len(key_frames) >= 2 * BAR_MIN_FRAMES:
        return find_bars(key_frames)
    return find_bars(frame.gray for frame in islice(reader, 0, BAR_PROBE_FRAMES, BAR_PROBE_STEP))


def _loaded_beside(independent: Colorizer, spec) -> Colorizer:
    """The dependent model ``spec`` loaded with ``independent``'s device, backend and threads, kept on
    ``independent`` for its next film while the model's files are unchanged: a batch of films loaded it once to
    check it and again for each film, 0.1-0.9 s each on this project's machine (stop 62)."""
    key = (os.fspath(spec), os.getcwd())
    kept = independent._dependents.get(key)
    if kept is not None and kept[1] == _model_files_stamp(kept[0].path):
        return kept[0]
    dependent = Colorizer.load(spec, device=independent.device, role="dependent", backend=independent.backend,
                               threads=independent.threads)
    independent._dependents[key] = (dependent, _model_files_stamp(dependent.path))
    return dependent


def _model_files_stamp(path: Path) -> tuple:
    """The times and sizes of a model's weights and config: a model retrained in place is loaded again."""
    stamp = []
    for file in (path, path.with_suffix(".json")):
        try:
            status = file.stat()
        except OSError:
            stamp.append(None)
        else:
            stamp.append((status.st_mtime_ns, status.st_size, status.st_ino))
    return tuple(stamp)


def model_workers(colorizer: Colorizer) -> int:
    """Independent-model calls to run at once on the CPU: one per core, up to ``MAX_MODEL_WORKERS``
    (each call is single-threaded; the other pipeline threads share the same cores)."""
    if colorizer.device != "cpu":
        return 1
    from rehue.bench import usable_cores

    return max(1, min(MAX_MODEL_WORKERS, usable_cores()))


class _Timer:
    def __init__(self):
        self.total: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float):
        with self._lock:
            self.total[name] = self.total.get(name, 0.0) + seconds
            self.count[name] = self.count.get(name, 0) + 1

    def means_ms(self) -> dict[str, float]:
        return {k: 1000 * v / self.count[k] for k, v in self.total.items()}


class SceneColorizer:
    """Frame-by-frame colouring state: which model runs, and the previous output's a*b*.

    ``push``/``flush`` return finished RGB frames. ``push_ab``/``flush_ab`` stop before the
    full-resolution step and return ``Decided`` frames, which ``compose`` finishes; the video pipeline
    runs that on another thread while the models work on the next frames (one thread at a time may
    call ``compose``: it reuses one set of work arrays).

    Every frame is shown with the independent model's restraint (``Colorizer.restrain``), so a scene
    looks the same whichever model coloured a frame; the dependent model is fed the unrestrained a*b*.

    Without a dependent model no frame waits for another's colours, so with ``model_workers`` > 1 the
    independent model runs on that many frames at once (one single-threaded call per core); a
    ``Decided`` frame's ``ab`` is then a future that ``compose`` waits for. ``close`` ends the workers.

    ``rotation`` is the video's display rotation (``VideoReader.rotation``): frames come in as stored, the
    models see them upright (colour depends on which way is up), and the colour goes back on as stored.

    With ``state_every``, the state that colours the next frame (the detector's, the previous a*b*, the
    flicker level, the drift check's) is saved before every frame of the film whose number is a multiple of
    it, in ``states`` by this run's frame number (``first``: the film's number of this run's first frame);
    a run taken up from one (``restore``) colours the frames after it as this one does: a film coloured in
    pieces goes on in the middle of a long shot.
    """

    def __init__(self, independent: Colorizer, dependent: Colorizer | None, scene_mode: str = "robust",
                 model_workers: int = 1, bars: Box | None = None, rotation: int = 0, *, first: int = 0,
                 state_every: int | None = None, state: dict[str, np.ndarray] | None = None,
                 scene_bars: Box | None = None):
        from rehue.video.scenes import SceneDetector

        if independent.dependent:
            raise RehueError("--model must be an independent model (L* in); pass the dependent one as "
                             "--dependent-model")
        self.independent, self.dependent = independent, dependent
        self.size = independent.size
        self.bars = bars
        self.scene_bars = scene_bars if scene_bars is not None else bars  # of the frames ``push``'s scene_gray holds
        self.rotation = rotation
        self.detector = SceneDetector(scene_mode)
        self.pending: deque = deque()
        self.prev_ab: np.ndarray | None = None
        self.timer = _Timer()
        self.scene_starts: list[int] = []
        # the scene starts a fresh colouring goes on from as this one does: not those found in a dissolve,
        # after which this one settles and a fresh detector would find the rest of the dissolve (probe 55)
        self.fresh_starts: list[int] = []
        self.independent_frames = self.dependent_frames = self.eased_frames = 0
        self.drift_check = DriftCheck.of(dependent) if dependent is not None else None
        self._frame_in_scene = 0
        self._easing = False
        self._settling = 0
        self._level: float | None = None
        self.tinted: bool | None = None  # the decoder's tint check, once made (``colorize_video``)
        self.first, self.state_every = first, state_every
        self.states: dict[int, dict[str, np.ndarray]] = {}
        self._detector_states: dict[int, dict[str, np.ndarray]] = {}
        self._pushed = 0
        self._workspace: ComposeWorkspace | None = None
        if state is not None:
            self.restore(state)
        self._pool = ThreadPoolExecutor(model_workers, thread_name_prefix="rehue-model", initializer=as_rehue_worker) \
            if dependent is None and model_workers > 1 else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def letterbox(self, gray: np.ndarray) -> tuple[np.ndarray, Box]:
        """The models' view of ``gray`` (of the picture inside ``bars``, when the video has them); callers
        may compute it ahead (on another thread) for ``push_ab``."""
        return models_view(gray, self.size, self.rotation, self.bars)

    def _inside_bars(self, gray: np.ndarray) -> np.ndarray:
        if self.bars is None:
            return gray
        return np.ascontiguousarray(gray[self.bars.region])

    def push(self, gray: np.ndarray, payload=None, scene_gray: np.ndarray | None = None
             ) -> list[tuple[object, np.ndarray]]:
        """Feed one frame; returns (payload, colour RGB) for every frame that could be decided. ``scene_gray``:
        the frame at its own size, where ``gray`` was shrunk (evaluate's scoring), for the scene detector."""
        return [self.compose(decided) for decided in self.push_ab(gray, payload, scene_gray=scene_gray)]

    def flush(self) -> list[tuple[object, np.ndarray]]:
        return [self.compose(decided) for decided in self.flush_ab()]

    def push_ab(self, gray: np.ndarray, payload=None, letterboxed: tuple[np.ndarray, Box] | None = None,
                scene_gray: np.ndarray | None = None) -> list[Decided]:
        """Feed one frame (and, optionally, its ``letterbox`` and ``push``'s ``scene_gray``); returns every frame
        now decided."""
        started = time.perf_counter()
        small, box = letterboxed or self.letterbox(gray)
        # at the shipped models' size whatever the model's: the cuts `rehue scenes` reports (probe 176: a 32 px
        # model's view found cuts where the 128 px one found none), of the frame's 8 bits (probe 177: a 16-bit
        # frame's low bytes, noise), and of the frame at its own size (probe 177: evaluate's, shrunk to score)
        if scene_gray is not None:
            view = scene_view(to_uint8(scene_gray), self.rotation, self.scene_bars)
        elif self.size == SCENE_VIEW_SIZE:
            view = _picture_of(small, box)
        else:
            view = scene_view(to_uint8(gray), self.rotation, self.bars)
        decided = self.detector.push(view)
        self._pushed += 1
        if self.state_every and (self.first + self._pushed) % self.state_every == 0:
            self._detector_states[self._pushed] = self.detector.state(self.first)  # counted in the film
        self.timer.add("scene_detection", time.perf_counter() - started)
        self.pending.append((gray, small, box, payload))
        return [self._colour(index, changed) for index, changed in decided if index >= 0]

    def flush_ab(self) -> list[Decided]:
        return [self._colour(index, changed) for index, changed in self.detector.flush() if index >= 0]

    def _save_state(self, following: int) -> None:
        """The state that colours frame ``following`` next, all frames before it coloured."""
        state = {f"detector.{key}": value for key, value in self._detector_states.pop(following).items()}
        state.update({
            # a copy: a model runtime may hand back the same output buffer for its next frame
            "prev_ab": self.prev_ab.copy() if self.prev_ab is not None else np.zeros(0, np.float32),
            "level": np.float64(np.nan if self._level is None else self._level),
            "frame_in_scene": np.int64(self._frame_in_scene), "easing": np.bool_(self._easing),
            "settling": np.int64(self._settling),
            "tinted": np.int8(-1 if self.tinted is None else self.tinted)})
        self.states[following] = state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Go on from a state saved before frame ``first`` by a run of the same film and settings."""
        self.detector.restore({key.removeprefix("detector."): value for key, value in state.items()
                               if key.startswith("detector.")}, self.first)
        self.prev_ab = np.ascontiguousarray(state["prev_ab"], np.float32) if state["prev_ab"].size else None
        level = float(state["level"])
        self._level = None if np.isnan(level) else level
        self._frame_in_scene, self._easing = int(state["frame_in_scene"]), bool(state["easing"])
        self._settling = int(state.get("settling", 0))  # a state saved before stop 41 has none
        self.tinted = None if int(state["tinted"]) < 0 else bool(state["tinted"])

    def _steadied(self, small: np.ndarray, box: Box, scene_starts: bool) -> np.ndarray:
        """The models' view with the print's flicker taken out: the picture brightened or darkened (by
        at most ``FLICKER_GAINS``) to the scene's level, which follows each frame's brightness by
        ``FLICKER_FOLLOW``. A darker frame of an old print got warmer, stronger colours than its
        neighbours, so the colour pulsed with the flicker; a lasting change of light (a fade, a lamp)
        reaches the models within a few frames. Only the models' input changes: the output keeps each
        frame's own L*."""
        picture = small[box.region]
        level = float(picture.mean())
        if scene_starts or self._level is None:  # the film's first frame starts a scene too
            self._level = level
        else:
            self._level += FLICKER_FOLLOW * (level - self._level)
        gain = min(max(self._level / max(level, 1.0), FLICKER_GAINS[0]), FLICKER_GAINS[1])
        if abs(gain - 1.0) < 0.005:
            return small
        steady = small.copy()
        steady[box.region] = np.clip(np.round(picture * np.float32(gain)), 0, 255).astype(np.uint8)
        return steady

    def _colour(self, index: int, scene_changed: bool) -> Decided:
        gray, small, box, payload = self.pending.popleft()
        gradual = scene_changed and self.detector.gradual(index)
        if scene_changed:
            self.scene_starts.append(index)
            if not gradual:
                self.fresh_starts.append(index)
        small = self._steadied(small, box, scene_changed)
        if self.prev_ab is None or scene_changed or self.dependent is None:
            self.independent_frames += 1
            self._frame_in_scene, self._easing = 0, False
            self._settling = SETTLE_FRAMES if gradual else 0
            if self._pool is not None:
                ab = self._pool.submit(self._independent_ab, small, box)
            else:
                raw = self._predict("independent_model", self.independent, small)
        else:
            raw = self._against_drift(self._predict("dependent_model", self.dependent, small, self.prev_ab), small)
            self.dependent_frames += 1
        if self._pool is None:
            self.prev_ab = raw
            ab = self._picture_ab(self.independent.restrain(raw[None], box, small[None])[0], box)
        if index + 1 in self._detector_states:
            self._save_state(index + 1)
        return Decided(payload, gray, ab)

    def _picture_ab(self, ab: np.ndarray, box: Box) -> np.ndarray:
        """The picture's (h, w, 2) a*b* in Lab units, as the video stores it, from the models' canvas."""
        return as_stored(_crop_to_box(ab, box), self.rotation)

    def _against_drift(self, following: np.ndarray, small: np.ndarray) -> np.ndarray:
        """The dependent model's raw a*b* ``following``, eased towards the independent model's where its
        colour has faded (``DriftCheck``)."""
        self._frame_in_scene += 1
        check = self.drift_check
        if check is not None and self._settling:
            self._settling -= 1
            self.eased_frames += 1
            return check.mix(following, self._predict("drift_check", self.independent, small))
        if check is None or not check.due(self._frame_in_scene, self._easing):
            return following
        own = self._predict("drift_check", self.independent, small)
        self._easing = check.drifted(following, own, self._easing)
        if not self._easing:
            return following
        self.eased_frames += 1
        return check.mix(following, own)

    def _predict(self, timer_name: str, model: Colorizer, small: np.ndarray, prev_ab=None, *,
                 restrain: bool = False, box: Box | None = None) -> np.ndarray:
        """One frame's normalised a*b*; unrestrained by default, as the dependent model's next input."""
        started = time.perf_counter()
        ab = model.predict_ab(small[None], None if prev_ab is None else prev_ab[None], restrain=restrain, box=box)[0]
        self.timer.add(timer_name, time.perf_counter() - started)
        return ab

    def _independent_ab(self, small: np.ndarray, box: Box) -> np.ndarray:
        return self._picture_ab(self._predict("independent_model", self.independent, small, restrain=True, box=box),
                                box)

    def compose(self, decided: Decided) -> tuple[object, np.ndarray]:
        """(payload, colour RGB at full resolution) for a frame from ``push_ab``/``flush_ab``."""
        ab = decided.ab.result() if isinstance(decided.ab, Future) else decided.ab
        started = time.perf_counter()
        picture = self._inside_bars(decided.gray)
        if picture.dtype == np.uint16:  # a 16-bit scanned frame (``colorize_frames``) keeps its depth
            rgb = compose_deep(picture, ab)
        else:
            if self._workspace is None or self._workspace.shape != picture.shape:
                self._workspace = ComposeWorkspace(*picture.shape)
            rgb = compose_full_resolution(picture, ab, self._workspace)
        if self.bars is not None:
            rgb = inside_gray(decided.gray, self.bars, rgb)
        self.timer.add("upsample_and_compose", time.perf_counter() - started)
        return decided.payload, rgb


SCENE_VIEW_SIZE = 128  # the shipped models' size: `rehue scenes` and `rehue frames` see what colorize sees


def models_view(gray: np.ndarray, size: int, rotation: int = 0, bars: Box | None = None) -> tuple[np.ndarray, Box]:
    """A stored frame as the models see it: the picture inside its ``bars`` (`find_video_bars`), upright,
    letterboxed into a ``size`` square; and where the picture lies in it."""
    if bars is not None:
        gray = gray[bars.region]
    return letterbox(upright(gray, rotation), size)


def _picture_of(small: np.ndarray, box: Box) -> np.ndarray:
    return np.ascontiguousarray(small[box.top : box.top + box.height, box.left : box.left + box.width])


def scene_view(gray: np.ndarray, rotation: int = 0, bars: Box | None = None, size: int = SCENE_VIEW_SIZE
               ) -> np.ndarray:
    """A stored frame as the scene detector sees it while a film is coloured (``SceneColorizer``): the
    picture of its `models_view`. So `rehue scenes` and `rehue frames` report the cuts that colouring
    acts on."""
    return _picture_of(*models_view(gray, size, rotation, bars))


def _crop_to_box(ab: np.ndarray, box: Box) -> np.ndarray:
    """Normalised (2, S, S) a*b* of the letterboxed canvas -> (h, w, 2) Lab units of the picture's box."""
    crop = ab[:, box.top : box.top + box.height, box.left : box.left + box.width]
    return np.moveaxis(crop, 0, -1) * AB_SCALE


@dataclass
class Decided:
    """A frame whose colours are decided: ``ab`` (h x w x 2, Lab units, or a future of it) for the
    picture's box, not yet joined with the full-resolution ``gray``."""

    payload: object
    gray: np.ndarray
    ab: np.ndarray | Future


class _Worker:
    """A thread that runs ``handle`` on each item ``put`` to it, in order, with at most ``QUEUE_FRAMES``
    waiting. An error in ``handle`` is raised again by the next ``put`` or by ``finish``; after one,
    the rest is skipped so the producer never blocks on a full queue."""

    def __init__(self, handle, name: str):
        self._handle = handle
        self._queue: queue.Queue = queue.Queue(QUEUE_FRAMES)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=as_rehue_worker(self._loop), name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:  # a wait of its own, not one for a wake-up: an interrupt that lands inside the producer's put
                item = self._queue.get(timeout=WORKER_POLL_S)  # can lose the wake-up, and a cancelled worker
            except queue.Empty:  # waited for it for good (probe 127: 3 in 90 SIGTERMs hung the process)
                if self._cancelled:
                    return
                continue
            if item is _END:
                return
            if self._error is None and not self._cancelled:
                try:
                    self._handle(item)
                except BaseException as exc:  # handed to the producer's thread, which raises it
                    self._error = exc

    def put(self, item) -> None:
        self._raise()
        self._queue.put(item)

    def finish(self) -> None:
        """Wait until every item is handled; raise the worker's error if it had one."""
        self._queue.put(_END)
        self._thread.join()
        self._raise()

    def cancel(self) -> None:
        """Skip what is still queued and wait for the thread to end (safe to call after ``finish``): it sees
        ``_cancelled`` once the queue is empty, within ``WORKER_POLL_S``, with no item put for it."""
        self._cancelled = True
        self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


_END = object()


def _prefetch(items, name: str):
    """Iterate ``items`` on a thread of its own, ``QUEUE_FRAMES`` ahead of the consumer; errors are
    raised in the consumer. Close the generator to stop the thread (the ``with closing`` in the caller).

    The thread touches ``items`` only once ``go`` is set, after ``start()`` has returned inside the
    ``try``: an interrupt that lands while the thread is being started then cannot leave it decoding
    from a reader that the caller goes on to close (at exit, a crash in FFmpeg)."""
    handoff: queue.Queue = queue.Queue(QUEUE_FRAMES)
    go, stop = threading.Event(), threading.Event()

    def produce():
        while not go.wait(WORKER_POLL_S):
            if stop.is_set():
                return
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        handoff.put((True, item), timeout=WORKER_POLL_S)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put((True, _END))
        except BaseException as exc:  # handed to the consumer's thread, which raises it
            handoff.put((False, exc))

    thread = threading.Thread(target=as_rehue_worker(produce), name=name, daemon=True)
    try:
        thread.start()
        go.set()
        while True:
            ok, item = handoff.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        if go.is_set():  # the thread was started: wait until it has let go of ``items``
            while thread.is_alive():
                try:
                    handoff.get(timeout=WORKER_POLL_S)
                except queue.Empty:
                    pass
            thread.join()


class _ProgressCallback:
    """``progress`` given as a function: called as ``progress(done, total)`` after each frame is written
    (``total`` None where the file does not say). An exception raised in it stops the job, which then
    writes nothing: a service's way to cancel one. One call at a time, whichever of rehue's threads writes the
    frame, and none after one raised (probe 147: numbered frames' writers called it two at once, and 1 to 3
    times after it had cancelled)."""

    disable = False

    def __init__(self, report, total: int | None):
        self.report, self.total, self.n = report, total, 0
        self.last_print_n = 0
        self._calling = threading.Lock()
        self._raised = False

    def update(self, frames: int = 1) -> None:
        with self._calling:
            self.n += frames
            if self.total is not None and self.n > self.total:  # the header's estimate was short: unknown from here
                self.total = None
            self._report()

    def refresh(self) -> None:
        """``rehue.progress.finished`` calls it where the total is the count at last (probe 100: a service's last
        call said (30, 31), or (30, 8), and never (30, 30))."""
        with self._calling:
            self._report()

    def _report(self) -> None:
        if self._raised:
            return
        try:
            self.report(self.n, self.total)
        except BaseException:
            self._raised = True
            raise
        self.last_print_n = self.n

    def close(self) -> None:
        pass


def _progress_bar(progress, total: int | None, source: Path):
    """A bar on stderr named by ``source`` (``progress`` True), none (False), or the caller's function
    (``_ProgressCallback``)."""
    if callable(progress):
        return _ProgressCallback(progress, total)
    from rehue.progress import bar_name, progress_bar

    return progress_bar(total=total, desc=bar_name(source), unit="frame", disable=not progress, leave=False)


def _one_call_per_output(colour):
    """``colour(source, target, ...)`` holding ``target`` (`one_writer`): a second thread of this process colouring
    the same output waits for the first, then finds its output there (probe 139: called from two threads, the
    second's failure let go of the first's hidden folder, which a third run then took over, and removed the
    first's temporary file)."""
    import functools

    @functools.wraps(colour)
    def held(source, target, **options):
        from rehue.data.images import one_writer

        if not isinstance(target, (str, os.PathLike)):  # refused by ``colour`` in its own words
            return colour(source, target, **options)
        path_exists(target)  # a name no file can have (a NUL, too long), or in a folder not to be searched: said as
        # such, not as Python's own error of its real path (probe 228)
        with one_writer(target):
            return colour(source, target, **options)

    return held


def _encoder_settings(video: Path | None, codec: str, crf: int | None, preset: str | None) -> tuple[int, str]:
    """A film's crf and preset, refused where the encoder of ``video`` (None: numbered pictures) uses neither or
    takes no such crf (probe 167: the library took 60 for H.264, encoded at 51, and FFV1 "at crf 10"); None is
    the default."""
    from rehue.video.io import DEFAULT_CRF, DEFAULT_PRESET, check_encoder_settings

    given = [name for name, value in (("codec", None if codec == "auto" else codec), ("crf", crf), ("preset", preset))
             if value is not None]
    if video is None and given:  # probe 168: a codec too
        raise UsageError(f"{', '.join(given)}: not for a video into numbered frames (every frame is written as a "
                         "picture; quality sets JPEG's and WebP's)", settings=("quality",))
    if video is not None:
        check_encoder_settings([video], codec, crf=crf, preset=preset)
    return DEFAULT_CRF if crf is None else crf, DEFAULT_PRESET if preset is None else preset


def check_frames_into_folder(**settings) -> None:
    """A film's encoder settings or rate given for frames written into a folder are a UsageError (probe 167: passed
    over by a library call, as the command line refuses them); None, and a codec "auto", are none given."""
    given = [name for name, value in settings.items() if value is not None and (name, value) != ("codec", "auto")]
    if given:
        raise UsageError(f"{', '.join(given)}: not for frames into a folder (every frame is written as a picture; ext "
                         "sets its format)")


def check_video_target(target: Path) -> None:
    """A UsageError where a video's output, not a pattern of numbered frames, names one picture or numbered
    frames of a format rehue does not write."""
    from rehue.data.images import OUTPUT_FORMATS, is_video_path

    if FramePattern.of(target) is not None:
        return
    if any(match[0] != "%%" for match in PATTERN.finditer(target.name)) and not is_video_path(target):
        formats = ", ".join(sorted(set(OUTPUT_FORMATS) - {".jpeg", ".tiff"}))
        raise UsageError(f"{target}: names numbered frames as {target.suffix or 'files without an extension'}, which "
                         f"rehue does not write; name them {formats}")
    if target.suffix.lower() in OUTPUT_FORMATS:
        numbered = target.with_name(f"{target.stem}_%06d{target.suffix}")
        raise UsageError(f"{target}: names one picture, and a video's frames are written a picture each: name them "
                         f"with a number pattern, such as {numbered}, or write a video (.mp4, .mkv, ...)")


@_one_call_per_output
def colorize_video(source, target, *, colorizer: Colorizer, dependent_model: str = "default",
                   scene_mode: str = "robust", start: float | None = None, end: float | None = None,
                   side_by_side: bool = False, crf: int | None = None, preset: str | None = None, codec: str = "auto",
                   quality: int = 95, overwrite: bool = False, progress=True, log=None) -> VideoSummary:
    """Colour the video ``source`` into ``target`` (format by extension), keeping its audio, subtitles,
    frame timing, size and rotation. Nothing appears at ``target`` unless the whole job succeeds. A video
    file is encoded a piece of whole scenes at a time (``PiecedVideo``), so that a call stopped by an
    interrupt or an error keeps the pieces it finished, and the same call goes on after them.

    A ``target`` whose name holds a number pattern (``frames/film_%06d.png``, ``frames/film_######.dpx``:
    ``FramePattern``) gets the frames as numbered pictures, upright, 16-bit from a source deeper than 8 bits
    where the format holds it, JPEG and WebP at ``quality`` (``_VideoFrames``). ``codec``
    "ffv1" writes lossless RGB to an .mkv (``rehue.video.io.CODECS``), at 16 bits per sample for a source
    deeper than 8 (a 10-bit master's L* is kept to its last level). ``progress``: a bar on stderr (True),
    none (False), or a function called as ``progress(done, total)`` after each frame, which may raise to
    cancel the job.

    Four threads overlap: decoding (with the models' letterboxed view), scene detection and the
    models (here), the full-resolution compose, and encoding. FFmpeg, OpenCV and the model runtimes
    release the GIL, so two cores stay busy; bounded queues keep memory flat in the clip's length.
    """
    check_flags(side_by_side=side_by_side, overwrite=overwrite, progress=progress, progress_function=True)

    from rehue.data.images import DEEP_FORMATS, OUTPUT_FORMATS, head_kind, missing_reason
    from rehue.inference.files import check_quality, warn_in_colour
    from rehue.video.io import VideoReader, check_time_range, check_video_options, codec_named, encoders_for

    check_log(log)
    log = log or (lambda msg: print(msg, file=sys.stderr))
    codec = codec_named(codec)
    check_video_options(crf=crf, preset=preset, codec=codec, scene_mode=scene_mode)
    for given in (source, target):
        if not isinstance(given, (str, os.PathLike)):
            raise UsageError(f"colorize_video takes video files' paths, not {type(given).__name__}")
        if not os.fspath(given):  # Path("") is ".", a folder (probe 64)
            raise UsageError("colorize_video takes video files' paths, not an empty one")
    from rehue.data.images import typed_as_folder

    if typed_as_folder(target):  # probe 130: "v.mp4/" wrote the file v.mp4
        raise UsageError(f"{target}: names a folder (its trailing slash), and colorize_video writes one video file; "
                         "name the file")
    quality = check_quality(quality)
    start, end = check_time_range(start, end)
    colorizer = colorizer.for_video()
    source, target = Path(source), Path(target)
    if not path_exists(source):  # before its frames' sizes are read for a resume (probe 62: a FileNotFoundError)
        raise RehueError(missing_reason(source, "no such file"), source)
    if head_kind(source) in ("image", "unread"):
        raise RehueError("is a picture, not a video: colour it with Colorizer.colorize (rehue colorize writes it)",
                         source)
    pattern = FramePattern.of(target)
    moving_killed = False  # a run killed while it moved its frames into place, maybe this one's, to finish
    if pattern is not None:
        moving_killed = _check_frame_pattern(pattern, source, overwrite, log)
    else:
        check_video_target(target)
    crf, preset = _encoder_settings(target if pattern is None else None, codec, crf, preset)
    refuse_if_written_elsewhere(staging_folder_for(target if pattern is None else pattern.canonical),
                                target if pattern is None else pattern.folder)
    dependent = load_dependent(dependent_model, colorizer, log)
    software = video_provenance(colorizer, dependent)
    settings = _run_settings(colorizer, software, scene_mode, start=start, end=end, side_by_side=side_by_side)
    others: list[Path] = []  # interrupted runs' pieces of other settings, removed once this run is done
    if pattern is not None:
        settings.update(pattern=pattern.canonical.name, quality=quality)
        journal = (settings, frame_stats([source], content=True))
        with VideoReader(source) as whole:  # the number of the part's first frame, the first at or after start
            first = 1 + (math.ceil(start * whole.fps - 1e-6) if start and whole.fps else 0)
        if moving_killed:
            moving = moving_run(pattern.canonical, *journal)
            if moving is not None:
                return _finish_moving(moving, pattern.folder, lambda name: pattern.number(name) is not None,
                                      pattern.path, overwrite, log)
            _refuse_frames_there(pattern, overwrite)  # that run was one of another film or other settings
        resume = _interrupted_video_frames(pattern, journal, first, log)
    else:
        settings.update(encoder_settings(codec, crf, preset))
        journal = (settings, frame_stats([source], content=True))
        check_video_output(target, overwrite, inputs=(source,))  # before any interrupted run's pieces are looked at
        encoders_for(target, codec)  # a container that cannot be written, before the film's bar (probe 106)
        resume, others = interrupted_video(target, *journal, log)
    if isinstance(resume, InterruptedVideo) and resume.done:
        return _join_pieces(source, target, resume, journal, others, side_by_side=side_by_side, start=start, end=end,
                            crf=crf, preset=preset, codec=codec, software=software, overwrite=overwrite, log=log)
    if resume is not None and not _finds_frame_at(source, resume.time, end):
        log(f"note: {target}: the frame to go on from, at {resume.time:.2f} s, is not where a reader started there "
            "finds the film (a file without an index, or recordings joined end to end); it is coloured from the start")
        shutil.rmtree(resume.staging, ignore_errors=True)
        resume = None
    colour_table()  # one-off setup like loading the models (under a second), so not in the job's frame rate
    started = time.perf_counter()
    with VideoReader(source, start=resume.time if resume is not None else start, end=end) as reader:
        if start is not None and reader.duration_s is not None and start >= reader.duration_s:
            raise RehueError(f"the start, {start:g} s, is past the end of the video ({reader.duration_s:.2f} s)",
                             source)
        bars = None
        if colorizer.borders == "neutral":
            if resume is None:
                bars = find_video_bars(reader)
            else:  # as the run it goes on from found them
                with VideoReader(source, start=start, end=end) as part:
                    bars = find_video_bars(part)
            if bars is not None:
                shown = upright_box(bars, reader.rotation, reader.height, reader.width)
                log(f"{source}: bars around the picture; colouring the {shown.width}x{shown.height} picture inside "
                    "them and leaving the bars gray (--borders model to colour everything)")
        rotation = reader.rotation
        if pattern is not None:  # before the colouring, not at the first frame's saving (probe 216)
            from rehue.data.images import check_side_limit

            width, height = (reader.height, reader.width) if rotation % 180 else (reader.width, reader.height)
            check_side_limit(pattern.path, width * (2 if side_by_side else 1), height)
        state = SceneColorizer(colorizer, dependent, scene_mode, model_workers=model_workers(colorizer),
                               bars=bars, rotation=rotation, **_states_of(resume))
        bar = _progress_bar(progress, reader.frame_count, source)
        if pattern is None:
            # the sound, subtitles, chapters and time code of the part, wherever this run starts in it
            with VideoReader(source, start=start, end=end) if resume is not None else nullcontext(reader) as part:
                video = _film_writer(part, target, side_by_side=side_by_side, crf=crf, preset=preset, codec=codec,
                                     software=software, overwrite=overwrite)
            deep = video.deep  # 16 bits a sample from a source deeper than 8 into a codec that holds them
            try:
                sink = PiecedVideo(video, journal=journal, resume=resume, scene_starts=state.fresh_starts, log=log,
                                   states=state.states)
                if start:  # as the run going on says it (probe 47)
                    sink.frame_label = lambda index: f"{index + 1:,} of the part"
            except BaseException:
                video.abort()
                raise
        else:
            deep = OUTPUT_FORMATS[pattern.suffix.lower()] in DEEP_FORMATS and reader.bits_per_sample > 8
            sink = _VideoFrames(pattern, reader, first=first, deep=deep, quality=quality,
                                software=software, timer=state.timer, bar=bar, overwrite=overwrite, log=log,
                                journal=journal, resume=resume)
        with closing(bar), sink as writer:  # the bar closed after the frames' writing threads count theirs
            if pattern is None:
                _warn_of_what_is_lost(reader, writer)

            def decoded():
                tick = time.perf_counter()
                tint_checked, tinted = state.tinted is not None, bool(state.tinted)  # taken up in a shot

                def lightness(frame):
                    """The decoder's luma, or for a tinted print the gray of its colours' L* (the luma is
                    not L* for a tint's colours), as a colour photo's is kept. A master's from its exact
                    levels whatever the output's depth, so its copies are cut into the same scenes."""
                    if not tinted:
                        return frame.gray16 if deep else frame.gray
                    return tint_gray(frame, deep)

                for frame in reader:
                    gray = lightness(frame)
                    gray8 = to_uint8(gray)
                    # the first frame with a picture (a reel may open on black leader or a fade)
                    if not tint_checked and (gray8.mean() > TINT_CHECK_LEVEL or frame.index >= TINT_CHECK_FRAMES):
                        tint_checked = True
                        tinted = state.tinted = has_colour(frame.rgb[::2, ::2])
                        if tinted:
                            warn_in_colour(source, reader.coloured_by_rehue, FILM_GUESS)
                            gray = lightness(frame)
                            gray8 = to_uint8(gray)
                    letterboxed = state.letterbox(gray8)
                    state.timer.add("decode", time.perf_counter() - tick)
                    # not the frame: its decoder buffer can go back; no time to seek to after a joint of recordings
                    yield frame.pts, None if frame.retimed else frame.time, gray, letterboxed
                    tick = time.perf_counter()

            def encode(item):
                (pts, time_s, gray), rgb = item
                if side_by_side:
                    shown_gray = np.repeat(gray[..., None], 3, axis=2)
                    rgb = as_stored(np.concatenate([upright(shown_gray, rotation), upright(rgb, rotation)], axis=1),
                                    rotation)
                tick = time.perf_counter()
                if pattern is not None:  # a frame file is timed and counted as it is saved, on the writing threads
                    writer.write(rgb, pts)
                    return
                writer.write(rgb, pts, time_s=time_s)
                state.timer.add("encode", time.perf_counter() - tick)
                bar.update(1)

            encoder = composer = None
            try:
                encoder = _Worker(encode, "rehue-encode")
                composer = _Worker(lambda decided: encoder.put(state.compose(decided)), "rehue-compose")
                times, recorded = {}, 0  # frames' times, for the journal of the scenes found (frames out)
                with closing(_prefetch(decoded(), "rehue-decode")) as frames:
                    for index, (pts, time_s, gray, letterboxed) in enumerate(frames):
                        times[index] = time_s
                        for decided in state.push_ab(gray, (pts, time_s, gray), letterboxed):
                            composer.put(decided)
                        if pattern is not None and len(state.fresh_starts) > recorded:
                            found = state.fresh_starts[recorded:]
                            writer.scenes_found(found, [times[start] for start in found])
                            recorded = len(state.fresh_starts)
                        if pattern is not None:  # a piece of a video file takes its own (PiecedVideo)
                            for following in [key for key in state.states if key in times]:
                                writer.state_found(following, state.states.pop(following), times[following])
                        times.pop(index - 64, None)  # a scene is found a few frames after its start
                for decided in state.flush_ab():
                    composer.put(decided)
                if state.independent_frames + state.dependent_frames == 0 and (start is not None or end is not None):
                    shown = f"from {start or 0:g} s" + (f" to {end:g} s" if end is not None else " on")
                    raise RehueError(f"no frame starts in the part asked for ({shown}): it lies between two frames' "
                                     "starts, or after the last one's; ask for a longer part", source)
                composer.finish()
                encoder.finish()
                if pattern is None:  # numbered frames' bar is counted on the writing threads (_VideoFrames)
                    finished(bar)
            finally:
                for worker in (composer, encoder):
                    if worker is not None:
                        worker.cancel()
                state.close()
    summary = VideoSummary(
        frames=writer.frames_written, scenes=len(state.scene_starts) + 1, scene_starts=state.scene_starts,
        seconds=time.perf_counter() - started, independent_frames=state.independent_frames,
        dependent_frames=state.dependent_frames, eased_frames=state.eased_frames,
        timings_ms=state.timer.means_ms(), output=target, kept=resume.start if resume is not None else 0)
    for staging in others:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"{target}: {summary.line()}")
    return summary


def _join_pieces(source: Path, target: Path, resume: InterruptedVideo, journal: tuple[dict, list],
                 others: list[Path], *, side_by_side: bool, start: float | None, end: float | None, crf: int,
                 preset: str, codec: str, software: str, overwrite: bool, log) -> VideoSummary:
    """``colorize_video`` of a film whose every piece an earlier run coloured, stopped while it joined them (or
    by a full disk then): the pieces joined into ``target`` with the part's sound, as that run would have."""
    from rehue.video.io import VideoReader

    started = time.perf_counter()
    with VideoReader(source, start=start, end=end) as part:
        video = _film_writer(part, target, side_by_side=side_by_side, crf=crf, preset=preset, codec=codec,
                             software=software, overwrite=overwrite)
    try:
        sink = PiecedVideo(video, journal=journal, resume=resume, scene_starts=[], log=log)
    except BaseException:
        video.abort()
        raise
    with sink:
        pass
    return _joined(target, resume, others, started, log)


def _film_writer(part, target: Path, *, side_by_side: bool, crf: int, preset: str, codec: str, software: str,
                 overwrite: bool):
    """``colorize_video``'s writer for the film ``part`` reads, with its sound and subtitles: twice as wide
    side by side, or twice as tall for a portrait film (its gray left of its colour as displayed), and 16
    bits per sample from a source deeper than 8 into a codec that holds them."""
    from rehue.video.io import VideoWriter

    sideways = side_by_side and part.rotation % 180
    return VideoWriter.like(part, target, width=part.width * (2 if side_by_side and not sideways else 1),
                            height=part.height * (2 if sideways else 1), crf=crf, preset=preset, codec=codec,
                            deep=codec in DEEP_CODECS and part.bits_per_sample > 8, comment=software,
                            overwrite=overwrite)


def _joined(target: Path, resume: InterruptedVideo, others: list[Path], started: float, log) -> VideoSummary:
    summary = VideoSummary(seconds=time.perf_counter() - started, output=target, kept=resume.start)
    for staging in others:
        shutil.rmtree(staging, ignore_errors=True)
    log(f"{target}: {summary.line()}")
    return summary


def _states_of(resume: Interrupted | InterruptedVideo | None) -> dict:
    """``SceneColorizer``'s settings for a film coloured so that an interrupted run goes on: its state saved
    every ``PIECE_FRAMES`` frames (where a piece of a video file may end in a shot, and a folder of frames
    may go on from), and taken up where an interrupted run's ``resume`` went on from one."""
    from rehue.video import pieces

    settings = {"first": resume.start if resume is not None else 0, "state_every": pieces.PIECE_FRAMES}
    if resume is not None and resume.state is not None:
        settings["state"] = load_state(resume.state)
    return settings


def _finds_frame_at(source: Path, time_s: float, end: float | None) -> bool:
    """Whether a reader started at ``time_s`` finds the frame of that time first, as a run going on from it
    must: a seek in a file without an index, or across recordings joined end to end, can land elsewhere."""
    from rehue.video.io import VideoReader

    with VideoReader(source, start=time_s, end=end) as reader:
        frame = next(iter(reader), None)
        tolerance = 0.5 / float(reader.fps) if reader.fps else 0.02
        return frame is not None and abs(frame.time - time_s) <= tolerance


def _interrupted_video_frames(pattern: FramePattern, journal: tuple[dict, list], first: int, log
                              ) -> Interrupted | None:
    """The hidden folder that an interrupted run of the same film, settings and pattern left, to go on from
    (``rehue.video.resume``); those of other runs are removed, with a note."""
    found = None
    typed = interrupted_runs(pattern.path) if pattern.path != pattern.canonical else []  # an older rehue's name
    for staging in [*interrupted_runs(pattern.canonical), *typed]:  # for it: removed below (probe 141: left)
        points = [*scene_start_times(staging), *saved_states(staging)]  # where a run may go on from
        names = [pattern.name(first + index) for index in range(max(points, default=0))]
        run = resumable(staging, *journal, names) if found is None else None
        if run is not None and run.time is not None:
            log(f"{pattern.folder}: going on from frame {pattern.name(first + run.start)} ({run.start:,} frames kept, "
                f"at {run.time:.2f} s), where an earlier run stopped")
            _say_damaged_state(pattern.folder, run, lambda index: pattern.name(first + index), log)
            found = run
            continue
        why = _why_not_gone_on_from(staging, *journal)
        shutil.rmtree(staging, ignore_errors=True)
        log(f"note: {pattern.folder}: removed an interrupted run's frames ({staging.name}), which {why}")
    return found


def _finish_moving(staging: Path, folder: Path, is_frame, output: Path, overwrite: bool, log) -> VideoSummary:
    """Put in place the frames (the names ``is_frame`` says are) that an interrupted run of the same film and
    settings had coloured and was moving into ``folder`` when it was killed (probe 59: 113 of 491 moved, and the
    same command refused the folder as holding frames already). A frame in both places (killed between a move's
    link and unlink) is the same file. A run that was replacing frames there (``--overwrite``) is finished by
    one that may replace them too."""
    started = time.perf_counter()
    replacing = moved_over(staging)
    if replacing and not overwrite:
        raise RehueError("an earlier run of this film, with --overwrite, was killed while it put its frames in "
                         "place over those there; pass --overwrite to finish it", folder)
    names = sorted(entry.name for entry in os.scandir(staging) if is_frame(entry.name))
    try:
        with signals_held():
            for name in names:
                if os.path.lexists(folder / name) and os.path.samefile(staging / name, folder / name):
                    os.unlink(staging / name)
                else:
                    move_into_place(staging / name, folder / name, replacing or overwrite)
            remove_journal(staging)
            os.rmdir(staging)
    except OSError as exc:
        raise RehueError(f"cannot move the coloured frames into place ({exc.strerror or exc})", folder) from None
    summary = VideoSummary(seconds=time.perf_counter() - started, output=output, kept=len(names), placed=True)
    log(f"{output}: {summary.line()}")
    return summary


def _refuse_outputs_there(frames: list[Path], names: list[str], target: Path, overwrite: bool) -> None:
    """``colorize_frames``' check that no file is in the way of a frame's colour version in the folder ``target``."""
    from rehue.data.images import check_output_path

    if target.is_dir():
        for frame, name in zip(frames, names, strict=True):
            try:
                check_output_path(target / name, overwrite, inputs=(frame,))
            except OutputExists as exc:
                kept = _kept_for(target)
                if not kept:
                    raise
                raise OutputExists(exc.reason + kept, exc.path) from None


def say_placed(exc: BaseException, said: str, log) -> None:
    """A note that the film was whole in place before the interrupt ``exc``: on the exception too, so that --quiet,
    which leaves notes unsaid, says it with the interrupt (probe 223), as `say_what_was_kept` does."""
    if isinstance(exc, KeyboardInterrupt):
        exc.add_note(said)
    log(f"note: {said}")


def _kept_for(target: Path) -> str:
    """The words that name the frames an interrupted run (an --overwrite's) kept for ``target``, which --overwrite
    goes on from: a refusal said only "pass --overwrite to replace", as if that began again (probe 221)."""
    kept = interrupted_runs(target)
    return (f", going on from the coloured frames an interrupted run kept for it in {kept[0]} where its settings "
            "were these (or remove them)") if kept else ""


def _refuse_frames_there(pattern: FramePattern, overwrite: bool) -> None:
    taken = pattern.taken()
    if taken and not overwrite:
        kept = _kept_for(pattern.canonical)
        raise RehueError(f"holds {counted(len(taken), 'frame')} of this name already, such as {taken[0].name}; pass "
                         f"--overwrite to replace them{kept}" + ("" if kept else ", or name another folder or pattern"),
                         pattern.folder)


def _check_frame_pattern(pattern: FramePattern, source: Path, overwrite: bool, log) -> bool:
    """Refuse numbered frames that the film itself, another film's frames, or a file, are in the way of;
    remove what a killed run of them left. True where a run was killed while it moved its frames into place:
    the frames there are then judged once the run's settings are known (`colorize_video`)."""
    from rehue.data.images import is_same_file, remove_stale_temps

    if pattern.folder.exists() and not pattern.folder.is_dir():
        raise RehueError("is not a folder, and the frames were to go into it", pattern.folder)
    if pattern.number(source.name) is not None and is_same_file(source, pattern.folder / source.name):
        raise RehueError("is the film being coloured, and its name is one its frames would be written under; name "
                         "another folder or pattern", source)  # even with --overwrite (probe 41: it was replaced)
    moving_killed = was_moving(pattern.canonical)
    if not moving_killed:
        _refuse_frames_there(pattern, overwrite)
    stale = remove_stale_temps([pattern.canonical, pattern.path, pattern.folder])
    if stale:
        log(f"note: removed {counted(len(stale), 'folder')} of frames that a killed run left, such as {stale[0]}")
    return moving_killed


def _warn_of_what_is_lost(reader, writer) -> None:
    """A warning each for what the colour version cannot keep: samples deeper than 8 bits (but in a
    lossless master), and streams other than the picture, the sound, the subtitles, the chapters and the
    timecode, or subtitles and attached files that the output's container cannot hold."""
    if reader.bits_per_sample > 8 and not writer.deep:
        logger.warning("%s: its %d-bit samples are coloured and written at 8 bits, as players expect "
                       "(--codec ffv1 keeps every level, in a 16-bit lossless .mkv; --codec prores keeps 10 bits, "
                       "in a .mov for editing)", reader.path, reader.bits_per_sample)
    if left := writer.left_out + reader.streams_not_carried():
        verb = "is" if left == [left[0]] and left[0].startswith("1 ") else "are"
        logger.warning("%s: %s %s not carried to the colour version (rehue writes the picture, the sound, the "
                       "subtitles, the chapters and the timecode)", reader.path, listed(left), verb)


def _one_frame_twice(frames: list[Path]) -> tuple[Path, Path] | None:
    """Two files of one frame: one name but their extension (``f_0001.tif``, ``f_0001.jpg``: a master and a
    proxy), or one number in the film's numbering written two ways (``f_1.png``, ``f_01.png``)."""
    numbered, patterns, _, _ = numbering_of(frames)
    seen: dict[object, Path] = {}
    for frame, match, pattern in zip(frames, numbered, patterns, strict=True):
        key = (pattern, int(match[2])) if match else with_output_suffix(frame, "").name.lower()
        if key in seen:
            return seen[key], frame
        seen[key] = frame
    return None


def _warn_of_8_bits(source: Path, target: Path, to_video: bool, codec: str, deep_format: bool, log,
                    bits: int = 16) -> None:
    """A warning where frames of ``bits`` (a DPX or Cineon scan's 10 or 12, else 16) are written at 8 bits, as
    for a film deeper than 8 (``_warn_of_what_is_lost``)."""
    if to_video and codec not in DEEP_CODECS:
        log(f"warning: {source}: its {bits}-bit frames are coloured and written at 8 bits into {target.suffix}, as "
            "players expect (--codec ffv1 keeps every level, in a 16-bit lossless .mkv; --codec prores keeps 10 bits, "
            "in a .mov for editing)")
    elif not to_video and not deep_format:
        log(f"warning: {source}: its {bits}-bit frames are written at 8 bits, as the output format holds (--ext .png, "
            ".tif or .dpx keeps their depth)")


def _warn_of_older_frames(target: Path, frames: list[Path], names: list[str], log) -> None:
    """A warning for files in ``target`` numbered as this film's frames but not among them: frames of an
    earlier, longer colouring, which would be taken for this film's. They are the user's, so they stay."""
    _, _, pattern, _ = numbering_of([target / name for name in names])
    if pattern is None:
        return
    written = set(names)
    older = sorted(p.name for p in target.iterdir() if p.name not in written and p.is_file()
                   and (m := re.fullmatch(r"(.*?)(\d+)(\D*)", p.name))
                   and (m[1], _without_image_suffix(m[3].lower())) == pattern)
    stems = {Path(name).stem for name in names}
    formats = [name for name in older if Path(name).stem in stems]  # this film's frames in another format
    older = [name for name in older if name not in formats]
    if formats:  # probe 154: said as "not of it", as frames of a longer film are
        log(f"warning: {target}: {counted(len(formats), 'frame')} of this film in another format, such as "
            f"{formats[0]}, {'is' if len(formats) == 1 else 'are'} left from an earlier colouring beside its "
            f"{Path(names[0]).suffix} frames (remove them before using the folder as this film)")
    if older:
        log(f"warning: {target}: {counted(len(older), 'frame')} numbered as this film's but not of it, such as "
            f"{older[0]}, {'is' if len(older) == 1 else 'are'} left from an earlier colouring; this film has "
            f"{counted(len(frames), 'frame')} (remove them before using the folder as this film)")


RESTRAINT_SETTINGS = ("chroma", "ab_smoothing", "ab_guide_radius", "ab_guide_eps", "mean_share", "borders")


def _run_settings(colorizer: Colorizer, software: str, scene_mode: str, **more) -> dict:
    """What an interrupted run's journal keeps to tell whether another run may go on from it: all that
    changes the colours (the models, scene detection, the runtime and the restraint) and ``more``."""
    return {"software": software, "scene_mode": scene_mode, "backend": colorizer.backend,
            "device": str(colorizer.device), **{key: getattr(colorizer, key) for key in RESTRAINT_SETTINGS}, **more}


def _interrupted_run(target: Path, settings: dict, stats: list[list], names: list[str], log
                     ) -> tuple[Interrupted | None, list[Path]]:
    """The hidden folder an interrupted run of the same film and settings left for ``target``, to go on
    from, and those that runs of other settings left (with a note), which stay until this run is done."""
    found, others = None, []
    for staging in interrupted_runs(target):
        run = resumable(staging, settings, stats, names) if found is None else None
        if run is not None:
            log(f"{target}: going on from frame {run.start + 1:,} of {len(names):,} ({stats[run.start][0]}), where an "
                "earlier run stopped")
            _say_damaged_state(target, run, lambda index: stats[index][0], log)
            found = run
            continue
        others.append(staging)
        why = _why_not_gone_on_from(staging, settings, stats)
        log(f"note: {target}: an interrupted run's frames in {staging}, which {why}, are not used, and are removed "
            "once this run is done")
    return found, others


def _why_not_gone_on_from(staging: Path, settings: dict, stats: list[list]) -> str:
    """Why an interrupted run's frames in ``staging`` are not gone on from: its settings or film differ, or it
    had nothing yet (probe 49: a run killed in its first 500 frames was said to be of other settings)."""
    differs = what_differs(staging, settings, stats)
    if differs == "damaged":
        return ("held no frame to go on from (it stopped before a scene's first frame or a saved state, or its "
                "frames were damaged)")
    return f"were {differs}"


def _say_damaged_state(subject: Path, run: Interrupted, name, log) -> None:
    """A note where a later point to go on from was passed over, its saved state changed since (probe 48)."""
    if run.damaged_state is not None:
        log(f"note: {subject}: the colouring's state saved before frame {name(run.damaged_state)} changed since it "
            "was written, so the frames from the point before it are coloured again")


def frame_files(folder: Path) -> list[Path]:
    """The image files of ``folder`` (not its subfolders) in the order of their numbers: frame_9 before
    frame_10, as scanners and editing software number a film's frames."""
    from rehue.data.images import media_kind

    def order(path: Path):
        return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]

    return sorted(_frame_files_unsorted(folder, media_kind), key=order)


def _frame_files_unsorted(folder: Path, media_kind):
    return (p for p in Path(folder).iterdir() if not p.name.startswith(".") and p.is_file()
            and media_kind(p) == "image")  # scan.0001 and f0001 too, as some scanners name them


def holds_frame_files(folder: Path) -> bool:
    """Whether ``folder`` holds any of `frame_files`, found without reading every frame's first bytes (a reel's
    folder can hold a hundred thousand)."""
    from rehue.data.images import media_kind

    return next(_frame_files_unsorted(folder, media_kind), None) is not None


def numbering_of(frames: list[Path]):
    """The last number in each frame's name (a match, or None), what is around it (None without one), and
    the commonest of those with the count of frames that share it: the numbering most of a film follows."""
    numbered = [re.fullmatch(r"(.*?)(\d+)(\D*)", frame.name) for frame in frames]  # the last number in a name
    patterns = [(m[1], _without_image_suffix(m[3].lower())) if m else None for m in numbered]  # what is around it
    main_pattern, count = Counter(patterns).most_common(1)[0] if patterns else (None, 0)
    return numbered, patterns, main_pattern, count


def _without_image_suffix(tail: str) -> str:
    """What follows a frame's number less its picture format's extension: ``r_0001.dpx`` and ``r_0002.png``
    follow one numbering (a film in two formats, which ``numbering_warnings`` names apart)."""
    from rehue.data.images import IMAGE_SUFFIXES

    suffix = tail[tail.rfind("."):] if "." in tail else ""
    return tail[: -len(suffix)] if suffix in IMAGE_SUFFIXES else tail


def outside_numbering(frames: list[Path]) -> list[Path]:
    """The files of ``frames`` outside the numbering most of them follow (a cover scan, a contact sheet);
    none where no two frames share one numbering."""
    _, patterns, main_pattern, count = numbering_of(frames)
    if main_pattern is None or count < 2:
        return []
    return [frame for frame, pattern in zip(frames, patterns, strict=True) if pattern != main_pattern]


def strays_of_another_size(frames: list[Path]) -> tuple[list[Path], list[str]]:
    """``frames`` less the files outside their numbering whose size is not the numbered frames', with a
    warning for each left out. A film's frames share one size, so such a file (a cover scan) is no frame
    of it; coloured where its name sorts, it stopped the film with an error that blamed a frame. A numbered
    frame of another size is still an error (``colorize_frames``): it is the film's, damaged or rescanned."""
    from rehue.data.images import load_image

    strays = set(outside_numbering(frames))
    if not strays:
        return frames, []
    first = next(frame for frame in frames if frame not in strays)
    height, width = load_image(first).rgb.shape[:2]  # loaded as decoded: turned upright by its EXIF
    kept, warnings = [], []
    for frame in frames:
        if frame in strays and (size := load_image(frame).rgb.shape[:2]) != (height, width):
            warnings.append(f"{frame.name} is {size[1]}x{size[0]}, not {width}x{height} as the numbered frames; "
                            "it is left out of the film")
        else:
            kept.append(frame)
    return kept, warnings


def numbering_warnings(frames: list[Path], done: str = "coloured") -> list[str]:
    """What looks wrong in a film's numbered frames, in ``frame_files`` order: files outside the
    numbering most of them follow (a cover scan, a contact sheet) and gaps in it (frames lost or taken
    out). They are ``done`` ("coloured", or "read" for a dataset or a score) as they are; the warning lets
    a person check the film before trusting it."""
    numbered, patterns, main_pattern, count = numbering_of(frames)
    if main_pattern is None or count < 2:
        return []
    warnings = []
    strays = [frame.name for frame, pattern in zip(frames, patterns, strict=True) if pattern != main_pattern]
    if strays:
        shown = ", ".join(strays[:3]) + (f" and {len(strays) - 3} more" if len(strays) > 3 else "")
        warnings.append(f"{shown} do not follow the numbering of the other {count} frames; they are {done} as "
                        "frames where their names sort" if len(strays) > 1 else
                        f"{shown} does not follow the numbering of the other {count} frames; it is {done} as a "
                        "frame where its name sorts")
    formats = Counter(frame.suffix.lower() for frame, pattern in zip(frames, patterns, strict=True)
                      if pattern == main_pattern)
    if len(formats) > 1:
        warnings.append(f"its frames are in {len(formats)} formats ("
                        + ", ".join(f"{count} {suffix or 'without an extension'}" for suffix, count in
                                    formats.most_common())
                        + f"); they are {done} as one film, in the order of their numbers")
    numbers = [int(m[2]) for m, pattern in zip(numbered, patterns, strict=True) if pattern == main_pattern]
    gaps = [(a, b) for a, b in itertools.pairwise(numbers) if b - a > 1]
    if gaps:
        missing = sum(b - a - 1 for a, b in gaps)
        shown = ", ".join(f"{a + 1}" if b - a == 2 else f"{a + 1}-{b - 1}" for a, b in gaps[:3])
        after = ("the frames on either side of a gap are coloured as neighbours" if done == "coloured" else
                 "the frames after a gap are timed by their numbers" if not strays else
                 "the frames after a gap are timed by their place in the folder")
        warnings.append(f"the numbering skips {'frame' if missing == 1 else f'{missing} frames:'} {shown}"
                        f"{' ...' if len(gaps) > 3 else ''}; {after}")
    return warnings


def film_frames(source: Path, log, done: str = "coloured", asked_by: str = "--frames") -> list[Path]:
    """The frames of the film in the folder ``source``, in order (``frame_files``), less strays of another
    size; a warning for what looks wrong in them (``numbering_warnings``: what is ``done`` with them) and for
    frames in formats rehue does not read, and an error where there are none, saying why. ``asked_by``: the
    option that has folders read as films, where one did (`rehue scenes` reads any folder so)."""
    from rehue.data.images import IMAGE_SUFFIXES, UNREAD_MEDIA_SUFFIXES, missing_reason

    source = Path(source)
    if not source.is_dir():
        raise RehueError("--frames takes folders of numbered frames, not a file", source)
    listed = frame_files(source)
    frames, warnings = strays_of_another_size(listed)
    twice = _one_frame_twice(frames)
    if twice:
        how = "in two formats (a master and a proxy?); keep one format per folder" \
            if twice[0].suffix.lower() != twice[1].suffix.lower() else "numbered alike; keep one"
        raise RehueError(f"{twice[0].name} and {twice[1].name} are one frame {how}", source)
    entries = list(source.iterdir())  # once: a reel's folder can hold a hundred thousand frames
    # probe 206: a frame's broken link, or a folder named as a frame, said as a gap in the numbering alone
    files = {path.name for path in listed}  # stat only the names not among them
    not_files = sorted((p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in files
                        and not p.name.startswith(".") and not p.is_file()), key=lambda path: path.name)
    if not_files:
        first = not_files[0]
        not_a_file = f"{first.name}: {'a folder' if first.is_dir() else missing_reason(first, 'not a file')}"
    if frames and not_files:
        log(f"warning: {source}: {not_a_file}; the film is read without it" if len(not_files) == 1 else
            f"warning: {source}: {len(not_files):,} of its frames' names are no picture file, such as {not_a_file}; "
            "the film is read without them")
    for warning in warnings + numbering_warnings(frames, done):
        log(f"warning: {source}: {warning}")
    # frames in formats rehue does not read: a CinemaDNG reel's raw frames, a phone's HEIC stills
    unread = Counter(p.suffix[1:].upper() for p in entries if p.suffix.lower() in UNREAD_MEDIA_SUFFIXES)
    if not frames:
        if unread:
            raise RehueError(f"{'/'.join(sorted(unread))} frames are not read by rehue; convert them to 16-bit TIFF "
                             "or DPX first", source)
        reels = _reel_folders(source)
        if reels:
            example = f", as in rehue colorize {source / reels[0]} ... -o OUT --frames" if done == "coloured" else \
                f", such as {source / reels[0]}"
            raise RehueError(f"no image frames in this folder, but folders of them ({', '.join(reels[:3])}"
                             f"{' ...' if len(reels) > 3 else ''}): name each film's folder{example}", source)
        if videos := _videos_in(entries):
            how = f"without {asked_by}, which takes folders of numbered frames" if asked_by else \
                "as a folder is read as one film's numbered frames"  # probe 129: scenes has neither option
            raise RehueError(f"no image frames in this folder, but {_listed(videos, 'video')}: name each video itself, "
                             f"as in {source / videos[0]}, {how}", source)
        if not_files:  # probe 210: a reel of links into a drive not mounted
            raise RehueError(f"no image frames in this folder: {not_a_file}" if len(not_files) == 1 else
                             f"no image frames in this folder: its {len(not_files):,} frames' names are no picture "
                             f"file, such as {not_a_file}", source)
        raise RehueError("no image frames in this folder", source)
    if videos := _videos_in(entries):  # probe 83: a folder of films and a cover picture was a film of one frame
        log(f"warning: {source}: its {_listed(videos, 'video')} {'is' if len(videos) == 1 else 'are'} not part of "
            f"this film, which is its own "
            f"{counted(len(frames), 'frame')}; name each video to "
            f"{'colour' if done == 'coloured' else 'read'} it")
    if unread:
        kinds = "/".join(sorted(unread)) + " file"
        log(f"warning: {source}: {counted(sum(unread.values()), kinds)} passed over: rehue does not read them; the "
            f"film is the {counted(len(frames), 'frame')} of other formats")
    reels = _reel_folders(source)
    if reels:
        log(f"warning: {source}: its folders of frames ({', '.join(reels[:3])}{' ...' if len(reels) > 3 else ''}) are "
            f"not part of this film, which is its own {counted(len(frames), 'frame')}; name each film's folder to "
            f"{'colour' if done == 'coloured' else 'read'} it")  # probe 120: evaluate was told to colour it
    return frames


def _videos_in(entries: list[Path]) -> list[str]:
    """The names of the videos among a folder's ``entries``, by their extensions."""
    from rehue.data.images import VIDEO_SUFFIXES

    return sorted(path.name for path in entries
                  if path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".") and path.is_file())


def _listed(names: list[str], kind: str) -> str:
    """How many ``kind`` there are, the first three named: ``2 videos (a.mp4, b.mkv)``."""
    more = " ..." if len(names) > 3 else ""
    return f"{counted(len(names), kind)} ({', '.join(names[:3])}{more})"


def _reel_folders(source: Path) -> list[str]:
    """The folders in ``source`` that hold pictures (reels of a film, each a film of frames)."""
    from rehue.data.images import media_kind

    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and any(media_kind(f) == "image" for f in islice(p.iterdir(), 50)))


class FilmGray:
    """A video's frames at 8 bits as ``colorize_video`` shows them to the scene detector: the decoder's luma,
    or, for a film in colour already (a tinted print, or a colour film given to ``rehue scenes`` and
    ``rehue frames``), the gray of its colours' L*, which is not the luma. Whether it is in colour is
    looked at as ``colorize_video`` looks: on the first frame brighter than ``TINT_CHECK_LEVEL``, or frame
    ``TINT_CHECK_FRAMES`` at the latest (probe 40: `rehue scenes` judged a colour film by its luma and found
    cuts colouring did not)."""

    def __init__(self):
        self.checked = self.tinted = False

    def __call__(self, frame) -> np.ndarray:

        gray = tint_gray(frame) if self.tinted else frame.gray
        if not self.checked and (gray.mean() > TINT_CHECK_LEVEL or frame.index >= TINT_CHECK_FRAMES):
            self.checked = True
            self.tinted = has_colour(frame.rgb[::2, ::2])
            if self.tinted:
                gray = tint_gray(frame)
        return gray


def tint_gray(frame, deep: bool = False) -> np.ndarray:
    """The gray of a frame's colours' L* (a tinted print's: its luma is not L*), 16-bit with ``deep``; a
    master's from its exact levels at either depth, as its 8-bit gray is (``Frame.gray``)."""
    from rehue.color.lab import rgb_to_gray

    if not frame.deep:
        return rgb_to_gray(frame.rgb)
    gray = rgb_to_gray(frame.rgb48, np.uint16)
    return gray if deep else to_uint8(gray)


def frame_gray(image) -> tuple[np.ndarray, np.ndarray]:
    """A frame file's gray as coloured (16-bit where the file is), and at 8 bits for the scene detector."""
    from rehue.color.lab import rgb_to_gray

    if image.deep_gray is not None:
        return image.deep_gray, to_uint8(image.deep_gray)
    gray = image.rgb[..., 0] if image.is_gray else rgb_to_gray(image.rgb)
    return gray, gray


def scan_format(frame: Path) -> str:
    """The kind of frame whose header a film's rate was read from: "Cineon", "OpenEXR" or "DPX"."""
    return {".cin": "Cineon", ".exr": "OpenEXR"}.get(frame.suffix.lower(), "DPX")


def film_header(frame: Path):
    """The header of a DPX, OpenEXR or Cineon frame (its module's ``Header``), read from the file's start
    alone; None for a frame of another format, or one whose header cannot be read."""
    from rehue.data import cineon, exr

    try:
        with open(frame, "rb") as file:
            head = file.read(max(dpx.HEADER_BYTES, exr.HEADER_BYTES))  # an OpenEXR header may run longer
        for kind in (cineon, exr, dpx):
            if head[:4] in kind.MAGIC_NUMBERS:
                return kind.Header(head)
    except (OSError, ValueError):
        pass
    return None


def dpx_timing(frame: Path) -> tuple[float | None, str | None]:
    """A DPX frame's frame rate and time code, as its film and television headers give them, an OpenEXR
    frame's (``framesPerSecond``, ``timeCode``), or a Cineon frame's rate, as its film header gives it (None
    for each it does not give, and for a frame of another format), read from the header alone."""
    return _timing(film_header(frame))


def _timing(header) -> tuple[float | None, str | None]:
    """A DPX, OpenEXR or Cineon header's frame rate and time code; a drop-frame one in SMPTE's own notation,
    HH:MM:SS;FF (probe 154: written into a video as non-drop, 108 frames off at the hour)."""
    if header is None:
        return None, None
    time_code, word = getattr(header, "time_code", None), getattr(header, "time_code_word", None)
    if time_code is not None and word is not None and word & dpx.DROP_FRAME:
        time_code = f"{time_code[:8]};{time_code[9:]}"
    return header.frame_rate, time_code


def pixel_aspect(header) -> Fraction | None:
    """A DPX or OpenEXR header's pixel aspect ratio (a pixel's width over its height) where it says its pixels
    are not square (an anamorphic or DV scan's), as a video's sample aspect ratio; else None."""
    aspect = Fraction(getattr(header, "pixel_aspect", 1.0)).limit_denominator(1000)
    return aspect if aspect != 1 else None


def find_frame_bars(frames: list[Path]) -> Box | None:
    """``find_bars`` over frames spread through a film of frame files. A frame that cannot be read is left
    out here: it is reported when the film reaches it, after the frames before it are coloured (and kept,
    for a run that goes on), not before the run starts as though the film began with it (probe 33)."""
    from rehue.data.images import load_image

    def readable(paths):
        for path in paths:
            try:
                yield frame_gray(load_image(path))[1]
            except RehueError:
                continue

    return find_bars(readable(frames[:: max(1, len(frames) // BAR_KEY_FRAMES)][:BAR_KEY_FRAMES]))


def _frame_rate_given(fps) -> Fraction:
    """A library caller's frame rate, a number or a string such as "24000/1001", as ``exact_rate`` reads it
    (probe 139: numpy's int64 failed once the whole film was coloured, its float32 in Fraction, and True was
    taken as 1)."""
    import numbers

    if isinstance(fps, bool) or not isinstance(fps, (str, numbers.Real)):
        raise UsageError(f"fps must be a frame rate, such as 24 or 24000/1001, not {fps!r}")
    try:
        return exact_rate(int(fps) if isinstance(fps, numbers.Integral) else
                          fps if isinstance(fps, (str, numbers.Rational)) else float(fps))
    except (ValueError, ZeroDivisionError, OverflowError):
        raise UsageError(f"fps must be a frame rate, such as 24 or 24000/1001, not {fps!r}") from None


@_one_call_per_output
def colorize_frames(source, target, *, colorizer: Colorizer, dependent_model: str = "default",
                    scene_mode: str = "robust", ext: str = ".png", quality: int = 95, fps: float | None = None,
                    codec: str = "auto", crf: int | None = None, preset: str | None = None, overwrite: bool = False,
                    progress=True, log=None) -> VideoSummary:
    """Colour the frames of one film, held as numbered image files in the folder ``source`` (a scanner's
    DPX, TIFF, PNG or OpenEXR sequence), as a video is coloured: scene detection, the independent model on
    each scene's first frame, the dependent model on the others.

    ``target`` is a folder or a video file (a string that ends in a slash is a folder, whatever its name says).
    Into a folder, each frame is written under its own name
    with the extension ``ext``, 16-bit frames at 16 bits where the format holds them, with their
    resolution and EXIF (``_FrameFolder``); a failure (a damaged frame, a frame of another size, a full
    disk) leaves the folder as it was, and keeps the frames coloured up to the scene it stopped in for the
    same call to go on from (``rehue.video.resume``). Into a video file (.mp4, .mkv, ...), the frames
    follow each other at ``fps`` frames per second (None: a DPX film's own rate, from its header, else
    24), encoded with ``codec`` as ``colorize_video`` encodes, with a DPX film's time code.
    """
    check_flags(overwrite=overwrite, progress=progress, progress_function=True)

    from rehue.data.images import (
        DEEP_FORMATS,
        IMAGE_SUFFIXES,
        OUTPUT_FORMATS,
        deep_tiff_loss,
        is_video_path,
        load_image,
        typed_as_folder,
        with_output_suffix,
    )
    from rehue.inference.files import check_quality, warn_in_colour
    from rehue.video.io import check_video_options, codec_named

    check_log(log)
    quality = check_quality(quality)  # probe 147: -3 wrote 774-byte JPEGs, 95.5 failed at the first frame
    if not isinstance(ext, str) or ext.lower() not in OUTPUT_FORMATS:  # "jpg": pathlib's "Invalid suffix"
        raise UsageError(f"ext must be one of {', '.join(sorted(OUTPUT_FORMATS))}, not {ext!r}")
    fps = None if fps is None else _frame_rate_given(fps)
    log = log or (lambda msg: print(msg, file=sys.stderr))
    codec = codec_named(codec)
    check_video_options(crf=crf, preset=preset, codec=codec, scene_mode=scene_mode)
    colorizer = colorizer.for_video()
    as_folder = typed_as_folder(target)  # "frames.png/": a folder whatever its name says
    source, target = Path(source), Path(target)
    path_exists(source)  # a name no file can have, said as such (probe 228); the target's, by `_one_call_per_output`
    frames = film_frames(source, log)
    to_video = is_video_path(target) and not as_folder  # as the CLI decides: an extension rehue cannot write is
    # an error, not a folder
    if not to_video and target.suffix.lower() in IMAGE_SUFFIXES and not as_folder:
        raise UsageError(f"{target}: names a picture, and --frames writes a folder of frames or one video file "
                         "(.mp4, .mkv, ...); name a folder")
    if not to_video:  # a folder: "reel.mp4/new/.." is reel.mp4 (its frames were staged in a new, left empty)
        target = as_it_will_be(target)
    names = [with_output_suffix(frame, ext).name for frame in frames]
    if to_video:
        crf, preset = _encoder_settings(target, codec, crf, preset)
    else:
        check_frames_into_folder(codec=codec, crf=crf, preset=preset, fps=fps)
    time_code = None
    moving_killed = False  # a run killed while it moved its frames into place, maybe this one's, to finish
    if to_video:
        header = film_header(frames[0])  # read once, for the film's rate, time code and pixel shape
        film_rate, time_code = _timing(header)
        if film_rate is not None and not MIN_FRAMES_FPS <= film_rate <= MAX_FRAMES_FPS:
            log(f"note: {source}: its {scan_format(frames[0])} header's frame rate, {film_rate:g}, is not a film's; "
                + ("left aside" if fps is not None else f"written at {DEFAULT_FILM_FPS} frames a second (--fps sets "
                                                         "another)"))
            film_rate = None
        asked = fps is not None
        fps = exact_rate(fps if asked else round(film_rate or DEFAULT_FILM_FPS, 3))
        if not MIN_FRAMES_FPS <= fps <= MAX_FRAMES_FPS:
            raise UsageError(f"fps must be from {float(MIN_FRAMES_FPS):g} to {MAX_FRAMES_FPS}, not "
                             f"{float(fps):.10g}")
        if film_rate is not None and not asked:
            log(f"{source}: at {film_rate:g} frames a second, as its {scan_format(frames[0])} header says (--fps sets "
                "another)")
        elif film_rate is not None and abs(float(fps) - film_rate) > 0.01:
            log(f"note: {source}: written at {float(fps):g} frames a second, as --fps asks; its "
                f"{scan_format(frames[0])} header says {film_rate:g}")
        if time_code is not None and int(time_code[-2:]) >= math.ceil(fps):
            log(f"note: {source}: its {scan_format(frames[0])} time code {time_code} has more frames than a second at "
                f"{float(fps):g} frames a second holds; the video is written without it")
            time_code = None
        if time_code is not None and ";" in time_code and fps not in DROP_FRAME_RATES:
            log(f"note: {source}: its {scan_format(frames[0])} time code {time_code} counts frames as drop frame "
                f"does, at 29.97 or 59.94 frames a second, not at {float(fps):g}; the video is written without it")
            time_code = None
        check_video_output(target, overwrite)
    else:
        if target.exists() and not target.is_dir():
            raise RehueError("output for frames must be a folder or a video file (.mp4, .mkv, ...)", target)
        if len(set(names)) < len(names):
            raise RehueError(f"two frames would both be written as {ext} files of one name (such as "
                             f"{next(n for n in names if names.count(n) > 1)}); keep one format per folder", source)
        moving_killed = was_moving(target)  # a run killed moving its frames into place: judged once known (below)
        if not moving_killed:
            _refuse_outputs_there(frames, names, target, overwrite)
    refuse_if_written_elsewhere(staging_folder_for(target), target)
    dependent = load_dependent(dependent_model, colorizer, log)
    software = video_provenance(colorizer, dependent)
    resume, others = None, []
    settings = _run_settings(colorizer, software, scene_mode)
    stats = frame_stats(frames)
    if to_video:
        settings.update(encoder_settings(codec, crf, preset), fps=str(fps), time_code=time_code)
        resume, others = interrupted_video(target, settings, stats, log)
    else:
        settings.update(ext=ext, quality=quality)
        if moving_killed:
            moving = moving_run(target, settings, stats)
            if moving is not None:
                return _finish_moving(moving, target, set(names).__contains__, target, overwrite, log)
            _refuse_outputs_there(frames, names, target, overwrite)  # that run was one of another reel or settings
        resume, others = _interrupted_run(target, settings, stats, names, log)

    started = time.perf_counter()

    def frame_label(index: int) -> str:
        return f"{index + 1:,} ({frames[index].name})"

    def frame_video(timer: _Timer, bar, scene_starts: list[int], states: dict[int, dict]) -> _FrameVideo:
        return _FrameVideo(target, fps=fps, codec=codec, crf=crf, preset=preset, overwrite=overwrite,
                           comment=software, timecode=time_code, timer=timer, bar=bar, journal=(settings, stats),
                           resume=resume, scene_starts=scene_starts, states=states, log=log, subject=source,
                           frame_label=frame_label, sample_aspect_ratio=pixel_aspect(header))

    if isinstance(resume, InterruptedVideo) and resume.done:  # every piece coloured, only to be joined
        first_frame = load_image(frames[0])
        sink = frame_video(_Timer(), None, [], {})
        sink.open(first_frame.rgb.shape[1], first_frame.rgb.shape[0], frame_gray(first_frame)[0].dtype == np.uint16)
        try:
            sink.finish()
        except (KeyboardInterrupt, RehueError) as exc:
            sink.stopped(exc)
            raise
        except BaseException:
            sink.close()
            raise
        return _joined(target, resume, others, started, log)
    bars = None
    if colorizer.borders == "neutral":
        bars = find_frame_bars(frames)
        if bars is not None:
            log(f"{source}: bars around the picture; colouring the {bars.width}x{bars.height} picture inside "
                "them and leaving the bars gray (--borders model to colour everything)")
    state = SceneColorizer(colorizer, dependent, scene_mode, model_workers=model_workers(colorizer), bars=bars,
                           **_states_of(resume))
    first = resume.start if resume is not None else 0
    bar = _progress_bar(progress, len(frames) - first, source)
    if to_video:
        sink = frame_video(state.timer, bar, state.fresh_starts, state.states)
    else:
        sink = _FrameFolder(target, names, quality=quality, software=software, timer=state.timer, bar=bar,
                            overwrite=overwrite, journal=(settings, stats), resume=resume)

    def decoded():
        shape, tint_checked = None, False
        for index, (path, name) in enumerate(zip(frames[first:], names[first:], strict=True)):
            tick = time.perf_counter()
            image = load_image(path)
            if shape is not None and image.rgb.shape != shape:
                raise RehueError(f"frame is {image.rgb.shape[1]}x{image.rgb.shape[0]}, the film's first frame "
                                 f"{shape[1]}x{shape[0]}", path)
            if shape is None and image.deep_gray is not None:
                bits = dpx.Header(image.dpx_header).bits if image.dpx_header else 16  # probe 38: 10-bit scans
                _warn_of_8_bits(source, target, to_video, codec, OUTPUT_FORMATS.get(ext.lower()) in DEEP_FORMATS, log,
                                bits)
            if (shape is None and not to_video and image.deep_gray is not None
                    and OUTPUT_FORMATS.get(ext.lower()) == "TIFF" and (lost := deep_tiff_loss(image.exif))):
                log(f"warning: {target}: {lost} of every frame: --ext .png keeps them at 16 bits")
            if shape is None and image.alpha is not None and to_video:
                log(f"warning: {source}: its frames' transparency (alpha) is not in {target.name}, as a video holds "
                    "none; --frames into a folder of .png, .tif or .dpx frames keeps it")
            shape = image.rgb.shape
            gray, gray8 = frame_gray(image)
            # the first frame with a picture (a reel may open on black leader), as for a video
            if not tint_checked and (gray8.mean() > TINT_CHECK_LEVEL or index >= TINT_CHECK_FRAMES):
                tint_checked = True
                if not image.is_gray and has_colour(image.rgb[::2, ::2]):
                    warn_in_colour(source, image.coloured_by_rehue, FILM_GUESS)
            letterboxed = state.letterbox(gray8)
            state.timer.add("decode", time.perf_counter() - tick)
            yield name, image, gray, letterboxed

    stopped = False
    recorded = 0
    try:
        with closing(_prefetch(decoded(), "rehue-decode")) as items:  # files are read while the models work
            for name, image, gray, letterboxed in items:
                for decided in state.push_ab(gray, (name, image), letterboxed):
                    sink.write(*state.compose(decided))
                if len(state.fresh_starts) > recorded:  # a new scene: its start goes in the journal
                    sink.scenes_found([first + index for index in state.fresh_starts[recorded:]])
                    recorded = len(state.fresh_starts)
                if not to_video:  # a piece of a video file takes its own (PiecedVideo)
                    for following in list(state.states):
                        sink.state_found(first + following, state.states.pop(following))
        for decided in state.flush_ab():
            sink.write(*state.compose(decided))
        sink.finish()
        for staging in others:
            shutil.rmtree(staging, ignore_errors=True)
        if not to_video:
            _warn_of_older_frames(target, frames, names, log)
    except (KeyboardInterrupt, RehueError) as exc:  # a damaged frame, a full disk: a reel is not thrown away for one
        stopped = True
        if to_video:
            sink.stopped(exc)
        elif sink.placed:  # probe 221: "interrupted" alone, and a rerun told "output exists"
            sink.close()
            say_placed(exc, f"{target}: every coloured frame was put in place before the interrupt", log)
        elif kept := sink.close(keep=True):
            say_what_was_kept(exc, kept, sink.staging, source, frame_label(kept), log, which=sink.kept_which)
        raise
    finally:
        sink.close(keep=stopped)
        state.close()
        bar.close()
    summary = VideoSummary(
        frames=len(frames) - first, scenes=len(state.scene_starts) + 1,
        scene_starts=[first + index for index in state.scene_starts],
        seconds=time.perf_counter() - started, independent_frames=state.independent_frames,
        dependent_frames=state.dependent_frames, eased_frames=state.eased_frames,
        timings_ms=state.timer.means_ms(), output=target, kept=first)
    log(f"{target}: {summary.line()}")
    return summary


class _FrameFolder:
    """``colorize_frames`` into a folder: frames go to a hidden folder beside ``target``, written on
    every core, and move into ``target`` when all are done (``finish``); ``close`` removes what is left,
    or keeps it for the next run to go on from (``rehue.video.resume``) when the run was interrupted.

    ``journal`` is the run's settings and its frames' ``frame_stats``, written into the hidden folder with
    the scenes found (``scenes_found``); ``resume`` an interrupted run's folder to take over. ``names`` may
    grow as frames are written (a video's frames, ``_VideoFrames``); ``staging``, where the hidden folder
    is made instead (inside ``target``, which then exists already)."""

    def __init__(self, target: Path, names: list[str], *, quality: int, software: str, timer: _Timer, bar,
                 overwrite: bool = False, journal: tuple[dict, list] | None = None, resume: Interrupted | None = None,
                 staging: Path | None = None):
        self.target, self.names, self.quality, self.software = target, names, quality, software
        self.overwrite = overwrite
        self.timer, self.bar = timer, bar
        self.staging = staging or staging_folder_for(target)
        self.journal, self.first = journal, resume.start if resume is not None else 0
        # the frame it goes on from, a scene's first: not one in a shot, which goes on from its saved state
        starts_scene = resume is not None and resume.state is None
        self.scene_starts = [self.first] if starts_scene else []
        self.scene_times = {self.first: resume.time} if starts_scene else {}
        # named by the folder it was to be made in (probe 41: its parent's name)
        self._staging_cleanup = hold_staging(self, self.staging, resume.staging if resume is not None else None,
                                             "cannot make the output folder", self.staging.parent, self.target)
        if journal is not None:
            self._write_journal()
        # Encoding takes most of the time (a 720p PNG 0.1-0.3 s, everything else 0.04 s); Pillow, OpenCV
        # and tifffile release the GIL while they encode, so frames are written on every core
        self.threads = max(1, os.cpu_count() or 1)
        self.writers = ThreadPoolExecutor(self.threads, thread_name_prefix="rehue-write", initializer=as_rehue_worker)
        self.writing: deque[Future] = deque()
        self.kept: int | None = None  # once closed: the frames kept for a next run
        self.placed = False  # every frame in place (an interrupt held while they moved is raised after)
        self.kept_in_shot = False  # and whether they end in the middle of a shot

    def _save(self, name: str, image, rgb: np.ndarray) -> None:
        from rehue.data.images import save_image

        tick = time.perf_counter()
        try:
            save_image(rgb, self.staging / name, alpha=image.alpha, quality=self.quality, dpi=image.dpi,
                       exif=image.exif, software=self.software, fast=True, durable=self.journal is not None,
                       dpx_header=image.dpx_header, exr_header=image.exr_header)
        except RehueError as exc:  # named where the frame was to go, not by the hidden folder, gone by now
            raise RehueError(exc.reason, self.target / name) from None
        self.timer.add("encode", time.perf_counter() - tick)
        self.bar.update(1)

    def write(self, payload, rgb: np.ndarray) -> None:
        name, image = payload
        self.writing.append(self.writers.submit(self._save, name, image, rgb))
        while len(self.writing) > 2 * self.threads or (self.writing and self.writing[0].done()):
            self.writing.popleft().result()

    def _write_journal(self) -> None:
        try:
            write_journal(self.staging, *self.journal, self.scene_starts, self.scene_times)
        except OSError as exc:
            raise RehueError(f"cannot write the coloured frames ({exc.strerror or exc})", self.target) from None

    def scenes_found(self, scene_starts: list[int], times: list[float] | None = None) -> None:
        """Record scenes just found (their starts, as indices into the whole film, and in a video their first
        frames' times, which a run going on seeks to), for a run that goes on."""
        if self.journal is None:
            return
        for start, time_s in zip(scene_starts, times or [None] * len(scene_starts), strict=True):
            try:
                add_scene_start(self.staging, start, time_s)
            except OSError as exc:
                raise RehueError(f"cannot write the coloured frames ({exc.strerror or exc})", self.target) from None
            self.scene_starts.append(start)
            self.scene_times[start] = time_s

    def state_found(self, index: int, state: dict, time_s: float | None = None) -> None:
        """The colouring's state before frame ``index`` of the whole film (at ``time_s`` in a video), for a run
        that goes on in the middle of a shot."""
        if self.journal is None:
            return
        try:
            add_state(self.staging, index, state, time_s)
        except OSError as exc:
            raise RehueError(f"cannot write the coloured frames ({exc.strerror or exc})", self.target) from None

    def finish(self) -> None:
        """Move the frames into place: the whole hidden folder where ``target`` is not there yet, else frame by
        frame, with Ctrl-C and SIGTERM held until the last has moved, so that an interruption never leaves the
        folder with part of the film and the rest thrown away (probe 41). A frame gone from the hidden folder
        is said before any moves."""
        while self.writing:
            self.writing.popleft().result()
        try:
            if self.target.is_dir():
                taken = [] if self.overwrite else [name for name in self.names if os.path.lexists(self.target / name)]
                if taken:  # before any frame moves: a film's frames are not left half one run's, half another's
                    raise RehueError("output exists (another run wrote it meanwhile); pass --overwrite to replace "
                                     "it", self.target / taken[0])
                missing = next((name for name in self.names if not os.path.lexists(self.staging / name)), None)
                if missing is not None:
                    raise RehueError(f"the coloured frame {missing} is gone from {self.staging} (removed by another "
                                     "program?); no frame was put in place", self.target)
                with signals_held():
                    mark_moving(self.staging, self.overwrite)
                    for name in self.names:
                        move_into_place(self.staging / name, self.target / name, self.overwrite)
                    remove_journal(self.staging)
                    self.placed = True
            else:  # the journal removed once in place: a kill between the two left every frame coloured in a
                # hidden folder the next run removed as half-written (probe 193), where now a hidden journal is left
                # among them
                with signals_held():  # the film whole in its folder, and said so (probe 221)
                    os.replace(self.staging, self.target)
                    remove_journal(self.target)
                    self.placed = True
        except OSError as exc:
            raise RehueError(f"cannot move the coloured frames into place ({exc.strerror or exc})",
                             self.target) from None

    def close(self, keep: bool = False) -> int:
        """Stop writing, and remove the hidden folder unless ``keep`` asks to keep what a next run can go on
        from; returns the number of frames kept (0 where it was removed). Closed again, it says the same."""
        if self.kept is not None:
            return self.kept
        self.writers.shutdown(wait=True, cancel_futures=True)
        kept = 0
        if keep and self.journal is not None and self.staging.is_dir():
            found = resumable(self.staging, self.journal[0], self.journal[1], self.names)
            kept = found.start if found is not None else 0
            self.kept_in_shot = found is not None and found.state is not None
        if not kept:
            shutil.rmtree(self.staging, ignore_errors=True)
        release_staging(self.staging, self._staging_cleanup)
        self.kept = kept
        return kept

    @property
    def kept_which(self) -> str:
        """Which frames ``close`` kept, for a note."""
        return "coloured up to where it stopped" if self.kept_in_shot else "coloured up to the scene it stopped in"


class _NoBar:
    def update(self, frames: int = 1) -> None:
        pass


@dataclass
class _FrameFile:
    """What ``_FrameFolder`` writes with a video's frame, as it writes a frame file's ``LoadedImage``'s."""

    dpx_header: bytes | None = None
    exr_header: bytes | None = None
    alpha = dpi = exif = None


class _VideoFrames:
    """``colorize_video`` into numbered pictures (``FramePattern``): each frame upright, as it is shown,
    written by ``_FrameFolder`` into a hidden folder inside the pattern's folder and moved into place when
    all are done. They are numbered from ``first``: 1, or for a part of the film its first frame's place
    in the film, so that the parts of a film coloured one by one into a folder follow each other. DPX
    frames carry the video's frame rate and each frame's time code (``rehue.data.dpx.made_header``).

    ``journal`` and ``resume`` as for ``_FrameFolder``: a run stopped (Ctrl-C, a kill, a damaged frame, a
    full disk) keeps its frames up to the scene it stopped in, and the same call goes on from there
    (``resume.start`` frames kept; ``colorize_video`` seeks to that scene's first frame)."""

    def __init__(self, pattern: FramePattern, reader, *, first: int, deep: bool,
                 quality: int, software: str, timer: _Timer, bar, overwrite: bool, log,
                 journal: tuple[dict, list], resume: Interrupted | None = None):
        from rehue.data.images import DEEP_FORMATS, OUTPUT_FORMATS, make_folder

        self.pattern, self.rotation, self.deep, self.bar, self.log = pattern, reader.rotation, deep, bar, log
        self.fps, self.first, self.path, self.time_base = reader.fps, first, reader.path, reader.time_base
        self.previous_pts, self.uneven = None, False  # a variable frame rate, which numbered frames cannot keep
        self.kept_before = resume.start if resume is not None else 0
        self.names = [pattern.name(first + index) for index in range(self.kept_before)]
        self.frames_written, self.left_out = 0, []
        self.dpx, self.exr = pattern.suffix.lower() == ".dpx", pattern.suffix.lower() == ".exr"
        self.time_code = self._first_time_code(reader) if self.dpx or self.exr else None
        # as the upright frames have it: a pixel of a film stored sideways is as wide as it was tall
        sar = reader.sample_aspect_ratio
        self.pixel_aspect = None if not sar or sar == 1 else 1 / sar if self.rotation % 180 else sar
        self.whole_film = reader.end is None
        self.earlier = {path.name for path in pattern.taken()}  # with overwrite: another colouring's frames
        self.made = [folder for folder in (pattern.folder, *pattern.folder.parents) if not folder.exists()]
        make_folder(pattern.folder)
        self.frames = _FrameFolder(pattern.folder, self.names, quality=quality, software=software, timer=timer,
                                   bar=bar, overwrite=overwrite, journal=journal, resume=resume,
                                   staging=staging_folder_for(pattern.canonical))
        # said once the frames can be written (probe 83: the note on sound came before the error that they could not)
        if self.pixel_aspect and not (self.dpx or self.exr):
            log(f"warning: {reader.path}: its pixels are not square ({float(self.pixel_aspect):.4g} times as wide as "
                f"tall, as the frames stand), which {pattern.suffix} frames do not record, so they show "
                f"{'too narrow' if self.pixel_aspect > 1 else 'too wide'}; .dpx and .exr frames carry it")
        if reader.bits_per_sample > 8 and OUTPUT_FORMATS[pattern.suffix.lower()] not in DEEP_FORMATS:
            log(f"warning: {reader.path}: its {reader.bits_per_sample}-bit samples are written at 8 bits into "
                f"{pattern.suffix} frames (.png, .tif or .dpx frames keep them, at 16 bits)")
        if beside := reader.beside_the_picture():
            one = beside == ["sound"]
            log(f"note: {reader.path}: its {listed(beside)} {'is' if one else 'are'} not in the frames (pictures "
                f"hold none); the film's own {'goes' if one else 'go'} with them in an edit")
        last = first + self.kept_before + (reader.frame_count or 0) - 1
        if pattern.digits > 1 and len(str(last)) > pattern.digits:  # probe 91: f_999.jpg, then f_1000.jpg
            log(f"warning: {pattern.path}: the frames are numbered up to about {last:,}, past the pattern's "
                f"{pattern.digits} digits ({pattern.name(10 ** pattern.digits - 1)} is followed by "
                f"{pattern.name(10 ** pattern.digits)}), so a list of the files sorts them out of order; a pattern "
                f"of {len(str(last))} digits keeps them in order")

    def _first_time_code(self, reader) -> tuple[int, int] | None:
        """The part's first frame's time code, as a count of frames at its rate in whole frames a second: the
        film's start time code on by the frames before it (the first frame at or after --start, as numbered;
        the time at --start rounded, as a video's part takes it, was a frame early between two frames)."""
        from rehue.video.io import timecode_frames

        per_second = round(self.fps) if self.fps else 0
        frames = timecode_frames(reader.timecode, per_second)
        if reader.timecode and frames is None:
            self.log(f"warning: {reader.path}: its time code {reader.timecode} is not carried into the frames (a "
                     "drop-frame or unreadable time code, which rehue does not count on)")
        return None if frames is None else (frames + self.first - 1, per_second)

    def _time_code(self, index: int) -> str | None:
        """The time code of the part's frame ``index``, counted on from the first's."""
        from rehue.video.io import timecode_at

        if self.time_code is None:
            return None
        start, per_second = self.time_code
        return timecode_at((start + index) % (24 * 3600 * per_second), per_second)  # a day's time code

    def _frame_file(self, index: int) -> _FrameFile:
        """A DPX or OpenEXR frame's header, with the film's rate and the frame's time code."""
        from rehue.data import exr

        if self.dpx:
            rate = float(self.fps) if self.fps else None
            return _FrameFile(dpx_header=dpx.made_header(bits=16 if self.deep else 10, transfer=dpx.UNSPECIFIED_VIDEO,
                                                         frame_rate=rate, time_code=self._time_code(index),
                                                         pixel_aspect=self.pixel_aspect))
        if self.exr:
            return _FrameFile(exr_header=exr.video_frame_header(self.fps, self._time_code(index), self.pixel_aspect))
        return _FrameFile()

    def write(self, rgb: np.ndarray, pts=None) -> None:
        if pts is not None and self.previous_pts is not None and self.fps:
            step = float((pts - self.previous_pts) * self.time_base) * float(self.fps)
            self.uneven |= abs(step - 1) > 0.25
        self.previous_pts = pts
        index = self.kept_before + self.frames_written
        name = self.pattern.name(self.first + index)
        self.names.append(name)
        self.frames.write((name, self._frame_file(index)), upright(rgb, self.rotation))
        self.frames_written += 1

    def scenes_found(self, starts: list[int], times: list[float | None]) -> None:
        """Scenes found by this run (their starts counted from its first frame), with their first frames' times;
        one with none (after a joint of two recordings, where a run going on could not seek) is not recorded."""
        found = [(self.kept_before + start, time) for start, time in zip(starts, times, strict=True)
                 if time is not None]
        if found:
            self.frames.scenes_found([start for start, _ in found], [time for _, time in found])

    def state_found(self, start: int, state: dict, time_s: float | None) -> None:
        """The colouring's state before this run's frame ``start``; with no time (after a joint of two
        recordings) it is not kept, as a scene's start is not."""
        if time_s is not None:
            self.frames.state_found(self.kept_before + start, state, time_s)

    @property
    def staging(self) -> Path:
        return self.frames.staging

    def __enter__(self) -> _VideoFrames:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                if not self.frames_written and not self.kept_before:
                    raise RehueError("no video frames to write", self.pattern.folder)
                self.frames.finish()  # where the last frames are saved: an interrupt may land here too
            except BaseException as error:
                self._stopped(type(error), error)
                raise
            self.frames.close()
            finished(self.bar)
            self.bar.close()  # its last frames counted, before what follows it is said
            self.log(f"{self.pattern.folder}: frames {self.names[0]} to {self.names[-1]}")
            if self.uneven:
                self.log(f"warning: {self.path}: its frames are not evenly timed (a variable frame rate), which "
                         f"numbered frames do not keep: made a video again, they follow each other at its average "
                         f"rate, {float(self.fps):.4g} a second (a video out, such as --codec ffv1's .mkv, keeps "
                         "the timing)")
            after = [name for name in sorted(self.earlier - set(self.names), key=self.pattern.number)
                     if self.pattern.number(name) >= self.first + len(self.names)]
            if after and self.whole_film:
                self.log(f"warning: {self.pattern.folder}: {counted(len(after), 'frame')} of an earlier colouring "
                         f"{'is' if len(after) == 1 else 'are'} left after the film's last, such as {after[0]}")
            return
        self._stopped(exc_type, exc)

    def _stopped(self, exc_type, exc) -> None:
        """A damaged frame, a full disk, Ctrl-C: hours of a film are not thrown away for one. The frames up to
        the scene it stopped in are kept, and said: in a note on an interrupt, in the error line of an error
        (raised in its place), so that --quiet says it too."""
        kept = self.frames.close(keep=issubclass(exc_type, (KeyboardInterrupt, RehueError)))
        self._remove_made_folders()
        if self.frames.placed:  # probe 221: "interrupted" alone, the film whole, and a rerun told "output exists"
            say_placed(exc, f"{self.pattern.folder}: every frame, {self.names[0]} to {self.names[-1]}, was put in "
                       "place before the interrupt", self.log)
        elif kept:
            say_what_was_kept(exc, kept, self.frames.staging, self.pattern.folder,
                              self.pattern.name(self.first + kept), self.log, which=self.frames.kept_which)

    def _remove_made_folders(self) -> None:
        """The folders made for the frames, where nothing is in them: a run that failed before any was kept."""
        for folder in self.made:
            try:
                folder.rmdir()
            except OSError:
                break


class _FrameVideo:
    """``colorize_frames`` into a video file, opened at the first frame's size: 8 bits per sample, or
    16 for 16-bit frames into a lossless master (``codec`` "ffv1"), or 10 into ProRes ("prores"). It is
    encoded a piece of whole scenes at a time (``PiecedVideo``: ``journal``, ``resume`` and ``scene_starts`` as
    there), so that a run stopped part way keeps what it finished; ``subject`` and ``frame_label`` name the reel
    and a frame of it in a note of what was kept."""

    def __init__(self, target: Path, *, fps, codec: str, crf: int, preset: str, overwrite: bool,
                 comment: str, timer: _Timer, bar, journal: tuple[dict, list], resume: InterruptedVideo | None,
                 scene_starts: list[int], states: dict[int, dict], log, subject: Path, frame_label,
                 timecode: str | None = None,
                 sample_aspect_ratio: Fraction | None = None):
        self.target, self.timer, self.bar, self.fps = target, timer, bar, fps
        self.options = {"fps": fps, "codec": codec, "crf": crf, "preset": preset, "overwrite": overwrite,
                        "comment": comment, "timecode": timecode, "sample_aspect_ratio": sample_aspect_ratio}
        self.journal, self.resume, self.scene_starts, self.log = journal, resume, scene_starts, log
        self.states, self.subject, self.frame_label = states, subject, frame_label
        self.pieces: PiecedVideo | None = None

    def open(self, width: int, height: int, deep: bool) -> None:
        """The video's writer, at the frames' size, 16 bits per sample where ``deep`` and the codec holds it."""
        from rehue.video.io import VideoWriter

        writer = VideoWriter(self.target, width, height, deep=deep and self.options["codec"] in DEEP_CODECS,
                             **self.options)
        try:
            self.pieces = PiecedVideo(writer, journal=self.journal, resume=self.resume,
                                      scene_starts=self.scene_starts, log=self.log, states=self.states)
        except BaseException:
            writer.abort()
            raise
        self.pieces.subject, self.pieces.frame_label = self.subject, self.frame_label

    def write(self, payload, rgb: np.ndarray) -> None:
        from rehue.data.images import to_uint16

        if self.pieces is None:
            self.open(rgb.shape[1], rgb.shape[0], rgb.dtype == np.uint16)
        tick = time.perf_counter()
        index = self.pieces.kept_before + self.pieces.frames_written
        self.pieces.write(to_uint16(rgb) if self.pieces.deep else to_uint8(rgb), time_s=float(index / self.fps))
        self.timer.add("encode", time.perf_counter() - tick)
        self.bar.update(1)

    def scenes_found(self, scene_starts: list[int]) -> None:
        """The scenes are read from ``scene_starts`` as the frames are written."""

    @property
    def staging(self) -> Path:
        return self.pieces.staging

    def finish(self) -> None:
        if self.pieces is None:
            raise RehueError("no video frames to write", self.target)
        self.pieces.finish()

    def close(self, keep: bool = False) -> int:
        return self.pieces.close(keep) if self.pieces is not None else 0

    def stopped(self, exc: BaseException) -> None:
        """Stop, keeping the pieces finished, and say so (``PiecedVideo.stopped``)."""
        if self.pieces is not None:
            self.pieces.stopped(type(exc), exc)
