"""Colour as classes without the adversarial term (Zhang, Isola and Efros 2016; richzhang/colorization):
rehue's ``gen2-classes``, which predicts per pixel a distribution over a*b* bins and shows its (annealed)
mean, trained by cross-entropy alone, against the shipped GAN + L1 recipe with its global restraint.
`rehue train --generator gen2-classes` trains the same generator inside the cGAN (docs/model-card.md).

    .venv/bin/python benchmarks/ab_classes.py [--demo data/demo] [--out runs/ab-classes] [--steps 700]
        [--temperatures 1 0.6 0.38] [--scales 0.5 0.7 1.0] [--mean-share 0.5] [--cross-validation] [--grid DIR]
    .venv/bin/python benchmarks/ab_classes.py --cross-validation --recipe --temperatures 1 --cv-mean-shares 1 0.5 0
        [--cv-prior-mean-removals 0 1]
    .venv/bin/python benchmarks/ab_classes.py --model runs/classes/model.safetensors --temperatures 1 --scales 1
    .venv/bin/python benchmarks/ab_classes.py --model runs/classes/model.safetensors --prior-report
    .venv/bin/python benchmarks/ab_classes.py --cross-validation --recipe --temperatures 0.6 --cv-prior-mean-removals 1
        --cv-blends 0.25 0.5 0.75
    .venv/bin/python benchmarks/ab_classes.py --model runs/classes/model.safetensors --temperatures 0.6
        --prior-mean-removal 1 --blend-with rehue-gen2-128-independent --cv-blends 0.5 1

The generator is the shipped one (``gen2``, width 16) with a head that gives logits for 23 x 23 bins 10
a*b* units apart at half the working size (rehue.color.bins). It learns from the shipped recipe's
training crops (colour jitter 0.3, crops of 70-100%, the demo set's sampling weights, 700 steps of 16,
EMA 0.995, seed 1) by cross-entropy against each pixel's a*b* spread bilinearly over its four nearest
bins, so that the target distribution's mean is the true a*b*: the mean of a well-fitted distribution
is then the PSNR-best guess, and its spread is the model's doubt, per pixel (Zhang et al.'s class
rebalancing, which buys vivid colours with squared error, is left out). The temperature T sharpens the
distribution before its mean (Zhang et al.'s "annealed mean", T = 0.38): T = 1 is the plain mean.
Scored as `benchmarks/restraint.py` scores a model: centre crops at 128 of the six held-out sets,
smoothed with sigma 1.5 and scaled, PSNR minus gray's and colourfulness as a share of the truth's.
``--cross-validation`` also trains one without each of benchmarks/out_of_fold.py's three folds and
compares it with the shipped recipe's fold models, photo by photo; with ``--recipe`` the fold models are
trained by `rehue train` with the colour-as-classes recipe instead (the shipped recipe with CLASSES_FLAGS;
runs/folds/classes-K), and ``--cv-mean-shares`` compares several mean shares. ``--cv-blends W`` shows
(1 - W) x 0.5 x each fold's shipped-recipe model + W x its class model (Blend); ``--blend-with`` scores the
same mix of two full models on the held-out sets, with each set's mean warm share and outputs nearly all
warm. Trained weights are kept
(safetensors, out/model.safetensors and out/fold-K/) and reused.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from restraint import held_out_photos, score  # noqa: E402

# what the colour-as-classes recipe adds to the shipped one (benchmarks/out_of_fold.py's RECIPE; docs/model-card.md)
CLASSES_FLAGS = ["--generator", "gen2-classes", "--adversarial-weight", "0"]


def classifier(width: int = 16) -> nn.Module:
    """The generator that is scored: rehue's ``gen2-classes`` at 128 (the shipped width)."""
    from rehue.models.registry import create_model

    return create_model("gen2-classes", in_channels=1, size=128, width=width, role="generator")


