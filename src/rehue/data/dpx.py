"""DPX film scans (SMPTE 268M), the frames a film scanner writes: decoded by FFmpeg (through PyAV), read
for what FFmpeg leaves aside (which way is up, and the transfer of the samples), and written back.

A scanner's DPX frames are often in printing density (Cineon "log"), whose numbers are not tones a
screen shows: a frame read as it is looks flat and gray, and its L* is not the picture's. A log frame is
turned into display tones as compositing software does by default (Kodak's conversion: the header's
reference black and white codes, 95 and 685 of 1023 where it gives none, film gamma 0.6), a linear one is
given sRGB's curve, and a video transfer (BT.709, BT.601, or one the header leaves unspecified) is taken as
it is. The picture rehue colours is then in display tones; written as DPX, it goes back into its scan's
transfer, depth and byte order, with the rest of the scan's header (``dpx_file_bytes``).
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
import struct

import numpy as np

logger = logging.getLogger(__name__)

MAGIC_NUMBERS = (b"SDPX", b"XPDS")  # big-endian, little-endian
HEADER_BYTES = 2048  # file, image, orientation and industry headers
GENERIC_BYTES = 1664  # file, image and orientation headers: all FFmpeg writes, and all a picture needs
MAX_USER_BYTES = 1 << 20  # a user-defined block carried into a written frame: up to 1 MB
UNDEFINED = 0xFFFFFFFF
USER_DEFINED, PRINTING_DENSITY, LINEAR, LOGARITHMIC, Z_LINEAR, Z_HOMOGENEOUS = 0, 1, 2, 3, 11, 12
LOG_TRANSFERS = (PRINTING_DENSITY, LOGARITHMIC)
# Kodak's Cineon conversion, on codes of a 10-bit scale
LOG_BLACK, LOG_WHITE, DENSITY_PER_CODE, FILM_GAMMA = 95.0, 685.0, 0.002, 0.6
FILM_FRAME_RATE, TV_TIME_CODE, TV_FRAME_RATE = 1724, 1920, 1940  # in the film and television headers
DROP_FRAME = 0x40  # SMPTE 12M's drop-frame flag in a time code's word (its frames' byte), as OpenEXR keeps it too
PIXEL_ASPECT = 1628  # the orientation header's pixel aspect ratio: horizontal, then vertical
# DPX's image orientations as EXIF's: lines left to right or right to left, top to bottom or bottom to top,
# and from 4 on, lines that run down (or up) the picture, stored one beside the other
EXIF_ORIENTATION = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 6, 6: 8, 7: 7}
UNDEFINED_SHORT = 0xFFFF  # a 16-bit field left unset
# an image element's descriptor (byte 800), in words: what a layout FFmpeg does not read is said as
DESCRIPTORS = {1: "red", 2: "green", 3: "blue", 4: "alpha", 6: "luma", 50: "RGB", 51: "RGBA", 52: "ABGR",
               100: "CbYCrY 4:2:2", 101: "CbYaCrYa 4:2:2:4", 102: "CbYCr 4:4:4", 103: "CbYCrA 4:4:4:4"}


class Header:
    """The fields of a DPX header that say how to show its first picture, and the header's bytes (``raw``:
    those before the pixels, up to the industry headers' end), for a frame written from it."""

    def __init__(self, data: bytes):
        if len(data) < GENERIC_BYTES or data[:4] not in MAGIC_NUMBERS:
            raise ValueError("truncated DPX header")
        order = ">" if data[:4] == MAGIC_NUMBERS[0] else "<"

        def number(fmt: str, offset: int) -> int:
            return struct.unpack_from(order + fmt, data, offset)[0]

        self.raw = bytes(data[:min(HEADER_BYTES, max(GENERIC_BYTES, number("I", 4)))])
        # the user-defined block after the headers (a scanner's own data), where the file holds it whole
        user = number("I", 32) if len(data) >= HEADER_BYTES else 0
        fits = 0 < user <= MAX_USER_BYTES and HEADER_BYTES + user <= min(len(data), number("I", 4))
        self.user_data = bytes(data[HEADER_BYTES:HEADER_BYTES + user]) if fits else b""
        self.creator = data[160:260].split(b"\0", 1)[0].decode("ascii", "replace").strip()
        self.orientation = number("H", 768)
        self.width, self.height = number("I", 772), number("I", 776)
        self.reference_black, self.reference_white = number("I", 784), number("I", 792)
        self.descriptor, self.transfer, self.bits = data[800], data[801], data[803]
        self.packing, self.encoding, self.data_offset = number("H", 804), number("H", 806), number("I", 4)
        industry = len(self.raw) >= HEADER_BYTES  # FFmpeg's frames have no film or television header
        rates = (number("f", FILM_FRAME_RATE), number("f", TV_FRAME_RATE)) if industry else ()
        # the first rate the headers set (unset: all ones, a NaN, or 0), plausible or not: the reader judges
        self.frame_rate = next((rate for rate in rates if math.isfinite(rate) and rate != 0), None)
        self.time_code = _time_code(number("I", TV_TIME_CODE)) if industry else None
        # the word itself, its flags too (drop frame, colour frame), for a frame written in another format
        self.time_code_word = number("I", TV_TIME_CODE) if self.time_code is not None else None
        across, down = (number("I", PIXEL_ASPECT), number("I", PIXEL_ASPECT + 4)) if industry else (0, 0)
        # a pixel's width over its height, where the orientation header sets it (unset: 0s or all ones)
        self.pixel_aspect = across / down if 0 < across < UNDEFINED and 0 < down < UNDEFINED else 1.0

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


