"""benchmarks/anchor.py (the dependent model anchored to the independent one) on tiny models and a made-up clip."""

import numpy as np
import pytest

from tests.helpers_benchmarks import load_benchmark
from tests.helpers_video import make_clip, textured_frames


@pytest.fixture
def anchor():
    return load_benchmark("anchor")


def test_anchor_zero_is_the_pair_and_one_is_the_independent_model_alone(anchor, tiny_model, tiny_dependent_model):
    from rehue.inference.colorizer import Colorizer

    frames = list(textured_frames(6, 40, 56, seed=3))
    independent = Colorizer.load(tiny_model, device="cpu", chroma=0.5)
    dependent = Colorizer.load(tiny_dependent_model, device="cpu")

    class Unused:
        def predict_ab(self, *args, **kwargs):
            raise AssertionError("anchor 1 never asks the dependent model")

    alone = anchor.anchored(frames, independent, Unused(), 1.0)
    pair = anchor.anchored(frames, independent, dependent, 0.0)
    half = anchor.anchored(frames, independent, dependent, 0.5)
    assert len(pair["psnr"]) == len(alone["psnr"]) == 6
    assert pair["psnr"][0] == alone["psnr"][0], "the first frame is the independent model's either way"
    assert not np.allclose(pair["psnr"][1:], alone["psnr"][1:]), "later frames follow the dependent model"
    assert not np.allclose(half["psnr"][1:], pair["psnr"][1:]), "a half anchor is neither"
    assert pair["stability"] >= 0 and pair["truth_stability"] >= 0


