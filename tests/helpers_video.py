"""Tiny video clips for tests, written with PyAV directly (not with rehue's writer, which they test).

``level_frames`` makes frames whose mean gray level tells which frame they are, so tests can check
order, trimming and timestamps through a lossy codec with ``frame_number``.
"""

from __future__ import annotations

import signal
from fractions import Fraction
from pathlib import Path

import numpy as np

FIRST_LEVEL = 20
LEVEL_STEP = 5  # gray levels between consecutive frames: far above H.264's error at crf 18
ENCODERS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".m4v": "libx264", ".webm": "libvpx-vp9",
            ".avi": "mpeg4"}
AUDIO_ENCODERS = {".webm": "libopus", ".avi": "libmp3lame"}
TONE_HZ = 440.0
TEMP_MARK = ".rehue-tmp"  # in the names of rehue's temp outputs and staging folders (rehue.data.images)


def temp_files(folder) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if TEMP_MARK in p.name]


def default_sigint() -> None:
    """For a child's ``preexec_fn``: SIGINT back to its default. A run started in the background by a
    non-interactive shell (``.ci/run &``) ignores SIGINT, its children inherit that, and Python leaves an
    ignored SIGINT ignored, so `rehue` would rightly colour on through the signal (exit 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def level_frames(count: int, height: int = 48, width: int = 64) -> list[np.ndarray]:
    """``count`` RGB frames; frame i is a flat colour of luma ``FIRST_LEVEL + LEVEL_STEP * i`` with a
    coloured bar (so RGB conversions have chroma to get right)."""
    if FIRST_LEVEL + LEVEL_STEP * (count - 1) > 235:
        raise ValueError(f"at most {(235 - FIRST_LEVEL) // LEVEL_STEP + 1} distinguishable frames")
    frames = []
    for i in range(count):
        level = FIRST_LEVEL + LEVEL_STEP * i
        frame = np.full((height, width, 3), level, np.uint8)
        frame[: height // 4, :, 0] = min(255, level + 20)
        frame[: height // 4, :, 2] = max(0, level - 20)
        frames.append(frame)
    return frames


def frame_number(gray: np.ndarray) -> int:
    """Which ``level_frames`` frame this decoded luma picture is (the bottom 3/4 is flat gray)."""
    height = gray.shape[0]
    return int(round((float(gray[height // 4 :].mean()) - FIRST_LEVEL) / LEVEL_STEP))


def textured_frames(count: int, height: int, width: int, seed: int = 0):
    """A generator of moving smooth patterns: real encoding work, memory independent of ``count``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    phases = rng.uniform(0, 6.28, 3)
    for i in range(count):
        channels = [127 + 100 * np.sin(0.05 * xx + 0.03 * yy + phase + 0.1 * i) for phase in phases]
        yield np.stack(channels, -1).astype(np.uint8)


