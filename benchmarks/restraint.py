"""Restraint sweep: a model's held-out PSNR minus gray's, and its colourfulness as a share of the truth's,
at several chroma scales, on the six held-out photo sets of docs/model-card.md (centre crops at the
model's size, as `rehue evaluate` scores them). This is how the shipped scale (0.5) was checked.

    .venv/bin/python benchmarks/restraint.py [--model default] [--demo data/demo] [--scales 0.3 0.5 1.0]
        [--ab-smoothing 1.5] [--refine K [--dependent-model rehue-gen2-128-dependent] [--per-photo]]

"raw" is the model's own a*b*: no smoothing, no scale. The scaled columns smooth a*b* as the model's
JSON says, or with ``--ab-smoothing`` (for a training run's model, whose JSON sets no restraint).
``--refine K`` passes each photo's unrestrained a*b* K times through the dependent model, as if the
photo were a still shot of K + 1 frames, before the restraint (measured, not used: docs/model-card.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

HELD_OUT_SETS = {
    "first four": ["mate-backgrounds/Dune.jpg", "mate-backgrounds/FreshFlower.jpg",
                   "plasma-workspace-wallpapers/Path.jpg", "plasma-workspace-wallpapers/summer_1am.jpg"],
    "lomiri four": ["lomiri-wallpapers-16.04/Picture_1A.jpg", "lomiri-wallpapers-16.04/friends.jpg",
                    "lomiri-wallpapers-16.04/life.jpg", "lomiri-wallpapers-20.04/Kleiber.jpg"],
    "GCompris fifteen": ["gcompris-qt-data/clickgame/*.jpg", "gcompris-qt-data/explore_world_music/*.jpg"],
    # added after every choice of the shipped models, and never used for one
    "blind twenty-three": ["tuxpaint-data/*.jpg", "palapeli-data/*.jpg"],
    # a round later: streets, buildings, rooms and sports grounds, kinds the training photos lack
    "Scratch forty-seven": ["scratch/*/*.jpg"],
    # two rounds after that: a photo album's snapshots of people, pets, a bar, a beach (KPhotoAlbum's demo)
    "KPhotoAlbum twenty-four": ["kphotoalbum/*.jpg"],
}


def held_out_photos(demo: Path) -> dict[str, list[Path]]:
    photos = demo / "photos"
    sets = {name: sorted(p for pattern in patterns for p in photos.glob(pattern))
            for name, patterns in HELD_OUT_SETS.items()}
    missing = [name for name, paths in sets.items() if not paths]
    if missing:
        raise SystemExit(f"{photos}: no photos for {', '.join(missing)} (build it: rehue data demo --out {demo})")
    return sets


def gray_reference(truths: list[np.ndarray]) -> tuple[float, float]:
    """(gray's mean PSNR, the truth's mean colourfulness) on a set: what ``relative_scores`` divides by."""
    from rehue.evaluation.metrics import colourfulness, gray_baseline, psnr

    return (float(np.mean([psnr(gray_baseline(t), t) for t in truths])),
            float(np.mean([colourfulness(t) for t in truths])))


def centre_crops(paths, size: int) -> list[np.ndarray]:
    """The centre squares of the photos at ``paths``, at ``size``, as `rehue evaluate` scores them."""
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop

    return [square_crop(load_image(p).rgb, size) for p in paths]


def photo_figures(output: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """One output's PSNR and SSIM minus gray's ("psnr", "ssim"), colourfulness ("colour") and warm share
    ("warm", NaN for an output with no colour), against ``truth``."""
    from rehue.evaluation.metrics import colourfulness, gray_baseline, psnr, ssim, warm_share

    baseline = gray_baseline(truth)
    share = warm_share(output)
    return {"psnr": psnr(output, truth) - psnr(baseline, truth), "ssim": ssim(output, truth) - ssim(baseline, truth),
            "colour": colourfulness(output), "warm": np.nan if share is None else share}


def relative_scores(outputs, truths, reference: tuple[float, float]) -> tuple[float, float]:
    """(mean PSNR minus gray's in dB, mean colourfulness as a share of the truth's) of one set's outputs."""
    from rehue.evaluation.metrics import colourfulness, psnr

    gray_psnr, truth_colour = reference
    return (float(np.mean([psnr(o, t) for o, t in zip(outputs, truths, strict=True)])) - gray_psnr,
            float(np.mean([colourfulness(o) for o in outputs])) / truth_colour)


def refined(colorizer, dependent, truth: np.ndarray, steps: int) -> np.ndarray:
    """``truth`` (any size) coloured by ``colorizer`` as `rehue colorize` shows a photo (native view), its
    unrestrained a*b* passed ``steps`` times through the dependent model (a still shot), then
    restrained as ``colorizer`` restrains."""
    from rehue.color.lab import AB_SCALE, rgb_to_gray
    from rehue.inference.colorizer import compose_full_resolution, native_view

    gray = rgb_to_gray(truth)
    small, box = native_view(gray, colorizer.size)
    ab = colorizer.predict_ab(small[None], restrain=False)
    for _ in range(steps):
        ab = dependent.predict_ab(small[None], ab, restrain=False)
    shown = colorizer.restrain(ab, None, small[None])[0][:, box.top : box.top + box.height,
                                                         box.left : box.left + box.width]
    return compose_full_resolution(gray, np.moveaxis(shown, 0, -1) * AB_SCALE)


