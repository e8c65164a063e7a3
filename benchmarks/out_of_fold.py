"""Cross-validation over the demo set's training photos, and a restraint learned from its honest mistakes.

The held-out sets of docs/model-card.md are small and mostly of kinds the models were not trained on.
Here the training photos are split into folds, a model of the shipped recipe (plus ``--extra`` options,
under ``--tag``) is trained without each fold, and every training photo is coloured (its centre crop
at the model's size, the shipped smoothing) by the model that never saw it. Printed for each chroma
scale: PSNR minus gray's (mean, median, photos ahead), colourfulness as a share of the truth's, warm
share and outputs that are nearly all warm, over all photos and per source; ``--out`` writes a sample
grid from the worst photo against gray to the best. With ``--tag``, the variant is also compared with the
shipped recipe photo by photo (its fold models are trained first if they are not there).

``--head``: the per-pixel restraint of benchmarks/uncertainty.py learned where the generator errs on
photos it was trained on, where it errs little. Here a small head learns from out-of-fold crops (each
photo's centre square and random crops, coloured by the fold model that never saw it), from L* and the
smoothed, unscaled a*b*, the per-pixel scale alpha in [0, 1.5] that brings the prediction closest to
the truth (squared a*b* error). The shipped model's smoothed a*b* is then shown times s x alpha (or s x
the photo's mean alpha), scored on the six held-out sets beside the global scales; "off the curve" is
a rule's PSNR minus the global scales' at the same colourfulness (interpolated), the fair comparison.

    .venv/bin/python benchmarks/out_of_fold.py [--demo data/demo] [--runs runs/folds] [--folds 3]
        [--out DIR] [--tag NAME --extra "REHUE TRAIN OPTIONS"]
        [--head [--crops 8] [--steps 1500] [--model rehue-gen2-128-independent]]

A fold model that exists (runs/folds/K/model.safetensors, or runs/folds/TAG-K/) is not trained again.
Each is the third command of scripts/train_shipped.sh on the other folds' photos: about 3 minutes on
the 2-core CPU that measured the model card's figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from restraint import gray_reference, held_out_photos, relative_scores  # noqa: E402

# the shipped independent model's recipe: scripts/train_shipped.sh, third command
RECIPE = ["--size", "128", "--generator", "gen2", "--width", "16", "--discriminator", "patch", "--disc-width", "16",
          "--batch-size", "16", "--lr-g", "5e-4", "--val-images", "16", "--no-progress", "--seed", "1",
          "--epochs", "14", "--steps-per-epoch", "50", "--ema", "0.995", "--colour-jitter", "0.3", "--crop-min", "0.7"]
SMOOTHING = 1.5  # the shipped a*b* smoothing (sigma, working-size pixels)
MAX_ALPHA = 1.5
GLOBAL_SCALES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
HEAD_SCALES = (0.6, 0.8, 1.0, 1.2)
GRID_SCALES = (0.5, 0.7)


def read_manifest_rows(demo: Path) -> list[dict]:
    with open(demo / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def derived_set(demo: Path, out: Path, rows: list[dict]) -> Path:
    """``out``: a data set with its own manifest (``rows``) beside links to demo's folders, so that
    ``rehue train`` trains on another split of the same files."""
    out.mkdir(parents=True, exist_ok=True)
    for child in demo.iterdir():
        if child.is_dir() and not (out / child.name).exists():
            os.symlink(child.resolve(), out / child.name)
    with open(out / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def make_folds(demo: Path, runs: Path, folds: int, seed: int = 0) -> list[tuple[Path, list[Path]]]:
    """[(data set without fold k, fold k's photos)]: each data set is demo's manifest with fold k's
    training photos marked ``fold-out`` (neither trained on nor validated), beside links to demo's folders."""
    rows = read_manifest_rows(demo)
    training = [i for i, r in enumerate(rows) if r["kind"] == "photo" and r["split"] == "train"]
    order = np.random.default_rng(seed).permutation(len(training))
    result = []
    for k in range(folds):
        out = sorted(training[j] for j in order[k::folds])
        marked = set(out)
        data = derived_set(demo, runs / f"data-{k}",
                           [{**r, "split": "fold-out"} if i in marked else r for i, r in enumerate(rows)])
        result.append((data, [demo / rows[i]["path"] for i in out]))
    return result


def train_run(data: Path, run: Path, options: list[str], label: str) -> Path:
    """run/model.safetensors of ``rehue train data --out run OPTIONS``: trained, resumed if a killed
    run left it short of its last epoch (its model file is then an unfinished epoch's), or kept if done."""
    import json

    model = run / "model.safetensors"
    epochs = int([value for flag, value in zip(options[:-1], options[1:], strict=True) if flag == "--epochs"][-1])
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().splitlines() if metrics.is_file() else []
    if model.exists() and lines and json.loads(lines[-1])["epoch"] >= epochs:
        return model
    resume = run.exists()
    print(f"{label}: {'resuming' if resume else 'training'} {run}", flush=True)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "rehue"), "train", str(data), "--out", str(run), *options,
                    *(["--resume"] if resume else [])], check=True)
    print(f"{label}: {time.perf_counter() - started:.0f} s", flush=True)
    return model


