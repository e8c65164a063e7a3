"""Colouring files and folders: keep going past bad files, report them at the end."""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import numbers
import os
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from rehue.data.images import (
    AUDIO_SUFFIXES,
    CAMERA_RAW_SUFFIXES,
    DEEP_FORMATS,
    HEIC_REASON,
    NAME_BYTES,
    OUTPUT_FORMATS,
    SOFTWARE,
    UNREAD_MEDIA_SUFFIXES,
    as_it_will_be,
    check_folder_can_be_made,
    check_output_path,
    check_side_limit,
    coloured_by_rehue,
    fitted_stem,
    folder_media,
    has_colour,
    head_kind,
    hidden_media,
    is_image_path,
    is_inside,
    is_same_file,
    is_video_path,
    load_image,
    make_folder,
    media_kind,
    missing_reason,
    one_writer,
    output_format,
    real_path,
    refuse_standard_output,
    remove_stale_temps,
    save_image,
    typed_as_folder,
    with_output_suffix,
)
from rehue.errors import (
    BeingWritten,
    OutputExists,
    RehueError,
    UsageError,
    check_flags,
    out_of_memory_as_memory_error,
    path_exists,
    warnings_as,
)
from rehue.progress import lines_to
from rehue.video.frame_folder import FramePattern, names_numbered_frames
from rehue.video.io import OUTPUT_CODECS, VIDEO_SUFFIX_OF_CODEC
from rehue.words import counted

logger = logging.getLogger(__name__)
LARGE_PHOTO_PIXELS = 16_000_000  # a scan this large takes 10 s or more here: its steps are shown
COLOUR_CHECK_PIXELS = 1_000_000  # a colour input is told from a gray one on about this many of its pixels



@dataclass
class Job:
    source: Path
    target: Path
    video: bool = False  # as its content says (`media_kind`), whatever its extension


@dataclass
class BatchSummary:
    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    elsewhere: list[Path] = field(default_factory=list)  # outputs another rehue was writing when this one came to them


