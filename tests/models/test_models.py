import json
import re

import numpy as np
import pytest
import torch

from rehue.errors import RehueError, UsageError
from rehue.models import ModelCard, create_model, list_models, load_model, save_model
from rehue.models.registry import model_entry
from tests.conftest import answering

GENERATORS = list_models("generator")
DISCRIMINATORS = list_models("discriminator")


def test_registry_has_the_thesis_models():
    assert {"gen1", "gen2", "gen2-classes"} <= set(GENERATORS)
    assert {"disc1", "disc2", "patch"} <= set(DISCRIMINATORS)


def test_unknown_name_lists_valid_ones():
    with pytest.raises(UsageError, match="gen2"):
        create_model("gen9", in_channels=1, size=32)
    with pytest.raises(UsageError, match=r"unknown model \['gen2'\]; choose one of: "):  # probe 156: unhashable type
        create_model(["gen2"], in_channels=1, size=32)


def test_size_must_be_power_of_two():
    with pytest.raises(UsageError):
        create_model("gen2", in_channels=1, size=100)


@pytest.mark.parametrize("settings,message", [
    ({"size": "64"}, "size must be a whole number of at least 32, not '64'"),
    ({"size": 64.0}, "size must be a whole number of at least 32, not 64.0"),
    ({"in_channels": 0}, "in_channels must be a whole number of at least 1, not 0"),
    ({"in_channels": -1}, "in_channels must be a whole number of at least 1, not -1"),
    ({"width": 2.5}, "width must be a whole number of at least 1, not 2.5"),
    ({"role": "foo"}, "role must be 'generator' or 'discriminator', not 'foo'"),
])
def test_settings_no_model_can_be_built_from_are_said(settings, message):
    """Probe 155: a TypeError of '<' for size "64", a RuntimeError for -1 channels, a network of no channels for 0,
    and "choose one of: " with nothing after it for an unknown role."""
    with pytest.raises(UsageError) as refused:
        create_model("gen2", **{"in_channels": 1, "size": 32, **settings})
    assert str(refused.value) == message


