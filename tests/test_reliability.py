"""Bad input, interruptions and untrusted files: each case through the real ``rehue`` entry point ends in a
correct result or one ``rehue: error: PATH: reason`` line (exit 1; 2 for usage errors), with no traceback,
no half-written output and no temp file left behind.

Cases already covered elsewhere are not repeated here (docs/reliability.md maps every case to its test):
empty, text and truncated JPEG inputs and the one-bad-file batch are in tests/cli/test_cli_colorize.py,
reader-level damage in tests/video/test_io.py, SIGKILL during training in tests/training/test_train.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rehue.cli import main
from rehue.color.lab import rgb_to_lab
from rehue.errors import RehueError
from tests.conftest import make_tiny_model, textured_rgb
from tests.helpers_video import default_sigint, make_audio_file, make_clip, temp_files, textured_frames

# Largest L* difference between a picture and its colourised output: the colorizer keeps L* up to 8-bit
# rounding (measured at most 0.36 over these cases and three random models); a wrong orientation, channel
# or bit depth is off by tens.
LIGHTNESS_TOLERANCE = 1.0
INTERRUPTED_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}  # 128 + the signal, as a shell says


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy machine OpenMP's waiting makes them 10x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def short_clip(tmp_path):
    return make_clip(tmp_path / "clip.mp4", textured_frames(6, 48, 64), fps=12, audio=True)


@pytest.fixture
def small_photo(tmp_path):
    Image.fromarray(textured_rgb(24, 32)).save(tmp_path / "photo.png")
    return tmp_path / "photo.png"


def run(*args) -> int:
    return main([str(a) for a in args])


def two_colour_photos(folder: Path) -> Path:
    """``folder`` holding two small colour photos, for the commands that train on or score photos."""
    folder.mkdir()
    for i in range(2):
        Image.fromarray(textured_rgb(40, 40, seed=i)).save(folder / f"{i}.png")
    return folder


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("rehue: error:")]


def assert_one_line_error(err: str, path, reason: str) -> None:
    """Exactly one error line, naming ``path`` and saying ``reason``; no traceback."""
    lines = error_lines(err)
    assert len(lines) == 1, err
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    assert "Traceback" not in err


def lightness(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(np.ascontiguousarray(rgb[..., :3]))[..., 0]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# ------------------------------------------------------------------------------------------- image inputs
# Each builder writes a file into ``folder`` and returns (path, the RGB the user sees, alpha or None).


def one_pixel(folder):
    rgb = np.array([[[10, 20, 30]]], np.uint8)
    Image.fromarray(rgb).save(folder / "one.png")
    return folder / "one.png", rgb, None


def sixteen_bit_gray(folder):
    values = np.linspace(0, 65535, 48 * 64).reshape(48, 64).astype(np.uint16)
    Image.fromarray(values).save(folder / "scan16.png")
    gray = np.round(values / 257.0).astype(np.uint8)
    return folder / "scan16.png", np.repeat(gray[..., None], 3, axis=2), None


def palette(folder):
    image = Image.fromarray(textured_rgb(30, 40)).convert("P")
    image.save(folder / "palette.png")
    return folder / "palette.png", np.asarray(image.convert("RGB")), None


def cmyk_jpeg(folder):
    Image.fromarray(textured_rgb(30, 40)).convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    with Image.open(folder / "cmyk.jpg") as image:
        assert image.mode == "CMYK"
        return folder / "cmyk.jpg", np.asarray(image.convert("RGB")), None


def alpha(folder):
    rgb = textured_rgb(30, 40)
    mask = np.tile(np.arange(40, dtype=np.uint8) * 6, (30, 1))
    Image.fromarray(np.dstack([rgb, mask])).save(folder / "alpha.png")
    return folder / "alpha.png", rgb, mask


def exif_rotated(folder):
    image = Image.fromarray(textured_rgb(20, 40))
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise for display
    image.save(folder / "rotated.jpg", exif=exif, quality=95)
    with Image.open(folder / "rotated.jpg") as stored:
        return folder / "rotated.jpg", np.rot90(np.asarray(stored.convert("RGB")), k=-1), None


@pytest.mark.parametrize("build", [one_pixel, sixteen_bit_gray, palette, cmyk_jpeg, alpha, exif_rotated],
                         ids=lambda f: f.__name__)
def test_unusual_images_are_coloured_with_their_lightness_size_and_alpha(tmp_path, tiny_model, capsys, build):
    source, shown, mask = build(tmp_path)
    out = tmp_path / "out" / "coloured.png"
    out.parent.mkdir()
    assert run("colorize", source, "-o", out, "--model", tiny_model) == 0
    assert not error_lines(capsys.readouterr().err)
    with Image.open(out) as result:
        assert result.mode == ("RGBA" if mask is not None else "RGB")
        pixels = np.asarray(result)
    assert pixels.shape[:2] == shown.shape[:2]
    assert np.abs(lightness(pixels) - lightness(shown)).max() <= LIGHTNESS_TOLERANCE
    if mask is not None:
        assert np.array_equal(pixels[..., 3], mask)
    assert not temp_files(tmp_path)


def cut_image(path, image_format: str, keep: int):
    """A real 64x64 image file of ``image_format`` cut after ``keep`` bytes."""
    buffer = io.BytesIO()
    Image.fromarray(textured_rgb(64, 64)).save(buffer, format=image_format)
    path.write_bytes(buffer.getvalue()[:keep])
    return path


def truncated_png(folder):
    return cut_image(folder / "cut.png", "PNG", 400), "truncated"


def decompression_bomb(folder):
    """A 50,000 x 50,000 PNG header over a few bytes of data: 7.5 GB if anything tried to decode it."""
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    (folder / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) +
                                      png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""))
    return folder / "bomb.png", "too large"


def truncated_jpeg_header(folder):
    """Cut inside the JPEG headers, before any picture data (Pillow says "Truncated File Read")."""
    return cut_image(folder / "head.jpg", "JPEG", 300), "truncated"


def audio_only_mp4(folder):
    song = make_audio_file(folder / "song.m4a")
    return song.rename(folder / "song.mp4"), "no video stream"


def song_with_cover_mp4(folder):
    """Sound and its cover art, a still picture flagged as one (probe 134: taken for the film, and the output said
    to have an implausible frame rate, after a warning that the file looked truncated)."""
    import av
    import numpy as np

    from tests.helpers_video import _write_tone

    with av.open(str(folder / "song.mp4"), "w") as container:
        sound = container.add_stream("aac", rate=44100, layout="stereo")
        cover = container.add_stream("mjpeg")
        cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 120, np.uint8), format="rgb24")
        picture = picture.reformat(format="yuvj420p")
        picture.pts = 0
        for packet in cover.encode(picture) + cover.encode(None):
            container.mux(packet)
        _write_tone(container, sound, 1.0, 44100)
    return folder / "song.mp4", "no video stream in this file: it holds sound and cover art, one still picture"


def zero_frame_avi(folder):
    """A video stream with no frames at all (MP4 muxers drop an empty track; AVI keeps it)."""
    import av

    with av.open(str(folder / "empty.avi"), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
        container.mux(stream.encode(None))
    return folder / "empty.avi", "no decodable video frames"


def zero_frame_mp4(folder):
    """MP4 muxers drop a track without samples, so FFmpeg sees no video stream at all."""
    import av

    with av.open(str(folder / "empty.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    return folder / "empty.mp4", "no video stream"


def text_named_mp4(folder):
    (folder / "notes.mp4").write_text("not a film\n" * 50)
    return folder / "notes.mp4", "not a video file"


@pytest.mark.parametrize("build", [truncated_png, decompression_bomb, truncated_jpeg_header, audio_only_mp4,
                                   song_with_cover_mp4, zero_frame_avi, zero_frame_mp4, text_named_mp4],
                         ids=lambda f: f.__name__)
def test_bad_inputs_give_one_line_errors_and_no_output(tmp_path, tiny_model, capsys, build):
    source, reason = build(tmp_path)
    out = tmp_path / "out" / ("coloured.mp4" if source.suffix in (".mp4", ".avi") else "coloured.png")
    out.parent.mkdir()
    code = run("colorize", source, "-o", out, "--model", tiny_model, "--dependent-model", "none", "--no-progress")
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, source, reason)
    assert list(out.parent.iterdir()) == []


def test_usage_error_is_one_line_with_exit_code_2(tmp_path, tiny_model, small_photo, capsys):
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"x")
    assert run("colorize", small_photo, small_photo, "-o", existing, "--model", tiny_model) == 2
    assert_one_line_error(capsys.readouterr().err, existing, "several inputs need an output folder")
    assert existing.read_bytes() == b"x"


def test_a_closed_standard_error_still_colours_and_never_puts_errors_on_standard_output(tmp_path):
    """Probe 63: run with stderr closed (`2>&-`), the first progress bar failed the run without a word (exit 1,
    nothing written), and an error line went to standard output, where a script reads the results."""
    model = make_tiny_model(tmp_path / "tiny.safetensors")
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(textured_rgb(40, 48, seed=i)[..., 0]).save(photos / f"p{i}.png")

    def rehue_without_stderr(*args):
        return subprocess.run([sys.executable, "-m", "rehue", *map(str, args), "--model", str(model)],
                              stdout=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(2), timeout=120)

    done = rehue_without_stderr("colorize", photos, "-o", tmp_path / "out")
    assert done.returncode == 0 and done.stdout == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p0.png", "p1.png"]
    failed = rehue_without_stderr("colorize", photos / "p0.png", "-o", tmp_path / "nowhere" / "x" / "p.png")
    assert failed.returncode == 1 and failed.stdout == ""


def test_debug_lets_the_error_through_with_its_traceback(tmp_path, tiny_model):
    source, _ = truncated_png(tmp_path)
    with pytest.raises(RehueError, match="truncated"):
        run("--debug", "colorize", source, "-o", tmp_path / "o.png", "--model", tiny_model)


# ------------------------------------------------------------------------------------------ output paths


def missing_folder(source, folder):
    return folder / "no-such-folder" / f"out{source.suffix}", folder / "no-such-folder", "does not exist"


def under_a_regular_file(source, folder):
    """Root ignores permissions, so an unwritable place is a path whose parent is a file."""
    (folder / "plain-file").write_text("x")
    return folder / "plain-file" / f"out{source.suffix}", folder / "plain-file", "is a file"


def inside_proc(source, folder):
    """Root passes every permission check, and /proc takes no new file: refused before any work, the folder
    named (before: "cannot write image" after the colouring)."""
    return Path("/proc") / f"rehue-out{source.suffix}", Path("/proc"), "cannot write in this folder"


def same_as_input(source, folder):
    return source, source, "same file as the input"


@pytest.mark.parametrize("media", ["photo", "video"])
@pytest.mark.parametrize("place", [missing_folder, under_a_regular_file, inside_proc, same_as_input],
                         ids=lambda f: f.__name__)
def test_unwritable_outputs_are_one_line_errors(tmp_path, tiny_model, small_photo, short_clip, capsys, media,
                                                place):
    source = small_photo if media == "photo" else short_clip
    target, named, reason = place(source, tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code = run("colorize", source, "-o", target, "--model", tiny_model, "--dependent-model", "none", "--overwrite",
               "--no-progress")
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, named, reason)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert target == source or not target.exists()


@pytest.mark.parametrize("command", ["colorize-folder", "colorize-frames", "frames", "train", "grid-search"])
def test_an_output_folder_that_cannot_be_made_is_one_line_for_every_command(tmp_path, tiny_model, small_photo,
                                                                           short_clip, capsys, command):
    """Before, an output folder below a file (or a read-only folder) ended in a PermissionError or
    NotADirectoryError traceback from colorize (folder outputs), frames, train and grid-search."""
    (tmp_path / "plain-file").write_text("x")
    out = tmp_path / "plain-file" / "out"
    photos = two_colour_photos(tmp_path / "photos")
    grid = tmp_path / "grid.toml"
    grid.write_text(f'data = "{photos}"\ngenerators = ["gen2"]\ndiscriminators = ["disc1"]\nbatch_sizes = [2]\n'
                    'size = 32\nepochs = 1\n')
    args = {"colorize-folder": ["colorize", small_photo, short_clip, "-o", out, "--model", tiny_model],
            "colorize-frames": ["colorize", photos, "--frames", "-o", out, "--model", tiny_model],
            "frames": ["frames", short_clip, short_clip.with_name("clip2.mp4"), "--out", out],
            "train": ["train", photos, "--out", out, "--size", "32", "--epochs", "1", "--batch-size", "2"],
            "grid-search": ["grid-search", grid, "--out", out]}[command]
    if command == "frames":
        short_clip.with_name("clip2.mp4").write_bytes(short_clip.read_bytes())
    before = sorted(tmp_path.rglob("*"))
    assert run(*args, "--no-progress") == 1
    err = capsys.readouterr().err
    assert_one_line_error(err, tmp_path / "plain-file", "")
    assert "Not a directory" in err or "is a file" in err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("command", ["colorize-folder", "colorize-frames", "frames", "evaluate"])
def test_an_output_folder_where_nothing_can_be_made_fails_once_before_any_work(tmp_path, tiny_model, small_photo,
                                                                               short_clip, capsys, monkeypatch,
                                                                               command):
    """/proc lets root past a permission check and refuses every folder. Before, colorize failed there once
    a file, evaluate after scoring every photo, and frames (onto a file) after sampling every video."""
    from rehue.data import frames
    from rehue.inference.colorizer import Colorizer

    def no_work(*args, **kwargs):
        raise AssertionError("work began")

    monkeypatch.setattr(Colorizer, "load_independent", no_work)
    monkeypatch.setattr(frames, "_sample_video", no_work)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(40, 40)).save(photos / "0001.png")
    (tmp_path / "plain-file").write_text("x")
    out = Path("/proc/rehue-out") if command != "frames" else tmp_path / "plain-file"
    args = {"colorize-folder": ["colorize", small_photo, short_clip, "-o", out, "--model", tiny_model],
            "colorize-frames": ["colorize", photos, "--frames", "-o", out, "--model", tiny_model],
            "frames": ["frames", short_clip, "--out", out],
            "evaluate": ["evaluate", photos, "--out", out, "--model", tiny_model]}[command]
    assert run(*args, "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, out, "")
    assert (tmp_path / "plain-file").read_text() == "x"


def test_a_link_to_nothing_as_the_output_is_an_output_that_exists(tmp_path, tiny_model, small_photo, capsys):
    """Before, a file output that was a dangling link failed, after colouring, as written by "another run",
    and a folder output that was one failed once a file with "cannot make this folder (File exists)"."""
    link = tmp_path / "colour.png"
    link.symlink_to(tmp_path / "gone" / "colour.png")
    assert run("colorize", small_photo, "-o", link, "--model", tiny_model) == 1
    assert_one_line_error(capsys.readouterr().err, link, "pass --overwrite to replace the link")
    assert link.is_symlink()
    assert run("colorize", small_photo, "-o", link, "--model", tiny_model, "--overwrite") == 0
    assert not link.is_symlink() and Image.open(link).size == (32, 24)

    folder_link = tmp_path / "coloured"
    folder_link.symlink_to(tmp_path / "gone")
    second = tmp_path / "second.png"
    second.write_bytes(small_photo.read_bytes())
    assert run("colorize", small_photo, second, "-o", folder_link, "--model", tiny_model, "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, folder_link, "which does not exist")
    assert not (tmp_path / "gone").exists()

    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "photo.png").symlink_to(tmp_path / "gone.png")
    assert run("colorize", small_photo, second, "-o", batch, "--model", tiny_model, "--no-progress") == 0
    assert "1 skipped" in capsys.readouterr().err
    assert (batch / "photo.png").is_symlink() and (batch / "second.png").is_file()


def test_output_paths_that_name_no_file_to_write_are_usage_errors(tmp_path, tiny_model, small_photo, capsys,
                                                                  monkeypatch):
    """Before, one photo into /dev/null or an existing file without an extension said "several inputs need
    an output folder", and ``-o -`` made a folder named "-"."""
    plain = tmp_path / "notes"
    plain.write_text("mine")
    for out in (Path("/dev/null"), plain):
        assert run("colorize", small_photo, "-o", out, "--model", tiny_model) == 2
        assert_one_line_error(capsys.readouterr().err, out, "is not a folder, and names no picture or video format")
    assert plain.read_text() == "mine"
    monkeypatch.chdir(tmp_path)
    assert run("colorize", small_photo, "-o", "-", "--model", tiny_model) == 2
    assert "not to standard output" in capsys.readouterr().err and not (tmp_path / "-").exists()