def refine_per_photo(model: str, sets: dict[str, list[Path]], steps: int, scale: float,
                     dependent_model: str = "rehue-gen2-128-dependent") -> dict:
    """{set: {"crops" / "whole photos": PSNR differences, refined at ``scale`` minus the model's own
    restraint, one per photo}}: centre crops at the model's size, and whole photos at full resolution."""
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop
    from rehue.evaluation.metrics import psnr
    from rehue.inference.colorizer import Colorizer

    own = Colorizer.load(model, device="cpu")
    scaled = Colorizer.load(model, device="cpu", chroma=scale)
    dependent = Colorizer.load(dependent_model, device="cpu")
    table = {}
    for name, paths in sets.items():
        rows = {"crops": [], "whole photos": []}
        for path in paths:
            photo = load_image(path).rgb
            for view, truth in (("crops", square_crop(photo, own.size)), ("whole photos", photo)):
                rows[view].append(psnr(refined(scaled, dependent, truth, steps), truth)
                                  - psnr(refined(own, dependent, truth, 0), truth))
        table[name] = {view: np.array(diffs) for view, diffs in rows.items()}
    return table


def sweep(model: str, sets: dict[str, list[Path]], scales: list[float], ab_smoothing: float | None = None,
          refine: int = 0, dependent_model: str = "rehue-gen2-128-dependent") -> dict:
    """{set: {column: (PSNR minus gray's in dB, colourfulness / truth's)}}, columns the scales and "raw"."""
    from rehue.inference.colorizer import Colorizer

    settings = {f"{scale:g}": {"chroma": scale, "ab_smoothing": ab_smoothing} for scale in scales}
    settings["raw"] = {"chroma": 1.0, "ab_smoothing": 0.0}
    colorizers = {column: Colorizer.load(model, device="cpu", **kw) for column, kw in settings.items()}
    dependent = Colorizer.load(dependent_model, device="cpu") if refine else None

    def colour(colorizer, truth):
        return refined(colorizer, dependent, truth, refine) if refine else colorizer.colorize(truth)

    return score(colorizers, sets, colour)


def score(colorizers: dict, sets: dict[str, list[Path]], colour=None, extra=None) -> dict:
    """{set: {key: (PSNR minus gray's in dB, colourfulness / truth's)}} of each of ``colorizers`` (one
    working size) on each set's centre crops; ``colour(colorizer, truth)`` colours a crop (default:
    ``colorizer.colorize``); ``extra(outputs)`` gives more figures of a set's outputs, added to its tuple."""
    colour = colour or (lambda colorizer, truth: colorizer.colorize(truth))
    size = next(iter(colorizers.values())).size
    table = {}
    for name, paths in sets.items():
        truths = centre_crops(paths, size)
        reference = gray_reference(truths)
        table[name] = {}
        for key, colorizer in colorizers.items():
            outputs = [colour(colorizer, t) for t in truths]
            table[name][key] = (*relative_scores(outputs, truths, reference), *(extra(outputs) if extra else ()))
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--scales", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.8, 1.0])
    parser.add_argument("--ab-smoothing", type=float, default=None,
                        help="Gaussian sigma (model-size pixels) for the scaled columns; default: the model's JSON")
    parser.add_argument("--refine", type=int, default=0,
                        help="pass each photo's a*b* this many times through the dependent model first")
    parser.add_argument("--dependent-model", default="rehue-gen2-128-dependent")
    parser.add_argument("--per-photo", action="store_true",
                        help="with --refine: per photo, refined at the first --scales value against the model's "
                             "own restraint, on centre crops and on whole photos at full resolution")
    args = parser.parse_args()
    if args.per_photo:
        table = refine_per_photo(args.model, held_out_photos(args.demo), args.refine, args.scales[0],
                                 args.dependent_model)
        print(f"PSNR of K = {args.refine} at scale {args.scales[0]:g} minus the model's own (dB), per photo")
        print("| set | view | mean | better | worse | median | lowest | highest two |")
        print("|---|---|---|---|---|---|---|---|")
        for name, views in table.items():
            for view, d in views.items():
                print(f"| {name} | {view} | {d.mean():+.2f} | {(d > 0.02).sum()} | {(d < -0.02).sum()} of {d.size} "
                      f"| {np.median(d):+.2f} | {d.min():+.2f} | {', '.join(f'{x:+.2f}' for x in sorted(d)[-2:])} |")
        return
    table = sweep(args.model, held_out_photos(args.demo), args.scales, args.ab_smoothing, args.refine,
                  args.dependent_model)
    columns = list(next(iter(table.values())))
    print("PSNR minus gray's (dB), then colourfulness as a share of the truth's")
    print("| set | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[c][0]:+.2f} ({row[c][1]:.2f})" for c in columns) + " |")


if __name__ == "__main__":
    main()
