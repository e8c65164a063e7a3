"""Streaming video input and output with PyAV.

Frames are decoded and encoded one at a time, so memory stays flat however long the video is.
``VideoReader`` yields :class:`Frame` objects (timestamps plus a lazily converted picture);
``VideoWriter`` encodes RGB frames, keeps the source's timestamps and rotation, copies its audio and
subtitle packets untouched (re-encoding only when the output container cannot hold the codec) and writes
through a temporary file that is renamed into place on success.

Rotation follows FFmpeg's display-matrix convention as PyAV exposes it (``VideoFrame.rotation``,
``VideoStream.set_display_rotation``): degrees *counter-clockwise* the stored picture is turned for
display, normalised here to 0, 90, 180 or 270. A phone filmed upright usually reads 270.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import numbers
import operator
import os
import re
import weakref
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from itertools import islice
from pathlib import Path

import numpy as np

from rehue.data.images import check_input_file, check_output_path, move_into_place, temp_path_for
from rehue.errors import RehueError, UsageError, bytes_escaped
from rehue.words import counted, listed

log = logging.getLogger(__name__)

MICROSECONDS = 1_000_000  # FFmpeg's AV_TIME_BASE: container durations and stream-less seeks use it

# Extension -> video encoders to try in order. H.264 4:2:0 is what every player and browser decodes;
# WebM can only hold VP8/VP9/AV1.
OUTPUT_CODECS = {
    ".mp4": ("libx264",),
    ".m4v": ("libx264",),
    ".mov": ("libx264",),
    ".mkv": ("libx264",),
    ".webm": ("libvpx-vp9", "libvpx"),
}
OUTPUT_PIXEL_FORMAT = "yuv420p"
HDR_TRANSFERS = {16: "PQ transfer, as HDR10 films have", 18: "HLG transfer, as phones record"}
"""FFmpeg's AVCOL_TRC codes of the transfer curves of HDR films (SMPTE ST 2084 and ARIB STD-B67)."""
# ``codec``: "auto" picks by extension (OUTPUT_CODECS); "h264" is libx264; "ffv1" is lossless FFV1
# version 3 in Matroska, the format archives keep film masters in: RGB stored exactly (no 4:2:0, no
# YUV rounding), every frame a key frame, a CRC per slice so damage is found and confined; "prores" is
# Apple ProRes 422 HQ in QuickTime, the 10-bit intermediate that editing and grading software takes
CODECS = ("auto", "h264", "ffv1", "prores")
CODEC_CHOICES = f"choose one of: {', '.join(CODECS)} (auto writes VP9 into .webm)"
DEEP_CODECS = ("ffv1", "prores")  # the codecs written from 16-bit frames: FFV1 keeps 16 bits, ProRes 10
VIDEO_SUFFIX_OF_CODEC = {"ffv1": ".mkv", "prores": ".mov"}  # the container each of those is written to
# the largest side each encoder takes, measured (FFmpeg says "Generic error in an external library" past it);
# FFV1 and ProRes took 65538
ENCODER_LARGEST_SIDE = {"libx264": ("H.264", 16384), "libvpx-vp9": ("VP9", 65536), "libvpx": ("VP8", 16383)}
PRORES_PIXEL_FORMAT = "yuv422p10le"
PRORES_OPTIONS = {"profile": "3"}  # 422 HQ
# x264's speed presets, fastest first (a slower one makes a smaller file at the same --crf)
H264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")


def codec_named(codec):
    """A codec's name as rehue knows it: FFV1, as its makers spell it, is ffv1 (probe 105, probe 108); None is
    "auto", as it is where a film's other settings are None (probe 168: refused by some calls, taken by others)."""
    return "auto" if codec is None else codec.lower() if isinstance(codec, str) else codec


def check_video_options(*, crf: int | None = None, preset: str | None = None, codec: str | None = None,
                        scene_mode: str | None = None) -> None:
    """Refuse a bad video setting before any work, from the CLI and the library alike (None: not given)."""
    from rehue.video.scenes import SCENE_MODES

    if crf is not None and (isinstance(crf, bool) or not isinstance(crf, numbers.Integral) or not 0 <= crf <= 63):
        raise UsageError(f"crf must be a whole number between 0 and 51 (H.264's scale; VP9's, for .webm, is 0 to "
                         f"63), not {crf!r}")
    if preset is not None and preset not in H264_PRESETS:
        raise UsageError(f"unknown H.264 preset {preset!r}; choose one of: {', '.join(H264_PRESETS)}")
    if codec is not None and codec not in CODECS:
        raise UsageError(f"unknown codec {codec!r}; {CODEC_CHOICES}")
    if scene_mode is not None and scene_mode not in SCENE_MODES:
        raise UsageError(f"unknown scene mode {scene_mode!r}; choose one of: {', '.join(SCENE_MODES)}")


DEFAULT_CRF, DEFAULT_PRESET = 18, "veryfast"  # a film's encoder settings where none is given
ENCODER_SETTINGS = {"crf": ("libx264", "libvpx-vp9", "libvpx"), "preset": ("libx264",)}
"""The encoders that use each of a film's encoder settings: FFV1 is lossless and ProRes 422 HQ of one quality,
and VP9 takes no H.264 preset."""
ENCODER_WORDS = {"ffv1": "FFV1 is lossless", "prores_ks": "ProRes 422 HQ is of one quality",
                 "libvpx-vp9": "VP9, written into .webm, takes no H.264 preset", "libvpx": "VP8 takes no H.264 preset"}


def check_encoder_settings(outputs, codec: str | None, *, crf: int | None = None, preset: str | None = None) -> None:
    """Refuse a container of the video files ``outputs`` that cannot hold ``codec`` (``encoders_for``), and ``crf``
    and ``preset`` (None: not given) where no encoder of those files uses them (probe 166: `--codec ffv1 --crf 10`
    written without a word, and kept as a setting an interrupted run is resumed by), and a crf above H.264's 51
    where H.264 would be given it."""
    encoders: dict[str, set[str]] = {}
    for path in outputs:
        encoders.setdefault(encoders_for(path, codec or "auto")[0], set()).add(Path(path).suffix.lower())
    if not encoders:
        return
    unused = [name for name, value in (("crf", crf), ("preset", preset))
              if value is not None and not encoders.keys() & set(ENCODER_SETTINGS[name])]
    if unused:
        said = "; ".join(dict.fromkeys(ENCODER_WORDS[encoder] for encoder in sorted(encoders)
                                       if encoder in ENCODER_WORDS))
        raise UsageError(f"{', '.join(unused)}: not for this video's encoder ({said})")
    if crf is not None and crf > 51 and "libx264" in encoders:  # the film's own container named (probe 167: a
        # folder of .webm films, written as .mp4, was told .webm takes 63)
        held = " and ".join(sorted(encoders["libx264"]))
        raise UsageError(f"crf must be a whole number between 0 and 51 for H.264, which {held} holds here (VP9's, "
                         f"for .webm, is 0 to 63), not {crf}")


LOSSLESS_CONTAINERS = {".mkv"}
LOSSLESS_PIXEL_FORMAT = "bgr0"
LOSSLESS_DEEP_PIXEL_FORMAT = "gbrp16le"  # 16-bit RGB: a 10-, 12- or 16-bit master's tones, every one kept
LOSSLESS_OPTIONS = {"level": "3", "g": "1", "slicecrc": "1", "slices": "4", "context": "1"}
# Encoders that cannot store odd widths/heights in 4:2:0: H.264 crops in 2-pixel units for 4:2:0, so
# an exact odd size is impossible; such frames are padded by repeating their last row/column.
EVEN_SIZE_ENCODERS = {"libx264"}
# ProRes's 4:2:2 at an odd width: FFmpeg's encoder left the last chroma column at code 4 (a stray coloured
# column down every frame; probe 35), so such frames are padded one column as for H.264
EVEN_WIDTH_ENCODERS = {"prores_ks"}
SMALL_FRAME_PIXELS = 320 * 240  # frames up to this size are encoded on one x264 thread
# Audio codecs to re-encode to, in order of preference, when the output container refuses the source's.
AUDIO_FALLBACK_CODECS = ("aac", "libopus", "opus", "libvorbis", "vorbis")
# for a source whose channels have no order (probe 164: a master's 4-track PCM in Matroska, "4 channels")
USUAL_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
# named speakers an encoder takes in neither their own layout nor the usual one of their count are mixed into the
# first of these it takes, of no more channels (probe 234: 7.1.4 and 4.0 into .webm were refused)
MIXED_INTO = ("7.1", "5.1", "5.0", "quad", "4.0", "3.0", "stereo", "mono")
# AAC in MP4 and Matroska reads back with its speakers named in these layouts alone: another (5.1(side), 6.0, 7.1(wide))
# reads back as its channel count ("6 channels"), which players take for their own guess (probe 228)
AAC_NAMED_LAYOUTS = frozenset({"mono", "stereo", "2.1", "3.0", "3.0(back)", "4.0", "quad", "5.0", "5.1", "7.1"})
# ... and these are those named layouts with their surrounds at the sides, not behind: the same speakers to a player
AAC_SIDE_AS_BACK = {"quad(side)": "quad", "5.0(side)": "5.0", "5.1(side)": "5.1"}
# a layout AAC writes in another order of its channels, read back unnamed (probe 231: 6.0(front)'s centre pair
# first): mixed into the usual layout of as many channels instead
AAC_REORDERED = frozenset({"6.0(front)"})
# Text subtitles (SubRip, ASS, WebVTT, MP4's timed text) go into a container that cannot hold them as this
# codec, the one text format each output takes; bitmap subtitles (DVD, Blu-ray) are copied or left out.
TEXT_SUBTITLE_CODECS = {".mp4": "mov_text", ".m4v": "mov_text", ".mov": "mov_text", ".mkv": "subrip",
                        ".webm": "webvtt"}
ATTACHMENT_CONTAINERS = {".mkv"}  # Matroska keeps attached files: the fonts of styled subtitles, cover art
COVER_CONTAINERS = {".mp4", ".m4v"}  # MP4 keeps cover art as a one-picture stream (MOV and WebM do not)
COVER_FORMATS = {"mjpeg": ("image/jpeg", "jpg"), "png": ("image/png", "png"), "bmp": ("image/bmp", "bmp"),
                 "gif": ("image/gif", "gif"), "webp": ("image/webp", "webp")}  # codec -> MIME type, extension
# FFmpeg hands out cover art before any other packet; a file whose cover has none among its first
# packets is not read to its end looking for it
COVER_SEARCH_PACKETS = 64
# How far (seconds) audio may run ahead of the last written video frame. The muxer interleaves the two
# streams and holds back whatever is ahead, so this bounds the buffered audio.
AUDIO_LEAD_S = 1.0
SOUND_LEAD_KEPT_S = 0.1
"""Sound that starts more than this before a film's first picture starts the colour version, the picture
following (MP4 would drop it: its edit list starts the file at the first picture). Less is AAC's priming,
which an MP4 edit list keeps exact."""
# Some containers (MP4/MOV) store the exact frame count; decoding this many fewer means the file ended
# early (a truncated download, say) rather than an edit list trimming a frame or two.
TRUNCATION_SLACK_FRAMES = 2
SAR_ENCODERS = {"libx264"}  # the encoders whose output records a non-square pixel shape (PyAV cannot tell the muxer)
# container tags that describe the encoding rather than the film: not carried over to a coloured copy
TECHNICAL_METADATA = {"encoder", "major_brand", "minor_version", "compatible_brands", "handler_name", "vendor_id",
                      "duration"}
# A file that states its video's length but no frame count (Matroska, WebM) looks truncated when its last
# frame ends more than this long before the stated end: seconds, or TRUNCATION_SLACK_FRAMES frames if that is
# more. Before stop 46 the slack was 5% of the length where that was more: 6 minutes of a 2-hour film could
# go missing without a word (probe 83).
TRUNCATION_SLACK_S = 0.1
# Above this a frame rate comes from a damaged header, not a camera (phones film slow motion at up to 960).
# H.264 in MP4 with frames that close together decoded incompletely in tests (1 of 25 clips at 5,000 fps,
# 1 of 12 with frames 1/90,000 s apart; none of 25 at 1,000 or 2,000 fps).
MAX_FPS = 1000


_UNASKED = object()


class Frame:
    """One decoded picture: ``index`` (0 for the first frame yielded), ``pts`` (in the stream's
    ``time_base``; None when the file has no timestamps), ``time`` (seconds) and the picture as
    ``gray`` (uint8 HxW, the decoder's luma; a master's ``gray16`` rounded), ``gray16`` (uint16 HxW, all of a
    10-bit master's levels) or ``rgb`` (uint8 HxWx3), converted on first use. ``retimed``: the frame comes after
    a joint between two recordings, so its ``time`` is not the file's own (a reader started there would not
    find it)."""

    __slots__ = ("index", "pts", "time", "retimed", "av_frame", "_gray", "_rgb", "_levels")

    def __init__(self, index: int, pts: int | None, time: float, av_frame, retimed: bool = False):
        self.index = index
        self.pts = pts
        self.time = time
        self.retimed = retimed
        self.av_frame = av_frame
        self._gray = None
        self._rgb = None
        self._levels = _UNASKED  # `_luma_levels`' answer once asked: its chroma read once for gray and gray16

    @property
    def width(self) -> int:
        return self.av_frame.width

    @property
    def height(self) -> int:
        return self.av_frame.height

    @property
    def deep(self) -> bool:
        """A master's frame: more than 8 bits a sample."""
        return self.av_frame.format.components[0].bits > 8

    @property
    def gray(self) -> np.ndarray:
        if self._gray is None:
            if self.deep:
                # a master's 8-bit gray from its exact levels: swscale's own read one level apart in places, so
                # a master's H.264 copy was cut into other scenes, and coloured otherwise, than its FFV1 copy
                from rehue.data.images import to_uint8

                levels = self._luma_levels()
                self._gray = to_uint8(self.gray16) if levels is None else levels[1][_luma_plane(self.av_frame)]
            else:
                self._gray = luma_gray(self.av_frame, "gray")
        return self._gray

    @property
    def gray16(self) -> np.ndarray:
        if self.av_frame.format.name.startswith(("gbr", "rgb", "bgr")):  # an RGB master (FFV1's gbrp10, ...)
            # swscale's own RGB to gray read such a master up to 1/255 bright, its top 10-bit levels as one
            # white (probe 35); its RGB is exact, and rehue's gray keeps L*
            from rehue.color.lab import rgb_to_gray

            return rgb_to_gray(self.rgb48, np.uint16)
        levels = self._luma_levels()
        if levels is not None:
            return levels[0][_luma_plane(self.av_frame)]
        # on one thread: swscale's threads left a slice's first 8 pixels mid-gray in some 10-bit 4:2:2 frames
        # (a ProRes master's; probe 34), and these levels are the L* a master is coloured from
        return luma_gray(self.av_frame, "gray16le", threads=1)

    def _luma_levels(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._levels is _UNASKED:
            self._levels = _luma_levels(self.av_frame)
        return self._levels

    @property
    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            self._rgb = frame_rgb(self.av_frame)
        return self._rgb

    @property
    def rgb48(self) -> np.ndarray:
        """The frame as 16-bit RGB (a 10- or 12-bit master's samples, scaled)."""
        return self.av_frame.reformat(format="rgb48le", threads=1).to_ndarray()  # as gray16 (and see frame_rgb)

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, pts={self.pts}, time={self.time:.3f})"


