"""Reading and writing image files, robust to what archives hold: 16-bit scans, palettes, CMYK,
alpha, EXIF rotation, truncated files and decompression bombs.

A scan with more than 8 bits per sample keeps them: its gray is kept at 16 bits (``deep_gray``) and
written back as a 16-bit PNG or TIFF, so a master scan's tones are not cut to 256 levels. A file's
resolution (dpi) and its descriptive EXIF (date, camera or scanner, artist, copyright, GPS) go to the
output, which is marked as coloured by rehue in its Software tag.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import io
import logging
import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehue.color.icc import gray_levels_in_srgb, rgb_gray_in_srgb
from rehue.errors import OutputExists, RehueError, UsageError, path_exists, shown_path, warnings_as
from rehue.words import counted

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".bmp", ".dib", ".tif", ".tiff", ".gif", ".ppm",
                  ".pgm", ".pbm", ".pnm", ".jp2", ".j2k", ".j2c", ".jpc", ".jpf", ".jpx", ".avif", ".tga", ".pcx",
                  ".sgi", ".qoi", ".dpx", ".exr", ".cin"}
# pictures and films rehue does not read, named when a folder holds them rather than passed over in silence
# (camera raw, HEIC and Photoshop files need converting first; the rest are Pillow's formats that are no photos)
UNREAD_MEDIA_SUFFIXES = {".heic", ".heif", ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".orf", ".rw2",
                         ".raf", ".pef", ".srw", ".x3f", ".ico", ".icns", ".cur", ".eps", ".ps", ".svg", ".emf",
                         ".wmf", ".apng", ".psd", ".rm", ".rmvb", ".swf", ".h264", ".264", ".h265", ".265", ".hevc"}
# a camera's raw files: most open as a TIFF whose first picture is a small preview, not the photo
CAMERA_RAW_SUFFIXES = {".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw",
                       ".x3f"}
OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
                  ".dpx": "DPX", ".exr": "EXR"}
HEIC_REASON = "holds a HEIC/HEIF picture (a phone's), which rehue does not read; convert it to JPEG, PNG or TIFF first"
MAX_SIDE = {"WEBP": 16383, "JPEG": 65500}  # the largest width or height these formats can store (JPEG: libjpeg's
# JPEG_MAX_DIMENSION, under the format's own 65535: probe 216)
# Above this many pixels an image is refused: a 50,000 x 50,000 PNG header would need 7.5 GB to decode.
MAX_PIXELS = 120_000_000
DEEP_FORMATS = {"PNG", "TIFF", "DPX", "EXR"}  # the output formats that hold 16 bits per sample (EXR: half floats)
# EXIF kept from the input: IFD0's descriptive tags (the layout tags of a TIFF, such as strip offsets and
# bits per sample, describe the input's pixels and not the output's), the Exif and GPS sub-IFDs
IMAGE_DESCRIPTION = 0x010E
EXIF_KEPT = {IMAGE_DESCRIPTION: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0132: "DateTime",
             0x013B: "Artist", 0x8298: "Copyright"}
EXIF_IFD, GPS_IFD, SOFTWARE = 0x8769, 0x8825, 0x0131
# dropped from the Exif sub-IFD: the maker's private blob, the pointer to an interoperability IFD, and the
# picture's width and height, which a turned picture or a side-by-side output has not (probe 143)
EXIF_DROPPED = {0x927C, 0xA005, 0xA002, 0xA003}
EXIF_COLOR_SPACE, SRGB_COLOR_SPACE = 0xA001, 1  # an output's numbers are sRGB's: "uncalibrated" (Adobe RGB's) is not


@dataclass
class LoadedImage:
    """An image as rehue needs it: 8-bit RGB (gray images repeat one channel), optional alpha, and
    what the output should keep of the file."""

    rgb: np.ndarray  # (H, W, 3) uint8
    alpha: np.ndarray | None  # (H, W) uint8, uint16 from a file with 16-bit samples, or None
    is_gray: bool
    path: str | None = None
    deep_gray: np.ndarray | None = None  # (H, W) uint16 gray, for files with more than 8 bits per sample
    dpi: tuple[float, float] | None = None
    exif: object | None = None  # PIL.Image.Exif with the tags worth keeping (``EXIF_KEPT``), or None
    frames: int = 1  # pages of a multi-page TIFF, frames of an animation (0: past the first, damaged): the first read
    xmp: bytes | None = None  # the XMP packet (captions, credits, keywords), kept in the output
    text: dict[str, str] | None = None  # a PNG's text chunks (Title, Author, Description, ...), a JPEG's comment
    software: str | None = None  # the EXIF Software tag: which program made the file (rehue, for its outputs)
    dpx_header: bytes | None = None  # a DPX frame's header, carried into a DPX output (``rehue.data.dpx``)
    exr_header: bytes | None = None  # an OpenEXR frame's header, carried into an OpenEXR output (``rehue.data.exr``)

    @property
    def coloured_by_rehue(self) -> bool:
        """Whether rehue coloured this picture: its colours are a model's guess, not a truth to learn from
        or to score against."""
        return coloured_by_rehue(self.software)


def coloured_by_rehue(provenance: str | None) -> bool:
    """Whether a picture's Software tag or a film's comment says rehue coloured it (``Colorizer.provenance``:
    "rehue 0.1.0, colorized with ..."; a film's own comment may come before it), or drew it: a report's
    sample grid or plot (``rehue.evaluation.report.REPORT_SOFTWARE``), whose colours are no truth either."""
    return bool(provenance) and re.search(r"(^|; )rehue [^,;]*, (colorized with |a report's picture)",
                                          str(provenance)) is not None


# sound alone: named as an input, it is told so, not "not an image file"; in a folder (a film's soundtrack beside
# it) it is passed over, as other files are
AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aif", ".aiff",
                            ".ac3", ".mka", ".alac"})
# not .mod (JVC camcorders'): Go modules and music trackers use it too
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".flv",
                            ".ogv", ".3gp", ".mts", ".m2ts", ".mxf", ".dv", ".vob", ".y4m", ".m2v", ".tod",
                            ".asf", ".f4v", ".nut", ".divx", ".ogm", ".mjpeg", ".mjpg"})


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video_path(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


# ISO base media files (MP4, QuickTime, 3GP; AVIF and HEIC too) name their brand in their first box
STILL_BRANDS = {b"avif": "image", b"avis": "image", b"jp2 ": "image", b"jpx ": "image", b"heic": "unread",
                b"heix": "unread", b"heim": "unread", b"heis": "unread", b"hevc": "unread", b"hevx": "unread",
                b"mif1": "unread", b"msf1": "unread", b"M4A ": None, b"M4B ": None, b"M4P ": None}
QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}  # old .mov files open with these
HEAD_BYTES = 400  # enough for three MPEG transport stream packets


PICTURE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF", b"GIF89a": "GIF",
                      b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"II+\x00": "TIFF", b"MM\x00+": "TIFF"}
"""The first bytes of the pictures Pillow reads whose format a damaged file is said to begin as (``_begins_as``)."""


def sniffed_kind(head: bytes) -> str | None:
    """What a file's first bytes say it is: ``image``, ``video``, ``unread`` (a picture rehue does not read,
    such as HEIC) or None where they say nothing known (TGA, DV and some others carry no signature)."""
    if head.startswith((*PICTURE_SIGNATURES, b"qoif", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51",
                        b"SDPX", b"XPDS", b"v/1\x01", b"\x80\x2a\x5f\xd7", b"\xd7\x5f\x2a\x80")):
        return "image"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"AVI "):
        return "image" if head[8:12] == b"WEBP" else "video"
    if head.startswith(b"BM") and len(head) > 18 and int.from_bytes(head[14:18], "little") in (12, 40, 52, 56, 64, 108,
                                                                                                124):
        return "image"
    if re.match(rb"P[1-7][ \t\r\n]+[#0-9]", head):
        return "image"
    if head[4:8] == b"ftyp":
        return STILL_BRANDS.get(head[8:12], "video")
    if head[4:8] in QUICKTIME_ATOMS:
        return "video"
    if head.startswith((b"\x1a\x45\xdf\xa3", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"FLV\x01", b"YUV4MPEG2",
                        b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", b"\x06\x0e\x2b\x34\x02\x05\x01\x01",
                        b"nut/multimedia container")):
        return "video"
    if len(head) >= 377 and head[0] == head[188] == head[376] == 0x47:  # MPEG transport stream packets
        return "video"
    if len(head) >= 389 and head[4] == head[196] == head[388] == 0x47:  # Blu-ray's, with 4 bytes of timecode each
        return "video"
    return None


def head_kind(path: Path) -> str | None:
    """`sniffed_kind` of a file's first bytes; None for a folder, a missing file, a pipe (opening one waits
    for a writer) or a file that cannot be read (its own error comes when it is read)."""
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as file:
            return sniffed_kind(file.read(HEAD_BYTES))
    except OSError:
        return None


def media_kind(path) -> str | None:
    """``image``, ``video``, ``unread`` (a picture or film rehue does not read) or None: from the file's
    first bytes where they say, else from its extension. A film saved as ``clip.jpg`` is a video, and a
    photo without an extension (as some scanners and downloads name them) an image; a file with another
    extension (``notes.txt``) is not opened."""
    path = Path(path)
    suffix = path.suffix.lower()
    by_name = ("image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES
               else "unread" if suffix in UNREAD_MEDIA_SUFFIXES else None)
    if by_name is None and suffix and not suffix[1:].isdigit():  # notes.txt, a .xmp sidecar (scan.0001 is a scan)
        return None
    sniffed = head_kind(path)
    # a motion JPEG opens as a JPEG; a camera's raw file (.nef, .cr2, .dng) as a TIFF whose first picture is a
    # small preview, not the photo; a picture named .heic whose bytes are another's (a converter's JPEG) is that
    # picture (probe 237: passed over in a folder, coloured without a word when named)
    if sniffed is None or (sniffed == "image" and (suffix in (".mjpeg", ".mjpg") or by_name == "unread" and
                                                   suffix not in (".heic", ".heif"))):
        return by_name
    return sniffed


def with_output_suffix(path: Path, suffix: str) -> Path:
    """``path`` with ``suffix`` for its output: in place of a picture's or film's extension, after any other
    (``scan.0001`` as ``scan.0001.png``, so a scanner's numbered frames keep their numbers)."""
    known = path.suffix.lower() in IMAGE_SUFFIXES or path.suffix.lower() in VIDEO_SUFFIXES
    return path.with_suffix(suffix) if known else path.with_name(path.name + suffix)


def iter_video_files(root: Path) -> list[Path]:
    """Every video file under the folder ``root``, recursively, sorted; hidden files and folders are passed
    over, as by `iter_image_files` (a Mac's ``._clip.mp4`` beside ``clip.mp4`` is not a video)."""
    return folder_media(root)[1]


def to_uint8(array: np.ndarray) -> np.ndarray:
    """8-bit version of a uint8, uint16 (0-65535) or other integer image (0-255, or 0-65535 above 255)."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return np.round(array.astype(np.float32) * np.float32(255.0 / 65535.0)).astype(np.uint8)
    if array.max(initial=0) > 255:  # a wider integer type holding 16-bit levels; beyond them is white, not a wrap
        return to_uint8(np.clip(array, 0, 65535).astype(np.uint16))
    return np.clip(array, 0, 255).astype(np.uint8)


def to_uint16(array: np.ndarray) -> np.ndarray:
    """16-bit version of a uint8 or uint16 image: 8-bit levels spread over 0-65535 (255 -> 65535)."""
    if array.dtype == np.uint16:
        return array
    return array.astype(np.uint16) * np.uint16(257)


FLOAT_OVERSHOOT = 0.1  # of the range, past either end: a resampler's ringing, clipped


def image_levels(array: np.ndarray) -> np.ndarray:
    """An array's levels as ``colorize`` reads them, and a PIL image's of 32-bit integers or floats: uint8
    and uint16 as they are, other integers as 8-bit levels or, above 255, 16-bit ones; floats as 0-1, or
    0-255 from 2 up, a resampler's or a sharpener's overshoot (a tenth of the range either side) clipped.
    Anything else (out of range, NaN, a float picture reaching between 1.1 and 2) is a RehueError."""
    if not array.dtype.isnative:  # big-endian samples (a FITS file's, Pillow's I;16B): the same levels (probe 88)
        array = array.astype(array.dtype.newbyteorder("="))
    if array.dtype.kind == "b":
        return array.astype(np.uint8) * np.uint8(255)
    if array.dtype.kind in "iu" and array.dtype not in (np.uint8, np.uint16):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 65535:
            raise RehueError(f"integer levels must lie in 0-65535; this image holds {low} to {high}")
        return array.astype(np.uint16 if high > 255 else np.uint8)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise RehueError("the image holds NaN or infinite values")
        high, low = float(array.max()), float(array.min())
        top = 1.0 if high < 2 else 255.0
        slack = FLOAT_OVERSHOOT * top * (1 + 1e-6)  # float32's 1.1 is 1.10000002 (probe 106)
        # probe 104: a 0-1 picture a resize took to 1.0000001 was read as 0-255, nearly black
        if low < -slack:
            raise RehueError(f"float levels must lie in 0-1 or 0-255; this image holds {low:g}")
        if high > top + slack:
            hint = " (divide 16-bit levels by 65535)" if top > 1 else \
                ": too far past 1 for 0-1 levels, too dark for 0-255 ones (clip 0-1 levels to 1)"
            raise RehueError(f"float levels must lie in 0-1 or 0-255; this image reaches {high:g}{hint}")
        levels = array.astype(np.float32)  # a copy: the caller's array is left as it was
        levels /= np.float32(top)
        return np.clip(levels, 0, 1, out=levels)
    if array.dtype not in (np.uint8, np.uint16):
        raise RehueError(f"an image of {array.dtype} values cannot be read as levels")
    return array


def pil_to_loaded(image, path: str | None = None, *, deep_floats: bool = False,
                  colour_key: bool = True) -> LoadedImage:
    """Convert any PIL image (already EXIF-transposed) to a :class:`LoadedImage`; with ``deep_floats``, a
    float picture's gray at 16 bits (a file's: a float TIFF scan holds more than 8 bits, as a 16-bit one does;
    probe 51 saw one written at 8 bits). With ``colour_key``, a file's colour key is its alpha; a picture a
    program made opaque (``.convert("RGB")`` of a palette image) keeps the key in its info (probe 90)."""

    alpha = None
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    key = image.info.get("transparency")
    if colour_key and key is not None and mode in ("1", "L", "RGB", *DEEP_GRAY_MODES):
        # a colour key (a PNG's tRNS, as optimisers write gray and RGB pictures with a transparent area):
        # the pixels of that one level are transparent (probe 88); Pillow's convert misses 16-bit keys
        samples = np.asarray(image)
        samples = samples.astype(np.uint8) if samples.dtype == bool else samples
        keys = key if isinstance(key, tuple) else (key,)
        # a 16-bit RGB PNG's key is in 16-bit levels, which Pillow's 8-bit samples cannot hold: _add_deep_rgb's
        if all(isinstance(k, int) and 0 <= k <= np.iinfo(samples.dtype).max for k in keys) and \
                len(keys) == (samples.shape[2] if samples.ndim == 3 else 1):
            alpha = np.where((samples == np.asarray(keys, samples.dtype)).all(axis=-1) if samples.ndim == 3 else
                             samples == keys[0], 0, 255).astype(np.uint8)
    if mode in ("La", "RGBa"):  # alpha premultiplied into the tones: divided out again
        image = image.convert(mode.upper())
        mode = image.mode
    if mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.uint8)
        image = image.convert("RGB" if mode != "LA" else "L")
        mode = image.mode
    if mode in (*DEEP_GRAY_MODES, "F"):
        try:
            gray = image_levels(np.asarray(image))  # out of range, NaN: an error, as for a numpy array
        except RehueError as exc:
            raise RehueError(exc.reason, path) from None
        deep = gray if gray.dtype == np.uint16 else None
        if gray.dtype.kind == "f" and deep_floats:
            deep = np.round(gray * np.float32(65535.0)).astype(np.uint16)
        if gray.dtype.kind == "f":
            gray = np.round(gray * np.float32(255.0)).astype(np.uint8)
        rgb = np.repeat(to_uint8(gray)[..., None], 3, axis=2)
        return LoadedImage(rgb, alpha, True, path, deep_gray=deep)
    if mode in ("L", "1"):
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        return LoadedImage(np.repeat(gray[..., None], 3, axis=2), alpha, True, path)
    if mode != "RGB":
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    rgb = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    return LoadedImage(rgb, alpha, is_neutral(rgb), path)


_PILLOW_FLAG_LOCK = threading.Lock()
_pillow_readers = 0
_host_loads_truncated = False


@contextlib.contextmanager
def truncated_images_refused():
    """Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` off while rehue reads a picture, whatever the program set.

    ML code often sets it, to train on damaged downloads; rehue, reading a scan to colour it, reports a
    truncated file rather than colour the gray Pillow fills its missing part with (probe 88). The flag is
    one for the whole process: the program's value is put back when the last of rehue's readers is done."""
    from PIL import ImageFile

    global _pillow_readers, _host_loads_truncated
    with _PILLOW_FLAG_LOCK:
        if _pillow_readers == 0:
            _host_loads_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        _pillow_readers += 1
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        with _PILLOW_FLAG_LOCK:
            _pillow_readers -= 1
            if _pillow_readers == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = _host_loads_truncated


def _tell(source) -> int:
    try:
        return source.tell()
    except (OSError, ValueError):
        return 0


def check_pixel_count(width: int, height: int, path=None) -> None:
    """A picture past ``MAX_PIXELS`` refused, a file's as an array's or a PIL image's (probe 190: a 70,000-pixel
    square array had the process killed for memory, a server with it)."""
    if width * height > MAX_PIXELS:
        raise RehueError(f"image too large ({width}x{height} pixels; limit {MAX_PIXELS:,})", path)


def load_image(source) -> LoadedImage:
    """Read an image file, by its path, or from its bytes (``bytes`` or a binary file object, as a web
    upload arrives); every failure is a :class:`RehueError` naming the file and the reason."""

    if isinstance(source, (bytes, bytearray, memoryview)) or hasattr(source, "read"):
        try:
            data = source.read() if hasattr(source, "read") else source
        except UnicodeDecodeError:  # probe 133: a text file's read, said as a closed one's
            raise RehueError("a file opened as text holds no image bytes: open it with \"rb\"") from None
        except io.UnsupportedOperation:  # opened "wb" (probe 191: said to be closed)
            raise RehueError("the file object is open for writing, not reading: open it with \"rb\"") from None
        except ValueError as exc:  # a closed file (probe 62: Python's own ValueError)
            raise RehueError(f"cannot read the file object ({exc}): colour it before closing it") from None
        except OSError as exc:  # a broken upload stream, a socket gone (probe 190: Python's own OSError)
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise RehueError(f"cannot read the file object ({reason})") from None
        if data is None:  # a non-blocking stream with nothing yet (probe 190: "cannot convert 'NoneType' ...")
            raise RehueError("the file object's read() gave nothing yet (a non-blocking stream): read it whole "
                             "first, and pass its bytes")
        if inspect.isawaitable(data):  # an async web framework's upload (probe 88)
            getattr(data, "close", lambda: None)()
            raise RehueError("the file object's read() is asynchronous (an async web framework's upload): pass "
                             "`await upload.read()`, or `upload.file`")
        if isinstance(data, str):
            raise RehueError("a file opened as text holds no image bytes: open it with \"rb\"")
        try:
            data = bytes(data)
        except TypeError:  # probe 191: "cannot convert 'object' object to bytes"
            raise RehueError(f"the file object's read() gave {type(data).__name__}, not bytes") from None
        if not data:
            at_end = hasattr(source, "tell") and not isinstance(source, (bytes, bytearray, memoryview))
            raise RehueError("empty image data" + (" (the file object was read to its end: seek(0) first)"
                                                   if at_end and _tell(source) else ""))
        path, opened = None, io.BytesIO(data)
    else:
        if isinstance(source, str) and not source:
            raise RehueError("no image named (the path is empty)")
        if isinstance(source, str) and re.match(r"[a-z][a-z0-9+.-]*://", source, re.IGNORECASE):
            raise RehueError("is a URL: rehue reads files on this machine and downloads nothing; save it first",
                             source)
        path = Path(source)
        check_input_file(path, "an image")
        opened = data = path
    with truncated_images_refused():
        return _load_opened(opened, data, path)


def _named_a_file(data: Path | bytes) -> str:
    """A hint where a picture's bytes are a file's name (``colorize(b"scan.png")``, probe 104)."""
    if isinstance(data, Path) or len(data) > 4096 or b"\0" in data:
        return ""
    try:
        named = os.path.isfile(data)
    except (OSError, ValueError):
        return ""
    return "; these bytes are a file's name, not its contents: pass the name as a str or a Path" if named else ""


def _load_opened(opened, data: Path | bytes, path: Path | None) -> LoadedImage:
    """``load_image`` of a file, or of its bytes in ``opened``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        # Pillow warns of a "decompression bomb" from 89.5 megapixels as it opens a file, and refuses one
        # twice that; rehue's own limit (``MAX_PIXELS``, checked below) is the one a scan meets
        with warnings_as("ignore", Image.DecompressionBombWarning), warnings_as("ignore", UserWarning):
            image = Image.open(opened)  # probe 161: "Corrupt EXIF data" of a TIFF cut short, as Python's warning
        with image:
            width, height = image.size
            check_pixel_count(width, height, path)
            deep_rgb = image.format in DEEP_FORMATS and image.mode in ("RGB", "RGBA") and \
                ";16" in _raw_mode(image)
            orientation = _read_exif(image).get(0x0112, 1)
            opened_image = image
            # before Pillow decodes a TIFF (a layout it misreads may not decode at all); its tags are read
            loaded = _tiff_pillow_misreads(image, data, orientation)
            if loaded is None:
                image.load()  # a PNG's text and EXIF may follow its pixels
            exif = _kept_exif(image)  # a turned copy of a TIFF would have lost its tags
            # the EXIF tag, else a PNG's text: rehue's report pictures say so there, as matplotlib writes them
            software = image.getexif().get(SOFTWARE) or image.info.get("Software")
            dpi = _upright_dpi(_stated_dpi(image), orientation)
            xmp, text = upright_xmp(_xmp(image)), _text_chunks(image)
            if loaded is None and image.format == "TIFF" and image.mode == "I" and \
                    image.tag_v2.get(TIFF_BITS) in (32, (32,)) and image.tag_v2.get(TIFF_SAMPLE_FORMAT, 1) in (1, (1,)):
                # 32-bit unsigned samples, which Pillow holds as signed: their levels are checked as they are
                # (probe 116: "this image holds -2138865533 to 2139258754" of levels 0 to 4294967295)
                try:
                    image_levels(np.asarray(image).view(np.uint32))
                except RehueError as exc:
                    raise RehueError(exc.reason, path) from None
            if loaded is None:
                icc, key = image.info.get("icc_profile"), image.info.get("transparency")
                deep_gray_of = rgb_gray_in_srgb(icc) if deep_rgb and icc and not _is_srgb(icc) else None
                image = ImageOps.exif_transpose(in_srgb(image, path, deep=deep_rgb and deep_gray_of is None))
                loaded = pil_to_loaded(image, None if path is None else str(path), deep_floats=True)
                if deep_rgb:
                    _add_deep_rgb(loaded, data, orientation, deep_gray_of, keyed=key is not None)
            frames = _page_count(opened_image)  # after the first page is read: counting them moves through the file
            loaded.dpi, loaded.exif, loaded.frames, loaded.xmp, loaded.text = dpi, exif, frames, xmp, text
            loaded.software = str(software) if software else None
            return loaded
    except RehueError:
        raise
    except UnidentifiedImageError:
        tiff = _tiff_pillow_cannot_open(data, path)
        if tiff is not None:
            return tiff
        scan = _load_scan(data, path)  # asked only of what Pillow does not know, not of every photo and frame
        if scan is not None:
            return scan
        if path is not None and (path.suffix.lower() in (".heic", ".heif") or head_kind(path) == "unread"):
            raise RehueError(HEIC_REASON, path) from None
        if media_kind(path) == "video" if path is not None else sniffed_kind(data[:HEAD_BYTES]) == "video":
            raise RehueError("is a video, not a picture: colour it with colorize_video (or rehue colorize)",
                             path) from None
        begun = _begins_as(_first_bytes(data, 12))
        if begun is not None:  # probe 161: a TIFF cut short was "not an image file"; probe 163: a PNG
            raise RehueError(f"truncated or corrupt {begun} (it begins as one, and its first page cannot be read)"
                             if begun == "TIFF" else f"truncated or corrupt {begun} (it begins as one, and its "
                             "header cannot be read)", path) from None
        raise RehueError("not an image file (or a format Pillow cannot read)" + _named_a_file(data), path) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        size = re.search(r"\((\d+) pixels\)", str(exc))  # Pillow's message gives the picture's size
        pillows = 2 * Image.MAX_IMAGE_PIXELS  # Pillow refuses twice its limit; a program may lower it (probe 88)
        held = f"{int(size[1]):,}" if size else f"over {pillows:,}"
        limit = f"{MAX_PIXELS:,}" if pillows >= MAX_PIXELS else \
            f"{pillows:,}, twice Pillow's Image.MAX_IMAGE_PIXELS as this program set it"
        raise RehueError(f"image too large ({held} pixels; limit {limit})", path) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason.lower() or "broken data stream" in reason or isinstance(exc, EOFError):
            reason = f"truncated or corrupt image ({reason})"
        elif "MAX_TEXT_CHUNK" in reason or "MAX_TEXT_MEMORY" in reason:
            reason = "holds a block of text or a colour profile larger than any a photo needs (Pillow reads up to " \
                     "a few MB of them); save the picture again without it"
        else:  # Pillow's own words ("could not create decoder object"), said of what (probe 88)
            reason = f"damaged or unreadable image ({reason})"
        raise RehueError(reason, path) from None


def _scan_format(data: bytes):
    """The module that reads a film frame format Pillow does not (``rehue.data.dpx``, ``rehue.data.exr``,
    ``rehue.data.cineon``) whose first bytes ``data`` begins with, or None."""
    from rehue.data import cineon, dpx, exr

    return next((module for module in (dpx, exr, cineon) if data[:4] in module.MAGIC_NUMBERS), None)


def _load_scan(source: Path | bytes, path: Path | None) -> LoadedImage | None:
    """A DPX, OpenEXR or Cineon frame (a path, or the file's bytes), read header first: a file that claims too
    many pixels is not read whole. None for any other file."""
    from rehue.data import dpx

    try:
        head = source[:dpx.HEADER_BYTES] if isinstance(source, bytes) else _first_bytes(source, dpx.HEADER_BYTES)
        module = _scan_format(head)
        if module is None:
            return None
        if len(head) == dpx.HEADER_BYTES < module.HEADER_BYTES:  # an OpenEXR header may run longer
            head = source[:module.HEADER_BYTES] if isinstance(source, bytes) else \
                _first_bytes(source, module.HEADER_BYTES)
        header = module.Header(head)
        check_pixel_count(header.width, header.height, path)
        return module.read(source if isinstance(source, bytes) else source.read_bytes(),
                           None if path is None else str(path))
    except OSError as exc:
        raise RehueError(f"cannot read image ({exc.strerror or exc})", path) from None
    except ValueError as exc:
        raise RehueError(str(exc), path) from None
    except struct.error:  # a field a reader has not bounded yet: one line, not a traceback (probe 215)
        raise RehueError("corrupt DPX, OpenEXR or Cineon file (a field of its header lies beyond its range, or "
                         "beyond the file's end)", path) from None


def _first_bytes(path: Path, size: int) -> bytes:
    with open(path, "rb") as file:
        return file.read(size)


DEEP_GRAY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # Pillow's modes of a 16-bit gray picture (I;16N:
# native byte order, which a picture made in memory can have; probe 133: clipped to 255 as RGB, all but white)


SRGB_TOLERANCE = 3  # levels (of 255) an sRGB profile's own transform to sRGB may move a colour: vendors' sRGB
# profiles (v2, v4, their curves as tables or formulas) round differently


def _is_srgb(icc: bytes | bytearray) -> bool:
    return _is_srgb_profile(bytes(icc))  # a caller's picture may hold a bytearray, which the cache cannot key on


@functools.lru_cache(maxsize=16)
def _is_srgb_profile(icc: bytes) -> bool:
    """Whether a profile's numbers are sRGB's, so that they are used as they are: its transform to sRGB moves
    no colour of a grid by more than ``SRGB_TOLERANCE``. By what it does, not by its name (probe 143: "GIMP
    built-in Linear sRGB" and Krita's "sRGB-elle-V2-g10" are linear, and were read as sRGB: much too dark)."""
    from PIL import Image, ImageCms

    if icc[16:20] != b"RGB ":
        return False
    levels = np.array([0, 32, 64, 128, 192, 255], np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(1, -1, 3)
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        moved = ImageCms.profileToProfile(Image.fromarray(grid), profile, ImageCms.createProfile("sRGB"),
                                          outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    return int(np.abs(np.asarray(moved, np.int16) - grid).max()) <= SRGB_TOLERANCE


def in_srgb(image, path: Path | None, *, deep: bool = False):
    """``image`` with the tones its ICC profile gives it, as a colour-managed viewer shows it, in sRGB
    (the space rehue's Lab conversion and every untagged output assume). A scan tagged "Gray Gamma 2.2",
    "Dot Gain 20%" or linear gray, an Adobe RGB photo or a CMYK print file would otherwise be read as if
    its numbers were sRGB's, and come out lighter or darker. sRGB-tagged files are left as they are; a
    16-bit gray file's gray profile is applied in floating point (``rehue.color.icc``); other 16-bit
    files keep their numbers, with a warning (Pillow's colour management is 8-bit)."""
    from PIL import Image, ImageCms

    icc = image.info.get("icc_profile")
    if not icc or image.mode == "LAB":  # Pillow tags its LAB images with a Lab profile; they convert to sRGB
        return image
    alpha = None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if _is_srgb(icc):
            return image
        if image.mode in (*DEEP_GRAY_MODES, "F") and (levels := gray_levels_in_srgb(icc)) is not None:
            try:  # the levels as the picture is read: 32-bit integers of 8-bit levels (probe 216: read as 16-bit
                # ones, black), floats at 16 bits (probe 215: "not applied to F samples", L* up to 3.3 off)
                samples = image_levels(np.asarray(image))
            except RehueError:  # out of range, NaN: said as the picture is read
                return image
            if samples.dtype.kind == "f":
                samples = np.round(samples * np.float32(65535)).astype(np.uint16)
            converted = Image.fromarray(levels[to_uint16(samples)])
        elif image.mode in ("L", "LA", *DEEP_GRAY_MODES) and icc[16:20] != b"GRAY":  # LittleCMS: "cannot
            # build transform"; 16 bits: "not applied to 16-bit samples", as if it were (probe 116)
            raise ImageCms.PyCMSError(f"a profile for {icc[16:20].decode('latin-1').strip() or 'colour'} pictures, on "
                                      "gray samples")
        elif deep or image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK", "P", "PA"):
            _warn_profile_not_applied(path, ImageCms.getProfileDescription(profile).strip(),
                                      "16-bit" if deep or image.mode in DEEP_GRAY_MODES else
                                      {"F": "floating-point", "I": "32-bit"}.get(image.mode, image.mode))
            return image
        else:
            picture = image
            if image.mode in ("P", "PA"):  # its palette's colours (probe 143: "not applied to P samples")
                picture = image.convert("RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB")
            alpha = picture.getchannel("A") if picture.mode in ("LA", "RGBA") else None
            picture = picture.convert(picture.mode[:-1]) if alpha is not None else picture
            if picture.mode == "RGB" and icc[16:20] == b"GRAY":  # a gray scan in a format of no gray (WebP),
                # its gray profile kept (probe 143: "cannot build transform", its numbers read as sRGB's)
                if has_colour(np.asarray(picture)):  # a lossy WebP's gray is a level or so apart (probe 145)
                    raise ImageCms.PyCMSError("a profile for gray pictures, on colour samples")
                picture = picture.convert("L")
            converted = ImageCms.profileToProfile(picture, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if picture.mode == "L":
                converted = converted.getchannel("G")  # gray stays gray: the transform keeps R = G = B
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        logger.warning("%s: its colour profile cannot be applied (%s); its numbers are read as sRGB's",
                       path or "the image", exc)
        return image
    if alpha is not None:
        converted.putalpha(alpha)
    converted.info = {key: value for key, value in image.info.items() if key != "icc_profile"}
    if hasattr(image, "getexif"):
        converted.getexif().update(image.getexif())
        if 0x0112 not in image.getexif():  # as `_read_exif` read it, not Pillow's own reading of the XMP, which
            converted.getexif().pop(0x0112, None)  # the copy would do again (probe 222: turned by a comment)
    return converted


XMP_PNG_KEY = "XML:com.adobe.xmp"
JPEG_XMP_BYTES = 65502  # one APP1 segment, less its "http://ns.adobe.com/xap/1.0/" header (no extended XMP)
JPEG_EXIF_BYTES = 65533  # one APP1 segment, less its length: "Exif" and the TIFF block within
# XMP's schemas whose properties rehue rewrites: their usual prefix, the properties rewritten to sRGB's (1) or
# upright (1), and those left out, as they describe the input's profile, colour mode, size or samples
XMP_SCHEMAS = {b"http://ns.adobe.com/tiff/1.0/": (b"tiff", (b"Orientation",), (
                   b"ImageWidth", b"ImageLength", b"BitsPerSample", b"PhotometricInterpretation", b"SamplesPerPixel")),
               b"http://ns.adobe.com/exif/1.0/": (b"exif", (b"ColorSpace",), (b"PixelXDimension", b"PixelYDimension")),
               b"http://ns.adobe.com/photoshop/1.0/": (b"photoshop", (), (b"ICCProfile", b"ColorMode"))}
XMP_ORIENTATION = re.compile(rb"""(tiff:Orientation(?:\s*=\s*["']|>))[0-9]""")  # a packet that is not XML's
XMP_ROLES = {(uri, name): role for uri, (_, set_to_one, dropped) in XMP_SCHEMAS.items()
             for names, role in ((set_to_one, "one"), (dropped, "drop")) for name in names}
XMP_TAG_END = re.compile(rb"""(?:[^"'>]|"[^"]*"|'[^']*')*>""")  # a tag's text to its ">", quoted values skipped
XMP_ATTRIBUTE = re.compile(rb"""(\s+)([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")


class _XmpWalk:
    """One pass of Expat over a packet (namespace-aware: a property is known by its schema, under any prefix,
    and comments, CDATA and processing instructions are text): the edits that make it the output's (byte
    ranges and what replaces them) and the orientation it states. rehue's own pattern matching before missed
    prefixes, took comments for properties and scanned packets in time of their square (probes 216, 218, 220)."""

    def __init__(self, packet: bytes, namespaces: bool = True):
        import xml.parsers.expat

        self.packet, self.edits, self.orientation = packet, [], None
        # without namespaces (a packet whose prefixes are not declared): the schemas' usual prefixes
        self._scope: dict[str, list[str]] = {} if namespaces else {
            usual.decode(): [uri.decode()] for uri, (usual, *_) in XMP_SCHEMAS.items()}
        self._namespaces = namespaces
        self._open: list[tuple[str | None, int, int]] = []  # each open element's role, start and its start tag's end
        self._dropping = 0  # depth inside a property left out: its insides are not edited
        # read as Latin-1, a byte a character: offsets are bytes, and a byte that is not UTF-8 (a scanner's
        # Latin-1 caption) is no error; the names rehue edits are ASCII (probe 222: such a packet lost the rewrite)
        parser = xml.parsers.expat.ParserCreate("ISO-8859-1", namespace_separator=" " if namespaces else None)
        parser.StartNamespaceDeclHandler = lambda prefix, uri: self._scope.setdefault(prefix, []).append(uri)
        parser.EndNamespaceDeclHandler = lambda prefix: self._scope[prefix].pop()
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        self._parser = parser
        self._skipped = 3 if packet.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark, not Latin-1's text
        parser.Parse(packet[self._skipped:].rstrip(b"\0 \t\r\n"), True)  # a TIFF tag's closing NUL, padding

    @staticmethod
    def _role_of(name: str) -> str | None:
        """The role of an element or attribute Expat names "URI local"."""
        uri, _, local = name.rpartition(" ")
        return XMP_ROLES.get((uri.encode(), local.encode()))

    def _attribute_role(self, qualified: bytes) -> str | None:
        """The role of an attribute by its prefix in scope (an attribute without one is in no schema)."""
        prefix, _, local = qualified.decode("utf-8", "replace").rpartition(":")
        uris = self._scope.get(prefix) if prefix else None
        return self._role_of(f"{uris[-1]} {local}") if uris else None

    def _start(self, name, attributes) -> None:
        at = self._parser.CurrentByteIndex + self._skipped
        tag = XMP_TAG_END.match(self.packet, at)
        end = tag.end() if tag else at
        role = self._role_of(name) if self._namespaces else self._attribute_role(name.encode())
        self._open.append((role, at, end))
        if self._dropping or role == "drop":
            self._dropping += 1
            return
        for found in XMP_ATTRIBUTE.finditer(self.packet, at, end):
            qualified, value = found[2], found[3][1:-1]
            kind = None if qualified.startswith(b"xmlns") else self._attribute_role(qualified)
            if kind == "drop":
                self.edits.append((found.start(), found.end(), b""))
            elif kind == "one" and value.strip().isdigit():
                self._note(qualified.rpartition(b":")[2], value)
                self.edits.append((found.start(3) + 1, found.end(3) - 1, b"1"))

    def _end(self, name) -> None:
        role, start, tag_end = self._open.pop()
        at = self._parser.CurrentByteIndex + self._skipped
        empty = self.packet[tag_end - 2:tag_end] == b"/>"
        end = tag_end if empty else self.packet.find(b">", at) + 1
        if self._dropping:
            self._dropping -= 1
            if not self._dropping:
                self.edits.append((start, end, b""))
        elif role == "one" and not empty and self.packet.find(b"<", tag_end, at) < 0:  # plain text (probe 222: a
            # copy of each nested element's span took time of its square)
            value = self.packet[tag_end:at]
            if value.strip().isdigit():
                self._note(name.rpartition(" ")[2].rpartition(":")[2].encode(), value)
                self.edits.append((tag_end, at, b"1"))

    def _note(self, local: bytes, value: bytes) -> None:
        if local == b"Orientation" and self.orientation is None and 1 <= int(value) <= 8:
            self.orientation = int(value)


@functools.lru_cache(maxsize=4)  # a photo's packet is read for its orientation, then rewritten for the output
def _xmp_walk(packet: bytes) -> _XmpWalk | None:
    """The walk over ``packet``, or None where it is not well-formed XML (UTF-16's among them)."""
    import xml.parsers.expat

    if b"\0" in packet[:64]:
        return None
    for namespaces in (True, False):  # prefixes left undeclared: read as the schemas' usual ones
        try:
            return _XmpWalk(packet, namespaces)
        except (xml.parsers.expat.ExpatError, ValueError, IndexError, KeyError):
            continue
    return None


def upright_xmp(packet: bytes | None) -> bytes | None:
    """``packet`` as the output's: saying the picture is upright (``tiff:Orientation`` 1), as rehue turns the
    pixels by the orientation and a kept 6 would make XMP-aware readers turn them again; its colour space
    sRGB, and without the input's profile name, colour mode, size and samples, as its EXIF is (probe 215: a
    colour output said to be "Dot Gain 20%" grayscale, 64 pixels wide beside its 128). Properties are known by
    their schema (`_XmpWalk`); a packet that is not well-formed XML has its orientation set to 1 alone, as
    before."""
    if packet is None:
        return None
    walk = _xmp_walk(packet)
    if walk is None:
        return XMP_ORIENTATION.sub(rb"\g<1>1", packet)
    pieces, at = [], 0
    for start, end, replacement in sorted(walk.edits):
        pieces += [packet[at:start], replacement]
        at = end
    return b"".join([*pieces, packet[at:]])


def _xmp(image) -> bytes | None:
    """The file's XMP packet (JPEG APP1, PNG iTXt, TIFF tag 700, WebP chunk), or None."""
    packet = image.info.get("xmp") or image.info.get(XMP_PNG_KEY)
    if packet is None and image.format == "TIFF":
        packet = image.tag_v2.get(700)
    if isinstance(packet, str):
        packet = packet.encode()
    return bytes(packet) if isinstance(packet, (bytes, bytearray)) and packet.strip() else None


COMMENT = "Comment"  # PNG's keyword for a JPEG's comment (COM segment)
JPEG_COMMENT_BYTES = 65533


def _text_chunks(image) -> dict[str, str] | None:
    """A PNG's text chunks but its XMP (kept on its own), a JPEG's comment as PNG's Comment, or None. A
    comment that is not UTF-8 is read as Latin-1, as a scanner's software of the 1990s wrote it; several are
    one, a line each (Pillow keeps the last alone: probe 100); one that is no text (binary data, which some
    cameras put there) is left out."""
    if image.format == "JPEG":
        comments = [_comment_text(value) for marker, value in getattr(image, "applist", []) if marker == "COM"]
        comment = "\n".join(text for text in comments if text)
        return {COMMENT: comment} if comment else None
    if image.format != "PNG":
        return None
    text = {key: value for key, value in getattr(image, "text", {}).items()  # rehue's Software tag replaces its
            if key != XMP_PNG_KEY and key.lower() != "software" and isinstance(value, str)}
    return text or None


def _comment_text(value: bytes) -> str:
    """A JPEG comment segment's text, or "" where it holds none: empty, blank, or binary."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = value.decode("latin-1")
    text = text.rstrip("\0")
    if not text.strip() or any(ord(char) < 32 and char not in "\t\n\r" or char == "\x7f" for char in text):
        return ""
    return text


def _raw_mode(image) -> str:
    """How the file stores its samples (Pillow's raw mode of the first tile: "RGB;16B" for 16-bit RGB)."""
    try:
        args = image.tile[0][3]
    except (IndexError, TypeError, AttributeError):
        return ""
    return str(args if isinstance(args, str) else args[0] if args else "")


X_RESOLUTION = 0x011A


def _read_exif(image):
    """``image.getexif()``, read once: Pillow keeps what it read for every later call (``exif_transpose``'s too),
    so a malformed EXIF block is read as far as it goes, with no Python warning of it ("Corrupt EXIF data") on
    standard error and no refusal of a picture whose pixels are whole (probe 162: a PNG or WebP of garbage EXIF
    was "damaged or unreadable image (not a TIFF file ...)"); metadata is a courtesy. A PNG's pixels are
    decoded first, outside: Pillow reads the EXIF chunk that may follow them so, and their errors are the
    picture's own."""
    from PIL import Image

    if image.format == "PNG":
        image.load()
    with warnings_as("record", UserWarning) as warned:
        try:
            image.getexif()
            if isinstance(block := image.info.get("exif"), bytes):  # as a copy of the picture reads it (a JPEG's
                Image.Exif().load(block)  # is read as it opens, and a fault there passed over)
            damaged = bool(warned)
        except Exception:
            damaged = True
    if damaged:
        # what was read before the fault is kept (Pillow has marked it read); the block is left out of the
        # picture's info, so no copy of the picture reads it again (probe 163: a colour profile's conversion
        # did, and refused the picture; probe 165: Pillow's warnings of it, an error to a caller who makes them so)
        for key in ("exif", "Raw profile type exif"):
            image.info.pop(key, None)
    exif = image.getexif()
    # an orientation in XMP, as Pillow takes one where the EXIF has none (probe 163: passed over beside a
    # block it could not read, and the picture left sideways), read by its schema: Pillow's pattern took one
    # in a comment or of another schema, and missed one under another prefix or in single quotes (probe 220)
    packet = _xmp(image) or b""
    walk = _xmp_walk(packet) if packet else None
    if walk is not None and not damaged and _exif_block_orientation(image) == (True, None):
        if walk.orientation is not None:
            exif[0x0112] = walk.orientation
        else:
            exif.pop(0x0112, None)
    elif 0x0112 not in exif and (stated := re.search(rb'tiff:Orientation(="|>)([1-8])', packet)):
        exif[0x0112] = int(stated[2])
    return exif


def _exif_block_orientation(image) -> tuple[bool, int | None]:
    """Whether it is known what orientation the picture's own EXIF block (a TIFF's tags) states, not Pillow's
    reading of its XMP, and that orientation (None: none)."""
    from PIL import Image

    if image.format == "TIFF":
        return True, getattr(image, "tag_v2", {}).get(TIFF_ORIENTATION)
    block = image.info.get("exif")
    raw = image.info.get("Raw profile type exif")  # ImageMagick's PNG text chunk: a header of 3 lines, then hex
    if not isinstance(block, bytes) and isinstance(raw, str):
        try:
            block = bytes.fromhex("".join(raw.split("\n")[3:]))
        except ValueError:
            return False, None
    if not isinstance(block, bytes):
        return True, None
    try:
        with warnings_as("ignore", UserWarning):
            own = Image.Exif()
            own.load(block)
            return True, own.get(0x0112)
    except Exception:  # read as the picture was: a damaged block is said there
        return False, None


def _stated_dpi(image) -> tuple[float, float] | None:
    """The resolution a picture's file states. A JPEG whose JFIF header gives none (unit 0) and whose EXIF has
    no XResolution is said by Pillow to be 72 dpi, which an output would then claim (probe 116)."""
    if image.format == "JPEG" and not image.info.get("jfif_unit") and X_RESOLUTION not in image.getexif():
        return None
    if image.format == "WEBP":  # WebP has no field for it; its EXIF's resolution (probe 161), as rehue writes it
        return _tiff_dpi(image.getexif())
    return _dpi(image.info.get("dpi"))


def _upright_dpi(dpi: tuple[float, float] | None, orientation) -> tuple[float, float] | None:
    """A picture's resolution across and down once its EXIF or TIFF orientation is applied: a quarter turn
    (orientations 5 to 8) swaps them (probe 116: a 204 x 98 dpi fax scan stored on its side kept them as they
    were, and its output's printed size was wrong)."""
    return dpi[::-1] if dpi and orientation in (5, 6, 7, 8) else dpi


def _page_count(image) -> int:
    """The pages (a multi-page TIFF) or frames (an animation) of an opened picture; 0 where a page after the
    first cannot be read: a later page cut off or its pointer past the file's end made Pillow fail with a
    TypeError ("Missing dimensions") that stopped a folder batch (probe 116)."""
    try:
        with warnings_as("ignore", UserWarning):  # "Corrupt EXIF data", of the damaged page's tags
            return getattr(image, "n_frames", 1)
    except (OSError, SyntaxError, ValueError, TypeError, EOFError, struct.error):
        return 0


def _dpi(value) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (x, y) if x > 1 and y > 1 else None  # Pillow reports 1 x 1 for files that state no resolution


def _is_shape_note(description) -> bool:
    """Whether an ImageDescription is tifffile's note of the array's shape (``{"shape": [300, 400]}``),
    which it writes by default: that describes the input's pixels, not the picture."""
    text = description.decode("latin-1") if isinstance(description, bytes) else description
    return text.lstrip().startswith('{"shape":')


def _kept_exif(image):
    """The input's EXIF tags worth keeping in the output (``EXIF_KEPT`` and the sub-IFDs), or None; of a
    Pillow image, or of its tags (``PIL.Image.Exif``) where Pillow cannot open the picture."""
    from PIL import Image

    try:
        with warnings_as("ignore", UserWarning):  # of a damaged block's sub-IFDs, read here (probe 165)
            return _kept_tags(image if isinstance(image, Image.Exif) else image.getexif())
    except Exception:  # metadata is a courtesy: a malformed EXIF block must not stop the colouring
        return None


def _kept_tags(source):
    from PIL import Image

    kept = Image.Exif()
    for tag in EXIF_KEPT:
        value = source.get(tag)
        if isinstance(value, str | bytes) and value and not (tag == IMAGE_DESCRIPTION and _is_shape_note(value)):
            kept[tag] = _text_bytes(value)
    for pointer in (EXIF_IFD, GPS_IFD):
        if pointer in source:
            ifd = {tag: value for tag, value in source.get_ifd(pointer).items() if tag not in EXIF_DROPPED}
            if pointer == EXIF_IFD and EXIF_COLOR_SPACE in ifd:
                ifd[EXIF_COLOR_SPACE] = SRGB_COLOR_SPACE
            if ifd:
                kept[pointer] = ifd
    if not len(kept):
        return None
    return _copy_exif(kept)  # fails here, not at save time, on tags that cannot be written again


def _text_bytes(value):
    """An EXIF text tag's value as the bytes the file held, where it is not ASCII: Pillow reads such a tag's
    bytes as Latin-1, and writes back what is not ASCII as "?" (probe 93: cameras, exiftool and Lightroom
    write UTF-8 there, and "Zoë Ångström" came out "Zo?? ??ngstr??m"). A program's own text beyond Latin-1
    goes as UTF-8."""
    if not isinstance(value, str) or value.isascii():
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _raw_text_tags(exif):
    """``exif`` (a ``PIL.Image.Exif``) with its first IFD's text tags as ``_text_bytes`` keeps them, ready to
    be written. Only tags Pillow knows as text: it writes bytes as text there, and as numbers where it does
    not know the tag, which is every tag of the Exif and GPS blocks (probe 94: a lens's name in Cyrillic
    became a list of numbers), whose text that is not ASCII is written as "?" still."""
    from PIL import TiffTags

    for tag, value in list(exif.items()):
        if isinstance(value, str) and not value.isascii() and TiffTags.lookup(tag).type == TiffTags.ASCII:
            exif[tag] = _text_bytes(value)
    return exif


def _oriented(array: np.ndarray, orientation: int) -> np.ndarray:
    """``array`` (H, W, ...) shown upright for an EXIF orientation (as ImageOps.exif_transpose does)."""
    turns = {3: 2, 6: -1, 8: 1, 5: 1, 7: -1}.get(orientation, 0)
    if orientation in (2, 5, 7):
        array = array[:, ::-1]
    if orientation == 4:
        array = array[::-1]
    return np.ascontiguousarray(np.rot90(array, turns))


# TIFF tags that decide how its samples are laid out
TIFF_PHOTOMETRIC, TIFF_BITS, TIFF_PLANAR, TIFF_SAMPLE_FORMAT = 262, 258, 284, 339
MIN_IS_WHITE, MIN_IS_BLACK, RGB_PHOTOMETRIC, PALETTE, SEPARATED, PLANAR_SEPARATE = 0, 1, 2, 3, 5, 2


def tiff_pillow_misreads(image) -> LoadedImage | None:
    """``_tiff_pillow_misreads`` of a PIL image a caller opened from a TIFF, its first page not yet decoded, read
    from the file Pillow holds open (a file's or bytes'); None for any other image. Not by its file's name, which
    may be relative to another folder by now, nor of another page (probe 145: page 0 coloured for page 1)."""
    fp = getattr(image, "fp", None)
    if getattr(image, "format", None) != "TIFF" or fp is None or getattr(fp, "closed", False) or image.tell() != 0:
        return None
    try:
        position = fp.tell()
        fp.seek(0)
        data = fp.read()
        fp.seek(position)
    except (OSError, ValueError, AttributeError):
        return None
    return _tiff_pillow_misreads(image, data, image.getexif().get(0x0112, 1)) if isinstance(data, bytes) else None


def _tiff_pillow_misreads(image, source: Path | bytes, orientation: int) -> LoadedImage | None:
    """The first page of a TIFF that Pillow reads wrong, read with tifffile instead; None for any other
    file. Pillow scrambles an uncompressed page turned by Orientation 5-8 (and OpenCV cannot read a turned
    16-bit one), reads the 16-bit planes of a planar ("separate") page as 8-bit noise, and leaves a 16-bit
    MinIsWhite page a negative. These layouts are common in scanners' master files."""
    if image.format != "TIFF":
        return None
    tags = image.tag_v2
    photometric = tags.get(TIFF_PHOTOMETRIC)
    bits = max(np.atleast_1d(tags.get(TIFF_BITS, 8)))
    turned = orientation in (5, 6, 7, 8)
    if (photometric in (PALETTE, SEPARATED) and turned and bits == 8
            and image.mode in ("P", "CMYK")):  # read as stored, then turned and converted by Pillow
        return _turned_by_pillow(image, source, orientation)
    if photometric not in (MIN_IS_WHITE, MIN_IS_BLACK, RGB_PHOTOMETRIC) or not (
            turned or tags.get(TIFF_PLANAR) == PLANAR_SEPARATE or (photometric == MIN_IS_WHITE and bits > 8)):
        return None
    samples = _first_page_samples(source)
    if samples is None:
        return None
    if photometric == MIN_IS_WHITE:
        samples = np.iinfo(samples.dtype).max - samples if bits in (8, 16) else (2**int(bits) - 1) - samples
    samples = _oriented(samples, orientation)
    name = str(source) if isinstance(source, Path) else None
    icc = image.info.get("icc_profile")
    if icc and not _is_srgb(icc):  # the profile applies here as to any other file
        from PIL import Image

        colour = photometric == RGB_PHOTOMETRIC and samples.shape[2] >= 3
        deep_gray_of = rgb_gray_in_srgb(icc) if samples.dtype != np.uint8 and colour else None
        if samples.dtype != np.uint8 and not colour and (levels := gray_levels_in_srgb(icc)) is not None:
            samples = samples.copy()
            samples[..., 0] = levels[samples[..., 0]]
        elif samples.dtype != np.uint8 and deep_gray_of is None:
            in_srgb(image, name, deep=True)  # not applied to these 16-bit samples: it says so
        else:
            mode = {(True, 3): "RGB", (True, 4): "RGBA", (False, 1): "L", (False, 2): "LA"}.get(
                (colour, min(samples.shape[2], 4 if colour else 2)))
            if mode:
                shown = np.ascontiguousarray(to_uint8(samples[..., :len(mode)]))
                picture = Image.fromarray(shown.squeeze(-1) if mode == "L" else shown, mode)
                picture.info["icc_profile"] = icc
                loaded = pil_to_loaded(in_srgb(picture, name), name)
                if deep_gray_of is not None:  # 16-bit colour samples: 8-bit colour management shows them,
                    loaded.deep_gray = deep_gray_of(samples[..., :3])  # their gray keeps every level
                    loaded.alpha = np.ascontiguousarray(samples[..., 3]) if mode == "RGBA" else None
                return loaded
    return array_to_loaded(samples, name, colour=photometric == RGB_PHOTOMETRIC)


TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


def _begins_as(head: bytes) -> str | None:
    """The picture format whose signature ``head`` begins with (``PICTURE_SIGNATURES``, or WebP's), or None."""
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    return next((name for signature, name in PICTURE_SIGNATURES.items() if head.startswith(signature)), None)


def _first_bytes(data: Path | bytes, count: int) -> bytes:
    if not isinstance(data, Path):
        return data[:count]
    try:
        with open(data, "rb") as file:
            return file.read(count)
    except OSError:
        return b""


class _TifffileUnsaid(logging.Filter):
    """Drops tifffile's log records in the threads reading a TIFF through ``_tifffile_unsaid``: it logs what
    it cannot read ("<tifffile.TiffPages @120060> invalid offset to first page") as an error, a line of its
    own before rehue's (probe 161), where rehue says what is wrong with the file itself. A filter, not the
    logger's level or ``disabled``: another thread's or the program's own tifffile records still pass."""

    reading = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.reading, "depth", 0)


_TIFFFILE_FILTER = _TifffileUnsaid()


@contextlib.contextmanager
def _tifffile_unsaid():
    tifffile_logger = logging.getLogger("tifffile")
    if _TIFFFILE_FILTER not in tifffile_logger.filters:
        tifffile_logger.addFilter(_TIFFFILE_FILTER)
    reading = _TifffileUnsaid.reading
    reading.depth = getattr(reading, "depth", 0) + 1
    try:
        yield
    finally:
        reading.depth -= 1
TIFF_EXTRA_SAMPLES, ASSOCIATED_ALPHA = 338, 1
TIFF_ICC, TIFF_XMP, TIFF_ORIENTATION = 34675, 700, 274
TIFF_X_RESOLUTION, TIFF_Y_RESOLUTION, TIFF_RESOLUTION_UNIT, INCH, CENTIMETRE = 282, 283, 296, 2, 3
TIFF_PREDICTOR, HORIZONTAL_DIFFERENCING = 317, 2


def _tiff_pillow_cannot_open(source: Path | bytes, path: Path | None) -> LoadedImage | None:
    """The first page of a TIFF that Pillow does not open at all, read with tifffile; None for any other file
    or a page tifffile cannot read either. Pillow knows no 16-bit gray with alpha (or a second extra sample):
    the layout Photoshop saves a 16-bit gray scan with transparency in (probe 51), nor floating-point levels
    but 32-bit gray ones (probe 53: half and double floats, 32-bit ones with alpha), read as 16-bit."""
    from PIL import Image

    data = source if isinstance(source, bytes) else None
    if data is None:
        try:
            with open(source, "rb") as file:
                if file.read(4) not in TIFF_MAGIC:
                    return None
            data = source.read_bytes()
        except OSError:
            return None
    if data[:4] not in TIFF_MAGIC:
        return None
    try:
        tags = Image.Exif()
        with warnings_as("ignore", UserWarning):  # "Corrupt EXIF data", of a TIFF cut short
            tags.load(data)  # the first page's tags, read as Pillow reads a TIFF's own EXIF
    except Exception:
        return None
    photometric = tags.get(TIFF_PHOTOMETRIC)
    try:
        samples = _first_page_samples(data, levels=True)
    except RehueError as exc:
        raise RehueError(exc.reason, path) from None
    if photometric not in (MIN_IS_WHITE, MIN_IS_BLACK, RGB_PHOTOMETRIC) or samples is None:
        return None
    colour = photometric == RGB_PHOTOMETRIC and samples.shape[2] >= 3
    if photometric == MIN_IS_WHITE:
        samples = samples.copy()
        samples[..., 0] = np.iinfo(samples.dtype).max - samples[..., 0]
    channels = 3 if colour else 1
    extra = np.atleast_1d(tags.get(TIFF_EXTRA_SAMPLES, ()))
    if samples.shape[2] > channels and len(extra) and int(extra[0]) == ASSOCIATED_ALPHA:
        samples = _unpremultiplied(samples, channels)
    samples = _oriented(samples[..., :channels + 1], tags.get(TIFF_ORIENTATION, 1))
    name = None if path is None else str(path)
    icc = tags.get(TIFF_ICC)
    if icc and not _is_srgb(bytes(icc)):
        samples = _gray_profile_applied(samples, bytes(icc), name, colour)
    loaded = array_to_loaded(samples, name, colour=colour)
    loaded.dpi = _upright_dpi(_tiff_dpi(tags), tags.get(TIFF_ORIENTATION, 1))
    loaded.exif = _kept_exif(tags)
    loaded.software = str(tags[SOFTWARE]) if tags.get(SOFTWARE) else None
    xmp = tags.get(TIFF_XMP)
    loaded.xmp = upright_xmp(bytes(xmp) if isinstance(xmp, (bytes, bytearray)) and bytes(xmp).strip() else None)
    return loaded


def _unpremultiplied(samples: np.ndarray, channels: int) -> np.ndarray:
    """Samples whose tones were multiplied by their alpha (TIFF's associated alpha), with it divided out."""
    top = np.iinfo(samples.dtype).max
    alpha = samples[..., channels:channels + 1].astype(np.float64)
    tones = samples[..., :channels].astype(np.float64) * top / np.maximum(alpha, 1)
    out = samples.copy()
    out[..., :channels] = np.clip(np.round(tones), 0, top).astype(samples.dtype)
    return out


def _gray_profile_applied(samples: np.ndarray, icc: bytes, name: str | None, colour: bool) -> np.ndarray:
    """A 16-bit gray page's levels through its gray profile (``gray_levels_in_srgb``); any other profile is
    left unapplied, with a warning, as ``in_srgb`` does for 16-bit samples."""
    from PIL import ImageCms

    levels = None if colour or samples.dtype != np.uint16 else gray_levels_in_srgb(icc)
    if levels is None:
        try:
            description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
        except (ImageCms.PyCMSError, OSError, ValueError):
            description = "unreadable"
        _warn_profile_not_applied(name, description, f"{samples.dtype.itemsize * 8}-bit")
        return samples
    samples = samples.copy()
    samples[..., 0] = levels[samples[..., 0]]
    return samples


def _warn_profile_not_applied(path, description: str, samples: str) -> None:
    """The warning for a colour profile left unapplied (Pillow's colour management is 8-bit)."""
    logger.warning("%s: its colour profile (%s) is not applied to %s samples; its numbers are read as sRGB's",
                   path or "the image", description, samples)


def _tiff_dpi(tags) -> tuple[float, float] | None:
    """A TIFF page's resolution in dots per inch, from its tags (``_dpi``'s rules)."""
    try:
        x, y = float(tags[TIFF_X_RESOLUTION]), float(tags[TIFF_Y_RESOLUTION])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    unit = tags.get(TIFF_RESOLUTION_UNIT, INCH)
    if unit not in (INCH, CENTIMETRE):  # 1: no unit, a shape alone
        return None
    return _dpi((x * 2.54, y * 2.54) if unit == CENTIMETRE else (x, y))


def _first_page_samples(source: Path | bytes, levels: bool = False) -> np.ndarray | None:
    """The first page of a TIFF as tifffile reads it, (H, W, S) 8- or 16-bit integers as stored (with
    ``levels``, floating-point and 32-bit integer ones too, as 8- or 16-bit ones by ``image_levels``' rules);
    None where tifffile cannot read it either (Pillow's reading then stands) or it holds other samples."""
    import tifffile

    try:
        with _tifffile_unsaid(), tifffile.TiffFile(source if isinstance(source, Path) else io.BytesIO(source)) as tif:
            page = tif.pages.first
            samples, axes = page.asarray(), page.axes
    except Exception:
        return None
    if set(axes) - set("SYX"):
        return None
    if levels and samples.dtype.kind == "f":  # out of range or NaN: a RehueError, as for an 8-bit float file
        samples = np.round(image_levels(samples) * np.float32(65535)).astype(np.uint16)
    elif levels and samples.dtype.kind in "iu" and samples.dtype.itemsize > 2:  # big-endian 32-bit ones, which
        samples = image_levels(samples)  # Pillow does not open: "not an image file", little-endian ones read
    if samples.dtype.kind not in "ui" or samples.dtype.itemsize > 2:
        return None
    samples = np.moveaxis(samples, [axes.index(a) for a in "YX"], [0, 1])
    return samples[..., None] if samples.ndim == 2 else samples


def _turned_by_pillow(image, source: Path | bytes, orientation: int) -> LoadedImage | None:
    """An 8-bit palette or CMYK page turned by Orientation 5-8: its samples as tifffile reads them, turned,
    and made a Pillow image of the page's own mode (its palette, its profile), which converts them."""
    from PIL import Image

    samples = _first_page_samples(source)
    if samples is None or samples.dtype != np.uint8 or samples.shape[2] != {"P": 1, "CMYK": 4}[image.mode]:
        return None
    samples = _oriented(samples, orientation)
    picture = Image.fromarray(samples[..., 0] if image.mode == "P" else samples, image.mode)
    if image.mode == "P":
        picture.putpalette(image.getpalette())
    picture.info = dict(image.info)
    name = str(source) if isinstance(source, Path) else None
    return pil_to_loaded(in_srgb(picture, name), name)


def array_to_loaded(samples: np.ndarray, path: str | None, *, colour: bool) -> LoadedImage:
    """A :class:`LoadedImage` of (H, W, S) uint8 or uint16 samples: gray or RGB (``colour``), with alpha
    as the sample after them if there is one. 16-bit samples keep their gray and alpha at 16 bits."""
    channels = 3 if colour and samples.shape[2] >= 3 else 1
    picture = samples[..., :channels]
    alpha = np.ascontiguousarray(samples[..., channels]) if samples.shape[2] > channels else None
    deep = None
    if samples.dtype == np.uint16:
        from rehue.color.lab import rgb_to_gray

        deep = picture[..., 0] if channels == 1 or is_neutral(picture) else rgb_to_gray(picture, np.uint16)
        deep = np.ascontiguousarray(deep)
    rgb = np.ascontiguousarray(np.broadcast_to(to_uint8(picture), (*picture.shape[:2], 3)))
    return LoadedImage(rgb, alpha, channels == 1 or is_neutral(rgb), path, deep_gray=deep)


def is_neutral(rgb: np.ndarray) -> bool:
    """Whether (H, W, 3) samples are gray exactly: their three channels equal."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def _add_deep_rgb(loaded: LoadedImage, source: Path | bytes, orientation: int, deep_gray_of=None,
                  keyed: bool = False) -> None:
    """Keep the 16-bit gray (and alpha) of a 16-bit RGB PNG or TIFF (a path or the file's bytes), which
    Pillow reads at 8 bits (read with OpenCV; if it cannot read the file, the 8-bit image stands); the
    gray through the file's colour profile where ``deep_gray_of`` (``rgb_gray_in_srgb``) is given; a PNG's
    16-bit colour key (tRNS: ``keyed``), which Pillow cannot apply to its 8-bit samples, as alpha."""
    import cv2

    from rehue.color.lab import rgb_to_gray

    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # Pillow has read the file already:
    try:  # OpenCV's warnings about odd tags would only repeat what does not matter
        if isinstance(source, Path) and _is_utf8(str(source)):
            data = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
        else:  # bytes, or a name that is not UTF-8 (OpenCV crashes on it): the bytes are decoded
            data = cv2.imdecode(np.frombuffer(source.read_bytes() if isinstance(source, Path) else source, np.uint8),
                                cv2.IMREAD_UNCHANGED)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if data is None or data.dtype != np.uint16 or data.ndim != 3 or data.shape[2] not in (3, 4):
        return
    rgb = _oriented(data[..., 2::-1], orientation)
    if rgb.shape != loaded.rgb.shape:
        return
    if deep_gray_of is not None:
        loaded.deep_gray = deep_gray_of(rgb)
    else:
        loaded.deep_gray = np.ascontiguousarray(rgb[..., 0]) if is_neutral(rgb) else rgb_to_gray(rgb, np.uint16)
    if data.shape[2] == 4 and (loaded.alpha is not None or keyed):  # OpenCV applies a key (tRNS)
        loaded.alpha = np.ascontiguousarray(_oriented(data[..., 3], orientation))


def _is_utf8(text: str) -> bool:
    """Whether ``text`` is UTF-8 throughout: a file name that is not holds its bytes as surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def temp_path_for(target: Path) -> Path:
    """A temporary name beside ``target`` that keeps its extension (encoders pick the format by it)."""
    return target.with_name(f"{_temp_prefix(target)}{os.getpid()}{target.suffix}")


def staging_folder_for(target: Path) -> Path:
    """The hidden folder beside the folder ``target`` that its files are written into before they move there."""
    target = _named(target)
    return target.with_name(f"{_staging_prefix(target)}{os.getpid()}")


def _named(target: Path) -> Path:
    """``target`` by a path whose last part names it: ``.`` or ``..`` as the folder it is (probe 158: `rehue frames
    --out .` ended in "PosixPath('.') has an empty name")."""
    target = Path(target)
    named = Path(os.path.abspath(target)) if target.name in ("", "..") else target
    if not named.name:  # the root folder: nothing is beside it (probe 159: "'/' has an empty name")
        raise RehueError("is the root folder, which rehue does not write into as a whole; name a folder in it", target)
    return named


def _staging_prefix(target: Path) -> str:
    """The staging folder's name up to its process number, shortened as `_temp_prefix` shortens a file's (with room
    for ``REPLACED``)."""
    return f".{fitted_stem(target.name, NAME_BYTES - len('.rehue-tmp') - 1 - 10 - len(REPLACED))}.rehue-tmp"


REPLACED = ".replaced"


def stale_staging_folders(target: Path, suffix: str = "") -> list[Path]:
    """The staging folders of ``target`` (`staging_folder_for`; with ``suffix`` ``REPLACED``, the folders it was
    replacing) that killed runs left, as they are, oldest first."""
    target = _named(target)
    pattern = re.compile(re.escape(_staging_prefix(target)) + r"(\d+)" + re.escape(suffix))
    left = []
    try:
        for entry in os.scandir(target.parent):
            if (match := pattern.fullmatch(entry.name)) and entry.is_dir(follow_symlinks=False) and \
                    not process_running(int(match[1])):
                left.append((entry.stat(follow_symlinks=False).st_mtime, target.parent / entry.name))
    except OSError:  # the folder, or an entry moved meanwhile by another run (probe 191)
        return []
    return [path for _, path in sorted(left)]


def put_back_replaced(target: Path) -> Path | None:
    """Where the folder ``target`` is missing and a killed run left the folder it was replacing aside
    (`replaced_folder_for`), that folder moved back, and its hidden path returned (probe 189: killed between its
    two moves, the next run removed both the earlier folder and the new one); else None."""
    target = _named(target)
    if os.path.lexists(target):
        return None
    left = stale_staging_folders(target, REPLACED)
    try:
        os.rename(left[-1], target)  # the newest
    except (IndexError, OSError):
        return None
    return left[-1]


def replaced_folder_for(target: Path) -> Path:
    """The hidden folder that the folder ``target`` is moved to as its staging folder moves into its place, and
    is deleted from after: a kill between the two leaves the earlier folder or the new one whole (probe 188: a
    dataset deleted in place was half gone when Ctrl-C came); what is left there the next run puts back
    (`put_back_replaced`) or removes (`remove_stale_temps`)."""
    staging = staging_folder_for(target)
    return staging.with_name(staging.name + REPLACED)


NAME_BYTES = 255  # the longest file name most file systems allow


def _temp_prefix(target: Path) -> str:
    """The temporary name of ``target`` up to its process number. A name near the file system's limit is
    shortened, with a digest of the whole, so that the temporary name (about 20 bytes longer) fits too."""
    room = NAME_BYTES - len(os.fsencode(target.suffix)) - len(".rehue-tmp") - 1 - 10  # the dot, a process number
    return f".{fitted_stem(target.stem, room)}.rehue-tmp"


def fitted_stem(stem: str, room: int) -> str:
    """``stem`` if it fits in ``room`` bytes, else its start and a digest of the whole (distinct stems stay
    distinct), in ``room`` bytes."""
    import hashlib

    encoded = os.fsencode(stem)  # a name that is not UTF-8 (an old Latin-1 disk) holds its bytes as surrogates
    if len(encoded) <= room:
        return stem
    digest = hashlib.sha256(encoded).hexdigest()[:12]
    return encoded[:room - 13].decode(errors="ignore") + "~" + digest


RESUMABLE = ".rehue-resume.json"  # the journal in the hidden folder of an interrupted film (``rehue.video.resume``)


def remove_stale_temps(targets, replaced: bool = True) -> list[Path]:
    """Delete the half-written temporary files of ``targets`` that a killed run left (``kill -9``, a power
    cut: no cleanup runs then), and return their paths; for a folder of frames, the hidden folder they
    were written into (``.NAME.rehue-tmpPID``), and with ``replaced`` the folder it was replacing
    (``REPLACED``). A file counts as stale only when the process named in it is not running, so a run writing
    now is never touched."""
    import shutil

    targets = {_named(target) for target in targets}
    temps = {(target.parent, _temp_prefix(target), target.suffix) for target in targets}
    temps |= {(target.parent, _staging_prefix(target), suffix) for target in targets
              for suffix in ("", REPLACED) if replaced or not suffix}  # ``replaced``: the folders they replaced too
    stale = []
    for folder in {target.parent for target in targets}:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = re.fullmatch(r"(\..+\.rehue-tmp)(\d+)(\.[^.]+)?", entry.name)
            if not match or (folder, match[1], match[3] or "") not in temps or process_running(int(match[2])):
                continue
            with contextlib.suppress(OSError):
                if match[3] in (None, REPLACED):
                    if not entry.is_dir(follow_symlinks=False) or os.path.isfile(os.path.join(entry.path, RESUMABLE)):
                        continue  # an interrupted film's coloured frames, which its next run goes on from
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                stale.append(folder / entry.name)
    return sorted(stale)


def remove_stale_files(targets, log, kinds: tuple[str, ...] = ("half-written file",)) -> None:
    """`remove_stale_temps` of ``targets``, said with ``log`` as ``kinds`` (`counted`'s words) (probe 189: a killed
    `rehue scenes --sheet` or `bench --json` left its hidden file beside the output, through any number of later
    runs)."""
    stale = remove_stale_temps(targets)
    if stale:
        log(f"note: removed {counted(len(stale), *kinds)} that a killed run left, such as {stale[0]}")


def process_running(pid: int) -> bool:
    """Whether process ``pid`` is alive (this one, or another user's, counts): a temporary file or lock named
    by a process that is gone was left by a killed run. A number no process can have is none's (probe 174: an
    OverflowError traceback of ``.g.rehue-tmp99999999999999999999.png``; 0 and below are process groups)."""
    if pid == os.getpid():
        return True
    if not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        pass
    return not _dead(pid)


def _dead(pid: int) -> bool:
    """Whether process ``pid`` is a zombie, dead and not yet collected by its parent (Linux's /proc): a run killed
    with ``timeout -s KILL`` is left to PID 1, which in a container without an init never collects it, and its
    lock was taken for a live run's for good (probe 187: "wait for it")."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


def runs_python(pid: int) -> bool:
    """Whether the live process ``pid`` may be a rehue run, by its command line: a Python's or rehue's (or one
    that cannot be read: not Linux, not ours, or empty while the process starts or ends). A process number
    given since to another program is not."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return not command or b"rehue" in command or b"python" in command


def process_start_ticks(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux's /proc; None elsewhere, or where it is
    gone): with its number, it tells the process from a later one given the same number."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def process_started_at(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the epoch (`process_start_ticks`): a folder named by a
    process number that last changed before its process started is no longer that process's, but a killed
    run's whose number was given to another."""
    ticks = process_start_ticks(pid)
    try:
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + int(ticks) / os.sysconf("SC_CLK_TCK") if ticks is not None else None
    except (OSError, IndexError, ValueError, StopIteration):
        return None


def without_copies(paths: list[Path]) -> tuple[list[Path], dict[Path, Path]]:
    """``paths`` less those that copy an earlier one's content, and which each copy is: a file of the same
    bytes; a folder (a film) whose frames, in order, hold the same bytes, whatever else lies beside them (a
    ``.DS_Store``, notes, a subfolder) and whatever they are named (probes 71 and 72: a copy with notes beside
    its frames went into both splits; a cleaned reel of the raw one's sizes, told apart by three of its
    frames, was taken for a copy). Only those whose sizes all match are read, each pair until it differs. A
    copy of a film would count twice, as evidence or on both sides of a split."""
    import filecmp

    from rehue.video.pipeline import frame_files, strays_of_another_size

    def same(first: Path, second: Path) -> bool:  # a hard link is not read through
        return first.samefile(second) or filecmp.cmp(first, second, shallow=False)

    parts: dict[Path, list[Path]] = {}  # a film folder's frames as --frames reads them, less a cover scan
    by_sizes: dict[tuple, list[Path]] = {}
    for path in paths:
        try:
            parts[path] = [path] if path.is_file() else strays_of_another_size(frame_files(path))[0]
            sizes = tuple(part.stat().st_size for part in parts[path])
        except OSError:  # unreadable or missing: its own error comes when it is read
            continue
        if sizes:  # a folder without frames copies nothing
            by_sizes.setdefault(sizes, []).append(path)
    copy_of: dict[Path, Path] = {}
    for alike in (group for group in by_sizes.values() if len(group) > 1):
        originals: list[Path] = []
        for path in alike:
            try:
                original = next((kept for kept in originals if all(
                    same(first, second) for first, second in zip(parts[kept], parts[path], strict=True))), None)
            except OSError:
                continue
            if original is None:
                originals.append(path)
            elif original != path:  # a path named twice is not its own copy
                copy_of[path] = original
    return [path for path in paths if path not in copy_of], copy_of


def is_same_file(target, source) -> bool:
    """Whether writing ``target`` would replace ``source`` (the same file by any path or link)."""
    target = Path(target)
    try:
        return target.exists() and target.samefile(source) or real_path(target) == real_path(source)
    except OSError:
        return False


GRAY_TOLERANCE = 3
"""Levels by which a gray picture's channels may differ (JPEG's and video's rounding) and still be gray."""


def has_colour(rgb: np.ndarray, tolerance: int = GRAY_TOLERANCE) -> bool:
    """Whether a picture holds any colour: its channels differ by more than ``tolerance`` levels (JPEG's
    rounding of a gray picture) somewhere. A gray one is its own gray answer, so it cannot score a
    colorization; a colour one given to colour loses its colour."""
    picture = np.asarray(rgb, np.int16)
    return bool((picture.max(axis=-1) - picture.min(axis=-1)).max() > tolerance)


def make_folder(folder: str | Path) -> Path:
    """``folder`` and its missing parents, or a RehueError naming the one that could not be made."""
    folder = Path(folder)
    if folder.is_symlink() and not folder.exists():
        raise RehueError(f"is {missing_reason(folder)}, so this folder cannot be made", folder)
    if folder.exists() and not folder.is_dir():
        raise RehueError("is a file, not a folder", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # the file in the way, not the folder below it (probe 149: "photos/scikit-image: Not a directory")
        # (or a link to nothing above it: probe 153, "File exists")
        in_the_way = next((part for part in folder.parents if part.is_symlink() and not part.exists()
                           or part.exists() and not part.is_dir()), None)
        if in_the_way is not None and not in_the_way.exists():  # the folder named too (probe 154: "this folder")
            raise RehueError(f"is {missing_reason(in_the_way)}, so {shown_path(folder)} cannot be made",
                             in_the_way) from None
        if in_the_way is not None:
            raise RehueError("is a file, not a folder", in_the_way) from None
        raise RehueError(f"cannot make this folder ({exc.strerror or exc})", exc.filename or folder) from None
    return folder


def paths_given(value) -> list | None:
    """A library caller's path, or iterable of them, as a list (read once: a generator too); None for what is
    neither (bytes, a number), for the caller to refuse."""
    from collections.abc import Iterable

    if isinstance(value, (str, os.PathLike)):
        return [value]
    return None if isinstance(value, bytes) or not isinstance(value, Iterable) else list(value)


def typed_as_folder(path) -> bool:
    """Whether ``path`` as typed (a string) names a folder whatever its name says: it ends in a slash, or in
    "/." (``-o new.d.tif/``, a folder; ``Path`` drops both, and the name read as a TIFF's)."""
    return isinstance(path, str) and path.endswith(("/", os.sep, "/.", f"{os.sep}."))


def as_it_will_be(path: str | Path) -> Path:
    """``path`` with each ``..`` that follows a folder not made yet taken away with that folder: ``U/new/..``
    is ``U`` once ``new`` is made, but a check of ``U/new/..`` cannot look into ``U`` before (probe 96: a
    folder of the user's files taken for a new one, and its files replaced). A ``..`` after a folder that is
    there stays, as the file system reads it (after a link, the parent of what it links to)."""
    path = Path(path)
    kept = Path(path.anchor)
    for part in path.parts[1:] if path.anchor else path.parts:
        if part == ".." and kept.name not in ("", "..") and not os.path.lexists(kept):
            kept = kept.parent
        else:
            kept = kept / part
    return kept


def make_missing_folders(folder: str | Path) -> list[Path]:
    """``folder`` and its missing parents made (``make_folder``); those this call made, outermost first, for
    the caller to remove again should its work fail (``remove_made_folders``)."""
    folder = Path(folder)
    missing, part = [], folder
    while not part.exists() and not part.is_symlink() and part != part.parent:
        missing.append(part)
        part = part.parent
    make_folder(folder)
    return missing[::-1]


def remove_made_folders(made: list[Path]) -> None:
    """The outermost of ``made`` (``make_missing_folders``) and what is in it removed, where no file is there:
    a run that failed leaves no empty folder it made, and nothing of anyone's goes."""
    if made and holds_no_file(made[0]):
        import shutil

        shutil.rmtree(made[0], ignore_errors=True)


def refuse_standard_output(output: str | Path) -> None:
    """``-`` means standard output to many tools; rehue writes files, and would make a folder named ``-``."""
    if str(output) == "-":
        raise UsageError("-: rehue writes files, not to standard output; name a file or a folder")


def check_folder_can_be_made(folder: str | Path) -> None:
    """Refuse, before any work, an output folder that cannot be made or written. It is tried: its missing
    folders are made, a file is written in it, and what was made is removed again (permissions alone
    mislead: root may write anywhere but not in /proc, and a read-only mount may look writable)."""
    refuse_standard_output(folder)
    folder = Path(folder)
    missing, existing = [], folder
    while not existing.exists():
        if existing.is_symlink():
            raise RehueError(f"is {missing_reason(existing)}, so the output folder {shown_path(folder)} cannot be "
                             "made", existing)
        if existing == existing.parent:
            break
        missing.append(existing)
        existing = existing.parent if str(existing.parent) else Path(".")
    if not existing.is_dir():
        raise RehueError(f"is a file, so the output folder {folder} cannot be made", existing)
    made = []
    try:
        for part in reversed(missing):
            try:
                part.mkdir()
            except FileExistsError:
                if part.is_dir():  # another run made it meanwhile: it is theirs, and stays
                    continue
                raise RehueError("is a file, so the output folder cannot be made", part) from None
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise _not_writable(part.parent, exc) from None
                raise RehueError(f"cannot make this folder ({exc.strerror or exc})", part) from None
            made.append(part)
        _try_writing_in(folder)
    finally:
        for part in reversed(made):
            with contextlib.suppress(OSError):
                part.rmdir()


def _try_writing_in(folder: Path) -> None:
    """Write a file in ``folder`` and remove it, or raise a RehueError naming the folder."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".rehue-probe"):
            pass
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise _not_writable(folder, exc) from None
        raise RehueError(f"cannot write in this folder ({exc.strerror or exc})", folder) from None


def _not_writable(folder: Path, exc: OSError) -> RehueError:
    """The refusal of an output folder not to be written in; the current one named by its path, not "." (probe 225:
    ".: output folder is not writable", from a notebook's read-only folder)."""
    if os.path.abspath(folder) == os.getcwd():
        return RehueError(f"output folder (the current folder) is not writable ({exc.strerror})", os.getcwd())
    return RehueError(f"output folder is not writable ({exc.strerror})", folder)


_WORKER = threading.local()


def as_rehue_worker(run=None):
    """Mark the calling thread as one of rehue's own workers (an encoder's, a model's, a writer's), or, given
    ``run``, ``run`` marking the thread that runs it: where such a thread asks for an output (a progress callback
    run on it), ``one_writer`` refuses at once, as the call it serves holds the output. Told by a mark, not by the
    thread's name (probe 147: a caller's pool named "rehue-jobs" was refused where threads take turns)."""
    if run is None:
        _WORKER.rehue = True
        return None

    @functools.wraps(run)
    def marked(*args, **kwargs):
        _WORKER.rehue = True
        return run(*args, **kwargs)
    return marked


_WRITING: dict[str, list] = {}  # an output's real path: [its lock, the threads holding or waiting for it]
_WRITING_GUARD = threading.Lock()


@contextlib.contextmanager
def one_writer(target: str | Path):
    """Hold ``target`` for this thread while it is written: another thread of this process writing it waits,
    then finds it there (and replaces it only with ``overwrite``). Temporary files and folders are named by
    the process, so two threads writing one output at once shared them (probe 62: a service's double submit
    failed both, blaming the disk). Other processes have temporary names of their own. An output is known by
    its real path, whichever link names its folder (probe 64), and forgotten when no thread wants it. A thread
    holding it may take it again (the library's ``colorize_video`` holds it, and calls the pipeline's, which
    holds it for a caller of its own: probe 139)."""
    key = os.path.realpath(os.fspath(target))
    with _WRITING_GUARD:
        entry = _WRITING.setdefault(key, [threading.RLock(), 0])
        entry[1] += 1
    try:
        # one of rehue's own worker threads (a progress callback runs on the encoder's) would wait for the call it
        # serves, which waits for it: refused at once (probe 141: a callback colouring the same output hung)
        if not entry[0].acquire(blocking=not getattr(_WORKER, "rehue", False)):
            raise RehueError("another call of this process is colouring this output now; wait for it to finish, or "
                             "name another output", target)
        try:
            yield
        finally:
            entry[0].release()
    finally:
        with _WRITING_GUARD:
            entry[1] -= 1
            if not entry[1]:
                del _WRITING[key]


def check_output_path(target: Path, overwrite: bool, inputs: tuple[Path, ...] = (), inputs_are: str = "the input"
                      ) -> None:
    target = Path(target)
    if any(is_same_file(target, source) for source in inputs):
        raise RehueError(f"output is the same file as {inputs_are}; choose another output path", target)
    if target.is_dir():
        raise RehueError("is a folder; name a file to write", target)
    if target.exists() and not overwrite:
        raise OutputExists("output exists; pass --overwrite to replace it", target)
    if target.is_symlink() and not target.exists() and not overwrite:
        raise RehueError(f"output exists, as a link to {os.readlink(target)}, which does not; pass --overwrite to "
                         "replace the link", target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise RehueError("output folder is a file" if parent.exists() else "output folder does not exist", parent)
    _try_writing_in(parent)


def move_into_place(temp: Path, target: Path, overwrite: bool) -> None:
    """Rename the finished ``temp`` to ``target``. Without ``overwrite`` a file that appeared at ``target``
    since it was checked (another run writing into the same folder) is kept: the move is a hard link, which
    fails where a file exists, where the file system has them."""
    if overwrite:
        os.replace(temp, target)
        return
    written_meanwhile = "output exists (another run wrote it meanwhile); pass --overwrite to replace it"
    try:
        os.link(temp, target)
    except FileExistsError:
        raise OutputExists(written_meanwhile, target) from None
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        if target.exists():
            raise OutputExists(written_meanwhile, target) from None
        os.replace(temp, target)
        return
    temp.unlink()


def output_format(path: Path) -> str:
    """The image format an output path's extension names (Pillow's name); a RehueError for any other."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"unsupported output extension {path.suffix!r}; use one of "
                         f"{', '.join(sorted(OUTPUT_FORMATS))}", path)
    return fmt


def check_side_limit(path: Path, width: int, height: int) -> None:
    """A RehueError where a picture of ``width`` x ``height`` is wider or taller than the format ``path`` names
    can store; before the colouring too (probe 215: a side-by-side WebP refused after the work)."""
    fmt = output_format(Path(path))
    if max(width, height) > MAX_SIDE.get(fmt, max(width, height)):
        raise RehueError(f"{fmt} holds at most {MAX_SIDE[fmt]} pixels a side and this image is {width}x{height}; "
                         "write it as .png or .tif", path)


def save_image(rgb: np.ndarray, path: str | Path, alpha: np.ndarray | None = None, *, quality: int = 95,
               dpi: tuple[float, float] | None = None, exif=None, software: str | None = None,
               xmp: bytes | None = None, text: dict[str, str] | None = None, fast: bool = False,
               overwrite: bool = True, durable: bool = False, dpx_header: bytes | None = None,
               exr_header: bytes | None = None) -> Path:
    """Write ``rgb`` (uint8, or uint16 for 16 bits per sample) and alpha where the format holds it,
    atomically; format from the extension. Without ``overwrite`` a file at ``path`` is never replaced,
    even one that another process wrote while this one encoded (``move_into_place``).

    16-bit RGB goes to PNG and TIFF at 16 bits and to JPEG and WebP at 8. ``dpi``, ``exif`` (a
    ``PIL.Image.Exif``), ``software`` (the Software tag), ``xmp`` (an XMP packet) and ``text`` (PNG
    text chunks, into PNG; its Comment into JPEG too) are written where the format has a place for them; a
    16-bit TIFF keeps IFD0's text tags but not the Exif and GPS sub-IFDs. ``fast`` trades
    about 10% more bytes for a 2.5 times faster 8-bit PNG (zlib level 1, as OpenCV's 16-bit PNGs), for
    the thousands of frames of a film. ``durable`` puts the file on the disk before it takes its name, so
    that after a power cut a file of that name is whole (a film's frames that a next run goes on from).

    A DPX file (``.dpx``) is written at 10 or 16 bits (``rehue.data.dpx.dpx_file_bytes``); with
    ``dpx_header``, the header of the DPX frame the picture came from, in that frame's transfer (a log scan
    in log again) and with the rest of its header; ``software`` is its creator. It keeps no EXIF or XMP.
    An OpenEXR file (``.exr``) is written in scene-linear half floats (``rehue.data.exr.exr_file_bytes``),
    with ``exr_header`` in the primaries, display window and attributes of the frame the picture came from.
    """
    path = Path(path)
    fmt = output_format(path)
    rgb = np.ascontiguousarray(rgb)
    check_side_limit(path, rgb.shape[1], rgb.shape[0])
    if rgb.dtype == np.uint16 and fmt not in DEEP_FORMATS:
        rgb = to_uint8(rgb)
    if fmt == "JPEG" and xmp and len(xmp) > JPEG_XMP_BYTES:
        logger.warning("%s: the XMP packet (%d bytes) is larger than a JPEG holds (%d); it is left out: write .png "
                       "or .tif to keep it", path, len(xmp), JPEG_XMP_BYTES)
        xmp = None
    if fmt == "JPEG" and text and (size := len(text.get(COMMENT, "").encode("utf-8"))) > JPEG_COMMENT_BYTES:
        logger.warning("%s: the comment (%d bytes) is longer than a JPEG comment segment holds (%d); it is left "
                       "out: write .png to keep it", path, size, JPEG_COMMENT_BYTES)
        text = {key: value for key, value in text.items() if key != COMMENT}
    if exif is not None or software:
        from PIL import Image

        exif = _copy_exif(exif) if exif is not None else Image.Exif()
        if software:
            exif[SOFTWARE] = exif_ascii(software)
        if fmt == "JPEG" and (size := len(exif.tobytes())) > JPEG_EXIF_BYTES:  # probe 93: a traceback, a batch stopped
            logger.warning("%s: the EXIF block (%d bytes) is larger than a JPEG holds (%d); it is left out: write "
                           ".png or .tif to keep it", path, size, JPEG_EXIF_BYTES)
            exif = Image.Exif()
            if software:
                exif[SOFTWARE] = exif_ascii(software)
        # a film's frames (``fast``) are said of by the film, a batch's files once and counted (`_AlikeWarnings`):
        # said once a folder for the process, a server's later calls lost the date taken without a word (probe 208)
        if fmt == "TIFF" and rgb.dtype == np.uint16 and not fast and (lost := deep_tiff_loss(exif)):
            logger.warning("%s: %s: write .png to keep them at 16 bits", path, lost)
    if fmt == "DPX" and dpx_header is None and exr_header is not None:
        dpx_header = _timing_header("DPX", exr_header, rgb.dtype == np.uint16)
    elif fmt == "EXR" and exr_header is None and dpx_header is not None:
        exr_header = _timing_header("EXR", dpx_header, rgb.dtype == np.uint16)
    tmp = temp_path_for(path)
    try:
        if fmt == "DPX":
            _write_dpx(rgb, tmp, alpha, dpx_header, software, path.name)
        elif fmt == "EXR":
            from rehue.data.exr import exr_file_bytes

            tmp.write_bytes(exr_file_bytes(rgb, alpha, like=exr_header, software=software))
        elif rgb.dtype == np.uint16:
            _write_deep(rgb, tmp, fmt, alpha, dpi, exif, xmp, text)
        else:
            _write_pillow(rgb, tmp, fmt, alpha, quality, dpi, exif, fast, xmp, text)
        if durable:
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
        move_into_place(tmp, path, overwrite)
    except OSError as exc:
        raise RehueError(f"cannot write image ({exc.strerror or exc})", path) from None
    except ValueError as exc:  # an encoder's refusal (Pillow's "EXIF data is too long" was a traceback: probe 93)
        raise RehueError(f"cannot write image ({exc})", path) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return path


def _timing_header(fmt: str, other: bytes, deep: bool) -> bytes | None:
    """A ``fmt`` ("DPX" or "EXR") header with the frame rate, time code and pixel shape of a frame read from the
    other format (``other``, its header; a Cineon scan's is a DPX one), so that a reel converted keeps what grading
    software conforms it by (probe 151: a DPX reel into OpenEXR frames, and back, lost both). A rate that is not a
    film's is left out, as a reel's reading leaves it aside."""
    from fractions import Fraction

    from rehue.data import dpx, exr
    from rehue.video.pipeline import MAX_FRAMES_FPS, MIN_FRAMES_FPS, pixel_aspect
    from rehue.video.rates import exact_rate

    try:
        source = exr.Header(other) if fmt == "DPX" else dpx.Header(other)
    except ValueError:
        return None
    rate = source.frame_rate if source.frame_rate and MIN_FRAMES_FPS <= source.frame_rate <= MAX_FRAMES_FPS else None
    if rate is not None:  # DPX's 29.97 as NTSC's 30000/1001 (probe 153: 2997/100); 16.666666 as 50/3 (probe 154)
        rate = exact_rate(Fraction(rate).limit_denominator(1001))
    aspect = pixel_aspect(source)
    if fmt == "DPX":  # the time code's word with its flags: a drop-frame one stays one (probe 153)
        return dpx.made_header(bits=16 if deep else 10, transfer=dpx.UNSPECIFIED_VIDEO,
                               frame_rate=None if rate is None else float(rate), time_code=source.time_code,
                               pixel_aspect=aspect, time_code_word=source.time_code_word)
    return exr.video_frame_header(rate, source.time_code, aspect, source.time_code_word)


def _write_dpx(rgb, path, alpha, like, creator, name) -> None:
    from rehue.data.dpx import dpx_file_bytes

    with open(path, "wb") as file:
        for piece in dpx_file_bytes(rgb, alpha, like=like, creator=creator and exif_ascii(creator), name=name):
            file.write(piece)


def deep_tiff_loss(exif) -> str | None:
    """What a 16-bit TIFF leaves out of ``exif``, in words: its Exif and GPS blocks (tifffile writes no
    sub-IFDs); None where it has neither."""
    lost = [] if exif is None else [name for pointer, name in ((EXIF_IFD, "Exif"), (GPS_IFD, "GPS")) if pointer in exif]
    if not lost:
        return None
    return (f"a 16-bit TIFF keeps the EXIF's text tags but not its {' and '.join(lost)} "
            f"{'blocks' if len(lost) > 1 else 'block'} (the date taken, the exposure"
            f"{', the place' if 'GPS' in lost else ''}); they are left out")


def exif_ascii(text: str) -> str:
    """``text`` in the 7-bit ASCII an EXIF text tag holds: accents dropped (``modèle`` as ``modele``) and any
    other character as its escape (``\\u6a21``), where Pillow would write ``?``."""
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return plain.encode("ascii", "backslashreplace").decode("ascii")


def _copy_exif(exif):
    """A copy of ``exif`` (a ``PIL.Image.Exif``) to add tags to, its text as the file held it
    (``_text_bytes``)."""
    import copy

    from PIL import Image

    try:
        source = _raw_text_tags(copy.deepcopy(exif))  # the caller's own is left as it was
    except Exception:  # one that cannot be copied so: its text as Pillow writes it
        source = exif
    written = Image.Exif()
    written.load(source.tobytes())
    return _raw_text_tags(written)


class _WrittenByPython(io.BufferedRandom):
    """A file Pillow writes through Python's own ``write``, which raises where the disk is full: handed the file's
    descriptor, its JPEG and uncompressed TIFF encoders take a short write for a whole one (probe 205)."""

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


def save_picture(image, path, fmt: str, **options) -> None:
    """``image.save`` into ``path`` in the format ``fmt`` (Pillow's name), a full disk an ``OSError``: before,
    `colorize noise.png -o full/n.jpg` wrote 12 kB of a 41 kB JPEG and said "coloured 1 file" (probe 205)."""
    with _WrittenByPython(io.FileIO(path, "w+")) as file:
        image.save(file, format=fmt, **options)


def _write_pillow(rgb, path, fmt, alpha, quality, dpi, exif, fast, xmp=None, text=None) -> None:
    from PIL import Image, PngImagePlugin

    image = Image.fromarray(rgb, "RGB")
    if alpha is not None and fmt in ("PNG", "WEBP", "TIFF"):
        image.putalpha(Image.fromarray(to_uint8(alpha), "L"))
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "PNG":  # zlib level 3: within a few percent of Pillow's default 6 in size, 2-3 times faster
        options["compress_level"] = 1 if fast else 3
    if dpi and fmt == "WEBP":  # Pillow writes no resolution into a WebP: its EXIF's says it (probe 161: lost)
        exif = _copy_exif(exif) if exif is not None else Image.Exif()
        exif[TIFF_X_RESOLUTION], exif[TIFF_Y_RESOLUTION], exif[TIFF_RESOLUTION_UNIT] = *dpi, INCH
    elif dpi:
        options["dpi"] = dpi
    if exif is not None:
        options["exif"] = exif
    if fmt == "JPEG" and (comment := (text or {}).get(COMMENT)):
        options["comment"] = comment.encode("utf-8")
    if fmt in ("JPEG", "WEBP") and xmp:
        options["xmp"] = xmp
    elif fmt == "TIFF":
        # one set of tags: Pillow writes its "tiffinfo" and then leaves out its "exif" (before, a TIFF with
        # XMP lost its EXIF, the Software tag too)
        tags = _copy_exif(options.pop("exif")) if exif is not None else Image.Exif()
        if xmp:
            tags[TIFF_XMP] = xmp
        # LZW with horizontal differencing, as scanners and Photoshop write it: a 6000x4000 photo in 40 MB, not
        # 72, in 0.6 s. Not where a camera's EXIF or GPS block is kept: Pillow compresses through libtiff,
        # which does not write them
        if not any(pointer in tags for pointer in (EXIF_IFD, GPS_IFD)):
            options["compression"] = "tiff_lzw"
            tags[TIFF_PREDICTOR] = HORIZONTAL_DIFFERENCING
        options["tiffinfo"] = tags
    elif fmt == "PNG" and (xmp or text):
        chunks = PngImagePlugin.PngInfo()
        for key, value in (text or {}).items():
            chunks.add_itxt(key, value) if not value.isascii() else chunks.add_text(key, value)
        if xmp:
            chunks.add_itxt(XMP_PNG_KEY, xmp.decode("utf-8", errors="replace"))
        options["pnginfo"] = chunks
    save_picture(image, path, fmt, **options)


def _write_deep(rgb, path, fmt, alpha, dpi, exif, xmp=None, text=None) -> None:
    """16-bit RGB(A): PNG through OpenCV, with the resolution and EXIF chunks put in; TIFF through tifffile."""
    import cv2

    planes = rgb if alpha is None else np.dstack([rgb, to_uint16(alpha)])
    if fmt == "PNG":
        ok, encoded = cv2.imencode(".png", cv2.cvtColor(planes, cv2.COLOR_RGB2BGR if alpha is None
                                                        else cv2.COLOR_RGBA2BGRA))
        if not ok:
            raise OSError("the PNG encoder failed")
        png = memoryview(encoded).cast("B")
        with open(path, "wb") as file:  # in pieces: a large scan's PNG is not copied whole twice more
            for piece in _png_with_chunks(png, dpi, exif, xmp, text):
                file.write(piece)
        return
    import tifffile

    tags, software = [], None
    if exif is not None:
        software = exif.get(SOFTWARE)
        for tag in EXIF_KEPT:
            value = _text_bytes(exif.get(tag))
            if isinstance(value, str | bytes) and value:  # the bytes of text that is not ASCII, as read (probe 93)
                tags.append((tag, "s", 0, value, True))
    if xmp:
        tags.append((700, "B", len(xmp), xmp, True))
    options = {"resolution": dpi, "resolutionunit": "INCH"} if dpi else {}
    tifffile.imwrite(path, planes, photometric="rgb", compression="zlib", metadata=None, software=software or False,
                     extrasamples=["unassalpha"] if alpha is not None else None, extratags=tags, **options)


def _png_with_chunks(png: memoryview, dpi, exif, xmp=None, text=None) -> tuple:
    """The pieces of ``png`` with a pHYs chunk for ``dpi``, an eXIf chunk for ``exif`` and iTXt chunks for
    ``text`` and ``xmp`` inserted after its header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    extra = b""
    if dpi:
        x, y = (round(value / 0.0254) for value in dpi)  # pixels per metre
        extra += chunk(b"pHYs", struct.pack(">IIB", x, y, 1))
    if exif is not None:
        data = exif.tobytes()
        extra += chunk(b"eXIf", data[6:] if data.startswith(b"Exif\x00\x00") else data)
    for key, value in [*(text or {}).items(), *([(XMP_PNG_KEY, xmp.decode("utf-8", errors="replace"))] if xmp
                                                else [])]:
        extra += chunk(b"iTXt", key.encode("latin-1", errors="replace")[:79] + b"\0\0\0\0\0" + value.encode())
    end_of_header = 8 + 4 + 4 + 13 + 4  # signature, then IHDR's length, type, 13 bytes and CRC
    return png[:end_of_header], extra, png[end_of_header:]


def check_input_file(path: Path, kind: str) -> None:
    """One line for an input that is no file to read: missing (a link to nothing, a loop of links), a folder,
    a pipe or a device (opening one waits for a writer), or empty. ``kind``: "an image", "a video file"."""
    if not path_exists(path):
        raise RehueError(missing_reason(path, "no such file"), path)
    if path.is_dir():
        raise RehueError(f"is a folder, not {kind}", path)
    if not path.is_file():
        raise RehueError("is a pipe or a device, not a file: save it as a file first", path)
    if path.stat().st_size == 0:
        raise RehueError("empty file", path)


CLUTTER = {"thumbs.db", "desktop.ini", ".ds_store", ".localized", ".directory"}  # what file managers leave in a
# folder: Windows', Finder's, KDE's


def is_clutter(name: str) -> bool:
    """Whether a file or folder of this name is no one's: a file manager's clutter, or the ``._`` copies macOS
    keeps of a file's attributes on other disks (probes 102 and 103: Finder's .DS_Store, left by opening a
    folder, refused a set's --overwrite). Other hidden entries are the user's, where rehue replaces a folder
    whole (probe 173: a .git and a .env went with a frame dataset's folder)."""
    return name.lower() in CLUTTER or name.startswith("._")


def holds_no_file(entry: Path) -> bool:
    """Whether ``entry`` is a folder with no file or link anywhere below it (one made ready for a run's
    output): nothing of the user's is in it."""
    if entry.is_symlink() or not entry.is_dir():
        return False
    return not any(files or any(Path(folder, name).is_symlink() for name in names)
                   for folder, names, files in os.walk(entry))


def refuse_a_folder_of_others(folder: Path, holds_no: str, name: str, ignore=None) -> None:
    """A RehueError where ``folder`` holds files of the user's, among which an output would go (``holds_no``:
    what the output is, ``name``: how to name a folder for it); hidden entries, folders with no file in them
    and those ``ignore`` takes (the output's own inputs) are no one's."""
    others = sorted(entry.name for entry in folder.iterdir()
                    if not entry.name.startswith(".") and not holds_no_file(entry) and not (ignore and ignore(entry)))
    if others:
        raise RehueError(f"holds {counted(len(others), 'other file or folder', 'other files or folders')}, such as "
                         f"{others[0]}, and no {holds_no}; name a new or empty folder for {name}", folder)


def real_path(path) -> Path:
    """``path`` absolute, with its links followed as far as they go: unlike ``Path.resolve`` on Python 3.11,
    a loop of links is no exception."""
    return Path(os.path.realpath(path))


def missing_reason(path: Path, reason: str = "no such file or folder") -> str:
    """Why ``path``, which does not exist, is missing: ``reason``, or for a link where it points."""
    if not Path(path).is_symlink():
        return reason
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"a link in a loop of links (to {shown_path(os.readlink(path))}), which leads to no file"
    return f"a link to {shown_path(os.readlink(path))}, which does not exist"


def is_inside(path, folder) -> bool:
    """Whether ``path`` is the folder ``folder`` or lies below it (a file ``folder`` holds nothing). Outputs
    written there would be read back as inputs: `iter_image_files` walks the whole folder."""
    folder_path = real_path(Path(folder).expanduser())
    return path_exists(folder_path) and folder_path.is_dir() and \
        real_path(Path(path).expanduser()).is_relative_to(folder_path)


def visible_files(root: Path, linked_folders: list[Path] | None = None):
    """Every file under the folder ``root``, recursively, sorted folder by folder; hidden files and
    folders (a Mac's ``._scan.jpg``, ``.git``) are passed over, and so are links to folders (which can
    loop), added to ``linked_folders`` when it is given."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if linked_folders is not None:
            linked_folders.extend(Path(dirpath) / d for d in dirnames if (Path(dirpath) / d).is_symlink())
        yield from (Path(dirpath) / name for name in sorted(filenames) if not name.startswith("."))


def hidden_media(root: Path) -> list[Path]:
    """The files under the folder ``root`` that `visible_files` passes over, hidden or in a hidden folder, whose
    extension names a picture or a film: what a folder that seems to hold none holds (``.scan.png``)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        hidden_folder = any(part.startswith(".") for part in Path(dirpath).relative_to(root).parts)
        found.extend(Path(dirpath) / name for name in sorted(filenames)
                     if (hidden_folder or name.startswith("."))
                     and Path(name).suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
    return found


def folder_media(root: Path) -> tuple[list[Path], list[Path], list[Path], list[Path]]:
    """One walk of the folder ``root``: its images (as `iter_image_files` orders them), its videos (as
    `iter_video_files` does), the pictures or films rehue does not read (``UNREAD_MEDIA_SUFFIXES``) and
    the links to folders, which are not followed."""
    linked: list[Path] = []
    files = list(visible_files(root, linked))
    kinds = {path: media_kind(path) for path in files}
    return ([p for p in files if kinds[p] == "image"], sorted(p for p in files if kinds[p] == "video"),
            [p for p in files if kinds[p] == "unread"], linked)


def iter_image_files(root: Path):
    """Every image file under ``root`` (recursively, sorted); ``root`` itself if it is a file."""
    root = Path(root)
    if root.is_file():
        yield root
        return
    yield from folder_media(root)[0]
