"""The conditional GAN training loop (thesis 4.2.1, fig. 4.5-4.7, plus pix2pix's L1 term).

Each step: update D on real and generated a*b* (BCE), then update G to fool D plus L1 to the truth.
Each epoch: validation PSNR/SSIM against the gray baseline, a sample grid, metrics, a checkpoint,
and the generator exported as safetensors + JSON. Runs under ``torchrun`` with DDP as well.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from rehue.data.images import (
    as_it_will_be,
    make_folder,
    missing_reason,
    process_start_ticks,
    real_path,
    refuse_a_folder_of_others,
    runs_python,
)
from rehue.errors import RehueError, UsageError, as_memory_error, check_flags, first_line, one_line, path_exists
from rehue.progress import lines_to
from rehue.training.config import TrainConfig, started_in_folder
from rehue.training.memory import check_training_memory
from rehue.words import counted, listed


@dataclass
class TrainResult:
    generator: object
    history: list = field(default_factory=list)
    out_dir: Path | None = None
    model_path: Path | None = None
    trained: bool = True  # False: a resumed run that had trained all its epochs already


# how long the processes of a launch wait for each other, to join and at every step: PyTorch's default where
# None (30 minutes on the CPU, 10 on GPUs), as a shorter wait would end a run whose first process writes its
# samples and checkpoint for longer while the others wait
DIST_TIMEOUT_S: float | None = None


def _distributed(log=None):
    """(rank, world_size) and initialise the process group when launched by torchrun. A launcher's environment
    whose other processes never come (a shell inside a torchrun job) is one line after ``DIST_TIMEOUT_S``, said
    on waiting (before: silent, then PyTorch's traceback)."""
    from datetime import timedelta

    import torch
    import torch.distributed as dist

    world = launch_world_size()
    if world <= 1:
        return 0, 1
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT", "RANK") if not os.environ.get(name)]
    if not dist.is_initialized() and missing:  # probes 125 and 126: a pod's WORLD_SIZE alone, a traceback
        raise RehueError(f"WORLD_SIZE is {world} in the environment, but {listed(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} not set: launch distributed training with torchrun, "
                         "or unset WORLD_SIZE to train in one process")
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
        if log is not None and os.environ["RANK"] == "0":
            log(f"waiting for the {world} training processes of WORLD_SIZE to join at {where} (torchrun starts them)")
        failed: list[BaseException] = []

        def join() -> None:
            try:
                dist.init_process_group(backend, timeout=None if DIST_TIMEOUT_S is None else
                                        timedelta(seconds=DIST_TIMEOUT_S))
            except BaseException as exc:  # noqa: BLE001 - raised again in the main thread, below
                failed.append(exc)

        # on a thread of its own: PyTorch waits in C++, where Ctrl-C and SIGTERM reach no Python code (probe 145:
        # only kill -9 ended the wait); the main thread takes them meanwhile
        joiner = threading.Thread(target=join, name="rehue-join", daemon=True)
        joiner.start()
        while joiner.is_alive():
            joiner.join(0.2)
        try:
            if failed:
                raise failed[0]
        except (RuntimeError, ValueError) as exc:  # DistStoreError, a RuntimeError: "Timed out after ..."
            raise RehueError(f"the {world} training processes of WORLD_SIZE did not all join at {where} "
                             f"({first_line(exc)}): "
                             "launch distributed training with torchrun, or unset WORLD_SIZE to train in one "
                             "process") from None
    return dist.get_rank(), world


def launch_world_size() -> int:
    """The processes a launcher's environment says this training has (WORLD_SIZE; 1 where unset)."""
    try:
        return int(os.environ.get("WORLD_SIZE") or "1")
    except ValueError:
        raise RehueError(f"WORLD_SIZE in the environment is {os.environ['WORLD_SIZE']!r}, not a number of "
                         "processes: unset it to train in one process, or launch with torchrun") from None


def _device(config: TrainConfig, rank: int) -> str:
    from rehue.inference.colorizer import resolve_device

    device = resolve_device(config.device)
    if device == "cuda" and launch_world_size() > 1:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}"
    return device


class Diverged(RehueError):
    """Training ran to NaN or infinity at ``step`` (``cause`` says so); ``kept``: the run's folder keeps the
    checkpoints saved before (probe 202: its way on unsaid, a rerun refused as "already holds a training run")."""

    def __init__(self, step: int, out: str | Path):
        from rehue.training.checkpoint import list_checkpoints

        self.cause = f"training diverged at step {step} (loss is NaN/inf)"
        self.kept = bool(list_checkpoints(Path(out) / "checkpoints"))
        super().__init__(f"{self.cause}; lower the learning rates" + (
            ", and start it again with --overwrite (the folder keeps the epochs trained before it)" if self.kept
            else ""), out if self.kept else None)


def _optimiser_step(optimiser, step: int, out: str) -> None:
    """``optimiser.step()``; a rate below float32's largest that Adam's bias correction (a division by 1 - beta1)
    takes past it is a diverged run (probe 200: PyTorch's "value cannot be converted to type float without
    overflow", a traceback, at --lr-g 3.4e38)."""
    try:
        optimiser.step()
    except RuntimeError as exc:
        if "without overflow" not in str(exc):
            raise
        raise Diverged(step, out) from None


def lab_batch_to_rgb(lightness, ab) -> np.ndarray:
    """(N,1,S,S) and (N,2,S,S) normalised tensors -> (N,S,S,3) uint8 RGB."""
    from rehue.color.lab import denormalize_ab, denormalize_lightness, lab_to_rgb

    lab = np.concatenate([denormalize_lightness(lightness.float().cpu().numpy()),
                          denormalize_ab(ab.float().cpu().numpy())], axis=1).transpose(0, 2, 3, 1)
    # a NaN (colours a model's weights overflowed into) drawn black, not a NumPy warning of its cast (probe 202);
    # training stops on them first (NonFiniteOutput)
    with np.errstate(invalid="ignore"):
        rgb = np.clip(np.nan_to_num(lab_to_rgb(lab)), 0.0, 1.0)
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def generator_input(batch, device):
    import torch

    lightness = batch["lightness"].to(device, non_blocking=True)
    if "prev_ab" in batch:
        return torch.cat([lightness, batch["prev_ab"].to(device, non_blocking=True)], dim=1), lightness
    return lightness, lightness


def class_targets(real_ab):
    """(N, 2, S, S) truth's a*b* -> (N, BINS, S/2, S/2): averaged to the class logits' size and spread over
    its nearest bins (rehue.color.bins.soft_targets)."""
    import torch

    from rehue.color.bins import soft_targets

    return soft_targets(torch.nn.functional.avg_pool2d(real_ab.float(), 2))