def _gradient_reaches_every_parameter(model, x):
    model.train()
    out = model(x)
    out.float().pow(2).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    return out


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("size", [32, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_shapes_and_gradients(name, size, channels):
    torch.manual_seed(0)
    model = create_model(name, in_channels=channels, size=size, width=8)
    out = _gradient_reaches_every_parameter(model, torch.randn(2, channels, size, size))
    assert out.shape == (2, 2, size, size)
    assert out.abs().max() <= 1.0 and not torch.isnan(out).any()


def test_generator_at_256():
    model = create_model("gen2", in_channels=1, size=256, width=8).eval()
    assert model(torch.randn(1, 1, 256, 256)).shape == (1, 2, 256, 256)


@pytest.mark.parametrize("name", DISCRIMINATORS)
@pytest.mark.parametrize("size", [32, 128])
def test_discriminator_shapes_and_gradients(name, size):
    torch.manual_seed(0)
    model = create_model(name, in_channels=3, size=size, width=8)
    out = _gradient_reaches_every_parameter(model, torch.randn(2, 3, size, size))
    assert out.shape[0] == 2 and out.shape[1] == 1


def test_disc2_grows_at_128():
    small = create_model("disc2", in_channels=3, size=32)
    large = create_model("disc2", in_channels=3, size=128)
    count = lambda m, kind: sum(isinstance(x, kind) for x in m.modules())  # noqa: E731
    assert count(small, torch.nn.AvgPool2d) == 2 and count(small, torch.nn.MaxPool2d) == 0
    assert count(large, torch.nn.Conv2d) == count(small, torch.nn.Conv2d) + 2
    assert count(large, torch.nn.MaxPool2d) == 1 and count(large, torch.nn.AvgPool2d) == 3


def test_gen1_has_five_batchnorms_and_disc1_three_dropouts():
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in create_model("gen1", in_channels=1, size=32).modules()) == 5
    assert sum(isinstance(m, torch.nn.Dropout) for m in create_model("disc1", in_channels=3, size=32).modules()) == 3


def test_gen2_classes_shows_the_mean_of_its_bin_distribution():
    from rehue.color.bins import BINS, annealed_mean, bin_centres

    torch.manual_seed(0)
    model = create_model("gen2-classes", in_channels=1, size=32, width=8).eval()
    x = torch.randn(2, 1, 32, 32)
    ab, logits = model(x, with_logits=True)
    assert logits.shape == (2, BINS, 16, 16), "a distribution per pixel at half the working size"
    half = annealed_mean(logits, bin_centres())
    assert torch.allclose(torch.nn.functional.avg_pool2d(ab, 2), half, atol=0.05)
    assert torch.equal(model(x), ab)
    model.temperature = 0.3
    assert model(x).abs().mean() > ab.abs().mean(), "a sharper distribution has stronger colours"


def test_removing_the_prior_mean_takes_an_unsure_pixel_to_grey_and_leaves_a_sure_one():
    from rehue.color.bins import BINS, bin_centres

    centres = bin_centres()
    torch.manual_seed(0)
    prior = torch.rand(BINS) * (centres[:, 1] > 0) + 0.05  # more yellow than blue: a warm mean
    prior /= prior.sum()
    model = create_model("gen2-classes", in_channels=1, size=32, width=8).eval()
    model.ab_prior.copy_(prior)
    x = torch.randn(1, 1, 32, 32)

    answering(model, prior.log())
    assert (prior @ centres)[1] > 0.1 and torch.allclose(model(x).mean(dim=(0, 2, 3)), prior @ centres, atol=1e-3)
    model.prior_mean_removal = 1.0
    assert model(x).abs().max() < 1e-3, "the training colours' own distribution: grey"
    model.prior_mean_removal = 0.5
    assert torch.allclose(model(x).mean(dim=(0, 2, 3)), 0.5 * prior @ centres, atol=1e-3)

    blue = int(centres[:, 1].argmin())
    sure = torch.full((BINS,), -30.0)
    sure[blue] = 30.0
    answering(model, sure)
    model.prior_mean_removal = 1.0
    shift = (model(x).mean(dim=(0, 2, 3)) - centres[blue]).norm()
    assert shift < 0.25 * (prior @ centres).norm(), "a sure pixel keeps nearly all of its colour"


def test_a_class_model_counts_the_colours_it_was_trained_on():
    from rehue.color.bins import BINS

    model = create_model("gen2-classes", in_channels=1, size=32, width=8)
    assert torch.allclose(model.ab_prior, torch.full((BINS,), 1.0 / BINS)), "flat until trained"
    first, second = torch.zeros(2, BINS, 4, 4), torch.zeros(2, BINS, 4, 4)
    first[:, 3], second[:, 5] = 1.0, 1.0
    second[0, 5], second[0, 7] = 0.5, 0.5
    model.count_colours(first, 1)
    model.count_colours(second, 2)
    expected = torch.zeros(BINS)
    expected[3], expected[5], expected[7] = 0.5, 0.375, 0.125
    assert torch.allclose(model.ab_prior, expected)
    assert "ab_prior" in model.state_dict(), "saved with the weights"


@pytest.mark.parametrize("key,value,accepted", [("temperature", 0.5, True), ("temperature", 0.0, False),
                                                 ("temperature", "warm", False), ("temperature", True, False),
                                                 ("prior_mean_removal", 0.5, True), ("prior_mean_removal", 2.5, False)])
def test_how_a_class_model_shows_its_colours_comes_from_its_config(tmp_path, key, value, accepted):
    model = create_model("gen2-classes", in_channels=1, size=32, width=8).eval()
    with torch.no_grad():
        model.ab_prior.uniform_(0.0, 1.0)  # not flat, so that removing its mean changes the colours
        model.ab_prior /= model.ab_prior.sum()
    card = ModelCard("gen2-classes", 1, 32, 8, inference={key: value})
    path = save_model(model, card, tmp_path / "m.safetensors")
    if not accepted:
        with pytest.raises(RehueError, match=rf"m\.json.*{key}"):
            load_model(path)
        return
    loaded, _ = load_model(path)
    assert getattr(loaded, key) == 0.5 and torch.equal(loaded.ab_prior, model.ab_prior)
    x = torch.randn(1, 1, 32, 32)
    assert not torch.allclose(loaded(x), model(x)), f"the default {key} differs"


def test_save_and_load_round_trip(tmp_path):
    model = create_model("gen2", in_channels=3, size=32, width=8).eval()
    card = ModelCard("gen2", 3, 32, 8, role="dependent")
    path = save_model(model, card, tmp_path / "m.safetensors")
    loaded, loaded_card = load_model(path)
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(model(x), loaded(x))
    assert loaded_card.role == "dependent" and json.loads(path.with_suffix(".json").read_text())["size"] == 32


def test_shape_mismatch_is_a_clear_error(tmp_path):
    model = create_model("gen2", in_channels=1, size=32, width=8)
    path = save_model(model, ModelCard("gen2", 1, 32, 8), tmp_path / "m.safetensors")
    config = json.loads(path.with_suffix(".json").read_text())
    config["width"] = 16
    path.with_suffix(".json").write_text(json.dumps(config))
    with pytest.raises(RehueError, match="shape mismatch"):
        load_model(path)


def test_garbage_weights_and_missing_config(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 40)
    bad.with_suffix(".json").write_text(json.dumps({"architecture": "gen2", "in_channels": 1, "size": 32,
                                                    "width": 8}))
    with pytest.raises(RehueError, match="safetensors"):
        load_model(bad)
    lone = tmp_path / "lone.safetensors"
    lone.write_bytes(b"x")
    with pytest.raises(RehueError, match="config"):
        load_model(lone)
    with pytest.raises(RehueError, match="no such model"):
        load_model(tmp_path / "missing.safetensors")



def test_a_model_folder_passes_over_hidden_files_and_names_what_it_holds(tmp_path):
    """Probe 128: a Mac's "._model.safetensors" beside the model made its folder "must hold exactly one
    .safetensors model", though one was all a listing showed."""
    from rehue.models.io import resolve_model_path

    folder = tmp_path / "mac"
    folder.mkdir()
    with pytest.raises(RehueError, match=f"^{re.escape(str(folder))}: folder holds no .safetensors model$"):
        resolve_model_path(folder)
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "._model.safetensors").write_bytes(b"\x00\x05\x16\x07")
    assert resolve_model_path(folder) == folder / "model.safetensors"
    (folder / "older.safetensors").write_bytes(b"weights")
    with pytest.raises(RehueError, match="folder holds 2 .safetensors models, such as model.safetensors and "
                                         "older.safetensors; name the one to use$"):
        resolve_model_path(folder)
    search = tmp_path / "grid"  # probe 172: a grid search's folder, and not a word of its runs
    for name in ("gen2-disc1-8", "gen1-disc1-8"):
        (search / "runs" / name).mkdir(parents=True)
        (search / "runs" / name / "model.safetensors").write_bytes(b"weights")
    with pytest.raises(RehueError, match=f"^{re.escape(str(search))}: folder holds no .safetensors model; its runs "
                                         "do, one model each: name one, such as "
                                         f"{re.escape(str(search / 'runs' / 'gen1-disc1-8'))}$"):
        resolve_model_path(search)


