"""Fades through black between two shots: where the robust detector puts the change.

Each case: 30 frames of one skimage.data photo fading out over N frames (N = 6, 12, 24), H black frames
(H = 0, 3), the next photo fading in over N frames, then 30 frames of it; 320x240 windows of the photos
scaled to 720x540 (``pan_dissolves``), both shots still or panning 2 px per frame. The fade-out's k-th frame
is the old shot at (1 - k / (N + 1)) of its brightness, the fade-in's the new shot at k / (N + 1). For each
case it prints the change found (frames after the new shot's first, dim, frame; "early" for any change
before it, as in the fade-out) and the brightness of the frame it was found on.

Run: ``python benchmarks/fades.py [-v]`` (about 5 s).
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
from pan_dissolves import HOLD, PAIRS, photo, shot

LENGTHS = (6, 12, 24)
BLACKS = (0, 3)
SPEEDS = (0, 2)


def fade_through_black(first: list[np.ndarray], second: list[np.ndarray], length: int, black: int
                       ) -> tuple[list[np.ndarray], int]:
    """The film, and the index of the new shot's first frame."""
    out = [np.round(first[HOLD + k] * (1 - (k + 1) / (length + 1))).astype(np.uint8) for k in range(length)]
    into = [np.round(second[k] * ((k + 1) / (length + 1))).astype(np.uint8) for k in range(length)]
    frames = first[:HOLD] + out + [np.zeros_like(first[0])] * black
    return frames + into + second[length : length + HOLD], len(frames)


def main() -> None:
    from rehue.video.scenes import detect_scenes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case's detections")
    args = parser.parse_args()
    for length in LENGTHS:
        lags: Counter = Counter()
        for a, b in PAIRS:
            for black in BLACKS:
                for speed in SPEEDS:
                    frames, first_new = fade_through_black(shot(photo(a), 0, HOLD + length, speed),
                                                           shot(photo(b), 20, HOLD + 2 * length, speed), length, black)
                    starts = detect_scenes(frames)
                    late = starts[0] - first_new if starts else 0
                    lag = ("missed" if not starts else "early" if late < 0 or len(starts) > 1 else
                           f"{late} frames late (on a frame at {(late + 1) / (length + 1):.0%} of its brightness)")
                    lags[lag] += 1
                    if args.verbose:
                        print(f"{a} -> {b}, {length}/{black}/{length}, {speed} px/frame: new shot from {first_new}, "
                              f"changes at {starts}: {lag}")
        said = "; ".join(f"{count} found {lag}" if lag[0].isdigit() else f"{count} {lag}"
                         for lag, count in sorted(lags.items(), key=lambda item: (len(item[0]), item[0])))
        print(f"fades of {length} frames out and in ({sum(lags.values())} cases): {said}")


if __name__ == "__main__":
    main()
