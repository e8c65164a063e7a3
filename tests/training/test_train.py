import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rehue.cli import main
from rehue.errors import RehueError, UsageError
from rehue.models import load_model
from rehue.training import TrainConfig, train
from rehue.training.checkpoint import list_checkpoints
from tests.conftest import make_tiny_model, textured_rgb

ROOT = Path(__file__).resolve().parents[2]


def tiny_config(data, out, **overrides):
    base = dict(data=str(data), out=str(out), size=32, width=4, batch_size=4, epochs=2, steps_per_epoch=3,
                val_images=4, device="cpu")
    base.update(overrides)
    return TrainConfig(**base)


def test_more_workers_than_cores_is_said_once_in_rehues_words(tmp_path, photo_folder, monkeypatch, recwarn):
    """Probe 213: PyTorch's own two-line warning came twice (each epoch), beside rehue's lines."""
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    lines = []
    train(tiny_config(photo_folder, tmp_path / "run", workers=2, epochs=2), log=lines.append, progress=False)
    assert [line for line in lines if "workers" in line] == [
        "note: --workers 2, more than the 1 CPU core this run may use: the workers take turns on them, which may slow "
        "loading rather than speed it"]
    assert not [w for w in recwarn if "worker" in str(w.message)], [str(w.message) for w in recwarn]
    lines.clear()
    train(tiny_config(photo_folder, tmp_path / "one", workers=1, epochs=1), log=lines.append, progress=False)
    assert not [line for line in lines if "workers" in line]


def test_training_leaves_the_callers_random_numbers_as_they_were(tmp_path, photo_folder):
    """Probe 155: after train() a notebook's random, NumPy and PyTorch draws were those of the run's seed (0), where
    loading a model keeps the caller's."""
    import random

    import torch

    def draws():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    expected = draws()
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    train(tiny_config(photo_folder, tmp_path / "run", epochs=1, steps_per_epoch=1), progress=False,
          log=lambda line: None)
    assert draws() == expected


def test_a_runs_time_left_is_never_less_than_its_epochs():
    """Probe 157: a run slowed in its last epoch showed run_left=00:03 beside the epoch's 17 s left."""
    from rehue.training.loop import _time_left

    assert _time_left(60.0, 60, 30, 30, None) == 30.0  # 1 s a step so far; no epoch rate yet
    assert _time_left(60.0, 60, 3, 11, 0.5) == 22.0  # the epoch's 11 steps at 0.5 a second
    assert _time_left(60.0, 60, 40, 10, 2.0) == 40.0  # the run's own pace, where it is longer


def test_defaults_follow_the_thesis():
    config = TrainConfig()
    assert (config.lr_g, config.beta1_g, config.lr_d, config.beta1_d) == (2e-4, 0.5, 2e-3, 0.7)
    assert (config.generator, config.discriminator, config.l1_weight) == ("gen2", "disc2", 100.0)


def test_the_library_refuses_a_config_that_is_not_one_no_data_and_words_for_numbers(tmp_path, monkeypatch):
    from rehue.errors import UsageError

    monkeypatch.chdir(tmp_path)  # with no data given, nothing here may be read as training photos
    with pytest.raises(UsageError, match="takes a TrainConfig"):
        train("photos")
    with pytest.raises(UsageError, match="no training data"):
        train(TrainConfig(out=str(tmp_path / "run")))
    with pytest.raises(UsageError, match="lr_g must be a number, not 'fast'"):
        train(tiny_config(tmp_path, tmp_path / "run", lr_g="fast"))
    with pytest.raises(UsageError, match="^amp must be True or False, not 'false'$"):  # probe 192: taken, true
        train(tiny_config(tmp_path, tmp_path / "run", amp="false"))
    assert not (tmp_path / "run").exists()


def test_a_notebooks_paths_and_numbers_are_taken_and_settings_no_run_can_use_are_refused(tmp_path, photo_folder,
                                                                                        capsys, caplog):
    """Probe 75: a pathlib.Path was "PosixPath is not JSON serializable", epochs=1.5, seed=-1 and in_channels=2
    failed deep inside torch or numpy, and the epoch lines were printed with progress=False whatever the
    ``rehue`` logger's level."""
    import logging

    from rehue.errors import UsageError

    for setting, message in (({"epochs": 1.5}, "epochs must be a whole number"),
                             ({"seed": -1}, "seed must be a whole number from 0"), ({"seed": 2**70}, "seed must be"),
                             ({"in_channels": 2}, "in_channels must be 1"), ({"data": 3}, "data must be a path")):
        with pytest.raises(UsageError, match=message):
            train(TrainConfig(**{**tiny_config(photo_folder, tmp_path / "refused").to_dict(), **setting}),
                  progress=False)
    assert not (tmp_path / "refused").exists()
    config = {**tiny_config(photo_folder, tmp_path).to_dict(), "data": photo_folder, "out": tmp_path / "run",
              "epochs": 1.0, "batch_size": np.int64(4), "lr_g": np.float32(2e-4)}
    with caplog.at_level(logging.INFO, logger="rehue"):
        train(TrainConfig(**config), progress=False)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["data"], saved["epochs"], saved["batch_size"]) == (str(photo_folder), 1, 4)
    assert "epoch 1/1" in caplog.text and "epoch" not in capsys.readouterr().err
    changed = tiny_config(photo_folder, tmp_path / "later", amp=np.bool_(False), seed=2**32)  # an earlier rehue's
    changed.epochs, changed.data = 3.0, photo_folder  # set after it was made (probe 76)
    changed.check()
    assert (changed.epochs, changed.data) == (3, str(photo_folder))
    assert json.loads(json.dumps(changed.to_dict()))["amp"] is False, "numpy's bool, written as JSON's"
    with pytest.raises(UsageError, match="seed must be"):
        TrainConfig(**{**changed.to_dict(), "seed": 2**63}).check()


def test_two_epochs_write_checkpoints_samples_metrics_and_model(tmp_path, photo_folder):
    result = train(tiny_config(photo_folder, tmp_path / "run"), progress=False)
    run = tmp_path / "run"
    assert [r["epoch"] for r in result.history] == [1, 2]
    assert len(list_checkpoints(run / "checkpoints")) == 2
    assert (run / "samples" / "epoch_002.png").exists()
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]
    record = json.loads(lines[-1])
    for key in ("seconds", "loss_d", "loss_g_l1", "val_psnr", "val_ssim", "val_gray_psnr"):
        assert key in record
    model, card = load_model(run / "model.safetensors")
    assert card.training["steps"] == 6 and card.size == 32 and "val_psnr" in card.metrics
    assert "fit" not in card.inference, "trained on photo crops: shown photos natively (the default)"
    for key, value in result.generator.state_dict().items():
        assert torch.equal(value, model.state_dict()[key])


def test_training_moves_the_weights_and_lowers_l1(tmp_path, photo_folder):
    config = tiny_config(photo_folder, tmp_path / "run", epochs=3, steps_per_epoch=8, lr_g=2e-3)
    history = train(config, progress=False).history
    assert history[-1]["loss_g_l1"] < history[0]["loss_g_l1"]


def test_resume_continues_to_the_same_number_of_epochs(tmp_path, photo_folder):
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1), progress=False)
    result = train(tiny_config(photo_folder, out, epochs=3), resume=True, progress=False)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


def test_a_resumed_run_refuses_changed_settings_and_takes_the_rest_from_the_run(tmp_path, photo_folder, capsys):
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1, lr_g=5e-4), progress=False)
    checkpoints = list_checkpoints(out / "checkpoints")
    with pytest.raises(RehueError, match=r"--lr-g 0.0002 \(the run's 0.0005\)"):
        train(tiny_config(photo_folder, out, epochs=2), resume=True, progress=False)
    assert list_checkpoints(out / "checkpoints") == checkpoints

    command = ["train", str(photo_folder), "--out", str(out), "--device", "cpu", "--no-progress", "--resume"]
    capsys.readouterr()
    assert main(command + ["--size", "64", "--lr-g", "2e-4"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--size 64 (the run's 32)" in err and "--lr-g 0.0002" in err
    assert list_checkpoints(out / "checkpoints") == checkpoints

    assert main(command + ["--epochs", "2", "--workers", "0"]) == 0, "options left out are the run's own"
    _, card = load_model(out / "model.safetensors")
    assert card.size == 32 and card.width == 4 and card.training["epochs"] == 2
    assert json.loads((out / "config.json").read_text())["lr_g"] == 5e-4

    # fewer epochs than trained: before, silently taken as the run's own (it trained on to them)
    checkpoints = list_checkpoints(out / "checkpoints")
    capsys.readouterr()
    assert main(command + ["--epochs", "1"]) == 2
    assert capsys.readouterr().err.strip() == (f"rehue: error: {out}: the run has trained 2 epochs already, more "
                                               "than --epochs 1; a resumed run can only go on")
    assert list_checkpoints(out / "checkpoints") == checkpoints
    assert main(command + ["--overwrite"]) == 2, "probe 69: the resume won without a word"
    assert capsys.readouterr().err.strip() == ("rehue: error: --resume goes on with the run in --out, --overwrite "
                                               "replaces it: give one")
    assert list_checkpoints(out / "checkpoints") == checkpoints


def test_resume_takes_the_runs_own_data_and_a_finished_run_is_left_alone(tmp_path, photo_folder, capsys,
                                                                        monkeypatch):
    out = tmp_path / "run"
    monkeypatch.chdir(tmp_path)
    train(tiny_config("photos", out, epochs=1), progress=False)  # DATA as typed: relative to where train ran
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "photos").mkdir(parents=True)  # a folder of the same name, of gray photos: not the run's
    Image.fromarray(np.full((40, 40), 128, np.uint8)).save(elsewhere / "photos" / "gray.png")
    monkeypatch.chdir(elsewhere)
    base = ["train", "--out", str(out), "--device", "cpu", "--no-progress"]
    capsys.readouterr()
    assert main(base) == 2, "DATA may be left out only with --resume"
    assert capsys.readouterr().err.strip() == ("rehue: error: train needs DATA, the training photos or frames "
                                               "(only --resume can leave it out)")

    assert main(base + ["--resume", "--epochs", "2"]) == 0
    assert [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert json.loads((out / "config.json").read_text())["data"] == str(photo_folder.resolve()), \
        "the folder the run trained on, wherever the resume is typed"

    written = {name: (out / name).stat().st_mtime_ns for name in ("model.safetensors", "metrics.jsonl")}
    capsys.readouterr()
    assert main(base + ["--resume"]) == 0
    err = capsys.readouterr().err
    assert "nothing left to train: the run has trained its 2 epochs (--epochs 3 or more trains on)" in err
    assert "model written" not in err
    assert {name: (out / name).stat().st_mtime_ns for name in written} == written, "a finished run is not rewritten"
    assert main(base + ["--resume", "--device", "bogus"]) == 2  # probe 170: "nothing left to train", exit 0
    assert capsys.readouterr().err == "rehue: error: unknown device 'bogus'; use auto, cpu, cuda, cuda:N or mps\n"
    result = train(tiny_config(photo_folder, out, epochs=2), resume=True, progress=False)
    assert not result.trained and [r["epoch"] for r in result.history] == [1, 2]
    shipped = load_model(out / "model.safetensors")[0].state_dict()
    assert all(torch.equal(value, shipped[key]) for key, value in result.generator.state_dict().items())
    # probe 142: a damaged model, or its config gone, was "nothing left to train", then an error; now written again
    model_bytes = (out / "model.safetensors").read_bytes()
    for damage in (lambda: (out / "model.safetensors").write_bytes(model_bytes[:500]),
                   lambda: (out / "model.json").rename(tmp_path / "model.json")):
        damage()
        assert main(base + ["--resume"]) == 0
        err = capsys.readouterr().err
        assert "; written again from the run's last checkpoint" in err and "nothing left to train" not in err
        assert (out / "model.safetensors").read_bytes() == model_bytes and (out / "model.json").is_file()


def test_existing_run_needs_resume_or_overwrite(tmp_path, photo_folder):
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1), progress=False)
    with pytest.raises(RehueError, match="--resume"):
        train(tiny_config(photo_folder, out, epochs=1), progress=False)
    (out / "notes.txt").write_text("mine")
    (out / "samples" / "epoch_009.png").write_bytes(b"a sample grid of the run being replaced")
    train(tiny_config(photo_folder, out, epochs=1), overwrite=True, progress=False)
    assert sorted(path.name for path in (out / "samples").iterdir()) == ["epoch_001.png"], \
        "no sample grid of the replaced run outlives it"
    assert (out / "notes.txt").read_text() == "mine", "only the run's own files are replaced"
    # probe 174: a file of the user's in the run's checkpoints/ or samples/ went with them
    for mine in (out / "samples" / "my_pick.txt", out / "checkpoints" / "my_best_backup.pt",
                 out / "samples" / "picks" / "epoch_001.png", out / "samples" / "epoch_001.best.png",
                 out / "checkpoints" / "epoch_0001.pt.bak", out / "checkpoints" / "epoch_001.png"):
        mine.parent.mkdir(exist_ok=True)
        mine.write_bytes(b"the user's")
        with pytest.raises(RehueError) as error:
            train(tiny_config(photo_folder, out, epochs=1), overwrite=True, progress=False)
        assert (error.value.path, error.value.reason) == (str(out), (
            f"holds files of its own among the run's (such as {mine.relative_to(out)}), which --overwrite would take "
            "away with the run it replaces; move them out of the run's folder, or name another --out"))
        assert mine.read_bytes() == b"the user's" and (out / "model.safetensors").is_file()
        mine.unlink()
    (out / "samples" / ".DS_Store").write_bytes(b"Finder's")  # no one's
    (out / "samples" / f".epoch_002.rehue-tmp{2**22}.png").write_bytes(b"a killed run's")  # rehue's
    (out / "checkpoints" / f".epoch_0002.pt.tmp{2**22}").write_bytes(b"a killed run's")
    train(tiny_config(photo_folder, out, epochs=1), overwrite=True, progress=False)


def zipped(files: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_corrupt_checkpoint_falls_back_to_the_previous_one(tmp_path, photo_folder, caplog, capfd):
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=2), progress=False)
    newest = list_checkpoints(out / "checkpoints")[-1]
    newest.write_bytes(newest.read_bytes()[:1000])
    result = train(tiny_config(photo_folder, out, epochs=2), resume=True, progress=False)
    assert "corrupt or truncated" in caplog.text, "a warning, to the rehue logger"
    assert [r["epoch"] for r in result.history] == [1, 2]
    import hashlib
    import pickle

    # probe 224: a damaged newest checkpoint whose checksum was written anew for it stopped the resume, though the
    # one before was intact; a text file there was "refused ... (weights-only loading)", as though it were hostile
    intact = newest.read_bytes()
    for damaged, said in ((intact[:3000], "not a readable checkpoint (PytorchStreamReader failed reading zip archive"),
                          (b"hello\n", "not a rehue training checkpoint (not the zip archive a run saves)"),
                          (pickle.dumps({"epoch": 2}), "not a rehue training checkpoint (not the zip archive a run"),
                          (zipped({"readme.txt": b"hi"}), "not a readable checkpoint (file in archive is not in a "
                                                          "subdirectory: readme.txt)"),  # probe 228: "([enforce ...] )"
                          (zipped({"archive/data.pkl": pickle.dumps({"epoch": 2}, protocol=4),
                                   "archive/version": b"3\n"}),
                           "not a readable checkpoint (its pickle is damaged, or not of the kind a run saves)")):
        caplog.clear()
        newest.write_bytes(damaged)
        newest.with_suffix(".pt.sha256").write_text(hashlib.sha256(damaged).hexdigest() + "\n")
        said_lines = []
        result = train(tiny_config(photo_folder, out, epochs=2), resume=True, progress=False, log=said_lines.append)
        assert [r["epoch"] for r in result.history] == [1, 2]
        assert any(line.startswith(f"warning: {newest}: {said}") and line.endswith("; trying the previous checkpoint")
                   for line in said_lines), said_lines
        assert "UserWarning" not in capfd.readouterr().err, "PyTorch's own warning of a pickle protocol"
    for path in list_checkpoints(out / "checkpoints"):
        path.write_bytes(b"junk")
    with pytest.raises(RehueError, match="no intact checkpoint.*the command that began it and --overwrite"):
        train(tiny_config(photo_folder, out, epochs=3), resume=True, progress=False)
    # as it says (probe 113: "remove them" left a folder --resume could not start)
    assert train(tiny_config(photo_folder, out, epochs=2), overwrite=True, progress=False).history[-1]["epoch"] == 2