def luma_gray(av_frame, pixel_format: str, **options) -> np.ndarray:
    """A frame's gray (``pixel_format``: "gray" or "gray16le") as swscale gives it, a YUV frame's from its luma alone,
    read by BT.601's matrix whatever the frame's tag: swscale's path for other matrices goes by way of RGB, and
    read a BT.709 frame of neutral chroma half a level dark at 8 bits (limited range; an HD film's colour version
    0.19 L* darker than the film: probe 217), 0.48 light at 16 bits (full range), and a toned one's gray from its
    chroma too. An RGB frame's gray is the same either way."""
    from av.video.reformatter import Colorspace

    return av_frame.reformat(format=pixel_format, src_colorspace=Colorspace.ITU601, **options).to_ndarray()


def frame_rgb(av_frame) -> np.ndarray:
    """A decoded frame as 8-bit RGB, by its colour matrix and range, each sample rounded to the nearest and the chroma
    of a 4:2:0 or 4:2:2 frame interpolated between its samples, as a player shows it: swscale's default read such a
    frame 1 to 1.5 levels dark (a toned print's L* 0.58 low; probe 152), where a 4:4:4 frame's came out right.
    1920x1080: 6.6 ms, where the default took 0.5. (A master's 16-bit RGB stays swscale's default, 0.16 L* low for a
    toned 4:2:0 one: these flags made its 16-bit RGB 14 L* dark, and none read it right.)"""
    from av.video.reformatter import Interpolation

    accurate = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
    return av_frame.reformat(format="rgb24", interpolation=accurate).to_ndarray()


DEEP_LUMA_FORMATS = re.compile(r"(yuva?4[0-4][0-4]p|gray)(9|10|12|14|16)le")
"""The deep pixel formats whose first plane is their luma, one little-endian 16-bit word a sample."""


