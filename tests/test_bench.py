"""Smoke tests of `rehue bench` on tiny inputs: it runs and reports every figure (no timing assertions)."""

import argparse
import json
import shutil
from pathlib import Path

import pytest

from rehue.bench import (
    BenchPlan,
    add_bench_parser,
    bench_peak_rss,
    build_eccv16,
    cmd_bench,
    format_report,
    make_clip,
    make_random_models,
    run_benchmark,
    summarise_ms,
    write_json,
)
from rehue.errors import RehueError

TINY_PLAN = BenchPlan(warmup=1, model_frames=3, scene_frames=6, eccv16_frames=1, clip_frames_128=6,
                      clip_frames_720p=2, memory_frames=0, memory_size=(64, 48), eccv16_size=32)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    import logging

    pipeline_log, warned = logging.getLogger("rehue.video.pipeline"), []

    class Record(logging.Handler):
        def emit(self, record):
            warned.append(record.getMessage())

    handler = Record(logging.WARNING)
    pipeline_log.addHandler(handler)
    try:
        results = run_benchmark(plan=TINY_PLAN, workdir=tmp_path_factory.mktemp("bench"), log=lambda message: None)
    finally:
        pipeline_log.removeHandler(handler)
    assert not [m for m in warned if "in colour already" in m], "its own clips are made in colour: no warning"
    return results


def test_benchmark_reports_every_figure(results):
    per_frame = results["per_frame"]
    for name in ("independent_model", "dependent_model", "eccv16"):
        assert per_frame[name]["median_ms"] > 0
    assert per_frame["independent_model"]["frames"] == TINY_PLAN.model_frames
    assert set(per_frame["scene_detection"]) == {"robust", "thesis"}
    assert per_frame["scene_detection"]["robust"]["frames"] == TINY_PLAN.scene_frames
    for name, frames in (("128x128", TINY_PLAN.clip_frames_128), ("1280x720", TINY_PLAN.clip_frames_720p)):
        entry = results["end_to_end"][name]
        assert entry["frames"] == frames and entry["fps"] > 0 and entry["cpu_ms_per_frame"] > 0
        assert {"decode", "scene_detection", "upsample_and_compose", "encode"} <= set(entry["stage_ms"])
        assert entry["dependent_frames"] > 0
        alone = results["end_to_end"][name + ", independent only"]
        assert alone["frames"] == frames and alone["dependent_frames"] == 0 and alone["fps"] > 0
    machine = results["machine"]
    assert machine["usable_cores"] >= 1 and machine["torch"] and machine["model_threads"] == 1
    assert machine["model_backend"] in ("onnxruntime", "torch")
    assert results["thesis"]["dependent_model_ms"] == 21.7 and results["peak_memory"] is None


def test_report_and_json(results, tmp_path):
    report = format_report(results)
    for row in ("dependent model at 128x128", "independent model at 128x128", "scene detection", "ECCV16",
                "end to end, 128x128 clip with audio  ", "end to end, 1280x720 clip with audio  ",
                "end to end, 128x128 clip with audio, independent model only"):  # probe 89: "128x128, independent
        assert row in report  # only clip"; probe 144: both clips have sound, the first was said to have none
    assert "models: random gen2 width 16 at 128, run by" in report
    for clip in ("128x128 clip with audio, independent model only: ",
                 "1280x720 clip with audio, independent model only: "):
        assert any(line.startswith(clip) for line in report.splitlines()), clip  # probe 90: named two ways
    assert "end to end, 1280x720 clip with audio, independent model only" in report
    generation = results["machine"]["cpu_generation"]
    if generation.get("family"):  # /proc/cpuinfo's: machines of one name differ (probe 89)
        assert f"(family {generation['family']} model {generation['model']}; " in report
    named = format_report({**results, "models": {"independent": "run2", "dependent": "none"}})
    assert "models: run2 (independent), none (dependent), run by" in named, "before, a Python dict"
    assert "577.7 ms" in report and "load average" in report
    assert "--quick" not in report and format_report({**results, "quick": True}).count(
        "; --quick: fewer frames, each figure less sure") == 1, "probe 104: a quick run's table did not say so"
    thesis_rows = [line for line in report.splitlines() if "  37.0 frames/s" in line]  # a cell: not 137.0
    assert len(thesis_rows) == 1 and "independent only" not in thesis_rows[0], "the thesis ran the pair only"
    path = write_json(results, tmp_path / "bench.json")
    assert json.loads(path.read_text())["end_to_end"]["128x128"]["frames"] == TINY_PLAN.clip_frames_128
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]
    with pytest.raises(RehueError, match="does not exist"):
        write_json(results, tmp_path / "missing" / "bench.json")


