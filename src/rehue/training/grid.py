"""``rehue grid-search``: the thesis' grid search (4.2.2, 5.1.5; Tables 5.1 and 5.2, fig. 5.5).

Every combination of generator, discriminator, batch size and optimiser settings named in a TOML file
is trained with the same seed and budget into ``OUT/runs/NAME``. Each final generator is then scored
image by image on the same held-out validation images, beside the gray answer (a* = b* = 0), giving
the Table 5.2 layout (min/max/mean SSIM and PSNR per run, ranked), a plot of epoch durations per run
(fig. 5.5) and sample grids on identical images, so the runs can be compared by eye as well.

The search can be interrupted and started again with the same command: finished runs are skipped,
an interrupted one resumes from its last checkpoint, and evaluations of unchanged models are reused.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from rehue.data.images import as_it_will_be, make_missing_folders, remove_made_folders
from rehue.errors import RehueError, UsageError, check_flags, shown_path
from rehue.models.io import file_sha256, read_json_file
from rehue.progress import lines_to, progress_bar, said_once, say
from rehue.training.config import LARGEST_LR, TrainConfig
from rehue.words import counted

GRID_KEYS = ("generators", "discriminators", "batch_sizes", "optimisers", "out", "rank_by", "eval_images",
             "sample_images")
OPTIMISER_KEYS = ("lr_g", "beta1_g", "lr_d", "beta1_d")
# TrainConfig fields the grid varies; a fixed value for one of them would be silently overridden.
VARIED_BY = {"generator": "generators", "discriminator": "discriminators", "batch_size": "batch_sizes",
             **{key: "optimisers" for key in OPTIMISER_KEYS}}
# Settings that change where or how fast a run trains, not what it learns: a run may resume under new values.
NOT_COMPARED = ("out", "epochs", "device", "workers", "amp", "val_images")
RANK_BY = ("psnr", "ssim")
DEFAULT_SAMPLE_IMAGES = 8
EVAL_BATCH = 64

RUNS_DIR = "runs"
SAMPLES_DIR = "samples"
RESULTS_MARKDOWN = "results.md"
RESULTS_JSON = "results.json"
DURATIONS_PLOT = "epoch_durations.png"
ALL_RUNS_GRID = "all_runs.png"
CONFIG_COPY = "grid.toml"
COPY_HEADER = "# copied by rehue grid-search from"
COPY_HEADER_END = ", whose folder its relative paths are read from:"
RUN_EVALUATION = "grid_evaluation.json"


@dataclass(frozen=True)
class GridRun:
    """One cell of the grid: its thesis-style name ("gen2-disc1-128") and full training config."""

    name: str
    config: TrainConfig
    optimiser: int  # index into GridSpec.optimisers


@dataclass
class GridSpec:
    source: Path
    runs: list[GridRun]
    optimisers: list[dict]
    out: Path
    rank_by: str = "psnr"
    eval_images: int = 0  # 0: the whole validation set
    sample_images: int = DEFAULT_SAMPLE_IMAGES
    copied_from: Path | None = None  # a search's copy (``_config_copy``): the file it was copied from
    read_from_original: bool = False  # a copy whose relative paths were read from its original's folder


@dataclass
class RunOutcome:
    name: str
    status: str  # "trained", "resumed" or "skipped"
    wall_seconds: float  # spent on this run by this invocation
    epoch_seconds: list[float] = field(default_factory=list)  # every epoch, from metrics.jsonl


@dataclass
class GridResult:
    table: object  # rehue.evaluation.metrics.MetricTable, ranked best first, gray baseline last
    ranking: list[str]
    outcomes: dict[str, RunOutcome]
    paths: dict[str, Path]
    validation_images: int
    validation_held_out: bool = True  # False: the data held no photo out, and validation scores one trained on


# ------------------------------------------------------------------------------------------ config


def _read_toml(path: Path) -> tuple[dict, str]:
    """The TOML file's table, and its text."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise RehueError("reading TOML needs Python 3.11+ or the tomli package", path) from None
    if path.exists() and not path.is_file() and not path.is_dir():  # reading a pipe waits for a writer (probe 175)
        raise RehueError("is a pipe or a device, not a grid config: save it as a file first", path)
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except FileNotFoundError:
        raise RehueError("no such grid config", path) from None
    except IsADirectoryError:  # probe 172: "([Errno 21] Is a directory: 'photos')"
        raise RehueError("is a folder, not a grid config (a TOML file)", path) from None
    except UnicodeDecodeError:  # a picture named by mistake: "('utf-8' codec can't decode byte 0x89 ...)"
        raise RehueError("is not a grid config: not UTF-8 text, as a TOML file is", path) from None
    except OSError as exc:
        raise RehueError(f"cannot read the grid config ({exc.strerror or exc})", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise RehueError(f"not valid TOML ({exc})", path) from None


def _check_type(value, default, key: str, path: Path):
    """``value`` if it has the type of the TrainConfig default (an int is fine where a float is)."""
    expected = type(default)
    ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise RehueError(f"{key} must be of type {expected.__name__}, not {value!r}", path)
    return value


def _name_list(raw: dict, key: str, role: str, path: Path) -> list[str]:
    from rehue.models.registry import list_models

    names = raw.get(key)
    valid = list_models(role)
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise RehueError(f"{key} must be a non-empty list of {role} names ({', '.join(valid)})", path)
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise RehueError(f"unknown {role} {unknown[0]!r} in {key}; choose from {', '.join(valid)}", path)
    _no_duplicates(names, key, path)
    return names


def _no_duplicates(values: list, key: str, path: Path):
    repeated = [v for i, v in enumerate(values) if v in values[:i]]
    if repeated:  # a table as TOML writes it, not a Python dict (probe 172: "{'lr_g': 0.0002, ...}")
        said = "{" + ", ".join(f"{name} = {value!r}" for name, value in repeated[0].items()) + "}" \
            if isinstance(repeated[0], dict) else repr(repeated[0])
        raise RehueError(f"{key} lists {said} twice", path)


def _batch_sizes(raw: dict, path: Path) -> list[int]:
    sizes = raw.get("batch_sizes", [TrainConfig.batch_size])
    if (not isinstance(sizes, list) or not sizes
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)):
        raise RehueError("batch_sizes must be a non-empty list of positive integers", path)
    _no_duplicates(sizes, "batch_sizes", path)
    return sizes


