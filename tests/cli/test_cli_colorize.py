import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rehue.cli import main
from rehue.color.lab import rgb_to_lab
from rehue.errors import UsageError
from tests.conftest import textured_rgb


def run(*args):
    return main([str(a) for a in args])


@pytest.fixture
def gray_jpeg(tmp_path):
    path = tmp_path / "scan.jpg"
    Image.fromarray(textured_rgb(700, 1000, seed=1)[..., 0]).save(path, quality=92)
    return path


def test_colorize_1000x700_jpeg_keeps_size_and_lightness(tmp_path, tiny_model, gray_jpeg):
    out = tmp_path / "out.png"
    assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model) == 0
    result = np.asarray(Image.open(out))
    assert result.shape == (700, 1000, 3)
    gray = np.asarray(Image.open(gray_jpeg).convert("L"))
    l_in = rgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 0]
    assert np.abs(rgb_to_lab(result)[..., 0] - l_in).max() <= 1.0
    assert np.abs(rgb_to_lab(result)[..., 1:]).mean() > 0.5


def test_chroma_sets_the_colour_strength(tmp_path, tiny_model, gray_jpeg, capsys):
    chroma = {}
    for strength in ("0", "0.5", "1"):
        out = tmp_path / f"out{strength}.png"
        assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model, "--chroma", strength) == 0
        chroma[strength] = np.hypot(*np.moveaxis(rgb_to_lab(np.asarray(Image.open(out)))[..., 1:], -1, 0)).mean()
    assert chroma["0"] < 0.5 < chroma["1"]
    assert chroma["0.5"] == pytest.approx(chroma["1"] / 2, rel=0.2)
    assert run("colorize", gray_jpeg, "-o", tmp_path / "bad.png", "--model", tiny_model, "--chroma", "-1") == 2
    assert "chroma must be between 0 and 4" in capsys.readouterr().err and not (tmp_path / "bad.png").exists()


def test_fit_picks_how_photos_meet_the_model(tmp_path, tiny_model, gray_jpeg, capsys):
    outputs = {}
    for fit in ("native", "letterbox"):
        out = tmp_path / f"{fit}.png"
        assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model, "--fit", fit) == 0
        outputs[fit] = np.asarray(Image.open(out))
        assert outputs[fit].shape == (700, 1000, 3)
    default = tmp_path / "default.png"
    assert run("colorize", gray_jpeg, "-o", default, "--model", tiny_model) == 0
    assert np.array_equal(np.asarray(Image.open(default)), outputs["native"])
    assert not np.array_equal(outputs["native"], outputs["letterbox"])
    capsys.readouterr()
    assert run("colorize", gray_jpeg, "-o", tmp_path / "bad.png", "--model", tiny_model, "--fit", "square") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rehue: error: unknown fit 'square'; choose one of: native, letterbox"]
    assert not (tmp_path / "bad.png").exists()


def test_borders_of_a_scanned_print_stay_gray_unless_asked(tmp_path, tiny_model, capsys):
    scan = tmp_path / "print.png"
    picture = textured_rgb(120, 160, seed=9)[..., 0]
    framed = np.full((150, 190), 248, np.uint8)
    framed[15:135, 15:175] = picture
    Image.fromarray(framed).save(scan)
    outputs = {}
    for borders in ("neutral", "model"):
        out = tmp_path / f"{borders}.png"
        assert run("colorize", scan, "-o", out, "--model", tiny_model, "--borders", borders) == 0
        outputs[borders] = rgb_to_lab(np.asarray(Image.open(out)))
    chroma = {k: np.hypot(lab[..., 1], lab[..., 2]) for k, lab in outputs.items()}
    assert chroma["neutral"][:15].max() < 1.0 and chroma["model"][:15].mean() > chroma["neutral"][:15].mean()
    capsys.readouterr()
    assert run("colorize", scan, "-o", tmp_path / "bad.png", "--model", tiny_model, "--borders", "crop") == 2
    assert capsys.readouterr().err.strip() == "rehue: error: unknown borders 'crop'; choose one of: neutral, model"
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize("ext", [".jpg", ".webp", ".png"])
def test_output_format_follows_extension(tmp_path, tiny_model, gray_jpeg, ext):
    out = tmp_path / f"out{ext}"
    assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model) == 0
    assert Image.open(out).format == {".jpg": "JPEG", ".webp": "WEBP", ".png": "PNG"}[ext]


def _bad_inputs(tmp_path, gray_jpeg):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(gray_jpeg.read_bytes()[: gray_jpeg.stat().st_size // 3])
    return {"not an image": text, "empty file": empty, "truncated": truncated}


def test_bad_files_give_one_line_errors(tmp_path, tiny_model, gray_jpeg, capsys):
    for reason, path in _bad_inputs(tmp_path, gray_jpeg).items():
        out = tmp_path / f"{path.stem}-out.png"
        assert run("colorize", path, "-o", out, "--model", tiny_model) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(path) in err[0] and reason in err[0], err
        assert not out.exists()
        assert not list(tmp_path.glob(".*rehue-tmp*"))


@pytest.mark.parametrize(("option", "message"), [(["--quality", "101"],
                                                 "quality must be a whole number between 0 and 100, not 101"),
                                               (["--crf", "99"], "crf must be a whole number between 0 and 51"),
                                               (["--preset", "quick"], "unknown H.264 preset 'quick'; choose one of: "
                                                                       "ultrafast")])
def test_an_encoder_setting_out_of_range_is_a_one_line_error(tmp_path, tiny_model, gray_jpeg, capsys, option,
                                                             message):
    """Before, --quality 101 and --crf 99 were passed on and the encoder clamped them; --crf -5 and --preset
    quick failed as "cannot write the video (...)"."""
    out = tmp_path / "out.jpg"
    assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model, *option) == 2, "a wrong argument"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not out.exists()


@pytest.mark.parametrize(("option", "message"), [
    (["--end", "inf"], "--end must be a number of seconds of at least 0, not inf"),
    (["--start", "nan"], "--start must be a number of seconds of at least 0, not nan"),
    (["--start", "-1"], "--start must be a number of seconds of at least 0, not -1.0"),
    (["--start", "2", "--end", "1"], "--end (1) must be after --start (2)"),
    (["--end", "0"], "--end must be after the film's start, not 0")])
def test_a_time_range_no_video_can_have_is_a_one_line_usage_error(tmp_path, tiny_model, capsys, option, message):
    """Before, --end inf and --start nan ended in a traceback, and --start -1 exited 1."""
    from tests.helpers_video import make_clip

    clip = make_clip(tmp_path / "v.mp4", [textured_rgb(32, 48, seed=i) for i in range(4)], fps=4)
    out = tmp_path / "out.mp4"
    assert run("colorize", clip, "-o", out, "--model", tiny_model, *option) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rehue: error: {message}"] and not out.exists()


@pytest.mark.parametrize(("typed", "meant"), [("90.5", 90.5), ("1:30.5", 90.5), ("0:01:30.5", 90.5), ("01:00:00", 3600),
                                              ("90:00", 5400), (" 0:05 ", 5), ("1:30.", 90),
                                              ("1:59.99999999999999999", 120)])  # not "has seconds of 60 or more"
def test_times_are_taken_as_seconds_or_as_a_player_shows_them(typed, meant):
    from rehue.cli import seconds

    assert seconds(typed) == meant


def test_a_part_named_as_a_player_shows_it_is_the_part_of_those_seconds(tmp_path, tiny_model, capsys):
    """Probe 196: `--start 00:00:00.5` was "invalid float value"."""
    import av

    from tests.helpers_video import make_clip

    clip = make_clip(tmp_path / "v.mp4", [textured_rgb(32, 48, seed=i) for i in range(10)], fps=10)
    for name, start, end in (("clock.mp4", "00:00:00.5", "0:00.8"), ("seconds.mp4", "0.5", "0.8")):
        assert run("colorize", clip, "-o", tmp_path / name, "--model", tiny_model, "--start", start, "--end", end) == 0
    for name in ("clock.mp4", "seconds.mp4"):
        with av.open(str(tmp_path / name)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 3
    for typed, said in (("1:75", "'1:75' has seconds of 60 or more"), ("1:60:00", "'1:60:00' has minutes of 60 or "
                                                                                   "more"),
                        ("half", "a time is seconds (90.5) or [HH:]MM:SS (1:30.5), not 'half'"),
                        ("9" * 400 + ":00", f"'{'9' * 400}:00' is longer than any film")):  # probe 210: a traceback
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            run("colorize", clip, "-o", tmp_path / "o.mp4", "--model", tiny_model, "--start", typed)
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"argument --start: {said}" in err[0] and not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("command", ["colorize", "evaluate"])
def test_a_dependent_model_as_the_model_is_a_one_line_error(tmp_path, tiny_dependent_model, gray_jpeg, capsys,
                                                            command):
    out = tmp_path / ("out.png" if command == "colorize" else "report")
    option = "-o" if command == "colorize" else "--out"
    truth = gray_jpeg if command == "colorize" else tmp_path / "colour.png"
    Image.fromarray(textured_rgb(40, 50)).save(tmp_path / "colour.png")
    assert run(command, truth, option, out, "--model", tiny_dependent_model) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{tiny_dependent_model}: is a dependent model" in err[0]
    assert "--dependent-model" in err[0] and not out.exists()


def test_error_through_the_real_entry_point_has_no_traceback(tmp_path, tiny_model):
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    proc = subprocess.run([sys.executable, "-m", "rehue.cli", "colorize", str(bad), "-o", str(tmp_path / "o.png"),
                           "--model", str(tiny_model)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_folder_batch_keeps_going_and_reports_bad_files(tmp_path, tiny_model, gray_jpeg, capsys):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(textured_rgb(40, 50)).save(folder / "a.png")
    Image.fromarray(textured_rgb(30, 20)[..., 0]).save(folder / "sub" / "b.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    assert run("colorize", folder, "-o", out, "--model", tiny_model, "--no-progress") == 1
    assert (out / "a.png").exists() and (out / "sub" / "b.png").exists()
    assert not (out / "broken.png").exists()
    assert "broken.png" in capsys.readouterr().err


def test_a_newline_in_a_file_name_leaves_every_message_one_line(tmp_path, tiny_model, capsys):
    """A name's newline was escaped in an error's file, but not in a warning, a film's summary, the scenes line,
    a bar or a folder's error lines, each then split in two."""
    from tests.helpers_video import make_clip, textured_frames

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a\nbroken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    make_clip(folder / "c\nfilm.mp4", list(textured_frames(3, 32, 32)))  # in colour: a warning names it
    options = ["--model", tiny_model, "--dependent-model", "none"]
    assert run("colorize", folder, "-o", tmp_path / "out", *options) == 1
    assert run("colorize", folder / "a\nbroken.png", "-o", tmp_path / "one.png", *options) == 1
    assert run("scenes", folder / "c\nfilm.mp4") == 0
    said = capsys.readouterr()
    lines = (said.out + said.err).replace("\r", "\n").splitlines()
    assert not [line for line in lines if line.startswith(("broken", "film"))]
    assert sum("c\\nfilm.mp4: is in colour already" in line for line in lines) == 1
    assert sum("c\\nfilm.mp4: 3 frames" in line for line in lines) == 2  # colorize's summary, scenes'
    assert sum("a\\nbroken.png: truncated or corrupt" in line for line in lines) == 3

    from rehue.cli import _print_name

    _print_name("sc\nan\x9b_0004.png")  # `scenes reel/`'s cut list, one name a line (probe 106: two; 108: CSI)
    assert capsys.readouterr().out == "sc\\nan\\x9b_0004.png\n"


def test_a_film_into_a_container_rehue_cannot_write_is_refused_before_its_bar(tmp_path, tiny_model, capsys):
    """Probe 106: `colorize ok.mp4 -o o.mkv2` drew the film's bar at 0% before its usage error."""
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "ok.mp4", list(textured_frames(3, 32, 32)))
    assert run("colorize", clip, "-o", tmp_path / "o.mkv2", "--model", tiny_model, "--dependent-model", "none") == 2
    assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'o.mkv2'}: unsupported video output extension "
                                       "'.mkv2'; use one of .mp4, .m4v, .mov, .mkv, .webm\n")


def test_existing_output_is_not_overwritten_without_flag(tmp_path, tiny_model, gray_jpeg):
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model) == 1
    assert out.read_bytes() == b"precious"
    assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model, "--overwrite") == 0
    assert Image.open(out).size == (1000, 700)


def test_no_model_message(tmp_path, gray_jpeg, monkeypatch, capsys):
    import rehue.models.io as io

    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path / "none")
    assert run("colorize", gray_jpeg, "-o", tmp_path / "o.png") == 1
    assert "no model available" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        run("colorize")
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "rehue colorize: error: the following arguments are required: inputs, -o/--output (see rehue colorize "
        "--help)"], "one line, as rehue's own errors, not the usage block"


@pytest.mark.parametrize(("option", "message"), [
    (["--codec", "zz"], "unknown codec 'zz'; choose one of: auto, h264, ffv1, prores (auto writes VP9 into .webm)"),
    (["--codec", "VP9"], "unknown codec 'vp9'; choose one of: auto, h264, ffv1, prores (auto writes VP9 into .webm)")])
def test_a_film_setting_is_checked_on_a_photo_too(tmp_path, tiny_model, gray_jpeg, capsys, option, message):
    """Before, --codec zz and --scene-mode foo passed on a photo run and failed on the same command for a film."""
    assert run("colorize", gray_jpeg, "-o", tmp_path / "out.png", "--model", tiny_model, *option) == 2
    assert capsys.readouterr().err.strip() == f"rehue: error: {message}"


@pytest.mark.parametrize("command", [["colorize", "missing.mp4", "-o", "out.mp4", "--scene-mode"],
                                     ["frames", "missing.mp4", "--out", "ds", "--scene-mode"],
                                     ["scenes", "missing.mp4", "--sheet", "sheet.png", "--mode"]])
def test_an_unknown_scene_mode_is_a_usage_error_naming_its_option_before_any_file_is_read(tmp_path, capsys, command):
    """Probe 206: `scenes --mode bogus` named no option, and was refused only after the video and the sheet were
    (exit 1 for a missing video first); a photo run named no --scene-mode either."""
    (tmp_path / "sheet.png").write_bytes(b"mine")
    option = command[-1]
    with pytest.raises(SystemExit) as exit_:
        run(*[tmp_path / arg if "." in arg or arg == "ds" else arg for arg in command], "bogus")
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"rehue {command[0]}: error: argument {option}: unknown scene mode 'bogus'; choose one of: robust, thesis "
        f"(see rehue {command[0]} --help)"]
    assert (tmp_path / "sheet.png").read_bytes() == b"mine" and sorted(tmp_path.iterdir()) == [tmp_path / "sheet.png"]


def test_several_inputs_into_a_name_with_a_picture_extension_are_refused(tmp_path, tiny_model, gray_jpeg, capsys):
    """Before, `colorize a.jpg b.jpg -o new.png` made a folder called new.png."""
    second = tmp_path / "second.jpg"
    shutil.copy(gray_jpeg, second)
    assert run("colorize", gray_jpeg, second, "-o", tmp_path / "new.png", "--model", tiny_model) == 2
    assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'new.png'}: several inputs need an output "
                                               "folder, and this names a .png file; name a folder (such as colorized/)")
    assert not (tmp_path / "new.png").exists()