def test_frames_coloured_into_their_own_folder_are_refused(tmp_path, tiny_model, capsys):
    """Before, ``colorize FOLDER -o FOLDER --frames --ext .jpg`` wrote the coloured frames among the gray."""
    folder = tmp_path / "reel"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(textured_rgb(32, 32, seed=i)[..., 0]).save(folder / f"frame{i:04d}.png")
    for ext in (".png", ".jpg"):
        assert run("colorize", folder, "-o", folder, "--frames", "--ext", ext, "--model", tiny_model,
                   "--no-progress") == 1
        assert_one_line_error(capsys.readouterr().err, folder, "name another folder with -o")
    assert sorted(p.name for p in folder.iterdir()) == [f"frame{i:04d}.png" for i in range(3)]


def test_a_name_with_a_newline_and_a_link_to_nothing_are_told_on_one_line(tmp_path, tiny_model, capsys):
    folder = tmp_path / "box"
    folder.mkdir()
    (folder / "bad\nname.jpg").write_bytes(b"not a picture")
    (folder / "moved.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    assert run("colorize", folder, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 1
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"rehue: error: {folder}/bad\\nname.jpg: not an image file") for line in lines)
    assert f"rehue: error: {folder}/moved.jpg: a link to {tmp_path / 'elsewhere.jpg'}, which does not exist" in lines
    assert f"  failed: {folder}/bad\\nname.jpg: not an image file (or a format Pillow cannot read)" in lines


def test_a_frame_dataset_never_replaces_a_folder_of_the_users_own_files(tmp_path, short_clip, capsys):
    """Before, ``rehue frames`` replaced its --out folder whole, without --overwrite: the videos in it, a
    catalogue beside them and their subfolders were deleted."""
    library = tmp_path / "library"
    (library / "sub").mkdir(parents=True)
    (library / "reel1.mp4").write_bytes(short_clip.read_bytes())
    (library / "catalogue.txt").write_text("precious")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    own_frames = tmp_path / "own-frames"  # probe 46: a folder of the user's named as a dataset's was replaced
    (own_frames / "frames" / "clip").mkdir(parents=True)
    (own_frames / "frames" / "notes.txt").write_text("keep")
    (own_frames / "frames" / "clip" / "000000.png").write_text("the user's")
    (tmp_path / "own-manifest").mkdir()
    (tmp_path / "own-manifest" / "manifest.csv").write_text("title,year\nreel,1931\n")
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    for args, reason in (([library, "--out", library], "holds the video"),
                         ([short_clip, "--out", mine], "holds files of its own (such as notes.txt)"),
                         ([short_clip, "--out", mine, "--overwrite"], "holds files of its own"),
                         ([short_clip, "--out", own_frames], "holds files of its own (such as frames)"),
                         ([short_clip, "--out", tmp_path / "own-manifest", "--overwrite"],
                          "holds files of its own (such as manifest.csv)")):
        assert run("frames", *args, "--size", "32", "--no-progress") == 1
        assert_one_line_error(capsys.readouterr().err, args[args.index("--out") + 1], reason)
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before
    dataset = tmp_path / "dataset"
    assert run("frames", short_clip, "--out", dataset, "--size", "32", "--no-progress") == 0
    assert run("frames", short_clip, "--out", dataset, "--size", "32", "--no-progress") == 1
    assert "--overwrite" in capsys.readouterr().err
    assert run("frames", short_clip, "--out", dataset, "--size", "32", "--no-progress", "--overwrite") == 0
    ready = tmp_path / "ready"  # folders made ready for the frames, nothing in them: before, "files of its own"
    (ready / "frames" / "clip").mkdir(parents=True)
    (ready / "empty").mkdir()
    assert run("frames", short_clip, "--out", ready, "--size", "32", "--no-progress") == 0
    assert (ready / "manifest.csv").is_file() and not (ready / "empty").exists()
    assert run("frames", short_clip, "--out", "-", "--no-progress") == 2