def test_sigkill_mid_run_then_resume_finishes_all_epochs(tmp_path, photo_folder):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "rehue.cli", "train", str(photo_folder), "--out", str(out), "--size", "32",
            "--width", "4", "--batch-size", "4", "--epochs", "4", "--steps-per-epoch", "6", "--val-images", "4",
            "--device", "cpu", "--no-progress"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list_checkpoints(out / "checkpoints") and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list_checkpoints(out / "checkpoints"))
    assert done >= 1
    assert main(args[3:] + ["--resume"]) == 0
    history = [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert history == [1, 2, 3, 4]


def test_colour_jitter_from_the_command_line_is_recorded_in_the_run_and_the_model(tmp_path, photo_folder):
    out = tmp_path / "run"
    assert main(["train", str(photo_folder), "--out", str(out), "--size", "32", "--width", "4", "--batch-size", "4",
                 "--epochs", "1", "--steps-per-epoch", "2", "--val-images", "2", "--device", "cpu", "--no-progress",
                 "--colour-jitter", "0.3", "--crop-min", "0.7"]) == 0
    assert json.loads((out / "config.json").read_text())["colour_jitter"] == 0.3
    assert json.loads((out / "config.json").read_text())["crop_min"] == 0.7
    _, card = load_model(out / "model.safetensors")
    assert card.training["colour_jitter"] == 0.3 and card.training["studio_share"] == 0.0
    assert card.training["crop_min"] == 0.7


def test_fine_tuning_from_the_command_line_takes_the_init_models_shape_unless_given(tmp_path, photo_folder,
                                                                                   tiny_model):
    common = ["--batch-size", "4", "--epochs", "1", "--steps-per-epoch", "1", "--val-images", "2", "--device", "cpu",
              "--no-progress", "--init", str(tiny_model)]
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "a"), *common]) == 0
    _, card = load_model(tmp_path / "a" / "model.safetensors")
    assert (card.architecture, card.size, card.width) == ("gen2", 32, 4), "the tiny model's, not the defaults"
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "b"), *common, "--size", "64"]) == 0
    assert load_model(tmp_path / "b" / "model.safetensors")[1].size == 64
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "c"), *common, "--width", "8"]) == 2, \
        "a width the weights do not have is refused, as a usage error (probe 84)"
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "d"), *common[:-2]]) == 0
    assert load_model(tmp_path / "d" / "model.safetensors")[1].width == TrainConfig().width, "no --init: defaults"


def test_init_default_is_the_shipped_model_colorize_takes_by_default(tmp_path, photo_folder):
    """Probe 107: `train --init default` said "no such model file", where `colorize`, `evaluate --against` and
    ``Colorizer.load`` take "default"."""
    from rehue.models.io import default_model_name
    from rehue.training.loop import shipped_init

    assert shipped_init("default", dependent=True) == default_model_name("dependent") is not None
    assert shipped_init("runs/a", dependent=False) == "runs/a"
    from rehue.training.loop import init_on_disk

    (tmp_path / "default").mkdir()  # a folder of that name, as for `colorize --model default`: the name wins
    make_tiny_model(tmp_path / "default" / "m.safetensors")
    assert not init_on_disk("default", tmp_path), "probe 108: a grid file's init = \"default\" took the folder"
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "ft"), "--init", "default", "--size", "32",
                 "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "1", "--val-images", "2", "--device",
                 "cpu", "--no-progress"]) == 0
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["init"] == default_model_name("independent")


def test_the_start_validation_of_a_fine_tuning_run_leaves_the_random_numbers_as_they_were(tmp_path, photo_folder):
    from rehue.data.datasets import build_datasets
    from rehue.training.loop import _start_validation

    model, _ = load_model(make_tiny_model(tmp_path / "m.safetensors"))
    _, val_set = build_datasets(photo_folder, 32)
    loader = torch.utils.data.DataLoader(val_set, batch_size=4)
    torch.manual_seed(3)
    lines = []
    (tmp_path / "r").mkdir()
    _start_validation(model, loader, "cpu", tiny_config(photo_folder, tmp_path / "r", init="m"), tmp_path / "r",
                      lines.append)
    after = torch.rand(4)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(4)), "the steps after it draw the same random numbers"
    assert lines[0].startswith("before training, m: val PSNR")
    kept = json.loads((tmp_path / "r" / "init_metrics.json").read_text())
    assert kept["init"] == "m" and f"val PSNR {kept['val_psnr']:.2f} dB (gray {kept['val_gray_psnr']:.2f})" in lines[0]
    lines.clear()
    train(tiny_config(photo_folder, tmp_path / "scratch", epochs=1, steps_per_epoch=1), progress=False,
          log=lines.append)
    assert not any(line.startswith("before training") for line in lines), "nothing to compare a new model with"
    assert not (tmp_path / "scratch" / "init_metrics.json").exists()


def test_dependent_model_trains_on_synthetic_pairs(tmp_path, photo_folder):
    result = train(tiny_config(photo_folder, tmp_path / "dep", in_channels=3, epochs=1), progress=False)
    _, card = load_model(tmp_path / "dep" / "model.safetensors")
    assert card.in_channels == 3 and card.role == "dependent"
    assert result.history[0]["val_psnr"] > 0


@pytest.mark.parametrize("generator,discriminator", [("gen1", "disc1"), ("gen2", "patch")])
def test_every_pairing_trains(tmp_path, photo_folder, generator, discriminator):
    config = tiny_config(photo_folder, tmp_path / "r", generator=generator, discriminator=discriminator, epochs=1)
    assert train(config, progress=False).history[0]["epoch"] == 1


def test_a_class_generator_learns_by_cross_entropy_and_keeps_its_temperature(tmp_path, photo_folder):
    lines = []
    config = tiny_config(photo_folder, tmp_path / "a", generator="gen2-classes", discriminator="patch", epochs=1)
    first = train(config, progress=False, log=lines.append).history[0]
    assert first["loss_g_ce"] > 0 and "CE " in lines[-1]
    trained, card = load_model(tmp_path / "a" / "model.safetensors")
    assert card.architecture == "gen2-classes"
    prior = trained.ab_prior
    assert abs(float(prior.sum()) - 1.0) < 1e-4 and prior.max() > 5.0 / len(prior), \
        "the training colours were counted, and saved with the model"
    base_json = tmp_path / "a" / "model.json"
    document = json.loads(base_json.read_text())
    document["inference"] = {"chroma": 0.8, "temperature": 0.6, "prior_mean_removal": 0.5}
    base_json.write_text(json.dumps(document))
    tuned = tiny_config(photo_folder, tmp_path / "b", generator="gen2-classes", discriminator="patch", epochs=1,
                        steps_per_epoch=1, init=str(tmp_path / "a" / "model.safetensors"))
    train(tuned, progress=False)
    model, card = load_model(tmp_path / "b" / "model.safetensors")
    assert card.inference == {"chroma": 0.8, "temperature": 0.6, "prior_mean_removal": 0.5}
    assert (model.temperature, model.prior_mean_removal) == (0.6, 0.5)
    plain = train(tiny_config(photo_folder, tmp_path / "c", epochs=1), progress=False).history[0]
    assert "loss_g_ce" not in plain


def test_without_the_adversarial_term_no_discriminator_is_run_or_trained(tmp_path, photo_folder):
    lines = []
    config = tiny_config(photo_folder, tmp_path / "a", generator="gen2-classes", discriminator="patch", epochs=1,
                         adversarial_weight=0.0, lr_g=2e-3)
    result = train(config, progress=False, log=lines.append)
    record = result.history[0]
    assert record["loss_d"] == record["loss_g_adv"] == 0 and record["loss_g_ce"] > 0
    assert "D " not in lines[-1] and "CE " in lines[-1]
    checkpoint = torch.load(list_checkpoints(tmp_path / "a" / "checkpoints")[-1], weights_only=True)
    assert not checkpoint["opt_d"]["state"], "the discriminator was never stepped"
    _, card = load_model(tmp_path / "a" / "model.safetensors")
    assert (card.training["adversarial_weight"], card.training["ce_weight"]) == (0.0, 4.0)
    # the same run with the term trains the discriminator, and its loss says so
    with_term = train(tiny_config(photo_folder, tmp_path / "b", epochs=1), progress=False).history[0]
    assert with_term["loss_d"] > 0
    checkpoint = torch.load(list_checkpoints(tmp_path / "b" / "checkpoints")[-1], weights_only=True)
    assert checkpoint["opt_d"]["state"]
    with pytest.raises(RehueError, match="adversarial_weight"):
        train(tiny_config(photo_folder, tmp_path / "c", adversarial_weight=-1.0), progress=False)


def test_init_from_a_model_fine_tunes_it(tmp_path, photo_folder):
    train(tiny_config(photo_folder, tmp_path / "a", epochs=1), progress=False)
    config = tiny_config(photo_folder, tmp_path / "b", epochs=1, steps_per_epoch=1, init=str(tmp_path / "a" /
                                                                                              "model.safetensors"))
    result = train(config, progress=False)
    base, _ = load_model(tmp_path / "a" / "model.safetensors")
    drift = max((a - b).abs().max().item() for a, b in zip(base.parameters(), result.generator.parameters(),
                                                           strict=True))
    assert 0 < drift < 0.1
    with pytest.raises(RehueError, match="--init"):
        train(tiny_config(photo_folder, tmp_path / "c", epochs=1, width=8,
                          init=str(tmp_path / "a" / "model.safetensors")), progress=False)


