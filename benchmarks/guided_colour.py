"""Colour that follows the edges of L*: a guided filter in place of the Gaussian smoothing of a*b*.

The restraint shipped until this benchmark blurred the predicted a*b* (sigma 1.5 px at 128x128) to
remove the generator's chroma speckle, and that blur also carried colour across the edges of the
picture. SSIM compares each
RGB channel's local structure, and against gray the shipped outputs lose on its contrast-structure term
in every band of L*. A guided filter (He, Sun and Tang 2010, "Guided image filtering") smooths a*b*
within regions of the gray input and keeps its changes where L* changes: within each (2R+1)^2 window,
a*b* is fitted as a linear function of L* (regularised by EPS), and the fits are averaged.

Scored with the shipped chroma scale (0.5; ``--scales`` for others in the cross-validation) beside the
Gaussian the models were shipped with until the guided filter passed this benchmark: cross-validation
over the 275 training photos (the fold models of benchmarks/out_of_fold.py) with 95% intervals, then the six
held-out sets with the shipped model; PSNR and SSIM minus gray's and colourfulness share; and the time
each smoothing takes on one picture.

    .venv/bin/python benchmarks/guided_colour.py [--radii 2 4] [--eps 1e-3 1e-2] [--scales 0.5 0.7]
        [--demo data/demo] [--runs runs/folds] [--model rehue-gen2-128-independent]
    .venv/bin/python benchmarks/guided_colour.py --full-res [--ks 1 2]

``--full-res`` scores whole photos at full resolution as `rehue colorize` colours them (the shipped
restraint at the working size, a*b* upsampled onto the full-resolution L*), with and without a second
guided filter along the full-resolution gray after the upsampling (radius K x the upsampling factor):
measured, not shipped (docs/model-card.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from out_of_fold import SMOOTHING, make_folds, train_folds  # noqa: E402
from restraint import centre_crops, held_out_photos, photo_figures  # noqa: E402

from rehue.inference.colorizer import guided_filter  # noqa: E402

SHIPPED_SCALE = 0.5
SHIPPED_GUIDE = (12, 0.01)  # the shipped independent model's "ab_guide_radius" and "ab_guide_eps"


def gaussian(planes: np.ndarray, sigma: float = SMOOTHING) -> np.ndarray:
    """The smoothing shipped before the guided filter: each plane blurred with a Gaussian of ``sigma`` pixels."""
    import cv2

    return np.stack([cv2.GaussianBlur(plane, (0, 0), sigma) for plane in planes.astype(np.float32)])


def raw_predictions(colorizer, truths: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(gray uint8 (N, S, S), the model's own a*b* (N, 2, S, S), normalised) of RGB ``truths``."""
    from rehue.color.lab import rgb_to_gray

    gray = np.stack([rgb_to_gray(t) for t in truths])
    return gray, np.concatenate([colorizer.predict_ab(g[None], restrain=False) for g in gray])


def smoothers(radii, eps_values) -> dict:
    """{name: smooth(gray uint8 (S, S), raw a*b* (2, S, S))}: the earlier Gaussian, then each guided filter."""
    found = {f"Gaussian {SMOOTHING:g}": lambda gray, ab: gaussian(ab)}
    for radius in radii:
        for eps in eps_values:
            found[f"guided R {radius} EPS {eps:g}"] = (
                lambda gray, ab, radius=radius, eps=eps: guided_filter(gray / np.float32(255), ab, radius, eps))
    return found


def scores(grays, raw, truths, smooth, scale: float = SHIPPED_SCALE) -> dict:
    """Per photo: PSNR and SSIM minus gray's, colourfulness and warm share (NaN: no colour) of the output
    at chroma ``scale``."""
    from rehue.color.lab import AB_SCALE
    from rehue.inference.colorizer import compose_full_resolution

    rows = {"psnr": [], "ssim": [], "colour": [], "warm": []}
    for gray, ab, truth in zip(grays, raw, truths, strict=True):
        shown = smooth(gray, ab) * np.float32(scale)
        output = compose_full_resolution(gray, np.moveaxis(shown, 0, -1) * AB_SCALE)
        for name, value in photo_figures(output, truth).items():
            rows[name].append(value)
    return {name: np.array(values) for name, values in rows.items()}


def crops(colorizer, paths):
    """(grays, raw a*b*, truths) of the centre crops of ``paths`` at the model's size."""
    truths = centre_crops(paths, colorizer.size)
    return (*raw_predictions(colorizer, truths), truths)