def make_clip(path, frames, fps=25, *, audio=False, codec=None, pts=None, time_base=None, rotation=0,
              sample_rate=44100, audio_codec=None, audio_seconds=None, faststart=True, gop=None,
              languages=None, dispositions=None, titles=None) -> Path:
    """Write ``frames`` (iterable of HxWx3 uint8 RGB) to ``path``; returns the path.

    ``gop``: at most this many frames from one key frame to the next (the encoder's default if None).

    ``pts`` (in ``time_base``, default ``1/fps``) gives each frame's timestamp, for variable frame rate
    clips. ``audio`` adds a stereo 440 Hz tone as long as the video (or ``audio_seconds``); with
    ``languages``, one such track per language, the k-th at k + 1 times 440 Hz, with the k-th of
    ``dispositions`` (PyAV's ``Disposition`` flags) and the k-th of ``titles`` where given.
    ``rotation`` is stored in the display matrix (degrees counter-clockwise). Odd sizes use 4:4:4.
    """
    import av

    path = Path(path)
    fps = Fraction(fps)
    time_base = Fraction(time_base) if time_base else 1 / fps
    options = {"movflags": "+faststart"} if faststart and path.suffix in (".mp4", ".mov", ".m4v") else {}
    duration = 0.0
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec or ENCODERS[path.suffix], rate=fps)
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if rotation:
            stream.set_display_rotation(rotation)
        if gop:
            stream.codec_context.gop_size = gop
        for i, rgb in enumerate(frames):
            if i == 0:
                height, width = rgb.shape[:2]
                stream.width, stream.height = width, height
                odd = width % 2 or height % 2
                stream.pix_fmt = "yuv444p" if odd and stream.codec_context.name == "libx264" else "yuv420p"
                audio_streams = []
                if audio:
                    name = audio_codec or AUDIO_ENCODERS.get(path.suffix, "aac")
                    rates = av.Codec(name, "w").audio_rates
                    if rates and sample_rate not in rates:
                        sample_rate = max(rates)
                    for language in languages or (None,):
                        audio_streams.append(container.add_stream(name, rate=sample_rate, layout="stereo"))
                        if language:
                            audio_streams[-1].metadata["language"] = language
                        if dispositions:
                            audio_streams[-1].disposition = dispositions[len(audio_streams) - 1]
                        if titles:
                            audio_streams[-1].metadata["title"] = titles[len(audio_streams) - 1]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = pts[i] if pts is not None else round(i / fps / time_base)
            frame.time_base = time_base
            duration = float(frame.pts * time_base) + 1 / float(fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        for k, audio_stream in enumerate(audio_streams):
            _write_tone(container, audio_stream, audio_seconds or duration, sample_rate, TONE_HZ * (k + 1))
    return path


def encode_frames(container, stream, pictures, *, format: str = "rgb24") -> None:
    """Encode ``pictures`` (arrays in ``format``) as frames 0, 1, ... of ``stream`` and flush it: for the
    films a test builds itself, with streams, tags or attachments that ``make_clip`` does not add."""
    import av

    for i, picture in enumerate(pictures):
        frame = av.VideoFrame.from_ndarray(picture, format=format)
        if frame.format.name != stream.pix_fmt:
            frame = frame.reformat(format=stream.pix_fmt)
        frame.pts = i
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _write_tone(container, stream, seconds: float, sample_rate: int, hz: float = TONE_HZ) -> None:
    import av

    chunk = 1024
    total = int(seconds * sample_rate)
    for first in range(0, total, chunk):
        t = np.arange(first, min(total, first + chunk)) / sample_rate
        tone = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        frame.sample_rate = sample_rate
        frame.pts = first
        frame.time_base = Fraction(1, sample_rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def make_audio_file(path, seconds: float = 1.0, sample_rate: int = 44100) -> Path:
    """An audio-only file (codec from the extension: .m4a AAC, .wav PCM...)."""
    import av

    path = Path(path)
    names = {".m4a": "aac", ".wav": "pcm_s16le", ".mp3": "libmp3lame", ".ogg": "libvorbis"}
    with av.open(str(path), "w") as container:
        stream = container.add_stream(names[path.suffix], rate=sample_rate, layout="stereo")
        _write_tone(container, stream, seconds, sample_rate)
    return path


def audio_packets(path) -> list[bytes]:
    """The payload of every audio packet of ``path``'s first audio stream, in order."""
    import av

    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def audio_duration(path) -> float:
    """Seconds of decoded audio in ``path``'s first audio stream."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)) / stream.codec_context.sample_rate


def video_codec(path) -> str:
    import av

    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.name


def audio_codec(path) -> str | None:
    import av

    with av.open(str(path)) as container:
        streams = container.streams.audio
        return streams[0].codec_context.name if streams else None


def with_drift_check(model_path, **settings):
    """A dependent model file whose JSON sets these ``"inference"`` settings (its drift check)."""
    import json

    config_path = model_path.with_suffix(".json")
    config = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**config, "inference": settings}))
    return model_path
