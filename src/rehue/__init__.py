"""rehue: bring colour back to grayscale photos and films with conditional GANs.

Library API (the CLI is a thin layer over it)::

    import rehue
    colorizer = rehue.Colorizer.load("default")       # or a path to NAME.safetensors
    rgb = colorizer.colorize("scan.jpg")               # or an array or PIL image; same size, its L* kept

    rehue.train(rehue.TrainConfig(data="photos/", out="runs/a", size=128))
"""

__version__ = "0.1.0"

_LAZY = {
    "Colorizer": "rehue.inference.colorizer",
    "TrainConfig": "rehue.training.config",
    "train": "rehue.training.loop",
    "create_model": "rehue.models.registry",
    "list_models": "rehue.models.registry",
    "load_model": "rehue.models.io",
    "RehueError": "rehue.errors",
}

__all__ = [*_LAZY, "colorize", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rehue' has no attribute {name!r}")


_COLORIZERS: dict = {}


def colorize(image, model: str = "default", device: str = "auto"):
    """Colour one image (numpy array, PIL image or file path); the model is loaded once and reused."""
    from rehue.inference.colorizer import Colorizer

    key = (str(model), device)
    if key not in _COLORIZERS:
        _COLORIZERS[key] = Colorizer.load(model, device=device)
    return _COLORIZERS[key].colorize(image)
