"""Checkpoints that survive SIGKILL: written to a temp file, fsynced, renamed, with a SHA-256 beside.

Loading uses ``torch.load(..., weights_only=True)``: nothing but tensors and plain containers.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
from pathlib import Path

from rehue.errors import RehueError, warnings_as
from rehue.models.io import atomic_write_bytes
from rehue.progress import lines_to

KEEP = 2
# What train() reads back from a checkpoint; a file without them is not one of rehue's.
STATE_KEYS = ("config", "epoch", "step", "history", "generator", "discriminator", "opt_g", "opt_d", "torch_rng")
_NAME = re.compile(r"epoch_(\d{4,})\.pt$")


def save_checkpoint(state: dict, directory: Path, epoch: int) -> Path:
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    path = directory / f"epoch_{epoch:04d}.pt"
    digest_file = path.with_suffix(".pt.sha256")
    if path.exists() and not digest_file.exists():  # an older rehue's save that failed half way
        path.unlink()
    # the checksum first: a kill between the two renames leaves a checksum of no file, which nothing lists,
    # where a checkpoint without one was listed as the newest and refused on every resume (probe 77)
    atomic_write_bytes(digest_file, (hashlib.sha256(data).hexdigest() + "\n").encode())
    try:
        atomic_write_bytes(path, data)
    except RehueError:  # a full disk: no checksum of no checkpoint left (probe 207)
        if not path.exists():
            digest_file.unlink(missing_ok=True)
        raise
    for old in list_checkpoints(directory)[:-KEEP]:
        old.unlink(missing_ok=True)
        old.with_suffix(".pt.sha256").unlink(missing_ok=True)
    # what a killed save left half written (``atomic_write_bytes``'s temporary files, each a checkpoint's size;
    # probe 78): one process at a time writes a run (``rehue.training.loop._RunLock``), so none is another's
    for stray in directory.glob(".epoch_*.pt*.tmp*"):
        stray.unlink(missing_ok=True)
    return path


def list_checkpoints(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted((p for p in directory.glob("epoch_*.pt") if _NAME.search(p.name)),
                  key=lambda p: int(_NAME.search(p.name).group(1)))


DIGEST_BYTES = 200  # a SHA-256 in hex, a newline: more is no checksum rehue wrote


def verify(path: Path) -> bytes:
    """The checkpoint's bytes if they match their recorded SHA-256; RehueError otherwise."""
    from rehue.models.io import regular_file_status

    digest_file = path.with_suffix(".pt.sha256")
    try:
        regular_file_status(path, "a checkpoint")  # a pipe would wait for a writer, /dev/zero never end
        regular_file_status(digest_file, "a checksum")
        with open(digest_file, "rb") as file:
            expected = file.read(DIGEST_BYTES).decode("ascii", errors="replace").strip()
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise RehueError(f"checkpoint incomplete ({Path(exc.filename).name} missing)", path) from None
    except RehueError as exc:
        if exc.reason == "no such file":
            raise RehueError(f"checkpoint incomplete ({Path(exc.path).name} missing)", path) from None
        raise
    if hashlib.sha256(data).hexdigest() != expected:
        raise RehueError("checkpoint is corrupt or truncated (SHA-256 mismatch)", path)
    return data