@pytest.mark.parametrize(("change", "said"), [
    ("nan", "hold NaN or infinite values: the file is damaged, or its training diverged"),
    ("inf", "hold NaN or infinite values"),
    ("int64", "are int64, not floating-point numbers"),
    ("bool", "are bool, not floating-point numbers")])
def test_weights_that_are_not_finite_numbers_are_refused(tmp_path, change, said):
    """Probe 128: NaN or infinite weights coloured every photo a saturated orange-red, exit 0; whole numbers
    and booleans were cast without a word."""
    from safetensors.torch import load_file, save_file

    from tests.conftest import make_tiny_model

    path = make_tiny_model(tmp_path / "tiny.safetensors")
    tensors = load_file(str(path))
    key = next(key for key, tensor in tensors.items() if tensor.is_floating_point() and tensor.numel() > 1)
    if change in ("nan", "inf"):
        tensors[key][0] = float(change)
    else:
        tensors[key] = tensors[key].to(getattr(torch, change))
    save_file(tensors, str(path))
    with pytest.raises(RehueError, match=f"^{re.escape(str(path))}: weights {re.escape(key)} {said}"):
        load_model(path)

def test_a_training_checkpoint_or_a_photo_given_as_a_model_is_told_what_it_is(tmp_path):
    """Before, both were "model config (.json) missing beside the weights", naming a file never given."""
    from rehue.models.io import resolve_model_path

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    checkpoint = run / "checkpoints" / "epoch_0003.pt"
    checkpoint.write_bytes(b"checkpoint")
    with pytest.raises(RehueError, match=r"a training checkpoint \(for `rehue train --resume`\), not a model; "
                                         "pass the model.safetensors its run wrote"):
        resolve_model_path(checkpoint)
    (run / "model.safetensors").write_bytes(b"weights")
    with pytest.raises(RehueError, match=f"pass {run / 'model.safetensors'}"):
        resolve_model_path(checkpoint)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"jpeg")
    with pytest.raises(RehueError, match="is not a model: a model is a .safetensors file"):
        resolve_model_path(photo)