def _optimisers(raw: dict, path: Path) -> list[dict]:
    """Each entry is {lr_g, beta1_g, lr_d, beta1_d}; a missing key takes the thesis default (Table 5.1)."""
    defaults = TrainConfig()
    entries = raw.get("optimisers", [{}])
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise RehueError("optimisers must be a non-empty list of tables ([[optimisers]] with lr_g, beta1_g, "
                         "lr_d, beta1_d)", path)
    result = []
    for index, entry in enumerate(entries, 1):
        unknown = sorted(set(entry) - set(OPTIMISER_KEYS))
        if unknown:
            known = ", ".join(OPTIMISER_KEYS)
            raise RehueError(f"optimiser {index}: unknown key {unknown[0]!r}; known: {known}", path)
        values = {}
        for key in OPTIMISER_KEYS:
            label = f"optimiser {index}: {key}"
            value = _check_type(entry.get(key, getattr(defaults, key)), 0.0, label, path)
            if key.startswith("lr") and not value > 0:
                raise RehueError(f"optimiser {index}: {key} must be positive, not {value}", path)
            if key.startswith("lr") and value > LARGEST_LR:
                raise RehueError(f"optimiser {index}: {key} must be at most {LARGEST_LR:.9g} (float32's largest), "
                                 f"not {value:.9g}", path)
            if key.startswith("beta") and not 0 <= value < 1:
                raise RehueError(f"optimiser {index}: {key} must be in [0, 1), not {value}", path)
            values[key] = value
        result.append(values)
    _no_duplicates(result, "optimisers", path)
    return result


def _positive_int(raw: dict, key: str, default: int, path: Path, allow_zero: bool) -> int:
    value = raw.get(key, default)
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise RehueError(f"{key} must be an integer >= {low}, not {value!r}", path)
    return value


def run_name(generator: str, discriminator: str, batch_size: int, optimiser: int, optimisers: int) -> str:
    """The thesis' "X-Y-Z" name; "-optN" (1-based) is added when the grid has several optimisers."""
    name = f"{generator}-{discriminator}-{batch_size}"
    return f"{name}-opt{optimiser + 1}" if optimisers > 1 else name


def load_grid(path: str | Path) -> GridSpec:
    """Read and check a grid TOML file. Relative paths in it (``data``, ``out``) are taken from the
    file's folder, so the same file works from any working directory; without ``out`` the grid goes
    to ``runs/<file stem>`` under the current directory."""
    from rehue.training.loop import init_on_disk

    path = Path(path)
    raw, text = _read_toml(path)
    train_fields = {f.name: f for f in fields(TrainConfig)}
    for key in raw:
        if key in VARIED_BY:
            raise RehueError(f"{key} is what the grid varies; list it under {VARIED_BY[key]} instead", path)
        if key not in train_fields and key not in GRID_KEYS:
            known = sorted(set(GRID_KEYS) | set(train_fields) - set(VARIED_BY) - {"out"})
            raise RehueError(f"unknown key {key!r}; known: {', '.join(known)}", path)
    if not isinstance(raw.get("data"), str) or not raw["data"]:
        raise RehueError("data must name the training data (photo folder, CIFAR-10 folder or frame dataset)",
                         path)

    defaults = TrainConfig()
    fixed = {key: _check_type(value, getattr(defaults, key), key, path)
             for key, value in raw.items() if key in train_fields and key != "out"}
    # a search's copy reads them from its original's folder, as its header says, while that file is there (a
    # project moved since: from the copy's own, probe 98)
    copied_from = _copied_from(text)
    original = copied_from if copied_from is not None and copied_from.is_file() else None
    base = original.parent if original is not None else path.parent
    fixed["data"] = str((base / Path(fixed["data"]).expanduser()).resolve())
    init = fixed.get("init")
    if init_on_disk(init, base):
        fixed["init"] = str((base / Path(init).expanduser()).resolve())  # beside the file, as data is
    init_card = _init_card(fixed, path)
    if "device" in fixed:  # probe 133: "gpu" was refused after "[1/2] ... started", without the file's name
        from rehue.inference.colorizer import resolve_device

        try:
            resolve_device(fixed["device"])
        except RehueError as error:
            raise RehueError(f"device: {error.reason}", path) from None

    generators = _name_list(raw, "generators", "generator", path)
    discriminators = _name_list(raw, "discriminators", "discriminator", path)
    batch_sizes = _batch_sizes(raw, path)
    optimisers = _optimisers(raw, path)
    rank_by = raw.get("rank_by", "psnr")
    if rank_by not in RANK_BY:
        raise RehueError(f"rank_by must be one of {', '.join(RANK_BY)}, not {rank_by!r}", path)
    out = raw.get("out")
    if out is not None and (not isinstance(out, str) or not out):
        raise RehueError("out must be a folder path", path)
    if out:
        out = (base / Path(out).expanduser()).resolve()
    else:  # as the original's would (a copy's was runs/grid: probe 97)
        out = Path(RUNS_DIR) / (original or path).stem

    runs = []
    for generator, discriminator, batch_size, (index, optimiser) in itertools.product(
            generators, discriminators, batch_sizes, enumerate(optimisers)):
        config = TrainConfig(**fixed, generator=generator, discriminator=discriminator, batch_size=batch_size,
                             **optimiser)
        name = run_name(generator, discriminator, batch_size, index, len(optimisers))
        try:
            replace(config, out="").check()  # every run's settings before the first trains; its folder later
        except RehueError as error:
            raise RehueError(f"{name}: {error.reason}", path) from None
        misfit = _init_misfit(init_card, config)  # probes 108, 110: said after "[1/1] ... started"
        if misfit:
            raise RehueError(f"{name}: {misfit}", path)
        runs.append(GridRun(name, config, index))
    from rehue.models.registry import list_models

    for weight, learns_by in (("l1_weight", False), ("ce_weight", True)):  # kept in each card, used by none
        if weight in raw and not any(run.config.learns_by_classes == learns_by for run in runs):
            users = [name for name in list_models("generator")
                     if replace(runs[0].config, generator=name).learns_by_classes == learns_by]
            how = "by cross-entropy over a*b* bins" if learns_by else "by L1"
            raise RehueError(f"{weight} is set, and none of the grid's generators ({', '.join(generators)}) learns "
                             f"{how} ({', '.join(users)} do{'es' if len(users) == 1 else ''})", path)
    return GridSpec(source=path, runs=runs, optimisers=optimisers, out=out, rank_by=rank_by,
                    eval_images=_positive_int(raw, "eval_images", 0, path, allow_zero=True),
                    sample_images=_positive_int(raw, "sample_images", DEFAULT_SAMPLE_IMAGES, path, False),
                    copied_from=copied_from, read_from_original=original is not None)


def _init_card(fixed: dict, path: Path):
    """The card of a grid's ``init`` model (None without one), whose size and width its runs take where the
    file sets none, as `train --init` does (probe 108: the defaults were taken, and every run failed as it
    started)."""
    if not fixed.get("init"):
        return None
    from rehue.models.io import read_card, resolve_model_path
    from rehue.training.loop import shipped_init

    try:
        card = read_card(resolve_model_path(shipped_init(fixed["init"], fixed.get("in_channels") == 3)))
    except RehueError as error:
        raise RehueError(f"init: {error}", path) from None
    fixed.setdefault("size", card.size)
    fixed.setdefault("width", card.width)
    return card