def test_one_folder_into_a_file_is_refused_as_one_folder_not_as_several_inputs(tmp_path, tiny_model, gray_jpeg,
                                                                                capsys):
    """Probe 205: `colorize d1 -o notdir` of one folder said "several inputs need an output folder"."""
    (tmp_path / "d1").mkdir()
    shutil.copy(gray_jpeg, tmp_path / "d1" / "a.jpg")
    (tmp_path / "notdir").write_bytes(b"mine")
    for target in ("notdir", "new.png"):
        assert run("colorize", tmp_path / "d1", "-o", tmp_path / target, "--model", tiny_model) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"rehue: error: {tmp_path / target}: the folder {tmp_path / 'd1'} needs an output "
                              "folder, ") and len(err.splitlines()) == 1, err
    assert (tmp_path / "notdir").read_bytes() == b"mine" and not (tmp_path / "new.png").exists()


def test_the_warning_lines_of_a_command_go_when_it_returns(tmp_path, tiny_model, gray_jpeg):
    """A notebook that ran a command and then uses the library got the command's stderr lines for its warnings."""
    import logging

    assert run("colorize", gray_jpeg, "-o", tmp_path / "out.png", "--model", tiny_model) == 0
    assert not [h for h in logging.getLogger("rehue").handlers if type(h).__name__ == "_WarningLine"]


def test_version_and_help_are_fast():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "rehue.cli", "--version"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "rehue" in proc.stdout
    assert "torch" not in proc.stderr


def test_python_dash_m_rehue_is_the_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rehue", "colorize", str(tmp_path / "missing.png"), "-o",
                           str(tmp_path / "o.png")], capture_output=True, text=True)
    assert proc.returncode == 1 and "missing.png" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("rehue")


def test_sixteen_bit_scan_gives_a_sixteen_bit_png_with_its_metadata(tmp_path, tiny_model):
    import cv2

    gray16 = (np.linspace(0, 65535, 120 * 160).reshape(120, 160)).astype(np.uint16)
    scan = Image.fromarray(gray16)
    exif = scan.getexif()
    exif[0x010E] = "Harbour, 1920"
    (tmp_path / "scans").mkdir()
    scan.save(tmp_path / "scans" / "scan.tif", dpi=(1200, 1200), exif=exif)
    assert run("colorize", tmp_path / "scans", "-o", tmp_path / "out", "--model", tiny_model) == 0
    out = tmp_path / "out" / "scan.png"
    deep = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and deep.shape == (120, 160, 3)
    written = Image.open(out)
    assert written.info["dpi"] == pytest.approx((1200, 1200), abs=0.01)
    assert written.getexif().get(0x010E) == "Harbour, 1920"
    digest = hashlib.sha256(Path(tiny_model).read_bytes()).hexdigest()[:12]
    assert written.getexif().get(0x0131).endswith(f"colorized with tiny-independent (sha256 {digest})")

    run_folder = tmp_path / "runs" / "reel7"
    run_folder.mkdir(parents=True)
    for suffix in (".safetensors", ".json"):
        shutil.copy(Path(tiny_model).with_suffix(suffix), run_folder / f"model{suffix}")
    assert run("colorize", tmp_path / "scans" / "scan.tif", "-o", tmp_path / "run.png", "--model",
               run_folder / "model.safetensors") == 0
    assert Image.open(tmp_path / "run.png").getexif()[0x0131].endswith(f"with reel7/model (sha256 {digest})"), \
        "a run's model is named by its run folder: every run's file is model.safetensors"


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_sixteen_bit_scans_transparency_keeps_every_level(tmp_path, tiny_model, suffix):
    """Before, a 16-bit cut-out's alpha came back at 8 bits (its levels multiples of 257)."""
    import cv2
    import tifffile

    gray16 = (np.linspace(0, 65535, 60 * 80).reshape(60, 80)).astype(np.uint16)
    alpha16 = gray16[::-1].copy()
    planes = np.dstack([gray16, gray16, gray16, alpha16])
    scan = tmp_path / f"cutout{suffix}"
    if suffix == ".png":
        cv2.imwrite(str(scan), planes)
    else:
        tifffile.imwrite(scan, planes, photometric="rgb", extrasamples=["unassalpha"])
    assert run("colorize", scan, "-o", tmp_path / "out.png", "--model", tiny_model) == 0
    assert run("colorize", scan, "-o", tmp_path / "out.webp", "--model", tiny_model) == 0
    deep = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and np.array_equal(deep[..., 3], alpha16)
    eight = np.asarray(Image.open(tmp_path / "out.webp").getchannel("A"))
    assert np.abs(eight.astype(int) - alpha16 / 257).max() <= 0.5 + 1e-9, "8-bit formats take it rounded"


def test_one_photo_into_a_new_folder(tmp_path, tiny_model, gray_jpeg):
    (tmp_path / "one").mkdir()
    gray_jpeg.rename(tmp_path / "one" / "scan.jpg")
    assert run("colorize", tmp_path / "one", "-o", tmp_path / "out", "--model", tiny_model) == 0
    assert Image.open(tmp_path / "out" / "scan.png").size == (1000, 700)
    assert run("colorize", tmp_path / "one" / "scan.jpg", "-o", tmp_path / "folder", "--model", tiny_model) == 0
    assert (tmp_path / "folder" / "scan.png").is_file()


def test_side_by_side_photo_shows_gray_then_colour(tmp_path, tiny_model, gray_jpeg):
    out = tmp_path / "review.png"
    assert run("colorize", gray_jpeg, "-o", out, "--model", tiny_model, "--side-by-side") == 0
    review = np.asarray(Image.open(out))
    alone = tmp_path / "alone.png"
    assert run("colorize", gray_jpeg, "-o", alone, "--model", tiny_model) == 0
    gray = np.asarray(Image.open(gray_jpeg).convert("L"))
    assert review.shape == (700, 2000, 3)
    assert np.array_equal(review[:, :1000], np.repeat(gray[..., None], 3, axis=2)), "the gray input on the left"
    assert np.array_equal(review[:, 1000:], np.asarray(Image.open(alone))), "the colour output on the right"
    colour = tmp_path / "colour.png"
    Image.fromarray(textured_rgb(40, 60, seed=3)).save(colour)
    assert run("colorize", colour, "-o", tmp_path / "colour-review.png", "--model", tiny_model, "--side-by-side") == 0
    left = np.asarray(Image.open(tmp_path / "colour-review.png"))[:, :60]
    assert np.array_equal(left[..., 0], left[..., 1]) and np.array_equal(left[..., 1], left[..., 2]), \
        "a colour photo is shown as the gray the model saw"


def test_a_side_by_side_too_wide_for_its_format_is_refused_before_the_colouring(tmp_path, tiny_model, capsys,
                                                                                monkeypatch):
    """Probe 215: a photo 8,200 wide side by side into .webp was refused for 16,400 only once it was coloured."""
    from rehue.inference.colorizer import Colorizer

    Image.fromarray(np.zeros((4, 8200), np.uint8)).save(tmp_path / "wide.png")
    coloured = []
    monkeypatch.setattr(Colorizer, "colorize", lambda self, gray, *args, **kwargs: coloured.append(gray))
    assert run("colorize", tmp_path / "wide.png", "-o", tmp_path / "wide.webp", "--model", tiny_model,
               "--side-by-side") == 1
    assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'wide.webp'}: WEBP holds at most 16383 pixels a "
                                       "side and this image is 16400x4; write it as .png or .tif\n")
    assert coloured == [] and not (tmp_path / "wide.webp").exists()
    from tests.helpers_video import make_clip, textured_frames

    make_clip(tmp_path / "wide.mkv", [np.repeat(frame[..., :1], 3, axis=-1) for frame in textured_frames(2, 16, 8200)],
              codec="ffv1")
    before = sorted(path.name for path in tmp_path.iterdir())
    monkeypatch.setattr(Colorizer, "predict_ab", lambda self, *args, **kwargs: coloured.append(args))
    assert run("colorize", tmp_path / "wide.mkv", "-o", tmp_path / "f_####.webp", "--model", tiny_model,
               "--side-by-side", "--no-progress") == 1  # stop 62: refused once its first frame was coloured
    assert capsys.readouterr().err.splitlines()[-1] == (f"rehue: error: {tmp_path / 'f_####.webp'}: WEBP holds at "
                                                        "most 16383 pixels a side and this image is 16400x16; write it "
                                                        "as .png or .tif")
    assert coloured == [] and sorted(path.name for path in tmp_path.iterdir()) == before


def test_inputs_that_would_share_an_output_name_never_replace_each_other(tmp_path, tiny_model, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(scans / "scan1.tif")
    Image.fromarray(textured_rgb(30, 40, seed=2)[..., 0]).save(scans / "scan1.jpg")
    Image.fromarray(textured_rgb(20, 20, seed=3)[..., 0]).save(scans / "scan2.png")
    out = tmp_path / "out"
    assert run("colorize", scans, scans / "scan2.png", "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert sorted(p.name for p in out.iterdir()) == ["scan1-jpg.png", "scan1-tif.png", "scan2.png"]
    assert Image.open(out / "scan1-tif.png").size == Image.open(out / "scan1-jpg.png").size == (40, 30)

    other = tmp_path / "other"
    other.mkdir()
    Image.fromarray(textured_rgb(20, 20, seed=4)[..., 0]).save(other / "scan2.png")
    together = tmp_path / "together"
    capsys.readouterr()
    assert run("colorize", scans, other, "-o", together, "--model", tiny_model, "--overwrite", "--no-progress") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scan2.png" in err and "separate output folders" in err
    assert not together.exists()


def test_an_output_folder_inside_the_input_folder_is_not_coloured_again(tmp_path, tiny_model):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / "a.png")
    out = photos / "coloured"
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 0
    first = (out / "a.png").read_bytes()
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--overwrite", "--no-progress") == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["a.png"]
    assert (out / "a.png").read_bytes() == first


def test_a_users_own_photos_in_the_output_folder_are_said_not_to_be_coloured(tmp_path, tiny_model, capsys):
    """Probe 149: `colorize b5 -o b5/sub` left the user's b5/sub/y.png uncoloured without a word (the output
    folder's files are no inputs); its own outputs there are passed over without one."""
    from tests.helpers_video import make_clip

    photos = tmp_path / "b5"
    (photos / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/y.png"):
        Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / name)
    options = ["--model", tiny_model, "--no-progress"]
    for _ in range(2):
        capsys.readouterr()
        assert run("colorize", photos, "-o", photos / "sub", *options) == 0
        assert (f"warning: {photos}: 1 picture in the output folder {photos / 'sub'} is not coloured, such as "
                f"{photos / 'sub' / 'y.png'}: a run takes no input from the folder it writes into; colour it into "
                "another folder") in capsys.readouterr().err
    assert sorted(p.name for p in (photos / "sub").iterdir()) == ["a.png", "y.png"]
    make_clip(photos / "sub" / "reel.mp4", [np.zeros((32, 32, 3), np.uint8)] * 2)
    assert run("colorize", photos, "-o", photos / "sub", *options) == 0
    assert f"warning: {photos}: 1 picture and 1 film in the output folder {photos / 'sub'} are not coloured, such as " \
        in capsys.readouterr().err
    for name in ("y.png", "reel.mp4"):
        (photos / "sub" / name).unlink()
    assert run("colorize", photos, "-o", photos / "sub", *options) == 0
    assert "warning" not in capsys.readouterr().err
    (photos / "sub" / "a.png").write_bytes(b"")  # a's own output, cut short: not a picture of the user's (probe 153)
    assert run("colorize", photos, "-o", photos / "sub", *options) == 1
    assert "in the output folder" not in capsys.readouterr().err
    assert run("colorize", photos, "-o", photos / "sub", *options, "--overwrite") == 0
    Image.fromarray(textured_rgb(30, 40, seed=2)[..., 0]).save(tmp_path / "far.png")
    (photos / "sub" / "far.png").symlink_to(tmp_path / "far.png")  # probe 154: coloured into sub/sub/far.png
    capsys.readouterr()
    assert run("colorize", photos, "-o", photos / "sub", *options) == 0
    assert f"1 picture in the output folder {photos / 'sub'} is not coloured, such as {photos / 'sub' / 'far.png'}" \
        in capsys.readouterr().err
    assert not (photos / "sub" / "sub").exists()
    (photos / "sub" / "far.png").unlink()
    Image.fromarray(textured_rgb(30, 40, seed=3)[..., 0]).save(photos / "sub" / "mine.png")
    (photos / "inlink.png").symlink_to(photos / "sub" / "mine.png")  # probe 156: "2 pictures ..., such as inlink.png"
    assert run("colorize", photos, "-o", photos / "sub", *options) == 0
    err = capsys.readouterr().err
    assert f"1 picture in the output folder {photos / 'sub'} is not coloured, such as {photos / 'sub' / 'mine.png'}" \
        in err and (photos / "sub" / "inlink.png").exists(), err


def test_an_earlier_runs_outputs_in_another_folder_inside_are_passed_over_with_a_warning(tmp_path, tiny_model,
                                                                                         capsys):
    """Probe 68: `colorize s2 -o s2/v1`, then `-o s2/v2`, coloured v1's outputs again into v2/v1, each warned
    of as "in colour already (a toned print, a tinted photo?)", where its Software tag says rehue made it."""
    from tests.helpers_video import make_clip, textured_frames

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / "a.png")
    make_clip(photos / "film.mp4", [np.repeat(frame[..., :1], 3, axis=-1) for frame in textured_frames(3, 32, 32)])
    options = ["--model", tiny_model, "--dependent-model", "none", "--no-progress"]
    assert run("colorize", photos, "-o", photos / "v1", *options) == 0
    capsys.readouterr()
    assert run("colorize", photos, "-o", photos / "v2", *options) == 0
    assert sorted(p.relative_to(photos / "v2").as_posix() for p in (photos / "v2").rglob("*")) == ["a.png", "film.mp4"]
    err = capsys.readouterr().err
    assert (f"warning: {photos}: passed over 2 files that rehue coloured, such as {photos / 'v1' / 'a.png'}: an "
            "earlier run's outputs, not inputs; name them to colour them again") in err
    assert "in colour already" not in err
    assert run("colorize", photos / "v1", "-o", tmp_path / "v3", *options) == 1
    assert capsys.readouterr().err.strip() == (
        f"rehue: error: {photos / 'v1'}: holds only pictures or films that rehue coloured, such as "
        f"{photos / 'v1' / 'a.png'}: an earlier run's outputs, not inputs; name the files to colour them again")
    assert not (tmp_path / "v3").exists()
    assert run("colorize", photos / "v1", "-o", photos / "v1", *options) == 1  # probe 161: "no images or videos
    assert capsys.readouterr().err.strip() == (  # found", of a folder coloured into itself
        f"rehue: error: {photos / 'v1'}: holds only pictures or films that rehue coloured, such as "
        f"{photos / 'v1' / 'a.png'}: an earlier run's outputs, not inputs; name the files and another output folder "
        "to colour them again")
    (tmp_path / "elsewhere").mkdir()
    (photos / "linked").symlink_to(tmp_path / "elsewhere")
    assert run("colorize", photos, "-o", photos / "linked", *options) == 0
    assert "linked folder" not in capsys.readouterr().err, \
        "probe 69: the output folder, a link inside the input, was named as a linked folder to colour too"
    assert run("colorize", photos / "v1" / "a.png", "-o", tmp_path / "again.png", *options) == 0
    assert (f"warning: {photos / 'v1' / 'a.png'}: rehue coloured it; its colour is replaced by the model's, from its "
            "lightness alone") in capsys.readouterr().err