def train(demo: Path, steps: int, seed: int, log=None) -> nn.Module:
    from torch.utils.data import DataLoader

    from rehue.data.datasets import build_datasets
    from rehue.training.loop import WeightAverage, _reseed_dataset, _seed_everything, class_loss, class_targets

    log = log or (lambda msg: print(msg, flush=True))
    _seed_everything(seed)
    train_set, _ = build_datasets(demo, 128, seed=seed, colour_jitter=0.3, crop_min=0.7, log=lambda msg: None)
    loader = DataLoader(train_set, batch_size=16, shuffle=True, drop_last=True)
    net = classifier()
    average = WeightAverage(net, 0.995)
    optimiser = torch.optim.Adam(net.parameters(), lr=5e-4, betas=(0.5, 0.999))
    started, step, epoch, running = time.perf_counter(), 0, 0, 0.0
    while step < steps:
        _reseed_dataset(train_set, seed, epoch, 0)
        for batch in loader:
            _, logits = net(batch["lightness"], with_logits=True)
            targets = class_targets(batch["ab"])
            loss = class_loss(logits, targets)
            net.count_colours(targets, step + 1)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            average.update(net)
            step += 1
            running += loss.item()
            if step % 50 == 0:
                rate = step / (time.perf_counter() - started)
                log(f"step {step}/{steps}: cross-entropy {running / 50:.3f}, {rate:.2f} steps/s, "
                    f"{(steps - step) / rate / 60:.1f} min left")
                running = 0.0
            if step >= steps:
                break
        epoch += 1
    return average.model.eval()


def load_or_train(out: Path, demo: Path, steps: int, seed: int) -> nn.Module:
    """out/model.safetensors if it was trained with these settings (out/config.json), else trained now."""
    from safetensors.torch import load_file, save_file

    from rehue.color.bins import GRID

    weights = out / "model.safetensors"
    settings = {"steps": steps, "seed": seed, "grid": GRID}
    if weights.exists() and json.loads((out / "config.json").read_text()) == settings:
        net = classifier()
        net.load_state_dict(load_file(weights))
        return net.eval()
    net = train(demo, steps, seed)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    (out / "config.json").write_text(json.dumps(settings) + "\n")
    return net


class ModeAgreement(nn.Module):
    """Fades a class model's colour where its distribution's modes disagree: a*b* times rho ** ``power``,
    rho being the probability within one bin (10 a*b* units) of the likeliest bin. A pixel whose modes are
    grass and earth then goes grey instead of to their yellow average; a pixel with one mode keeps its
    colour. (Measured in the cross-validation only; docs/model-card.md, "Colour as classes".)"""

    def __init__(self, generator: nn.Module, power: float):
        super().__init__()
        self.generator = generator
        self.power = power

    def forward(self, x):
        from rehue.color.bins import GRID, sharpened

        ab, logits = self.generator(x, with_logits=True)
        probs = sharpened(logits, self.generator.temperature)
        n, _, h, w = probs.shape
        grid = probs.reshape(n, GRID, GRID, h, w)
        near = nn.functional.avg_pool2d(grid.permute(0, 3, 4, 1, 2).reshape(-1, 1, GRID, GRID), 3, 1, 1,
                                        count_include_pad=True) * 9  # mass within one bin of each bin
        near = near.reshape(n, h, w, GRID * GRID).permute(0, 3, 1, 2)
        top = probs.argmax(dim=1, keepdim=True)
        rho = near.gather(1, top)
        rho = nn.functional.interpolate(rho, size=ab.shape[-2:], mode="bilinear", align_corners=False)
        return ab * rho.clamp(0, 1) ** self.power


class ShrinkRemoval(nn.Module):
    """Takes ``share`` of the training colours' mean (``ab_prior``'s) off each pixel in proportion to how far
    its colour is shrunk: 1 - |E[c]| / E[|c|] over its distribution (0 for one colour, 1 for colours that
    cancel out), instead of UNetClasses' overlap with the prior. (Measured in the cross-validation only.)"""

    def __init__(self, generator: nn.Module, share: float):
        super().__init__()
        self.generator = generator
        self.share = share

    def forward(self, x):
        from rehue.color.bins import distribution_mean, sharpened

        g = self.generator
        ab, logits = g(x, with_logits=True)
        probs = sharpened(logits, g.temperature)
        mean = distribution_mean(probs, g.centres)
        spread = torch.einsum("nkhw,k->nhw", probs, g.centres.norm(dim=1))[:, None]
        shrunk = 1.0 - mean.norm(dim=1, keepdim=True) / spread.clamp(min=1e-6)
        shrunk = nn.functional.interpolate(shrunk, size=ab.shape[-2:], mode="bilinear", align_corners=False)
        prior = g.ab_prior.clamp(min=0) @ g.centres
        return ab - self.share * shrunk.clamp(0, 1) * prior.view(1, 2, 1, 1)