def _init_misfit(card, config: TrainConfig) -> str | None:
    """Why a run cannot fine-tune the grid's ``init`` model, in the file's words; None where it can."""
    if card is None:
        return None
    if card.architecture != config.generator:
        return (f"init model is a {card.architecture}, and this run trains a {config.generator}; fine-tuning takes "
                "its model's generator")
    if card.in_channels > config.in_channels:
        return "init model is a dependent one (it reads the frame before): set in_channels = 3"
    if card.width != config.width:
        return f"init model's width is {card.width}, and the file sets width = {config.width}; leave width out"
    return None


# ---------------------------------------------------------------------------------------- training


def _read_history(run_dir: Path) -> list[dict]:
    """The epoch records of metrics.jsonl; a record cut short by a crash ends the list."""
    history = []
    try:
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    for line in lines:
        try:
            history.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return history


def _check_same_settings(run_dir: Path, config: TrainConfig) -> dict:
    """A run folder trained with other hyperparameters must not be skipped or resumed as if it matched. Returns
    the run's saved config ({} where it has none)."""
    if not (run_dir / "config.json").exists():
        return {}
    saved = read_json_file(run_dir / "config.json", "the run's config", "a run's config")
    if not isinstance(saved, dict):
        raise RehueError("the run's config must be a JSON object", run_dir / "config.json")
    planned = config.to_dict()
    changed = [key for key, value in planned.items()
               if key not in NOT_COMPARED and key in saved and saved[key] != value
               and not (key == "data" and _moved_together(saved, planned))]
    if changed:
        detail = ", ".join(f"{key} {saved[key]!r} -> {planned[key]!r}" for key in changed)
        raise RehueError(f"this run was trained with other settings ({detail}); delete the folder to "
                         "retrain it or pass another --out", run_dir)
    return saved


def _moved_together(saved: dict, planned: dict) -> bool:
    """Whether a run's photos lie where they lay beside its folder when it trained: the search moved with its
    photos, a project folder renamed (probe 197: every run "trained with other settings (data '/old/photos' ->
    '/new/photos')", the way on to delete them all); photos elsewhere are other data (probe 198)."""
    if not all(isinstance(settings.get(key), str) and settings[key] for settings in (saved, planned)
               for key in ("data", "out")):
        return False
    if not os.path.isabs(saved["out"]):  # an older rehue's, as typed: where it was read from is not known
        return False

    def photos_from_runs(settings: dict) -> str:  # both through their links (probe 200: data was, out was not)
        return os.path.relpath(os.path.realpath(settings["data"]), os.path.realpath(settings["out"]))
    return photos_from_runs(saved) == photos_from_runs(planned)


def _epochs(count: int) -> str:
    return f"{count} epoch{'s' * (count != 1)}"


def _check_runs(spec: GridSpec, out: Path) -> None:
    """Before any run trains: each run's settings are ones a run can use (its folder not inside the photos:
    probe 77 found the folders made there first), and an earlier run in ``out`` was trained with the grid's
    settings and no more epochs than it asks for (probe 77: lowering ``epochs`` ranked runs of 2 epochs with
    runs of 1, as if of one budget)."""
    from rehue.data.images import is_inside

    if is_inside(out, spec.runs[0].config.data):
        raise UsageError("the search's folder must not be inside the training data: its runs' sample pictures "
                         "would be read as training photos", out)
    for run in spec.runs:
        run_dir = out / RUNS_DIR / run.name
        config = replace(run.config, out=str(run_dir))
        config.check()
        saved = _check_same_settings(run_dir, config)
        trained = len(_read_history(run_dir))
        if trained > config.epochs:
            raise RehueError(f"this run has trained {_epochs(trained)} and the grid asks for {config.epochs}: its "
                             "scores would be ranked with runs of another budget; set epochs back, or delete the "
                             "folder to train it again", run_dir)
        if 0 < trained < config.epochs and saved.get("epochs") == trained and _is_finished(run_dir, trained) and \
                not _checkpoint_epoch(run_dir):
            # probe 174: trained again from the start, over the model it had finished (exit 0, not a word)
            raise RehueError(f"this run finished its {_epochs(trained)}, and its checkpoints are gone: it cannot "
                             f"train on to {config.epochs}; set epochs back, or delete the folder to train it again",
                             run_dir)


def _check_memory(spec: GridSpec, out: Path) -> None:
    """The batch of every run that will train against the memory free, before the first trains (probe 133: a
    batch size of 100,000 was killed by the kernel as it started, exit 137 and no word)."""
    from rehue.inference.colorizer import resolve_device
    from rehue.training.memory import check_training_memory

    for run in spec.runs:
        if _is_finished(out / RUNS_DIR / run.name, run.config.epochs):  # probe 135: refused though only scored
            continue
        try:
            check_training_memory(run.config, resolve_device(run.config.device))
        except RehueError as error:
            raise RehueError(f"{run.name}: {error.reason}", spec.source) from None


def _checkpoint_epoch(run_dir: Path) -> int:
    from rehue.training.checkpoint import list_checkpoints

    checkpoints = list_checkpoints(run_dir / "checkpoints")
    return int(checkpoints[-1].stem.split("_")[1]) if checkpoints else 0


def _is_finished(run_dir: Path, epochs: int) -> bool:
    """All epochs in metrics.jsonl and in the newest checkpoint, and the final model exported. A run whose
    checkpoints are gone (removed for room, once it finished) is finished by its metrics and model: the model is
    written before each checkpoint (probe 174: every run of a search whose checkpoints were removed was trained
    again, over its model)."""
    history = _read_history(run_dir)
    exported = (run_dir / "model.safetensors").is_file() and (run_dir / "model.json").is_file()
    in_order = [record.get("epoch") for record in history] == list(range(1, len(history) + 1))
    checkpoint = _checkpoint_epoch(run_dir)
    return exported and in_order and len(history) >= epochs and (checkpoint >= epochs or not checkpoint)


def _all_trained(spec: GridSpec, out: Path | None) -> bool:
    """Whether every run of the search in ``out`` is finished, so that a search stopped now was scoring (probe 224:
    it said the run it stopped would go on from its last checkpoint)."""
    out = as_it_will_be(out if out is not None else spec.out)
    try:
        return all(_is_finished(out / RUNS_DIR / run.name, run.config.epochs) for run in spec.runs)
    except RehueError:  # a damaged record: said as the search is run again
        return False


def _model_damage(run_dir: Path) -> str | None:
    """Why a finished run's exported model cannot be read ("its model.json is damaged (...)"), or None where it
    can."""
    from rehue.models.io import load_model

    try:
        load_model(run_dir / "model.safetensors", "cpu")
    except RehueError as exc:  # by the file at fault (probe 146: a damaged model.json said as the weights)
        return f"its {Path(exc.path).name if exc.path else 'model.safetensors'} is damaged ({exc.reason})"
    return None


