import json
import math

import numpy as np
import pytest
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from rehue.color.lab import lab_to_rgb, rgb_to_lab
from rehue.errors import RehueError
from rehue.evaluation.metrics import (
    GRAY_BASELINE,
    PSNR_CAP_DB,
    ImageMetrics,
    MetricTable,
    TemporalStability,
    ciede2000,
    colourfulness,
    evaluate_pair,
    gray_baseline,
    mean_interval,
    psnr,
    ssim,
    summarize,
    temporal_stability,
    warm_share,
)
from tests.conftest import textured_rgb


def _noisy_pair(shape, seed, spread=40):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 256, shape, dtype=np.uint8)
    noise = rng.integers(-spread, spread + 1, shape)
    return np.clip(truth.astype(np.int16) + noise, 0, 255).astype(np.uint8), truth


def _skimage_ssim(output, truth):
    """The reference our SSIM promises to equal, with the window shrunk the same way for tiny images."""
    radius = min(5, (min(truth.shape[:2]) - 1) // 2)
    return structural_similarity(output, truth, channel_axis=-1, data_range=255, gaussian_weights=True,
                                 sigma=1.5 * radius / 5, use_sample_covariance=False)


@pytest.mark.parametrize("shape", [(64, 48, 3), (37, 53, 3), (8, 8, 3), (5, 9, 3), (3, 3, 3)])
def test_psnr_and_ssim_agree_with_skimage(shape):
    output, truth = _noisy_pair(shape, seed=shape[0])
    reference = peak_signal_noise_ratio(truth, output, data_range=255)
    assert psnr(output, truth) == pytest.approx(reference, abs=1e-9)
    assert ssim(output, truth) == pytest.approx(_skimage_ssim(output, truth), abs=1e-4)


def test_ssim_agrees_with_skimage_on_a_photo_like_image():
    truth = textured_rgb(96, 128, seed=1)
    output = np.roll(truth, 2, axis=1)
    value = ssim(output, truth)
    assert 0.3 < value < 0.999
    assert value == pytest.approx(_skimage_ssim(output, truth), abs=1e-4)


def test_identical_images_score_perfectly():
    image = textured_rgb(40, 56, seed=2)
    assert psnr(image, image.copy()) == PSNR_CAP_DB
    assert ssim(image, image.copy()) == pytest.approx(1.0, abs=1e-6)
    assert ciede2000(image, image.copy()) == 0.0


def test_psnr_of_one_level_everywhere_is_below_the_cap():
    image = textured_rgb(16, 16)
    off_by_one = np.where(image < 255, image + 1, image - 1).astype(np.uint8)
    assert psnr(off_by_one, image) == pytest.approx(20 * math.log10(255), abs=1e-9)


def test_psnr_data_range_for_float_images():
    output, truth = _noisy_pair((20, 20, 3), seed=4)
    assert psnr(output / 255.0, truth / 255.0, data_range=1.0) == pytest.approx(psnr(output, truth), abs=1e-9)


def test_gray_baseline_of_a_gray_image_is_itself():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    gray = np.repeat(levels[..., None], 3, axis=-1)
    np.testing.assert_array_equal(gray_baseline(gray), gray)


def test_gray_baseline_keeps_lightness_drops_colour_and_scores_below_identity():
    truth = textured_rgb(48, 64, seed=5)
    baseline = gray_baseline(truth)
    assert baseline.shape == truth.shape and baseline.dtype == np.uint8
    baseline_lab, truth_lab = rgb_to_lab(baseline), rgb_to_lab(truth)
    assert np.abs(baseline_lab[..., 0] - truth_lab[..., 0]).max() < 0.5
    assert np.abs(baseline_lab[..., 1:]).max() < 0.5
    value = psnr(baseline, truth)
    assert math.isfinite(value) and value < PSNR_CAP_DB - 50
    assert ssim(baseline, truth) < 0.99
    assert ciede2000(baseline, truth) > 5


def test_colourfulness_zero_for_gray_and_high_for_saturated():
    gray = np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], 3, axis=-1).repeat(8, axis=0)
    assert colourfulness(gray) == 0.0
    primaries = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], dtype=np.uint8)
    saturated = np.repeat(primaries, 16, axis=0)[None].repeat(8, axis=0)
    assert colourfulness(saturated) > 109  # "extremely colourful" on Hasler and Suesstrunk's scale
    muted = ((saturated.astype(np.float32) + 2 * 128) / 3).astype(np.uint8)
    assert 0 < colourfulness(muted) < colourfulness(saturated) / 2


