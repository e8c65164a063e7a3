import argparse
import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rehue.errors import RehueError
from rehue.evaluation.metrics import GRAY_BASELINE
from rehue.models.io import load_model
from rehue.training.grid import add_grid_parser, load_grid, run_grid
from tests.conftest import textured_rgb

ROOT = Path(__file__).resolve().parents[2]
RUNS = ("gen1-disc1-4", "gen2-disc1-4")
SAMPLE_IMAGES = 3
CELL = 128  # sample_grid's default cell
LABEL_HEIGHT = 22

TWO_RUN_GRID = """
data = "photos"
size = 32
width = 4
epochs = 2
steps_per_epoch = 2
val_fraction = 0.5
val_images = 4
device = "cpu"
seed = 3
sample_images = 3
generators = ["gen1", "gen2"]
discriminators = ["disc1"]
batch_sizes = [4]
"""


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Models of width 4 gain nothing from threads, and on a shared, busy machine threads cost 10x."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

MINIMAL = "data = 'p'\ngenerators = ['gen1']\ndiscriminators = ['disc1']"


def write_photos(folder: Path, count: int = 8):
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(textured_rgb(40 + 4 * i, 48, seed=i)).save(folder / f"p{i}.png")


def write_grid(folder: Path, text: str = TWO_RUN_GRID) -> Path:
    path = folder / "grid.toml"
    path.write_text(text)
    return path


def run_logged(config: Path, out: Path):
    lines = []
    result = run_grid(load_grid(config), out, progress=False, log=lines.append)
    return result, lines


def model_mtimes(out: Path) -> dict:
    return {name: (out / "runs" / name / "model.safetensors").stat().st_mtime_ns for name in RUNS}


@pytest.fixture(scope="module")
def finished_grid(tmp_path_factory):
    """A two-run grid trained once: (config, out folder, result, log lines); copy it before changing it."""
    root = tmp_path_factory.mktemp("grid")
    write_photos(root / "photos")
    config = write_grid(root)
    result, lines = run_logged(config, root / "out")
    return config, root / "out", result, lines


def copy_grid(finished_grid, tmp_path):
    """The finished grid's out folder copied elsewhere (config and data stay), so a test may change it."""
    config, out, _, _ = finished_grid
    shutil.copytree(out, tmp_path / "out")
    return config, tmp_path / "out"


def test_every_run_is_trained_once_with_the_same_budget(finished_grid):
    _, out, result, lines = finished_grid
    progress = [line for line in lines if line.startswith("[") and "the search:" not in line]
    assert progress[0::2] == ["[1/2] gen1-disc1-4: started (2 epochs)",
                              "[2/2] gen2-disc1-4: started (2 epochs)"]
    assert [line.split(" in ")[0] for line in progress[1::2]] == ["[1/2] gen1-disc1-4: trained",
                                                                  "[2/2] gen2-disc1-4: trained"]
    for name in RUNS:
        run = out / "runs" / name
        history = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert [(r["epoch"], r["step"], r["images_seen"]) for r in history] == [(1, 2, 8), (2, 4, 16)]
        saved = json.loads((run / "config.json").read_text())
        assert (saved["seed"], saved["width"], saved["val_fraction"]) == (3, 4, 0.5)
        assert saved["generator"] == name.split("-")[0]
        assert result.outcomes[name].status == "trained"
        assert result.outcomes[name].epoch_seconds == [r["seconds"] for r in history]


def test_table_ranks_the_runs_and_ends_with_the_gray_baseline(finished_grid):
    config, out, result, _ = finished_grid
    assert list(result.table.rows) == [*result.ranking, GRAY_BASELINE]
    assert sorted(result.ranking) == list(RUNS)
    means = [result.table.summary(name)["psnr"]["mean"] for name in result.ranking]
    assert means == sorted(means, reverse=True)
    assert result.validation_images == 4
    assert all(len(images) == 4 for images in result.table.rows.values())

    markdown = (out / "results.md").read_text()
    assert "| Name | SSIM a | SSIM b | SSIM c | PSNR a | PSNR b | PSNR c |" in markdown
    for name in [*RUNS, GRAY_BASELINE]:
        summary = result.table.summary(name)
        psnr = summary["psnr"]
        assert f"| {name} | " in markdown
        assert psnr["min"] <= psnr["mean"] <= psnr["max"]
        assert f"{psnr['min']:.2f} | {psnr['max']:.2f} | {psnr['mean']:.2f}" in markdown
    assert f"| 1 | {result.ranking[0]} | " in markdown

    copy = (out / "grid.toml").read_text()  # stop 46: its relative paths read from its own folder were wrong
    assert copy.endswith(config.read_text()) and tomllib.loads(copy) == tomllib.loads(config.read_text())
    assert copy.startswith(f"# copied by rehue grid-search from {config.resolve()}, whose folder its relative")
    assert f"# data {(config.parent / 'photos').resolve()}, search folder {out.resolve()}\n" in copy
    from rehue.training.grid import _config_copy

    again = _config_copy(load_grid(out / "grid.toml"), out).decode()  # probe 85: run from the copy, headers piled up
    assert again.count("# copied by rehue grid-search from") == 1 and again.endswith(config.read_text())
    copied = load_grid(out / "grid.toml")  # probe 97: its relative paths were read from its own folder
    assert copied.runs[0].config.data == str((config.parent / "photos").resolve())
    assert copied.out == load_grid(config).out, "without out, where the original's goes"
    original = config.parent / "named.toml"
    original.write_text(config.read_text() + 'out = "searches/named"\n')
    copy = config.parent / "sub" / "grid.toml"
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes(_config_copy(load_grid(original), out))
    assert load_grid(copy).out == (config.parent / "searches" / "named").resolve()
    again = _config_copy(load_grid(copy), out).decode()  # probe 98: run from the copy, it named the copy
    assert again.startswith(f"# copied by rehue grid-search from {original.resolve()}, whose folder")
    original.unlink()  # a project moved since: read from the copy's own folder, as before
    assert load_grid(copy).out == (copy.parent / "searches" / "named").resolve()

    document = json.loads((out / "results.json").read_text())
    assert document["ranking"] == result.ranking and document["rank_by"] == "psnr"
    assert set(document["table"]["rows"]) == {*RUNS, GRAY_BASELINE}
    assert "images" not in document["table"]["rows"][GRAY_BASELINE]
    assert document["runs"]["gen2-disc1-4"]["epochs"] == 2
    per_image = json.loads((out / "runs" / "gen1-disc1-4" / "grid_evaluation.json").read_text())["images"]
    assert [image["psnr"] for image in per_image] == result.table.values("gen1-disc1-4", "psnr")
    run = document["runs"]["gen1-disc1-4"]  # probe 176: from the folder the command was typed in
    assert (run["folder"], run["samples"], run["per_image_metrics"]) == (
        "runs/gen1-disc1-4", "samples/gen1-disc1-4.png", "runs/gen1-disc1-4/grid_evaluation.json")
    assert all((out / run[key]).exists() for key in ("folder", "samples", "per_image_metrics"))
    assert Path(document["config"]).is_absolute() and Path(document["config"]).is_file()


