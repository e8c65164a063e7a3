"""Time and peak memory of `rehue colorize` on one large gray scan, as an archive's scanner makes them.

    .venv/bin/python benchmarks/large_photo.py [--megapixels 24 48] [--model default]

For each size, makes a 3:2 gray scan (a smooth picture with film grain; 8-bit JPEG and 16-bit TIFF),
colours it with `rehue colorize` in a process of its own (into PNG, 16-bit for the TIFF) and prints the
wall time and the process's peak resident memory. The first row colours a 64x64 photo: what loading
PyTorch and the model costs before any picture.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_scan(megapixels: float, seed: int = 0) -> np.ndarray:
    """A 3:2 uint16 gray picture of about ``megapixels``: smooth shapes with a little grain."""
    import cv2

    width = round((megapixels * 1e6 * 1.5) ** 0.5)
    height = round(width / 1.5)
    rng = np.random.default_rng(seed)
    coarse = cv2.GaussianBlur(rng.random((200, 300)).astype(np.float32), (0, 0), 6)
    coarse = (coarse - coarse.min()) / (np.ptp(coarse) + 1e-6)
    picture = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    picture += rng.normal(0, 0.01, (height, width)).astype(np.float32)
    return np.round(np.clip(picture, 0, 1) * 65535).astype(np.uint16)


def run_colorize(source: Path, target: Path, model: str) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one `rehue colorize` process."""
    command = [sys.executable, "-m", "rehue.cli", "colorize", str(source), "-o", str(target), "--model", model,
               "--device", "cpu", "--overwrite", "--no-progress"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode(errors="replace").strip()
    if process.returncode != 0:
        raise SystemExit(f"rehue colorize {source} failed: {error}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, nargs="+", default=[24.0, 48.0])
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    from PIL import Image

    print("| picture | input | seconds | peak resident MiB |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        tiny = work / "tiny.png"
        Image.fromarray(np.zeros((64, 64), np.uint8)).save(tiny)
        seconds, peak = run_colorize(tiny, work / "tiny-out.png", args.model)
        print(f"| 64x64 (loading only) | 8-bit PNG | {seconds:.1f} | {peak:.0f} |", flush=True)
        for megapixels in args.megapixels:
            scan = make_scan(megapixels)
            height, width = scan.shape
            deep, jpeg = work / "scan.tif", work / "scan.jpg"
            Image.fromarray(scan).save(deep)
            Image.fromarray((scan >> 8).astype(np.uint8)).save(jpeg, quality=92)
            for source, kind in ((jpeg, "8-bit JPEG"), (deep, "16-bit TIFF")):
                seconds, peak = run_colorize(source, work / "out.png", args.model)
                print(f"| {width}x{height} ({width * height / 1e6:.0f} MP) | {kind} | {seconds:.1f} | {peak:.0f} |",
                      flush=True)


if __name__ == "__main__":
    main()
