import json

import numpy as np
import pytest
from PIL import Image

from rehue.errors import RehueError
from rehue.evaluation.metrics import GRAY_BASELINE, MetricTable, evaluate_pair, gray_baseline
from rehue.evaluation.report import (
    LABEL_HEIGHT,
    PLOT_DPI,
    PLOT_SIZE_INCHES,
    clip_summary,
    lines_figure,
    plot_lines,
    sample_grid,
    write_report,
)
from tests.conftest import textured_rgb

RED = (255, 0, 0)


def _sample(height=48, width=64, seed=0):
    truth = textured_rgb(height, width, seed=seed)
    output = np.zeros_like(truth)
    output[...] = RED
    return gray_baseline(truth)[..., 0], truth, output


def test_sample_grid_size_labels_and_cells(tmp_path):
    rows = [_sample(seed=i) for i in range(3)]
    path = sample_grid(rows, tmp_path / "grid.png", cell=64)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (3 * 64, LABEL_HEIGHT + 3 * 64)
        pixels = np.asarray(image.convert("RGB"))
    labels = pixels[:LABEL_HEIGHT]
    assert (labels.min(axis=-1) < 100).sum() > 20  # text drawn on each title
    for column in range(3):
        assert (labels[:, column * 64 : (column + 1) * 64].min(axis=-1) < 100).any()
    assert tuple(pixels[LABEL_HEIGHT + 2 * 64 + 32, 2 * 64 + 32]) == RED
    gray_cell = pixels[LABEL_HEIGHT + 10 : LABEL_HEIGHT + 54, 10:54].astype(int)
    assert np.all(gray_cell[..., 0] == gray_cell[..., 1]) and gray_cell.std() > 5
    # a 64x48 image in a 64x64 cell is letterboxed: background above and below
    assert tuple(pixels[LABEL_HEIGHT + 2, 64 + 32]) == (255, 255, 255)
    assert list(tmp_path.iterdir()) == [path]


def test_a_row_label_too_long_for_its_column_keeps_its_end(tmp_path):
    """A cut sheet names each cut by its frame file; before, a long name was cut at both ends (its number
    lost) and ran off the sheet's edge."""
    from PIL import ImageFont

    from rehue.evaluation.report import LABEL_FONT_SIZE, ROW_LABEL_WIDTH, _fitted

    name = "Archive_Reel_0042_Kodak_scan_0000007.png"
    sample_grid([_sample()[:2]], tmp_path / "cuts.png", titles=("before", "after"), cell=64,
                row_labels=[f"cut 1\nframe 6\n{name}"])
    with Image.open(tmp_path / "cuts.png") as image:
        pixels = np.asarray(image.convert("L"))[LABEL_HEIGHT:, :ROW_LABEL_WIDTH]
    inked = np.flatnonzero((pixels < 128).any(axis=0))
    assert inked.min() >= 2 and inked.max() < ROW_LABEL_WIDTH - 2, "within its column"
    font = ImageFont.load_default(size=LABEL_FONT_SIZE)
    assert _fitted(name, font, 112).endswith("_0000007.png") and _fitted(name, font, 112).startswith("…")
    assert _fitted("frame 6", font, 112) == "frame 6"


def test_sample_grid_keeps_at_most_max_rows_and_custom_titles(tmp_path):
    rows = [_sample(16, 16, seed=i)[1:] for i in range(5)]
    path = sample_grid(rows, tmp_path / "sub" / "grid.png", titles=("Truth", "Output"), max_rows=2, cell=32)
    with Image.open(path) as image:
        assert image.size == (2 * 32, LABEL_HEIGHT + 2 * 32)


def test_sample_grid_refuses_bad_rows_and_unwritable_paths(tmp_path):
    with pytest.raises(RehueError, match="no samples"):
        sample_grid([], tmp_path / "grid.png")
    with pytest.raises(RehueError, match="2 images for 3 titles"):
        sample_grid([_sample()[:2]], tmp_path / "grid.png")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RehueError) as caught:
        sample_grid([_sample()], blocker / "grid.png")
    assert caught.value.path == str(blocker / "grid.png")