def class_loss(logits, targets):
    """Cross-entropy of (N, BINS, S/2, S/2) a*b* class logits against ``class_targets``."""
    import torch

    return -(targets * torch.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()


class NonFiniteOutput(Exception):
    """A model's colours came out NaN or infinite: scored as black, they would read as a score (probe 203)."""


def validate(generator, loader, device, max_images: int):
    """Per-image PSNR/SSIM of the model and of the gray answer, plus grid rows; ``NonFiniteOutput`` where the
    model's colours are NaN or infinite."""
    import torch

    from rehue.data.images import has_colour
    from rehue.evaluation.metrics import psnr, ssim

    generator.eval()
    scores = {"psnr": [], "ssim": [], "gray_psnr": [], "gray_ssim": []}
    rows = []
    with torch.inference_mode():
        for batch in loader:
            inputs, lightness = generator_input(batch, device)
            fake = generator(inputs)
            if not bool(torch.isfinite(fake).all()):
                raise NonFiniteOutput
            truth_rgb = lab_batch_to_rgb(lightness, batch["ab"])
            fake_rgb = lab_batch_to_rgb(lightness, fake)
            gray_rgb = lab_batch_to_rgb(lightness, torch.zeros_like(fake))
            for gray, truth, out in zip(gray_rgb, truth_rgb, fake_rgb, strict=True):
                if len(scores["psnr"]) >= max_images:  # a batch larger than --val-images scores no more than it
                    break
                if not has_colour(truth):  # a gray photo: the gray answer would score it perfectly
                    continue
                scores["psnr"].append(psnr(out, truth))
                scores["ssim"].append(ssim(out, truth))
                scores["gray_psnr"].append(psnr(gray, truth))
                scores["gray_ssim"].append(ssim(gray, truth))
                if len(rows) < 8:
                    rows.append((gray, truth, out))
            if len(scores["psnr"]) >= max_images:
                break
    generator.train()
    return {k: float(np.mean(v)) if v else float("nan") for k, v in scores.items()}, rows


def _check_validation_has_colour(loader, data) -> None:
    """Validation scores colour pictures alone (a gray one is its own gray answer): a held-out part of only
    gray ones would stop the run at its first epoch's end (probe 61), so it is refused before the first step.
    The global RNG is put back (a DataLoader draws its seed from it): a resumed run stays the uninterrupted one."""
    import torch

    from rehue.data.images import has_colour

    with torch.random.fork_rng(devices=[]):
        for batch in loader:
            _, lightness = generator_input(batch, "cpu")
            if any(has_colour(truth) for truth in lab_batch_to_rgb(lightness, batch["ab"])):
                return
    count = len(loader.dataset)
    raise RehueError(f"the {counted(count, 'picture')} validation scores (of the held-out photos, a "
                     "frame dataset's test frames, spread over them by --val-images) "
                     f"{'are' if count > 1 else 'is'} gray, so it has nothing to score; hold out a colour photo or "
                     "film, or score more (--val-images)", data)


def _start_validation(generator, val_loader, device, config: TrainConfig, out: Path, log) -> None:
    """The --init model's validation score before any step, logged and kept in the run folder
    (``init_metrics.json``) for each epoch's to be compared with: fine-tuning on a small or mixed set can
    leave a model worse than it started (docs/model-card.md). The global RNG is put back, so a run's steps
    are the same as without this pass."""
    import torch

    from rehue.models.io import atomic_write_bytes

    rng = torch.get_rng_state()
    try:
        val, _ = validate(generator, val_loader, device, config.val_images)
    except NonFiniteOutput:
        raise RehueError("its colours of the validation photos are NaN or infinite: a model no run can start "
                         "from", config.init) from None
    torch.set_rng_state(rng)
    record = {"init": config.init, **{f"val_{k}": v for k, v in val.items()}}
    atomic_write_bytes(out / "init_metrics.json", (json.dumps(record, indent=2) + "\n").encode())
    log(f"before training, {config.init}: val PSNR {val['psnr']:.2f} dB (gray {val['gray_psnr']:.2f})  "
        f"SSIM {val['ssim']:.3f} (gray {val['gray_ssim']:.3f}); these follow training on the models' raw "
        "output: choose between the models with rehue evaluate --model ... --against ..., which scores "
        "what rehue colorize writes")


def _time_left(elapsed: float, steps_run: int, steps_left: int, epoch_steps_left: int, epoch_rate: float | None
               ) -> float:
    """A run's time left: its steps left at its own pace so far, and never less than its epoch's steps left at the
    epoch bar's recent rate (steps a second; None before it has one), which a slowed run reaches first (probe 157:
    3 s left for the run, 17 s for its last epoch)."""
    run_left = elapsed / steps_run * steps_left
    return max(run_left, epoch_steps_left / epoch_rate) if epoch_rate else run_left


def _seed_everything(seed: int):
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _reseed_dataset(dataset, *seed_parts):
    if hasattr(dataset, "_rng"):
        dataset._rng = np.random.default_rng(list(seed_parts))


def _loader_class():
    """A DataLoader that leaves PyTorch's warning of more workers than cores unsaid: the training loop says it once,
    in rehue's words (PyTorch's came twice, with a line of its own source)."""
    from torch.utils.data import DataLoader

    class CoresUnsaid(DataLoader):
        def check_worker_number_rationality(self) -> None:
            return

    return CoresUnsaid


def _worker_init(worker_id):
    import torch.utils.data

    info = torch.utils.data.get_worker_info()
    dataset = info.dataset
    if hasattr(dataset, "_rng"):
        dataset._rng = np.random.default_rng([*dataset._seed_parts, worker_id])


def _learnt_by(spec: str, card) -> tuple[list[str], set[str], set[str]]:
    """What the model ``spec`` of ``card`` learnt from, as its card tells: its training folders (absolute, where
    they can be told), its frame dataset's videos and their fingerprints. A model fine-tuned from it learnt from
    them too, and its card says so (probe 87: a fine-tuned model was scored on the videos its --init model had
    learnt, without a word)."""
    from rehue.evaluation.evaluate import training_folders
    from rehue.models.io import resolve_model_path

    path = resolve_model_path(spec)
    folders = [str(Path(folder).resolve()) for folder in training_folders(path, card)]
    return folders, set(card.training.get("videos", ())), set(card.training.get("video_fingerprints", ()))


def _check_init_model(spec: str, config: TrainConfig):
    """The ``--init`` model (its generator and card), read as `colorize` reads one, and one this run can start
    from: before the data is read (probe 142: a typo, or a model of another width, said after every photo)."""
    from rehue.models.io import load_model

    source, card = load_model(spec)
    if (card.architecture, card.width) != (config.generator, config.width) or card.in_channels > config.in_channels:
        raise UsageError(f"--init model is {card.architecture}/{card.in_channels}ch/width {card.width}, but this run "
                         f"trains {config.generator}/{config.in_channels}ch/width {config.width}"
                         + ("; a dependent model is fine-tuned as one: add --dependent" if card.in_channels == 3
                            and not config.dependent else ""), spec)
    return source, card


def _load_init_weights(generator, spec: str, config: TrainConfig, log, held_out_videos: set[str] = frozenset(),
                       checked=None) -> tuple[dict, object]:
    """Start from a trained generator. From an independent model to a dependent one, the weights that
    read the input grow extra input channels (for the previous a*b*) initialised at zero, so training
    starts from exactly the independent model and learns how much to trust the previous colours.

    Returns the model's card, and the restraint of its config (chroma scale, a*b* smoothing, and an a*b* class model's
    temperature), which the run's model keeps: on a held-out collection the shipped restraint scored 0.8
    dB above the unrestrained output of the model it was fine-tuned into, and the unsmoothed output's
    chroma speckle cost SSIM (docs/model-card.md, "Fine-tuning on your own footage")."""
    import torch

    from rehue.data.datasets import frame_video_fingerprints, is_frame_dir
    from rehue.evaluation.evaluate import warn_of_learnt_video_files, warn_of_trained_videos
    from rehue.models.io import INFERENCE_RANGES

    source, card = checked or _check_init_model(spec, config)  # ``checked``: its (model, card), read already
    what = "its starting score, and this run's validation scores, are not held out"
    warn_of_trained_videos(spec, card, "the --init model", {Path(config.data): set(held_out_videos)}, log, what=what)
    fingerprints = frame_video_fingerprints(Path(config.data)) if is_frame_dir(Path(config.data)) else {}
    warn_of_learnt_video_files(spec, card, "the --init model", [], {Path(config.data): {
        video: fingerprints[video] for video in held_out_videos if video in fingerprints}}, log, what=what)
    target = generator.state_dict()
    grown = 0
    with torch.no_grad():
        for key, value in source.state_dict().items():
            if value.shape == target[key].shape:
                target[key].copy_(value)
            else:
                target[key].zero_()
                target[key][:, : value.shape[1]].copy_(value)
                grown += 1
    generator.load_state_dict(target)
    if grown:
        log(f"initialised from {spec}; {counted(grown, 'input layer')} grown to {config.in_channels} channels")
    restraint = {k: v for k, v in (card.inference or {}).items() if k in INFERENCE_RANGES}
    scaled = _restraint_at_size(restraint, card.size, config.size)
    if restraint:
        scale = "; `rehue colorize --chroma` sets another scale" if "chroma" in restraint else ""  # probe 124: said
        at = f"; {' and '.join(scaled)} in pixels of {card.size}x{card.size}, scaled to {config.size}x{config.size}" \
            if scaled else ""
        log(f"the trained model keeps {spec}'s restraint ({', '.join(f'{k} {v}' for k, v in restraint.items())}"
            f"{scale}{at})")  # of a drift check alone too
    if config.in_channels == 3 and not any(key.startswith("drift_") for key in restraint):
        # a dependent model grown from an independent one: the shipped dependent model's drift check, which
        # eases its colour back where it fades over a long scene (docs/model-card.md, "The dependent model")
        from rehue.models.io import default_model_name, read_card, resolve_model_path

        shipped = read_card(resolve_model_path(default_model_name("dependent"))).inference or {}
        drift = {k: v for k, v in shipped.items() if k.startswith("drift_") and k in INFERENCE_RANGES}
        if drift:
            restraint.update(drift)
            log(f"the trained model takes the shipped dependent model's drift check "
                f"({', '.join(f'{k} {v}' for k, v in drift.items())})")
    return restraint, card


SIZED_RESTRAINT = ("ab_smoothing", "ab_guide_radius")  # in pixels of the model's working size


def _restraint_at_size(restraint: dict, size: int, new_size: int) -> list[str]:
    """``restraint``'s settings in pixels (``SIZED_RESTRAINT``) of a model working at ``size``, scaled in place
    to ``new_size`` (within their ranges; a guided filter's radius stays at least 1 where it was on), as a run
    fine-tuning the model at another size keeps them (probe 142: radius 12 of 128 pixels at 32 smoothed most
    of the picture into one colour). Returns the names of those scaled."""
    from rehue.models.io import INFERENCE_RANGES

    scaled = []
    for key in SIZED_RESTRAINT:
        if size == new_size or not restraint.get(key):
            continue
        low, high = INFERENCE_RANGES[key]
        value = min(max(restraint[key] * new_size / size, low), high)
        restraint[key] = max(1, round(value)) if key == "ab_guide_radius" else round(value, 3)
        scaled.append(key)
    return scaled


class WeightAverage:
    """An exponential moving average of a model's weights and buffers (as in timm's ModelEmaV2).

    A GAN's generator jumps around from step to step; its average over the last few thousand steps
    colours more steadily than any single snapshot, so it is what a run validates and exports. The
    decay ramps up from 0 (``(1 + n) / (10 + n)``) so the early average is not stuck at the start.
    """

    def __init__(self, model, decay: float):
        import copy

        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    def update(self, model) -> None:
        import torch

        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        averages = self.model.state_dict()  # built once per step, not once per tensor
        with torch.no_grad():
            for name, value in model.state_dict().items():
                average = averages[name]
                if average.dtype.is_floating_point:
                    average.lerp_(value.detach(), 1.0 - decay)
                else:
                    average.copy_(value)

    def state_dict(self) -> dict:
        return {"updates": self.updates, "model": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.updates = int(state["updates"])
        self.model.load_state_dict(state["model"])


def held_out_fingerprint(val_set, data) -> str | None:
    """A digest of which photos validation holds out, by their paths inside the data folder (None where the
    set does not name them); a checkpoint keeps it, so a resumed run can tell when the split moved."""
    import hashlib

    paths = getattr(val_set, "paths", None)
    if not paths and getattr(val_set, "sources", None):  # a frame dataset's: the videos it holds out
        return hashlib.sha256("\0".join(sorted(set(val_set.sources))).encode("utf-8", "surrogateescape")).hexdigest()
    if not paths:
        return None
    root = real_path(data)
    names = sorted(os.fsencode(os.path.relpath(real_path(path), root)) for path in paths)
    return hashlib.sha256(b"\0".join(names)).hexdigest()


def _init_sha256(init: str | None) -> str | None:
    """The SHA-256 of the ``--init`` model's file (None for a shipped model's name), which a checkpoint
    keeps: the feeding model of a resumed run must be the one it started with."""
    from rehue.models.io import file_sha256, resolve_model_path

    # a run folder by its model's file (probe 142: None, so a changed feeding model went on unseen)
    return file_sha256(resolve_model_path(init)) if init and init_on_disk(init) else None


def _check_feeding_model(init: str, given: str) -> None:
    """``independent_feed``'s model, ``init``, is an independent one: as its card says, before anything is read."""
    from rehue.models.io import read_card, resolve_model_path

    if read_card(resolve_model_path(init)).in_channels != 1:
        named = f"{given} names the shipped dependent model {init} here" if given == "default" else \
            f"{init} is a dependent model"
        raise UsageError(f"independent_feed feeds the a*b* of init, which must be an independent model (1 input "
                         f"channel): {named}", settings=("independent_feed", "init"))


def _feeding_model(config: TrainConfig, device: str):
    """The frozen independent model (``--init``) whose predictions ``independent_feed`` hands the
    dependent model as the previous a*b*."""
    from rehue.models.io import load_model

    model, card = load_model(config.init, device=device)
    if card.in_channels != 1:
        raise RehueError("independent_feed needs --init to be an independent model (1 input channel)", config.init)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


def _previous_as_in_a_video(inputs, lightness, prev_lightness, g_model, independent, config: TrainConfig,
                            use_amp: bool):
    """Replace a batch's previous a*b* (degraded truth) with what a video will feed the dependent model.

    In a video the first dependent frame gets the independent model's colours and every later one the
    dependent model's own. Trained on degraded truth alone, the model learns to trust and strengthen
    what it is given, and then amplifies the independent model's mistakes scene after scene. With
    probability ``independent_feed`` the previous a*b* is the independent model's output for the
    previous frame, with ``self_feed`` the dependent model's own output for it (given that frame's
    degraded truth), so it learns to correct both, across the camera move between the frames. With
    ``self_feed_steps`` above 1 the own output is fed back up to that many times (a still shot that many
    frames long): a model that adds a little colour at each step drifts over a scene, and only a
    rollout shows it that.
    """
    import torch

    if config.independent_feed + config.self_feed <= 0:
        return inputs
    draw = torch.rand(()).item()
    from_independent = independent is not None and draw < config.independent_feed
    if not from_independent and draw >= config.independent_feed + config.self_feed:
        return inputs
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
        if from_independent:
            previous = independent(prev_lightness).float()
        else:
            steps = int(torch.randint(1, config.self_feed_steps + 1, ()).item()) if config.self_feed_steps > 1 else 1
            previous = inputs[:, 1:]
            for _ in range(steps):
                previous = g_model(torch.cat([prev_lightness, previous], dim=1)).float()
    return torch.cat([lightness, previous], dim=1)


class DiscriminatorActivations:
    """Runs the discriminator and, with ``keep``, holds the outputs of its activation layers (ReLU and
    LeakyReLU) from that run (``outputs``): what feature matching compares between the generator's output
    and the truth."""

    def __init__(self, discriminator, *, keep: bool):
        from torch import nn

        self.outputs: list = []
        self._recording = False
        if keep:
            for module in discriminator.modules():
                if isinstance(module, (nn.ReLU, nn.LeakyReLU)):
                    module.register_forward_hook(self._record)

    def _record(self, module, inputs, output):
        if self._recording:
            self.outputs.append(output)

    def run(self, d_model, images):
        self.outputs, self._recording = [], True
        try:
            return d_model(images)
        finally:
            self._recording = False


# what a run writes in its folder; --overwrite removes these (and nothing else a user put there)
RUN_ARTEFACTS = ("checkpoints", "samples", "tensorboard", "metrics.jsonl", "metrics.csv", "model.safetensors",
                 "model.json", "config.json", "init_metrics.json")
# what a run writes before its first checkpoint, and nothing a person would keep (a TensorBoard log, begun as
# the run starts where TensorBoard is installed, may hold a pruned run's curves: --overwrite takes it away)
KILLED_AT_ITS_START = {"config.json", "init_metrics.json"}
# what a resumed run may change: where the photos are now, more epochs, and the machine it runs on
RESUME_MAY_CHANGE = ("out", "data", "epochs", "device", "workers", "amp")


def init_on_disk(init: str, folder: Path = Path()) -> bool:
    """Whether ``--init``, read from ``folder``, names a model file or a run folder (probe 99: a folder was kept
    as typed, so a resume from another folder found no model), not a shipped model's name."""
    from rehue.models.io import shipped_models

    # "default" names the shipped model, as for `colorize --model` (probe 108: a ./default folder took it)
    return bool(init) and init not in (*shipped_models(), "default") and (folder / Path(init).expanduser()).exists()


def shipped_init(init: str | None, dependent: bool) -> str | None:
    """``--init default``: the shipped model ``colorize`` takes by default for that role, by its name (probe 107:
    "no such model file", where `colorize` and `evaluate --against` take "default")."""
    if init != "default":
        return init
    from rehue.models.io import default_model_name

    name = default_model_name("dependent" if dependent else "independent")
    if name is None:
        raise RehueError("--init default: no shipped model of this kind is installed; name a model file")
    return name


def _same_model_file(one: str, other: str) -> bool:
    """Whether two ``--init`` paths name one model file: a run folder and the model.safetensors in it."""
    from rehue.models.io import resolve_model_path

    if not (init_on_disk(one) and init_on_disk(other)):
        return False
    try:
        return real_path(resolve_model_path(one)) == real_path(resolve_model_path(other))
    except RehueError:
        return False


def _setting_in_words(name: str, value, runs) -> str:
    """A setting a resume would change, by its CLI option (probe 99: "in_channels 3 (the run's 1)")."""
    if name == "in_channels":
        return "--dependent (the run is independent)" if value == 3 else "no --dependent (the run is dependent)"
    if name == "val_fraction":  # the library's alone
        return f"val_fraction {value!r} (the run's {runs!r})"
    if name == "init" and not runs:  # probe 192: "(the run's '')"
        return f"--init {value} (the run started from scratch, with no --init)"
    shown = [repr(v) if v == "" else str(v) for v in (value, runs)]
    return f"--{name.replace('_', '-')} {shown[0]} (the run's {shown[1]})"


def _resumed_config(given: TrainConfig, saved: TrainConfig, out: Path, data_path: str | None = None,
                    log=None, typed: frozenset[str] | None = None) -> TrainConfig:
    """The checkpoint's settings, with ``RESUME_MAY_CHANGE`` taken from ``given``. Any other difference is
    an error: a run resumed with another learning rate or size would silently be neither run. Where
    ``given`` names no data, the run's own: ``data_path``, the absolute path the checkpoint keeps (a
    relative one would be read from wherever the resume is typed).

    A run started by an older rehue keeps ``data`` and ``init`` as they were typed, relative to the
    folder it was started from: they are read from that folder (``started_in_folder``), not from wherever the
    resume is typed.

    ``typed``: the settings typed on the command line, where the CLI knows them; any other is the run's own,
    whatever the run's config.json says (missing, unreadable, or edited)."""
    if typed is not None:
        given = replace(given, **{f.name: getattr(saved, f.name) for f in fields(TrainConfig)
                                  if f.name not in typed and f.name not in RESUME_MAY_CHANGE
                                  and f.name not in ("data", "out", "init")})
    started_in = started_in_folder(saved.out, out)
    if saved.init and not Path(saved.init).is_absolute():
        read_from = started_in or Path.cwd()
        own = real_path(read_from / saved.init)
        if init_on_disk(saved.init, read_from):  # a shipped model's name stays one (probe 100)
            if given.init == saved.init or (given.init and real_path(given.init) == own):
                given = replace(given, init=str(own))
            saved = replace(saved, init=str(own))
    if given.init != saved.init and _same_model_file(given.init, saved.init):  # a run folder and its model file
        given = replace(given, init=saved.init)  # (probe 100: refused as another --init)
    changed = [(f.name, getattr(given, f.name), getattr(saved, f.name)) for f in fields(TrainConfig)
               if f.name not in RESUME_MAY_CHANGE and getattr(given, f.name) != getattr(saved, f.name)]
    if changed:
        words = ", ".join(_setting_in_words(name, new, old) for name, new, old in changed)
        raise UsageError(f"a resumed run keeps its own settings, and these differ: {words}; leave them out to "
                         "resume, or start a new run in another folder", out)
    data = given.data or data_path
    if not data and saved.data and not Path(saved.data).is_absolute():  # an older rehue's checkpoint
        if started_in is not None and (started_in / saved.data).exists():
            data = str(started_in / saved.data)
        elif log is not None:
            log(f"warning: the run names its data as {saved.data!r}, relative to the folder it was started "
                f"from, which its checkpoint (written by an older rehue) does not say: read from here, "
                f"{real_path(saved.data)}; pass DATA to name it")
    # where the run is now (probe 142: a moved run's config.json kept the folder it was started in)
    return replace(saved, data=data or saved.data, out=given.out or saved.out, epochs=given.epochs,
                   device=given.device, workers=given.workers, amp=given.amp)


def train(config: TrainConfig, *, resume: bool = False, overwrite: bool = False, progress: bool = True,
          log=None, typed: frozenset[str] | None = None) -> TrainResult:
    """Train (or resume, or replace) the run in ``config.out``. One process at a time writes a run folder: a
    second ``train`` into it while the first runs is refused (``_RunLock``). ``typed``, with ``resume``: the
    settings the user typed (the CLI's); the others are the run's own, as its checkpoint says.

    Under torchrun, the process group this starts is ended before it returns: left to the process's exit,
    gloo's threads could end it with "terminate called without an active exception" (SIGABRT) after the
    run had finished. A group the caller started is the caller's to end."""
    check_flags(resume=resume, overwrite=overwrite, progress=progress)
    import torch.distributed as dist

    starts_group = launch_world_size() > 1 and not dist.is_initialized()
    if isinstance(config, TrainConfig) and str(config.out):  # "runs/new/..": the folder it will be (probe 96)
        config = replace(config, out=str(as_it_will_be(config.out)))
    callers_random = _random_states()  # put back once trained: a notebook's draws go on as they would have
    try:
        # the first process's checks before a launch's wait for the others (probe 146: said only after it)
        # (RANK alone, which a shell or a pod may export, is no launch: probe 148, the checks were skipped)
        if isinstance(config, TrainConfig) and (launch_world_size() <= 1 or os.environ.get("RANK", "0") == "0"):
            if not str(config.out):  # "" is "." (probe 66: the run was written into the working folder)
                raise UsageError("no run folder: out names the folder the run is written to")
            config.check()  # a run folder inside the photos is said as such, before it is called a folder of others
            _check_run_folder(Path(config.out), resume)
        if not isinstance(config, TrainConfig) or _distributed(lines_to(log, progress))[0] != 0:
            return _train(config, resume=resume, overwrite=overwrite, progress=progress, log=log, typed=typed)
        with _RunLock(Path(config.out)) as lock:
            return _train(config, resume=resume, overwrite=overwrite, progress=progress, log=log, typed=typed,
                          killed=lock.killed)
    finally:
        _random_states(callers_random)
        if starts_group and dist.is_initialized():
            dist.destroy_process_group()


def _random_states(states: tuple | None = None) -> tuple:
    """The process's random generators' states (Python's, NumPy's, PyTorch's and each GPU's), or, given ``states``,
    those put back: a run seeds them all with its own seed (``_seed_everything``), and left so a caller's next draws
    were the seed's (probe 155), where loading a model keeps them."""
    import random

    import torch

    if states is None:
        return (random.getstate(), np.random.get_state(), torch.get_rng_state(),
                torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None)
    python, numpy, cpu, gpus = states
    random.setstate(python)
    np.random.set_state(numpy)
    torch.set_rng_state(cpu)
    if gpus is not None:
        torch.cuda.set_rng_state_all(gpus)
    return states


def is_run(out: Path) -> bool:
    """Whether ``out`` holds a training run: its config.json or model.json as rehue writes them, or its
    checkpoints. A user's own folder named ``samples`` or ``checkpoints`` is not one (probe 46: taken for a
    run, which --overwrite then replaced, the user's files with it)."""
    from rehue.training.checkpoint import list_checkpoints

    def written_by_rehue(name: str, keys: set[str]) -> bool:
        try:
            found = json.loads((out / name).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return False
        return isinstance(found, dict) and keys <= found.keys()

    return (written_by_rehue("config.json", {"generator", "discriminator", "epochs", "batch_size"})
            or written_by_rehue("model.json", {"architecture", "in_channels", "size"})
            or bool(list_checkpoints(out / "checkpoints")))


def _check_run_folder(out: Path, resume: bool) -> None:
    """A resumed run's folder is there; a new run's is new, empty, or an earlier run's (which ``_train``
    refuses or replaces): never a folder of other files, among which its checkpoints, samples and model would
    go (probe 37: a copy of the training photos, whose next training then took the sample grids for photos)."""
    if resume and path_exists(out) and not out.is_dir():  # probe 142: "no such run folder" of a file
        raise RehueError("nothing to resume: a file, not a run folder", out)
    if resume and not out.is_dir():  # a link to nothing says where it leads (probe 145: "a file")
        raise RehueError(f"nothing to resume: {missing_reason(out, 'no such run folder')}", out)
    if not resume and path_exists(out) and not out.is_dir():  # as the folder's making says it, before a launch's wait
        raise RehueError("is a file, not a folder", out)
    if resume and not is_run(out) and not any(out.glob(f"{_ReplacedRun.PREFIX}*")):  # probe 142: "photos/
        # checkpoints: ... no checkpoint in this folder"; a run a killed --overwrite kept aside is put back
        raise RehueError("nothing to resume: not a training run's folder (it holds none of a run's checkpoints, "
                         "config or model)", out)
    if not resume and out.is_dir() and not is_run(out) and not any(out.glob(f"{_ReplacedRun.PREFIX}*")):  # a run
        # half put back is put back first (probe 195: its own files were "other files", for good)
        refuse_a_folder_of_others(out, "training run", "the run")


def _train(config: TrainConfig, *, resume: bool, overwrite: bool, progress: bool, log,
           typed: frozenset[str] | None = None, killed: bool = False) -> TrainResult:
    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.utils.data import DataLoader, DistributedSampler, Subset

    Loader = _loader_class()

    from rehue.bench import usable_cores
    from rehue.data.datasets import build_datasets, frame_split_videos, is_frame_dir, spread_indices, used_whole
    from rehue.data.frames import FINGERPRINT_FIELD
    from rehue.evaluation.report import sample_grid
    from rehue.models.io import atomic_write_bytes
    from rehue.models.registry import create_model
    from rehue.training.checkpoint import list_checkpoints, load_latest, save_checkpoint

    if not isinstance(config, TrainConfig):
        raise UsageError(f"train takes a TrainConfig, not {type(config).__name__}: "
                         "train(TrainConfig(data=\"photos/\", out=\"runs/a\"))")
    if not config.data and not resume:
        raise UsageError("no training data: TrainConfig(data=...) names a photo folder, a CIFAR-10 folder or a "
                         "frame dataset (only a resumed run can leave it out)")
    config.check()
    given_init = config.init
    config = replace(config, init=shipped_init(config.init, config.in_channels == 3))
    if config.independent_feed > 0:  # before the data is read (probe 129: exit 1 after it, in the library's words)
        _check_feeding_model(config.init, given_init)
    init_model = None  # the --init model, read once, before the data (its weights loaded after it)
    if config.init and not resume:
        init_model = _check_init_model(config.init, config)
    if init_on_disk(config.init):  # by its absolute path, so a run resumes from any folder
        config = replace(config, init=str(Path(config.init).expanduser().resolve()))
        if overwrite and not resume and Path(config.init).is_relative_to(Path(config.out).resolve()):
            raise UsageError(f"--init names a model inside {config.out}, the run that --overwrite replaces; copy it "
                             "out of the folder first, or train into another --out")
    log = lines_to(log, progress)
    rank, world = _distributed()
    is_main = rank == 0
    if not is_main:
        log = lambda msg: None  # noqa: E731
    out = Path(config.out)
    ckpt_dir = out / "checkpoints"

    state, replaced = None, None
    if is_main:
        _recover_replaced_run(out, log)
    if resume:
        loaded = load_latest(ckpt_dir, log)
        if loaded is None:
            held = any((out / name).exists() for name in RUN_ARTEFACTS)
            raise RehueError("nothing to resume: no checkpoint in this folder (a run stopped before its first "
                             "checkpoint was saved keeps none); start it again" + (" with --overwrite" if held else ""),
                             ckpt_dir)
        state, path = loaded
        started_with = TrainConfig.from_dict(TrainConfig.as_it_acted(state["config"]))
        config = _resumed_config(config, started_with, out, state.get("data_path"), log, typed)
        if config.workers != started_with.workers:
            log(f"note: --workers {config.workers}, where the run went on with {started_with.workers}: each loader "
                "process draws its own crops, so from here the run is another run of the same recipe, not the "
                "bits an uninterrupted run would give")
        if config.epochs < state["epoch"]:
            raise UsageError(f"the run has trained {state['epoch']} epochs already, more than --epochs "
                             f"{config.epochs}; a resumed run can only go on", out)
        finished = _finished_run(state, config, out, log)
        if finished is not None:
            return finished
        log(f"resuming from {path} (epoch {state['epoch']} of {config.epochs})")
    elif is_main and is_run(out) and (held := [name for name in RUN_ARTEFACTS if (out / name).exists()]):
        if not overwrite and killed and set(held) <= KILLED_AT_ITS_START:
            # what a run killed before its first epoch ended leaves beside its lock: nothing trained, started again
            # as after Ctrl-C (probe 107: the same command was refused); a run that ended leaves no lock
            _remove_run_files(out)
            log(f"note: {out}: a run killed before its first epoch ended left only {' and '.join(held)}; starting "
                "again")
        elif not overwrite:  # a run whose checkpoints were deleted to save space still holds its model
            resumable = "--resume to continue it or " if list_checkpoints(ckpt_dir) else ""
            raise RehueError(f"already holds a training run ({', '.join(held[:3])}); pass {resumable}--overwrite "
                             "to replace it", out)
        else:
            _refuse_users_files_in_run(out)
            replaced = _ReplacedRun(out)  # kept aside until the new run has a checkpoint
    bar = None
    try:
        if world > 1:
            dist.barrier()

        _seed_everything(config.seed + rank)
        device = _device(config, rank)
        use_amp = config.amp and device.startswith("cuda")

        shares = {"stamp_share": config.stamp_share, "studio_share": config.studio_share}
        if resume and any(shares.values()) and used_whole(Path(config.data)):  # a run begun before they were
            # refused
            log(f"note: {', '.join(name for name, share in shares.items() if share)} of this run's config paste "
                "cut-outs, which its data has none of: passed over, as when it began")
            shares = dict.fromkeys(shares, 0.0)
        train_set, val_set = build_datasets(config.data, config.size, dependent=config.dependent,
                                            val_fraction=config.val_fraction, seed=config.seed, **shares,
                                            colour_jitter=config.colour_jitter,
                                            crop_min=config.crop_min, log=log, progress=progress and is_main)
        held_out = held_out_fingerprint(val_set, config.data)
        data_path = str(Path(config.data).resolve())  # what the checkpoint keeps, to resume and to compare
        videos = frame_split_videos(Path(config.data)) if is_frame_dir(Path(config.data)) else None
        trained_videos = set(state.get("trained_videos", ())) if state is not None else set()
        trained_fingerprints = set(state.get("trained_video_fingerprints", ())) if state is not None else set()
        # once the split has moved, the model may have learnt from photos validation now holds out: its card
        # says so, for grid-search to refuse to rank it by them (probe 77)
        moved_now = state is not None and state.get("held_out") not in (None, held_out)
        split_moved = moved_now or bool(state is not None and state.get("split_moved"))
        if moved_now:
            elsewhere = state.get("data_path") not in (None, data_path)
            if videos is not None:  # probe 46: the dataset built again with another split, silently
                again = sorted(trained_videos & videos["test"])
                log("warning: the frames held out for validation are not the ones this run started with: "
                    + (f"the run goes on with another frame dataset ({config.data}; it trained on "
                       f"{state['data_path']} before)" if elsewhere else  # probe 84: called a rebuild
                       "the frame dataset was built again with another split")
                    + (f", and the run has trained on {', '.join(again[:3])}, which it now holds out" if again else "")
                    + ". Validation scores from here are not comparable with the earlier epochs'"
                    + (", and are not held out" if again else ""))
            elif elsewhere:  # probe 73: "gained or lost photos"
                log(f"warning: the run goes on with another data folder ({config.data}; it trained on "
                    f"{state['data_path']} before), so the photos held out for validation are drawn again. Validation "
                    "scores from here are not comparable with the earlier epochs', and may include photos the run "
                    "has trained on")
            else:
                log("warning: the photos held out for validation are not the ones this run started with: the data "
                    "folder gained or lost photos, or the run was started by an older rehue, which drew them among "
                    "gray photos too, and the split was drawn again. Validation scores from here are not "
                    "comparable with the earlier epochs', and may include photos the run has trained on")
        if videos is not None:  # the card names them, so that evaluate can tell a video the model learnt from
            trained_videos |= videos["train"]
            trained_fingerprints |= frame_split_videos(Path(config.data), FINGERPRINT_FIELD)["train"]
        # a run resumed on another folder learnt from the earlier one's photos too: the card names them all, so
        # that evaluate can tell them (probe 72: evaluate said nothing of the first folder's photos)
        earlier_data = list(state.get("earlier_data", ())) if state is not None else []
        if state is not None and state.get("data_path") not in (None, *earlier_data):
            earlier_data.append(state["data_path"])
        earlier_data = [folder for folder in earlier_data if folder != data_path]
        generator = create_model(config.generator, in_channels=config.in_channels, size=config.size,
                                 width=config.width, role="generator").to(device)
        discriminator = create_model(config.discriminator, in_channels=3, size=config.size,
                                     width=config.disc_width or None, role="discriminator").to(device)
        check_training_memory(config, device, world)
        opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=(config.beta1_g, 0.999))
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=(config.beta1_d, 0.999))
        start_epoch, step, history, restraint = 0, 0, [], {}
        if state is not None:
            try:
                generator.load_state_dict(state["generator"])
                discriminator.load_state_dict(state["discriminator"])
                opt_g.load_state_dict(state["opt_g"])
                opt_d.load_state_dict(state["opt_d"])
            except (RuntimeError, ValueError, KeyError, TypeError) as exc:  # probe 142: a traceback
                raise RehueError(f"its weights do not fit the {config.generator} (width {config.width}) and "
                                 f"{config.discriminator} its settings build ({first_line(exc)})", path) from None
            start_epoch, step, history = state["epoch"], state["step"], list(state["history"])
            restraint = dict(state.get("restraint", {}))
        elif config.init:
            restraint, init_card = _load_init_weights(generator, config.init, config, log,
                                                      videos["test"] if videos is not None else frozenset(),
                                                      init_model)
            folders, names, fingerprints = _learnt_by(config.init, init_card)
            if is_main and getattr(val_set, "paths", None) and init_card.training.get("held_out") != held_out:
                # probe 129: photos it learnt from, validated on (a run on the same split held out the same photos)
                from rehue.evaluation.evaluate import warn_of_training_photos
                from rehue.models.io import shipped_models

                warn_of_training_photos(config.init, init_card, "the --init model", val_set.paths, log,
                                        config.init in shipped_models())
            earlier_data += [folder for folder in folders if folder not in (data_path, *earlier_data)]
            trained_videos |= names
            trained_fingerprints |= fingerprints
        learnt = _learnt_record(trained_videos, trained_fingerprints, earlier_data, held_out, split_moved)
        feeding_sha256 = None
        if config.independent_feed > 0:
            feeding_sha256 = _init_sha256(config.init)
            if state is not None and state.get("init_sha256") not in (None, feeding_sha256):
                raise RehueError("has changed since the run started (another SHA-256), and it feeds the dependent "
                                 "model: resumed, the run would follow another model; put the run's own back, or "
                                 "start a new run", config.init)
        independent = _feeding_model(config, device) if config.independent_feed > 0 else None
        if state is not None:  # after making the feeding model, whose layers draw from the RNG as they are built
            torch.set_rng_state(state["torch_rng"][rank % len(state["torch_rng"])])
        average = WeightAverage(generator, config.ema) if config.ema > 0 else None
        if average is not None and state is not None and "ema_generator" in state:
            average.load_state_dict(state["ema_generator"])
        exported = average.model if average is not None else generator  # what is validated and saved

        g_model, d_model = generator, discriminator
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [int(device.split(":")[1])] if device.startswith("cuda") else None
            g_model, d_model = DDP(generator, device_ids=ids), DDP(discriminator, device_ids=ids)
        if hasattr(train_set, "epoch_length"):
            # a pass over a few dozen photos must still fill a full batch on every process
            train_set.epoch_length = max(train_set.epoch_length, config.batch_size * world)
        sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, seed=config.seed) if world > 1 else None
        cores = usable_cores()
        if is_main and config.workers > cores:  # in place of PyTorch's two-line warning, each epoch (probe 213)
            log(f"note: --workers {config.workers}, more than the {counted(cores, 'CPU core')} this run may use: the "
                "workers take turns on them, which may slow loading rather than speed it")
        loader = Loader(train_set, batch_size=config.batch_size, shuffle=sampler is None, sampler=sampler,
                        num_workers=config.workers, drop_last=len(train_set) >= config.batch_size * world,
                        worker_init_fn=_worker_init if config.workers else None,
                        persistent_workers=False, pin_memory=device.startswith("cuda"))
        val_loader = DataLoader(Subset(val_set, spread_indices(len(val_set), config.val_images)),
                                batch_size=min(64, config.batch_size), shuffle=False)
        if is_main:
            _check_validation_has_colour(val_loader, config.data)
        bce = nn.BCEWithLogitsLoss()
        l1 = nn.L1Loss()
        classes = getattr(generator, "predicts_classes", False)  # cross-entropy to the truth's a*b* bins, not L1
        adversarial = config.adversarial_weight > 0  # else the discriminator is neither run nor trained
        activations = DiscriminatorActivations(discriminator, keep=config.feature_matching > 0)
        writer = _tensorboard(out) if is_main else None
        if is_main:
            make_folder(out)
            atomic_write_bytes(out / "config.json", (json.dumps(config.to_dict(), indent=2) + "\n").encode())

        if is_main and state is None and config.init:
            _start_validation(exported, val_loader, device, config, out, log)
        if is_main and state is not None and history and start_epoch >= config.epochs:
            # heal a run killed while finishing
            _export(exported, config, history, out, restraint, learnt)
            _write_metrics(out, history, writer)
        steps_per_epoch = config.steps_per_epoch or len(loader)
        run_started, steps_run = time.perf_counter(), 0  # for the whole run's time left, validation included
        for epoch in range(start_epoch, config.epochs):
            started = time.perf_counter()
            if sampler is not None:
                sampler.set_epoch(epoch)
            _reseed_dataset(train_set, config.seed, epoch, rank)
            train_set._seed_parts = (config.seed, epoch, rank)
            totals = {"loss_d": 0.0, "loss_g_adv": 0.0, "loss_g_l1": 0.0, **({"loss_g_ce": 0.0} if classes else {}),
                      **({"loss_g_fm": 0.0} if config.feature_matching else {})}
            bar = _progress(steps_per_epoch, f"epoch {epoch + 1}/{config.epochs}", progress and is_main)
            done = 0
            while done < steps_per_epoch:
                for batch in loader:
                    inputs, lightness = generator_input(batch, device)
                    real_ab = batch["ab"].to(device, non_blocking=True)
                    if config.dependent:
                        prev_lightness = batch["prev_lightness"].to(device, non_blocking=True)
                        inputs = _previous_as_in_a_video(inputs, lightness, prev_lightness, g_model, independent,
                                                         config, use_amp)
                    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                        fake_ab, logits = g_model(inputs, with_logits=True) if classes else (g_model(inputs), None)
                    if adversarial:
                        # update D: real LAB images -> 1, generated -> 0 (thesis fig. 4.6)
                        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                            real_logits = d_model(torch.cat([lightness, real_ab], 1))
                            fake_logits = d_model(torch.cat([lightness, fake_ab.detach()], 1))
                            loss_d = 0.5 * (bce(real_logits, torch.ones_like(real_logits))
                                            + bce(fake_logits, torch.zeros_like(fake_logits)))
                        opt_d.zero_grad(set_to_none=True)
                        loss_d.backward()
                        _optimiser_step(opt_d, step + 1, config.out)
                    # update G: fool D (non-saturating form of fig. 4.7) and stay near the truth in L1
                    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                        if adversarial:
                            fooled_logits = activations.run(d_model, torch.cat([lightness, fake_ab], 1))
                            loss_g_adv = bce(fooled_logits, torch.ones_like(fooled_logits))
                            if config.feature_matching:
                                fake_features = activations.outputs
                                with torch.no_grad():
                                    activations.run(d_model, torch.cat([lightness, real_ab], 1))
                                pairs = zip(fake_features, activations.outputs, strict=True)
                                loss_g_fm = sum(l1(fake.float(), real.float()) for fake, real in pairs)
                                loss_g_fm = loss_g_fm / len(fake_features)
                        else:
                            loss_d = loss_g_adv = torch.zeros((), device=device)
                        loss_g_l1 = l1(fake_ab.float(), real_ab)
                        if classes:
                            targets = class_targets(real_ab)
                            loss_g_ce = class_loss(logits, targets)
                            generator.count_colours(targets, step + 1)
                            loss_g = config.adversarial_weight * loss_g_adv + config.ce_weight * loss_g_ce
                        else:
                            loss_g = config.adversarial_weight * loss_g_adv + config.l1_weight * loss_g_l1
                        if config.feature_matching:
                            loss_g = loss_g + config.feature_matching * loss_g_fm
                    opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                    _optimiser_step(opt_g, step + 1, config.out)
                    if average is not None:
                        average.update(generator)
                    step += 1
                    done += 1
                    for name, value in (("loss_d", loss_d), ("loss_g_adv", loss_g_adv), ("loss_g_l1", loss_g_l1),
                                        *((("loss_g_ce", loss_g_ce),) if classes else ()),
                                        *((("loss_g_fm", loss_g_fm),) if config.feature_matching else ())):
                        totals[name] += value.item()
                    if not math.isfinite(sum(totals.values())):  # of them all (probe 197: a NaN G adv went on)
                        raise Diverged(step, config.out)
                    steps_run += 1
                    steps_left = (config.epochs - epoch) * steps_per_epoch - done
                    epoch_rate = None if bar is None or getattr(bar, "disable", True) else \
                        getattr(bar, "format_dict", {}).get("rate")
                    run_left = _time_left(time.perf_counter() - run_started, steps_run, steps_left,
                                          steps_per_epoch - done, epoch_rate)
                    # the run's time left first (an 80-column terminal cut it off after the losses: probe 89), in
                    # a dict: tqdm sorts keyword arguments; drawn by the update, as often
                    bar.set_postfix({"run_left": _interval(run_left), "d": f"{loss_d.item():.3f}",
                                     "g_l1": f"{loss_g_l1.item():.3f}"}, refresh=False)
                    bar.update(1)
                    if done >= steps_per_epoch:
                        break
            bar.close()
            if world > 1:
                for module in (generator, discriminator):
                    for buffer in module.buffers():
                        dist.broadcast(buffer, 0)
            if world > 1:  # every rank's losses, not rank 0's alone (probe 122)
                summed = torch.tensor(list(totals.values()), dtype=torch.float64, device=device)
                dist.all_reduce(summed)
                totals = dict(zip(totals, (summed / world).tolist(), strict=True))
            seconds = time.perf_counter() - started
            # counted on from the last epoch's: a run resumed with another number of processes (probe 122: it
            # went from 72 to 48) adds its own batches
            before = history[-1].get("images_seen", history[-1].get("step", 0) * config.batch_size) if history else 0
            seen = before + done * config.batch_size * world
            record = {"epoch": epoch + 1, "step": step, "images_seen": seen,
                      "seconds": round(seconds, 3), **{k: v / max(done, 1) for k, v in totals.items()}}
            # weights a last step sent past float32 (its losses, taken before it, finite), not checkpointed or
            # exported as a trained model (probe 203: exit 0, a model nothing could load)
            if not all(bool(torch.isfinite(weight).all()) for module in (generator, discriminator)
                       for weight in module.state_dict().values() if weight.is_floating_point()):
                raise Diverged(step, config.out)
            if is_main:
                try:
                    val, rows = validate(exported, val_loader, device, config.val_images)
                except NonFiniteOutput:
                    raise Diverged(step, config.out) from None
                record.update({f"val_{k}": v for k, v in val.items()})
                sample_grid(rows, out / "samples" / f"epoch_{epoch + 1:03d}.png")
                history.append(record)
                # model and metrics first: a kill before the checkpoint lands only repeats this epoch
                _export(exported, config, history, out, restraint, learnt)
                _write_metrics(out, history, writer)
                save_checkpoint({
                    "config": config.to_dict(), "data_path": data_path,
                    "epoch": epoch + 1, "step": step, "history": history,
                    "restraint": restraint, **({"init_sha256": feeding_sha256} if feeding_sha256 else {}),
                    **{CHECKPOINT_KEYS[key]: value for key, value in learnt.items()},
                    "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                    "torch_rng": [torch.get_rng_state()],
                    **({"ema_generator": average.state_dict()} if average is not None else {}),
                }, ckpt_dir, epoch + 1)
                if replaced is not None:
                    replaced.discard()
                    replaced = None
                log(f"epoch {epoch + 1}/{config.epochs}: {seconds:.1f}s  "
                    + (f"D {record['loss_d']:.3f}  G adv {record['loss_g_adv']:.3f}  " if adversarial else "")
                    + f"L1 {record['loss_g_l1']:.4f}  "
                    + (f"CE {record['loss_g_ce']:.3f}  " if classes else "")
                    + (f"FM {record['loss_g_fm']:.3f}  " if config.feature_matching else "")
                    + f"val PSNR {val['psnr']:.2f} dB (gray {val['gray_psnr']:.2f})  "
                    f"SSIM {val['ssim']:.3f} (gray {val['gray_ssim']:.3f})")
            else:
                history.append(record)
            if world > 1:
                dist.barrier()
        if writer is not None:
            writer.close()
        return TrainResult(exported.eval(), history, out, out / "model.safetensors")
    except BaseException as exc:
        if bar is not None:  # before the notes said of the stop (probe 115: the bar's last state came after them)
            bar.close()
        if replaced is not None:  # the new run failed before its first checkpoint: the old one comes back
            replaced.restore()
        elif is_main and not resume and not list_checkpoints(ckpt_dir):
            # nothing to go on from: what it wrote goes, so that the same command starts it again (probe 37: a
            # run's config.json left by Ctrl-C in its first epoch made the next train, and grid-search, refuse)
            _remove_run_files(out)
        if isinstance(exc, MemoryError) or isinstance(exc, Exception) and as_memory_error(exc) is not None:
            # probe 92: "rehue: error: out of memory", of a grid's run, named neither it nor what to lower
            raise RehueError(f"out of memory, training at batch size {config.batch_size:,} on {config.size}x"
                             f"{config.size} crops; a smaller batch size, size or width needs less", out) from None
        raise