def full_resolution_scores(colorizer, paths, ks, eps: float = 0.01) -> dict:
    """{setting: per photo {"psnr", "ssim" minus gray's, "colour", "warm"}} of whole photos at full resolution,
    coloured as `rehue colorize` colours them (native view, ``colorizer``'s restraint, a*b* upsampled
    onto the full-resolution L*), and with a second guided filter along the full-resolution gray after
    the upsampling, radius round(K x upsampling factor), for each K of ``ks``."""
    import cv2

    from rehue.color.lab import AB_SCALE, rgb_to_gray
    from rehue.data.images import load_image
    from rehue.inference.colorizer import compose_full_resolution, native_view

    names = ["as shipped", *(f"full-resolution guide K {k:g}" for k in ks)]
    rows = {name: {"psnr": [], "ssim": [], "colour": [], "warm": []} for name in names}
    for path in paths:
        truth = load_image(path).rgb
        gray = rgb_to_gray(truth)
        small, box = native_view(gray, colorizer.size)
        ab_norm = colorizer.predict_ab(small[None], box=box)[0]
        ab = np.moveaxis(ab_norm[:, box.top : box.top + box.height, box.left : box.left + box.width], 0, -1) * AB_SCALE
        height, width = gray.shape
        factor = min(height, width) / min(box.height, box.width)
        upsampled = cv2.resize(np.ascontiguousarray(ab), (width, height), interpolation=cv2.INTER_LINEAR)
        for name, k in zip(names, [None, *ks], strict=True):
            shown = upsampled
            if k is not None and factor > 1:
                planes = guided_filter(gray / np.float32(255), np.moveaxis(upsampled, -1, 0),
                                       max(1, round(k * factor)), eps)
                shown = np.moveaxis(planes, 0, -1)
            for key, value in photo_figures(compose_full_resolution(gray, shown), truth).items():
                rows[name][key].append(value)
    return {name: {key: np.array(values) for key, values in row.items()} for name, row in rows.items()}


