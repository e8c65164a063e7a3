"""Fine-tuning on a collection of one kind: does `rehue train --init` make the shipped model better on
more photos of that kind? The model card's "Fine-tuning on your own footage" quotes this.

    .venv/bin/python benchmarks/fine_tune.py [--model rehue-gen2-128-independent] [--demo data/demo]
        [--work runs/fine-tune] [--steps 300] [--out docs/results/fine-tune] [--video]

The collection: a catalogue of fruit, vegetables, nuts, flowers, mushrooms and plants photographed on
a plain studio backdrop, made from the demo set's photographed cut-outs (`tuxpaint-stamps-default`;
the shipped models never saw them). Every fourth cut-out, in path order, is held out: its catalogue
photos are only scored. The fine-tuning command is the model card's, with the step count of this
script; the scores are `rehue evaluate`'s, for the shipped model and for the fine-tuned one, shown with
the restraint it keeps from the shipped model and without it (a copy of its JSON with chroma 1, no
smoothing). With ``--video``, a dependent model is fine-tuned beside the fine-tuned one (the model
card's second command) and slow pans over the held-out photos are coloured by four pairs of models.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("food", "plants")
CANVAS = 256
SHOTS_PER_CUTOUT = 3  # each cut-out on three backdrops, at three sizes and places
SHOWN = 8  # held-out cut-outs in the picture
PAN_SIDE = 192  # --video: the pans' frames are this square


def catalogue_photo(cutout: np.ndarray, rng) -> np.ndarray:
    """One cut-out (RGBA) on a plain backdrop of a random light or mid grey, lit a little unevenly."""
    import cv2

    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32) / CANVAS - 0.5
    level = rng.uniform(90, 240)
    light = level + rng.uniform(-30, 30) * (xx * np.cos(angle := rng.uniform(0, 2 * np.pi)) + yy * np.sin(angle))
    backdrop = np.repeat(light[..., None], 3, axis=2) + rng.normal(0, 1.5, size=(CANVAS, CANVAS, 1))
    scale = rng.uniform(0.6, 0.9) * CANVAS / max(cutout.shape[:2])
    height, width = max(1, round(cutout.shape[0] * scale)), max(1, round(cutout.shape[1] * scale))
    cutout = cv2.resize(cutout, (width, height), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    top, left = int(rng.integers(0, CANVAS - height + 1)), int(rng.integers(0, CANVAS - width + 1))
    alpha = cutout[..., 3:4].astype(np.float32) / 255
    region = backdrop[top : top + height, left : left + width]
    backdrop[top : top + height, left : left + width] = region * (1 - alpha) + cutout[..., :3] * alpha
    return np.clip(backdrop, 0, 255).round().astype(np.uint8)


def build_catalogue(demo: Path, out: Path, seed: int = 0) -> dict[str, int]:
    """Catalogue photos in ``out``/train and ``out``/test (every fourth cut-out); {split: photos}."""
    from PIL import Image

    cutouts = sorted(p for kind in KINDS for p in (demo / "stamps" / kind).rglob("*.png"))
    if not cutouts:
        raise SystemExit(f"{demo}/stamps: no cut-outs of {', '.join(KINDS)} (build it: rehue data demo --out {demo})")
    rng = np.random.default_rng(seed)
    counts = {"train": 0, "test": 0}
    for index, path in enumerate(cutouts):
        split = "test" if index % 4 == 3 else "train"
        (out / split).mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            rgba = np.asarray(image.convert("RGBA"))
        name = "-".join(path.relative_to(demo / "stamps").with_suffix("").parts)
        for shot in range(SHOTS_PER_CUTOUT):
            Image.fromarray(catalogue_photo(rgba, rng)).save(out / split / f"{name}-{shot}.png")
            counts[split] += 1
    return counts


def rehue(*args: str) -> None:
    """A `rehue` command, run as the CLI runs it."""
    from rehue.cli import main

    if main(list(args)) != 0:
        raise SystemExit(f"rehue {args[0]} failed")


def evaluate(test: Path, model: str, report: Path) -> dict:
    rehue("evaluate", str(test), "--model", model, "--out", str(report), "--overwrite", "--no-progress")
    return json.loads((report / "metrics.json").read_text())


def schedule(steps: int, batch_size: int) -> list[str]:
    return ["--discriminator", "patch", "--disc-width", "16", "--batch-size", str(batch_size),
            "--epochs", str(math.ceil(steps / 50)), "--steps-per-epoch", str(min(steps, 50)), "--overwrite",
            "--no-progress"]


def fine_tune(model: str, photos: Path, run: Path, steps: int, batch_size: int) -> None:
    """The model card's fine-tuning command (the run takes ``model``'s architecture, size and width)."""
    rehue("train", str(photos), "--out", str(run), "--init", model, *schedule(steps, batch_size))


def fine_tune_dependent(independent: Path, photos: Path, run: Path, steps: int, batch_size: int) -> None:
    """The model card's command for a dependent model beside a fine-tuned independent one (the shipped
    recipe's: fed the independent model's output and its own, as a video feeds it)."""
    rehue("train", str(photos), "--out", str(run), "--dependent", "--init", str(independent),
          "--independent-feed", "0.3", "--self-feed", "0.5", "--self-feed-steps", "24", "--ema", "0.99",
          *schedule(steps, batch_size))


def pan_scores(photos: list[Path], pairs: dict[str, tuple[str, str]], frames: int) -> dict[str, dict]:
    """Each (independent, dependent) pair on a slow pan over each photo (`benchmarks/drift.py`'s, at
    PAN_SIDE pixels), coloured as `rehue colorize` colours a video: {label: mean a*b* error to the
    truth over all frames, over the first and last ten, PSNR minus gray's, temporal stability}."""
    from drift import ab_error, pan_frames

    from rehue.color.lab import rgb_to_gray
    from rehue.data.images import load_image
    from rehue.evaluation.metrics import TemporalStability, gray_baseline, psnr
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import SceneColorizer, load_dependent

    def stability(frames) -> float:
        measure = TemporalStability()
        for rgb in frames:
            measure.update(rgb)
        return measure.mean()

    pans = [list(pan_frames(load_image(photo).rgb, frames, PAN_SIDE, PAN_SIDE)) for photo in photos]
    scores = {}
    for label, (independent_spec, dependent_spec) in pairs.items():
        independent = Colorizer.load(independent_spec, device="cpu").for_video()
        dependent = load_dependent(dependent_spec, independent, print)
        errors, gains, stabilities = [], [], []
        for pan in pans:
            state = SceneColorizer(independent, dependent, scene_mode="robust")
            outputs = [done for truth in pan for done in state.push(rgb_to_gray(truth), truth)] + state.flush()
            errors.append([ab_error(rgb, truth) for truth, rgb in outputs])
            gains.append(np.mean([psnr(rgb, truth) - psnr(gray_baseline(truth), truth) for truth, rgb in outputs]))
            stabilities.append(stability(rgb for _, rgb in outputs))
        scores[label] = {"ab_error": float(np.mean(errors)),
                         "ab_error_first_10": float(np.mean([e[:10] for e in errors])),
                         "ab_error_last_10": float(np.mean([e[-10:] for e in errors])),
                         "psnr_minus_gray": float(np.mean(gains)), "stability": float(np.mean(stabilities))}
    scores["truth"] = {"stability": float(np.mean([stability(pan) for pan in pans]))}
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="rehue-gen2-128-independent", help="the model to fine-tune")
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--work", type=Path, default=Path("runs/fine-tune"))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", type=Path, help="folder for the reports' metrics and a picture (fine-tune.png)")
    parser.add_argument("--video", action="store_true",
                        help="also fine-tune a dependent model beside it and score pans over the held-out photos")
    parser.add_argument("--dependent-model", default="rehue-gen2-128-dependent",
                        help="--video: the dependent model that goes with --model")
    parser.add_argument("--pan-frames", type=int, default=120)
    args = parser.parse_args()

    catalogue = args.work / "catalogue"
    counts = build_catalogue(args.demo, catalogue)
    print(f"catalogue: {counts['train']} training photos, {counts['test']} held-out photos in {catalogue}")
    run = args.work / "run"
    fine_tune(args.model, catalogue / "train", run, args.steps, args.batch_size)
    unrestrained = args.work / "unrestrained"
    unrestrained.mkdir(exist_ok=True)
    shutil.copy(run / "model.safetensors", unrestrained / "model.safetensors")
    config = json.loads((run / "model.json").read_text())
    config["inference"] = {**config["inference"], "chroma": 1.0, "ab_smoothing": 0.0}
    (unrestrained / "model.json").write_text(json.dumps(config, indent=1))
    models = {"before": args.model, "fine-tuned (keeps the restraint of the model it started from)":
              str(run / "model.safetensors"), "fine-tuned, unrestrained": str(unrestrained / "model.safetensors")}
    rows = {}
    for label, model in models.items():
        report = args.work / "evaluation" / label.split(" (")[0].replace(", ", "-").replace(" ", "-")
        rows[label] = (evaluate(catalogue / "test", model, report), report)
    print(f"\n{counts['test']} held-out catalogue photos, {args.steps} steps of fine-tuning "
          f"(`rehue evaluate`, centre crops at the model's size):")
    print("| model | PSNR (gray) | SSIM (gray) | ahead of gray | colourfulness / truth's |")
    print("|---|---|---|---|---|")
    for label, (metrics, report) in rows.items():
        print("| " + label + " | " + summary_cells(metrics) + " |")
        if args.out:
            (args.out / report.name).mkdir(parents=True, exist_ok=True)
            for name in ("metrics.json", "metrics.md"):
                shutil.copy(report / name, args.out / report.name / name)
    if args.video:
        video(args, catalogue, run)
    if args.out:
        shown = sorted((catalogue / "test").glob("*-0.png"))[:SHOWN]
        path = comparison(shown, args.model, str(run / "model.safetensors"), args.out / "fine-tune.png")
        print(f"picture: {path}")