class Blend(nn.Module):
    """(1 - ``share``) x ``regression_chroma`` x the regression model's a*b* + ``share`` x the class model's:
    two models of different kinds, whose mistakes may differ where seeds of one recipe share theirs. At
    share 0 this is the regression model at its shipped restraint. (Measured in the cross-validation only.)"""

    def __init__(self, regression: nn.Module, classes: nn.Module, share: float, regression_chroma: float = 0.5):
        super().__init__()
        self.regression = regression
        self.classes = classes
        self.share = share
        self.regression_chroma = regression_chroma

    def forward(self, x):
        return ((1.0 - self.share) * self.regression_chroma * self.regression(x)
                + self.share * self.classes(x))


def out_of_fold_logits(net: nn.Module, photos: list[Path], pixels: int, seed: int = 0):
    """(logits (P, BINS), class targets (P, BINS)) of ``pixels`` random pixels of each photo's centre crop at
    128, at the class logits' size: what ``net`` says of photos it was not trained on, and the truth."""
    import out_of_fold as oof

    from rehue.color.lab import normalize_lightness, rgb_to_lightness
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop
    from rehue.training.loop import class_targets

    rng = np.random.default_rng(seed)
    said, truth = [], []
    for photo in photos:
        crop = square_crop(load_image(photo).rgb, 128)
        lightness = torch.from_numpy(normalize_lightness(rgb_to_lightness(crop)).astype(np.float32))[None, None]
        with torch.no_grad():
            _, logits = net(lightness, with_logits=True)
        targets = class_targets(torch.from_numpy(oof.true_ab([crop])))
        picked = torch.from_numpy(rng.choice(logits.shape[2] * logits.shape[3], pixels, replace=False))
        said.append(logits.flatten(2)[0][:, picked].T)
        truth.append(targets.flatten(2)[0][:, picked].T)
    return torch.cat(said), torch.cat(truth)


