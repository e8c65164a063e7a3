"""Load a script of benchmarks/ as a module, and make a demo-shaped folder with one photo per held-out set."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PIL import Image

from tests.conftest import textured_rgb

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def held_out_demo(root: Path) -> Path:
    """``root``/photos with one small textured photo for each of the model card's five held-out sets."""
    for i, name in enumerate(["mate-backgrounds/Dune.jpg", "lomiri-wallpapers-16.04/life.jpg",
                              "gcompris-qt-data/clickgame/sea1.jpg", "tuxpaint-data/cliff.jpg",
                              "scratch/Outdoors/castle.jpg"]):
        path = root / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(textured_rgb(60, 80, seed=i)).save(path)
    return root
