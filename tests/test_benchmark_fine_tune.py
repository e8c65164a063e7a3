"""benchmarks/fine_tune.py (the model card's fine-tuning figures) on a tiny model and cut-outs made here."""

import json

import numpy as np
from PIL import Image

from tests.helpers_benchmarks import load_benchmark


def cutout(colour, height=40, width=30) -> np.ndarray:
    """An opaque ellipse of one colour on a transparent square."""
    yy, xx = np.mgrid[0:height, 0:width]
    inside = ((yy - height / 2) / (height / 2)) ** 2 + ((xx - width / 2) / (width / 2)) ** 2 <= 1
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[inside] = (*colour, 255)
    return rgba


def test_a_catalogue_photo_is_the_cut_out_on_a_neutral_backdrop():
    fine_tune = load_benchmark("fine_tune")
    photo = fine_tune.catalogue_photo(np.dstack([np.full((100, 100, 3), (200, 30, 30), np.uint8),
                                                 np.full((100, 100), 255, np.uint8)]), np.random.default_rng(0))
    assert photo.shape == (fine_tune.CANVAS, fine_tune.CANVAS, 3)
    red = (photo[..., 0] > 150) & (photo[..., 1] < 80)
    assert 0.6 ** 2 - 0.02 < red.mean() < 0.9 ** 2 + 0.02, "the cut-out fills 60-90% of the side"
    spread = photo[~red].max(axis=1).astype(int) - photo[~red].min(axis=1)
    assert np.percentile(spread, 99) <= 1, "the backdrop around it is gray"


def test_fine_tuning_splits_by_cut_out_keeps_the_restraint_and_scores_three_ways(tmp_path, tiny_model,
                                                                                tiny_dependent_model, monkeypatch,
                                                                                capsys):
    fine_tune = load_benchmark("fine_tune")
    for i in range(6):
        kind = ("food/fruit", "plants/flowers")[i % 2]
        path = tmp_path / "demo" / "stamps" / kind / f"c{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(cutout((40 * i, 200, 255 - 40 * i))).save(path)
    (tmp_path / "demo" / "stamps" / "animals").mkdir()
    Image.fromarray(cutout((10, 10, 10))).save(tmp_path / "demo" / "stamps" / "animals" / "not-a-plant.png")
    config_path = tiny_model.with_suffix(".json")
    config = json.loads(config_path.read_text())
    config["inference"] = {"chroma": 0.5, "ab_smoothing": 1.5}
    config_path.write_text(json.dumps(config))
    work = tmp_path / "work"
    monkeypatch.setattr("sys.argv", ["fine_tune.py", "--model", str(tiny_model), "--demo", str(tmp_path / "demo"),
                                     "--work", str(work), "--steps", "2", "--batch-size", "4",
                                     "--out", str(tmp_path / "out"), "--video", "--dependent-model",
                                     str(tiny_dependent_model), "--pan-frames", "12"])
    fine_tune.main()
    out = capsys.readouterr().out
    assert "catalogue: 15 training photos, 3 held-out photos" in out, "five cut-outs to train, the fourth held out"
    held_out = sorted(p.name for p in (work / "catalogue" / "test").iterdir())
    assert held_out == ["plants-flowers-c1-0.png", "plants-flowers-c1-1.png", "plants-flowers-c1-2.png"]
    assert json.loads((work / "run" / "model.json").read_text())["inference"] == {"chroma": 0.5, "ab_smoothing": 1.5}
    assert json.loads((work / "unrestrained" / "model.json").read_text())["inference"] == {"chroma": 1.0,
                                                                                           "ab_smoothing": 0.0}
    rows = [line for line in out.splitlines() if line.startswith("| ") and " of 3 | " in line]
    assert [row.split(" | ")[0] for row in rows] == ["| before", "| fine-tuned (keeps the restraint of the model it "
                                                     "started from)", "| fine-tuned, unrestrained"]
    before = json.loads((tmp_path / "out" / "before" / "metrics.json").read_text())
    assert before["extra"]["model"] == str(tiny_model)
    pans = json.loads((tmp_path / "out" / "pans.json").read_text())
    assert list(pans) == ["before (the shipped pair)", "fine-tuned, with the dependent model of before",
                          "fine-tuned alone on every frame", "fine-tuned, with a dependent model fine-tuned beside it",
                          "truth"]
    alone, paired = (pans[label] for label in ("fine-tuned alone on every frame",
                                               "fine-tuned, with a dependent model fine-tuned beside it"))
    assert 0 < alone["ab_error"] and 0 < paired["ab_error"] and alone != paired
    dependent_config = json.loads((work / "dependent" / "model.json").read_text())
    assert dependent_config["in_channels"] == 3 and dependent_config["training"]["init"] == str(work / "run" /
                                                                                               "model.safetensors")
    width, height = Image.open(tmp_path / "out" / "fine-tune.png").size
    assert width == 4 * 160 and 160 < height < 2 * 160, "gray | before | fine-tuned | truth, one held-out cut-out"