def _check_state(state: dict, path: Path) -> None:
    """A checkpoint's settings, counts and random state of the kinds a run saves (probe 142: a batch size of -1,
    an epoch saved as "2" or a random state of floats ended in a traceback). Its weights are checked against the
    model its settings build as they are loaded (``rehue.training.loop``)."""
    from dataclasses import replace

    import torch

    from rehue.training.config import TrainConfig

    if not isinstance(state["config"], dict):
        raise RehueError("not a rehue training checkpoint (its config is not a table of settings)", path)
    try:  # where the run was is not looked at here: a run folder may have moved since
        replace(TrainConfig.from_dict(TrainConfig.as_it_acted(state["config"])), data="", out="").check()
    except RehueError as exc:
        raise RehueError(f"a checkpoint of settings no run can use ({exc.reason})", path) from None
    for name in ("epoch", "step"):
        if isinstance(state[name], bool) or not isinstance(state[name], int) or state[name] < 0:
            raise RehueError(f"not a rehue training checkpoint (its {name} is {state[name]!r}, not a count)", path)
    rng, size = state["torch_rng"], torch.get_rng_state().numel()
    if not isinstance(state["history"], list) or not all(isinstance(record, dict) for record in state["history"]) or \
            not isinstance(rng, list) or not rng or not all(
            isinstance(item, torch.Tensor) and item.dtype == torch.uint8 and item.numel() == size for item in rng) or \
            not all(isinstance(state[name], dict) for name in ("generator", "discriminator", "opt_g", "opt_d")) or \
            not isinstance(state.get("restraint", {}), dict) or not isinstance(state.get("data_path", ""), str | None):
        raise RehueError("not a rehue training checkpoint (its history, random state, weights or record are not of "
                         "the kinds a run saves)", path)
    from rehue.models.io import inference_problem

    if problem := inference_problem(state.get("restraint", {}), named=False):  # probe 145: a model colorize refuses
        raise RehueError(f"a checkpoint of a restraint no model can keep ({problem})", path)


def _state_of(data: bytes, path: Path) -> dict:
    """A checkpoint's bytes as a run's state, loaded weights-only; a RehueError for any other file."""
    import torch

    if not data.startswith(b"PK\x03\x04"):  # not what torch.save writes: no pickle of another kind is read (a text
        # file was a KeyError of the unpickler, a plain pickle "refused" as though it were hostile: probe 224)
        raise RehueError("not a rehue training checkpoint (not the zip archive a run saves)", path)
    try:
        with warnings_as("ignore", UserWarning):  # PyTorch's of a pickle protocol it did not write (probe 228)
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):  # not a class or function named, which nothing of a run's is
            raise RehueError("not a readable checkpoint (its pickle is damaged, or not of the kind a run saves)",
                             path) from None
        raise RehueError("refused: the checkpoint holds something other than tensors and plain containers "
                         "(weights-only loading)", path) from None
    except (RuntimeError, EOFError, ValueError, KeyError, IndexError) as exc:
        # PyTorch's reader puts its source line first: "[enforce fail at inline_container.cc:180] . file in
        # archive is not in a subdirectory: readme.txt" (probe 228: the reason said was that prefix alone)
        message = re.sub(r"^\[enforce fail at [^\]]*\]\s*\.?\s*", "", str(exc))
        reason = message.split(". ")[0] if message else type(exc).__name__
        raise RehueError(f"not a readable checkpoint ({reason})", path) from None
    missing = [key for key in STATE_KEYS if key not in state] if isinstance(state, dict) else STATE_KEYS
    if missing:
        raise RehueError(f"not a rehue training checkpoint (lacks {', '.join(missing)})", path)
    _check_state(state, path)
    return state


def load_latest(directory: Path, log=None) -> tuple[dict, Path] | None:
    """The newest checkpoint whose checksum holds and which reads as a run's state; a damaged newer one is reported
    and left in place. One whose checksum holds and which does not read (its checksum written anew for it: probe
    224) gives way to an older one too; the oldest's refusal is the error."""
    log = lines_to(log)
    candidates = list_checkpoints(directory)
    if not candidates:
        return None
    for number, path in enumerate(reversed(candidates)):
        try:
            data = verify(path)
        except RehueError as exc:
            log(f"warning: {exc}; trying the previous checkpoint")
            continue
        try:
            return _state_of(data, path), path
        except RehueError as exc:
            if number + 1 == len(candidates):
                raise
            log(f"warning: {exc}; trying the previous checkpoint")
    # probe 113: "remove them" left a folder --resume could not start and --overwrite needed DATA for
    raise RehueError("no intact checkpoint to resume from: each is damaged or incomplete (said above); train the "
                     "run again from its start with the command that began it and --overwrite", directory)