def plan_jobs(inputs: list[Path], output: Path, image_ext: str = ".png", video_ext: str | None = None,
              folder: bool = False) -> list[Job]:
    """Map inputs to outputs. One input file and an output with an extension: that file, unless ``folder``
    (the output was typed with a trailing slash, ``-o results.v2/``). Otherwise the output is a folder and
    each input keeps its name (and, inside folders, its relative path); videos get ``video_ext`` (default:
    .mp4 inside folders, their own extension otherwise).

    A file named twice is coloured once; an output folder inside an input folder is not walked (a second
    run would colour the first run's outputs). Two inputs that would land on one output (``scan1.tif``
    and ``scan1.jpg`` both as ``scan1.png``) keep their own extension in the name (``scan1-tif.png``,
    ``scan1-jpg.png``); where that cannot tell them apart (``a/x.png`` and ``b/x.png`` from two folders)
    the plan is refused before anything is written, since one would replace the other. So is a plan
    that would write an input's colour version over it (``-o`` naming the folder of PNG scans). Coloured
    beside its inputs (``-o`` naming their folder), a file that is another input's output and says it was
    coloured by rehue is an earlier run's output, not an input: a second run colours what is left."""
    inputs = [Path(p) for p in inputs]
    path_exists(output)  # a name no file can have (a NUL, too long), or in a folder not to be searched (probe 228)
    for source in inputs:
        if not path_exists(source):
            raise RehueError(missing_reason(source), source)
        if source.suffix.lower() in AUDIO_SUFFIXES and source.is_file() and head_kind(source) != "image":
            raise RehueError("is a sound file: it holds no picture to colour", source)  # probes 67 and 69
    single = len(inputs) == 1 and not inputs[0].is_dir() and output.suffix and not output.is_dir() and not folder
    if single:
        kind = _named_kind(inputs[0])
        _refuse_camera_raw(inputs[0], kind)
        job = Job(inputs[0], output, video=kind == "video")
        if not job.video and is_video_path(output) and inputs[0].is_file():  # probe 116: a picture named as a
            # video; probe 134: anim.gif -o anim.mp4 was "unsupported output extension '.mp4'"
            if kind is None:  # probe 152: notes.txt "is a picture", a usage error
                raise RehueError("is no picture or film rehue reads (neither its name nor its first bytes say one)",
                                 inputs[0])
            named_video = is_video_path(inputs[0])
            if named_video and head_kind(inputs[0]) == "unread":  # "coloured as a picture", then "unsupported
                raise RehueError(HEIC_REASON, inputs[0])  # output extension"
            what = ("holds a picture, whatever its extension says" if named_video else
                    "is a picture (an animated GIF is coloured as its first frame)"
                    if inputs[0].suffix.lower() == ".gif" else "is a picture")
            raise UsageError(f"{output}: names a video, and {inputs[0]} {what}; name a picture file, such as "
                             f"{output.with_suffix('.png').name}")
        return [_warn_if_misnamed(job)]
    need = "several inputs need" if len(inputs) > 1 else f"the folder {inputs[0]} needs"  # not "several" (probe 205)
    if output.exists() and not output.is_dir():
        if folder:
            raise UsageError(f"{output}/: names a folder, and {output} is a file; name another folder")
        if len(inputs) == 1 and not inputs[0].is_dir():
            raise UsageError(f"{output}: is not a folder, and names no picture or video format to write; name a "
                             "file such as colour.png, or a folder")
        raise UsageError(f"{output}: {need} an output folder, not a file")
    if not output.exists() and not folder and (output.suffix.lower() in OUTPUT_FORMATS or is_video_path(output)):
        raise UsageError(f"{output}: {need} an output folder, and this names a {output.suffix} file; "
                         "name a folder (such as colorized/)")
    jobs, passed_over, coloured_before = [], [], []
    in_output_folder = []  # the output folder's files, by input folder
    for source in inputs:
        if source.is_dir():
            output_below = is_inside(output, source) and real_path(output) != real_path(source)
            images, videos, unread, linked = folder_media(source)
            linked = [folder for folder in linked if real_path(folder) != real_path(output)]  # -o a link inside
            if linked:
                logger.warning("%s: %s not followed, such as %s; name them as inputs to colour them too", source,
                               counted(len(linked), "linked folder"), linked[0])
            found = [*((path, image_ext) for path in images), *((path, video_ext or ".mp4") for path in videos)]
            # a link in the output folder is in it, wherever it leads (probe 154: coloured into out/out/)
            # (where the file lies, not where a link leads: one beside the inputs into the output folder is an input,
            # probe 156)
            in_output = {path for path, _ in found if output_below and is_inside(path.parent, output)}
            planned = [Job(path, output / with_output_suffix(path.relative_to(source), suffix),
                           video=suffix != image_ext)
                       for path, suffix in found if path not in in_output]
            # the output folder's files are no inputs: those rehue did not colour are said, once the outputs'
            # names are known (probe 149: a user's photos in the folder named by -o were left without a word)
            in_output_folder.append((source, {path: suffix != image_ext for path, suffix in found
                                              if path in in_output}))
            # an earlier run's outputs, in the output folder or another inside this one (`-o photos/v1`, then
            # `-o photos/v2`: probe 68), are not inputs; a file named as an input is coloured whatever it holds
            earlier = [job for job in planned
                       if (_film_coloured_by_rehue if job.video else _coloured_by_rehue)(job.source)]
            # coloured beside their inputs, they are what this run would write: skipped without a word
            targets = {job.target for job in planned} if real_path(output) == real_path(source) else set()
            unexpected = [job.source for job in earlier if job.source not in targets]
            if unexpected:
                passed_over.append((source, unexpected))
            if earlier:
                coloured_before.append((source, [job.source for job in earlier]))
            planned = [job for job in planned if job not in earlier]
            for job in planned:
                _warn_if_misnamed(job)
            jobs.extend(planned)
            if unread:
                kinds = Counter("HEIC/HEIF" if path.suffix.lower() in (".heic", ".heif")
                                or path.suffix.lower() not in UNREAD_MEDIA_SUFFIXES  # told by their first bytes
                                else path.suffix.lower() for path in unread)
                logger.warning("%s: %s passed over, in formats rehue does not read (%s); convert them to "
                               "TIFF or PNG (photos) or MP4 (films) first", source, counted(len(unread), "file"),
                               ", ".join(f"{count} {suffix}" for suffix, count in kinds.most_common()))
        else:
            kind = _named_kind(source)
            _refuse_camera_raw(source, kind)  # probe 238: among others, or into a folder, coloured as its preview
            video = kind == "video"
            own = source.suffix if source.suffix.lower() in OUTPUT_CODECS else ".mp4"  # an AVI, a VOB: MP4 out
            suffix = (video_ext or own) if video else image_ext
            jobs.append(_warn_if_misnamed(Job(source, output / with_output_suffix(source, suffix).name, video=video)))
    if coloured_before and not jobs:  # probe 161: of a folder coloured into itself, "no images or videos found"
        into_itself = any(real_path(source) == real_path(output) for source, _ in coloured_before)
        raise RehueError(f"holds only pictures or films that rehue coloured, such as {coloured_before[0][1][0]}: an "
                         "earlier run's outputs, not inputs; name the files"
                         + (" and another output folder" if into_itself else "") + " to colour them again",
                         ", ".join(str(source) for source, _ in coloured_before))
    for source, unexpected in passed_over:
        logger.warning("%s: passed over %s that rehue coloured, such as %s: an earlier run's outputs, not "
                       "inputs; name them to colour them again", source, counted(len(unexpected), "file"),
                       unexpected[0])
    separated = _separate_outputs(jobs)
    # an input's own output, even one cut short, is rehue's (probe 153: said as the user's picture), under the
    # name it is told apart by (probes 209, 210: scan1-tif.png, c-png-2.png); a name no output takes is not
    # (probe 212: the user's a.png beside a-png.png and a-jpg.png); each said once, of the first input folder
    # that holds it (probe 212: twice, of p and of p/sub)
    outputs = {os.path.abspath(job.target) for job in separated}
    said = set()
    for source, found in in_output_folder:
        users = {path: film for path, film in found.items() if os.path.abspath(path) not in outputs
                 and path not in said and not (_film_coloured_by_rehue if film else _coloured_by_rehue)(path)}
        said.update(users)
        if users:
            films = sum(users.values())
            what = " and ".join(counted(count, kind) for count, kind in ((len(users) - films, "picture"),
                                                                          (films, "film")) if count)
            logger.warning("%s: %s in the output folder %s %s not coloured, such as %s: a run takes no input "
                           "from the folder it writes into; colour %s into another folder", source,
                           what, output, "is" if len(users) == 1 else "are", next(iter(users)),
                           "it" if len(users) == 1 else "them")
    return separated


def _refuse_camera_raw(source: Path, kind: str | None) -> None:
    """A camera's raw file named as an input is refused, as a folder's is passed over: read, it would be its small
    preview (probe 237: coloured as that, without a word)."""
    if kind == "unread" and source.suffix.lower() in CAMERA_RAW_SUFFIXES:
        raise RehueError(f"is a camera's raw file ({source.suffix}), which rehue does not read: it would be read as "
                         "its small preview; convert it to TIFF or PNG first", source)


def _warn_if_misnamed(job: Job) -> Job:
    """Say so where a file's content and extension disagree (a film saved as .jpg): it is coloured as what
    it holds."""
    named_video, named_image = is_video_path(job.source), is_image_path(job.source)
    if job.video and named_image or not job.video and named_video:
        held, named = ("a video", "picture") if job.video else ("a picture", "video")
        logger.warning("%s: holds %s, not the %s its extension names; coloured as %s", job.source, held, named,
                       held)
    elif job.source.suffix.lower() in (".heic", ".heif") and head_kind(job.source) in ("image", "video"):
        # a converter's JPEG named .heic (probe 237); not a phone's own HEIC, refused as it is read (probe 238)
        held = "a video" if job.video else "a picture rehue reads"
        logger.warning("%s: holds %s, not the %s picture its extension names; coloured as %s", job.source, held,
                       job.source.suffix[1:].upper(), "a video" if job.video else "it is")
    return job


def _film_coloured_by_rehue(path: Path) -> bool:
    """Whether a film's comment says rehue coloured it (read from its header alone)."""
    import av

    from rehue.video.io import film_comment

    if not path.is_file():  # a named pipe: opening it waits for a writer, for good (probe 127)
        return False
    try:
        with av.open(str(path)) as container:
            return coloured_by_rehue(film_comment(container.metadata))
    except Exception:  # unreadable here: it is an input, and its own error comes when it is coloured
        return False