RUNS_OWN_FILES = {  # a checkpoint and its checksum, an epoch's sample grid, and their temporary files (probe 175:
    # not a copy named as one, "epoch_0002.pt.bak", "epoch_002.best.png")
    "checkpoints": re.compile(r"epoch_\d{4,}\.pt(\.sha256)?|\.epoch_\d{4,}\.pt(\.sha256)?\.tmp\d+"),
    "samples": re.compile(r"epoch_\d{3,}\.png|\.epoch_\d{3,}\.rehue-tmp\d+\.png")}


def _refuse_users_files_in_run(out: Path) -> None:
    """A RehueError where the run's checkpoints/ or samples/ hold files rehue did not write, which ``--overwrite``
    would take away with the run (probe 174: a sample picked and a checkpoint kept under another name)."""
    from rehue.data.images import is_clutter

    for folder, own_file in RUNS_OWN_FILES.items():
        if not (out / folder).is_dir() or (out / folder).is_symlink():
            continue
        for root, folders, files in os.walk(out / folder):
            folders[:] = [name for name in folders if not is_clutter(name)]
            own = Path(root) == out / folder
            mine = [name for name in sorted(files)
                    if not is_clutter(name) and not (own and own_file.fullmatch(name))]
            if mine:
                found = Path(root, mine[0]).relative_to(out)
                raise RehueError(f"holds files of its own among the run's (such as {found}), which --overwrite would "
                                 "take away with the run it replaces; move them out of the run's folder, or name "
                                 "another --out", out)