def test_a_fine_tuned_model_keeps_its_init_models_restraint_but_not_its_view(tmp_path, photo_folder):
    train(tiny_config(photo_folder, tmp_path / "a", epochs=1), progress=False)
    base_json = tmp_path / "a" / "model.json"
    config = json.loads(base_json.read_text())
    assert "chroma" not in config["inference"], "a run from scratch is shown unrestrained"
    config["inference"] = {"chroma": 0.4, "ab_smoothing": 1.2, "fit": "letterbox", "borders": "model"}
    base_json.write_text(json.dumps(config))
    lines = []
    train(tiny_config(photo_folder, tmp_path / "b", epochs=1, steps_per_epoch=1,
                      init=str(tmp_path / "a" / "model.safetensors")), progress=False, log=lines.append)
    _, card = load_model(tmp_path / "b" / "model.safetensors")
    assert card.inference == {"chroma": 0.4, "ab_smoothing": 1.2}, "trained on photo crops: shown photos natively"
    assert any("restraint (chroma 0.4, ab_smoothing 1.2; `rehue colorize --chroma` sets another scale)" in line
               for line in lines)
    base_json.write_text(json.dumps({**config, "inference": {"ab_smoothing": 1.2}}))
    lines.clear()
    train(tiny_config(photo_folder, tmp_path / "d", epochs=1, steps_per_epoch=1,
                      init=str(tmp_path / "a" / "model.safetensors")), progress=False, log=lines.append)
    assert any(line.endswith("restraint (ab_smoothing 1.2)") for line in lines), "probe 124: no chroma, no word of it"
    guided = {"chroma": 0.5, "ab_guide_radius": 12, "ab_guide_eps": 0.01}  # the shipped model's restraint
    base_json.write_text(json.dumps({**config, "inference": guided}))
    train(tiny_config(photo_folder, tmp_path / "c", epochs=1, steps_per_epoch=1,
                      init=str(tmp_path / "a" / "model.safetensors")), progress=False)
    assert load_model(tmp_path / "c" / "model.safetensors")[1].inference == guided, "the guided filter is kept"
    start = [line for line in lines if line.startswith("before training")]
    assert len(start) == 1 and "val PSNR" in start[0] and "gray" in start[0], "the init model's score, to compare with"
    for path in (tmp_path / "a").glob("model.*"):
        path.unlink()
    train(tiny_config(photo_folder, tmp_path / "b", epochs=2, steps_per_epoch=1,
                      init=str(tmp_path / "a" / "model.safetensors")), resume=True, progress=False)
    _, card = load_model(tmp_path / "b" / "model.safetensors")
    assert card.training["epochs"] == 2 and card.inference == {"chroma": 0.4, "ab_smoothing": 1.2}, \
        "a resumed run keeps the restraint from its checkpoint, with the init model gone"


DDP_SCRIPT = """
import hashlib, json, os, sys, torch
import torch.distributed as dist
from rehue.training import TrainConfig, train
data, out = sys.argv[1], sys.argv[2]
reduced, all_reduce = [], dist.all_reduce
def recorded(tensor, *args, **kwargs):
    reduced.append([str(tensor.dtype), list(tensor.shape)])
    return all_reduce(tensor, *args, **kwargs)
dist.all_reduce = recorded
config = TrainConfig(data=data, out=out, size=32, width=4, batch_size=2, epochs=1, steps_per_epoch=3,
                     val_images=2, device="cpu")
result = train(config, progress=False)
digest = hashlib.sha256()
for key, value in sorted(result.generator.state_dict().items()):
    digest.update(key.encode()); digest.update(value.detach().numpy().tobytes())
assert not torch.distributed.is_initialized(), "train ends the process group it started"
open(f"{out}/rank{os.environ['RANK']}.sha256", "w").write(digest.hexdigest())
open(f"{out}/rank{os.environ['RANK']}.reduced", "w").write(json.dumps(reduced))
"""


def test_ddp_two_cpu_processes_end_with_identical_weights(tmp_path, photo_folder):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(script), str(photo_folder), str(out)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = (out / "rank0.sha256").read_text(), (out / "rank1.sha256").read_text()
    assert first == second
    assert (out / "model.safetensors").exists()
    # probe 122: the losses were rank 0's alone, and a run resumed in one process counted its images anew
    for rank in (0, 1):
        assert ["torch.float64", [3]] in json.loads((out / f"rank{rank}.reduced").read_text()), "losses averaged"
    history = train(TrainConfig(data=str(photo_folder), out=str(out), size=32, width=4, batch_size=2, epochs=2,
                                steps_per_epoch=3, val_images=2, device="cpu"), resume=True, progress=False).history
    assert [record["images_seen"] for record in history] == [3 * 2 * 2, 3 * 2 * 2 + 3 * 2]


def test_dependent_model_starts_from_an_independent_one(tmp_path, photo_folder):
    import numpy as np

    from rehue.inference.colorizer import Colorizer

    train(tiny_config(photo_folder, tmp_path / "ind", epochs=1), progress=False)
    config = tiny_config(photo_folder, tmp_path / "dep", in_channels=3, init=str(tmp_path / "ind" /
                                                                                "model.safetensors"))
    from rehue.models.registry import create_model
    from rehue.training.loop import _load_init_weights

    grown = create_model("gen2", in_channels=3, size=32, width=4)
    _load_init_weights(grown, config.init, config, log=lambda msg: None)
    independent = Colorizer.load(tmp_path / "ind" / "model.safetensors", device="cpu")
    gray = np.random.default_rng(0).integers(0, 256, (1, 32, 32), dtype=np.uint8)
    prev_ab = np.random.default_rng(1).uniform(-0.5, 0.5, (1, 2, 32, 32)).astype(np.float32)
    from rehue.models.io import ModelCard

    dependent = Colorizer(grown.eval(), ModelCard("gen2", 3, 32, 4, role="dependent"))
    # before any training step the grown model ignores the previous colours: it is the independent model
    assert np.allclose(dependent.predict_ab(gray, prev_ab), independent.predict_ab(gray), atol=1e-5)


def test_batches_larger_than_a_pass_over_few_photos_are_full(tmp_path, photo_folder):
    config = tiny_config(photo_folder, tmp_path / "big", batch_size=100, epochs=1, steps_per_epoch=1)
    assert train(config, progress=False).history[0]["images_seen"] == 100


def test_resume_heals_a_run_killed_after_its_last_checkpoint(tmp_path, photo_folder):
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1), progress=False)
    (out / "model.safetensors").unlink()
    (out / "metrics.jsonl").unlink()
    result = train(tiny_config(photo_folder, out, epochs=1), resume=True, progress=False)
    assert [r["epoch"] for r in result.history] == [1]
    assert (out / "model.safetensors").exists() and (out / "metrics.jsonl").exists()


def test_weight_average_follows_the_weights_with_its_decay():
    from rehue.training.loop import WeightAverage

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    average = WeightAverage(model, decay=0.5)
    start = model[0].weight.detach().clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)
    for _ in range(200):  # the warm-up ramp is long over; the average converges to the weights
        average.update(model)
    assert torch.allclose(average.model[0].weight, start + 1.0, atol=1e-5)
    with torch.no_grad():
        model[0].weight.add_(2.0)
    average.update(model)
    assert torch.allclose(average.model[0].weight, start + 2.0, atol=1e-5), "halfway from +1 to +3 at decay 0.5"
    assert not any(p.requires_grad for p in average.model.parameters())


def test_ema_run_exports_and_resumes_the_average(tmp_path, photo_folder):
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1, ema=0.9), progress=False)
    plain = train(tiny_config(photo_folder, tmp_path / "plain", epochs=1), progress=False)
    result = train(tiny_config(photo_folder, out, epochs=2, ema=0.9), resume=True, progress=False)
    model, card = load_model(out / "model.safetensors")
    assert card.training["ema"] == 0.9
    for key, value in result.generator.state_dict().items():
        assert torch.equal(value, model.state_dict()[key])
    state = torch.load(list_checkpoints(out / "checkpoints")[-1], weights_only=True)
    assert state["ema_generator"]["updates"] == 6
    saved = state["ema_generator"]["model"]
    assert any(not torch.equal(saved[k], state["generator"][k]) for k in saved), "average differs from last weights"
    assert [r["epoch"] for r in plain.history] == [1]


def test_dependent_self_feed_changes_what_the_model_learns_from(tmp_path, photo_folder):
    """Same seed and data: feeding the model its own previous a*b* must change the run."""
    weights = {}
    for share in (0.0, 1.0):
        config = tiny_config(photo_folder, tmp_path / f"dep{share}", in_channels=3, epochs=1, self_feed=share)
        result = train(config, progress=False)
        assert result.history[0]["loss_g_l1"] > 0
        assert load_model(tmp_path / f"dep{share}" / "model.safetensors")[1].training["self_feed"] == share
        weights[share] = result.generator.state_dict()
    assert any(not torch.equal(weights[0.0][k], weights[1.0][k]) for k in weights[0.0])


def test_independent_feed_needs_an_independent_init_and_changes_the_run(tmp_path, photo_folder):
    with pytest.raises(RehueError, match="independent_feed needs"):
        train(tiny_config(photo_folder, tmp_path / "x", in_channels=3, epochs=1, independent_feed=0.5),
              progress=False)
    train(tiny_config(photo_folder, tmp_path / "ind", epochs=1), progress=False)
    init = str(tmp_path / "ind" / "model.safetensors")
    weights = {}
    for share in (0.0, 1.0):
        config = tiny_config(photo_folder, tmp_path / f"dep{share}", in_channels=3, epochs=1, init=init,
                             independent_feed=share)
        weights[share] = train(config, progress=False).generator.state_dict()
    assert any(not torch.equal(weights[0.0][k], weights[1.0][k]) for k in weights[0.0])


def test_a_resumed_run_fed_by_an_independent_model_ends_as_an_uninterrupted_one(tmp_path, photo_folder):
    """Before, the feeding model was built after the RNG was put back on resume, and its layers' random
    initial weights shifted every later draw: the resumed run trained another model (probe 16)."""
    train(tiny_config(photo_folder, tmp_path / "ind", epochs=1), progress=False)
    init = str(tmp_path / "ind" / "model.safetensors")
    settings = dict(in_channels=3, init=init, independent_feed=0.5)
    whole = train(tiny_config(photo_folder, tmp_path / "whole", epochs=2, **settings), progress=False)
    train(tiny_config(photo_folder, tmp_path / "parts", epochs=1, **settings), progress=False)
    resumed = train(tiny_config(photo_folder, tmp_path / "parts", epochs=2, **settings), resume=True,
                    progress=False)
    for key, value in whole.generator.state_dict().items():
        assert torch.equal(value, resumed.generator.state_dict()[key]), key


def test_self_feed_steps_roll_the_model_out_on_its_own_colours():
    """With self_feed_steps k the previous a*b* is the model applied 1..k times, each time to its own output."""
    from rehue.training.loop import _previous_as_in_a_video

    calls = []

    def halve(inputs):  # a stand-in generator: returns half the a*b* it is given
        calls.append(inputs)
        return inputs[:, 1:] / 2

    lightness = torch.zeros(2, 1, 8, 8)
    inputs = torch.cat([lightness, torch.ones(2, 2, 8, 8)], dim=1)
    torch.manual_seed(0)
    counts = set()
    for _ in range(40):
        calls.clear()
        config = TrainConfig(in_channels=3, self_feed=1.0, self_feed_steps=4)
        fed = _previous_as_in_a_video(inputs, lightness, lightness, halve, None, config, use_amp=False)
        counts.add(len(calls))
        assert torch.allclose(fed[:, 1:], torch.full_like(fed[:, 1:], 0.5 ** len(calls)))
        assert torch.equal(fed[:, :1], lightness)
    assert counts == {1, 2, 3, 4}
    calls.clear()
    _previous_as_in_a_video(inputs, lightness, lightness, halve, None, TrainConfig(in_channels=3, self_feed=1.0),
                            use_amp=False)
    assert len(calls) == 1