def test_gray_baseline_row_scores_the_gray_images(finished_grid):
    _, _, result, _ = finished_grid
    gray_ssim = result.table.values(GRAY_BASELINE, "ssim")
    # gray keeps the structure of L* but loses all colour: neither perfect nor unrelated
    assert all(0.2 < value < 1.0 for value in gray_ssim)
    assert all(value == 0.0 for value in result.table.values(GRAY_BASELINE, "colourfulness_output"))


def test_epoch_duration_plot_and_comparable_sample_grids(finished_grid):
    _, out, result, _ = finished_grid
    with Image.open(out / "epoch_durations.png") as plot:
        assert plot.format == "PNG" and plot.size == (840, 480)
    grids = {}
    for name in RUNS:
        with Image.open(out / "samples" / f"{name}.png") as grid:
            assert grid.size == (3 * CELL, LABEL_HEIGHT + SAMPLE_IMAGES * CELL)
            grids[name] = np.asarray(grid.convert("RGB"))
    # the same validation images in the gray and truth columns of every run's grid
    inputs = {name: grid[LABEL_HEIGHT:, : 2 * CELL] for name, grid in grids.items()}
    outputs = {name: grid[LABEL_HEIGHT:, 2 * CELL :] for name, grid in grids.items()}
    np.testing.assert_array_equal(inputs[RUNS[0]], inputs[RUNS[1]])
    assert not np.array_equal(outputs[RUNS[0]], outputs[RUNS[1]])
    with Image.open(out / "samples" / "all_runs.png") as side_by_side:
        assert side_by_side.size == (4 * CELL, LABEL_HEIGHT + SAMPLE_IMAGES * CELL)
        pixels = np.asarray(side_by_side.convert("RGB"))
    first = result.ranking[0]
    np.testing.assert_array_equal(pixels[LABEL_HEIGHT:, 2 * CELL : 3 * CELL], outputs[first])


def test_rerun_skips_finished_runs_and_resumes_an_interrupted_one(finished_grid, tmp_path):
    config, out = copy_grid(finished_grid, tmp_path)
    before = model_mtimes(out)
    result, lines = run_logged(config, out)
    assert "[1/2] gen1-disc1-4: skipped (finished, 2 epochs)" in lines
    assert "[2/2] gen2-disc1-4: skipped (finished, 2 epochs)" in lines
    assert not any("epoch 1/2" in line or "epoch 2/2" in line for line in lines)
    assert model_mtimes(out) == before
    assert sum("scores reused" in line for line in lines) == 2
    assert result.ranking == finished_grid[2].ranking

    interrupted = out / "runs" / "gen2-disc1-4"
    for path in (interrupted / "checkpoints").glob("epoch_0002.pt*"):
        path.unlink()
    metrics = interrupted / "metrics.jsonl"
    metrics.write_text(metrics.read_text().splitlines()[0] + "\n")
    result, lines = run_logged(config, out)
    assert "[1/2] gen1-disc1-4: skipped (finished, 2 epochs)" in lines
    assert "[2/2] gen2-disc1-4: resumed after epoch 1/2" in lines
    assert sum(line.startswith("epoch 2/2") for line in lines) == 1
    assert not any(line.startswith("epoch 1/2") for line in lines)
    after = model_mtimes(out)
    assert after["gen1-disc1-4"] == before["gen1-disc1-4"]
    assert after["gen2-disc1-4"] != before["gen2-disc1-4"]
    assert [json.loads(x)["epoch"] for x in metrics.read_text().splitlines()] == [1, 2]
    assert result.outcomes["gen2-disc1-4"].status == "resumed"
    assert len(result.outcomes["gen2-disc1-4"].epoch_seconds) == 2


def test_a_search_moved_with_its_photos_goes_on_where_it_stopped(finished_grid, tmp_path):
    """Probe 197: the project folder moved (the config names its photos relatively), every run was "trained with
    other settings (data '/old/photos' -> '/new/photos')" and the way on given was to delete them all."""
    config, _, _, _ = finished_grid
    moved = tmp_path / "moved"
    shutil.copytree(config.parent, moved)
    before = model_mtimes(moved / "out")
    interrupted = moved / "out" / "runs" / "gen2-disc1-4"
    for path in (interrupted / "checkpoints").glob("epoch_0002.pt*"):
        path.unlink()
    metrics = interrupted / "metrics.jsonl"
    metrics.write_text(metrics.read_text().splitlines()[0] + "\n")
    result, lines = run_logged(moved / "grid.toml", moved / "out")
    assert "[1/2] gen1-disc1-4: skipped (finished, 2 epochs)" in lines
    assert "[2/2] gen2-disc1-4: resumed after epoch 1/2" in lines
    assert model_mtimes(moved / "out")["gen1-disc1-4"] == before["gen1-disc1-4"]
    assert result.outcomes["gen2-disc1-4"].status == "resumed"
    saved = json.loads((interrupted / "config.json").read_text())
    assert Path(saved["data"]).resolve() == (moved / "photos").resolve()

    shutil.copytree(moved / "photos", moved / "photos2")  # probe 198: other photos of the same names, reused
    (moved / "grid.toml").write_text((moved / "grid.toml").read_text().replace('data = "photos"', 'data = "photos2"'))
    with pytest.raises(RehueError, match=r"trained with other settings \(data '.*photos' -> '.*photos2'\)"):
        run_logged(moved / "grid.toml", moved / "out")
    (moved / "grid.toml").write_text((moved / "grid.toml").read_text().replace('data = "photos2"', 'data = "photos"'))

    shutil.rmtree(moved / "photos")
    write_photos(moved / "photos", count=9)  # other photos at the path: the split moved, said as before
    with pytest.raises(RehueError, match="held out"):
        run_logged(moved / "grid.toml", moved / "out")


def test_a_search_begun_through_a_link_with_a_relative_out_goes_on_after_a_move(tmp_path, monkeypatch):
    """Probe 200: `--out g`, saved as typed, was read against the moved search's working folder; a project reached
    through a link had its photos saved through it and its runs not: both refused as "other settings (data ...)"."""
    write_photos(tmp_path / "real" / "A" / "photos")
    write_grid(tmp_path / "real" / "A", TWO_RUN_GRID.replace('["gen1", "gen2"]', '["gen1"]').replace(
        "epochs = 2", "epochs = 1"))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "link" / "A")
    run_logged(Path("grid.toml"), Path("g"))
    (tmp_path / "real" / "A").rename(tmp_path / "real" / "B")
    monkeypatch.chdir(tmp_path / "real" / "B")
    _, lines = run_logged(Path("grid.toml"), Path("g"))
    assert "[1/1] gen1-disc1-4: skipped (finished, 1 epoch)" in lines
    shutil.rmtree(tmp_path / "real" / "B" / "g")
    monkeypatch.chdir(tmp_path)  # probe 201: begun through the link, moved to another disk, the link pointed there
    run_logged(Path("link/B/grid.toml"), Path("link/B/g"))
    (tmp_path / "other").mkdir()
    (tmp_path / "real" / "B").rename(tmp_path / "other" / "B")
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to(tmp_path / "other")
    _, lines = run_logged(Path("link/B/grid.toml"), Path("link/B/g"))
    assert "[1/1] gen1-disc1-4: skipped (finished, 1 epoch)" in lines


