"""CIFAR-10 from its standard python batches (``cifar-10-batches-py/``) on local disk.

The batches are pickles; they are read with an unpickler that can build nothing but plain
containers and numpy arrays, so a hostile file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from rehue.errors import RehueError

TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
ARCHIVE_HINT = "get cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and unpack it"

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("_codecs", "encode"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    # pickle protocol 5 (pickle.HIGHEST_PROTOCOL) stores an array as its bytes: numpy.frombuffer of them, which
    # refuses object arrays (probe 115: a batch of one's own, saved so, was refused)
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _values_in(value) -> int:
    """How many numbers a batch's list (of lists, of bytes, of arrays) would make as an array, counted without
    making it: the lengths along its first items multiplied (probe 119: a list nested once more, or of byte
    strings, went past a count of two levels)."""
    if isinstance(value, np.ndarray):
        return 0  # stored whole in the file: no larger than it
    count = 1
    while isinstance(value, (list, tuple)):
        if not value:
            return 0
        count, value = count * len(value), value[0]
    if isinstance(value, (bytes, bytearray, str)):
        return count * len(value)
    return count * value.size if isinstance(value, np.ndarray) else count


def find_cifar_root(path: Path) -> Path:
    path = Path(path)
    if (path / "cifar-10-batches-py").is_dir():
        return path / "cifar-10-batches-py"
    return path


def cifar_form_hint(path: Path) -> str | None:
    """What to do with a form of CIFAR-10 rehue does not read, found in the folder ``path``: the archive
    as downloaded, or the binary version; None when neither is there."""
    path = Path(path)
    if not path.is_dir():
        return None
    names = [entry.name for entry in path.rglob("*") if entry.is_file()]
    archive = next((name for name in names if "cifar" in name.lower() and name.endswith((".tar.gz", ".tgz"))), None)
    if archive:
        return f"{archive} is the CIFAR-10 archive: unpack it (tar xzf {archive}) and give its cifar-10-batches-py"
    if any(name.startswith(("data_batch_", "test_batch")) and name.endswith(".bin") for name in names):
        return f"this is CIFAR-10's binary version and rehue reads the python version: {ARCHIVE_HINT}"
    return None


def is_cifar_dir(path: Path) -> bool:
    root = find_cifar_root(path)
    return root.is_dir() and any((root / name).exists() for name in [*TRAIN_BATCHES, TEST_BATCH])


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (N, 32, 32, 3) uint8 images and (N,) int64 labels."""
    try:
        raw = Path(path).read_bytes()
        batch = _ArraysOnly(io.BytesIO(raw), encoding="bytes").load()
    except FileNotFoundError:
        raise RehueError(f"CIFAR-10 batch missing ({ARCHIVE_HINT})", path) from None
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError) as exc:
        raise RehueError(f"not a CIFAR-10 python batch ({exc})", path) from None
    if not isinstance(batch, dict):
        raise RehueError(f"not a CIFAR-10 python batch: it holds a {type(batch).__name__}, not a batch's dictionary "
                         "of data and labels", path)
    batch = {key.encode() if isinstance(key, str) else key: value for key, value in batch.items()}  # one's own
    missing = [key.decode() for key in (b"data", b"labels") if key not in batch]
    if missing:
        raise RehueError(f"not a CIFAR-10 python batch: it has no {' and no '.join(missing)}", path)
    data, labels = batch[b"data"], batch[b"labels"]
    if isinstance(data, (bytes, bytearray)):  # the pixels as they are stored, one byte each (probe 117)
        data = np.frombuffer(data, np.uint8)
        data = data.reshape(-1, 3072) if data.size % 3072 == 0 else data
    for name, value in (("data", data), ("labels", labels)):
        if _values_in(value) > len(raw):  # a list pickled with one row referred to again and again (probe 117)
            raise RehueError(f"not a CIFAR-10 python batch: its {name} hold more values than its {len(raw):,} "
                             "bytes could store (one row referred to again and again?)", path)
    try:
        data = np.asarray(data)
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise RehueError(f"not a CIFAR-10 python batch: its data or labels are no arrays of numbers ({exc})",
                         path) from None
    if not data.size:
        raise RehueError("holds no images (a CIFAR-10 batch holds 10,000)", path)
    if data.dtype != np.uint8 and not (data.dtype.kind in "iu" and 0 <= data.min() <= data.max() <= 255):
        raise RehueError(f"not a CIFAR-10 python batch: its data is {data.dtype}, not bytes (0-255)", path)
    data = data.astype(np.uint8, copy=False)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise RehueError(f"not a CIFAR-10 python batch: its data is an array of shape {data.shape}, not one row "
                         "of 3,072 values (32x32, red, green, blue) per image", path)
    if labels.ndim != 1:
        raise RehueError(f"not a CIFAR-10 python batch: its labels are an array of shape {labels.shape}, not one "
                         "number per image", path)
    if labels.shape != (len(data),):
        raise RehueError(f"not a CIFAR-10 python batch: {len(data):,} images and {labels.size:,} labels", path)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def load_cifar10(path: Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``split`` "train" (data_batch_1..5, 50,000 images) or "test" (test_batch, 10,000)."""
    root = find_cifar_root(path)
    if not root.is_dir():
        raise RehueError(f"CIFAR-10 folder not found ({ARCHIVE_HINT})", root)
    names = TRAIN_BATCHES if split == "train" else [TEST_BATCH]
    for name in names:
        if not (root / name).exists():
            raise RehueError(f"CIFAR-10 batch {name} missing ({ARCHIVE_HINT})", root / name)
    parts = [read_batch(root / name) for name in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