def test_main_scores_each_anchor_on_the_held_out_clips_and_the_pan(tmp_path, anchor, tiny_model,
                                                                    tiny_dependent_model, monkeypatch, capsys):
    from PIL import Image

    from rehue.evaluation.report import LABEL_HEIGHT
    from tests.conftest import textured_rgb

    demo = tmp_path / "demo"
    (demo / "videos").mkdir(parents=True)
    make_clip(demo / "videos" / "carphone_pristine.mp4", list(textured_frames(5, 48, 64)), fps=10)
    photo = tmp_path / "path.jpg"
    Image.fromarray(textured_rgb(120, 160, seed=1)).save(photo)
    monkeypatch.setattr("sys.argv", ["anchor.py", "--demo", str(demo), "--photo", str(photo), "--frames", "12",
                                     "--model", str(tiny_model), "--dependent-model", str(tiny_dependent_model),
                                     "--anchors", "0", "1", "--out", str(tmp_path / "plots")])
    anchor.main()
    assert sorted(path.name for path in (tmp_path / "plots").iterdir()) == [
        "carphone_pristine-frames.png", "carphone_pristine.png", "pan-over-path-frames.png", "pan-over-path.png"]
    with Image.open(tmp_path / "plots" / "pan-over-path-frames.png") as grid:
        assert grid.size == (4 * 160, LABEL_HEIGHT + 3 * 160), "gray, truth, A 0, A 1; first, middle, last frames"
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| carphone", "| pan"))]
    assert [row.split("|")[1:3] for row in rows] == [[" carphone_pristine.mp4 ", " 0 "],
                                                     [" carphone_pristine.mp4 ", " 1 "],
                                                     [" pan over path (12 frames) ", " 0 "],
                                                     [" pan over path (12 frames) ", " 1 "]]

    make_clip(demo / "videos" / "bunny.mp4", list(textured_frames(4, 48, 64, seed=2)), fps=10)
    monkeypatch.setattr("sys.argv", ["anchor.py", "--demo", str(demo), "--clips", "videos/bunny.mp4", "--photo",
                                     "--model", str(tiny_model), "--dependent-model", str(tiny_dependent_model),
                                     "--anchors", "0"])
    anchor.main()
    rows = [line.split("|")[1:3] for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert rows[1:] == [[" bunny.mp4 ", " 0 "]], "only the clips asked for, and no pan"


def faded_clip(tiny_model):
    """Nine frames, the independent model, and a dependent model whose colour is a tenth of its."""
    from rehue.inference.colorizer import Colorizer

    independent = Colorizer.load(tiny_model, device="cpu", chroma=0.5)

    class Fading:
        def predict_ab(self, small, previous, restrain=False):
            return independent.predict_ab(small, restrain=False) * 0.1

    return list(textured_frames(9, 40, 56, seed=4)), independent, Fading


def test_rekeying_restarts_from_the_independent_model_only_where_the_dependent_colour_has_faded(anchor, tiny_model):
    frames, independent, Fading = faded_clip(tiny_model)
    never = anchor.anchored(frames, independent, Fading(), 0.0, rekey=(4, 0.05))
    every_fourth = anchor.anchored(frames, independent, Fading(), 0.0, rekey=(4, 0.5))
    alone = anchor.anchored(frames, independent, Fading(), 1.0)
    assert never["rekeys"] == 0 and every_fourth["rekeys"] == 2, "frames 4 and 8 of 0-8"
    assert every_fourth["psnr"][4] == alone["psnr"][4] and every_fourth["psnr"][5] != alone["psnr"][5]


def test_easing_anchors_every_frame_from_the_first_faded_check_on(anchor, tiny_model):
    frames, independent, Fading = faded_clip(tiny_model)
    eased = anchor.anchored(frames, independent, Fading(), 0.0, ease=anchor.ease_setting("4:0.5:0.25"))
    pair = anchor.anchored(frames, independent, Fading(), 0.0)
    fixed = anchor.anchored(frames, independent, Fading(), 0.25)
    assert eased["rekeys"] == 5, "frames 4 to 8: the colour stays faded, so each is checked and eased"
    assert np.array_equal(eased["psnr"][:4], pair["psnr"][:4])
    assert np.array_equal(eased["psnr"][4:], fixed["psnr"][4:]), "an eased frame is anchored with A"


@pytest.mark.parametrize("text", ["8:0.7", "8:0.7:0", "8:0.7:1.5", "0:0.7:0.1", "a:b:c", "8:0.7:0.1:0",
                                  "8:0.7:0.1:0.9:1", "8:0.7:0.1:0.9:both:2",
                                  "8:0.7:0.1:0.9:g0", "8:0.7:0.1:0.9:gx", "8:0.7:0.1:0:both",
                                  "8:0.7:0.1:2:c0.5", "8:0.7:0.1:2:cx"])
def test_a_malformed_ease_setting_is_refused(anchor, text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="K:RATIO:A|A must be|OFF must be|C must be"):
        anchor.ease_setting(text)
    from rehue.video.pipeline import DriftCheck

    assert anchor.ease_setting("8:0.7:0.1").check == DriftCheck(8, 0.7, 0.1)
    assert anchor.ease_setting("8:0.7:0.25:0.9").check == DriftCheck(8, 0.7, 0.25, 0.9)
    with_ceiling = anchor.ease_setting("8:0.7:0.25:2:c1.5").check
    assert with_ceiling.drifted(np.full((2, 4, 4), 1.6), np.ones((2, 4, 4))) and with_ceiling.release == 2.0
    two_sided = anchor.ease_setting("8:0.7:0.25:0.9:both")
    assert two_sided.check.drifted(np.full((2, 4, 4), 2.0), np.ones((2, 4, 4))) and two_sided.give_up is None


def test_the_two_sided_check_also_takes_a_runaway_colour_for_drift(anchor):
    from rehue.video.pipeline import DriftCheck

    independent = np.full((2, 8, 8), 0.2, np.float32)
    two_sided = anchor.two_sided_check()(8, 0.7, 0.25, 0.9)
    one_sided = DriftCheck(8, 0.7, 0.25, 0.9)
    assert two_sided.drifted(1.5 * independent, independent) and not one_sided.drifted(1.5 * independent, independent)
    assert not two_sided.drifted(1.2 * independent, independent), "under 1/0.7 x: no drift to start"
    assert two_sided.drifted(1.2 * independent, independent, easing=True), "over 1/0.9 x: go on easing"
    assert two_sided.drifted(0.5 * independent, independent) and one_sided.drifted(0.5 * independent, independent)


def test_a_ceiling_also_eases_a_colour_that_runs_away_and_goes_on_as_for_a_faded_one(anchor):
    from rehue.video.pipeline import DriftCheck

    independent = np.full((2, 8, 8), 0.2, np.float32)
    check, plain = anchor.ceiling_check(1.25)(8, 0.7, 0.25, 2.0), DriftCheck(8, 0.7, 0.25, 2.0)
    assert check.drifted(1.3 * independent, independent) and not plain.drifted(1.3 * independent, independent)
    assert not check.drifted(1.2 * independent, independent), "under the ceiling: no drift to start"
    assert check.drifted(1.9 * independent, independent, easing=True), "easing goes on below the release, 2 x"
    assert not check.drifted(2.1 * independent, independent, easing=True), "as the shipped check's"
    assert check.drifted(0.5 * independent, independent), "a faded colour still starts easing"


def test_a_mean_shift_moves_the_mean_colour_and_keeps_the_dependent_models_detail(anchor):
    rng = np.random.default_rng(0)
    dependent = rng.normal(0, 0.1, (2, 8, 8)).astype(np.float32)
    independent = rng.normal(0.3, 0.2, (2, 8, 8)).astype(np.float32)
    check = anchor.ease_setting("8:0.7:0.5:2:m").check
    mixed = check.mix(dependent, independent)
    means = [ab.mean(axis=(1, 2)) for ab in (dependent, independent, mixed)]
    assert np.allclose(means[2], 0.5 * means[0] + 0.5 * means[1], atol=1e-6)
    assert np.allclose(mixed - means[2][:, None, None], dependent - means[0][:, None, None], atol=1e-6)
    assert check.release == 2.0 and check.drifted(0.5 * independent, independent)


def test_giving_up_colours_the_rest_of_the_clip_by_the_independent_model(anchor, tiny_model):
    from rehue.inference.colorizer import Colorizer

    frames = list(textured_frames(12, 40, 56, seed=4))
    independent = Colorizer.load(tiny_model, device="cpu", chroma=0.5)

    class Fading:
        def predict_ab(self, small, previous, restrain=False):
            return previous * 0.1

    gave_up = anchor.anchored(frames, independent, Fading(), 0.0, ease=anchor.ease_setting("4:0.5:0.25:0.9:g3"))
    alone = anchor.anchored(frames, independent, Fading(), 1.0)
    assert gave_up["rekeys"] == 3, "frames 4-6 eased, then no more checks"
    assert np.array_equal(gave_up["psnr"][7:], alone["psnr"][7:])
    assert not np.array_equal(gave_up["psnr"][4:7], alone["psnr"][4:7])
    assert anchor.ease_setting("8:0.7:0.25:0.9:g16").give_up == 16
