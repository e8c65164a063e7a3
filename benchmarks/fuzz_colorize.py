"""Fuzz ``rehue colorize`` with mutated images and videos; every run must end in a result or a clean error.

Small valid files are made on the fly (images in fifteen encodings: PNG RGB/RGBA/palette/16-bit gray/16-bit
RGB, JPEG gray/CMYK/EXIF-rotated/with dpi and EXIF, WebP, TIFF 8-bit/16-bit gray with dpi and EXIF/16-bit RGB,
BMP, GIF; videos: H.264+AAC in MP4/MOV/MKV, VP9+Opus in WebM, MPEG-4 Part 2 in AVI, with and without sound),
then mutated:

* ``bit_flips``: 1 to 16 random bits flipped anywhere;
* ``byte_run``: a run of 1 to 64 random bytes written anywhere;
* ``truncate``: cut at a random length (the empty file included);
* ``header``: 1 to 8 random bytes written into the first ``HEADER_SPAN`` bytes (magic numbers, PNG
  IHDR, JPEG SOF, the MP4 ``moov`` box, which faststart puts at the front, Matroska/WebM EBML headers);
* ``size_field``: an aligned 4-byte word in the header set to 0, 1, 0x7FFFFFFF, 0xFFFFFFFF or 0x00010000
  (dimensions, chunk and box lengths: the values that make decoders allocate or loop).

Each mutant goes through ``rehue.cli.main(["colorize", ...])`` in this process, with a tiny random model
(gen2, width 4, size 32, and its dependent twin for videos). Outcomes:

* ``ok``: exit 0, the output exists and reads back, no temp file is left;
* ``error``: exit 1, exactly one ``rehue: error: PATH: reason`` line naming the input or the output,
  no traceback, no output and no temp file left;
* ``crash``: anything else (an exception out of ``main``, another exit code, a missing or extra error line,
  a half-written file, a run over ``--timeout`` seconds). The run fails unless there are none.

Run: ``python benchmarks/fuzz_colorize.py`` (defaults: 3000 images, 300 videos, about 13 minutes on two
shared cores; ``--save-crashes DIR`` keeps the inputs that crashed, ``--json FILE`` writes the counts). It
prints a markdown table of outcomes per seed file and mutation; results are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the clip and model makers shared with the tests

from rehue.cli import main  # noqa: E402
from tests.conftest import make_tiny_model, textured_rgb  # noqa: E402
from tests.helpers_video import make_clip, textured_frames  # noqa: E402

IMAGE_SHAPE = (40, 56)
VIDEO_SHAPE = (48, 64)
VIDEO_FRAMES = 12
VIDEO_FPS = 12
HEADER_SPAN = 1024
MAX_FLIPPED_BITS = 16
MAX_RUN_BYTES = 64
MAX_HEADER_BYTES = 8
SIZE_FIELD_VALUES = (0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x00010000)
MUTATIONS = ("bit_flips", "byte_run", "truncate", "header", "size_field")
IMAGE_OUTPUTS = (".png", ".jpg", ".webp")
EXIF_ORIENTATION = 0x0112
ROTATED_90_CW = 6


class CaseTimeout(BaseException):
    """Raised by SIGALRM when one case runs too long (a BaseException, so rehue cannot swallow it)."""


def image_seeds() -> dict[str, bytes]:
    """Name (ending in the file extension) -> bytes of a small valid image."""
    from PIL import Image

    rgb = textured_rgb(*IMAGE_SHAPE)
    gray = rgb[..., 0]
    pictures = {
        "rgb.png": (Image.fromarray(rgb), {}),
        "rgba.png": (Image.fromarray(np.dstack([rgb, gray])), {}),
        "palette.png": (Image.fromarray(rgb).convert("P"), {}),
        "gray16.png": (Image.fromarray(gray.astype(np.uint16) * 257), {}),
        "gray.jpg": (Image.fromarray(gray), {"quality": 85}),
        "cmyk.jpg": (Image.fromarray(rgb).convert("CMYK"), {"quality": 85}),
        "rgb.webp": (Image.fromarray(rgb), {"quality": 80}),
        "rgb.tif": (Image.fromarray(rgb), {}),
        "rgb.bmp": (Image.fromarray(rgb), {}),
        "palette.gif": (Image.fromarray(rgb).convert("P"), {}),
    }
    rotated = Image.fromarray(rgb)
    exif = rotated.getexif()
    exif[EXIF_ORIENTATION] = ROTATED_90_CW
    pictures["exif.jpg"] = (rotated, {"exif": exif, "quality": 85})
    described = Image.fromarray(gray.astype(np.uint16) * 257)
    tags = described.getexif()
    tags[0x010E] = "harbour, 1920"  # ImageDescription
    tags.get_ifd(0x8769)[0x9003] = "1920:06:01 12:00:00"  # Exif sub-IFD: DateTimeOriginal
    pictures["gray16-exif.tif"] = (described, {"exif": tags, "dpi": (1200, 1200)})
    pictures["exif-dpi.jpg"] = (Image.fromarray(rgb), {"exif": tags, "dpi": (600, 600), "quality": 85})
    seeds = {}
    for name, (image, options) in pictures.items():
        buffer = io.BytesIO()
        image.save(buffer, format=Image.registered_extensions()[Path(name).suffix], **options)
        seeds[name] = buffer.getvalue()
    import cv2
    import tifffile

    rgb16 = rgb.astype(np.uint16) * 257  # 16-bit RGB, which rehue reads with OpenCV
    seeds["rgb16.png"] = cv2.imencode(".png", rgb16[..., ::-1])[1].tobytes()
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgb16, photometric="rgb", compression="zlib")
    seeds["rgb16.tif"] = buffer.getvalue()
    return seeds


def video_seeds(folder: Path) -> dict[str, bytes]:
    specs = {"h264-aac.mp4": {"audio": True}, "h264.mov": {}, "h264-aac.mkv": {"audio": True},
             "vp9-opus.webm": {"audio": True}, "mpeg4.avi": {}}
    seeds = {}
    for name, options in specs.items():
        path = make_clip(folder / name, textured_frames(VIDEO_FRAMES, *VIDEO_SHAPE), fps=VIDEO_FPS, **options)
        seeds[name] = path.read_bytes()
    return seeds


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    data = bytearray(data)
    if kind == "bit_flips":
        for _ in range(rng.randint(1, MAX_FLIPPED_BITS)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "byte_run":
        start = rng.randrange(len(data))
        data[start : start + rng.randint(1, MAX_RUN_BYTES)] = rng.randbytes(rng.randint(1, MAX_RUN_BYTES))
    elif kind == "truncate":
        del data[rng.randrange(len(data)) :]
    elif kind == "header":
        span = min(HEADER_SPAN, len(data))
        for _ in range(rng.randint(1, MAX_HEADER_BYTES)):
            data[rng.randrange(span)] = rng.randrange(256)
    elif kind == "size_field":
        offset = rng.randrange(min(HEADER_SPAN, len(data) - 4) // 4) * 4
        data[offset : offset + 4] = rng.choice(SIZE_FIELD_VALUES).to_bytes(4, rng.choice(("big", "little")))
    else:
        raise ValueError(f"unknown mutation {kind!r}")
    return bytes(data)


def output_reads_back(path: Path) -> bool:
    from rehue.data.images import load_image
    from rehue.video.io import VideoReader

    if path.suffix in IMAGE_OUTPUTS:
        return load_image(path).rgb.size > 0
    with VideoReader(path) as reader:
        return next(iter(reader), None) is not None


def run_case(source: Path, target: Path, model_args: list[str], timeout_s: float) -> tuple[str, str]:
    """(outcome, detail): outcome is ok, error or crash; detail says why for crashes and errors."""
    target.unlink(missing_ok=True)
    args = ["colorize", str(source), "-o", str(target), *model_args, "--no-progress"]
    stderr = io.StringIO()
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        with contextlib.redirect_stderr(stderr):
            code = main(args)
    except CaseTimeout:
        return "crash", f"no answer within {timeout_s:g} s"
    except BaseException as exc:  # noqa: B036 - a crash is whatever escapes the CLI
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return "crash", f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}: {str(exc)[:120]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    leftovers = [p.name for p in target.parent.iterdir() if ".rehue-tmp" in p.name]
    if leftovers:
        return "crash", f"temp file left: {leftovers[0]}"
    lines = stderr.getvalue().splitlines()
    errors = [line for line in lines if line.startswith("rehue: error:")]
    if "Traceback" in stderr.getvalue():
        return "crash", "traceback printed"
    if code == 0:
        if not target.exists():
            return "crash", "exit 0 without an output"
        try:
            readable = output_reads_back(target)
        except Exception as exc:  # noqa: BLE001 - any failure to read back is a broken output
            return "crash", f"output does not read back ({exc})"
        return ("ok", "") if readable else ("crash", "output has no picture")
    if code != 1:
        return "crash", f"exit code {code}"
    if len(errors) != 1 or not (str(source) in errors[0] or str(target) in errors[0]):
        return "crash", f"error lines: {errors!r}"
    if target.exists():
        return "crash", "output written despite the error"
    reason = errors[0].split(": ", 3)[-1]
    return "error", reason


def main_fuzz(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--videos", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one case may take")
    parser.add_argument("--save-crashes", type=Path, help="folder to copy crashing inputs into")
    parser.add_argument("--json", type=Path, help="write the counts here as JSON")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: a width-4 model gains nothing from more, and on a busy "
                             "machine OpenMP's waiting makes it many times slower)")
    options = parser.parse_args(argv)
    import torch

    torch.set_num_threads(options.threads)

    def on_alarm(signum, frame):
        raise CaseTimeout

    signal.signal(signal.SIGALRM, on_alarm)
    rng = random.Random(options.seed)
    with tempfile.TemporaryDirectory(prefix="rehue-fuzz-") as work:
        work = Path(work)
        (work / "out").mkdir()
        (work / "clips").mkdir()
        model = make_tiny_model(work / "models" / "independent.safetensors")
        dependent = make_tiny_model(work / "models" / "dependent.safetensors", in_channels=3)
        model_args = ["--model", str(model), "--dependent-model", str(dependent)]
        images = [("image", name, data) for name, data in image_seeds().items()]
        videos = [("video", name, data) for name, data in video_seeds(work / "clips").items()]
        cases = [rng.choice(images) for _ in range(options.images)] + \
                [rng.choice(videos) for _ in range(options.videos)]
        counts: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
        reasons: Counter = Counter()
        crashes: list[dict] = []
        seconds: Counter = Counter()
        for number, (kind, name, data) in enumerate(cases):
            mutation = rng.choice(MUTATIONS)
            mutant = mutate(data, mutation, rng)
            source = work / f"input-{name}"
            source.write_bytes(mutant)
            suffix = rng.choice(IMAGE_OUTPUTS) if kind == "image" else Path(name).suffix.replace(".avi", ".mp4")
            started = time.perf_counter()
            outcome, detail = run_case(source, work / "out" / f"output{suffix}", model_args, options.timeout)
            seconds[kind] += time.perf_counter() - started
            counts[(kind, name, mutation)][outcome] += 1
            if outcome == "error":
                reasons[detail.split(" (")[0][:70]] += 1
            if outcome == "crash":
                crashes.append({"case": number, "seed_file": name, "mutation": mutation, "detail": detail})
                print(f"CRASH {number} {name} {mutation}: {detail}", file=sys.stderr)
                if options.save_crashes:
                    options.save_crashes.mkdir(parents=True, exist_ok=True)
                    (options.save_crashes / f"crash-{number}-{name}").write_bytes(mutant)
            source.unlink()
    report(counts, reasons, seconds, crashes, options)
    return 1 if crashes else 0


def report(counts, reasons, seconds, crashes, options) -> None:
    outcomes = ("ok", "error", "crash")
    print(f"# rehue colorize fuzz: {options.images} images, {options.videos} videos, seed {options.seed}\n")
    for kind in ("image", "video"):
        rows = {key: value for key, value in counts.items() if key[0] == kind}
        total = sum((value for value in rows.values()), Counter())
        cases = sum(total.values())
        if not cases:
            continue
        print(f"## {kind}s: {cases} cases in {seconds[kind]:.0f} s ({1000 * seconds[kind] / cases:.0f} ms each); "
              + ", ".join(f"{o} {total[o]}" for o in outcomes) + "\n")
        print("| seed file | " + " | ".join(MUTATIONS) + " |")
        print("|---|" + "---|" * len(MUTATIONS))
        for name in sorted({key[1] for key in rows}):
            cells = []
            for mutation in MUTATIONS:
                cell = rows.get((kind, name, mutation), Counter())
                cells.append("/".join(str(cell[o]) for o in outcomes))
            print(f"| {name} | " + " | ".join(cells) + " |")
        print("\n(cells: ok/error/crash)\n")
    print("## most common error reasons\n")
    for reason, count in reasons.most_common(15):
        print(f"- {count}: {reason}")
    print(f"\n## crashes: {len(crashes)}")
    for crash in crashes[:50]:
        print(f"- case {crash['case']} {crash['seed_file']} {crash['mutation']}: {crash['detail']}")
    if options.json:
        summary = {"images": options.images, "videos": options.videos, "seed": options.seed,
                   "seconds": dict(seconds), "crashes": crashes, "error_reasons": dict(reasons),
                   "counts": {"/".join(key): dict(value) for key, value in counts.items()}}
        options.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main_fuzz())
