import json
from pathlib import Path

import numpy as np
import pytest

from rehue.cli import main
from tests.conftest import textured_rgb
from tests.helpers_video import make_clip


def test_scenes_prints_each_cut_and_says_how_many_scenes(tmp_path, capsys):
    first, second = textured_rgb(48, 64, seed=1), textured_rgb(48, 64, seed=2)[::-1]
    frames = [np.roll(first, i, axis=1) for i in range(10)] + [np.roll(second, i, axis=1) for i in range(10)]
    clip = make_clip(tmp_path / "cut.mp4", frames, fps=10)

    assert main(["scenes", str(clip), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out == "10\n"
    assert err.strip() == f"{clip}: 20 frames, 2 scenes, new scenes at 1.00 s"

    assert main(["scenes", str(clip), "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == 20 and report["scenes"] == 2 and report["scene_starts"] == [10]
    assert report["times"] == [1.0]

    assert main(["scenes", str(clip)]) == 0  # stop 48: the bar was unnamed, "  0%|"
    assert capsys.readouterr().err.splitlines()[0].startswith("cut.mp4:   0%|")


def test_a_clip_without_cuts_prints_nothing_and_says_one_scene(tmp_path, capsys):
    clip = make_clip(tmp_path / "pan.mp4", [np.roll(textured_rgb(48, 64), i, axis=1) for i in range(8)], fps=10)
    assert main(["scenes", str(clip), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == f"{clip}: 8 frames, 1 scene"


def test_a_sheet_shows_each_cut_with_the_frame_before_it(tmp_path, capsys):
    """And, first, the frame 48 before it (or the scene's first): where a fade or a dissolve is found, the frame
    before it is already dark or mixed, and a sheet of two showed nearly the same picture twice (probe 52)."""
    from PIL import Image

    from rehue.evaluation.report import LABEL_HEIGHT, ROW_LABEL_WIDTH

    first, second = textured_rgb(48, 64, seed=1), textured_rgb(48, 64, seed=2)[::-1]
    frames = [np.roll(first, i, axis=1) for i in range(10)] + [np.roll(second, i, axis=1) for i in range(10)]
    clip = make_clip(tmp_path / "cut.mp4", frames, fps=10)
    sheet = tmp_path / "cuts.png"
    assert main(["scenes", str(clip), "--sheet", str(sheet), "--no-progress"]) == 0
    assert f"sheet: {sheet} (1 cut)" in capsys.readouterr().err
    with Image.open(sheet) as image:
        assert image.size == (ROW_LABEL_WIDTH + 3 * 160, LABEL_HEIGHT + 160)
        cells = np.asarray(image.convert("L"))[LABEL_HEIGHT:, ROW_LABEL_WIDTH:]
    earlier, before, after = (cells[:, column * 160:(column + 1) * 160].astype(int) for column in range(3))
    assert np.abs(before - after).mean() > 10, "two different scenes side by side"
    assert np.abs(earlier - after).mean() > 10 and np.abs(earlier - before).mean() < np.abs(earlier - after).mean()

    assert main(["scenes", str(clip), "--sheet", str(sheet), "--no-progress"]) == 1
    assert "output exists" in capsys.readouterr().err
    left = sheet.with_name(f".{sheet.stem}.rehue-tmp999999999.png")  # probe 189: a killed run's, kept for good
    left.write_bytes(b"half a sheet")
    assert main(["scenes", str(clip), "--sheet", str(sheet), "--overwrite", "--no-progress"]) == 0
    assert f"note: removed 1 half-written file that a killed run left, such as {left}" in \
        capsys.readouterr().err.splitlines() and not left.exists()
    assert main(["scenes", str(clip), "--sheet", str(tmp_path / "cuts.jpg"), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'cuts.jpg'}: the sheet is a PNG; name it "
                                               f"so, such as {tmp_path / 'cuts.png'}")
    assert main(["scenes", str(clip), "--sheet", str(tmp_path / ".png"), "--no-progress"]) == 2  # probe 144: "name it
    assert capsys.readouterr().err.strip().endswith(f"such as {tmp_path / 'sheet.png'}")  # .png" of ".png"
    (tmp_path / "sheets").mkdir()  # probe 184: "sheets: the sheet is a PNG; name it so, such as sheets.png"
    for typed, said in ((tmp_path / "sheets", "is a folder; the sheet is a PNG file: name one, such as "
                         f"{tmp_path / 'sheets' / 'sheet.png'}"),  # probe 227: exit 1, where the next is 2
                        (f"{tmp_path / 'sheets'}/", "is a folder; the sheet is a PNG file: name one, such as "
                         f"{tmp_path / 'sheets' / 'sheet.png'}"),
                        (f"{tmp_path / 'new.png'}/", "names a folder, as typed; the sheet is a PNG file: "
                         f"name one, such as {tmp_path / 'new.png'}")):  # before, the file new.png was written
        assert main(["scenes", str(clip), "--sheet", str(typed), "--no-progress"]) == 2
        assert capsys.readouterr().err.strip() == f"rehue: error: {typed}: {said}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4", "cuts.png", "sheets"]

    pan = make_clip(tmp_path / "pan.mp4", [np.roll(first, i, axis=1) for i in range(6)], fps=10)
    assert main(["scenes", str(pan), "--sheet", str(tmp_path / "none.png"), "--no-progress"]) == 0
    assert "no cut to show" in capsys.readouterr().err and not (tmp_path / "none.png").exists()
    assert main(["scenes", str(pan), "--sheet", str(sheet), "--overwrite", "--no-progress"]) == 0
    assert "no cut to show; the sheet there is an earlier one, left as it was" in capsys.readouterr().err
    Image.new("RGB", (8, 8)).save(tmp_path / "mine.png")  # probe 135: a picture of the user's was "an earlier one"
    assert main(["scenes", str(pan), "--sheet", str(tmp_path / "mine.png"), "--overwrite", "--no-progress"]) == 0
    assert "no cut to show; the file there is left as it was" in capsys.readouterr().err


def test_a_sheet_of_fewer_cuts_than_the_film_has_says_so_on_the_picture(tmp_path, capsys, monkeypatch):
    """Probe 120: a sheet of the first 40 of 45 cuts said so on standard error alone, not on the picture."""
    from rehue import cli
    from rehue.evaluation import report

    shots = [textured_rgb(48, 64, seed=seed) for seed in range(3)]
    frames = [np.roll(shots[k // 10][::-1] if k // 10 == 1 else shots[k // 10], k, axis=1) for k in range(30)]
    clip = make_clip(tmp_path / "three.mp4", frames, fps=10)
    labels = []
    monkeypatch.setattr(cli, "SHEET_CUTS", 1)
    monkeypatch.setattr(report, "sample_grid", lambda rows, path, **options: labels.extend(options["row_labels"]))
    assert main(["scenes", str(clip), "--sheet", str(tmp_path / "cuts.png"), "--no-progress"]) == 0
    assert "(the first 1 of 2 cuts)" in capsys.readouterr().err
    assert len(labels) == 1 and labels[0].endswith("\n(the first 1\nof 2 cuts)"), labels


def test_a_picture_is_refused_as_no_video(tmp_path, capsys):
    """Before, a photo was read as a one-frame film: "1 frames, 1 scene(s)", exit 0."""
    from PIL import Image

    Image.fromarray(textured_rgb(48, 64)).save(tmp_path / "photo.png")
    assert main(["scenes", str(tmp_path / "photo.png"), "--no-progress"]) == 1
    assert capsys.readouterr().err.strip() == (f"rehue: error: {tmp_path / 'photo.png'}: is a picture; `rehue scenes` "
                                               "finds the cuts in a video or a folder of its frames")


def test_a_folder_of_frames_gets_its_cuts_by_frame_name_as_colorize_frames_finds_them(tmp_path, capsys,
                                                                                        monkeypatch):
    """Probe 26: `rehue scenes FOLDER` said "is a folder, not a video file", so a scan's cuts could not be
    checked before colouring it."""
    from PIL import Image

    from rehue.color.lab import rgb_to_gray

    first, second = textured_rgb(48, 64, seed=1), textured_rgb(48, 64, seed=2)[::-1]
    frames = [np.roll(first, i, axis=1) for i in range(10)] + [np.roll(second, i, axis=1) for i in range(10)]
    reel = tmp_path / "reel"
    reel.mkdir()
    for number, rgb in enumerate(frames, start=86400):
        Image.fromarray(rgb_to_gray(rgb)).save(reel / f"scan.{number:07d}.png")
    assert main(["scenes", str(reel), "--no-progress", "--sheet", str(tmp_path / "cuts.png")]) == 0
    out, err = capsys.readouterr()
    assert out == "scan.0086410.png\n", "by name (probe 30: its place in the folder, 10, is not its number)"
    assert f"{reel}: 20 frames, 2 scenes, new scenes at scan.0086410.png\n" in err
    assert (tmp_path / "cuts.png").exists()
    assert main(["scenes", str(reel), "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scene_starts"] == [10] and report["frame_names"] == ["scan.0086410.png"]
    assert (report["fps"], report["times"]) == (24.0, [0.417]), "at a sound film's rate, where no header gives one"
    assert main(["scenes", str(reel)]) == 0
    assert capsys.readouterr().err.splitlines()[0].startswith("reel:   0%|")
    monkeypatch.chdir(reel)
    assert main(["scenes", "."]) == 0  # probe 94: "  0%|", the folder by the name "."
    assert capsys.readouterr().err.splitlines()[0].startswith("reel:   0%|")


def test_scenes_refuses_a_folder_of_frames_that_colorize_refuses(tmp_path, capsys):
    """Probe 30: a master and proxy of one number, or a frame of another size, were a film to `scenes`."""
    from PIL import Image

    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(4):
        Image.fromarray(textured_rgb(48, 64, seed=number)).convert("L").save(reel / f"f_{number:04d}.png")
    Image.open(reel / "f_0002.png").save(reel / "f_0002.jpg")
    assert main(["scenes", str(reel), "--no-progress"]) == 1
    assert "f_0002.jpg and f_0002.png are one frame in two formats" in capsys.readouterr().err
    (reel / "f_0002.jpg").unlink()
    Image.open(reel / "f_0002.png").resize((80, 48)).save(reel / "f_0002.png")
    assert main(["scenes", str(reel), "--no-progress"]) == 1
    assert "f_0002.png: frame is 80x48, the film's first frame 64x48" in capsys.readouterr().err
    Image.open(reel / "f_0001.png").save(reel / "f_01.png")
    (reel / "f_0002.png").unlink()
    assert main(["scenes", str(reel), "--no-progress"]) == 1
    assert "are one frame numbered alike" in capsys.readouterr().err


def test_a_folder_of_videos_is_no_film_and_its_one_picture_is_a_film_of_one_frame_said_so(tmp_path, capsys,
                                                                                          tiny_model):
    """Probe 83: `rehue scenes vids` (two videos and a cover picture) said "vids: 1 frames, 1 scene(s)", exit 0,
    without a word of the videos; without the picture, "no image frames in this folder"."""
    from PIL import Image

    vids = tmp_path / "vids"
    vids.mkdir()
    for name in ("a.mp4", "b.mkv"):
        make_clip(vids / name, [textured_rgb(48, 64, seed=i) for i in range(4)], fps=10)
    assert main(["scenes", str(vids), "--no-progress"]) == 1
    assert capsys.readouterr().err == (f"rehue: error: {vids}: no image frames in this folder, but 2 videos (a.mp4, "
                                       f"b.mkv): name each video itself, as in {vids / 'a.mp4'}, as a folder is read "
                                       "as one film's numbered frames\n")  # probe 129: told of options scenes has not
    for argv, option in ((["frames", str(vids), "--film-fps", "24", "--out", str(tmp_path / "fd")], "--film-fps"),
                         (["colorize", str(vids), "--frames", "-o", str(tmp_path / "out"), "--model", str(tiny_model)],
                          "--frames")):  # the option that has folders read as films, where one did
        assert main([*argv, "--no-progress"]) == 1
        assert capsys.readouterr().err.endswith(f"as in {vids / 'a.mp4'}, without {option}, which takes folders of "
                                                "numbered frames\n")
    Image.fromarray(textured_rgb(48, 64, seed=9)).save(vids / "cover.jpg")
    assert main(["scenes", str(vids), "--no-progress"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"warning: {vids}: its 2 videos (a.mp4, b.mkv) are not part of this film, which is its own 1 frame; "
        "name each video to read it", f"{vids}: 1 frame, 1 scene"]
    (vids / "b.mkv").unlink()
    assert main(["scenes", str(vids), "--no-progress"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (f"warning: {vids}: its 1 video (a.mp4) is not part of this "
                                                       "film, which is its own 1 frame; name each video to read it")


def test_a_colour_films_cuts_are_found_as_colorize_finds_them(tmp_path, capsys):
    """Probe 40: `rehue scenes` (and `rehue frames`) judged a colour film by its luma, where colorize judges
    it by its colours' L*: four cuts where colouring found none."""
    from rehue.data.datasets import read_frame_manifest
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import SCENE_VIEW_SIZE, colorize_video
    from tests.conftest import make_tiny_model

    y, x = np.mgrid[0:144, 0:192]
    frames = [np.stack([(x * (k + 1) + i) % 256, (y * 2 + k * 40) % 256, np.full_like(x, (k * 50) % 256)], -1)
              .astype(np.uint8) for k in range(8) for i in range(k * 12, k * 12 + 12)]
    clip = make_clip(tmp_path / "patterns.mkv", frames, fps=24, codec="ffv1")
    assert main(["scenes", str(clip), "--json", "--no-progress"]) == 0
    found = json.loads(capsys.readouterr().out)["scene_starts"]
    # colouring looks at the shipped models' size (SCENE_VIEW_SIZE) whatever its model's (probe 176: a 32-pixel
    # model's view found cuts `rehue scenes` did not)
    for size in (SCENE_VIEW_SIZE, 32):
        model = make_tiny_model(tmp_path / f"tiny{size}.safetensors", size=size)
        coloured = colorize_video(clip, tmp_path / f"out{size}.mkv", colorizer=Colorizer.load(model, device="cpu"),
                                  dependent_model="none", progress=False, log=lambda message: None)
        assert coloured.scene_starts == found, size
    assert main(["frames", str(clip), "--out", str(tmp_path / "set"), "--fps", "4", "--size", "32",
                 "--no-progress"]) == 0
    scenes = {row["scene"] for row in read_frame_manifest(tmp_path / "set")}
    assert len(scenes) == len(coloured.scene_starts) + 1, "the dataset's scenes are colouring's too"


def test_a_deep_reels_cuts_and_a_scored_clips_are_found_as_rehue_scenes_finds_them(tmp_path, capsys):
    """Probe 177: a 32 px model's view of a 16-bit reel was made of its samples' low bytes (noise), and the cut was
    lost; evaluate found a clip's cuts in its frames shrunk to score them, others than colouring's."""
    from PIL import Image

    from rehue.evaluation.evaluate import evaluate
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_frames, colorize_video
    from tests.conftest import make_tiny_model
    from tests.helpers_video import textured_frames

    model = Colorizer.load(make_tiny_model(tmp_path / "tiny32.safetensors", size=32), device="cpu")
    reel = tmp_path / "reel16"
    reel.mkdir()
    shots = [*textured_frames(12, 72, 96, seed=1), *textured_frames(12, 72, 96, seed=7)]
    for number, frame in enumerate(shots):
        Image.fromarray((frame.mean(-1) * 257).astype(np.uint16)).save(reel / f"f_{number:04d}.png")
    assert main(["scenes", str(reel), "--json", "--no-progress"]) == 0
    found = json.loads(capsys.readouterr().out)["scene_starts"]
    assert len(found) == 1, found  # the change of shot, found
    assert colorize_frames(reel, tmp_path / "out", colorizer=model, progress=False,
                           log=lambda line: None).scene_starts == found
    clip = make_clip(tmp_path / "big.mp4", [frame for seed in (3, 4, 5) for frame in textured_frames(10, 240, 320,
                                                                                                       seed=seed)])
    coloured = colorize_video(clip, tmp_path / "big-colour.mp4", colorizer=model, dependent_model="none",
                              progress=False, log=lambda line: None)
    result = evaluate(tmp_path / "tiny32.safetensors", [clip],
                      tmp_path / "report", dependent_model="none", progress=False, log=lambda line: None)
    assert result.extra["video big.mp4"]["scene_starts"] == coloured.scene_starts



@pytest.mark.parametrize("stem", [b"sc\xe8ne", "scène".encode()])  # Latin-1 bytes (an old disk); UTF-8
def test_each_cut_is_printed_as_its_files_name_in_bytes_whatever_the_locale(tmp_path, stem):
    """Probe 63: a name that is not UTF-8 (or, under LC_ALL=C, any name but ASCII) was printed with escapes,
    sc\\udce8ne_0010.png, a name no file has, so `rehue -q scenes reel | while read f` could not open it."""
    import os
    import subprocess
    import sys

    from PIL import Image

    first, second = textured_rgb(48, 64, seed=1), textured_rgb(48, 64, seed=2)[::-1]
    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(20):
        picture = np.roll(first if number < 10 else second, number, axis=1)
        Image.fromarray(picture[..., 1]).save(os.fsdecode(bytes(reel) + b"/" + stem + b"_%04d.png" % number))
    for locale in ({"LC_ALL": "C.UTF-8"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}):
        done = subprocess.run([sys.executable, "-m", "rehue", "-q", "scenes", str(reel)], capture_output=True,
                              env={**os.environ, **locale}, timeout=120)
        assert done.returncode == 0 and done.stdout == stem + b"_0010.png\n", (locale, done.stdout, done.stderr)


@pytest.mark.parametrize("name", ["frame_0001.png", "sheet.png", "inner/sheet.png"])
def test_a_sheet_is_never_written_among_the_films_frames(tmp_path, capsys, name):
    """Probe 129: `rehue scenes reel --sheet reel/frame_0001.png --overwrite` replaced the film's first frame
    with the sheet, and the reel was a film of two frame sizes from then on."""
    from PIL import Image

    reel = tmp_path / "reel"
    reel.mkdir()
    for k in range(4):
        Image.fromarray(textured_rgb(48, 64, seed=k // 2)).save(reel / f"frame_{k + 1:04d}.png")
    before = {path.name: path.read_bytes() for path in reel.iterdir()}
    assert main(["scenes", str(reel), "--sheet", str(reel / name), "--overwrite", "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"rehue: error: {reel / name}: the sheet would go among the film's frames in "
                                       f"{reel}, and be read as one of them next time; name a file outside it\n")
    assert {path.name: path.read_bytes() for path in reel.iterdir()} == before


def test_a_folders_sheet_names_each_frame_by_its_file_and_is_written_before_the_cuts_are_printed(tmp_path, capsys,
                                                                                                monkeypatch):
    """Probe 160: a folder's sheet said "frame 10 ... earlier: 0", places in the folder, where the frames are
    scan.0086410.png and scan.0086400.png; and a sheet was lost with the whole pass where standard output failed
    (`> /dev/full`)."""
    import subprocess
    import sys

    from PIL import Image

    from rehue.color.lab import rgb_to_gray
    from rehue.evaluation import report

    first, second = textured_rgb(48, 64, seed=1), textured_rgb(48, 64, seed=2)[::-1]
    reel = tmp_path / "reel"
    reel.mkdir()
    for number, rgb in enumerate([np.roll(first, i, axis=1) for i in range(10)]
                                 + [np.roll(second, i, axis=1) for i in range(10)], start=86400):
        Image.fromarray(rgb_to_gray(rgb)).save(reel / f"scan.{number:07d}.png")
    labels = []
    monkeypatch.setattr(report, "sample_grid", lambda rows, path, **options: labels.extend(options["row_labels"]))
    assert main(["scenes", str(reel), "--sheet", str(tmp_path / "cuts.png"), "--no-progress"]) == 0
    assert labels == ["cut 1\nscan.0086410.png\nearlier:\nscan.0086400.png"], "a line each: a long name is cut"
    assert f"sheet: {tmp_path / 'cuts.png'} (1 cut)\n" in capsys.readouterr().err
    clip = make_clip(tmp_path / "two.mp4", [np.roll(first, i, axis=1) for i in range(10)]
                     + [np.roll(second, i, axis=1) for i in range(10)], fps=10)
    assert main(["scenes", str(clip), "--sheet", str(tmp_path / "clip.png"), "--no-progress"]) == 0
    assert labels[1] == "cut 1\nframe 10\n1.00 s\nearlier: 0", "a video's frames by their place and time"
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            run = subprocess.run([sys.executable, "-m", "rehue", "scenes", str(reel), "--sheet",
                                  str(tmp_path / "full.png"), "--no-progress"], stdout=full, stderr=subprocess.PIPE,
                                 text=True)
        assert run.returncode == 1 and run.stderr.endswith("rehue: error: standard output: No space left on device\n")
        assert Image.open(tmp_path / "full.png").size[0] > 0 and f"sheet: {tmp_path / 'full.png'}" in run.stderr


def test_a_damaged_films_frame_numbers_are_said_to_count_the_frames_decoded(tmp_path, capsys):
    """Probe 184: past packets lost to damage, a cut was printed as frame 55 at 2.60 s, where the film's frame 65
    is, without a word: a note says from which frame the numbers count only the frames decoded."""
    import av

    frames = [np.roll(textured_rgb(48, 64, seed=seed), i, axis=1) for seed in (1, 2, 3) for i in range(10)]
    clip = make_clip(tmp_path / "damaged.mp4", frames, fps=10, gop=5, codec="libx264")
    with av.open(str(clip)) as container:
        spans = [(packet.pos, packet.size) for packet in container.demux(video=0) if packet.size]
    data = bytearray(clip.read_bytes())
    for start, size in spans[5:10]:  # the second group of pictures, past each NAL unit's length
        data[start + 4:start + size] = b"\xff" * (size - 4)
    clip.write_bytes(bytes(data))
    assert main(["scenes", str(clip), "--no-progress", "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["scene_starts"] == [5, 15] and report["times"] == [1.0, 2.0], "the film's cuts at 10 and 20"
    assert report["numbers_count_decoded_frames_from"] == 5, "said to a script too (probe 186)"
    assert f"note: {clip}: the frame numbers from 5 on count the frames decoded, not those lost to the damage; " \
           "the times are the film's own" in err.splitlines()

    steps = [3 if (i // 7) % 2 == 0 else 1 for i in range(len(frames))]  # probe 186: a variable-rate film's slow
    # stretch (0.3 s a frame) was taken for the gap, "from 3 on"
    varying = make_clip(tmp_path / "varying.mkv", frames, fps=10, gop=5, codec="libx264",
                        pts=[sum(steps[:i]) for i in range(len(frames))])
    with av.open(str(varying)) as container:
        spans = [(packet.pos, packet.size) for packet in container.demux(video=0) if packet.size]
    data = bytearray(varying.read_bytes())
    for start, size in spans[5:10]:
        data[start + 4:start + size] = b"\xff" * (size - 4)
    varying.write_bytes(bytes(data))
    assert main(["scenes", str(varying), "--no-progress"]) == 0
    assert f"note: {varying}: the frame numbers from 5 on count" in capsys.readouterr().err

    whole = make_clip(tmp_path / "whole.mp4", frames, fps=10, gop=5, codec="libx264")
    assert main(["scenes", str(whole), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["10", "20"] and "note:" not in err
    assert main(["scenes", str(whole), "--no-progress", "--json"]) == 0
    assert "numbers_count_decoded_frames_from" not in json.loads(capsys.readouterr().out)