def video(args, catalogue: Path, run: Path) -> None:
    dependent_run = args.work / "dependent"
    fine_tune_dependent(run / "model.safetensors", catalogue / "train", dependent_run, args.steps, args.batch_size)
    fine_tuned = str(run / "model.safetensors")
    pairs = {"before (the shipped pair)": (args.model, args.dependent_model),
             "fine-tuned, with the dependent model of before": (fine_tuned, args.dependent_model),
             "fine-tuned alone on every frame": (fine_tuned, "none"),
             "fine-tuned, with a dependent model fine-tuned beside it": (fine_tuned,
                                                                        str(dependent_run / "model.safetensors"))}
    photos = sorted((catalogue / "test").glob("*-0.png"))
    scores = pan_scores(photos, pairs, args.pan_frames)
    print(f"\n{args.pan_frames}-frame pans over {len(photos)} held-out catalogue photos ({PAN_SIDE}x{PAN_SIDE}):")
    print("| models | a*b* error (frames 1-10 / last 10) | PSNR minus gray's | temporal stability |")
    print("|---|---|---|---|")
    for label, row in scores.items():
        if label == "truth":
            print(f"| truth | | | {row['stability']:.3f} |")
            continue
        print(f"| {label} | {row['ab_error']:.2f} ({row['ab_error_first_10']:.2f} / {row['ab_error_last_10']:.2f}) | "
              f"{row['psnr_minus_gray']:+.2f} | {row['stability']:.3f} |")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "pans.json").write_text(json.dumps(scores, indent=1))