def read(data: bytes, path: str | None):
    """A :class:`LoadedImage` of a DPX file's bytes (its first picture, upright, in display tones); a
    ValueError says why one cannot be read."""
    import av

    from rehue.data.images import _oriented, array_to_loaded, to_uint16

    header = Header(data)
    if not header.width or not header.height:  # probe 215: "truncated or corrupt DPX file (Invalid argument)"
        raise ValueError(f"a DPX frame of no pixels ({header.width}x{header.height})")
    if header.orientation not in EXIF_ORIENTATION and header.orientation != UNDEFINED_SHORT:  # probe 215: read as
        # upright without a word, where Cineon's is refused; undefined (all ones) is taken as DPX's default, 0
        raise ValueError(f"its orientation, {header.orientation}, is none of DPX's eight (0 to 7)")
    if header.bits in (10, 12) and header.packing not in (0, 1, 2):  # decoded as one of them, without a word
        # (probe 216: undefined, all ones, as method B, scrambled)
        undefined = " (undefined)" if header.packing == UNDEFINED_SHORT else ""
        raise ValueError(f"its packing, {header.packing}{undefined}, is none of DPX's (0 to 2)")
    if header.transfer in (Z_LINEAR, Z_HOMOGENEOUS):
        raise ValueError("holds depth (a Z buffer), not a picture")
    if header.bits == 10 and header.packing == 0:
        raise ValueError("its 10-bit samples are packed end to end (packing 0), which FFmpeg, rehue's DPX decoder, "
                         "does not read; save the frames with the samples filled into 32-bit words (method A)")
    if header.data_offset < GENERIC_BYTES:  # probe 151: read from the header's bytes, and coloured
        raise ValueError(f"its pixels would start at byte {header.data_offset}, inside its header")
    if header.encoding or header.bits not in (1, 8, 10, 12, 16):  # floats, run-length encoding (probe 151)
        raise _unread_layout(header)
    try:
        with av.open(io.BytesIO(data), format="dpx_pipe") as container:
            frame = next(container.decode(video=0), None)
    except (av.FFmpegError, ValueError) as exc:
        if isinstance(exc, av.error.PatchWelcomeError):  # "Not yet implemented in FFmpeg" of a layout it has not
            raise _unread_layout(header) from None
        if header.bits == 10 and _lines_unpadded(header, len(data)):
            raise ValueError("its 10-bit lines do not each start a new 32-bit word, as DPX asks (some scanners write "
                             "gray frames so), which FFmpeg, rehue's DPX decoder, does not read") from None
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
    loaded = array_to_loaded(samples, path, colour=not gray)
    loaded.dpx_header, loaded.software = header.raw + header.user_data, header.creator or None
    return loaded