def test_rehue_models_lists_the_shipped_models_with_their_held_out_scores(monkeypatch, tmp_path, capsys):
    import json

    import rehue.models.io as io
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    path = make_tiny_model(tmp_path / "rehue-tiny-independent.safetensors")
    config = json.loads(path.with_suffix(".json").read_text())
    config["metrics"] = {"heldout": "3 photos", "heldout_psnr": 21.5, "heldout_gray_psnr": 20.25,
                         "heldout_ahead": "2 of 3", "heldout_psnr_interval": [0.35, 2.15]}
    path.with_suffix(".json").write_text(json.dumps(config))
    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path)
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, x in enumerate(lines) if "rehue-tiny-independent" in x)
    assert lines[at].endswith(": the default for photos and films"), "the only one of its role"
    assert lines[at + 1].endswith("held-out PSNR 21.50 dB (gray 20.25) on 3 photos; ahead of gray on 2 of 3; "
                                  "gain +0.35 to +2.15 dB (95% interval): clearly above gray")
    config["metrics"]["heldout_psnr_interval"] = [0.003, 0.76]
    path.with_suffix(".json").write_text(json.dumps(config))
    assert main(["models"]) == 0
    assert "; gain +0.003 to +0.760 dB (95% interval): clearly above gray" in capsys.readouterr().out
    config["metrics"]["heldout"] = "3 photos + 40 frames of a clip"  # "ahead" counts frames, the interval clips
    path.with_suffix(".json").write_text(json.dumps(config))
    assert main(["models"]) == 0
    assert "gain +0.003 to +0.760 dB (95% interval, a clip counting once)" in capsys.readouterr().out
    config["metrics"].update(heldout="3 photos\nand more", heldout_ahead="2\nof 3")  # probe 218: the listing broken
    path.with_suffix(".json").write_text(json.dumps(config))
    assert main(["models"]) == 0
    assert "on 3 photos\\nand more; ahead of gray on 2\\nof 3;" in capsys.readouterr().out
    architectures = lines[lines.index("architectures:") + 1:]
    assert sorted(x.split()[0] for x in architectures) == sorted(GENERATORS + DISCRIMINATORS)
    starts = {x.index(model_entry(x.split()[0]).summary) for x in architectures}
    assert len(starts) == 1, "the summaries line up in one column"



