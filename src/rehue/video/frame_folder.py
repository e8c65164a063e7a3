"""Films as numbered frame files. A scanner's DPX, TIFF, PNG or OpenEXR reel read as a video is: what
`rehue frames --film-fps` samples a dataset from and `rehue evaluate --frames` scores, with the interface of
:class:`rehue.video.io.VideoReader` that they use. A frame's time is its place in the film over its rate.
And the names a video's frames are written under (``FramePattern``), as ``rehue colorize film.mp4 -o
frames/film_%06d.png`` writes them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from rehue.errors import RehueError, UsageError


class FolderFrame:
    """One frame file of a film: ``index`` (its place in the film, by its number: a frame after a gap in the
    numbering is as far on as its number says), ``time`` (seconds), ``gray`` (uint8 HxW, as the scene
    detector sees it) and ``rgb`` (uint8 HxWx3)."""

    __slots__ = ("index", "time", "gray", "rgb")

    def __init__(self, index: int, time: float, gray: np.ndarray, rgb: np.ndarray):
        self.index, self.time, self.gray, self.rgb = index, time, gray, rgb


def clip_error(exc: RehueError, clip: Path) -> RehueError | None:
    """``exc`` said of ``clip``, a video or a film's folder of frames, where it is the clip's own: a reel's frame
    named within it ("its frame 0010.png: truncated ..."), so that a reel skipped whole is named as such (probes
    131, 230); None where ``exc`` is not of the clip."""
    if exc.path is None:
        return None
    path = Path(exc.path)
    if path == clip:
        return exc
    if path.is_relative_to(clip):
        return RehueError(f"its frame {path.relative_to(clip)}: {exc.reason}", clip)
    return None


class FrameFolderReader:
    """The frames of the film in ``folder`` (``film_frames``: in the order of their numbers, strays of
    another size left out with a warning through ``log``), at ``fps`` frames per second (None: a DPX
    film's own, from its header, else 24)."""

    rotation = 0  # a frame file is stored as it is shown (its EXIF orientation, if any, is applied on reading)

    def __init__(self, folder: Path, fps: float | None, log, asked_by: str = ""):
        from rehue.video.pipeline import (
            DEFAULT_FILM_FPS,
            MAX_FRAMES_FPS,
            MIN_FRAMES_FPS,
            dpx_timing,
            film_frames,
            scan_format,
        )

        if fps is not None and not fps > 0:
            raise RehueError(f"a film's frame rate must be above 0, not {float(fps):g}")
        self.path = Path(folder)
        self.files = film_frames(self.path, log, done="read", asked_by=asked_by)
        self.frame_count = len(self.files)
        header_rate = dpx_timing(self.files[0])[0]
        if fps is None:  # the DPX header's, else a sound film's
            plausible = header_rate is not None and MIN_FRAMES_FPS <= header_rate <= MAX_FRAMES_FPS
            fps = header_rate if plausible else DEFAULT_FILM_FPS
        elif header_rate is not None and abs(header_rate - float(fps)) > 0.01:
            log(f"note: {self.path}: taken at {float(fps):g} frames a second, as asked; its "
                f"{scan_format(self.files[0])} header says {header_rate:g}")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.places = _places(self.files)
        self._first = None  # the first frame, once read: the film's size

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    @property
    def width(self) -> int:
        return self._first_frame().rgb.shape[1]

    @property
    def height(self) -> int:
        return self._first_frame().rgb.shape[0]

    def _first_frame(self):
        from rehue.data.images import load_image

        if self._first is None:
            self._first = load_image(self.files[0])
        return self._first

    @property
    def coloured_by_rehue(self) -> bool:
        """Whether rehue coloured the film: its first frame's Software tag (or DPX creator) says so."""
        return self._first_frame().coloured_by_rehue

    def __iter__(self) -> Iterator[FolderFrame]:
        from rehue.data.images import load_image
        from rehue.video.pipeline import frame_gray

        shape = None
        for index, path in enumerate(self.files):
            image = load_image(path)
            if shape is not None and image.rgb.shape != shape:  # as colorize --frames refuses it
                raise RehueError(f"frame is {image.rgb.shape[1]}x{image.rgb.shape[0]}, the film's first frame "
                                 f"{shape[1]}x{shape[0]}", path)
            shape = image.rgb.shape
            place = self.places[index]
            yield FolderFrame(place, place / float(self.fps), frame_gray(image)[1], image.rgb)


def _places(files: list[Path]) -> list[int]:
    """Each frame's place in the film: its number less the first frame's, where every frame follows one
    numbering in order (a missing frame leaves a gap: probe 37 found the frames after it timed one frame
    early); else its place in the folder."""
    from rehue.video.pipeline import numbering_of

    numbered, patterns, main_pattern, count = numbering_of(files)
    if main_pattern is None or count != len(files):  # None: no frame is numbered (probe 61: a TypeError)
        return list(range(len(files)))
    numbers = [int(match[2]) for match in numbered]
    if any(later <= earlier for earlier, later in itertools.pairwise(numbers)):
        return list(range(len(files)))
    return [number - numbers[0] for number in numbers]


# FFmpeg's %d, %0Nd and %Nd (which it pads with zeros too), a run of # (not beside a number, nor before a space:
# probes 70 and 71), and %% for a % of the name
PATTERN = re.compile(r"%%|%0?([1-9])?d|(?<![0-9#])#+(?![0-9#\s])")  # "Photo #3.png", "C# notes.png" are names


def names_numbered_frames(path: str | Path) -> bool:
    """Whether ``path``'s name holds a frame-number pattern, with a picture's extension or without one."""
    try:
        return FramePattern.of(path) is not None
    except UsageError:
        return True


def _picture_name(path: Path, suffix: str) -> str:
    """``path``'s name with ``suffix`` for its extensions after the pattern: ``f_%06d.png.bak`` as
    ``f_%06d.png``, not ``f_%06d.png.png``; ``reel.####`` as ``reel.####.png``."""
    name = path.name
    while Path(name).suffix and not PATTERN.search(Path(name).suffix):
        name = name[: -len(Path(name).suffix)]
    return name + suffix


class FramePattern:
    """Numbered picture files a video's frames are written as, named as FFmpeg (``film_%06d.png``) or
    compositing and grading software (``film_######.dpx``) name them: the number where the pattern is, as
    many digits as it asks at least, and ``%%`` a ``%`` of the name, as FFmpeg reads it. ``of`` a path that
    names no picture format, or has no such pattern in its name, is None."""

    def __init__(self, path: Path, head: str, digits: int, tail: str):
        self.path, self.folder, self.head, self.digits, self.tail = path, path.parent, head, digits, tail

    @classmethod
    def of(cls, path: str | Path) -> FramePattern | None:
        from rehue.data.images import OUTPUT_FORMATS

        path = Path(path)
        found = [match for match in PATTERN.finditer(path.name) if match[0] != "%%"]
        no_extension = not path.suffix or PATTERN.search(path.suffix)  # "f_####", "reel.####"
        if found and path.suffix.lower() not in OUTPUT_FORMATS and \
                any(m[0].startswith("%") or len(m[0]) > 1 and no_extension for m in found):
            # "take #2.mp4" and "take #2" are names, but %06d (and ####, with no extension) names numbered
            # frames: without a picture's extension it made a folder named "f_%06d" (probes 67 and 69)
            raise UsageError(f"{path}: a numbered-frame pattern needs a picture's extension, such as "
                             f"{_picture_name(path, '.png')} or {_picture_name(path, '.dpx')}")
        if not found or path.suffix.lower() not in OUTPUT_FORMATS:
            return None
        if len(found) > 1:
            raise UsageError(f"{path}: names frames with {len(found)} number patterns; give one, such as "
                             "film_%06d.png or film_######.png")
        match = found[0]
        digits = len(match[0]) if match[0].startswith("#") else int(match[1] or 1)
        head, tail = path.name[:match.start()], path.name[match.end():]
        return cls(path, head.replace("%%", "%"), digits, tail.replace("%%", "%"))

    @property
    def canonical(self) -> Path:
        """The pattern in FFmpeg's spelling, whichever it was typed in (``f_#####.png`` as ``f_%05d.png``): what
        names the hidden folder of a run writing these frames and its journal, so that two runs into the same
        files, typed each way, are known as one output (probe 139: both coloured the whole film)."""
        return self.folder / f"{self.head.replace('%', '%%')}%0{self.digits}d{self.tail.replace('%', '%%')}"

    @property
    def suffix(self) -> str:
        return self.path.suffix

    def name(self, number: int) -> str:
        return f"{self.head}{number:0{self.digits}d}{self.tail}"

    def number(self, name: str) -> int | None:
        """The number of the frame file ``name``, if the pattern names it."""
        match = re.fullmatch(re.escape(self.head) + r"(\d+)" + re.escape(self.tail), name)
        return int(match[1]) if match else None

    def taken(self) -> list[Path]:
        """The files in the folder that the pattern names (of any number), in the order of their numbers."""
        if not self.folder.is_dir():
            return []
        found = [(number, path) for path in self.folder.iterdir() if (number := self.number(path.name)) is not None]
        return [path for _, path in sorted(found)]