def test_earlier_outputs_in_every_format_rehue_writes_are_known_as_its_own(tmp_path, tiny_model, capsys):
    """Probe 69: rehue's own .mkv (the FFV1 master) and .webm were coloured again, and taken for colour truth
    by `frames` (Matroska calls the comment COMMENT); its .dpx and .exr were coloured again (Pillow reads
    neither header)."""
    from rehue.video.io import VideoReader
    from tests.helpers_video import make_clip, textured_frames

    gray_film = make_clip(tmp_path / "film.mp4", [np.repeat(frame[..., :1], 3, axis=-1)
                                                  for frame in textured_frames(3, 32, 32)])
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(tmp_path / "photo.png")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    options = ["--model", tiny_model, "--dependent-model", "none", "--no-progress"]
    # FFV1 as its makers spell it (probe 105: refused)
    for source, name, extra in ((gray_film, "master.mkv", ["--codec", "FFV1"]), (gray_film, "web.webm", []),
                                (tmp_path / "photo.png", "scan.dpx", []), (tmp_path / "photo.png", "scan.exr", [])):
        assert run("colorize", source, "-o", earlier / name, *options, *extra) == 0, name
    for name in ("master.mkv", "web.webm"):
        with VideoReader(earlier / name) as reader:
            assert reader.coloured_by_rehue, name
    capsys.readouterr()
    assert run("colorize", earlier, "-o", tmp_path / "again", *options) == 1
    assert "holds only pictures or films that rehue coloured" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()
    assert run("colorize", earlier / "master.mkv", "-o", tmp_path / "again.mkv", *options) == 0
    assert f"warning: {earlier / 'master.mkv'}: rehue coloured it; its colour is replaced" in \
        capsys.readouterr().err, "probe 74: a film of rehue's named as an input was 'a tinted or toned print?'"


def test_an_output_folder_that_holds_png_inputs_is_refused_before_anything_is_written(tmp_path, tiny_model, capsys):
    """Before, `-o` naming the input folder coloured the JPEGs and failed file by file on the PNGs, each
    of which would have been replaced by its own colour version."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / "a.jpg")
    for name in ("b.png", "c.png"):
        Image.fromarray(textured_rgb(30, 40, seed=2)[..., 0]).save(photos / name)
    before = {path.name: path.read_bytes() for path in photos.iterdir()}
    for options in ([], ["--overwrite"]):
        capsys.readouterr()
        assert run("colorize", photos, "-o", photos, "--model", tiny_model, "--no-progress", *options) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"rehue: error: {photos / 'b.png'}: would be replaced by its own colour version (and 1 more): "
                       "the output folder holds the inputs; name another folder with -o"]
        assert {path.name: path.read_bytes() for path in photos.iterdir()} == before

    (photos / "b.png").unlink()
    (photos / "c.png").unlink()
    assert run("colorize", photos, "-o", photos, "--model", tiny_model, "--no-progress") == 0
    assert sorted(path.name for path in photos.iterdir()) == ["a.jpg", "a.png"], "JPEGs may be coloured beside"


def test_a_colour_input_and_transparency_into_jpeg_are_coloured_with_a_warning(tmp_path, tiny_model, capsys):
    """Before, a toned print scanned in colour lost its colour, and a JPEG output its transparency, without
    a word. A gray scan saved as RGB (equal channels, up to JPEG's rounding) is not taken for colour."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(40, 60, seed=1)).save(photos / "toned.png")
    gray = textured_rgb(40, 60, seed=2)[..., 1]
    Image.fromarray(np.repeat(gray[..., None], 3, axis=2)).save(photos / "gray-as-rgb.jpg", quality=90)
    Image.merge("LA", [Image.fromarray(gray), Image.fromarray(np.full_like(gray, 128))]).save(photos / "cut.png")
    assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {photos / 'toned.png'}: is in colour already (a toned print, a tinted photo?); "
                        "its colour is replaced by the model's, from its lightness alone"]
    assert run("colorize", photos / "cut.png", "-o", tmp_path / "cut.jpg", "--model", tiny_model) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        f"warning: {tmp_path / 'cut.jpg'}: JPEG holds no transparency, so the transparent parts show; write .png, "
        ".webp or .tif to keep it")


def test_video_options_on_photos_alone_are_a_usage_error(tmp_path, tiny_model, gray_jpeg, capsys):
    """Before, --start and --end were left unused without a word when no input was a video."""
    assert run("colorize", gray_jpeg, "-o", tmp_path / "out.png", "--model", tiny_model, "--start", "1",
               "--end", "2") == 2
    assert capsys.readouterr().err.strip() == "rehue: error: --start, --end: only for videos, and no input is one"
    assert not (tmp_path / "out.png").exists()
    # before, the encoder's settings too, and the scene detector's (left at their defaults, they are not said)
    assert run("colorize", gray_jpeg, "-o", tmp_path / "out.png", "--model", tiny_model, "--crf", "10",
               "--codec", "ffv1", "--preset", "slow") == 2
    assert capsys.readouterr().err.strip() == ("rehue: error: --codec, --crf, --preset: only for videos, and no "
                                               "input is one")
    assert not (tmp_path / "out.png").exists()
    # the models and scene detector a film is coloured with: a script names them for every file
    assert run("colorize", gray_jpeg, "-o", tmp_path / "out.png", "--model", tiny_model, "--side-by-side",
               "--dependent-model", "none", "--scene-mode", "thesis") == 0


def test_encoder_settings_for_frames_into_a_folder_are_a_usage_error(tmp_path, tiny_model, capsys):
    """Before, --crf and --preset were left unused without a word where --frames wrote pictures."""
    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(2):
        Image.fromarray(np.full((16, 16), 90 + number, np.uint8)).save(reel / f"r_{number}.png")
    assert run("colorize", reel, "--frames", "-o", tmp_path / "out", "--model", tiny_model, "--crf", "10",
               "--preset", "slow") == 2
    assert capsys.readouterr().err.strip() == ("rehue: error: --crf, --preset: not for --frames into a folder (every "
                                               "frame is written as an image; --ext sets its format)")
    assert not (tmp_path / "out").exists()


def test_a_sound_file_named_as_an_input_is_told_so_and_one_in_a_folder_is_passed_over(tmp_path, tiny_model, capsys):
    """Probe 67: `colorize song.m4a -o out/` said "not an image file (or a format Pillow cannot read)", and
    `-o x.mp4` "unsupported output extension '.mp4'"."""
    from tests.helpers_video import make_audio_file

    song = make_audio_file(tmp_path / "song.m4a")
    import av

    with av.open(str(song)) as iTunes, av.open(str(tmp_path / "plain.m4a"), "w", format="mp4") as plain:
        stream = plain.add_stream_from_template(iTunes.streams.audio[0])  # probe 69: brand isom, not M4A
        for packet in iTunes.demux(iTunes.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                plain.mux(packet)
    for sound in (song, tmp_path / "plain.m4a"):
        for output in (tmp_path / "x.mp4", tmp_path / "out"):
            assert run("colorize", sound, "-o", output, "--model", tiny_model) == 1
            said = capsys.readouterr().err.strip()
            assert said == f"rehue: error: {sound}: is a sound file: it holds no picture to colour"
            assert not output.exists()
    (tmp_path / "plain.m4a").unlink()
    folder = tmp_path / "film"
    folder.mkdir()
    song.rename(folder / "soundtrack.m4a")
    Image.fromarray(textured_rgb(30, 40)[..., 0]).save(folder / "still.png")
    assert run("colorize", folder, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["still.png"]


def test_a_number_pattern_as_the_output_of_frames_is_a_usage_error(tmp_path, tiny_model, capsys):
    """Probe 69: `--frames -o fr/f_####` made a folder named "f_####" holding the frames under their names."""
    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(2):
        Image.fromarray(np.full((16, 16), 90 + number, np.uint8)).save(reel / f"r_{number}.png")
    for name in ("f_####", "f_%04d.png"):
        assert run("colorize", reel, "--frames", "-o", tmp_path / "fr" / name, "--model", tiny_model) == 2
        assert capsys.readouterr().err.strip().endswith(
            f"{name}: --frames keeps each frame's own name, in an output folder (or joins the frames into a video "
            "file); a number pattern names a video's frames")
    assert not (tmp_path / "fr").exists()


def test_picture_settings_for_a_video_file_are_a_usage_error(tmp_path, tiny_model, capsys):
    """Probe 67: --ext and --quality were passed over without a word where the output is a video file."""
    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(2):
        Image.fromarray(np.full((16, 16), 90 + number, np.uint8)).save(reel / f"r_{number}.png")
    for options in (["--frames", "--ext", ".dpx"], ["--frames", "--quality", "80"], ["--ext", "tif"]):
        assert run("colorize", reel, "-o", tmp_path / "out.mp4", "--model", tiny_model, *options) == 2
        assert capsys.readouterr().err.strip() == (f"rehue: error: {options[-2]}: for pictures, not a video file (its "
                                                   "quality is --crf's, its format its extension's)")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["models", "reel"]
    assert run("colorize", reel, "--frames", "-o", tmp_path / "film.mp4", "--model", tiny_model) == 0
    assert run("colorize", tmp_path / "film.mp4", "-o", tmp_path / "fr" / "f_%04d.png", "--ext", ".jpg",
               "--model", tiny_model) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--ext: the frames' format is their pattern's extension (.png), not --ext's"), "probe 69: PNG without a word"
    assert not (tmp_path / "fr").exists()
    Image.fromarray(np.full((16, 16), 90, np.uint8)).save(tmp_path / "photo.png")
    assert run("colorize", tmp_path / "photo.png", "-o", tmp_path / "photo.mp4", "--codec", "ffv1",
               "--model", tiny_model) == 2
    assert capsys.readouterr().err.strip() == (  # probe 71: it was 'FFV1 is written to .mkv', as though a photo
        f"rehue: error: {tmp_path / 'photo.mp4'}: names a video, and {tmp_path / 'photo.png'} is a picture; name a "
        "picture file, such as photo.png")  # could be a video; since probe 134, the output's name is said first
    assert run("colorize", tmp_path / "photo.png", "-o", tmp_path / "photo.tif", "--codec", "ffv1",
               "--model", tiny_model) == 2
    assert capsys.readouterr().err.strip() == "rehue: error: --codec: only for videos, and no input is one"


@pytest.mark.parametrize(("inputs", "output", "options", "message"), [
    (["photo.png"], "colour.png", ["--ext", ".jpg"], "--ext: {tmp}/colour.png names the file, and its extension its "
                                                     "format"),
    (["photo.png"], "colour.png", ["--quality", "50"], "--quality: for JPEG and WebP, and the pictures are written as "
                                                       "PNG"),
    (["photo.png", "scan.tif"], "out", ["--quality", "50"], "--quality: for JPEG and WebP, and the pictures are "
                                                            "written as PNG"),
    (["photo.png"], "colour.tif", ["--quality", "50"], "--quality: for JPEG and WebP, and the pictures are written as "
                                                       "TIFF"),
    (["film.mp4"], "out", ["--ext", ".jpg"], "--ext: the format of pictures written into a folder, and every input "
                                             "is a video, written as one (its frames as pictures: -o NAME_%04d.png)"),
    (["film.mp4"], "out", ["--quality", "50"], "--quality: for JPEG and WebP, and every input is a video, written as "
                                               "one (its quality is --crf's)"),
    (["film.mp4"], "f_%03d.png", ["--quality", "50"], "--quality: for JPEG and WebP, and the pictures are written as "
                                                      "PNG"),
    (["reel"], "frames-out", ["--frames", "--quality", "50"], "--quality: for JPEG and WebP, and the pictures are "
                                                              "written as PNG"),
    (["photo.png"], "colour.png", ["--dependent-model", "nosuch"], "nosuch: no such model file or shipped model name"),
])
def test_a_setting_no_output_uses_is_refused(tmp_path, tiny_model, capsys, inputs, output, options, message):
    """Before, --ext with -o naming one picture, --quality where nothing is written as JPEG or WebP, and a
    mistyped --dependent-model where no input is a film were passed over without a word."""
    gray = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "photo.png")
    Image.fromarray(gray).save(tmp_path / "scan.tif")
    (tmp_path / "reel").mkdir()
    for number in range(2):
        Image.fromarray(gray).save(tmp_path / "reel" / f"r_{number}.png")
    from tests.helpers_video import make_clip

    make_clip(tmp_path / "film.mp4", [np.stack([gray] * 3, axis=-1)] * 3)
    before = sorted(path.name for path in tmp_path.iterdir())
    status = run("colorize", *(tmp_path / name for name in inputs), "-o", tmp_path / output, "--model", tiny_model,
                 *options)
    assert status == (1 if "--dependent-model" in options else 2)
    err = capsys.readouterr().err.strip()
    assert err.startswith("rehue: error: ") and message.format(tmp=tmp_path) in err and "\n" not in err, err
    assert sorted(path.name for path in tmp_path.iterdir()) == before, "nothing written"


def test_a_dependent_model_no_film_can_use_is_said_once_before_any_file_is_written(tmp_path, tiny_model, capsys):
    """Probe 185: a batch of a photo and films wrote the photo, then failed on each film alike ("nope: no such
    model file", "must take 3 input channels"), each film said to have failed; `--dependent-model=` was exit 1
    there and exit 2 for one film."""
    clip, reel = _gray_clip_and_reel(tmp_path)
    from rehue.inference.files import colorize_paths

    Image.fromarray(np.full((24, 32), 90, np.uint8)).save(tmp_path / "photo.png")
    shutil.copy(clip, tmp_path / "second.mp4")
    before = sorted(path.name for path in tmp_path.iterdir())
    for inputs, output in (([tmp_path / "photo.png", clip, tmp_path / "second.mp4"], tmp_path / "out"),
                           ([reel, "--frames"], tmp_path / "frames-out")):
        for dependent, status, said in (("nope", 1, "rehue: error: nope: no such model file or shipped model name"),
                                        (str(tiny_model), 1, f"rehue: error: {tiny_model}: the dependent model must "
                                                             "take 3 input channels (L* + previous a*b*)"),
                                        ("", 2, "rehue colorize: error: argument --dependent-model: an empty value "
                                                "names nothing")):
            try:
                exit_status = run("colorize", *inputs, "-o", output, "--model", tiny_model,
                                  f"--dependent-model={dependent}", "--no-progress")
            except SystemExit as exit_:  # argparse's error, as every empty value's
                exit_status = exit_.code
            err = capsys.readouterr().err.splitlines()
            assert exit_status == status and len(err) == 1 and err[0].startswith(said), err
            assert sorted(path.name for path in tmp_path.iterdir()) == before, "nothing written"
        with pytest.raises(UsageError, match="^an empty name names no model"):  # the library's own words
            colorize_paths([*inputs[:1]], output, model=tiny_model, frames="--frames" in inputs,
                           video_options={"dependent_model": ""}, progress=False)
        assert sorted(path.name for path in tmp_path.iterdir()) == before
    not_given = {name: None for name in ("dependent_model", "scene_mode", "codec", "crf", "preset", "start", "end")}
    summary = colorize_paths([tmp_path / "photo.png", clip], tmp_path / "out", model=tiny_model,
                             video_options=not_given, progress=False)  # probe 186: None failed each film
    assert not summary.failed and sorted(path.name for path in (tmp_path / "out").iterdir()) == ["clip.mp4",
                                                                                                "photo.png"]


def test_a_dependent_model_is_loaded_once_for_a_batch_of_films_and_again_when_retrained(tmp_path, tiny_model,
                                                                                          tiny_dependent_model,
                                                                                          monkeypatch):
    """Stop 62: a batch of films loaded the dependent model once to check it and again for each film (0.1-0.9 s
    each); a model written anew in place between two calls is still read afresh."""
    from rehue.inference.colorizer import Colorizer
    from rehue.inference.files import colorize_paths
    from tests.conftest import make_tiny_model

    clip, _ = _gray_clip_and_reel(tmp_path)
    films = [tmp_path / f"film{number}.mp4" for number in range(3)]
    for film in films:
        shutil.copy(clip, film)
    loaded = []
    load = Colorizer.load.__func__

    def counted_load(cls, model="default", device="auto", role="independent", **settings):
        loaded.append((role, Path(model).name))
        return load(cls, model, device, role, **settings)

    monkeypatch.setattr(Colorizer, "load", classmethod(counted_load))
    options = {"dependent_model": str(tiny_dependent_model)}
    summary = colorize_paths(films, tmp_path / "out", model=tiny_model, video_options=options, progress=False)
    assert not summary.failed and len(list((tmp_path / "out").iterdir())) == 3
    assert loaded == [("independent", tiny_model.name), ("dependent", tiny_dependent_model.name)], loaded

    from rehue.video.pipeline import load_dependent

    independent = Colorizer.load(tiny_model, device="cpu")
    first = load_dependent(str(tiny_dependent_model), independent, print)
    assert load_dependent(str(tiny_dependent_model), independent, print) is first
    make_tiny_model(tiny_dependent_model, in_channels=3, seed=7)
    again = load_dependent(str(tiny_dependent_model), independent, print)
    assert again is not first and again.fingerprint != first.fingerprint, "the model retrained in place is read"


def test_a_wrong_output_name_is_said_before_an_unused_setting_and_the_library_takes_its_defaults(tmp_path,
                                                                                                   tiny_model, capsys):
    """Probe 117: `--frames -o one.jpg --quality 60` was told "--quality: ... written as PNG", not that one.jpg
    names a picture; `-o scans.v2 --ext .jpg` that scans.v2 "names the file", though .v2 is no format; and the
    library refused a call that passed quality=95, image_ext=".png" as before."""
    from rehue.inference.files import colorize_paths

    gray = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "photo.png")
    (tmp_path / "reel").mkdir()
    for number in range(2):
        Image.fromarray(gray).save(tmp_path / "reel" / f"r_{number}.png")
    for inputs, output, options, said in (
            ("reel", "one.jpg", ["--frames", "--quality", "60"], "one.jpg: names a picture, and --frames writes"),
            ("reel", "g_%04d.jpg", ["--frames", "--quality", "60"], "g_%04d.jpg: --frames keeps each frame's own"),
            ("photo.png", "scans.v2", ["--ext", ".jpg"], "unsupported output extension '.v2'")):
        assert run("colorize", tmp_path / inputs, "-o", tmp_path / output, "--model", tiny_model, *options) == 2
        assert said in capsys.readouterr().err, output
    summary = colorize_paths([tmp_path / "photo.png"], tmp_path / "x.png", model=str(tiny_model), quality=95,
                             image_ext=".png", progress=False)
    assert summary.done == [tmp_path / "x.png"]
    summary = colorize_paths([tmp_path / "reel"], tmp_path / "frames-out", model=str(tiny_model), quality=95,
                             image_ext=".png", progress=False, frames=True)
    assert len(summary.done) == 1