def test_peak_memory_is_measured_in_a_fresh_process(tmp_path):
    from rehue.inference.colorizer import Colorizer

    independent, dependent = make_random_models(tmp_path)
    clip = make_clip(tmp_path / "clip.mp4", 3, 64, 48)
    colorizer = Colorizer.load(independent, device="cpu", backend="torch")
    memory = bench_peak_rss(clip, tmp_path / "out.mp4", str(independent), str(dependent), colorizer)
    assert memory["frames"] == 3
    assert memory["peak_rss_mb"] >= memory["peak_rss_after_load_mb"] > 0


def test_the_90th_percentile_is_never_below_the_median():
    """Before, two samples (``--quick``'s ECCV16) gave a p90 of the smaller one: median 1266.3 ms, p90 1176.7."""
    two = summarise_ms([1.3559, 1.176658])
    assert two == {"median_ms": 1266.279, "p90_ms": 1337.976, "frames": 2}
    ten = summarise_ms([value / 1000 for value in (7, 2, 10, 1, 5, 9, 3, 8, 4, 6)])  # in the order measured
    assert ten == {"median_ms": 5.5, "p90_ms": 9.1, "frames": 10}
    assert summarise_ms([0.004]) == {"median_ms": 4.0, "p90_ms": 4.0, "frames": 1}


def test_clip_has_cuts_and_audio(tmp_path):
    from rehue.video.io import VideoReader
    from rehue.video.scenes import detect_scenes

    clip = make_clip(tmp_path / "cuts.mp4", 110, 96, 64)
    with VideoReader(clip) as reader:
        assert reader.has_audio and (reader.width, reader.height) == (96, 64)
        assert detect_scenes(frame.gray for frame in reader) == [50, 100]


def test_eccv16_shape():
    import torch

    with torch.inference_mode():
        ab = build_eccv16()(torch.zeros(1, 1, 64, 64))
    assert ab.shape == (1, 2, 64, 64)


def test_cli_parser():
    parser = argparse.ArgumentParser(prog="rehue")
    add_bench_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "--quick", "--json", "out.json", "--threads", "2", "--backend", "torch"])
    assert args.handler is cmd_bench and args.quick and args.threads == 2 and args.backend == "torch"
    for wrong, reason in ((["--device", "tpu"], "cpu, cuda or cuda:N"),
                          (["--backend", "tensorflow"], "unknown backend"),
                          (["--threads", "0"], "from 1 to"), (["--threads", "100000"], "from 1 to"),
                          (["--device", "cuda:abc"], r"cpu, cuda or cuda:N, not 'cuda:abc'"),  # probe 89: "or mps"
                          (["--dependent-model", "none"], "--dependent-model goes with --model")):
        with pytest.raises(RehueError, match=reason):
            cmd_bench(parser.parse_args(["bench", *wrong]))