def test_a_nan_in_the_adversarial_loss_alone_is_a_diverged_run(tmp_path, photo_folder, monkeypatch):
    """Probe 197: a NaN G adv loss (a huge --lr-d) with finite L1 and D losses trained on and wrote a model of NaN
    weights, exit 0; each step's losses are the discriminator's on real, on generated, then the generator's."""
    import torch

    losses = []
    bce = torch.nn.BCEWithLogitsLoss.forward

    def nan_for_the_generator(self, logits, target):
        losses.append(None)
        loss = bce(self, logits, target)
        return loss * float("nan") if len(losses) % 3 == 0 else loss

    monkeypatch.setattr(torch.nn.BCEWithLogitsLoss, "forward", nan_for_the_generator)
    with pytest.raises(RehueError, match=r"training diverged at step 1 \(loss is NaN/inf\); lower the learning rates"):
        train(tiny_config(photo_folder, tmp_path / "run"), progress=False)
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_a_run_that_diverges_after_its_first_checkpoint_says_its_folder_is_kept_and_the_way_on(tmp_path,
                                                                                              photo_folder,
                                                                                              monkeypatch):
    """Probe 202: "training diverged at step 4 ...; lower the learning rates", the folder and its epoch kept unsaid,
    and the same command then refused as "already holds a training run"; NumPy's warning of the NaN samples' cast."""
    import warnings

    import torch

    from rehue.training.loop import lab_batch_to_rgb
    from tests.conftest import losses_nan_after

    run = tmp_path / "run"
    with monkeypatch.context() as patched:
        losses_nan_after(patched, 9)  # from the second epoch's first step: three steps an epoch
        with pytest.raises(RehueError) as diverged:
            train(tiny_config(photo_folder, run), progress=False, log=lambda line: None)
    assert str(diverged.value) == (f"{run}: training diverged at step 4 (loss is NaN/inf); lower the learning "
                                   "rates, and start it again with --overwrite (the folder keeps the epochs trained "
                                   "before it)")
    assert (run / "checkpoints" / "epoch_0001.pt").is_file()
    assert train(tiny_config(photo_folder, run), overwrite=True, progress=False, log=lambda line: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = lab_batch_to_rgb(torch.zeros(1, 1, 4, 4), torch.full((1, 2, 4, 4), float("nan")))
    assert drawn.dtype == np.uint8 and drawn.shape == (1, 4, 4, 3)


def test_weights_a_last_step_sends_past_float32_are_a_diverged_run_not_a_model(tmp_path, photo_folder,
                                                                               monkeypatch):
    """Probe 203: the losses, taken before the step, finite; the run exited 0 with a model nothing could load, its
    validation score that of black colours."""
    import torch

    from rehue.training import loop

    stepped = loop._optimiser_step

    def last_step_past_float32(optimiser, step, out):
        stepped(optimiser, step, out)
        if step == 3:  # the first epoch's last
            optimiser.param_groups[0]["params"][0].data.fill_(float("inf"))

    monkeypatch.setattr(loop, "_optimiser_step", last_step_past_float32)
    with pytest.raises(RehueError) as diverged:
        train(tiny_config(photo_folder, tmp_path / "run"), progress=False, log=lambda line: None)
    assert str(diverged.value) == "training diverged at step 3 (loss is NaN/inf); lower the learning rates"
    assert not (tmp_path / "run").exists()

    class NaNColours(torch.nn.Module):
        def forward(self, lightness):
            return torch.full((len(lightness), 2, *lightness.shape[2:]), float("nan"))

    batch = {"lightness": torch.zeros(2, 1, 8, 8), "ab": torch.zeros(2, 2, 8, 8)}
    with pytest.raises(loop.NonFiniteOutput):
        loop.validate(NaNColours(), [batch], "cpu", 2)


@pytest.mark.parametrize("rates", [{"lr_g": 3.4e38}, {"lr_d": 2e38, "beta1_d": 0.7}])
def test_a_rate_adams_first_step_takes_past_float32_is_a_diverged_run(tmp_path, photo_folder, rates):
    """Probe 200: below float32's largest, but divided by 1 - beta1 in Adam's first step, "value cannot be
    converted to type float without overflow", a traceback."""
    with pytest.raises(RehueError) as diverged:
        train(tiny_config(photo_folder, tmp_path / "run", **rates), progress=False)
    assert str(diverged.value) == "training diverged at step 1 (loss is NaN/inf); lower the learning rates"
    assert not (tmp_path / "run" / "model.safetensors").exists()


@pytest.mark.parametrize(("setting", "message"), [
    ({"epochs": 0}, "epochs must be at least 1, not 0"),
    ({"batch_size": 1}, "batch_size 1 needs size 64 or more"),
    ({"lr_g": -1.0}, "lr_g must be above 0, not -1"),
    ({"lr_d": 0.0}, "lr_d must be above 0, not 0"),
    ({"lr_d": 1e39}, r"lr_d must be at most 3.40282347e\+38 \(float32's largest\), not 1e\+39"),  # probe 197:
    # Adam's traceback
    ({"lr_g": 3.4028235e38}, r"at most 3.40282347e\+38 \(float32's largest\), not 3.4028235e\+38"),  # probe 200: "at
    # most 3.403e+38, not 3.40282e+38"
    ({"beta1_g": 1.5}, "beta1_g must be at least 0 and below 1, not 1.5"),
    ({"ema": 1.0}, "ema must be at least 0 and below 1, not 1"),
    ({"self_feed": 2.0}, "self_feed must be between 0 and 1, not 2"),
    ({"width": 0}, "width must be at least 1, not 0"),
    ({"val_images": 0}, "val_images must be at least 1, not 0"),  # probe 61: trained, then "no samples to draw"
    ({"l1_weight": float("nan")}, "l1_weight must be a finite number, not nan"),  # was "training diverged"
    ({"lr_g": float("inf")}, "lr_g must be a finite number, not inf"),
    ({"self_feed": 0.5}, r"self_feed: only for a dependent model \(--dependent\)"),  # was kept in model.json
    ({"independent_feed": 0.5, "self_feed_steps": 2}, "independent_feed, self_feed_steps: only for a dependent"),
    ({"disc_width": -2}, "disc_width must be at least 0, not -2"),
    ({"workers": -1}, "workers must be at least 0, not -1"),
    ({"workers": 10**20}, r"workers must be at most \d+, not 100000000000000000000"),  # probe 213: a flood of
    ({"width": 2**66}, "width must be at most 1024, not 73786976294838206464"),        # processes, tracebacks
    ({"disc_width": 2**63 - 1}, "disc_width must be at most 1024, not 9223372036854775807"),
    ({"in_channels": 3, "self_feed": 0.5, "self_feed_steps": 10**6}, "self_feed_steps must be at most 1000, not "
                                                                     "1000000"),  # a hang
    ({"steps_per_epoch": -1}, "steps_per_epoch must be at least 0, not -1"),
    ({"epochs": 10**20}, "epochs must be at most 1000000, not 100000000000000000000"),  # probe 224: trained on,
    ({"steps_per_epoch": 10**20}, "steps_per_epoch must be at most 1000000000, not 10"),  # a number past 64 bits
    ({"l1_weight": -5.0}, "l1_weight must be at least 0, not -5"),
    ({"val_fraction": 1.0}, "val_fraction must be above 0 and below 1, not 1"),
    ({"feature_matching": -1.0}, "feature_matching must be at least 0, not -1"),
    ({"feature_matching": 10.0, "adversarial_weight": 0.0}, "adversarial_weight 0 trains no discriminator"),
    ({"in_channels": 3, "independent_feed": 0.5}, "independent_feed needs init: the independent model"),
    ({"in_channels": 3, "studio_share": 0.5, "colour_jitter": 0.1}, r"studio_share, colour_jitter: only for an "
                                                                     r"independent model \(they change single"),
    ({"generator": "nope"}, "unknown generator 'nope'; choose one of: gen1, gen2, gen2-classes"),
    ({"discriminator": "gen1"}, "unknown discriminator 'gen1'; choose one of: disc1, disc2, patch"),
    # probe 129: not one weight moved, exit 0; a weight the generator's loss has not, kept in its card
    ({"adversarial_weight": 0.0, "l1_weight": 0.0}, "adversarial_weight 0 and l1_weight 0 leave the generator "
                                                    "nothing to learn from"),
    ({"generator": "gen2-classes", "adversarial_weight": 0.0, "ce_weight": 0.0}, "adversarial_weight 0 and "
                                                                                 "ce_weight 0 leave the generator"),
])
def test_settings_no_run_can_use_are_one_line_errors_before_the_run_folder_is_made(tmp_path, photo_folder, setting,
                                                                                   message):
    """Before, --epochs 0 wrote a config and no model and exited 0, and --batch-size 1 at 32x32, a negative
    learning rate, --width 0 or --workers -1 ended in a PyTorch traceback."""
    with pytest.raises(RehueError, match=message):
        train(tiny_config(photo_folder, tmp_path / "run", **setting), progress=False)
    assert not (tmp_path / "run").exists()
    with pytest.raises(RehueError, match=message):  # probe 31: runs/ of runs/a was left, empty
        train(tiny_config(photo_folder, tmp_path / "runs" / "a", **setting), progress=False)
    assert not (tmp_path / "runs").exists()




@pytest.mark.parametrize(("options", "said"), [
    (["--generator", "gen2-classes", "--l1-weight", "5"], "--l1-weight: gen2-classes learns by cross-entropy over "
                                                          "a*b* bins (--ce-weight), not by L1"),
    (["--ce-weight", "10"], "--ce-weight: gen2 learns by L1 (--l1-weight), not by cross-entropy (gen2-classes does)"),
    # probe 170: the generator's name was looked up among every model, and the discriminators were offered
    (["--generator", "disc1"], "unknown generator 'disc1'; choose one of: gen1, gen2, gen2-classes"),
    (["--generator", "x", "--ce-weight", "10"], "unknown generator 'x'; choose one of: gen1, gen2, gen2-classes")])
def test_a_loss_weight_the_generator_has_not_is_refused_where_typed(tmp_path, photo_folder, capsys, options, said):
    """Probe 129: kept in the model card, never used. A grid search sets one weight for all its generators, and
    a run resumed keeps its config: each run uses its own weight there (probe 130: both were refused)."""
    from rehue.cli import main

    assert main(["train", str(photo_folder), "--out", str(tmp_path / "run"), *options, "--size", "32"]) == 2
    assert capsys.readouterr().err == f"rehue: error: {said}\n"
    assert not (tmp_path / "run").exists()
    result = train(tiny_config(photo_folder, tmp_path / "lib", epochs=1, generator="gen2-classes", l1_weight=5.0),
                   progress=False)
    assert result.history[0]["loss_g_ce"] > 0, "the library, as a grid search's runs, trains with its own weight"

def test_independent_feed_from_a_dependent_model_is_refused_before_the_data_is_read(tmp_path, photo_folder,
                                                                                     tiny_dependent_model):
    """Probe 129: `train --dependent --init default --independent-feed 0.5` (the shipped dependent model) read the
    data, then ended, exit 1, in the library's words."""
    with pytest.raises(UsageError, match="independent_feed feeds the a.b. of init, which must be an independent "
                                         f"model \\(1 input channel\\): {re.escape(str(tiny_dependent_model))} is a "
                                         "dependent model"):
        train(tiny_config(photo_folder, tmp_path / "run", in_channels=3, init=str(tiny_dependent_model),
                          independent_feed=0.5), progress=False)
    assert not (tmp_path / "run").exists()


def test_videos_and_unread_files_in_a_photo_folder_are_said(tmp_path, photo_folder):
    """Probe 129: a folder of videos was "no readable images found", and videos or HEIC files beside photos
    were passed over without a word (colorize names them)."""
    from tests.helpers_video import make_clip, textured_frames

    videos = tmp_path / "vids"
    videos.mkdir()
    make_clip(videos / "a.mp4", list(textured_frames(3, 32, 32)), fps=10)
    with pytest.raises(RehueError, match=re.escape(f"{videos}: holds no photos, but 1 video, such as a.mp4: build a "
                                                   f"frame dataset from them first (rehue frames {videos} --out DIR)")):
        train(tiny_config(videos, tmp_path / "run"), progress=False)
    heic = tmp_path / "heic"
    heic.mkdir()
    (heic / "a.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    with pytest.raises(RehueError, match="holds no photos rehue reads, but 1 file in formats it does not read, such "
                                         "as a.heic"):
        train(tiny_config(heic, tmp_path / "run"), progress=False)
    shutil.copy(videos / "a.mp4", photo_folder)
    shutil.copy(heic / "a.heic", photo_folder)
    lines = []
    train(tiny_config(photo_folder, tmp_path / "run", epochs=1), progress=False, log=lines.append)
    assert f"warning: {photo_folder}: 1 video passed over, such as a.mp4: train learns from the photos here; to " \
           "learn from films, build a frame dataset from them first" in " ".join(lines)
    assert f"warning: {photo_folder}: 1 file passed over, in formats rehue does not read, such as a.heic; convert " \
           "them to TIFF or PNG first" in lines


def test_an_init_models_training_photos_in_this_runs_validation_are_said(tmp_path, photo_folder):
    """Probe 129: fine-tuned from a run on the same folder with another seed, a run validated on photos its
    --init model had learnt from, and its starting and validation scores looked held out."""
    train(tiny_config(photo_folder, tmp_path / "a", epochs=1), progress=False)
    lines = []
    train(tiny_config(photo_folder, tmp_path / "same", epochs=1, init=str(tmp_path / "a")), progress=False,
          log=lines.append)
    assert not [line for line in lines if "was trained on" in line], "the same split: the same photos held out"
    seed = next(seed for seed in range(1, 20) if (split_paths(photo_folder, seed) != split_paths(photo_folder, 0)))
    train(tiny_config(photo_folder, tmp_path / "other", epochs=1, seed=seed, init=str(tmp_path / "a")),
          progress=False, log=lines.append)
    said = [line for line in lines if "was trained on" in line]
    [photo] = split_paths(photo_folder, seed)
    assert said == [f"warning: {photo_folder / photo} lies in {photo_folder}, which the --init model was trained on: "
                    "it taught it, unless its training held it out for validation, so its score is not held out"]


def split_paths(folder, seed):
    from rehue.data.datasets import build_datasets

    return [path.name for path in build_datasets(folder, 32, seed=seed, log=lambda message: None)[1].paths]

def test_a_run_folder_inside_the_training_photos_and_a_video_as_data_are_refused(tmp_path, photo_folder):
    """Before, --out inside the photo folder trained, and the run's sample pictures were then read as training
    photos by the next run on that folder; a video as data said "no readable images found"."""
    for out in (photo_folder, photo_folder / "run"):
        with pytest.raises(RehueError, match="must not be inside the training data"):
            train(tiny_config(photo_folder, out), progress=False)
    assert sorted(p.name for p in photo_folder.iterdir()) == [f"p{i}.png" for i in range(4)]
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", list(textured_frames(3, 32, 32)), fps=10)
    with pytest.raises(RehueError, match=r"film.mp4: is a video: build a frame dataset from it first \(rehue frames"):
        train(tiny_config(clip, tmp_path / "run"), progress=False)
    (tmp_path / "manifest.csv").write_text("video,split\n")  # probe 107: a warning, a count and an error
    lines = []
    with pytest.raises(RehueError, match=r"manifest.csv: not an image file \(or a format Pillow cannot read\)$"):
        train(tiny_config(tmp_path / "manifest.csv", tmp_path / "run"), progress=False, log=lines.append)
    assert lines == [] and not (tmp_path / "run").exists()


def test_batch_size_one_trains_where_the_deepest_features_are_larger_than_one_pixel(tmp_path, photo_folder):
    train(tiny_config(photo_folder, tmp_path / "run", batch_size=1, size=64), progress=False)
    assert (tmp_path / "run" / "model.safetensors").exists()


def test_bad_feed_and_stamp_settings_are_refused(tmp_path, photo_folder):
    with pytest.raises(RehueError, match="self_feed_steps must be at least 1"):
        train(tiny_config(photo_folder, tmp_path / "a", in_channels=3, self_feed_steps=0), progress=False)
    with pytest.raises(RehueError, match="stamp_share must be between 0 and 1"):
        train(tiny_config(photo_folder, tmp_path / "b", stamp_share=1.5), progress=False)
    with pytest.raises(RehueError, match="studio_share must be between 0 and 1"):
        train(tiny_config(photo_folder, tmp_path / "c", studio_share=-0.1), progress=False)
    with pytest.raises(RehueError, match="colour_jitter must be at least 0 and below 1"):
        train(tiny_config(photo_folder, tmp_path / "d", colour_jitter=1.0), progress=False)
    for crop_min in (0.0, 1.5):
        with pytest.raises(RehueError, match="crop_min must be above 0 and at most 1"):
            train(tiny_config(photo_folder, tmp_path / "f", crop_min=crop_min), progress=False)
        assert not (tmp_path / "f").exists()
    with pytest.raises(RehueError, match="a dependent model learns from pairs"):
        train(tiny_config(photo_folder, tmp_path / "e", in_channels=3, colour_jitter=0.3), progress=False)


@pytest.mark.parametrize("discriminator", ["disc1", "disc2", "patch"])
def test_feature_matching_pulls_the_output_towards_the_truths_discriminator_activations(tmp_path, photo_folder,
                                                                                         discriminator):
    plain = train(tiny_config(photo_folder, tmp_path / "plain", discriminator=discriminator, epochs=1), progress=False)
    matched = train(tiny_config(photo_folder, tmp_path / "fm", discriminator=discriminator, epochs=1,
                                feature_matching=10.0), progress=False)
    assert "loss_g_fm" not in plain.history[0] and matched.history[0]["loss_g_fm"] > 0
    assert plain.history[0]["loss_g_l1"] != matched.history[0]["loss_g_l1"], "the same seed, another loss"
    from rehue.models.registry import create_model
    from rehue.training.loop import DiscriminatorActivations

    model = create_model(discriminator, in_channels=3, size=32, role="discriminator")
    activations = DiscriminatorActivations(model, keep=True)
    layers = sum(isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU)) for m in model.modules())
    logits = activations.run(model, torch.zeros(2, 3, 32, 32))
    assert len(activations.outputs) == layers >= 3 and logits.shape[0] == 2
    model(torch.zeros(2, 3, 32, 32))
    assert len(activations.outputs) == layers, "a plain call of the discriminator records nothing"