@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_rehue_models_says_a_shipped_model_that_cannot_be_read(monkeypatch, tmp_path, capsys, json_flag):
    """Probe 124's leftover: a shipped model whose weights were cut short was listed as any other, exit 0."""
    import json

    import rehue.models.io as io
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    intact = make_tiny_model(tmp_path / "rehue-tiny-independent.safetensors")
    cut = make_tiny_model(tmp_path / "rehue-tiny-dependent.safetensors", in_channels=3)
    cut.write_bytes(cut.read_bytes()[:200])
    other = make_tiny_model(tmp_path / "rehue-tiny-video.safetensors")
    other.with_suffix(".json").write_text("{")
    alone = make_tiny_model(tmp_path / "rehue-tiny-alone.safetensors")  # probe 130: left out without a word
    alone.with_suffix(".json").unlink()
    wider = make_tiny_model(tmp_path / "rehue-tiny-wider.safetensors")  # probe 130: listed, and colorize failed
    card = json.loads(wider.with_suffix(".json").read_text())
    wider.with_suffix(".json").write_text(json.dumps({**card, "width": 8}))
    for hidden in ("._rehue-tiny-independent.json", "._rehue-tiny-independent.safetensors"):  # a Mac's: no
        (tmp_path / hidden).write_bytes(b"\x00\x05\x16\x07")  # model's (probe 131: listed as a damaged one)
    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path)
    assert main(["models", *json_flag]) == 1
    said = capsys.readouterr()
    assert said.err.splitlines() == ["rehue: error: the shipped models rehue-tiny-alone, rehue-tiny-dependent, "
                                     "rehue-tiny-video and rehue-tiny-wider cannot be read (said above): the "
                                     "installation is damaged; reinstall rehue"]
    if json_flag:
        listing = json.loads(said.out)
        assert list(listing["shipped"]) == [intact.stem]
        assert sorted(listing["unreadable"]) == ["rehue-tiny-alone", "rehue-tiny-dependent", "rehue-tiny-video",
                                                 "rehue-tiny-wider"]
        assert "not a readable safetensors file" in listing["unreadable"]["rehue-tiny-dependent"]
    else:
        lines = said.out.splitlines()
        assert lines[1] == "  rehue-tiny-alone: cannot be read (its config (.json) missing)"
        assert lines[2].startswith(f"  rehue-tiny-dependent: cannot be read ({cut}: not a readable safetensors file")
        assert lines[3].startswith(f"  rehue-tiny-video: cannot be read ({other.with_suffix('.json')}: ")
        assert lines[4].startswith(f"  rehue-tiny-wider: cannot be read ({wider}: ") and "shape" in lines[4]
        assert lines[5] == "  rehue-tiny-independent: the default for photos and films"