class _ReplacedRun:
    """``train --overwrite``: the replaced run's files wait in a hidden folder inside the run folder until the
    new run has saved its first checkpoint (``discard``); should it fail before that (a full disk, Ctrl-C),
    they are put back (``restore``), and after a kill the next ``train`` puts them back
    (`_recover_replaced_run`), so an overwrite never leaves neither run."""

    PREFIX = ".replaced-run.rehue-tmp"

    def __init__(self, out: Path):
        self.out = out
        self.aside = out / f"{self.PREFIX}{os.getpid()}"
        self.aside.mkdir()
        for name in RUN_ARTEFACTS:
            if os.path.lexists(out / name):
                os.replace(out / name, self.aside / name)
        (self.aside / SET_ASIDE).touch()  # from here on the folder may hold the replacing run's files

    def discard(self) -> None:
        shutil.rmtree(self.aside, ignore_errors=True)

    def restore(self) -> None:
        _put_back(self.aside, self.out)


def _remove_run_files(out: Path, names=RUN_ARTEFACTS) -> None:
    for name in names:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        elif os.path.lexists(target):
            target.unlink()


PUTTING_BACK = ".putting-back"  # in a run kept aside: the replacing run's files are gone, and its own go back
SET_ASIDE = ".set-aside"  # in a run kept aside: all of it moved there (before, a kill part way left some in place)


