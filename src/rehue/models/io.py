"""A model on disk is ``NAME.safetensors`` plus ``NAME.json`` beside it: no pickle, ever.

The JSON says how to rebuild the architecture (name, input channels, working size, width), which
normalisation the weights expect, and where they came from (data, steps, metrics).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rehue.errors import RehueError, UsageError, path_exists
from rehue.words import counted

FORMAT_VERSION = 1
NORMALIZATION = "L/50-1, ab/110"
# Largest working size a model config may ask for: a bigger square canvas per frame is a broken or hostile
# config, not a model (the thesis models work at 32 to 256).
MAX_MODEL_SIZE = 4096
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "weights"


@dataclass
class ModelCard:
    architecture: str
    in_channels: int
    size: int
    width: int
    role: str = "independent"  # "independent" (L* in) or "dependent" (L* + previous a*b*)
    normalization: str = NORMALIZATION
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    # restraint applied to the predicted a*b*: "chroma" scales it, "ab_smoothing" is a Gaussian sigma in
    # pixels at the working size (colour is low-frequency; the generator's chroma speckle is not), or
    # "ab_guide_radius" and "ab_guide_eps" smooth it along the gray input instead (a guided filter);
    # a dependent model's "drift_check_every", "drift_ratio", "drift_anchor" and "drift_release" ease
    # its colour back towards the independent model's where it fades (rehue.video.pipeline.DriftCheck)
    inference: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, data: dict, path: Path) -> ModelCard:
        known = list(cls.__dataclass_fields__)
        missing = [k for k in ("architecture", "in_channels", "size", "width") if k not in data]
        if missing:
            raise RehueError(f"model config lacks {', '.join(missing)}", path)
        if not isinstance(data["architecture"], str):
            raise RehueError(f"architecture must be a name, not {data['architecture']!r}", path)
        for key in ("in_channels", "size", "width"):
            if type(data[key]) is not int or data[key] < 1:
                raise RehueError(f"{key} must be a positive whole number, not {data[key]!r}", path)
        if data["size"] > MAX_MODEL_SIZE:
            raise RehueError(f"size {data['size']} is above the limit of {MAX_MODEL_SIZE}", path)
        version = data.get("format_version", FORMAT_VERSION)
        if type(version) is not int or version > FORMAT_VERSION:
            raise RehueError(f"model format {version!r} is newer than this rehue reads ({FORMAT_VERSION}); "
                             "upgrade rehue", path)
        for key in ("training", "metrics", "inference"):
            if not isinstance(data.get(key, {}), dict):
                raise RehueError(f"{key} must be a JSON object", path)
        _check_training_record(data.get("training", {}), path)
        unknown = [key for key in data if key not in known]
        if unknown:  # probe 128: "chroma": 0 beside "inference", not in it, coloured fully without a word
            raise RehueError(_unknown_field(str(unknown[0]), known), path)
        card = cls(**data)
        if card.normalization != NORMALIZATION:
            raise RehueError(f"unsupported normalisation {card.normalization!r}", path)
        if card.in_channels not in (1, 3):
            raise RehueError(f"in_channels must be 1 or 3, not {card.in_channels}", path)
        role = "dependent" if card.in_channels == 3 else "independent"
        if card.role != role:  # the channels decide what a model is fed; a role that says otherwise misleads
            raise RehueError(f"role {card.role!r} does not fit in_channels {card.in_channels}: a model of "
                             f"{counted(card.in_channels, 'input channel')} is {role}", path)
        return card


def _unknown_field(key: str, known) -> str:
    """A model config's field rehue does not read, in words: an inference setting out of its block, a
    misspelling, or another."""
    import difflib

    if key in (*INFERENCE_RANGES, *NAMED_SETTINGS):
        return f"{key} is an inference setting: it goes inside \"inference\", where it is read"
    near = difflib.get_close_matches(key, known, n=1)
    return f"model config has no field {key!r}" + (f" (did you mean {near[0]!r}?)" if near else
                                                  f"; its fields are {', '.join(known)}")


def _check_training_record(training: dict, path: Path) -> None:
    """What a card's ``training`` says of the data a model learnt from, which `evaluate` and `train --init`
    read: a path, and lists of paths, clip names and fingerprints (probe 128: a number there ended both in a
    TypeError traceback)."""
    if training.get("data") is not None and not isinstance(training["data"], str):
        raise RehueError(f"training.data must be a folder's path (a string), not {training['data']!r}", path)
    for key in ("earlier_data", "videos", "video_fingerprints"):
        value = training.get(key, [])
        if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            raise RehueError(f"training.{key} must be a list of strings, not {value!r}", path)


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, as hex: which model a run or a colour version came from."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it and rename it into place; a failure
    (a full disk) is a RehueError naming ``path``, and leaves ``path`` as it was."""
    atomic_write_files({Path(path): data})