def _luma_plane(av_frame, index: int = 0) -> np.ndarray:
    """A deep frame's samples of one plane (uint16), as stored: the plane's rows less their padding."""
    plane = av_frame.planes[index]
    return np.frombuffer(plane, np.uint16).reshape(plane.height, plane.line_size // 2)[:, :plane.width]


def _luma_levels(av_frame) -> tuple[np.ndarray, np.ndarray] | None:
    """For a gray frame of a deep YUV or gray format (``DEEP_LUMA_FORMATS``; a YUV one's chroma neutral, as a
    black-and-white master's is): the 16-bit gray swscale gives each of the 65,536 luma words, and that gray
    rounded to 8 bits, to be looked up (``_luma_plane``); None for any other frame. swscale's 16-bit gray of a
    1080p ProRes frame tagged BT.709 took 16.5 ms on one thread, the table 3.4 (`benchmarks/master_gray.py`);
    looked up, the levels are the same to the bit, as the table is swscale's (`luma_gray`). A toned master's
    gray is swscale's, with no table."""
    if not DEEP_LUMA_FORMATS.fullmatch(av_frame.format.name):
        return None
    if not av_frame.format.name.startswith("gray"):
        neutral = 1 << (av_frame.format.components[1].bits - 1)
        if any((_luma_plane(av_frame, index) != neutral).any() for index in (1, 2)):
            return None
    return _luma_table(av_frame.format.name, int(av_frame.color_range or 0), int(av_frame.colorspace or 0))


@functools.lru_cache(maxsize=16)
def _luma_table(name: str, color_range: int, colorspace: int) -> tuple[np.ndarray, np.ndarray]:
    """`_luma_levels`' table for frames of one format and tags: a 256 x 256 frame of every luma word, neutral
    chroma, through swscale once."""
    av = require_pyav()
    from rehue.data.images import to_uint8

    every = av.VideoFrame(256, 256, name)
    every.color_range, every.colorspace = color_range, colorspace
    for index, plane in enumerate(every.planes):  # the luma plane holds every word; the others are neutral
        words = np.full((plane.height, plane.line_size // 2), 1 << (every.format.components[index].bits - 1),
                        np.uint16)
        if index == 0:
            words[:, :256] = np.arange(65536, dtype=np.uint16).reshape(256, 256)
        plane.update(words.tobytes())
    gray = luma_gray(every, "gray16le", threads=1).ravel().copy()
    return gray, to_uint8(gray)


def _prores_frame(rgb: np.ndarray):
    """An (H, W, 3) uint8 or uint16 RGB picture (W even) as a 10-bit 4:2:2 Y'CbCr frame, BT.709, limited
    range, converted here: swscale's conversion read 0.4% bright (Y 943 for white, probe 35) and, on
    several threads, left stray pixels (probe 34). Chroma is filtered [1, 2, 1] / 4 onto the even columns,
    where 4:2:2 places it."""
    import av
    from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

    height, width = rgb.shape[:2]
    scale = np.float32(1.0 / (65535.0 if rgb.dtype == np.uint16 else 255.0))
    red, green, blue = (rgb[..., channel].astype(np.float32) * scale for channel in range(3))
    luma = np.float32(0.2126) * red + np.float32(0.7152) * green + np.float32(0.0722) * blue
    planes = [np.float32(64) + np.float32(876) * luma]
    for colour, spread in ((blue, 1.8556), (red, 1.5748)):
        chroma = (colour - luma) / np.float32(spread)
        edged = np.pad(chroma, ((0, 0), (1, 1)), mode="edge")
        sited = (edged[:, 0:-2:2] + 2 * edged[:, 1:-1:2] + edged[:, 2::2]) / np.float32(4)
        planes.append(np.float32(512) + np.float32(896) * sited)
    frame = av.VideoFrame(width, height, PRORES_PIXEL_FORMAT)
    # tagged as the stream is: the encoder writes each frame's own tags into its header, which decoders
    # take over the container's (untagged, FFmpeg decoded these frames with BT.601's matrix; probe 36)
    frame.colorspace, frame.color_range = Colorspace.ITU709, ColorRange.MPEG
    frame.color_primaries, frame.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
    for plane, values in zip(frame.planes, planes, strict=True):
        stored = np.zeros((plane.height, plane.line_size // 2), np.uint16)
        stored[:, : values.shape[1]] = np.clip(np.round(values), 0, 1023)
        plane.update(stored.tobytes())
    return frame


def _ffmpeg_reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _normalise_rotation(degrees: float) -> int:
    return int(round(degrees)) % 360


def upright(picture: np.ndarray, rotation: int) -> np.ndarray:
    """A stored picture as its video is displayed: turned ``rotation`` degrees counter-clockwise
    (``VideoReader.rotation``). The models and a training set see a phone's portrait film upright."""
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(picture, turns)) if turns else picture


def upright_box(box, rotation: int, height: int, width: int):
    """``box`` (a `Box`) in a stored picture of ``height`` x ``width``, where it lies as the picture is displayed
    (`upright`): a turned film's bars are said as they are seen (probe 179: "the 320x120 picture" of a portrait
    film showing a 120x320 one)."""
    for _ in range((rotation // 90) % 4):  # a quarter turn counter-clockwise: (row, col) -> (width - 1 - col, row)
        box = type(box)(width - box.left - box.width, box.top, box.width, box.height)
        height, width = width, height
    return box


def as_stored(picture: np.ndarray, rotation: int) -> np.ndarray:
    """The inverse of `upright`: a displayed picture turned back to the way its video stores it."""
    return upright(picture, -rotation)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


GAP_WARNING_S = 10.0  # a leap ahead in the timestamps longer than this (and 100 frames) is said
JOINED_RECORDINGS_S = 12 * 3600.0  # and one longer than this is a joint between two recordings
DAMAGE_SETTLING_FRAMES = 16  # after a skipped packet, frames out of order are dropped for so many (B-frame delays)
PYAV_OLDEST = 17  # VideoFrame.rotation and the reformatter's colour enums came in PyAV 17


def require_pyav():
    """PyAV, or a RehueError where the one installed is older than rehue's video code needs (pip refuses it,
    but an environment built another way may hold one: PyAV 12-16 failed part way with AttributeError)."""
    import av

    major = av.__version__.split(".")[0]
    if major.isdigit() and int(major) < PYAV_OLDEST:
        raise RehueError(f"PyAV {av.__version__} is installed, and rehue's video code needs PyAV {PYAV_OLDEST} or "
                         f"later: pip install 'av>={PYAV_OLDEST}'")
    return av


def _open_input(path: Path):
    """Open ``path`` for demuxing, turning every way that can fail into a RehueError."""
    av = require_pyav()

    check_input_file(path, "a video file")
    try:
        return av.open(str(path), "r")
    except PermissionError:
        raise RehueError("cannot read the file (permission denied)", path) from None
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        if _cut_short_mp4(path):
            raise RehueError(CUT_SHORT_MP4, path) from None
        raise RehueError(f"not a video file FFmpeg can read ({_ffmpeg_reason(exc)})", path) from None


CUT_SHORT_MP4 = ("looks cut short (an interrupted copy or recording?): it ends inside what an MP4 or MOV must "
                 "hold whole, its media or its index (the moov box, which most cameras write at the end), so "
                 "its frames cannot be read; copy it again from its source")
# the boxes an MP4 or a MOV holds at its top level, read to tell one cut short from a file of another kind
MP4_TOP_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pnot", b"meta", b"styp", b"sidx",
                 b"moof", b"mfra", b"pdin", b"prft", b"emsg"}
# an HEIF or AVIF still (or image sequence) names one of these among its brands, and holds no moov
STILL_IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                      b"miaf", b"jp2 ", b"jpx "}


def _cut_short_mp4(path: Path, *, zeros: bool = True) -> bool:
    """Whether ``path`` is an MP4 or MOV cut short: one without a whole index (moov) beside its media (mdat), or
    one that ends inside a box, or in zeros where a box should begin (a copy allocated whole and cut short).
    Asked where FFmpeg could not read a file (probes 109, 110, 112: "not a video file FFmpeg can read", "no video
    stream", "no decodable video frames" for an interrupted copy); an HEIF or AVIF still is not one. Without
    ``zeros``, zeros after the last whole box are padding, not a cut (a copy padded to a block's size)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as file:
            place, whole, seen, ends_inside = 0, set(), set(), False
            while place < size and len(seen) < 64:
                if place + 8 > size:
                    ends_inside = True  # within a box's header (probe 114)
                    break
                file.seek(place)
                header = file.read(16)
                if not header.strip(b"\0"):
                    ends_inside = zeros  # zeros where a box should begin
                    break
                length, kind = int.from_bytes(header[:4], "big"), header[4:8]
                if length == 1 and len(header) == 16:
                    length = int.from_bytes(header[8:16], "big")
                elif length == 0:
                    length = size - place
                if length < 8 or kind not in MP4_TOP_BOXES:
                    return False
                if kind == b"ftyp":
                    file.seek(place + 8)
                    brands = file.read(min(length - 8, 256))
                    named = {brands[i:i + 4] for i in range(0, len(brands) - 3, 4) if i != 4}
                    if named & STILL_IMAGE_BRANDS:
                        return False
                seen.add(kind)
                if place + length <= size:
                    whole.add(kind)
                else:
                    ends_inside = True
                place += length
    except OSError:
        return False
    if b"meta" in seen and b"moov" not in seen:  # an HEIF-style still whatever its brands say
        return False
    media = bool(seen & {b"mdat", b"moof"})  # an index whole and no media after it: cut at its end (probe 114)
    return bool(seen & {b"mdat", b"moov", b"moof"}) and (ends_inside or b"moov" not in whole or not media)


def check_time_range(start: float | None, end: float | None) -> tuple[float | None, float | None]:
    """Refuse a start/end no video can have: negative, not a number, infinite, or end not after start;
    returns them as floats."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise UsageError(f"{name} must be a number of seconds, not {value!r}")  # probe 62: a TypeError
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{name} must be a number of seconds of at least 0, not {value}")
    # as plain numbers: a numpy number or a Fraction has no place in a run's journal (JSON) and no :g format
    # in Python 3.11 (probe 147: "Object of type float32 is not JSON serializable")
    start, end = (None if value is None else float(value) for value in (start, end))
    if end == 0:
        raise UsageError("end must be after the film's start, not 0")
    if start is not None and end is not None and end <= start:
        raise UsageError(f"end ({end:g}) must be after start ({start:g})", settings=("start", "end"))
    return start, end


def film_comment(metadata) -> str | None:
    """A film's comment, whatever its container calls it: MP4 and MOV write ``comment``, Matroska and WebM
    ``COMMENT`` (probe 69: rehue's own MKV masters were taken for colour truth)."""
    comments = [str(value) for key, value in metadata.items() if key.lower() == "comment" and value]
    return "; ".join(comments) or None


AVI_REORDER_FRAMES = 16  # H.264's deepest reordering of frames: the window their times are sorted over


def _in_presentation_order(av_frames: Iterator[tuple]) -> Iterator[tuple]:
    """(av frame, time) pairs of an AVI with their timestamps put back in order. AVI times its packets in the
    order they are stored, which is not the order they are shown where a codec reorders frames (H.264 with
    B-frames, as x264 writes by default): the decoder gives the frames in the order they are shown, each with
    the timestamp of another (probe 134: 0.16 s, 0.12 s, ...; a colour version ran twice as long as its sound,
    and each step back was warned of as a joint of two recordings). Each frame takes the earliest time among
    the next ``AVI_REORDER_FRAMES``; times in order are left as they are."""
    import heapq
    from collections import deque

    pending, times, order = deque(), [], 0
    for av_frame, time in av_frames:
        pending.append(av_frame)
        heapq.heappush(times, (time, order, av_frame.pts))  # order: ties (and NaN) never compare the pts
        order += 1
        if len(pending) > AVI_REORDER_FRAMES:
            yield _retimed(pending.popleft(), heapq.heappop(times))
    while pending:
        yield _retimed(pending.popleft(), heapq.heappop(times))


def _retimed(av_frame, timing: tuple) -> tuple:
    time, _, pts = timing
    av_frame.pts = pts
    return av_frame, time


class VideoReader:
    """Decode the video stream of ``path`` frame by frame.

    Frame times count from the start of the video stream (``stream_start_s`` on the file's own clock,
    e.g. 1.4 s in many MPEG-TS files), as players show them; ``pts`` stay the file's own.
    ``start``/``end`` (seconds, on the frame-time scale) pick the frames with ``start <= time < end``: the
    reader seeks to the key frame before ``start`` and skips frames up to it. Iterating again starts over.
    ``index`` counts the frames yielded, from 0.
    A file that becomes undecodable part way stops at the damage with one warning; a file with no
    decodable frame at all raises RehueError.
    """

    def __init__(self, path: str | os.PathLike, *, start: float | None = None, end: float | None = None):
        self.path = Path(path)
        start, end = check_time_range(start, end)
        self.start = start or None
        self.end = end
        self._container = _open_input(self.path)
        if not self._container.streams.video:
            self._container.close()
            if _cut_short_mp4(self.path):  # the index cut before it names the picture (probe 110)
                raise RehueError(CUT_SHORT_MP4, self.path)
            raise RehueError("no video stream in this file", self.path)
        if all(_is_cover(stream) for stream in self._container.streams.video):  # probe 134: a song's cover
            # taken for its film, "frame rate 90000 fps is implausible" said of the output
            sound = "sound and " if self._container.streams.audio else ""
            self._container.close()
            raise RehueError(f"no video stream in this file: it holds {sound}cover art, one still picture", self.path)
        self._stream = main_video_stream(self._container)
        self._position = list(self._container.streams.video).index(self._stream)  # the same one when reopened
        if self._stream.codec_context is None:  # FFmpeg has no decoder for the stream's codec
            self._container.close()  # or an index cut short before it names the codec (probe 114)
            raise RehueError(CUT_SHORT_MP4 if _cut_short_mp4(self.path) else
                             "the video stream's codec is unknown or cannot be decoded", self.path)
        if self._stream.codec_context.width < 1 or self._stream.codec_context.height < 1:
            image = self._container.format.name == "image2" or self._container.format.name.endswith("_pipe")
            self._container.close()
            if image:  # FFmpeg opens a file by its picture extension, whatever it holds (probe 116: a text file)
                raise RehueError(f"is named as a picture ({self.path.suffix}) but is no picture or video FFmpeg can "
                                 "read", self.path)
            raise RehueError(CUT_SHORT_MP4 if _cut_short_mp4(self.path) else
                             "the video stream states no frame size (damaged header?)", self.path)
        self._size = (self._stream.codec_context.width, self._stream.codec_context.height)
        self._resize_warned = self._interlace_warned = self._truncation_warned = self._gap_warned = False
        self._hdr_warned = False
        self._joints_said: set[int] = set()  # the frames a joint was said at: a second pass says none again
        self._alpha_settled = False  # its transparency said, or none in its format
        self._damage_warned = False
        self.damaged_after: int | None = None  # the frames decoded before the first packet that could not be
        self.damaged_from_s: float | None = None  # the time of the earliest frame lost to damage, where stated
        self._stream.thread_type = "AUTO"
        self._start_pts = self._stream.start_time or 0
        self._opening_warned = False
        self._stored_order = self._container.format.name == "avi"  # its frames timed in the order stored
        self._rotation: int | None = None
        self._iterated = False

    # -- properties -------------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        """Decoded (stored) width; a rotated video is displayed with width and height swapped."""
        return self._size[0]

    @property
    def height(self) -> int:
        return self._size[1]

    @property
    def fps(self) -> Fraction | None:
        """Average frame rate; None only for files that state no rate at all."""
        stream = self._stream
        rates = [Fraction(rate) for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate) if rate]
        # a rate no film has is the demuxer's clock, not the frames' (FFmpeg states 60000 for raw DV)
        return next((rate for rate in rates if rate <= MAX_FPS), rates[0] if rates else None)

    @property
    def time_base(self) -> Fraction:
        return Fraction(self._stream.time_base)

    @property
    def stream_start_s(self) -> float:
        """The file's timestamp (seconds) of the video stream's start, where frame time 0 is."""
        return float(self._start_pts * self._stream.time_base)

    @property
    def codec(self) -> str:
        return self._stream.codec_context.name

    @property
    def sample_aspect_ratio(self) -> Fraction | None:
        """The shape of one pixel, width over height, where it is not square (8/9 for 4:3 NTSC DV and
        DVD, 32/27 for their 16:9): players stretch the picture by it. None for square pixels."""
        ratio = self._stream.codec_context.sample_aspect_ratio or self._stream.sample_aspect_ratio
        return Fraction(ratio) if ratio and ratio > 0 and ratio != 1 else None

    @property
    def metadata(self) -> dict[str, str]:
        """What the file says of its content (title, date, copyright, ...), not how it was encoded."""
        return {key: value for key, value in self._container.metadata.items()
                if key.lower() not in TECHNICAL_METADATA and value}

    @property
    def coloured_by_rehue(self) -> bool:
        """Whether the film's comment says rehue coloured it: its colours are a model's guess, not a truth
        to learn from or to score against."""
        from rehue.data.images import coloured_by_rehue

        return coloured_by_rehue(film_comment(self.metadata))

    @property
    def has_audio(self) -> bool:
        return bool(self._container.streams.audio)

    @property
    def bits_per_sample(self) -> int:
        """Bits of each decoded sample: 8 for most films, 10 or 12 for a digital master."""
        import av

        try:
            return int(av.VideoFormat(self._stream.codec_context.pix_fmt).components[0].bits)
        except (TypeError, ValueError, IndexError, av.FFmpegError):
            return 8

    @property
    def track_tags(self) -> dict[str, str]:
        """The picture track's own title and language (an MP4's "name" read as its title; "und" is none), which a
        colour version's picture track keeps (probe 217: dropped without a word, where the sound's were kept)."""
        metadata = self._stream.metadata
        tags = {"title": metadata.get("title") or metadata.get("name"), "language": metadata.get("language")}
        return {key: value for key, value in tags.items() if value and value.lower() != "und"}

    @property
    def timecode(self) -> str | None:
        """The source's start timecode (a MOV or MXF reel's "01:00:00:00", Matroska's TIMECODE tag), if it
        states one."""
        for metadata in (self._stream.metadata, self._container.metadata):
            for key, value in metadata.items():
                if key.lower() == "timecode" and value:
                    return value
        return None

    def chapters(self) -> list[dict]:
        """The file's chapters as PyAV gives them (``id``, ``start``, ``end``, ``time_base``, ``metadata``)."""
        try:
            return list(self._container.chapters())
        except (AttributeError, ValueError):
            return []

    def beside_the_picture(self) -> list[str]:
        """What a colour version in a video file carries beside the picture, in words ("sound", "subtitles",
        "chapters", "attached files"), which numbered frames hold none of (probe 235: said of the sound alone)."""
        chapters = len(self.chapters())  # an MP4's chapter track is a data stream (probe 236: a subtitle track of
        # as many cues was taken for it)
        held = {"sound": self.has_audio, "subtitles": self._container.streams.subtitles, "chapters": chapters,
                "attached files": self._container.streams.attachments}
        return [what for what, there in held.items() if there]

    def streams_not_carried(self) -> list[str]:
        """What any colour version of this file leaves out, in words: data tracks and video streams after
        the first. (One video stream, every audio track, the chapters and the timecode are carried, and the
        subtitles, cover art and attached files where the output container holds them:
        ``VideoWriter.left_out``.)"""
        kinds, sizes = Counter(), []
        chapters = len(self.chapters())
        for stream in self._container.streams:
            if chapters and "mov" in self._container.format.name and stream.type in ("data", "subtitle") \
                    and stream.frames == chapters:
                continue  # MP4's and MOV's chapters are a text track of one sample a chapter: they are carried

            if stream.type == "video" and stream.index != self._stream.index and not _is_cover(stream):
                kinds["more video stream"] += 1
                context = stream.codec_context
                sizes.append(f"{context.width}x{context.height}" if context is not None else "undecodable")
            elif stream.type == "data" and not (stream.metadata.get("timecode") and self.timecode is not None):
                kinds["data stream"] += 1
        words = {kind: counted(count, kind) for kind, count in kinds.items()}
        if sizes:  # which picture is coloured, and which are not
            words["more video stream"] += (f" ({', '.join(sizes)}; the {self.width}x{self.height} one, stream "
                                           f"{self._stream.index}, is coloured)")
        return list(words.values())

    @property
    def duration_s(self) -> float | None:
        """Length of the whole video stream (or, failing that, of the file); None when unknown."""
        if self._stream.duration:
            return float(self._stream.duration * self._stream.time_base)
        if self._container.duration:
            return self._container.duration / MICROSECONDS
        return None

    def _stated_video_s(self) -> float | None:
        """The video stream's own stated length: its duration, or the DURATION tag Matroska muxers write
        per stream; the file's duration only when no other stream (sound that runs on) can lengthen it."""
        if self._stream.duration:
            return float(self._stream.duration * self._stream.time_base)
        tagged = _tagged_end_s(self._stream)
        if tagged is not None:  # where the stream ends on the file's clock: its length runs from where it starts
            return tagged - max(0.0, self.stream_start_s)
        if self._container.duration and len(self._container.streams) == 1:
            return self._container.duration / MICROSECONDS
        return None

    @property
    def frame_count(self) -> int | None:
        """About how many frames iteration yields (``start``/``end`` taken into account); None when
        the file gives neither a frame count nor a duration and rate."""
        total = self._stream.frames or None
        fps = self.fps
        # the video's own length, not the file's: a film whose picture starts late, or after its sound, counted
        # those seconds too (probe 101: 0/1000000024 for 24 frames that start 11 hours in)
        length = self._stated_video_s() or self.duration_s
        if total is None and length is not None and fps:
            total = round(length * fps)
        if total is None:
            return None
        if self.start is None and self.end is None:
            return total
        if not fps:
            return None
        # the frames at or after start and before end: a frame's time is its number over the rate
        first = math.ceil((self.start or 0) * fps - 1e-6)
        last = total if self.end is None else min(total, math.ceil(self.end * fps - 1e-6))
        return max(0, last - first)

    @property
    def rotation(self) -> int:
        """Display rotation in degrees counter-clockwise (0, 90, 180, 270); 0 when the file has none.

        FFmpeg hands the display matrix to decoded frames, so the first frame is decoded (once, by a
        separate demuxer) to read it; old files may instead carry a clockwise ``rotate`` tag."""
        if self._rotation is None:
            tag = self._stream.metadata.get("rotate")
            if tag is not None:
                try:
                    self._rotation = _normalise_rotation(-float(tag))
                except ValueError:
                    self._rotation = None
            if self._rotation is None:
                self._rotation = self._probe_rotation()
        return self._rotation

    def _probe_rotation(self) -> int:
        import av

        try:
            with av.open(str(self.path), "r") as container:
                for frame in container.decode(video=self._position):
                    return _normalise_rotation(frame.rotation)
        except av.FFmpegError:
            pass
        return 0

    # -- iteration ----------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        if self._iterated:
            self._reopen()
        self._iterated = True
        start = self.start if self.start is not None else float("-inf")
        end = self.end if self.end is not None else float("inf")
        if self.start is not None and self.duration_s is not None and self.start >= self.duration_s:
            return
        av_frames = self._decode(seeked=False) if self.start is None else self._decode_from_seek()
        if self._stored_order:
            av_frames = _in_presentation_order(av_frames)
        index, previous, shift = 0, None, 0.0  # shift: seconds added to close a joint (recordings joined)
        for av_frame, time in av_frames:
            time += shift
            if time < start:
                continue
            if time >= end:
                return
            if previous is not None:
                closed = self._joint_closed(previous, time, index)
                shift, time = shift + closed, time + closed
            previous = time
            if (av_frame.width, av_frame.height) != self._size:
                av_frame = self._to_stream_size(av_frame)
            if av_frame.interlaced_frame and not self._interlace_warned:
                log.warning("%s: the video is interlaced (two fields a frame, as television was recorded); rehue "
                            "takes whole frames, so moving edges keep their combing (in a colour version, in a "
                            "dataset's frames): deinterlace it first for the best result (for example ffmpeg -i IN "
                            "-vf bwdif -c:a copy OUT)",
                            self.path)
                self._interlace_warned = True
            if av_frame.color_trc in HDR_TRANSFERS and not self._hdr_warned:
                log.warning("%s: the video is HDR (%s); rehue reads its levels as an SDR film's (BT.709), and its "
                            "colour version is an SDR film, darker and flatter than an HDR screen shows the gray: "
                            "convert it to SDR first for the best result (for example ffmpeg -i IN -vf "
                            "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,"
                            "zscale=t=bt709:m=bt709:r=tv,format=yuv420p -c:a copy OUT)",
                            self.path, HDR_TRANSFERS[av_frame.color_trc])
                self._hdr_warned = True
            if not self._alpha_settled:
                self._warn_of_alpha(av_frame)
            pts = av_frame.pts
            if shift and pts is not None:
                pts += round(shift / self._stream.time_base)
            yield Frame(index, pts, time, av_frame, retimed=bool(shift))
            index += 1

    def _warn_of_alpha(self, av_frame) -> None:
        """Say once that the film's transparency is not kept (probe 152: left out of its frames and its colour
        version without a word): a frame of an alpha format that is not wholly opaque, or a VP9 stream marked as
        holding alpha (which FFmpeg's own VP9 decoder does not read)."""
        if any(component.is_alpha for component in av_frame.format.components):
            if av_frame.to_ndarray(format="rgba")[..., 3].min() == 255:  # each frame read, till one is not opaque
                return
        elif self._stream.metadata.get("alpha_mode") != "1":
            self._alpha_settled = True  # no alpha in this film's format
            return
        log.warning("%s: the video holds transparency (an alpha channel); rehue colours its picture and keeps none "
                    "of the transparency: what it writes of the film is wholly opaque", self.path)
        self._alpha_settled = True

    def _joint_closed(self, previous: float, time: float, index: int) -> float:
        """Seconds to add from frame ``index`` on, where the timestamps go back or leap ahead by hours:
        recordings joined end to end (`cat a.ts b.ts`), each with its own clock. The frames after the joint
        follow on one frame interval later; before, a colour version held one frame for a day, squeezed the
        second recording into a few clock ticks, or could not be written. A leap of seconds to hours is kept
        (a gap in a recording), and said."""
        step = time - previous
        usual = 1 / float(self.fps) if self.fps else 0.04
        where = f"at frame {index} ({previous:.2f} s to {time:.2f} s)"
        if step < -usual / 2 or step > JOINED_RECORDINGS_S:
            if index not in self._joints_said:  # once: the pass over the first frames for bars crossed it too,
                # then the film's (probe 214)
                self._joints_said.add(index)
                log.warning("%s: the timestamps %s %s: recordings joined end to end? The frames after it are timed "
                            "to follow on; the sound after it may be out of step (colour each recording on its own "
                            "for that)", self.path, f"go back by {-step:.2f} s" if step < 0 else
                            f"leap ahead by {step / 3600:.1f} hours", where)
            return previous + usual - time
        if step > max(GAP_WARNING_S, 100 * usual) and not self._gap_warned:
            log.warning("%s: the timestamps leap ahead by %.1f s %s: a gap in the recording, or two joined; the "
                        "colour version keeps the gap, holding frame %d for it", self.path, step, where, index - 1)
            self._gap_warned = True
        return 0.0

    def _to_stream_size(self, av_frame):
        """Scale a frame to the stream's first size: spliced recordings change size part way, and an
        output file (or a dataset) holds one size."""
        if not self._resize_warned:
            log.warning("%s: the frame size changes from %dx%d to %dx%d; such frames are scaled to %dx%d",
                        self.path, *self._size, av_frame.width, av_frame.height, *self._size)
            self._resize_warned = True
        return av_frame.reformat(width=self.width, height=self.height)

    def _decode_from_seek(self) -> Iterator[tuple]:
        """Frames from the key frame before ``start``. Where the seek overshoots (files without an index,
        such as MPEG-TS, land on any packet) decode from the beginning instead."""
        import itertools

        import av

        try:
            self._container.seek(self._start_pts + int(self.start / self._stream.time_base),
                                 stream=self._stream, backward=True)
        except av.FFmpegError:
            first = None
        else:
            frames = self._decode(seeked=True)
            first = next(frames, None)
        if first is not None and first[1] <= self.start:
            return itertools.chain([first], frames)
        self._reopen()
        return self._decode(seeked=False)

    def _decode(self, *, seeked: bool) -> Iterator[tuple]:
        """(av frame, time) pairs from where the demuxer stands. A packet the decoder cannot decode is skipped
        (its frames are missing: the one before is shown on in their place), as FFmpeg's own tools do, and
        said once; damage the demuxer cannot read past stops the film there, with a warning."""
        import av

        stream = self._stream
        fps = self.fps
        time_base = stream.time_base
        decoded, last_time, last_length = 0, float("nan"), 1 / float(fps) if fps else 0.0
        damaged, first_damage, settling = 0, None, 0
        opening, opened = [], None  # the times of the packets decoded before the first frame, and that frame's
        packets = self._container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                if decoded == 0 and seeked:
                    return
                if decoded == 0:
                    reason = f"no decodable video frames ({_ffmpeg_reason(exc)})"
                    raise RehueError(CUT_SHORT_MP4 if _cut_short_mp4(self.path) else reason, self.path) from None
                self._say_damage(damaged, first_damage)
                log.warning("%s: video is damaged after %d decoded frames (%s); stopping there",
                            self.path, decoded, _ffmpeg_reason(exc))
                return
            try:
                av_frames = packet.decode()
            except av.FFmpegError as exc:
                if decoded == 0 and seeked:
                    return
                damaged += 1
                first_damage = first_damage or (decoded, _ffmpeg_reason(exc))
                if packet.pts is not None:  # packets come in decoding order: the earliest lost frame's is the least
                    lost = float((packet.pts - self._start_pts) * time_base)
                    self.damaged_from_s = lost if self.damaged_from_s is None else min(self.damaged_from_s, lost)
                settling = DAMAGE_SETTLING_FRAMES
                continue
            if packet.pts is not None and not packet.is_discard and (  # an edit list's trimmed frames are not
                    decoded == 0 or opened is not None and packet.pts < opened):  # lost, and come out as none
                opening.append(packet.pts)
            for av_frame in av_frames:
                decoded += 1
                if decoded == 1 and not seeked and av_frame.pts is not None:
                    opened = av_frame.pts
                    if any(pts < opened for pts in opening):
                        self._say_lost_opening()
                if av_frame.pts is not None:
                    time = float((av_frame.pts - self._start_pts) * time_base)
                elif fps:
                    time = (decoded - 1) / float(fps)  # no timestamps: count from the first decoded frame
                else:
                    time = float("nan")
                if settling and not self._stored_order:  # a decoder that lost a reference frame can give the
                    # frames after it out of order: one earlier than the last is dropped, not taken for a joint of
                    # two recordings (an AVI's times step back anyway, and are sorted after: probe 135)
                    settling -= 1
                    if time <= last_time:
                        continue
                if self._rotation is None:
                    self._rotation = _normalise_rotation(av_frame.rotation)
                if av_frame.duration:  # how long the last frame is shown: a slide show's can be seconds
                    last_length = float(av_frame.duration * (av_frame.time_base or time_base))
                last_time = time
                yield av_frame, time
        if decoded == 0 and not seeked:
            reason = f" ({first_damage[1]})" if first_damage else ""
            raise RehueError(CUT_SHORT_MP4 if _cut_short_mp4(self.path) else f"no decodable video frames{reason}",
                             self.path)
        self._say_damage(damaged, first_damage)
        expected = stream.frames if not self._stored_order else 0  # an AVI counts its dropped frames' empty
        # chunks (probe 135: "ended after 40 of 44 frames"): its stated length is checked instead
        if expected and stream.duration and fps:  # an MP4 edit list that trims frames counts them, and its
            expected = min(expected, math.ceil(float(stream.duration * time_base * fps)))  # duration does not
        if expected and opened is not None:  # said as what they are (probe 211: "truncated")
            expected -= sum(1 for pts in opening if pts < opened)
        if seeked or self._truncation_warned or damaged:  # frames lost to damage are not a file cut short
            return
        slack = max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_FRAMES / float(fps) if fps else 0.0)
        if expected and decoded + TRUNCATION_SLACK_FRAMES < expected:
            log.warning("%s: video ended after %d of %d frames; the file looks truncated",
                        self.path, decoded, expected)
            self._truncation_warned = True
        elif not expected and (stated := self._stated_video_s()) is not None \
                and last_time + last_length + slack < stated:
            log.warning("%s: video ended at %.1f s of the %.1f s the file states; the file looks truncated",
                        self.path, last_time, stated)
            self._truncation_warned = True
        elif not expected and _cut_short_mp4(self.path, zeros=False):  # a fragmented MP4 cut inside a fragment
            # states no length (probe 112); zeros after its last box are padding (probe 117)
            log.warning("%s: video ended after %d frames, inside a part of the file cut short; the file looks "
                        "truncated", self.path, decoded)
            self._truncation_warned = True

    def _say_lost_opening(self) -> None:
        """A warning where the decoder gave no frame for the file's first frames, which follow no key frame (a
        recording cut after one): they were taken for frames missing at the end (probe 211: "video ended after 20
        of 24 frames; the file looks truncated"), or, in a file that states no frame count, not said. How many is
        known only once the frames after the first are read (the leading frames of an open GOP come after it), and
        a time needs a start that a transport stream takes from its first packet in decoding order (probe 212:
        "before 0.00 s"), so neither is said."""
        if not self._opening_warned:
            self._opening_warned = True
            log.warning("%s: its first frames cannot be decoded, as no key frame comes before them (a recording cut "
                        "part way through?); it is coloured from the first frame that can", self.path)

    def _say_damage(self, damaged: int, first: tuple[int, str] | None) -> None:
        """One warning for the packets skipped as undecodable, once a reader (which may be read more than once)."""
        if not damaged or self._damage_warned:
            return
        self._damage_warned = True
        self.damaged_after = first[0]
        one = damaged == 1
        # damage before any frame: no frame before to show on (probe 152)
        instead = "the frame before shown on in their place" if first[0] else \
            "and the film starts at the first frame decoded after them"
        log.warning("%s: video is damaged: %s could not be decoded (the first after %d decoded frames: %s) and %s "
                    "skipped; the frames %s held are missing, %s",
                    self.path, counted(damaged, "packet"), *first, "was" if one else "were", "it" if one else "they",
                    instead)

    def key_frames(self, limit: int) -> Iterator[np.ndarray]:
        """Gray pictures (uint8 HxW) of up to ``limit`` key frames from the start of the file, with no
        other frame decoded: a quick look over the first minutes of a film. Stops quietly at damage;
        the reader's own iteration is not touched."""
        import av

        container = _open_input(self.path)
        try:
            stream = container.streams.video[self._position]
            stream.codec_context.skip_frame = "NONKEY"
            for av_frame in islice(container.decode(stream), limit):
                yield luma_gray(av_frame, "gray")
        except av.FFmpegError:
            return
        finally:
            container.close()

    def _reopen(self) -> None:
        """A fresh demuxer at the beginning of the file (more reliable than seeking back to 0)."""
        self._container.close()
        self._container = _open_input(self.path)
        self._stream = self._container.streams.video[self._position]
        self._stream.thread_type = "AUTO"

    # -- lifetime -------------------------------------------------------------------------------------------
    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"VideoReader({str(self.path)!r}, {self.width}x{self.height}, fps={self.fps}, "
                f"codec={self.codec!r}, audio={self.has_audio})")