SCAN_HEADER_BYTES = 65536
"""What is read of a DPX or OpenEXR file to find its creator: both headers lie well within it."""


def _coloured_by_rehue(path: Path) -> bool:
    """Whether a picture's Software tag says rehue coloured it (read from the header alone): Pillow's for
    the formats it reads, a DPX header's creator, an OpenEXR header's software (probe 69: rehue's own DPX
    and OpenEXR outputs in a folder were coloured again)."""
    from PIL import Image

    from rehue.data import dpx, exr

    if not path.is_file():  # a named pipe: opening it waits for a writer, for good (probe 127)
        return False
    try:
        with open(path, "rb") as file:  # the header read on only for a DPX or OpenEXR: every picture of a folder
            magic = file.read(4)        # is asked
            if magic in dpx.MAGIC_NUMBERS:
                return coloured_by_rehue(dpx.Header(magic + file.read(SCAN_HEADER_BYTES)).creator)
            if magic in exr.MAGIC_NUMBERS:
                return coloured_by_rehue(exr.Header(magic + file.read(SCAN_HEADER_BYTES)).software)
        with warnings_as("ignore", UserWarning), Image.open(path) as image:  # "Corrupt EXIF data" (probe 161)
            return coloured_by_rehue(image.getexif().get(SOFTWARE) or image.info.get("Software"))
    except Exception:  # unreadable here: it is an input, and its own error comes when it is coloured
        return False


def _separate_outputs(jobs: list[Job]) -> list[Job]:
    unique: dict[Path, Job] = {}
    for job in jobs:
        kept = unique.setdefault(real_path(job.source), job)
        if kept.source.is_symlink() and not job.source.is_symlink():  # a photo and a link to it: the photo's name
            unique[real_path(job.source)] = job
    sharing = Counter(job.target for job in unique.values())
    # a.jpg and a.JPG (a camera's folder merged with a scanner's): told apart by the extension as written
    suffixes = Counter((job.target, job.source.suffix.lower()) for job in unique.values())
    as_written = {target for target, suffix in suffixes if suffixes[target, suffix] > 1}
    # names no other input would be written under first; a told-apart name that one of them holds gets a
    # number too: a.png, a.jpg and a-png.png give a-png-2.png, a-jpg.png and a-png.png
    taken = {job.target for job in unique.values() if sharing[job.target] == 1}
    told_by: dict[Path, Job] = {}
    separated, told_apart = [], {}
    for job in unique.values():
        target = job.target
        if sharing[target] > 1:  # told apart by the input's extension, within the file system's name length
            extension = (job.source.suffix[1:] if target in as_written else job.source.suffix[1:].lower()) or \
                "noext"  # probe 237: "scan-.png", of a file named scan beside scan.png
            told = f"-{extension}{target.suffix}"
            told_name = target.with_name(fitted_stem(target.stem, NAME_BYTES - len(os.fsencode(told))) + told)
            other = told_by.setdefault(told_name, job)
            if other is not job:  # one name and extension in two folders: nothing tells them apart
                raise RehueError(f"{other.source} and {job.source} would both be written here; colour them into "
                                 "separate output folders", job.target)
            target = told_name
            for number in itertools.count(2):
                if target not in taken:
                    break
                numbered = f"-{extension}-{number}{told_name.suffix}"
                target = told_name.with_name(
                    fitted_stem(job.target.stem, NAME_BYTES - len(os.fsencode(numbered))) + numbered)
            if target != told_name:
                logger.warning("%s: coloured into %s, as %s is another input's colour version", job.source,
                               target.name, told_name.name)
            taken.add(target)
            told_apart.setdefault(job.target, []).append((job.source, target))
        separated.append(Job(job.source, target, job.video))
    for shared, told in told_apart.items():
        _warn_if_left_from_before(shared, told, [job.source for job in unique.values()])
    targets = {job.target: job for job in separated}
    for job in separated:  # probe 237: x.jpg's x.png written, then x.png/a.jpg's "is a file, not a folder", each run
        other = next((targets[folder] for folder in job.target.parents if folder in targets), None)
        if other is not None:
            raise RehueError(f"{other.source} would be written here, and so would the folder of {job.source}; "
                             "colour them into separate output folders", other.target)
    in_place = [job.source for job in separated if is_same_file(job.target, job.source)]
    if in_place:
        more = f" (and {len(in_place) - 1} more)" if len(in_place) > 1 else ""
        raise RehueError(f"would be replaced by its own colour version{more}: the output folder holds the "
                         "inputs; name another folder with -o", in_place[0])
    return separated


def _warn_if_left_from_before(shared: Path, told: list[tuple[Path, Path]], sources: list[Path]) -> None:
    """Say so where the name that inputs now told apart share holds an earlier run's output: a scan added
    beside another of its name (``a.png`` beside ``a.tif``) changes both outputs' names, and the old one's
    name would pass for the new input's colour version (probe 51)."""
    if not shared.is_file() or any(is_same_file(shared, source) for source in sources) or \
            not _coloured_by_rehue(shared):
        return
    logger.warning("%s: an earlier run's colour version of one of %s, which are now coloured into %s; remove it, "
                   "as its name no longer says which it shows", shared,
                   " and ".join(source.name for source, _ in told), " and ".join(target.name for _, target in told))


def colorize_image_file(colorizer, source: str | Path, target: str | Path, *, overwrite: bool = False,
                        quality: int = 95, side_by_side: bool = False, progress: bool = False) -> Path:
    """Colour one image file. A scan with more than 8 bits per sample is coloured from its 16-bit gray
    and written at 16 bits where the format allows (PNG, TIFF); resolution and descriptive EXIF are
    kept, and the Software tag names rehue and the model. ``side_by_side`` writes gray | colour. With
    ``progress``, a photo of ``LARGE_PHOTO_PIXELS`` or more shows its steps (read, colour, write), which
    take tens of seconds for a large scan."""
    check_flags(overwrite=overwrite, side_by_side=side_by_side, progress=progress)
    from rehue.inference.colorizer import Colorizer

    if not isinstance(colorizer, Colorizer):  # probe 155: the picture read, then an AttributeError
        raise UsageError(f"colorize_image_file takes a Colorizer (Colorizer.load(...)), not {type(colorizer).__name__}")
    for given, what in ((source, "source"), (target, "target")):
        if isinstance(given, (bytes, bytearray)):  # a name, or an upload's contents (probe 208: said as one alone)
            raise UsageError(f"colorize_image_file's {what} is a file's path as a str or a Path, not bytes (a name: "
                             "os.fsdecode it; an upload's contents: Colorizer.colorize, then save the pixels)")
        if not isinstance(given, (str, os.PathLike)):
            raise UsageError(f"colorize_image_file's {what} is a file's path, not {type(given).__name__} (an array, "
                             "a PIL image or an upload's bytes: Colorizer.colorize, then save the pixels)")
        if not os.fspath(given):  # Path("") is ".", a folder (probe 64)
            raise UsageError(f"colorize_image_file's {what} is an empty path")
    quality = check_quality(quality)
    with one_writer(target):
        return _colorize_image_file(colorizer, Path(source), Path(target), overwrite=overwrite, quality=quality,
                                    side_by_side=side_by_side, progress=progress)