def comparison(photos: list[Path], before: str, after: str, path: Path) -> Path:
    """gray | before | fine-tuned | truth, one catalogue photo a row, coloured as `rehue colorize` does."""
    from rehue.data.images import load_image
    from rehue.evaluation.metrics import gray_baseline
    from rehue.evaluation.report import sample_grid
    from rehue.inference.colorizer import Colorizer

    models = [Colorizer.load(model, device="cpu") for model in (before, after)]
    rows = []
    for photo in photos:
        truth = load_image(photo).rgb
        rows.append([gray_baseline(truth), *(model.colorize(truth) for model in models), truth])
    return sample_grid(rows, path, titles=("Gray", "Before", "Fine-tuned", "Ground truth"), cell=160)


def summary_cells(metrics: dict) -> str:
    gray_name = metrics["baseline"]
    model_name = next(name for name in metrics["rows"] if name != gray_name)
    model, gray = metrics["rows"][model_name]["summary"], metrics["rows"][gray_name]["summary"]
    ahead, count = metrics["verdicts"][model_name]["psnr_ahead_images"], metrics["rows"][model_name]["count"]
    return (f"{model['psnr']['mean']:.2f} ({gray['psnr']['mean']:.2f}) | {model['ssim']['mean']:.4f} "
            f"({gray['ssim']['mean']:.4f}) | {ahead} of {count} | "
            f"{model['colourfulness_output']['mean'] / model['colourfulness_truth']['mean']:.2f}")

if __name__ == "__main__":
    main()
