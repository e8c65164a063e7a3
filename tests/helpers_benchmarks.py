"""Load a script of benchmarks/ as a module, and make demo-shaped folders: one photo per held-out set, or a
few training photos with a manifest; a finished training run."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

from PIL import Image

from tests.conftest import textured_rgb

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def held_out_demo(root: Path) -> Path:
    """``root``/photos with one small textured photo for each of the model card's six held-out sets."""
    for i, name in enumerate(["mate-backgrounds/Dune.jpg", "lomiri-wallpapers-16.04/life.jpg",
                              "gcompris-qt-data/clickgame/sea1.jpg", "tuxpaint-data/cliff.jpg",
                              "scratch/Outdoors/castle.jpg", "kphotoalbum/snow.jpg"]):
        path = root / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(textured_rgb(60, 80, seed=i)).save(path)
    return root


def demo_set(root, n_train=9):
    """A demo-shaped set: ``n_train`` training photos from two sources, one held-out photo and one stamp."""
    rows = []
    for i in range(n_train):
        path = f"photos/gcompris-qt-data/animals/a{i}.jpg" if i % 3 else f"photos/mate-backgrounds/m{i}.jpg"
        rows.append({"path": path, "kind": "photo", "split": "train", "weight": "1.0"})
    rows.append({"path": "photos/mate-backgrounds/Dune.jpg", "kind": "photo", "split": "test", "weight": "1.0"})
    rows.append({"path": "stamps/fruit/apple.png", "kind": "stamp", "split": "train", "weight": "1.0"})
    for i, row in enumerate(rows):
        row["source"] = row["path"].split("/")[1]  # as `rehue data demo` writes it
        (root / row["path"]).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(textured_rgb(40, 56, seed=i)).save(root / row["path"])
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root, [root / r["path"] for r in rows[:n_train]]


def fold_runs(root: Path):
    """(demo folder, its training photos, runs folder) for a benchmark that reads out_of_fold's folds: a
    demo-shaped set with one photo per held-out set, and three finished tiny fold models in runs/0-2."""
    from tests.conftest import make_tiny_model

    demo, training = demo_set(root / "demo")
    held_out_demo(demo)
    runs = root / "runs"
    for k in range(3):
        make_tiny_model(runs / str(k) / "model.safetensors", seed=k)
        finished(runs / str(k))
    return demo, training, runs


def finished(run, epochs=14):
    """A run directory as `rehue train` leaves it after ``epochs`` epochs (model file and metrics)."""
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "model.safetensors").exists():
        (run / "model.safetensors").write_bytes(b"kept")
    (run / "metrics.jsonl").write_text("".join(f'{{"epoch": {e}, "step": {50 * e}}}\n' for e in range(1, epochs + 1)))
    return run