def test_an_existing_json_file_is_kept_and_a_wrong_path_refused_before_any_measuring(tmp_path, monkeypatch, capsys):
    """Probe 67: `bench --json photo.jpg` replaced the user's photo with the report, and a missing folder or a
    folder as --json was said after the whole run, the latter naming a hidden temp file."""
    import rehue.bench
    from rehue.cli import main

    measured = []
    monkeypatch.setattr(rehue.bench, "run_benchmark", lambda **options: measured.append(options) or {"figures": 1})
    monkeypatch.setattr(rehue.bench, "format_report", lambda results: "report")
    photo = tmp_path / "mine.json"
    photo.write_bytes(b"the user's results")
    (tmp_path / "folder").mkdir()
    for target, said in ((photo, "output exists; pass --overwrite to replace it"),
                         (tmp_path / "missing" / "b.json", "output folder does not exist"),
                         (tmp_path / "folder", "is a folder; name a file to write")):
        assert main(["bench", "--json", str(target)]) == 1
        err = capsys.readouterr().err.strip()
        assert said in err and len(err.splitlines()) == 1 and measured == [], err
    assert photo.read_bytes() == b"the user's results" and sorted(p.name for p in tmp_path.iterdir()) == [
        "folder", "mine.json"]
    assert main(["bench", "--json", str(photo), "--overwrite"]) == 0
    assert json.loads(photo.read_text()) == {"figures": 1}
    with pytest.raises(RehueError, match="output exists"):
        write_json({"figures": 2}, photo)


def test_the_models_own_files_are_never_written_over_with_the_results(tmp_path, monkeypatch, capsys):
    """Probe 206: `bench --model m.safetensors --json m.json --overwrite` wrote the results over the model's
    config, after the whole run, and the model loaded no more."""
    import rehue.bench
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    measured = []
    monkeypatch.setattr(rehue.bench, "run_benchmark", lambda **options: measured.append(options) or {"figures": 1})
    monkeypatch.setattr(rehue.bench, "format_report", lambda results: "report")
    model = make_tiny_model(tmp_path / "m.safetensors", size=128)
    dependent = make_tiny_model(tmp_path / "d.safetensors", in_channels=3, size=128)
    kept = {path: path.read_bytes() for path in tmp_path.iterdir()}
    for option, target in (("--json", "m.json"), ("--json", "d.json"), ("--plot", "m.safetensors")):
        if option == "--plot":  # named by its weights, not a .png: said as a wrong name first
            target = "m.png"
            (tmp_path / "m.png").symlink_to(model)
        assert main(["bench", "--model", str(model), "--dependent-model", str(dependent), option,
                     str(tmp_path / target), "--overwrite"]) == 1
        err = capsys.readouterr().err.splitlines()
        assert err == [f"rehue: error: {tmp_path / target}: output is the same file as a model's weights or config, "
                       "which rehue reads; choose another output path"] and measured == []
    assert {path: path.read_bytes() for path in kept} == kept
    import rehue.models.io as model_io

    # probe 210: "default", or the dependent model left to its default, went unguarded; copies of the shipped
    # models stand in for them, which a failure here would write over
    shutil.copytree(model_io.SHIPPED_DIR, tmp_path / "weights")
    monkeypatch.setattr(model_io, "SHIPPED_DIR", tmp_path / "weights")
    shipped = model_io.shipped_models()
    for named, target in (("default", shipped["rehue-gen2-128-independent"].with_suffix(".json")),
                          (str(model), shipped["rehue-gen2-128-dependent"].with_suffix(".json"))):
        before = target.read_bytes()
        assert main(["bench", "--model", named, "--json", str(target), "--overwrite"]) == 1
        assert capsys.readouterr().err == f"rehue: error: {target}: output is the same file as a model's weights " \
                                          "or config, which rehue reads; choose another output path\n"
        assert measured == []
        assert target.read_bytes() == before


def test_the_benchmarks_lines_go_to_the_rehue_logger_without_progress(monkeypatch, capsys, caplog):
    """Probe 76: a service that silenced the ``rehue`` logger still got every "bench: ..." line on stderr."""
    import logging

    import rehue.bench

    monkeypatch.setattr(rehue.bench, "_run_benchmark", lambda *args: args[-1]("bench: measuring") or {})
    with caplog.at_level(logging.INFO, logger="rehue"):
        run_benchmark(progress=False)
    assert "bench: measuring" in caplog.text and capsys.readouterr().err == ""
    run_benchmark()
    assert capsys.readouterr().err == "bench: measuring\n", "beside its progress: on stderr, as before"