def _train_run(run: GridRun, run_dir: Path, label: str, progress: bool, log) -> RunOutcome:
    from rehue.training.loop import Diverged, run_held_by, train

    # its folder saved whole, for a search moved with its photos to be known as one (_moved_together; probe 200:
    # `--out g`, saved as typed, was read against the working folder of the search after the move), through its
    # links as its photos are (probe 201: a link pointed elsewhere since read the saved folder anew)
    config = replace(run.config, out=os.path.realpath(run_dir))
    started = time.perf_counter()
    finished = _is_finished(run_dir, config.epochs)
    if finished and (damage := _model_damage(run_dir)):  # probe 92: skipped as finished, then unreadable to score
        log(f"{label} {run.name}: {damage}; " + ("exporting it again from its last checkpoint" if
                                                   _checkpoint_epoch(run_dir) else
                                                   "training it again, as its checkpoints are gone"))
        (run_dir / "model.safetensors").unlink()
        finished = False
    if finished:
        log(f"{label} {run.name}: skipped (finished, {_epochs(len(_read_history(run_dir)))})")
        status = "skipped"
    else:
        if owner := run_held_by(run_dir):  # said before "started", which it is not (train would refuse it)
            raise RehueError(f"another rehue (process {owner}) is training this run, a second search of this "
                             "folder perhaps; wait for it, or give the search another folder (--out)", run_dir)
        resume_from = _checkpoint_epoch(run_dir)
        status = "resumed" if resume_from else "trained"
        log(f"{label} {run.name}: " + (f"resumed after epoch {resume_from}/{config.epochs}" if resume_from
                                        else f"started ({_epochs(config.epochs)})"))
        # a run killed before its first checkpoint left its files (its model and metrics too, where the kill came
        # as the checkpoint was saved: probe 78) but nothing to resume: trained from the start, over them
        again = not resume_from
        try:
            train(config, resume=bool(resume_from), overwrite=again, progress=progress, log=log)
        except Diverged as exc:  # probe 200: which of a search's runs diverged, not said; probe 202: nor the way on
            raise RehueError(f"{run.name}: {exc.cause}; lower its learning rates" + (
                f", and delete {shown_path(run_dir)} (its epochs before) to train it again" if exc.kept else "")) \
                from None
        if not _is_finished(run_dir, config.epochs):
            newest = f"checkpoints/epoch_{_checkpoint_epoch(run_dir):04d}.pt"
            raise RehueError(f"training ended without all {config.epochs} epochs in metrics.jsonl and the "
                             f"model exported; delete {newest} to train its epoch again", run_dir)
        log(f"{label} {run.name}: {status} in {time.perf_counter() - started:.1f} s")
    return RunOutcome(run.name, status, time.perf_counter() - started, _epoch_seconds(run_dir))


def _search_left(later: list[tuple[GridRun, Path]], outcomes) -> str | None:
    """The search's time left, in words, at the pace of the epochs trained so far (probe 157: a search of hours said
    each run's time left, and never its own): the epochs of the runs to come (each with its folder) that an earlier
    search has not trained (probe 158: a finished one counted whole); None where none is left or none has trained."""
    from rehue.training.loop import _interval

    seconds = [second for outcome in outcomes if outcome.status != "skipped" for second in outcome.epoch_seconds]
    left = {run.name: run.config.epochs - (_checkpoint_epoch(run_dir) or 0) for run, run_dir in later
            if not _is_finished(run_dir, run.config.epochs)}
    left = {name: epochs for name, epochs in left.items() if epochs > 0}
    if not left or not seconds:
        return None
    epochs, pace = sum(left.values()), sum(seconds) / len(seconds)
    return (f"the search: about {_interval(pace * epochs)} of training left, in its {_runs(len(left))} to come "
            f"({_epochs(epochs)} at the {pace:.1f} s an epoch of those trained so far; their evaluation after)")


def _epoch_seconds(run_dir: Path) -> list[float]:
    """Each epoch's training seconds from the run's metrics.jsonl; a record without them is a one-line error
    (probe 133: a KeyError or ValueError traceback)."""
    seconds = []
    for record in _read_history(run_dir):
        value = record.get("seconds") if isinstance(record, dict) else None
        if not _finite(value) or value < 0:
            raise RehueError(f"epoch {len(seconds) + 1}'s record holds no duration in seconds (damaged?); delete the "
                             "run's folder to train it again", run_dir / "metrics.jsonl")
        seconds.append(float(value))
    return seconds


# -------------------------------------------------------------------------------------- evaluation


@dataclass
class _Validation:
    """The held-out images every run is scored on, prepared once: model inputs, truth and gray RGB."""

    batches: list
    truths: list  # (N, S, S, 3) uint8 per batch
    grays: list
    sources: list | None = None  # per image, the clip it comes from (frames of one clip are one unit)
    held_out: str | None = None  # which photos the split holds out (``rehue.training.loop.held_out_fingerprint``)
    trained_on: bool = False  # the data held none out (one colour photo): validation scores a photo trained on
    digest: str = ""  # of the truths' pixels: the scores a run keeps are for these images and no others

    @property
    def count(self) -> int:
        return sum(len(truth) for truth in self.truths)

    def first(self, count: int) -> list:
        """(gray, truth) of the first ``count`` images."""
        pairs = [(gray, truth) for grays, truths in zip(self.grays, self.truths, strict=True)
                 for gray, truth in zip(grays, truths, strict=True)]
        return pairs[:count]


def _validation(config: TrainConfig, limit: int, log) -> _Validation:
    """The validation split of ``build_datasets`` with the runs' own seed, at most ``limit`` images."""
    import numpy as np
    from torch.utils.data import DataLoader, Subset

    from rehue.data.datasets import build_datasets, spread_indices
    from rehue.evaluation.metrics import gray_baseline
    from rehue.training.loop import held_out_fingerprint, lab_batch_to_rgb

    train_set, val_set = build_datasets(config.data, config.size, dependent=config.dependent,
                                        val_fraction=config.val_fraction, seed=config.seed, log=log)
    validation = _Validation([], [], [], held_out=held_out_fingerprint(val_set, config.data),
                             trained_on=bool(set(getattr(val_set, "paths", None) or ())
                                             & set(getattr(train_set, "paths", None) or ())))
    chosen = spread_indices(len(val_set), limit)
    if getattr(val_set, "sources", None) is not None:
        validation.sources = [val_set.sources[index] for index in chosen]
    for batch in DataLoader(Subset(val_set, chosen), batch_size=EVAL_BATCH, shuffle=False):
        truths = lab_batch_to_rgb(batch["lightness"], batch["ab"])
        validation.batches.append(batch)
        validation.truths.append(truths)
        validation.grays.append(np.stack([gray_baseline(truth) for truth in truths]))
    if not validation.count:
        raise RehueError("the validation set is empty", config.data)
    digest = hashlib.sha256()
    for truths in validation.truths:
        digest.update(np.ascontiguousarray(truths).tobytes())
    validation.digest = digest.hexdigest()
    return validation