def test_plot_lines_writes_a_png(tmp_path):
    series = {"gen2": [12.0, 11.5, 11.7, 11.4], "gen4": [30.1, 29.0, 29.5]}
    path = plot_lines(series, tmp_path / "epochs.png", "epoch", "seconds", "Epoch duration")
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (round(PLOT_SIZE_INCHES[0] * PLOT_DPI), round(PLOT_SIZE_INCHES[1] * PLOT_DPI))
        assert np.asarray(image.convert("L")).std() > 10
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(("series", "first_x"), [({"gen1-disc1-2": [4.2]}, 1), ({"a": [3.0], "b": [2.0]}, 0),
                                                  ({"a": [3.0, 2.0, 2.5]}, 1)])
def test_the_x_axis_is_labelled_at_whole_steps_only(series, first_x):
    """Probe 197: a one-epoch search's epoch axis read 0.96, 0.98, 1.00, 1.02, 1.04."""
    axes = lines_figure(series, "epoch", "seconds", "Epoch duration", first_x).axes[0]
    low, high = axes.get_xlim()
    shown = [tick for tick in axes.get_xticks() if low <= tick <= high]
    assert first_x in shown and all(float(tick).is_integer() for tick in shown)
    steps = max(len(values) for values in series.values())
    assert all(first_x <= tick < first_x + steps for tick in shown), "no step that is not there"


def test_write_report_writes_json_markdown_and_samples(tmp_path):
    table = MetricTable()
    rows = []
    for seed in range(2):
        gray, truth, output = _sample(seed=seed)
        table.add("model", evaluate_pair(output, truth))
        table.add(GRAY_BASELINE, evaluate_pair(gray_baseline(truth), truth))
        rows.append((gray, truth, output))
    extra = {"model": "gen2", "temporal_stability": float("nan"), "seconds": np.float32(1.5)}
    paths = write_report(tmp_path / "report", table, rows, extra)

    assert set(paths) == {"json", "markdown", "samples", "gains"}
    written = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert written == ["gains.png", "metrics.json", "metrics.md", "samples.png"]
    with Image.open(paths["gains"]) as image:
        assert image.size == (round(PLOT_SIZE_INCHES[0] * PLOT_DPI), round(PLOT_SIZE_INCHES[1] * PLOT_DPI))
        assert np.asarray(image.convert("L")).std() > 10
    document = json.loads(paths["json"].read_text())
    assert document["rows"]["model"]["count"] == 2
    assert document["extra"] == {"model": "gen2", "temporal_stability": None, "seconds": 1.5}
    assert document["verdicts"]["model"]["beats_baseline"] is False  # solid red does not beat gray
    markdown = paths["markdown"].read_text()
    assert markdown.startswith("| Name | SSIM a | SSIM b | SSIM c | PSNR a | PSNR b | PSNR c |")
    assert "model does NOT beat the gray baseline" in markdown
    assert "- temporal_stability: None" in markdown
    with Image.open(paths["samples"]) as image:
        assert image.size == (3 * 128, LABEL_HEIGHT + 2 * 128)


def test_write_report_without_samples(tmp_path):
    table = MetricTable()
    table.add("model", evaluate_pair(*_sample()[1:]))
    paths = write_report(tmp_path, table, [])
    assert set(paths) == {"json", "markdown"}, "no gray row and no samples: no picture"
    assert not (tmp_path / "samples.png").exists() and not (tmp_path / "gains.png").exists()


def test_one_photo_beside_gray_has_no_interval_and_so_no_gains_picture(tmp_path):
    table = MetricTable()
    gray, truth, output = _sample()
    table.add("model", evaluate_pair(output, truth))
    table.add(GRAY_BASELINE, evaluate_pair(gray_baseline(truth), truth))
    assert "gains" not in write_report(tmp_path, table, [])
    table.add("model", evaluate_pair(output, truth))
    table.add(GRAY_BASELINE, evaluate_pair(gray_baseline(truth), truth))
    assert "gains" in write_report(tmp_path, table, []), "two photos give an interval"


