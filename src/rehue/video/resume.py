"""Going on with a film of numbered frames where an interrupted run stopped.

``colorize_frames`` writes a film's coloured frames into a hidden folder beside the output and moves them
there when all are done. Interrupted (Ctrl-C, SIGTERM) it keeps that folder, and a killed run (``kill -9``,
a power cut) leaves it anyway. A journal in it says what the run was: its settings, the frames it read
(name, size, time of change), the scenes it found and, every ``PIECE_FRAMES`` frames, the colouring's state
(``SceneColorizer.states``). The same command, run again, takes the folder over and goes on from the last
of those points with every frame before it written: the start of a scene, since a scene's first frame is
coloured from its own lightness alone (scene detection starts afresh there), or a frame in a shot, coloured
on from the state saved. The frames after it come out as an uninterrupted run colours them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path

from rehue.data.images import (
    RESUMABLE,
    _named,
    _staging_prefix,
    process_running,
    process_started_at,
    runs_python,
    sniffed_kind,
)
from rehue.errors import BeingWritten, RehueError

JOURNAL = RESUMABLE
SCENES = ".rehue-resume-scenes.txt"  # the scenes found, a line each, added as they are found
VERSION = 3  # 2: the frames' inode change times and numbers; 3: the scenes in a file of their own
MOVING = ".rehue-resume-moving"  # every frame coloured, and being moved into place, one by one


@dataclass
class Interrupted:
    """An interrupted run's hidden folder of coloured frames, and the frame to go on from: the first of a
    scene, or one in the middle of a shot whose colouring's ``state`` was saved, with every frame before it
    in the folder."""

    staging: Path
    start: int
    settings: dict
    time: float | None = None  # in a video, the time of that frame, which the run going on seeks to
    state: Path | None = None
    damaged_state: int | None = None  # a later frame whose state was saved, and has changed since


STATES = ".rehue-resume-states.txt"  # states saved in the middle of shots, a line each, added as they are saved
STATES_KEPT = 3  # the newest saved: the frames before an older one are all written, most likely


def state_file(index: int) -> str:
    return f".rehue-resume-state-{index:09d}.npz"  # remove_journal knows them by this start


def save_state(path: Path, state: dict) -> tuple[int, int]:
    """The colouring's state (``SceneColorizer.states``) saved as arrays, which ``load_state`` reads back
    without pickling, and on the disk whole; its size and CRC-32."""
    import io

    import numpy as np

    buffer = io.BytesIO()  # its bytes in hand for their CRC: not read back from the disk
    np.savez(buffer, **state)
    data = buffer.getvalue()
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    return len(data), zlib.crc32(data)


def load_state(path: Path) -> dict:
    import numpy as np

    with np.load(path, allow_pickle=False) as saved:
        return dict(saved)


def remove_journal(staging: Path) -> None:
    """The journal's files gone from ``staging``, which then holds the coloured frames alone."""
    for name in os.listdir(staging):
        if name in (JOURNAL, SCENES, STATES, MOVING) or name.startswith(".rehue-resume-state-"):
            (staging / name).unlink(missing_ok=True)


def add_state(staging: Path, index: int, state: dict, time: float | None = None) -> None:
    """The colouring's state before frame ``index`` (its ``time`` in a video), saved for a run going on in
    the middle of a shot: its file, then its line in the list; only the newest ``STATES_KEPT`` are kept."""
    size, crc = save_state(staging / state_file(index), state)
    _write_synced(staging / STATES, f"{index} {size} {crc}" + ("" if time is None else f" {time!r}") + "\n", "a")
    for older in sorted(saved_states(staging))[:-STATES_KEPT]:
        with contextlib.suppress(OSError):
            (staging / state_file(older)).unlink()


def saved_states(staging: Path) -> dict[int, tuple[int, int, float | None]]:
    """The states a journal lists, each with its file's size and CRC-32 and its frame's time; a line a power
    cut left half-written is not one."""
    try:
        lines = (staging / STATES).read_text(encoding="ascii", errors="replace").split("\n")
    except OSError:
        return {}
    found = {}
    for line in lines[:-1]:
        fields = line.split(" ")
        try:
            index, size, crc = (int(field) for field in fields[:3])
            found[index] = (size, crc, float(fields[3]) if len(fields) > 3 else None)
        except ValueError:
            continue
    return found