def atomic_write_files(contents: dict[Path, bytes]) -> None:
    """``atomic_write_bytes`` of each file, none renamed into place before every one is written: a disk that
    filled between a model's weights and its config left one epoch's weights beside another's card (probe 207)."""
    temps: dict[Path, Path] = {}
    path = None
    try:
        for path, data in contents.items():
            if path.is_dir():  # before any is written: its rename would fail after another's (probe 210)
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            temps[path] = path.with_name(f".{path.name}.tmp{os.getpid()}")
            with open(temps[path], "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for path, tmp in temps.items():
            os.replace(tmp, path)
    except OSError as exc:
        raise RehueError(f"cannot write ({exc.strerror or exc})", path) from None
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def save_model(generator, card: ModelCard, path: str | Path) -> Path:
    """Write ``path`` (.safetensors) and its JSON config; returns the .safetensors path."""
    from safetensors.torch import save

    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    atomic_write_files({path: save(tensors, metadata={"format": "pt"}),
                        path.with_suffix(".json"): (json.dumps(asdict(card), indent=2) + "\n").encode()})
    return path


# The shipped model each job gets unless told which. Photos and films may have models of their own: the
# shipped dependent model learned to carry the video model's colours only (docs/model-card.md, "Colour as
# classes": a photo model of another kind made it drift). Today both are the thesis' cGAN model.
DEFAULT_MODELS = {"independent": "rehue-gen2-128-independent", "video": "rehue-gen2-128-independent",
                  "dependent": "rehue-gen2-128-dependent"}


def default_model_name(role: str) -> str | None:
    """The shipped model a ``role`` ("independent", "video" or "dependent") gets by default: the one
    ``DEFAULT_MODELS`` names when it is installed, else the first shipped model of that role, else None."""
    shipped = shipped_models()
    name = DEFAULT_MODELS.get(role)
    if name in shipped:
        return name
    suffix = "-dependent" if role == "dependent" else "-independent"
    return next((name for name in shipped if name.endswith(suffix)), None)


# the restraint a model's JSON may set ("inference"), and the values each may take
INFERENCE_RANGES = {"temperature": (0.05, 4.0), "prior_mean_removal": (0.0, 2.0), "chroma": (0.0, 4.0),
                    "mean_share": (0.0, 1.0), "ab_smoothing": (0.0, 32.0), "ab_guide_radius": (0, 32),
                    "ab_guide_eps": (1e-6, 1.0), "drift_check_every": (1, 1000), "drift_ratio": (0.0, 4.0),
                    "drift_anchor": (0.0, 1.0), "drift_release": (0.0, 4.0)}
WHOLE_NUMBER_SETTINGS = ("ab_guide_radius", "drift_check_every")
NAMED_SETTINGS = ("fit", "borders")  # names, checked by the Colorizer against its choices


def shipped_models() -> dict[str, Path]:
    """The shipped models by name."""
    return {p.stem: p for p in _visible(SHIPPED_DIR, "*.safetensors") if p.with_suffix(".json").exists()}


def _visible(folder: Path, pattern: str) -> list[Path]:
    """The files of ``folder`` that ``pattern`` matches, sorted, less hidden ones: a Mac's "._model.safetensors"
    is no model (probes 128 and 131)."""
    return sorted(path for path in folder.glob(pattern) if not path.name.startswith("."))


def incomplete_shipped_models() -> dict[str, str]:
    """The shipped models of which one of the two files is missing, and which: a damaged installation (probe 130:
    a model without its .json was left out of `rehue models` without a word, and colorize said none was shipped).
    Hidden files (a Mac's "._name.json") are none of them."""
    stems = {p.stem for pattern in ("*.safetensors", "*.json") for p in _visible(SHIPPED_DIR, pattern)}
    incomplete = {}
    for stem in sorted(stems):
        missing = [suffix for suffix in (".safetensors", ".json") if not (SHIPPED_DIR / f"{stem}{suffix}").exists()]
        if missing:
            what = "weights (.safetensors)" if missing[0] == ".safetensors" else "config (.json)"
            incomplete[stem] = f"its {what} missing"
    return incomplete


CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


def _utf8_name(path: Path) -> bool:
    """Whether ``path`` can be given to safetensors, which opens only names in UTF-8 (probe 140: a model trained
    into a folder named in Latin-1 was "not a readable safetensors file", whatever it held)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _tensors_of(path: Path) -> dict:
    """The tensors of the safetensors file ``path``, read by its name or, where safetensors cannot open the name,
    from its bytes."""
    from safetensors import SafetensorError
    from safetensors.torch import load, load_file

    try:
        return load_file(str(path)) if _utf8_name(path) else load(Path(path).read_bytes())
    except (SafetensorError, OSError, ValueError) as exc:
        raise RehueError(f"not a readable safetensors file ({exc})", path) from None


def stored_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Each tensor's shape, from the safetensors header alone (from the whole file, where its name is not UTF-8)."""
    from safetensors import SafetensorError, safe_open

    if not _utf8_name(path):
        return {key: tuple(tensor.shape) for key, tensor in _tensors_of(path).items()}
    try:
        with safe_open(str(path), "pt") as weights:
            return {key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise RehueError(f"not a readable safetensors file ({exc})", path) from None


def _check_numbers(path: Path, tensors: dict, expected: dict) -> None:
    """Each tensor of the kind of number its layer holds, and every weight finite (probe 128: NaN or infinite
    weights coloured every photo a saturated orange-red, exit 0; whole numbers and booleans were cast without a
    word)."""
    import torch

    for key, tensor in tensors.items():
        if tensor.is_floating_point() != expected[key].is_floating_point():
            kind = "floating-point numbers" if expected[key].is_floating_point() else "whole numbers"
            raise RehueError(f"weights {key} are {str(tensor.dtype).removeprefix('torch.')}, not {kind}", path)
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise RehueError(f"weights {key} hold NaN or infinite values: the file is damaged, or its training "
                             "diverged", path)


def _check_shapes(path: Path, card: ModelCard, model, stored: dict[str, tuple[int, ...]]) -> None:
    """The weights' names and shapes against the model's (built on the meta device: no memory); a tensor the
    model may do without (``optional_state``) may be missing, unless a setting of the config needs it."""
    expected = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    for key, setting in getattr(model, "optional_state", {}).items():
        if key not in stored and card.inference.get(setting):
            raise RehueError(f"inference {setting} needs {key}, which these weights lack (saved by an older "
                             "rehue); retrain, or drop the setting", path.with_suffix(".json"))
    optional = set(getattr(model, "optional_state", {}))
    missing = sorted(set(expected) - set(stored) - optional)
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise RehueError(
            f"weights do not match {card.architecture} (missing {len(missing)}, unexpected {len(unexpected)}"
            f"{': ' + (missing or unexpected)[0] if missing or unexpected else ''})", path)
    for key, shape in stored.items():
        if shape != expected[key]:
            raise RehueError(f"shape mismatch for {key}: file {shape}, model {expected[key]}", path)


def resolve_model_path(spec: str | Path) -> Path:
    """A shipped model's name, or a path to a .safetensors/.json file (or a folder holding one)."""
    if not isinstance(spec, (str, os.PathLike)):  # probe 75: a Colorizer was "<...object at 0x...>: no such file"
        raise UsageError(f"a model is named by a shipped model's name or its file's path, not a {type(spec).__name__}")
    spec_str = str(spec)
    if not spec_str:  # "" is ".": a folder holding one model would have been loaded without a word
        raise UsageError("an empty name names no model")
    shipped = shipped_models()
    if spec_str in shipped:
        return shipped[spec_str]
    path = Path(spec_str).expanduser()
    if path_exists(path) and path.is_dir():
        found = _visible(path, "*.safetensors")
        if not found:
            runs = sorted(run.parent for run in path.glob("runs/*/model.safetensors"))  # a grid search's folder
            raise RehueError("folder holds no .safetensors model" + (  # (probe 172: not a word of its runs)
                f"; its runs do, one model each: name one, such as {runs[0]}" if runs else ""), path)
        if len(found) > 1:
            raise RehueError(f"folder holds {len(found)} .safetensors models, such as {found[0].name} and "
                             f"{found[1].name}; name the one to use", path)
        path = found[0]
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
        if not path.exists() and Path(spec_str).expanduser().is_file():  # probe 88: "no such model file"
            raise RehueError(f"the weights beside this model card are missing ({path.name})", spec_str)
    if not path.exists():
        names = ", ".join(shipped) or "none are installed"
        raise RehueError(f"no such model file or shipped model name (shipped: {names})", spec_str)
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        run_model = path.parent.parent / "model.safetensors"
        hint = f"pass {run_model}" if run_model.exists() else "pass the model.safetensors its run wrote"
        raise RehueError(f"is a training checkpoint (for `rehue train --resume`), not a model; {hint}", path)
    if path.suffix.lower() != ".safetensors":
        raise RehueError("is not a model: a model is a .safetensors file with its .json config beside it", path)
    return path


MAX_CONFIG_BYTES = 4 << 20  # a model's or a run's JSON: a few kB; a larger one is no config


def read_json_file(path: Path, what: str, kind: str, max_bytes: int = MAX_CONFIG_BYTES):
    """A small JSON file, from strangers too: a pipe or a device (a link to /dev/zero) is refused before it
    is opened, a file above ``max_bytes`` before it is read, and nesting too deep for Python's parser is
    one line, as is any other fault. ``what``: "model config"; ``kind``: "a model config"."""
    status = regular_file_status(path, kind)
    if status.st_size > max_bytes:
        raise RehueError(f"{what} is {status.st_size:,} bytes, more than any rehue writes (limit {max_bytes:,})",
                         path)
    try:
        with open(path, "rb") as file:
            return json.loads(file.read(max_bytes + 1))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RehueError(f"{what} is not valid JSON ({exc})", path) from None
    except RecursionError:
        raise RehueError(f"{what} is not valid JSON (nested too deep)", path) from None
    except OSError as exc:
        raise RehueError(f"cannot read {what} ({exc.strerror or exc})", path) from None


def regular_file_status(path: Path, what: str) -> os.stat_result:
    """``os.stat`` of ``path``, which must be a file: opening a pipe waits for a writer (in C code that Ctrl-C
    does not reach), and a device such as /dev/zero never ends."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise RehueError("no such file", path) from None
    except OSError as exc:
        raise RehueError(f"cannot read {what} ({exc.strerror or exc})", path) from None
    if stat.S_ISDIR(status.st_mode):
        raise RehueError(f"is a folder, not {what}", path)
    if not stat.S_ISREG(status.st_mode):
        raise RehueError(f"is a pipe or a device, not {what}", path)
    return status


def read_card(path: Path) -> ModelCard:
    config = path.with_suffix(".json")
    if not os.path.lexists(config):
        raise RehueError("model config (.json) missing beside the weights", config)
    data = read_json_file(config, "model config", "a model config")
    if not isinstance(data, dict):
        raise RehueError("model config must be a JSON object", config)
    return ModelCard.from_dict(data, config)


def inference_problem(inference: dict, named: bool = True) -> str | None:
    """What is wrong with a model's inference settings (its JSON's, or a checkpoint's restraint), or None: a
    setting it has no such (probe 61: a misspelt one was left unused without a word; ``named``: the fit and
    borders, by name, may be there), or a value out of its range."""
    known = [*INFERENCE_RANGES, *(NAMED_SETTINGS if named else ())]
    unknown = [key for key in inference if key not in known]
    if unknown:
        import difflib

        near = difflib.get_close_matches(str(unknown[0]), known, n=1)
        return f"inference has no setting {unknown[0]!r}" + (f" (did you mean {near[0]!r}?)" if near else
                                                             f"; its settings are {', '.join(known)}")
    for key, (low, high) in INFERENCE_RANGES.items():
        value = inference.get(key)
        whole = key in WHOLE_NUMBER_SETTINGS
        if value is not None and (not isinstance(value, int if whole else (int, float)) or isinstance(value, bool)
                                  or not low <= value <= high):
            return f"inference {key} must be {'a whole number' if whole else 'a number'} from {low:g} to {high:g}, " \
                f"not {value!r}"
    return None


def load_model(spec: str | Path, device: str = "cpu"):
    """Rebuild the generator from its config and load its weights, checking every name and shape."""
    import torch

    from rehue.models.registry import create_model

    path = resolve_model_path(spec)
    card = read_card(path)
    regular_file_status(path, "a model's weights")
    try:  # first without memory: a config of a huge width would otherwise allocate terabytes before the check
        with torch.device("meta"):
            skeleton = create_model(card.architecture, in_channels=card.in_channels, size=card.size,
                                    width=card.width, role="generator")
    except UsageError as exc:  # the config, not the command line, names a model rehue cannot build
        raise RehueError(exc.reason, path.with_suffix(".json")) from None
    except (RuntimeError, ValueError, OverflowError) as exc:  # a width past what PyTorch can even count
        raise RehueError(f"cannot build {card.architecture} of width {card.width} and size {card.size} "
                         f"({str(exc).splitlines()[0][:120]})", path.with_suffix(".json")) from None
    _check_shapes(path, card, skeleton, stored_shapes(path))
    with torch.random.fork_rng(devices=[]):  # the caller's random numbers stay as they were: the layers'
        model = create_model(card.architecture, in_channels=card.in_channels, size=card.size,  # random start
                             width=card.width, role="generator")  # is replaced by the weights anyway
    tensors = _tensors_of(path)
    expected = model.state_dict()
    for key in getattr(model, "optional_state", {}):  # lacking from older files, and not needed (_check_shapes)
        tensors.setdefault(key, expected[key])
    _check_numbers(path, tensors, expected)
    model.load_state_dict(tensors)
    problem = inference_problem(card.inference)
    if problem:
        raise RehueError(problem, path.with_suffix(".json"))
    for key in INFERENCE_RANGES:  # the settings a model applies itself (a class model's temperature, ...)
        if hasattr(model, key) and key in card.inference:
            setattr(model, key, float(card.inference[key]))
    return model.to(device).eval(), card