def test_a_scored_clip_is_told_in_words_and_drawn_frame_by_frame(tmp_path):
    table = MetricTable()
    table.add("model", evaluate_pair(*_sample()[1:]))
    clip = {"model": "ind", "dependent_model": "dep", "frames": 3, "scene_starts": [2], "eased_against_drift": 1,
            "bars": None, "temporal_stability_output": 0.25, "temporal_stability_truth": float("nan"),
            "ab_error_by_frame": [4.0, 5.5, 7.25]}
    paths = write_report(tmp_path / "r", table, extra={"video a.mp4": clip, "images": 3})
    assert clip_summary(clip) == ("3 frames, 2 scenes, coloured by ind at scene starts, dep within scenes; 1 frame "
                                  "eased against drift; colour change from frame to frame 0.250 (the truth's -); "
                                  "a*b* error 4.00 at the first frame, 7.25 at the last, 5.58 on average")
    assert f"- video a.mp4: {clip_summary(clip)}" in paths["markdown"].read_text()
    assert json.loads(paths["json"].read_text())["extra"]["video a.mp4"]["ab_error_by_frame"] == [4.0, 5.5, 7.25]
    with Image.open(paths["drift"]) as image:
        assert np.asarray(image.convert("L")).std() > 10

    one_frame = {**clip, "frames": 1, "scene_starts": [], "ab_error_by_frame": [4.0]}
    assert "drift" not in write_report(tmp_path / "r1", table, extra={"video b.mp4": one_frame})


def test_a_series_of_one_value_is_drawn_as_a_point(tmp_path):
    """Before, a grid of one-epoch runs gave an epoch-duration plot with axes, a legend and nothing drawn."""
    from rehue.evaluation.report import plot_lines

    def coloured_pixels(series):
        pixels = np.asarray(Image.open(plot_lines(series, tmp_path / "p.png", "epoch", "s", "t")).convert("RGB"))
        pixels = pixels.astype(int)
        return int(np.count_nonzero(pixels.max(axis=2) - pixels.min(axis=2) > 60))

    empty = coloured_pixels({"a": []})  # axes and the legend's line only
    assert coloured_pixels({"a": [3.0]}) > empty + 20


def test_the_legends_lie_under_the_axes_not_over_the_lines(tmp_path, monkeypatch):
    """Probe 214: placed "best" among the lines, the legends of long names hid a clip's peak at its cut (drift.png)
    and the lowest gain with its interval (gains.png)."""
    from rehue.evaluation import report
    from rehue.evaluation.metrics import ImageMetrics

    long_names = ["rehue-gen2-128-independent + rehue-gen2-128-dependent",
                  "an_extremely_long_model_name_for_the_archive_fine_tune_reel_seven_v2"]
    peaked = [1.0] * 20 + [9.0] * 4 + [1.0] * 20
    figures = [lines_figure({name: peaked for name in long_names}, "frame", "error", "Colour error", 0)]
    table = MetricTable()
    for k, psnr in enumerate((20.0, 23.5, 22.0)):
        metrics = dict(ssim=0.9, ciede2000=4.0, colourfulness_output=20.0, colourfulness_truth=30.0,
                       warm_share_output=0.5, warm_share_truth=0.4)
        for name in long_names:
            table.add(name, ImageMetrics(psnr=psnr, **metrics), f"p{k}.png")
        table.add(GRAY_BASELINE, ImageMetrics(psnr=21.5, **metrics), f"p{k}.png")
    saved = report.save_figure
    monkeypatch.setattr(report, "save_figure", lambda figure, path: figures.append(figure) or saved(figure, path))
    assert report.gains_plot(table, tmp_path / "gains.png").exists()
    for figure in figures:
        renderer = figure.canvas.get_renderer()
        figure.draw(renderer)
        axes_box = figure.axes[0].get_window_extent(renderer)
        (legend,) = figure.legends
        legend_box = legend.get_window_extent(renderer)
        assert 0 <= legend_box.y0 and legend_box.y1 <= axes_box.y0, (legend_box, axes_box)
        assert [text.get_text() for text in legend.get_texts()] == long_names