def test_a_setting_an_output_uses_is_taken(tmp_path, tiny_model):
    """The settings the test above refuses, where an output uses them."""
    gray = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "photo.png")
    assert run("colorize", tmp_path / "photo.png", "-o", tmp_path / "out", "--ext", ".jpg", "--quality", "50",
               "--model", tiny_model, "--dependent-model", "none") == 0
    assert Image.open(tmp_path / "out" / "photo.jpg").format == "JPEG"
    assert run("colorize", tmp_path / "photo.png", "-o", tmp_path / "c.webp", "--quality", "50",
               "--model", tiny_model) == 0


def test_a_batch_run_again_skips_what_it_coloured_before_and_colours_the_rest(tmp_path, tiny_model, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(textured_rgb(30, 40, seed=i)[..., 0]).save(photos / f"p{i}.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "p1.png").write_bytes(b"kept: coloured by an earlier, interrupted run")
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert capsys.readouterr().err.strip().endswith(
        "coloured 2 files, 1 skipped: its output exists (--overwrite replaces it)")
    assert (out / "p1.png").read_bytes().startswith(b"kept")
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress", "--overwrite") == 0
    assert Image.open(out / "p1.png").size == (40, 30)


def test_a_rerun_removes_the_half_written_files_a_killed_run_left_and_nothing_else(tmp_path, tiny_model, capsys):
    """kill -9 or a power cut leaves a temp file no cleanup could remove; before, a rerun left it forever."""
    import os

    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    out.mkdir()
    for i in range(2):
        Image.fromarray(textured_rgb(30, 40, seed=i)[..., 0]).save(photos / f"p{i}.png")
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    killed = out / f".p0.rehue-tmp{finished.pid}.png"
    running = out / f".p1.rehue-tmp{os.getppid()}.png"  # a run still writing
    not_ours = out / f".notes.rehue-tmp{finished.pid}.png"  # no input of this run would be written there
    for path in (killed, running, not_ours):
        path.write_bytes(b"half a PNG")
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert f"note: removed 1 half-written file that a killed run left, such as {killed}" in capsys.readouterr().err
    assert not killed.exists() and running.exists() and not_ours.exists()
    assert (out / "p0.png").exists() and (out / "p1.png").exists()


def test_names_near_the_file_systems_limit_are_written_and_their_killed_temp_files_found(tmp_path, tiny_model,
                                                                                        capsys):
    """The temp name is about 20 bytes longer than the output's: before, an output name of 240-255 bytes
    failed with "File name too long" though the file system takes it."""
    import os

    from rehue.data.images import temp_path_for

    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    names = ["y" * 251, "港" * 83]  # 255 bytes with ".png", and 249 + 4 in UTF-8
    for i, stem in enumerate(names):
        Image.fromarray(textured_rgb(30, 40, seed=i)[..., 0]).save(photos / f"{stem}.png")
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    out.mkdir()
    ours = temp_path_for(out / f"{names[0]}.png")
    killed = ours.with_name(ours.name.replace(str(os.getpid()), str(finished.pid)))
    killed.write_bytes(b"half a PNG")
    assert len(killed.name.encode()) <= 255
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{stem}.png" for stem in names)
    assert f"such as {killed}" in capsys.readouterr().err, "a killed run's shortened temp file is still found"

    twins, twins_out = tmp_path / "twins", tmp_path / "twins-out"  # told apart by extension: "-tif" added
    twins.mkdir()
    for suffix in (".tif", ".jpg"):
        Image.fromarray(textured_rgb(30, 40)[..., 0]).save(twins / f"{'s' * 250}{suffix}")
    assert run("colorize", twins, "-o", twins_out, "--model", tiny_model, "--no-progress") == 0
    names = sorted(p.name for p in twins_out.iterdir())
    assert len(names) == 2 and all(len(name.encode()) <= 255 for name in names)
    assert [name.rsplit("-", 1)[1] for name in names] == ["jpg.png", "tif.png"]


def test_a_multi_page_scan_is_coloured_as_its_first_page_with_a_warning(tmp_path, tiny_model, capsys):
    pages = [Image.fromarray(textured_rgb(30, 40, seed=i)[..., 0]) for i in range(3)]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    pages[0].save(tmp_path / "one.tif")
    assert run("colorize", tmp_path / "pages.tif", "-o", tmp_path / "pages.png", "--model", tiny_model) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warning == [f"warning: {tmp_path / 'pages.tif'}: holds 3 pages or frames and only the first is coloured: "
                       "split a multi-page scan into one file a page, or make an animation a video "
                       "(ffmpeg -i IN.gif OUT.mp4), first"]
    assert run("colorize", tmp_path / "one.tif", "-o", tmp_path / "one.png", "--model", tiny_model) == 0
    assert "warning" not in capsys.readouterr().err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "pages.png")), np.asarray(Image.open(tmp_path / "one.png")))


def test_a_multi_page_scan_whose_later_pages_are_damaged_is_coloured_as_its_first_page(tmp_path, tiny_model,
                                                                                       capsys):
    """Probe 116: a two-page TIFF cut short in its second page, or whose pointer to it lies past the file's end,
    ended a folder batch in a traceback (TypeError: Missing dimensions), the files after it not coloured."""
    pages = [Image.fromarray(textured_rgb(60, 80, seed=i)[..., 0]) for i in range(2)]
    folder = tmp_path / "scans"
    folder.mkdir()
    pages[0].save(tmp_path / "two.tif", save_all=True, append_images=pages[1:])
    pages[0].save(tmp_path / "one.tif")
    data = (tmp_path / "two.tif").read_bytes()
    first_page = int.from_bytes(data[4:8], "little")
    entries = int.from_bytes(data[first_page:first_page + 2], "little")
    pointer = first_page + 2 + 12 * entries
    second_page = int.from_bytes(data[pointer:pointer + 4], "little")
    assert first_page < second_page < len(data)
    (folder / "a-cut.tif").write_bytes(data[:second_page + 6])  # in the second page's tags
    (folder / "b-pointer.tif").write_bytes(data[:pointer] + (len(data) + 100_000).to_bytes(4, "little")
                                           + data[pointer + 4:])
    Image.fromarray(textured_rgb(30, 40)[..., 0]).save(folder / "c.png")
    assert run("colorize", folder, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f"warning: {folder / 'a-cut.tif'}: holds more pages or frames than its first, which are "
                      "damaged or cut off (an interrupted copy?); only the first is coloured"), err
    assert err[1:] == [f"warning: {folder / 'b-pointer.tif'}: the same warning as {folder / 'a-cut.tif'}'s above "
                       "(holds more pages or frames than its first...)", "coloured 3 files"], err
    assert run("colorize", tmp_path / "one.tif", "-o", tmp_path / "one.png", "--model", tiny_model) == 0
    for name in ("a-cut.png", "b-pointer.png"):
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / name)),
                              np.asarray(Image.open(tmp_path / "one.png"))), name


def test_a_folder_colours_every_picture_and_film_format_it_reads_and_names_those_it_does_not(tmp_path, tiny_model,
                                                                                             capsys):
    """Before, a folder's JPEG 2000, AVIF, JFIF and TGA photos and its MXF, DV and VOB films were passed
    over without a word ("coloured 2 file(s)", exit 0), though each coloured fine on its own."""
    from tests.helpers_video import make_clip

    folder = tmp_path / "archive"
    folder.mkdir()
    picture = Image.fromarray(textured_rgb(40, 48, seed=1)).convert("L")
    for name in ("a.png", "b.jp2", "c.avif", "d.jfif", "e.tga"):
        picture.save(folder / name, format={"jfif": "JPEG"}.get(name.split(".")[1]))
    clip = make_clip(tmp_path / "clip.mp4", [textured_rgb(32, 48, seed=i) for i in range(3)], fps=3)
    for name in ("reel.mxf", "tape.dv", "VTS_01_1.VOB"):
        (folder / name).write_bytes(clip.read_bytes())  # FFmpeg reads a file by its content
    (folder / "phone.heic").write_bytes(b"not read")
    (folder / "raw.cr2").write_bytes(b"not read")
    (folder / "layers.psd").write_bytes(b"not read")
    (folder / "go.mod").write_text("module archive\n")  # not a JVC camcorder's film
    (folder / "notes.txt").write_text("neither a picture nor a film: no word about it")
    assert run("colorize", folder, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    err = capsys.readouterr().err
    assert "coloured 8 files" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "VTS_01_1.mp4", "a.png", "b.png", "c.png", "d.png", "e.png", "reel.mp4", "tape.mp4"]
    assert (f"warning: {folder}: 3 files passed over, in formats rehue does not read (1 .psd, 1 HEIC/HEIF, 1 .cr2); "
            "convert them to TIFF or PNG (photos) or MP4 (films) first") in err
    assert "notes.txt" not in err and ".txt" not in err


def test_a_sixteen_bit_scan_into_an_eight_bit_format_says_so(tmp_path, tiny_model, capsys):
    scan = tmp_path / "scan16.png"
    Image.fromarray((np.linspace(0, 65535, 40 * 30).reshape(30, 40)).astype(np.uint16)).save(scan)
    assert run("colorize", scan, "-o", tmp_path / "out.jpg", "--model", tiny_model, "--no-progress") == 0
    assert (f"warning: {tmp_path / 'out.jpg'}: .jpg holds 8 bits a sample, so this 16-bit scan is written at 8; "
            "write .png or .tif to keep its depth") in capsys.readouterr().err
    assert run("colorize", scan, "-o", tmp_path / "out.png", "--model", tiny_model, "--no-progress") == 0
    assert "warning" not in capsys.readouterr().err