def _within(seconds, call):
    """``call()``'s result, or a failure if it has not returned within ``seconds`` (a read from a pipe waits
    for a writer for ever)."""
    import threading

    result = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"still running after {seconds} s"
    return result[0]


@pytest.mark.parametrize("command", ["colorize", "scenes", "frames"])
def test_a_pipe_named_as_a_video_is_refused_at_once(tmp_path, tiny_model, capsys, command):
    """Before, ``colorize pipe.mp4``, ``scenes pipe.mp4`` and ``frames pipe.mp4`` waited for a writer until
    killed, and ``colorize pipe.png -o x.png`` said "several inputs"."""
    pipe = tmp_path / "pipe.mp4"
    os.mkfifo(pipe)
    args = {"colorize": ["colorize", pipe, "-o", tmp_path / "out", "--model", tiny_model],
            "scenes": ["scenes", pipe], "frames": ["frames", pipe, "--out", tmp_path / "dataset"]}[command]
    assert _within(30, lambda: run(*args, "--no-progress")) == 1
    assert_one_line_error(capsys.readouterr().err, pipe, "is a pipe or a device, not a file")
    assert not (tmp_path / "out").exists() and not (tmp_path / "dataset").exists()
    if command == "colorize":
        os.mkfifo(tmp_path / "pipe.png")
        assert _within(30, lambda: run("colorize", tmp_path / "pipe.png", "-o", tmp_path / "x.png")) == 1
        assert_one_line_error(capsys.readouterr().err, tmp_path / "pipe.png", "is a pipe or a device")