def test_a_legend_of_many_runs_or_of_very_long_names_leaves_the_axes_their_size(recwarn):
    """Probe 216: 60 grid runs collapsed the axes (Matplotlib's warning twice, the legend over the title), 48
    squeezed them to 40 pixels; names of 150 characters were cut off at both edges of the figure."""
    import warnings

    warnings.simplefilter("always")
    few = lines_figure({"a": [1.0, 2.0]}, "epoch", "s", "t")
    for series in ({f"gen2-classes-global-bs{k}": [1.0, 2.0, 3.0] for k in range(60)},
                   {"x" * 150 + str(k): [1.0, 2.0] for k in range(3)}):
        figure = lines_figure(series, "epoch", "s", "t")
        renderer = figure.canvas.get_renderer()
        figure.draw(renderer)
        axes_box = figure.axes[0].get_window_extent(renderer)
        few.draw(few.canvas.get_renderer())
        assert axes_box.height >= 0.9 * few.axes[0].get_window_extent(few.canvas.get_renderer()).height
        legend_box = figure.legends[0].get_window_extent(renderer)
        assert 0 <= legend_box.x0 and legend_box.x1 <= figure.bbox.width and 0 <= legend_box.y0
        assert legend_box.y1 <= axes_box.y0
        assert all(len(text.get_text()) <= 70 for text in figure.legends[0].get_texts())
    assert not [str(w.message) for w in recwarn if "layout" in str(w.message)]


def test_the_gains_plot_counts_photos_in_whole_numbers(tmp_path, monkeypatch):
    """Probe 61: with two or three photos, the x axis of gains.png had ticks at 1.5 and 2.5."""
    from rehue.evaluation import report
    from rehue.evaluation.metrics import ImageMetrics

    table = MetricTable()
    for k, psnr in enumerate((21.0, 23.5, 22.0)):
        metrics = dict(ssim=0.9, ciede2000=4.0, colourfulness_output=20.0, colourfulness_truth=30.0,
                       warm_share_output=0.5, warm_share_truth=0.4)
        table.add("model", ImageMetrics(psnr=psnr, **metrics), f"p{k}.png")
        table.add(GRAY_BASELINE, ImageMetrics(psnr=21.5, **metrics), f"p{k}.png")
    drawn = []
    saved = report.save_figure
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.append(figure) or saved(figure, path))
    assert report.gains_plot(table, tmp_path / "gains.png").exists()
    axes = drawn[0].axes[0]
    low, high = axes.get_xlim()
    ticks = [tick for tick in axes.get_xticks() if low <= tick <= high]
    assert ticks and all(float(tick).is_integer() for tick in ticks), ticks


def test_a_home_folder_that_cannot_be_written_puts_no_matplotlib_lines_on_standard_error(tmp_path):
    """Stop 46: under a service account's HOME (/dev/null, /nonexistent) each plot came with matplotlib's
    two lines about the temporary cache folder it made instead."""
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith(("MPL", "XDG_"))}
    env["HOME"] = os.devnull
    script = ("import sys\nfrom rehue.evaluation.report import plot_lines\n"
              "plot_lines({'run': [3.0, 2.0]}, sys.argv[1], 'epoch', 'seconds', 'durations')\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "plot.png")], env=env, cwd=os.getcwd(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert Image.open(tmp_path / "plot.png").size[0] > 100


def test_a_clips_drift_beside_a_rivals_names_both_models(tmp_path, monkeypatch):
    """Probe 120: with --against, drift.png's legend named the rival's line "clip.mp4, rival" and the model's
    own "clip.mp4" alone."""
    from rehue.evaluation import report

    drawn = {}
    monkeypatch.setattr(report, "plot_lines", lambda series, path, *args, **kwargs: drawn.update(series) or path)
    stats = {"frames": 2, "ab_error_by_frame": [1.0, 2.0]}
    report.drift_plot({"video a.mp4": {**stats, "model": "mine"}, "video a.mp4, rehue (shipped)": {
        **stats, "model": "rehue-gen2"}, "video b.mp4": {**stats, "model": "mine"}}, tmp_path / "drift.png")
    assert list(drawn) == ["a.mp4, mine", "a.mp4, rehue (shipped)", "b.mp4"], "a clip without a rival as before"


def test_a_clip_scored_on_one_frame_draws_no_drift_and_a_lone_frame_is_a_dot(tmp_path, monkeypatch):
    """Probe 121: a clip all black but one frame drew an empty drift.png, and a clip scored on frames with
    gaps between them drew legend entries with no line."""
    from rehue.evaluation import report

    one = {"frames": 4, "model": "m", "ab_error_by_frame": [None, None, None, 3.0]}
    assert report.drift_plot({"video a.mp4": one}, tmp_path / "drift.png") is None
    assert not (tmp_path / "drift.png").exists()
    drawn = []
    import matplotlib.axes

    original = matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda self, *args, **kwargs: drawn.append(kwargs) or
                        original(self, *args, **kwargs))
    ends = {"frames": 5, "model": "m", "ab_error_by_frame": [1.0, None, None, 2.0, 2.5]}
    assert report.drift_plot({"video a.mp4": one, "video b.mp4": ends}, tmp_path / "drift.png") is not None
    assert [(kwargs["label"], kwargs["marker"], kwargs["markevery"]) for kwargs in drawn] == [("b.mp4", "o", [0])]