def test_a_frame_dataset_smaller_than_a_batch_trains_and_one_without_pairs_is_a_clear_error(tmp_path):
    """Before, one training frame at 32x32 ended in BatchNorm's "Expected more than 1 value per channel"
    traceback, and a dependent model on frames without consecutive pairs in PyTorch's "num_samples=0"."""
    import numpy as np

    from rehue.data.frames import extract_frames
    from tests.conftest import textured_rgb
    from tests.helpers_video import make_clip

    clips = [make_clip(tmp_path / f"v{k}.mp4", [textured_rgb(48, 64, seed=k)] * 2, fps=2) for k in range(2)]
    frames = tmp_path / "frames"
    extract_frames(clips, frames, fps=1, size=32, test_videos=["v1.mp4"], progress=False)
    result = train(tiny_config(frames, tmp_path / "run", epochs=1, steps_per_epoch=2, batch_size=4), progress=False)
    assert result.history[0]["images_seen"] == 8 and np.isfinite(result.history[0]["loss_g_l1"])
    with pytest.raises(RehueError, match="no train pair of consecutive frames in one scene"):
        train(tiny_config(frames, tmp_path / "dependent", in_channels=3, epochs=1), progress=False)


def test_a_dependent_model_grown_from_an_independent_one_takes_the_shipped_drift_check(tmp_path, photo_folder):
    """Before, the model card's recipe (a dependent model --init from the fine-tuned independent one) gave a
    dependent model without the drift check, so its colour could fade over a long scene, unchecked."""
    from rehue.models.io import default_model_name, read_card, resolve_model_path

    train(tiny_config(photo_folder, tmp_path / "ind", epochs=1), progress=False)
    lines = []
    train(tiny_config(photo_folder, tmp_path / "dep", in_channels=3, epochs=1, steps_per_epoch=1,
                      init=str(tmp_path / "ind" / "model.safetensors")), progress=False, log=lines.append)
    shipped = read_card(resolve_model_path(default_model_name("dependent"))).inference
    drift = {k: v for k, v in shipped.items() if k.startswith("drift_")}
    assert drift and load_model(tmp_path / "dep" / "model.safetensors")[1].inference == drift
    assert any("takes the shipped dependent model's drift check" in line for line in lines)


def test_an_interrupted_training_says_how_to_go_on(tmp_path, photo_folder, monkeypatch, capsys):
    from rehue.training import loop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "train", interrupted)
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "epoch_0001.pt").write_bytes(b"")
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "run"), "--no-progress"]) == 130
    assert capsys.readouterr().err.splitlines() == [
        f"note: `rehue train --resume --out {tmp_path / 'run'}` goes on from the run's last checkpoint",
        "rehue: interrupted"]


def test_an_interrupted_epochs_bar_is_closed_before_the_stop_is_told(tmp_path, photo_folder, monkeypatch):
    """Probe 115: the epoch's bar was closed after `train` said how to go on, its last state drawn under the
    note."""
    from rehue.training import loop

    events = []

    class Bar:
        def __init__(self, *args, **kwargs):
            pass

        def set_postfix(self, *args, **kwargs):
            pass

        def update(self, count):
            raise KeyboardInterrupt

        def close(self):
            events.append("closed")

    monkeypatch.setattr(loop, "_progress", Bar)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(photo_folder, tmp_path / "run"), progress=False)
    assert events == ["closed"]


def test_a_run_interrupted_in_its_first_epoch_leaves_nothing_and_the_same_command_starts_it_again(
        tmp_path, photo_folder, monkeypatch, capsys):
    """Probe 37: Ctrl-C before the first checkpoint said that --resume would go on (it could not: "nothing
    to resume"), and the run's config.json it left made the same command refuse ("already holds a training
    run"), grid-search too, which has no --overwrite."""
    from rehue.training import loop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "runs" / "run"
    args = ["train", str(photo_folder), "--out", str(out), "--size", "32", "--width", "4", "--batch-size", "4",
            "--epochs", "1", "--steps-per-epoch", "2", "--val-images", "4", "--device", "cpu", "--no-progress"]
    with monkeypatch.context() as patched:
        patched.setattr(loop, "validate", interrupted)
        assert main(args) == 130
    assert capsys.readouterr().err.splitlines()[-2:] == [
        f"note: {out}: stopped before its first epoch ended, so nothing of the run was kept; the same command "
        "starts it again", "rehue: interrupted"]
    assert not (tmp_path / "runs").exists()
    assert main(args) == 0
    assert list_checkpoints(out / "checkpoints")


def test_an_overwrite_stopped_before_its_first_checkpoint_says_the_old_run_is_back(tmp_path, photo_folder,
                                                                                    monkeypatch, capsys):
    """Probe 40: it said `--resume` goes on, which went on with the old run, not the one just started."""
    from rehue.training import loop

    out = tmp_path / "run"
    args = ["train", str(photo_folder), "--out", str(out), "--size", "32", "--width", "4", "--batch-size", "4",
            "--epochs", "1", "--steps-per-epoch", "1", "--val-images", "4", "--device", "cpu", "--no-progress"]
    assert main(args) == 0
    before = (out / "model.safetensors").read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "validate", interrupted)
    assert main([*args, "--overwrite"]) == 130
    assert capsys.readouterr().err.splitlines()[-2].startswith(
        f"note: {out}: stopped before the new run's first checkpoint, so the run it was replacing is back as it was")
    assert (out / "model.safetensors").read_bytes() == before
    # probe 142: a run whose checkpoints were removed (to save space) was "nothing of the run was kept", its model back
    shutil.rmtree(out / "checkpoints")
    assert main([*args, "--overwrite"]) == 130
    assert capsys.readouterr().err.splitlines()[-2] == (
        f"note: {out}: stopped before the new run's first checkpoint, so the run it was replacing is back as it was; "
        "the same command starts the new run again")
    assert (out / "model.safetensors").read_bytes() == before


def test_a_run_goes_into_a_new_or_empty_folder_not_one_of_other_files(tmp_path, photo_folder, capsys, monkeypatch):
    """Probe 37: `train --out` a copy of the photos put checkpoints, sample grids and the model among them."""
    photos = tmp_path / "photos-copy"
    shutil.copytree(photo_folder, photos)
    before = sorted(p.name for p in photos.iterdir())
    args = ["--size", "32", "--width", "4", "--batch-size", "4", "--epochs", "1", "--steps-per-epoch", "1",
            "--val-images", "4", "--device", "cpu", "--no-progress"]
    for extra in ([], ["--overwrite"]):
        assert main(["train", str(photo_folder), "--out", str(photos), *args, *extra]) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"rehue: error: {photos}: holds {len(before)} other files or folders, such as {before[0]}, and no "
            "training run; name a new or empty folder for the run"]
        assert sorted(p.name for p in photos.iterdir()) == before
    # probe 96: through a folder not made yet, it was taken for a new one, and the run written among them
    assert main(["train", str(photo_folder), "--out", str(photos / "new" / ".."), *args]) == 1
    assert f"{photos}: holds {len(before)} other files or folders" in capsys.readouterr().err
    assert sorted(p.name for p in photos.iterdir()) == before
    for folder in ("samples", "checkpoints"):  # probe 46: a user's own folder of a run's name was taken for a run
        own = tmp_path / f"own-{folder}"
        (own / folder).mkdir(parents=True)
        (own / folder / "mine.png").write_bytes(b"the user's")
        for extra in ([], ["--overwrite"]):
            assert main(["train", str(photo_folder), "--out", str(own), *args, *extra]) == 1
            assert capsys.readouterr().err.splitlines() == [
                f"rehue: error: {own}: holds 1 other file or folder, such as {folder}, and no training run; name "
                "a new or empty folder for the run"]
            assert (own / folder / "mine.png").read_bytes() == b"the user's"
    hidden = tmp_path / "hidden-only"
    hidden.mkdir()
    (hidden / ".DS_Store").write_bytes(b"")
    (hidden / "samples").mkdir()  # made ready, nothing in it: before, "holds 1 other file(s) or folder(s)"
    assert main(["train", str(photo_folder), "--out", str(hidden), *args]) == 0
    assert main(["train", "--resume", "--out", str(tmp_path / "none"), "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"rehue: error: {tmp_path / 'none'}: nothing to resume: no such run folder")
    # probe 148: RANK alone exported (a shell's, a pod's) skipped the run folder's checks: the run went among them
    own.mkdir(exist_ok=True)
    (own / "notes.txt").write_text("mine")
    with monkeypatch.context() as patched:
        patched.setenv("RANK", "1")
        assert main(["train", str(photo_folder), "--out", str(own), *args]) == 1
    assert "and no training run; name a new or empty folder for the run" in capsys.readouterr().err
    # probe 142: a file was "no such run folder"; a photo folder "photos/checkpoints: ... no checkpoint in this folder"
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")  # probe 145: "a file, not a run folder"
    for out, reason in ((tmp_path / "afile", "a file, not a run folder"),
                        (tmp_path / "dangling", f"a link to {tmp_path / 'gone'}, which does not exist"),
                        (photo_folder, "not a training run's folder (it holds none of a run's checkpoints, config or "
                                       "model)")):
        assert main(["train", "--resume", "--out", str(out), "--no-progress"]) == 1
        assert capsys.readouterr().err.splitlines() == [f"rehue: error: {out}: nothing to resume: {reason}"]


def test_validation_scores_as_many_photos_as_asked_whatever_the_batch_size():
    """--val-images 16 with --batch-size 64 once scored a whole batch of 64, so runs of different batch
    sizes were validated on different photos."""
    from torch.utils.data import DataLoader

    from rehue.color.lab import normalize_ab, normalize_lightness
    from rehue.models.registry import create_model
    from rehue.training.loop import validate

    rng = np.random.default_rng(0)
    items = [{"lightness": normalize_lightness(torch.from_numpy(rng.uniform(0, 100, (1, 32, 32)).astype(np.float32))),
              "ab": normalize_ab(torch.from_numpy(rng.uniform(-40, 40, (2, 32, 32)).astype(np.float32)))}
             for _ in range(10)]
    torch.manual_seed(0)
    model = create_model("gen2", in_channels=1, size=32, width=4).eval()
    scores = {}
    for batch_size in (2, 4, 10):
        loader = DataLoader(items, batch_size=batch_size, shuffle=False)
        scores[batch_size], _ = validate(model, loader, "cpu", 3)
    assert scores[4] == pytest.approx(scores[2])
    assert scores[10] == pytest.approx(scores[2])


def test_an_init_model_is_kept_by_its_absolute_path_and_its_checksum(tmp_path, photo_folder, monkeypatch, capsys):
    """Before (probe 16): a run started with a relative --init could not be resumed from another folder,
    resumed quietly with whatever model had replaced the file since, and --init inside the run that
    --overwrite replaces said "no such model file"."""
    import shutil

    monkeypatch.chdir(tmp_path)
    tiny = ["--size", "32", "--width", "4", "--batch-size", "4", "--steps-per-epoch", "2", "--val-images", "4",
            "--no-progress"]
    assert main(["train", str(photo_folder), "--out", "ind", "--epochs", "1", *tiny]) == 0
    assert main(["train", str(photo_folder), "--out", "other", "--epochs", "1", "--seed", "5", *tiny]) == 0
    assert main(["train", str(photo_folder), "--out", "dep", "--dependent", "--init", "ind/model.safetensors",
                 "--independent-feed", "0.5", "--epochs", "1", *tiny]) == 0
    config = json.loads((tmp_path / "dep" / "config.json").read_text())
    assert config["init"] == str(tmp_path / "ind" / "model.safetensors")
    assert main(["train", str(photo_folder), "--out", "by-folder", "--dependent", "--init", "ind",
                 "--independent-feed", "0.5", "--epochs", "1", *tiny]) == 0  # probe 99: a run folder kept as typed
    assert json.loads((tmp_path / "by-folder" / "config.json").read_text())["init"] == str(tmp_path / "ind")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--resume", "--out", str(tmp_path / "by-folder"), "--epochs", "2", "--no-progress"]) == 0
    assert main(["train", "--resume", "--out", str(tmp_path / "by-folder"), "--epochs", "2", "--no-progress",
                 "--init", str(tmp_path / "ind" / "model.safetensors")]) == 0, "probe 100: the same model, refused"
    from rehue.training.loop import _resumed_config

    (elsewhere / "rehue-gen2-128-independent").mkdir()  # probe 100: a shipped name became this folder's path
    shipped = TrainConfig(data=str(photo_folder), out="runs/s", init="rehue-gen2-128-independent")
    assert _resumed_config(shipped, shipped, elsewhere / "runs" / "s").init == "rehue-gen2-128-independent"
    assert main(["train", "--resume", "--out", str(tmp_path / "by-folder"), "--epochs", "3", "--no-progress",
                 "--val-images", "3", "--dependent"]) == 2
    assert ("these differ: --val-images 3 (the run's 4); leave them out to resume"  # probe 99: val_images 3
            in capsys.readouterr().err)
    assert main(["train", "--resume", "--out", str(tmp_path / "ind"), "--epochs", "3", "--no-progress",
                 "--dependent"]) == 2
    assert "these differ: --dependent (the run is independent); leave" in capsys.readouterr().err
    other = tmp_path / "other" / "model.safetensors"
    assert main(["train", "--resume", "--out", str(tmp_path / "ind"), "--epochs", "3", "--no-progress",
                 "--init", str(other)]) == 2
    assert f"these differ: --init {other} (the run started from scratch, with no --init); leave" in \
        capsys.readouterr().err, "probe 192: (the run's '')"
    assert main(["train", "--resume", "--out", str(tmp_path / "dep"), "--epochs", "2", "--workers", "1",
                 "--no-progress"]) == 0
    assert "note: --workers 1, where the run went on with 0" in capsys.readouterr().err
    shutil.copy(tmp_path / "other" / "model.safetensors", tmp_path / "ind" / "model.safetensors")
    assert main(["train", "--resume", "--out", str(tmp_path / "dep"), "--epochs", "3", "--no-progress"]) == 1
    assert "has changed since the run started (another SHA-256)" in capsys.readouterr().err
    # probe 142: a run folder as --init had no SHA-256 kept, so it went on with the changed model
    assert main(["train", "--resume", "--out", str(tmp_path / "by-folder"), "--epochs", "3", "--no-progress"]) == 1
    assert "has changed since the run started (another SHA-256)" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(photo_folder), "--out", "other", "--overwrite", "--init", "other/model.safetensors",
                 "--epochs", "1", *tiny]) == 2
    assert "--init names a model inside other, the run that --overwrite replaces" in capsys.readouterr().err
    assert (tmp_path / "other" / "model.safetensors").is_file()