def test_names_that_are_not_utf8_and_loops_of_links_are_no_traceback(tmp_path, tiny_model, short_clip, capsys):
    """Before, one file name that is not UTF-8 (an old Latin-1 disk) ended colorize, frames and evaluate in a
    UnicodeEncodeError, evaluate's after writing half its report; a loop of links in a folder ended colorize
    in "RuntimeError: Symlink loop", and was called a link to a file that does not exist elsewhere."""
    folder = tmp_path / "old-disk"
    folder.mkdir()
    latin = os.fsdecode(b"caf\xe9")  # "café" in Latin-1
    Image.fromarray(textured_rgb(24, 32)).save(folder / f"{latin}.png")
    import cv2

    deep = cv2.imencode(".png", textured_rgb(24, 32).astype(np.uint16) * 257)[1]  # 16-bit RGB: read by OpenCV too
    (folder / f"{latin}-16.png").write_bytes(deep.tobytes())
    (folder / f"{latin}-reel.mp4").write_bytes(short_clip.read_bytes())
    (folder / "a.png").symlink_to("b.png")
    (folder / "b.png").symlink_to("a.png")
    out = tmp_path / "out"
    assert run("colorize", folder, "-o", out, "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"rehue: error: {folder}/a.png: a link in a loop of links (to b.png)" in err
    assert sorted(os.fsencode(path.name) for path in out.iterdir()) == [b"caf\xe9-16.png", b"caf\xe9-reel.mp4",
                                                                        b"caf\xe9.png"]
    written = np.frombuffer((out / f"{latin}-16.png").read_bytes(), np.uint8)
    assert cv2.imdecode(written, cv2.IMREAD_UNCHANGED).dtype == np.uint16, "the 16-bit scan stays 16-bit"
    assert run("frames", folder, "--out", tmp_path / "dataset", "--size", "32", "--no-progress") == 0
    report = tmp_path / "report"
    assert run("evaluate", folder, "--out", report, "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 0
    assert "Traceback" not in capsys.readouterr().err
    assert "video caf\\udce9-reel.mp4" in (report / "metrics.md").read_text()
    assert {path.name for path in report.iterdir()} >= {"metrics.json", "metrics.md", "drift.png"}


def test_a_film_named_alone_into_a_folder_comes_out_in_a_format_rehue_writes(tmp_path, tiny_model, short_clip,
                                                                             capsys):
    """Before, ``colorize clip.avi -o folder/`` failed with "unsupported video output extension '.avi'" and
    left the folder behind, empty."""
    clip = tmp_path / "reel.avi"
    clip.write_bytes(short_clip.read_bytes())
    assert run("colorize", clip, "-o", tmp_path / "films", "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 0
    assert [path.name for path in (tmp_path / "films").iterdir()] == ["reel.mp4"]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "text.jpg").write_text("not a picture")
    (tmp_path / "bad" / "deeper").mkdir()
    (tmp_path / "bad" / "deeper" / "empty.png").write_bytes(b"")
    assert run("colorize", tmp_path / "bad", "-o", tmp_path / "never", "--model", tiny_model, "--no-progress") == 1
    assert "2 failed" in capsys.readouterr().err
    assert not (tmp_path / "never").exists(), "a batch that wrote nothing leaves no empty folders"
    assert run("colorize", tmp_path / "bad", "-o", tmp_path / "none" / "of" / "these", "--model", tiny_model,
               "--no-progress") == 1
    assert not (tmp_path / "none").exists(), "nor the parent folders it made for the output folder"


def test_frames_numbered_in_their_extension_or_without_one_are_a_film(tmp_path, tiny_model, capsys):
    """Before, ``--frames`` found no frames in a scanner's ``scan.0001`` ... or ``f0001`` ... sequence."""
    for name in ("numbered", "bare"):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(1, 4):
            frame = Image.fromarray(textured_rgb(32, 32, seed=i)[..., 0])
            frame.save(folder / (f"scan.{i:04d}" if name == "numbered" else f"f{i:04d}"), format="TIFF")
        assert run("colorize", folder, "--frames", "-o", tmp_path / f"{name}-out", "--model", tiny_model,
                   "--no-progress") == 0
    assert sorted(p.name for p in (tmp_path / "numbered-out").iterdir()) == [f"scan.{i:04d}.png" for i in (1, 2, 3)]
    assert sorted(p.name for p in (tmp_path / "bare-out").iterdir()) == [f"f{i:04d}.png" for i in (1, 2, 3)]
    assert "3 frames" in capsys.readouterr().err


def test_training_into_a_link_to_nothing_says_so(tmp_path, capsys):
    photos = two_colour_photos(tmp_path / "photos")
    run_link = tmp_path / "run"
    run_link.symlink_to(tmp_path / "gone")
    assert run("train", photos, "--out", run_link, "--size", "32", "--epochs", "1", "--batch-size", "2",
               "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, run_link, f"is a link to {tmp_path / 'gone'}, which does not exist")


def test_existing_video_output_is_kept_without_overwrite(tmp_path, tiny_model, short_clip, capsys):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    assert run("colorize", short_clip, "-o", out, "--model", tiny_model, "--dependent-model", "none") == 1
    assert_one_line_error(capsys.readouterr().err, out, "--overwrite")
    assert out.read_bytes() == b"precious"


# ----------------------------------------------------------------------------------------- damaged video


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_video_damaged_in_the_middle_is_coloured_past_the_damage_with_one_warning(tmp_path, tiny_model, capsys,
                                                                                    suffix):
    """Probe 43: one key frame's packet damaged in the middle of a 90-frame film stopped it there, exit 0, with
    43 frames written and the warning printed twice; FFmpeg decodes past such damage. The packet is skipped.
    Probe 44: the decoder then gave a frame out of order, taken for a joint of two recordings, and every frame
    after it came later than its time, the picture behind its sound; it is dropped, and each frame keeps its time."""
    import av

    from rehue.color.lab import rgb_to_gray

    shots = [rgb_to_gray(textured_rgb(48, 64 + 30, seed=seed)) for seed in range(6)]
    frames = [np.repeat(shot[:, 2 * k:2 * k + 64, None], 3, 2) for shot in shots for k in range(15)]
    clip = make_clip(tmp_path / f"film{suffix}", frames, fps=25, gop=15, audio=True)
    with av.open(str(clip)) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)
        key = packets[45]
        start, size = key.pos, key.size
        times = [round(float(p.pts * p.time_base), 3) for p in packets]
    data = bytearray(clip.read_bytes())
    skip = 4 if suffix == ".mp4" else 8  # past the NAL unit's length (and Matroska's block header)
    data[start + skip:start + size] = b"\xff" * (size - skip)
    clip.write_bytes(bytes(data))
    out = tmp_path / "coloured.mkv"
    assert run("colorize", clip, "-o", out, "--model", tiny_model, "--dependent-model", "none", "--no-progress") == 0
    err = capsys.readouterr().err
    damage = [line for line in err.splitlines() if "video is damaged" in line]
    assert len(damage) == 1 and "1 packet could not be decoded" in damage[0] and "and was skipped; the frames it " \
        "held are missing" in damage[0], damage
    assert "joined" not in err
    with av.open(str(out)) as container:
        shown = [round(float(frame.time), 3) for frame in container.decode(video=0)]
    assert 60 <= len(shown) < 90, len(shown)
    origin = times[0] - shown[0]  # the output's time 0 (MP4's sound may start first)
    assert shown == sorted(shown) and {round(time + origin, 3) for time in shown} <= set(times), "at their own times"


def test_video_with_a_corrupt_end_is_coloured_up_to_the_damage_with_its_sound(tmp_path, tiny_model, capsys,
                                                                            caplog):
    import av

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(40)]
    clip = make_clip(tmp_path / "damaged.mp4", frames, fps=25, audio=True)
    data = bytearray(clip.read_bytes())
    cut = int(len(data) * 0.7)
    data[cut:] = rng.integers(0, 256, len(data) - cut, dtype=np.uint8).tobytes()
    clip.write_bytes(bytes(data))
    out = tmp_path / "coloured.mp4"
    code = run("colorize", clip, "-o", out, "--model", tiny_model, "--dependent-model", "none", "--no-progress")
    err = capsys.readouterr().err
    assert code == 0 and not error_lines(err)
    assert "video is damaged" in caplog.text  # printed to stderr outside pytest
    with av.open(str(out)) as container:
        written = sum(1 for _ in container.decode(video=0))
        assert container.streams.audio
    assert 5 < written < len(frames)
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        samples = 0
        try:
            for packet in container.demux(stream):
                samples += sum(frame.samples for frame in packet.decode())
        except av.FFmpegError:  # the source's damaged audio packets are copied as they were
            pass
    assert samples / stream.codec_context.sample_rate >= written / 25 - 0.1
    assert not temp_files(tmp_path)


def test_video_that_changes_size_part_way_is_coloured_at_its_first_size(tmp_path, tiny_model, caplog):
    """Two recordings spliced into one MPEG-TS stream (64x48, then 96x72)."""
    from rehue.video.io import VideoReader

    first = make_clip(tmp_path / "first.ts", textured_frames(8, 48, 64), fps=25, codec="libx264")
    second = make_clip(tmp_path / "second.ts", textured_frames(8, 72, 96), fps=25, codec="libx264")
    spliced = tmp_path / "spliced.ts"
    spliced.write_bytes(first.read_bytes() + second.read_bytes())
    out = tmp_path / "coloured.mp4"
    assert run("colorize", spliced, "-o", out, "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 0
    assert "frame size changes from 64x48 to 96x72" in caplog.text
    with VideoReader(out) as reader:
        sizes = [frame.gray.shape for frame in reader]
    assert sizes == [(48, 64)] * 16


def test_implausible_frame_rate_is_refused(tmp_path, tiny_model, capsys):
    """A header claiming 5,000 frames per second: H.264 written at such rates can come out undecodable."""
    clip = make_clip(tmp_path / "fast.mp4", textured_frames(6, 48, 64), fps=5000)
    out = tmp_path / "coloured.mp4"
    assert run("colorize", clip, "-o", out, "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, out, "frame rate 5000 fps is implausible")
    assert not out.exists() and not temp_files(tmp_path)


# -------------------------------------------------------------------------------------------------- batch


def test_batch_colours_every_good_file_lists_the_bad_ones_last_and_fails(tmp_path, tiny_model, short_clip,
                                                                          capsys):
    folder = tmp_path / "archive"
    (folder / "reel").mkdir(parents=True)
    Image.fromarray(textured_rgb(20, 30)).save(folder / "a.png")
    Image.fromarray(textured_rgb(30, 20)[..., 0]).save(folder / "reel" / "b.jpg")
    short_clip.rename(folder / "reel" / "film.mp4")
    bad = {folder / "c-empty.png": b"", folder / "d-text.jpg": b"hello\n", folder / "reel" / "e.mp4": b"\0" * 300}
    for path, data in bad.items():
        path.write_bytes(data)
    out = tmp_path / "out"
    assert run("colorize", folder, "-o", out, "--model", tiny_model, "--dependent-model", "none",
               "--no-progress") == 1
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        ["a.png", "reel/b.png", "reel/film.mp4"]
    err = capsys.readouterr().err.splitlines()
    summary = next(i for i, line in enumerate(err) if line.startswith("coloured "))
    assert err[summary] == "coloured 3 files, 3 failed"
    listed = err[summary + 1 :]
    assert len(listed) == 3 and all(line.startswith("  failed: ") for line in listed)
    assert sorted(line.split(": ")[1] for line in listed) == sorted(str(p) for p in bad)
    assert "Traceback" not in "\n".join(err)


def test_batch_of_good_files_exits_zero(tmp_path, tiny_model, photo_folder, capsys):
    assert run("colorize", photo_folder, "-o", tmp_path / "out", "--model", tiny_model, "--no-progress") == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 4
    assert capsys.readouterr().err.splitlines()[-1] == "coloured 4 files"


# -------------------------------------------------------------------------------------------- interrupts


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """1,500 frames at 160x120 with sound: seconds of colouring for a signal to land in, even on a CPU
    that colours 300 of them in 0.6 s with the tiny model (where a 300-frame clip ended first)."""
    return make_clip(tmp_path_factory.mktemp("long") / "long.mp4", textured_frames(1500, 120, 160), fps=25,
                     audio=True)


def test_sigint_sigterm_and_sighup_mid_video_leave_no_partial_output_and_no_temp_file(tmp_path, long_clip):
    """Two runs side by side (one interpreter start's worth of waiting): SIGINT into a fresh output,
    SIGTERM into a run with --overwrite over an earlier result, which must survive unchanged. The signal
    lands as the output opens, the moment most likely to leak (the header being written, the threads
    starting): under load, before rehue guarded it, 4 of 60 runs signalled there kept their temp file
    or crashed at exit, a decode thread still reading from the closed reader (benchmarks/interrupts.py)."""
    model = make_tiny_model(tmp_path / "tiny.safetensors")
    runs = []
    for signum, existing in ((signal.SIGINT, None), (signal.SIGTERM, b"the previous result"),
                             (signal.SIGHUP, b"the previous result")):  # probe 63: SIGHUP killed it as kill -9
        folder = tmp_path / signum.name
        folder.mkdir()
        out = folder / "coloured.mp4"
        if existing is not None:
            out.write_bytes(existing)
        args = [sys.executable, "-X", "faulthandler", "-m", "rehue.cli", "colorize", str(long_clip), "-o", str(out),
                "--model", str(model), "--dependent-model", "none", "--overwrite", "--no-progress"]
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                                preexec_fn=default_sigint)
        runs.append((signum, existing, folder, out, proc))
    deadline = time.monotonic() + 60
    for signum, _, folder, _, proc in runs:
        while not temp_files(folder) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        # Frozen as soon as its output is open, the run cannot finish before the signal, however late this
        # process is scheduled; the signal waits for SIGCONT.
        proc.send_signal(signal.SIGSTOP)
        assert proc.poll() is None and temp_files(folder), \
            f"{signum.name}: colouring ended before the signal; the clip is too short for this machine"
        proc.send_signal(signum)
        proc.send_signal(signal.SIGCONT)
    for signum, existing, folder, out, proc in runs:
        _, err = proc.communicate(timeout=60)
        if proc.returncode != INTERRUPTED_EXIT[signum]:  # the whole stderr: a crash's stacks (faulthandler) come last
            pytest.fail(f"{signum.name}: exit {proc.returncode}, stderr:\n{err}", pytrace=False)
        assert "rehue: interrupted" in err and "Traceback" not in err
        assert not temp_files(folder)
        assert out.read_bytes() == existing if existing is not None else not out.exists()


def test_a_hangup_ignored_as_nohup_ignores_it_does_not_stop_the_run(tmp_path, long_clip):
    """Probe 64: once SIGHUP stopped a run as SIGTERM does, `nohup rehue ...` stopped at a hangup too (exit 129),
    where the job was meant to outlive its terminal; a signal the process starts ignoring stays ignored."""
    model = make_tiny_model(tmp_path / "tiny.safetensors")
    out = tmp_path / "coloured.mp4"

    def as_nohup():
        default_sigint()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "rehue.cli", "colorize", str(long_clip), "-o", str(out), "--model",
                             str(model), "--dependent-model", "none", "--no-progress"], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, preexec_fn=as_nohup)
    deadline = time.monotonic() + 60
    while not temp_files(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)
    assert proc.poll() is None and temp_files(tmp_path), "colouring ended before the signal"
    proc.send_signal(signal.SIGHUP)
    proc.send_signal(signal.SIGCONT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.exists() and not temp_files(tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_job_is_done_ends_the_process_with_its_own_exit_and_no_traceback(signum):
    """Probe 49: Ctrl-C or SIGTERM just after the summary line, while Python shut down, printed a traceback
    ("Exception ignored in: <module 'threading'>", KeyboardInterrupt) after exit 0, or the process died by the
    signal (-15) with no word, so a finished film looked killed. The job is done: it ends as it would have."""
    script = ("import os, signal, sys\n"
              "from rehue import cli\n"
              "sys.argv = ['rehue', 'models']\n"
              "code = cli.main()\n"
              f"os.kill(os.getpid(), {int(signum)})  # a late signal, as the process ends\n"
              "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          preexec_fn=default_sigint)
    assert done.returncode == 0 and "Traceback" not in done.stderr and "interrupted" not in done.stderr, done.stderr
    assert "rehue-gen2-128-independent" in done.stdout


def test_a_video_killed_part_way_goes_on_from_its_last_finished_piece(tmp_path, capsys):
    """`kill -9` (or a power cut) while a film is coloured into one file: its finished pieces are on the disk,
    and the same command colours only the rest, into the file an uninterrupted run makes."""
    from rehue.color.lab import rgb_to_gray
    from rehue.video.io import VideoReader
    from rehue.video.resume import PIECES

    model = make_tiny_model(tmp_path / "tiny.safetensors")
    shots = [rgb_to_gray(textured_rgb(72, 96, seed=seed)) for seed in range(60)]  # 60 shots of 6 frames, hard cuts
    frames = [np.repeat(np.roll(shot, 2 * k, axis=1)[..., None], 3, 2) for shot in shots for k in range(6)]
    clip = make_clip(tmp_path / "film.mkv", frames, fps=24, codec="ffv1", audio=True)
    args = ["colorize", str(clip), "--model", str(model), "--dependent-model", "none", "--codec", "ffv1",
            "--no-progress"]
    small_pieces = ("import rehue.video.pieces as p, sys; p.PIECE_FRAMES = 4; from rehue.cli import main; "
                    "sys.exit(main())")
    assert main([*args, "-o", str(tmp_path / "whole.mkv")]) == 0

    out = tmp_path / "out" / "coloured.mkv"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", small_pieces, *args, "-o", str(out)], stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    finished = []
    while proc.poll() is None and time.monotonic() < deadline and len(finished) < 3:
        finished = [line for journal in out.parent.glob(f".*/{PIECES}") for line in journal.read_text().splitlines()]
        time.sleep(0.005)
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL and len(finished) >= 3, "the film ended before the kill"
    finished = [line for journal in out.parent.glob(f".*/{PIECES}") for line in journal.read_text().splitlines()]
    assert not out.exists()

    capsys.readouterr()
    assert main([*args, "-o", str(out)]) == 0
    going_on = [line for line in capsys.readouterr().err.splitlines() if "going on from frame" in line]
    kept = 6 * len(finished)
    assert len(going_on) == 1 and going_on[0].endswith(f"where an earlier run stopped ({kept} frames kept)")
    assert sorted(p.name for p in out.parent.iterdir()) == ["coloured.mkv"], "no hidden folder or file left"
    with VideoReader(out) as ours, VideoReader(tmp_path / "whole.mkv") as theirs:
        for mine, want in zip(ours, theirs, strict=True):
            assert mine.pts == want.pts and np.array_equal(mine.rgb, want.rgb)


# ---------------------------------------------------------------------------------------- untrusted files


def write_model_variant(folder, tiny, weights: bytes | None = None, config: dict | None = None,
                        raw_config: str | None = None) -> Path:
    path = folder / "untrusted.safetensors"
    path.write_bytes(tiny.read_bytes() if weights is None else weights)
    card = json.loads(tiny.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(raw_config if raw_config is not None else json.dumps({**card, **config}))
    return path


MODEL_VARIANTS = {
    "random-bytes": ({"weights": np.random.default_rng(0).bytes(4096), "config": {}}, ".safetensors",
                     "not a readable safetensors file"),
    "wrong-shapes": ({"config": {"width": 8}}, ".safetensors", "shape mismatch"),
    "size-not-a-number": ({"config": {"size": "big"}}, ".json", "size must be a positive whole number"),
    "negative-width": ({"config": {"width": -4}}, ".json", "width must be a positive whole number"),
    "absurd-size": ({"config": {"size": 2**40}}, ".json", "above the limit"),
    "unknown-architecture": ({"config": {"architecture": "resnet"}}, ".json", "unknown model 'resnet'"),
    "discriminator": ({"config": {"architecture": "disc2"}}, ".json", "not a generator"),
    "not-an-object": ({"raw_config": "[1, 2, 3]"}, ".json", "must be a JSON object"),
    # probe 128: out of its block, "chroma" was passed over, and the rest were kept without a word
    "setting-out-of-its-block": ({"config": {"chroma": 0.0}}, ".json",
                                 'chroma is an inference setting: it goes inside "inference", where it is read'),
    "misspelt-field": ({"config": {"inferance": {"chroma": 0.0}}}, ".json",
                       "model config has no field 'inferance' (did you mean 'inference'?)"),
    "unknown-field": ({"config": {"notes": "x"}}, ".json", "model config has no field 'notes'; its fields are "
                      "architecture, in_channels, size, width, role, normalization, training, metrics, inference"),
    # probe 128: read by evaluate and train --init, these ended both in a TypeError traceback
    "training-data-a-number": ({"config": {"training": {"data": 5}}}, ".json",
                               "training.data must be a folder's path (a string), not 5"),
    "training-videos-a-number": ({"config": {"training": {"videos": 5}}}, ".json",
                                 "training.videos must be a list of strings, not 5"),
    "training-folders-not-names": ({"config": {"training": {"earlier_data": [None]}}}, ".json",
                                   "training.earlier_data must be a list of strings, not [None]"),
}


@pytest.mark.parametrize("argv", [["evaluate", "{photos}", "--out", "{tmp}/report"],
                                  ["train", "{photos}", "--init", "{model}", "--out", "{tmp}/run", "--epochs", "1"]])
def test_a_model_card_whose_training_record_is_of_the_wrong_kind_is_one_line(tmp_path, tiny_model, photo_folder,
                                                                           capsys, argv):
    """Probe 128: `rehue evaluate` and `rehue train --init` read what a model learnt from off its card, and a
    number where a folder's path or a list stands ended both in a TypeError traceback."""
    model = write_model_variant(tmp_path, tiny_model, config={"training": {"data": "/tmp", "videos": 5}})
    words = [word.format(photos=photo_folder, tmp=tmp_path, model=model) for word in argv]
    if "--init" not in words:
        words += ["--model", str(model)]
    assert run(*words, "--device", "cpu", "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, model.with_suffix(".json"),
                          "training.videos must be a list of strings, not 5")
    assert not (tmp_path / "report").exists() and not (tmp_path / "run").exists()


@pytest.mark.parametrize("variant", MODEL_VARIANTS)
def test_untrusted_model_files_are_clear_errors(tmp_path, tiny_model, small_photo, capsys, variant):
    options, named_suffix, reason = MODEL_VARIANTS[variant]
    model = write_model_variant(tmp_path, tiny_model, **options)
    out = tmp_path / "out.png"
    assert run("colorize", small_photo, "-o", out, "--model", model) == 1
    assert_one_line_error(capsys.readouterr().err, model.with_suffix(named_suffix), reason)
    assert not out.exists()


class WritesAFileWhenUnpickled:
    """A pickle payload: unpickling it calls ``open(marker, "w")``, i.e. runs code of the file's choosing."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_malicious_checkpoint_is_refused_not_executed(tmp_path, photo_folder, capsys):
    import torch

    marker = tmp_path / "payload-ran"
    buffer = io.BytesIO()
    torch.save({"config": WritesAFileWhenUnpickled(marker), "epoch": 1}, buffer)
    data = buffer.getvalue()
    torch.load(io.BytesIO(data), weights_only=False)["config"].close()  # live: a plain pickle load runs it
    assert marker.exists()
    marker.unlink()
    checkpoint = tmp_path / "run" / "checkpoints" / "epoch_0001.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(data)
    checkpoint.with_suffix(".pt.sha256").write_text(hashlib.sha256(data).hexdigest() + "\n")
    code = run("train", photo_folder, "--out", tmp_path / "run", "--resume", "--device", "cpu", "--no-progress")
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, checkpoint, "refused")
    assert not marker.exists()


def training_state_as_a_list():
    import torch

    buffer = io.BytesIO()
    torch.save([1, 2, 3], buffer)
    return buffer.getvalue(), "not a rehue training checkpoint"


def broken_zip():
    return b"PK\x03\x04" + bytes(200), "not a readable checkpoint"


@pytest.mark.parametrize("build", [training_state_as_a_list, broken_zip], ids=lambda f: f.__name__)
def test_checkpoint_that_is_not_rehues_is_a_clear_error(tmp_path, photo_folder, capsys, build):
    payload, reason = build()
    checkpoint = tmp_path / "run" / "checkpoints" / "epoch_0001.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(payload)
    checkpoint.with_suffix(".pt.sha256").write_text(hashlib.sha256(payload).hexdigest() + "\n")
    code = run("train", photo_folder, "--out", tmp_path / "run", "--resume", "--device", "cpu", "--no-progress")
    assert code == 1
    assert_one_line_error(capsys.readouterr().err, checkpoint, reason)


# --------------------------------------------------------------------------------- killed while saving


def checkpoint_state(epoch: int) -> dict:
    import torch

    return {"config": {}, "epoch": epoch, "step": 10 * epoch, "history": [], "generator": {"w": torch.ones(64)},
            "discriminator": {}, "opt_g": {}, "opt_d": {}, "torch_rng": [torch.get_rng_state()]}


FILE_STEPS = ("fsync", "replace", "unlink")


def save_recording_file_steps(directory: Path, epoch: int) -> list[str]:
    """Save ``epoch``; returns the fsync/replace/unlink calls it made, each a moment it can be killed at."""
    from rehue.training.checkpoint import save_checkpoint

    calls = []
    originals = {name: getattr(os, name) for name in FILE_STEPS}

    def recorder(name):
        return lambda *args, **kwargs: (calls.append(name), originals[name](*args, **kwargs))[1]

    try:
        for name in FILE_STEPS:
            setattr(os, name, recorder(name))
        save_checkpoint(checkpoint_state(epoch), directory, epoch)
    finally:
        for name, original in originals.items():
            setattr(os, name, original)
    return calls


def save_and_die_at(directory: Path, epoch: int, step: int) -> None:
    """Save ``epoch`` in a forked child that exits at once before file step ``step``: no ``finally``, no
    cleanup, as under SIGKILL."""
    from rehue.training.checkpoint import save_checkpoint

    pid = os.fork()
    if pid == 0:
        try:
            done = [0]
            originals = {name: getattr(os, name) for name in FILE_STEPS}

            def step_or_die(name):
                def call(*args, **kwargs):
                    if done[0] == step:
                        os._exit(0)
                    done[0] += 1
                    return originals[name](*args, **kwargs)

                return call

            for name in FILE_STEPS:
                setattr(os, name, step_or_die(name))
            save_checkpoint(checkpoint_state(epoch), directory, epoch)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def test_killed_at_any_step_of_saving_a_checkpoint_resume_finds_an_intact_one(tmp_path):
    """Killed before each fsync, rename and delete of saving epoch 3 (which also retires epoch 1), a resume
    loads epoch 3 once both its files are renamed into place and epoch 2 before that; never a partial file."""
    from rehue.training.checkpoint import load_latest

    for epoch in (1, 2):
        save_recording_file_steps(tmp_path / "reference", epoch)
    steps = save_recording_file_steps(tmp_path / "reference", 3)
    assert steps.count("replace") == 2 and steps.count("fsync") == 2
    complete_after = len(steps) - steps[::-1].index("replace")
    for step in range(len(steps) + 1):
        directory = tmp_path / f"killed-at-{step}"
        for epoch in (1, 2):
            save_recording_file_steps(directory, epoch)
        save_and_die_at(directory, 3, step)
        state, path = load_latest(directory, log=lambda msg: None)
        assert state["epoch"] == (3 if step >= complete_after else 2), step
        assert path.name == f"epoch_{state['epoch']:04d}.pt"



def test_killed_while_saving_the_first_checkpoint_leaves_none_listed_or_an_intact_one(tmp_path):
    """Probe 77: a SIGKILL between the checkpoint's rename and its checksum's left epoch 1 listed (so a grid
    resumed it) and refused ("no intact checkpoint") on every resume, for ever."""
    from rehue.training.checkpoint import list_checkpoints, load_latest

    steps = save_recording_file_steps(tmp_path / "reference", 1)
    for step in range(len(steps) + 1):
        directory = tmp_path / f"killed-at-{step}"
        save_and_die_at(directory, 1, step)
        loaded = load_latest(directory, log=lambda msg: None)
        assert (loaded is None) == (not list_checkpoints(directory)), step
        assert loaded is None or loaded[0]["epoch"] == 1, step
    stray = tmp_path / "killed-at-0" / ".epoch_0002.pt.tmp4242"  # a killed save's temporary file (probe 78)
    stray.write_bytes(b"\0" * 1000)
    save_recording_file_steps(tmp_path / "killed-at-0", 2)
    assert not stray.exists()


# ------------------------------------------------------------------------------------------- full disk


def no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")


def checkpoint_writes_failing(monkeypatch, failing):
    """A checkpoint's writes of the files ``failing(path)`` picks fail as on a full disk; returns the real writer."""
    from rehue.models import io as model_io
    from rehue.training import checkpoint

    real_write = model_io.atomic_write_bytes

    def write(path, data):
        if failing(path):
            raise RehueError("cannot write (No space left on device)", path)
        real_write(path, data)

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", write)
    return real_write


def test_a_checkpoint_whose_checksum_cannot_be_written_is_removed_and_an_orphan_makes_room(tmp_path, monkeypatch):
    """Before, a disk that filled between a checkpoint and its SHA-256 left the checkpoint (55 MB in the
    probe) without one: never loaded, never removed, and in the way of the next save."""
    from rehue.training import checkpoint
    from rehue.training.checkpoint import load_latest, save_checkpoint

    save_checkpoint(checkpoint_state(1), tmp_path, 1)
    real_write = checkpoint_writes_failing(monkeypatch, lambda path: path.name.endswith(".sha256"))
    with pytest.raises(RehueError, match=r"epoch_0002\.pt\.sha256: cannot write \(No space left on device\)"):
        save_checkpoint(checkpoint_state(2), tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_0001.pt", "epoch_0001.pt.sha256"]
    monkeypatch.setattr(checkpoint, "atomic_write_bytes", real_write)
    (tmp_path / "epoch_0002.pt").write_bytes(b"\0" * 1000)  # an orphan from an older rehue, or a kill
    save_checkpoint(checkpoint_state(2), tmp_path, 2)
    assert load_latest(tmp_path, log=lambda msg: None)[0]["epoch"] == 2


def test_a_write_that_fails_on_a_full_disk_names_the_file(tmp_path, monkeypatch):
    """Before, train and frames said only "rehue: error: No space left on device"."""
    from rehue.models.io import atomic_write_bytes

    (tmp_path / "model.json").write_text("earlier")
    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(RehueError) as caught:
        atomic_write_bytes(tmp_path / "model.json", b"new")
    assert str(caught.value) == f"{tmp_path / 'model.json'}: cannot write (No space left on device)"
    assert (tmp_path / "model.json").read_text() == "earlier"
    assert sorted(tmp_path.iterdir()) == [tmp_path / "model.json"], "no temporary file left"


def test_a_checkpoint_a_full_disk_stops_leaves_no_checksum_of_no_checkpoint(tmp_path, monkeypatch):
    """Probe 207: the checksum, written first, stayed beside no checkpoint (epoch_0002.pt.sha256 alone)."""
    from rehue.training.checkpoint import load_latest, save_checkpoint

    save_checkpoint(checkpoint_state(1), tmp_path, 1)
    checkpoint_writes_failing(monkeypatch, lambda path: path.suffix == ".pt")
    with pytest.raises(RehueError, match=r"epoch_0002\.pt: cannot write \(No space left on device\)"):
        save_checkpoint(checkpoint_state(2), tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_0001.pt", "epoch_0001.pt.sha256"]
    assert load_latest(tmp_path, log=lambda msg: None)[0]["epoch"] == 1


def test_a_model_a_full_disk_stops_keeps_its_earlier_weights_and_config_together(tmp_path, monkeypatch):
    """Probe 207: the weights were renamed into place before the config was written, and a disk that filled
    between them left one epoch's weights beside another's card."""
    import torch

    from rehue.models import ModelCard, create_model
    from rehue.models.io import save_model

    path = make_tiny_model(tmp_path / "model.safetensors", seed=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_fsync, synced = os.fsync, []

    def second_fails(fd):
        synced.append(fd)
        if len(synced) == 2:
            no_space()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", second_fails)
    torch.manual_seed(2)
    with pytest.raises(RehueError) as caught:
        save_model(create_model("gen2", in_channels=1, size=32, width=4), ModelCard("gen2", 1, 32, 4), path)
    assert str(caught.value) == f"{tmp_path / 'model.json'}: cannot write (No space left on device)"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before, "both as they were, no temporary file"
    monkeypatch.setattr(os, "fsync", real_fsync)  # probe 210: a folder in the config's place, refused after the
    (tmp_path / "model.json").unlink()            # weights were renamed into place
    (tmp_path / "model.json").mkdir()
    with pytest.raises(RehueError, match=r"model\.json: cannot write \(Is a directory\)"):
        save_model(create_model("gen2", in_channels=1, size=32, width=4), ModelCard("gen2", 1, 32, 4), path)
    assert path.read_bytes() == before["model.safetensors"]


def test_bench_results_a_full_disk_refuses_are_named_and_the_table_and_plot_still_come_out(tmp_path, monkeypatch,
                                                                                         capsys):
    """Probe 207: `bench --json full/b.json --plot full/b.png` said "rehue: error: No space left on device" after
    the minutes of measuring, no file named, and the table and the plot were never made."""
    import rehue.bench

    monkeypatch.setattr(rehue.bench, "run_benchmark", lambda **options: {"figures": 1})
    monkeypatch.setattr(rehue.bench, "format_report", lambda results: "the table")
    monkeypatch.setattr(rehue.bench, "bench_plot", lambda results, path, overwrite: Path(path).write_bytes(b"png")
                        and Path(path))
    real_write_text = Path.write_text
    monkeypatch.setattr(Path, "write_text", lambda self, *args, **kwargs: no_space() if self.suffix == ".json"
                        else real_write_text(self, *args, **kwargs))
    assert main(["bench", "--json", str(tmp_path / "b.json"), "--plot", str(tmp_path / "b.png")]) == 1
    out, err = capsys.readouterr()
    assert out == "the table\n"
    assert err.splitlines() == [f"plot drawn into {tmp_path / 'b.png'}",
                                f"rehue: error: {tmp_path / 'b.json'}: cannot write (No space left on device)"]
    assert sorted(tmp_path.iterdir()) == [tmp_path / "b.png"], "no JSON, whole or part"


def test_a_frame_dataset_that_fills_the_disk_is_named_by_its_folder(tmp_path, short_clip, capsys, monkeypatch):
    from rehue.data import frames

    monkeypatch.setattr(frames, "_save_png", no_space)
    out = tmp_path / "dataset"
    assert run("frames", short_clip, "--out", out, "--size", "32", "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, out, "cannot write the frame dataset (No space left on device)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_an_earlier_report_stays_whole_when_the_new_one_cannot_be_written(tmp_path, tiny_model, capsys, monkeypatch):
    """Before, ``evaluate --overwrite`` on a disk that filled part way replaced metrics.json and metrics.md,
    then removed them, and kept the old pictures: half a report, which blocked the next run."""
    from rehue.evaluation import report

    photos = two_colour_photos(tmp_path / "photos")
    out = tmp_path / "report"
    assert run("evaluate", photos, "--out", out, "--model", tiny_model, "--no-progress") == 0
    earlier = {path.name: path.read_bytes() for path in out.iterdir()}
    assert {"metrics.json", "metrics.md", "samples.png"} <= set(earlier)
    monkeypatch.setattr(report, "gains_plot", no_space)
    assert run("evaluate", photos, "--out", out, "--model", tiny_model, "--no-progress", "--chroma", "0.5",
               "--overwrite") == 1
    assert_one_line_error(capsys.readouterr().err, out, "No space left on device")
    assert {path.name: path.read_bytes() for path in out.iterdir()} == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "photos", "report"]
    assert run("evaluate", photos, "--out", tmp_path / "new", "--model", tiny_model, "--no-progress") == 1
    assert not (tmp_path / "new").exists(), "a report that could not be written leaves no folder"


def test_a_run_folder_that_holds_a_model_is_not_replaced_without_overwrite(tmp_path, capsys):
    """Before, a run whose checkpoints were deleted (to save space, or never saved: the disk was full) was
    no run: a second ``train`` replaced its model without --overwrite."""
    photos = two_colour_photos(tmp_path / "photos")
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"weeks of training")
    args = ("train", photos, "--out", out, "--size", "32", "--epochs", "1", "--batch-size", "2", "--no-progress")
    for extra in ((), ("--overwrite",)):  # probe 46: weights without rehue's config beside them are the user's
        assert run(*args, *extra) == 1
        assert_one_line_error(capsys.readouterr().err, out, "holds 1 other file or folder, such as "
                                                             "model.safetensors, and no training run")
    (out / "model.json").write_text(json.dumps({"architecture": "gen2", "in_channels": 1, "size": 32, "width": 4}))
    assert run(*args) == 1
    assert_one_line_error(capsys.readouterr().err, out, "already holds a training run (model.safetensors, "
                                                         "model.json); pass --overwrite to replace it")
    assert (out / "model.safetensors").read_bytes() == b"weeks of training"
    assert run(*args, "--overwrite") == 0
    assert (out / "model.safetensors").read_bytes() != b"weeks of training"


def test_frames_and_a_frame_dataset_go_into_folders_of_250_byte_names(tmp_path, tiny_model, short_clip):
    """Before, the hidden folder each is written into first (the name, a dot and ``.rehue-tmp``) passed the
    255 bytes a name may have: "cannot make the output folder (File name too long)", naming ``.``."""
    reel = tmp_path / "reel"
    reel.mkdir()
    for i in range(2):
        Image.fromarray(textured_rgb(32, 32, seed=i)[..., 0]).save(reel / f"f{i:04d}.png")
    long_name = "a" * 250
    assert run("colorize", reel, "--frames", "-o", tmp_path / long_name, "--model", tiny_model,
               "--no-progress") == 0
    assert sorted(p.name for p in (tmp_path / long_name).iterdir()) == ["f0000.png", "f0001.png"]
    assert run("frames", short_clip, "--out", tmp_path / "b" / long_name, "--size", "32", "--no-progress") == 0
    assert (tmp_path / "b" / long_name / "manifest.csv").is_file()
    assert not [p for p in tmp_path.rglob("*") if ".rehue-tmp" in p.name]


def test_an_overwrite_that_fails_before_its_first_checkpoint_puts_the_old_run_back(tmp_path, capsys, monkeypatch):
    """Before, ``train --overwrite`` deleted the old run first: a new run that failed at once (a full disk)
    left neither, and nothing to resume."""
    from rehue.training import checkpoint

    photos = two_colour_photos(tmp_path / "photos")
    out = tmp_path / "run"
    args = ("train", photos, "--out", out, "--size", "32", "--epochs", "2", "--batch-size", "2", "--no-progress")
    assert run(*args) == 0
    old = {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    real_save = checkpoint.save_checkpoint

    def disk_full(state, directory, epoch):
        raise RehueError("cannot write (No space left on device)", directory / f"epoch_{epoch:04d}.pt")

    monkeypatch.setattr(checkpoint, "save_checkpoint", disk_full)
    assert run(*args[:-1], "--epochs", "1", "--seed", "3", "--overwrite", "--no-progress") == 1
    assert "No space left on device" in capsys.readouterr().err
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == old
    monkeypatch.setattr(checkpoint, "save_checkpoint", real_save)
    assert run(*args, "--resume") == 0, "the old run is whole again: it resumes (nothing left to train)"
    assert run(*args[:-3], "--epochs", "1", "--batch-size", "2", "--seed", "3", "--overwrite", "--no-progress") == 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["epoch_001.png"], "none of the old run's grids"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_run_killed_before_its_first_epoch_ended_is_started_again_by_the_same_command(tmp_path, capsys):
    """Probe 107: a ``kill -9`` before the first epoch's end left the run's config.json (and a stale lock): the
    same command was refused ("already holds a training run"), and --resume found no checkpoint."""
    photos = two_colour_photos(tmp_path / "photos")
    args = ("--size", "32", "--epochs", "1", "--batch-size", "2", "--no-progress")
    assert run("train", photos, "--out", tmp_path / "done", *args) == 0
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copy(tmp_path / "done" / "config.json", killed / "config.json")
    (killed / ".rehue-train.lock").write_text("999999999")
    shutil.copytree(killed, tmp_path / "logged")
    capsys.readouterr()
    assert run("train", "--resume", "--out", killed, *args) == 1
    assert capsys.readouterr().err.rstrip().endswith("keeps none); start it again with --overwrite")
    (killed / ".rehue-train.lock").write_text("999999999")  # the --resume took the killed run's lock over
    assert run("train", photos, "--out", killed, *args) == 0
    assert (f"note: {killed}: a run killed before its first epoch ended left only config.json; starting again"
            in capsys.readouterr().err)
    assert (killed / "model.safetensors").is_file()
    # probes 110, 112: TensorBoard's log may be a pruned run's curves, and a lock no proof of when the run died
    (tmp_path / "logged" / "tensorboard").mkdir()
    (tmp_path / "logged" / "tensorboard" / "events.out.tfevents.1").write_bytes(b"curves")
    assert run("train", photos, "--out", tmp_path / "logged", *args) == 1
    assert "already holds a training run (tensorboard, config.json); pass --overwrite" in capsys.readouterr().err
    assert (tmp_path / "logged" / "tensorboard" / "events.out.tfevents.1").exists()
    shutil.rmtree(tmp_path / "logged" / "tensorboard")  # the lock went with that refusal: no killed run's now
    assert run("train", photos, "--out", tmp_path / "logged", *args) == 1
    assert "already holds a training run (config.json)" in capsys.readouterr().err
    (tmp_path / "done" / "model.safetensors").unlink()  # a trained run without its weights is still refused
    shutil.rmtree(tmp_path / "done" / "checkpoints")
    assert run("train", photos, "--out", tmp_path / "done", *args) == 1
    assert "already holds a training run" in capsys.readouterr().err


def test_a_sheet_named_as_a_folder_and_a_run_named_as_a_file_are_refused_at_once(tmp_path, short_clip, capsys,
                                                                                 monkeypatch):
    from rehue.video import io as video_io

    (tmp_path / "sheet.png").mkdir()
    monkeypatch.setattr(video_io.VideoReader, "__init__", lambda *args, **kwargs: pytest.fail("read the video"))
    assert run("scenes", short_clip, "--sheet", tmp_path / "sheet.png", "--overwrite") == 2  # as with a slash (stop 63)
    assert_one_line_error(capsys.readouterr().err, tmp_path / "sheet.png", "is a folder; the sheet is a PNG file: "
                          f"name one, such as {tmp_path / 'sheet.png' / 'sheet.png'}")
    photos = two_colour_photos(tmp_path / "photos")
    assert run("train", photos, "--out", "/dev/full", "--size", "32", "--epochs", "1", "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, "/dev/full", "is a file, not a folder")


# ---------------------------------------------------------------------------------- two runs at once


def test_a_frame_dataset_another_run_wrote_meanwhile_is_kept(tmp_path, short_clip, capsys, monkeypatch):
    """Before, two ``frames`` runs into one --out both exited 0, leaving a manifest that listed the other
    run's missing frames, or the first run's dataset deleted without --overwrite."""
    from rehue.data import frames

    out = tmp_path / "dataset"
    real_sample = frames._sample_video

    def other_run_finishes_first(*args, **kwargs):
        result = real_sample(*args, **kwargs)
        (out / "frames").mkdir(parents=True)
        (out / "manifest.csv").write_text("the other run's\n")
        return result

    monkeypatch.setattr(frames, "_sample_video", other_run_finishes_first)
    assert run("frames", short_clip, "--out", out, "--size", "32", "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, out, "another run wrote meanwhile")
    assert (out / "manifest.csv").read_text() == "the other run's\n"
    assert not [p for p in tmp_path.iterdir() if ".rehue-tmp" in p.name]


def test_a_lock_or_a_temporary_file_of_a_killed_run_not_yet_collected_is_a_killed_runs(tmp_path):
    """Probe 187: a run killed with `timeout -s KILL` is left to PID 1 as a zombie, which a container without an
    init never collects: `train --resume` was refused for good ("another rehue train (process N) is writing this
    run; wait for it"), and a killed batch's half-written file was left beside its outputs."""
    import time

    from rehue.data.images import process_running, process_start_ticks, remove_stale_temps
    from rehue.training.loop import _RunLock

    python = subprocess.Popen([sys.executable, "-c", "pass"])  # dead once it ends, and not collected till wait()
    try:
        started = process_start_ticks(python.pid)
        for _ in range(200):
            if Path(f"/proc/{python.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.05)
        assert os.kill(python.pid, 0) is None, "a zombie takes signals, as a live process does"
        assert not process_running(python.pid)
        (tmp_path / _RunLock.NAME).write_text(f"{python.pid} {started}")
        with _RunLock(tmp_path):
            assert (tmp_path / _RunLock.NAME).read_text().startswith(f"{os.getpid()} ")
        left = tmp_path / f".g.rehue-tmp{python.pid}.png"
        left.write_bytes(b"half a picture")
        assert remove_stale_temps([tmp_path / "g.png"]) == [left] and not left.exists()
    finally:
        python.wait()


def test_a_lock_whose_process_number_was_given_to_another_process_is_a_killed_runs(tmp_path):
    """Probe 80: a lock naming a live process that is not the run (a container's PID 1 after a restart, this
    very process, a number the system gave again) kept the run locked for good."""
    from rehue.data.images import process_start_ticks
    from rehue.training.loop import _RunLock

    lock = tmp_path / _RunLock.NAME
    sleeper = subprocess.Popen(["sleep", "60"])  # alive, and no rehue
    python = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for holder, free in ((str(os.getpid()), True), (str(sleeper.pid), True), ("-1", True), ("9" * 23, True),
                             (f"{python.pid} {int(process_start_ticks(python.pid)) + 1}", True),  # started later
                             (str(python.pid), False), (f"{python.pid} {process_start_ticks(python.pid)}", False)):
            lock.write_text(holder)
            if free:
                with _RunLock(tmp_path):
                    assert lock.read_text() == f"{os.getpid()} {process_start_ticks(os.getpid())}", holder
            else:
                with pytest.raises(RehueError, match=f"another rehue train \\(process {python.pid}\\)"):
                    _RunLock(tmp_path).__enter__()
        lock.unlink()
        real_link, seen = os.link, []
        with pytest.MonkeyPatch.context() as patch:  # probe 82: never empty, even between its making and writing
            patch.setattr(os, "link", lambda source, target: (seen.append(Path(source).read_text()),
                                                               real_link(source, target))[1])
            with _RunLock(tmp_path):
                assert seen == [lock.read_text()] and seen[0].startswith(f"{os.getpid()} ")
            patch.setattr(os, "link", lambda source, target: (_ for _ in ()).throw(OSError(1, "no hard links")))
            with _RunLock(tmp_path):  # a file system without hard links: made with O_EXCL, then written
                assert lock.read_text() == seen[0]
        assert sorted(path.name for path in tmp_path.iterdir()) == [], "the lock, and what was staged for it, gone"
        with _RunLock(tmp_path):  # while this process holds it, it is held
            with pytest.raises(RehueError, match=f"process {os.getpid()}"):
                _RunLock(tmp_path).__enter__()
    finally:
        for process in (sleeper, python):
            process.kill()
            process.wait()


def test_one_train_at_a_time_writes_a_run_and_a_killed_overwrite_is_put_back(tmp_path, capsys):
    """Before, two ``train`` runs into one folder both exited 0 with one run's files mixed with the other's,
    and a ``train --overwrite`` killed before its first checkpoint left the old run in a hidden folder,
    where nothing found it."""
    photos = two_colour_photos(tmp_path / "photos")
    out = tmp_path / "run"
    args = ("train", photos, "--out", out, "--size", "32", "--epochs", "1", "--batch-size", "2", "--no-progress")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out.mkdir()
        (out / ".rehue-train.lock").write_text(str(sleeper.pid))
        assert run(*args) == 1
        assert_one_line_error(capsys.readouterr().err, out, f"another rehue train (process {sleeper.pid}) is "
                                                            "writing this run")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert run(*args) == 0, "a lock whose process is gone is a killed run's, and is taken over"
    capsys.readouterr()
    assert not (out / ".rehue-train.lock").exists()
    old = {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    aside = out / ".replaced-run.rehue-tmp999999"  # what a train --overwrite killed before its checkpoint left
    aside.mkdir()
    for name in os.listdir(out):
        if not name.startswith("."):
            os.replace(out / name, aside / name)
    (out / "config.json").write_text("the killed run's")
    assert run(*args, "--resume") == 0
    assert f"note: put back the run that a killed `train --overwrite` was replacing in {out}" in \
        capsys.readouterr().err
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == old

    # probe 107: a plain --resume took the killed run's --epochs (3) and trained the old run on to them
    aside.mkdir()
    for name in os.listdir(out):
        if not name.startswith("."):
            os.replace(out / name, aside / name)
    killed = {**json.loads((aside / "config.json").read_text()), "epochs": 3, "lr_g": 0.01}
    (out / "config.json").write_text(json.dumps(killed))
    assert run("train", "--resume", "--out", out, "--no-progress") == 0
    assert "nothing left to train" in capsys.readouterr().err
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == old

    # probe 193: killed as it put the old run back (its checkpoints back first), the next run took the rest for a
    # run let go, and removed them without a word
    aside.mkdir()
    for name in os.listdir(out):
        if not name.startswith("."):
            os.replace(out / name, aside / name)
    (aside / ".putting-back").touch()
    os.replace(aside / "checkpoints", out / "checkpoints")
    assert run("train", "--resume", "--out", out, "--no-progress") == 0
    err = capsys.readouterr().err
    assert f"note: put back the run that a killed `train --overwrite` was replacing in {out}" in err
    assert "nothing left to train" in err and not aside.exists()
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == old
    let_go = out / ".replaced-run.rehue-tmp999998"  # killed as it let the old run go, the new one checkpointed
    let_go.mkdir()
    (let_go / "config.json").write_text("{}")
    assert run("train", "--resume", "--out", out, "--no-progress") == 0
    assert f"note: removed the run that a killed `train --overwrite` replaced in {out}, kept aside till the new " \
           f"run saved a checkpoint, as it had ({let_go.name})" in capsys.readouterr().err
    assert not let_go.exists()
    let_go.mkdir()  # emptied by a put back killed as it ended: nothing of a run to speak of
    assert run("train", "--resume", "--out", out, "--no-progress") == 0
    assert "removed the run" not in capsys.readouterr().err and not let_go.exists()
    # probe 194: killed as it set the old run aside (its checkpoints first, the rest not yet), the next run took the
    # rest for the replacing run's files and removed them: the run's model and config lost under "put back"
    part = out / ".replaced-run.rehue-tmp999997"
    part.mkdir()
    os.replace(out / "checkpoints", part / "checkpoints")
    assert run("train", "--resume", "--out", out, "--no-progress") == 0
    assert "nothing left to train" in capsys.readouterr().err and not part.exists()
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == old


def test_every_state_a_killed_overwrite_leaves_gives_the_old_run_back(tmp_path, capsys):
    """Probe 195: an older rehue's leftover (no marker) beside the replacing run's samples folder ended every later
    train in "Directory not empty", for good; plain `train` took a run half put back for "other files" and never
    put it back; of two leftovers the one holding the run was removed, "as it had" (saved a checkpoint), though
    none was saved."""
    photos = two_colour_photos(tmp_path / "photos")
    base = tmp_path / "base"
    args = ("--size", "32", "--epochs", "1", "--batch-size", "2", "--no-progress")
    assert run("train", photos, "--out", base, *args) == 0
    old = {path.relative_to(base): path.read_bytes() for path in base.rglob("*") if path.is_file()}
    names = [path.name for path in base.iterdir() if not path.name.startswith(".")]

    def killed(name, marks=(), back=(), extra=None):
        out = tmp_path / name
        shutil.copytree(base, out)
        aside = out / ".replaced-run.rehue-tmp999990"
        aside.mkdir()
        for entry in names:
            os.replace(out / entry, aside / entry)
        for mark in marks:
            (aside / mark).touch()
        for entry in back:
            os.replace(aside / entry, out / entry)
        if extra:
            extra(out)
        return out

    def replacing_runs_files(out):
        (out / "samples").mkdir()
        (out / "samples" / "epoch_002.png").write_bytes(b"the replacing run's")
        (out / "config.json").write_text("{}")

    older = killed("older", extra=replacing_runs_files)  # an older rehue's kill: no marker
    half = killed("half", marks=(".set-aside", ".putting-back"), back=("samples", "metrics.jsonl"))
    two = killed("two", marks=(".set-aside",), extra=lambda out: (out / ".replaced-run.rehue-tmp1000").mkdir())
    for out, command, status in ((older, ("train", "--resume", "--out", older), 0),
                                 (half, ("train", photos, "--out", half, *args[:-1]), 1),
                                 (two, ("train", "--resume", "--out", two), 0)):
        assert run(*command, "--no-progress") == status
        err = capsys.readouterr().err
        assert f"note: put back the run that a killed `train --overwrite` was replacing in {out}" in err, err
        assert "as it had" not in err and "Directory not empty" not in err
        assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == old


def test_a_report_another_run_wrote_meanwhile_is_kept_without_overwrite(tmp_path, tiny_model, capsys, monkeypatch):
    from rehue.evaluation import report

    photos = two_colour_photos(tmp_path / "photos")
    out = tmp_path / "report"
    real_gains = report.gains_plot

    def other_run_finishes_first(table, path):
        out.mkdir(exist_ok=True)
        (out / "metrics.json").write_text("the other run's")
        return real_gains(table, path)

    monkeypatch.setattr(report, "gains_plot", other_run_finishes_first)
    assert run("evaluate", photos, "--out", out, "--model", tiny_model, "--no-progress") == 1
    assert_one_line_error(capsys.readouterr().err, out, "holds a report that another run wrote meanwhile")
    assert [p.name for p in out.iterdir()] == ["metrics.json"]
    assert (out / "metrics.json").read_text() == "the other run's"


def test_pictures_and_films_rehue_coloured_are_no_truth_to_train_on_or_score(tmp_path, tiny_model, capsys):
    """Before, `train` learned from rehue's own outputs as if they were colour originals, `evaluate` scored
    against them and `frames` sampled a coloured film (probe 16: a model's output in the validation split
    while its original was in training)."""
    photos = two_colour_photos(tmp_path / "photos")
    assert run("colorize", photos / "0.png", "-o", photos / "0-colour.png", "--model", tiny_model) == 0
    films = tmp_path / "films"
    films.mkdir()
    for i in range(2):
        make_clip(films / f"reel{i}.mp4", textured_frames(8, 48, 64, seed=i), fps=8)
    assert run("colorize", films / "reel0.mp4", "-o", films / "reel0-colour.mp4", "--model", tiny_model,
               "--dependent-model", "none", "--no-progress") == 0
    capsys.readouterr()

    assert run("train", photos, "--out", tmp_path / "run", "--size", "32", "--width", "4", "--batch-size", "2",
               "--epochs", "1", "--steps-per-epoch", "1", "--no-progress") == 0
    said = capsys.readouterr().err
    skipped = "that rehue coloured (or drew: a report's sample grid or plot), such as "
    assert f"warning: skipping 1 picture {skipped}" in said and "0-colour.png" in said
    assert run("evaluate", photos, "--out", tmp_path / "report", "--model", tiny_model, "--no-progress") == 0
    said = capsys.readouterr().err
    assert f"warning: skipping 1 picture {skipped}{photos / '0-colour.png'}" in said
    report = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert sorted(image["source"] for image in report["rows"]["gray baseline"]["images"]) == [
        str(photos / "0.png"), str(photos / "1.png")]
    assert run("frames", films, "--out", tmp_path / "dataset", "--size", "32", "--no-progress") == 0
    said = capsys.readouterr().err
    assert f"warning: skipping {films / 'reel0-colour.mp4'}: rehue coloured it" in said
    assert "1 of 3 videos skipped (1 coloured by rehue)" in said
    from rehue.data.datasets import read_frame_manifest

    assert {row["video"] for row in read_frame_manifest(tmp_path / "dataset")} == {"reel0.mp4", "reel1.mp4"}
    coloured = tmp_path / "coloured"  # probe 138: "none of the 2 videos could be read", of two read whole
    coloured.mkdir()
    (films / "reel0-colour.mp4").rename(coloured / "reel0-colour.mp4")
    assert run("colorize", films / "reel1.mp4", "-o", coloured / "reel1-colour.mp4", "--model", tiny_model,
               "--dependent-model", "none", "--no-progress") == 0
    capsys.readouterr()
    assert run("frames", coloured, "--out", tmp_path / "none", "--size", "32", "--no-progress") == 1
    assert capsys.readouterr().err.strip().endswith(
        "rehue: error: none of the 2 videos can be learnt from (2 coloured by rehue)")

    # probe 37: a report's sample grid and plot, among the photos, were learned from without a word
    drawn = sorted((tmp_path / "report").glob("*.png"))
    assert len(drawn) >= 2
    for picture in drawn:
        (photos / f"report-{picture.name}").write_bytes(picture.read_bytes())
    assert run("train", photos, "--out", tmp_path / "run2", "--size", "32", "--width", "4", "--batch-size", "2",
               "--epochs", "1", "--steps-per-epoch", "1", "--no-progress") == 0
    assert f"warning: skipping {1 + len(drawn)} pictures {skipped}" in capsys.readouterr().err


def test_a_full_disk_is_told_from_other_errors_through_the_errors_it_was_raised_from():
    """Stop 48: what makes a join "need room for the film twice"; a RehueError raised ``from None`` still
    says the system's words."""
    import errno

    from rehue.errors import out_of_room

    assert out_of_room(OSError(errno.ENOSPC, "No space left on device"))
    assert out_of_room(RehueError("cannot write the video (No space left on device)", "x.mp4"))
    assert out_of_room(RehueError("cannot write the video (Disk quota exceeded)"))
    try:
        try:
            raise OSError(errno.EFBIG, "File too large")
        except OSError:
            raise RehueError("cannot write the video") from None
    except RehueError as error:
        assert out_of_room(error)
    assert not out_of_room(RehueError("output exists (another run wrote it meanwhile); pass --overwrite"))
    assert not out_of_room(OSError(errno.EACCES, "Permission denied"))
    assert not out_of_room(KeyboardInterrupt())
    assert not out_of_room(None)