@pytest.mark.parametrize(("metrics", "why"), [
    ({"heldout_psnr": "22.0", "heldout_gray_psnr": 21.0},
     "its card's metrics.heldout_psnr is '22.0', not a number of dB"),
    ({"heldout_psnr": 22.0}, "its card's metrics.heldout_gray_psnr is 'missing', not a number of dB"),
    ({"heldout_psnr": None, "heldout_gray_psnr": 21.0}, "its card's metrics.heldout_psnr is None, not a number of dB"),
    ({"heldout_psnr": 22.0, "heldout_gray_psnr": 21.0, "heldout_psnr_interval": ["a", "b"]},
     "its card's metrics.heldout_psnr_interval is [\"a\", \"b\"], not two numbers of dB, low first"),
    ({"val_psnr": "x", "val_gray_psnr": 20.0}, "its card's metrics.val_psnr is 'x', not a number of dB"),
    ({"heldout_psnr": float("nan"), "heldout_gray_psnr": 21.0},
     "its card's metrics.heldout_psnr is nan, not a number of dB"),
    # probe 216: an OverflowError; 309 digits; "gain +5.00 to -5.00 dB ... clearly above gray"
    ({"heldout_psnr": 10**400, "heldout_gray_psnr": 21.0},
     f"its card's metrics.heldout_psnr is 1{'0' * 39}, not a number of dB"),
    ({"heldout_psnr": 1e308, "heldout_gray_psnr": 21.0},
     "its card's metrics.heldout_psnr is 1e+308, not a number of dB"),
    ({"heldout_psnr": 22.0, "heldout_gray_psnr": 21.0, "heldout_psnr_interval": [5, -5]},
     "its card's metrics.heldout_psnr_interval is [5, -5], not two numbers of dB, low first"),
    ({"epochs_nan": float("nan")}, "its card holds a number that is not finite (NaN or infinity)"),
])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_rehue_models_says_a_shipped_models_damaged_figures(monkeypatch, tmp_path, capsys, metrics, why, json_flag):
    """Probe 214: a figure of another type in a shipped card ended `rehue models` in a traceback, and a NaN was
    written by `--json`, which strict JSON readers refuse."""
    import json

    import rehue.models.io as io
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    path = make_tiny_model(tmp_path / "rehue-tiny-independent.safetensors")
    config = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps({**config, "metrics": metrics}))
    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path)
    assert main(["models", *json_flag]) == 1
    said = capsys.readouterr()
    assert said.err == ("rehue: error: the shipped model rehue-tiny-independent cannot be read (said above): the "
                        "installation is damaged; reinstall rehue\n")
    told = f"{path.with_suffix('.json')}: {why}"
    if json_flag:
        assert json.loads(said.out, parse_constant=lambda name: pytest.fail(name))["unreadable"] == {
            "rehue-tiny-independent": told}
    else:
        assert said.out.splitlines()[1] == f"  rehue-tiny-independent: cannot be read ({told})"


def test_colorize_says_a_shipped_model_without_its_config_is_damaged_not_missing(monkeypatch, tmp_path, capsys):
    """Probe 130: with the shipped model's .json gone, colorize said "this installation ships no pretrained
    model; train one"."""
    import rehue.models.io as io
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    model = make_tiny_model(tmp_path / "w" / "rehue-gen2-128-independent.safetensors")
    model.with_suffix(".json").unlink()
    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path / "w")
    from PIL import Image

    Image.fromarray(np.zeros((24, 32), np.uint8)).save(tmp_path / "p.png")
    assert main(["colorize", str(tmp_path / "p.png"), "-o", str(tmp_path / "o.png")]) == 1
    assert capsys.readouterr().err == ("rehue: error: the shipped model rehue-gen2-128-independent cannot be read (its "
                                       "config (.json) missing): the installation is damaged; reinstall rehue\n")

def test_a_class_model_saved_before_colours_were_counted_still_loads(tmp_path):
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    model = create_model("gen2-classes", in_channels=1, size=32, width=8).eval()
    path = save_model(model, ModelCard("gen2-classes", 1, 32, 8), tmp_path / "old.safetensors")
    save_file({k: v for k, v in load_file(path).items() if k != "ab_prior"}, str(path))
    loaded, _ = load_model(path)
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(loaded.ab_prior, model.ab_prior) and torch.allclose(loaded(x), model(x))
    document = json.loads(path.with_suffix(".json").read_text())
    document["inference"] = {"prior_mean_removal": 1.0}
    path.with_suffix(".json").write_text(json.dumps(document))
    with pytest.raises(RehueError, match=r"old\.json.*prior_mean_removal needs ab_prior"):
        load_model(path)


