"""Whole photos at full resolution, shown to the model two ways: "native" (the short side at the model's
size, the default of `rehue colorize`) and "letterbox" (the whole photo in the model's square, black
bars; thesis 4.1). Scores the model card's six held-out photo sets as `rehue colorize` colours them,
and draws gray | letterbox | native | truth for a few photos.

    .venv/bin/python benchmarks/photo_fit.py [--model default] [--demo data/demo] [--out docs/results/photo-fit]

Per set and fit: mean PSNR minus gray's (dB), the colourfulness as a share of the truth's, on how many
photos the PSNR beats gray's, and the median of the per-photo PSNR differences.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from restraint import held_out_photos  # noqa: E402

FITS = ("letterbox", "native")
# one underwater photo (letterbox colours all six below gray), a wide wallpaper, a dog at a white
# wall, the lute (native paints its grey background blue, as the centre crops do)
SHOWN = ("sea1", "summer_1am", "friends", "music_middleeast")


def score(model: str, sets: dict[str, list[Path]]) -> tuple[dict, list, dict]:
    """({set: {fit: (PSNR minus gray's, colourfulness share, photos ahead, photos, median gain)}}, rows of
    the picture: [gray, letterbox output, native output, truth] for the photos named in ``SHOWN``,
    {fit: mean milliseconds of ``Colorizer.colorize`` per photo})."""
    from rehue.data.images import load_image
    from rehue.evaluation.metrics import colourfulness, gray_baseline, psnr
    from rehue.inference.colorizer import Colorizer

    colorizers = {fit: Colorizer.load(model, device="cpu", fit=fit) for fit in FITS}
    table, shown = {}, []
    gains_all = {fit: [] for fit in FITS}
    seconds = {fit: [] for fit in FITS}
    for name, paths in sets.items():
        gains = {fit: [] for fit in FITS}
        colour = {fit: [] for fit in FITS}
        truth_colour = []
        for path in paths:
            truth = load_image(path).rgb
            gray = gray_baseline(truth)
            gray_psnr = psnr(gray, truth)
            truth_colour.append(colourfulness(truth))
            outputs = {}
            for fit, colorizer in colorizers.items():
                started = time.perf_counter()
                outputs[fit] = colorizer.colorize(truth)
                seconds[fit].append(time.perf_counter() - started)
            for fit, output in outputs.items():
                gains[fit].append(psnr(output, truth) - gray_psnr)
                colour[fit].append(colourfulness(output))
            if path.stem in SHOWN:
                shown.append([gray, *(outputs[fit] for fit in FITS), truth])
        table[name] = {fit: _row(gains[fit], np.mean(colour[fit]) / np.mean(truth_colour)) for fit in FITS}
        for fit in FITS:
            gains_all[fit] += gains[fit]
    table["all"] = {fit: _row(gains_all[fit], None) for fit in FITS}
    return table, shown, {fit: 1000 * float(np.mean(times)) for fit, times in seconds.items()}


def _row(gains: list[float], colour_share: float | None) -> tuple:
    return (float(np.mean(gains)), colour_share, sum(g > 0 for g in gains), len(gains), float(np.median(gains)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--out", type=Path, default=None, help="folder for the picture (fit.png)")
    args = parser.parse_args()
    table, shown, milliseconds = score(args.model, held_out_photos(args.demo))
    print("| set | fit | PSNR minus gray's (dB) | colourfulness / truth's | beats gray on | median gain (dB) |")
    print("|---|---|---|---|---|---|")
    for name, row in table.items():
        for fit, (gain, share, ahead, count, median) in row.items():
            share_text = "" if share is None else f"{share:.2f}"
            print(f"| {name} | {fit} | {gain:+.2f} | {share_text} | {ahead} of {count} | {median:+.2f} |")
    print("colouring one photo at full resolution (mean ms, the first of each fit included): "
          + ", ".join(f"{fit} {ms:.1f}" for fit, ms in milliseconds.items()))
    if args.out and shown:
        from rehue.evaluation.report import sample_grid

        path = sample_grid(shown, args.out / "fit.png", titles=("Gray", *FITS, "Ground truth"), cell=192)
        print(f"picture: {path}")


if __name__ == "__main__":
    main()