def _put_back(aside: Path, out: Path) -> None:
    """The run kept in ``aside`` back in ``out``, in place of what the replacing run wrote. Marked as it starts, so
    that after a kill part way the next ``train`` goes on moving, and takes the files already back for the
    replacing run's no more (probe 193: they were removed, and the rest with the folder, without a word)."""
    marker = aside / PUTTING_BACK
    if not marker.exists():
        if (aside / SET_ASIDE).exists():  # else killed as it was set aside: the files in the folder are its own
            _remove_run_files(out)  # (probe 194: removed, its model and config lost, as the replacing run's)
        marker.touch()
    for kept in aside.iterdir():
        if kept.name not in (PUTTING_BACK, SET_ASIDE):
            _remove_run_files(out, (kept.name,))  # the replacing run's of that name (probe 195: a folder of an
            os.replace(kept, out / kept.name)  # older rehue's kill, "Directory not empty" for good)
    (aside / SET_ASIDE).unlink(missing_ok=True)
    marker.unlink()
    aside.rmdir()


def _replaced_runs(out: Path) -> tuple[Path | None, list[Path]]:
    """The runs a killed ``train --overwrite`` kept aside in ``out``: the one to put back (None where the new run
    saved a checkpoint, and so had let the old run go), and those to remove."""
    from rehue.training.checkpoint import list_checkpoints

    asides = sorted(out.glob(f"{_ReplacedRun.PREFIX}*")) if out.is_dir() else []
    back = next((aside for aside in asides if (aside / PUTTING_BACK).exists()), None)  # its checkpoints back already
    if back is None and asides and not list_checkpoints(out / "checkpoints"):  # the one holding a run, not one a
        # put back emptied (probe 195: the run removed, said to have been let go)
        back = next((aside for aside in asides if _holds_a_run(aside)), asides[0])
    return back, [aside for aside in asides if aside != back]