def warn_in_colour(source: Path, by_rehue: bool, guess: str) -> None:
    """A picture or film in colour already is coloured again from its lightness alone; one rehue coloured (its
    Software tag or comment says so) is said to be (probes 68, 74: "a toned print?" of rehue's own output)."""
    why = "rehue coloured it" if by_rehue else f"is in colour already ({guess})"
    logger.warning("%s: %s; its colour is replaced by the model's, from its lightness alone", source, why)


def check_quality(quality) -> int:
    """JPEG and WebP quality as the CLI takes it, from the library too (probe 62: -3 wrote a 1 kB JPEG); a
    numpy integer is one (probe 64)."""
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) or not 0 <= quality <= 100:
        raise UsageError(f"quality must be a whole number between 0 and 100, not {quality!r}")
    return int(quality)


def _colorize_image_file(colorizer, source: Path, target: Path, *, overwrite: bool, quality: int,
                         side_by_side: bool, progress: bool) -> Path:
    import numpy as np

    from rehue.progress import progress_bar

    if target.is_dir():  # probe 205: "unsupported output extension ''" of a folder
        raise RehueError("is a folder; name a file to write", target)
    output_format(target)  # before "output exists": --overwrite would not help a .txt
    check_output_path(target, overwrite, inputs=(source,))
    image = load_image(source)
    if image.frames == 0:
        logger.warning("%s: holds more pages or frames than its first, which are damaged or cut off (an interrupted "
                       "copy?); only the first is coloured", source)
    if image.frames > 1:
        logger.warning("%s: holds %d pages or frames and only the first is coloured: split a multi-page scan "
                       "into one file a page, or make an animation a video (ffmpeg -i IN.gif OUT.mp4), first",
                       source, image.frames)
    if not image.is_gray:
        step = max(1, round(math.sqrt(image.rgb.shape[0] * image.rgb.shape[1] / COLOUR_CHECK_PIXELS)))
        if image.coloured_by_rehue or has_colour(image.rgb[::step, ::step]):
            warn_in_colour(source, image.coloured_by_rehue, "a toned print, a tinted photo?")
    if image.deep_gray is not None and OUTPUT_FORMATS.get(target.suffix.lower()) not in DEEP_FORMATS:
        logger.warning("%s: %s holds 8 bits a sample, so this 16-bit scan is written at 8; write .png or .tif to "
                       "keep its depth", target, target.suffix)
    if image.alpha is not None and OUTPUT_FORMATS.get(target.suffix.lower()) == "JPEG":
        logger.warning("%s: JPEG holds no transparency, so the transparent parts show; write .png, .webp or .tif "
                       "to keep it", target)
    height, width = image.rgb.shape[:2]
    check_side_limit(target, width * (2 if side_by_side else 1), height)
    gray = image.rgb if image.deep_gray is None else image.deep_gray
    large = image.rgb.shape[0] * image.rgb.shape[1] >= LARGE_PHOTO_PIXELS
    steps = progress_bar(total=3, initial=1, desc=f"{source.name}: colour", unit="step",
                         disable=not (progress and large), leave=False)  # read, colour, write
    try:
        rgb = colorizer.colorize(gray)
        steps.update(1)
        steps.set_description(f"{source.name}: write")
        alpha = image.alpha
        if side_by_side:  # the gray the model saw, for a colour photo too
            if gray.ndim == 3 and not image.is_gray:
                from rehue.color.lab import rgb_to_gray

                gray = rgb_to_gray(gray)
            shown_gray = np.repeat(gray[..., None], 3, axis=2) if gray.ndim == 2 else gray
            rgb = np.concatenate([shown_gray, rgb], axis=1)
            alpha = None if alpha is None else np.concatenate([alpha, alpha], axis=1)
        written = save_image(rgb, target, alpha=alpha, quality=quality, dpi=image.dpi, exif=image.exif,
                             software=colorizer.provenance, xmp=image.xmp, text=image.text, overwrite=overwrite,
                             dpx_header=image.dpx_header, exr_header=image.exr_header)
        steps.update(1)  # written: 3/3 (probe 178: a log's last line said 2/3, the file written)
        return written
    finally:
        steps.close()