def test_onnx_export_works_on_several_threads_at_once_and_leaves_the_warning_filters_alone():
    """A web server loading models on worker threads: the exporter keeps its state in globals."""
    import threading
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    pytest.importorskip("onnx")
    from rehue.models.inference import export_onnx

    model = create_model("gen2", in_channels=1, size=32, width=4)
    filters = list(warnings.filters)
    start = threading.Barrier(4)

    def export(_):
        start.wait()
        return [len(export_onnx(model, 1, 32)) for _ in range(3)]

    with ThreadPoolExecutor(4) as pool:
        sizes = [size for sizes in pool.map(export, range(4)) for size in sizes]
    assert len(set(sizes)) == 1 and sizes[0] > 1000
    assert warnings.filters == filters


@pytest.mark.parametrize("change, message", [({"format_version": 99}, "newer than this rehue reads"),
                                             ({"inference": [1, 2]}, "inference must be a JSON object")])
def test_a_model_config_from_a_newer_rehue_or_with_a_bad_restraint_is_refused(tmp_path, change, message):
    from tests.conftest import make_tiny_model

    path = make_tiny_model(tmp_path / "m.safetensors")
    config = path.with_suffix(".json")
    config.write_text(json.dumps({**json.loads(config.read_text()), **change}))
    with pytest.raises(RehueError, match=message):
        load_model(path)


def test_loading_a_model_leaves_the_callers_random_numbers_as_they_were(tiny_model):
    """Before, building the layers drew from torch's generator: a seeded notebook's next numbers changed."""
    from rehue.inference.colorizer import Colorizer

    torch.manual_seed(0)
    expected = torch.rand(4)
    for backend in ("torch", "auto"):
        torch.manual_seed(0)
        Colorizer.load(tiny_model, device="cpu", backend=backend)
        assert torch.equal(torch.rand(4), expected), backend