def _encoder_rate(source_rate: int, rates) -> int:
    """The sample rate to encode ``source_rate`` audio at: its own when the encoder takes it (or lists no
    rates), else the nearest rate above it that the encoder takes, else the encoder's highest (an odd
    11,024 Hz becomes 11,025, not 96,000)."""
    if not rates or source_rate in rates:
        return source_rate
    above = [rate for rate in rates if rate > source_rate]
    return min(above) if above else max(rates)


def _encoder_opens(codec, rate: int, layout: str) -> bool:
    """Whether ``codec`` opens for ``rate`` Hz audio in ``layout``, tried on a context of its own so
    that a refusal leaves no stream behind in the output."""
    import av

    try:
        context = av.CodecContext.create(codec, "w")
        context.sample_rate = rate
        context.layout = layout
        if codec.audio_formats:
            context.format = codec.audio_formats[0]
        context.open()
    except (ValueError, av.FFmpegError):
        return False
    return True


def _name_the_speakers(context) -> None:
    """Give a copied track whose channels have no order ("2 channels": PCM from Matroska or AVI, which do
    not record speakers) the usual layout for its channel count. MP4's muxer refuses an unordered
    layout, and only when the file is closed, after every frame was coloured."""
    usual = USUAL_LAYOUTS.get(context.layout.nb_channels)
    if usual and _unordered(context.layout):
        context.layout = usual


def _relabelled(frame, layout: str):
    """``frame``'s samples, as they are, in ``layout`` (of as many channels). Plane by plane: PyAV counts 9 planes
    in a planar frame of 8 channels, and its ``to_ndarray`` reads past the last (probe 231)."""
    import av

    again = av.AudioFrame(format=frame.format.name, layout=layout, samples=frame.samples)
    planes = frame.layout.nb_channels if frame.format.is_planar else 1
    for source, target in zip(frame.planes[:planes], again.planes[:planes], strict=True):
        target.update(memoryview(source)[: target.buffer_size])  # a decoder's planes are padded
    again.sample_rate, again.pts, again.time_base = frame.sample_rate, frame.pts, frame.time_base
    return again


# MP4 stores FLAC with its channel count alone, read back as these layouts: another's speakers, copied, were
# misnamed (probe 226: 5.1's back pair read as 5.1(side)'s side pair; 4.0's centre back as quad's back right)
FLAC_IN_MP4_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0(side)", 6: "5.1(side)", 7: "6.1",
                       8: "7.1"}


def _speakers_renamed(context, container: str) -> bool:
    """Whether a track copied as it is into ``container`` would be read back with other speakers: it is
    re-encoded instead, into a codec that names them."""
    layout = context.layout
    return context.name == "flac" and container in ("mp4", "ipod") and not _unordered(layout) and \
        FLAC_IN_MP4_LAYOUTS.get(layout.nb_channels) != layout.name


def _joined_cues(first, second):
    """One MP4 timed text cue of two that begin together: their lines one under the other, as long as the longer, with
    the first's styles (whose places are in its own text, first); the second's styles are left out."""
    import av

    one, two = bytes(first), bytes(second)
    one_length, two_length = int.from_bytes(one[:2], "big"), int.from_bytes(two[:2], "big")
    text = one[2 : 2 + one_length] + (b"\n" if one_length and two_length else b"") + two[2 : 2 + two_length]
    joined = av.Packet(len(text).to_bytes(2, "big") + text + one[2 + one_length :])
    joined.stream, joined.time_base = first.stream, first.time_base
    joined.pts = joined.dts = first.pts
    joined.duration = max(first.duration or 0, (second.pts + (second.duration or 0)) - first.pts)
    return joined


def _speakers_left_out(source: str, target: str) -> list[str]:
    """The speakers of layout ``source`` (their descriptions) that FFmpeg's mix into ``target`` leaves out, found by
    mixing one sample of each alone (probe 233: cube's top back pair, in none of 7.1's channels)."""
    import av

    layout = av.AudioLayout(source)
    channels = layout.nb_channels
    impulses = np.zeros((channels + 32, channels), np.float32)  # packed: PyAV miscounts 8 planar channels
    impulses[:channels] = np.eye(channels)
    frame = av.AudioFrame.from_ndarray(impulses.reshape(1, -1), format="flt", layout=source)
    frame.sample_rate = 48000
    resampler = av.AudioResampler(format="flt", layout=target, rate=48000)
    mixed = [out.to_ndarray() for out in (*resampler.resample(frame), *resampler.resample(None))]
    mixed = np.concatenate(mixed, axis=1).reshape(-1, av.AudioLayout(target).nb_channels)[:channels]
    return [speaker.description for speaker, into in zip(layout.channels, mixed, strict=True)
            if not np.abs(into).max() > 1e-6]


def _unordered(layout) -> bool:
    return layout.name == f"{layout.nb_channels} channels"


class _CannotCarry(Exception):
    """A source track the output container cannot hold in any form rehue can write."""


# ISO 639-2's two codes for a language, bibliographic and terminological: a container may know only one (FFmpeg's
# .mov muxer takes "ger" and "fra", not "deu" or "fre")
LANGUAGE_CODES = {"alb": "sqi", "arm": "hye", "baq": "eus", "bur": "mya", "chi": "zho", "cze": "ces", "dut": "nld",
                  "fre": "fra", "geo": "kat", "ger": "deu", "gre": "ell", "ice": "isl", "mac": "mkd", "mao": "mri",
                  "may": "msa", "per": "fas", "rum": "ron", "slo": "slk", "tib": "bod", "wel": "cym"}
LANGUAGE_CODES |= {terminological: bibliographic for bibliographic, terminological in LANGUAGE_CODES.items()}


