"""A film of numbered frame files (a scanner's DPX, TIFF, PNG or OpenEXR reel) read as a video is: what
`rehue frames --film-fps` samples a dataset from and `rehue evaluate --frames` scores, with the interface of
:class:`rehue.video.io.VideoReader` that they use. A frame's time is its place in the film over its rate."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from rehue.errors import RehueError


class FolderFrame:
    """One frame file of a film: ``index``, ``time`` (seconds), ``gray`` (uint8 HxW, as the scene detector
    sees it) and ``rgb`` (uint8 HxWx3)."""

    __slots__ = ("index", "time", "gray", "rgb")

    def __init__(self, index: int, time: float, gray: np.ndarray, rgb: np.ndarray):
        self.index, self.time, self.gray, self.rgb = index, time, gray, rgb


class FrameFolderReader:
    """The frames of the film in ``folder`` (``film_frames``: in the order of their numbers, strays of
    another size left out with a warning through ``log``), at ``fps`` frames per second (None: a DPX
    film's own, from its header, else 24)."""

    rotation = 0  # a frame file is stored as it is shown (its EXIF orientation, if any, is applied on reading)

    def __init__(self, folder: Path, fps: float | None, log):
        from rehue.video.pipeline import DEFAULT_FILM_FPS, MAX_FRAMES_FPS, MIN_FRAMES_FPS, dpx_timing, film_frames

        if fps is not None and not fps > 0:
            raise RehueError(f"a film's frame rate must be above 0, not {float(fps):g}")
        self.path = Path(folder)
        self.files = film_frames(self.path, log)
        self.frame_count = len(self.files)
        header_rate = dpx_timing(self.files[0])[0]
        if fps is None:  # the DPX header's, else a sound film's
            plausible = header_rate is not None and MIN_FRAMES_FPS <= header_rate <= MAX_FRAMES_FPS
            fps = header_rate if plausible else DEFAULT_FILM_FPS
        elif header_rate is not None and abs(header_rate - float(fps)) > 0.01:
            log(f"note: {self.path}: taken at {float(fps):g} frames a second, as asked; its DPX header says "
                f"{header_rate:g}")
        self.fps = Fraction(fps).limit_denominator(1001)
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
            yield FolderFrame(index, index / float(self.fps), frame_gray(image)[1], image.rgb)