def _predict(generator, batch, device: str):
    import torch

    from rehue.training.loop import generator_input, lab_batch_to_rgb

    with torch.inference_mode():
        inputs, lightness = generator_input(batch, device)
        return lab_batch_to_rgb(lightness, generator(inputs))


def _evaluate_run(run_dir: Path, config: TrainConfig, validation: _Validation, sample_count: int,
                  progress: bool = False):
    """(per-image metrics, sample outputs) of the run's exported generator; metrics of an unchanged model
    on the same validation images are read back from ``grid_evaluation.json``. ``progress``: a bar of the
    images scored (probe 172: CIFAR-10's 5,000 a run, and nothing moved)."""
    from rehue.evaluation.metrics import ImageMetrics, evaluate_pair
    from rehue.inference.colorizer import resolve_device
    from rehue.models.io import atomic_write_bytes, load_model

    device = resolve_device(config.device)
    model_path = run_dir / "model.safetensors"
    generator, _ = load_model(model_path, device)
    key = {"model_sha256": file_sha256(model_path), "data": config.data, "size": config.size,
           "seed": config.seed, "val_fraction": config.val_fraction, "images": validation.count,
           "truths_sha256": validation.digest}  # probe 77: a photo added kept the count, and old scores were reused
    cache = run_dir / RUN_EVALUATION
    try:
        saved = read_json_file(cache, "the run's evaluation", "a run's evaluation", max_bytes=64 << 20)
        cached = [ImageMetrics(**image) for image in saved["images"]] if saved.get("key") == key else None
    except (RehueError, KeyError, TypeError, AttributeError):
        cached = None
    if cached is not None and not _scores_whole(cached, validation.count):  # probe 133: a traceback
        cached = None

    samples, metrics = [], []
    with progress_bar(total=validation.count, desc=f"scoring {run_dir.name}", unit="image",
                      disable=not progress or cached is not None, leave=False) as bar:
        for batch, truths in zip(validation.batches, validation.truths, strict=True):
            if cached is not None and len(samples) >= sample_count:
                break
            outputs = _predict(generator, batch, device)
            samples += list(outputs[: sample_count - len(samples)])
            if cached is None:
                metrics += [evaluate_pair(output, truth) for output, truth in zip(outputs, truths, strict=True)]
            bar.update(len(outputs))
    if cached is not None:
        return cached, samples, True
    document = {"key": key, "images": [asdict(image) for image in metrics]}
    atomic_write_bytes(cache, (json.dumps(document) + "\n").encode())
    return metrics, samples, False


