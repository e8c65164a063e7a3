"""Training hyperparameters with the thesis' defaults; saved inside every checkpoint."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from rehue.errors import UsageError, check_flags, path_exists

LARGEST_SIZE = 4096
"""The largest square a model is trained at or a frame dataset sampled at: thirty-two times the largest the
thesis used (128). Beyond it, a mistyped size (``--size 100000``) failed only as "out of memory"."""

LARGEST_SEED = 2**63 - 1
# past float32's range Adam's step is a traceback (probe 197: "value cannot be converted to type float without
# overflow"); below it, a rate too large for the run makes its losses NaN, said as a diverged run. Not 1: an older
# rehue's run of a rate above it, which trained, must stay resumable (probe 198)
LARGEST_LR = 3.4028234663852886e38

# the smallest value each whole-number or weight setting may take
_LOWEST = {"epochs": 1, "batch_size": 1, "width": 1, "disc_width": 0, "workers": 0, "steps_per_epoch": 0,
           "val_images": 1, "l1_weight": 0, "ce_weight": 0, "adversarial_weight": 0, "self_feed_steps": 1,
           "feature_matching": 0}


# the largest: a base width of 2**66 was a 52-line traceback from PyTorch, 10**20 workers a flood of processes that
# outlived the run, 10**6 self-fed passes a step a hang (probe 213); 10**20 epochs trained on, "epoch 220/
# 99999999999999999999", and went into config.json as a number past 64 bits (probe 224)
_HIGHEST = {"width": 1024, "disc_width": 1024, "self_feed_steps": 1000, "workers": max(64, 4 * (os.cpu_count() or 1)),
            "epochs": 1_000_000, "steps_per_epoch": 1_000_000_000}


DEPENDENT_ONLY = ("self_feed", "independent_feed", "self_feed_steps")  # the feeds of a dependent model's input


@dataclass
class TrainConfig:
    """A training run's settings, with the thesis' defaults (Table 5.1: Generator 2 against Discriminator 2,
    Adam 2e-4 / beta1 0.5 for G and 2e-3 / beta1 0.7 for D, 32x32 CIFAR-10 batches of 128); saved in every
    checkpoint and in the run's config.json. ``data`` is a photo folder, a CIFAR-10 folder or a frame
    dataset, ``out`` the run folder; ``check`` refuses what no run can use."""

    data: str = ""
    out: str = "runs/rehue"
    generator: str = "gen2"  # thesis: Generator 2 won the grid search (Table 5.2)
    discriminator: str = "disc2"
    size: int = 32  # CIFAR-10; 128 for video
    in_channels: int = 1  # 1: independent (L*), 3: dependent (L* + previous a*b*)
    width: int = 32
    disc_width: int = 0  # 0: the discriminator's own default
    batch_size: int = 128  # Table 5.1: 128 or 256
    epochs: int = 10
    lr_g: float = 2e-4  # Table 5.1: Adam 2e-4, beta1 0.5
    beta1_g: float = 0.5
    lr_d: float = 2e-3  # Table 5.1: Adam 2e-3, beta1 0.7
    beta1_d: float = 0.7
    l1_weight: float = 100.0  # pix2pix's lambda; 0 gives the thesis' pure adversarial loss
    # a generator of a*b* classes (gen2-classes) learns by cross-entropy with this weight instead of L1:
    # 4 x its starting value (about 4.7) is about L1 x 100 at the start (about 15); set so, not tuned
    ce_weight: float = 4.0
    # weight of the adversarial term in G's loss; 0 trains G by its L1 or cross-entropy alone, with no
    # discriminator (colour as classes measured best so: docs/model-card.md)
    adversarial_weight: float = 1.0
    # weight of pix2pixHD's feature matching: L1 between the discriminator's activations on the output and
    # on the truth (0: off; measured, not shipped: docs/model-card.md)
    feature_matching: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bfloat16 autocast, on CUDA only
    workers: int = 0
    val_fraction: float = 0.1
    steps_per_epoch: int = 0  # 0: one pass over the training set
    val_images: int = 64
    init: str = ""  # a shipped model name or path to start the generator from (fine-tuning)
    ema: float = 0.0  # decay of an exponential moving average of G's weights (0: off); validated and saved
    self_feed: float = 0.0  # dependent: share of batches whose previous a*b* is G's own output (0: never)
    self_feed_steps: int = 1  # dependent: self-fed batches feed the own output back 1..this many times
    # share of training crops of a demo-style set that get one or two photographed cut-outs pasted on.
    # Off: over two seeds the held-out photos scored 0.35 dB better without (docs/model-card.md); the
    # cut-outs are mostly saturated fruit, fur and toys, and photos are mostly grey.
    stamp_share: float = 0.0
    studio_share: float = 0.0  # share of training crops that are cut-outs on a plain studio backdrop
    colour_jitter: float = 0.0  # training images: chroma x(1 +- this), hue +- 40x this degrees (0: off)
    crop_min: float = 0.35  # photos: training crops are squares of this to 1 x the short side (DEFAULT_CROP_MIN)
    independent_feed: float = 0.0  # dependent: share whose previous a*b* is the --init independent model's output

    def __post_init__(self):
        self._as_python()

    def _as_python(self) -> None:
        """A notebook's ``pathlib.Path`` as the path it names, a whole number given as a float (``epochs=1e2``)
        as that number, and numpy's numbers as Python's (probe 75: each failed deep inside json, torch or numpy).
        ``check`` does it again for a setting changed since (``config.data = Path(...)``), and refuses what is
        left that no run can use (``epochs=1.5``)."""
        for setting in fields(self):
            value = getattr(self, setting.name)
            if isinstance(value, os.PathLike):
                setattr(self, setting.name, os.fspath(value))
            elif setting.type == "bool" and getattr(value, "dtype", None) is not None and value.dtype.kind == "b":
                setattr(self, setting.name, bool(value))  # numpy's bool, which json cannot write
            elif not isinstance(value, numbers.Real) or isinstance(value, bool):
                continue
            elif setting.type == "float" and not isinstance(value, (int, float)):  # numpy's float32
                setattr(self, setting.name, float(value))
            elif setting.type == "int" and (isinstance(value, numbers.Integral) or float(value).is_integer()):
                setattr(self, setting.name, int(value))

    @property
    def dependent(self) -> bool:
        return self.in_channels == 3

    def check(self) -> None:
        """Refuse settings no run can use, before a run touches its folder."""
        self._as_python()
        for name, default in asdict(TrainConfig()).items():  # a number where a number belongs, as the CLI's are
            value = getattr(self, name)
            if isinstance(default, (int, float)) and not isinstance(default, bool) and \
                    (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise UsageError(f"{name} must be a number, not {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise UsageError(f"{name} must be a finite number, not {value:g}")
            if name in WHOLE_NUMBERS and not isinstance(value, int):
                raise UsageError(f"{name} must be a whole number, not {value}")
            if isinstance(default, bool):  # probe 192: amp="false" was taken, and is true to Python
                check_flags(**{name: value})
        for name in ("data", "out", "init"):
            if not isinstance(getattr(self, name), str):
                raise UsageError(f"{name} must be a path, not {getattr(self, name)!r}")
            if getattr(self, name):  # a name no file can have (a NUL, too long) said as such (probe 228)
                path_exists(getattr(self, name))
        if self.in_channels not in (1, 3):
            raise UsageError(f"in_channels must be 1 (an independent model: L*) or 3 (a dependent one: L* and the "
                             f"previous frame's a*b*), not {self.in_channels}")
        if not 0 <= self.seed <= LARGEST_SEED:  # PyTorch's generators take up to 2**64 - 1, less the epochs added
            raise UsageError(f"seed must be a whole number from 0 to {LARGEST_SEED}, not {self.seed}")
        if self.size < 32 or self.size & (self.size - 1) or self.size > LARGEST_SIZE:
            raise UsageError(f"size must be a power of two from 32 to {LARGEST_SIZE}, not {self.size}")
        for name, low in _LOWEST.items():
            if getattr(self, name) < low:
                raise UsageError(f"{name} must be at least {low}, not {getattr(self, name):g}")
        for name, high in _HIGHEST.items():
            if getattr(self, name) > high:
                raise UsageError(f"{name} must be at most {high}, not {getattr(self, name)}")
        for name in ("lr_g", "lr_d"):
            if not getattr(self, name) > 0:
                raise UsageError(f"{name} must be above 0, not {getattr(self, name):g}")
            if getattr(self, name) > LARGEST_LR:
                raise UsageError(f"{name} must be at most {LARGEST_LR:.9g} (float32's largest), not "
                                 f"{getattr(self, name):.9g}")
        for name in ("beta1_g", "beta1_d", "ema"):
            if not 0 <= getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 0 and below 1, not {getattr(self, name):g}")
        for name in ("self_feed", "independent_feed"):
            if not 0 <= getattr(self, name) <= 1:
                raise UsageError(f"{name} must be between 0 and 1, not {getattr(self, name):g}")
        if not self.dependent:
            given = [name for name in DEPENDENT_ONLY if getattr(self, name) != getattr(TrainConfig, name)]
            if given:
                raise UsageError(f"{', '.join(given)}: only for a dependent model (--dependent), which is fed the "
                                 "previous frame's a*b*")
        if self.feature_matching and not self.adversarial_weight:
            raise UsageError("feature_matching compares the discriminator's activations, and adversarial_weight 0 "
                             "trains no discriminator", settings=("feature_matching", "adversarial_weight"))
        if self.independent_feed and not self.init:
            raise UsageError("independent_feed needs init: the independent model whose a*b* it feeds the dependent "
                             "model", settings=("independent_feed", "init"))
        if not 0 < self.val_fraction < 1:
            raise UsageError(f"val_fraction must be above 0 and below 1, not {self.val_fraction:g}")
        from rehue.models.registry import list_models

        for role in ("generator", "discriminator"):  # before the photos are read, each among its own kind
            if getattr(self, role) not in list_models(role):
                raise UsageError(f"unknown {role} {getattr(self, role)!r}; choose one of: "
                                 f"{', '.join(list_models(role))}")
        pixel = "ce_weight" if self.learns_by_classes else "l1_weight"
        if not self.adversarial_weight and not getattr(self, pixel):  # probe 129: not one weight moved, exit 0
            raise UsageError(f"adversarial_weight 0 and {pixel} 0 leave the generator nothing to learn from",
                             settings=("adversarial_weight", pixel))
        from rehue.data.images import is_inside

        if self.data and self.out and is_inside(self.out, self.data):
            raise UsageError("the run folder must not be inside the training data: its sample pictures would "
                             "be read as training photos next time", self.out)
        if self.batch_size < 2 and self.size < 64:
            raise UsageError(f"batch_size 1 needs size 64 or more: at {self.size} the generator's deepest "
                             "BatchNorm would see one value per channel", settings=("batch_size", "size"))
        if not 0 <= self.colour_jitter < 1:
            raise UsageError(f"colour_jitter must be at least 0 and below 1, not {self.colour_jitter:g}")
        if not 0 < self.crop_min <= 1:
            raise UsageError(f"crop_min must be above 0 and at most 1, not {self.crop_min:g}")
        if not 0 <= self.studio_share <= 1:
            raise UsageError(f"studio_share must be between 0 and 1, not {self.studio_share:g}")
        if not 0 <= self.stamp_share <= 1:
            raise UsageError(f"stamp_share must be between 0 and 1, not {self.stamp_share:g}")
        single_image = [name for name in ("stamp_share", "studio_share", "colour_jitter") if getattr(self, name)]
        if self.dependent and single_image:
            raise UsageError(f"{', '.join(single_image)}: only for an independent model (they change single images; "
                             "a dependent model learns from pairs of frames)")

    @property
    def learns_by_classes(self) -> bool:
        """Whether the generator learns by cross-entropy over a*b* bins (``ce_weight``), not by L1 (``l1_weight``);
        a grid search sets one weight for all its generators, and each run uses its own. False for a name that is
        no generator, which ``check`` refuses among the generators (probe 170: "unknown model 'x'; choose one of:
        disc1, disc2, gen1, ...")."""
        from rehue.models.registry import list_models, model_entry

        return self.generator in list_models("generator") and \
            getattr(model_entry(self.generator).builder, "predicts_classes", False)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @staticmethod
    def as_it_acted(saved: dict) -> dict:
        """A run's saved settings less those that never acted in it: an independent run saved by an older rehue
        with a dependent model's feeds (``check`` refuses them now) is resumed as it trained (probe 64:
        refused, with no way on but editing its config.json)."""
        if saved.get("in_channels", 1) == 3:
            return saved
        return {key: value for key, value in saved.items() if key not in DEPENDENT_ONLY}


WHOLE_NUMBERS = tuple(setting.name for setting in fields(TrainConfig) if setting.type == "int")


def started_in_folder(out: str, run_folder: Path) -> Path | None:
    """The folder a run was started from, where the paths it was given relative (``out``, and an older
    rehue's ``data`` and ``init``) were read: ``run_folder`` less ``out`` as it was typed. None where
    ``out`` was typed absolute or the run folder has moved since."""
    typed = Path(os.path.normpath(out))
    if typed.is_absolute() or ".." in typed.parts:
        return None
    actual = Path(os.path.realpath(run_folder))  # as rehue.data.images.real_path: a loop of links is no error
    if actual.parts[-len(typed.parts):] != typed.parts:
        return None
    return Path(*actual.parts[: -len(typed.parts)])
