"""benchmarks/restraint.py (the model card's restraint table) on a tiny model and a demo-shaped folder."""

import importlib.util
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import textured_rgb

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "restraint.py"


@pytest.fixture
def restraint():
    spec = importlib.util.spec_from_file_location("restraint", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_scores_each_held_out_set_at_each_scale(tmp_path, tiny_model, restraint):
    demo = tmp_path / "demo"
    for i, name in enumerate(["mate-backgrounds/Dune.jpg", "lomiri-wallpapers-16.04/life.jpg",
                              "gcompris-qt-data/clickgame/sea1.jpg"]):
        path = demo / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(textured_rgb(60, 80, seed=i)).save(path)
    sets = restraint.held_out_photos(demo)
    assert [len(paths) for paths in sets.values()] == [1, 1, 1]
    table = restraint.sweep(str(tiny_model), sets, [0.5, 1.0])
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen"]
    for row in table.values():
        assert list(row) == ["0.5", "1", "raw"]
        assert row["1"][1] > row["0.5"][1] > 0, "twice the chroma scale gives more colour"


def test_a_missing_demo_set_is_one_clear_message(tmp_path, restraint):
    with pytest.raises(SystemExit, match="rehue data demo"):
        restraint.held_out_photos(tmp_path / "nowhere")