def test_a_resumed_run_says_when_its_validation_photos_were_drawn_again(tmp_path, photo_folder, capsys):
    """Before, photos added to the folder between a run's start and its resume re-drew the validation
    split without a word (probe 16: the gray baseline jumped between two epochs)."""
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1, val_fraction=0.5), progress=False)
    messages = []
    train(tiny_config(photo_folder, out, epochs=2, val_fraction=0.5), resume=True, progress=False,
          log=messages.append)
    assert not any("held out for validation" in message for message in messages)
    for i in range(2):
        Image.fromarray((np.random.default_rng(i).random((64, 64, 3)) * 255).astype(np.uint8)).save(
            photo_folder / f"new{i}.png")
    train(tiny_config(photo_folder, out, epochs=3, val_fraction=0.5), resume=True, progress=False,
          log=messages.append)
    assert any(message.startswith("warning: the photos held out for validation are not the ones this run "
                                  "started with") for message in messages)


def test_validation_does_not_score_a_gray_photo_and_small_photos_are_named(tmp_path):
    """Before, a gray photo drawn for validation was scored, the gray answer's perfect score on it lifting
    the logged gray PSNR to 61.74 dB (probe 16), and photos smaller than the training size were enlarged
    without a word."""
    from rehue.training.loop import validate

    folder = tmp_path / "photos"
    folder.mkdir()
    colour = (np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)
    Image.fromarray(colour).save(folder / "colour.png")
    Image.fromarray(np.repeat(colour[..., :1], 3, axis=2)).save(folder / "gray.png")
    Image.fromarray(colour[:20, :20]).save(folder / "small.png")
    messages = []
    from rehue.data.datasets import build_datasets

    train_set, _ = build_datasets(folder, 32, log=messages.append)
    assert any(message.startswith("warning: 1 of 3 photos are smaller than the training size (32 px on their "
                                  "short side), such as ") and "small.png" in message for message in messages)
    validation = train_set.subset([train_set.paths.index(folder / "gray.png"),
                                   train_set.paths.index(folder / "colour.png")], train=False)
    model = make_tiny_model(tmp_path / "m.safetensors")
    generator = load_model(model)[0]
    loader = torch.utils.data.DataLoader(validation, batch_size=2)
    scores, _ = validate(generator, loader, "cpu", 2)
    alone, _ = validate(generator, torch.utils.data.DataLoader(validation.subset([1], train=False)), "cpu", 2)
    assert scores == alone, "the gray photo is not scored"
    assert scores["gray_psnr"] < 40


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_folder_with_gray_photos_holds_out_colour_ones_and_trains(tmp_path, seed):
    """Before, the held-out photo was drawn among all, and where it was the gray one (seeds 0-2 of one colour
    and one gray photo) validation had nothing to score: the run stopped at its first epoch's end with
    "no samples to draw" (probe 61). A colour photo is kept to train on too."""
    from rehue.data.datasets import build_datasets

    def folder_of(name, colour, gray):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(colour):
            Image.fromarray(textured_rgb(48, 48, seed=i)).save(folder / f"c{i}.png")
        for i in range(gray):
            Image.fromarray(np.full((48, 48), 40 + 20 * i, np.uint8)).save(folder / f"gray{i}.png")
        return folder

    train_set, val_set = build_datasets(folder_of("many", 3, 9), 32, seed=seed, log=lambda message: None)
    assert len(val_set.paths) == 1 and val_set.paths[0].name.startswith("c"), "10% of 12, a colour photo"
    assert sum(p.name.startswith("c") for p in train_set.paths) == 2
    messages = []
    folder = folder_of("two", 1, 1)
    train_set, val_set = build_datasets(folder, 32, seed=seed, log=messages.append)
    assert [p.name for p in val_set.paths] == ["c0.png"] and "c0.png" in [p.name for p in train_set.paths]
    assert any("only one of its photos has colour, none held out, so validation scores a photo the model trains "
               "on" in message for message in messages)
    train(tiny_config(folder, tmp_path / "run", seed=seed, epochs=1), progress=False)
    assert (tmp_path / "run" / "samples" / "epoch_001.png").exists()


def test_held_out_photos_or_test_frames_all_gray_are_refused_before_the_run(tmp_path):
    """A manifest's held-out photos, or a frame dataset's test frames, all gray left validation nothing to
    score, and the run stopped at its first epoch's end ("no samples to draw"); now refused at once."""
    import csv

    root = tmp_path / "demo"
    (root / "photos").mkdir(parents=True)
    rows = []
    for i in range(3):
        picture = textured_rgb(48, 48, seed=i) if i else np.full((48, 48, 3), 90, np.uint8)
        Image.fromarray(picture).save(root / "photos" / f"p{i}.png")
        rows.append({"path": f"photos/p{i}.png", "kind": "photo", "split": "test" if i == 0 else "train"})
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "kind", "split"])
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(RehueError, match=r"demo: the 1 picture validation scores \(.*\) is gray, so it has nothing "
                                         "to score"):
        train(tiny_config(root, tmp_path / "run", epochs=1), progress=False)
    assert not (tmp_path / "run").exists()


def test_the_bar_says_the_time_left_for_the_whole_run(tmp_path, photo_folder, capsys, monkeypatch):
    """Before, the bar's time left was the epoch's alone ("epoch 1/3"), with no word of the run's (probe 19)."""
    import re

    import rehue.progress

    monkeypatch.setattr(rehue.progress, "LOG_INTERVAL_S", 0.0)
    train(tiny_config(photo_folder, tmp_path / "run", epochs=3), progress=True, log=lambda message: None)
    err = capsys.readouterr().err
    left = [re.search(r"epoch (\d)/3: +(\d+)%.*run_left=(\d\d):(\d\d)", line) for line in err.splitlines()]
    left = [(int(m[1]), int(m[2]), 60 * int(m[3]) + int(m[4])) for m in left if m]
    assert {epoch for epoch, _, _ in left} == {1, 2, 3}
    assert {seconds for epoch, percent, seconds in left if epoch == 3 and percent == 100} == {0}
    shown = [line for line in err.splitlines() if "run_left=" in line]
    assert shown and all(re.search(r"(batch/s|s/batch), run_left=\d\d:\d\d, d=", line) for line in shown), \
        "the run's time left before the losses: an 80-column terminal cut it off after them (probe 90)"


def test_a_run_an_older_rehue_started_with_relative_paths_resumes_from_another_folder(tmp_path, photo_folder,
                                                                                       monkeypatch, capsys):
    """An older rehue kept DATA and --init as typed, relative to the folder the run was started from, and
    no absolute data path in its checkpoints (probe 21). Resumed from another folder, such a run trained on
    a folder of the same name there (exit 0), and one fine-tuned from a relative --init could not be
    resumed at all ("these differ: init ..."). Both are now read from the folder the run was started in."""
    import shutil

    from rehue.training.checkpoint import save_checkpoint

    started = tmp_path / "w1"
    shutil.copytree(photo_folder, started / "photos")
    make_tiny_model(started / "m" / "model.safetensors")
    monkeypatch.chdir(started)
    train(tiny_config("photos", "run", epochs=1, init="m/model.safetensors"), progress=False,
          log=lambda message: None)
    def as_an_older_rehue_wrote_it():
        for path in list_checkpoints(started / "run" / "checkpoints"):
            state = torch.load(path, weights_only=True)
            state["config"]["init"] = "m/model.safetensors"
            state.pop("data_path", None)
            save_checkpoint(state, path.parent, state["epoch"])
        saved = json.loads((started / "run" / "config.json").read_text())
        (started / "run" / "config.json").write_text(json.dumps({**saved, "init": "m/model.safetensors"}))

    as_an_older_rehue_wrote_it()
    assert main(["train", "--resume", "--out", "run", "--epochs", "2", "--no-progress"]) == 0

    as_an_older_rehue_wrote_it()
    elsewhere = tmp_path / "w2"
    (elsewhere / "photos").mkdir(parents=True)
    Image.fromarray(np.full((40, 40, 3), (200, 30, 30), np.uint8)).save(elsewhere / "photos" / "red.png")
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--resume", "--out", str(started / "run"), "--epochs", "3", "--no-progress"]) == 0
    card = json.loads((started / "run" / "model.json").read_text())
    assert Path(card["training"]["data"]) == started / "photos", "the photos it was started on, not these"
    capsys.readouterr()


def test_a_training_log_gets_a_line_at_most_every_half_minute(tmp_path, photo_folder, capsys):
    """The losses beside the bar redrew it on every step, past the log's 30 s interval: 61 lines for one
    epoch of 60 steps under 2 s (probe 23)."""
    train(tiny_config(photo_folder, tmp_path / "run", epochs=1, steps_per_epoch=12), progress=True,
          log=lambda message: None)
    assert capsys.readouterr().err.count("epoch 1/1") <= 2


def test_a_checkpoint_that_is_a_pipe_or_a_device_is_refused_at_once(tmp_path, photo_folder, caplog):
    """Probe 29: a checkpoint linked to /dev/zero took 3.8 GB in 6 s (it was read whole to be hashed); one that
    was a pipe waited for a writer."""
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1), progress=False)
    planted = out / "checkpoints" / "epoch_0002.pt"
    planted.with_suffix(".pt.sha256").write_text("0" * 64 + "\n")
    for make in (lambda: os.symlink("/dev/zero", planted), lambda: os.mkfifo(planted)):
        make()
        result = train(tiny_config(photo_folder, out, epochs=2), resume=True, progress=False)
        assert "is a pipe or a device, not a checkpoint; trying the previous checkpoint" in caplog.text
        caplog.clear()
        assert [r["epoch"] for r in result.history] == [1, 2]
        planted.unlink(missing_ok=True)
        for path in list_checkpoints(out / "checkpoints")[1:]:  # back to epoch 1 for the next case
            path.unlink()
        planted.with_suffix(".pt.sha256").write_text("0" * 64 + "\n")


def test_a_bad_value_in_a_runs_config_names_the_file(tmp_path, photo_folder, capsys):
    """Probe 29: `batch_size: -1` planted in a run's config.json gave a usage error (exit 2) naming no file."""
    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1), progress=False)
    capsys.readouterr()
    saved = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**saved, "batch_size": -1}))
    assert main(["train", "--out", str(out), "--resume", "--epochs", "2", "--no-progress"]) == 1
    assert capsys.readouterr().err.strip() == \
        f"rehue: error: {out / 'config.json'}: batch_size must be at least 1, not -1"


