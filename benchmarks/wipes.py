"""Wipes and irises between two shots, as an old newsreel joined them: how many the robust detector finds.

Each case: 30 frames of one skimage.data photo, an N-frame transition (N = 8, 12, 16, 20), then 30 frames
of another, 320x240 windows of the photos scaled to 720x540, both shots still or panning 2 px per frame.
Transitions: the new shot pushed across from the left, from the top, along a diagonal; an iris opening on
the new shot from the centre; an iris closing on the old shot to black and opening on the new one (half
the frames each, with 2 black frames between). ``--old-film S`` shows each case as an old print
(``scenes_eval.age_film``). A case is found when every detection lies between the transition's first frame
and 3 frames after it ends, and there is at least one; a detection anywhere else is a false one.

Run: ``python benchmarks/wipes.py [--old-film S] [-v]`` (about 20 s).
"""

from __future__ import annotations

import argparse

import numpy as np
from pan_dissolves import HOLD, PAIRS, photo, shot

KINDS = ("left", "top", "diagonal", "iris", "iris through black")
LENGTHS = (8, 12, 16, 20)
SPEEDS = (0, 2)
BLACK = 2  # black frames in the middle of an iris through black


def new_shot_mask(kind: str, progress: float, shape: tuple[int, int]) -> np.ndarray:
    """Where the new shot shows, ``progress`` (0-1) of the way through a wipe of ``kind``."""
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "left":
        return cols < progress * width
    if kind == "top":
        return rows < progress * height
    if kind == "diagonal":
        return cols / width + rows / height < 2 * progress
    radius = np.hypot(cols - width / 2, rows - height / 2) / np.hypot(width / 2, height / 2)
    return radius < progress


def wipe(first: list[np.ndarray], second: list[np.ndarray], kind: str, length: int) -> list[np.ndarray]:
    shape = first[0].shape
    middle = []
    closing = (length - BLACK) // 2
    opening = length - BLACK - closing
    for k in range(length):
        progress = (k + 1) / (length + 1)
        old, new = first[HOLD + k], second[k]
        if kind == "iris through black":
            if k < closing:
                frame = np.where(new_shot_mask("iris", 1 - (k + 1) / (closing + 1), shape), old, 0)
            elif k < closing + BLACK:
                frame = np.zeros(shape)
            else:
                frame = np.where(new_shot_mask("iris", (k - closing - BLACK + 1) / (opening + 1), shape), new, 0)
        else:
            frame = np.where(new_shot_mask(kind, progress, shape), new, old)
        middle.append(frame.astype(np.uint8))
    return first[:HOLD] + middle + second[length : length + HOLD]


def main() -> None:
    from scenes_eval import age_film

    from rehue.video.scenes import detect_scenes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-film", type=float, default=0.0, metavar="S", help="age every case (1: a worn print)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case's detections")
    args = parser.parse_args()
    found = {kind: 0 for kind in KINDS}
    false = {kind: 0 for kind in KINDS}
    for a, b in PAIRS:
        for kind in KINDS:
            for length in LENGTHS:
                for speed in SPEEDS:
                    frames = wipe(shot(photo(a), 0, HOLD + length, speed), shot(photo(b), 20, HOLD + length, speed),
                                  kind, length)
                    if args.old_film:
                        frames = list(age_film(np.stack(frames), args.old_film))
                    starts = detect_scenes(frames)
                    inside = [start for start in starts if HOLD <= start <= HOLD + length + 3]
                    hit = bool(inside) and len(inside) == len(starts)
                    found[kind] += hit
                    false[kind] += len(starts) - len(inside)
                    if args.verbose:
                        print(f"{kind}: {a} -> {b}, {length} frames, {speed} px/frame: {starts} "
                              f"{'found' if hit else 'MISSED'}")
    cases = len(PAIRS) * len(LENGTHS) * len(SPEEDS)
    for kind in KINDS:
        print(f"{kind}: {found[kind]} of {cases} found, {false[kind]} false")


if __name__ == "__main__":
    main()
