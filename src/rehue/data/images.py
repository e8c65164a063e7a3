"""Reading and writing image files, robust to what archives hold: 16-bit scans, palettes, CMYK,
alpha, EXIF rotation, truncated files and decompression bombs.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehue.errors import RehueError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pnm"}
OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
# Above this many pixels an image is refused: a 50,000 x 50,000 PNG header would need 7.5 GB to decode.
MAX_PIXELS = 120_000_000


@dataclass
class LoadedImage:
    """An image as rehue needs it: 8-bit RGB (gray images repeat one channel), optional alpha."""

    rgb: np.ndarray  # (H, W, 3) uint8
    alpha: np.ndarray | None  # (H, W) uint8 or None
    is_gray: bool
    path: str | None = None


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16 or array.max(initial=0) > 255:
        return np.round(array.astype(np.float32) * (255.0 / 65535.0)).astype(np.uint8)
    return np.clip(array, 0, 255).astype(np.uint8)


def pil_to_loaded(image, path: str | None = None) -> LoadedImage:
    """Convert any PIL image (already EXIF-transposed) to a :class:`LoadedImage`."""

    alpha = None
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA") or (mode == "RGBa"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.uint8)
        image = image.convert("RGB" if mode != "LA" else "L")
        mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        gray = np.asarray(image)
        if mode == "F":
            gray = np.clip(gray, 0.0, 1.0 if gray.max(initial=0) <= 1.0 else 255.0)
            gray = gray * (255.0 if gray.max(initial=0) <= 1.0 else 1.0)
        gray = _to_uint8(gray.astype(np.float32) if mode == "F" else gray)
        rgb = np.repeat(gray[..., None], 3, axis=2)
        return LoadedImage(rgb, alpha, True, path)
    if mode in ("L", "1"):
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        return LoadedImage(np.repeat(gray[..., None], 3, axis=2), alpha, True, path)
    if mode != "RGB":
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    rgb = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    is_gray = bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
    return LoadedImage(rgb, alpha, is_gray, path)


def load_image(path: str | Path) -> LoadedImage:
    """Read an image file; every failure is a :class:`RehueError` naming the file and the reason."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise RehueError("no such file", path)
    if path.is_dir():
        raise RehueError("is a folder, not an image", path)
    if path.stat().st_size == 0:
        raise RehueError("empty file", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise RehueError(f"image too large ({width}x{height} pixels; limit {MAX_PIXELS:,})", path)
                image.load()
                image = ImageOps.exif_transpose(image)
                return pil_to_loaded(image, str(path))
    except RehueError:
        raise
    except UnidentifiedImageError:
        raise RehueError("not an image file (or a format Pillow cannot read)", path) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RehueError(f"image too large ({exc})", path) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason.lower() or "broken data stream" in reason or isinstance(exc, EOFError):
            reason = f"truncated or corrupt image ({reason})"
        raise RehueError(reason, path) from None


def temp_path_for(target: Path) -> Path:
    """A temporary name beside ``target`` that keeps its extension (encoders pick the format by it)."""
    return target.with_name(f".{target.stem}.rehue-tmp{os.getpid()}{target.suffix}")


def check_output_path(target: Path, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    target = Path(target)
    for source in inputs:
        try:
            if target.exists() and target.samefile(source) or target.resolve() == Path(source).resolve():
                raise RehueError("output is the same file as the input; choose another output path", target)
        except OSError:
            pass
    if target.exists() and not overwrite:
        raise RehueError("output exists; pass --overwrite to replace it", target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise RehueError("output folder is a file" if parent.exists() else "output folder does not exist", parent)
    if not os.access(parent, os.W_OK):
        raise RehueError("output folder is not writable", parent)


def save_image(rgb: np.ndarray, path: str | Path, alpha: np.ndarray | None = None, *, quality: int = 95) -> Path:
    """Write ``rgb`` (and alpha where the format holds it) atomically; format from the extension."""
    from PIL import Image

    path = Path(path)
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise RehueError(f"unsupported output extension {path.suffix!r}; use one of "
                         f"{', '.join(sorted(OUTPUT_FORMATS))}", path)
    image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if alpha is not None and fmt in ("PNG", "WEBP", "TIFF"):
        image.putalpha(Image.fromarray(alpha, "L"))
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    tmp = temp_path_for(path)
    try:
        image.save(tmp, format=fmt, **options)
        os.replace(tmp, path)
    except OSError as exc:
        raise RehueError(f"cannot write image ({exc.strerror or exc})", path) from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return path


def iter_image_files(root: Path):
    """Every image file under ``root`` (recursively, sorted); ``root`` itself if it is a file."""
    root = Path(root)
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            candidate = Path(dirpath) / name
            if is_image_path(candidate) and not name.startswith("."):
                yield candidate
