"""benchmarks/ab_classes.py (colour as a distribution over a*b* bins) on tiny inputs made here."""

import json

import numpy as np
import pytest
import torch

from tests.helpers_benchmarks import demo_set, held_out_demo, load_benchmark


@pytest.fixture
def classes():
    return load_benchmark("ab_classes")


def coloured_classifier(classes):
    """A fresh class model with random head biases: an untrained head is nearly uniform, its mean gray."""
    torch.manual_seed(0)
    net = classes.classifier().eval()
    with torch.no_grad():
        net.head[-1].bias.copy_(torch.randn(529) * 2)
    return net


def test_training_saves_safetensors_and_reuses_them(tmp_path, classes, monkeypatch):
    demo, _ = demo_set(tmp_path / "demo")
    out = tmp_path / "run"
    net = classes.load_or_train(out, demo, steps=2, seed=0)
    assert (out / "model.safetensors").exists()
    assert net.ab_prior.max() > 5.0 / len(net.ab_prior), "the training colours were counted"
    assert json.loads((out / "config.json").read_text())["steps"] == 2
    assert net(torch.zeros(1, 1, 128, 128), with_logits=True)[1].shape == (1, 529, 64, 64)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(classes, "train", no_training)
    again = classes.load_or_train(out, demo, steps=2, seed=0)
    for name, value in net.state_dict().items():
        assert torch.equal(value, again.state_dict()[name])
    with pytest.raises(AssertionError, match="trained again"):
        classes.load_or_train(out, demo, steps=3, seed=0)


def test_sweep_scores_each_set_at_each_temperature_and_scale(tmp_path, classes):
    net = coloured_classifier(classes)
    sets = classes.held_out_photos(held_out_demo(tmp_path / "demo"))
    table = classes.sweep(net, sets, [1.0, 0.2], [0.5, 1.0])
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen", "blind twenty-three",
                           "Scratch forty-seven", "KPhotoAlbum twenty-four"]
    for row in table.values():
        assert list(row) == [(1.0, 0.5), (1.0, 1.0), (1.0, None), (0.2, 0.5), (0.2, 1.0), (0.2, None)]
        assert row[1.0, 1.0][1] > row[1.0, 0.5][1] > 0, "twice the scale gives more colour"
        assert row[0.2, None][1] > row[1.0, None][1], "a sharper distribution gives more colour"


def test_cross_validation_compares_fold_classifiers_with_the_recipe_photo_by_photo(tmp_path, classes, tiny_model,
                                                                                  monkeypatch, capsys):
    import out_of_fold  # importable once ab_classes is loaded, as in the script

    demo, training = demo_set(tmp_path / "demo")
    monkeypatch.setattr(out_of_fold, "train_folds", lambda folds, runs: [tiny_model] * len(folds))
    classes.cross_validate(demo, tmp_path / "folds", tmp_path / "classes", steps=1, seed=0,
                           temperatures=[1.0, 0.5])
    assert sorted(p.name for p in (tmp_path / "classes").iterdir()) == ["fold-0", "fold-1", "fold-2"]
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:]] == ["| shipped recipe", "| classes, T 1", "| classes, T 0.5"]
    scales = len(out_of_fold.GLOBAL_SCALES)
    for line in table[2:]:
        cells = line.strip("| ").split(" | ")[1:]
        assert len(cells) == scales
        assert all("better on" in cell and int(cell.split("better on ")[1].rstrip("]")) <= len(training)
                   for cell in cells)


def test_cross_validation_of_the_recipe_takes_rehue_trains_fold_models_and_each_mean_share(
        tmp_path, classes, tiny_model, monkeypatch, capsys):
    import out_of_fold

    from tests.conftest import make_tiny_model

    demo, _ = demo_set(tmp_path / "demo")
    photo_model = make_tiny_model(tmp_path / "classes.safetensors", size=128, architecture="gen2-classes")
    asked = []

    def folds_of(folds, runs, tag="", extra=()):
        asked.append((tag, list(extra)))
        return [photo_model if tag else tiny_model] * len(folds)

    monkeypatch.setattr(out_of_fold, "train_folds", folds_of)
    classes.cross_validate(demo, tmp_path / "folds", tmp_path / "classes", steps=1, seed=0, temperatures=[1.0],
                           mean_shares=[1.0, 0.0], recipe=True, prior_mean_removals=[0.0, 1.0])
    assert asked == [("classes", classes.CLASSES_FLAGS), ("", [])]
    assert not (tmp_path / "classes").exists(), "no classifier of the script's own loop"
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:]] == ["| shipped recipe", "| classes, T 1",
                                                            "| classes, T 1, M 0", "| classes, T 1, R 1",
                                                            "| classes, T 1, R 1, M 0"]
    warmth = next(line for line in out.splitlines() if line.startswith("mean warm share"))
    assert "classes, T 1, M 0 x1" in warmth and "classes, T 1, R 1 x1" in warmth and "truths" in warmth