@functools.lru_cache(maxsize=1)
def _track_marks() -> dict[int, str]:
    """A track's dispositions that say who it is for, as a warning names them."""
    import av

    marks = av.stream.Disposition
    return {int(marks.comment): "commentary", int(marks.forced): "forced",
            int(marks.hearing_impaired): "hard-of-hearing", int(marks.visual_impaired): "visually-impaired",
            int(marks.dub): "dubbed", int(marks.original): "original-language", int(marks.captions): "captions",
            int(marks.descriptions): "audio-description", int(marks.lyrics): "lyrics", int(marks.karaoke): "karaoke",
            int(marks.clean_effects): "clean-effects"}


@functools.lru_cache(maxsize=64)
def _read_back(container: str, language: str, marks: int) -> tuple[str | None, int] | None:
    """The language and dispositions an audio track tagged ``language`` and ``marks`` has in a file of
    ``container`` written and read back (in memory); None where no such file could be made here."""
    import io

    import av

    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format=container) as output:
            for name in ("aac", "libopus", "pcm_s16le", "mp2"):
                try:
                    stream = output.add_stream(name, rate=48000, layout="stereo")
                    break
                except (ValueError, av.FFmpegError):
                    continue
            else:
                return None
            stream.metadata["language"], stream.disposition = language, marks
            silence = av.AudioFrame(format=stream.codec_context.format.name, layout="stereo", samples=1152)
            silence.sample_rate, silence.pts = 48000, 0
            for plane in silence.planes:
                plane.update(bytes(plane.buffer_size))
            output.mux(stream.encode(silence) + stream.encode(None))
        buffer.seek(0)
        with av.open(buffer) as back:
            read = back.streams.audio[0]
            return read.metadata.get("language"), int(read.disposition)
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return None


TRACK_TITLE_CHARS = 1000


def track_title(title: str, path, whose: str, said: set | None) -> str:
    """A track's title as a colour version keeps it: its first ``TRACK_TITLE_CHARS`` characters, with a warning
    where it is longer (probes 218, 220: one of 200,000 came out of MP4's writer cut to 21,588, and twice), once
    for each ``said`` (a writer's: it may open its output twice; None: said by none, a trial's)."""
    if len(title) <= TRACK_TITLE_CHARS:
        return title
    if said is not None and (str(path), whose) not in said:
        said.add((str(path), whose))
        log.warning("%s: %s title (%s characters) is cut to its first %s", path, whose, f"{len(title):,}",
                    f"{TRACK_TITLE_CHARS:,}")
    return title[:TRACK_TITLE_CHARS]


def _language_kept(container: str, language: str) -> str | None:
    """The code to write for ``language`` in a file of ``container``: its own, or its other ISO 639-2 code where
    the container knows only that one; None where it keeps neither."""
    for code in dict.fromkeys((language, LANGUAGE_CODES.get(language.lower(), language))):
        back = _read_back(container, code, 0)
        if back is None or back[0] == code:
            return code
    return None


def _marks_lost(container: str, marks: int) -> int:
    """Those of the dispositions ``marks`` that `_track_marks` names and a file of ``container`` loses, each
    tried alone (FFmpeg's Matroska writer kept the dubbed and original-language marks each alone, and lost them
    set with all the others)."""
    lost = 0
    for flag in _track_marks():
        if marks & flag and (back := _read_back(container, "und", flag)) is not None and not back[1] & flag:
            lost |= flag
    return lost


SUBTITLE_LOOKBACK_S = 60.0
"""How long before a part's start its subtitle tracks are read from: a subtitle shown from before the start and
lasting into the part is stored at its beginning, and a seek to the start lands on the video's key frame before
it, which in a Matroska film with sound may be after the subtitle began (probe 144: one shown from 0.2 s to
2.8 s was lost from a part starting at 2 s)."""


def _seek_before(container, start: float, kind: str) -> None:
    """``container`` read from just before ``start`` (seconds, the file's clock) for a track of ``kind``: the
    sound's packet that straddles it; for subtitles, ``SUBTITLE_LOOKBACK_S`` before it."""
    if kind == "subtitle":
        start -= SUBTITLE_LOOKBACK_S
    container.seek(int(max(start, 0) * MICROSECONDS), backward=True)  # the file's start: wherever it was read to


def _empty_cue(packet) -> bool:
    """Whether a subtitle packet shows nothing: empty, or MP4 timed text's filler of a gap (its text's length,
    the first two bytes, zero)."""
    if not packet.size:
        return True
    context = packet.stream.codec_context  # None for a format FFmpeg cannot decode (probe 146: a traceback)
    return context is not None and context.name == "mov_text" and bytes(packet)[:2] == b"\0\0"


class _TrackCopier:
    """Feeds one audio or subtitle track of a source file into the output as the video advances.

    A second demuxer reads the source's packets in step with the written video, so nothing is
    buffered beyond ``AUDIO_LEAD_S``. Packets are copied untouched when the output container accepts
    the codec; otherwise sound is re-encoded to the first codec of ``AUDIO_FALLBACK_CODECS`` it takes,
    and text subtitles to the container's text format (``TEXT_SUBTITLE_CODECS``). Timestamps move by
    ``-origin`` so that the source time ``origin`` becomes output time 0; packets starting before
    ``start`` or at/after ``end`` are left out.
    """

    def __init__(self, source: Path, start: float | None, end: float | None, output, *, kind: str = "audio",
                 allow_copy: bool = True, track: int = 0, suffix: str = "", said: set | None = None):
        import av

        self.source = source
        self.kind, self.track = kind, track
        self.start = start
        self.end = end
        self.origin_s = 0.0
        self._encoder = None
        self._relabel = self._relabel_from = None
        self.speakers_unnamed = False
        self.mixed_into = None
        self.left_out = []
        self._input = _open_input(source)
        try:
            streams = self._input.streams.audio if kind == "audio" else self._input.streams.subtitles
            self.in_stream = streams[track]
            if self.in_stream.codec_context is None:  # a codec this FFmpeg does not know
                raise _CannotCarry("an unknown format")
            # MP4's muxer refuses channels of no order only as the file is closed, after every frame was coloured:
            # more than USUAL_LAYOUTS names are re-encoded, or said before colouring to fit no encoder (probe 165)
            unnamed = kind == "audio" and self.in_stream.codec_context.layout.nb_channels not in USUAL_LAYOUTS and \
                _unordered(self.in_stream.codec_context.layout)
            self.copied = allow_copy and not (unnamed and output.format.name in ("mp4", "ipod")) and not (
                kind == "audio" and _speakers_renamed(self.in_stream.codec_context, output.format.name))
            if self.copied:
                try:
                    self.out_stream = output.add_stream_from_template(self.in_stream)
                except ValueError:  # PyAV's "format does not support codec"
                    self.copied = False
                else:
                    if kind == "audio":
                        _name_the_speakers(self.out_stream.codec_context)
            if not self.copied:
                self.out_stream = self._add_encoder(output) if kind == "audio" else self._add_text_encoder(output,
                                                                                                           suffix)
            # which track is which: a language, a commentary ("name" as FFmpeg reads an MP4's; probe 118)
            title = self.in_stream.metadata.get("title") or self.in_stream.metadata.get("name")
            if title:
                self.out_stream.metadata["title"] = track_title(title, source, f"its {kind} track {track + 1}'s",
                                                                said)
            # what the container cannot hold of the track's tags (probe 118): its language, its marks
            self.lost_language: str | None = None
            language = self.in_stream.metadata.get("language")
            if language and language.lower() != "und":  # "und": none (an MP4 writer's default; probe 119)
                kept = _language_kept(output.format.name, language)
                if kept:
                    self.out_stream.metadata["language"] = kept
                else:
                    self.lost_language = language
            # which track a player picks (default), and who a track is for: forced, hearing or visually impaired
            self.out_stream.disposition = self.in_stream.disposition
            self.lost_marks = _marks_lost(output.format.name, int(self.in_stream.disposition))
            if start:
                _seek_before(self._input, start, kind)
        except av.FFmpegError as exc:
            self._input.close()
            raise RehueError(f"cannot read the {self.kind} ({_ffmpeg_reason(exc)})", source) from None
        except BaseException:
            self._input.close()
            raise
        self._packets = self._input.demux(self.in_stream)
        self._pending = None
        self._done = False
        self.fed = 0  # packets of the part written: none, where the part lies wholly before or after the track
        self.dropped = 0  # of them, those left out: undecodable, or refused by the output
        self.seen = 0  # packets read of the track, in the part or out of it
        self.label = ""  # "audio track 2: ", where the output has several
        self._held_cue = None  # MP4's timed text: the cue written once the next one's start is known
        self.overlapping = 0  # cues cut short where the next begins
        self.joined = 0  # cues that began with the one before, joined to it

    @property
    def lost(self) -> list[str]:
        """What the output keeps not of the track's tags, in words: "language (swe)", "commentary mark"."""
        marks = [said for flag, said in _track_marks().items() if self.lost_marks & flag]
        return [*([f"language ({self.lost_language})"] if self.lost_language else []),
                *([f"{' and '.join(marks)} mark{'s' if len(marks) > 1 else ''}"] if marks else [])]

    def _add_encoder(self, output):
        import av

        in_ctx = self.in_stream.codec_context
        for name in AUDIO_FALLBACK_CODECS:
            try:
                codec = av.Codec(name, "w")
            except (av.FFmpegError, ValueError):  # PyAV's UnknownCodecError, of an encoder this FFmpeg lacks
                continue
            rate = _encoder_rate(in_ctx.sample_rate, codec.audio_rates)
            # A source that does not say which speaker each channel is ("1 channels", as AVI and WAV
            # files without a channel mask have it) is given the usual layout for its channel count:
            # encoders such as AAC refuse an unordered one.
            usual = USUAL_LAYOUTS.get(in_ctx.layout.nb_channels, in_ctx.layout.name)
            layouts = (in_ctx.layout.name, usual)
            if not _unordered(in_ctx.layout):  # named speakers the encoder takes in no layout of their count (7.1.4,
                # or 4.0 into Opus: probe 234) are mixed into the fullest it takes
                layouts += tuple(layout for layout in MIXED_INTO
                                 if av.AudioLayout(layout).nb_channels <= in_ctx.layout.nb_channels)
            if name == "aac" and in_ctx.layout.name in AAC_SIDE_AS_BACK:
                layouts = (AAC_SIDE_AS_BACK[in_ctx.layout.name], *layouts)
            if name == "aac" and in_ctx.layout.name in AAC_REORDERED:
                layouts = (usual,)
            layout = next((layout for layout in dict.fromkeys(layouts) if _encoder_opens(codec, rate, layout)), None)
            if layout is None:
                continue
            try:
                stream = output.add_stream(name, rate=rate, layout=layout)
            except ValueError:
                continue
            self._encoder = stream
            self.speakers_unnamed = name == "aac" and layout not in AAC_NAMED_LAYOUTS
            # the decoded samples of no named speakers (or side surrounds, as back ones) are given the layout, not
            # mixed into it: FFmpeg's resampler reads "3 channels" as its default 2.1, and left the third out of 3.0
            # (probe 165); named speakers of a layout the encoder refuses are mixed into the one it takes (probe 231:
            # cube's, renamed as 7.1, left a channel in the LFE)
            renamed = _unordered(in_ctx.layout) or AAC_SIDE_AS_BACK.get(in_ctx.layout.name) == layout
            self._relabel = layout if layout != in_ctx.layout.name and renamed else None
            self._relabel_from = in_ctx.layout.name  # read once, not of every frame
            self.mixed_into = layout if layout != in_ctx.layout.name and not renamed else None
            self.left_out = _speakers_left_out(in_ctx.layout.name, layout) if self.mixed_into else []
            return stream
        kept = "" if output.format.name == "matroska" else "; a .mkv output copies any sound as it is"
        raise RehueError(f"the output cannot hold {in_ctx.name!r} audio ({in_ctx.layout.name}) and no audio encoder "
                         f"fits it{kept}", self.source)

    def _add_text_encoder(self, output, suffix: str):
        """A stream of the container's text subtitle format; FFmpeg's subtitle decoders all give ASS
        events, which its text encoders take, so any text format converts to any other."""
        decoder = self.in_stream.codec_context
        name = decoder.codec.canonical_name
        target = TEXT_SUBTITLE_CODECS.get(suffix)
        if not decoder.codec.text_sub or target is None:
            raise _CannotCarry(name)
        decoder.open()  # the decoder makes the ASS header that the encoder needs
        try:
            stream = output.add_stream(target)
        except ValueError:
            raise _CannotCarry(name) from None
        stream.codec_context.subtitle_header = decoder.subtitle_header
        stream.time_base = self.in_stream.time_base
        self._encoder = stream
        return stream

    def _shift(self, packet) -> bool:
        """Move ``packet`` onto the output timeline; False when it falls outside [start, end).

        The sound packet that straddles ``start`` is kept (it starts a little before output time 0: MP4
        stores that with an edit list, other muxers shift every stream alike), as are packets before the
        first video frame when there is no ``start``, such as AAC's priming packet, so an untrimmed copy is
        exact. A subtitle is shown for its part between the first frame and ``end`` (one from before the
        first frame would start before output time 0, which MP4's text tracks get wrong).
        """
        time = float((packet.pts if packet.pts is not None else packet.dts) * packet.time_base)
        length = float((packet.duration or 0) * packet.time_base)
        if self.start is not None and time + length <= self.start:
            return False
        if self.end is not None and time >= self.end:
            self._done = True
            return False
        offset = round(self.origin_s / packet.time_base)  # the first frame's tick
        if self.kind == "subtitle" and packet.pts is not None:
            if packet.pts < offset:  # cut at that tick (probe 236: a ceil of 400.5 against a round of 500.5, a cue
                if packet.pts + (packet.duration or 0) <= offset:  # 1 ms after the frame)
                    return False
                packet.duration = max(1, packet.duration - (offset - packet.pts))
                packet.pts = offset
            if self.end is not None and packet.duration and time + length > self.end:
                packet.duration = max(1, math.floor(round((self.end - float(packet.pts * packet.time_base))
                                                          / packet.time_base, 6)))
            packet.dts = packet.pts
        if packet.pts is not None:
            packet.pts -= offset
        if packet.dts is not None:
            packet.dts -= offset
        return True

    def _next_packet(self):
        import av

        while not self._done:
            try:
                packet = next(self._packets)
            except StopIteration:
                self._done = True
                return None
            except av.FFmpegError as exc:
                log.warning("%s: %s is damaged (%s); the rest of it is left out", self.source,
                            "the audio" if self.kind == "audio" else "a subtitle track", _ffmpeg_reason(exc))
                self._done = True
                return None
            if packet.dts is None and packet.pts is None:
                continue
            self.seen += 1
            if self.kind == "audio" and self.copied and not packet.duration:
                self._give_duration(packet)
            if self._shift(packet):
                return packet
        return None

    def _give_duration(self, packet) -> None:
        """A sound packet the source gives no duration (ALAC's in Matroska) is given its samples': MP4's muxer
        gave the last such packet none, and players leave it out (probe 196: the last 85 ms of sound gone)."""
        import av

        try:
            samples = sum(frame.samples for frame in self.in_stream.codec_context.decode(packet))
        except av.FFmpegError:  # damaged: muxed as it is, or refused by the output, as before
            return
        rate = self.in_stream.codec_context.sample_rate
        if samples and rate:
            packet.duration = max(1, round(Fraction(samples, rate) / packet.time_base))

    def _mux(self, output, packet) -> None:
        import av

        if self.copied:
            packet.stream = self.out_stream
            try:
                output.mux(packet)
            except av.FFmpegError as exc:  # damaged packets (a size or timestamp the muxer refuses)
                self._drop(f"skipping {'an audio' if self.kind == 'audio' else 'a subtitle'} packet the output "
                           f"refuses ({_ffmpeg_reason(exc)})")
            return
        try:
            if self.kind == "subtitle":
                self._mux_text(output, packet)
                return
            for frame in packet.decode():
                if self._relabel is not None and frame.layout.name == self._relabel_from:
                    frame = _relabelled(frame, self._relabel)
                frame.pts = round(frame.time * frame.sample_rate) if frame.pts is not None else None
                frame.time_base = Fraction(1, frame.sample_rate)
                output.mux(self._encoder.encode(frame))
        except av.FFmpegError as exc:
            self._drop(f"skipping an undecodable {self.kind} packet ({_ffmpeg_reason(exc)})")

    def _drop(self, said: str) -> None:
        """Say the first packet left out; the rest are counted, and said once at the end (probe 164: a warning a
        packet, 95 for 2 s of damaged sound, a quarter of a million for a feature film)."""
        self.dropped += 1
        if self.dropped == 1:
            log.warning("%s: %s%s; any more are counted, and said at the end", self.source, self.label, said)

    def _mux_text(self, output, packet) -> None:
        subtitles = self.in_stream.codec_context.decode2(packet)
        if subtitles is None or not len(subtitles):
            return
        encoded = self._encoder.codec_context.encode_subtitle(subtitles)
        encoded.stream = self.out_stream
        encoded.time_base = packet.time_base
        encoded.pts = encoded.dts = packet.pts
        encoded.duration = packet.duration
        if self.out_stream.codec_context.name != "mov_text":
            output.mux(encoded)
            return
        held, self._held_cue = self._held_cue, encoded
        if held is not None:
            self._one_cue_at_a_time(output, held, encoded)

    def _one_cue_at_a_time(self, output, held, following) -> None:
        """Mux ``held`` to end where ``following`` begins, or join the two where they begin together. MP4's timed
        text shows one cue at a time, and FFmpeg's writer put a cue that began while another showed after it, and
        every cue after that later still (probe 235: two speakers at once, the second 0.6 s late, without a word);
        cues that begin together (two speakers, or those a part's start cuts) were a tick each (probe 236)."""
        if following.pts <= held.pts:
            self._held_cue = _joined_cues(held, following)
            self.joined += 1
            return
        if held.duration and held.pts + held.duration > following.pts:
            held.duration = following.pts - held.pts
            self.overlapping += 1
        output.mux(held)

    def feed_until(self, output, time_s: float) -> None:
        """Mux source packets up to output time ``time_s`` (seconds)."""
        while True:
            if self._pending is None:
                self._pending = self._next_packet()
                if self._pending is None:
                    return
            packet = self._pending
            stamp = packet.pts if packet.pts is not None else packet.dts
            if float(stamp * packet.time_base) > time_s:
                return
            self._pending = None
            self.fed += 1
            self._mux(output, packet)

    def finish(self, output) -> None:
        self.feed_until(output, float("inf"))
        if self._held_cue is not None:
            output.mux(self._held_cue)
            self._held_cue = None
        if self.overlapping or self.joined:
            one = self.overlapping == 1
            cut = [f"{counted(self.overlapping, 'subtitle')} that {'overlaps' if one else 'overlap'} the next "
                   f"{'is' if one else 'are'} cut short where it begins"] if self.overlapping else []
            joined = [f"{counted(self.joined, 'subtitle')} that {'begins' if self.joined == 1 else 'begin'} with the "
                      f"one before {'is' if self.joined == 1 else 'are'} joined to it"] if self.joined else []
            log.warning("%s: %s%s: an MP4 or MOV text track shows one subtitle at a time (.mkv keeps them as they are)",
                        self.source, self.label, listed([*cut, *joined]))
        if self._encoder is not None and self.kind == "audio":
            output.mux(self._encoder.encode(None))
        if self.dropped > 1:
            log.warning("%s: %s%d of the %d %s packets were left out, undecodable or refused by the output",
                        self.source, self.label, self.dropped, self.fed, "sound" if self.kind == "audio" else
                        "subtitle")

    def close(self) -> None:
        self._input.close()