def test_a_model_of_ones_own_is_benched_alone_and_reported_so(tmp_path):
    from tests.conftest import make_tiny_model

    model = make_tiny_model(tmp_path / "own.safetensors", size=128)
    messages = []
    results = run_benchmark(model=str(model), plan=TINY_PLAN, workdir=tmp_path, log=messages.append)
    assert results["models"] == {"independent": str(model), "dependent": "none"}
    assert any("--dependent-model" in message for message in messages)
    assert list(results["end_to_end"]) == ["128x128, independent only", "1280x720, independent only"]


def test_a_dependent_model_as_the_model_is_refused_before_a_note_or_a_line_of_measuring(tmp_path, capsys):
    """Probe 104: `bench --model rehue-gen2-128-dependent` said a note on the shipped dependent model and began
    measuring before it was refused."""
    from tests.conftest import make_tiny_model

    dependent = make_tiny_model(tmp_path / "dep.safetensors", in_channels=3, size=128)
    messages = []
    with pytest.raises(RehueError, match="is a dependent model"):
        run_benchmark(model=str(dependent), plan=TINY_PLAN, workdir=tmp_path, log=messages.append)
    assert messages == [] and capsys.readouterr().err == ""


def test_the_figures_are_drawn_as_a_picture(results, tmp_path):
    """A person's report gets a picture: each step's time beside the thesis's, each clip's rate by its target."""
    from PIL import Image

    from rehue.bench import bench_plot

    path = bench_plot(results, tmp_path / "bench.png")
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.size == (1200, 840)
        assert picture.convert("RGB").getcolors(1 << 16) is not None and len(picture.convert("RGB").getcolors(
            1 << 16)) > 50, "bars, marks and words, not a blank"
    with pytest.raises(RehueError, match="output exists; pass --overwrite"):
        bench_plot(results, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.png"]


def test_a_plot_file_is_checked_before_any_measuring(tmp_path, monkeypatch, capsys):
    import rehue.bench
    from rehue.cli import main

    measured = []
    monkeypatch.setattr(rehue.bench, "run_benchmark", lambda **options: measured.append(options) or {"figures": 1})
    monkeypatch.setattr(rehue.bench, "format_report", lambda results: "report")
    monkeypatch.setattr(rehue.bench, "bench_plot", lambda results, path, overwrite: path)
    (tmp_path / "b.png").write_bytes(b"the user's picture")
    assert main(["bench", "--plot", str(tmp_path / "b.png")]) == 1
    (tmp_path / "same.png").symlink_to(tmp_path / "same.json")
    assert main(["bench", "--plot", str(tmp_path / "same.png"), "--json", str(tmp_path / "same.json"),
                 "--overwrite"]) == 2
    assert "named by both --json and --plot" in capsys.readouterr().err and measured == []
    assert main(["bench", "--plot", str(tmp_path / "b.jpg")]) == 2  # probe 110: PNG bytes under any name
    assert capsys.readouterr().err.strip() == f"rehue: error: {tmp_path / 'b.jpg'}: the plot is a PNG; name it .png"
    assert main(["bench", "--json", str(tmp_path / "results.png")]) == 2  # probe 160: JSON under a picture's name
    assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'results.png'}: the results are JSON; "
                                               "name it .json")
    assert measured == [] and not (tmp_path / "results.png").exists()
    for option, name, said in (("--json", "r.json/", "the results are JSON: name a file .json"),
                               ("--json", "r.json/.", "the results are JSON: name a file .json"),
                               ("--plot", "p.png/", "the plot is a PNG: name a file .png")):  # probe 172: as r.json
        assert main(["bench", option, f"{tmp_path}/{name}"]) == 2
        said = f"rehue: error: {tmp_path}/{name}: names a folder, as typed, and {said}"
        assert capsys.readouterr().err.strip() == said
        assert not (tmp_path / name.rstrip("/.")).exists() and measured == []
    left = [tmp_path / ".new.rehue-tmp999999999.png", tmp_path / ".r.rehue-tmp999999998.json"]  # probe 189: a
    for path in left:  # killed run's, kept for good
        path.write_bytes(b"half written")
    monkeypatch.setattr(rehue.bench, "write_json", lambda results, path, overwrite: path)
    assert main(["bench", "--plot", str(tmp_path / "new.png"), "--json", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert f"plot drawn into {tmp_path / 'new.png'}" in err and not any(path.exists() for path in left)
    assert f"note: removed 2 half-written files that a killed run left, such as {left[0]}" in err.splitlines()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_the_json_is_written_where_the_table_cannot_be_printed(tmp_path):
    """Probe 130: `rehue bench --json b.json > /dev/full` measured for half a minute, then failed on the table
    before writing b.json; and main() in a program without standard output (pythonw) ended in a traceback."""
    import subprocess
    import sys

    code = ("import sys, rehue.bench as bench\n"
            "bench.run_benchmark = lambda **options: {'figures': 1}\n"
            "bench.format_report = lambda results: 'report'\n"
            "from rehue.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-c", code, "bench", "--json", str(tmp_path / "b.json")], stdout=full,
                             stderr=subprocess.PIPE, text=True)
    assert run.returncode == 1 and run.stderr.endswith("rehue: error: standard output: No space left on device\n")
    assert json.loads((tmp_path / "b.json").read_text()) == {"figures": 1}
    run = subprocess.run([sys.executable, "-c", "import sys; sys.stdout = None\nfrom rehue.cli import main\n"
                          "sys.exit(main(['models']))"], capture_output=True, text=True)
    assert (run.returncode, run.stderr) == (0, "")


def test_a_memory_child_the_kernel_ends_costs_the_memory_figures_alone(tmp_path, monkeypatch):
    """Probe 144: the memory child killed (as the OOM killer does) ended the benchmark in "the memory measurement
    failed: []", naming a temporary clip since removed, and every figure measured before it was lost."""
    import signal
    import subprocess

    real_run = subprocess.run

    def run(command, *args, **kwargs):
        if any("peak_rss_child" in str(part) for part in command):
            return subprocess.CompletedProcess(command, -signal.SIGKILL, "", "")
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    said = []
    results = run_benchmark(plan=TINY_PLAN._replace(memory_frames=2), workdir=tmp_path,
                            log=said.append)
    assert results["peak_memory"] == {"not_measured": "its process was ended by SIGKILL (out of memory?)"}
    assert "warning: the peak memory was not measured: its process was ended by SIGKILL (out of memory?)" in said
    assert results["end_to_end"] and results["per_frame"]["independent_model"]
    assert any(line.split() == ["peak", "memory", "not", "measured"] for line in format_report(results).splitlines())


def test_the_plot_says_the_thesis_size_whatever_the_models_and_each_clip_has_audio(results, tmp_path, monkeypatch):
    """Probe 144: a 32x32 model's plot said "thesis at 32x32: 37 frames/s" (the thesis ran at 128x128), and of
    two clips both with sound, only the 720p one was said to have it."""
    from rehue.bench import bench_plot
    from rehue.evaluation import report

    drawn = []
    real_save = report.save_figure
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.append(figure) or real_save(figure, path))
    small = {**results, "end_to_end": {name.replace("128x128", "32x32"): entry
                                       for name, entry in results["end_to_end"].items()}}
    bench_plot(small, tmp_path / "bench.png")
    rates = drawn[0].axes[1]
    assert "thesis at 128x128: 37 frames/s" in [text.get_text() for text in rates.get_legend().get_texts()]
    assert [label.get_text() for label in rates.get_yticklabels()] == [
        "32x32 clip with audio", "32x32 clip with audio, independent model only", "1280x720 clip with audio",
        "1280x720 clip with audio, independent model only"]


