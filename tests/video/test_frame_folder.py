import json
from pathlib import Path

import numpy as np
import pytest

from rehue.errors import UsageError
from rehue.video.frame_folder import FramePattern


@pytest.mark.parametrize(("given", "first", "tenth_thousand"), [
    ("f_%06d.png", "f_000001.png", "f_010000.png"),  # FFmpeg's
    ("reel.####.dpx", "reel.0001.dpx", "reel.10000.dpx"),  # compositing and grading software's
    ("%d.tif", "1.tif", "10000.tif"),
    ("f%03d.jpg", "f001.jpg", "f10000.jpg"),
    ("f%3d.jpg", "f001.jpg", "f10000.jpg"),  # probe 38: FFmpeg pads %3d with zeros too
    ("100%%_%02d.tif", "100%_01.tif", "100%_10000.tif"),  # probe 38: %% is a % of the name
])
def test_frame_patterns_are_named_as_ffmpeg_and_grading_software_name_them(given, first, tenth_thousand):
    pattern = FramePattern.of(Path("out") / given)
    assert pattern.folder == Path("out")
    assert (pattern.name(1), pattern.name(10000)) == (first, tenth_thousand)
    assert pattern.number(first) == 1 and pattern.number("other.png") is None


def test_a_name_without_a_pattern_or_of_a_video_is_no_pattern_and_two_patterns_are_refused():
    assert FramePattern.of("colour.png") is None
    assert FramePattern.of("take #2.mp4") is None, "a video's name"
    assert FramePattern.of("f%3i.png") is None
    with pytest.raises(UsageError, match="2 number patterns"):
        FramePattern.of("f_%04d_##.png")


def test_an_ffmpeg_pattern_without_a_pictures_extension_is_refused(tmp_path, capsys):
    """Probe 67: `-o fr/f_%06d` made a folder named "f_%06d" and wrote the whole video into it."""
    from rehue.cli import main
    from tests.helpers_video import make_clip, textured_frames

    for given, hint in (("f_%06d", "f_%06d.png or f_%06d.dpx"), ("f_%06d.mp4", "f_%06d.png or f_%06d.dpx"),
                        ("f_####", "f_####.png or f_####.dpx"), ("reel.####", "reel.####.png or reel.####.dpx"),
                        ("f_%06d.png.bak", "f_%06d.png or f_%06d.dpx")):  # probe 69: # runs, and .png.png
        with pytest.raises(UsageError, match=f"needs a picture's extension, such as {hint}"):
            FramePattern.of(Path("out") / given)
    clip = make_clip(tmp_path / "v.mp4", list(textured_frames(2, 32, 32)))
    assert main(["colorize", str(clip), "-o", str(tmp_path / "fr" / "f_%06d"), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip().endswith("f_%06d: a numbered-frame pattern needs a picture's extension, "
                                                    "such as f_%06d.png or f_%06d.dpx")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["v.mp4"]
    assert FramePattern.of("take #2") is None and FramePattern.of("take #2.mp4") is None, "names, not patterns"
    for name in ("Photo #3.png", "Photo #3 colour.jpg", "box 12#.tif", "C# notes.png", "Take # 2.png"):  # 70, 71
        assert FramePattern.of(name) is None, name
    from PIL import Image

    photo = tmp_path / "Photo #3.jpg"
    Image.fromarray(np.full((16, 24), 90, np.uint8)).save(photo)
    assert main(["colorize", str(photo), "-o", str(tmp_path / "Photo #3.png"), "--no-progress"]) == 0
    odd = tmp_path / "scan_%d.jpg"
    Image.fromarray(np.full((16, 24), 90, np.uint8)).save(odd)
    assert main(["colorize", str(odd), "-o", str(tmp_path / "out_%d.png"), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip().endswith(f"(such as {tmp_path / 'colour.png'})"), \
        "the hint was the photo's own name, itself a pattern"


def test_taken_lists_the_patterns_files_in_the_order_of_their_numbers(tmp_path):
    for name in ("f_10.png", "f_9.png", "f_0002.png", "f_x.png", "g_1.png", "f_3.jpg"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in FramePattern.of(tmp_path / "f_%d.png").taken()] == ["f_0002.png", "f_9.png", "f_10.png"]
    assert FramePattern.of(tmp_path / "none" / "f_%d.png").taken() == []


def test_frames_without_numbers_are_a_film_in_the_folders_order_and_of_two_sizes_one_line(tmp_path, capsys):
    """Probe 61: `rehue scenes` and `rehue frames --film-fps` on a folder whose files have no number in their
    names ended in a TypeError traceback; `colorize --frames` took them in the folder's order."""
    import numpy as np
    from PIL import Image

    from rehue.cli import main

    film = tmp_path / "film"
    film.mkdir()
    for i, name in enumerate(("dawn.png", "dusk.png", "noon.png")):
        Image.fromarray(np.full((24, 32, 3), (60 * i, 100, 200 - 50 * i), np.uint8)).save(film / name)
    assert main(["scenes", str(film), "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["frames"] == 3
    assert main(["frames", str(film), "--film-fps", "24", "--out", str(tmp_path / "set"), "--size", "32", "-q"]) == 0
    assert (tmp_path / "set" / "manifest.csv").exists()
    Image.fromarray(np.zeros((30, 32, 3), np.uint8)).save(film / "night.png")
    capsys.readouterr()
    assert main(["scenes", str(film), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "night.png: frame is 32x30, the film's first frame 32x24" in err