def _finite(value) -> bool:
    """Whether a value read from JSON is a finite number (not a bool; an integer too large for a float is not:
    probe 135, an OverflowError traceback)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _scores_whole(scores: list, count: int) -> bool:
    """Whether ``scores`` read back from a run's ``grid_evaluation.json`` are one per validation image, each
    number finite (a warm share may be None): a file edited or damaged since is scored again."""
    return len(scores) == count and all(
        all(_finite(value) or (value is None and name.startswith("warm_share")) for name, value in vars(m).items())
        for m in scores)


# ----------------------------------------------------------------------------------------- results


def _runs(count: int) -> str:
    return f"{count} run{'s' * (count != 1)}"


def _results_markdown(spec: GridSpec, result: GridResult, runs: dict[str, GridRun]) -> str:
    first = spec.runs[0].config
    steps = counted(first.steps_per_epoch, "step") if first.steps_per_epoch else "one pass over the training set"
    budget = f"{_epochs(first.epochs)} of {steps}"
    lines = [
        f"# Grid search: {shown_path(spec.source.name)}",
        "",
        f"{_runs(len(spec.runs))} on `{shown_path(first.data)}` at {first.size}x{first.size}, each trained with seed "
        f"{first.seed} for {budget}. Scored image by image on {_scored_on(result)}; ranked by mean "
        f"{spec.rank_by.upper()}, best first.",
        "",
        result.table.to_markdown().rstrip("\n"),
        "",
        "| Rank | Run | Generator | Discriminator | Batch | lr G | beta1 G | lr D | beta1 D | Epochs "
        "| Training s | Mean epoch s | This invocation |",
        "|" + "---|" * 13,
    ]
    for rank, name in enumerate(result.ranking, 1):
        config, outcome = runs[name].config, result.outcomes[name]
        seconds = outcome.epoch_seconds
        lines.append(
            f"| {rank} | {name} | {config.generator} | {config.discriminator} | {config.batch_size} "
            f"| {config.lr_g:g} | {config.beta1_g:g} | {config.lr_d:g} | {config.beta1_d:g} | {len(seconds)} "
            f"| {sum(seconds):.1f} | {sum(seconds) / len(seconds):.2f} | {outcome.status} |")
    lines += [
        "",
        "Training s: the sum of the epoch durations in the run's metrics.jsonl (training steps only, without "
        f"validation and checkpoints); plotted per epoch in {DURATIONS_PLOT} (thesis fig. 5.5).",
        f"Samples on the same validation images: {SAMPLES_DIR}/{ALL_RUNS_GRID} (every run side by side) and "
        f"{SAMPLES_DIR}/NAME.png.",
        "",
    ]
    return "\n".join(lines)


def _scored_on(result: GridResult) -> str:
    """What the runs were scored on, for results.md (probe 133: a photo trained on, the data holding no other
    to hold out, was called a held-out validation image)."""
    images = f"image{'s' * (result.validation_images != 1)}"
    if result.validation_held_out:
        return f"{result.validation_images} held-out validation {images}"
    return (f"{result.validation_images} validation {images} that the runs also train on (the data has no other "
            "colour photo to hold out): the scores say how well they learnt it, not how they colour unseen photos")


def _config_named(spec: GridSpec) -> Path:
    """The config file that gave the search its settings: run from a copy, its original where the copy holds it
    as it is (probe 177: the copy named; probe 179: the original named, edited since)."""
    if not spec.read_from_original:
        return spec.source
    try:
        same = spec.copied_from.read_bytes() == _copy_body(spec.source.read_bytes())
    except OSError:
        same = False
    return spec.copied_from if same else spec.source


def _results_json(spec: GridSpec, result: GridResult, runs: dict[str, GridRun], out: Path) -> dict:
    from rehue.evaluation.metrics import GRAY_BASELINE

    table = result.table.to_dict()
    for row in table["rows"].values():
        row.pop("images")
    run_entries = {}
    for rank, name in enumerate(result.ranking, 1):
        config, outcome = runs[name].config, result.outcomes[name]
        run_entries[name] = {
            "rank": rank,
            **{key: getattr(config, key) for key in ("generator", "discriminator", "batch_size")},
            "optimiser": spec.optimisers[runs[name].optimiser],
            "status": outcome.status,
            "epochs": len(outcome.epoch_seconds),
            "epoch_seconds": outcome.epoch_seconds,
            "training_seconds": round(sum(outcome.epoch_seconds), 3),
            # from the search's folder, where results.json lies (probe 176: from where the command was typed)
            "folder": f"{RUNS_DIR}/{name}",
            "samples": f"{SAMPLES_DIR}/{name}.png",
            "per_image_metrics": f"{RUNS_DIR}/{name}/{RUN_EVALUATION}",
        }
    fixed = {key: value for key, value in spec.runs[0].config.to_dict().items()
             if key not in VARIED_BY and key != "out"}
    return {"config": os.path.abspath(_config_named(spec)), "fixed": fixed, "rank_by": spec.rank_by,
            "ranking": result.ranking,
            "validation_images": result.validation_images, "validation_held_out": result.validation_held_out,
            "baseline": GRAY_BASELINE, "runs": run_entries,
            "table": table}


def _check_held_out(spec: GridSpec, out: Path, validation: _Validation, names: set[str] | None = None,
                    log=None) -> None:
    """A frame dataset built again with another split after runs trained on it holds out a video they learnt
    from: their scores would not be held out, and the table would rank them by it (probe 46). A photo folder that
    gained, lost or renamed photos since a run trained holds out others, likewise (probe 77: scored and ranked
    against a gray row of the new photos without a word). ``names``: the runs to check (default: all). A run an
    older rehue trained kept no record of what it held out, and ``log`` is told it cannot be checked (probe 87:
    ranked on videos it had learnt, without a word)."""
    from rehue.data.datasets import frame_split_videos, is_frame_dir

    data = Path(spec.runs[0].config.data)
    checked = [run.name for run in spec.runs if names is None or run.name in names]
    cards = {name: _learnt_by_run(out / RUNS_DIR / name) for name in checked
             if (out / RUNS_DIR / name / "model.safetensors").is_file()}
    unchecked = []
    if not is_frame_dir(data):
        for name, training in cards.items():
            run_dir = out / RUNS_DIR / name
            if training.get("held_out_moved"):
                raise RehueError(f"run {name} held out other photos in some epochs than in others (the folder's photos "
                                 "or its manifest.csv changed while it trained): some of those it is scored on may be "
                                 f"ones it learnt from; delete {run_dir} to train it again, or train the grid into "
                                 "another --out", data)
            held = _held_out_by(run_dir, training)
            if held is None:
                unchecked.append(name)
            elif held != validation.held_out:
                raise RehueError(f"run {name} held out other photos than the folder holds out now (its photos or its "
                                 "manifest.csv changed since the run trained): some of those it would be scored on "
                                 f"may be ones it learnt from; put the folder back as it was, delete {run_dir} to "
                                 "train it again, or train the grid into another --out", data)
        _say_unchecked(unchecked, log)
        return
    held_out = frame_split_videos(data)["test"]
    for name, training in cards.items():
        if "videos" not in training and "held_out" not in training:
            unchecked.append(name)
        taught = sorted(held_out & set(training.get("videos") or ()))
        if taught:
            raise RehueError(f"run {name} was trained on {', '.join(taught[:3])}, which the frame dataset now "
                             "holds out (it was built again with another split): its scores would not be held out; "
                             "build it again with the split its runs trained with, or train the grid into another "
                             "--out", data)
    _say_unchecked(unchecked, log)


def _say_unchecked(names: list[str], log) -> None:
    if names and log is not None:
        one = len(names) == 1
        log(f"warning: run{'' if one else 's'} {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}: trained by "
            f"an older rehue, which kept no record of what {'it' if one else 'they'} held out, so whether "
            f"{'its scores are' if one else 'their scores are'} held out cannot be checked; if the data changed "
            f"since, delete {'its folder' if one else 'their folders'} to train {'it' if one else 'them'} again")


def _learnt_by_run(run_dir: Path) -> dict:
    """What a trained run's model card says it learnt from; where the card cannot be read (its model.json gone or
    damaged, which resuming the run writes again), what its newest checkpoint keeps of the same (probe 145: the
    search was refused, where `train --resume` mends the run)."""
    from rehue.models.io import read_card
    from rehue.training.checkpoint import load_latest
    from rehue.training.loop import CHECKPOINT_KEYS

    try:
        return read_card(run_dir / "model.safetensors").training
    except RehueError:
        loaded = load_latest(run_dir / "checkpoints", log=lambda line: None)
        if loaded is None:
            raise
        return {key: loaded[0][kept] for key, kept in CHECKPOINT_KEYS.items() if loaded[0].get(kept)}


def _held_out_by(run_dir: Path, training: dict) -> str | None:
    """The digest of what a run held out: its card's, else (a run of an older rehue, probe 78: it resumed, trained
    on the moved split and was refused only then) its newest checkpoint's."""
    from rehue.training.checkpoint import load_latest

    if "held_out" in training:
        return training["held_out"]
    try:
        loaded = load_latest(run_dir / "checkpoints", log=lambda line: None)
    except RehueError:
        return None
    return None if loaded is None else loaded[0].get("held_out")


def _written_by_a_search(path: Path) -> bool:
    """Whether ``path`` (results.md, grid.toml or results.json in a search's folder) reads as a search wrote it."""
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        if path.name == RESULTS_MARKDOWN:
            return text.startswith("# Grid search:")
        if path.name == CONFIG_COPY:
            return {"generators", "discriminators"} <= tomllib.loads(text).keys()
        found = json.loads(text)
        return isinstance(found, dict) and {"runs", "table"} <= found.keys()
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def _copied_from(text: str) -> Path | None:
    """The grid file that a copy a search wrote (``_config_copy``), of ``text``, was copied from, by its
    header."""
    first = text.split("\n", 1)[0]
    if first.startswith(f"{COPY_HEADER} ") and first.endswith(COPY_HEADER_END):
        named = first[len(COPY_HEADER) + 1 : -len(COPY_HEADER_END)]
        if named.startswith('"'):
            try:
                named = json.loads(named)
            except ValueError:
                return None
        return Path(named) if isinstance(named, str) else None  # before December 2026: the name as it is
    return None


