"""Colour drift over one long scene (video issue): a 300-frame slow pan over a photo the models did not
train on, coloured by the scene-aware pipeline (independent first frame, dependent after), against the
same pan coloured frame by frame by the independent model alone. Prints the mean a*b* error (to the
truth) by frame and the temporal stability of each, and writes a plot.

    .venv/bin/python benchmarks/drift.py [--photo data/demo/photos/plasma-workspace-wallpapers/Path.jpg]
        [--model M] [--dependent-model D] [--frames 300] [--out benchmarks/results/drift]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

DEFAULT_PHOTO = "data/demo/photos/plasma-workspace-wallpapers/Path.jpg"


def pan_frames(photo: np.ndarray, count: int, height: int = 240, width: int = 320):
    """A slow diagonal camera pan with a gentle zoom: one scene, real content."""
    import cv2

    scale = max(height / photo.shape[0], width / photo.shape[1]) * 1.6
    big = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                     interpolation=cv2.INTER_AREA)
    span_y, span_x = big.shape[0] - height, big.shape[1] - width
    for i in range(count):
        t = i / max(count - 1, 1)
        top, left = round(t * span_y * 0.8), round(t * span_x * 0.8)
        yield np.ascontiguousarray(big[top : top + height, left : left + width])


def ab_error(rgb: np.ndarray, truth: np.ndarray) -> float:
    """Mean distance in the a*b* plane between an output and its truth (CIE units)."""
    from rehue.color.lab import rgb_to_lab

    return float(np.hypot(*np.moveaxis(rgb_to_lab(rgb)[..., 1:] - rgb_to_lab(truth)[..., 1:], -1, 0)).mean())


def run(photo_path: str, model: str, dependent_model: str, frames: int, out: Path) -> dict:
    from rehue.color.lab import rgb_to_gray
    from rehue.data.images import load_image
    from rehue.evaluation.metrics import TemporalStability
    from rehue.evaluation.report import plot_lines
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import SceneColorizer, load_dependent

    photo = load_image(photo_path).rgb
    independent = Colorizer.load(model, device="cpu").for_video()
    results = {}
    for label, dependent in (("scene-aware (dependent within the scene)",
                              load_dependent(dependent_model, independent, print)),
                             ("independent only", None)):
        state = SceneColorizer(independent, dependent, scene_mode="robust")
        errors, stability, truth_stability = [], TemporalStability(), TemporalStability()

        def score(done, errors=errors, stability=stability, truth_stability=truth_stability):
            for truth, rgb in done:
                errors.append(ab_error(rgb, truth))
                stability.update(rgb)
                truth_stability.update(truth)

        for truth in pan_frames(photo, frames):
            score(state.push(rgb_to_gray(truth), truth))
        score(state.flush())
        results[label] = {"ab_error_by_frame": errors, "scene_starts": state.scene_starts,
                          "dependent_frames": state.dependent_frames,
                          "temporal_stability": stability.mean(), "temporal_stability_truth": truth_stability.mean()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "drift.json").write_text(json.dumps(results, indent=1))
    plot_lines({k: v["ab_error_by_frame"] for k, v in results.items()}, out / "drift.png", "frame",
               "mean a*b* error to truth (CIE units)", f"Colour over a {frames}-frame single scene")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default=DEFAULT_PHOTO)
    parser.add_argument("--model", default="default")
    parser.add_argument("--dependent-model", default="default")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/drift"))
    args = parser.parse_args()
    results = run(args.photo, args.model, args.dependent_model, args.frames, args.out)
    print(f"{'run':45s} {'frames 1-10':>12s} {'100-109':>9s} {'290-299':>9s} {'stability':>9s} {'truth':>7s}")
    for label, r in results.items():
        e = r["ab_error_by_frame"]
        print(f"{label:45s} {np.mean(e[:10]):12.2f} {np.mean(e[100:110]):9.2f} {np.mean(e[-10:]):9.2f} "
              f"{r['temporal_stability']:9.3f} {r['temporal_stability_truth']:7.3f}   scene starts "
              f"{r['scene_starts']}, dependent frames {r['dependent_frames']}")
    print(f"written: {args.out / 'drift.json'}, {args.out / 'drift.png'}")


if __name__ == "__main__":
    main()