def train_folds(folds: list[tuple[Path, list[Path]]], runs: Path, tag: str = "", extra: list[str] = ()) -> list[Path]:
    """Fold k's model (the recipe plus ``extra``) in runs/K, or runs/TAG-K; trained unless it is there."""
    return [train_run(data, runs / (f"{tag}-{k}" if tag else str(k)), [*RECIPE, *extra],
                      f"fold {k} (without its {len(photos)} photos)")
            for k, (data, photos) in enumerate(folds)]


def random_crops(rgb: np.ndarray, size: int, count: int, rng) -> list[np.ndarray]:
    """The centre square, then ``count - 1`` random squares of 70-100% of the short side (as the recipe
    crops), mirrored half the time; all resized to ``size``."""
    import cv2

    from rehue.evaluation.evaluate import square_crop

    crops = [square_crop(rgb, size)]
    height, width = rgb.shape[:2]
    short = min(height, width)
    for _ in range(count - 1):
        side = int(short * rng.uniform(0.7, 1.0))
        top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        crop = cv2.resize(np.ascontiguousarray(rgb[top : top + side, left : left + side]), (size, size),
                          interpolation=cv2.INTER_AREA)
        crops.append(crop[:, ::-1].copy() if rng.random() < 0.5 else crop)
    return crops


def unscaled(model) -> object:
    """A Colorizer for ``model`` with the shipped smoothing and no chroma scale: the rules scale its a*b*.
    ``model`` is a model file, or a Colorizer already made so (a variant that is no model file)."""
    from rehue.inference.colorizer import Colorizer

    if isinstance(model, Colorizer):
        return model
    return Colorizer.load(str(model), device="cpu", chroma=1.0, ab_smoothing=SMOOTHING)


