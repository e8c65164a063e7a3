"""Restraint where the model is unsure: does a per-pixel uncertainty beat the shipped global chroma scale?

A small head is trained on the frozen generator's last features (and its |a*b*|) to predict, per pixel,
the scale b of a Laplace distribution of its a*b* error on the training crops (loss |error| / b + log b).
The shown a*b* is then scaled per pixel by s / (1 + (b / k)^2): full strength where the model has
been right, towards gray where it has been wrong. Each rule is scored on the held-out photo sets of
docs/model-card.md beside global scales, as PSNR minus gray's and colourfulness as a share of the truth's,
so that rules are compared at the same amount of colour.

    .venv/bin/python benchmarks/uncertainty.py [--model rehue-gen2-128-independent] [--demo data/demo]
        [--steps 600]

The generator is never changed; only the head learns (its training crops: the set's training split,
as `rehue train` samples them, seeded).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from restraint import gray_reference, held_out_photos, relative_scores  # noqa: E402

GLOBAL_SCALES = (0.3, 0.5, 0.7, 1.0)
# k as multiples of the median predicted b on the held-out photos, s the strength where b << k
PER_PIXEL_RULES = [(q, s) for q in (0.5, 1.0, 2.0) for s in (0.7, 1.0, 1.4)]
INITIAL_LOG_B = -2.3  # b = 0.1 in normalised a*b* (11 units) at the start: about a trained model's error
SMOOTHING = 1.5  # the shipped a*b* smoothing (sigma, working-size pixels); b is smoothed twice as much


def _features(generator):
    """Register a hook that keeps the input of gen2's last convolution; returns the dict it fills."""
    head = getattr(generator, "head", None)
    if head is None or not hasattr(head[0], "in_channels"):
        raise SystemExit("benchmarks/uncertainty.py: needs a gen2 (U-Net) model")
    kept = {}
    head[0].register_forward_hook(lambda module, inputs, output: kept.__setitem__("x", inputs[0]))
    return kept


def _head(channels: int):
    from torch import nn

    head = nn.Sequential(nn.Conv2d(channels + 2, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 16, 3, 1, 1), nn.ReLU(),
                         nn.Conv2d(16, 1, 3, 1, 1))
    nn.init.constant_(head[-1].bias, INITIAL_LOG_B)
    return head


def train_head(model: str, demo: Path, steps: int, seed: int = 0, batch_size: int = 16, log=print):
    """(generator, its size, head, features): the head learns log b of the frozen generator's a*b* error."""
    import torch
    from torch.utils.data import DataLoader

    from rehue.data.datasets import build_datasets
    from rehue.models.io import load_model

    torch.manual_seed(seed)
    generator, card = load_model(model)
    generator.requires_grad_(False)
    features = _features(generator)
    head = _head(generator.head[0].in_channels)
    train, _ = build_datasets(demo, card.size, seed=seed)
    train._rng = np.random.default_rng(seed)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, drop_last=len(train) >= batch_size,
                        generator=torch.Generator().manual_seed(seed))
    optimiser = torch.optim.Adam(head.parameters(), 1e-3)
    done, losses, started = 0, [], time.perf_counter()
    while done < steps:
        for batch in loader:
            with torch.no_grad():
                ab = generator(batch["lightness"])
            log_b = head(torch.cat([features["x"], ab.abs()], 1))
            error = (ab - batch["ab"]).abs().mean(1, keepdim=True)
            loss = (error * torch.exp(-log_b) + log_b).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            done += 1
            if done % 50 == 0 or done == steps:
                rate = done / (time.perf_counter() - started)
                log(f"head step {done}/{steps}  loss {np.mean(losses[-50:]):.4f}  {rate:.1f} steps/s  "
                    f"{(steps - done) / rate:.0f} s left")
            if done >= steps:
                break
    return generator, card.size, head.eval(), features


def predict(generator, head, features, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2, S, S) raw normalised a*b* and (S, S) b in a*b* units for one uint8 gray square at the model's size."""
    import torch

    from rehue.color.lab import AB_SCALE
    from rehue.inference.colorizer import GRAY_TO_NORMALIZED_LIGHTNESS

    x = torch.from_numpy(GRAY_TO_NORMALIZED_LIGHTNESS[gray][None, None])
    with torch.no_grad():
        ab = generator(x)
        log_b = head(torch.cat([features["x"], ab.abs()], 1))
    return ab[0].numpy(), np.exp(log_b[0, 0].numpy()) * AB_SCALE


def sweep(generator, size: int, head, features, sets: dict[str, list[Path]]) -> tuple[dict, float]:
    """({set: {rule: (PSNR minus gray's, colourfulness / truth's)}}, median b in a*b* units)."""
    import cv2

    from rehue.color.lab import AB_SCALE, rgb_to_gray
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop
    from rehue.inference.colorizer import compose_full_resolution

    predicted = {}
    for name, paths in sets.items():
        predicted[name] = []
        for path in paths:
            truth = square_crop(load_image(path).rgb, size)
            gray = rgb_to_gray(truth)
            ab, b = predict(generator, head, features, gray)
            smooth_ab = np.stack([cv2.GaussianBlur(np.ascontiguousarray(c), (0, 0), SMOOTHING) for c in ab])
            smooth_b = cv2.GaussianBlur(np.ascontiguousarray(b), (0, 0), 2 * SMOOTHING)
            predicted[name].append((truth, gray, smooth_ab, smooth_b))
    median_b = float(np.median(np.concatenate([item[3].ravel() for items in predicted.values()
                                                for item in items])))
    rules = {f"global x{s:g}": (lambda b, s=s: np.full_like(b, s)) for s in GLOBAL_SCALES}
    for q, s in PER_PIXEL_RULES:
        k = q * median_b
        rules[f"per pixel k={k:.1f} s={s:g}"] = lambda b, k=k, s=s: s / (1 + (b / k) ** 2)
    table = {}
    for name, items in predicted.items():
        truths = [truth for truth, *_ in items]
        reference = gray_reference(truths)
        table[name] = {
            rule: relative_scores([compose_full_resolution(gray, np.moveaxis(ab * weight(b)[None], 0, -1) * AB_SCALE)
                                   for _, gray, ab, b in items], truths, reference)
            for rule, weight in rules.items()}
    return table, median_b


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="rehue-gen2-128-independent")
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sets = held_out_photos(args.demo)
    generator, size, head, features = train_head(args.model, args.demo, args.steps, args.seed)
    table, median_b = sweep(generator, size, head, features, sets)
    print(f"median predicted b on the held-out photos: {median_b:.2f} a*b* units")
    print("PSNR minus gray's (dB), then colourfulness as a share of the truth's")
    print("| rule | " + " | ".join(table) + " |")
    print("|---|" + "---|" * len(table))
    for rule in next(iter(table.values())):
        print(f"| {rule} | " + " | ".join(f"{row[rule][0]:+.2f} ({row[rule][1]:.2f})" for row in table.values())
              + " |")


if __name__ == "__main__":
    main()