def full_resolution(args) -> None:
    """``--full-res``: the cross-validation and the held-out sets on whole photos, with and without a
    second guided filter at full resolution."""
    from rehue.evaluation.metrics import mean_interval
    from rehue.inference.colorizer import Colorizer

    folds = make_folds(args.demo, args.runs, args.folds)
    models = train_folds(folds, args.runs)
    parts = [full_resolution_scores(Colorizer.load(str(model), device="cpu", chroma=SHIPPED_SCALE,
                                                   ab_guide=SHIPPED_GUIDE), photos, args.ks)
             for (_, photos), model in zip(folds, models, strict=True)]
    names = list(parts[0])
    cv = {name: {key: np.concatenate([part[name][key] for part in parts]) for key in ("psnr", "ssim")}
          for name in names}
    radius, eps = SHIPPED_GUIDE
    print(f"cross-validation over the {len(cv[names[0]]['psnr'])} training photos, whole photos at full "
          f"resolution, the shipped restraint (guided R {radius}, EPS {eps:g}, x{SHIPPED_SCALE:g})")
    print("| setting | PSNR minus gray's (95% interval) | SSIM minus gray's (95% interval) |")
    print("|---|---|---|")
    for name, row in cv.items():
        (low, high), (ssim_low, ssim_high) = mean_interval(row["psnr"]), mean_interval(row["ssim"])
        print(f"| {name} | {row['psnr'].mean():+.3f} ({low:+.2f} to {high:+.2f}) "
              f"| {row['ssim'].mean():+.5f} ({ssim_low:+.4f} to {ssim_high:+.4f}) |")
    shipped = Colorizer.load(args.model, device="cpu")
    sets = held_out_photos(args.demo)
    print(f"held-out sets at full resolution, {args.model}: PSNR minus gray's / SSIM minus gray's")
    print("| setting | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    scored = [full_resolution_scores(shipped, paths, args.ks) for paths in sets.values()]
    for name in names:
        print(f"| {name} | " + " | ".join(f"{row[name]['psnr'].mean():+.3f} / {row[name]['ssim'].mean():+.5f}"
                                          for row in scored) + " |")


def load(model):
    from rehue.inference.colorizer import Colorizer

    return Colorizer.load(str(model), device="cpu", chroma=1.0, ab_smoothing=0.0)


def main():
    from rehue.evaluation.metrics import colourfulness, mean_interval, warm_casts, warm_share

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radii", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--eps", type=float, nargs="+", default=[1e-3, 1e-2])
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--runs", type=Path, default=Path("runs/folds"))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--model", default="rehue-gen2-128-independent")
    parser.add_argument("--scales", type=float, nargs="+", default=[SHIPPED_SCALE],
                        help="chroma scales for the cross-validation (the held-out sets: the shipped 0.5)")
    parser.add_argument("--full-res", action="store_true",
                        help="whole photos: the shipped restraint with and without a second guided filter at "
                             "full resolution (--ks)")
    parser.add_argument("--out", type=Path, help="write guided.png here: the first photo of each held-out set "
                                                 "with each smoothing")
    parser.add_argument("--ks", type=float, nargs="+", default=[1.0, 2.0],
                        help="--full-res: radius of the second filter, in upsampling factors")
    args = parser.parse_args()
    if args.full_res:
        full_resolution(args)
        return
    settings = smoothers(args.radii, args.eps)

    folds = make_folds(args.demo, args.runs, args.folds)
    models = train_folds(folds, args.runs)
    parts = [crops(load(model), photos) for (_, photos), model in zip(folds, models, strict=True)]
    grays, raw, truths = (sum((list(part[i]) for part in parts), []) for i in range(3))
    truth_colour = np.mean([colourfulness(t) for t in truths])
    truth_warm = np.array([np.nan if (share := warm_share(t)) is None else share for t in truths])
    print(f"cross-validation over the {len(truths)} training photos, a*b* scaled after each smoothing")
    print("| smoothing | scale | PSNR minus gray's (95% interval) | SSIM minus gray's (95% interval) "
          f"| colourfulness share | warm share (truth {np.nanmean(truth_warm):.2f}) "
          f"| nearly all warm (truths {warm_casts(truth_warm)}) |")
    print("|---|---|---|---|---|---|---|")
    for scale in args.scales:
        for name, smooth in settings.items():
            row = scores(grays, raw, truths, smooth, scale)
            (low, high), (ssim_low, ssim_high) = mean_interval(row["psnr"]), mean_interval(row["ssim"])
            print(f"| {name} | {scale:g} | {row['psnr'].mean():+.3f} ({low:+.2f} to {high:+.2f}) "
                  f"| {row['ssim'].mean():+.4f} ({ssim_low:+.4f} to {ssim_high:+.4f}) "
                  f"| {row['colour'].mean() / truth_colour:.2f} | {np.nanmean(row['warm']):.2f} "
                  f"| {warm_casts(row['warm'])} |")

    shipped = load(args.model)
    print(f"held-out sets, {args.model}: PSNR minus gray's / SSIM minus gray's (colourfulness share)")
    sets = held_out_photos(args.demo)
    print("| smoothing | " + " | ".join(sets) + " |")
    print("|---|" + "---|" * len(sets))
    scored = {name: crops(shipped, paths) for name, paths in sets.items()}
    truth_colours = [np.mean([colourfulness(t) for t in truths]) for _, _, truths in scored.values()]
    for name, smooth in settings.items():
        cells = []
        for (grays, raw, truths), truth_colour in zip(scored.values(), truth_colours, strict=True):
            row = scores(grays, raw, truths, smooth)
            share = row["colour"].mean() / truth_colour
            cells.append(f"{row['psnr'].mean():+.3f} / {row['ssim'].mean():+.4f} ({share:.2f})")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("time per picture, milliseconds (mean of 300 runs on the model's 2 x 128 x 128 a*b* and gray canvas): "
          + ", ".join(f"{name} {ms:.2f}" for name, ms in smoothing_times(settings).items()))
    if args.out:
        print(f"wrote {picture(scored, settings, args.out / 'guided.png')}")


def picture(scored: dict, settings: dict, path: Path) -> Path:
    """A grid of the first photo of each held-out set: gray | truth | the output with each smoothing."""
    from rehue.color.lab import AB_SCALE
    from rehue.evaluation.report import sample_grid
    from rehue.inference.colorizer import compose_full_resolution

    rows = []
    for grays, raw, truths in scored.values():
        gray, ab, truth = grays[0], raw[0], truths[0]
        rows.append([gray, truth, *(compose_full_resolution(gray, np.moveaxis(smooth(gray, ab) * np.float32(
            SHIPPED_SCALE), 0, -1) * AB_SCALE) for smooth in settings.values())])
    return sample_grid(rows, path, titles=("Gray", "Truth", *settings), cell=160)


def smoothing_times(settings: dict, size: int = 128, runs: int = 300) -> dict[str, float]:
    """{name: milliseconds} each smoothing takes on a random ``size`` x ``size`` canvas."""
    import timeit

    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (size, size), dtype=np.uint8)
    raw = rng.normal(0, 0.2, (2, size, size)).astype(np.float32)
    return {name: 1000 * timeit.timeit(lambda smooth=smooth: smooth(gray, raw), number=runs) / runs
            for name, smooth in settings.items()}


if __name__ == "__main__":
    main()
