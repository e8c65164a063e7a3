"""Evaluation outputs on disk: a sample grid (gray | truth | output), line plots, and the metric report.

Every file is written to a temporary name beside its target and renamed into place, so an interrupted
run never leaves half a PNG or JSON file behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rehue import __version__
from rehue.data.images import temp_path_for
from rehue.errors import RehueError, bytes_escaped, one_line
from rehue.evaluation.metrics import MetricTable, unit_means
from rehue.words import counted

# the Software tag of every picture a report draws: rehue's training and scoring pass over them, as over
# pictures it coloured (``rehue.data.images.coloured_by_rehue``), should a report folder end up among photos
REPORT_SOFTWARE = f"rehue {__version__}, a report's picture (sample grid or plot), not a photograph"
LABEL_HEIGHT = 22
LABEL_FONT_SIZE = 14
ROW_LABEL_WIDTH = 120
LABEL_MARGIN = 4  # pixels between a row's label and the picture beside it, or the edge
GRID_BACKGROUND = (255, 255, 255)
CELL_MARGIN = 2  # background pixels at least around each picture of a grid, so that two never touch
LABEL_COLOUR = (0, 0, 0)
PLOT_SIZE_INCHES = (7.0, 4.0)
PLOT_DPI = 120

REPORT_JSON = "metrics.json"
REPORT_MARKDOWN = "metrics.md"
REPORT_SAMPLES = "samples.png"
REPORT_GAINS = "gains.png"
REPORT_DRIFT = "drift.png"
REPORT_FILES = (REPORT_JSON, REPORT_MARKDOWN, REPORT_SAMPLES, REPORT_GAINS, REPORT_DRIFT)


def earlier_report(out_dir: str | Path) -> list[str]:
    """The names of the report files already in ``out_dir`` (none when it does not exist)."""
    return [name for name in REPORT_FILES if (Path(out_dir) / name).exists()]


def half_moved_report(out_dir: str | Path) -> Path | None:
    """The staging folder a run killed as it moved its report into ``out_dir`` left (`write_report`: metrics.json
    moves first), which leaves the folder's report part that run's, part an earlier one's (probe 189: a rerun
    removed the rest without a word); None where no killed run left one so."""
    from rehue.data.images import stale_staging_folders

    out_dir = Path(out_dir)
    for staging in stale_staging_folders(out_dir / "report") + stale_staging_folders(out_dir):
        names = {entry.name for entry in staging.iterdir()} if staging.is_dir() else set()
        if names & set(REPORT_FILES) and REPORT_JSON not in names:
            return staging
    return None


def written_by_a_report(path: Path, tagged: bool = False) -> bool:
    """Whether a file named as a report's (metrics.md, metrics.json, samples.png, ...) may be rehue's: a user's
    own notes of that name are not an earlier report for --overwrite to replace (probe 113). Lenient, as an
    earlier report's files may have been re-saved, or cut short by a crash (probe 114): a picture is a report's
    unless another program's tag is on it (with ``tagged``, only with rehue's), a table or JSON where it holds
    one of a report's marks."""
    try:
        if path.suffix == ".png":
            from PIL import Image

            with Image.open(path) as picture:  # rehue's before December 2026 were untagged, or Matplotlib's
                software = str(picture.info.get("Software", ""))
            return software.startswith("rehue ") or not tagged and (not software or software.startswith("Matplotlib"))
        text = path.read_text(encoding="utf-8-sig")
        if path.name == REPORT_MARKDOWN:
            return not text.strip() or "| Name |" in text
        found = json.loads(text)
        return isinstance(found, dict) and "rows" in found
    except (OSError, UnicodeDecodeError, ValueError):
        return path.suffix == ".png" and not tagged  # a picture cut short: no one's to keep


