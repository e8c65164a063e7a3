"""Scene-aware video colouring (thesis 4.2.3, fig. 4.8).

The first frame and every frame that starts a new scene go to the independent generator (L* in);
every other frame goes to the dependent generator with the previous *output* frame's a*b*, so a
scene keeps one set of colours. The models run at their working size; the a*b* they predict is
upsampled onto each frame's own full-resolution L*. Frames stream through: decode, detect, colour,
encode, with only the scene detector's few frames of lookahead held in memory.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rehue.errors import RehueError
from rehue.inference.colorizer import AB_SCALE, Colorizer, compose_full_resolution, letterbox


@dataclass
class VideoSummary:
    frames: int = 0
    scenes: int = 0
    scene_starts: list[int] = field(default_factory=list)
    seconds: float = 0.0
    independent_frames: int = 0
    dependent_frames: int = 0
    timings_ms: dict = field(default_factory=dict)
    output: Path | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (f"{self.frames} frames, {self.scenes} scene(s), {self.seconds:.1f} s, {self.fps:.1f} frames/s "
                f"({self.independent_frames} independent, {self.dependent_frames} dependent)")


def load_dependent(spec: str, independent: Colorizer, log) -> Colorizer | None:
    """The dependent generator to pair with ``independent``; None means colour every frame independently."""
    if spec == "none":
        return None
    try:
        dependent = Colorizer.load(spec, device=independent.device, role="dependent")
    except RehueError:
        if spec != "default":
            raise
        log("note: no dependent model available; every frame is coloured by the independent model")
        return None
    if not dependent.dependent:
        raise RehueError("--dependent-model must take 3 input channels (L* + previous a*b*)", spec)
    if dependent.size != independent.size:
        if spec == "default":
            log(f"note: shipped dependent model works at {dependent.size}, the independent one at "
                f"{independent.size}; colouring every frame independently")
            return None
        raise RehueError(f"dependent model works at {dependent.size}x{dependent.size} but the independent one at "
                         f"{independent.size}x{independent.size}", spec)
    return dependent


class _Timer:
    def __init__(self):
        self.total: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def add(self, name: str, seconds: float):
        self.total[name] = self.total.get(name, 0.0) + seconds
        self.count[name] = self.count.get(name, 0) + 1

    def means_ms(self) -> dict[str, float]:
        return {k: 1000 * v / self.count[k] for k, v in self.total.items()}


class SceneColorizer:
    """Frame-by-frame colouring state: which model runs, and the previous output's a*b*."""

    def __init__(self, independent: Colorizer, dependent: Colorizer | None, scene_mode: str = "robust"):
        from rehue.video.scenes import SceneDetector

        if independent.dependent:
            raise RehueError("--model must be an independent model (L* in); pass the dependent one as "
                             "--dependent-model")
        self.independent, self.dependent = independent, dependent
        self.size = independent.size
        self.detector = SceneDetector(scene_mode)
        self.pending: deque = deque()
        self.prev_ab: np.ndarray | None = None
        self.timer = _Timer()
        self.scene_starts: list[int] = []
        self.independent_frames = self.dependent_frames = 0

    def push(self, gray: np.ndarray, payload=None) -> list[tuple[object, np.ndarray]]:
        """Feed one frame; returns (payload, colour RGB) for every frame that could be decided."""
        started = time.perf_counter()
        small, box = letterbox(gray, self.size)
        picture = small[box.top : box.top + box.height, box.left : box.left + box.width]
        decided = self.detector.push(np.ascontiguousarray(picture))
        self.timer.add("scene_detection", time.perf_counter() - started)
        self.pending.append((gray, small, box, payload))
        return [self._colour(index, changed) for index, changed in decided]

    def flush(self) -> list[tuple[object, np.ndarray]]:
        return [self._colour(index, changed) for index, changed in self.detector.flush()]

    def _colour(self, index: int, scene_changed: bool):
        gray, small, box, payload = self.pending.popleft()
        started = time.perf_counter()
        if self.prev_ab is None or scene_changed or self.dependent is None:
            if scene_changed:
                self.scene_starts.append(index)
            ab = self.independent.predict_ab(small[None])[0]
            self.timer.add("independent_model", time.perf_counter() - started)
            self.independent_frames += 1
        else:
            ab = self.dependent.predict_ab(small[None], self.prev_ab[None])[0]
            self.timer.add("dependent_model", time.perf_counter() - started)
            self.dependent_frames += 1
        self.prev_ab = ab
        started = time.perf_counter()
        crop = ab[:, box.top : box.top + box.height, box.left : box.left + box.width]
        rgb = compose_full_resolution(gray, np.moveaxis(crop, 0, -1) * AB_SCALE)
        self.timer.add("upsample_and_compose", time.perf_counter() - started)
        return payload, rgb


def colorize_video(source, target, *, colorizer: Colorizer, dependent_model: str = "default",
                   scene_mode: str = "robust", start: float | None = None, end: float | None = None,
                   side_by_side: bool = False, crf: int = 18, preset: str = "veryfast", overwrite: bool = False,
                   progress: bool = True, log=None) -> VideoSummary:
    """Colour the video ``source`` into ``target`` (format by extension), keeping its audio, frame
    timing, size and rotation. Nothing appears at ``target`` unless the whole job succeeds."""
    from tqdm import tqdm

    from rehue.video.io import VideoReader, VideoWriter

    log = log or (lambda msg: print(msg, file=sys.stderr))
    source, target = Path(source), Path(target)
    if start is not None and end is not None and end <= start:
        raise RehueError(f"--end ({end}) must be after --start ({start})", source)
    dependent = load_dependent(dependent_model, colorizer, log)
    state = SceneColorizer(colorizer, dependent, scene_mode)
    started = time.perf_counter()
    with VideoReader(source, start=start, end=end) as reader:
        width = reader.width * (2 if side_by_side else 1)
        with VideoWriter.like(reader, target, width=width, crf=crf, preset=preset, overwrite=overwrite) as writer:
            bar = tqdm(total=reader.frame_count, desc=source.name, unit="frame", disable=not progress,
                       file=sys.stderr, dynamic_ncols=True, leave=False)

            def emit(done):
                for frame, rgb in done:
                    if side_by_side:
                        rgb = np.concatenate([np.repeat(frame.gray[..., None], 3, axis=2), rgb], axis=1)
                    tick = time.perf_counter()
                    writer.write(rgb, frame.pts)
                    state.timer.add("encode", time.perf_counter() - tick)
                    bar.update(1)

            decode_started = time.perf_counter()
            for frame in reader:
                gray = frame.gray
                state.timer.add("decode", time.perf_counter() - decode_started)
                emit(state.push(gray, frame))
                decode_started = time.perf_counter()
            emit(state.flush())
            bar.close()
    summary = VideoSummary(
        frames=writer.frames_written, scenes=len(state.scene_starts) + 1, scene_starts=state.scene_starts,
        seconds=time.perf_counter() - started, independent_frames=state.independent_frames,
        dependent_frames=state.dependent_frames, timings_ms=state.timer.means_ms(), output=target)
    log(f"{target}: {summary.line()}")
    return summary
