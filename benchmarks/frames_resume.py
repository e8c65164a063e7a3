"""A film of numbered frames interrupted and gone on with: `rehue colorize REEL -o OUT --frames` with the
shipped models, once whole, and once stopped by SIGINT (or SIGTERM, or SIGKILL) after ``--stop-after``
seconds and run again. Prints the frames kept, the time each run took, the time lost to the interruption
and whether every frame is the whole run's, pixel for pixel (docs/reliability.md).

The reel: gray photos from scikit-image, each panned for ``--frames-each`` frames at ``--size``, cut
hard from one to the next.

    .venv/bin/python benchmarks/frames_resume.py [--frames-each 150] [--size 640x480] [--stop-after 6]
                                                 [--signal INT|TERM|KILL]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")


def make_reel(folder: Path, frames_each: int, width: int, height: int) -> int:
    from PIL import Image
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    folder.mkdir(parents=True)
    number = 0
    for name in PHOTOS:
        photo = rgb2gray(getattr(data, name)()[..., :3])
        photo = resize(photo, (height, width + 2 * frames_each), anti_aliasing=True)
        for step in range(frames_each):
            frame = np.round(photo[:, 2 * step:2 * step + width] * 255).astype(np.uint8)
            Image.fromarray(frame).save(folder / f"reel_{number:05d}.png")
            number += 1
    return number


def colorize(reel: Path, out: Path, stop_after: float | None = None, signum=signal.SIGINT) -> tuple[float, int, str]:
    command = [sys.executable, "-m", "rehue", "colorize", str(reel), "-o", str(out), "--frames", "--no-progress"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    if stop_after is not None:
        try:
            process.wait(stop_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signum)
    _, err = process.communicate()
    return time.perf_counter() - started, process.returncode, err


def read(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-each", type=int, default=150)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--stop-after", type=float, default=6.0)
    parser.add_argument("--signal", default="INT", choices=("INT", "TERM", "KILL"))
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    signum = getattr(signal, f"SIG{args.signal}")
    with tempfile.TemporaryDirectory(prefix="rehue-resume-") as root:
        root = Path(root)
        count = make_reel(root / "reel", args.frames_each, width, height)
        whole_s, code, err = colorize(root / "reel", root / "whole")
        if code != 0:
            sys.exit(f"the whole run failed: {err.strip()}")
        first_s, code, err = colorize(root / "reel", root / "out", args.stop_after, signum)
        if code == 0:
            sys.exit(f"the run finished in {first_s:.1f} s, before the interruption: give a lower --stop-after")
        kept = [p for p in root.iterdir() if p.name.startswith(".out.rehue-tmp")]
        kept_frames = len([p for p in kept[0].iterdir() if p.suffix == ".png"]) if kept else 0
        print(f"interrupted run: exit {code} after {first_s:.1f} s; {kept_frames} of {count} frames kept")
        for line in err.strip().splitlines()[-2:]:
            print(f"  {line}")
        second_s, code, err = colorize(root / "reel", root / "out")
        going_on = next((line for line in err.splitlines() if "going on from frame" in line), "started over")
        print(f"second run: exit {code}, {second_s:.1f} s ({going_on.split(': ', 1)[-1]})")
        whole = sorted((root / "whole").iterdir())
        resumed = sorted((root / "out").iterdir()) if (root / "out").is_dir() else []
        same = [p.name for p in resumed] == [p.name for p in whole] and all(
            np.array_equal(read(a), read(b)) for a, b in zip(whole, resumed, strict=True))
        print(f"uninterrupted: {whole_s:.1f} s; interrupted + second: {first_s + second_s:.1f} s "
              f"(lost to the interruption: {first_s + second_s - whole_s:+.1f} s; all over again would take "
              f"{first_s + whole_s:.1f} s)")
        print(f"every frame the uninterrupted run's, pixel for pixel: {same} ({len(resumed)} of {count} frames)")
        print(f"hidden folders left: {[p.name for p in root.iterdir() if p.name.startswith('.')]}")


if __name__ == "__main__":
    main()