def test_a_run_that_diverges_is_named_in_the_searchs_error(tmp_path):
    """Probe 200: "training diverged at step 2 ...", of one of three runs, named none."""
    write_photos(tmp_path / "photos")
    one_run = TWO_RUN_GRID.replace('["gen1", "gen2"]', '["gen1"]').replace("epochs = 2", "epochs = 1")
    config = write_grid(tmp_path, one_run + "[[optimisers]]\n[[optimisers]]\nlr_g = 3e38\n")
    with pytest.raises(RehueError) as diverged:
        run_logged(config, tmp_path / "out")
    assert str(diverged.value) == ("gen1-disc1-4-opt2: training diverged at step 1 (loss is NaN/inf); lower its "
                                   "learning rates")
    assert (tmp_path / "out" / "runs" / "gen1-disc1-4-opt1" / "model.safetensors").is_file()
    assert not (tmp_path / "out" / "runs" / "gen1-disc1-4-opt2").exists()


def test_a_run_that_diverges_after_its_first_epoch_says_the_way_on(tmp_path, monkeypatch):
    """Probe 202: its folder kept, the search then refused the run "trained with other settings" once its rate was
    lowered, the way on unsaid when it diverged."""
    from tests.conftest import losses_nan_after

    write_photos(tmp_path / "photos")
    config = write_grid(tmp_path, TWO_RUN_GRID.replace('["gen1", "gen2"]', '["gen1"]'))
    losses_nan_after(monkeypatch, 6)  # from the second epoch's first step: two steps an epoch
    with pytest.raises(RehueError) as diverged:
        run_logged(config, tmp_path / "out")
    run = tmp_path / "out" / "runs" / "gen1-disc1-4"
    assert str(diverged.value) == (f"gen1-disc1-4: training diverged at step 3 (loss is NaN/inf); lower its learning "
                                   f"rates, and delete {run} (its epochs before) to train it again")
    assert (run / "checkpoints" / "epoch_0001.pt").is_file()


def test_a_finished_run_whose_checkpoints_were_removed_is_kept(finished_grid, tmp_path):
    """Probe 174: a finished run's checkpoints removed for room, the search trained it again from the start, over
    its model, exit 0; and with more epochs asked for, too, where it cannot train on."""
    config, out = copy_grid(finished_grid, tmp_path)
    before = model_mtimes(out)
    shutil.rmtree(out / "runs" / "gen1-disc1-4" / "checkpoints")
    result, lines = run_logged(config, out)
    assert "[1/2] gen1-disc1-4: skipped (finished, 2 epochs)" in lines
    assert model_mtimes(out) == before and result.ranking == finished_grid[2].ranking
    more = write_grid(tmp_path, config.read_text().replace("epochs = 2", "epochs = 3").replace(
        'data = "photos"', f'data = "{config.parent / "photos"}"'))
    with pytest.raises(RehueError) as error:
        run_grid(load_grid(more), out, progress=False, log=lambda line: None)
    assert (error.value.path, error.value.reason) == (
        str(out / "runs" / "gen1-disc1-4"), "this run finished its 2 epochs, and its checkpoints are gone: it cannot "
        "train on to 3; set epochs back, or delete the folder to train it again")
    assert model_mtimes(out) == before, "no run trained"


def test_a_search_run_from_its_copy_names_the_original_config_in_its_results(finished_grid, tmp_path):
    """Probe 177: results.json named the copy, which is read as its original while that is there."""
    config, out = copy_grid(finished_grid, tmp_path)
    run_logged(out / "grid.toml", out)
    assert json.loads((out / "results.json").read_text())["config"] == str(config.resolve())
    edited = tmp_path / "edited"  # probe 179: the original edited since, it named a file of other settings
    edited.mkdir()
    original = write_grid(edited, config.read_text().replace('data = "photos"', f'data = "{config.parent / "photos"}"'))
    copy = out / "grid.toml"
    copy.write_text(copy.read_text().split("\n", 2)[0].replace(str(config.resolve()), str(original.resolve()))
                    + "\n# data\n" + original.read_text())
    run_logged(copy, out)
    assert json.loads((out / "results.json").read_text())["config"] == str(original.resolve())
    original.write_text(original.read_text() + "\n# a note, and the settings the same\n")
    run_logged(copy, out)
    assert json.loads((out / "results.json").read_text())["config"] == str(copy.resolve())


def test_scoring_a_run_shows_its_progress(finished_grid, tmp_path, capsys):
    """Probe 172: scoring said "evaluating 2 runs on N validation images", then nothing till each run's line
    (CIFAR-10's 5,000 images a run); a run whose scores are reused draws no bar."""
    config, out = copy_grid(finished_grid, tmp_path)
    (out / "runs" / "gen1-disc1-4" / "grid_evaluation.json").unlink()
    capsys.readouterr()
    run_grid(load_grid(config), out, progress=True, log=lambda line: None)
    err = capsys.readouterr().err
    assert re.search(r"scoring gen1-disc1-4: 100%.* 4/4 \[", err), err
    assert "scoring gen2-disc1-4" not in err


def test_a_finished_runs_damaged_model_is_exported_again_from_its_checkpoint(finished_grid, tmp_path):
    """Probe 92: a finished run whose model.safetensors was damaged was "skipped (finished)", and the search
    then stopped at scoring it: "not a readable safetensors file"."""
    config, out = copy_grid(finished_grid, tmp_path)
    model = out / "runs" / "gen1-disc1-4" / "model.safetensors"
    intact = model.read_bytes()
    model.write_bytes(b"\x00" * 100)
    result, lines = run_logged(config, out)
    assert lines[0].startswith("[1/2] gen1-disc1-4: its model.safetensors is damaged (not a readable safetensors "
                               "file")
    assert lines[0].endswith("); exporting it again from its last checkpoint")
    assert "[2/2] gen2-disc1-4: skipped (finished, 2 epochs)" in lines
    assert model.read_bytes() == intact, "the model the run finished with"
    assert sum("scores reused" in line for line in lines) == 2
    assert result.ranking == finished_grid[2].ranking


def test_a_finished_runs_missing_model_config_is_written_again_from_its_checkpoint(finished_grid, tmp_path):
    """Probe 145: a finished run's model.json gone (or damaged) refused the whole search ("model config (.json)
    missing beside the weights") before any run, where `train --resume` writes it again."""
    config, out = copy_grid(finished_grid, tmp_path)
    card = out / "runs" / "gen1-disc1-4" / "model.json"
    intact = card.read_text()
    card.unlink()
    result, lines = run_logged(config, out)
    assert f"note: {card}: model config (.json) missing beside the weights; written again from the run's last " \
        "checkpoint" in lines
    assert card.read_text() == intact and sum("scores reused" in line for line in lines) == 2
    assert result.ranking == finished_grid[2].ranking
    card.write_text('{"architecture": "gen1"')  # probe 146: said as "its model.safetensors is damaged"
    result, lines = run_logged(config, out)
    assert lines[0].startswith("[1/2] gen1-disc1-4: its model.json is damaged (") and card.read_text() == intact