def _holds_a_run(aside: Path) -> bool:
    return any(kept.name not in (PUTTING_BACK, SET_ASIDE) for kept in aside.iterdir())


def _recover_replaced_run(out: Path, log) -> None:
    """A run that a killed ``train --overwrite`` kept aside: put back if the new run saved no checkpoint, else
    (killed as it let the old run go) removed. Called under the run's lock: no live run owns it."""
    back, gone = _replaced_runs(out)
    for aside in gone:
        held = _holds_a_run(aside)  # none: emptied by a put back killed as it ended
        shutil.rmtree(aside, ignore_errors=True)
        if held:  # probe 193: removed without a word
            log(f"note: removed the run that a killed `train --overwrite` replaced in {out}, kept aside till the new "
                f"run saved a checkpoint, as it had ({aside.name})" if back is None else
                f"note: removed an older run that a killed `train --overwrite` left aside in {out} ({aside.name})")
    if back is not None:
        held = _holds_a_run(back)
        _put_back(back, out)
        if held:
            log(f"note: put back the run that a killed `train --overwrite` was replacing in {out}")


def resumed_config_path(out: Path) -> Path:
    """The config.json a resume of ``out`` goes on with: the run's that ``_recover_replaced_run`` will put back
    (probe 107: the killed run's --epochs was taken), else the folder's own."""
    back, _ = _replaced_runs(out)
    kept = back / "config.json" if back is not None else None  # not yet set aside where a kill came first (probe 194)
    return kept if kept is not None and os.path.lexists(kept) else out / "config.json"