def shifted_timecode(timecode: str | None, start: float | None, fps: Fraction | None) -> str | None:
    """The timecode of the first frame at or after ``start`` seconds (HH:MM:SS:FF at ``fps``, counted on from
    ``timecode``), the first frame of a part that starts there. A drop-frame timecode
    (with ";") or one rehue cannot read is not moved: None, with a warning, for a part; as it is for a
    whole film."""
    if not timecode or not start:
        return timecode
    per_second = round(fps) if fps else 0
    frames = timecode_frames(timecode, per_second)
    if frames is None:
        log.warning("the start timecode %s cannot be moved to --start %g s, so the part has none", timecode, start)
        return None
    return timecode_at(frames + math.ceil(start * fps - 1e-6), per_second)  # the part's first frame, at or after start


def timecode_frames(timecode: str | None, per_second: int) -> int | None:
    """A non-drop timecode (HH:MM:SS:FF) as a count of frames at ``per_second`` whole frames a second; None
    for a drop-frame one (with ";"), one rehue cannot read, or no rate."""
    match = re.fullmatch(r"(\d+):(\d\d):(\d\d):(\d\d)", (timecode or "").strip())
    if not match or not per_second:
        return None
    hours, minutes, seconds, frames = (int(part) for part in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * per_second + frames


def timecode_at(frames: int, per_second: int) -> str:
    """The inverse of :func:`timecode_frames`: a count of frames as HH:MM:SS:FF."""
    seconds_total, frames = divmod(frames, per_second)
    minutes_total, seconds = divmod(seconds_total, 60)
    hours, minutes = divmod(minutes_total, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def _chapters_of_part(reader: VideoReader) -> list[dict]:
    """The reader's chapters on the output's timeline: moved to where its first frame is time 0 (the first at
    or after ``start``, as for the timecode: probe 118 saw them a frame late, moved by --start itself), and cut
    to its ``start``/``end``."""
    first = reader.start or 0.0
    if first and reader.fps:
        first = math.ceil(first * reader.fps - 1e-6) / float(reader.fps)
    origin = first + reader.stream_start_s
    length = None if reader.end is None else reader.end - first
    kept = []
    for chapter in reader.chapters():
        base = Fraction(chapter["time_base"])
        begin = max(0.0, float(chapter["start"] * base) - origin)
        end = float(chapter["end"] * base) - origin
        if length is not None:
            end = min(end, length)
        if end > begin:
            kept.append({**chapter, "id": len(kept) + 1, "start": round(begin / base), "end": round(end / base)})
    return kept


def main_video_stream(container):
    """The video stream a player shows: not cover art; among several, the one flagged default where not
    all are, and of those the largest picture (the first among equals). A file may hold a thumbnail or a
    second angle before its film."""
    import av

    streams = [stream for stream in container.streams.video if not _is_cover(stream)]
    unstated = [stream.index for stream in streams if _one_picture(stream) is None]
    packets = _packet_counts(container.name, unstated) if unstated and len(streams) > 1 else {}
    streams = [stream for stream in streams if _one_picture(stream, packets) is False] or streams
    flagged = [stream for stream in streams if stream.disposition & av.stream.Disposition.default]
    if 0 < len(flagged) < len(streams):
        streams = flagged

    def pixels(stream) -> int:
        context = stream.codec_context
        return context.width * context.height if context is not None else -1

    return max(streams, key=pixels)


STILL_CODECS = {"mjpeg", "png", "bmp", "tiff", "webp", "jpeg2000"}


def _tagged_end_s(stream) -> float | None:
    """Where a stream ends on its file's clock, as Matroska's DURATION tag states it (00:00:00.042000000), or None."""
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    match = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d+)?)", tag.strip()) if tag else None
    return int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3]) if match else None


def _one_picture(stream, packets: dict[int, int] | None = None) -> bool | None:
    """Whether a video stream may be a picture track of one frame: cover art a Matroska writer stored as an ordinary
    track (FFmpeg's does, without the attached-picture flag), which, larger than the film, was coloured in its
    place (probe 217). A track of a still picture's codec, one frame long where the file states its length; of a
    length it does not state (a file written to a pipe has none: probe 218), one of at most one packet among the
    file's first (``packets``, stream index to count: an MJPEG film piped beside a small H.264 preview gave way
    to the preview, probe 220), or None where they were not counted. `main_video_stream` passes such tracks over
    where another is there to be the film."""
    if stream.codec_context is None or stream.codec_context.name not in STILL_CODECS:
        return False
    if stream.frames:
        return stream.frames == 1
    seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else \
        _tagged_end_s(stream)
    rate = float(stream.average_rate or stream.guessed_rate or 0)
    if seconds is not None and rate > 0:
        return seconds * rate <= 1.5
    if packets is None or stream.index not in packets:
        return None
    return packets[stream.index] <= 1


PICTURE_TRACK_PACKETS = 2000  # of a file's first packets, read to tell a picture track of unstated length from a film
PICTURE_TRACK_BYTES = 64 << 20


def _packet_counts(path: str, indices: list[int]) -> dict[int, int]:
    """How many packets the video streams ``indices`` hold among the file's first ones (up to 2 each): a film's
    second frame comes within a few packets of its first, a picture track has one. {} where the file cannot be
    read again (the track is taken for a picture, as before)."""
    import av

    counts = dict.fromkeys(indices, 0)
    read = 0
    try:
        with av.open(path) as container:
            for number, packet in enumerate(container.demux()):
                if packet.stream.index in counts and packet.size:
                    counts[packet.stream.index] += 1
                    if min(counts.values()) >= 2:
                        break
                read += packet.size or 0
                if number >= PICTURE_TRACK_PACKETS or read >= PICTURE_TRACK_BYTES:
                    break
    except (av.FFmpegError, OSError, ValueError):
        return {}
    return counts


def _is_cover(stream) -> bool:
    """Whether a video stream is one still picture: cover art (MP4), an attached image (Matroska)."""
    import av

    return bool(stream.disposition & av.stream.Disposition.attached_pic)


class _SourceTracks:
    """What a colour version can carry from its source file besides the picture: the decodable audio
    tracks (languages, commentary, the original mix, in the file's order), the subtitle tracks, the
    attached files (Matroska's fonts) and the cover art, as (stream index, file name, MIME type, bytes)."""

    def __init__(self, path: Path, start: float | None, end: float | None):
        self.path, self.start, self.end = path, start, end
        source = _open_input(path)
        try:
            streams = source.streams.audio
            self.audio = [k for k, stream in enumerate(streams) if stream.codec_context is not None]
            starts = [float(streams[k].start_time * streams[k].time_base) for k in self.audio
                      if streams[k].start_time is not None]
            self.first_sound_s = min(starts) if starts else None  # on the file's clock
            self.undecodable_audio = len(streams) - len(self.audio)
            self.subtitles = len(source.streams.subtitles)
            self.attachments = [(stream.name, stream.mimetype or "application/octet-stream", stream.data)
                                for stream in source.streams
                                if stream.type == "attachment" and stream.name and stream.data is not None]
            self.covers = self._covers(source)  # from the file's first packets: before the subtitles' seek
            # of a part cut by start and end, the tracks with a subtitle in it: an empty one (the part before
            # the first subtitle) came out of .mp4 and .mov marked to be shown (probe 130)
            self.subtitles_in_part = self._subtitles_in_part(source) if start is not None or end is not None \
                else list(range(self.subtitles))
        finally:
            source.close()


    def _subtitles_in_part(self, source) -> list[int]:
        """The subtitle tracks with a subtitle shown between ``start`` and ``end``, read from before ``start``
        as ``_TrackCopier`` reads them (``_seek_before``: a subtitle is stored at the time it is shown from)."""
        import av

        streams = list(source.streams.subtitles)
        if not streams:
            return []
        found, passed = set(), set()  # tracks with a subtitle in the part; tracks read past its end
        try:
            _seek_before(source, self.start or 0, "subtitle")  # after the covers' search
            for packet in source.demux(streams):
                stamp = packet.pts if packet.pts is not None else packet.dts
                if stamp is None or _empty_cue(packet):  # MP4's fillers of the gaps between subtitles (probe 144)
                    continue
                time = float(stamp * packet.time_base)
                if self.end is not None and time >= self.end:
                    passed.add(packet.stream.index)
                elif self.start is None or time + float((packet.duration or 0) * packet.time_base) > self.start:
                    found.add(packet.stream.index)
                if len(found | passed) == len(streams):
                    break
        except av.FFmpegError:  # a damaged track: each copier says so as it reads it
            return list(range(len(streams)))
        return [track for track, stream in enumerate(streams) if stream.index in found]

    @staticmethod
    def _covers(source) -> list[tuple[int, str, str, bytes]]:
        covers = [stream for stream in source.streams.video if _is_cover(stream) and stream.codec_context is not None]
        if not covers:
            return []
        wanted = {stream.index for stream in covers}
        pictures = {}
        for packet in islice(source.demux(), COVER_SEARCH_PACKETS):  # every stream's packets count, so the
            index = packet.stream.index  # search ends early in a film whose cover has none
            if packet.size and index in wanted and index not in pictures:
                pictures[index] = bytes(packet)
        found = []
        for stream in covers:
            if stream.index in pictures:
                codec = stream.codec_context.name
                mimetype, extension = COVER_FORMATS.get(codec, ("image/" + codec, codec))
                name = stream.metadata.get("filename") or f"cover{len(found) + 1 if found else ''}.{extension}"
                found.append((stream.index, name, stream.metadata.get("mimetype") or mimetype, pictures[stream.index]))
        return found


