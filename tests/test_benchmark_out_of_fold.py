"""benchmarks/out_of_fold.py (cross-validation over the training photos, and the out-of-fold restraint head)
on tiny models and a demo-shaped set made here."""

import csv

import numpy as np
import pytest

from tests.helpers_benchmarks import demo_set, finished, held_out_demo, load_benchmark


@pytest.fixture
def oof():
    return load_benchmark("out_of_fold")


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_training_photo_is_left_out_by_exactly_one_fold(tmp_path, oof):
    demo, training = demo_set(tmp_path / "demo")
    folds = oof.make_folds(demo, tmp_path / "runs", 3)
    left_out = [photo for _, photos in folds for photo in photos]
    assert sorted(left_out) == sorted(training)
    for data, photos in folds:
        rows = read_rows(data / "manifest.csv")
        assert {demo / r["path"] for r in rows if r["split"] == "fold-out"} == set(photos)
        assert {r["path"]: r["split"] for r in rows}["photos/mate-backgrounds/Dune.jpg"] == "test"
        assert [r["split"] for r in rows if r["kind"] == "stamp"] == ["train"]
        assert all((data / r["path"]).is_file() for r in rows), "the set's folders are reachable from each fold"
    again = oof.make_folds(demo, tmp_path / "runs", 3)
    assert [photos for _, photos in again] == [photos for _, photos in folds], "the split is seeded"


def test_finished_fold_models_are_kept_killed_ones_resumed_and_missing_ones_trained(tmp_path, oof, monkeypatch):
    demo, _ = demo_set(tmp_path / "demo")
    runs = tmp_path / "runs"
    folds = oof.make_folds(demo, runs, 3)
    finished(runs / "wide-0")
    finished(runs / "wide-1", epochs=5)  # killed during epoch 6: its model file is epoch 5's
    commands = []
    monkeypatch.setattr(oof.subprocess, "run", lambda args, check: commands.append(args))
    models = oof.train_folds(folds, runs, "wide", ["--width", "32"])
    assert models == [runs / f"wide-{k}" / "model.safetensors" for k in range(3)]
    assert [c[1:5] for c in commands] == [["train", str(folds[k][0]), "--out", str(runs / f"wide-{k}")]
                                          for k in (1, 2)], "the finished fold is kept"
    assert commands[0][5:] == [*oof.RECIPE, "--width", "32", "--resume"]
    assert commands[1][5:] == [*oof.RECIPE, "--width", "32"]
    commands.clear()
    oof.train_folds(folds, runs, "long", ["--epochs", "28"])
    assert len(commands) == 3, "the last --epochs counts"


def test_cross_validation_colours_every_training_photo_once(tmp_path, oof, tiny_model):
    demo, training = demo_set(tmp_path / "demo")
    folds = oof.make_folds(demo, tmp_path / "runs", 3)
    cv, pictures = oof.cross_validation(folds, [tiny_model] * 3)
    assert set(cv) == {*oof.GLOBAL_SCALES, "truth"}
    assert all(len(values) == len(training) for row in cv.values() for values in row.values())
    assert cv[1.0]["colour"].mean() > cv[0.5]["colour"].mean() > cv[0.3]["colour"].mean() > 0
    assert len(pictures) == len(training)
    gray, truth, *outputs = pictures[0]
    assert gray.shape == (32, 32) and truth.shape == (32, 32, 3)
    assert len(outputs) == len(oof.GRID_SCALES) and all(o.shape == (32, 32, 3) for o in outputs)


def test_the_head_keeps_colour_where_predictions_were_right_and_drops_it_where_wrong(oof):
    """Bright crops: the prediction equals the truth. Dark crops: the same prediction, a gray truth."""
    count, size = 16, 32
    gray = np.where(np.arange(count)[:, None, None] % 2 == 0, 200, 50).astype(np.uint8) * np.ones((1, size, size),
                                                                                                  np.uint8)
    ab = np.ones((count, 2, size, size), np.float32) * np.float32([0.3, 0.2])[None, :, None, None]
    truth = np.where((np.arange(count) % 2 == 0)[:, None, None, None], ab, 0).astype(np.float32)
    head = oof.train_head(gray, ab, truth, steps=300, batch_size=8)
    alpha = oof.alphas(head, gray, ab)
    assert alpha.shape == (count, 1, size, size)
    right, wrong = alpha[::2].mean(), alpha[1::2].mean()
    assert right > 0.8 and wrong < 0.2, (right, wrong)


def test_head_rules_are_scored_beside_the_global_scales(tmp_path, oof, tiny_model):
    demo = held_out_demo(tmp_path / "demo")
    table = oof.sweep(str(tiny_model), oof.make_head().eval(), oof.held_out_photos(demo))
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen", "blind twenty-three", "Scratch forty-seven",
                           "KPhotoAlbum twenty-four"]
    for row in table.values():
        assert len(row) == len(oof.GLOBAL_SCALES) + 2 * len(oof.HEAD_SCALES)
        assert row["head x1.2"][1] > row["head x0.6"][1] > 0, "a larger s gives more colour"
        assert np.isfinite(oof.off_curve(row, "head x1"))


def test_off_curve_is_the_gain_over_the_global_scales_at_the_same_colourfulness(oof):
    row = {"global x0.3": (0.0, 0.2), "global x0.5": (1.0, 0.4), "head x1": (0.8, 0.3)}
    assert oof.off_curve(row, "head x1") == pytest.approx(0.3)


def test_main_prints_the_cross_validation_and_compares_a_variant_photo_by_photo(tmp_path, oof, monkeypatch,
                                                                                 capsys):
    from tests.conftest import make_tiny_model

    demo, training = demo_set(tmp_path / "demo")
    held_out_demo(demo)
    runs = tmp_path / "runs"
    for seed, name in enumerate(["0", "1", "2", "wide-0", "wide-1", "wide-2"]):
        make_tiny_model(runs / name / "model.safetensors", seed=seed)
        finished(runs / name)
    monkeypatch.setattr(oof.subprocess, "run", lambda *a, **k: pytest.fail("no fold should be trained"))
    monkeypatch.setattr("sys.argv", ["out_of_fold.py", "--demo", str(demo), "--runs", str(runs), "--tag", "wide",
                                     "--out", str(tmp_path / "out")])
    oof.main()
    printed = capsys.readouterr().out
    assert f"cross-validation over the {len(training)} training photos" in printed
    assert "per photo, wide minus the shipped recipe" in printed
    assert f"of {len(training)} |" in printed
    header = next(line for line in printed.splitlines() if line.startswith("| scale | PSNR minus gray's, mean"))
    assert header.count("| 95% interval |") == 2
    row = next(line for line in printed.splitlines() if line.startswith("| 0.5 | "))
    low, high = (float(bound) for bound in row.split("|")[3].split(" to "))
    assert low < float(row.split("|")[2]) < high
    assert "| GCompris | 0.5 |" in printed and "| the rest (wallpapers, scikit-image/-learn) | 0.7 |" in printed
    assert (tmp_path / "out" / "cross-validation.png").is_file()