def run_held_by(out: Path) -> int:
    """The process number of the ``train`` writing the run folder ``out`` now, else 0."""
    return _RunLock(out)._held_by_another() if (out / _RunLock.NAME).exists() else 0


class _RunLock:
    """A run folder written by one ``train`` at a time: a lock file holding the process number, made with
    O_EXCL; a lock whose process is gone (a killed run) is taken over. The folder, and any above it that
    this made (``runs/`` of ``runs/a``), go again when the run wrote nothing in them."""

    NAME = ".rehue-train.lock"
    held: set[Path] = set()  # the locks this process took (and has not let go)

    def __init__(self, out: Path):
        self.out, self.lock, self.made = out, out / self.NAME, []
        self.killed = False  # whether a killed run's lock was found: what else it left may be taken away

    def _held_by_another(self) -> int:
        """The process number of the run holding the lock, or 0 where it is a killed run's: its process gone,
        or its number since given to another process (probe 80: a container's PID 1 after a restart, or this
        very process, was taken for the run for good). The lock names the process and when it started."""
        from rehue.data.images import process_running

        try:
            owner, *started = self.lock.read_text().split()
            owner = int(owner)
        except (OSError, ValueError):
            return 0
        if not 0 < owner < 2**31:  # probe 81: -1 signals every process, and a huge number was a traceback
            return 0
        if not process_running(owner) or (owner == os.getpid() and self.lock not in _RunLock.held):
            return 0
        if started and process_start_ticks(owner) not in (None, started[0]):
            return 0
        return owner if runs_python(owner) else 0  # an empty command line: a process starting (a test saw one)

    def __enter__(self):
        from rehue.data.images import make_folder

        self.made = [folder for folder in (self.out, *self.out.parents) if not folder.exists()]
        make_folder(self.out)
        for _ in range(3):
            try:
                self._take()
            except FileExistsError:
                if owner := self._held_by_another():
                    raise RehueError(f"another rehue train (process {owner}) is writing this run; wait for it, or "
                                     "train into another folder", self.out) from None
                self.lock.unlink(missing_ok=True)  # a killed run's
                self.killed = True
                continue
            except OSError as exc:
                raise RehueError(f"cannot write in this folder ({exc.strerror or exc})", self.out) from None
            _RunLock.held.add(self.lock)
            return self
        raise RehueError("cannot lock this run folder: another run keeps taking it", self.out)

    def _take(self) -> None:
        """Make the lock, naming this process and its start whole from its first moment: written beside it and
        linked into place, as link makes no file where one is (probe 82: made empty, then written, it could be
        read in between as a killed run's by a second run, which took it); made with O_EXCL and then written
        where the file system has no hard links (FAT, some network shares). FileExistsError where it is held."""
        mine = f"{os.getpid()} {process_start_ticks(os.getpid()) or ''}".strip()
        staged = self.lock.with_name(f"{self.NAME}.{os.getpid()}")
        try:
            staged.write_text(mine)
            try:
                os.link(staged, self.lock)
                return
            except FileExistsError:
                raise
            except OSError:
                pass
        finally:
            staged.unlink(missing_ok=True)
        with os.fdopen(os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY), "w") as file:
            file.write(mine)

    def __exit__(self, *exc_info):
        _RunLock.held.discard(self.lock)
        self.lock.unlink(missing_ok=True)
        for folder in self.made:  # only while empty: a run that failed before writing anything
            try:
                folder.rmdir()
            except OSError:
                break