def test_damaged_scores_are_scored_again_and_a_damaged_history_is_one_line(finished_grid, tmp_path):
    """Probe 133: a run's grid_evaluation.json one score short, or holding a string or NaN, ended the search in a
    traceback (NaN after the sample grids were redrawn); a finished run's metrics.jsonl without an epoch's
    seconds did too."""
    config, out = copy_grid(finished_grid, tmp_path)
    scores = out / "runs" / "gen1-disc1-4" / "grid_evaluation.json"
    intact = json.loads(scores.read_text())
    expected = finished_grid[2].table.to_dict()["rows"]
    for damage in ("short", "text", "nan", "huge"):  # probe 135: an integer past a float, an OverflowError
        document = json.loads(scores.read_text())
        if damage == "short":
            document["images"].pop()
        else:
            document["images"][0]["psnr"] = {"text": "x", "nan": float("nan"), "huge": 10**400}[damage]
        scores.write_text(json.dumps(document))
        result, lines = run_logged(config, out)
        assert [line for line in lines if "scores reused" in line] == [next(
            line for line in lines if line.startswith("  gen2-disc1-4"))], damage
        assert result.table.to_dict()["rows"] == expected and json.loads(scores.read_text()) == intact, damage

    metrics = out / "runs" / "gen2-disc1-4" / "metrics.jsonl"
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    for damaged in (None, 10**400):
        records[1]["seconds"] = damaged
        metrics.write_text("".join(json.dumps(record) + "\n" for record in records))
        with pytest.raises(RehueError) as error:
            run_logged(config, out)
        assert error.value.reason.startswith("epoch 2's record holds no duration in seconds") and \
            error.value.path == str(metrics)


def test_sample_grids_of_runs_the_search_does_not_hold_are_removed(finished_grid, tmp_path):
    """Probe 133: the same folder searched again with fewer runs kept the others' sample grids beside the new
    results, as though they were its own; their runs are kept."""
    config, out = copy_grid(finished_grid, tmp_path)
    fewer = config.parent / f"fewer-{tmp_path.name}.toml"
    fewer.write_text(config.read_text().replace('generators = ["gen1", "gen2"]', 'generators = ["gen1"]'))
    result, _ = run_logged(fewer, out)
    assert result.ranking == ["gen1-disc1-4"]
    assert sorted(path.name for path in (out / "samples").iterdir()) == ["all_runs.png", "gen1-disc1-4.png"]
    assert (out / "runs" / "gen2-disc1-4" / "model.safetensors").is_file()


def test_a_search_on_one_photo_says_it_scores_a_photo_trained_on(finished_grid, tmp_path):
    """Probe 133: the data of one photo held none out, as a warning said, but results.md called it "1 held-out
    validation image"."""
    _, out, _, _ = finished_grid
    assert json.loads((out / "results.json").read_text())["validation_held_out"] is True
    assert "held-out validation images" in (out / "results.md").read_text()
    write_photos(tmp_path / "photos", count=1)
    config = write_grid(tmp_path, TWO_RUN_GRID.replace('["gen1", "gen2"]', '["gen1"]').replace(
        "epochs = 2", "epochs = 1").replace("steps_per_epoch = 2", "steps_per_epoch = 1"))
    result, lines = run_logged(config, tmp_path / "out")
    assert sum("one photo, none held out" in line for line in lines) == 1, "probe 197: said by the search and the run"
    assert result.validation_images == 1 and not result.validation_held_out
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "Scored image by image on 1 validation image that the runs also train on" in markdown
    assert "held-out" not in markdown and "for 1 epoch of 1 step." in markdown  # probe 135: "of 1 steps"
    assert json.loads((tmp_path / "out" / "results.json").read_text())["validation_held_out"] is False


def test_a_run_killed_in_its_first_epoch_is_trained_from_the_start(finished_grid, tmp_path):
    """Probe 37: a run folder holding a config.json but no checkpoint (a run killed in its first epoch) made
    every rerun fail, "already holds a training run; pass --overwrite", an option grid-search does not have."""
    config, out = copy_grid(finished_grid, tmp_path)
    killed = out / "runs" / "gen2-disc1-4"
    for name in ("checkpoints", "model.safetensors", "model.json", "metrics.jsonl", "metrics.csv"):
        shutil.rmtree(killed / name) if (killed / name).is_dir() else (killed / name).unlink()
    assert (killed / "config.json").exists()
    result, lines = run_logged(config, out)
    assert "[2/2] gen2-disc1-4: started (2 epochs)" in lines
    assert result.outcomes["gen2-disc1-4"].status == "trained"
    assert [json.loads(x)["epoch"] for x in (killed / "metrics.jsonl").read_text().splitlines()] == [1, 2]


def test_a_run_killed_as_its_first_checkpoint_was_saved_is_trained_from_the_start(finished_grid, tmp_path):
    """Probe 78: its model and metrics written, its checkpoint not, every rerun said "already holds a training
    run ...; pass --overwrite", an option grid-search does not have."""
    config, out = copy_grid(finished_grid, tmp_path)
    killed = out / "runs" / "gen2-disc1-4"
    shutil.rmtree(killed / "checkpoints")  # of its first epoch of 2: the model and metrics of epoch 1 written
    metrics = killed / "metrics.jsonl"
    metrics.write_text(metrics.read_text().splitlines()[0] + "\n")
    result, lines = run_logged(config, out)
    assert "[2/2] gen2-disc1-4: started (2 epochs)" in lines
    assert result.outcomes["gen2-disc1-4"].status == "trained"


def test_a_run_another_search_is_training_is_refused_before_it_is_said_to_start(finished_grid, tmp_path):
    """Stop 46: a second search of one folder said "[2/2] gen2-disc1-4: started (2 epochs)", then that it
    could not, as the first search's train held the run."""
    import subprocess
    import sys

    config, out = copy_grid(finished_grid, tmp_path)
    run_dir = out / "runs" / "gen2-disc1-4"
    shutil.rmtree(run_dir / "checkpoints")
    (run_dir / "metrics.jsonl").write_text((run_dir / "metrics.jsonl").read_text().splitlines()[0] + "\n")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run_dir / ".rehue-train.lock").write_text(str(other.pid))
        lines = []
        with pytest.raises(RehueError, match=f"another rehue \\(process {other.pid}\\) is training this run, a "
                                             "second search of this folder perhaps; wait") as error:
            run_grid(load_grid(config), out, progress=False, log=lines.append)
        assert error.value.path == str(run_dir) and not [line for line in lines if "started" in line], lines
    finally:
        other.kill()
        other.wait()


def test_a_run_trained_with_other_settings_is_not_reused(finished_grid, tmp_path):
    original, out = copy_grid(finished_grid, tmp_path)
    photos = original.parent / "photos"
    text = TWO_RUN_GRID.replace("width = 4", "width = 8").replace('"photos"', f'"{photos}"')
    config = write_grid(tmp_path, text)
    with pytest.raises(RehueError, match=r"other settings \(width 4 -> 8\)") as error:
        run_logged(config, out)
    assert error.value.path == str(out / "runs" / "gen1-disc1-4")
    for name in RUNS:  # as the refusal says (probe 113: then "holds 5 other files ... and no grid search")
        shutil.rmtree(out / "runs" / name)
    run_logged(config, out)
    assert all(load_model(out / "runs" / name / "model.safetensors")[1].width == 8 for name in RUNS)
    (out / "thesis.txt").write_text("chapter 5")  # probe 114: a search's results beside the user's own files
    shutil.rmtree(out / "runs")
    with pytest.raises(RehueError, match="holds .* other files or folders"):
        run_logged(config, out)
    assert (out / "thesis.txt").read_text() == "chapter 5" and not (out / "runs").exists()


