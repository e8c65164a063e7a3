"""A cast guard: take most of the tint off an output that is nearly all warm, and only then.

The blind twenty-three get a faint sepia tint (docs/model-card.md, "A sepia cast?"): where the model
cannot read a texture it paints it the brown of its training photos, and 11 of 23 outputs are at least
90% warm against 2 of the truths. Taking part of every photo's mean colour away removes the tint but
costs the photos whose true colour is a warm mean (a desert), so it was not used. The guard does it only
to an output that is nearly all warm (warm share at least ``--threshold``, the measure `rehue evaluate`
counts a uniform cast by): a*b* <- K x mean + (a*b* - mean), after the restraint shipped when it was
measured (a Gaussian blur of sigma 1.5, then x0.5; the guided filter came later).

Scored with that restraint and each K: cross-validation over the 275 training photos (the fold
models of benchmarks/out_of_fold.py, which already exist or are trained first), then the six held-out
sets with the shipped model. Printed: PSNR and SSIM minus gray's, with 95% intervals of the mean (the
cross-validation), colourfulness share, and outputs nearly all warm; and how many outputs the guard
touched.

    .venv/bin/python benchmarks/cast_guard.py [--ks 0.5 0] [--threshold 0.9] [--demo data/demo]
        [--runs runs/folds] [--model rehue-gen2-128-independent]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from out_of_fold import make_folds, predictions, train_folds, unscaled  # noqa: E402
from restraint import centre_crops, held_out_photos, photo_figures  # noqa: E402

SHIPPED_SCALE = 0.5


def guarded(gray: np.ndarray, ab: np.ndarray, k: float | None, threshold: float) -> tuple[np.ndarray, bool]:
    """(RGB output, whether the guard acted) of uint8 ``gray`` (S, S) and restrained normalised a*b*
    (2, S, S): the output as shown, or, when it is at least ``threshold`` warm and ``k`` is not None,
    with only ``k`` of its mean a*b* kept."""
    from rehue.color.lab import AB_SCALE
    from rehue.evaluation.metrics import warm_share
    from rehue.inference.colorizer import compose_full_resolution

    output = compose_full_resolution(gray, np.moveaxis(ab, 0, -1) * AB_SCALE)
    if k is None:
        return output, False
    share = warm_share(output)
    if share is None or share < threshold:
        return output, False
    mean = ab.mean(axis=(1, 2), keepdims=True)
    return compose_full_resolution(gray, np.moveaxis(ab - (1.0 - k) * mean, 0, -1) * AB_SCALE), True


def scores(grays, abs_, truths, k, threshold) -> dict:
    """Per photo: PSNR and SSIM minus gray's, colourfulness, warm share (NaN: none) and whether guarded."""
    rows = {"psnr": [], "ssim": [], "colour": [], "warm": [], "guarded": []}
    for gray, ab, truth in zip(grays, abs_, truths, strict=True):
        output, acted = guarded(gray, ab, k, threshold)
        for name, value in photo_figures(output, truth).items():
            rows[name].append(value)
        rows["guarded"].append(acted)
    return {name: np.array(values) for name, values in rows.items()}


def coloured(colorizer, paths, size=None):
    """(grays, restrained a*b* at the shipped scale, truths) of the centre crops of ``paths``."""
    truths = centre_crops(paths, size or colorizer.size)
    grays, ab = predictions(colorizer, truths)
    return grays, ab * np.float32(SHIPPED_SCALE), truths


def main():
    from rehue.evaluation.metrics import SEPIA_WARM_SHARE, colourfulness, mean_interval, warm_casts, warm_share

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=float, nargs="+", default=[0.5, 0.0],
                        help="share of a nearly-all-warm output's mean a*b* kept")
    parser.add_argument("--threshold", type=float, default=SEPIA_WARM_SHARE)
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--runs", type=Path, default=Path("runs/folds"))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--model", default="rehue-gen2-128-independent")
    args = parser.parse_args()
    settings = {"no guard": None, **{f"K {k:g}": k for k in args.ks}}

    folds = make_folds(args.demo, args.runs, args.folds)
    models = train_folds(folds, args.runs)
    parts = [coloured(unscaled(model), photos) for (_, photos), model in zip(folds, models, strict=True)]
    grays, abs_, truths = (sum((list(part[i]) for part in parts), []) for i in range(3))
    truth_warm = np.array([np.nan if (s := warm_share(t)) is None else s for t in truths])
    truth_colour = np.mean([colourfulness(t) for t in truths])
    print(f"cross-validation over the {len(truths)} training photos, Gaussian 1.5 and x0.5, "
          f"guard threshold {args.threshold:g} (truths nearly all warm: {(truth_warm >= args.threshold).sum()})")
    print("| setting | PSNR minus gray's (95% interval) | SSIM minus gray's (95% interval) | colourfulness share "
          "| nearly all warm | guarded | guarded photos: PSNR change |")
    print("|---|---|---|---|---|---|---|")
    cv = {name: scores(grays, abs_, truths, k, args.threshold) for name, k in settings.items()}
    for name, row in cv.items():
        low, high = mean_interval(row["psnr"])
        ssim_low, ssim_high = mean_interval(row["ssim"])
        touched = row["guarded"]
        change = (row["psnr"] - cv["no guard"]["psnr"])[touched]
        print(f"| {name} | {row['psnr'].mean():+.3f} ({low:+.2f} to {high:+.2f}) "
              f"| {row['ssim'].mean():+.4f} ({ssim_low:+.4f} to {ssim_high:+.4f}) "
              f"| {row['colour'].mean() / truth_colour:.2f} | {warm_casts(row['warm'])} "
              f"| {touched.sum()} | " + (f"{change.mean():+.2f} (better on {(change > 0).sum()})" if touched.any()
                                          else "-") + " |")

    shipped = unscaled(args.model)
    print(f"held-out sets, {args.model}, Gaussian 1.5 and x0.5")
    print("| set | setting | PSNR minus gray's | SSIM minus gray's | colourfulness share | nearly all warm (truths) "
          "| guarded |")
    print("|---|---|---|---|---|---|---|")
    for set_name, paths in held_out_photos(args.demo).items():
        grays, abs_, truths = coloured(shipped, paths)
        truth_cast = warm_casts(map(warm_share, truths))
        truth_colour = np.mean([colourfulness(t) for t in truths])
        for name, k in settings.items():
            row = scores(grays, abs_, truths, k, args.threshold)
            print(f"| {set_name} | {name} | {row['psnr'].mean():+.3f} | {row['ssim'].mean():+.4f} "
                  f"| {row['colour'].mean() / truth_colour:.2f} | {warm_casts(row['warm'])} "
                  f"({truth_cast}) | {row['guarded'].sum()} |")


if __name__ == "__main__":
    main()