def encoders_for(path: Path, codec: str = "auto") -> tuple[str, ...]:
    """The encoders, in the order tried, that write ``codec`` into the container ``path``'s extension names; a
    UsageError where the container cannot hold it (checked before any work: probe 70)."""
    path = Path(path)
    codecs = OUTPUT_CODECS.get(path.suffix.lower())
    if codecs is None:
        raise UsageError(f"unsupported video output extension {path.suffix!r}; use one of "
                         f"{', '.join(OUTPUT_CODECS)}", path)
    if codec not in CODECS:
        raise UsageError(f"unknown codec {codec!r}; {CODEC_CHOICES}")
    if codec == "ffv1":
        if path.suffix.lower() not in LOSSLESS_CONTAINERS:
            raise UsageError("lossless FFV1 is written to .mkv (Matroska); name the output .mkv", path)
        return ("ffv1",)
    if codec == "prores":
        if path.suffix.lower() != VIDEO_SUFFIX_OF_CODEC["prores"]:
            raise UsageError("ProRes is written to .mov (QuickTime), as editing software takes it; name the "
                             "output .mov", path)
        return ("prores_ks",)
    if codec == "h264":
        if "libx264" not in codecs:
            raise UsageError(f"{path.suffix} does not hold H.264; use .mp4, .mov or .mkv", path)
        return ("libx264",)
    return codecs