def test_model_files_from_strangers_are_one_line_not_a_hang_or_all_the_memory(tmp_path, tiny_model, capsys):
    """Probe 29: a config linked to /dev/zero took 3.8 GB in 10 s; weights that are a pipe hung for good (Ctrl-C
    did not reach the C code waiting in open); a huge width allocated terabytes, a traceback; JSON nested
    100,000 deep, a RecursionError traceback."""
    import os
    import shutil

    from rehue.cli import main

    def model(name, config=None):
        weights = tmp_path / f"{name}.safetensors"
        shutil.copy(tiny_model, weights)
        if config is not None:
            (tmp_path / f"{name}.json").write_text(config)
        return weights

    card = json.loads(tiny_model.with_suffix(".json").read_text())
    cases = {"wide": (model("wide", json.dumps({**card, "width": 100_000})), "shape mismatch"),
             "wider": (model("wider", json.dumps({**card, "width": 10**9})), "cannot build"),  # probe 30
             "nested": (model("nested", "[" * 100_000 + "]" * 100_000), "nested too deep"),
             "big": (model("big", json.dumps({**card, "pad": "x" * (5 << 20)})), "more than any rehue writes")}
    zero = model("zero")
    os.symlink("/dev/zero", tmp_path / "zero.json")
    cases["zero"] = (zero, "is a pipe or a device, not a model config")
    os.mkfifo(tmp_path / "pipe.safetensors")
    (tmp_path / "pipe.json").write_text(json.dumps(card))
    cases["pipe"] = (tmp_path / "pipe.safetensors", "is a pipe or a device, not a model's weights")
    image = tmp_path / "gray.png"
    from PIL import Image

    Image.new("L", (16, 16), 90).save(image)
    for name, (weights, reason) in cases.items():
        with pytest.raises(RehueError, match=reason):
            load_model(weights)
        assert main(["colorize", str(image), "-o", str(tmp_path / f"{name}.png"), "--model", str(weights)]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("rehue: error: ") and reason in err and "\n" not in err, name


@pytest.mark.parametrize(("card", "message"), [
    (ModelCard("gen2", 1, 32, 8, inference={"chrom": 0.5}), r"inference has no setting 'chrom' \(did you mean "
                                                            r"'chroma'\?\)"),
    (ModelCard("gen2", 1, 32, 8, inference={"x": 1}), "inference has no setting 'x'; its settings are temperature,"),
    (ModelCard("gen2", 1, 32, 8, role="dependent"), "role 'dependent' does not fit in_channels 1: a model of 1 "
                                                    r"input channel is independent"),
    (ModelCard("gen2", 3, 32, 8), "role 'independent' does not fit in_channels 3"),
])
def test_a_misspelt_inference_setting_or_a_role_that_does_not_fit_is_refused(tmp_path, card, message):
    """Probe 61: "chrom" or "temprature" in a model's JSON was left unused without a word, and a one-channel
    model said to be dependent was taken as it said."""
    model = create_model("gen2", in_channels=card.in_channels, size=32, width=8).eval()
    path = save_model(model, card, tmp_path / "m.safetensors")
    with pytest.raises(RehueError, match=rf"m\.json: {message}"):
        load_model(path)


@pytest.mark.parametrize(("inference", "message"), [({"fit": "letterbx"}, "unknown fit 'letterbx'"),
                                                    ({"borders": "modle"}, "unknown borders 'modle'"),
                                                    ({"chroma": None}, "chroma must be a number, not None")])
def test_a_bad_named_setting_in_a_models_json_names_the_json(tmp_path, inference, message):
    """Probe 64: it read as a mistake of --fit, --borders or --chroma, the model's JSON not named."""
    from rehue.inference.colorizer import Colorizer

    model = create_model("gen2", in_channels=1, size=32, width=8).eval()
    path = save_model(model, ModelCard("gen2", 1, 32, 8, inference=inference), tmp_path / "m.safetensors")
    with pytest.raises(RehueError, match=rf"m\.json: inference: {message}") as error:
        Colorizer.load(path, device="cpu")
    assert type(error.value) is RehueError, "the file's fault (exit 1), not the command line's"


def test_a_model_in_a_folder_named_in_bytes_not_utf8_loads(tmp_path):
    """Probe 140: a model trained into a folder named in Latin-1 (``run\\xe9``) was "not a readable safetensors
    file (Path ... is not valid UTF-8)": safetensors opens only names in UTF-8, and the file was whole."""
    import os

    from tests.conftest import make_tiny_model

    folder = tmp_path / os.fsdecode(b"run\xe9")
    path = make_tiny_model(folder / "model.safetensors")
    model, card = load_model(path)
    expected, _ = load_model(make_tiny_model(tmp_path / "plain" / "model.safetensors"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), expected.state_dict().values(),
                                                 strict=True))
    import av

    from rehue.cli import main
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(4, 48, 64))
    assert main(["colorize", str(clip), "-o", str(tmp_path / "colour.mp4"), "--model", str(path),
                 "--no-progress"]) == 0, "its name in the film's comment: a UnicodeEncodeError before"
    with av.open(str(tmp_path / "colour.mp4")) as container:
        assert "run\\xe9/model" in container.metadata["comment"]
    from PIL import Image

    from tests.conftest import textured_rgb

    Image.fromarray(textured_rgb(32, 48)).save(tmp_path / "photo.png")
    for name in ("colour.exr", "colour.png"):  # probe 141: OpenEXR's header a UnicodeEncodeError; PNG's \udce9
        assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / name), "--model", str(path)]) == 0
    assert b"run\\xe9/model" in (tmp_path / "colour.exr").read_bytes()
    with Image.open(tmp_path / "colour.png") as written:
        assert "run\\xe9/model" in str(written.getexif().get(0x0131, "")) + str(written.info.get("Software", ""))
    (folder / "cut.safetensors").write_bytes(path.read_bytes()[:100])
    (folder / "cut.json").write_bytes((folder / "model.json").read_bytes())
    with pytest.raises(RehueError, match="not a readable safetensors file"):
        load_model(folder / "cut.safetensors")