def test_colourfulness_formula_on_a_two_colour_image():
    image = np.zeros((2, 2, 3), dtype=np.uint8)
    image[0] = (200, 0, 0)  # rg = 200, yb = 100
    # rg: mean 100, std 100; yb: mean 50, std 50
    assert colourfulness(image) == pytest.approx(math.hypot(100, 50) * 1.3)


def test_ciede2000_matches_skimage():
    output, truth = _noisy_pair((24, 32, 3), seed=6, spread=30)
    reference = deltaE_ciede2000(rgb2lab(output), rgb2lab(truth)).mean()
    assert ciede2000(output, truth) == pytest.approx(reference, abs=0.02)


def test_mismatched_or_malformed_inputs_are_refused():
    image = textured_rgb(16, 16)
    with pytest.raises(RehueError, match="16x16 but ground truth is 16x8"):
        psnr(image, image[:8])
    with pytest.raises(RehueError, match="shape"):
        ssim(image[..., 0], image[..., 0])
    with pytest.raises(RehueError, match="at least 3"):
        ssim(image[:2], image[:2])
    with pytest.raises(RehueError) as caught:
        evaluate_pair(image, image[:, :8], path="out/a.png")
    assert caught.value.path == "out/a.png"


def test_evaluate_pair_collects_every_metric():
    output, truth = textured_rgb(32, 40, seed=7), textured_rgb(32, 40, seed=8)
    metrics = evaluate_pair(output, truth)
    assert metrics == ImageMetrics(psnr(output, truth), ssim(output, truth), ciede2000(output, truth),
                                   colourfulness(output), colourfulness(truth), warm_share(output),
                                   warm_share(truth))


def flat_lab(lightness, a, b, shape=(16, 16)):
    lab = np.broadcast_to(np.array([lightness, a, b], np.float32), (*shape, 3)).copy()
    return np.round(lab_to_rgb(lab) * 255).astype(np.uint8)


def test_warm_share_is_the_share_of_the_colour_in_red_orange_and_yellow():
    orange, blue = flat_lab(60, 15, 30), flat_lab(60, -5, -30)
    assert warm_share(orange) == pytest.approx(1.0) and warm_share(blue) == pytest.approx(0.0)
    half = np.concatenate([orange, blue], axis=1)
    chroma_orange, chroma_blue = np.hypot(15, 30), np.hypot(5, 30)
    assert warm_share(half) == pytest.approx(chroma_orange / (chroma_orange + chroma_blue), abs=0.02)
    assert warm_share(flat_lab(60, 0, 0)) is None, "a gray image has no colour to share out"
    assert warm_share(flat_lab(60, 0.5, 1.0)) is None, "nor has a faint one under CAST_MIN_CHROMA"


# ----------------------------------------------------------------------------- temporal stability


def _panning_frames(shift=(2, 3), seed=3):
    """Two views of one textured scene, the second moved by ``shift`` (rows, columns) pixels."""
    scene = textured_rgb(104, 136, seed=seed)
    dy, dx = shift
    return scene[4:100, 4:132], scene[4 + dy : 100 + dy, 4 + dx : 132 + dx]


def _recoloured(rgb, da=12.0, db=-8.0):
    lab = rgb_to_lab(rgb)
    lab[..., 1] += da
    lab[..., 2] += db
    return np.round(lab_to_rgb(lab) * 255).astype(np.uint8)


def test_temporal_stability_compensates_motion_and_sees_colour_change():
    previous, current = _panning_frames()
    ab_difference = rgb_to_lab(previous)[..., 1:] - rgb_to_lab(current)[..., 1:]
    uncompensated = np.linalg.norm(ab_difference, axis=-1).mean()
    steady = temporal_stability(previous, current)
    flickering = temporal_stability(previous, _recoloured(current))
    assert temporal_stability(previous, previous) == 0.0
    assert uncompensated > 5
    assert steady < 1.0
    assert flickering > 8 * steady and flickering > 8