def test_cli_subcommand_resumes_into_out_and_prints_the_table(finished_grid, tmp_path, capsys):
    config, out = copy_grid(finished_grid, tmp_path)
    parser = argparse.ArgumentParser(prog="rehue")
    add_grid_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["grid-search", str(config), "--out", str(out), "--no-progress"])
    assert args.handler(args) == 0
    captured = capsys.readouterr()
    assert "| Name | SSIM a |" in captured.out and f"| {GRAY_BASELINE} |" in captured.out
    assert "skipped" in captured.err and "results.md" in captured.err


def test_config_names_runs_and_fills_optimiser_defaults(tmp_path):
    config = write_grid(tmp_path, """
data = "../photos"
size = 64
l1_weight = 0
generators = ["gen1", "gen2"]
discriminators = ["patch"]
batch_sizes = [128, 256]
[[optimisers]]
lr_g = 1e-3
[[optimisers]]
lr_d = 1e-4
beta1_d = 0.5
""")
    spec = load_grid(config)
    names = [run.name for run in spec.runs]
    assert names[:4] == ["gen1-patch-128-opt1", "gen1-patch-128-opt2",
                         "gen1-patch-256-opt1", "gen1-patch-256-opt2"]
    assert len(names) == 8 and len(set(names)) == 8
    first, second = spec.runs[0].config, spec.runs[1].config
    assert (first.lr_g, first.beta1_g, first.lr_d, first.beta1_d) == (1e-3, 0.5, 2e-3, 0.7)
    assert (second.lr_g, second.lr_d, second.beta1_d) == (2e-4, 1e-4, 0.5)
    assert first.data == str((tmp_path.parent / "photos").resolve())
    assert (first.size, first.l1_weight, first.seed) == (64, 0.0, 0) and isinstance(first.l1_weight, float)
    assert spec.out == Path("runs") / "grid" and spec.rank_by == "psnr" and spec.eval_images == 0
    config.write_text(config.read_text().replace('data = "../photos"', 'data = "../photos"\nout = "~/searches/a"'))
    assert load_grid(config).out == (Path.home() / "searches" / "a").resolve(), "probe 97: ~ as data's is"


def test_thesis_config_is_table_5_1_and_the_demo_runs_the_same_grid():
    thesis = load_grid(ROOT / "configs" / "grid_thesis.toml")
    demo = load_grid(ROOT / "configs" / "grid_demo.toml")
    expected = [f"{g}-{d}-{b}" for g in ("gen1", "gen2") for d in ("disc1", "disc2") for b in (128, 256)]
    assert [run.name for run in thesis.runs] == expected
    assert [run.name for run in demo.runs] == expected
    for run in thesis.runs + demo.runs:
        config = run.config
        assert (config.lr_g, config.beta1_g, config.lr_d, config.beta1_d) == (2e-4, 0.5, 2e-3, 0.7)
        assert config.size == 32
    assert Path(thesis.runs[0].config.data).name == "cifar-10-batches-py"
    assert Path(demo.runs[0].config.data) == ROOT / "data" / "demo"
    assert demo.runs[0].config.steps_per_epoch > 0  # a fixed, small budget, not passes over the data


@pytest.mark.parametrize("text,message", [
    (f"{MINIMAL}\nlearning_rate = 1", "unknown key 'learning_rate'"),
    ("data = 'p'\ngenerator = 'gen1'\ndiscriminators = ['disc1']", "list it under generators"),
    ("data = 'p'\ngenerators = ['gen3']\ndiscriminators = ['disc1']", "unknown generator 'gen3'"),
    ("data = 'p'\ngenerators = ['disc1']\ndiscriminators = ['disc1']", "unknown generator 'disc1'"),
    ("data = 'p'\ngenerators = []\ndiscriminators = ['disc1']", "generators must be a non-empty list"),
    ("data = 'p'\ngenerators = ['gen1', 'gen1']\ndiscriminators = ['disc1']", "lists 'gen1' twice"),
    (f"{MINIMAL}\nbatch_sizes = [0]", "positive integers"),
    (f"{MINIMAL}\nepochs = '3'", "epochs must be of type int"),
    (f"{MINIMAL}\n[[optimisers]]\nbeta1_g = 1.5",
     r"beta1_g must be in \[0, 1\)"),
    # probe 197: PyTorch's "value cannot be converted to type float without overflow", a traceback
    (f"{MINIMAL}\n[[optimisers]]\nlr_g = 1e300",
     r"optimiser 1: lr_g must be at most 3.40282347e\+38 \(float32's largest\), not 1e\+300"),
    (f"{MINIMAL}\nrank_by = 'loss'", "rank_by must be one of"),
    (f"{MINIMAL}\nepochs = 0", "epochs must be at least 1, not 0"),
    (f"{MINIMAL}\nsize = 33", "size must be a power of two from 32 to 4096, not 33"),
    (f"{MINIMAL}\nsize = 8192", "size must be a power of two from 32 to 4096, not 8192"),
    (f"{MINIMAL}\nsize = 32\nbatch_sizes = [4, 1]", "batch_size 1 needs size 64 or more"),
    (f"{MINIMAL}\nema = 1.5", "gen1-disc1-[0-9]+: ema must be at least 0 and below 1"),
    ("generators = ['gen1']\ndiscriminators = ['disc1']", "data must name the training data"),
    ("data = 'p'\ngenerators = ['gen1'", "not valid TOML"),
    (f"{MINIMAL}\ndevice = 'gpu'", "device: unknown device 'gpu'; use auto, cpu, cuda, cuda:N or mps"),  # probe 133
    (f"{MINIMAL}\nce_weight = 8", r"ce_weight is set, and none of the grid's generators \(gen1\) learns by "
     r"cross-entropy over a\*b\* bins \(gen2-classes does\)"),
    ("data = 'p'\ngenerators = ['gen2-classes']\ndiscriminators = ['disc1']\nl1_weight = 0.0",
     r"l1_weight is set, and none of the grid's generators \(gen2-classes\) learns by L1 \(gen1, gen2 do\)"),
    # probe 172: a Python dict, as the table twice
    (f"{MINIMAL}\n[[optimisers]]\nlr_g = 0.001\n[[optimisers]]\nlr_g = 0.001",
     r"optimisers lists \{lr_g = 0\.001, beta1_g = 0\.5, lr_d = 0\.002, beta1_d = 0\.7\} twice$"),
])
def test_bad_config_is_a_clear_error_naming_the_file(tmp_path, text, message):
    config = write_grid(tmp_path, text)
    with pytest.raises(RehueError, match=message) as error:
        load_grid(config)
    assert error.value.path == str(config)


def test_a_folder_or_a_picture_named_as_the_grid_config_is_said_to_be_one(tmp_path):
    """Probe 172: "cannot read the grid config ([Errno 21] Is a directory: 'photos')", and of a PNG "('utf-8'
    codec can't decode byte 0x89 in position 0: invalid start byte)"."""
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    os.mkfifo(tmp_path / "pipe.toml")  # probe 175: waited for a writer, for ever
    for named, said in ((tmp_path, "is a folder, not a grid config (a TOML file)"),
                        (tmp_path / "photo.png", "is not a grid config: not UTF-8 text, as a TOML file is"),
                        (tmp_path / "pipe.toml", "is a pipe or a device, not a grid config: save it as a file first")):
        with pytest.raises(RehueError) as error:
            load_grid(named)
        assert (error.value.path, error.value.reason) == (str(named), said)