def colorize_paths(inputs, output, *, model="default", device="auto", overwrite=False, quality=95,
                   image_ext=".png", video_options=None, progress=True, log=None,
                   chroma: float | None = None, fit: str | None = None, borders: str | None = None,
                   frames: bool = False, refuse_unused: Collection[str] = ()) -> BatchSummary:
    """Colour files and folders into ``output``. With ``frames``, each input folder holds the numbered
    frames of one film, coloured as a video (``rehue.video.pipeline.colorize_frames``).

    ``output`` as a string that ends in a slash (``"new.d.tif/"``) is a folder, whatever its name says.
    Of several inputs, one whose output exists already is skipped (``summary.skipped``) unless
    ``overwrite``: running a batch again after an interruption colours what is left. So is one another run
    wrote since, and one another rehue is writing now is left to it (``summary.elsewhere``). The part of a film or
    its encoder in ``video_options`` (``start``, ``end``, ``codec``, ``crf``, ``preset``) where no input is
    a film is a ``UsageError``: leave out those not set. So is a ``dependent_model`` in ``video_options`` that
    names no model, where no input is a film. ``refuse_unused``: of "quality" and "image_ext", those a
    caller's user chose (the command line's typed ``--quality`` and ``--ext``): one no output would use (a
    quality where no picture is written as JPEG or WebP, an extension where no picture's format is left to it)
    is a ``UsageError`` naming the option, where it would be passed over without a word."""
    check_flags(overwrite=overwrite, progress=progress, frames=frames)

    from rehue.inference.colorizer import Colorizer

    log = lines_to(log, progress)

    def failed(text: str) -> None:  # each file as it fails (probe 147: on stderr whatever the caller gave)
        log(f"rehue: error: {text}")
    quality_given, ext_given = "quality" in refuse_unused, "image_ext" in refuse_unused
    quality = check_quality(quality)
    from rehue.video.io import check_video_options, codec_named

    video_options = video_options or {}
    if video_options.get("codec") is not None:  # None: not given
        video_options = {**video_options, "codec": codec_named(video_options["codec"])}
    # refused for a photo too: the same command on a film would be
    check_video_options(**{name: video_options.get(name) for name in ("crf", "preset", "codec", "scene_mode")})
    if image_ext.lower() not in OUTPUT_FORMATS:
        raise UsageError(f"unsupported image extension {image_ext!r}; use one of {', '.join(sorted(OUTPUT_FORMATS))}")
    for path in [*inputs, output]:
        if isinstance(path, str) and not path:  # Path("") is ".": every picture under the working folder (probe 65)
            raise UsageError("an empty path names no file or folder")
    refuse_standard_output(output)
    folder = typed_as_folder(output)  # probe 119's leftover: "-o new.d.tif/" wrote the file new.d.tif, and
    # "-o more.png/" for two photos was refused as naming a PNG file
    # "out/new/..": the folder it will be; one whose name would then read as a file's ("a.png/new/..") stays as
    # typed, a folder, as the file system makes it (probe 97: taken for the file a.png, and one replaced), where
    # no folder of that name is there yet
    will_be = as_it_will_be(output)
    output = Path(output) if Path(output).name == ".." and will_be.suffix and not will_be.is_dir() else will_be
    given_for_films = [name for name in ("start", "end", "side_by_side", "fps")  # 0 is given (probe 168)
                       if video_options.get(name) is not None and video_options.get(name) is not False]
    if frames:  # probe 167: passed over by a library call, as the command line refuses them
        never = (["fit"] if fit is not None else []) + [name for name in given_for_films if name != "fps"]
        if never:
            raise UsageError(f"{', '.join(never)}: not for frames (a film of numbered frames is coloured whole, "
                             "letterboxed for the models, in colour alone)")
        if is_video_path(output) and not folder:
            _check_picture_options(quality_given, ext_given, set(), output)
        elif folder or output.suffix.lower() not in OUTPUT_FORMATS and not names_numbered_frames(output):  # else
            # refused
            _check_picture_options(quality_given, False, {image_ext})  # below, for what it names
        return _colorize_films(inputs, output, model=model, device=device, overwrite=overwrite, quality=quality,
                               image_ext=image_ext, video_options=video_options, progress=progress,
                               log=log, chroma=chroma, borders=borders, as_folder=folder)
    if "fps" in given_for_films:
        raise UsageError("fps: only for frames into a video file (a video keeps its own frame rate)")
    jobs = plan_jobs(inputs, output, image_ext, video_ext=VIDEO_SUFFIX_OF_CODEC.get(video_options.get("codec")),
                     folder=folder)
    if not jobs:
        hidden = [path for folder_in in inputs if Path(folder_in).is_dir() for path in hidden_media(Path(folder_in))]
        raise RehueError("no images or videos found" + (
            f"; {counted(len(hidden), 'hidden file')} passed over, such as {hidden[0]} (a name or folder that begins "
            "with a dot is hidden)" if hidden else ""), ", ".join(str(p) for p in inputs))
    # the part of a film and its encoder, which a photo has no use for (a photo's quality is --quality); the
    # models and scene detector a film is coloured with are left to scripts that name them for every file
    video_only = [key for key in ("start", "end", "codec", "crf", "preset")  # the library's names: the command
                  if video_options.get(key) is not None]  # line says its options (probe 168)
    if video_only and not any(job.video for job in jobs):
        raise UsageError(f"{', '.join(video_only)}: only for videos, and no input is one")
    from rehue.video.io import check_encoder_settings

    # each film's container and codec, before the models load (probe 70), and the settings its encoder takes
    check_encoder_settings([job.target for job in jobs if job.video and is_video_path(job.target)],
                           video_options.get("codec"), crf=video_options.get("crf"),
                           preset=video_options.get("preset"))
    dependent_model = video_options.get("dependent_model")
    if dependent_model not in (None, "none", "default") and not any(job.video for job in jobs):
        from rehue.models.io import resolve_model_path

        resolve_model_path(dependent_model)  # unused on photos, but a mistyped name is said as on a film
    if len(jobs) == 1 and FramePattern.of(output) is not None:  # a video into numbered pictures
        if not jobs[0].video:
            such_as = output.parent / with_output_suffix(jobs[0].source, output.suffix).name
            if names_numbered_frames(such_as):  # the photo's own name holds a pattern (probe 70: the hint was the
                # name refused)
                such_as = output.parent / f"colour{output.suffix}"
            what = "is a picture (an animated GIF is coloured as its first frame)" if \
                jobs[0].source.suffix.lower() == ".gif" else "is one picture"  # probe 211: of a 6-frame GIF
            raise UsageError(f"{output}: names numbered frames, and {jobs[0].source} {what}; name one file "
                             f"(such as {such_as})")
        encoder = [name for name in ("codec", "crf", "preset") if name in video_only]
        if encoder:
            raise UsageError(f"{', '.join(encoder)}: not for a video into numbered frames (every frame is written "
                             "as a picture; quality sets JPEG's and WebP's)", settings=("quality",))
    if len(jobs) == 1 and jobs[0].video and jobs[0].target == output:  # probe 166: --quality was said first
        from rehue.video.pipeline import check_video_target

        check_video_target(output)
    if jobs and all(job.video for job in jobs) and fit is not None:  # probe 166: passed over without a word
        raise UsageError("fit: for photos; a video's frames are letterboxed for the models, as every film's are")
    if quality_given or ext_given:  # after the errors of a wrong output name, of which these would say less
        written = {(job.target if not job.video else FramePattern.of(job.target) or Path()).suffix for job in jobs}
        single_file = len(jobs) == 1 and jobs[0].target == output
        named_format = output.suffix.lower() in OUTPUT_FORMATS or is_video_path(output)  # not a folder "scans.v2"
        _check_picture_options(quality_given, ext_given and (single_file and named_format or
                                                             all(job.video for job in jobs)),
                               written - {""}, output if single_file else None)
    single = len(jobs) == 1 and len(inputs) == 1 and not Path(inputs[0]).is_dir()  # a folder is a batch, of any size
    if not single or jobs[0].target != output:
        check_folder_can_be_made(output)
    colorizer = Colorizer.load_independent(model, device=device, chroma=chroma, fit=fit, borders=borders)
    if any(job.video for job in jobs):
        _check_dependent_model(video_options.get("dependent_model"), colorizer)
    stale = remove_stale_temps(job.target for job in jobs)
    if stale:
        # a hidden folder's name ends in its process number, a temporary file's in its extension
        kinds = ("half-written file or folder", "half-written files or folders") if any(
            path.name[-1].isdigit() for path in stale) else ("half-written file",)
        log(f"note: removed {counted(len(stale), *kinds)} that a killed run left, such as {stale[0]}")
    summary = BatchSummary()
    # the folders made for the outputs, the output folder's own where it is new (probe 237: those made in one
    # that was there were left, empty, where every file of theirs failed)
    parents = {job.target.parent for job in jobs} if jobs[0].target != output else set()  # each folder once
    made = {_topmost_missing(parent) for parent in parents} - {None}
    try:
        _colour_jobs(jobs, output, colorizer, summary, single=single, overwrite=overwrite, quality=quality,
                     video_options=video_options, progress=progress, log=log, failed=failed)
    finally:
        for root in made:
            _remove_empty_folders(root)
    return summary