def test_temporal_stability_accumulator_matches_the_function_and_resets():
    previous, current = _panning_frames()
    stability = TemporalStability()
    assert stability.update(previous) is None
    assert math.isnan(stability.mean())
    first = stability.update(current)
    assert first == pytest.approx(temporal_stability(previous, current))
    second = stability.update(_recoloured(previous))
    assert second > 8
    stability.reset()
    assert stability.update(previous) is None
    assert stability.values == [first, second]
    assert stability.mean() == pytest.approx((first + second) / 2)
    with pytest.raises(RehueError, match="frame size changed"):
        stability.update(previous[:64])


# ----------------------------------------------------------------------------------------- tables


def test_summarize():
    assert summarize([3.0, 1.0, 2.0]) == {"min": 1.0, "max": 3.0, "mean": 2.0}
    assert summarize([3.0, None, 1.0]) == {"min": 1.0, "max": 3.0, "mean": 2.0}, "undefined values are left out"
    assert summarize([None, None]) == {"min": None, "max": None, "mean": None}
    with pytest.raises(RehueError):
        summarize([])


def _metrics(psnr_value, ssim_value, warm_output=0.5, warm_truth=0.4):
    return ImageMetrics(psnr=psnr_value, ssim=ssim_value, ciede2000=4.0, colourfulness_output=20.0,
                        colourfulness_truth=30.0, warm_share_output=warm_output, warm_share_truth=warm_truth)


def _table(model_rows, baseline_rows):
    table = MetricTable()
    for name, rows in (("model", model_rows), (GRAY_BASELINE, baseline_rows)):
        for psnr_value, ssim_value in rows:
            table.add(name, _metrics(psnr_value, ssim_value))
    return table


def test_markdown_table_has_the_thesis_columns_and_min_max_mean_in_place():
    table = _table([(20.0, 0.80), (30.0, 0.90), (25.0, 0.60)], [(22.0, 0.75), (24.0, 0.85)])
    lines = table.to_markdown().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:7] == ["Name", "SSIM a", "SSIM b", "SSIM c", "PSNR a", "PSNR b", "PSNR c"]
    assert header[7:] == ["CIEDE2000 c", "Colourfulness output c", "Colourfulness truth c", "Warm share output c",
                          "Warm share truth c", "Images"]
    assert set(lines[1].strip("|").split("|")) == {"---"}
    model = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert model[:7] == ["model", "0.6000", "0.9000", "0.7667", "20.00", "30.00", "25.00"]
    assert model[7:] == ["4.00", "20.0", "30.0", "0.50", "0.40", "3"]
    baseline = [cell.strip() for cell in lines[3].strip("|").split("|")]
    assert baseline[:7] == [GRAY_BASELINE, "0.7500", "0.8500", "0.8000", "22.00", "24.00", "23.00"]
    assert "- model does NOT beat the gray baseline on SSIM" in table.to_markdown()


def test_cast_lines_count_outputs_that_are_nearly_all_warm():
    table = MetricTable()
    for output, truth in ((0.95, 0.2), (0.92, 0.95), (0.3, None), (None, 0.5)):
        table.add("model", _metrics(25.0, 0.9, output, truth))
        table.add(GRAY_BASELINE, _metrics(24.0, 0.9, None, truth))
    assert table.cast_lines() == [
        "model: 72% of its colour is warm (red, orange, yellow) on average, the truth's 55%; 2 of 3 coloured "
        "outputs are at least 90% warm, against 1 of the truths (a uniform sepia cast would make nearly all of "
        "them so)."]
    markdown = table.to_markdown()
    assert "- model: 72% of its colour is warm" in markdown
    assert markdown.splitlines()[3].split("|")[-4:-2] == [" - ", " 0.55 "], "gray has no warm share"


def test_verdicts_for_a_model_that_beats_gray_and_one_that_does_not():
    winner = _table([(26.0, 0.9)], [(23.0, 0.8)])
    assert "- model beats the gray baseline on PSNR and SSIM (PSNR 26.00 vs 23.00 dB" in winner.to_markdown()
    assert winner.to_dict()["verdicts"]["model"] == {"beats_psnr": True, "beats_ssim": True,
                                                     "beats_baseline": True, "psnr_ahead_images": 1,
                                                     "psnr_gain_median_db": 3.0, "units": 1, "confidence": 0.95,
                                                     "psnr_gain_interval_db": None, "psnr_standing": None,
                                                     "ssim_gain_interval": None, "ssim_standing": None}
    assert "95% confidence interval" not in winner.to_markdown(), "one image gives no interval"
    assert "- model: no confidence interval of its gain over the gray baseline, from one photo or clip" in \
        winner.to_markdown(), "and says so"
    loser = _table([(21.0, 0.7)], [(23.0, 0.8)])
    assert "- model does NOT beat the gray baseline on PSNR and SSIM" in loser.to_markdown()
    assert loser.to_dict()["verdicts"]["model"]["beats_baseline"] is False
    alone = MetricTable()
    alone.add("model", _metrics(26.0, 0.9))
    assert "No gray baseline row" in alone.to_markdown()
    assert alone.to_dict()["verdicts"] == {}