def predictions(colorizer, truths: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(gray uint8 (N, S, S), smoothed unscaled predicted a*b* (N, 2, S, S), normalised) of ``truths``."""
    from rehue.color.lab import rgb_to_gray

    gray = np.stack([rgb_to_gray(t) for t in truths])
    return gray, np.concatenate([colorizer.restrain(colorizer.predict_ab(g[None], restrain=False), None, g[None])
                                 for g in gray])


def true_ab(truths: list[np.ndarray]) -> np.ndarray:
    """(N, 2, S, S) normalised a*b* of RGB ``truths``."""
    from rehue.color.lab import AB_SCALE, rgb_to_lab

    return np.stack([np.moveaxis(rgb_to_lab(t)[..., 1:], -1, 0) / AB_SCALE for t in truths]).astype(np.float32)


def out_of_fold(folds, models, crops: int, seed: int = 0):
    from rehue.data.images import load_image

    rng = np.random.default_rng(seed)
    parts, started = [], time.perf_counter()
    for k, ((_, photos), model) in enumerate(zip(folds, models, strict=True)):
        colorizer = unscaled(model)
        for photo in photos:
            truths = random_crops(load_image(photo).rgb, colorizer.size, crops, rng)
            parts.append((*predictions(colorizer, truths), true_ab(truths)))
        print(f"out-of-fold crops: fold {k} done, {sum(len(p[0]) for p in parts)} crops, "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def cross_validation(folds, models) -> dict:
    """{scale: {"diff": PSNR minus gray's, "ssim_diff": SSIM minus gray's, "colour": colourfulness,
    "warm": warm share (NaN: no colour)}, one per training photo, and "truth": the truths' colourfulness
    and warm share}, with [gray, truth, outputs at GRID_SCALES] per photo: each photo (its centre crop at
    the model's size) coloured by the fold model that never saw it."""
    from rehue.color.lab import AB_SCALE
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop
    from rehue.evaluation.metrics import colourfulness, gray_baseline, psnr, ssim, warm_share
    from rehue.inference.colorizer import compose_full_resolution

    def warm(rgb):
        share = warm_share(rgb)
        return np.nan if share is None else share

    rows = {s: {"diff": [], "ssim_diff": [], "colour": [], "warm": []} for s in GLOBAL_SCALES}
    rows["truth"] = {"colour": [], "warm": []}
    pictures = []
    for (_, photos), model in zip(folds, models, strict=True):
        colorizer = unscaled(model)
        truths = [square_crop(load_image(p).rgb, colorizer.size) for p in photos]
        gray, ab = predictions(colorizer, truths)
        for truth, g, a in zip(truths, gray, ab, strict=True):
            baseline = gray_baseline(truth)
            gray_psnr, gray_ssim = psnr(baseline, truth), ssim(baseline, truth)
            rows["truth"]["colour"].append(colourfulness(truth))
            rows["truth"]["warm"].append(warm(truth))
            pictures.append([g, truth])
            for s in GLOBAL_SCALES:
                output = compose_full_resolution(g, np.moveaxis(a * s, 0, -1) * AB_SCALE)
                rows[s]["diff"].append(psnr(output, truth) - gray_psnr)
                rows[s]["ssim_diff"].append(ssim(output, truth) - gray_ssim)
                rows[s]["colour"].append(colourfulness(output))
                rows[s]["warm"].append(warm(output))
                if s in GRID_SCALES:
                    pictures[-1].append(output)
    return {key: {name: np.array(values) for name, values in row.items()} for key, row in rows.items()}, pictures


def make_head(width: int = 16):
    """A few scales of context (64 down to 8 px and the whole crop) joined per pixel into alpha, computed at
    half the working size and upsampled: a scale for a*b* already smoothed needs no finer map."""
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            act = nn.LeakyReLU(0.1)
            self.stem = nn.Sequential(nn.Conv2d(3, width, 4, 2, 1), act)
            self.downs = nn.ModuleList(nn.Sequential(nn.Conv2d(width * min(2 ** i, 4), width * min(2 ** (i + 1), 4),
                                                               4, 2, 1), act) for i in range(3))
            joined = width + sum(width * min(2 ** (i + 1), 4) for i in range(3)) + width * 4
            self.out = nn.Sequential(nn.Conv2d(joined, 2 * width, 1), act, nn.Conv2d(2 * width, 1, 1))
            nn.init.constant_(self.out[-1].bias, float(np.log(0.5 / (MAX_ALPHA - 0.5))))  # alpha 0.5 at the start

        def forward(self, lightness, ab):
            full = lightness.shape[-2:]
            x = self.stem(torch.cat([lightness, ab], 1))
            size = x.shape[-2:]
            levels = [x]
            for down in self.downs:
                x = down(x)
                levels.append(nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False))
            levels.append(x.mean((2, 3), keepdim=True).expand(-1, -1, *size))
            logits = nn.functional.interpolate(self.out(torch.cat(levels, 1)), size=full, mode="bilinear",
                                               align_corners=False)
            return MAX_ALPHA * torch.sigmoid(logits)

    return Head()


def train_head(gray, ab, truth, steps: int, seed: int = 0, batch_size: int = 16):
    import torch

    from rehue.inference.colorizer import GRAY_TO_NORMALIZED_LIGHTNESS

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    head = make_head()
    optimiser = torch.optim.Adam(head.parameters(), 1e-3)
    losses, started = [], time.perf_counter()
    for step in range(1, steps + 1):
        pick = rng.integers(0, len(gray), batch_size)
        flip = rng.random() < 0.5
        batch = [GRAY_TO_NORMALIZED_LIGHTNESS[gray[pick]][:, None], ab[pick], truth[pick]]
        lightness, pred, target = (torch.from_numpy(np.ascontiguousarray(b[..., ::-1] if flip else b)) for b in batch)
        alpha = head(lightness, pred)
        loss = ((alpha * pred - target) ** 2).sum(1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == steps:
            rate = step / (time.perf_counter() - started)
            print(f"head step {step}/{steps}  loss {np.mean(losses[-100:]):.5f}  {rate:.1f} steps/s  "
                  f"{(steps - step) / rate:.0f} s left", flush=True)
    return head.eval()


def alphas(head, gray: np.ndarray, ab: np.ndarray) -> np.ndarray:
    import torch

    from rehue.inference.colorizer import GRAY_TO_NORMALIZED_LIGHTNESS

    with torch.no_grad():
        return np.concatenate([head(torch.from_numpy(GRAY_TO_NORMALIZED_LIGHTNESS[gray[i : i + 64]][:, None]),
                                    torch.from_numpy(ab[i : i + 64])).numpy() for i in range(0, len(gray), 64)])


def sweep(model: str, head, sets: dict[str, list[Path]]) -> dict:
    """{set: {rule: (PSNR minus gray's, colourfulness / truth's)}} on centre crops at the model's size."""
    from rehue.color.lab import AB_SCALE
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop
    from rehue.inference.colorizer import compose_full_resolution

    colorizer = unscaled(model)
    table = {}
    for name, paths in sets.items():
        truths = [square_crop(load_image(p).rgb, colorizer.size) for p in paths]
        gray, ab = predictions(colorizer, truths)
        alpha = alphas(head, gray, ab)
        rules = {f"global x{s:g}": np.full_like(alpha, s) for s in GLOBAL_SCALES}
        rules.update({f"head x{s:g}": alpha * s for s in HEAD_SCALES})
        rules.update({f"head's photo mean x{s:g}": np.broadcast_to(alpha.mean((1, 2, 3), keepdims=True) * s,
                                                                           alpha.shape)
                      for s in HEAD_SCALES})
        reference = gray_reference(truths)
        table[name] = {
            rule: relative_scores([compose_full_resolution(g, np.moveaxis(a * w, 0, -1) * AB_SCALE)
                                   for g, a, w in zip(gray, ab, weight, strict=True)], truths, reference)
            for rule, weight in rules.items()}
    return table


def off_curve(row: dict, rule: str) -> float:
    """The rule's PSNR minus the global scales' at its colourfulness (linear between the scales)."""
    curve = sorted((colour, psnr) for name, (psnr, colour) in row.items() if name.startswith("global"))
    return row[rule][0] - float(np.interp(row[rule][1], [c for c, _ in curve], [p for _, p in curve]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--runs", type=Path, default=Path("runs/folds"))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--crops", type=int, default=8, help="crops per out-of-fold photo")
    parser.add_argument("--steps", type=int, default=1500, help="head training steps")
    parser.add_argument("--model", default="rehue-gen2-128-independent")
    parser.add_argument("--tag", default="", help="a name for a variant recipe's fold models (runs/folds/TAG-K)")
    parser.add_argument("--extra", default="", help="rehue train options added to the recipe, quoted: "
                                                    "\"--width 32\"")
    parser.add_argument("--out", type=Path, help="write a sample grid of out-of-fold results here")
    parser.add_argument("--head", action="store_true", help="also learn and score the per-pixel restraint head")
    args = parser.parse_args()
    from rehue.evaluation.metrics import SEPIA_WARM_SHARE, mean_interval

    sets = held_out_photos(args.demo)
    folds = make_folds(args.demo, args.runs, args.folds)
    models = train_folds(folds, args.runs, args.tag, args.extra.split())
    cv, pictures = cross_validation(folds, models)
    truth = cv.pop("truth")
    if args.out:
        from rehue.evaluation.report import sample_grid

        order = np.argsort(cv[GRID_SCALES[0]]["diff"])  # worst to best against gray, 8 evenly spaced
        picked = order[np.linspace(0, len(order) - 1, 8).round().astype(int)]
        grid = sample_grid([pictures[i] for i in picked], args.out / "cross-validation.png",
                           titles=("Gray", "Ground truth", *(f"x{s:g}" for s in GRID_SCALES)))
        print(f"wrote {grid} (out-of-fold photos from the worst against gray to the best, at x{GRID_SCALES[0]:g})")
    n = sum(len(photos) for _, photos in folds)
    print(f"cross-validation over the {n} training photos (centre crops; each by the fold model that never saw it)")
    print("| scale | PSNR minus gray's, mean | 95% interval | median | ahead of gray | SSIM minus gray's "
          "| 95% interval | colourfulness share | warm share "
          f"(truth {np.nanmean(truth['warm']):.2f}) | at least 90% warm "
          f"(truths {(truth['warm'] >= SEPIA_WARM_SHARE).sum()}) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s, row in cv.items():
        diff = row["diff"]
        psnr_low, psnr_high = mean_interval(diff)
        ssim_low, ssim_high = mean_interval(row["ssim_diff"])
        print(f"| {s:g} | {diff.mean():+.3f} | {psnr_low:+.2f} to {psnr_high:+.2f} | {np.median(diff):+.3f} "
              f"| {(diff > 0).sum()} of {diff.size} | {row['ssim_diff'].mean():+.4f} "
              f"| {ssim_low:+.4f} to {ssim_high:+.4f} | {row['colour'].mean() / truth['colour'].mean():.2f} "
              f"| {np.nanmean(row['warm']):.2f} "
              f"| {(row['warm'] >= SEPIA_WARM_SHARE).sum()} |")
    source_of = {args.demo / r["path"]: r["source"] for r in read_manifest_rows(args.demo)}
    sources = np.array([source_of[photo] for _, photos in folds for photo in photos])
    groups = {"GCompris": sources == "gcompris-qt-data", "the rest (wallpapers, scikit-image/-learn)":
              sources != "gcompris-qt-data"}
    print("| photos | scale | PSNR minus gray's, mean | median | ahead of gray | colourfulness share |")
    print("|---|---|---|---|---|---|")
    for name, chosen in groups.items():
        for s in (0.5, 0.7):
            diff, colour = cv[s]["diff"][chosen], cv[s]["colour"][chosen]
            print(f"| {name} | {s:g} | {diff.mean():+.3f} | {np.median(diff):+.3f} | {(diff > 0).sum()} of {diff.size} "
                  f"| {colour.mean() / truth['colour'][chosen].mean():.2f} |")
    if args.tag:
        base, _ = cross_validation(folds, train_folds(folds, args.runs))
        print(f"per photo, {args.tag} minus the shipped recipe (the same folds)")
        print("| scale | PSNR difference, mean | standard error | better on |")
        print("|---|---|---|---|")
        for s in (0.5, 0.7, 1.0):
            diff = cv[s]["diff"] - base[s]["diff"]
            print(f"| {s:g} | {diff.mean():+.3f} | {diff.std(ddof=1) / np.sqrt(diff.size):.3f} "
                  f"| {(diff > 0).sum()} of {diff.size} |")
    if not args.head:
        return
    gray, ab, truth = out_of_fold(folds, models, args.crops)
    best = float((ab * truth).sum() / (ab * ab).sum())
    print("squared a*b* error per pixel on the out-of-fold crops (normalised units): "
          + ", ".join(f"alpha {a:.2f}: {((a * ab - truth) ** 2).sum(1).mean():.5f}" for a in (0.0, 0.5, best)),
          f"(the best single alpha is {best:.2f})")
    head = train_head(gray, ab, truth, args.steps)
    oof_alpha = alphas(head, gray, ab)
    error = ((oof_alpha * ab - truth) ** 2).sum(1).mean()
    low, high = np.percentile(oof_alpha, [10, 90])
    print(f"head's error on them (it was trained on them): {error:.5f}; alpha: mean {oof_alpha.mean():.3f}, "
          f"10-90% {low:.3f}-{high:.3f}")
    table = sweep(args.model, head, sets)
    print("PSNR minus gray's (dB), then colourfulness as a share of the truth's; off the curve: PSNR minus the "
          "global scales' at the same colourfulness")
    print("| rule | " + " | ".join(table) + " |")
    print("|---|" + "---|" * len(table))
    for rule in next(iter(table.values())):
        cells = []
        for row in table.values():
            psnr, colour = row[rule]
            cells.append(f"{psnr:+.2f} ({colour:.2f})" + ("" if rule.startswith("global") else
                                                           f" [{off_curve(row, rule):+.2f}]"))
        print(f"| {rule} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