def _unread_layout(header: Header) -> ValueError:
    """What a frame holds that FFmpeg, rehue's DPX decoder, does not read (a descriptor, a depth, floats, run-length
    encoding), in words."""
    kind = DESCRIPTORS.get(header.descriptor, f"descriptor {header.descriptor}")
    samples = f"{header.bits}-bit {'floats' if header.bits in (32, 64) else 'samples'}"
    encoded = ", run-length encoded" if header.encoding else ""
    return ValueError(f"a DPX layout FFmpeg, rehue's DPX decoder, does not read ({kind}, {samples}{encoded}); save "
                      "the frames as uncompressed RGB or luma of 8, 10, 12 or 16 bits")


def _time_code(value: int) -> str | None:
    """A television header's time code (SMPTE 12M, BCD: hours, minutes, seconds, frames, the top bits of
    each their flags) as HH:MM:SS:FF; None where it is unset or not a time."""
    fields = [(value >> shift) & mask for shift, mask in ((24, 0x3F), (16, 0x7F), (8, 0x7F), (0, 0x3F))]
    if value == UNDEFINED or any(field & 0x0F > 9 for field in fields):
        return None
    hours, minutes, seconds, frames = ((field >> 4) * 10 + (field & 0x0F) for field in fields)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def _time_code_word(time_code: str) -> int:
    """The inverse of :func:`_time_code`: HH:MM:SS:FF as a television header's BCD word, no flags set."""
    return functools.reduce(lambda word, part: word << 8 | (int(part) // 10) << 4 | int(part) % 10,
                            time_code.split(":"), 0)


def made_header(*, bits: int, transfer: int, frame_rate: float | None = None,
                time_code: str | None = None, pixel_aspect=None, time_code_word: int | None = None) -> bytes:
    """The header a frame that came from no DPX scan is written like (``dpx_file_bytes``' ``like``): samples of
    ``bits`` in ``transfer`` (a video frame's display tones, "unspecified video"; a Cineon scan's printing
    density), big-endian, with a frame rate in the film and television headers and a time code
    (HH:MM:SS:FF, non-drop), so that grading software conforms the frames to the film's time, as it does a
    scanner's; ``pixel_aspect`` (a Fraction: a pixel's width over its height) in the orientation header
    where its pixels are not square."""
    header = bytearray(b"\xff" * HEADER_BYTES)
    for offset, size in (*STRING_FIELDS, (820, 32)):
        header[offset:offset + size] = bytes(size)
    struct.pack_into(">I", header, 4, HEADER_BYTES)
    header[:4] = MAGIC_NUMBERS[0]
    header[800:804] = bytes((RGB, transfer, transfer, bits))
    if frame_rate is not None:
        struct.pack_into(">f", header, FILM_FRAME_RATE, frame_rate)
        struct.pack_into(">f", header, TV_FRAME_RATE, frame_rate)
    if time_code is not None:  # ``time_code_word``: a source frame's, with its flags (drop frame, colour frame)
        struct.pack_into(">I", header, TV_TIME_CODE, _time_code_word(time_code) if time_code_word is None
                         else time_code_word)
    if pixel_aspect:
        struct.pack_into(">II", header, PIXEL_ASPECT, pixel_aspect.numerator, pixel_aspect.denominator)
    return bytes(header)


def _lines_unpadded(header: Header, size: int) -> bool:
    """Whether a 10-bit frame's samples fill exactly the words they would with no line starting a new word,
    and fewer than they would with lines padded (a layout some scanners write for gray frames)."""
    samples = {6: 1, 50: 3, 51: 4}.get(header.descriptor)
    if samples is None or header.data_offset in (0, UNDEFINED):
        return False
    words = -(-header.width * header.height * samples // 3)
    return size - header.data_offset == 4 * words < 4 * header.height * -(-header.width * samples // 3)


# Where the fields a written frame sets lie in a DPX header (SMPTE 268M); the rest of a source frame's header
# (its project, copyright, the scanner's orientation header, the film and television headers with the
# time code, key code and frame rate) is carried over as it is, in its own byte order
IMAGE_ELEMENT, ELEMENTS_END = 780, 1356
ORIENTATION_GEOMETRY, BORDER = 1408, 1620  # x and y offset, centre and original size; the border's 4 sides
RGB, RGBA = 50, 51  # image element descriptors
UNSPECIFIED_VIDEO = 4
STRING_FIELDS = ((8, 8), (36, 100), (136, 24), (160, 100), (260, 200), (460, 200), (664, 104), (1356, 52),
                 (1432, 100), (1532, 24), (1556, 32), (1588, 32), (1636, 28), (1664, 36), (1732, 132),
                 (1864, 56), (1972, 76))


def written_bits(header: Header | None, deep: bool) -> int:
    """The bits a sample of a written frame: a source frame's 10, 12 or 16 (8 and 1 as 10, which loses
    nothing; any other depth as 16); without one, 16 for 16-bit pictures and DPX's usual 10 for 8-bit ones."""
    if header is None:
        return 16 if deep else 10
    return header.bits if header.bits in (10, 12, 16) else 16 if header.bits > 10 else 10


def display_to_log(tones: np.ndarray, black: float = LOG_BLACK, white: float = LOG_WHITE) -> np.ndarray:
    """The inverse of :func:`log_to_display`: display tones (0-1) as printing-density codes (floats, 0-1 for
    0-1023); black gives the reference black's code and white the reference white's."""
    from rehue.color.lab import _srgb_to_linear

    def light(code):
        return np.power(np.float32(10.0), (code - np.float32(white)) * np.float32(DENSITY_PER_CODE / FILM_GAMMA))

    floor = light(np.float32(black))
    linear = _srgb_to_linear(np.clip(tones.astype(np.float32), 0.0, 1.0))
    codes = np.float32(white) + np.log10(linear * (np.float32(1.0) - floor) + floor) * np.float32(
        FILM_GAMMA / DENSITY_PER_CODE)
    return (codes / np.float32(1023.0)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _code_table(transfer: int, black: float, white: float, bits: int) -> np.ndarray:
    """Each 16-bit display tone's code in a frame of ``transfer`` with samples of ``bits``: the inverse of
    what reading does (``_display_table``), so that a frame read and written again keeps its tones."""
    from rehue.color.lab import _srgb_to_linear

    tones = np.arange(65536, dtype=np.float32) / np.float32(65535.0)
    if transfer in LOG_TRANSFERS:
        values = display_to_log(tones, black, white)
    elif transfer == LINEAR:
        values = _srgb_to_linear(tones)
    else:
        values = tones
    table = np.round(np.clip(values, 0.0, 1.0) * np.float32(2 ** bits - 1)).astype(np.uint16)
    table.flags.writeable = False
    return table


def dpx_file_bytes(rgb: np.ndarray, alpha: np.ndarray | None = None, *, like: bytes | None = None,
                   creator: str | None = None, name: str = "") -> list[bytes]:
    """A DPX file (in pieces: header, then pixels) of display-tone RGB (uint8 or uint16) and its alpha.

    ``like`` is the header of the DPX frame the picture came from: the file then has its byte order, bits
    (``written_bits``), transfer (a log frame is written in log again, with its reference codes, so a
    grader's look still applies), and the rest of its header (``STRING_FIELDS``, the headers after the
    image header, and its user-defined block). Without one: big-endian, display tones, "unspecified video"
    transfer. The picture is upright (orientation 0) in one image element, 10-bit samples packed three to a
    32-bit word (method A).
    """
    import time

    from rehue.data.images import to_uint16

    source = Header(like) if like is not None else None  # ValueError for bytes that are not a DPX header
    order = ">" if like is None or like[:4] == MAGIC_NUMBERS[0] else "<"
    bits = written_bits(source, rgb.dtype == np.uint16)
    transfer = source.transfer if source is not None else UNSPECIFIED_VIDEO
    black, white = LOG_BLACK, LOG_WHITE
    if transfer in LOG_TRANSFERS:
        black, white, _ = source.black_and_white()
    height, width = rgb.shape[:2]
    table = _code_table(transfer, black, white, bits)
    samples = table[to_uint16(rgb)]
    if alpha is not None:
        levels = np.round(to_uint16(alpha).astype(np.float32) * np.float32((2 ** bits - 1) / 65535.0))
        samples = np.dstack([samples, levels.astype(np.uint16)])
    pixels = _packed(samples, bits, order)

    header = bytearray(b"\xff" * HEADER_BYTES)
    for offset, size in STRING_FIELDS:
        header[offset:offset + size] = bytes(size)
    if like is not None:  # an FFmpeg frame's header ends at the orientation header: the industry ones stay unset
        header[:len(source.raw)] = source.raw
        header[IMAGE_ELEMENT:ELEMENTS_END] = b"\xff" * (ELEMENTS_END - IMAGE_ELEMENT)
        for offset in (20, 32, 660):
            header[offset:offset + 4] = b"\xff" * 4

    def put(fmt: str, offset: int, *values) -> None:
        struct.pack_into(order + fmt, header, offset, *values)

    def text(offset: int, size: int, value: str) -> None:  # a string that fills its field has no NUL
        header[offset:offset + size] = value.encode("ascii", "replace")[:size].ljust(size, b"\0")

    user_data = source.user_data if source is not None else b""
    user_data += bytes(-len(user_data) % 4)  # the pixels start on a 32-bit word
    header[:4] = MAGIC_NUMBERS[0] if order == ">" else MAGIC_NUMBERS[1]
    put("I", 4, HEADER_BYTES + len(user_data))
    text(8, 8, "V2.0")
    put("IIIII", 16, HEADER_BYTES + len(user_data) + len(pixels), 1, 1664, 384,
        len(source.user_data) if user_data else 0)
    text(36, 100, name)
    text(136, 24, time.strftime("%Y:%m:%d:%H:%M:%S%z"))
    text(160, 100, _fitted(creator or "", 100))
    put("HHII", 768, 0, 1, width, height)
    if source is not None and (source.orientation != 0 or (source.width, source.height) != (width, height)):
        # turned upright or made wider (--side-by-side): the scan's offsets, centre, size and border no longer
        # describe this picture
        header[ORIENTATION_GEOMETRY:ORIENTATION_GEOMETRY + 24] = b"\xff" * 24
        header[BORDER:BORDER + 8] = b"\xff" * 8
    put("I", 780, 0)
    if transfer in LOG_TRANSFERS:  # the codes the conversion took; their quantities (densities) as they were
        scale = (2 ** bits - 1) / 1023.0
        put("I", 784, round(black * scale))
        put("I", 792, round(white * scale))
        header[788:792], header[796:800] = like[788:792], like[796:800]
    else:
        put("I", 784, 0)
        put("I", 792, 2 ** bits - 1)
    header[800], header[801], header[803] = RGB if alpha is None else RGBA, transfer, bits
    header[802] = like[802] if like is not None else UNSPECIFIED_VIDEO
    put("HHIII", 804, 1 if bits in (10, 12) else 0, 0, HEADER_BYTES + len(user_data), 0, 0)
    if like is not None:  # the element's own words ("R G B log"): the frame is written as that element was
        header[820:852] = like[820:852]
    else:
        text(820, 32, "")
    return [bytes(header) + user_data, pixels]


def _fitted(provenance: str, size: int) -> str:
    """rehue's provenance ("rehue 0.1.0, colorized with runs/a/model (sha256 40777a562822); within scenes
    ...") in the ``size`` characters of a DPX field: a model of one's own by its digest alone where its
    name and digest do not both fit, so that no digest is cut short (probe 33)."""
    named = list(re.finditer(r"(colorized with|within scenes) [^;]*? \(sha256 ([0-9a-f]+)\)", provenance))
    for model in reversed(named):  # the dependent model's name goes first, then the independent one's
        if len(provenance) <= size:
            break
        provenance = provenance[:model.start()] + f"{model[1]} sha256 {model[2]}" + provenance[model.end():]
    return provenance


def _packed(samples: np.ndarray, bits: int, order: str) -> bytes:
    """(H, W, C) codes as DPX stores them: 16-bit samples as they are; 12-bit ones each in a 16-bit word, in
    its top bits (method A); 10-bit ones three to a 32-bit word (the first in the top bits, two bits of
    padding at the bottom), each line from a new word."""
    height = samples.shape[0]
    if bits == 16:
        return samples.astype(order + "u2").tobytes()
    if bits == 12:
        return (samples.astype(np.uint16) << 4).astype(order + "u2").tobytes()
    lines = samples.reshape(height, -1).astype(np.uint32)
    spare = -lines.shape[1] % 3
    if spare:
        lines = np.pad(lines, ((0, 0), (0, spare)))
    triples = lines.reshape(height, -1, 3)
    words = (triples[..., 0] << 22) | (triples[..., 1] << 12) | (triples[..., 2] << 2)
    return words.astype(order + "u4").tobytes()