def test_table_dict_holds_every_number_and_is_json():
    table = _table([(20.0, 0.8), (30.0, 0.9)], [(22.0, 0.75)])
    document = json.loads(json.dumps(table.to_dict(), allow_nan=False))
    model = document["rows"]["model"]
    assert model["count"] == 2
    assert model["summary"]["psnr"] == {"min": 20.0, "max": 30.0, "mean": 25.0}
    assert [image["ssim"] for image in model["images"]] == [0.8, 0.9]
    assert document["baseline"] == GRAY_BASELINE and document["psnr_cap_db"] == PSNR_CAP_DB


def test_verdict_counts_the_images_ahead_when_one_image_sinks_the_mean():
    # three photos coloured a little better than gray, one near-neutral photo (gray 40 dB) tinted wrongly
    table = _table([(21.0, 0.8), (22.5, 0.8), (20.5, 0.8), (28.0, 0.8)],
                   [(20.0, 0.8), (22.0, 0.8), (20.0, 0.8), (40.0, 0.8)])
    verdict = table.verdicts()[0]
    assert not verdict.beats_psnr
    assert verdict.images_ahead == 3 and verdict.median_psnr_gain == pytest.approx(0.5)
    assert "higher PSNR on 3 of 4 images, median +0.50 dB" in table.to_markdown()
    assert table.to_dict()["verdicts"]["model"]["psnr_ahead_images"] == 3


def test_rows_of_different_lengths_get_no_per_image_comparison():
    verdict = _table([(20.0, 0.8), (30.0, 0.9), (25.0, 0.6)], [(22.0, 0.75), (24.0, 0.85)]).verdicts()[0]
    assert verdict.psnr_gains == () and verdict.median_psnr_gain is None
    assert "higher PSNR on" not in verdict.sentence(GRAY_BASELINE)