def _check_dependent_model(spec, colorizer) -> None:
    """A dependent model named for the films, loaded before any file is coloured, beside the model that colours
    them (which keeps it for them): a batch wrote its photos, then failed on each film alike ("nope: no such model
    file", "must take 3 input channels"), each film said to have failed (probe 185)."""
    if spec not in (None, "none", "default"):
        from rehue.video.pipeline import load_dependent

        # the note of "default" alone is said by each film
        load_dependent(spec, colorizer.for_video(), log=lambda line: None)


def _check_picture_options(quality_given, ext_unused, written: set[str], named: Path | None = None) -> None:
    """``quality`` given where no picture is written as JPEG or WebP, or ``image_ext`` where no picture's
    format is left to it (the output names one file, or every input is a video), is a ``UsageError``: it
    would be passed over without a word. ``written``: the extensions of the pictures to be written."""
    formats = sorted({OUTPUT_FORMATS.get(suffix.lower(), suffix) for suffix in written})
    into_a_video = named is not None and is_video_path(named)
    if ext_unused:
        if named is not None and not into_a_video:
            raise UsageError(f"image_ext: {named} names the file, and its extension its format")
        raise UsageError(f"image_ext: the format of pictures written into a folder, and {named} is a video file" if
                         into_a_video else "image_ext: the format of pictures written into a folder, and every input "
                         "is a video, written as one (its frames as pictures: -o NAME_%04d.png)")
    if quality_given and not {"JPEG", "WEBP"} & set(formats):
        written_as = (f"the pictures are written as {' and '.join(formats)}" if formats else
                      f"{named} is a video file (its quality is crf's)" if into_a_video else
                      "every input is a video, written as one (its quality is crf's)")
        raise UsageError(f"quality: for JPEG and WebP, and {written_as}", settings=("crf",))


def _topmost_missing(folder: Path) -> Path | None:
    """The outermost of ``folder`` and its parents that does not exist yet (all of them are made for the
    outputs), or None where ``folder`` exists."""
    folder = Path(os.path.abspath(folder))
    if os.path.lexists(folder):
        return None
    while not os.path.lexists(folder.parent) and folder.parent != folder:
        folder = folder.parent
    return folder


def _remove_empty_folders(root: Path) -> None:
    """Remove the folders under ``root``, and ``root``, that hold nothing: a batch that wrote nothing (every
    file failed, or it was interrupted) leaves no empty output folder behind."""
    if not root.is_dir() or root.is_symlink():
        return
    for folder, _, _ in sorted(os.walk(root), key=lambda entry: -len(Path(entry[0]).parts)):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()  # only an empty folder goes


class _AlikeWarnings(logging.Filter):
    """In a folder batch, a warning of a kind every such file gets (a multi-page TIFF, a photo in colour
    already) is said for the first file and counted for the others, then said once more with their number:
    a folder of thousands gave thousands of lines. A warning is of a kind by its wording and the words put in
    it (a reason, such as why a colour profile was not applied: probe 116 saw three reasons said as one), the
    file's path (its first argument, the file's or its output's: probe 127 saw 100 lines of "JPEG holds no
    transparency") and numbers (a count of pages) left out."""

    def __init__(self):
        super().__init__()
        self.source: Path | None = None
        self.target: Path | None = None
        self.first: dict[tuple, tuple[Path, object]] = {}  # each kind's first file, and the path its line named
        self.gist: dict[tuple, str] = {}  # each kind's words, for the line that counts the others
        self.others: dict[tuple, list[Path]] = {}
        self._counted: logging.LogRecord | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        about = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if self.source is None or record.levelno != logging.WARNING or \
                about is None or str(about) not in (str(self.source), str(self.target)):
            return True
        kind = (record.msg, *(str(value) for value in record.args[1:] if not isinstance(value, numbers.Number)))
        if self.first.setdefault(kind, (self.source, about))[0] == self.source:
            self.gist.setdefault(kind, record.getMessage().split(": ", 1)[-1])
            return True
        if record is not self._counted:  # one record passes every handler's filter, one after the other
            self._counted = record
            self.others.setdefault(kind, []).append(self.source)
        return False

    @contextlib.contextmanager
    def watching(self, batch: bool):
        """Filters the warnings of the ``rehue`` logger's handlers and the root's (a notebook's) meanwhile, and of
        Python's last resort, which says them where no handler is set up (probe 190: a plain script's batch)."""
        handlers = [*logging.getLogger("rehue").handlers, *logging.getLogger().handlers,
                    *filter(None, [logging.lastResort])] if batch else []
        for handler in handlers:
            handler.addFilter(self)
        try:
            yield
        finally:
            for handler in handlers:
                handler.removeFilter(self)

    def say_the_rest(self) -> None:
        kinds: dict[tuple, list[tuple]] = {}  # the same files warned of alike more than once: one line for them
        for wording, files in self.others.items():
            kinds.setdefault((tuple(files), self.first[wording][0]), []).append(wording)
        for (files, first), wordings in kinds.items():
            named = {str(self.first[wording][1]) for wording in wordings}  # as the line above named it (probe 237:
            first = named.pop() if len(named) == 1 else first  # "as meta/s16.png's" of a line naming o/s16.jpg)
            more = f" and {counted(len(files) - 1, 'more file', 'more files')}" if len(files) > 1 else ""
            same = "the same warning" if len(wordings) == 1 else f"the same {len(wordings)} warnings"
            gists = "; ".join(_gist(self.gist.get(wording, "")) for wording in wordings)
            logger.warning("%s%s: %s as %s's above (%s)", files[0], more, same, first, gists)