def test_a_weight_one_of_the_grids_generators_learns_by_is_kept_for_every_run(tmp_path):
    grid = load_grid(write_grid(tmp_path, "data = 'p'\ngenerators = ['gen1', 'gen2-classes']\n"
                                          "discriminators = ['disc1']\nl1_weight = 0.0\nce_weight = 8"))
    assert [(run.config.l1_weight, run.config.ce_weight) for run in grid.runs] == [(0.0, 8.0), (0.0, 8.0)]


def test_the_search_says_its_time_left_after_each_run(finished_grid, tmp_path):
    """Probe 157: a search of hours said each run's time left, never its own; a finished run to come was counted
    (probe 158)."""
    from rehue.training.loop import _interval

    _, _, result, lines = finished_grid
    pace = sum(result.outcomes[RUNS[0]].epoch_seconds) / len(result.outcomes[RUNS[0]].epoch_seconds)
    epochs = load_grid(finished_grid[0]).runs[1].config.epochs
    assert [line for line in lines if "the search:" in line] == [
        f"[1/2] the search: about {_interval(pace * epochs)} of training left, in its 1 run to come ({epochs} epochs "
        f"at the {pace:.1f} s an epoch of those trained so far; their evaluation after)"]
    config, out = copy_grid(finished_grid, tmp_path)
    shutil.rmtree(out / "runs" / RUNS[0])
    _, again = run_logged(config, out)
    assert f"[2/2] {RUNS[1]}: skipped (finished, 2 epochs)" in again
    assert not [line for line in again if "the search:" in line], again


def test_a_run_whose_batch_exceeds_the_memory_free_is_refused_before_any_trains(tmp_path, monkeypatch):
    """Probe 133: a batch size of 100,000 was killed by the kernel as it started, exit 137 and no word."""
    from rehue.training import memory

    monkeypatch.setattr(memory, "free_memory_bytes", lambda: memory.GIB)
    write_photos(tmp_path / "photos")
    config = write_grid(tmp_path, TWO_RUN_GRID.replace("batch_sizes = [4]", "batch_sizes = [4, 100000]"))
    with pytest.raises(RehueError, match="gen1-disc1-100000: batch size 100,000 on 32x32 crops needs") as error:
        run_logged(config, tmp_path / "out")
    assert error.value.path == str(config) and not (tmp_path / "out").exists()


def test_finished_runs_are_scored_whatever_the_memory_free(finished_grid, tmp_path, monkeypatch):
    """Probe 135: a finished search, scored again, was refused for want of memory to train runs it would not
    train."""
    from rehue.training import memory

    config, out = copy_grid(finished_grid, tmp_path)
    monkeypatch.setattr(memory, "free_memory_bytes", lambda: 1)
    result, lines = run_logged(config, out)
    assert "[1/2] gen1-disc1-4: skipped (finished, 2 epochs)" in lines and result.ranking == finished_grid[2].ranking
    assert "of 2 steps" in (out / "results.md").read_text()


def test_missing_data_fails_before_any_training(tmp_path, capsys):
    """Probe 68: `grid-search configs/grid_demo.toml` before `rehue data demo` said "data/demo: training data
    not found", naming neither the file that names it nor how the demo set is made."""
    config = write_grid(tmp_path, TWO_RUN_GRID.replace('"photos"', '"nowhere"'))
    with pytest.raises(RehueError, match=f"^{config}: data is {tmp_path / 'nowhere'}, which is not there"):
        run_logged(config, tmp_path / "out")
    assert not (tmp_path / "out").exists(), "no empty grid folder left behind"
    from rehue.cli import main

    demo = write_grid(tmp_path, TWO_RUN_GRID.replace('"photos"', '"../data/demo"'))  # as configs/grid_demo.toml
    assert main(["grid-search", str(demo), "--out", str(tmp_path / "demo-grid")]) == 1
    assert capsys.readouterr().err.strip().endswith("; `rehue data demo --out DIR` assembles the demo set "
                                                    "(docs/data.md)")
    assert not (tmp_path / "demo-grid").exists()

    from rehue.training.grid import _config_copy

    copy = tmp_path / "copies" / "grid.toml"  # stop 49: it said "read from this file's folder", the copy's
    copy.parent.mkdir()
    copy.write_bytes(_config_copy(load_grid(config), tmp_path / "out"))
    with pytest.raises(RehueError, match=re.escape(f"which is not there (a relative path is read from the folder of "
                                                   f"{config.resolve()}, this copy's original)")):
        run_logged(copy, tmp_path / "out")
    config.unlink()
    with pytest.raises(RehueError, match=re.escape("(a relative path is read from this file's folder)")):
        run_logged(copy, tmp_path / "out")


def test_a_run_out_of_memory_names_itself_and_its_batch_size_and_leaves_no_empty_folder(tmp_path, capsys,
                                                                                         monkeypatch):
    """Probe 92: batch_sizes = [100000000000] said "rehue: error: out of memory", naming neither the run nor
    what to lower, and left the search's folder empty; --out naming a file said "out/runs/...: Not a
    directory"."""
    from rehue.cli import main
    from rehue.training import loop

    def out_of_memory(*args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you "
                           "tried to allocate 3221225472000 bytes")

    write_photos(tmp_path / "photos")
    config = write_grid(tmp_path)
    out = tmp_path / "searches" / "out"
    with monkeypatch.context() as patched:
        patched.setattr(loop, "generator_input", out_of_memory)
        assert main(["grid-search", str(config), "--out", str(out), "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"rehue: error: {out / 'runs' / 'gen1-disc1-4'}: out of memory, training at batch size 4 on 32x32 crops; a "
        "smaller batch size, size or width needs less")
    assert not (tmp_path / "searches").exists(), "probe 94: nor the folder it was made in"
    (tmp_path / "file.txt").write_text("mine")
    assert main(["grid-search", str(config), "--out", str(tmp_path / "file.txt"), "--no-progress"]) == 1
    assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'file.txt'}: is a file, not a folder; name a "
                                       "folder for the search (--out)\n")
    assert main(["grid-search", str(config), "--out", str(tmp_path / "file.txt" / "sub"), "--no-progress"]) == 1
    assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'file.txt'}: is a file, so the output folder "
                                       f"{tmp_path / 'file.txt' / 'sub'} cannot be made\n")