def test_mean_interval_is_students_t_interval_of_the_mean():
    low, high = mean_interval([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, sample standard deviation 1.2910, t(0.975, 3 degrees of freedom) = 3.18245
    assert (low, high) == (pytest.approx(2.5 - 2.05426, abs=1e-4), pytest.approx(2.5 + 2.05426, abs=1e-4))
    assert mean_interval([5.0, 5.0, 5.0]) == (5.0, 5.0)
    assert mean_interval([5.0]) is None and mean_interval([]) is None
    assert mean_interval([1.0, 2.0, 3.0, 4.0], confidence=0.5)[1] < high


def test_a_steady_gain_is_clearly_above_gray_and_a_mean_held_up_by_one_photo_is_level():
    steady = _table([(21.0, 0.81), (22.6, 0.80), (20.4, 0.82), (24.5, 0.91)],
                    [(20.0, 0.80), (22.0, 0.79), (19.5, 0.80), (24.0, 0.90)]).verdicts()[0]
    assert steady.units == 4 and steady.psnr_standing == "clearly above" and steady.ssim_standing == "clearly above"
    assert steady.psnr_interval[0] > 0
    # ahead on average only because of one photo, behind on the other three
    lucky = _table([(19.8, 0.80), (21.9, 0.78), (19.2, 0.80), (30.0, 0.80)],
                   [(20.0, 0.80), (22.0, 0.79), (19.5, 0.80), (24.0, 0.82)])
    verdict = lucky.verdicts()[0]
    assert verdict.beats_psnr and verdict.psnr_standing == "level"
    assert verdict.psnr_interval[0] < 0 < verdict.psnr_interval[1]
    assert verdict.ssim_standing == "level"
    markdown = lucky.to_markdown()
    assert "- model, 95% confidence intervals of the mean gain over 4 photos or clips" in markdown
    assert "PSNR -" in markdown and "dB: level with the gray baseline" in markdown
    losing = _table([(19.0, 0.7), (20.0, 0.7), (21.5, 0.7)], [(20.0, 0.8), (21.0, 0.8), (22.0, 0.8)]).verdicts()[0]
    assert losing.psnr_standing == "clearly below" and losing.ssim_standing == "clearly below"


def test_a_clips_frames_count_as_one_unit_of_the_interval():
    table = MetricTable()
    for frame in range(30):  # a clip scored frame by frame, every frame 1 dB ahead
        table.add("model", _metrics(25.0 + frame % 3, 0.9), source="clip.mp4")
        table.add(GRAY_BASELINE, _metrics(24.0 + frame % 3, 0.9), source="clip.mp4")
    for name, photo in (("model", (21.0, 0.8)), (GRAY_BASELINE, (23.0, 0.8))):
        table.add(name, _metrics(*photo), source="photo.jpg")
    verdict = table.verdicts()[0]
    assert verdict.units == 2 and len(verdict.psnr_gains) == 31
    assert verdict.psnr_interval == pytest.approx(mean_interval([1.0, -2.0]))
    assert verdict.psnr_standing == "level", "30 frames of one clip are not 30 independent photos"
    images = table.to_dict()["rows"]["model"]["images"]
    assert images[0]["source"] == "clip.mp4" and images[-1]["source"] == "photo.jpg"
    unnamed = _table([(20.0, 0.8)], [(21.0, 0.8)]).to_dict()["rows"]["model"]["images"][0]
    assert "source" not in unnamed


def test_rows_of_other_images_get_no_interval():
    table = MetricTable()
    for source in ("a.jpg", "b.jpg"):
        table.add("model", _metrics(25.0, 0.9), source=source)
    for source in ("a.jpg", "c.jpg"):
        table.add(GRAY_BASELINE, _metrics(24.0, 0.9), source=source)
    verdict = table.verdicts()[0]
    assert verdict.psnr_gains == () and verdict.psnr_interval is None and verdict.units == 0


def test_an_interval_from_two_clips_cannot_tell_and_a_tiny_clear_difference_says_how_small():
    """Before, two clips' interval of -101 to +83 dB read "level with the gray baseline", and an interval
    printed as +0.00 to +0.00 dB read "clearly above"."""
    from rehue.evaluation.metrics import interval_words

    assert interval_words("PSNR", (-101.2, 83.39), 2, " dB", "gray", units=2) == \
        "PSNR -101.20 to +83.39 dB: too few photos or clips (2) to tell it from gray"
    assert interval_words("PSNR", (-0.5, 0.8), 2, " dB", "gray", units=23) == "PSNR -0.50 to +0.80 dB: level with gray"
    assert interval_words("PSNR", (0.0001, 0.003), 2, " dB", "run b", units=300) == \
        "PSNR +0.00 to +0.00 dB: clearly above run b, by less than 0.005 dB"
    assert interval_words("PSNR", (0.2, 0.9), 2, " dB", "gray", units=2) == "PSNR +0.20 to +0.90 dB: clearly above gray"


def test_metrics_in_bands_of_rows_are_the_whole_images(monkeypatch):
    """Probe 28: `evaluate --full-res` took over 8 GB on one 50 MP photo (CIEDE2000 and SSIM made dozens of
    float planes of the image's size); now each metric works on bands of rows, with the same result."""
    from rehue.evaluation import metrics

    rng = np.random.default_rng(3)
    truth = textured_rgb(97, 131, seed=4)
    output = np.clip(truth.astype(int) + rng.integers(-25, 25, truth.shape), 0, 255).astype(np.uint8)
    whole = metrics.evaluate_pair(output, truth)
    monkeypatch.setattr(metrics, "BAND_PIXELS", 131 * 7)  # bands of 7 rows, the last one shorter
    banded = metrics.evaluate_pair(output, truth)
    for name, value in whole.__dict__.items():
        assert getattr(banded, name) == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_a_clear_difference_from_units_that_gain_exactly_alike_says_so():
    """Probe 71: two clips of the same frames (a re-encode, a copy in another format) gave "PSNR -0.19 to -0.19
    dB: clearly below", an interval of no width read as certainty."""
    from rehue.evaluation.metrics import interval_words, mean_interval

    said = interval_words("PSNR", mean_interval([-0.19, -0.19]), 2, " dB", "the gray baseline", 2)
    assert said == ("PSNR -0.19 to -0.19 dB: clearly below the gray baseline, though its 2 photos or clips gain "
                    "exactly alike, as copies of one picture would")
    ssim = interval_words("SSIM", mean_interval([-0.022819] * 3), 4, "", "B", 3)  # probe 72: rounding
    assert mean_interval([-0.022819] * 3)[0] != mean_interval([-0.022819] * 3)[1]
    assert ssim.endswith("clearly below B, though its 3 photos or clips gain exactly alike, as copies of one picture "
                         "would"), ssim
    tiny = interval_words("SSIM", mean_interval([0.00002] * 3), 4, "", "B", 3)  # probe 73: the clause was lost
    assert tiny.endswith("clearly above B, by less than 5e-05, though its 3 photos or clips gain exactly alike, as "
                         "copies of one picture would"), tiny
    assert interval_words("PSNR", mean_interval([0.0, 0.0]), 2, " dB", "B", 2).endswith("level with B"), \
        "a model against itself is level, as before"


def test_a_thin_frames_colour_change_is_measured_without_a_crash():
    """Probe 121: a ticker's 1280x48 clip, scored at 256x10, crashed the process in OpenCV's optical flow (a
    segmentation fault); checked in a process of its own, which the crash would end. Its edges are repeated out
    to the flow's 32 px (probe 123: a NaN, the first mend, lost the measure of 64x16 to 64x31 clips)."""
    import subprocess
    import sys

    script = ("import math, numpy as np\n"
              "from rehue.evaluation.metrics import TemporalStability\n"
              "stability = TemporalStability()\n"
              "rows, cols = np.mgrid[0:10, 0:260]\n"
              "film = np.stack([128 + 60 * np.sin(cols / 7.0), 128 + 60 * np.cos(rows / 3.0 + cols / 11.0),\n"
              "                 np.full(rows.shape, 120.0)], -1).astype(np.uint8)\n"
              "assert stability.update(film[:, :256]) is None\n"
              "print('measured', math.isfinite(stability.update(film[:, 2:258])))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "measured True", (done.returncode, done.stderr[-500:])


def test_a_name_holding_a_bar_or_a_newline_keeps_its_row_and_column_in_the_markdown_table():
    """Probe 140: a model named ``run|a`` gained a column in metrics.md, and a newline split its row."""
    table = MetricTable()
    for name in ("run|a/model", "two\nlines"):
        table.add(name, _metrics(20.0, 0.8))
    lines = table.to_markdown().splitlines()
    assert lines[2].startswith("| run\\|a/model | ") and lines[3].startswith("| two\\nlines | ")
    columns = len(lines[0].split(" | "))
    assert [len(line.replace("\\|", "").split(" | ")) for line in lines[2:4]] == [columns, columns]


def test_the_verdict_says_the_mean_gain_with_each_clip_counted_once_where_clips_are_scored():
    """Probe 143: a clip's 30 frames outweighed 5 photos, so the report said the model "beats" gray (PSNR 10.72 vs
    10.68 dB) beside an interval of -0.53 to +0.14 dB and a plot of the mean gain per photo or clip at -0.20."""
    table = MetricTable()
    for index in range(4):  # photos: the model 1 dB below gray on each
        table.add("model", _metrics(20.0 + index, 0.8), f"p{index}.png")
        table.add(GRAY_BASELINE, _metrics(21.0 + index + 0.1 * index, 0.8), f"p{index}.png")
    for frame in range(20):  # one clip's frames: the model 0.5 dB above gray
        table.add("model", _metrics(25.5 + 0.01 * frame, 0.8), "clip.mp4")
        table.add(GRAY_BASELINE, _metrics(25.0 + 0.01 * frame, 0.8), "clip.mp4")
    verdict = table.verdicts()[0]
    assert verdict.beats_psnr and verdict.units == 5
    unit_mean = np.mean([-1.0, -1.1, -1.2, -1.3, 0.5])
    assert f"a mean PSNR gain of {unit_mean:+.2f} dB over 5 photos or clips" in verdict.sentence("gray baseline")
    photos_only = _table([(20.0, 0.8), (22.0, 0.8)], [(21.0, 0.8), (21.5, 0.8)]).verdicts()[0]
    assert "counted once" not in photos_only.sentence("gray baseline")