def _config_copy(spec: GridSpec, out: Path) -> bytes:
    """The grid's TOML file as the search ran it, under lines that say where from: its relative paths are read
    from that file's folder, so this copy, in the search's folder, would read them elsewhere (stop 46: run
    again from the copy, a search of a demo grid said its data was not there, and with no ``out`` in the
    file started a new search in runs/grid)."""
    original = spec.copied_from or spec.source  # run from a copy: still its original (probe 98)
    # a name a line cannot show as it is, as a JSON string, which any name survives (probe 140: a newline or a
    # byte not UTF-8, shown as an escape, named no file when the copy was read)
    named = str(original.resolve())
    named = named if named.isprintable() and not named.startswith('"') else json.dumps(named)
    header = (f"{COPY_HEADER} {named}{COPY_HEADER_END}\n"
              f"# data {shown_path(spec.runs[0].config.data)}, search folder {shown_path(out.resolve())}\n")
    return header.encode() + _copy_body(spec.source.read_bytes())  # run from a copy: its own two lines give way


def _copy_body(text: bytes) -> bytes:
    """A grid file's text less the two lines a search's copy begins with (probe 85: run from a copy, they piled
    up)."""
    return text.split(b"\n", 2)[-1] if text.startswith(COPY_HEADER.encode()) else text


def _runs_of_a_search(runs: Path) -> bool:
    """Whether ``runs`` holds an earlier search's run folders: training runs, or folders a run killed before its
    first config.json left with its lock (probe 64), at least one named as a search names them (``run_name``);
    not an empty folder, nor the user's folders of photos or of hidden files alone (probes 65 and 66: taken for
    a search, and its results.md replaced), nor the user's own ``rehue train`` runs alone (probe 79: `train`'s
    default --out is runs/rehue, so `grid-search g.toml --out .` took a working folder for a search)."""
    from rehue.models.registry import list_models
    from rehue.training.loop import _RunLock, is_run

    named = re.compile(rf"({'|'.join(map(re.escape, list_models('generator')))})-"
                       rf"({'|'.join(map(re.escape, list_models('discriminator')))})-\d+(-opt\d+)?")
    found = [entry for entry in runs.iterdir() if not entry.name.startswith(".") and entry.is_dir()]
    return any(named.fullmatch(entry.name) for entry in found) and all(  # a run of the user's beside (probe 80)
        is_run(entry) or (entry / _RunLock.NAME).is_file() for entry in found)


def _check_grid_folder(out: Path, inputs: tuple[Path, ...]) -> None:
    """``out`` is new, empty, or an earlier search's (which is resumed): a folder of other files, whose
    results.md, grid.toml and samples/ the search's would replace, is refused (probe 61: replaced without a
    word). An earlier search is known by its runs/, a folder of run folders; the search's ``inputs`` (its
    TOML file, its photos, its --init model), or folders holding them, may lie there, but not in the
    folders it writes into (probe 64: its sample grids were written among the photos)."""
    from rehue.data.images import check_folder_can_be_made, real_path, refuse_a_folder_of_others

    if out.exists() and not out.is_dir():  # probe 92: "out/runs/gen1-disc1-4/metrics.jsonl: Not a directory"
        raise RehueError("is a file, not a folder; name a folder for the search (--out)", out)
    if not out.is_dir():
        check_folder_can_be_made(out)  # probe 94: one under a file said "Not a directory" as above
        return
    own = [real_path(path) for path in inputs]
    for folder in (SAMPLES_DIR, RUNS_DIR):  # where the search writes: the photos there would get its pictures
        if any(path.is_relative_to(real_path(out / folder)) for path in own[1:]):  # all but the TOML file
            raise RehueError(f"the search's photos or model lie in its {folder}/, where it writes its own; move them, "
                             "or name another folder for the search (--out)", out)
    runs = out / RUNS_DIR
    if runs.is_dir() and _runs_of_a_search(runs):
        for name in (RESULTS_MARKDOWN, CONFIG_COPY, RESULTS_JSON):  # the search's own, or none (probe 81: the
            if (out / name).exists() and not _written_by_a_search(out / name):  # user's, beside a run of theirs)
                raise RehueError(f"holds a {name} that does not read as a grid search's (another program's, or "
                                 "damaged), which the search's would replace; move it, or name another folder for "
                                 "the search (--out)", out)
        return
    written = [out / name for name in (RESULTS_MARKDOWN, CONFIG_COPY, RESULTS_JSON) if (out / name).exists()]
    no_runs = not runs.is_dir() or not [entry for entry in runs.iterdir() if not entry.name.startswith(".")]
    results = [path for path in written if path.name != CONFIG_COPY]  # a grid.toml alone may be the user's input
    if results and no_runs and all(_written_by_a_search(path) for path in written) and _the_searchs_own(out):
        return  # a search whose run folders were all deleted to train them again, as a refusal says (probe 113)
    refuse_a_folder_of_others(out, "grid search", "the search (--out)",
                              ignore=lambda entry: any(path.is_relative_to(real_path(entry)) for path in own))


def _the_searchs_own(out: Path) -> bool:
    """Whether ``out`` holds nothing but what a search writes: its results, its file's copy, its plot, its
    runs/ and its samples/ of its own pictures (probe 114: a user's folder holding a search's results beside
    their own files had a picture of theirs in samples/ replaced)."""
    from rehue.evaluation.report import written_by_a_report

    own = {RESULTS_MARKDOWN, RESULTS_JSON, CONFIG_COPY, DURATIONS_PLOT, SAMPLES_DIR, RUNS_DIR}
    entries = [entry for entry in out.iterdir() if not entry.name.startswith(".")]
    samples = [entry for entry in (out / SAMPLES_DIR).iterdir() if not entry.name.startswith(".")] \
        if (out / SAMPLES_DIR).is_dir() else []
    return all(entry.name in own for entry in entries) and all(
        entry.suffix == ".png" and entry.is_file() and written_by_a_report(entry, tagged=True) for entry in samples)