def test_the_plot_names_the_models_and_an_interrupt_as_it_is_drawn_says_the_json_kept(results, tmp_path, monkeypatch,
                                                                                      capsys):
    """Probe 232: a plot's title was a default run's whatever the models, backend and threads; Ctrl-C as the plot was
    drawn kept the JSON without a word, and the same command was then refused, "output exists"."""
    import rehue.bench
    from rehue.cli import main
    from rehue.evaluation import report

    drawn = []
    real_save = report.save_figure
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.append(figure) or real_save(figure, path))
    rehue.bench.bench_plot(results, tmp_path / "bench.png")
    machine = results["machine"]
    assert drawn[0]._suptitle.get_text().splitlines()[1] == (
        f"models: {rehue.bench._models_named(results['models'])}, run by {machine['model_backend']} with "
        f"{machine['model_threads']} thread{'s' * (machine['model_threads'] != 1)} per call")
    thesis = [line for line in drawn[0].axes[1].get_lines() if line.get_linestyle() == "--" and len(line.get_xdata())]
    assert len(results["end_to_end"]) > 2 and len(thesis) == 1, "the thesis's whole system beside the first clip alone"

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(rehue.bench, "run_benchmark", lambda **options: results)
    monkeypatch.setattr(rehue.bench, "bench_plot", interrupted)
    assert main(["bench", "--json", str(tmp_path / "b.json"), "--plot", str(tmp_path / "b.png")]) == 130
    assert capsys.readouterr().err.splitlines()[-2:] == [
        f"note: results written to {tmp_path / 'b.json'} before the interrupt", "rehue: interrupted"]
    monkeypatch.undo()
    monkeypatch.setattr(rehue.bench, "run_benchmark", lambda **options: results)
    monkeypatch.setattr(rehue.bench, "format_report", interrupted)  # probe 234: as the table is printed
    assert main(["bench", "--json", str(tmp_path / "c.json"), "--plot", str(tmp_path / "c.png")]) == 130
    assert capsys.readouterr().err.splitlines()[-3:] == [
        f"note: results written to {tmp_path / 'c.json'} before the interrupt",
        f"note: plot drawn into {tmp_path / 'c.png'} before the interrupt", "rehue: interrupted"]

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rehue.bench, "format_report", full)  # probe 236: "before the interrupt" of no interrupt
    assert main(["bench", "--json", str(tmp_path / "d.json")]) == 1
    said = capsys.readouterr().err.splitlines()
    assert said[0] == f"note: results written to {tmp_path / 'd.json'}" and "interrupt" not in said[-1], said