class VideoWriter:
    """Encode RGB frames to ``path``; the codec follows the extension (.mp4/.m4v/.mov/.mkv: H.264,
    .webm: VP9), 4:2:0, tagged BT.709, unless ``codec`` is "ffv1" (lossless RGB in .mkv, 16 bits per
    sample with ``deep``) or "prores" (ProRes 422 HQ in .mov, 10-bit 4:2:2; ``CODECS``). With ``deep``,
    frames are uint16.

    ``write(rgb, pts)`` takes ``pts`` in ``time_base`` on the source timeline (pass a reader frame's
    ``pts`` to keep variable frame rates exact); without it frames are spaced ``1/fps`` apart. The first
    written frame becomes time 0, and the sound and subtitle tracks of ``tracks_from`` (a VideoReader, whose
    start/end are honoured, or a path) are shifted with it; into .mkv its attached files (fonts, cover art)
    go too. ``left_out`` names the tracks the output container cannot hold. ``rotation`` (degrees counter-clockwise, as
    ``VideoReader.rotation``) goes into the display matrix, ``comment`` and ``metadata`` (a film's title,
    date, copyright) into the container's metadata, ``sample_aspect_ratio`` (non-square pixels) into the
    stream.

    Odd sizes: H.264 4:2:0 cannot store them, so such frames are padded to even by repeating the last
    column/row and the file is one pixel wider/taller (``encoded_width``/``encoded_height``); VP9 stores
    them exactly. The file appears at ``path`` only when ``close()`` succeeds; ``abort()`` (or an
    exception inside ``with``) removes the partial output.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float | Fraction, *,
                 crf: int = 18, preset: str = "medium", time_base: Fraction | None = None,
                 rotation: int = 0, tracks_from: VideoReader | str | os.PathLike | None = None,
                 overwrite: bool = False, codec: str = "auto", comment: str | None = None,
                 metadata: dict[str, str] | None = None, sample_aspect_ratio: Fraction | None = None,
                 chapters: list[dict] | None = None, timecode: str | None = None, deep: bool = False,
                 track_tags: dict[str, str] | None = None):
        av = require_pyav()

        self.path = Path(path)
        codecs = encoders_for(self.path, codec)
        if deep and codec not in DEEP_CODECS:
            raise ValueError(f"16-bit frames are written by {' or '.join(DEEP_CODECS)} only, not {codec!r}")
        self.deep = deep
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        limits = [ENCODER_LARGEST_SIDE.get(name, ("", math.inf)) for name in codecs]
        if max(width, height) > max(limit for _, limit in limits):  # probe 134: "Generic error in an external
            # library" for a side-by-side of a film 9000 pixels wide
            name, limit = limits[0]
            raise RehueError(f"{name} holds at most {limit} pixels a side, and this video is {width}x{height}: name "
                             "the output .webm (VP9, up to 65536), or .mkv with --codec ffv1", self.path)
        if not fps or fps <= 0:
            raise RehueError(f"frame rate must be positive, got {fps}", self.path)
        if fps > MAX_FPS:
            raise RehueError(f"frame rate {float(fps):g} fps is implausible (limit {MAX_FPS}); is the source's "
                             "header damaged?", self.path)
        source, source_start, source_end = self._track_source(tracks_from)
        check_output_path(self.path, overwrite, inputs=(source,) if source else ())
        self._overwrite = overwrite
        self.width, self.height = width, height
        self.fps = Fraction(fps).limit_denominator(MICROSECONDS)
        self.time_base = Fraction(time_base) if time_base else 1 / self.fps
        self._frame_ticks = 1 / (self.fps * self.time_base)
        self._temp_path = temp_path_for(self.path)
        self._closed = False
        self._first_pts: int | None = None
        self._last_pts: int | None = None
        self._source_start = source_start
        self._comment = comment
        self._metadata = dict(metadata or {})
        self._track_tags = dict(track_tags or {})
        self._tracks_source, self._titles_said = source, set()  # the film a title comes from; titles said cut
        self._chapters, self._timecode = list(chapters or []), timecode
        self.sample_aspect_ratio = sample_aspect_ratio
        self.frames_written = 0
        tracks = None
        self._sound_from_s = None  # where the source's sound starts, when that is well before its picture
        if source is not None:
            tracks = _SourceTracks(source, source_start, source_end)
            if source_start is None:
                self._sound_from_s = tracks.first_sound_s
            if not tracks.audio and tracks.undecodable_audio:
                log.warning("%s: the audio stream cannot be decoded; the output has no sound", source)
            elif tracks.undecodable_audio:
                log.warning("%s: %d of its %d audio tracks cannot be decoded and are left out", source,
                            tracks.undecodable_audio, tracks.undecodable_audio + len(tracks.audio))
        # An interrupt can land after the temp file exists but before a caller's ``with`` holds this writer
        # (during the header's write, say, when it is raised at the next Python call): the finalizer then
        # deletes the file when the writer is dropped or the interpreter exits. close() and abort() detach it.
        self._temp_cleanup = weakref.finalize(self, _unlink_quietly, self._temp_path)
        try:
            try:
                self._open_output(codecs, crf, preset, rotation, tracks, copy=lambda kind, track: True)
            except (av.FFmpegError, OSError):
                copied = [(copier.kind, copier.track) for copier in self._tracks if copier.copied]
                if not copied:
                    raise
                # Some muxers accept a codec when asked but refuse it when writing the header (Opus or FLAC
                # in .mov): those tracks are re-encoded, each found by a header of its own, and the others
                # still copied (probe 118: a .mov's PCM beside an Opus track was re-encoded to AAC too)
                container = self._output.format.name
                self._discard_output()
                refused = {key for key in copied if not self._muxer_takes(container, tracks, *key)}
                try:
                    self._open_output(codecs, crf, preset, rotation, tracks,
                                      copy=lambda kind, track: (kind, track) not in refused)
                except (av.FFmpegError, OSError):
                    self._discard_output()
                    self._open_output(codecs, crf, preset, rotation, tracks, copy=lambda kind, track: False)
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise RehueError(f"cannot write the video ({_ffmpeg_reason(exc)})", self.path) from None
        except BaseException:
            self.abort()
            raise
        losing = [track for track in self._tracks if track.lost]
        if losing:
            one = sum(len(track.lost) for track in losing) == 1 and not losing[0].lost[0].endswith("marks")  # two
            # marks of one track are "are" (probe 164)
            marks = functools.reduce(operator.or_, (track.lost_marks for track in losing))
            hint = f"; .mkv keeps {'it' if one else 'them'}" if self.path.suffix.lower() != ".mkv" and \
                not _marks_lost("matroska", marks) and all(_language_kept("matroska", track.lost_language)
                                                           for track in losing if track.lost_language) else ""
            said = listed([f"{track.kind} track {track.track + 1}'s {' and '.join(track.lost)}" for track in losing])
            log.warning("%s: %s cannot hold %s, which %s left out%s", source, self.path.suffix, said,
                        "is" if one else "are", hint)
        self._say_subtitles_turned_on(source)
        several = sum(track.kind == "audio" for track in self._tracks) > 1
        for track in self._tracks:  # of several, each track's own lines named (probe 165: twice, word for word)
            if sum(other.kind == track.kind for other in self._tracks) > 1:
                track.label = f"{track.kind} track {track.track + 1}: "
        for track in self._tracks:
            if not track.copied and track.kind == "audio":
                read, written = track.in_stream.codec_context, track.out_stream.codec_context
                hint = ("ProRes is written to .mov alone, and --codec ffv1 into .mkv copies any sound as it is"
                        if self._stream.codec_context.codec.canonical_name == "prores" else
                        "a .mkv output copies any sound as it is")
                # of several tracks, each named (probe 121: the same line once for each)
                whose, what = (f"audio track {track.track + 1}'s", "it") if several else ("its", "the sound")
                speakers = f" with its speakers ({read.layout.name})" if _speakers_renamed(
                    read, self._output.format.name) else ""
                layout_said = f", which names no speakers of {written.layout.name}: players are told only " \
                    f"\"{written.layout.nb_channels} channels\"" if track.speakers_unnamed else ""  # probe 228
                if track.mixed_into:
                    layout_said += f", its speakers ({read.layout.name}) mixed into {track.mixed_into}" + (
                        f" less its {listed(track.left_out)}, which FFmpeg's mix leaves out" if track.left_out else "")
                log.warning("%s: %s cannot hold %s %s sound (%d Hz)%s, so %s is re-encoded to %s (%d Hz)%s; %s",
                            source, self.path.suffix, whose, getattr(read.codec, "canonical_name", read.name),
                            read.sample_rate, speakers, what, getattr(written.codec, "canonical_name", written.name),
                            written.sample_rate, layout_said, hint)

    def _say_subtitles_turned_on(self, source: Path) -> None:
        """A warning where the output shows subtitles the source leaves off: MP4 and QuickTime mark the first
        track of a kind as the one to show where none is so marked, and subtitles off by default came out on."""
        import av

        marks = av.stream.Disposition
        subtitles = [track for track in self._tracks if track.kind == "subtitle"]
        if not subtitles or any(track.in_stream.disposition & marks.default for track in subtitles) or \
                subtitles[0].in_stream.disposition & marks.forced:  # forced ones are shown all the same
            return
        back = _read_back(self._output.format.name, "und", 0)
        if back is not None and back[1] & marks.default:
            log.warning("%s: a player shows the subtitles of %s unasked, where the source leaves them off: %s marks "
                        "the first track of a kind to be shown where none is; .mkv keeps them off", source,
                        self.path.name, self.path.suffix)

    def _open_output(self, codecs, crf, preset, rotation, tracks: _SourceTracks | None, *, copy) -> None:
        """Create the temp file with its streams and write the header, so failures surface now."""
        import av

        self._tracks: list[_TrackCopier] = []
        self.left_out: list[str] = []
        self._output = av.open(str(self._temp_path), "w", options=self._muxer_options())
        own = [value for key, value in self._metadata.items() if key.lower() == "comment"]
        for key, value in self._metadata.items():
            if key.lower() != "comment":
                self._output.metadata[bytes_escaped(key)] = bytes_escaped(value)
        if own or self._comment:  # the film's own comment, then rehue's
            comment = "; ".join([*own, *([self._comment] if self._comment else [])])
            self._output.metadata["comment"] = bytes_escaped(comment)
        if self._chapters:
            self._output.set_chapters(self._chapters)
        self._stream = self._add_video_stream(codecs, crf, preset, rotation)
        if self._timecode:
            self._stream.metadata["timecode"] = self._timecode
        for key, value in self._track_tags.items():
            kept = _language_kept(self._output.format.name, value) if key == "language" else \
                track_title(value, self._tracks_source or self.path, "its picture track's", self._titles_said)
            if kept:
                self._stream.metadata[key] = bytes_escaped(kept)
        if tracks is not None:
            self._add_tracks(tracks, copy)
        self._output.start_encoding()
        for stream, picture in getattr(self, "_covers", ()):
            packet = av.Packet(picture)
            packet.stream = stream
            self._output.mux(packet)

    def _muxer_takes(self, container: str, tracks: _SourceTracks, kind: str, track: int) -> bool:
        """Whether the output's muxer writes a header holding the source's track ``track`` of ``kind``, copied
        (into memory: nothing is written to disk)."""
        import io

        import av

        copier = None
        output = av.open(io.BytesIO(), "w", format=container, options=self._muxer_options())
        try:
            copier = _TrackCopier(tracks.path, tracks.start, tracks.end, output, kind=kind, track=track,
                                  suffix=self.path.suffix.lower())
            output.start_encoding()
            return copier.copied
        except (av.FFmpegError, OSError, ValueError, _CannotCarry):
            return False
        finally:
            for closable in (copier, output):
                with contextlib.suppress(Exception):  # a header-only output: what it says on closing is moot
                    if closable is not None:
                        closable.close()

    def _add_tracks(self, tracks: _SourceTracks, copy) -> None:
        """The source's tracks, each copied where ``copy(kind, track)`` allows it and the container holds it."""
        suffix = self.path.suffix.lower()
        for track in tracks.audio:
            self._tracks.append(_TrackCopier(tracks.path, tracks.start, tracks.end, self._output,
                                             allow_copy=copy("audio", track), track=track, said=self._titles_said))
        refused = Counter()
        if empty := tracks.subtitles - len(tracks.subtitles_in_part):
            whose = "their" if empty > 1 else "its"
            self.left_out.append(f"{empty} subtitle track{'s' if empty > 1 else ''} (none of {whose} subtitles is "
                                 f"shown in the part cut, or begins in the {SUBTITLE_LOOKBACK_S:.0f} s before it)")
        for track in tracks.subtitles_in_part:
            try:
                self._tracks.append(_TrackCopier(tracks.path, tracks.start, tracks.end, self._output,
                                                 kind="subtitle", allow_copy=copy("subtitle", track), track=track,
                                                 suffix=suffix, said=self._titles_said))
            except _CannotCarry as exc:
                refused[str(exc)] += 1
        if refused:
            formats = ", ".join(f"{count} {name}" if count > 1 else name for name, count in refused.items())
            count = sum(refused.values())
            hint = "" if suffix == ".mkv" else f"; .mkv keeps {'them' if count > 1 else 'it'}"
            self.left_out.append(f"{count} subtitle stream{'s' if count > 1 else ''} ({formats}, which "
                                 f"{suffix} cannot hold{hint})")
        if tracks.attachments and suffix not in ATTACHMENT_CONTAINERS:
            count = len(tracks.attachments)
            self.left_out.append(f"{count} attachment{'s' if count > 1 else ''} (.mkv keeps "
                                 f"{'them' if count > 1 else 'it'})")
        elif tracks.attachments:
            for name, mimetype, data in tracks.attachments:
                self._output.add_attachment(name, mimetype, data)
        self._add_covers(tracks, suffix)

    def _add_covers(self, tracks: _SourceTracks, suffix: str) -> None:
        """Cover art: an attached file in Matroska, a one-picture stream in MP4 (its packet is written
        with the header, ``_covers``)."""
        import av

        self._covers = []
        refused = 0
        if suffix in ATTACHMENT_CONTAINERS:
            for _, name, mimetype, picture in tracks.covers:
                self._output.add_attachment(name, mimetype, picture)
        elif suffix not in COVER_CONTAINERS:
            refused = len(tracks.covers)
        elif tracks.covers:
            source = _open_input(tracks.path)
            try:
                for index, _, _, picture in tracks.covers:
                    try:
                        stream = self._output.add_stream_from_template(source.streams[index])
                    except ValueError:  # a picture format MP4 cannot hold
                        refused += 1
                        continue
                    stream.disposition = av.stream.Disposition.attached_pic
                    self._covers.append((stream, picture))
            finally:
                source.close()
        if refused:
            self.left_out.append(f"{refused} attached picture{'s' if refused > 1 else ''} (cover art; .mkv and "
                                 f".mp4 keep {'them' if refused > 1 else 'it'})")

    @staticmethod
    def _track_source(tracks_from) -> tuple[Path | None, float | None, float | None]:
        if tracks_from is None:
            return None, None, None
        if isinstance(tracks_from, VideoReader):
            offset = tracks_from.stream_start_s  # sound and subtitles share the file's clock, not the frame times
            start, end = tracks_from.start, tracks_from.end
            return (tracks_from.path, None if start is None else start + offset,
                    None if end is None else end + offset)
        return Path(tracks_from), None, None

    @classmethod
    def like(cls, reader: VideoReader, path: str | os.PathLike, *, with_tracks: bool = True,
             **options) -> VideoWriter:
        """A writer with the reader's size, frame rate, time base, rotation and (optionally) its sound,
        subtitles and attachments; ``options`` override any of them (e.g. ``width=2 * reader.width`` for
        a side-by-side)."""
        settings = {"width": reader.width, "height": reader.height, "fps": reader.fps,
                    "time_base": reader.time_base, "rotation": reader.rotation,
                    "tracks_from": reader if with_tracks else None, "metadata": reader.metadata,
                    "sample_aspect_ratio": reader.sample_aspect_ratio, "chapters": _chapters_of_part(reader),
                    "timecode": shifted_timecode(reader.timecode, reader.start, reader.fps),
                    "track_tags": reader.track_tags}
        settings.update(options)
        return cls(path, **settings)

    def _muxer_options(self) -> dict[str, str]:
        if self.path.suffix.lower() in (".mp4", ".m4v", ".mov"):
            return {"movflags": "+faststart"}  # index at the front: playback starts before the download ends
        return {}

    def _add_video_stream(self, codecs, crf: int, preset: str, rotation: int):
        import av
        from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

        for name in codecs:
            try:
                av.Codec(name, "w")
            except av.FFmpegError:
                continue
            break
        else:
            raise RehueError(f"no encoder for {self.path.suffix} in this FFmpeg build (tried "
                             f"{', '.join(codecs)})", self.path)
        if name == "libx264":
            options = {"crf": str(crf), "preset": preset}
            if self.width * self.height <= SMALL_FRAME_PIXELS:
                options["threads"] = "1"  # x264's thread pool costs more than it saves on small frames
        elif name == "ffv1":
            # FFV1 version 3 takes no side of 1 pixel ("Function not implemented", probe 211): version 1 keeps
            # such a film's every frame exact too, with no slices and their checksums
            options = dict(LOSSLESS_OPTIONS) if min(self.width, self.height) > 1 else {"level": "1", "g": "1",
                                                                                       "context": "1"}
        elif name == "prores_ks":
            options = dict(PRORES_OPTIONS)
        else:
            options = {"crf": str(crf), "b": "0", "row-mt": "1"}
        stream = self._output.add_stream(name, rate=self.fps, options=options)
        self._encoder_name, self._encoder_options = name, options
        pad = name in EVEN_SIZE_ENCODERS
        self.encoded_width = self.width + (self.width % 2 if pad or name in EVEN_WIDTH_ENCODERS else 0)
        self.encoded_height = self.height + (self.height % 2 if pad else 0)
        stream.width, stream.height = self.encoded_width, self.encoded_height
        if (self.encoded_width, self.encoded_height) != (self.width, self.height):
            log.warning("%s: %dx%d has an odd side, and %s needs even ones: written as %dx%d, the edge pixels "
                        "repeated; write .webm, or .mkv with --codec ffv1, to keep %dx%d", self.path, self.width,
                        self.height, "H.264" if name == "libx264" else "ProRes (its width)", self.encoded_width,
                        self.encoded_height, self.width, self.height)
        if name == "ffv1":
            self.pixel_format = LOSSLESS_DEEP_PIXEL_FORMAT if self.deep else LOSSLESS_PIXEL_FORMAT
        elif name == "prores_ks":
            self.pixel_format = PRORES_PIXEL_FORMAT
        else:
            self.pixel_format = OUTPUT_PIXEL_FORMAT
        stream.pix_fmt = self.pixel_format
        stream.time_base = self.time_base
        context = stream.codec_context
        context.time_base = self.time_base
        context.color_primaries = ColorPrimaries.BT709  # sRGB's primaries and white
        if name == "ffv1":
            context.colorspace = 0  # AVCOL_SPC_RGB (PyAV names no member for it)
            context.color_range = ColorRange.JPEG
            context.color_trc = ColorTrc.IEC61966_2_1  # the sRGB curve
        else:
            context.color_range = ColorRange.MPEG
            context.colorspace = Colorspace.ITU709
            context.color_trc = ColorTrc.BT709
        if self.sample_aspect_ratio:
            context.sample_aspect_ratio = self.sample_aspect_ratio  # H.264 keeps it in its own headers
            if name not in SAR_ENCODERS:
                log.warning("%s: the input's pixels are not square (%s) and %s output does not record that here, "
                            "so players show it %s; H.264 (.mp4, or .mkv without --codec ffv1) keeps it",
                            self.path, self.sample_aspect_ratio, name,
                            "too wide" if self.sample_aspect_ratio < 1 else "too narrow")
        if rotation % 360:
            stream.set_display_rotation(rotation % 360)
        return stream

    def _frame(self, rgb: np.ndarray):
        """``rgb`` as the encoder takes it: checked, padded to the encoded size, in its pixel format."""
        import av

        dtype = np.uint16 if self.deep else np.uint8
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != dtype:
            raise ValueError(f"expected a {self.height}x{self.width}x3 {np.dtype(dtype).name} frame, "
                             f"got {rgb.shape} {rgb.dtype}")
        if self.encoded_width != self.width or self.encoded_height != self.height:
            rgb = np.pad(rgb, ((0, self.encoded_height - self.height), (0, self.encoded_width - self.width),
                               (0, 0)), mode="edge")
        if self.pixel_format == PRORES_PIXEL_FORMAT:
            return _prores_frame(rgb)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb48le" if self.deep else "rgb24")
        if self.pixel_format in (LOSSLESS_PIXEL_FORMAT, LOSSLESS_DEEP_PIXEL_FORMAT):
            return frame.reformat(format=self.pixel_format)  # a reordering of the bytes: exact
        return frame.reformat(format=self.pixel_format, dst_colorspace="itu709", dst_color_range="MPEG")

    def start_at(self, pts: int | None = None, *, origin: int | None = None) -> int:
        """Put output time 0 at the first frame, source time ``pts`` (None: the part's start), or earlier where
        the sound starts well before the picture; or at ``origin``, as an earlier run of the same film put it.
        Returns where it is, on the source timeline."""
        if origin is None:
            if pts is None:
                pts = round((self._source_start or 0) / self.time_base)
            origin = pts
            lead = None if self._sound_from_s is None else float(pts * self.time_base) - self._sound_from_s
            if lead is not None and lead > SOUND_LEAD_KEPT_S:  # the output starts with the sound, the picture later
                origin = pts - round(lead / self.time_base)
        self._first_pts = origin
        for track in self._tracks:
            track.origin_s = float(origin * self.time_base)
        return origin

    def timestamp(self, pts: int | None, index: int, last_pts: int | None) -> int:
        """Frame ``index``'s time on the source timeline: ``pts``, or 1/fps on from the first frame without one;
        one tick past ``last_pts`` where it does not increase."""
        if pts is None:
            pts = self._first_pts + round(index * self._frame_ticks)
        return pts if last_pts is None or pts > last_pts else last_pts + 1

    def write(self, rgb: np.ndarray, pts: int | None = None) -> None:
        """Encode one frame; ``pts`` in ``time_base`` on the source timeline (None: 1/fps after the last).
        A pts that does not increase is moved one tick past the previous frame."""
        import av

        frame = self._frame(rgb)
        if self._first_pts is None:
            self.start_at(pts)
        pts = self._last_pts = self.timestamp(pts, self.frames_written, self._last_pts)
        frame.pts = pts - self._first_pts
        frame.time_base = self.time_base
        try:
            self._output.mux(self._stream.encode(frame))
        except av.FFmpegError as exc:
            raise RehueError(f"cannot write the video ({_ffmpeg_reason(exc)})", self.path) from None
        self.frames_written += 1
        for track in self._tracks:
            track.feed_until(self._output, float(frame.pts * self.time_base) + AUDIO_LEAD_S)

    def encoder(self):
        """A fresh encoder set up as the video stream's, for a film encoded a piece at a time (``write_encoded``
        joins the pieces): it takes ``frame(rgb, pts)``'s frames. Its headers are checked against the
        stream's, which the joined packets go out under."""
        import av

        stream = self._stream.codec_context
        context = av.CodecContext.create(self._encoder_name, "w")
        context.width, context.height, context.pix_fmt = stream.width, stream.height, stream.pix_fmt
        context.time_base, context.framerate, context.flags = stream.time_base, stream.framerate, stream.flags
        for key in ("color_primaries", "color_range", "colorspace", "color_trc"):
            setattr(context, key, getattr(stream, key))
        if stream.sample_aspect_ratio:
            context.sample_aspect_ratio = stream.sample_aspect_ratio
        context.options = dict(self._encoder_options)
        try:
            context.open()
        except av.FFmpegError as exc:
            raise RehueError(f"cannot write the video ({_ffmpeg_reason(exc)})", self.path) from None
        if bytes(context.extradata or b"") != bytes(stream.extradata or b""):
            raise RehueError("cannot write the video in pieces: this FFmpeg's encoder starts them with other "
                             "headers than the file's", self.path)
        return context

    def frame(self, rgb: np.ndarray, pts: int):
        """``rgb`` as ``encoder()`` takes it, at source time ``pts`` (from ``timestamp``)."""
        frame = self._frame(rgb)
        frame.pts = pts - self._first_pts
        frame.time_base = self.time_base
        return frame

    def write_encoded(self, data: bytes, pts: int | None, dts: int | None, duration: int, keyframe: bool) -> None:
        """Mux one packet of ``encoder()``'s (pts and dts in ``time_base``, output time), with the sound and
        subtitles up to it."""
        import av

        packet = av.Packet(data)
        packet.pts, packet.dts, packet.duration, packet.is_keyframe = pts, dts, duration, keyframe
        packet.time_base = self.time_base
        packet.stream = self._stream
        try:
            self._output.mux(packet)
        except av.FFmpegError as exc:
            raise RehueError(f"cannot write the video ({_ffmpeg_reason(exc)})", self.path) from None
        self.frames_written += 1
        if pts is not None:
            for track in self._tracks:
                track.feed_until(self._output, float(pts * self.time_base) + AUDIO_LEAD_S)

    def close(self) -> Path:
        """Flush the encoders, finish the audio and move the file into place."""
        import av

        if self._closed:
            return self.path
        if self.frames_written == 0:
            self.abort()
            raise RehueError("no video frames to write", self.path)
        try:
            self._output.mux(self._stream.encode(None))
            for track in self._tracks:
                track.finish(self._output)
                track.close()
            self._say_silent_tracks()
            self._output.close()
            move_into_place(self._temp_path, self.path, self._overwrite)
            self._temp_cleanup.detach()
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise RehueError(f"cannot write the video ({_ffmpeg_reason(exc)})", self.path) from None
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def _say_silent_tracks(self) -> None:
        """Probe 134: a part (``--end``) ending before the film's sound begins came out with no sound, and said
        nothing of it. Each track that gives the output no sound is said for why (probes 164 and 165): none of its
        packets kept (undecodable, or refused by the output); none at all (a track that holds none, which a part
        that seeks past where sound ends cannot tell from that); none in the part."""
        sound = [track for track in self._tracks if track.kind == "audio"]
        silent = [track for track in sound if track.fed == track.dropped]
        if not silent:
            return
        part = any(track.start is not None or track.end is not None for track in silent)
        groups = (
            ([track for track in silent if track.dropped], "none of {sound} could be decoded or written"),
            ([track for track in silent if not track.seen and track.start is None], "{which} no sound"),
            ([track for track in silent if not track.seen and track.start is not None],
             "the part coloured holds none of {sound} (none lies in it, or the track holds none)"),
            ([track for track in silent if track.seen and not track.fed],
             "the part coloured holds none of {sound}, which lies wholly before or after the picture written"))
        said = []
        for tracks, words in groups:
            if not tracks:
                continue
            if len(sound) == 1:
                sound_of, which = "the part's sound" if part and tracks[0].dropped else "its sound", \
                    "its sound track holds"
            else:
                named = listed([f"audio track {track.track + 1}" for track in tracks])
                sound_of, which = f"the sound of {named}", f"{named} {'holds' if len(tracks) == 1 else 'hold'}"
            said.append(words.format(sound=sound_of, which=which))
        log.warning("%s: %s; %s", silent[0].source, "; ".join(said), "the output has no sound"
                    if len(silent) == len(sound) else "the output's copies of them are empty or left out")

    def abort(self) -> None:
        """Stop writing and delete the partial file; the target path is left as it was."""
        if self._closed:
            return
        self._closed = True
        self._discard_output()
        self._temp_cleanup.detach()

    def _discard_output(self) -> None:
        for closable in (*getattr(self, "_tracks", ()), getattr(self, "_output", None)):
            if closable is None:
                continue
            try:
                closable.close()
            except Exception:  # the partial output is being thrown away; its errors do not matter
                pass
        self._tracks, self._output = [], None
        self._temp_path.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