def test_the_grid_sets_the_classifier_beside_the_shipped_model_on_the_blind_photos(tmp_path, classes):
    from PIL import Image

    torch.manual_seed(0)
    net = classes.classifier().eval()
    sets = classes.held_out_photos(held_out_demo(tmp_path / "demo"))
    diffs, warm = classes.comparison_grid(net, sets, 1.0, 1.0, tmp_path / "grid")
    assert diffs.shape == (2,), "one per photo of the two blind sets"
    assert warm.shape == (2,) and 0 <= warm.min() and warm.max() <= 2
    assert Image.open(tmp_path / "grid" / "classes-vs-shipped.png").width == 4 * 128


def test_a_mean_share_shrinks_each_pictures_mean_colour_and_keeps_the_rest(classes):
    from rehue.color.lab import rgb_to_lab
    from tests.conftest import textured_rgb

    net = coloured_classifier(classes)
    picture = textured_rgb(128, 128)
    full, half = (rgb_to_lab(classes.annealed_colorizer(net, 1.0, share, chroma=1.0, ab_smoothing=0.0)
                             .colorize(picture))[..., 1:] for share in (1.0, 0.5))
    mean = full.mean(axis=(0, 1))
    assert np.abs(mean).max() > 3, "the picture has a mean colour to shrink"
    assert np.allclose(half.mean(axis=(0, 1)), 0.5 * mean, atol=1.0)
    assert np.abs((half - half.mean(axis=(0, 1))) - (full - mean)).mean() < 1.0, "the rest is kept"



def shown_with(net, wrapper, logits, x):
    """(net's a*b*, the wrapper's) when ``net`` gives these (BINS,) logits at every pixel."""
    from tests.conftest import answering

    answering(net, logits)
    with torch.no_grad():
        return net(x), wrapper(x)


def test_mode_agreement_fades_colour_where_the_modes_disagree_and_keeps_one_mode(classes):
    from rehue.color.bins import BINS, GRID

    torch.manual_seed(0)
    net = classes.classifier().eval()
    one_mode, two_modes = torch.full((BINS,), -30.0), torch.full((BINS,), -30.0)
    one_mode[5 * GRID + 18] = 30.0  # one bin: one colour
    two_modes[5 * GRID + 18] = two_modes[18 * GRID + 18] = 30.0  # green and orange, far apart
    x = torch.randn(1, 1, 128, 128)
    faded = {name: shown_with(net, classes.ModeAgreement(net, 1.0), logits, x)
             for name, logits in (("one", one_mode), ("two", two_modes))}
    assert torch.allclose(faded["one"][1], faded["one"][0], atol=1e-5), "one mode keeps its colour"
    assert torch.allclose(faded["two"][1], 0.5 * faded["two"][0], atol=1e-4), "half the mass near the top mode"


def test_a_fitted_bin_bias_makes_the_mean_distribution_the_truths(classes):
    from rehue.color.bins import BINS

    torch.manual_seed(0)
    logits = torch.randn(4000, BINS)
    logits[:, 7] += 5.0  # the model says bin 7 far more often than it is true
    targets = torch.softmax(torch.randn(4000, BINS), dim=1)
    before = torch.softmax(logits, 1).mean(0)
    bias = classes.fit_bin_bias(logits, targets, steps=400)
    after = torch.softmax(logits + bias, 1).mean(0)
    assert (before - targets.mean(0)).abs().max() > 0.05
    assert (after - targets.mean(0)).abs().max() < 0.005


def test_shrink_removal_takes_the_prior_mean_off_colours_that_cancel_out_and_leaves_one_colour(classes):
    from rehue.color.bins import BINS, GRID

    torch.manual_seed(0)
    net = classes.classifier().eval()
    with torch.no_grad():
        net.ab_prior.copy_(torch.softmax(torch.randn(BINS) * 2, 0))
    prior_mean = net.ab_prior @ net.centres
    one, opposite = torch.full((BINS,), -30.0), torch.full((BINS,), -30.0)
    one[5 * GRID + 18] = 30.0
    opposite[5 * GRID + 17] = opposite[17 * GRID + 5] = 30.0  # (-a, +b) and (+a, -b): they cancel out
    x = torch.randn(1, 1, 128, 128)
    shown = {name: shown_with(net, classes.ShrinkRemoval(net, 1.0), logits, x)
             for name, logits in (("one", one), ("opposite", opposite))}
    assert torch.allclose(shown["one"][1], shown["one"][0], atol=1e-4), "one colour is not shrunk"
    assert shown["opposite"][0].abs().max() < 1e-4
    assert torch.allclose(shown["opposite"][1].mean(dim=(0, 2, 3)), -prior_mean, atol=1e-3)