def _write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(temporary_path)`` and rename the result onto ``path`` (parents are created)."""
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise RehueError(f"cannot write ({exc.strerror or exc})", path) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return path


def _text_writer(text: str) -> Callable[[Path], None]:
    """Writes ``text`` as UTF-8; a file name that is not UTF-8 (its bytes held as surrogates) as escapes."""
    return lambda path: path.write_text(bytes_escaped(text), encoding="utf-8")


def _fit_into_cell(image: np.ndarray, cell: int):
    """The image scaled to fit a ``cell`` x ``cell`` square (aspect kept) within ``CELL_MARGIN`` of its edges,
    centred on the background: a portrait frame filled its cell's height, touching the titles above and the next
    row's frames below (probe 184)."""
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    scale = max(1, cell - 2 * CELL_MARGIN) / max(picture.width, picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    picture = picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    square = Image.new("RGB", (cell, cell), GRID_BACKGROUND)
    square.paste(picture, ((cell - size[0]) // 2, (cell - size[1]) // 2))
    return square


def _fitted(line: str, font, width: float) -> str:
    """``line`` cut at its start to ``width`` pixels, with an ellipsis: a frame file's number, at the end of
    its name, is what tells the frames apart (before, a long name was cut at both ends)."""
    if font.getlength(line) <= width:
        return line
    while line and font.getlength("…" + line) > width:
        line = line[1:]
    return "…" + line


def save_figure(figure, path: str | Path) -> Path:
    metadata = {"Software": REPORT_SOFTWARE}
    return _write_atomically(path, lambda tmp: figure.savefig(tmp, format="png", metadata=metadata))


def sample_grid(rows: Sequence[Sequence[np.ndarray | None]], path: str | Path,
                titles: Sequence[str] = ("Gray", "Ground truth", "Output"), max_rows: int = 8,
                cell: int = 128, row_labels: Sequence[str] | None = None) -> Path:
    """A PNG grid like the thesis' fig. 4.9: one example per row, one column per title, labels on top.

    Each row holds one image per title (uint8 RGB (H, W, 3) or gray (H, W), or None for an empty cell);
    every image is scaled to fit a ``cell`` x ``cell`` square. The PNG is ``len(titles) * cell`` wide
    (plus ``ROW_LABEL_WIDTH`` with ``row_labels``, one per row, on the left) and
    ``LABEL_HEIGHT + min(len(rows), max_rows) * cell`` high.
    """
    from PIL import Image, ImageDraw, ImageFont
    from PIL.PngImagePlugin import PngInfo

    rows = list(rows)[:max_rows]
    if not rows:
        raise RehueError("no samples to draw", path)
    for index, row in enumerate(rows):
        if len(row) != len(titles):
            raise RehueError(f"sample {index} has {len(row)} images for {len(titles)} titles", path)

    left = ROW_LABEL_WIDTH if row_labels is not None else 0
    grid = Image.new("RGB", (left + len(titles) * cell, LABEL_HEIGHT + len(rows) * cell), GRID_BACKGROUND)
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=LABEL_FONT_SIZE)
    for column, title in enumerate(titles):  # a model's name, too long for its column, keeps its end
        centre = (left + column * cell + cell / 2, LABEL_HEIGHT / 2)
        draw.text(centre, _fitted(title, font, cell - 2 * LABEL_MARGIN), fill=LABEL_COLOUR, font=font, anchor="mm")
    for row_index, row in enumerate(rows):
        top = LABEL_HEIGHT + row_index * cell
        if row_labels is not None:
            lines = row_labels[row_index].split("\n")
            label = "\n".join(_fitted(line, font, left - 2 * LABEL_MARGIN) for line in lines)
            draw.multiline_text((left / 2, top + cell / 2), label, fill=LABEL_COLOUR, font=font, anchor="mm",
                                align="center")
        for column, image in enumerate(row):
            if image is not None:
                grid.paste(_fit_into_cell(image, cell), (left + column * cell, top))
    text = PngInfo()
    text.add_text("Software", REPORT_SOFTWARE)
    return _write_atomically(path, lambda tmp: grid.save(tmp, format="PNG", pnginfo=text))


def matplotlib_parts():
    """(Figure, FigureCanvasAgg, MaxNLocator), imported with matplotlib's logger quiet below errors: where the
    home folder cannot be written (a service account's /nonexistent or /dev/null) it said so in two lines,
    on every command that draws a plot, as it made a temporary cache folder of its own in its place."""
    import logging

    logger = logging.getLogger("matplotlib")
    level = logger.level
    if level < logging.ERROR:
        logger.setLevel(logging.ERROR)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    finally:
        logger.setLevel(level)
    return Figure, FigureCanvasAgg, MaxNLocator


def plot_lines(series: dict[str, Sequence[float]], path: str | Path, xlabel: str, ylabel: str, title: str,
               first_x: int = 1) -> Path:
    """One line per named series against its index (``first_x``, ``first_x + 1``, ...), saved as PNG.

    For epoch durations per run (thesis fig. 5.5), losses or colour drift over frames.
    """
    if not series:
        raise RehueError("nothing to plot", path)
    return save_figure(lines_figure(series, xlabel, ylabel, title, first_x), path)


def lines_figure(series: dict[str, Sequence[float]], xlabel: str, ylabel: str, title: str, first_x: int = 1):
    """The figure ``plot_lines`` saves."""
    Figure, FigureCanvasAgg, MaxNLocator = matplotlib_parts()

    figure = _figure_with_legend(Figure, [_legend_label(name) for name in series])
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, values in series.items():
        # a series of one value (a grid of one-epoch runs) has no line to draw: it is shown as a point
        # a point without a neighbour (one value, or one between gaps: a clip's frames not scored) is drawn
        # as a dot, which a line alone would not show (probe 121: empty lines in a legend)
        alone = [k for k, value in enumerate(values) if math.isfinite(value)
                 and not any(0 <= n < len(values) and math.isfinite(values[n]) for n in (k - 1, k + 1))]
        axes.plot(range(first_x, first_x + len(values)), list(values), label=_legend_label(name),
                  marker="o" if alone else None,
                  markevery=alone or None)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if max(len(values) for values in series.values()) == 1:  # else ticks at 0.95 to 1.05 (probe 197: one epoch)
        axes.set_xlim(first_x - 1, first_x + 1)
        axes.set_xticks([first_x])  # not an epoch 0 and 2 that are not there (probe 198)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    _legend_under(figure, axes)
    return figure


LEGEND_LINE_CHARS = 100  # of a legend's labels at 8 points, across the figure's width
LEGEND_LABEL_CHARS = 70  # a label's longest: the middle of a longer name is left out
LEGEND_ROW_INCHES = 0.18


def _legend_columns(labels: list[str]) -> tuple[int, int]:
    """The columns and rows of the legend of ``labels``."""
    columns = max(1, min(len(labels), LEGEND_LINE_CHARS // (max(map(len, labels), default=1) + 6)))
    return columns, -(-len(labels) // columns)


def _figure_with_legend(Figure, labels: list[str]):
    """A figure of a constrained layout for a plot whose legend (``_legend_under``) shows ``labels``: taller than
    ``PLOT_SIZE_INCHES`` by the legend's rows past two, so the axes keep their size (probe 216: 48 grid runs
    squeezed them to 40 pixels, 60 collapsed them, with Matplotlib's own warning)."""
    width, height = PLOT_SIZE_INCHES
    rows = _legend_columns(labels)[1]
    return Figure(figsize=(width, height + max(0, rows - 2) * LEGEND_ROW_INCHES), dpi=PLOT_DPI, layout="constrained")


def _legend_under(figure, axes) -> None:
    """The legend under the axes of a figure with a constrained layout, not on them: placed "best" among the
    lines, long names hid a clip's peak at its cut and the lowest gain with its interval (probe 214)."""
    columns = _legend_columns(axes.get_legend_handles_labels()[1])[0]
    figure.legend(loc="outside lower center", ncols=columns, fontsize=8, frameon=False)


def _legend_label(name: str) -> str:
    """A model's or a clip's name as a legend shows it: Matplotlib reads a pair of ``$`` as mathematics (probe
    140: ``m$\\frac{$`` ended evaluate in a traceback, ``cost $1 to $2.mp4`` came out in italics) and leaves out
    a label that begins with ``_``; a control character is shown as its escape; the middle of a name longer than
    ``LEGEND_LABEL_CHARS`` is left out (probe 216: one of 150 cut off at both edges of the figure)."""
    label = one_line(str(name))
    if len(label) > LEGEND_LABEL_CHARS:
        half = (LEGEND_LABEL_CHARS - 1) // 2
        label = label[:half] + "…" + label[-half:]
    label = label.replace("$", r"\$")
    return " " + label if label.startswith("_") else label


def gains_plot(table: MetricTable, path: str | Path) -> Path | None:
    """Each photo's PSNR gain over gray (a clip's frames averaged into one), sorted, per model row, with
    the mean dashed and its 95% interval shaded: how the mean comes about and how sure it is. None when
    no row has an interval (fewer than two photos or clips)."""
    Figure, FigureCanvasAgg, MaxNLocator = matplotlib_parts()

    rows = [(verdict, sorted(unit_means(verdict.psnr_gains, table.sources[verdict.name])))
            for verdict in table.verdicts() if verdict.psnr_interval is not None]
    if not rows:
        return None
    figure = _figure_with_legend(Figure, [_legend_label(verdict.name) for verdict, _ in rows])
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for verdict, gains in rows:
        (line,) = axes.plot(range(1, len(gains) + 1), gains, marker="o", markersize=3,
                            label=_legend_label(verdict.name))
        low, high = verdict.psnr_interval
        axes.axhspan(low, high, color=line.get_color(), alpha=0.15)
        axes.axhline((low + high) / 2, color=line.get_color(), linewidth=1, linestyle="--")
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # a count of photos: no tick at 1.5 (probe 61)
    axes.set_xlabel("photos and clips, from the largest loss to the largest gain")
    axes.set_ylabel("PSNR minus gray's (dB)")
    axes.set_title("Gain over gray; dashed: the mean, shaded: its 95% interval", fontsize=10)
    axes.grid(True, alpha=0.3)
    _legend_under(figure, axes)
    return save_figure(figure, path)


def is_clip_stats(value) -> bool:
    return isinstance(value, dict) and "ab_error_by_frame" in value


def clip_summary(stats: dict) -> str:
    """A scored clip in words, for ``metrics.md`` and the terminal; every number stays in ``metrics.json``."""
    errors = stats["ab_error_by_frame"]
    pair = stats.get("model", "the model")
    if stats.get("dependent_model"):
        pair += f" at scene starts, {stats['dependent_model']} within scenes"
    scenes = len(stats.get("scene_starts") or []) + 1 if errors else 0
    parts = [f"{counted(len(errors), 'frame')}, {counted(scenes, 'scene')}, coloured by {pair}"]
    if stats.get("cut_at_video_frames"):  # probe 229: a clip's first 7 frames read as the whole clip
        parts.append(f"its first {len(errors)} alone (--video-frames)")
    if stats.get("frames_without_colour"):
        parts.append(f"{counted(stats['frames_without_colour'], 'frame')} without colour (black, a fade) not scored")
    if stats.get("eased_against_drift"):
        parts.append(f"{counted(stats['eased_against_drift'], 'frame')} eased against drift")
    if stats.get("bars"):
        top, left, height, width = stats["bars"]
        parts.append(f"borders left gray (picture {width}x{height} at x {left}, y {top})")
    output, truth = stats.get("temporal_stability_output"), stats.get("temporal_stability_truth")
    if output is not None and math.isfinite(output):
        truth_words = f"{truth:.3f}" if truth is not None and math.isfinite(truth) else "-"
        parts.append(f"colour change from frame to frame {output:.3f} (the truth's {truth_words})")
    scored = [error for error in errors if error is not None and math.isfinite(error)]  # None: a frame not scored
    if scored:
        which = "" if len(scored) == len(errors) else " scored"
        parts.append(f"a*b* error {scored[0]:.2f} at the first frame{which}, {scored[-1]:.2f} at the last, "
                     f"{sum(scored) / len(scored):.2f} on average")
    return "; ".join(parts)


def drift_plot(extra: dict, path: str | Path) -> Path | None:
    """Each scored clip's a*b* error frame by frame (a line climbing along a scene is colour drift); None
    when no clip has two frames."""
    series = {key.removeprefix("video "): [math.nan if error is None else error for error in value["ab_error_by_frame"]]
              for key, value in extra.items() if is_clip_stats(value)
              and sum(error is not None for error in value["ab_error_by_frame"]) > 1}  # two frames scored
    if not series:
        return None
    named = {}
    for clip, errors in series.items():  # beside a rival's line ("clip, rival"), the model's own is named too
        rivalled = any(other.startswith(f"{clip}, ") for other in series)  # (probe 120: the clip's name alone)
        model = extra[f"video {clip}"].get("model")
        named[f"{clip}, {model}" if rivalled and model else clip] = errors
    series = named
    return plot_lines(series, path, "frame", "mean |a*b* - truth's|", "Colour error along each clip", first_x=0)


def _json_ready(value):
    """Plain JSON: NaN and infinity become null, numpy scalars numbers, paths strings."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


LISTED_LINES = 20  # of a list in metrics.md; metrics.json holds them all


def extra_said(value) -> str:
    """An ``extra`` entry as the Markdown report lists it: a clip's summary, a list of lines as lines (probe 158:
    a Python list, brackets and quotes), anything else as JSON holds it."""
    if is_clip_stats(value):
        return f" {clip_summary(value)}"
    if isinstance(value, list) and value and all(isinstance(line, str) for line in value):
        more = len(value) - LISTED_LINES  # thousands of skipped photos: metrics.json holds each
        return "".join(f"\n  - {line}" for line in value[:LISTED_LINES]) + (
            f"\n  - and {more:,} more (metrics.json lists every one)" if more > 0 else "")
    return f" {_json_ready(value)}"


def write_report(out_dir: str | Path, table: MetricTable, grid_rows: Sequence[Sequence[np.ndarray]] = (),
                 extra: dict | None = None, titles: Sequence[str] = ("Gray", "Ground truth", "Output"), *,
                 overwrite: bool = True, log=None) -> dict[str, Path]:
    """Write ``metrics.json`` (every number, plus ``extra`` under "extra"), ``metrics.md`` (the table,
    verdicts and ``extra`` as a list), when ``grid_rows`` is not empty ``samples.png``, and when a model
    row has an interval ``gains.png`` (``gains_plot``).

    Returns the written paths by kind: "json", "markdown", "samples", "gains" and, when clips were
    scored, "drift" (``drift_plot``). A report file of an earlier report that this one has no use for
    (a ``drift.png`` when no clip was scored now) is removed, so the folder holds one report. Without
    ``overwrite``, a report another run wrote meanwhile is kept, and this one refused. ``log``: what says the
    leftovers of a killed run that it removes.
    """
    out_dir = Path(out_dir)
    extra = dict(extra or {})
    document = json.dumps(_json_ready({**table.to_dict(), "extra": extra}), indent=2, allow_nan=False)
    markdown = table.to_markdown()
    if extra:
        markdown += "\n" + "\n".join(f"- {key}:{extra_said(value)}" for key, value in extra.items()) + "\n"

    # written whole into a hidden folder, then moved into out_dir: a failure part way (a full disk) leaves
    # the folder as it was, with an earlier report whole, and no half report to block the next run
    import shutil

    from rehue.data.images import make_folder, remove_stale_files, staging_folder_for
    from rehue.signals import signals_held

    # inside the report folder where it exists (its parent may be read-only), else beside it; a killed run's
    # is removed (each is named by its process)
    anchor = out_dir / "report" if out_dir.is_dir() else out_dir
    make_folder(anchor.parent)
    # beside the folder too, where a first run into it staged (probe 191: a report said half replaced for good);
    # said (probe 193: removed without a word)
    remove_stale_files({anchor, out_dir}, log or (lambda line: None),
                       ("half-written report file or folder", "half-written report files or folders"))
    staging = staging_folder_for(anchor)
    try:
        staging.mkdir()
    except OSError as exc:
        raise RehueError(f"cannot write the report here ({exc.strerror or exc})", out_dir) from None
    try:
        staged = {"json": _write_atomically(staging / REPORT_JSON, _text_writer(document + "\n")),
                  "markdown": _write_atomically(staging / REPORT_MARKDOWN, _text_writer(markdown))}
        if grid_rows:
            staged["samples"] = sample_grid(grid_rows, staging / REPORT_SAMPLES, titles=titles)
        for kind, picture in (("gains", gains_plot(table, staging / REPORT_GAINS)),
                              ("drift", drift_plot(extra, staging / REPORT_DRIFT))):
            if picture is not None:
                staged[kind] = picture
        make_folder(out_dir)
        if not overwrite and (earlier := earlier_report(out_dir)):
            raise RehueError(f"holds a report that another run wrote meanwhile ({', '.join(earlier)}); pass "
                             "--overwrite to replace it", out_dir)
        paths = {}
        with signals_held():  # the earlier report or this one, whole (probe 188: Ctrl-C between two moves left
            # this one's metrics beside the earlier one's pictures)
            for kind, path in staged.items():
                paths[kind] = Path(shutil.move(path, out_dir / path.name))
            for name in set(REPORT_FILES) - {path.name for path in paths.values()}:  # the earlier one's others
                with contextlib.suppress(OSError):
                    (out_dir / name).unlink(missing_ok=True)
    except RehueError as exc:
        if exc.path is None or not Path(exc.path).is_relative_to(staging):
            raise
        raise RehueError(exc.reason, out_dir / Path(exc.path).name) from None  # named where it was to go
    except OSError as exc:
        raise RehueError(f"cannot write the report ({exc.strerror or exc})", out_dir) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return paths