def fit_bin_bias(logits: torch.Tensor, targets: torch.Tensor, steps: int = 300) -> torch.Tensor:
    """One bias per bin that, added to ``logits``, minimises their cross-entropy against ``targets``: at the
    optimum the mean predicted distribution is the mean target, so the colours are as often warm as the
    truth's."""
    from rehue.training.loop import class_loss

    bias = torch.zeros(logits.shape[1], requires_grad=True)
    optimiser = torch.optim.Adam([bias], lr=0.05)
    for _ in range(steps):
        loss = class_loss(logits + bias, targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return bias.detach()


def calibrated(nets: list[nn.Module], folds, pixels: int = 512) -> list[nn.Module]:
    """Each fold model with a bin bias (fit_bin_bias) added to its head, fitted on the other fold models'
    logits for their own held-out photos: nested, so that no photo scores a bias it was fitted on."""
    from rehue.color.lab import AB_SCALE

    said = [out_of_fold_logits(net, photos, pixels) for net, (_, photos) in zip(nets, folds, strict=True)]
    out = []
    for k, net in enumerate(nets):
        logits, targets = (torch.cat([part[i] for j, part in enumerate(said) if j != k]) for i in (0, 1))
        bias = fit_bin_bias(logits, targets)
        shifted = copy.deepcopy(net).eval()
        with torch.no_grad():
            shifted.head[-1].bias += bias
        before, after = (torch.softmax(logits + shift, 1).mean(0) @ shifted.centres * AB_SCALE for shift in (0, bias))
        print(f"fold {k}: bin bias fitted on {len(logits)} out-of-fold pixels; mean distribution's a*b* "
              f"{before.tolist()} -> {after.tolist()}", flush=True)
        out.append(shifted)
    return out


def prior_report(net: nn.Module) -> dict:
    """What a class model's counted training colours (``ab_prior``) are: their mean a*b*, the mean of what
    dividing a distribution by them spreads an unsure pixel over (the prior over its half-flat mix, as the
    measured and dropped prior division at P 1 did), and the shares of warm, cool and grey in them (warm:
    rehue.data.demo's warm hue families; grey: the bins within 2 a*b* units of grey, as warm_share counts)."""
    from rehue.color.bins import BINS
    from rehue.color.lab import AB_SCALE
    from rehue.data.demo import HUE_FAMILIES, WARM_FAMILIES, in_hue_family
    from rehue.evaluation.metrics import CAST_MIN_CHROMA

    prior = net.ab_prior.clamp(min=0).double()
    centres = net.centres.double() * AB_SCALE
    divided = prior / (0.5 * prior + 0.5 / BINS)
    chroma = centres.norm(dim=1).numpy()
    hue = np.degrees(np.arctan2(centres[:, 1].numpy(), centres[:, 0].numpy())) % 360.0
    warm = np.any([in_hue_family(hue, lo, hi) for name, lo, hi in HUE_FAMILIES if name in WARM_FAMILIES], axis=0)
    grey = chroma < CAST_MIN_CHROMA
    weights = prior.numpy()
    return {"prior_mean_ab": (prior @ centres).tolist(),
            "divided_mean_ab": (divided @ centres / divided.sum()).tolist(),
            "warm": float(weights[warm & ~grey].sum()), "cool": float(weights[~warm & ~grey].sum()),
            "grey": float(weights[grey].sum())}


def annealed_colorizer(net: nn.Module, temperature: float, mean_share: float = 1.0, prior_mean_removal: float = 0.0,
                       agreement: float = 0.0, shrink_removal: float = 0.0, blend_with: nn.Module | None = None,
                       blend_share: float = 1.0, **settings):
    """A Colorizer (working size 128, L* in) that shows ``net``'s annealed mean at ``temperature`` with
    ``prior_mean_removal`` (rehue.models.generators.UNetClasses), faded by ``agreement`` (ModeAgreement),
    and ``mean_share`` of each picture's mean colour; with ``blend_with``, a Blend of that regression model and
    this one at ``blend_share``."""
    from rehue.inference.colorizer import Colorizer
    from rehue.models.io import ModelCard

    generator = copy.deepcopy(net).eval()
    generator.temperature = temperature
    generator.prior_mean_removal = prior_mean_removal
    if agreement:
        generator = ModeAgreement(generator, agreement).eval()
    if shrink_removal:
        generator = ShrinkRemoval(generator, shrink_removal).eval()
    if blend_with is not None:
        generator = Blend(blend_with.eval(), generator, blend_share).eval()
    card = ModelCard(architecture="gen2-classes", in_channels=1, size=128, width=16)
    return Colorizer(generator, card, backend="torch", mean_share=mean_share, **settings)


def cross_validate(demo: Path, runs: Path, out: Path, steps: int, seed: int, temperatures: list[float],
                   mean_shares: list[float] = (1.0,), recipe: bool = False,
                   prior_mean_removals: list[float] = (0.0,), agreements: list[float] = (0.0,),
                   calibrate: bool = False, shrink_removals: list[float] = (0.0,),
                   blend_shares: list[float] = (1.0,)) -> None:
    """benchmarks/out_of_fold.py's cross-validation: a classifier trained without each fold (out/fold-K, or
    with ``recipe`` by `rehue train` with CLASSES_FLAGS in runs/classes-K), against the shipped
    recipe's fold models (runs/K, trained first if missing), photo by photo."""
    import out_of_fold as oof

    from rehue.evaluation.metrics import SEPIA_WARM_SHARE
    from rehue.models.io import load_model

    folds = oof.make_folds(demo, runs, 3)
    if recipe:
        nets = [load_model(path)[0].eval() for path in oof.train_folds(folds, runs, "classes", CLASSES_FLAGS)]
    else:
        nets = [load_or_train(out / f"fold-{k}", data, steps, seed) for k, (data, _) in enumerate(folds)]
    if calibrate:
        nets = calibrated(nets, folds)
    base_paths = oof.train_folds(folds, runs)
    base, _ = oof.cross_validation(folds, base_paths)
    blending = any(share != 1.0 for share in blend_shares)
    regressions = [load_model(path)[0].eval() if blending else None for path in base_paths]
    truths = base.pop("truth")
    truth = truths["colour"].mean()
    casts = {"truths": (truths["warm"] >= SEPIA_WARM_SHARE).sum(),
             "shipped recipe x0.5": (base[0.5]["warm"] >= SEPIA_WARM_SHARE).sum()}

    def mean_warmth(shares):  # NaN: no output with colour
        return float(np.nanmean(shares)) if np.isfinite(shares).any() else float("nan")

    warmth = {"truths": mean_warmth(truths["warm"]), "shipped recipe x0.5": mean_warmth(base[0.5]["warm"])}
    base_curve = sorted((row["colour"].mean(), row["diff"].mean()) for row in base.values())
    print(f"cross-validation over the {sum(len(p) for _, p in folds)} training photos: PSNR minus gray's, mean "
          "(colourfulness as a share of the truth's; SSIM minus gray's) [PSNR off the shipped recipe's curve at "
          "the same colourfulness; photos better than the shipped recipe at its x0.5]")
    print("| model | " + " | ".join(f"x{s:g}" for s in oof.GLOBAL_SCALES) + " |")
    print("|---|" + "---|" * len(oof.GLOBAL_SCALES))
    print("| shipped recipe | " + " | ".join(f"{row['diff'].mean():+.3f} ({row['colour'].mean() / truth:.2f}; "
                                           f"{row['ssim_diff'].mean():+.4f})" for row in base.values()) + " |")
    for temperature, removal, agreement, shrink, mean_share, blend in (
            (t, r, a, sr, m, b) for t in temperatures for r in prior_mean_removals for a in agreements
            for sr in shrink_removals for m in mean_shares for b in blend_shares):
        colorizers = [annealed_colorizer(net, temperature, mean_share, removal, agreement, shrink,
                                         blend_with=regression if blend != 1.0 else None, blend_share=blend,
                                         chroma=1.0, ab_smoothing=oof.SMOOTHING)
                      for net, regression in zip(nets, regressions, strict=True)]
        cv, _ = oof.cross_validation(folds, colorizers)
        cv.pop("truth")
        cells = []
        for row in cv.values():
            colour, diff = row["colour"].mean(), row["diff"].mean()
            off = diff - float(np.interp(colour, [c for c, _ in base_curve], [d for _, d in base_curve]))
            versus = row["diff"] - base[0.5]["diff"]
            cells.append(f"{diff:+.3f} ({colour / truth:.2f}; {row['ssim_diff'].mean():+.4f}) "
                         f"[{off:+.2f}; better on {(versus > 0).sum()}]")
        label = (f"classes{', calibrated' if calibrate else ''}, T {temperature:g}"
                 + (f", R {removal:g}" if removal else "")
                 + (f", A {agreement:g}" if agreement else "") + (f", S {shrink:g}" if shrink else "")
                 + (f", M {mean_share:g}" if mean_share != 1.0 else "")
                 + (f", blend W {blend:g} with the shipped recipe x0.5" if blend != 1.0 else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
        casts[f"{label} x1"] = (cv[1.0]["warm"] >= SEPIA_WARM_SHARE).sum()
        warmth[f"{label} x1"] = mean_warmth(cv[1.0]["warm"])
    print("photos whose output is at least 90% warm: " + ", ".join(f"{k} {v}" for k, v in casts.items()))
    print("mean warm share of the outputs: " + ", ".join(f"{k} {v:.2f}" for k, v in warmth.items()))


def sweep(net: nn.Module, sets: dict[str, list[Path]], temperatures: list[float], scales: list[float],
          mean_share: float = 1.0, prior_mean_removal: float = 0.0) -> dict:
    """{set: {(T, scale): (PSNR minus gray's, colourfulness share)}}; scale None is the raw mean."""
    colorizers = {}
    for temperature in temperatures:
        for scale in [*scales, None]:
            settings = {"chroma": 1.0, "ab_smoothing": 0.0} if scale is None else {"chroma": scale,
                                                                                  "ab_smoothing": 1.5}
            colorizers[temperature, scale] = annealed_colorizer(net, temperature, mean_share, prior_mean_removal,
                                                                **settings)
    return score(colorizers, sets)


def blend_held_out(net: nn.Module, regression: nn.Module, sets: dict[str, list[Path]], shares: list[float],
                   temperature: float, prior_mean_removal: float) -> dict:
    """{set: {W: (PSNR minus gray's, colourfulness share, mean warm share, outputs at least 90% warm)}} of
    Blends at ``shares`` (W 0: the regression model at x0.5, as shipped) on each set's centre crops."""
    from rehue.evaluation.metrics import SEPIA_WARM_SHARE, warm_share

    def warmth(outputs):
        shares_warm = [x for x in map(warm_share, outputs) if x is not None]
        return (float(np.mean(shares_warm)) if shares_warm else float("nan"),
                sum(x >= SEPIA_WARM_SHARE for x in shares_warm))

    colorizers = {w: annealed_colorizer(net, temperature, prior_mean_removal=prior_mean_removal,
                                        blend_with=regression, blend_share=w, chroma=1.0, ab_smoothing=1.5)
                  for w in shares}
    return score(colorizers, sets, extra=warmth)


def comparison_grid(net: nn.Module, sets: dict[str, list[Path]], temperature: float, scale: float, out: Path,
                    mean_share: float = 1.0, prior_mean_removal: float = 0.0,
                    names=("blind twenty-three", "Scratch forty-seven")
                    ) -> tuple[np.ndarray, np.ndarray]:
    """out/classes-vs-shipped.png: photos of the blind sets (centre crops at 128) by the shipped model and by
    the classifier at ``temperature`` and ``scale``, eight rows from the classifier's worst photo against the
    shipped model to its best; returns the per-photo PSNR differences (classifier minus shipped) and the
    number of outputs nearly all warm (a sepia cast: docs/model-card.md), shipped's and the classifier's."""
    from rehue.color.lab import rgb_to_gray
    from rehue.data.images import load_image
    from rehue.evaluation.evaluate import square_crop
    from rehue.evaluation.metrics import SEPIA_WARM_SHARE, psnr, warm_share
    from rehue.evaluation.report import sample_grid
    from rehue.inference.colorizer import Colorizer

    shipped = Colorizer.load("rehue-gen2-128-independent", device="cpu")
    classes = annealed_colorizer(net, temperature, mean_share, prior_mean_removal, chroma=scale, ab_smoothing=1.5)
    rows, diffs, warm = [], [], np.zeros(2, dtype=int)
    for name in names:
        for path in sets[name]:
            truth = square_crop(load_image(path).rgb, 128)
            ours, theirs = classes.colorize(truth), shipped.colorize(truth)
            rows.append([rgb_to_gray(truth), truth, theirs, ours])
            diffs.append(psnr(ours, truth) - psnr(theirs, truth))
            warm += [(warm_share(output) or 0.0) >= SEPIA_WARM_SHARE for output in (theirs, ours)]
    diffs = np.array(diffs)
    picked = np.argsort(diffs)[np.linspace(0, len(diffs) - 1, 8).round().astype(int)]
    sample_grid([rows[i] for i in picked], out / "classes-vs-shipped.png",
                titles=("Gray", "Ground truth", "Shipped", f"Classes T{temperature:g} x{scale:g}"
                        + (f" r{prior_mean_removal:g}" if prior_mean_removal else "")
                        + (f" m{mean_share:g}" if mean_share != 1.0 else "")))
    return diffs, warm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--out", type=Path, default=Path("runs/ab-classes"))
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.6, 0.38])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 0.7, 1.0])
    parser.add_argument("--cross-validation", action="store_true",
                        help="also train a classifier without each of benchmarks/out_of_fold.py's folds and compare "
                             "it with the shipped recipe's fold models on the training photos")
    parser.add_argument("--runs", type=Path, default=Path("runs/folds"), help="the shipped recipe's fold runs")
    parser.add_argument("--grid", type=Path, help="write a sample grid of the blind sets here, shipped against "
                                                  "classes at --grid-setting")
    parser.add_argument("--grid-setting", type=float, nargs=2, default=[1.0, 1.0], metavar=("T", "SCALE"))
    parser.add_argument("--mean-share", type=float, default=1.0,
                        help="show this share of each picture's mean a*b* and all of the variation around it")
    parser.add_argument("--cv-mean-shares", type=float, nargs="+",
                        help="--cross-validation: the mean shares to compare (default: --mean-share)")
    parser.add_argument("--prior-mean-removal", type=float, default=0.0,
                        help="take this share of the training colours' mean off each pixel, in proportion to how "
                             "much its distribution overlaps theirs (rehue.models.generators.UNetClasses)")
    parser.add_argument("--cv-prior-mean-removals", type=float, nargs="+",
                        help="--cross-validation: the prior mean removals to compare (default: --prior-mean-removal)")
    parser.add_argument("--cv-agreements", type=float, nargs="+", default=[0.0],
                        help="--cross-validation: powers of the mode agreement that fades colour (ModeAgreement)")
    parser.add_argument("--cv-shrink-removals", type=float, nargs="+", default=[0.0],
                        help="--cross-validation: shares of the training colours' mean taken off by how far each "
                             "pixel is shrunk (ShrinkRemoval)")
    parser.add_argument("--cv-blends", type=float, nargs="+", default=[1.0],
                        help="--cross-validation: shares W of a Blend, (1 - W) x 0.5 x the shipped recipe's fold "
                             "model + W x the class model")
    parser.add_argument("--blend-with", help="with --model: score Blends of this regression model (a shipped name "
                        "or a .safetensors path) and the class model on the held-out sets, at --cv-blends, T "
                        "--temperatures[0] and --prior-mean-removal")
    parser.add_argument("--prior-report", action="store_true",
                        help="with --model: print what its counted training colours are (prior_report) and stop")
    parser.add_argument("--calibrate", action="store_true",
                        help="--cross-validation: add to each fold model one bias per bin, fitted on the other "
                             "fold models' out-of-fold logits (fit_bin_bias)")
    parser.add_argument("--model", help="score this gen2-classes model (a shipped name or a .safetensors path) "
                                        "instead of training one with this script's loop")
    parser.add_argument("--recipe", action="store_true",
                        help="--cross-validation: fold models trained by `rehue train` (the shipped recipe with "
                             "--generator gen2-classes --adversarial-weight 0), not by this script's loop")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.prior_report:
        from rehue.models.io import load_model, resolve_model_path

        if not args.model:
            parser.error("--prior-report needs --model")
        report = prior_report(load_model(resolve_model_path(args.model))[0])
        print("training colours' mean a*b* {prior_mean_ab}; what dividing by them spreads an unsure pixel over "
              "has mean a*b* {divided_mean_ab}; warm {warm:.2f}, cool {cool:.2f}, grey {grey:.2f} of the "
              "pixels".format(**report))
        return
    if args.cross_validation:
        cross_validate(args.demo, args.runs, args.out, args.steps, args.seed, args.temperatures,
                       args.cv_mean_shares or [args.mean_share], args.recipe,
                       args.cv_prior_mean_removals or [args.prior_mean_removal], args.cv_agreements,
                       args.calibrate, args.cv_shrink_removals, args.cv_blends)
        if args.recipe:
            return
    sets = held_out_photos(args.demo)
    if args.blend_with:
        from rehue.models.io import load_model, resolve_model_path

        if not args.model:
            parser.error("--blend-with needs --model")
        table = blend_held_out(load_model(resolve_model_path(args.model))[0].eval(),
                               load_model(resolve_model_path(args.blend_with))[0].eval(), sets,
                               [0.0, *args.cv_blends], args.temperatures[0], args.prior_mean_removal)
        print(f"PSNR minus gray's (dB) (colourfulness share; mean warm share; outputs at least 90% warm) of "
              f"(1 - W) x 0.5 x {args.blend_with} + W x the class model at T {args.temperatures[0]:g}, "
              f"R {args.prior_mean_removal:g}; smoothed (sigma 1.5), centre crops at 128")
        columns = list(next(iter(table.values())))
        print("| set | " + " | ".join(f"W {w:g}" for w in columns) + " |")
        print("|---|" + "---|" * len(columns))
        for name, row in table.items():
            print(f"| {name} | " + " | ".join("{:+.2f} ({:.2f}; {:.2f}; {})".format(*row[w]) for w in columns) + " |")
        return
    if args.model:
        from rehue.models.io import load_model, resolve_model_path

        net = load_model(resolve_model_path(args.model))[0].eval()
    else:
        net = load_or_train(args.out, args.demo, args.steps, args.seed)
    table = sweep(net, sets, args.temperatures, args.scales, args.mean_share, args.prior_mean_removal)
    columns = list(next(iter(table.values())))
    print("PSNR minus gray's (dB), then colourfulness as a share of the truth's; T: temperature, x: scale after "
          "smoothing (sigma 1.5), raw: neither")
    print("| set | " + " | ".join(f"T {t:g}, " + ("raw" if s is None else f"x{s:g}") for t, s in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[c][0]:+.2f} ({row[c][1]:.2f})" for c in columns) + " |")
    if args.grid:
        temperature, scale = args.grid_setting
        diffs, warm = comparison_grid(net, sets, temperature, scale, args.grid, args.mean_share,
                                      args.prior_mean_removal)
        print(f"wrote {args.grid / 'classes-vs-shipped.png'}; on the {diffs.size} blind photos, classes T"
              f"{temperature:g} x{scale:g} minus the shipped model: {diffs.mean():+.2f} dB, better on "
              f"{(diffs > 0).sum()}, median {np.median(diffs):+.2f}; outputs at least 90% warm: shipped "
              f"{warm[0]}, classes {warm[1]}")


if __name__ == "__main__":
    main()