def _gist(words: str, most: int = 48) -> str:
    """The start of a warning's words, at most ``most`` characters, cut at a word: which warning a count means
    (probe 132: two lines alike but for their counts)."""
    if len(words) <= most:
        return words
    return words[:most].rsplit(" ", 1)[0].rstrip(",;:(") + "..."


def _colour_jobs(jobs: list[Job], output: Path, colorizer, summary: BatchSummary, *, single, overwrite, quality,
                 video_options, progress, log, failed) -> None:
    from rehue.progress import progress_bar

    waiting = []
    for job in jobs:  # the bar counts only these, so its time left is not that of files passed over at once
        if not single and not overwrite and (os.path.islink(job.target) or os.path.isfile(job.target)) and \
                not is_same_file(job.target, job.source):  # a folder or a pipe there is no earlier output (probes
            # 127 and 132)
            if _cut_short(job.target):
                summary.failed.append((job.source, CUT_SHORT_REASON.format(job.target)))
                failed(f"{job.source}: {summary.failed[-1][1]}")
                continue
            summary.skipped.append(job.target)  # coloured by an earlier run, maybe one that was interrupted
        else:
            waiting.append(job)
    bar = progress_bar(waiting, desc="colouring", unit="file", disable=not progress or single or not waiting)
    alike = _AlikeWarnings()
    with alike.watching(not single):
        for job in bar:
            alike.source, alike.target = job.source, job.target
            _colour_job(job, output, colorizer, summary, single=single, overwrite=overwrite, quality=quality,
                        video_options=video_options, progress=progress, log=log, failed=failed)
        alike.source = None
    alike.say_the_rest()


def _named_kind(source: Path) -> str | None:
    """`media_kind` of a file named as an input: one of an extension rehue does not know is told by its first bytes
    (probe 152: an MP4 saved as clip.bin was read as a picture), where in a folder it is passed over."""
    kind = media_kind(source)
    return head_kind(source) if kind is None else kind


def _film_written(folder: Path, target: Path, ext: str) -> bool | str | None:
    """True where an earlier run coloured every frame of the film in ``folder`` into the folder ``target`` (each
    frame's output there, whole, and no interrupted run of it left to finish); where some are there, and not all
    whole, why the film is not coloured again without --overwrite; else None (a film to colour, or to go on with)."""
    from rehue.video.pipeline import film_frames
    from rehue.video.resume import interrupted_runs

    if not target.is_dir() or interrupted_runs(target):
        return None
    try:
        frames = film_frames(folder, lambda message: None)
    except RehueError:  # said as the film is coloured
        return None
    outputs = [target / with_output_suffix(frame, ext).name for frame in frames]
    there = [output for output in outputs if output.is_file()]
    short = [output for output in there if _cut_short(output)]
    if not there:
        return None
    # the user's own pictures of those names are in the way, not outputs to pass over or replace (probes 154, 156):
    # of a film written whole, its first frame's is asked (every frame's header would be read for each run)
    whole = [output for output in there if output not in short]
    if not all(_coloured_by_rehue(output) for output in (whole[:1] if len(whole) == len(outputs) else whole)):
        return None
    if len(whole) == len(outputs):
        return True
    missing = [output for output in outputs if output not in there]
    wrong = [f"{counted(len(missing), 'frame')} missing, such as {missing[0].name}"] if missing else []
    wrong += [f"{counted(len(short), 'frame')} cut short, such as {short[0].name}"] if short else []
    return (f"holds the outputs of {len(there) - len(short)} of the film's {counted(len(outputs), 'frame')}, and "
            f"{' and '.join(wrong)}; pass --overwrite to colour the film again")


