"""OpenEXR frames (visual effects', and scans delivered in ACES): decoded by FFmpeg (through PyAV), whose
samples are scene-linear light, brought to display tones here.

The header is read first for what FFmpeg does not say or do: the size (before the pixels are decoded,
as any picture over the size limit is refused), deep and multi-part files (which it does not decode) and
the primaries (``chromaticities``: ACES' AP0, for one, are not sRGB's). Light is taken to sRGB's
primaries, unpremultiplied where there is alpha (OpenEXR's colour is premultiplied), clipped at 1 (a
scene's highlights above diffuse white are lost, as with a viewer's default sRGB view) and given sRGB's
curve, at 16 bits. A coloured picture is written back as scene-linear light (``exr_file_bytes``), in the
primaries, window and attributes of the plate it came from.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import zlib

import numpy as np

from rehue.errors import bytes_escaped

MAGIC_NUMBERS = (b"v/1\x01",)
DEEP, MULTI_PART = 0x800, 0x1000  # the version field's flags
HEADER_BYTES = 1 << 20  # a header longer than this (before its pixels) is not a picture's
# scan lines a chunk holds, by compression: none, RLE, ZIPS, ZIP, PIZ, PXR24, B44, B44A, DWAA, DWAB
LINES_PER_CHUNK = {0: 1, 1: 1, 2: 1, 3: 16, 4: 32, 5: 16, 6: 32, 7: 32, 8: 32, 9: 256}


class Header:
    """The attributes of an OpenEXR file's (first) header that rehue needs: ``width`` and ``height`` (of
    the display window, the picture as shown), ``data_window`` and ``display_window`` (x min, y min, x max,
    y max) and where their values lie (``window_at``), ``channels`` (name: pixel type), ``flags`` (the
    version field's), ``chromaticities`` (red, green, blue, white x, y) or None."""

    def __init__(self, data: bytes):
        if len(data) < 8 or data[:4] not in MAGIC_NUMBERS:
            raise ValueError("not an OpenEXR file")
        self.flags = struct.unpack_from("<I", data, 4)[0]
        self.data_window = self.display_window = self.chromaticities = self.tiles = self.software = None
        self.frame_rate = self.time_code = self.time_code_word = None  # framesPerSecond, timeCode (and its flags)
        self.pixel_aspect = 1.0  # pixelAspectRatio: a pixel's width over its height
        self.window_at: dict[str, int] = {}
        self.channels: dict[str, int] = {}  # each channel's pixel type
        self.sampling: dict[str, tuple[int, int]] = {}  # each channel's x and y sampling (2, 2: a quarter)
        self.attributes: list[tuple[bytes, bytes]] = []  # each as (name, its whole bytes), for a file written again
        self.compression = 0
        offset = 8
        while True:
            name_end = data.find(b"\0", offset)
            if name_end < 0:
                raise ValueError("truncated OpenEXR header")
            if name_end == offset:
                break
            kind_end = data.find(b"\0", name_end + 1)
            if kind_end < 0 or kind_end + 5 > len(data):
                raise ValueError("truncated OpenEXR header")
            name, kind = data[offset:name_end], data[name_end + 1:kind_end]
            size = struct.unpack_from("<i", data, kind_end + 1)[0]
            value = data[kind_end + 5:kind_end + 5 + size]
            if size < 0 or len(value) < size:
                raise ValueError("truncated OpenEXR header")
            self.attributes.append((name, data[offset:kind_end + 5 + size]))
            if name in (b"dataWindow", b"displayWindow") and kind == b"box2i" and size == 16:
                setattr(self, "data_window" if name == b"dataWindow" else "display_window", struct.unpack("<4i", value))
                self.window_at[name.decode()] = kind_end + 5
            elif name == b"channels" and kind == b"chlist":
                self.channels, self.sampling = _channels(value)
            elif name == b"compression" and size == 1:
                self.compression = value[0]
            elif name == b"tiles" and kind == b"tiledesc" and size == 9:
                self.tiles = struct.unpack("<IIB", value)
            elif name == b"chromaticities" and kind == b"chromaticities" and size == 32:
                values = struct.unpack("<8f", value)
                self.chromaticities = tuple(zip(values[::2], values[1::2], strict=True))
            elif name == b"software" and kind == b"string":
                self.software = value.decode("utf-8", "replace")
            elif name == b"pixelAspectRatio" and kind == b"float" and size == 4:
                aspect = struct.unpack("<f", value)[0]
                self.pixel_aspect = aspect if math.isfinite(aspect) and aspect > 0 else 1.0
            elif name == b"framesPerSecond" and kind == b"rational" and size == 8:
                numerator, denominator = struct.unpack("<iI", value)
                self.frame_rate = numerator / denominator if denominator and numerator > 0 else None
            elif name == b"timeCode" and kind == b"timecode" and size == 8:
                from rehue.data.dpx import _time_code

                self.time_code = _time_code(struct.unpack("<I", value[:4])[0])
                self.time_code_word = struct.unpack("<I", value[:4])[0] if self.time_code is not None else None
            offset = kind_end + 5 + size
        self.end = offset + 1  # the offset table follows: where each chunk of pixels lies
        if self.data_window is None or _area(self.data_window) <= 0:
            raise ValueError("an OpenEXR header without a data window (the picture's size)")
        self.display_window = self.display_window or self.data_window
        if _area(self.display_window) <= 0:
            raise ValueError("an OpenEXR header whose display window (the picture's size) is empty")
        self.width = self.display_window[2] - self.display_window[0] + 1
        self.height = self.display_window[3] - self.display_window[1] + 1
        self.data_pixels = _area(self.data_window)

    def picture_channels(self) -> list[str]:
        """The channels of the default layer that hold the picture: R, G, B (or Y), as FFmpeg reads them."""
        found = [name for name in ("R", "G", "B") if name in self.channels]
        return found if len(found) == 3 else ["Y"] if "Y" in self.channels else []

    def chunks(self, data: bytes) -> int:
        """How many chunks of pixels the offset table lists (scan lines, or tiles of one level); for tiles of
        many levels (mipmaps), as far as the first chunk, which comes right after the table."""
        width = self.data_window[2] - self.data_window[0] + 1
        height = self.data_window[3] - self.data_window[1] + 1
        if self.tiles is None:
            return -(-height // LINES_PER_CHUNK.get(self.compression, 1))
        across, down, mode = self.tiles
        if mode & 0x0F == 0 and across and down:
            return -(-width // across) * -(-height // down)
        if self.end + 8 > len(data):
            return 1
        return max(1, (struct.unpack_from("<Q", data, self.end)[0] - self.end) // 8)

    def check_whole(self, data: bytes) -> None:
        """A ValueError where a chunk of pixels lies beyond the file's end, as in a file cut short: FFmpeg
        decodes such a file without a word, its missing lines black."""
        count = self.chunks(data)
        table_end = self.end + 8 * count
        if table_end > len(data):
            raise ValueError("truncated or corrupt OpenEXR file (it ends in its table of contents)")
        size_at = 4 if self.tiles is None else 16  # after a scan line's y, or a tile's x, y and levels
        for offset in np.frombuffer(data, "<u8", count, self.end).tolist():
            if not table_end <= offset <= len(data) - size_at - 4 or \
                    offset + size_at + 4 + struct.unpack_from("<I", data, offset + size_at)[0] > len(data):
                raise ValueError("truncated or corrupt OpenEXR file (its pixels end early)")


    def shown_from_origin(self, data: bytes) -> bytes:
        """``data`` with both windows moved so that the display window starts at (0, 0), and each scan
        line's y with them: FFmpeg puts the data window at its own coordinates in a picture the display
        window's size, as if that window started at (0, 0), so a picture whose display window starts
        elsewhere (a crop, an offset format) came out shifted, part of it lost and the rest black."""
        left, top = self.display_window[:2]
        return self.moved(data, -left, -top)

    def moved(self, data: bytes, right: int, down: int) -> bytes:
        """``data`` with both windows moved ``right`` and ``down``, and each scan line's y with them."""
        if (right, down) == (0, 0):
            return data
        moved = bytearray(data)
        try:  # a struct.error where a coordinate moved passes 2**31 (probe 215: a traceback)
            for name, window in (("dataWindow", self.data_window), ("displayWindow", self.display_window)):
                struct.pack_into("<4i", moved, self.window_at[name], window[0] + right, window[1] + down,
                                 window[2] + right, window[3] + down)
            if self.tiles is None:  # a tile's place is counted in tiles from the data window's corner
                for offset in np.frombuffer(data, "<u8", self.chunks(data), self.end).tolist():
                    struct.pack_into("<i", moved, offset, struct.unpack_from("<i", data, offset)[0] + down)
        except struct.error:
            raise ValueError("corrupt OpenEXR file (its windows, or a scan line's place, lie beyond the 32-bit "
                             "coordinates a file holds once its display window starts at 0, 0)") from None
        return bytes(moved)


def _area(window) -> int:
    return (window[2] - window[0] + 1) * (window[3] - window[1] + 1) if window[2] >= window[0] else 0


def _channels(value: bytes) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
    """A chlist attribute's channels, as each one's pixel type and its x and y sampling: name, then pixel type
    (0 UINT, 1 HALF, 2 FLOAT), linear flag, three reserved bytes and x and y sampling; a NUL ends the list."""
    channels, sampling, offset = {}, {}, 0
    while offset < len(value) and value[offset] != 0:
        end = value.find(b"\0", offset)
        if end < 0 or end + 17 > len(value):
            raise ValueError("truncated OpenEXR header (its list of channels)")
        name = value[offset:end].decode("utf-8", "replace")
        channels[name] = struct.unpack_from("<i", value, end + 1)[0]
        sampling[name] = struct.unpack_from("<ii", value, end + 9)
        offset = end + 17
    return channels, sampling


def read(data: bytes, path: str | None):
    """A :class:`LoadedImage` of an OpenEXR file's bytes, in display tones; a ValueError says why one cannot
    be read."""
    import av

    from rehue.color.primaries import is_bt709, to_srgb_matrix
    from rehue.data.images import array_to_loaded

    header = Header(data)
    own = data[:header.end]  # carried into an OpenEXR written from this picture (``exr_file_bytes``)
    if header.flags & DEEP:
        raise ValueError("holds deep data (many samples a pixel, for compositing), not a flat picture")
    if header.flags & MULTI_PART:
        raise ValueError("a multi-part OpenEXR file (several pictures or views in one), which rehue does not read; "
                         "write its picture as a single-part file first")
    from rehue.data.images import MAX_PIXELS

    picture = header.picture_channels()
    if not picture:
        layers = ", ".join(sorted(header.channels)[:6]) + (", ..." if len(header.channels) > 6 else "")
        raise ValueError(f"holds no picture in its default layer (R, G and B, or Y): its channels are "
                         f"{layers or 'none'}; write the layer to colour as R, G, B first")
    if any(header.channels[name] == 0 for name in picture):
        raise ValueError("its picture channels hold whole numbers (UINT: object or material ids), not light")
    # what FFmpeg, rehue's OpenEXR decoder, does not read (probe 151: "truncated or corrupt", "Not yet implemented")
    subsampled = [name for name, (across, down) in header.sampling.items() if (across, down) != (1, 1)]
    if subsampled:
        across, down = header.sampling[subsampled[0]]
        raise ValueError(f"its channel{'s' if len(subsampled) > 1 else ''} {', '.join(subsampled[:6])} "
                         f"{'are' if len(subsampled) > 1 else 'is'} subsampled ({across}x{down}: a sample for each "
                         f"{across}x{down} pixels), which FFmpeg, rehue's OpenEXR decoder, does not read; write every "
                         "channel whole first (R, G, B, not luminance and chroma)")
    kinds = {name: header.channels[name] for name in [*picture, *(["A"] if "A" in header.channels else [])]}
    if len(set(kinds.values())) > 1:
        said = {1: "half floats", 2: "full floats", 0: "whole numbers"}
        by_kind = "; ".join(f"{', '.join(name for name in kinds if kinds[name] == kind)} "
                            f"{said.get(kind, f'pixel type {kind}')}" for kind in dict.fromkeys(kinds.values()))
        raise ValueError(f"its picture's channels are of unlike kinds ({by_kind}), which FFmpeg, rehue's OpenEXR "
                         "decoder, does not read together; write them as one kind first")
    if header.data_pixels > MAX_PIXELS:
        raise ValueError(f"image too large (a data window of {header.data_pixels:,} pixels; limit {MAX_PIXELS:,})")
    header.check_whole(data)
    data = header.shown_from_origin(data)
    try:
        with av.open(io.BytesIO(data), format="exr_pipe") as container:
            frame = next(container.decode(video=0), None)
    except (av.FFmpegError, ValueError) as exc:
        raise ValueError(f"truncated or corrupt OpenEXR file ({getattr(exc, 'strerror', None) or exc})") from None
    if frame is None:
        raise ValueError("an OpenEXR file with no picture in it")
    name = frame.format.name
    gray, alpha = name.startswith(("gray", "ya")), "a" in name.replace("gray", "")
    planes = 1 if gray else 3
    converted = not gray and header.chromaticities is not None and not is_bt709(header.chromaticities)
    if "f16" in name and not alpha and not converted:  # every half float's tone looked up: 3 times faster
        return _with_header(array_to_loaded(_half_tones()[_half_bits(frame)], path, colour=not gray), header, own)
    samples = _half_bits(frame).view(np.float16).astype(np.float32) if "f16" in name else _float_samples(frame)
    light = samples[..., :planes]
    if alpha:  # premultiplied: a half-covered pixel's colour is half its light
        coverage = samples[..., planes:planes + 1]
        light = np.divide(light, coverage, out=np.zeros_like(light), where=coverage > 0)
    if converted:
        light = light @ to_srgb_matrix(header.chromaticities).T.astype(np.float32)
    out = [_tones(light)]
    if alpha:
        out.append(np.round(np.clip(samples[..., planes:planes + 1], 0.0, 1.0) * np.float32(65535.0)).astype(np.uint16))
    return _with_header(array_to_loaded(np.concatenate(out, axis=2) if alpha else out[0], path, colour=not gray),
                        header, own)


def _with_header(loaded, header: Header, own: bytes):
    loaded.exr_header, loaded.software = own, header.software
    return loaded


def _tones(light: np.ndarray) -> np.ndarray:
    """Scene-linear light as 16-bit display tones: clipped to 0-1 (NaN black, +inf white), sRGB's curve."""
    from rehue.color.lab import linear_to_srgb

    light = np.nan_to_num(light, nan=0.0, posinf=1.0, neginf=0.0)
    return np.round(linear_to_srgb(light) * np.float32(65535.0)).astype(np.uint16)


@functools.cache
def _half_tones() -> np.ndarray:
    """The display tone of each of the 65,536 half floats, by its bits (128 kB)."""
    table = _tones(np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32))
    table.flags.writeable = False
    return table


def _float_samples(frame) -> np.ndarray:
    """(H, W, C) float32 samples of a decoded frame of full floats: gray or RGB, then alpha."""
    return _samples(frame, "f4").astype(np.float32, copy=False)


def _half_bits(frame) -> np.ndarray:
    """(H, W, C) bits (uint16, native order) of a decoded frame of half floats, OpenEXR's usual samples,
    which PyAV does not turn into arrays: read from its planes as they are."""
    return _samples(frame, "u2").astype(np.uint16)


def _samples(frame, kind: str) -> np.ndarray:
    """(H, W, C) samples of a decoded frame, read from its planes as they are (``kind``: NumPy's "f4" or "u2",
    in the frame's byte order): FFmpeg's planar RGB(A), which it stores green, blue, red; or one plane of
    gray, or of gray and alpha side by side (Y and A, which PyAV does not turn into arrays)."""
    name = frame.format.name
    kind = np.dtype(("<" if name.endswith("le") else ">") + kind)
    planes = frame.planes
    if len(planes) == 1:
        count = 2 if name.startswith("ya") else 1
        rows = np.frombuffer(planes[0], kind).reshape(frame.height, -1)[:, :frame.width * count]
        return rows.reshape(frame.height, frame.width, count)
    planes = [np.frombuffer(plane, kind).reshape(frame.height, -1)[:, :frame.width] for plane in planes]
    if name.startswith("gbr"):
        planes[:3] = planes[2], planes[0], planes[1]
    return np.stack(planes, axis=2)


# what FFmpeg's encoder writes itself (its "gamma" and "writer" are dropped), and what describes a source's
# layout, not the picture written: none of these is carried over from the frame a picture came from
ENCODER_ATTRIBUTES = (b"channels", b"compression", b"dataWindow", b"displayWindow", b"lineOrder",
                      b"screenWindowCenter", b"screenWindowWidth")
NOT_CARRIED = (*ENCODER_ATTRIBUTES, b"gamma", b"writer", b"software", b"chromaticities", b"pixelAspectRatio",
               b"tiles", b"type", b"name", b"chunkCount", b"version", b"maxSamplesPerPixel", b"view", b"multiView")
LONG_NAMES = 0x400  # the version field's flag for attribute names over 31 bytes
ZIPS, ZIP = 2, 3
# zlib's level for ZIP: about twice as fast as its default (6, which FFmpeg's encoder uses), files 3% larger
ZIP_LEVEL = 4
# the compressions FFmpeg's encoder writes, by OpenEXR's numbers: none, RLE, ZIP of 1 line and of 16
WRITTEN_COMPRESSIONS = {0: "none", 1: "rle", 2: "zip1", 3: "zip16"}


def _attributes(data: bytes) -> tuple[list[tuple[bytes, bytes]], int]:
    """A header's attributes, as (name, whole attribute bytes), and where the header ends (its null byte)."""
    header = Header(data)
    return header.attributes, header.end - 1


def _attribute(name: bytes, kind: bytes, value: bytes) -> bytes:
    return name + b"\0" + kind + b"\0" + struct.pack("<i", len(value)) + value


def video_frame_header(frame_rate, time_code: str | None, pixel_aspect=None, time_code_word: int | None = None
                       ) -> bytes:
    """The header a frame of a video is written like (``exr_file_bytes``' ``like``): ZIP, with the video's
    ``framesPerSecond`` (a Fraction, or None) and the frame's ``timeCode`` (HH:MM:SS:FF, non-drop), the
    standard attributes compositing software conforms frames by, and its ``pixelAspectRatio`` where its
    pixels are not square (a DV or anamorphic film's)."""
    from fractions import Fraction

    from rehue.data.dpx import _time_code_word

    attributes = [_attribute(b"compression", b"compression", bytes([ZIP])),
                  *(_attribute(name, b"box2i", struct.pack("<4i", 0, 0, 0, 0))
                    for name in (b"dataWindow", b"displayWindow"))]
    if frame_rate:
        rate = Fraction(frame_rate).limit_denominator(1001)
        attributes.append(_attribute(b"framesPerSecond", b"rational", struct.pack("<iI", rate.numerator,
                                                                                   rate.denominator)))
    if time_code is not None:  # ``time_code_word``: a source frame's, with its flags (drop frame, colour frame)
        word = _time_code_word(time_code) if time_code_word is None else time_code_word
        attributes.append(_attribute(b"timeCode", b"timecode", struct.pack("<II", word, 0)))
    if pixel_aspect:
        attributes.append(_attribute(b"pixelAspectRatio", b"float", struct.pack("<f", float(pixel_aspect))))
    return MAGIC_NUMBERS[0] + struct.pack("<I", 2) + b"".join(attributes) + b"\0"


def _zip_file_bytes(samples: np.ndarray, compression: int) -> bytes:
    """A scan-line OpenEXR file of (h, w, 3 or 4) float32 RGB(A) ``samples`` in half floats, ZIP- or
    ZIPS-compressed as OpenEXR's library does it, with the attributes FFmpeg's encoder writes: written here
    rather than by that encoder, so that zlib runs at ``ZIP_LEVEL``. Each chunk's scan lines hold each
    channel's samples in turn, in the channels' alphabetical order (A, B, G, R); their bytes, the first of
    every pair then the second, are stored as differences (plus 128) from the byte before, deflated, or as
    they are where deflating does not shrink them."""
    height, width, count = samples.shape
    names = "ABGR" if count == 4 else "BGR"
    order = [3, 2, 1, 0] if count == 4 else [2, 1, 0]
    rows = np.ascontiguousarray(samples[..., order].astype("<f2").transpose(0, 2, 1)).view(np.uint8)
    rows = rows.reshape(height, -1)
    lines = LINES_PER_CHUNK[compression]
    chunks = []
    for top in range(0, height, lines):
        block = rows[top:top + lines].reshape(-1)
        shuffled = np.concatenate([block[0::2], block[1::2]])
        predicted = shuffled.copy()
        predicted[1:] = np.diff(shuffled) + np.uint8(128)  # uint8 arithmetic wraps, as the format's does
        packed = zlib.compress(predicted.tobytes(), ZIP_LEVEL)
        packed = packed if len(packed) < block.size else block.tobytes()
        chunks.append(struct.pack("<ii", top, len(packed)) + packed)
    channels = b"".join(name.encode() + b"\0" + struct.pack("<iB3xii", 1, 0, 1, 1) for name in names) + b"\0"
    window = struct.pack("<4i", 0, 0, width - 1, height - 1)
    attributes = (_attribute(b"channels", b"chlist", channels)
                  + _attribute(b"compression", b"compression", bytes([compression]))
                  + _attribute(b"dataWindow", b"box2i", window) + _attribute(b"displayWindow", b"box2i", window)
                  + _attribute(b"lineOrder", b"lineOrder", b"\0")
                  + _attribute(b"pixelAspectRatio", b"float", struct.pack("<f", 1.0))
                  + _attribute(b"screenWindowCenter", b"v2f", struct.pack("<2f", 0.0, 0.0))
                  + _attribute(b"screenWindowWidth", b"float", struct.pack("<f", 1.0)) + b"\0")
    start = len(MAGIC_NUMBERS[0]) + 4 + len(attributes) + 8 * len(chunks)
    offsets = np.cumsum([start] + [len(chunk) for chunk in chunks[:-1]]).astype("<u8")
    return MAGIC_NUMBERS[0] + struct.pack("<I", 2) + attributes + offsets.tobytes() + b"".join(chunks)


def exr_file_bytes(rgb: np.ndarray, alpha: np.ndarray | None = None, *, like: bytes | None = None,
                   software: str | None = None) -> bytes:
    """An OpenEXR file of display-tone RGB (uint8 or uint16) and its alpha, in scene-linear light again: the
    inverse of what reading does (sRGB's curve undone; light read above 1 was clipped there, so it is 1
    here), in half floats, ZIP-compressed, colour premultiplied by alpha as OpenEXR keeps it.

    ``like`` is the header of the OpenEXR frame the picture came from: the file then has its compression
    (where FFmpeg's encoder writes it: none, RLE or ZIP; else ZIP), its primaries
    (``chromaticities``, ACES' AP0 for one: the light is taken back to them), its display window where it
    was (an offset format stays offset), its pixel aspect ratio, and the rest of its attributes (frame rate,
    time code, owner, comments, a pipeline's own). ``software`` names rehue and the model in a "software"
    attribute, as a PNG's Software tag does. FFmpeg's encoder (through PyAV) writes the pixels.
    """
    import av

    from rehue.color.lab import _srgb_to_linear
    from rehue.color.primaries import is_bt709, to_srgb_matrix
    from rehue.data.images import to_uint16

    source = Header(like) if like is not None else None
    light = _srgb_to_linear(to_uint16(rgb)).astype(np.float32)
    primaries = source.chromaticities if source is not None else None
    if primaries is not None and not is_bt709(primaries):
        light = light @ np.linalg.inv(to_srgb_matrix(primaries)).T.astype(np.float32)
    planes = [light]
    if alpha is not None:
        coverage = to_uint16(alpha).astype(np.float32)[..., None] / np.float32(65535.0)
        planes = [light * coverage, coverage]
    samples = np.ascontiguousarray(np.concatenate(planes, axis=2), np.float32)
    pix_fmt = "gbrapf32le" if alpha is not None else "gbrpf32le"
    compression = source.compression if source is not None and source.compression in WRITTEN_COMPRESSIONS else ZIP
    if compression in (ZIPS, ZIP):
        data = _zip_file_bytes(samples, compression)
    else:
        codec = av.CodecContext.create("exr", "w")
        codec.height, codec.width = samples.shape[:2]
        codec.pix_fmt, codec.time_base = pix_fmt, 1
        codec.options = {"compression": WRITTEN_COMPRESSIONS[compression], "format": "half"}
        frame = av.VideoFrame.from_ndarray(samples, format=pix_fmt)
        data = b"".join(bytes(packet) for packet in codec.encode(frame) + codec.encode(None))

    written, end = _attributes(data)
    kept = [whole for name, whole in written if name in ENCODER_ATTRIBUTES]
    aspect = struct.pack("<f", 1.0)
    if source is not None:
        for name, whole in source.attributes:
            if name == b"pixelAspectRatio" and len(whole) == len(name) + len(b"float") + 2 + 4 + 4:
                aspect = whole[-4:]
            elif name not in NOT_CARRIED:
                kept.append(whole)
    kept.append(_attribute(b"pixelAspectRatio", b"float", aspect))
    if primaries is not None:
        kept.append(_attribute(b"chromaticities", b"chromaticities",
                               struct.pack("<8f", *(value for pair in primaries for value in pair))))
    if software:
        kept.append(_attribute(b"software", b"string", bytes_escaped(software).encode("utf-8")))
    header = b"".join(kept)
    flags = struct.unpack_from("<I", data, 4)[0]
    if any(len(whole.split(b"\0", 1)[0]) > 31 for whole in kept):
        flags |= LONG_NAMES
    chunks = -(-samples.shape[0] // LINES_PER_CHUNK[compression])
    table_at = end + 1
    offsets = np.frombuffer(data, "<u8", chunks, table_at).astype(np.int64) + (8 + len(header) + 1) - table_at
    written = (data[:4] + struct.pack("<I", flags) + header + b"\0" + offsets.astype("<u8").tobytes()
               + data[table_at + 8 * chunks:])
    if source is None:
        return written
    return Header(written).moved(written, *source.display_window[:2])  # where the plate showed its picture