def test_a_run_whose_config_json_is_gone_or_edited_resumes_with_its_own_settings(tmp_path, photo_folder, capsys):
    """Probe 30: with config.json missing (or a pipe, or edited), `train --resume` said "these differ: width 32
    (the run's 4), batch_size 128 (the run's 4) ...; leave them out", of options nobody typed."""
    out = tmp_path / "run"
    common = ["train", "--out", str(out), "--no-progress", "--device", "cpu"]
    assert main([*common[:1], str(photo_folder), *common[1:], "--size", "32", "--width", "4", "--batch-size", "4",
                 "--epochs", "1", "--steps-per-epoch", "2", "--val-images", "2"]) == 0
    saved = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**saved, "width": 512}))  # within the widths a run may have
    assert main([*common, "--resume", "--epochs", "2"]) == 0
    (out / "config.json").unlink()
    assert main([*common, "--resume", "--epochs", "3"]) == 0
    assert "these differ" not in capsys.readouterr().err
    assert main([*common, "--resume", "--epochs", "4", "--width", "8"]) == 2, \
        "an option that does not fit the run is a usage error, as --epochs below the epochs trained is (probe 68)"
    assert "these differ: --width 8 (the run's 4)" in capsys.readouterr().err


def test_a_frame_dataset_built_again_with_another_split_is_said_wherever_a_model_that_learnt_its_videos_is_scored(
        tmp_path):
    """Probe 46: a frame dataset built again with another test video was scored by evaluate, a resumed run's
    validation and --init's starting score as held out, though the model had trained on that video (21.8 dB
    where 14.1 was held out, exit 0, no word). The card names the videos a model learnt from; each says so."""
    from rehue.data.frames import extract_frames
    from rehue.evaluation.evaluate import _row_name, evaluate
    from tests.helpers_video import make_clip, textured_frames

    clips = [make_clip(tmp_path / f"v{k}.mp4", list(textured_frames(6, 48, 64, seed=k)), fps=6) for k in range(3)]
    frames = tmp_path / "frames"
    quiet = lambda message: None  # noqa: E731
    extract_frames(clips, frames, fps=3, size=32, test_videos=["v2.mp4"], progress=False, log=quiet)
    train(tiny_config(frames, tmp_path / "run", epochs=1, steps_per_epoch=1, batch_size=4), progress=False, log=quiet)
    model = tmp_path / "run" / "model.safetensors"
    assert load_model(model)[1].training["videos"] == ["v0.mp4", "v1.mp4"]

    lines = []
    evaluate(model, [frames], tmp_path / "held", progress=False, log=lines.append)
    assert not [line for line in lines if "was trained on" in line], "its test video is held out"

    extract_frames(clips, frames, fps=3, size=32, test_videos=["v0.mp4"], progress=False, log=quiet, overwrite=True)
    lines.clear()
    evaluate(model, [frames], tmp_path / "leaked", progress=False, log=lines.append)
    assert (f"warning: {_row_name(model)} was trained on the video whose frames are scored (v0.mp4): their "
            "scores are not held out (a frame dataset built again with another split holds out other videos)"
            ) in lines

    other = tmp_path / "other"  # probe 48: another dataset's video of the same name is another video
    other.mkdir()
    shutil.copy(clips[2], other / "v0.mp4")
    extract_frames([other / "v0.mp4", clips[1]], tmp_path / "other-frames", fps=3, size=32, test_videos=["v0.mp4"],
                   progress=False, log=quiet)
    lines.clear()
    evaluate(model, [tmp_path / "other-frames"], tmp_path / "other-report", progress=False, log=lines.append)
    assert not [line for line in lines if "was trained on" in line]

    lines.clear()
    train(tiny_config(frames, tmp_path / "run", epochs=2, steps_per_epoch=1, batch_size=4), resume=True,
          progress=False, log=lines.append)
    assert ("warning: the frames held out for validation are not the ones this run started with: the frame dataset "
            "was built again with another split, and the run has trained on v0.mp4, which it now holds out. "
            "Validation scores from here are not comparable with the earlier epochs', and are not held out") in lines
    assert load_model(model)[1].training["videos"] == ["v0.mp4", "v1.mp4", "v2.mp4"], "all it ever learnt from"

    elsewhere = tmp_path / "frames-elsewhere"  # probe 84: another folder was called the same one built again
    extract_frames(clips, elsewhere, fps=3, size=32, test_videos=["v1.mp4"], progress=False, log=quiet)
    lines.clear()
    train(tiny_config(elsewhere, tmp_path / "run", epochs=3, steps_per_epoch=1, batch_size=4), resume=True,
          progress=False, log=lines.append)
    assert (f"warning: the frames held out for validation are not the ones this run started with: the run goes on "
            f"with another frame dataset ({elsewhere}; it trained on {frames} before), and the run has trained on "
            "v1.mp4, which it now holds out. Validation scores from here are not comparable with the earlier "
            "epochs', and are not held out") in lines, lines

    lines.clear()
    train(tiny_config(frames, tmp_path / "tuned", epochs=1, steps_per_epoch=1, batch_size=4, init=str(model)),
          progress=False, log=lines.append)
    assert ("warning: the --init model was trained on the video whose frames are scored (v0.mp4): its "
            "starting score, and this run's validation scores, are not held out (a frame dataset built again with "
            "another split holds out other videos)") in lines


def test_a_video_the_dependent_model_learnt_from_is_said_where_it_colours_it(tmp_path, tiny_model):
    """Probe 199: a clip the --dependent-model learnt from, which colours all but its scenes' first frames, was
    scored as held out without a word."""
    from rehue.data.frames import extract_frames
    from rehue.evaluation.evaluate import evaluate
    from tests.helpers_video import make_clip, textured_frames

    (tmp_path / "vids").mkdir()
    clips = [make_clip(tmp_path / "vids" / f"v{k}.mp4", list(textured_frames(6, 48, 64, seed=k)), fps=6)
             for k in range(3)]
    quiet = lambda message: None  # noqa: E731
    extract_frames(clips, tmp_path / "a", fps=3, size=32, test_videos=["v2.mp4"], progress=False, log=quiet)
    train(tiny_config(tmp_path / "a", tmp_path / "dep", in_channels=3, epochs=1, steps_per_epoch=1),
          progress=False, log=quiet)
    dependent = str(tmp_path / "dep" / "model.safetensors")
    said = ("warning: the dependent model dep/model was trained on the video scored here (v0.mp4): the same file as "
            "a video of the frame dataset it learnt from, so its score is not held out")
    for clip, dependent_model, warned in ((clips[0], dependent, True), (clips[2], dependent, False),
                                          (clips[0], "none", False)):
        lines = []
        evaluate(tiny_model, [clip], tmp_path / "report", dependent_model=dependent_model, progress=False,
                 log=lines.append, overwrite=True)
        assert (said in lines) == warned, lines
        assert not any("was trained on" in line for line in lines if line != said), lines
    train(tiny_config(tmp_path / "a", tmp_path / "ind", epochs=1, steps_per_epoch=1), progress=False, log=quiet)
    lines = []  # probe 201: warned of as the dependent model, then refused as none
    with pytest.raises(RehueError, match="3 input channels"):
        evaluate(tiny_model, [clips[0]], tmp_path / "report", progress=False, log=lines.append, overwrite=True,
                 dependent_model=str(tmp_path / "ind" / "model.safetensors"))
    assert lines == []


def test_a_reel_the_model_learnt_from_is_said_scored_as_a_film_or_as_a_copy(tmp_path):
    """Probe 199: a dataset of reels (--film-fps) kept no fingerprint of them, and `evaluate reel --frames` of a reel
    the model learnt scored it as held out without a word."""
    from PIL import Image

    from rehue.data.frames import extract_frames
    from rehue.evaluation.evaluate import evaluate
    from tests.helpers_video import textured_frames

    for k in range(4):  # reel2 and reel3 open and close on the same black leader (probe 201: alike)
        (tmp_path / f"reel{k}").mkdir()
        frames = list(textured_frames(6, 48, 64, seed=k))
        if k >= 2:
            frames[0] = frames[-1] = np.zeros_like(frames[0])
        for i, frame in enumerate(frames):
            Image.fromarray(frame).save(tmp_path / f"reel{k}" / f"reel_{i:04d}.png")
    quiet = lambda message: None  # noqa: E731
    extract_frames([tmp_path / f"reel{k}" for k in range(4)], tmp_path / "a", fps=12, size=32,
                   test_videos=["reel2"], progress=False, log=quiet, film_fps=24)
    train(tiny_config(tmp_path / "a", tmp_path / "run", epochs=1, steps_per_epoch=1), progress=False, log=quiet)
    shutil.copytree(tmp_path / "reel0", tmp_path / "copy")
    said = ("warning: run/model was trained on the video scored here ({}): the same frames as a film of the frame "
            "dataset it learnt from, so its score is not held out")
    for reel, warned in (("reel0", True), ("copy", True), ("reel3", True), ("reel2", False)):
        lines = []
        evaluate(tmp_path / "run" / "model.safetensors", [tmp_path / reel], tmp_path / "report", progress=False,
                 log=lines.append, overwrite=True, films=True, dependent_model="none")
        assert (said.format(reel) in lines) == warned, lines
    extract_frames([tmp_path / f"reel{k}" for k in range(4)], tmp_path / "b", fps=12, size=32,
                   test_videos=["reel0", "reel2"], progress=False, log=quiet, film_fps=24)
    lines = []  # probe 202: a dataset's reel was "the same file as a video"; "1 of the 2 ...: the same files"
    evaluate(tmp_path / "run" / "model.safetensors", [tmp_path / "b"], tmp_path / "report", progress=False,
             log=lines.append, overwrite=True)
    assert ("warning: run/model was trained on 1 of the 2 videos scored here (reel0): the same frames as a film of "
            "the frame dataset it learnt from, so its score is not held out") in lines
    (tmp_path / "holds").mkdir()
    shutil.copytree(tmp_path / "b", tmp_path / "holds" / "b")
    for named in (tmp_path / "b", tmp_path / "holds"):  # probes 202, 203: "no image frames in this folder"
        with pytest.raises(UsageError, match=r"b: a frame dataset, not one film's numbered frames: name it without "
                                             "--frames"):
            evaluate(tmp_path / "run" / "model.safetensors", [tmp_path / "reel2", named], tmp_path / "report",
                     progress=False, log=lines.append, overwrite=True, films=True)
    shutil.copytree(tmp_path / "reel0", tmp_path / "scanned")  # probe 204: a scanner's manifest.csv and frames/
    (tmp_path / "scanned" / "manifest.csv").write_text("frame,notes\n")  # beside a reel's frames: a dataset
    (tmp_path / "scanned" / "frames").mkdir()
    lines = []
    evaluate(tmp_path / "run" / "model.safetensors", [tmp_path / "scanned"], tmp_path / "report", progress=False,
             log=lines.append, overwrite=True, films=True, dependent_model="none")
    assert said.format("scanned") in lines
    lines = []  # probe 203: the model's warning said, then the run refused over the dependent model
    with pytest.raises(RehueError, match="no such model file"):
        evaluate(tmp_path / "run" / "model.safetensors", [tmp_path / "reel0"], tmp_path / "report", films=True,
                 progress=False, log=lines.append, overwrite=True, dependent_model=str(tmp_path / "nope.safetensors"))
    assert lines == []


def test_a_video_the_model_learnt_from_is_said_scored_by_itself_or_in_another_frame_dataset(tmp_path):
    """Probe 84: `evaluate vids/astro_wide.mp4` (a video the model's frame dataset trained on), or a second
    dataset built from the same videos into another folder holding it out, scored it as held out without a word
    (+1.6 to +1.85 dB over gray, "beats the gray baseline"). The card lists its training videos' fingerprints."""
    from rehue.data.frames import extract_frames, video_fingerprint
    from rehue.evaluation.evaluate import _row_name, evaluate
    from tests.helpers_video import make_clip, textured_frames

    (tmp_path / "vids").mkdir()
    clips = [make_clip(tmp_path / "vids" / f"v{k}.mp4", list(textured_frames(6, 48, 64, seed=k)), fps=6)
             for k in range(3)]
    quiet = lambda message: None  # noqa: E731
    extract_frames(clips, tmp_path / "a", fps=3, size=32, test_videos=["v2.mp4"], progress=False, log=quiet)
    train(tiny_config(tmp_path / "a", tmp_path / "run", epochs=1, steps_per_epoch=1), progress=False, log=quiet)
    model = tmp_path / "run" / "model.safetensors"
    assert load_model(model)[1].training["video_fingerprints"] == sorted(map(video_fingerprint, clips[:2]))
    extract_frames(clips, tmp_path / "b", fps=3, size=32, test_videos=["v0.mp4"], progress=False, log=quiet)
    shutil.copy(clips[1], tmp_path / "renamed.mp4")
    said = f"warning: {_row_name(model)} was trained on "
    for inputs, warning in (([clips[2]], None), ([tmp_path / "a"], None),
                            ([clips[0]], "the video scored here (v0.mp4): the same file as a video of the frame "
                                         "dataset it learnt from, so its score is not held out"),
                            ([tmp_path / "b", tmp_path / "renamed.mp4", clips[2]],
                             "2 of the 3 videos scored here (renamed.mp4, v0.mp4): the same files as videos of the "
                             "frame dataset it learnt from, so their scores are not held out"),
                            ([tmp_path / "b", clips[0]],  # probe 85: one video, by itself and as frames, was two
                             "the video scored here (v0.mp4): the same file as a video of the frame dataset it "
                             "learnt from, so its score is not held out")):
        lines = []
        evaluate(model, inputs, tmp_path / "report", progress=False, log=lines.append, overwrite=True)
        assert [line for line in lines if line.startswith(said)] == ([said + warning] if warning else []), lines
    lines = []  # fine-tuned from it on the second dataset, which holds out v0: its starting score is not held out
    train(tiny_config(tmp_path / "b", tmp_path / "tuned", epochs=1, steps_per_epoch=1, init=str(model)),
          progress=False, log=lines.append)
    assert [line for line in lines if "was trained on" in line] == [
        "warning: the --init model was trained on the video scored here (v0.mp4): the same file as a video "
        "of the frame dataset it learnt from, so its starting score, and this run's validation scores, are not held "
        "out"], lines
    tuned = load_model(tmp_path / "tuned" / "model.safetensors")[1].training  # probe 87: what its start learnt too
    assert tuned["videos"] == ["v0.mp4", "v1.mp4", "v2.mp4"] and tuned["earlier_data"] == [str(tmp_path / "a")]
    assert set(tuned["video_fingerprints"]) == set(map(video_fingerprint, clips))
    lines = []
    evaluate(tmp_path / "tuned" / "model.safetensors", [clips[0]], tmp_path / "report", progress=False,
             log=lines.append, overwrite=True)
    assert [line for line in lines if "was trained on the video scored here (v0.mp4)" in line], lines