def _finished_run(state: dict, config: TrainConfig, out: Path, log) -> TrainResult | None:
    """A resumed run with no epoch left and its model and metrics in place: nothing to train or write.
    (With either file gone, the run was killed while finishing, and ``train`` writes them again.) A device no
    machine has is a usage error all the same (probe 170: `--device bogus` was "nothing left to train", exit 0);
    one this machine lacks is not, as nothing runs on it."""
    from rehue.inference.colorizer import resolve_device
    from rehue.models.io import load_model

    try:
        resolve_device(config.device)
    except UsageError:
        raise
    except RehueError:
        pass

    model_path = out / "model.safetensors"
    if state["epoch"] < config.epochs or not (model_path.is_file() and (out / "metrics.jsonl").is_file()):
        return None
    try:
        model = load_model(model_path)[0]
    except RehueError as exc:  # probe 142: a damaged model, or its config gone, was the error after "nothing left"
        log(f"note: {one_line(str(exc))}; written again from the run's last checkpoint")
        return None
    log(f"nothing left to train: the run has trained its {counted(state['epoch'], 'epoch', 'epochs')} (--epochs "
        f"{state['epoch'] + 1} or more trains on); its model is {model_path}")
    return TrainResult(model, list(state["history"]), out, model_path, trained=False)


CHECKPOINT_KEYS = {"videos": "trained_videos", "video_fingerprints": "trained_video_fingerprints",
                   "earlier_data": "earlier_data", "held_out": "held_out", "held_out_moved": "split_moved"}
"""A model card's record of what its run learnt from (``_learnt_record``), by the names the checkpoint keeps it."""


def _learnt_record(videos: set[str], fingerprints: set[str], earlier_data: list[str], held_out: str | None,
                   moved: bool) -> dict:
    """What a run learnt from, as its model card says it (each only where there is one): the frame dataset's
    videos, and their files' fingerprints (``rehue.data.frames.video_fingerprint``); the folders (absolute) it
    learnt from before its ``data``; the digest of what validation holds out, and whether that moved while it
    trained. A checkpoint keeps the same under ``CHECKPOINT_KEYS``."""
    record = {"videos": sorted(videos), "video_fingerprints": sorted(fingerprints), "earlier_data": list(earlier_data),
              "held_out": held_out, "held_out_moved": moved}
    return {key: value for key, value in record.items() if value}


def _export(generator, config, history, out, restraint: dict, learnt: dict):
    """The generator as safetensors + JSON; ``restraint`` is what ``--init``'s model had (``_load_init_weights``);
    ``learnt``, what the run learnt from (``_learnt_record``)."""
    from rehue.data.datasets import is_frame_dir
    from rehue.models.io import ModelCard, save_model

    last = history[-1]
    card = ModelCard(
        architecture=config.generator, in_channels=config.in_channels, size=config.size, width=config.width,
        role="dependent" if config.dependent else "independent",
        # absolute: a model copied out of its run (shared, or kept beside others) still says what taught it (probe 84)
        training={"data": str(Path(config.data).resolve()), "epochs": last["epoch"], "steps": last["step"],
                  "images_seen": last["images_seen"], "discriminator": config.discriminator,
                  "l1_weight": config.l1_weight, "adversarial_weight": config.adversarial_weight,
                  **({"ce_weight": config.ce_weight} if getattr(generator, "predicts_classes", False) else {}),
                  "batch_size": config.batch_size, "seed": config.seed, "workers": config.workers,
                  "init": config.init, "ema": config.ema, "self_feed": config.self_feed,
                  "independent_feed": config.independent_feed, "self_feed_steps": config.self_feed_steps,
                  "stamp_share": config.stamp_share, "studio_share": config.studio_share,
                  "colour_jitter": config.colour_jitter, "crop_min": config.crop_min,
                  **learnt},
        metrics={k: v for k, v in last.items() if k.startswith("val_")},
        # a model trained on letterboxed frames (`rehue frames`) is shown photos the same way
        inference={**restraint, **({"fit": "letterbox"} if is_frame_dir(Path(config.data)) else {})},
    )
    save_model(generator, card, out / "model.safetensors")


def _write_metrics(out: Path, history: list[dict], writer):
    """Rewrite the metric files from the checkpointed history, so a resumed run never repeats an epoch."""
    import csv

    from rehue.models.io import atomic_write_bytes

    atomic_write_bytes(out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in history).encode())
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=list(history[-1]))
    w.writeheader()
    w.writerows(history)
    atomic_write_bytes(out / "metrics.csv", text.getvalue().encode())
    record = history[-1]
    if writer is not None:
        for key, value in record.items():
            if key != "epoch":
                writer.add_scalar(key, value, record["epoch"])


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out / "tensorboard"))


def _interval(seconds: float) -> str:
    from tqdm import tqdm

    return tqdm.format_interval(seconds)


def _progress(total: int, desc: str, enabled: bool):
    from rehue.progress import progress_bar

    return progress_bar(total=total, desc=desc, unit="batch", disable=not enabled, leave=False)