def test_an_earlier_runs_output_under_a_name_now_shared_is_named_in_a_warning(tmp_path, tiny_model, capsys):
    """A scan added beside another of its name (a.png beside a.tif) sends both to a-tif.png and a-png.png;
    before, the first run's a.png, a.tif's colour, was left without a word, and passed for a.png's (probe 51)."""
    scans, out = tmp_path / "scans", tmp_path / "out"
    scans.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(scans / "a.tif")
    assert run("colorize", scans, "-o", out, "--model", tiny_model, "--no-progress") == 0
    Image.fromarray(textured_rgb(30, 40, seed=2)[..., 0]).save(scans / "a.png")
    capsys.readouterr()
    assert run("colorize", scans, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert sorted(path.name for path in out.iterdir()) == ["a-png.png", "a-tif.png", "a.png"]
    err = capsys.readouterr().err
    assert (f"warning: {out / 'a.png'}: an earlier run's colour version of one of a.png and a.tif, which are now "
            "coloured into a-png.png and a-tif.png; remove it, as its name no longer says which it shows") in err
    (out / "a.png").unlink()
    Image.fromarray(textured_rgb(30, 40, seed=3)[..., 0]).save(out / "a.png")  # the user's own file: theirs
    assert run("colorize", scans, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("suffix,cut", [(".png", 40), (".jpg", 40), (".png", "empty"), (".jpg", "head"),
                                        (".tif", "empty")])
def test_an_output_cut_short_is_not_counted_as_done(tmp_path, tiny_model, capsys, suffix, cut):
    """Before, a run after an output was cut short (an interrupted copy of the output folder) counted it as
    done, exit 0, and the broken file stayed (probe 51). Now it is an error naming it, exit 1, until it is
    removed or --overwrite colours it again; a whole output is still passed over. An empty output, or one of the
    format's first bytes alone, was still taken as done (probe 149)."""
    scans, out = tmp_path / "scans", tmp_path / "out"
    scans.mkdir()
    for name in ("a", "b"):
        Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(scans / f"{name}.png")
    options = ["--model", tiny_model, "--no-progress", "--ext", suffix]
    assert run("colorize", scans, "-o", out, *options) == 0
    whole = (out / f"b{suffix}").read_bytes()
    kept = {40: slice(None, -40), "empty": slice(0, 0), "head": slice(None, 2)}[cut]
    (out / f"a{suffix}").write_bytes((out / f"a{suffix}").read_bytes()[kept])
    capsys.readouterr()
    assert run("colorize", scans, "-o", out, *options) == 1
    err = capsys.readouterr().err
    assert (f"rehue: error: {scans / 'a.png'}: its output {out / f'a{suffix}'} is cut short (an interrupted copy?): "
            "remove it, or pass --overwrite to colour it again\n") in err
    assert "1 failed, 1 skipped" in err and (out / f"b{suffix}").read_bytes() == whole
    assert run("colorize", scans, "-o", out, *options, "--overwrite") == 0
    assert run("colorize", scans, "-o", out, *options) == 0
    assert "2 skipped" in capsys.readouterr().err


def test_a_cut_short_output_under_a_told_apart_name_is_not_called_the_users_picture(tmp_path, tiny_model, capsys):
    """Probe 209: scan1.tif and scan1.jpg coloured into scans/out as scan1-tif.png and scan1-jpg.png; one cut short
    was called both "1 picture in the output folder ... not coloured" (the user's) and the input's output."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for suffix in (".tif", ".jpg"):
        Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(scans / f"scan1{suffix}")
    options = ["--model", tiny_model, "--no-progress"]
    assert run("colorize", scans, "-o", scans / "out", *options) == 0
    (scans / "out" / "scan1-tif.png").write_bytes(b"")
    capsys.readouterr()
    assert run("colorize", scans, "-o", scans / "out", *options) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"rehue: error: {scans / 'scan1.tif'}: its output {scans / 'out' / 'scan1-tif.png'} is cut "
                          "short (an interrupted copy?)") and "warning" not in err, err
    (tmp_path / "extra").mkdir()  # probe 210: names shared across two inputs, and numbered to tell them apart
    for name in ("c.jpg", "a.png", "a-png.png"):
        Image.fromarray(textured_rgb(30, 40, seed=2)[..., 0]).save((scans if name != "c.jpg" else tmp_path / "extra")
                                                                   / name)
    Image.fromarray(textured_rgb(30, 40, seed=3)[..., 0]).save(scans / "c.png")
    Image.fromarray(textured_rgb(30, 40, seed=3)[..., 0]).save(scans / "a.jpg")
    assert run("colorize", scans, tmp_path / "extra", "-o", scans / "out", *options, "--overwrite") == 0
    assert {"c-png.png", "c-jpg.png", "a-png-2.png"} <= {path.name for path in (scans / "out").iterdir()}
    for name in ("c-png.png", "c-jpg.png", "a-png-2.png"):
        (scans / "out" / name).write_bytes(b"")
    capsys.readouterr()
    assert run("colorize", scans, tmp_path / "extra", "-o", scans / "out", *options) == 1
    err = capsys.readouterr().err
    assert "in the output folder" not in err and err.count("rehue: error:") == 3 and "3 failed" in err, err


def test_the_users_picture_under_a_name_the_outputs_were_told_apart_from_is_said_once(tmp_path, tiny_model, capsys):
    """Probe 212: the user's col/a.png, beside the outputs a-png.png and a-jpg.png of a.png and a.jpg, was passed over
    without a word; and one in p/sub/out, coloured from p and p/sub, was said twice."""
    photos = tmp_path / "photos"
    (photos / "col").mkdir(parents=True)
    for seed, name in enumerate(("a.png", "a.jpg", "b.png", "col/a.png")):
        Image.fromarray(textured_rgb(30, 40, seed=seed)[..., 0]).save(photos / name)
    options = ["--model", tiny_model, "--no-progress"]
    assert run("colorize", photos, "-o", photos / "col", *options) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "in the output folder" in line]
    assert warned == [f"warning: {photos}: 1 picture in the output folder {photos / 'col'} is not coloured, such as "
                      f"{photos / 'col' / 'a.png'}: a run takes no input from the folder it writes into; colour it "
                      "into another folder"]
    (tmp_path / "p" / "sub" / "out").mkdir(parents=True)
    for seed, name in enumerate(("a.png", "sub/b.png", "sub/out/mine.png")):
        Image.fromarray(textured_rgb(30, 40, seed=seed)[..., 0]).save(tmp_path / "p" / name)
    assert run("colorize", tmp_path / "p", tmp_path / "p" / "sub", "-o", tmp_path / "p" / "sub" / "out", *options) == 0
    assert capsys.readouterr().err.count("mine.png") == 1


def test_a_batch_of_films_run_again_passes_over_those_coloured_whole(tmp_path, tiny_model, capsys):
    """Probe 149: the same `--frames` command of two films run again (after an interruption of the second, or
    after both had finished) failed each finished film, "output exists", exit 1, where a batch of files passes
    over the files done."""
    reels = [tmp_path / "r1", tmp_path / "r2"]
    for seed, reel in enumerate(reels):
        reel.mkdir()
        for number in range(3):
            Image.fromarray(textured_rgb(30, 40, seed=seed)[..., number % 3]).save(reel / f"f_{number:04d}.png")
    command = ["colorize", *reels, "--frames", "-o", tmp_path / "out", "--model", tiny_model, "--dependent-model",
               "none", "--no-progress"]
    assert run(*command) == 0
    frames = {path: path.read_bytes() for path in sorted((tmp_path / "out").rglob("*.png"))}
    assert len(frames) == 6
    capsys.readouterr()
    assert run(*command) == 0
    assert "coloured 0 films, 2 skipped: their outputs exist (--overwrite replaces them)" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in frames} == frames
    (tmp_path / "out" / "r1" / "f_0001.png").write_bytes(b"")  # an interrupted copy: not a film done
    (tmp_path / "out" / "r2" / "f_0002.png").unlink()
    assert run(*command) == 1
    err = capsys.readouterr().err
    assert "coloured 0 films, 2 failed" in err
    for reel, wrong in (("r1", "1 frame cut short, such as f_0001.png"), ("r2", "1 frame missing, such as f_0002.png")):
        assert f"rehue: error: {tmp_path / 'out' / reel}: holds the outputs of 2 of the film's 3 frames, and " \
               f"{wrong}; pass --overwrite to colour the film again" in err, err  # probe 153: "output exists"
    assert run(*command, "--overwrite") == 0
    mine = tmp_path / "mine"  # the user's own pictures of the frames' names: in the way, not outputs (probe 154)
    mine.mkdir()
    for number in range(2):
        Image.fromarray(textured_rgb(30, 40, seed=9)[..., 0]).save(mine / f"f_{number:04d}.png")
    capsys.readouterr()
    assert run("colorize", reels[0], "--frames", "-o", mine, *command[6:]) == 1
    err = capsys.readouterr().err
    assert "output exists" in err and "holds the outputs" not in err, err
    theirs = tmp_path / "theirs" / reels[0].name  # the user's pictures of every frame's name (probe 156: skipped as
    theirs.mkdir(parents=True)  # the film coloured)
    for number in range(3):
        Image.fromarray(textured_rgb(30, 40, seed=9)[..., 0]).save(theirs / f"f_{number:04d}.png")
    assert run("colorize", *reels, "--frames", "-o", theirs.parent, *command[6:]) == 1
    err = capsys.readouterr().err
    assert "output exists" in err and "coloured 1 film, 1 failed" in err, err


def test_a_folder_coloured_beside_its_inputs_is_not_coloured_again_on_a_second_run(tmp_path, tiny_model, capsys):
    """Before, a second run into the input folder took the first run's a.png for an input: it wrote
    a-jpg.png and a-png.png beside it, and a third run failed."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg"):
        Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / name)
    assert run("colorize", photos, "-o", photos, "--model", tiny_model, "--no-progress") == 0
    (photos / "b.png").unlink()  # as if the first run had been interrupted
    capsys.readouterr()
    for _ in range(2):
        assert run("colorize", photos, "-o", photos, "--model", tiny_model, "--no-progress") == 0
        assert sorted(path.name for path in photos.iterdir()) == ["a.jpg", "a.png", "b.jpg", "b.png"]
    assert "coloured 1 file" in capsys.readouterr().err
    Image.fromarray(textured_rgb(30, 40, seed=3)[..., 0]).save(photos / "c.jpg")
    Image.fromarray(textured_rgb(30, 40, seed=3)[..., 0]).save(photos / "c.png")  # the user's own PNG of c
    assert run("colorize", photos, "-o", photos, "--model", tiny_model, "--no-progress") == 0
    assert {"c-jpg.png", "c-png.png"} <= {path.name for path in photos.iterdir()}, "a user's PNG is an input"


def test_an_interrupt_while_modules_load_or_a_broken_install_ends_in_one_line(monkeypatch, capsys, tmp_path):
    """Before, Ctrl-C in the first half second (while the parser's imports load numpy) printed a Python
    traceback of 12-54 lines, and once NumPy's "bad install" text, from an import it cut short; a module that
    cannot be imported was a traceback too."""
    import signal

    from rehue import cli

    before = signal.getsignal(signal.SIGINT)

    def interrupted_import():
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:  # as Ctrl-C lands inside a C extension's import, which reports it so
            raise ImportError("PyCapsule_Import could not import module") from None

    monkeypatch.setattr(cli, "build_parser", interrupted_import)
    assert cli.main(["colorize", "x.jpg", "-o", "y.png"]) == 130
    assert capsys.readouterr().err == "rehue: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is before, "a caller's own handler comes back"

    def broken_install():  # probe 79: opencv-python uninstalled beside opencv-python-headless (both hold cv2)
        raise ModuleNotFoundError("No module named 'cv2'", name="cv2")

    monkeypatch.setattr(cli, "build_parser", broken_install)
    assert cli.main(["colorize", "x.jpg", "-o", "y.png"]) == 1
    assert capsys.readouterr().err == (
        "rehue: error: cv2 cannot be imported (No module named 'cv2'): the installation is incomplete; reinstall the "
        "package that provides it (pip install --force-reinstall opencv-python-headless)\n"), "one line, no traceback"
    monkeypatch.setattr(cli, "build_parser", lambda: (_ for _ in ()).throw(
        ModuleNotFoundError("No module named 'torch'", name="torch")))
    assert cli.main(["colorize", "x.jpg", "-o", "y.png"]) == 1
    assert capsys.readouterr().err.endswith(
        "(pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cpu, the CPU build)\n"), \
        "probe 124: torch from PyPI is the CUDA build"
    package = tmp_path / "brokenav"  # probe 80: a PyAV without its FFmpeg libraries fails in its av._core
    package.mkdir()
    (package / "__init__.py").write_text("from . import _core\n")
    (package / "_core.py").write_text("raise ImportError('libavformat.so.62: cannot open shared object file', "
                                      "name='_core')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "build_parser", lambda: __import__("brokenav"))
    assert cli.main(["scenes", "x.mp4"]) == 1
    assert "(pip install --force-reinstall brokenav)" in capsys.readouterr().err
    with pytest.raises(ImportError):  # asked to see it: the traceback
        cli.main(["--debug", "scenes", "x.mp4"])

    def a_fault_of_rehues_own():  # probe 81: "reinstall rehue" would not mend a name rehue imports wrongly
        from rehue.models import this_name_was_renamed  # noqa: F401

    monkeypatch.setattr(cli, "build_parser", a_fault_of_rehues_own)
    with pytest.raises(ImportError):
        cli.main(["scenes", "x.mp4"])


def test_a_folder_of_one_photo_is_a_batch_like_any_other(tmp_path, tiny_model, capsys):
    """Before, a folder holding one photo was run as a single file: run again, it failed with "output
    exists" (exit 1) where a folder of two skipped what was done (exit 0)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / "p00.jpg")
    for _ in range(2):
        assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    assert "1 skipped: its output exists" in capsys.readouterr().err


def test_an_existing_output_of_a_format_rehue_cannot_write_is_named_as_such(tmp_path, tiny_model, gray_jpeg, capsys):
    """Before, an existing notes.txt as -o was met with "pass --overwrite", which then failed on '.txt'."""
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert run("colorize", gray_jpeg, "-o", notes, "--model", tiny_model) == 2  # a usage error, as -o /dev/null is
    assert "unsupported output extension '.txt'" in capsys.readouterr().err
    assert notes.read_text() == "mine"


def test_photos_whose_extensions_differ_in_case_only_are_told_apart(tmp_path, tiny_model):
    """Before, a.jpg and a.JPG in one folder had the whole folder refused, with advice to use separate
    output folders, which one input folder cannot."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "a.JPG", "other.jpg"):
        Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / name, format="JPEG")
    assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-JPG.png", "a-jpg.png", "other.png"]


def test_a_photo_and_a_link_to_it_give_one_output_under_the_photos_name(tmp_path, tiny_model, capsys):
    """Before, the link's name won when it sorted first: alias-a.png, and no wedding.png."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(photos / "wedding.jpg")
    (photos / "alias-a.jpg").symlink_to("wedding.jpg")
    (tmp_path / "scanner").mkdir()
    (photos / "from-scanner").symlink_to(tmp_path / "scanner")  # not followed (links can loop), but said
    assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["wedding.png"]
    assert (f"warning: {photos}: 1 linked folder not followed, such as {photos / 'from-scanner'}; name them as "
            "inputs to colour them too") in capsys.readouterr().err


def test_a_large_photo_shows_its_steps(tmp_path, tiny_model, gray_jpeg, monkeypatch, capsys):
    """Before, a 60-megapixel scan gave 14-34 s of silence: the file bar is off for one file."""
    from rehue.inference import files

    monkeypatch.setattr(files, "LARGE_PHOTO_PIXELS", 1000)  # the test's photo counts as large
    assert run("colorize", gray_jpeg, "-o", tmp_path / "out.png", "--model", tiny_model) == 0
    err = capsys.readouterr().err
    assert "scan.jpg: colour:" in err and "scan.jpg: write:" in err and "2/3" in err
    # probe 178: a log's last line was "write: 67% 2/3", twice, the file written
    steps = [line.split("|")[-1].split()[0] for line in err.splitlines() if "scan.jpg:" in line]
    assert steps == ["1/3", "2/3", "3/3"], err
    assert run("colorize", gray_jpeg, "-o", tmp_path / "quiet.png", "--model", tiny_model, "--no-progress") == 0
    assert "colour:" not in capsys.readouterr().err


def test_a_named_file_of_an_extension_rehue_does_not_know_is_told_by_its_first_bytes(tmp_path, tiny_model, capsys):
    """Probe 152: an MP4 saved as clip.bin, and a text file, named with `-o x.mp4`, were each "names a video, and
    clip.bin is a picture", a usage error."""
    from tests.helpers_video import make_clip, textured_frames

    make_clip(tmp_path / "clip.mp4", [np.repeat(f[..., :1], 3, axis=-1) for f in textured_frames(3, 32, 48)])
    (tmp_path / "clip.mp4").rename(tmp_path / "clip.bin")
    (tmp_path / "notes.txt").write_text("hi")
    options = ["--model", tiny_model, "--dependent-model", "none", "--no-progress"]
    assert run("colorize", tmp_path / "clip.bin", "-o", tmp_path / "x.mp4", *options) == 0
    import av

    with av.open(str(tmp_path / "x.mp4")) as container:
        assert len(list(container.decode(video=0))) == 3
    capsys.readouterr()
    assert run("colorize", tmp_path / "notes.txt", "-o", tmp_path / "y.mp4", *options) == 1
    assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'notes.txt'}: is no picture or film rehue "
                                               "reads (neither its name nor its first bytes say one)")
    assert not (tmp_path / "y.mp4").exists()


