"""Cross-fades between two panning shots, as probe 15 made them: how many the robust detector finds.

Each case: 30 frames of one skimage.data photo, an N-frame linear cross-fade (N = 8, 10, 12, 16, 24),
then 30 frames of another, 320x240 windows of the photos scaled to 720x540, both shots still or
panning 2 or 4 px per frame (0.6% or 1.2% of the width). A case is found when every detection lies
between the first mixed frame and 3 frames after the fade ends, and there is at least one.

Run: ``python benchmarks/pan_dissolves.py [-v]`` (about 3 s).
"""

from __future__ import annotations

import argparse

import numpy as np

PAIRS = [("astronaut", "coffee"), ("chelsea", "rocket"), ("coffee", "camera"), ("rocket", "coins")]
LENGTHS = (8, 10, 12, 16, 24)
SPEEDS = (0, 2, 4)
HOLD = 30


def photo(name: str) -> np.ndarray:
    import cv2
    import skimage.data

    picture = getattr(skimage.data, name)()
    picture = picture if picture.ndim == 2 else cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)
    return cv2.resize(picture, (720, 540), interpolation=cv2.INTER_AREA)


def shot(picture: np.ndarray, left: int, count: int, speed: int) -> list[np.ndarray]:
    return [np.ascontiguousarray(picture[100:340, left + i * speed : left + i * speed + 320]) for i in range(count)]


def cross_fade(first: list[np.ndarray], second: list[np.ndarray], length: int) -> list[np.ndarray]:
    mixed = [np.round((1 - (k + 1) / (length + 1)) * first[HOLD + k] + (k + 1) / (length + 1) * second[k])
             .astype(np.uint8) for k in range(length)]
    return first[:HOLD] + mixed + second[length : length + HOLD]


def main() -> None:
    from rehue.video.scenes import detect_scenes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case's detections")
    args = parser.parse_args()
    found = {speed: 0 for speed in SPEEDS}
    for a, b in PAIRS:
        for length in LENGTHS:
            for speed in SPEEDS:
                frames = cross_fade(shot(photo(a), 0, HOLD + length, speed), shot(photo(b), 20, HOLD + length, speed),
                                    length)
                starts = detect_scenes(frames)
                hit = bool(starts) and all(HOLD <= start <= HOLD + length + 3 for start in starts)
                found[speed] += hit
                if args.verbose:
                    print(f"{a} -> {b}, {length} frames, {speed} px/frame: {starts} {'found' if hit else 'MISSED'}")
    cases = len(PAIRS) * len(LENGTHS)
    for speed in SPEEDS:
        print(f"shots {'still' if not speed else f'panning {speed} px per frame'}: {found[speed]} of {cases} found")


if __name__ == "__main__":
    main()