def test_an_interrupted_search_says_how_to_go_on(tmp_path, capsys, monkeypatch):
    """Probe 115: Ctrl-C in a grid search said "rehue: interrupted" alone, where train says how to go on."""
    from rehue.cli import main
    from rehue.training import grid, loop

    def interrupted(*args):
        raise KeyboardInterrupt

    write_photos(tmp_path / "photos")
    config = write_grid(tmp_path)
    monkeypatch.setattr(loop, "generator_input", interrupted)
    assert main(["grid-search", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 130
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "note: the same command goes on with the search: the runs it finished are kept, and the one it stopped goes "
        "on from its last checkpoint, where it saved one", "rehue: interrupted"]
    monkeypatch.undo()
    monkeypatch.setattr(grid, "_evaluate_run", interrupted)  # probe 224: stopped as it scored, every run trained
    assert main(["grid-search", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 130
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "note: the same command goes on with the search: every run is trained, and only their scoring is left",
        "rehue: interrupted"]
    monkeypatch.undo()
    assert main(["grid-search", str(config), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "(0 trained, 0 resumed, 2 skipped)" in capsys.readouterr().err, "none trained again"


def test_a_folder_of_other_files_is_refused_and_one_holding_the_search_config_and_photos_is_not(tmp_path):
    """Probe 61: --out a folder of the user's own files replaced its results.md, grid.toml and samples/
    without a word (train refuses such a folder); a search resumed there, or whose TOML file and photos lie
    there, goes on."""
    mine = tmp_path / "mine"
    (mine / "samples").mkdir(parents=True)
    for name, text in (("results.md", "my notes"), ("grid.toml", "# my grid"), ("samples/all_runs.png", "mine")):
        (mine / name).write_text(text)
    write_photos(tmp_path / "photos")
    (tmp_path / "conf").mkdir()
    config = write_grid(tmp_path / "conf", TWO_RUN_GRID.replace('"photos"', f'"{tmp_path / "photos"}"'))
    with pytest.raises(RehueError, match="holds 3 other file.* such as grid.toml, and no grid search; name a new"):
        run_logged(config, mine)
    with pytest.raises(RehueError, match="holds 3 other file.* such as grid.toml, and no grid search; name a new"):
        run_logged(config, mine / "new" / "..")  # probe 96: taken for a new folder, and its files replaced
    assert [(mine / name).read_text() for name in ("results.md", "grid.toml", "samples/all_runs.png")] == [
        "my notes", "# my grid", "mine"]
    assert not (mine / "runs").exists()
    inside = tmp_path / "search"
    write_photos(inside / "photos")
    result, _ = run_logged(write_grid(inside), inside)  # its grid.toml and photos there: a new search
    assert len(result.ranking) == 2 and (inside / "results.md").exists()
    nested = tmp_path / "nested"  # probe 64: its TOML in a folder of the out folder
    write_photos(nested / "photos")
    (nested / "cfg").mkdir()
    result, _ = run_logged(write_grid(nested / "cfg", TWO_RUN_GRID.replace('"photos"', '"../photos"')), nested)
    assert len(result.ranking) == 2
    among = tmp_path / "among"  # probe 64: its sample grids were written among the photos
    write_photos(among / "samples")
    with pytest.raises(RehueError, match="the search's photos or model lie in its samples/, where it writes"):
        run_logged(write_grid(among, TWO_RUN_GRID.replace('"photos"', '"samples"')), among)
    for name, inside_runs in (("emptyruns", None), ("photoruns", "1952"), ("emptyyears", "2019"),
                              ("hiddenonly", "holiday")):  # probes 65 and 66: taken for a search
        user = tmp_path / name
        (user / "runs").mkdir(parents=True)
        if name == "photoruns":
            write_photos(user / "runs" / inside_runs)
        elif inside_runs:
            (user / "runs" / inside_runs).mkdir()
            if name == "hiddenonly":
                (user / "runs" / inside_runs / ".picasa.ini").write_text("[photos]")
        (user / "results.md").write_text("my notes")
        with pytest.raises(RehueError, match="and no grid search; name a new"):
            run_logged(config, user)
        assert (user / "results.md").read_text() == "my notes"
    def users_run(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(
            {"generator": "gen2", "discriminator": "disc2", "epochs": 10, "batch_size": 16}))

    # probe 79: the user's own `rehue train` run (train's default --out: runs/rehue); probe 81: one named as a
    # search names its runs; the user's notes beside each
    for name, run_name, message in (("trained", "rehue", "and no grid search; name a new"),
                                    ("named", "gen2-disc2-8", "holds a results.md that does not read as a grid")):
        users_run(tmp_path / name / "runs" / run_name)
        (tmp_path / name / "results.md").write_text("my notes")
        with pytest.raises(RehueError, match=message):
            run_logged(config, tmp_path / name)
        assert (tmp_path / name / "results.md").read_text() == "my notes"
    killed = tmp_path / "killed"  # probe 64: killed before its first run wrote config.json, its lock alone left
    (killed / "runs" / "gen1-disc1-4").mkdir(parents=True)
    (killed / "runs" / "gen1-disc1-4" / ".rehue-train.lock").write_text("12345")
    users_run(killed / "runs" / "mine")  # probe 80: a run of the user's beside the search's is no reason to refuse it
    result, _ = run_logged(config, killed)
    assert len(result.ranking) == 2 and (killed / "results.md").exists()


def test_an_init_model_beside_the_config_is_read_from_its_folder(tmp_path, monkeypatch):
    """Before, ``init`` was read from the working directory while ``data`` and ``out`` were read from the
    config file's folder (probe 16)."""
    from tests.conftest import make_tiny_model

    folder = tmp_path / "cfg"
    make_tiny_model(folder / "runs" / "mine" / "model.safetensors")
    config = folder / "grid.toml"
    config.write_text("data = 'photos'\ngenerators = ['gen2']\ndiscriminators = ['disc1']\n"
                      "init = 'runs/mine/model.safetensors'\n")
    monkeypatch.chdir(tmp_path)
    spec = load_grid(config)
    assert spec.runs[0].config.init == str(folder / "runs" / "mine" / "model.safetensors")
    config.write_text("data = 'photos'\ngenerators = ['gen2']\ndiscriminators = ['disc1']\n"
                      "init = 'rehue-gen2-128-independent'\n")
    assert load_grid(config).runs[0].config.init == "rehue-gen2-128-independent", "a shipped model's name stays"
    (tmp_path / "rehue-gen2-128-independent").mkdir()
    assert load_grid(config).runs[0].config.init == "rehue-gen2-128-independent", "beside a folder of its name"
    config.write_text("data = 'photos'\ngenerators = ['gen2']\ndiscriminators = ['disc1']\ninit = 'runs/mine'\n")
    assert load_grid(config).runs[0].config.init == str(folder / "runs" / "mine"), "probe 99: a run folder"
    # probe 108: the runs took the defaults' size and width, and each failed as it started
    assert (load_grid(config).runs[0].config.size, load_grid(config).runs[0].config.width) == (32, 4)
    config.write_text("data = 'photos'\ngenerators = ['gen2']\ndiscriminators = ['disc1']\ninit = 'runs/mine'\n"
                      "width = 8\n")
    with pytest.raises(RehueError, match=r"init model's width is 4, and the file sets width = 8; leave width out"):
        load_grid(config)  # probe 110: refused only after "[1/1] ... started"
    make_tiny_model(folder / "runs" / "dep" / "model.safetensors", in_channels=3)
    config.write_text("data = 'photos'\ngenerators = ['gen2']\ndiscriminators = ['disc1']\ninit = 'runs/dep'\n")
    with pytest.raises(RehueError, match="init model is a dependent one .*: set in_channels = 3"):
        load_grid(config)
    config.write_text("data = 'photos'\ngenerators = ['gen2']\ndiscriminators = ['disc1']\ninit = 'runs/dep'\n"
                      "in_channels = 3\n")
    assert load_grid(config).runs[0].config.in_channels == 3
    config.write_text("data = 'photos'\ngenerators = ['gen2', 'gen1']\ndiscriminators = ['disc1']\n"
                      "init = 'runs/mine'\n")
    with pytest.raises(RehueError, match=r"gen1-disc1-\d+: init model is a gen2, and this run trains a gen1"):
        load_grid(config)


def test_runs_on_a_frame_dataset_built_again_with_another_split_are_not_scored_on_what_they_learnt(tmp_path):
    """Probe 46: the grid run again over a frame dataset built again with another test video skipped its
    finished runs and scored them on that video, which they had trained on: exit 0, a table of leaked scores."""
    from rehue.data.frames import extract_frames
    from tests.helpers_video import make_clip, textured_frames

    clips = [make_clip(tmp_path / f"v{k}.mp4", list(textured_frames(6, 48, 64, seed=k)), fps=6) for k in range(3)]
    frames = tmp_path / "frames"
    extract_frames(clips, frames, fps=3, size=32, test_videos=["v2.mp4"], progress=False, log=lambda message: None)
    config = write_grid(tmp_path, TWO_RUN_GRID.replace('"photos"', '"frames"').replace('"gen1", ', "")
                        .replace("epochs = 2", "epochs = 1"))
    run_logged(config, tmp_path / "out")
    extract_frames(clips, frames, fps=3, size=32, test_videos=["v0.mp4"], progress=False, log=lambda message: None,
                   overwrite=True)
    with pytest.raises(RehueError) as error:
        run_logged(config, tmp_path / "out")
    assert str(error.value) == (
        f"{frames}: run gen2-disc1-4 was trained on v0.mp4, which the frame dataset now holds out (it was built "
        "again with another split): its scores would not be held out; build it again with the split its runs "
        "trained with, or train the grid into another --out")
    card_path = tmp_path / "out" / "runs" / "gen2-disc1-4" / "model.json"
    card = json.loads(card_path.read_text())
    for key in ("videos", "video_fingerprints", "held_out"):  # as a rehue from before probe 46 wrote it
        card["training"].pop(key, None)
    card_path.write_text(json.dumps(card))
    _, lines = run_logged(config, tmp_path / "out")  # probe 87: ranked on v0 without a word
    assert [line for line in lines if line.startswith("warning: run gen2-disc1-4: trained by an older rehue")]


def test_a_photo_folder_changed_since_the_runs_trained_is_not_scored_as_held_out(tmp_path):
    """Probe 77: a photo added to the folder kept the validation count, so the runs' old scores were reused
    and ranked against a gray row of the new split, which may hold out photos the runs learnt from."""
    write_photos(tmp_path / "photos")
    config = write_grid(tmp_path, TWO_RUN_GRID.replace('["gen1", "gen2"]', '["gen1"]').replace("epochs = 2",
                                                                                               "epochs = 1"))
    _, lines = run_logged(config, tmp_path / "out")
    assert "[1/1] gen1-disc1-4: started (1 epoch)" in lines
    assert "1 run on" in (tmp_path / "out" / "results.md").read_text()
    assert "for 1 epoch of 2 steps" in (tmp_path / "out" / "results.md").read_text()
    scores = json.loads((tmp_path / "out" / "runs" / "gen1-disc1-4" / "grid_evaluation.json").read_text())
    for index, path in enumerate(sorted((tmp_path / "photos").iterdir())):  # the same names: the same split
        Image.fromarray(textured_rgb(44, 48, seed=90 + index)).save(path)
    _, lines = run_logged(config, tmp_path / "out")
    assert not any("scores reused" in line for line in lines)
    assert json.loads((tmp_path / "out" / "runs" / "gen1-disc1-4" / "grid_evaluation.json").read_text()) != scores
    card_path = tmp_path / "out" / "runs" / "gen1-disc1-4" / "model.json"
    card = json.loads(card_path.read_text())
    del card["training"]["held_out"]  # as an older rehue wrote it: its checkpoint keeps the digest
    card_path.write_text(json.dumps(card))
    Image.fromarray(textured_rgb(44, 48, seed=50)).save(tmp_path / "photos" / "p8.png")
    more = write_grid(tmp_path, config.read_text().replace("epochs = 1", "epochs = 2"))
    with pytest.raises(RehueError, match="held out other photos than the folder holds out now"):
        run_logged(more, tmp_path / "out")
    assert len((tmp_path / "out" / "runs" / "gen1-disc1-4" / "metrics.jsonl").read_text().splitlines()) == 1, \
        "refused before it trained on (probe 78: after)"
    from rehue.training.checkpoint import load_latest, save_checkpoint

    state, path = load_latest(tmp_path / "out" / "runs" / "gen1-disc1-4" / "checkpoints")
    del state["held_out"]  # as a rehue from before probe 46 kept it: no record at all (probe 87: ranked silently)
    save_checkpoint(state, path.parent, state["epoch"])
    _, lines = run_logged(config, tmp_path / "out")
    assert "warning: run gen1-disc1-4: trained by an older rehue, which kept no record of what it held out, so " \
           "whether its scores are held out cannot be checked; if the data changed since, delete its folder to " \
           "train it again" in lines, lines


def test_an_earlier_run_of_more_epochs_or_a_run_folder_inside_the_photos_is_refused_before_training(
        finished_grid, tmp_path):
    """Probe 77: lowering epochs ranked runs of 2 epochs with runs of 1 as one budget; --out inside the photos
    was refused only once the first run had made its folder there."""
    from rehue.errors import UsageError

    original, out = copy_grid(finished_grid, tmp_path)
    photos = original.parent / "photos"
    text = TWO_RUN_GRID.replace('"photos"', f'"{photos}"').replace("batch_sizes = [4]", "batch_sizes = [4, 8]")
    config = write_grid(tmp_path, text.replace("epochs = 2", "epochs = 1"))
    with pytest.raises(RehueError, match="has trained 2 epochs and the grid asks for 1"):
        run_logged(config, out)
    assert not (out / "runs" / "gen1-disc1-8").exists(), "refused before any run trained"
    with pytest.raises(UsageError, match="must not be inside the training data"):
        run_logged(write_grid(tmp_path, text), photos / "grid")
    assert not (photos / "grid").exists()


def test_a_search_in_a_folder_named_with_a_newline_and_bytes_not_utf8_writes_its_results_and_a_working_copy(
        tmp_path):
    """Probe 140: results.md of data whose path was not UTF-8 was a UnicodeEncodeError traceback, after the runs
    had trained; the grid.toml copy of a file whose path held a newline named, escaped, no file."""
    import os

    folder = tmp_path / os.fsdecode(b"caf\xe9\nx")
    write_photos(folder / "photos")
    config = write_grid(folder, TWO_RUN_GRID.replace('["gen1", "gen2"]', '["gen1"]').replace("epochs = 2",
                                                                                          "epochs = 1"))
    run_logged(config, tmp_path / "out")
    markdown = (tmp_path / "out" / "results.md").read_text()
    assert "caf\\udce9\\nx" in markdown, "the path said with its escapes"
    copy = load_grid(tmp_path / "out" / "grid.toml")
    assert copy.copied_from == config and copy.runs[0].config.data == str(folder / "photos")
    _, lines = run_logged(tmp_path / "out" / "grid.toml", tmp_path / "out")
    assert "[1/1] gen1-disc1-4: skipped (finished, 1 epoch)" in lines
