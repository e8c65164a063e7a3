"""DPX film scans (SMPTE 268M), the frames a film scanner writes: decoded by FFmpeg (through PyAV), read
for what FFmpeg leaves aside: which way is up, and the transfer of the samples.

A scanner's DPX frames are often in printing density (Cineon "log"), whose numbers are not tones a
screen shows: a frame read as it is looks flat and gray, and its L* is not the picture's. A log frame is
turned into display tones as compositing software does by default (Kodak's conversion: the header's
reference black and white codes, 95 and 685 of 1023 where it gives none, film gamma 0.6), a linear one is
given sRGB's curve, and a video transfer (BT.709, BT.601, or one the header leaves unspecified) is taken as
it is. The picture rehue colours, and writes, is then in display tones.
"""

from __future__ import annotations

import functools
import io
import logging
import struct

import numpy as np

logger = logging.getLogger(__name__)

MAGIC = (b"SDPX", b"XPDS")  # big-endian, little-endian
HEADER_BYTES = 2048  # file, image, orientation and industry headers
UNDEFINED = 0xFFFFFFFF
USER_DEFINED, PRINTING_DENSITY, LINEAR, LOGARITHMIC, Z_LINEAR, Z_HOMOGENEOUS = 0, 1, 2, 3, 11, 12
LOG_TRANSFERS = (PRINTING_DENSITY, LOGARITHMIC)
# Kodak's Cineon conversion, on codes of a 10-bit scale
LOG_BLACK, LOG_WHITE, DENSITY_PER_CODE, FILM_GAMMA = 95.0, 685.0, 0.002, 0.6
# DPX's image orientations as EXIF's: lines left to right or right to left, top to bottom or bottom to top,
# and from 4 on, lines that run down (or up) the picture, stored one beside the other
EXIF_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 6, 6: 8, 7: 7}


def is_dpx(head: bytes) -> bool:
    return head[:4] in MAGIC


class DpxHeader:
    """The fields of a DPX header that say how to show its first picture."""

    def __init__(self, data: bytes):
        if len(data) < HEADER_BYTES or not is_dpx(data):
            raise ValueError("truncated DPX header")
        order = ">" if data[:4] == MAGIC[0] else "<"

        def number(fmt: str, offset: int) -> int:
            return struct.unpack_from(order + fmt, data, offset)[0]

        self.orientation = number("H", 768)
        self.width, self.height = number("I", 772), number("I", 776)
        self.reference_black, self.reference_white = number("I", 784), number("I", 792)
        self.descriptor, self.transfer, self.bits = data[800], data[801], data[803]

    def black_and_white(self) -> tuple[float, float, bool]:
        """A log frame's reference black and white, as codes of a 10-bit scale: the header's where it gives
        a usable pair, else Kodak's 95 and 685; and whether the header gave a pair that cannot be used (a
        black above its white, a code beyond the samples' range), not merely none (0 and 0, or undefined)."""
        black, white, bits = self.reference_black, self.reference_white, self.bits
        if bits in (8, 10, 12, 16) and UNDEFINED not in (black, white) and 0 <= black < white < 2 ** bits:
            scale = 1023.0 / (2 ** bits - 1)
            return black * scale, white * scale, False
        unset = {black, white} <= {0, UNDEFINED}
        return LOG_BLACK, LOG_WHITE, not unset


def log_to_display(samples: np.ndarray, black: float = LOG_BLACK, white: float = LOG_WHITE) -> np.ndarray:
    """Printing-density samples (floats, 0-1 for 0-1023) as display tones (0-1, sRGB's curve): linear light
    from the reference black (0) to the reference white (1); brighter than white is clipped."""
    from rehue.color.lab import linear_to_srgb

    codes = samples.astype(np.float32) * np.float32(1023.0)

    def light(code):
        return np.power(np.float32(10.0), (code - np.float32(white)) * np.float32(DENSITY_PER_CODE / FILM_GAMMA))

    floor = light(np.float32(black))
    linear = (light(codes) - floor) / (np.float32(1.0) - floor)
    return linear_to_srgb(np.clip(linear, 0.0, 1.0))


@functools.lru_cache(maxsize=8)  # a reel's frames share one; a folder of strangers' files is not kept whole
def _display_table(linear: bool, black: float, white: float) -> np.ndarray:
    """Each 16-bit level's display tone (16-bit): a table, as a 2K frame's 9.6 million samples through the
    curve itself took a quarter of a second."""
    from rehue.color.lab import linear_to_srgb

    levels = np.arange(65536, dtype=np.float32) / np.float32(65535.0)
    tones = linear_to_srgb(levels) if linear else log_to_display(levels, black, white)
    table = np.round(tones * np.float32(65535.0)).astype(np.uint16)
    table.flags.writeable = False
    return table


def read_dpx(data: bytes, path: str | None):
    """A :class:`LoadedImage` of a DPX file's bytes (its first picture, upright, in display tones); a
    ValueError says why one cannot be read."""
    import av

    from rehue.data.images import _oriented, array_to_loaded, to_uint16

    header = DpxHeader(data)
    if header.transfer in (Z_LINEAR, Z_HOMOGENEOUS):
        raise ValueError("holds depth (a Z buffer), not a picture")
    try:
        with av.open(io.BytesIO(data), format="dpx_pipe") as container:
            frame = next(container.decode(video=0), None)
    except (av.FFmpegError, ValueError) as exc:
        raise ValueError(f"truncated or corrupt DPX file ({getattr(exc, 'strerror', None) or exc})") from None
    if frame is None:
        raise ValueError("a DPX file with no picture in it")
    name = frame.format.name
    gray, alpha = name.startswith(("gray", "ya")), "a" in name.replace("gray", "")
    target = {(True, False): "gray16le", (True, True): "ya16le", (False, False): "rgb48le",
              (False, True): "rgba64le"}[gray, alpha] if header.bits > 8 else \
        {(True, False): "gray", (True, True): "ya8", (False, False): "rgb24", (False, True): "rgba"}[gray, alpha]
    samples = frame.to_ndarray(format=target)  # 8-bit samples at 8 bits: FFmpeg widens RGB and gray unlike
    samples = samples.reshape(*samples.shape[:2], -1)
    colour_planes = 1 if gray else 3
    if header.transfer in LOG_TRANSFERS or header.transfer == LINEAR:
        black, white, unusable = header.black_and_white()
        if unusable and header.transfer != LINEAR:
            logger.warning("%s: the reference black and white of its header (%d, %d) cannot be used; read with "
                           "Kodak's 95 and 685 of 1023", path or "a DPX file", header.reference_black,
                           header.reference_white)
        table = _display_table(header.transfer == LINEAR, black, white)
        samples = to_uint16(samples)  # the curve spreads an 8-bit scan's tones over 16 bits
        samples[..., :colour_planes] = table[samples[..., :colour_planes]]
    samples = _oriented(samples, EXIF_ORIENTATION.get(header.orientation, 1))
    return array_to_loaded(samples, path, colour=not gray)