def test_pictures_and_films_are_coloured_as_what_they_hold_whatever_their_names(tmp_path, tiny_model, gray_jpeg,
                                                                                caplog, capsys):
    from tests.helpers_video import make_clip, textured_frames

    shutil.copy(gray_jpeg, tmp_path / "scan-without-extension")
    shutil.copy(gray_jpeg, tmp_path / "other.JPG")
    out = tmp_path / "out"
    assert run("colorize", tmp_path / "scan-without-extension", tmp_path / "other.JPG", "-o", out,
               "--model", tiny_model, "--no-progress") == 0
    assert sorted(p.name for p in out.iterdir()) == ["other.png", "scan-without-extension.png"]
    assert np.asarray(Image.open(out / "scan-without-extension.png")).shape == (700, 1000, 3)

    folder = tmp_path / "box"
    folder.mkdir()
    shutil.copy(gray_jpeg, folder / "scan-without-extension")
    shutil.copy(gray_jpeg, folder / "photo.mp4")
    shutil.copy(gray_jpeg, folder / "scan.0001")  # a scanner's numbering: kept in the output's name
    (folder / "notes.txt").write_bytes(gray_jpeg.read_bytes())
    make_clip(tmp_path / "film.mp4", textured_frames(4, 32, 48)).rename(folder / "film.jpg")
    (folder / "IMG_0001.jpg").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200))
    caplog.clear()
    assert run("colorize", folder, "-o", tmp_path / "box-out", "--model", tiny_model, "--no-progress") == 0
    written = {p.name: p for p in (tmp_path / "box-out").iterdir()}
    assert sorted(written) == ["film.mp4", "photo.png", "scan-without-extension.png", "scan.0001.png"]
    import av

    with av.open(str(written["film.mp4"])) as container:
        assert sum(1 for _ in container.decode(video=0)) == 4
    warned = caplog.text
    assert "film.jpg: holds a video, not the picture its extension names" in warned
    assert "photo.mp4: holds a picture, not the video its extension names" in warned
    assert "1 file passed over, in formats rehue does not read (1 HEIC/HEIF)" in warned
    assert run("colorize", folder / "IMG_0001.jpg", "-o", tmp_path / "phone.png", "--model", tiny_model) == 1
    assert "IMG_0001.jpg: holds a HEIC/HEIF picture (a phone's), which rehue does not read" in capsys.readouterr().err
    # probe 116: "coloured as a picture", then "unsupported output extension '.mp4'", of one file into a video
    (folder / "IMG_0002.mov").write_bytes((folder / "IMG_0001.jpg").read_bytes())
    assert run("colorize", folder / "IMG_0002.mov", "-o", tmp_path / "phone.mp4", "--model", tiny_model) == 1
    assert capsys.readouterr().err.strip() == (f"rehue: error: {folder / 'IMG_0002.mov'}: holds a HEIC/HEIF picture "
                                               "(a phone's), which rehue does not read; convert it to JPEG, PNG or "
                                               "TIFF first")
    assert run("colorize", folder / "photo.mp4", "-o", tmp_path / "photo-colour.mp4", "--model", tiny_model) == 2
    assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'photo-colour.mp4'}: names a video, and "
                                               f"{folder / 'photo.mp4'} holds a picture, whatever its extension says; "
                                               "name a picture file, such as photo-colour.png")
    # probe 134: a GIF into a video was "unsupported output extension '.mp4'; use one of ..."
    frames = [Image.fromarray(textured_rgb(24, 32, seed=k)) for k in range(3)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "still.png")
    for name, what in (("anim.gif", "is a picture (an animated GIF is coloured as its first frame)"),
                       ("still.png", "is a picture")):
        assert run("colorize", folder / name, "-o", tmp_path / "clip.mkv", "--model", tiny_model) == 2
        assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'clip.mkv'}: names a video, and "
                                                   f"{folder / name} {what}; name a picture file, such as clip.png")


def test_a_told_apart_name_another_input_holds_gets_a_number_not_a_refusal(tmp_path, tiny_model, capsys):
    """Before, s.png, s.jpg and s-png.png in one folder refused the whole batch (nothing coloured, however
    many other photos), with an error naming s.png where the clash was at s-png.png (probe 22)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for seed, name in enumerate(["s.png", "s.jpg", "s-png.png", "other.png"]):
        Image.fromarray(textured_rgb(20, 24 + seed, seed=seed)[..., 0]).save(photos / name)
    out = tmp_path / "out"
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert sorted(p.name for p in out.iterdir()) == ["other.png", "s-jpg.png", "s-png-2.png", "s-png.png"]
    assert f"warning: {photos / 's.png'}: coloured into s-png-2.png, as s-png.png is another input's colour " \
           "version" in capsys.readouterr().err
    assert Image.open(out / "s-png.png").size == (26, 20), "the photo named s-png.png keeps its own name"
    assert Image.open(out / "s-png-2.png").size == (24, 20)


def test_a_warning_every_file_of_a_folder_gets_is_said_once_and_counted(tmp_path, tiny_model, capsys):
    """Before, a folder batch said a warning of one kind for every file: 1,000 lines for 1,000 colour
    photos, 1,000 more for 1,000 animated GIFs (probe 22)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(6):
        Image.fromarray(textured_rgb(16, 24, seed=index)).save(photos / f"c{index}.png")
    Image.fromarray(textured_rgb(16, 24, seed=9)[..., 0]).save(photos / "gray.png")
    assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {photos / 'c0.png'}: is in colour already (a toned print, a tinted photo?); its "
                        "colour is replaced by the model's, from its lightness alone",
                        f"warning: {photos / 'c1.png'} and 4 more files: the same warning as {photos / 'c0.png'}'s "
                        "above (is in colour already (a toned print, a tinted...)"]
    assert len(list((tmp_path / "out").iterdir())) == 7
    script = ("from rehue.inference.files import colorize_paths; "  # probe 190: a plain script, no logging set up
              f"colorize_paths([{str(photos)!r}], {str(tmp_path / 'lib')!r}, model={str(tiny_model)!r}, "
              "progress=False)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.splitlines() == [
        f"{photos / 'c0.png'}: is in colour already (a toned print, a tinted photo?); its colour is replaced by the "
        "model's, from its lightness alone",
        f"{photos / 'c1.png'} and 4 more files: the same warning as {photos / 'c0.png'}'s above (is in colour already "
        "(a toned print, a tinted...)"], done.stderr


def test_warnings_of_one_wording_for_other_reasons_are_said_apart(tmp_path, tiny_model, capsys):
    """Probe 116: a colour profile that could not be opened and one that could not be applied to a gray picture
    were said as one warning: "the same warning as a.png's above" hid the second reason."""
    from PIL import ImageCms

    photos = tmp_path / "photos"
    photos.mkdir()
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    for name, profile in (("a", b"garbage" * 10), ("b", lab), ("c", b"garbage" * 10), ("d", lab), ("e", lab)):
        Image.fromarray(textured_rgb(16, 24)[..., 0]).save(photos / f"{name}.png", icc_profile=profile)
    assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    said = "its colour profile cannot be applied ({}); its numbers are read as sRGB's"
    assert warnings == [f"warning: {photos / 'a.png'}: {said.format('cannot open profile from string')}",
                        f"warning: {photos / 'b.png'}: {said.format('a profile for Lab pictures, on gray samples')}",
                        f"warning: {photos / 'c.png'}: the same warning as {photos / 'a.png'}'s above (its colour "
                        "profile cannot be applied (cannot...)",
                        f"warning: {photos / 'd.png'} and 1 more file: the same warning as {photos / 'b.png'}'s above "
                        "(its colour profile cannot be applied (a profile...)"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_shows_errors_alone(tmp_path, tiny_model, capsys, where):
    """--quiet (before or after the command) leaves only errors on stderr: no warning for a photo in colour
    already, no progress, no summary; a failed file is an error line of its own."""
    (tmp_path / "in").mkdir()
    Image.fromarray(textured_rgb(64, 80, seed=2)).save(tmp_path / "in" / "colour.png")
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff" + bytes(40))
    quiet = ["-q", "colorize"] if where == "before" else ["colorize", "--quiet"]
    assert run(*quiet, tmp_path / "in", "-o", tmp_path / "out", "--model", tiny_model) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"rehue: error: {tmp_path / 'in' / 'broken.jpg'}: truncated or corrupt "
                                         "JPEG (it begins as one, and its header cannot be read)"], captured.err
    assert (tmp_path / "out" / "colour.png").exists()
    assert run(*quiet, tmp_path / "in" / "colour.png", "-o", tmp_path / "one.png", "--model", tiny_model) == 0
    assert capsys.readouterr().err == ""
    assert run(*quiet, tmp_path / "in" / "colour.png", "-o", tmp_path / "one.png", "--model", tiny_model) == 1
    assert capsys.readouterr().err.startswith("rehue: error: ")  # output exists
    assert run(*quiet, tmp_path / "in" / "colour.png", "-o", tmp_path / "x.png", "--chroma", "-1") == 2
    assert "rehue: error: " in capsys.readouterr().err


def test_an_interrupt_while_the_model_runtimes_load_waits_for_them_and_ends_in_one_line(monkeypatch, capsys):
    """Probe 50: Ctrl-C while PyTorch was being imported was raised inside its C++ code, which aborted the
    process (SIGABRT, a 50-line stack dump). The runtimes are imported with the signal held; it is raised
    once they are in, as any other interrupt."""
    import signal

    from rehue import cli, signals

    imported = []
    held = signals.signals_held

    def runtimes_loading():
        with held():
            signal.raise_signal(signal.SIGINT)  # lands inside the import
            imported.append("torch")  # the import goes on to its end

    monkeypatch.setattr(signals, "signals_held", runtimes_loading)
    assert cli.main(["colorize", "x.jpg", "-o", "y.png"]) == 130
    assert imported == ["torch"] and capsys.readouterr().err == "rehue: interrupted\n"


def test_an_interrupt_after_the_summary_leaves_the_job_done(monkeypatch, capsys, tmp_path):
    """Probe 50: SIGTERM just as "coloured 1 file(s)" was printed ended a finished job "interrupted", exit 143."""
    import builtins

    from rehue import cli

    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(photo)
    printed = builtins.print

    def interrupted_at_the_summary(*args, **kwargs):
        printed(*args, **kwargs)
        if args and str(args[0]).startswith("coloured "):
            raise KeyboardInterrupt

    monkeypatch.setattr(builtins, "print", interrupted_at_the_summary)
    assert cli.main(["colorize", str(photo), "-o", str(tmp_path / "out.png"), "--no-progress"]) == 0
    assert "interrupted" not in capsys.readouterr().err and (tmp_path / "out.png").is_file()