def test_no_progress_leaves_out_the_measuring_lines_and_keeps_warnings(tmp_path, monkeypatch, capsys):
    """Probe 144: `rehue bench --no-progress` was "unrecognized arguments", where every other command takes it."""
    import rehue.bench
    from rehue.cli import main

    def measured(**settings):
        settings["log"]("bench: per frame, 3 frames of each model")
        settings["log"]("note: every frame is coloured by the model alone")  # probe 146: left out too
        settings["log"]("warning: the peak memory was not measured: its process was ended by SIGKILL")
        raise KeyboardInterrupt

    monkeypatch.setattr(rehue.bench, "run_benchmark", measured)
    assert main(["bench", "--quick", "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "warning: the peak memory was not measured" in err and "bench: per frame" not in err
    assert "note: every frame is coloured by the model alone" in err


def test_a_shipped_model_asked_for_as_default_is_reported_by_its_name(tmp_path):
    """Probe 160: `bench --model default --dependent-model none` reported "models: default (independent)",
    where runs are compared by the model each measured."""
    from rehue.models.io import default_model_name

    results = run_benchmark(model="default", dependent_model="none", plan=TINY_PLAN, workdir=tmp_path,
                            log=lambda line: None)
    assert results["models"] == {"independent": default_model_name("independent"), "dependent": "none"}
    assert results["models"]["independent"].startswith("rehue-")
