"""Plain borders around a photo: the held-out photos of docs/model-card.md coloured whole, as `rehue
colorize` does, as they are, inside a white frame (6% of the long side, level 245, like a scanned print)
and with black bars out to a square; with `--borders neutral` (the default: borders stay gray and the
model sees the picture inside them) and `--borders model` (the model sees everything). Scores the
picture's own pixels.

    .venv/bin/python benchmarks/borders.py [--model default] [--demo data/demo] [--out docs/results/borders]

Per framing and mode: mean PSNR minus gray's (dB), on how many photos the PSNR beats gray's, the median
gain, and the colourfulness as a share of the truth's. With ``--out``, a picture of a few photos in their
white frame: gray | --borders model | --borders neutral | truth.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from restraint import held_out_photos  # noqa: E402

MODES = ("neutral", "model")
SHOWN = ("Dune", "sheep", "castle-maintenon")  # a wallpaper, a field under a sky, a castle
FRAME_SHARE = 0.06
FRAME_LEVEL = 245


def framings(rgb: np.ndarray) -> dict[str, tuple[np.ndarray, tuple[slice, slice]]]:
    """{name: (framed image, where the photo sits in it)}."""
    height, width = rgb.shape[:2]
    pad = round(max(height, width) * FRAME_SHARE)
    white = np.full((height + 2 * pad, width + 2 * pad, 3), FRAME_LEVEL, np.uint8)
    white[pad : pad + height, pad : pad + width] = rgb
    side = max(height, width)
    top, left = (side - height) // 2, (side - width) // 2
    square = np.zeros((side, side, 3), np.uint8)
    square[top : top + height, left : left + width] = rgb
    return {"as it is": (rgb, (slice(0, height), slice(0, width))),
            "white frame": (white, (slice(pad, pad + height), slice(pad, pad + width))),
            "black bars to a square": (square, (slice(top, top + height), slice(left, left + width)))}


def score(model: str, paths: list[Path]) -> tuple[dict, list]:
    """({framing: {mode: (PSNR minus gray's, photos ahead, photos, median gain, colourfulness share)}},
    rows of the picture: [gray, model, neutral, truth] in a white frame for the photos named in ``SHOWN``)."""
    from rehue.data.images import load_image
    from rehue.evaluation.metrics import colourfulness, gray_baseline, psnr
    from rehue.inference.colorizer import Colorizer

    colorizers = {mode: Colorizer.load(model, device="cpu", borders=mode) for mode in MODES}
    gains: dict = {}
    colour: dict = {}
    truth_colour, shown = [], []
    for path in paths:
        truth = load_image(path).rgb
        gray_psnr = psnr(gray_baseline(truth), truth)
        truth_colour.append(colourfulness(truth))
        for name, (image, (rows, cols)) in framings(truth).items():
            outputs = {mode: colorizer.colorize(image) for mode, colorizer in colorizers.items()}
            if name == "white frame" and path.stem in SHOWN:
                shown.append([gray_baseline(image), outputs["model"], outputs["neutral"], image])
            for mode, output in outputs.items():
                picture = output[rows, cols]
                gains.setdefault(name, {}).setdefault(mode, []).append(psnr(picture, truth) - gray_psnr)
                colour.setdefault(name, {}).setdefault(mode, []).append(colourfulness(picture))
    table = {name: {mode: (float(np.mean(g)), sum(x > 0 for x in g), len(g), float(np.median(g)),
                           float(np.mean(colour[name][mode]) / np.mean(truth_colour)))
                    for mode, g in by_mode.items()} for name, by_mode in gains.items()}
    return table, shown


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--out", type=Path, default=None, help="folder for the picture (borders.png)")
    args = parser.parse_args()
    paths = [p for paths in held_out_photos(args.demo).values() for p in paths]
    table, shown = score(args.model, paths)
    print(f"{len(paths)} held-out photos, whole, at full resolution")
    print("| framing | --borders | PSNR minus gray's (dB) | beats gray on | median gain (dB) "
          "| colourfulness / truth's |")
    print("|---|---|---|---|---|---|")
    for name, row in table.items():
        for mode, (gain, ahead, count, median, share) in row.items():
            print(f"| {name} | {mode} | {gain:+.2f} | {ahead} of {count} | {median:+.2f} | {share:.2f} |")
    if args.out and shown:
        from rehue.evaluation.report import sample_grid

        path = sample_grid(shown, args.out / "borders.png", titles=("Gray", "--borders model", "--borders neutral",
                                                                      "Ground truth"), cell=192)
        print(f"picture: {path}")


if __name__ == "__main__":
    main()