def test_a_legend_shows_a_name_with_dollars_or_a_leading_underscore_as_typed(tmp_path):
    """Probe 140: a model named ``m$\\frac{$`` ended evaluate in a traceback (Matplotlib read it as mathematics),
    ``cost $1 to $2.mp4`` came out in italics, and ``_clip.mp4`` was left out of the legend."""
    import warnings

    from rehue.evaluation.report import _legend_label

    assert _legend_label("cost $1 to $2.mp4") == r"cost \$1 to \$2.mp4"
    assert _legend_label("_clip.mp4") == " _clip.mp4" and _legend_label("a\nb") == "a\\nb"
    series = {"m$\\frac{$": [1.0, 2.0], "_clip.mp4": [2.0, 1.0], "cost $1 to $2.mp4": [1.0, 1.5]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = plot_lines(series, tmp_path / "drift.png", "frame", "drift", "Drift")
    with Image.open(path) as image:
        image.verify()


def test_a_tall_picture_in_a_grid_touches_neither_the_titles_nor_the_next_row(tmp_path):
    """Probe 184: a turned film's portrait frames on a cut sheet filled their cells' height, touching the column
    titles and the next cut's frames."""
    tall = textured_rgb(96, 32, seed=1)
    path = sample_grid([(tall, tall), (tall, tall)], tmp_path / "grid.png", titles=("a", "b"), cell=64)
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    for row in (LABEL_HEIGHT, LABEL_HEIGHT + 63, LABEL_HEIGHT + 64, LABEL_HEIGHT + 2 * 64 - 1):
        assert (pixels[row] == 255).all(), f"the background along row {row}"
    assert pixels[LABEL_HEIGHT + 2: LABEL_HEIGHT + 62, 24:40].std() > 5, "the picture within"


def test_ctrl_c_as_a_report_replaces_another_leaves_one_report_whole(tmp_path, monkeypatch):
    """Probe 188: Ctrl-C between two of its files' moves left this report's metrics beside the earlier one's
    pictures (its drift plot of a clip this report did not score), all looking like one report."""
    import os
    import shutil
    import signal

    table = MetricTable()
    table.add("model", evaluate_pair(*_sample()[1:]))
    clip = {"model": "ind", "dependent_model": "dep", "frames": 3, "scene_starts": [2], "eased_against_drift": 1,
            "bars": None, "temporal_stability_output": 0.25, "temporal_stability_truth": float("nan"),
            "ab_error_by_frame": [4.0, 5.5, 7.25]}
    earlier = write_report(tmp_path / "r", table, [_sample()], extra={"video a.mp4": clip})
    assert "drift" in earlier
    real_move, moved = shutil.move, []

    def move_then_ctrl_c(source, target):
        moved.append(target)
        if len(moved) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return real_move(source, target)

    monkeypatch.setattr(shutil, "move", move_then_ctrl_c)  # the report's own import of it
    with pytest.raises(KeyboardInterrupt):
        write_report(tmp_path / "r", table, [_sample(seed=1)], extra={"images": 1})
    assert len(moved) == 3 and not (tmp_path / "r" / "drift.png").exists(), "this report whole, the earlier one gone"
    assert "images" in json.loads((tmp_path / "r" / "metrics.json").read_text())["extra"]