def frame_stats(frames: list[Path], content: bool = False) -> list[list]:
    """What says a frame file is unchanged: its name, size, file number and times of change. The inode's
    change time too, which no program can set: a frame written again and given back its old modification
    time (``cp -p``, ``rsync -t``, ``tar``) looks unchanged by size and that time alone (probe 27). With
    ``content``, a video's: its ``content_sample`` as well, by which a film moved to another disk or copied
    with its times since (a new file number, a new change time) is still known for the same (`same_frames`)."""
    stats = []
    for frame in frames:
        status = frame.stat()
        stats.append([frame.name, status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino,
                      *([content_sample(frame)] if content else [])])
    return stats


SAMPLE_BLOCKS, SAMPLE_BLOCK_BYTES = 64, 1 << 16


def content_sample(path: Path) -> str:
    """A hash of a file's size and of ``SAMPLE_BLOCKS`` blocks spread evenly through it, its first and last
    among them (the whole of a file under 4 MiB): a few milliseconds for a film of any length, where hashing
    all of it would take minutes. Another film, a film cut, encoded again or grown differs in it."""
    import hashlib

    if not path.is_file():  # a pipe, a device: opening it waits for a writer (its own error comes when it is read)
        return ""
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            digest.update(size.to_bytes(8, "little"))
            if size <= SAMPLE_BLOCKS * SAMPLE_BLOCK_BYTES:
                digest.update(file.read())
            else:
                step = (size - SAMPLE_BLOCK_BYTES) / (SAMPLE_BLOCKS - 1)
                for block in range(SAMPLE_BLOCKS):
                    file.seek(round(block * step))
                    digest.update(file.read(SAMPLE_BLOCK_BYTES))
    except OSError:  # unreadable: its own error comes when it is read
        return ""
    return digest.hexdigest()


def same_frames(written, stats: list[list]) -> bool:
    """Whether a journal's frames (``written``) are those of ``stats``: each file of the same name, size,
    times and file number, or, for a video whose file number and change time changed since (moved to another
    disk, copied with ``cp -p`` or ``rsync -a``), of the same name, size, modification time and
    ``content_sample``. A film whose modification time changed (written to, touched, copied without its times)
    is another: the sample alone misses a few bytes changed between its blocks (probe 53: one byte
    inverted, and the run went on with 65 frames of the old film's colours). A journal of an earlier rehue,
    without the sample, is compared without it."""
    if not isinstance(written, list) or len(written) != len(stats):
        return False
    for kept, row in zip(written, stats, strict=True):
        if not isinstance(kept, list) or kept[:5] != row[:5] and not (
                len(kept) == len(row) == 6 and kept[:3] == row[:3] and kept[5] == row[5]):
            return False
    return True


def write_journal(staging: Path, settings: dict, stats: list[list], scene_starts: list[int],
                  times: dict[int, float | None] | None = None) -> None:
    """The journal of a run writing into ``staging``, written whole before it takes its name: its settings,
    its frames (a video's file) and the scenes found so far, with their first frames' ``times`` in a video
    (a run taken over goes on with those of the run before)."""
    journal = {"version": VERSION, "settings": settings, "frames": stats}
    _write_synced(staging / f"{JOURNAL}.tmp", json.dumps(journal))
    os.replace(staging / f"{JOURNAL}.tmp", staging / JOURNAL)
    _write_synced(staging / SCENES, "".join(f"{start}\n" if (times or {}).get(start) is None
                                            else f"{start} {times[start]!r}\n" for start in scene_starts))


