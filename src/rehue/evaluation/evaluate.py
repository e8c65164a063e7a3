"""``rehue evaluate``: a model against ground truth on photos, frame datasets or colour videos,
always beside the gray answer (a*b* = 0) on the same images, so the numbers mean something."""

from __future__ import annotations

import itertools
import math
import numbers
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rehue.data.images import as_it_will_be, has_colour, is_video_path
from rehue.errors import RehueError, UsageError, check_flags, path_exists, shown_path
from rehue.evaluation.metrics import (
    GRAY_BASELINE,
    SSIM_MIN_SIDE,
    MetricTable,
    TemporalStability,
    evaluate_pair,
    gray_baseline,
)
from rehue.models.io import CHECKPOINT_SUFFIXES, read_json_file
from rehue.progress import lines_to, said_once
from rehue.words import counted


@dataclass
class EvaluationResult:
    table: MetricTable
    paths: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)


def square_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop resized to ``size`` (how the thesis measures at the model's working size)."""
    import cv2

    height, width = rgb.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = np.ascontiguousarray(rgb[top : top + side, left : left + side])
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def _image_sources(inputs: list[Path], log, films: bool = False):
    """The evaluation images and videos, for frames of a frame dataset the clip each comes from (its frames
    are one unit of evidence, as a video's are), and the names of the videos whose frames are scored; frame
    datasets contribute their test split (all their frames, with a note, where they have none). With
    ``films``, each folder is one film's numbered frames, scored as a video is. A file named twice, or the
    same picture twice, is scored once: a copy would count as more evidence (probe 46)."""
    from rehue.data.datasets import check_frames_folder, is_frame_dir, read_frame_manifest, warn_of_links_outside
    from rehue.data.frames import FINGERPRINT_FIELD
    from rehue.data.images import folder_media, media_kind, missing_reason, without_copies
    from rehue.video.pipeline import film_frames, holds_frame_files

    images, videos, clips, frame_videos, frame_fingerprints = [], [], {}, {}, {}
    frameless = 0
    for source in inputs:
        source = Path(source)
        if not source.exists():
            raise RehueError(missing_reason(source), source)
        if films:
            if not source.is_dir():
                raise UsageError(f"{source}: --frames takes folders of numbered frames, one film each, not a file")
            try:
                framed = holds_frame_files(source)
                dataset = None if framed else source if is_frame_dir(source) else next(
                    (child for child in sorted(source.iterdir()) if child.is_dir() and is_frame_dir(child)), None)
                # frames first: a reel beside a scanner's manifest.csv and frames/ is a film (probe 204)
            except OSError:  # unreadable: said as its frames are read
                framed, dataset = None, None
            if dataset is not None:  # probes 202, 203: "skipping ds: no image frames in this folder", exit 0
                raise UsageError(f"{dataset}: a frame dataset, not one film's numbered frames: name it without "
                                 "--frames, which scores its held-out videos' frames")
            if framed is False and len(inputs) == 1:  # why there are none, before the dependent model is loaded or
                # warned of (probe 204: a folder of reels refused after the dependent model's own error); one of
                # several is passed over with a warning as it is scored (probe 210)
                film_frames(source, lambda message: None, done="read")
            frameless += framed is False
            videos.append(source)
        elif source.is_file() and media_kind(source) == "video":
            videos.append(source)
        elif is_frame_dir(source):
            rows = read_frame_manifest(source)
            test = [r for r in rows if r.get("split") == "test"]
            if not test and rows:
                log(f"note: {source}: the frame dataset holds out no video, so all its {len(rows):,} frames are "
                    "scored (`rehue train` refuses such a set, having no video to validate on)")
            test = test or rows
            warn_of_links_outside(source, [source / r["path"] for r in test], log)
            images += [source / r["path"] for r in test]
            clips.update({source / r["path"]: f"{source}: {r['video']}" for r in test if r.get("video")})
            frame_videos.setdefault(source, set()).update(r["video"] for r in test if r.get("video"))
            frame_fingerprints.setdefault(source, {}).update(
                {r["video"]: r[FINGERPRINT_FIELD] for r in test if r.get("video") and r.get(FINGERPRINT_FIELD)})
        elif source.is_dir():
            check_frames_folder(source)
            held = _held_out(source)
            found_images, found_videos, _, _ = folder_media(source)  # one walk: each file's kind is read once
            if not found_images and not found_videos and len(inputs) > 1:  # probe 175: passed over without a word
                log(f"warning: {shown_path(source)}: holds no photo, clip or frame dataset; passed over")
            images += [f for f in found_images if held is None or f.relative_to(source).as_posix() in held]
            videos += [p for p in found_videos if held is None or p.relative_to(source).as_posix() in held]
            if held is None:
                _note_numbered_frames(source, [f for f in found_images if f.parent == source], log)
        else:
            images.append(source)
    if films and frameless == len(inputs):  # not "no image could be read", after a warning for each (probe 210)
        raise RehueError("none of these folders holds image frames", ", ".join(map(str, inputs)))
    images, (videos, copies) = _once_each(images, log, units=clips), without_copies(_once_each(videos, log))
    if copies:  # probe 70: a copied or hard-linked clip, a copied reel, counted twice ("+0.24 to +0.24 dB")
        copy, original = next(iter(copies.items()))
        log(f"note: {len(copies)} of the films are copies of another (such as {shown_path(copy)}, of "
            f"{shown_path(original)}); each is scored once, as one piece of evidence")
    return images, videos, clips, frame_videos, frame_fingerprints


def _units_given_as_files(videos: list[Path], frame_fingerprints: dict) -> dict[str, Path]:
    """A frame dataset's test videos that are a video file given too (the same file, by `video_fingerprint`), each
    with that file: one clip, scored once, as the video, every frame of it (probe 157: two units of one clip,
    "clearly above" gray)."""
    from rehue.data.frames import video_fingerprint

    in_datasets: dict[str, list[str]] = {}  # each video's units in the datasets: one in each (probe 158)
    for folder, fingerprints in frame_fingerprints.items():
        for video, fingerprint in fingerprints.items():
            in_datasets.setdefault(fingerprint, []).append(f"{folder}: {video}")
    twice = {}  # a dataset's unit: the video file given that it is
    for video in videos if in_datasets else ():
        try:
            units = in_datasets.get(video_fingerprint(video), []) if Path(video).is_file() else []
        except OSError:  # unreadable: its error comes when it is scored
            continue
        twice.update(dict.fromkeys(units, video))
    return twice


def _frames_of_videos_given(images: list[Path], videos: list[Path], clips: dict, twice: dict, log) -> list[Path]:
    """``images`` less the frames of a frame dataset's test video given as a file too (``twice``), said where the
    file is scored."""
    scored = {unit: video for unit, video in twice.items() if video in videos}  # not those --limit left out
    if scored:
        unit, video = next(iter(scored.items()))
        files = len(set(scored.values()))
        log(f"note: {counted(files, 'video')} given as a file {'is' if files == 1 else 'are'} also a frame "
            f"dataset's test video (such as {shown_path(video)}, as {unit}); each is scored once, as the video file, "
            "one piece of evidence")
    return [image for image in images if clips.get(image) not in twice]


FILM_NOTE_FRAMES = 24  # a second of film: fewer numbered pictures are more likely a few photos


def _note_numbered_frames(folder: Path, pictures: list[Path], log) -> None:
    """A note where a folder's pictures all follow one numbering, as a film's frames do: scored as photos, a
    reel's frames count as that many photos, and its stability and drift go unmeasured (probe 61)."""
    from rehue.video.pipeline import numbering_of

    if len(pictures) < FILM_NOTE_FRAMES:
        return
    _, _, main_pattern, count = numbering_of(pictures)
    if main_pattern is not None and count == len(pictures):
        log(f"note: {folder}: its {len(pictures):,} pictures are numbered alike, as a film's frames are, and are "
            "scored as that many photos; if they are one film's frames, --frames scores the folder as one film "
            "(its stability and colour drift too)")


def _once_each(paths: list[Path], log, units: dict | None = None) -> list[Path]:
    """``paths`` without a file named again (by another path, a link) and, with ``units`` (a frame's clip),
    without a picture whose bytes are those of one of another unit (a copy; the same still twice in one clip
    is two of its frames); a note says how many were left out."""
    import hashlib

    from rehue.data.images import real_path

    def size(path: Path) -> int | None:
        try:
            return os.stat(path).st_size
        except OSError:  # unreadable: its error comes when it is scored
            return None

    # only a file whose size another's shares is read for its bytes: a folder of photos is not read twice
    sizes = {path: size(path) for path in paths} if units is not None else {}
    shared = Counter(sizes.values())
    kept, paths_seen, pictures_seen, again = [], set(), {}, []
    for path in paths:
        real = real_path(path)
        picture = None
        if sizes.get(path) is not None and shared[sizes[path]] > 1:
            try:
                picture = hashlib.sha256(Path(path).read_bytes()).digest()
            except OSError:
                pass
        unit = units.get(path, real) if units is not None else real
        if real in paths_seen or picture is not None and pictures_seen.get(picture, unit) != unit:
            again.append(path)
            continue
        paths_seen.add(real)
        if picture is not None:
            pictures_seen.setdefault(picture, unit)
        kept.append(path)
    if again:
        log(f"note: {len(again)} of the inputs are the same file as another, or the same picture (such as "
            f"{shown_path(again[0])}); each is scored once, as one piece of evidence")
    return kept


def _held_out(root: Path) -> set[str] | None:
    """A demo-style manifest marks which files training must not see; evaluate on exactly those."""
    from rehue.data.datasets import _read_manifest_rows, _with_paths

    rows = _read_manifest_rows(root)
    if rows and "kind" in rows[0]:  # a demo-style set's, as training reads it: its files named, or refused
        _with_paths(root / "manifest.csv", rows)
    if not rows or "split" not in rows[0] or "path" not in rows[0]:  # a manifest of the user's own, not a set's
        return None
    return {r["path"] for r in rows if r.get("split") in ("test", "held_out", "val")}


NEEDS_COLOUR = "evaluate needs colour ground truth; colour a gray photo with `rehue colorize`"


def _training_folder(model, card) -> Path | None:
    """The folder of photos (or frame dataset) the model was trained on, by its absolute path: its card's
    ``data`` (absolute from stop 46), read, where an older rehue kept it as typed, relative, from the folder its
    run was started in (the run's ``config.json`` beside the model says how ``--out`` was typed). None where
    that cannot be told."""

    from rehue.training.config import started_in_folder

    data = card.training.get("data")
    if not data:
        return None
    if Path(data).expanduser().is_absolute():
        return Path(data).expanduser()
    given = Path(model)
    run = given if given.is_dir() else given.parent
    try:
        out = read_json_file(run / "config.json", "the run's config", "a run's config")["out"]
    except (RehueError, KeyError, TypeError):
        return None
    started_in = started_in_folder(str(out), run) if isinstance(out, str) else None
    return None if started_in is None else started_in / data


def training_folders(model, card) -> list[Path]:
    """Every folder the model learnt from that can be told: its data, and the folders a resumed run learnt from
    before it (its card's ``earlier_data``, absolute; probes 72 and 73)."""
    return [root for root in (_training_folder(model, card), *map(Path, card.training.get("earlier_data", ())))
            if root is not None]


def warn_of_training_photos(model, card, name: str, sources: list[Path], log, shipped: bool = False) -> None:
    """Says how many of ``sources`` lie in the photos the model ``model`` of ``card`` was trained on (its card
    names them): a model scores well on what it learnt, so those scores are not held out. Photos that a set's
    manifest holds out, and a frame dataset's test frames, are not counted. ``shipped``: a shipped model, whose
    card names where it was built."""
    from rehue.data.datasets import is_frame_dir
    from rehue.data.images import real_path

    roots = training_folders(model, card)
    if not roots and shipped:  # its card's "data/demo" is where it was built, not here (probe 124)
        roots = _demo_sets_around(sources)
    for root in roots:
        if root.is_dir() and not is_frame_dir(root):
            _warn_of_photos_in(real_path(root), name, sources, log)


def _demo_sets_around(sources: list[Path]) -> list[Path]:
    """The demo sets (`rehue data demo`'s folders, known by their manifest's columns) that hold any of
    ``sources``, their folder or the one above it: the shipped models learnt from such a set's training split,
    wherever a user built it (`rehue evaluate data/demo/photos` scored their training photos without a word)."""
    from rehue.data.demo import MANIFEST_FIELDS
    from rehue.data.manifests import read_header

    found, looked = [], set()
    for source in sources:
        for folder in list(Path(source).resolve().parents)[:3]:
            if folder in looked:
                continue
            looked.add(folder)
            if not (folder / "manifest.csv").is_file():
                continue
            try:
                columns = read_header(folder / "manifest.csv")[0]
            except (OSError, RehueError):
                continue
            if set(MANIFEST_FIELDS) <= set(columns):
                found.append(folder)
    return found


def _warn_of_photos_in(root: Path, name: str, sources: list[Path], log) -> None:
    from rehue.data.datasets import _read_manifest_rows
    from rehue.data.images import real_path

    resolved = {source: real_path(source) for source in sources}  # each once, the folder once
    inside = [source for source in sources if resolved[source].is_relative_to(root)]
    rows = _read_manifest_rows(root)
    if rows is not None:
        taught = {real_path(root / row["path"]) for row in rows
                  if row.get("path") and row.get("split", "train") == "train"}
        inside = [source for source in inside if resolved[source] in taught]
    if inside:
        if len(sources) == 1:  # probe 61: "1 of the 1 photos and clips lie in"
            log(f"warning: {shown_path(inside[0])} lies in {shown_path(root)}, which {name} was trained on: it taught "
                "it, unless its training held it out for validation, so its score is not held out")
            return
        log(f"warning: {len(inside)} of the {len(sources)} photos and clips lie in {shown_path(root)}, which {name} "
            f"was trained on (such as {shown_path(inside[0])}): {'they' if len(inside) > 1 else 'it'} taught it, "
            "except any its training held out for validation, so their scores are not held out")


def warn_of_trained_videos(model, card, name: str, scored: dict[Path, set[str]], log,
                           what: str = "their scores are not held out") -> None:
    """Says which of the videos whose frames are ``scored`` (by frame dataset) the model ``model`` of ``card``
    was trained on: its card names the videos of the frame dataset it learnt from, and a frame dataset built
    again with another split holds out a video a model made before learnt from, so its scores look held out
    (probe 46). Only the dataset it was trained on counts: another's video of the same name is another video
    (probe 48); where that folder cannot be told, nothing is said."""
    from rehue.data.images import real_path

    roots = training_folders(model, card)
    if not roots or not card.training.get("videos"):
        return
    learnt = {real_path(root) for root in roots}
    scored_here = set().union(*(names for folder, names in scored.items() if real_path(folder) in learnt))
    taught = sorted(scored_here & set(card.training["videos"]))
    if taught:
        which = f"the video whose frames are scored ({taught[0]})" if len(scored_here) == 1 else \
            f"{len(taught)} of the {len(scored_here)} videos whose frames are scored ({', '.join(taught[:3])}" \
            f"{', ...' if len(taught) > 3 else ''})"
        log(f"warning: {name} was trained on {which}: {what} (a frame dataset built again with another split "
            "holds out other videos)")


def warn_of_learnt_video_files(model, card, name: str, videos: list[Path], frame_fingerprints: dict[Path, dict],
                               log, what: str | None = None, known: dict | None = None) -> None:
    """Says which of the scored videos, each given as a file, as a film's numbered frames (``--frames``:
    `film_fingerprint`) or as a frame dataset's test frames (``frame_fingerprints``: by folder, each video's
    fingerprint), are the very files the model's frame
    dataset learnt from (its card lists them from stop 46): scored by itself, or in a dataset built again
    elsewhere with another split, a video it learnt from scored as held out (probe 84). The dataset it was
    trained on is `warn_of_trained_videos`'s. ``what``: what is not held out (default: their scores)."""
    from rehue.data.frames import film_fingerprint, video_fingerprint
    from rehue.data.images import real_path
    from rehue.video.pipeline import film_frames

    learnt = set(card.training.get("video_fingerprints", ()))
    if not learnt:
        return
    trained_in = {real_path(root) for root in training_folders(model, card)}
    known = {} if known is None else known  # each video's fingerprint, taken once for every model warned of
    scored: dict[str, str] = {}  # each video once, by its fingerprint: a file and a dataset's frames of it too
    films = set()  # of them, the films of numbered frames named (--frames)
    for video in videos:
        if video not in known:
            try:
                known[video] = video_fingerprint(video) if Path(video).is_file() else film_fingerprint(
                    film_frames(Path(video), lambda line: None, done="read")) if Path(video).is_dir() else None
            except (OSError, RehueError):  # unreadable: its error comes when it is scored
                known[video] = None
        if known[video] is not None:
            named = scored.setdefault(known[video], Path(video).name)
            if Path(video).is_dir():
                films.add(named)
    for folder, fingerprints in frame_fingerprints.items():
        if real_path(folder) not in trained_in:
            for video, fingerprint in sorted(fingerprints.items()):
                if scored.setdefault(fingerprint, video) == video and not is_video_path(Path(video)):
                    films.add(video)  # a reel the dataset was built from (probe 202: "the same file" of it)
    taught = sorted(video for fingerprint, video in scored.items() if fingerprint in learnt)
    if taught:
        # probe 201: "the same file" of a reel, a folder
        kind = "films" if set(taught) <= films else "files" if not films & set(taught) else "both"
        one, several = {"films": ("frames as a film", "frames as films"),
                        "files": ("file as a video", "files as videos"),
                        "both": ("file or frames as a video", "files or frames as videos")}[kind]
        which = f"the video scored here ({taught[0]}): the same {one}" if len(scored) == 1 else \
            f"{len(taught)} of the {len(scored)} videos scored here ({', '.join(taught[:3])}" \
            f"{', ...' if len(taught) > 3 else ''}): the same {one if len(taught) == 1 else several}"
        log(f"warning: {name} was trained on {which} of the frame dataset it learnt from, so "
            + (what or f"{'their scores are' if len(taught) > 1 else 'its score is'} not held out"))


def evaluate(model, inputs: list[Path], out_dir: Path, *, dependent_model: str = "default", full_res: bool = False,
             limit: int = 0, video_frames: int = 300, device: str = "auto", progress: bool = True,
             log=None, fit: str | None = None, chroma: float | None = None,
             against=None, overwrite: bool = False, films: bool = False) -> EvaluationResult:
    """Score ``model`` (at ``chroma``, default its own) on ``inputs`` beside the gray answer, and, with
    ``against``, beside a second model at its own settings on the same images (its videos paired with
    the dependent model "default" picks for it): the report then says how sure the difference is.

    With ``films``, each of ``inputs`` is a folder of one colour film's numbered frames (a scanned reel),
    scored as a colour video is: one unit of evidence, the dependent model within its scenes, its temporal
    stability. An earlier report in ``out_dir`` is refused before anything is scored, unless ``overwrite``."""
    check_flags(full_res=full_res, progress=progress, overwrite=overwrite, films=films)
    from rehue.data.datasets import is_frame_dir
    from rehue.data.images import check_folder_can_be_made, is_inside, load_image, paths_given, real_path
    from rehue.evaluation.report import earlier_report, half_moved_report, write_report, written_by_a_report
    from rehue.inference.colorizer import FITS, Colorizer
    from rehue.progress import progress_bar

    log = said_once(lines_to(log, progress))  # a note on how the models pair is the same for every clip
    inputs = paths_given(inputs)
    if inputs is None or not all(isinstance(path, (str, os.PathLike)) for path in inputs):  # probe 75: TypeErrors
        raise UsageError("inputs are a path or a list of paths to photos, clips and frame datasets")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise UsageError(f"out_dir is the report folder's path, not {out_dir!r}")
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
        raise UsageError(f"limit must be a whole number (0: every image), not {limit!r}")
    if isinstance(video_frames, bool) or not isinstance(video_frames, numbers.Integral):  # probe 88: "3", 1.5
        raise UsageError(f"video_frames must be a whole number, not {video_frames!r}")
    if any(isinstance(path, str) and not path for path in [*inputs, out_dir]):  # "" is "." (probe 66)
        raise UsageError("an empty path names no file or folder")
    if (given_model := next((Path(source) for source in inputs if _holds_a_model(Path(source))), None)) is not None:
        # probe 174: `evaluate runs/a/model.safetensors photos` scored the shipped model, exit 0
        what = ("a training run, not a photo, clip or frame dataset to score; give it as model"
                if given_model.is_dir() else
                "weights to colour with, not a photo, clip or frame dataset to score; give them as model"
                if given_model.suffix.lower() == ".safetensors" else
                "a training checkpoint (for rehue train --resume), not a photo, clip or frame dataset to score"
                + ("; give its run's model.safetensors as model" if  # no path here: its words would be options'
                   (given_model.parent.parent / "model.safetensors").is_file() else ""))
        raise UsageError(what, given_model, settings=("model",))
    out_dir = as_it_will_be(out_dir)  # "reports/new/..": its earlier report is looked for where it will be
    if path_exists(out_dir) and not out_dir.is_dir():
        raise RehueError("is a file; --out names the report folder", out_dir)
    if (half := half_moved_report(out_dir)) is not None:
        log(f"warning: {out_dir}: its report is half replaced: a run killed as it moved its files in left the rest "
            f"in {half}; {'this run writes a whole one' if overwrite else 'pass --overwrite to write a whole one'}")
    earlier = earlier_report(out_dir)
    if foreign := [name for name in earlier if not written_by_a_report(out_dir / name)]:
        raise RehueError(f"holds a {foreign[0]} that no rehue report wrote, which the report's would replace; move "
                         "it, or name another --out", out_dir)
    if not overwrite and earlier:
        raise RehueError(f"holds an earlier report ({', '.join(earlier)}); pass --overwrite to replace it "
                         "or name another --out", out_dir)
    if any(is_inside(out_dir, source) for source in inputs):
        raise UsageError("the report folder must not be inside the photos it scores: its pictures would be "
                         "scored as photos next time", out_dir)
    within = [folder for path in (Path(os.path.abspath(out_dir)), real_path(out_dir))  # through a link (probe 100)
              for folder in (path, *path.parents)]
    if (dataset := next((folder for folder in within if is_frame_dir(folder)), None)):
        raise UsageError(f"the report folder must not be inside the frame dataset {shown_path(dataset)}: `rehue "
                         "frames --overwrite` would refuse to replace a set holding it", out_dir)  # probe 99
    check_folder_can_be_made(out_dir)
    if limit < 0:
        raise UsageError(f"limit must be at least 0 (0: every image), not {limit}")
    if video_frames < 1:
        raise UsageError(f"video_frames must be at least 1, not {video_frames}")
    if fit is not None and fit not in FITS:
        raise UsageError(f"unknown fit {fit!r}; choose one of: {', '.join(FITS)}")
    if fit is not None and not full_res:
        raise UsageError(f"fit {fit} changes only photos scored with full_res: at the working size each photo "
                         "is a centre crop of the model's size, shown to it whole", settings=("fit", "full_res"))
    colorizer = Colorizer.load_independent(model, device=device, fit=fit, chroma=chroma)
    if chroma is not None:  # checked: -0 as 0 (probe 229: "a x-0", "chroma: -0.0")
        chroma = float(chroma) + 0.0
    rival = None if against is None else Colorizer.load_independent(against, device=device, fit=fit)
    if rival is not None and chroma is None and (digest := _weights_digest(colorizer)) == _weights_digest(rival):
        log(f"note: --against {against} holds the same weights as --model {model} (sha256 {digest}): the two score "
            "alike on photos")  # probe 172: called "level", not a word of why; probe 175: of a shipped model too
    name = _row_name(model) + ("" if chroma is None else f" x{chroma:g}")
    if name == GRAY_BASELINE:  # probe 199: "gray baseline.safetensors" scored into the gray row
        name += " (model)"
    rival_name = None if rival is None else _row_name(against)
    while rival_name in (name, GRAY_BASELINE):  # probe 201: "gray baseline (against)" named as --model too
        rival_name += " (against)"
    images, videos, clips, frame_videos, frame_fingerprints = _image_sources(inputs, log, films)
    if fit is not None and not images:  # probe 143: unused without a word
        log(f"note: --fit {fit} is not used: it fits photos, and a clip's or a film's frames are always letterboxed "
            "(thesis 4.1)")
    if dependent_model != "default" and not videos:
        log("note: --dependent-model is not used: it colours videos and films (--frames), and photos and a frame "
            "dataset's test frames are scored one by one")
    twice = _units_given_as_files(videos, frame_fingerprints)
    units = list(dict.fromkeys(clips.get(image, image) for image in images  # a frame dataset's video once, and not
                               if clips.get(image) not in twice))  # where given as a file too (probe 233)
    found = len(units) + len(videos)
    if limit:  # files, photos first: a clip counts once, for up to ``video_frames`` frames; a frame dataset's
        # video once, for its frames (probe 229: its frames were counted, "the first 3 of 30", all of one video)
        kept = set(units[:limit])
        images = [image for image in images if clips.get(image, image) in kept]
        videos = videos[:limit - len(kept)]
        if found > limit:  # probe 120: left out without a word, and the report did not say so
            log(f"note: scoring the first {limit} of {found} photos and videos found (--limit {limit})")
    # of the videos scored (probe 159: before --limit, a clip left out by it was scored nowhere)
    images = _frames_of_videos_given(images, videos, clips, twice, log)
    if not images and not videos:
        from rehue.data.cifar import is_cifar_dir

        cifar = any(is_cifar_dir(Path(p)) for p in inputs)
        raise RehueError("nothing to evaluate: no images, frame datasets or videos found"
                         + ("; a CIFAR-10 folder is scored by rehue grid-search, on its test batch" if cifar else ""),
                         ", ".join(map(str, inputs)))
    not_held_out = []  # into the report too (probe 157: on stderr alone, the report's verdicts read as held out)

    def warn_and_keep(message: str) -> None:
        log(message)
        not_held_out.append(message.removeprefix("warning: "))

    paired = None  # loaded as each clip loads it, its errors before any warning (probes 201, 203: warned of, then
    # refused as no dependent model)
    if videos and dependent_model not in ("none", "default"):
        from rehue.video.pipeline import load_dependent

        paired = load_dependent(dependent_model, colorizer.for_video(), lambda line: None)
    scorers = [(given, scored, scored_name) for given, scored, scored_name in
               ((model, colorizer, name), (against, rival, rival_name)) if scored is not None]
    fingerprints = {}  # a reel's, read from its every frame, once (probe 204: once for each model)
    for given, scored, scored_name in scorers:
        warn_of_trained_videos(given, scored.card, scored_name, frame_videos, warn_and_keep)
        warn_of_learnt_video_files(given, scored.card, scored_name, videos, frame_fingerprints, warn_and_keep,
                                   known=fingerprints)
    if paired is not None:  # it colours a clip's frames within scenes, the frame dataset's test frames not (probe
        # 199: a clip it learnt from scored without a word)
        warn_of_learnt_video_files(dependent_model, paired.card, f"the dependent model {_row_name(dependent_model)}",
                                   videos, {}, warn_and_keep, known=fingerprints)
    result = EvaluationResult(MetricTable())
    grid, gray_truths, rehue_coloured, without_colour, enlarged = [], 0, [], [], []
    skipped_why = []  # into the report too (probe 229: "images: 29", and not a word of the one left out)
    cut_gray = False  # a clip whose frames read have no colour, where more may (probe 234)

    def skip(path: Path, why: str) -> None:
        result.skipped.append(str(path))
        skipped_why.append(f"{shown_path(path)}: {why}")

    # both models of a comparison score the same truths, at the larger one's size, whichever is named first
    size = max(colorizer.size, rival.size if rival is not None else 0)
    for path in progress_bar(images, desc="scoring", unit="image", disable=not progress or not images, leave=False):
        try:
            loaded = load_image(path)
        except RehueError as exc:
            if found == 1:  # the one photo: its reason is the error (probe 143: a warning, then "no image could be
                raise  # read", which -q left alone)
            log(f"warning: skipping {exc}")
            skip(path, exc.reason)
            continue
        truth = loaded.rgb
        if loaded.coloured_by_rehue:
            rehue_coloured.append(path)
            skip(path, "rehue coloured it (or drew it)")
            gray_truths += 1
            continue
        if not has_colour(truth):
            if found == 1:  # the one photo named, not the first of several under --limit (probe 90)
                raise RehueError(f"has no colour to score against ({NEEDS_COLOUR})", path)
            without_colour.append(path)
            skip(path, "has no colour to score against")
            gray_truths += 1
            continue
        if not full_res:
            if min(truth.shape[:2]) < size:
                enlarged.append(path)
            truth = square_crop(truth, size)
        elif min(truth.shape[:2]) < SSIM_MIN_SIDE:  # probe 120: a thumbnail ended a folder's scoring
            if found == 1:
                raise RehueError(f"image is {truth.shape[1]}x{truth.shape[0]}; SSIM needs at least {SSIM_MIN_SIDE} "
                                 "pixels a side (without --full-res it is scored enlarged)", path)
            too_small = (f"image is {truth.shape[1]}x{truth.shape[0]}, too small to score at full resolution (SSIM "
                         f"needs at least {SSIM_MIN_SIDE} pixels a side)")
            log(f"warning: skipping {shown_path(path)}: {too_small}")
            skip(path, too_small)
            continue
        output = colorizer.colorize(truth)
        gray = gray_baseline(truth)
        unit = clips.get(path, path)
        result.table.add(name, evaluate_pair(output, truth, path), unit, path)
        result.table.add(GRAY_BASELINE, evaluate_pair(gray, truth, path), unit, path)
        shown = (gray, truth, output)
        if rival is not None:
            shown += (rival.colorize(truth),)
            result.table.add(rival_name, evaluate_pair(shown[-1], truth, path), unit, path)
        if len(grid) < 8:
            grid.append(shown)
    if rehue_coloured:  # one line for each kind, not one for each of thousands of photos
        log(f"warning: skipping {counted(len(rehue_coloured), 'picture')} that rehue coloured (or drew: a "
            f"report's sample grid or plot), such as {shown_path(rehue_coloured[0])}: their colours are a model's "
            "guess, not a truth to score against")
    if without_colour:
        log(f"warning: skipping {counted(len(without_colour), 'photo')} with no colour to score against, such as "
            f"{shown_path(without_colour[0])} ({NEEDS_COLOUR})")
    if enlarged:  # probe 99: a frame dataset's 32 px frames scored at 128 without a word
        scored = len(result.table.rows.get(name, ()))  # not those skipped (probe 100)
        log(f"note: {counted(len(enlarged), 'picture')} of {scored:,} {'is' if len(enlarged) == 1 else 'are'} "
            f"smaller than {size}x{size}, such as {shown_path(enlarged[0])}, and scored enlarged to it, a soft truth "
            "(--full-res scores each at its own size)")
    # clips are scored at one size for both models, so their frames' scores pair up
    long_side = None if full_res else 2 * size
    called = _video_names(videos)
    from rehue.models.io import default_model_name

    rival_dependent = "default"  # the rival at its own settings: the shipped pair, or a model of one's own alone
    if rival is not None and videos and not (rival.shipped and rival.name == default_model_name("video")):
        rival_dependent = "none"  # probe 143: the note for the rival said "--dependent-model pairs one", which
        # pairs one with --model only
        # probe 145: "..., not X's" of a copy of it named by its path; probe 157: of the shipped dependent model
        # alone, where --dependent-model named one's own
        why = "--dependent-model pairs with --model alone" if dependent_model not in ("default", "none") else \
            f"the shipped dependent model pairs only with the shipped {default_model_name('video')}, given by that name"
        log(f"note: --against {rival_name} colours each frame of a clip alone: {why}")
    for video in videos:
        shown = []  # its first frame: gray, truth, output (and the rival's output)
        try:
            stats = _evaluate_video(colorizer, video, dependent_model, result.table, name, shown, video_frames,
                                    long_side, progress, log, alone=found == 1)
        except _UnreadableClip as exc:  # probe 128: an empty .mp4 ended the evaluation, every photo scored
            log(f"warning: skipping {exc}")
            skip(video, exc.reason)
            continue
        if isinstance(stats, _Skipped) or stats is _COLOURED_BY_REHUE:
            skip(video, stats.reason if isinstance(stats, _Skipped) else "rehue coloured it")
            cut_gray = cut_gray or isinstance(stats, _Skipped) and stats.cut
            gray_truths += 1
            if stats is _COLOURED_BY_REHUE:  # probe 201: films alone, "no colour image to score against"
                rehue_coloured.append(video)
            continue
        result.extra[f"video {called[video]}"] = stats
        if rival is not None:
            theirs = []
            stats = _evaluate_video(rival, video, rival_dependent, result.table, rival_name, theirs, video_frames,
                                    long_side, progress, log, with_gray=False)
            result.extra[f"video {called[video]}, {rival_name}"] = stats
            shown = [(*mine, other[2]) for mine, other in zip(shown, theirs, strict=True)]
        if len(grid) < 8:
            grid.extend(shown)
    skipped = set(result.skipped)  # of the photos and clips scored (probe 172: "1 of the 2", one of them gray)
    for given, scored, scored_name in scorers:
        warn_of_training_photos(given, scored.card, scored_name,
                                [source for source in images + videos if str(source) not in skipped], warn_and_keep,
                                scored.shipped)
    if not_held_out:
        result.extra["not_held_out"] = not_held_out
    if skipped_why:
        result.extra["skipped"] = skipped_why
    if not result.table.rows:
        if rehue_coloured and len(rehue_coloured) == gray_truths:  # probe 39: rehue's own outputs alone
            raise RehueError("every picture here was coloured (or drawn) by rehue: their colours are a model's guess, "
                             "not a truth to score against (evaluate needs the colour originals)",
                             ", ".join(map(str, inputs)))
        among = f" among the first {limit} of {found} (--limit {limit})" if limit and found > limit else ""
        unread = "no image could be read" if not videos else "no photo or video could be scored" if images else \
            f"no {'film' if films else 'video'} could be scored"  # a reel, most of it read (probe 233)
        cut = "; a larger --video-frames reads further" if cut_gray else ""  # probe 234: "no colour image", no more
        raise RehueError(("no colour image to score against" + cut if gray_truths else unread) + among,
                         ", ".join(map(str, inputs)))
    result.extra["images"] = len(result.table.rows[name])
    if full_res:
        result.extra["resolution"] = "full"
    else:
        framed = sum(image in clips for image in images)  # a frame dataset's, not photos (probe 107)
        pictures = "frames" if framed == len(images) else "photos and frames" if framed else "photos"
        scaled = {pictures: f"centre crop at {size}x{size}" if images else None,
                  "videos": f"whole frames, the long side at most {long_side} px" if videos else None}
        result.extra["resolution"] = "; ".join(f"{kind}: {words}" for kind, words in scaled.items() if words)
    if full_res and images:
        result.extra["photo_fit"] = colorizer.fit
    result.extra["model"] = str(model)
    if limit and found > limit:
        result.extra["limit"] = f"the first {limit} of {found} photos and videos found"
    if chroma is not None:
        result.extra["chroma"] = chroma
    if rival is not None:
        result.extra["against"] = str(against)
    titles = ("Gray", "Ground truth", "Output") if rival is None else ("Gray", "Ground truth", name, rival_name)
    result.paths = write_report(out_dir, result.table, grid, result.extra, titles=titles, overwrite=overwrite,
                                log=log)
    return result


def _weights_digest(colorizer) -> str:
    """The start of the SHA-256 of the weights ``colorizer`` colours with (a shipped model's as a file's)."""
    if colorizer.fingerprint:
        return colorizer.fingerprint
    from rehue.models.io import file_sha256, shipped_models

    return file_sha256(shipped_models()[colorizer.name])[:12]


MODEL_SUFFIXES = (".safetensors", *CHECKPOINT_SUFFIXES)  # weights, or a training checkpoint


def _holds_a_model(source: Path) -> bool:
    """Whether ``source`` is a model's file (or a training checkpoint) or a training run's folder (a photo folder
    a model was copied into is not one: probe 175)."""
    if path_exists(source) and source.is_dir():
        return (source / "model.safetensors").is_file() and any(
            (source / name).exists() for name in ("config.json", "metrics.jsonl", "checkpoints"))
    return source.suffix.lower() in MODEL_SUFFIXES and source.is_file()


def _row_name(model) -> str:
    """A table row's name for a model: a run's ``model.safetensors`` (every run's file is so named) is
    called by its run folder, ``runs/reel7`` as ``reel7/model``."""
    if str(model) == "default":
        return "rehue (shipped)"
    path = Path(str(model))
    if path.is_dir():
        return f"{path.name}/model"
    return f"{path.parent.name}/{path.stem}" if path.stem == "model" and path.parent.name else path.stem


def _video_names(videos: list[Path]) -> dict[Path, str]:
    """Each clip's name in the report: its file's, or, where two share one (``A/clip.mp4``, ``B/clip.mp4``; a
    scanner's reels, each ``frames``), its path from the folder they share (probe 120: the second one's figures
    replaced the first's)."""
    own = {video: Path(os.path.abspath(video)).name for video in videos}  # `--frames .`: the folder's (probe 150)
    names = Counter(own.values())
    shared = os.path.commonpath([os.path.abspath(video) for video in videos]) if len(videos) > 1 else ""
    called, taken = {}, Counter()
    for video in videos:  # as a line shows them: two that only their escapes tell apart are numbered (probe 121)
        shown = shown_path(own[video] if names[own[video]] == 1 else os.path.relpath(os.path.abspath(video), shared))
        taken[shown] += 1
        called[video] = shown if taken[shown] == 1 else f"{shown} ({taken[shown]})"
    return called


_COLOURED_BY_REHUE = object()  # a clip rehue coloured: not scored, and counted among rehue's own outputs


@dataclass
class _Skipped:
    """A clip not scored (gray, or too small to score), and why; ``cut``: its frames read under --video-frames have
    no colour, where more may."""

    reason: str
    cut: bool = False


class _UnreadableClip(RehueError):
    """A clip that cannot be opened, among other inputs: skipped with a warning, as an unreadable photo is."""


def _evaluate_video(colorizer, video: Path, dependent_model: str, table: MetricTable, name: str, grid: list,
                    max_frames: int, long_side: int | None, progress: bool, log, with_gray: bool = True,
                    alone: bool = False) -> dict | None:
    """Colour a colour video from its gray version, its frames scaled down to ``long_side`` (None: full
    resolution); frame metrics, drift and temporal stability. The gray answer's rows are added too unless
    ``with_gray`` is False (a second model on the same frames). A clip with no colour in the frames scored
    is skipped (`_Skipped`), as a gray photo is: the gray answer would score it perfectly; ``alone`` (the one file
    named), it is the error, as a lone gray photo is (probe 120: a warning, then the error). One rehue coloured
    is skipped too (``_COLOURED_BY_REHUE``), or alone the error."""
    from rehue.video.frame_folder import clip_error
    from rehue.video.pipeline import load_dependent

    colorizer = colorizer.for_video()
    dependent = load_dependent(dependent_model, colorizer, log)
    film = video.is_dir()  # a film's numbered frames (evaluate --frames)
    try:
        return _score_clip(video, film, colorizer, dependent, name, grid, max_frames, long_side, progress, log,
                           with_gray, alone, table)
    except RehueError as exc:  # the clip's own: cut short, no frame FFmpeg decodes, frames of a reel unread
        said = clip_error(exc, video)  # a frame of a reel: the whole reel is skipped, and said so (probe 131)
        if alone or isinstance(exc, _UnreadableClip) or said is None:
            raise
        raise _UnreadableClip(said.reason, said.path) from None


def _score_clip(video: Path, film: bool, colorizer, dependent, name: str, grid: list, max_frames: int,
                long_side: int | None, progress: bool, log, with_gray: bool, alone: bool, table: MetricTable
                ) -> dict | None:
    """`_evaluate_video`'s reading and scoring of one clip (``film``: a folder of its frames)."""
    import cv2

    from rehue.color.lab import rgb_to_gray, rgb_to_lab
    from rehue.inference.colorizer import Box
    from rehue.progress import bar_name, progress_bar
    from rehue.video.frame_folder import FrameFolderReader
    from rehue.video.io import VideoReader, upright, upright_box
    from rehue.video.pipeline import SceneColorizer, find_frame_bars, find_video_bars

    stability_out, stability_truth = TemporalStability(), TemporalStability()
    errors, rows, first, uncoloured = [], [], [], []

    def score(done):
        for truth, rgb in done:
            gray = gray_baseline(truth)
            file = reader.files[len(errors)] if film else None  # a reel's frame named by its file (probe 150)
            # a black frame of a fade, a title card: the gray answer would score it perfectly (100 dB)
            coloured = has_colour(truth)
            if coloured:
                rows.append((name, evaluate_pair(rgb, truth, video), file))
                if with_gray:
                    rows.append((GRAY_BASELINE, evaluate_pair(gray, truth, video), file))
                stability_out.update(rgb)
                stability_truth.update(truth)
            else:  # nor a pair with it in the stability: two black frames are perfectly steady, and lowered both
                uncoloured.append(len(errors))
                stability_out.reset()
                stability_truth.reset()
            # not scored, not a perfect score either: a gap in the drift (probe 120: 0.0 over a fade's black)
            errors.append(float(np.abs(rgb_to_lab(rgb)[..., 1:] - rgb_to_lab(truth)[..., 1:]).mean()) if coloured
                          else math.nan)
            if coloured and not first:  # a frame scored (probe 229: a fade's black frame, scored nowhere)
                first.append((gray, truth, rgb))

    with FrameFolderReader(video, None, log if with_gray else lambda message: None, "--frames") if film else \
            VideoReader(video) as reader:
        if with_gray and reader.coloured_by_rehue:
            if alone:  # probe 199: "no colour image to score against", of a film in colour (under -q alone)
                raise RehueError("rehue coloured it, so its colours are a model's guess, not a truth to score against "
                                 "(evaluate needs the colour original)", video)
            log(f"warning: skipping {shown_path(video)}: rehue coloured it, so its colours are a model's guess, not "
                "a truth to score against")
            return _COLOURED_BY_REHUE
        height, width = reader.height, reader.width
        scale = long_side / max(height, width) if long_side and max(height, width) > long_side else 1.0
        size = (round(width * scale), round(height * scale))
        if min(size) < SSIM_MIN_SIDE:  # probe 121: a ticker's 1280x48 scored at 64x2 ended the evaluation
            scored = f", scored at {size[0]}x{size[1]} (its long side at {long_side} px)" if scale != 1.0 else ""
            own_size = scale != 1.0 and min(width, height) >= SSIM_MIN_SIDE  # probe 123: advice of 1280x2 too
            reason = (f"its frames are {width}x{height}{scored}, under the {SSIM_MIN_SIDE} pixels a side SSIM "
                      f"needs{'; --full-res scores them at their own size' if own_size else ''}")
            if alone:
                raise RehueError(reason, video)
            if with_gray:
                log(f"warning: skipping {shown_path(video)}: {reason}")
            return _Skipped(reason)
        bars = scene_bars = None if colorizer.borders != "neutral" else find_frame_bars(reader.files) if film else \
            find_video_bars(reader)
        if bars is not None and scale != 1.0:  # the bars of the frames as scored
            top, left = round(bars.top * scale), round(bars.left * scale)
            bottom = round((height - bars.top - bars.height) * scale)
            right = round((width - bars.left - bars.width) * scale)
            bars = Box(top, left, size[1] - top - bottom, size[0] - left - right)
        state = SceneColorizer(colorizer, dependent, bars=bars, rotation=reader.rotation, scene_bars=scene_bars)
        # a reel's frames past the cut are not read (probe 233: one damaged there refused the reel); a video's next
        # is, to know whether there is one
        cut = film and len(reader.files) > max_frames
        frames = itertools.islice(reader, max_frames) if film else reader
        # frames read, not a reel's frames by number (probe 150: those after a gap in the numbering were left out)
        for read, frame in enumerate(progress_bar(frames, total=min(reader.frame_count or max_frames, max_frames),
                                                  desc=bar_name(video) + ("" if with_gray else f", {name}"),
                                                  unit="frame", disable=not progress,
                                                  leave=False)):
            if read >= max_frames:
                cut = True
                break
            truth = frame.rgb
            # the cuts found in the frame at its own size, as colouring finds them (probe 177: shrunk to score)
            whole = rgb_to_gray(truth) if scale != 1.0 else None
            if scale != 1.0:
                truth = cv2.resize(truth, size, interpolation=cv2.INTER_AREA)
            score(state.push(rgb_to_gray(truth), truth, scene_gray=whole))
        score(state.flush())
        state.close()
    if with_gray and not rows:  # of a colour film whose first frames alone were read, not "colour a gray film"
        # (probe 233)
        gray = f"none of the first {len(errors)} frames read (--video-frames {max_frames}) has colour to score " \
            "against; a larger --video-frames reads further" if cut else "has no colour to score against"
        said = gray if cut else f"{gray} (evaluate needs colour ground truth; colour a gray film with `rehue colorize`)"
        if alone:
            raise RehueError(said, video)
        log(f"warning: skipping {shown_path(video)}: {said}")
        return _Skipped(gray, cut)
    if with_gray and uncoloured:
        log(f"note: {shown_path(video)}: {len(uncoloured)} of its {counted(len(errors), 'frame')} "
            f"{'has' if len(uncoloured) == 1 else 'have'} no colour (black, a fade, a title card), such as "
            f"{shown_path(reader.files[uncoloured[0]].name) if film else f'frame {uncoloured[0]}'}; "
            f"{'it is' if len(uncoloured) == 1 else 'they are'} not scored")
    for row, metrics, file in rows:
        table.add(row, metrics, video, file)
    # as the film is shown (probe 179: a turned film's, as stored)
    shown_bars = None if bars is None else upright_box(bars, reader.rotation, size[1], size[0])
    if len(grid) < 8:  # as the film is shown: a phone's portrait clip upright (probe 143: sideways)
        grid.extend(tuple(upright(picture, reader.rotation) for picture in row) for row in first)
    return {"model": name, "dependent_model": None if dependent is None else dependent.name,
            "frames": len(errors), "frames_without_colour": len(uncoloured), "scene_starts": state.scene_starts,
            "cut_at_video_frames": cut,
            "eased_against_drift": state.eased_frames,
            "bars": None if shown_bars is None else [shown_bars.top, shown_bars.left, shown_bars.height,
                                                     shown_bars.width],
            "temporal_stability_output": stability_out.mean(), "temporal_stability_truth": stability_truth.mean(),
            "ab_error_by_frame": [round(e, 3) if math.isfinite(e) else None for e in errors]}