def test_frames_smaller_than_the_training_size_are_said_to_be_enlarged(tmp_path):
    """Probe 46: frames of 32 px trained at --size 64 were enlarged without a word, as photos are not."""
    from rehue.data.datasets import build_datasets
    from rehue.data.frames import extract_frames
    from tests.helpers_video import make_clip, textured_frames

    clips = [make_clip(tmp_path / f"v{k}.mp4", list(textured_frames(4, 48, 64, seed=k)), fps=4) for k in range(2)]
    extract_frames(clips, tmp_path / "frames", fps=2, size=32, test_videos=["v1.mp4"], progress=False,
                   log=lambda message: None)
    for size, said in ((32, []), (64, [
            f"warning: {tmp_path / 'frames'}: its frames are 32x32, smaller than the training size 64: they are "
            "enlarged, and teach the model blurred pictures (rehue frames --size 64 builds them at it)"])):
        lines = []
        train_set, _ = build_datasets(str(tmp_path / "frames"), size, log=lines.append)
        assert lines == said and train_set.images.shape[1:3] == (size, size)
    first = sorted((tmp_path / "frames" / "frames" / "v0").iterdir())[0]  # probe 213: said as all the set's frames
    Image.fromarray(textured_rgb(20, 50)).save(first, format="PNG")
    lines = []
    build_datasets(str(tmp_path / "frames"), 32, log=lines.append)
    assert lines == [f"warning: {tmp_path / 'frames'}: 1 of its 2 frames (such as frames/v0/{first.name}, 50x20) is "
                     "smaller than the training size 32: they are enlarged, and teach the model blurred pictures "
                     "(rehue frames --size 32 builds them at it)"]


def test_an_init_model_of_another_kind_is_one_line_that_says_what_to_add(tmp_path, photo_folder):
    """Probe 61: --init with a dependent model on a run without --dependent said "gen2/3ch ... but this run
    trains gen2/1ch" with no word of the option that would make the two fit. A usage error, exit 2, as the
    options of a resumed run that differ from its own are (probe 84: exit 1)."""
    dependent = make_tiny_model(tmp_path / "dep.safetensors", in_channels=3)
    with pytest.raises(UsageError, match=r"dep.safetensors: --init model is gen2/3ch/width 4, but this run trains "
                                         r"gen2/1ch/width 4; a dependent model is fine-tuned as one: add --dependent"):
        train(tiny_config(photo_folder, tmp_path / "run", init=str(dependent), epochs=1), progress=False)
    independent = make_tiny_model(tmp_path / "ind.safetensors")
    with pytest.raises(UsageError, match=r"--init model is gen2/1ch/width 4, but this run trains gen2/1ch/width 8$"):
        train(tiny_config(photo_folder, tmp_path / "run", init=str(independent), width=8, epochs=1), progress=False)


def test_training_out_of_memory_is_one_line(tmp_path, photo_folder, capsys, monkeypatch):
    """Probe 64: PyTorch's failed allocation in training ended in a 63-line traceback."""
    from rehue.training import loop

    def short_of_memory(batch, device):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1073741824 bytes.")

    monkeypatch.setattr(loop, "generator_input", short_of_memory)
    assert main(["train", str(photo_folder), "--out", str(tmp_path / "run"), "--size", "32", "--width", "4",
                 "--batch-size", "4", "--epochs", "1", "--steps-per-epoch", "1", "--no-progress", "-q"]) == 1
    err = capsys.readouterr().err
    assert err == (f"rehue: error: {tmp_path / 'run'}: out of memory, training at batch size 4 on 32x32 crops; a "
                   "smaller batch size, size or width needs less\n"), "probe 92: what to lower, and where"


def test_an_independent_run_an_older_rehue_saved_with_feeds_resumes_as_it_trained(tmp_path, photo_folder,
                                                                                   monkeypatch, capsys):
    """Probe 64: an independent run saved by an older rehue with --self-feed (which never acted in it) could
    not be resumed once that setting was refused: "self_feed: only for a dependent model", and leaving it
    out was "a resumed run keeps its own settings"."""
    from rehue.training import config as config_module

    with monkeypatch.context() as older:
        older.setattr(config_module, "DEPENDENT_ONLY", ())
        train(tiny_config(photo_folder, tmp_path / "run", epochs=1, self_feed=0.5), progress=False)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["self_feed"] == 0.5
    assert main(["train", "--resume", "--out", str(tmp_path / "run"), "--epochs", "2", "--no-progress", "-q"]) == 0
    assert [json.loads(line)["epoch"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()] \
        == [1, 2]
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(tmp_path / "run"), "--epochs", "3", "--self-feed", "0.2",
                 "--no-progress", "-q"]) == 2, "typed: a usage error (probe 65: blamed on the run's config.json)"
    assert capsys.readouterr().err == "rehue: error: --self-feed: only for a dependent model (--dependent), which " \
                                      "is fed the previous frame's a*b*\n", "the option typed (probe 113)"


def test_an_init_model_is_checked_as_colorize_checks_it_before_the_data_is_read(tmp_path, photo_folder,
                                                                                  monkeypatch, capsys):
    """Probe 142: an --init model whose config said size 100 was "--size must be a power of two", an option never
    typed; one of an unknown architecture named no file; and a typo, or a model of another width, was said only
    after every photo had been read."""
    from rehue.data import datasets

    model = make_tiny_model(tmp_path / "m" / "model.safetensors")
    card = json.loads(model.with_suffix(".json").read_text())
    read, real_build = [], datasets.build_datasets

    def build_datasets(*args, **kwargs):
        read.append(args)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(datasets, "build_datasets", build_datasets)
    base = ["train", str(photo_folder), "--out", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "4",
            "--steps-per-epoch", "1", "--no-progress", "--device", "cpu"]
    for change, message in (({"size": 100}, "model.json: model size must be a power of two >= 32, not 100"),
                            ({"architecture": "gen9"}, "model.json: unknown model 'gen9'")):
        model.with_suffix(".json").write_text(json.dumps({**card, **change}))
        assert main([*base, "--init", str(model)]) == 1
        assert message in capsys.readouterr().err
    model.with_suffix(".json").write_text(json.dumps(card))
    for extra, message in ((["--init", str(tmp_path / "typo.safetensors")], "typo.safetensors: no such model file"),
                           (["--init", str(model), "--width", "16"], "--init model is gen2/1ch/width 4, but this run "
                                                                      "trains gen2/1ch/width 16")):
        assert main([*base, *extra]) in (1, 2)
        assert message in capsys.readouterr().err
    assert read == [] and not (tmp_path / "run").exists()
    with pytest.raises(UsageError, match="width 16"):
        train(tiny_config(photo_folder, tmp_path / "run", width=16, init=str(model)), progress=False)
    assert read == []


def test_a_checkpoint_whose_contents_do_not_fit_its_settings_is_one_line(tmp_path, photo_folder, capsys):
    """Probe 142: a checkpoint (its checksum made to match) with another generator's weights, a width its weights
    do not have, a batch size of -1, an epoch saved as "2" or a random state of floats ended in a traceback, and
    an unknown generator named no file."""
    import hashlib
    import io

    out = tmp_path / "run"
    train(tiny_config(photo_folder, out, epochs=1, steps_per_epoch=1), progress=False)
    train(tiny_config(photo_folder, tmp_path / "gen1", epochs=1, steps_per_epoch=1, generator="gen1"), progress=False)
    checkpoint = list_checkpoints(out / "checkpoints")[-1]
    saved = checkpoint.read_bytes()
    gen1 = torch.load(list_checkpoints(tmp_path / "gen1" / "checkpoints")[-1], weights_only=True)

    def edit(state, change):
        state = {**state, "config": dict(state["config"])}
        if change == "gen1 weights":
            state["generator"] = gen1["generator"]
        elif change == "width":
            state["config"]["width"] = 16
        elif change == "batch size":
            state["config"]["batch_size"] = -1
        elif change == "generator":
            state["config"]["generator"] = "gen9"
        elif change == "epoch":
            state["epoch"] = "2"
        elif change == "random state":
            state["torch_rng"] = [torch.zeros(3)]
        elif change == "random state's size":  # probe 145: the kind right, the size not
            state["torch_rng"] = [torch.zeros(3, dtype=torch.uint8)]
        elif change == "history":
            state["history"] = [1, 2]
        elif change == "data path":
            state["data_path"] = 5
        elif change == "restraint":
            state["restraint"] = 5
        else:
            state["restraint"] = {"ab_guide_radius": "x"}
        return state

    for change, message in (("gen1 weights", "its weights do not fit the gen2 (width 4) and disc2 its settings build"),
                            ("width", "its weights do not fit the gen2 (width 16)"),
                            ("batch size", "a checkpoint of settings no run can use (batch_size must be at least 1"),
                            ("generator", "a checkpoint of settings no run can use (unknown generator 'gen9'"),
                            ("epoch", "not a rehue training checkpoint (its epoch is '2', not a count)"),
                            ("random state", "not a rehue training checkpoint (its history, random state, weights"),
                            ("random state's size", "not a rehue training checkpoint (its history, random state"),
                            ("history", "not a rehue training checkpoint (its history, random state"),
                            ("data path", "not a rehue training checkpoint (its history, random state"),
                            ("restraint", "not a rehue training checkpoint (its history, random state"),
                            ("restraint's setting", "a checkpoint of a restraint no model can keep (inference "
                                                    "ab_guide_radius must be a whole number from 0 to 32, not 'x')")):
        buffer = io.BytesIO()
        torch.save(edit(torch.load(io.BytesIO(saved), weights_only=True), change), buffer)
        checkpoint.write_bytes(buffer.getvalue())
        checkpoint.with_suffix(".pt.sha256").write_text(hashlib.sha256(buffer.getvalue()).hexdigest() + "\n")
        assert main(["train", "--resume", "--out", str(out), "--epochs", "2", "--no-progress"]) == 1, change
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"rehue: error: {checkpoint}: {message}"), (change, err)
        assert "Traceback" not in "\n".join(err)


def test_fine_tuning_at_another_size_scales_the_restraint_given_in_pixels(tmp_path, photo_folder):
    """Probe 142: the shipped model's guided filter, radius 12 of its 128 pixels, was kept as 12 by a run at 32,
    where it spans most of the picture (the helper measured b* varying 0.50 across a photo at 12, 1.21 at 3)."""
    from rehue.training.loop import _restraint_at_size

    said = []
    train(tiny_config(photo_folder, tmp_path / "run", width=16, epochs=1, steps_per_epoch=1,
                      init="rehue-gen2-128-independent"), progress=False, log=said.append)
    inference = json.loads((tmp_path / "run" / "model.json").read_text())["inference"]
    assert inference == {"chroma": 0.5, "ab_guide_radius": 3, "ab_guide_eps": 0.01}
    assert any(line.startswith("the trained model keeps rehue-gen2-128-independent's restraint (chroma 0.5, "
                               "ab_guide_radius 3, ab_guide_eps 0.01") and line.endswith(
        "; ab_guide_radius in pixels of 128x128, scaled to 32x32)") for line in said), said
    for restraint, size, new_size, scaled in (({"ab_guide_radius": 12, "ab_smoothing": 2.0}, 128, 512,
                                               {"ab_guide_radius": 32, "ab_smoothing": 8.0}),
                                              ({"ab_guide_radius": 2}, 128, 32, {"ab_guide_radius": 1}),
                                              ({"ab_guide_radius": 0, "chroma": 0.5}, 128, 32,
                                               {"ab_guide_radius": 0, "chroma": 0.5})):
        _restraint_at_size(restraint, size, new_size)
        assert restraint == scaled


def test_a_moved_run_resumed_says_where_it_is_now(tmp_path, photo_folder, monkeypatch):
    """Probe 142: a run folder moved, then resumed, kept "out": "runs/d" in its config.json, a folder no longer
    there."""
    monkeypatch.chdir(tmp_path)
    train(tiny_config(photo_folder, "runs/d", epochs=1, steps_per_epoch=1), progress=False)
    assert json.loads((tmp_path / "runs" / "d" / "config.json").read_text())["out"] == "runs/d"
    (tmp_path / "elsewhere").mkdir()
    shutil.move(tmp_path / "runs" / "d", tmp_path / "elsewhere" / "moved")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["train", "--resume", "--out", "moved", "--epochs", "2", "--no-progress"]) == 0
    assert json.loads((tmp_path / "elsewhere" / "moved" / "config.json").read_text())["out"] == "moved"
