"""rehue: bring colour back to grayscale photos and films with conditional GANs.

Library API (the CLI is a thin layer over it)::

    import rehue
    colorizer = rehue.Colorizer.load("default")       # or a path to NAME.safetensors
    rgb = colorizer.colorize("scan.jpg")               # or an array or PIL image; same size, its L* kept
    colorizer.colorize_video("film.mp4", "film-colour.mp4")   # scenes, the dependent model, sound kept

    rehue.evaluate("default", ["photos/"], "report/")  # PSNR/SSIM beside the gray answer, with pictures

    rehue.train(rehue.TrainConfig(data="photos/", out="runs/a", size=128))
"""

import threading

__version__ = "0.1.0"

_LAZY = {
    "Colorizer": "rehue.inference.colorizer",
    "TrainConfig": "rehue.training.config",
    "train": "rehue.training.loop",
    "create_model": "rehue.models.registry",
    "list_models": "rehue.models.registry",
    "load_model": "rehue.models.io",
    "RehueError": "rehue.errors",
    "UsageError": "rehue.errors",
    "evaluate": "rehue.evaluation.evaluate",
}

__all__ = [*_LAZY, "colorize", "colorize_video", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rehue' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})  # the lazy names too, as a notebook's completion offers them (probe 88)


_COLORIZERS: dict = {}
_LOADING = threading.Lock()


def _colorizer(model, device):
    """The model loaded once per device, "auto" and the device it picks being one: a server's threads calling
    at once wait for one load (each loaded a copy of its own, probe 104)."""
    from rehue.inference.colorizer import Colorizer, resolve_device

    key = (*_model_key(model), _one_name(resolve_device(device)))
    if key in _COLORIZERS:  # no wait behind another model's load
        return _COLORIZERS[key]
    with _LOADING:
        if key not in _COLORIZERS:
            for earlier in [other for other in _COLORIZERS if other[0] == key[0] and other[-1] == key[-1]]:
                del _COLORIZERS[earlier]  # the file's model before it was replaced
            _COLORIZERS[key] = Colorizer.load_independent(model, device=key[-1])
        return _COLORIZERS[key]


def _model_key(model) -> tuple:
    """A model by what it is: a shipped one by its name; a file (or a folder holding one) by its absolute path and
    its files' sizes and times, so that a relative name read from another folder is another model and a file
    replaced is loaded again (probe 147: the first model of a name kept colouring, without a word)."""
    from rehue.models.io import resolve_model_path, shipped_models

    if isinstance(model, str) and model in ("default", *shipped_models()):
        return (model, ())
    path = resolve_model_path(model).resolve()
    files = [file for file in (path, path.with_suffix(".json")) if file.exists()]
    return (str(path), tuple((file.stat().st_mtime_ns, file.stat().st_size) for file in files))


def _one_name(device: str) -> str:
    """One name for each device: "cuda" is the GPU in use, "cuda:0" on most machines; "mps:0" is "mps"."""
    import torch

    named = torch.device(device)
    if named.type == "cuda":
        return f"cuda:{torch.cuda.current_device() if named.index is None else named.index}"
    return named.type


def colorize(image, model: str = "default", device: str = "auto"):
    """Colour one image (numpy array, PIL image or file path); the model is loaded once and reused."""
    return _colorizer(model, device).colorize(image)


def colorize_video(source, target, model: str = "default", device: str = "auto", **options):
    """Colour one video file into ``target`` (see ``Colorizer.colorize_video`` for ``options``)."""
    return _colorizer(model, device).colorize_video(source, target, **options)