def run_grid(spec: GridSpec, out: str | Path | None = None, *, progress: bool = True, log=None) -> GridResult:
    """Train every run of ``spec`` (skipping finished ones, resuming interrupted ones), score them all on
    the same validation images and write results.md, results.json, epoch_durations.png and samples/."""
    check_flags(progress=progress)
    from rehue.evaluation.metrics import GRAY_BASELINE, MetricTable, evaluate_pair
    from rehue.evaluation.report import plot_lines, sample_grid
    from rehue.models.io import atomic_write_bytes
    from rehue.training.loop import launch_world_size

    if (world := launch_world_size()) > 1:  # probe 146: each run waited for peers, then advised torchrun, which
        # refuses a search
        raise UsageError(f"WORLD_SIZE is {world} in the environment, and a grid search trains its runs one after "
                         "another in one process: unset WORLD_SIZE to run it")
    # each warning once: the data's is said as the validation images are read and again by each run as it reads its
    # own (probe 197: a one-photo search's, twice for one run)
    log = said_once(lines_to(log, progress), prefix="warning: ")
    out = as_it_will_be(out if out is not None else spec.out)  # "grids/new/..": the folder it will be (probe 96)
    runs = {run.name: run for run in spec.runs}
    started = time.perf_counter()
    data = Path(spec.runs[0].config.data)
    if not data.exists():  # named by the file that names it (probe 68: the folder alone)
        from rehue.data.datasets import DEMO_HINT

        read_from = (f"the folder of {shown_path(spec.copied_from)}, this copy's original"
                     if spec.read_from_original else "this file's folder")
        raise RehueError(f"data is {data}, which is not there (a relative path is read from {read_from})"
                         f"{DEMO_HINT if data.name == 'demo' else ''}", spec.source)
    validation = _validation(spec.runs[0].config, spec.eval_images, log)  # missing data: refused, nothing made
    first = spec.runs[0].config
    _check_grid_folder(out, inputs=(spec.source, Path(first.data), *((Path(first.init),) if first.init else ())))
    _check_runs(spec, out)
    _check_memory(spec, out)
    _check_held_out(spec, out, validation, log=log)  # the runs of an earlier search, before any trains again
    made = make_missing_folders(out)

    outcomes = {}
    try:
        for index, run in enumerate(spec.runs, 1):
            label = f"[{index}/{len(spec.runs)}]"
            outcomes[run.name] = _train_run(run, out / RUNS_DIR / run.name, label, progress, log)
            left = _search_left([(later, out / RUNS_DIR / later.name) for later in spec.runs[index:]],
                                outcomes.values())
            if left and outcomes[run.name].status != "skipped":
                log(f"{label} {left}")
    except BaseException:
        remove_made_folders(made)  # probe 92: a first run that failed left the search's folder, empty
        raise

    # the runs trained now (the others were checked before, and an older run's checkpoint is not read twice)
    _check_held_out(spec, out, validation, {name for name, outcome in outcomes.items() if outcome.status != "skipped"})
    log(f"evaluating {_runs(len(spec.runs))} on {validation.count} validation image{'s' * (validation.count != 1)}")
    per_run, samples, means = {}, {}, {}
    for run in spec.runs:
        per_run[run.name], samples[run.name], cached = _evaluate_run(out / RUNS_DIR / run.name, run.config,
                                                                     validation, spec.sample_images, progress)
        means[run.name] = {metric: sum(getattr(m, metric) for m in per_run[run.name]) / validation.count
                           for metric in RANK_BY}
        log(f"  {run.name}: mean PSNR {means[run.name]['psnr']:.2f} dB, SSIM {means[run.name]['ssim']:.4f}"
            + (" (unchanged model, scores reused)" if cached else ""))

    ranking = sorted(runs, key=lambda name: means[name][spec.rank_by], reverse=True)
    table = MetricTable()
    sources = validation.sources or [None] * validation.count
    for name in ranking:
        for metrics, source in zip(per_run[name], sources, strict=True):
            table.add(name, metrics, source)
    for (gray, truth), source in zip(validation.first(validation.count), sources, strict=True):
        table.add(GRAY_BASELINE, evaluate_pair(gray, truth), source)

    paths = {"durations": plot_lines({run.name: outcomes[run.name].epoch_seconds for run in spec.runs},
                                     out / DURATIONS_PLOT, "epoch", "seconds",
                                     "Epoch duration per run (thesis fig. 5.5)")}
    references = validation.first(spec.sample_images)
    for name in ranking:
        rows = [(gray, truth, output)
                for (gray, truth), output in zip(references, samples[name], strict=True)]
        paths[f"samples {name}"] = sample_grid(rows, out / SAMPLES_DIR / f"{name}.png",
                                               titles=("Gray", "Ground truth", name),
                                               max_rows=spec.sample_images)
    side_by_side = [(gray, truth, *(samples[name][i] for name in ranking))
                    for i, (gray, truth) in enumerate(references)]
    paths["samples"] = sample_grid(side_by_side, out / SAMPLES_DIR / ALL_RUNS_GRID,
                                   titles=("Gray", "Ground truth", *ranking), max_rows=spec.sample_images)
    _remove_samples_of_other_runs(out, set(runs))

    result = GridResult(table, ranking, outcomes, paths, validation.count, not validation.trained_on)
    markdown = _results_markdown(spec, result, runs)
    document = json.dumps(_results_json(spec, result, runs, out), indent=2, allow_nan=False) + "\n"
    atomic_write_bytes(out / CONFIG_COPY, _config_copy(spec, out))
    atomic_write_bytes(out / RESULTS_MARKDOWN, markdown.encode())
    atomic_write_bytes(out / RESULTS_JSON, document.encode())
    paths["markdown"], paths["json"] = out / RESULTS_MARKDOWN, out / RESULTS_JSON

    counts = {status: sum(o.status == status for o in outcomes.values()) for status in ("trained", "resumed",
                                                                                          "skipped")}
    log(f"grid: {_runs(len(spec.runs))} ({', '.join(f'{n} {s}' for s, n in counts.items())}) in "
        f"{time.perf_counter() - started:.1f} s -> {out}")
    return result


def _remove_samples_of_other_runs(out: Path, names: set[str]) -> None:
    """The sample grids rehue drew of the folder's runs that this search does not hold (an earlier search of
    more batch sizes, say) are removed: beside its results they read as its own (probe 133). Their runs are
    kept, and a later search that holds them again draws them again."""
    from rehue.evaluation.report import written_by_a_report

    if not (out / RUNS_DIR).is_dir():
        return
    for run_dir in (out / RUNS_DIR).iterdir():
        sample = out / SAMPLES_DIR / f"{run_dir.name}.png"
        if run_dir.name not in names and sample.is_file() and written_by_a_report(sample, tagged=True):
            sample.unlink()


# --------------------------------------------------------------------------------------------- CLI


def add_grid_parser(sub) -> argparse.ArgumentParser:
    """Register ``rehue grid-search CONFIG [--out DIR] [--no-progress]`` on the CLI's subparsers."""
    p = sub.add_parser("grid-search", help="train and compare every generator/discriminator/batch size "
                       "combination (thesis 4.2.2, Table 5.2)")
    p.add_argument("config", type=Path, help="grid TOML file (see configs/grid_thesis.toml)")
    p.add_argument("--out", type=Path, default=None,
                   help="grid folder (default: the config's out, else runs/CONFIG_STEM); rerun to resume")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_grid_search)
    return p


def cmd_grid_search(args) -> int:
    spec = load_grid(args.config)
    try:
        result = run_grid(spec, args.out, progress=not args.no_progress, log=say)
    except KeyboardInterrupt:  # probe 115: train says how to go on, grid-search did not
        say("note: the same command goes on with the search: " + (
            "every run is trained, and only their scoring is left" if _all_trained(spec, args.out) else
            "the runs it finished are kept, and the one it stopped goes on from its last checkpoint, where it saved "
            "one"))
        raise
    print(result.table.to_markdown(), end="")
    print(f"results: {result.paths['markdown']}, {result.paths['json']}, {result.paths['durations']}, "
          f"{result.paths['samples']}", file=sys.stderr)
    return 0
