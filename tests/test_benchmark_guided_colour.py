"""benchmarks/guided_colour.py (a*b* smoothed along L* in place of the Gaussian) on tiny models and made-up photos."""

import numpy as np
import pytest

from tests.helpers_benchmarks import fold_runs, load_benchmark


@pytest.fixture
def guided():
    return load_benchmark("guided_colour")


def test_each_smoothing_is_the_shipped_gaussian_or_a_guided_filter_of_the_raw_colour(guided):
    from rehue.inference.colorizer import guided_filter

    gray = np.tile(np.arange(32, dtype=np.uint8) * 8, (32, 1))
    raw = np.random.default_rng(1).normal(0, 0.2, (2, 32, 32)).astype(np.float32)
    found = guided.smoothers([2, 4], [1e-3])
    assert list(found) == ["Gaussian 1.5", "guided R 2 EPS 0.001", "guided R 4 EPS 0.001"]
    assert np.allclose(found["guided R 4 EPS 0.001"](gray, raw), guided_filter(gray / 255, raw, 4, 1e-3))
    assert np.allclose(found["Gaussian 1.5"](gray, raw), guided.gaussian(raw))
    assert not np.allclose(found["guided R 2 EPS 0.001"](gray, raw), found["guided R 4 EPS 0.001"](gray, raw))


def test_main_scores_each_smoothing_on_the_cross_validation_and_the_held_out_sets(tmp_path, guided, monkeypatch,
                                                                                  capsys):
    demo, training, runs = fold_runs(tmp_path)
    monkeypatch.setattr("sys.argv", ["guided_colour.py", "--demo", str(demo), "--runs", str(runs), "--model",
                                     str(runs / "0" / "model.safetensors"), "--radii", "4", "--eps", "0.01",
                                     "--scales", "0.5", "1", "--out", str(tmp_path / "pictures")])
    guided.main()
    printed = capsys.readouterr().out
    assert f"cross-validation over the {len(training)} training photos" in printed
    rows = [line.split("|") for line in printed.splitlines() if line.startswith(("| Gaussian", "| guided"))]
    assert [(row[1].strip(), row[2].strip()) for row in rows[:4]] == [
        ("Gaussian 1.5", "0.5"), ("guided R 4 EPS 0.01", "0.5"), ("Gaussian 1.5", "1"), ("guided R 4 EPS 0.01", "1")]
    assert rows[0][3] != rows[1][3], "the two smoothings colour differently"
    assert float(rows[2][5]) > float(rows[0][5]), "a larger scale gives more colour"
    held_out = rows[4:]
    assert all(len(row) == 9 for row in rows[:4]), "seven columns in the cross-validation"
    assert len(held_out) == 2 and all(len(row) == 9 for row in held_out), "six held-out sets per smoothing"
    assert "time per picture, milliseconds" in printed and "guided R 4 EPS 0.01 " in printed.splitlines()[-2]
    from PIL import Image

    with Image.open(tmp_path / "pictures" / "guided.png") as grid:
        assert grid.size == (4 * 160, 22 + 6 * 160), "gray | truth | Gaussian | guided, one row per held-out set"


def test_full_resolution_scores_whole_photos_with_and_without_a_second_filter(tmp_path, guided):
    from PIL import Image

    from rehue.inference.colorizer import Colorizer
    from tests.conftest import make_tiny_model, textured_rgb

    model = make_tiny_model(tmp_path / "m.safetensors")
    photos = []
    for seed, size in enumerate([(96, 128), (20, 24)]):  # one upsampled, one smaller than the model's canvas
        photos.append(tmp_path / f"{seed}.png")
        Image.fromarray(textured_rgb(*size, seed=seed)).save(photos[-1])
    colorizer = Colorizer.load(model, device="cpu", chroma=0.5, ab_guide=(2, 0.01))
    rows = guided.full_resolution_scores(colorizer, photos, [1, 3])
    assert list(rows) == ["as shipped", "full-resolution guide K 1", "full-resolution guide K 3"]
    assert all(len(row["psnr"]) == 2 for row in rows.values())
    shipped, wide = rows["as shipped"], rows["full-resolution guide K 3"]
    assert wide["psnr"][0] != shipped["psnr"][0], "an upsampled photo is filtered again"
    assert wide["psnr"][1] == shipped["psnr"][1], "a photo no larger than the canvas is left alone"