def _write_synced(path: Path, text: str, mode: str = "w") -> None:
    """Write (or with ``mode`` "a", add) ``text`` and have it on the disk before returning: a journal's lines
    are only ever ones a power cut cannot undo."""
    with open(path, mode, encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def add_scene_start(staging: Path, start: int, time: float | None = None) -> None:
    """A scene found: one line added to the journal's list, not the journal (a 30,000-frame film's is
    megabytes) written again; with the ``time`` of its first frame in a video, which a run going on from
    it seeks to."""
    _write_synced(staging / SCENES, f"{start}\n" if time is None else f"{start} {time!r}\n", "a")


def scene_start_times(staging: Path) -> dict[int, float | None]:
    """The scene starts a journal lists, each with its first frame's time in a video (None in a folder of
    frames); a line a power cut left half-written is not one."""
    try:
        lines = (staging / SCENES).read_text(encoding="ascii", errors="replace").split("\n")
    except OSError:
        return {}
    found = {}
    for line in lines[:-1]:  # the last piece has no newline yet
        start, _, time = line.partition(" ")
        if not start.isdigit():
            continue
        try:
            found[int(start)] = float(time) if time else None
        except ValueError:
            continue
    return found


def has_journal(folder: Path) -> bool:
    return (Path(folder) / JOURNAL).is_file()


def mark_moving(staging: Path, overwrite: bool) -> None:
    """Say in ``staging`` that its run coloured every frame and is moving them into place (over frames there,
    with ``overwrite``): killed then (by SIGKILL or a power cut, which no signal handler holds), the folder
    holds part of the film and its hidden folder the rest, and the same command puts the rest in place
    (`moving_run`)."""
    (staging / MOVING).write_bytes(b"overwrite" if overwrite else b"")


def moved_over(staging: Path) -> bool:
    """Whether the run that left ``staging`` was moving its frames into place over others (`mark_moving`)."""
    try:
        return (staging / MOVING).read_bytes() == b"overwrite"
    except OSError:
        return False


def was_moving(target: Path) -> bool:
    """Whether an interrupted run for ``target`` was killed while it moved its frames into place."""
    return any((staging / MOVING).is_file() for staging in interrupted_runs(target))


def moving_run(target: Path, settings: dict, stats: list[list]) -> Path | None:
    """The hidden folder of an interrupted run of ``settings`` on the frames of ``stats`` that was killed while
    it moved its coloured frames into place, if there is one."""
    for staging in interrupted_runs(target):
        if (staging / MOVING).is_file() and _run_of(_read(staging), settings, stats):
            return staging
    return None


# the hidden folders this process is writing into now: one of its own that is not among them was left by
# an interrupted call (a notebook's cell run again after Ctrl-C)
writing_now: set[str] = set()


def interrupted_runs(target: Path) -> list[Path]:
    """The hidden folders that runs no longer running left for ``target``, with a journal in them."""
    target = _named(target)
    prefix = _staging_prefix(target)
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            match = re.fullmatch(re.escape(prefix) + r"(\d+)", entry.name)
            if not match or not entry.is_dir(follow_symlinks=False) or not has_journal(Path(entry.path)):
                continue
            pid = int(match[1])
            if pid == os.getpid() and os.path.abspath(entry.path) not in writing_now or \
                    pid != os.getpid() and not _being_written(Path(entry.path), pid):  # probe 137: a process
                # still there whose call was stopped (a notebook's) is writing it no longer
                found.append(Path(entry.path))
    return sorted(found)


def _run_of(journal: dict | None, settings: dict, stats: list[list]) -> bool:
    """Whether ``journal`` is that of a run of ``settings`` on the frames of ``stats``."""
    return journal is not None and journal.get("settings") == settings and same_frames(journal.get("frames"), stats)


def _read(staging: Path) -> dict | None:
    try:
        journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return journal if isinstance(journal, dict) and journal.get("version") == VERSION else None


def _remove_all_but(staging: Path, kept: set[str]) -> None:
    """Remove what an interrupted run left in ``staging`` beyond what a run going on takes over: half-written
    files, and those after the point it goes on from."""
    for name in set(os.listdir(staging)) - kept:
        path = staging / name
        with contextlib.suppress(OSError):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


_locks: dict[str, int] = {}  # the hidden folders this process writes into now, each open and locked (flock)
_HOLDING = threading.Lock()  # a hidden folder found free and held by one thread at a time


def _lock(staging: Path) -> None:
    """Hold a lock on the folder ``staging`` while this process writes into it: another process tells a run going
    on from one interrupted (a notebook's call stopped, its process still there) by it, and the kernel lets
    it go when the process ends, however it ends. Where the file system keeps no locks, none is held."""
    from time import sleep

    try:
        import fcntl
    except ImportError:  # not POSIX
        return
    try:
        descriptor = os.open(staging, os.O_RDONLY)
    except OSError:
        return
    for _ in range(50):  # another process's look (`_being_written`) holds it for an instant
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _locks[os.path.abspath(staging)] = descriptor
            return
        except BlockingIOError:
            sleep(0.01)
        except OSError:
            break
    os.close(descriptor)


def _unlock(key: str) -> None:
    descriptor = _locks.pop(key, None)
    if descriptor is not None:
        with contextlib.suppress(OSError):
            os.close(descriptor)


def _being_written(folder: Path, pid: int) -> bool:
    """Whether another process, ``pid``, is writing into its hidden folder ``folder`` now: it holds the folder's
    lock. Without locks (not POSIX, or a file system that keeps none), whether that process is alive, a
    Python's, and started before the folder last changed (a number given since to a later process is not it)."""
    if not 0 < pid < 2**31 or not process_running(pid):
        return False
    try:
        import fcntl
    except ImportError:
        fcntl = None
    if fcntl is not None:
        try:
            descriptor = os.open(folder, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            pass  # no locks here: the process's own signs below
        else:
            return False  # let go as the descriptor closes
        finally:
            os.close(descriptor)
    started = process_started_at(pid)
    with contextlib.suppress(OSError):
        if started is not None and started > folder.stat().st_ctime + 1:
            return False
    return runs_python(pid)


def writing_elsewhere(staging: Path) -> tuple[int, Path] | None:
    """Another process's hidden folder for the output that ``staging`` (this process's) is for, being written
    now (`_being_written`): (its process number, the folder), else None."""
    mine = str(os.getpid())
    if not staging.name.endswith(mine):
        return None
    prefix = staging.name[:-len(mine)]
    with contextlib.suppress(OSError):
        for entry in os.scandir(staging.parent):
            match = re.fullmatch(re.escape(prefix) + r"(\d+)", entry.name)
            if match and match[1] != mine and entry.is_dir(follow_symlinks=False) and \
                    _being_written(Path(entry.path), int(match[1])):
                return int(match[1]), Path(entry.path)
    return None


def refuse_if_written_elsewhere(staging: Path, output: Path) -> None:
    """A RehueError naming ``output`` where another rehue writes it now (``writing_elsewhere``). Asked before a
    run reads the film and loads its models, as well as when it holds its hidden folder (probe 137: the run
    refused drew its bar at 0% first)."""
    if (other := writing_elsewhere(staging)) is not None:
        raise BeingWritten(f"another rehue (process {other[0]}) is colouring this output now, into {other[1].name}; "
                         "wait for it to finish, or name another output", output)


def _end_hold(key: str, removed: Path | None) -> None:
    writing_now.discard(key)
    _unlock(key)
    if removed is not None:
        shutil.rmtree(removed, ignore_errors=True)


def hold_staging(owner, staging: Path, taken_over: Path | None, failure: str, error_path: Path,
                 output: Path | None = None) -> weakref.finalize:
    """Make the hidden folder ``staging`` that ``owner`` writes into, or take over an interrupted run's
    (``taken_over``, renamed to it), mark it as being written (``writing_now``) and lock it (`_lock`). The
    finalizer returned removes a folder made here when ``owner`` is dropped (or at exit), should an interrupt
    land before the caller's ``try`` holds it; one taken over stays, for the next run. ``release_staging``
    ends the hold. A folder that cannot be made is a RehueError of ``failure``, naming ``error_path``; another
    rehue writing ``output`` now is one naming it (probe 127: two runs on one film each coloured all of it, and
    the second, refused the output at the end, left its hidden folder, the size of the film)."""
    if output is not None:
        refuse_if_written_elsewhere(staging, output)
    key = os.path.abspath(staging)
    with _HOLDING:  # the look and the hold as one step: two threads cannot both find the folder free
        if key in writing_now:  # another thread of this process: its hold is left alone (probe 139: let go of)
            raise BeingWritten("another call of this process is colouring this output now; wait for it to finish, or "
                             "name another output", output or error_path)
        # the finalizer first: an interrupt landing just after the folder is made finds it held
        cleanup = weakref.finalize(owner, _end_hold, key, None if taken_over is not None else staging)
        writing_now.add(key)
    try:
        if taken_over is not None:
            os.rename(taken_over, staging)
        else:
            staging.mkdir(parents=True)
    except OSError as exc:
        release_staging(staging, cleanup)
        raise RehueError(f"{failure} ({exc.strerror or exc})", error_path) from None
    _lock(staging)
    return cleanup


def release_staging(staging: Path, cleanup: weakref.finalize) -> None:
    cleanup.detach()
    writing_now.discard(os.path.abspath(staging))
    _unlock(os.path.abspath(staging))


def _begins_as_a_picture(path: Path) -> bool:
    """Whether a kept frame begins as its format does: a file a crash left full of zeros (its blocks given,
    its data never written) is coloured again, not taken (probe 39). Damage further in is not looked for:
    each frame was on the disk whole before it took its name."""
    try:
        with open(path, "rb") as file:
            return sniffed_kind(file.read(64)) == "image"
    except OSError:
        return False


def resumable(staging: Path, settings: dict, stats: list[list], names: list[str]) -> Interrupted | None:
    """The point ``staging`` can be gone on from by a run of ``settings`` on frames of ``stats`` written as
    ``names``; None where its run was another (other settings, other frames) or where it holds no whole
    scene. The frames from that point on are removed from it, and any half-written file."""
    journal = _read(staging)
    if journal is None or journal.get("settings") != settings:
        return None
    written = journal.get("frames")
    if not isinstance(written, list) or [row[0] for row in written if isinstance(row, list)] != \
            [row[0] for row in stats]:
        return None
    try:  # a frame is on the disk whole once it has its name (``save_image(durable=True)``); an empty one is not
        present = {entry.name for entry in os.scandir(staging) if entry.is_file(follow_symlinks=False)
                   and entry.stat(follow_symlinks=False).st_size > 0}
    except OSError:
        return None
    scene_times = scene_start_times(staging)
    points = {start: (time, None) for start, time in scene_times.items()}
    damaged, states = [], saved_states(staging)
    for index, (size, crc, time) in states.items():  # in a shot: with the colouring's state
        if index in points:
            continue
        if _unchanged(staging / state_file(index), size, crc):
            points[index] = (time, state_file(index))
        elif (staging / state_file(index)).exists():  # not one of the older ones removed as newer were saved
            damaged.append(index)
    start = 0
    for point in sorted(points):
        if not 0 < point <= len(names):
            break
        if all(name in present and _begins_as_a_picture(staging / name) for name in names[start:point]) and \
                same_frames(written[start:point], stats[start:point]):
            start = point
        else:
            break
    if start == 0:
        return None
    time, state = points[start]
    earlier = {state_file(index) for index in states if index <= start}  # to go back to, if damaged
    _remove_all_but(staging, set(names[:start]) | {JOURNAL, SCENES, STATES} | earlier)
    return Interrupted(staging, start, settings, time, staging / state if state else None,
                       max((index for index in damaged if index > start), default=None))


PIECES = ".rehue-resume-pieces.txt"  # a video's finished pieces, a line each, added as they are finished


@dataclass
class Piece:
    """A finished piece of a video being coloured into one file (``rehue.video.pieces``): its encoded frames
    in ``file``, of ``size`` bytes whose CRC-32 is ``crc32``; ``next_time``, the time of the frame after it,
    which starts a scene (None for the film's last piece, and after a joint of recordings, where no time in
    the file can be sought); ``origin`` and ``last_pts``, where the output's time 0 is and its last frame's
    time, on the source's timeline; ``last``, whether it ends the film: a run stopped with every piece
    finished (while they were joined, or by a full disk then) is gone on from by joining them. A piece that
    ends in the middle of a shot has the colouring's state there (``SceneColorizer.states``) in ``state``,
    a file of ``state_size`` bytes whose CRC-32 is ``state_crc32``."""

    file: str
    frames: int
    size: int
    crc32: int
    origin: int
    last_pts: int
    next_time: float | None
    last: bool = False
    state: str | None = None
    state_size: int = 0
    state_crc32: int = 0


@dataclass
class InterruptedVideo:
    """An interrupted run's hidden folder of finished pieces of a video, and where to go on: the frame after
    the last piece, the first of a scene, at ``time``."""

    staging: Path
    pieces: list[Piece]
    damaged: int = 0  # frames of the pieces after them, which were damaged since they were written

    @property
    def start(self) -> int:
        return sum(piece.frames for piece in self.pieces)

    @property
    def time(self) -> float | None:
        return self.pieces[-1].next_time if self.pieces else None

    @property
    def state(self) -> Path | None:
        """The colouring's state to go on from, where the last piece ends in the middle of a shot."""
        return self.staging / self.pieces[-1].state if self.pieces and self.pieces[-1].state else None

    @property
    def done(self) -> bool:
        """Whether the pieces hold the whole film, which is only to be joined."""
        return bool(self.pieces) and self.pieces[-1].last


def add_piece(staging: Path, piece: Piece) -> None:
    """A piece finished, its file on the disk whole: one line added to the list of pieces."""
    _write_synced(staging / PIECES, json.dumps(piece.__dict__) + "\n", "a")


def _unchanged(path: Path, size: int, crc32: int) -> bool:
    """Whether a piece's file is as it was finished: its size and its CRC-32 (a flipped bit, a block of
    another file after a crash)."""
    try:
        if os.stat(path, follow_symlinks=False).st_size != size:
            return False
        crc = 0
        with open(path, "rb") as file:
            while block := file.read(1 << 20):
                crc = zlib.crc32(block, crc)
        return crc == crc32
    except OSError:
        return False


def listed_pieces(staging: Path) -> tuple[list[Piece], int]:
    """The pieces the list in ``staging`` holds, up to its first line that is cut short or no piece's, and how many
    whole lines it has."""
    try:
        lines = (staging / PIECES).read_text(encoding="ascii", errors="replace").split("\n")
    except OSError:
        lines = [""]
    listed = []
    for line in lines[:-1]:  # the last piece of the text has no newline yet
        try:
            listed.append(Piece(**json.loads(line)))
        except (ValueError, TypeError):
            break
    return listed, len(lines) - 1


def resumable_video(staging: Path, settings: dict, stats: list[list]) -> InterruptedVideo | None:
    """The finished pieces in ``staging`` that a run of ``settings`` on the video of ``stats`` can go on from,
    up to the first that is not whole; none where it finished none (stopped in its first piece, or all
    damaged). None where its run was another. The rest of the folder is removed."""
    journal = _read(staging)
    if not _run_of(journal, settings, stats):
        return None
    pieces, (listed, lines) = [], listed_pieces(staging)
    damaged = False
    for piece in listed:
        name = f"piece-{len(pieces) + 1:06d}"
        if piece.next_time is None and not piece.last:  # after a joint of recordings: no time to seek to
            break
        if piece.file != f"{name}.packets" or piece.state not in (None, f"{name}.state.npz") or \
                not _unchanged(staging / piece.file, piece.size, piece.crc32):
            damaged = True
            break
        pieces.append(piece)
        if piece.last:
            break
    # only the last piece's state is gone on from: an earlier one's damaged costs nothing (probe 47: it cost all)
    while pieces and pieces[-1].state is not None and not pieces[-1].last and \
            not _unchanged(staging / pieces[-1].state, pieces[-1].state_size, pieces[-1].state_crc32):
        damaged = True
        pieces.pop()
    lost = sum(piece.frames for piece in listed) - sum(piece.frames for piece in pieces) if damaged else 0
    if not pieces:
        return InterruptedVideo(staging, [], lost)
    _remove_all_but(staging, {piece.file for piece in pieces} | {piece.state for piece in pieces if piece.state} |
                    {JOURNAL, SCENES, PIECES})
    if len(pieces) < lines:
        _write_synced(staging / PIECES, "".join(json.dumps(piece.__dict__) + "\n" for piece in pieces))
    return InterruptedVideo(staging, pieces, lost)


def say_what_was_kept(exc: BaseException, kept: int, staging: Path, subject, frame: str, log, *,
                      which: str = "coloured up to the scene it stopped in", going_on: str | None = None) -> None:
    """Say that a run stopped by ``exc`` kept ``kept`` frames (``which`` they are) in ``staging`` and goes on
    from ``frame`` (or does ``going_on`` with them): for an interrupt, in a note (on the exception too, so
    that --quiet, which leaves notes unsaid, says it with the interrupt); for an error, in its one line,
    raised in its place."""
    said = (f"the {kept:,} frames {which} are kept in {staging}, and once that is put right the same command "
            f"{going_on or f'goes on from frame {frame}'}")
    if isinstance(exc, KeyboardInterrupt):
        from rehue.progress import close_bars

        said = f"{subject}: interrupted; " + said.replace("once that is put right ", "")
        exc.add_note(said)
        close_bars()  # the bar's last line, then what was kept (probe 180: after it, a count above the frames kept)
        log(said)
    elif isinstance(exc, RehueError):
        raise RehueError(f"{exc.reason}; {said}", exc.path) from None


# how the settings a journal keeps are named to a user, where not by their own names
SETTING_NAMES = {"software": "model", "ffmpeg": "FFmpeg", "side_by_side": "side-by-side", "scene_mode": "scene mode"}


def what_differs(staging: Path, settings: dict, stats: list[list]) -> str:
    """Why an interrupted run's journal in ``staging`` is not one to go on from by a run of ``settings`` on
    the frames of ``stats``: the settings that differ, by name, or the film."""
    journal = _read(staging) or {}
    kept = journal.get("settings")
    if isinstance(kept, dict) and kept != settings:
        differ = [SETTING_NAMES.get(key, key) for key in sorted(set(kept) | set(settings))
                  if kept.get(key) != settings.get(key)]
        return f"made with other settings ({', '.join(differ)})"
    if not same_frames(journal.get("frames"), stats):
        return "made from another film (or this one changed, moved or renamed since)"
    return "damaged"