def test_the_prior_report_says_what_the_counted_colours_are(classes):
    from rehue.color.bins import GRID

    net = classes.classifier()
    orange, grey = 14 * GRID + 14, 11 * GRID + 11  # a*b* (+30, +30) and (0, 0)
    with torch.no_grad():
        net.ab_prior.zero_()
        net.ab_prior[orange], net.ab_prior[grey] = 0.75, 0.25
    report = classes.prior_report(net)
    assert np.allclose(report["prior_mean_ab"], [22.5, 22.5], atol=1e-6)
    assert (report["warm"], report["cool"], report["grey"]) == pytest.approx((0.75, 0.0, 0.25))
    assert np.allclose(report["divided_mean_ab"], [15.0, 15.0], atol=0.1), "divided, both bins weigh about the same"


def test_a_blend_mixes_the_regression_model_at_its_restraint_with_the_class_model(classes):
    class Constant(torch.nn.Module):
        def __init__(self, ab):
            super().__init__()
            self.ab = torch.tensor(ab).view(1, 2, 1, 1)

        def forward(self, x):
            return self.ab.expand(x.shape[0], 2, *x.shape[-2:])

    regression, class_model = Constant([0.4, -0.2]), Constant([0.1, 0.3])
    x = torch.zeros(2, 1, 8, 8)
    mix = {w: classes.Blend(regression, class_model, w)(x)[0, :, 0, 0] for w in (0.0, 0.5, 1.0)}
    assert torch.allclose(mix[0.0], torch.tensor([0.2, -0.1])), "the regression model at x0.5, as shipped"
    assert torch.allclose(mix[1.0], torch.tensor([0.1, 0.3]))
    assert torch.allclose(mix[0.5], torch.tensor([0.15, 0.1]))


def test_blends_on_the_held_out_sets_start_from_the_shipped_restraint(tmp_path, classes):
    from restraint import score

    from rehue.inference.colorizer import Colorizer
    from rehue.models.io import load_model
    from tests.conftest import make_tiny_model

    sets = classes.held_out_photos(held_out_demo(tmp_path / "demo"))
    regression_path = make_tiny_model(tmp_path / "regression.safetensors", size=128)
    net = coloured_classifier(classes)
    table = classes.blend_held_out(net, load_model(regression_path)[0].eval(), sets, [0.0, 0.5, 1.0], 1.0, 0.0)
    assert list(table) == list(sets) and all(list(row) == [0.0, 0.5, 1.0] for row in table.values())
    shipped = score({"x0.5": Colorizer.load(str(regression_path), device="cpu", chroma=0.5, ab_smoothing=1.5)}, sets)
    alone = score({"T1": classes.annealed_colorizer(net, 1.0, chroma=1.0, ab_smoothing=1.5)}, sets)
    for name, row in table.items():
        assert row[0.0][:2] == pytest.approx(shipped[name]["x0.5"], abs=1e-6)
        assert row[1.0][:2] == pytest.approx(alone[name]["T1"], abs=1e-6)
        assert row[0.5][:2] != pytest.approx(row[1.0][:2], abs=1e-3)
        assert all(0 <= row[w][3] <= len(sets[name]) for w in row)


def test_cross_validation_blends_each_fold_class_model_with_that_folds_regression_model(
        tmp_path, classes, monkeypatch, capsys):
    import out_of_fold

    from tests.conftest import make_tiny_model

    demo, _ = demo_set(tmp_path / "demo")
    class_model = make_tiny_model(tmp_path / "classes.safetensors", size=128, architecture="gen2-classes")
    regressions = [make_tiny_model(tmp_path / f"regression-{k}.safetensors", size=128, seed=k) for k in range(3)]
    monkeypatch.setattr(out_of_fold, "train_folds",
                        lambda folds, runs, tag="", extra=(): [class_model] * 3 if tag else regressions)
    blended = []
    original = classes.Blend.__init__

    def remember(self, regression, class_net, share, regression_chroma=0.5):
        blended.append((float(next(regression.parameters()).detach().sum()), share))
        original(self, regression, class_net, share, regression_chroma)

    monkeypatch.setattr(classes.Blend, "__init__", remember)
    classes.cross_validate(demo, tmp_path / "folds", tmp_path / "classes", steps=1, seed=0, temperatures=[1.0],
                           recipe=True, blend_shares=[1.0, 0.5])
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in table[1:]] == [
        "| shipped recipe", "| classes, T 1", "| classes, T 1, blend W 0.5 with the shipped recipe x0.5"]
    from rehue.models.io import load_model

    firsts = [float(next(load_model(path)[0].parameters()).detach().sum()) for path in regressions]
    assert blended == [(first, 0.5) for first in firsts], "fold K's class model with fold K's regression model"