def test_a_model_runtime_out_of_memory_fails_that_file_in_one_line_and_the_batch_goes_on(tmp_path, tiny_model, capsys,
                                                                                        monkeypatch):
    """Probe 63: under a memory limit, ONNX Runtime's failed allocation (a `Fail` of its own) ended the batch
    in a 40-line traceback; a MemoryError elsewhere was "out of memory" with no file named, and the rest of
    the batch was not coloured. PyTorch's (a RuntimeError) is taken as one too."""
    from rehue.errors import out_of_memory_as_memory_error
    from rehue.inference.colorizer import import_onnxruntime

    import_onnxruntime()  # first, as rehue imports it: its telemetry off (imported bare, it writes ~/.cache)
    from onnxruntime.capi.onnxruntime_inference_collection import Session
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(textured_rgb(48, 48, seed=len(name))[..., 0]).save(photos / name)
    run, calls = Session.run, []

    def short_of_memory(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Fail("[ONNXRuntimeError] : 1 : FAIL : BFCArena::AllocateRawInternal Failed to allocate memory for "
                       "requested buffer of size 1073741824")
        return run(self, *args, **kwargs)

    monkeypatch.setattr(Session, "run", short_of_memory)
    assert main(["colorize", str(photos), "-o", str(tmp_path / "out"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "a.png: out of memory colouring it: close other programs" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.png"]
    calls.clear()
    assert main(["colorize", str(photos / "a.png"), "-o", str(tmp_path / "one.png"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rehue: error: {photos / 'a.png'}: out of memory")
    with pytest.raises(MemoryError), out_of_memory_as_memory_error():
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 4294967296 bytes")
    import cv2

    from rehue.inference.colorizer import Colorizer

    colorize = Colorizer.colorize

    resized = []

    def resize_short_of_memory(self, image, *args, **kwargs):  # probe 64: the full-resolution compose's resize
        resized.append(1)
        if len(resized) == 1:  # a.png, the first
            raise cv2.error("OpenCV(5.1.0) error: (-4:Insufficient memory) Failed to allocate 192000000 bytes in "
                            "function 'OutOfMemoryError'")
        return colorize(self, image, *args, **kwargs)

    monkeypatch.setattr(Colorizer, "colorize", resize_short_of_memory)
    monkeypatch.setattr(Session, "run", run)
    assert main(["colorize", str(photos), "-o", str(tmp_path / "out2"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "a.png: out of memory colouring it" in err
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["b.png"]
    with pytest.raises(RuntimeError), out_of_memory_as_memory_error():
        raise RuntimeError("shapes do not match")
    import errno

    with pytest.raises(OSError), out_of_memory_as_memory_error():  # probe 65: the words in a file's name
        raise OSError(errno.ENAMETOOLONG, "File name too long", "out of memory tests/x.png")
    with pytest.raises(MemoryError), out_of_memory_as_memory_error():
        raise OSError(errno.ENOMEM, "Cannot allocate memory")


def test_an_empty_path_is_a_usage_error_not_the_working_folder(tmp_path, tiny_model, capsys, monkeypatch):
    """Probe 65: "" was read as ".", so `rehue colorize "" -o out` coloured every picture under the working
    folder (718 files in the probe's), and `-o ""` wrote into it."""
    from rehue.inference.files import colorize_paths

    monkeypatch.chdir(tmp_path)
    Image.fromarray(textured_rgb(24, 24)[..., 0]).save(tmp_path / "p.png")
    for argv in (["colorize", "", "-o", "out"], ["colorize", "p.png", "-o", ""], ["scenes", ""],
                 ["evaluate", "", "--out", "ev"], ["train", "photos", "--out", ""],  # probe 66: from here on
                 ["colorize", "p.png", "--model", ""], ["bench", "--json", ""], ["evaluate", "p.png", "--against", ""]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        err, before = capsys.readouterr().err, argv[argv.index("") - 1]
        said = f"argument {before}: an empty value names nothing" if before.startswith("-") else \
            "an empty value names no file or folder"
        assert exit_.value.code == 2 and err == f"rehue {argv[0]}: error: {said} (see rehue {argv[0]} --help)\n", \
            "the command's help, not rehue's (probe 185)"
    with pytest.raises(SystemExit):
        main(["-q", "data", "demo", "--out", ""])
    assert capsys.readouterr().err == ("rehue data demo: error: argument --out: an empty value names nothing (see "
                                       "rehue data demo --help)\n")
    for empty in (["--ext", ""], ["--ext="], ["--start="]):  # probe 185: "unsupported image extension '.'",
        # "invalid float value: ''"
        with pytest.raises(SystemExit):
            main(["colorize", "p.png", "-o", "out", *empty])
        assert f"argument {empty[0].rstrip('=')}: an empty value names nothing" in capsys.readouterr().err, \
            "not a file's name"
    for argv, said in ((["scenes", "--", ""], "rehue scenes: error: an empty value names no file or folder"),
                       (["colorize", "p.png", "-o", "out", "--ex="], "rehue colorize: error: argument --ex: an empty "
                                                                     "value names nothing"),  # argparse's --ext
                       (["colorize", "p.png", "-o", "out", "--overwrite="], "rehue colorize: error: argument "
                                                                            "--overwrite: ignored explicit argument")):
        with pytest.raises(SystemExit):
            main(argv)
        assert capsys.readouterr().err.startswith(said)
    for inputs, output in (([""], "out"), (["p.png"], "")):
        with pytest.raises(UsageError, match="an empty path names no file or folder"):
            colorize_paths(inputs, output)
    from rehue.evaluation.evaluate import evaluate
    from rehue.training import TrainConfig, train

    with pytest.raises(UsageError, match="an empty path names no file or folder"):
        evaluate("default", [tmp_path], "")
    with pytest.raises(UsageError, match="no run folder"):
        train(TrainConfig(data=str(tmp_path), out=""))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "p.png"], "the photo, and tiny_model's folder"
    # probe 186: words ending in "=" that are no option's (a value after -o, a file after --) were refused
    from tests.helpers_video import make_clip

    named = tmp_path / "named"
    named.mkdir()
    monkeypatch.chdir(named)
    shutil.copy(tmp_path / "p.png", named / "p.png")
    assert main(["colorize", "p.png", "-oo4=", "--model", str(tiny_model), "--no-progress"]) == 0
    assert (named / "o4=" / "p.png").is_file(), "a folder, as -o names one without a picture's extension"
    make_clip(named / "clip.mp4", [textured_rgb(24, 24)] * 3).rename(named / "-x=")
    assert main(["scenes", "--no-progress", "--", "-x="]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "-x=: 3 frames, 1 scene"


def test_an_output_folder_named_through_one_not_made_yet_is_the_folder_it_will_be(tmp_path, tiny_model, capsys):
    """Probe 96: `-o out/new/..` left an empty `new` beside the output, and named it so in what it said."""
    Image.fromarray(np.full((24, 32), 120, np.uint8)).save(tmp_path / "scan.png")
    (tmp_path / "out").mkdir()
    assert main(["colorize", str(tmp_path / "scan.png"), "-o", str(tmp_path / "out" / "new" / ".."),
                 "--model", str(tiny_model), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["scan.png"]
    (tmp_path / "mine.png").write_bytes(b"the user's")  # probe 97: taken for the file mine.png, and replaced
    assert main(["colorize", str(tmp_path / "scan.png"), "-o", str(tmp_path / "mine.png" / "new" / ".."),
                 "--model", str(tiny_model), "--no-progress", "--overwrite"]) == 1
    assert (tmp_path / "mine.png").read_bytes() == b"the user's"
    assert "mine.png: is a file, so the output folder" in capsys.readouterr().err
    assert main(["colorize", str(tmp_path / "scan.png"), "-o", str(tmp_path / "res.png" / "new" / ".."),
                 "--model", str(tiny_model), "--no-progress"]) == 0
    assert (tmp_path / "res.png" / "scan.png").is_file(), "a folder, as the file system makes it"
    (tmp_path / "res.png" / "scan.png").unlink()  # probe 98: into a folder of that name, an empty `new` was left
    assert main(["colorize", str(tmp_path / "scan.png"), "-o", str(tmp_path / "res.png" / "new" / ".."),
                 "--model", str(tiny_model), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "res.png").iterdir()) == ["scan.png"]
    reel = tmp_path / "reel"  # stop 49: a film of frames into reel.mp4/new/.. left an empty reel.mp4/new
    reel.mkdir()
    for number in (1, 2):
        Image.fromarray(textured_rgb(24, 32, seed=number)[..., 0]).save(reel / f"r_{number:04d}.png")
    assert main(["colorize", str(reel), "--frames", "-o", str(tmp_path / "reel.mp4" / "new" / ".."),
                 "--model", str(tiny_model), "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "reel.mp4").iterdir()) == ["r_0001.png", "r_0002.png"]


def test_a_folders_bar_is_named(tmp_path, tiny_model, capsys):
    """Before, a folder's bar was unnamed ("  0%|"), unlike a film's, scenes' and evaluate's."""
    for name in ("a.png", "b.png"):
        Image.fromarray(textured_rgb(20, 30)[..., 0]).save(tmp_path / name)
    assert run("colorize", tmp_path, "-o", tmp_path / "out", "--model", tiny_model) == 0
    assert capsys.readouterr().err.splitlines()[0].startswith("colouring:   0%|")


def test_an_output_with_a_trailing_slash_is_a_folder_whatever_its_name(tmp_path, tiny_model, capsys):
    """`-o new.d.tif/` for one photo wrote the file new.d.tif; `-o more.png/` for two was refused as naming a
    PNG file."""
    from rehue.inference.files import colorize_paths

    gray = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
    for name in ("a.png", "b.png"):
        Image.fromarray(gray).save(tmp_path / name)
    assert run("colorize", tmp_path / "a.png", "-o", f"{tmp_path / 'new.d.tif'}/", "--model", tiny_model) == 0
    assert sorted(path.name for path in (tmp_path / "new.d.tif").iterdir()) == ["a.png"]
    assert run("colorize", tmp_path / "a.png", tmp_path / "b.png", "-o", f"{tmp_path / 'more.png'}/",
               "--model", tiny_model) == 0
    assert sorted(path.name for path in (tmp_path / "more.png").iterdir()) == ["a.png", "b.png"]
    summary = colorize_paths([tmp_path / "a.png"], f"{tmp_path / 'lib.jpg'}/", model=str(tiny_model), progress=False)
    assert summary.done == [tmp_path / "lib.jpg" / "a.png"]
    capsys.readouterr()
    assert run("colorize", tmp_path / "a.png", "-o", f"{tmp_path / 'b.png'}/", "--model", tiny_model) == 2
    assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'b.png'}/: names a folder, and {tmp_path / 'b.png'} "
                                       "is a file; name another folder\n")
    assert (tmp_path / "b.png").is_file()
    (tmp_path / "frames").mkdir()
    for number in (1, 2):
        Image.fromarray(gray).save(tmp_path / "frames" / f"f_{number:04d}.png")
    for name in ("film.mp4/", "fr.png/", "dot.png/."):  # probe 130: "names a picture", and x.png/. the file x.png
        assert run("colorize", tmp_path / "frames", "--frames", "-o", f"{tmp_path}/{name}", "--model", tiny_model,
                   "--dependent-model", "none") == 0, name
        folder = tmp_path / name.split("/")[0]
        assert sorted(path.name for path in folder.iterdir()) == ["f_0001.png", "f_0002.png"], name
    capsys.readouterr()
    assert run("colorize", tmp_path / "frames", "--frames", "-o", f"{tmp_path / 'film5.mp4'}/", "--crf", "20",
               "--model", tiny_model) == 2  # probe 131: an encoder's setting into a folder, passed over
    assert "--crf: not for --frames into a folder" in capsys.readouterr().err
    assert not (tmp_path / "film5.mp4").exists()
    assert run("colorize", tmp_path / "a.png", "-o", f"{tmp_path / 'one.png'}/.", "--model", tiny_model) == 0
    assert (tmp_path / "one.png" / "a.png").is_file()
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_video
    from tests.helpers_video import make_clip

    clip = make_clip(tmp_path / "c.mp4", [np.stack([gray] * 3, axis=-1)] * 3)
    with pytest.raises(UsageError, match="v.mp4/: names a folder \\(its trailing slash\\), and colorize_video writes "
                                         "one video file"):
        colorize_video(clip, f"{tmp_path / 'v.mp4'}/", colorizer=Colorizer.load(str(tiny_model)), progress=False)
    assert not (tmp_path / "v.mp4").exists()


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("name", ["x.png", "cam.mp4"])
def test_a_named_pipe_in_a_folder_is_a_failed_file_not_a_hang(tmp_path, tiny_model, capsys, name):
    """Probe 127: a named pipe among a folder's photos hung the batch for good before any work, as its header
    was read to see whether rehue had coloured it."""
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)).save(folder / "g.png")
    os.mkfifo(folder / name)
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "g.png")  # an output's name: its end is not read to see whether it was cut short
    code = subprocess.run([sys.executable, "-m", "rehue", "colorize", str(folder), "-o", str(tmp_path / "out"),
                           "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert code.returncode == 1, code.stderr
    assert f"failed: {folder / name}: is a pipe or a device, not a file" in code.stderr
    assert f"failed: {folder / 'g.png'}: {tmp_path / 'out' / 'g.png'}: output exists" in code.stderr, \
        "probe 132: a pipe there is no earlier output, skipped as one"


def test_a_batchs_fault_at_an_output_is_named_by_the_output_and_the_rest_go_on(tmp_path, tiny_model, capsys):
    """Probe 127: a folder where an output goes was "skipped: its output exists", exit 0; with --overwrite the
    failed list blamed the inputs ("t/g.png: is a folder"); an output name too long for the file system ended
    the batch, the files after it never coloured and no summary said."""
    gray = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("g.png", "sub/b.png", "z.png", "x" * 251 + ".png"):
        Image.fromarray(gray).save(tmp_path / "in" / name)
    out = tmp_path / "out"
    (out / "g.png").mkdir(parents=True)
    (out / "sub").touch()
    assert run("colorize", tmp_path / "in", "-o", out, "--ext", ".tiff", "--model", tiny_model, "--no-progress") == 1
    err = capsys.readouterr().err
    assert "coloured 2 files, 2 failed" in err and (out / "z.tiff").is_file()
    assert f"  failed: {tmp_path / 'in' / 'sub' / 'b.png'}: {out / 'sub'}: is a file, not a folder" in err
    assert f"{'x' * 251}.tiff: File name too long" in err
    assert run("colorize", tmp_path / "in" / "g.png", tmp_path / "in" / "z.png", "-o", out, "--model", tiny_model,
               "--no-progress") == 1
    err = capsys.readouterr().err
    assert f"  failed: {tmp_path / 'in' / 'g.png'}: {out / 'g.png'}: is a folder; name a file to write" in err


def test_a_warning_of_each_output_alike_is_said_once_in_a_batch(tmp_path, tiny_model, capsys):
    """Probe 127: 300 RGBA PNGs with --ext .jpg gave 100 lines of "JPEG holds no transparency", a warning
    named by the output file, where warnings named by the input were folded into one line."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        rgba = np.zeros((24, 32, 4), np.uint8)
        rgba[..., :3] = np.random.default_rng(i).integers(0, 255, (24, 32, 3))
        rgba[..., 3] = 128
        Image.fromarray(rgba, "RGBA").save(photos / f"p{i}.png")
    assert run("colorize", photos, "-o", tmp_path / "out", "--ext", ".jpg", "--model", tiny_model,
               "--no-progress") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3 and "JPEG holds no transparency" in warnings[1], warnings
    assert warnings[2] == f"warning: {photos / 'p1.png'} and 2 more files: the same 2 warnings as " \
                          f"{photos / 'p0.png'}'s above (is in colour already (a toned print, a tinted...; JPEG " \
                          "holds no transparency, so the transparent...)"


def test_a_frames_batchs_failure_at_an_output_names_the_output(tmp_path, tiny_model, capsys):
    """Probe 132: `colorize reel reel2 --frames -o ro`, ro/reel a file of the user's, listed "failed: reel:
    output for frames must be ...", naming the input folder and not the output in its way."""
    gray = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
    for reel in ("reel", "reel2"):
        (tmp_path / reel).mkdir()
        for number in (1, 2):
            Image.fromarray(gray).save(tmp_path / reel / f"f_{number:04d}.png")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "reel").write_text("mine")
    assert run("colorize", tmp_path / "reel", tmp_path / "reel2", "--frames", "-o", tmp_path / "ro", "--model",
               tiny_model, "--dependent-model", "none", "--no-progress") == 1
    assert f"  failed: {tmp_path / 'reel'}: {tmp_path / 'ro' / 'reel'}: " in capsys.readouterr().err
    assert (tmp_path / "ro" / "reel").read_text() == "mine" and (tmp_path / "ro" / "reel2" / "f_0002.png").is_file()


def test_a_folder_of_hidden_pictures_alone_says_they_were_passed_over(tmp_path, capsys, tiny_model):
    """A folder whose only pictures are hidden (``.scan.png``, or in ``.thumbs/``) was "no images or videos
    found", as though it held none."""
    folder = tmp_path / "scans"
    (folder / ".thumbs").mkdir(parents=True)
    for name in (".scan.png", ".thumbs/a.png"):
        Image.fromarray(textured_rgb(32, 32)).save(folder / name)
    (folder / "notes.txt").write_text("not a picture")
    assert main(["colorize", str(folder), "-o", str(tmp_path / "out"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert f"{folder}: no images or videos found; 2 hidden files passed over, such as {folder / '.scan.png'}" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    (folder / ".scan.png").unlink()
    (folder / ".thumbs" / "a.png").unlink()
    assert main(["colorize", str(folder), "-o", str(tmp_path / "out"), "--model", str(tiny_model)]) == 1
    assert capsys.readouterr().err.strip() == f"rehue: error: {folder}: no images or videos found"


def test_outputs_another_run_writes_during_a_batch_are_passed_over_as_if_found_at_its_start(tmp_path, tiny_model,
                                                                                             capsys, monkeypatch):
    """Probe 161: two runs into one folder each ended "coloured 27 files, 13 failed" (and 13/27), exit 1, every
    output there and whole: one the other wrote while this one coloured it, or before this one reached it, was
    "output exists" and failed, where one there when the batch began is skipped."""
    from rehue.data import images
    from tests.helpers_video import make_clip

    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(textured_rgb(30, 40, seed=i)[..., 0]).save(photos / f"p{i}.png")
    make_clip(photos / "z.mp4", [textured_rgb(32, 32, seed=i) for i in range(3)], fps=5)
    real_write = images._write_pillow

    def another_run_writes(rgb, path, *args, **options):
        if not (out / "p0.png").exists():  # while this run writes p0's: p0's and the rest's, ahead of this one
            for name in ("p0.png", "p2.png"):
                Image.new("RGB", (2, 2), (255, 0, 0)).save(out / name)
            (out / "z.mp4").write_bytes(b"the other run's film")
        real_write(rgb, path, *args, **options)

    monkeypatch.setattr(images, "_write_pillow", another_run_writes)
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 0
    assert capsys.readouterr().err.strip().endswith(
        "coloured 1 file, 3 skipped: their outputs exist (--overwrite replaces them)")
    assert Image.open(out / "p0.png").size == Image.open(out / "p2.png").size == (2, 2), "the other run's kept"
    assert Image.open(out / "p1.png").size == (40, 30) and (out / "z.mp4").read_bytes() == b"the other run's film"
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png", "z.mp4"]

    from rehue.video import resume

    for name in ("p0.png", "p2.png", "z.mp4"):  # probe 162: a film another rehue colours now, and a copy cut short
        (out / name).unlink()
    monkeypatch.setattr(images, "_write_pillow", lambda rgb, path, *args, **options:
                        real_write(rgb, path, *args, **options) or (out / "p2.png").write_bytes(b"\x89PNG\r\n\x1a\n"))
    monkeypatch.setattr(resume, "writing_elsewhere", lambda staging: (4242, staging.parent / ".z.mp4.rehue-tmp4242"))
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 1
    err = capsys.readouterr().err
    assert (f"coloured 1 file, 1 failed, 1 skipped: its output exists (--overwrite replaces it), 1 left to another "
            f"rehue colouring it now\n  left to another rehue: {out / 'z.mp4'}\n"
            f"  failed: {photos / 'p2.png'}: its output {out / 'p2.png'} is cut short (an "
            "interrupted copy?): remove it, or pass --overwrite to colour it again\n") in err, err
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png", "p2.png"]
    monkeypatch.setattr(resume, "writing_elsewhere", lambda staging: None)
    (out / "p1.png").unlink()
    monkeypatch.setattr(images, "_write_pillow", lambda rgb, path, *args, **options:
                        Path(path).write_bytes(b"half") and (out / "p1.png").write_bytes(b"the user's own"))
    assert run("colorize", photos / "p1.png", "-o", out / "p1.png", "--model", tiny_model) == 1, "one named file"
    assert "p1.png: output exists (another run wrote it meanwhile)" in capsys.readouterr().err
    assert (out / "p1.png").read_bytes() == b"the user's own"


def test_a_film_of_a_batch_of_films_another_rehue_colours_now_is_left_to_it(tmp_path, tiny_model, capsys,
                                                                             monkeypatch):
    """Probe 162: as a file of a batch (above), a film of a `--frames` batch another rehue was colouring failed."""
    from rehue.video import resume

    reels = [tmp_path / "r1", tmp_path / "r2"]
    for seed, reel in enumerate(reels):
        reel.mkdir()
        for number in range(3):
            Image.fromarray(textured_rgb(30, 40, seed=seed)[..., number % 3]).save(reel / f"f_{number:04d}.png")
    real_elsewhere = resume.writing_elsewhere
    monkeypatch.setattr(resume, "writing_elsewhere", lambda staging: (4242, staging) if "r2" in staging.name
                        else real_elsewhere(staging))
    assert run("colorize", *reels, "--frames", "-o", tmp_path / "out", "--model", tiny_model, "--dependent-model",
               "none", "--no-progress") == 0
    assert ("coloured 1 film, 1 left to another rehue colouring it now\n"
            f"  left to another rehue: {tmp_path / 'out' / 'r2'}\n") in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r1"]


def _gray_clip_and_reel(tmp_path):
    """A gray clip of 4 frames and a folder of 3 numbered gray frames, 32x32."""
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "clip.mp4", [np.repeat(frame[..., :1], 3, axis=-1)
                                             for frame in textured_frames(4, 32, 32)])
    reel = tmp_path / "reel"
    reel.mkdir()
    for number, frame in enumerate(textured_frames(3, 32, 32)):
        Image.fromarray(frame[..., 0]).save(reel / f"f_{number:04d}.png")
    return clip, reel


def test_encoder_settings_no_encoder_of_the_output_uses_and_fit_for_films_alone_are_refused(tmp_path, tiny_model,
                                                                                           capsys):
    """Probe 166: --crf with --codec ffv1 or prores, --preset with either or into .webm, and --fit on films alone
    were passed over without a word (the crf kept as a setting an interrupted run resumes by); VP9's crf above
    51 was refused as H.264's; one --frames folder named twice was "two folders ... both named reel"; and a
    film into `c.jpg` with --quality was told of --quality, not of the name."""
    clip, reel = _gray_clip_and_reel(tmp_path)
    options = ["--model", tiny_model, "--dependent-model", "none", "--no-progress"]
    for args, said in (
            ([clip, "-o", tmp_path / "f.mkv", "--codec", "ffv1", "--crf", "10"],
             "--crf: not for this video's encoder (FFV1 is lossless)"),
            ([clip, "-o", tmp_path / "p.mov", "--codec", "prores", "--preset", "slow", "--crf", "3"],
             "--crf, --preset: not for this video's encoder (ProRes 422 HQ is of one quality)"),
            ([clip, "-o", tmp_path / "w.webm", "--preset", "veryslow"],
             "--preset: not for this video's encoder (VP9, written into .webm, takes no H.264 preset)"),
            ([clip, "-o", tmp_path / "h.mp4", "--crf", "60"],
             "--crf must be a whole number between 0 and 51 for H.264, which .mp4 holds here (VP9's, for .webm, is "
             "0 to 63), not 60"),
            ([reel, "--frames", "-o", tmp_path / "r.mov", "--codec", "prores", "--crf", "0"],
             "--crf: not for this video's encoder (ProRes 422 HQ is of one quality)"),
            ([clip, "-o", tmp_path / "v.mp4", "--fit", "native"],
             "--fit: for photos; a video's frames are letterboxed for the models, as every film's are"),
            ([clip, "-o", tmp_path / "c.jpg", "--quality", "50"],
             f"{tmp_path / 'c.jpg'}: names one picture, and a video's frames are written a picture each: name them "
             f"with a number pattern, such as {tmp_path / 'c_%06d.jpg'}, or write a video (.mp4, .mkv, ...)")):
        assert run("colorize", *args, *options) == 2, args
        assert capsys.readouterr().err.strip() == f"rehue: error: {said}", args
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mp4", "models", "reel"]
    assert run("colorize", clip, "-o", tmp_path / "w.webm", "--crf", "60", *options) == 0
    assert run("colorize", reel, reel, "--frames", "-o", tmp_path / "once", *options) == 0
    assert "coloured 1 film" in capsys.readouterr().err
    assert sorted(path.name for path in (tmp_path / "once").iterdir()) == ["f_0000.png", "f_0001.png", "f_0002.png"]


def test_the_library_refuses_the_film_settings_the_command_line_refuses(tmp_path, tiny_model):
    """Probe 167: `colorize_video(..., crf=60)` into .mp4 was encoded at 51 without a word, FFV1 "at crf 10" was
    kept as a setting; `colorize_paths(frames=True)` took fit, start, crf into a folder, and fps for a film."""
    import rehue
    from rehue.errors import UsageError
    from rehue.inference.colorizer import Colorizer
    from rehue.inference.files import colorize_paths
    from rehue.video.pipeline import colorize_frames
    clip, reel = _gray_clip_and_reel(tmp_path)
    film = {"model": tiny_model, "dependent_model": "none", "progress": False}
    colorizer = Colorizer.load_independent(tiny_model)
    for call, said in (
            (lambda: rehue.colorize_video(clip, tmp_path / "h.mp4", crf=60, **film),
             "crf must be a whole number between 0 and 51 for H.264, which .mp4 holds here"),
            (lambda: rehue.colorize_video(clip, tmp_path / "f.mkv", codec="ffv1", crf=10, **film),
             "crf: not for this video's encoder (FFV1 is lossless)"),
            (lambda: rehue.colorize_video(clip, tmp_path / "f_%04d.png", preset="slow", **film),
             "preset: not for a video into numbered frames"),
            (lambda: colorize_frames(reel, tmp_path / "r.mp4", colorizer=colorizer, crf=60, progress=False),
             "crf must be a whole number between 0 and 51 for H.264"),
            (lambda: colorize_frames(reel, tmp_path / "folder", colorizer=colorizer, crf=10, progress=False),
             "crf: not for frames into a folder"),
            (lambda: colorize_paths([reel], tmp_path / "a", frames=True, model=tiny_model, fit="native"),
             "fit: not for frames"),
            (lambda: colorize_paths([reel], tmp_path / "b", frames=True, model=tiny_model,
                                    video_options={"start": 1.0}), "start: not for frames"),
            (lambda: colorize_paths([reel, reel], tmp_path / "c", frames=True, model=tiny_model,
                                    video_options={"preset": "slow"}), "preset: not for frames into a folder"),
            (lambda: colorize_paths([clip], tmp_path / "v.mp4", model=tiny_model, video_options={"fps": 12}),
             "fps: only for frames into a video file"),
            (lambda: colorize_paths([clip], tmp_path / "v.mp4", model=tiny_model, video_options={"fps": 0}),
             "fps: only for frames into a video file"),  # probe 168: 0, taken as not given, as False is
            (lambda: colorize_paths([reel], tmp_path / "d", frames=True, model=tiny_model,
                                    video_options={"start": 0.0}), "start: not for frames"),
            (lambda: rehue.colorize_video(clip, tmp_path / "g_%04d.png", codec="ffv1", **film),
             "codec: not for a video into numbered frames (every frame is written as a picture; quality sets"),
            (lambda: colorize_paths([reel / "f_0000.png"], tmp_path / "o.png", model=tiny_model,
                                    video_options={"crf": 20}), "crf: only for videos, and no input is one"),
            (lambda: colorize_frames(reel, tmp_path / "r.mp4", colorizer=colorizer, fps=0, progress=False),
             "fps must be from 0.1 to 1000, not 0"),
            # the library's own names, not the command line's (--end, --quality, --ext)
            (lambda: rehue.colorize_video(clip, tmp_path / "e.mp4", start=2, end=1, **film),
             "end (1) must be after start (2)"),
            (lambda: rehue.colorize_video(clip, tmp_path / "e.mp4", end=0, **film),
             "end must be after the film's start, not 0"),
            (lambda: colorize_paths([clip], tmp_path / "q", model=tiny_model, quality=50, refuse_unused=["quality"]),
             "quality: for JPEG and WebP, and every input is a video, written as one (its quality is crf's)"),
            (lambda: colorize_paths([clip], tmp_path / "x", model=tiny_model, image_ext=".jpg",
                                    refuse_unused=["image_ext"]),
             "image_ext: the format of pictures written into a folder, and every input is a video")):
        with pytest.raises(UsageError, match="^" + re.escape(said)):
            call()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mp4", "models", "reel"]
    assert rehue.colorize_video(clip, tmp_path / "ok.mkv", codec="ffv1", **film).frames == 4, "the defaults taken"
    assert rehue.colorize_video(clip, tmp_path / "w.webm", crf=60, **film).frames == 4
    assert rehue.colorize_video(clip, tmp_path / "n.mp4", codec=None, **film).frames == 4, "None: auto, as elsewhere"


def test_a_reader_of_standard_error_that_goes_away_leaves_the_job_to_finish(tmp_path, tiny_model):
    """Probe 178: `rehue colorize clip.mp4 -o out.mp4 2>&1 | head -1` failed the film as "out.mp4: Broken pipe",
    naming its output, once a line found the reader gone (a folder's photos were coloured, its films failed)."""
    from rehue.video.io import VideoReader
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "clip.mp4", list(textured_frames(40, 48, 64)), fps=25)
    out = tmp_path / "out.mp4"
    process = subprocess.Popen([sys.executable, "-m", "rehue", "colorize", str(clip), "-o", str(out), "--model",
                                str(tiny_model), "--dependent-model", "none"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    first = process.stderr.readline()  # the bar's first line; the reader goes, as head's does
    process.stderr.close()
    assert process.wait(timeout=300) == 0, first
    with VideoReader(out) as reader:
        assert reader.frame_count == 40


def test_a_batch_of_reels_counts_the_reels_as_a_batch_of_files_does(tmp_path, tiny_model, capsys):
    """Probe 178: each reel drew a bar of its own, and nothing said how many reels were left."""
    reels = [tmp_path / "r1", tmp_path / "r2"]
    for seed, reel in enumerate(reels):
        reel.mkdir()
        for number in range(3):
            Image.fromarray(textured_rgb(30, 40, seed=seed)[..., number % 3]).save(reel / f"f_{number:04d}.png")
    assert run("colorize", *reels, "--frames", "-o", tmp_path / "out", "--model", tiny_model, "--dependent-model",
               "none") == 0
    counts = [line.split("|")[-1].split()[0] for line in capsys.readouterr().err.splitlines()
              if line.startswith("colouring:")]
    assert counts == ["0/2", "2/2"]


def test_an_unwritable_current_folder_is_named_by_its_path(tmp_path, tiny_model, capsys, monkeypatch):
    """Probe 225: from a notebook's read-only folder, `-o b.png` was refused as ".: output folder is not writable"."""
    import errno
    import tempfile

    Image.fromarray(np.full((16, 16), 90, np.uint8)).save(tmp_path / "gray.png")
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "notebook")
    make_temporary = tempfile.NamedTemporaryFile

    def read_only(*args, **kwargs):
        if kwargs.get("prefix") == ".rehue-probe":
            raise PermissionError(errno.EACCES, "Permission denied")
        return make_temporary(*args, **kwargs)

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)
    for output in ("b.png", "./b.png", str(tmp_path / "notebook" / "b.png")):
        assert run("colorize", tmp_path / "gray.png", "-o", output, "--model", tiny_model) == 1
        assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'notebook'}: output folder (the current "
                                           "folder) is not writable (Permission denied)\n")
    assert run("colorize", tmp_path / "gray.png", "-o", tmp_path / "b.png", "--model", tiny_model) == 1
    assert capsys.readouterr().err == f"rehue: error: {tmp_path}: output folder is not writable (Permission denied)\n"
    monkeypatch.chdir(tmp_path / "notebook")
    assert run("colorize", tmp_path / "gray.png", "-o", "sub/b.png", "--model", tiny_model) == 1
    assert capsys.readouterr().err == "rehue: error: sub: output folder does not exist\n"


def test_a_folder_named_as_a_photos_output_is_refused_before_any_work_and_alike_warnings_name_one_kind_of_path(
        tmp_path, tiny_model, capsys):
    """Probe 237: x.jpg's colour version x.png was written, then every photo of the folder x.png failed, "is a file,
    not a folder", on every run; and "the same warning as meta/s16.png's above" pointed at a line that named the
    output, o/s16.jpg."""
    photos = tmp_path / "photos"
    (photos / "x.png").mkdir(parents=True)
    for path in (photos / "x.jpg", photos / "x.png" / "a.jpg"):
        Image.fromarray(textured_rgb(40, 60)[..., 0]).save(path)
    assert run("colorize", photos, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"rehue: error: {tmp_path / 'out' / 'x.png'}: {photos / 'x.jpg'} would be written here, and so would the "
        f"folder of {photos / 'x.png' / 'a.jpg'}; colour them into separate output folders")
    assert not (tmp_path / "out").exists()

    deep = tmp_path / "deep"
    deep.mkdir()
    for name in ("s16.png", "t16.png"):
        Image.fromarray(textured_rgb(40, 60)[..., 0].astype(np.uint16) * 257).save(deep / name)
    assert run("colorize", deep, "-o", tmp_path / "o", "--ext", ".jpg", "--model", tiny_model, "--no-progress") == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning")]
    assert warned[0].startswith(f"warning: {tmp_path / 'o' / 's16.jpg'}: ") and warned[1].startswith(
        f"warning: {deep / 't16.png'}: the same warning as {tmp_path / 'o' / 's16.jpg'}'s above ("), warned


def test_a_batch_names_an_extensionless_twin_reads_a_jpeg_named_heic_and_leaves_no_empty_folder(tmp_path, tiny_model,
                                                                                               capsys):
    """Probe 237: a file named scan beside scan.png came out as "scan-.png"; a JPEG named .heic was passed over in a
    folder ("convert it first") and coloured without a word when named, as was a camera raw file's preview; the
    folders made in an output folder that was there were left, empty, where every file of theirs failed."""
    photos = tmp_path / "photos"
    (photos / "s1" / "s2").mkdir(parents=True)
    Image.fromarray(textured_rgb(40, 60)[..., 0]).save(photos / "scan", "PNG")
    Image.fromarray(textured_rgb(40, 60)[..., 0]).save(photos / "scan.png")
    Image.fromarray(textured_rgb(40, 60)[..., 0]).save(photos / "phone.heic", "JPEG")
    (photos / "s1" / "s2" / "bad.png").write_bytes(b"not a picture")
    out = tmp_path / "out"
    out.mkdir()
    assert run("colorize", photos, "-o", out, "--model", tiny_model, "--no-progress") == 1
    err = capsys.readouterr().err
    assert sorted(path.name for path in out.iterdir()) == ["phone.heic.png", "scan-noext.png", "scan-png.png"], \
        "and no s1/s2, made for bad.png's output"
    assert f"warning: {photos / 'phone.heic'}: holds a picture rehue reads, not the HEIC picture its extension " \
        "names; coloured as it is" in err.splitlines()
    raw = tmp_path / "camera.nef"
    Image.fromarray(textured_rgb(40, 60)[..., 0]).save(raw, "TIFF")
    for output in (tmp_path / "raw.png", tmp_path / "raws"):  # probe 238: into a folder, it was coloured
        assert run("colorize", raw, "-o", output, "--model", tiny_model) == 1
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"rehue: error: {raw}: is a camera's raw file (.nef), which rehue does not read: it would be read as its "
            "small preview; convert it to TIFF or PNG first")
        assert not output.exists()
    phone = tmp_path / "real.heic"  # probe 238: a phone's own was "holds a picture rehue reads", then refused
    phone.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(2000))
    assert run("colorize", phone, "-o", tmp_path / "real.png", "--model", tiny_model) == 1
    assert [line for line in capsys.readouterr().err.splitlines() if line] == [
        f"rehue: error: {phone}: holds a HEIC/HEIF picture (a phone's), which rehue does not read; convert it to "
        "JPEG, PNG or TIFF first"]
    from tests.helpers_video import make_clip, textured_frames

    film = make_clip(tmp_path / "film.mp4", textured_frames(3, 48, 64)).rename(tmp_path / "film.heic")
    assert run("colorize", film, "-o", tmp_path / "film.mp4", "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 0
    assert f"warning: {film}: holds a video, not the HEIC picture its extension names; coloured as a video" in \
        capsys.readouterr().err.splitlines()