PNG_ENDS = (b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG_ENDS = (b"\xff\xd8\xff", b"\xff\xd9")


CUT_SHORT_REASON = ("its output {} is cut short (an interrupted copy?): remove it, or pass --overwrite to colour it "
                    "again")


def _cut_short(path: Path) -> bool:
    """Whether a PNG or JPEG output begins as one and lacks its last bytes, as a copy cut short leaves it:
    rehue writes whole files only, but a run after one cut short would otherwise count it as done (probe 51).
    An empty file, or one of the first bytes of a PNG or JPEG alone, is cut short too (probe 149: taken as done);
    other formats, a file that is no PNG or JPEG at all, and one that cannot be read here are taken as whole."""
    ends = {".png": PNG_ENDS, ".jpg": JPEG_ENDS, ".jpeg": JPEG_ENDS}.get(path.suffix.lower())
    if not path.is_file():  # a named pipe is not opened: it would wait for a writer (probe 127)
        return False
    try:
        if ends is None:
            return path.stat().st_size == 0  # rehue writes no empty picture
        start, end = ends
        with open(path, "rb") as file:
            head = file.read(len(start))
            if head != start:
                return start.startswith(head)
            file.seek(0, os.SEEK_END)
            file.seek(max(file.tell() - len(end), 0))
            return file.read() != end
    except OSError:
        return False


OUT_OF_MEMORY = "out of memory colouring it: close other programs, or colour a smaller copy"


def _colour_job(job: Job, output: Path, colorizer, summary: BatchSummary, *, single, overwrite, quality,
                video_options, progress, log, failed) -> None:
    try:
        with out_of_memory_as_memory_error():
            _colour_one(job, output, colorizer, overwrite=overwrite, quality=quality, video_options=video_options,
                        progress=progress, log=log, single=single)
        summary.done.append(job.target)
    except (RehueError, MemoryError, OSError) as error:
        if isinstance(error, OutputExists) and not single and error.path == str(job.target) and \
                (os.path.islink(job.target) or os.path.isfile(job.target)):
            # another run's, written since the batch began: as if found then (a pipe there is none, probe 132;
            # a copy cut short fails, probe 162)
            if not _cut_short(job.target):
                summary.skipped.append(job.target)
                return
            error = RehueError(CUT_SHORT_REASON.format(job.target), job.source)
        if isinstance(error, BeingWritten) and not single:
            summary.elsewhere.append(job.target)
            return
        if isinstance(error, RehueError):
            exc = error
        elif isinstance(error, MemoryError):
            exc = RehueError(OUT_OF_MEMORY, job.source)
        else:  # one no step names itself (probe 127: an output name too long ended the batch, unsummed)
            exc = RehueError(str(error.strerror or error), error.filename or job.target)
        if single:
            raise exc from None
        summary.failed.append((job.source, _failure(exc, job.source)))
        failed(f"{job.source}: {_failure(exc, job.source)}")  # by its input, as the failed list says it (probe 237:
        # three lines alike, "out/sub: is a file, not a folder", of three inputs)


def _failure(exc: RehueError, source: Path) -> str:
    """What the failed list says of ``source``: the reason, with the path it is about where that is not the
    source's own (probe 127: "t/g.png: is a folder", of the output o8/g.png)."""
    return exc.reason if exc.path in (None, str(source)) else str(exc)


def _colour_one(job: Job, output: Path, colorizer, *, overwrite, quality, video_options, progress, log,
                single) -> None:
    if job.target != output:  # the output is a folder (made as needed), not the file named by -o
        make_folder(job.target.parent)
    if job.video:
        from rehue.video.pipeline import colorize_video

        options = {key: value for key, value in (video_options or {}).items()  # None: not given, as for reels (probe
                   if key != "fps" and value is not None}  # 186: dependent_model=None failed each film)
        colorize_video(job.source, job.target, colorizer=colorizer, overwrite=overwrite, quality=quality,
                       progress=progress, log=log, **options)
    else:  # whatever else it is, reading it says what is wrong with it
        colorize_image_file(colorizer, job.source, job.target, overwrite=overwrite, quality=quality,
                            progress=progress and single,
                            side_by_side=bool((video_options or {}).get("side_by_side")))


def _colorize_films(inputs, output: Path, *, model, device, overwrite, quality, image_ext, video_options, progress,
                    log, chroma, borders, as_folder: bool = False) -> BatchSummary:
    """Each input folder is one film's frames: into ``output`` itself for one folder (a folder, or a video
    file by its extension unless ``as_folder``: typed with a trailing slash), else into ``output``/<folder name>."""
    from rehue.inference.colorizer import Colorizer
    from rehue.progress import progress_bar
    from rehue.video.pipeline import colorize_frames

    unique: dict[Path, Path] = {}  # a folder named twice is one film (probe 166: "two folders of frames are both
    for folder in map(Path, inputs):  # named reel"), as a photo named twice is one photo
        unique.setdefault(real_path(folder), folder)
    folders = list(unique.values())
    video_file = is_video_path(output) and not as_folder
    for folder in folders:
        if not folder.is_dir():
            raise RehueError("--frames takes folders of numbered frames" if folder.exists() else "no such folder",
                             folder)
    if video_file and len(folders) > 1:
        raise UsageError(f"{output}: one video file holds one film; give one folder of frames, or an output folder")
    if video_file:  # before the models load (probe 70)
        from rehue.video.io import check_encoder_settings

        check_encoder_settings([output], video_options.get("codec"), crf=video_options.get("crf"),
                               preset=video_options.get("preset"))
    if not video_file and names_numbered_frames(output):  # probe 69: a folder named "f_####" made,
        # holding the frames under their own names
        raise UsageError(f"{output}: --frames keeps each frame's own name, in an output folder (or joins the frames "
                         "into a video file); a number pattern names a video's frames")
    if not video_file:
        from rehue.video.pipeline import check_frames_into_folder

        check_frames_into_folder(**{name: video_options.get(name) for name in ("codec", "crf", "preset", "fps")})
    if len(folders) > 1 or not video_file:
        check_folder_can_be_made(output)
    colorizer = Colorizer.load_independent(model, device=device, chroma=chroma, borders=borders)
    _check_dependent_model(video_options.get("dependent_model"), colorizer)
    options = {key: video_options[key] for key in ("dependent_model", "scene_mode", "fps", "codec", "crf", "preset")
               if video_options.get(key) is not None}
    targets = [output if len(folders) == 1 else output / film.name for film in folders]
    for folder, target in zip(folders, targets, strict=True):
        if real_path(target) == real_path(folder):
            raise RehueError("is both the folder of frames and the output folder: the coloured frames would be "
                             "written among the gray ones; name another folder with -o", folder)
    shared = next((target for target in targets if targets.count(target) > 1), None)
    if shared is not None:
        raise RehueError(f"two folders of frames are both named {shared.name}, and each would be written to "
                         f"{shared}; give them names of their own", output)
    stale = remove_stale_temps(targets)
    if stale:
        log(f"note: removed {counted(len(stale), 'half-written file or folder', 'half-written files or folders')} of "
            f"frames that a killed run left, such as {stale[0]}")
    summary = BatchSummary()
    # the reels' count, as a batch of files has (probe 178: twenty reels, each with a bar of its own, and no
    # word of how many were left)
    for folder, target in progress_bar(list(zip(folders, targets, strict=True)), desc="colouring", unit="film",
                                       disable=not progress or len(folders) < 2):
        written = None if overwrite else _film_written(folder, target, image_ext)
        if len(folders) > 1 and written is True:
            summary.skipped.append(target)  # as a batch of files passes over those done (probe 149: failed)
            continue
        try:
            if isinstance(written, str):  # probe 153: "output exists", of its first frame, where another is missing
                raise RehueError(written, target)
            colorize_frames(folder, f"{target}{os.sep}" if as_folder else target, colorizer=colorizer, ext=image_ext,
                            quality=quality, overwrite=overwrite, progress=progress, log=log, **options)
            summary.done.append(target)
        except RehueError as exc:
            if len(folders) == 1:
                raise
            if isinstance(exc, BeingWritten):
                summary.elsewhere.append(target)
                continue
            summary.failed.append((folder, _failure(exc, folder)))
            log(f"rehue: error: {exc}")
    return summary
