import json
import os
import re
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from rehue.cli import main
from rehue.errors import RehueError, UsageError
from rehue.inference.colorizer import Colorizer
from rehue.video.io import VideoReader
from rehue.video.pipeline import colorize_video
from tests.conftest import textured_rgb
from tests.helpers_video import audio_packets, encode_frames, make_clip, textured_frames, with_drift_check


def upright(picture, rotation):
    """A stored picture as shown: turned ``rotation`` degrees counter-clockwise."""
    return np.rot90(picture, rotation // 90)


def as_stored(picture, rotation):
    return np.ascontiguousarray(np.rot90(picture, -(rotation // 90)))


def two_scene_frames(count_each=12, height=72, width=96):
    """Two shots of different photos, each slowly panning, with a hard cut between them."""
    frames = []
    for seed in (1, 2):
        photo = textured_rgb(height + 20, width + 40, seed=seed)
        for i in range(count_each):
            frames.append(np.ascontiguousarray(photo[10:10 + height, i : i + width]))
    return frames


@pytest.fixture
def colour_clip(tmp_path):
    return make_clip(tmp_path / "film.mp4", two_scene_frames(), fps=24, audio=True)


def gray_copy(source, target):
    """The film as an archive would hold it: gray, same timing, same sound."""
    from rehue.video.io import VideoWriter

    with VideoReader(source) as reader, VideoWriter.like(reader, target) as writer:
        for frame in reader:
            writer.write(np.repeat(frame.gray[..., None], 3, axis=2), frame.pts)
    return target


def test_two_scene_clip_keeps_frames_size_fps_duration_and_audio(tmp_path, colour_clip, tiny_model,
                                                                 tiny_dependent_model):
    gray = gray_copy(colour_clip, tmp_path / "gray.mp4")
    out = tmp_path / "coloured.mp4"
    summary = colorize_video(gray, out, colorizer=Colorizer.load(tiny_model, device="cpu"),
                             dependent_model=str(tiny_dependent_model), progress=False)
    assert summary.frames == 24 and summary.scene_starts == [12]
    assert summary.independent_frames == 2 and summary.dependent_frames == 22
    with VideoReader(gray) as src, VideoReader(out) as dst:
        assert (dst.width, dst.height, dst.fps) == (src.width, src.height, src.fps)
        assert abs(dst.duration_s - src.duration_s) < 0.05
        frames = list(dst)
        assert len(frames) == 24
        chroma = np.abs(frames[5].rgb.astype(int) - frames[5].rgb.mean(axis=2, keepdims=True)).mean()
        assert chroma > 0.5, "output has colour"
    assert audio_packets(out) == audio_packets(colour_clip)


def test_without_dependent_model_every_frame_is_independent(tmp_path, colour_clip, tiny_model):
    out = tmp_path / "o.mp4"
    summary = colorize_video(colour_clip, out, colorizer=Colorizer.load(tiny_model, device="cpu"),
                             dependent_model="none", progress=False)
    assert summary.independent_frames == 24 and summary.dependent_frames == 0
    assert summary.scene_starts == [12]


def test_no_dependent_model_given_as_none_is_refused_naming_the_two_words(tmp_path, colour_clip, tiny_model):
    """None read as "default" by some callers and as "none" by others: said, not failed on as a NoneType path."""
    with pytest.raises(UsageError, match=r'^dependent_model: .*"default" .*"none" .*not None$'):
        colorize_video(colour_clip, tmp_path / "o.mp4", colorizer=Colorizer.load(tiny_model, device="cpu"),
                       dependent_model=None, progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["film.mp4", "models"]


def test_parallel_independent_calls_give_the_same_frames_in_order(tiny_model):
    """Without a dependent model several frames are coloured at once; the output must not change."""
    from rehue.video.pipeline import SceneColorizer

    colorizer = Colorizer.load(tiny_model, device="cpu")
    frames = [frame[..., 1].copy() for frame in two_scene_frames()]
    outputs = {}
    for workers in (1, 3):
        state = SceneColorizer(colorizer, None, model_workers=workers)
        try:
            done = [item for index, gray in enumerate(frames) for item in state.push(gray, index)]
            done += state.flush()
        finally:
            state.close()
        assert [index for index, _ in done] == list(range(len(frames)))
        assert state.scene_starts == [12] and state.independent_frames == len(frames)
        outputs[workers] = [rgb for _, rgb in done]
    assert all(np.array_equal(a, b) for a, b in zip(outputs[1], outputs[3], strict=True))


def test_side_by_side_and_part(tmp_path, colour_clip, tiny_model):
    out = tmp_path / "review.mp4"
    summary = colorize_video(colour_clip, out, colorizer=Colorizer.load(tiny_model, device="cpu"),
                             dependent_model="none", side_by_side=True, start=0.25, end=0.75, progress=False)
    with VideoReader(out) as reader:
        assert reader.width == 2 * 96
        frames = list(reader)
    assert summary.frames == len(frames) == 12
    # less its last two columns, whose chroma a 4:2:0 film interpolates from the colour half's, as players show it
    left = frames[0].rgb[:, :94].astype(int)
    assert np.abs(left - left.mean(axis=2, keepdims=True)).max() <= 3, "left half is the gray input"


def test_cli_video_and_bad_video(tmp_path, colour_clip, tiny_model, capsys):
    out = tmp_path / "cli.mp4"
    assert main(["colorize", str(colour_clip), "-o", str(out), "--model", str(tiny_model), "--dependent-model",
                 "none", "--no-progress"]) == 0
    assert out.exists()
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    assert main(["colorize", str(fake), "-o", str(tmp_path / "x.mp4"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert "fake.mp4" in err[-1] and "not a video" in err[-1]
    assert not (tmp_path / "x.mp4").exists()


def test_a_start_past_the_end_names_the_video_and_its_length(tmp_path, colour_clip, tiny_model, capsys):
    """Before, it said "OUT.mp4: no video frames to write", naming the output and not the cause."""
    with VideoReader(colour_clip) as reader:
        length = reader.duration_s
    out = tmp_path / "late.mp4"
    assert main(["colorize", str(colour_clip), "-o", str(out), "--model", str(tiny_model), "--dependent-model",
                 "none", "--start", "50", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rehue: error: {colour_clip}: the start, 50 s, is past the end of the video ({length:.2f} s)"]
    assert not out.exists() and not list(tmp_path.glob(".*rehue-tmp*"))


def test_a_part_that_holds_no_frames_start_names_the_video(tmp_path, colour_clip, tiny_model, capsys):
    """Probe 25: a part between two frames of a variable-rate film (or in the last frame of any) said "OUT.mp4:
    no video frames to write", naming the output and not the cause."""
    with VideoReader(colour_clip) as reader:
        times = [frame.time for frame in reader]
    start, end = times[-1] + 0.2 * (times[-1] - times[-2]), times[-1] + 0.4 * (times[-1] - times[-2])
    out = tmp_path / "between.mp4"
    assert main(["colorize", str(colour_clip), "-o", str(out), "--model", str(tiny_model), "--dependent-model",
                 "none", "--start", f"{start:.4f}", "--end", f"{end:.4f}", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rehue: error: {colour_clip}: no frame starts in the part asked for")
    assert err[0].endswith("it lies between two frames' starts, or after the last one's; ask for a longer part"), \
        "probe 67: the clip is constant-rate, and it said \"a variable-rate film's frames can lie far apart\""
    assert not out.exists() and not list(tmp_path.glob(".*rehue-tmp*"))


def test_wrong_model_roles_are_clear_errors(tmp_path, colour_clip, tiny_model, tiny_dependent_model):
    with pytest.raises(RehueError, match="independent"):
        colorize_video(colour_clip, tmp_path / "a.mp4", colorizer=Colorizer.load(tiny_dependent_model),
                       progress=False)
    with pytest.raises(RehueError, match="3 input channels"):
        colorize_video(colour_clip, tmp_path / "b.mp4", colorizer=Colorizer.load(tiny_model),
                       dependent_model=str(tiny_model), progress=False)
    assert not list(tmp_path.glob("*.mp4"))[1:]


@pytest.mark.parametrize("guide", [None, (3, 0.01)], ids=["gaussian-free", "guided"])
def test_dependent_model_is_fed_unrestrained_colours(tiny_model, tiny_dependent_model, guide):
    """The restraint (chroma x0.5) is for display; fed back, it would halve the colours every frame.
    A guided smoothing follows each frame's own gray canvas."""
    from rehue.video.pipeline import SceneColorizer

    independent = Colorizer.load(tiny_model, device="cpu", chroma=0.5, ab_guide=guide)
    dependent = Colorizer.load(tiny_dependent_model, device="cpu")
    frames = [frame[..., 1].copy() for frame in two_scene_frames()][:3]
    state = SceneColorizer(independent, dependent)
    done = [item for gray in frames for item in state.push_ab(gray)] + state.flush_ab()
    small = state.letterbox(frames[-1])[0][None]
    first_raw = independent.predict_ab(state.letterbox(frames[0])[0][None], restrain=False)
    second_raw = dependent.predict_ab(state.letterbox(frames[1])[0][None], first_raw, restrain=False)
    expected = dependent.predict_ab(small, second_raw, restrain=False)
    assert np.allclose(state.prev_ab, expected[0], atol=1e-5)
    assert state.dependent_frames == 2
    shown = done[-1].ab
    box = state.letterbox(frames[-1])[1]
    crop = independent.restrain(expected, box, small)[0][:, box.top : box.top + box.height,
                                                          box.left : box.left + box.width]
    assert np.allclose(shown, np.moveaxis(crop, 0, -1) * 110.0, atol=1e-3)


def chroma(ab):
    return float(np.hypot(*ab).mean())


def chain(state, frames) -> list[np.ndarray]:
    """Feed ``frames`` to ``state`` (a SceneColorizer); the raw a*b* each frame passed on to the next, in order."""
    raws, colour = [], state._colour

    def recording(index, scene_changed):
        decided = colour(index, scene_changed)
        raws.append(state.prev_ab)
        return decided

    state._colour = recording
    for gray in frames:
        state.push_ab(gray)
    state.flush_ab()
    return raws


def test_a_fading_dependent_model_is_eased_back_towards_the_independent_models_colour(tiny_model,
                                                                                    tiny_dependent_model):
    """The check runs every K frames of a scene; where the dependent colour has faded below RATIO x the
    independent's, the frame is anchored, and the check runs on every frame until the colour is back."""
    from rehue.video.pipeline import SceneColorizer

    independent = Colorizer.load(tiny_model, device="cpu")
    path = with_drift_check(tiny_dependent_model, drift_check_every=4, drift_ratio=0.7, drift_anchor=0.25)
    frames = [frame[..., 1].copy() for frame in two_scene_frames()][:12]

    def run(halves: bool):
        dependent = Colorizer.load(path, device="cpu")
        dependent.predict_ab = lambda small, prev, **kw: prev * (0.5 if halves else 1.0)
        state = SceneColorizer(independent, dependent)
        return state, chain(state, frames)

    faded, raws = run(halves=True)
    ones = [independent.predict_ab(faded.letterbox(gray)[0][None], restrain=False)[0] for gray in frames]
    assert np.allclose(raws[3], ones[0] / 8, atol=1e-5), "frames 1-3 follow the dependent model alone"
    assert np.allclose(raws[4], 0.75 * raws[3] / 2 + 0.25 * ones[4], atol=1e-5), "frame 4 is checked and eased"
    assert np.allclose(raws[5], 0.75 * raws[4] / 2 + 0.25 * ones[5], atol=1e-5), "then every frame is checked"
    assert faded.eased_frames == 8 and faded.timer.count["drift_check"] == 8
    assert chroma(raws[-1]) > 0.2 * chroma(ones[-1]), "the colour does not fade away"

    kept, raws = run(halves=False)
    assert kept.eased_frames == 0 and kept.timer.count["drift_check"] == 2, "checked on frames 4 and 8 only"
    assert all(np.allclose(raw, raws[0]) for raw in raws)

    dependent = Colorizer.load(tiny_dependent_model, device="cpu")
    dependent.card.inference = {}
    assert SceneColorizer(independent, dependent).drift_check is None, "no anchor, no check"


@pytest.mark.parametrize("release", [None, 0.9])
def test_easing_goes_on_until_the_colour_is_back_at_the_release_ratio(tiny_model, tiny_dependent_model, release):
    """Started below 0.7 x the independent chroma, easing stops at 0.7 x, or with a release of 0.9 only
    at 0.9 x: a larger anchor that toggled on and off flickered."""
    from rehue.video.pipeline import SceneColorizer

    settings = {"drift_check_every": 4, "drift_ratio": 0.7, "drift_anchor": 0.25}
    path = with_drift_check(tiny_dependent_model, **settings, **({"drift_release": release} if release else {}))
    independent = Colorizer.load(tiny_model, device="cpu")
    colour = np.full((1, 2, independent.size, independent.size), 0.2, np.float32)
    independent.predict_ab = lambda small, prev=None, **kw: colour
    dependent = Colorizer.load(path, device="cpu")
    factors = iter([0.5, 1, 1, 1, 1.3, 1, 1, 1])
    dependent.predict_ab = lambda small, prev, **kw: prev * np.float32(next(factors))
    state = SceneColorizer(independent, dependent)
    raws = [float(raw.mean() / 0.2) for raw in chain(state, [frame[..., 1].copy() for frame in two_scene_frames()][:9])]
    assert raws[:5] == pytest.approx([1, 0.5, 0.5, 0.5, 0.625]), "eased from the first check on frame 4"
    if release is None:
        assert raws[5] == pytest.approx(1.3 * 0.625), "back above 0.7 x: no longer eased"
        assert state.eased_frames == 1
    else:
        assert raws[5] == pytest.approx(0.75 * 1.3 * 0.625 + 0.25), "below 0.9 x: still eased"
        assert state.eased_frames == 4


@pytest.mark.parametrize("change", ["dissolve", "cut"])
def test_a_scene_found_in_a_dissolve_is_eased_towards_the_independent_colour_over_its_first_frames(
        tiny_model, tiny_dependent_model, change):
    """Probe 54: the frame a dissolve is found at is still a mix of both shots, and its colour, fed on by the
    dependent model, stayed on the new shot (a rocket's sky warm for 3 s). After a change found in a dissolve
    the next SETTLE_FRAMES frames are eased towards the independent model, as the drift check eases; after a
    cut, whose first frame is the new shot's own, none."""
    from rehue.video.pipeline import SETTLE_FRAMES, SceneColorizer

    path = with_drift_check(tiny_dependent_model, drift_check_every=1000, drift_ratio=0.0, drift_anchor=0.25)
    independent = Colorizer.load(tiny_model, device="cpu")
    colour = np.full((1, 2, independent.size, independent.size), 0.2, np.float32)
    independent.predict_ab = lambda small, prev=None, **kw: colour
    dependent = Colorizer.load(path, device="cpu")
    dependent.predict_ab = lambda small, prev, **kw: prev * np.float32(0.5)  # a colour that fades, unchecked
    first, second = (two_scene_frames(count_each=40)[k * 40:(k + 1) * 40] for k in range(2))
    first, second = ([frame[..., 1].copy() for frame in shot] for shot in (first, second))
    mixed = [np.round((1 - w) * first[20 + k] + w * second[k]).astype(np.uint8)
             for k, w in enumerate((k + 1) / 13 for k in range(12))] if change == "dissolve" else []
    state = SceneColorizer(independent, dependent)
    raws = [float(raw.mean() / 0.2) for raw in chain(state, first[:20] + mixed + second[len(mixed):])]
    (start,) = [index for index in state.scene_starts if index]
    assert (20 <= start <= 32) if change == "dissolve" else start == 20
    if change == "dissolve":
        assert state.eased_frames == SETTLE_FRAMES
        assert raws[start + 1] == pytest.approx(0.75 * 0.5 + 0.25), "eased"
        assert raws[start + SETTLE_FRAMES + 1] == pytest.approx(0.5 * raws[start + SETTLE_FRAMES]), "then not"
    else:
        assert state.eased_frames == 0 and raws[start + 1] == pytest.approx(0.5)


def test_the_summary_says_how_many_frames_were_eased_against_drift():
    from rehue.video.pipeline import VideoSummary

    assert VideoSummary(frames=9, dependent_frames=8, eased_frames=3).line().endswith(
        "(0 independent, 8 dependent, 3 eased against drift)")
    assert "eased" not in VideoSummary(frames=9, dependent_frames=8).line()


@pytest.mark.parametrize("setting", [{"drift_check_every": 0}, {"drift_check_every": 2.5}, {"drift_anchor": 1.5}])
def test_a_bad_drift_check_in_the_model_json_is_a_clear_error(tiny_dependent_model, setting):
    with_drift_check(tiny_dependent_model, **setting)
    with pytest.raises(RehueError, match=f"inference {next(iter(setting))} must be") as raised:
        Colorizer.load(tiny_dependent_model, device="cpu", role="dependent")
    assert raised.value.path.endswith("tiny-dependent.json")


def test_mean_share_takes_each_frames_mean_inside_its_letterbox(tiny_model, tiny_dependent_model):
    """The bars are not picture: with none of the mean colour kept, each shown frame's a*b* averages zero
    inside the picture, whichever model coloured it."""
    from rehue.video.pipeline import SceneColorizer

    independent = Colorizer.load(tiny_model, device="cpu", mean_share=0.0)
    state = SceneColorizer(independent, Colorizer.load(tiny_dependent_model, device="cpu"))
    frames = [frame[..., 1].copy() for frame in two_scene_frames()][:4]
    done = [item for gray in frames for item in state.push_ab(gray)] + state.flush_ab()
    assert state.letterbox(frames[0])[1].height < state.size, "the frames are letterboxed"
    assert state.dependent_frames > 0
    for item in done:
        assert item.ab.shape[:2] != (state.size, state.size)
        assert np.abs(item.ab.mean(axis=(0, 1))).max() < 1e-3
        assert np.abs(item.ab).mean() > 1e-3, "the variation around the mean is kept"


def pillarboxed(frames, bar=20, level=0):
    """Gray frames inside bars of ``level`` on the left and right, as a 4:3 film in a wide transfer."""
    return [np.pad(frame, ((0, 0), (bar, bar)), constant_values=level) for frame in frames]


def test_find_bars_takes_the_bars_every_shown_frame_has():
    from rehue.inference.colorizer import Box
    from rehue.video.pipeline import find_bars

    frames = [frame[..., 1].copy() for frame in two_scene_frames()]
    assert find_bars(frames) is None
    boxed = pillarboxed(frames)
    dark = boxed[3].copy()
    dark[:, 20:40] = 0  # a dark scene: its picture reaches the left bar in black
    dark[:, 96:116] = 0
    black = np.zeros_like(boxed[0])  # a frame of a fade: no bars to see
    assert find_bars([black, *boxed[:3], dark]) == Box(0, 20, 72, 96)
    assert find_bars([black, *boxed[:2], dark]) is None, "too few frames that are not blank"


def test_find_bars_does_not_take_title_cards_for_bars():
    from rehue.video.pipeline import find_bars

    def card(top, left, height, width):
        frame = np.zeros((72, 136), np.uint8)
        frame[top : top + height, left : left + width] = textured_rgb(height, width, seed=top)[..., 1]
        return frame

    one_line = [card(30, 28, 12, 80)] * 10  # the same title for every frame: its text is no picture
    assert find_bars(one_line) is None
    credits = [card(10 + 2 * i, 20 + i, 40, 90) for i in range(10)]  # a block of text moving up the screen
    assert find_bars(credits) is None


def test_a_pillarboxed_film_is_coloured_as_without_its_bars(tiny_model, tiny_dependent_model):
    from rehue.video.pipeline import SceneColorizer, find_bars

    independent = Colorizer.load(tiny_model, device="cpu")
    dependent = Colorizer.load(tiny_dependent_model, device="cpu")
    frames = [frame[..., 1].copy() for frame in two_scene_frames()]
    boxed = pillarboxed(frames, level=3)

    def colour(grays, bars=None):
        state = SceneColorizer(independent, dependent, bars=bars)
        done = [rgb for gray in grays for _, rgb in state.push(gray)] + [rgb for _, rgb in state.flush()]
        state.close()
        return done

    plain, with_bars = colour(frames), colour(boxed, find_bars(boxed))
    assert all(np.array_equal(b[:, 20:116], p) for b, p in zip(with_bars, plain, strict=True))
    assert all(np.array_equal(b[:, :20], np.repeat(g[:, :20, None], 3, axis=2))
               for b, g in zip(with_bars, boxed, strict=True)), "the bars stay gray"
    assert not np.array_equal(colour(boxed)[5][:, 20:116], plain[5]), "shown whole, the picture is seen smaller"


def test_colorize_video_finds_bars_unless_asked_to_colour_everything(tmp_path, tiny_model):
    # light gray bars: black ones hold almost no colour at any a*b*, so they would stay gray either way
    rgb_frames = [np.pad(frame, ((0, 0), (24, 24), (0, 0)), constant_values=225) for frame in two_scene_frames()]
    clip = make_clip(tmp_path / "wide.mp4", rgb_frames, fps=24)
    messages, chroma = [], {}
    for borders in ("neutral", "model"):
        out = tmp_path / f"{borders}.mp4"
        colorize_video(clip, out, colorizer=Colorizer.load(tiny_model, device="cpu", borders=borders),
                       dependent_model="none", progress=False, log=messages.append)
        with VideoReader(out) as reader:
            bars = np.stack([frame.rgb[:, 2:20].astype(int) for frame in reader])
        chroma[borders] = np.abs(bars - bars.mean(axis=3, keepdims=True)).mean()
    assert any("bars around the picture" in m for m in messages)
    assert chroma["neutral"] < 1.0 < chroma["model"]


def test_a_turned_films_bars_are_said_as_the_film_is_shown(tmp_path, tiny_model):
    """Probe 179: a portrait film stored turned, bars above and below its stored picture, was said to have "the
    320x120 picture" inside them, and evaluate's report "picture 64x24 at x 0, y 12", where it shows 120x320."""
    from rehue.evaluation.evaluate import evaluate

    frames = []
    for frame in textured_frames(32, 240, 320, seed=4):
        frame[:50], frame[190:] = 225, 225
        frames.append(frame)
    clip = make_clip(tmp_path / "turned.mp4", frames, fps=24, rotation=90)
    said = []
    colorize_video(clip, tmp_path / "out.mp4", colorizer=Colorizer.load(tiny_model, device="cpu", borders="neutral"),
                   dependent_model="none", progress=False, log=said.append)
    (line,) = [line for line in said if "bars around" in line]
    shown = re.fullmatch(rf"{re.escape(str(clip))}: bars around the picture; colouring the (\d+)x(\d+) picture "
                         r"inside them and leaving the bars gray \(--borders model to colour everything\)", line)
    # upright, 140 wide (H.264's edge may move a bar by a row or two; CI once found 141)
    assert shown and abs(int(shown[1]) - 140) <= 2 and int(shown[2]) == 320, line
    scored = evaluate(tiny_model, [clip], tmp_path / "report", dependent_model="none", progress=False,
                      log=lambda line: None)
    top, left, height, width = scored.extra["video turned.mp4"]["bars"]
    assert (top, height) == (0, 64) and abs(left - 10) <= 1 and abs(width - 28) <= 1, "upright, the long side at 64"
    assert f"borders left gray (picture {width}x{height} at x {left}, y {top})" in \
        (tmp_path / "report" / "metrics.md").read_text()


def test_a_box_turned_with_its_picture_lies_where_the_picture_shows_it():
    from rehue.inference.colorizer import Box
    from rehue.video.io import upright, upright_box

    picture = np.zeros((24, 32), np.uint8)
    box = Box(5, 2, 10, 25)
    picture[box.region] = 1
    for rotation in (0, 90, 180, 270):
        rows, columns = np.nonzero(upright(picture, rotation))
        turned = upright_box(box, rotation, 24, 32)
        assert (turned.top, turned.left, turned.height, turned.width) == (
            rows.min(), columns.min(), rows.max() - rows.min() + 1, columns.max() - columns.min() + 1), rotation


def test_bars_of_a_long_film_are_found_from_its_key_frames_alone(tmp_path, monkeypatch):
    from rehue.inference.colorizer import Box
    from rehue.video.pipeline import find_video_bars

    frames = [np.pad(frame, ((8, 8), (0, 0), (0, 0))) for frame in two_scene_frames(count_each=20)]
    clip = make_clip(tmp_path / "film.mp4", frames, fps=24, gop=4)
    with VideoReader(clip) as reader:
        key_frames = list(reader.key_frames(24))
        assert len(key_frames) == 10 and key_frames[0].shape == (88, 96)
        assert len(list(reader.key_frames(3))) == 3
        monkeypatch.setattr(VideoReader, "__iter__", lambda self: pytest.fail("decoded every frame"))
        assert find_video_bars(reader) == Box(8, 0, 72, 96)


def test_the_shipped_dependent_model_pairs_with_the_shipped_independent_model_only(tiny_model, tiny_dependent_model):
    from rehue.models.io import shipped_models
    from rehue.video.pipeline import load_dependent
    from tests.conftest import make_tiny_model

    make_tiny_model(tiny_model.parent / "big.safetensors", size=128)

    messages = []
    shipped = Colorizer.load("default", device="cpu").for_video()
    assert shipped.shipped and load_dependent("default", shipped, messages.append).dependent
    assert not messages
    own = Colorizer.load(tiny_model, device="cpu")
    assert not own.shipped
    assert load_dependent("default", own, messages.append) is None, "a model of the user's own: no shipped partner"
    assert len(messages) == 1 and "--dependent-model" in messages[0]
    assert load_dependent(str(tiny_dependent_model), own, messages.append).dependent, "one given is paired"
    shipped_name = next(name for name in shipped_models() if name.endswith("-dependent"))
    assert load_dependent(shipped_name, Colorizer.load(tiny_model.parent / "big.safetensors", device="cpu"),
                          messages.append).dependent, "the shipped one, named, is paired with a model of its size"


def write_frames(folder, frames, *, deep=False, start=1):
    """A film as a scanner delivers it: one numbered gray image per frame (16-bit TIFFs when ``deep``)."""
    from PIL import Image

    from rehue.color.lab import rgb_to_gray

    folder.mkdir(parents=True, exist_ok=True)
    for number, rgb in enumerate(frames, start=start):
        if deep:
            Image.fromarray(rgb_to_gray(rgb, np.uint16)).save(folder / f"reel_{number}.tif", dpi=(2000, 2000))
        else:
            Image.fromarray(rgb_to_gray(rgb)).save(folder / f"reel_{number}.png")
    return folder


def test_a_reel_in_colour_already_is_said_to_be(tmp_path, tiny_model, capsys):
    """Probe 33: a single frame in colour was warned of, a reel of them was not."""
    from PIL import Image

    reel = tmp_path / "reel"
    reel.mkdir()
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(reel / "r_1.png")  # black leader: no picture yet
    for number in range(2, 5):
        Image.fromarray(textured_rgb(48, 64, seed=number)).save(reel / f"r_{number}.png")
    args = ["--frames", "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(reel), "-o", str(tmp_path / "out"), *args]) == 0
    assert capsys.readouterr().err.count(f"{reel}: is in colour already (a tinted or toned print?)") == 1
    gray = write_frames(tmp_path / "gray", two_scene_frames(count_each=2))
    assert main(["colorize", str(gray), "-o", str(tmp_path / "out2"), *args]) == 0
    assert "in colour already" not in capsys.readouterr().err


def test_a_reel_of_log_dpx_scans_is_coloured_in_display_tones_at_16_bits(tmp_path, tiny_model, tiny_dependent_model):
    import cv2

    from rehue.color.lab import rgb_to_gray
    from rehue.data.images import load_image
    from tests.helpers_dpx import dpx_bytes

    reel = tmp_path / "reel"
    reel.mkdir()
    for number, rgb in enumerate(two_scene_frames(count_each=3), start=86400):
        gray = rgb_to_gray(rgb, np.uint16)
        (reel / f"scan.{number:07d}.dpx").write_bytes(dpx_bytes(np.dstack([gray] * 3), "gbrp10be", transfer=1))
    assert main(["colorize", str(reel), "-o", str(tmp_path / "out"), "--frames", "--model", str(tiny_model),
                 "--dependent-model", str(tiny_dependent_model), "--no-progress"]) == 0
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == [f"scan.{n:07d}.png" for n in range(86400, 86406)]
    for scan, output in zip(sorted(reel.iterdir()), outputs, strict=True):
        coloured = cv2.cvtColor(cv2.imread(str(output), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
        assert coloured.dtype == np.uint16
        shown = load_image(scan).deep_gray  # in display tones, not the scan's log codes
        assert np.abs(lightness(rgb_to_gray(coloured, np.uint16)) - lightness(shown)).max() < 0.2


def test_a_log_reel_written_as_dpx_is_in_log_again_with_its_headers(tmp_path, tiny_model, tiny_dependent_model):
    """A grader's look for the scans applies to the coloured frames: same transfer, reference codes, byte
    order, time code and frame rate; the picture upright, its L* the scan's."""
    import struct

    from rehue.color.lab import rgb_to_gray
    from rehue.data import dpx
    from rehue.data.images import load_image
    from tests.helpers_dpx import scanner_dpx

    reel = tmp_path / "reel"
    reel.mkdir()
    for number, rgb in enumerate(two_scene_frames(count_each=2)):
        gray = rgb_to_gray(rgb, np.uint16)[::-1, ::-1]  # stored upside down, orientation 3 turns it
        (reel / f"r.{number:04d}.dpx").write_bytes(scanner_dpx(
            np.dstack([gray] * 3), transfer=1, orientation=3, little_endian=True, time_code=0x10000000 + number))
    assert main(["colorize", str(reel), "-o", str(tmp_path / "out"), "--frames", "--ext", ".dpx", "--model",
                 str(tiny_model), "--dependent-model", str(tiny_dependent_model), "--no-progress"]) == 0
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == [f"r.{n:04d}.dpx" for n in range(4)]
    for number, (scan, output) in enumerate(zip(sorted(reel.iterdir()), outputs, strict=True)):
        data = output.read_bytes()
        header = dpx.Header(data)
        assert data[:4] == b"XPDS" and (header.transfer, header.bits, header.orientation) == (1, 10, 0)
        assert (header.reference_black, header.reference_white, header.descriptor) == (95, 685, 50)
        assert struct.unpack_from("<I", data, 1920)[0] == 0x10000000 + number
        assert struct.unpack_from("<f", data, 1724)[0] == 24.0 and data[260:266] == b"Reel 7"
        assert data[820:832] == scan.read_bytes()[820:832], "the image element's description"
        assert len(data) == 2048 + header.width * header.height * 4
        coloured, shown = load_image(output), load_image(scan)
        assert coloured.coloured_by_rehue and "; within scenes sha256 " in coloured.software, "fitted in 100 bytes"
        assert np.abs(lightness(coloured.deep_gray) - lightness(shown.deep_gray)).max() < 0.25


def test_a_drop_frame_time_code_is_written_as_one_or_left_out(tmp_path, tiny_model, capsys):
    """Probe 154: a DPX reel at 29.97 whose time code was drop frame came out with it as non-drop (01:00:00:00), 108
    frames off at the hour."""
    from rehue.data.dpx import DROP_FRAME, _time_code_word
    from tests.helpers_dpx import scanner_dpx

    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(3):
        levels = np.dstack([np.full((48, 64), 20000 + 9000 * number, np.uint16)] * 3)
        (reel / f"r.{number:04d}.dpx").write_bytes(scanner_dpx(
            levels, frame_rate=29.97, time_code=_time_code_word(f"01:00:00:{number:02d}") | DROP_FRAME))
    args = ["--frames", "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(reel), "-o", str(tmp_path / "ntsc.mov"), *args]) == 0
    with VideoReader(tmp_path / "ntsc.mov") as film:
        assert (film.fps, film.timecode) == (Fraction(30000, 1001), "01:00:00;00")
    capsys.readouterr()
    assert main(["colorize", str(reel), "-o", str(tmp_path / "pal.mov"), "--fps", "25", *args]) == 0
    assert "its DPX time code 01:00:00;00 counts frames as drop frame does, at 29.97 or 59.94 frames a second, not " \
           "at 25; the video is written without it" in capsys.readouterr().err
    with VideoReader(tmp_path / "pal.mov") as film:
        assert film.timecode is None


def test_a_dpx_reel_into_a_video_takes_its_frame_rate_and_time_code(tmp_path, tiny_model, capsys):
    """Probe 33: a silent film's scans, 18 frames a second by their headers, came out at 24, without their
    time code."""
    import struct

    from rehue.color.lab import rgb_to_gray
    from tests.helpers_dpx import scanner_dpx

    reel = tmp_path / "reel"
    reel.mkdir()
    for number, rgb in enumerate(two_scene_frames(count_each=2)):
        gray = rgb_to_gray(rgb, np.uint16)
        (reel / f"r.{number:04d}.dpx").write_bytes(scanner_dpx(np.dstack([gray] * 3), frame_rate=18.0,
                                                               time_code=0x01004117 + number))
    args = ["--frames", "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(reel), "-o", str(tmp_path / "silent.mkv"), *args]) == 0
    err = capsys.readouterr().err
    assert "at 18 frames a second, as its DPX header says (--fps sets another)" in err
    assert "its 10-bit frames are coloured and written at 8 bits into .mkv" in err, "probe 38: not 16-bit"
    with VideoReader(tmp_path / "silent.mkv") as film:
        assert (film.fps, film.timecode, film.frame_count) == (18, "01:00:41:17", 4)
    assert main(["colorize", str(reel), "-o", str(tmp_path / "fast.mkv"), "--fps", "24", *args]) == 0
    assert "written at 24 frames a second, as --fps asks; its DPX header says 18" in capsys.readouterr().err
    with VideoReader(tmp_path / "fast.mkv") as film:
        assert film.fps == 24

    # probe 34: a rate no film has was taken (and blamed on --fps, never given); a time code past the rate kept
    for number, path in enumerate(sorted(reel.iterdir())):
        data = bytearray(path.read_bytes())
        struct.pack_into(">f", data, 1724, 0.05)
        struct.pack_into(">I", data, 1920, 0x01020325 + number)
        path.write_bytes(bytes(data))
    assert main(["colorize", str(reel), "-o", str(tmp_path / "odd.mkv"), *args]) == 0
    err = capsys.readouterr().err
    assert "its DPX header's frame rate, 0.05, is not a film's; written at 24 frames a second" in err
    assert "its DPX time code 01:02:03:25 has more frames than a second at 24 frames a second holds" in err
    with VideoReader(tmp_path / "odd.mkv") as film:
        assert (film.fps, film.timecode) == (24, None)


def lightness(gray16: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(np.repeat(gray16[..., None] / 65535.0, 3, axis=2))[..., 0]


def test_frames_of_a_film_are_coloured_as_a_video(tmp_path, tiny_model, tiny_dependent_model):
    from PIL import Image

    from rehue.color.lab import rgb_to_lightness
    from rehue.video.pipeline import colorize_frames, frame_files

    frames = two_scene_frames()
    scans = write_frames(tmp_path / "scans", frames)
    assert [p.name for p in frame_files(scans)][8:11] == ["reel_9.png", "reel_10.png", "reel_11.png"], \
        "frames in the order of their numbers"
    summary = colorize_frames(scans, tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                              dependent_model=str(tiny_dependent_model), progress=False)
    assert summary.frames == 24 and summary.scene_starts == [12]
    assert summary.independent_frames == 2 and summary.dependent_frames == 22
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outputs == sorted(p.name for p in scans.iterdir()), "every frame under its own name, nothing else"
    coloured = np.asarray(Image.open(tmp_path / "out" / "reel_5.png").convert("RGB"))
    gray = np.asarray(Image.open(scans / "reel_5.png"))
    assert np.abs(rgb_to_lightness(coloured) - rgb_to_lightness(np.repeat(gray[..., None], 3, 2))).max() < 1.0
    assert np.abs(coloured.astype(int) - coloured.mean(axis=2, keepdims=True)).mean() > 0.5, "it has colour"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no staging folder left"


def test_sixteen_bit_frames_stay_sixteen_bit_with_their_resolution(tmp_path, tiny_model):
    import cv2
    from PIL import Image

    from rehue.video.pipeline import colorize_frames

    scans = write_frames(tmp_path / "scans", two_scene_frames(count_each=4), deep=True)
    summary = colorize_frames(scans, tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                              dependent_model="none", ext=".tif", progress=False)
    assert summary.frames == 8 and summary.scene_starts == [4]
    frame = cv2.imread(str(tmp_path / "out" / "reel_3.tif"), cv2.IMREAD_UNCHANGED)
    assert frame.dtype == np.uint16 and frame.shape == (72, 96, 3)
    assert Image.open(tmp_path / "out" / "reel_3.tif").info["dpi"] == pytest.approx((2000, 2000))


def test_a_reel_of_sixteen_bit_scans_with_camera_blocks_says_once_that_its_tiffs_leave_them_out(tmp_path, tiny_model):
    """Probe 94: the frames' Exif and GPS blocks were left out of 16-bit TIFF frames without a word."""
    from PIL import Image

    from rehue.video.pipeline import colorize_frames

    scans = write_frames(tmp_path / "scans", two_scene_frames(count_each=2), deep=True)
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "1931:05:01 10:00:00"}
    for scan in scans.iterdir():
        with Image.open(scan) as frame:
            frame.load()
        frame.save(scan, exif=exif.tobytes(), dpi=(2000, 2000))
    said = []
    colorize_frames(scans, tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                    dependent_model="none", ext=".tif", progress=False, log=said.append)
    assert [line for line in said if line.startswith("warning")] == [
        f"warning: {tmp_path / 'out'}: a 16-bit TIFF keeps the EXIF's text tags but not its Exif block (the date "
        "taken, the exposure); they are left out of every frame: --ext .png keeps them at 16 bits"]


def test_a_bad_frame_leaves_no_output_and_existing_frames_are_kept(tmp_path, tiny_model, capsys):
    scans = write_frames(tmp_path / "scans", two_scene_frames(count_each=3))
    (scans / "reel_4.png").write_bytes(b"not a picture")
    args = ["colorize", str(scans), "-o", str(tmp_path / "out"), "--frames", "--model", str(tiny_model),
            "--dependent-model", "none", "--no-progress"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "reel_4.png" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "scans"], "no output, no staging folder"

    write_frames(scans, two_scene_frames(count_each=3))  # the frame scanned again
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "reel_2.png").write_bytes(b"the user's own file")
    assert main(args) == 1
    assert "output exists; pass --overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["reel_2.png"]
    assert main([*args, "--overwrite"]) == 0
    assert len(list((tmp_path / "out").iterdir())) == 6

    write_frames(tmp_path / "odd", [np.zeros((72, 96, 3), np.uint8), np.zeros((40, 96, 3), np.uint8)])
    assert main(["colorize", str(tmp_path / "odd"), "-o", str(tmp_path / "odd-out"), "--frames",
                 "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]) == 1
    assert "reel_2.png: frame is 96x40, the film's first frame 96x72" in capsys.readouterr().err
    assert main([*args, "--start", "2"]) == 2
    assert "--start: not for --frames (every frame in the folder is coloured)" in capsys.readouterr().err, \
        "probe 116: not of letterboxing"
    assert main([*args, "--end", "2", "--fit", "letterbox"]) == 2
    assert "--end, --fit: not for --frames (every frame in the folder is coloured; frames are letterboxed for the " \
           "models, as a video's are)" in capsys.readouterr().err
    for out in ("frames-out", "reel.mp4"):  # probe 149: into a video, "each frame is written under its own name"
        assert main([*args[:3], str(tmp_path / out), *args[4:], "--side-by-side"]) == 2
        assert "--side-by-side: not for --frames (a reel is written in colour alone, into a video as into frames " \
               "named as its own; the side-by-side review is of photos and videos)" in capsys.readouterr().err


def test_lossless_master_keeps_every_frames_lightness(tmp_path, colour_clip, tiny_model):
    from rehue.color.lab import rgb_to_lightness

    films = tmp_path / "films"
    films.mkdir()
    gray = gray_copy(colour_clip, films / "reel.mp4")
    args = ["colorize", str(films), "-o", str(tmp_path / "out"), "--model", str(tiny_model), "--dependent-model",
            "none", "--no-progress"]
    assert main([*args, "--codec", "ffv1"]) == 0
    assert main(args) == 0
    master, access = tmp_path / "out" / "reel.mkv", tmp_path / "out" / "reel.mp4"
    with VideoReader(gray) as source, VideoReader(master) as lossless, VideoReader(access) as h264:
        assert lossless.codec == "ffv1" and h264.codec == "h264"
        errors = {"ffv1": [], "h264": []}
        for frame, kept, compressed in zip(source, lossless, h264, strict=True):
            lightness = rgb_to_lightness(np.repeat(frame.gray[..., None], 3, axis=2))
            errors["ffv1"].append(np.abs(rgb_to_lightness(kept.rgb) - lightness).max())
            errors["h264"].append(np.abs(rgb_to_lightness(compressed.rgb) - lightness).max())
    assert max(errors["ffv1"]) < 0.6 < max(errors["h264"]), "only the lossless master keeps L* exactly"
    assert audio_packets(master) == audio_packets(gray)
    with VideoReader(master) as lossless:
        comment = {key.lower(): value for key, value in lossless._container.metadata.items()}["comment"]
    assert comment.startswith("rehue ") and "tiny-independent" in comment


def test_a_reel_and_a_folder_of_films_into_prores_for_editing(tmp_path, tiny_model, capsys, monkeypatch):
    scans = write_frames(tmp_path / "reel", two_scene_frames(count_each=3), deep=True)
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(scans), "-o", str(tmp_path / "reel.mov"), "--frames", "--codec", "prores",
                 *args]) == 0
    with VideoReader(tmp_path / "reel.mov") as reader:
        assert (reader.codec, reader.bits_per_sample, reader.frame_count) == ("prores", 10, 6)
    assert "written at 8 bits" not in capsys.readouterr().err, "16-bit scans keep 10 bits in ProRes"
    from rehue.inference.colorizer import Colorizer

    loaded = []
    real_load = Colorizer.load
    monkeypatch.setattr(Colorizer, "load", lambda *a, **k: loaded.append(a) or real_load(*a, **k))
    for codec, said in (("prores", "ProRes is written to .mov (QuickTime)"), ("ffv1", "FFV1 is written to .mkv")):
        assert main(["colorize", str(scans), "-o", str(tmp_path / "reel.mp4"), "--frames", "--codec", codec,
                     *args]) == 2, "a codec the container cannot hold is a usage error (probe 69: exit 1)"
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0] and not loaded, "before the models load (probe 70: after)"
        assert not (tmp_path / "reel.mp4").exists()
    films = tmp_path / "films"
    films.mkdir()
    make_clip(films / "a.mp4", two_scene_frames(count_each=3), fps=24)
    assert main(["colorize", str(films), "-o", str(tmp_path / "out"), "--codec", "prores", *args]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.mov"]


def test_frames_into_a_video_file_at_the_films_speed(tmp_path, tiny_model, tiny_dependent_model, capsys):
    from fractions import Fraction

    scans = write_frames(tmp_path / "reel", two_scene_frames(count_each=6), deep=True)
    out = tmp_path / "reel.mkv"
    assert main(["colorize", str(scans), "-o", str(out), "--frames", "--fps", "18", "--codec", "ffv1",
                 "--model", str(tiny_model), "--dependent-model", str(tiny_dependent_model), "--no-progress"]) == 0
    with VideoReader(out) as reader:
        assert (reader.codec, reader.fps, reader.width, reader.height) == ("ffv1", Fraction(18), 96, 72)
        assert reader.bits_per_sample == 16, "16-bit scans make a 16-bit master"
        frames = list(reader)
    assert len(frames) == 12 and abs(frames[-1].time - 11 / 18) < 1e-3
    assert "12 frames, 2 scenes" in capsys.readouterr().err
    assert main(["colorize", str(scans), "-o", str(out), "--frames", "--model", str(tiny_model),
                 "--no-progress"]) == 1
    assert "output exists" in capsys.readouterr().err
    import shutil

    other = shutil.copytree(scans, tmp_path / "other reel")  # another film (one folder named twice is one film)
    assert main(["colorize", str(scans), str(other), "-o", str(tmp_path / "two.mp4"), "--frames",
                 "--model", str(tiny_model), "--no-progress"]) == 2
    assert "one video file holds one film" in capsys.readouterr().err
    assert main(["colorize", str(scans), "-o", str(tmp_path / "x.mp4"), "--frames", "--fps", "0",
                 "--model", str(tiny_model), "--no-progress"]) == 2
    assert "--fps must be from 0.1 to 1000, not 0" in capsys.readouterr().err and not (tmp_path / "x.mp4").exists()
    for rate, shown in (("0.00001", "1e-05"), ("1000.0001", "1000.0001")):  # probe 30: FFmpeg's words; "1000"
        assert main(["colorize", str(scans), "-o", str(tmp_path / "x.mp4"), "--frames", "--fps", rate,
                     "--model", str(tiny_model), "--no-progress"]) == 2
        assert f"--fps must be from 0.1 to 1000, not {shown}" in capsys.readouterr().err
    assert main(["colorize", str(scans), "-o", str(tmp_path / "folder"), "--frames", "--fps", "18",
                 "--model", str(tiny_model), "--no-progress"]) == 2
    assert "--fps: not for --frames into a folder" in capsys.readouterr().err
    assert main(["colorize", str(scans), "-o", str(tmp_path / "y.mp4"), "--fps", "18",
                 "--model", str(tiny_model), "--no-progress"]) == 2
    assert "--fps: only for --frames into a video file" in capsys.readouterr().err


def test_a_reel_with_transparency_into_a_video_is_warned_that_the_video_holds_none(tmp_path, tiny_model, capsys):
    """Before, a reel of RGBA frames (a matte cut round the picture) lost its alpha into a video without a word."""
    from PIL import Image

    reel = tmp_path / "matted"
    reel.mkdir()
    for number, rgb in enumerate(two_scene_frames(count_each=2)):
        alpha = np.full(rgb.shape[:2], 255, np.uint8)
        alpha[:, :8] = 0
        Image.fromarray(np.dstack([rgb.mean(axis=2, keepdims=True).astype(np.uint8)] * 3 + [alpha])).save(
            reel / f"m_{number}.png")
    args = ["--frames", "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(reel), "-o", str(tmp_path / "m.mp4"), *args]) == 0
    assert (f"warning: {reel}: its frames' transparency (alpha) is not in m.mp4, as a video holds none; --frames into "
            "a folder of .png, .tif or .dpx frames keeps it") in capsys.readouterr().err
    assert main(["colorize", str(reel), "-o", str(tmp_path / "kept"), *args]) == 0
    assert "(alpha)" not in capsys.readouterr().err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "kept" / "m_0.png"))[..., 3],
                          np.asarray(Image.open(reel / "m_0.png"))[..., 3])


def test_frames_of_a_format_rehue_does_not_read_or_damaged_scans_are_named(tmp_path, tiny_model):
    from rehue.video.pipeline import colorize_frames

    (tmp_path / "reel").mkdir()
    (tmp_path / "reel" / "000001.dng").write_bytes(b"II*\x00" + bytes(100))  # a CinemaDNG reel's raw frames
    with pytest.raises(RehueError, match="DNG frames are not read by rehue; convert them to 16-bit TIFF or DPX"):
        colorize_frames(tmp_path / "reel", tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                        progress=False)
    (tmp_path / "reel" / "000001.dng").unlink()
    (tmp_path / "reel" / "000001.cin").write_bytes(b"\x80\x2a\x5f\xd7" + bytes(100))
    with pytest.raises(RehueError, match="000001.cin: truncated Cineon header"):
        colorize_frames(tmp_path / "reel", tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                        progress=False)
    (tmp_path / "reel" / "000001.cin").unlink()
    (tmp_path / "reel" / "000001.exr").write_bytes(b"v/1\x01" + bytes(100))
    with pytest.raises(RehueError, match="000001.exr: an OpenEXR header without a data window"):
        colorize_frames(tmp_path / "reel", tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                        progress=False)
    (tmp_path / "reel" / "000001.exr").unlink()
    (tmp_path / "reel" / "000001.dpx").write_bytes(b"SDPX" + bytes(100))
    with pytest.raises(RehueError, match="000001.dpx: truncated DPX header"):
        colorize_frames(tmp_path / "reel", tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                        progress=False)
    assert not (tmp_path / "out").exists()
    write_frames(tmp_path / "reels" / "reel1", three_scene_frames(count_each=1))
    with pytest.raises(RehueError, match="no image frames in this folder, but folders of them \\(reel1\\): name "
                                         "each film's folder"):
        colorize_frames(tmp_path / "reels", tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                        progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RehueError, match="no image frames in this folder$"):
        colorize_frames(tmp_path / "empty", tmp_path / "out", colorizer=Colorizer.load(tiny_model, device="cpu"),
                        progress=False)


def test_frames_into_a_video_extension_rehue_cannot_write_is_an_error_not_a_folder(tmp_path, tiny_model, capsys):
    scans = write_frames(tmp_path / "reel", two_scene_frames(count_each=2))
    assert main(["colorize", str(scans), "-o", str(tmp_path / "film.avi"), "--frames", "--model", str(tiny_model),
                 "--dependent-model", "none", "--no-progress"]) == 2
    assert "unsupported video output extension '.avi'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "reel"]


def test_photos_and_films_each_get_their_own_default_model(monkeypatch, tmp_path, colour_clip):
    """By default photos get the photo model and films the video pair, from one command."""
    from PIL import Image

    import rehue.models.io as io
    from rehue.video.pipeline import load_dependent
    from tests.conftest import make_tiny_model

    monkeypatch.setattr(io, "DEFAULT_MODELS", {"independent": "rehue-photos-128-independent",
                                               "video": "rehue-films-128-independent",
                                               "dependent": "rehue-films-128-dependent"})
    shipped = tmp_path / "shipped"
    for seed, role in enumerate(("independent", "video")):
        make_tiny_model(shipped / f"{io.DEFAULT_MODELS[role]}.safetensors", seed=seed)
    make_tiny_model(shipped / f"{io.DEFAULT_MODELS['dependent']}.safetensors", in_channels=3)
    monkeypatch.setattr(io, "SHIPPED_DIR", shipped)

    photos = Colorizer.load("default", device="cpu", chroma=0.7)
    assert photos.name == io.DEFAULT_MODELS["independent"]
    films = photos.for_video()
    assert films.name == io.DEFAULT_MODELS["video"] and films.chroma == 0.7
    assert photos.for_video() is films and films.for_video() is films
    named = Colorizer.load(io.DEFAULT_MODELS["independent"], device="cpu")
    assert named.for_video() is named, "a model asked for by name colours films too"
    messages = []
    assert load_dependent("default", films, messages.append).dependent
    assert load_dependent("default", named, messages.append) is None
    assert io.DEFAULT_MODELS["video"] in messages[0]

    inputs = tmp_path / "in"
    inputs.mkdir()
    gray_copy(colour_clip, inputs / "reel.mp4")
    Image.fromarray(textured_rgb(40, 48, seed=4)[..., 0]).save(inputs / "photo.png")
    assert main(["colorize", str(inputs), "-o", str(tmp_path / "out"), "--no-progress", "--codec", "ffv1"]) == 0
    with VideoReader(tmp_path / "out" / "reel.mkv") as film:
        comment = {key.lower(): value for key, value in film._container.metadata.items()}["comment"]
    assert comment.endswith(f"colorized with {io.DEFAULT_MODELS['video']}; within scenes "
                            f"{io.DEFAULT_MODELS['dependent']}"), "the dependent model coloured most frames"
    software = Image.open(tmp_path / "out" / "photo.png").getexif()[0x0131]
    assert software.endswith(f"colorized with {io.DEFAULT_MODELS['independent']}"), "shipped: named, no digest"


def test_an_interrupt_while_the_decode_thread_starts_leaves_the_reader_untouched(monkeypatch):
    """Thread.start() can be interrupted after the thread is running; the caller then closes the reader.
    A decode thread already reading from it would crash FFmpeg at exit, so it must wait for the go."""
    import threading
    import time
    from contextlib import closing

    from rehue.video import pipeline

    touched = []

    def items():
        touched.append("read")
        yield 1

    started = threading.Thread.start

    def start_then_interrupt(self):
        started(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", start_then_interrupt)
    frames = pipeline._prefetch(items(), "rehue-test-prefetch")
    with pytest.raises(KeyboardInterrupt), closing(frames):
        next(frames)
    monkeypatch.undo()
    deadline = time.monotonic() + 5
    while any(t.name == "rehue-test-prefetch" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "rehue-test-prefetch" for t in threading.enumerate()), "the thread ended"
    assert touched == [], "and never read"
    assert list(pipeline._prefetch(iter([1, 2, 3]), "rehue-test-prefetch")) == [1, 2, 3]


def test_a_frame_folder_dropped_before_its_try_leaves_no_staging_folder(tmp_path):
    import gc

    from rehue.video.pipeline import _FrameFolder

    sink = _FrameFolder(tmp_path / "out", ["a.png"], quality=90, software="rehue", timer=None, bar=None)
    assert [p.name for p in tmp_path.iterdir()] == [sink.staging.name]
    del sink
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_a_stray_file_or_a_gap_in_a_films_numbering_is_a_warning():
    from rehue.video.pipeline import numbering_warnings

    def warnings(*names):
        return numbering_warnings([Path(name) for name in names])

    assert warnings("reel_9.png", "reel_10.png", "reel_11.png") == [], "unpadded numbers are one numbering"
    assert warnings("a.png") == [] and warnings() == []
    assert warnings("f001.tif", "f002.tif", "f004.tif", "f005.tif", "f009.tif") == [
        "the numbering skips 4 frames: 3, 6-8; the frames on either side of a gap are coloured as neighbours"]
    assert warnings("f1.tif", "f2.tif", "f4.tif") == [
        "the numbering skips frame 3; the frames on either side of a gap are coloured as neighbours"]
    stray = warnings("f1.tif", "f2.tif", "f3.tif", "cover.tif", "sheet2.tif")
    assert stray == ["cover.tif, sheet2.tif do not follow the numbering of the other 3 frames; they are coloured as "
                     "frames where their names sort"]


def test_a_frames_broken_link_or_a_folder_named_as_a_frame_is_named_not_only_said_as_a_gap(tmp_path):
    """Probe 206: a frame whose link leads nowhere, or a folder named reel_4.png, was said as "the numbering skips
    frame 2" alone: the frame is there, and unreadable."""
    from rehue.video.pipeline import film_frames

    reel = write_frames(tmp_path / "reel", [textured_rgb(32, 48, seed=i) for i in range(6)])
    (reel / "reel_2.png").unlink()
    (reel / "reel_2.png").symlink_to("nowhere.png")
    lines = []
    assert [frame.name for frame in film_frames(reel, lines.append)] == [f"reel_{i}.png" for i in (1, 3, 4, 5, 6)]
    assert lines[0] == f"warning: {reel}: reel_2.png: a link to nowhere.png, which does not exist; the film is read " \
                       "without it" and "skips frame 2" in lines[1] and len(lines) == 2
    (reel / "reel_4.png").unlink()
    (reel / "reel_4.png").mkdir()
    lines = []
    assert len(film_frames(reel, lines.append)) == 4
    assert lines[0] == f"warning: {reel}: 2 of its frames' names are no picture file, such as reel_2.png: a link to " \
                       "nowhere.png, which does not exist; the film is read without them"
    (reel / "reel_2.png").unlink()
    lines = []
    film_frames(reel, lines.append)
    assert lines[0] == f"warning: {reel}: reel_4.png: a folder; the film is read without it"
    gone = tmp_path / "gone"  # probe 210: a reel of links into a drive not mounted, "no image frames" alone
    gone.mkdir()
    for number in range(1, 4):
        (gone / f"reel_{number}.png").symlink_to(f"/mnt/unmounted/reel_{number}.png")
    with pytest.raises(RehueError) as caught:
        film_frames(gone, lines.append)
    assert str(caught.value) == f"{gone}: no image frames in this folder: its 3 frames' names are no picture file, " \
                                "such as reel_1.png: a link to /mnt/unmounted/reel_1.png, which does not exist"


def test_a_cover_scan_of_another_size_is_left_out_of_the_film(tmp_path, tiny_model, capsys):
    """Before, a cover scan that sorted before the frames set the film's size, and the film stopped with
    ``reel_1.png: frame is 48x32, the film's first frame 50x40``: an error for a warning, blaming a frame."""
    from PIL import Image

    scans = write_frames(tmp_path / "scans", [textured_rgb(32, 48, seed=i) for i in range(6)])
    (scans / "reel_3.png").unlink()  # a gap, as in the reported folder
    Image.fromarray(textured_rgb(40, 50, seed=9)[..., 0]).save(scans / "cover.png")
    args = ["colorize", str(scans), "-o", str(tmp_path / "out"), "--frames", "--model", str(tiny_model),
            "--dependent-model", "none", "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "cover.png is 50x40, not 48x32 as the numbered frames; it is left out of the film" in err
    assert "coloured as a frame where its name sorts" not in err and "skips frame 3" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"reel_{n}.png" for n in (1, 2, 4, 5, 6)]

    Image.fromarray(textured_rgb(32, 48, seed=9)[..., 0]).save(scans / "cover.png")  # one of the frames' size
    assert main([*args, "--overwrite"]) == 0
    assert "cover.png does not follow the numbering of the other 5 frames; it is coloured" in capsys.readouterr().err
    assert (tmp_path / "out" / "cover.png").exists()

    Image.fromarray(textured_rgb(40, 50, seed=9)[..., 0]).save(scans / "cover.png")
    Image.fromarray(textured_rgb(40, 50, seed=5)[..., 0]).save(scans / "reel_5.png")  # a frame rescanned
    assert main([*args, "--overwrite"]) == 1
    assert "reel_5.png: frame is 50x40, the film's first frame 48x32" in capsys.readouterr().err


def test_a_film_is_warned_of_what_its_colour_version_loses(tmp_path, tiny_model, capsys):
    """Before, each of these was lost without a word: a tinted print's tint, a 10-bit master's depth,
    cover art that the container cannot hold (and, until they were carried, subtitles and all cover art), and
    (re-encoded for the container) the sound's codec and rate."""
    from fractions import Fraction

    import av

    amber = [np.zeros((48, 64, 3), np.uint8)] * 2 + [  # a reel that opens on black leader
        (textured_rgb(48, 64, seed=i)[..., 1:2] * np.array([1.0, 0.6, 0.2])).astype(np.uint8) for i in range(4)]
    tinted = make_clip(tmp_path / "tinted.mp4", amber, fps=4)
    deep, extras = tmp_path / "master10.mkv", tmp_path / "subtitled.mkv"
    with av.open(str(deep), "w") as container:
        stream = container.add_stream("ffv1", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "gray10le"
        encode_frames(container, stream, (textured_rgb(48, 64, seed=i) for i in range(4)))
    with av.open(str(extras), "w") as container:
        stream = container.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        subtitles = container.add_mux_stream("subrip", time_base=Fraction(1, 1000))
        subtitles.disposition = av.stream.Disposition.default  # shown: .mov turns on none the source leaves off
        container.add_attachment("cover.jpg", "image/jpeg", b"\xff\xd8\xff\xd9")
        container.start_encoding()
        packet = av.Packet(b"Harbour, 1952")
        packet.stream, packet.pts, packet.dts, packet.duration = subtitles, 0, 0, 500
        container.mux(packet)
        encode_frames(container, stream,
                      (np.repeat(textured_rgb(48, 64, seed=i)[..., 1:2], 3, axis=2) for i in range(4)))
    gray = [np.repeat(textured_rgb(48, 64, seed=i)[..., 1:2], 3, axis=2) for i in range(8)]
    sound = make_clip(tmp_path / "sound.mp4", gray, fps=8, audio=True)
    expected = {
        (tinted, "out1.mp4"): f"warning: {tinted}: is in colour already (a tinted or toned print?); its colour is "
                              "replaced by the model's, from its lightness alone",
        (deep, "out2.mkv"): f"warning: {deep}: its 10-bit samples are coloured and written at 8 bits, as players "
                            "expect (--codec ffv1 keeps every level, in a 16-bit lossless .mkv; --codec prores "
                            "keeps 10 bits, in a .mov for editing)",
        (extras, "out3.mov"): f"warning: {extras}: 1 attached picture (cover art; .mkv and .mp4 keep it) is not "
                              "carried to the colour version (rehue writes the picture, the sound, the subtitles, "
                              "the chapters and the timecode)",
        (sound, "out4.webm"): f"warning: {sound}: .webm cannot hold its aac sound (44100 Hz), so the sound is "
                              "re-encoded to opus (48000 Hz); a .mkv output copies any sound as it is"}
    for (source, name), line in expected.items():
        capsys.readouterr()
        assert main(["colorize", str(source), "-o", str(tmp_path / name), "--model", str(tiny_model),
                     "--dependent-model", "none", "--no-progress"]) == 0
        warnings = [w for w in capsys.readouterr().err.splitlines() if w.startswith("warning:")]
        assert warnings == [line], name


def ten_bit_master(path, shifts):
    """A 64x48 lossless gray 10-bit film of a ramp over all 1024 levels, rolled ``shift`` columns in each frame."""
    import av

    ramp = (np.arange(48 * 64, dtype=np.uint32).reshape(48, 64) * 1023 // (48 * 64 - 1)).astype(np.uint16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "gray10le"
        encode_frames(container, stream, (np.roll(ramp, shift, axis=1) for shift in shifts), format="gray10le")
    return path, ramp


def test_a_deep_master_keeps_every_level_in_a_lossless_master(tmp_path, tiny_model, capsys):
    """Before, a 10-bit master's lossless colour version was written at 8 bits: a quarter of its levels."""
    import av

    from rehue.color.lab import rgb_to_lightness

    master, ramp = ten_bit_master(tmp_path / "master10.mkv", shifts=range(3))
    out = tmp_path / "colour.mkv"
    assert main(["colorize", str(master), "-o", str(out), "--codec", "ffv1", "--model", str(tiny_model),
                 "--dependent-model", "none", "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err
    with av.open(str(master)) as source, av.open(str(out)) as coloured:
        assert coloured.streams.video[0].codec_context.pix_fmt == "gbrp16le"
        pairs = list(zip(source.decode(video=0), coloured.decode(video=0), strict=True))
    for given, made in pairs:
        gray16 = given.to_ndarray(format="gray16le")
        lightness = rgb_to_lightness(np.repeat(gray16[..., None], 3, axis=2))
        made_lightness = rgb_to_lightness(made.to_ndarray(format="rgb48le"))
        assert np.abs(made_lightness - lightness).max() < 0.1
        assert len(np.unique(np.round(made_lightness, 2))) > 900, "its 1024 levels, not 256"


def test_frame_folders_of_one_name_are_refused_and_a_killed_runs_staging_is_removed(tmp_path, tiny_model, capsys):
    """Before, a/reel1 and b/reel1 were both written into OUT/reel1 (with --overwrite, half of each film),
    and the hidden folder a killed --frames run was writing into stayed for good."""
    frames = two_scene_frames(count_each=2)
    first, second = write_frames(tmp_path / "a" / "reel1", frames), write_frames(tmp_path / "b" / "reel1", frames)
    out = tmp_path / "out"
    args = ["--frames", "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(first), str(second), "-o", str(out), "--overwrite", *args]) == 1
    assert "two folders of frames are both named reel1" in capsys.readouterr().err
    assert not out.exists()
    out.mkdir()
    stale = out / ".reel1.rehue-tmp999999999"  # a process number no running process has
    stale.mkdir()
    (stale / "reel_1.png").write_bytes(b"half")
    assert main(["colorize", str(first), str(tmp_path / "b"), "-o", str(out), *args]) == 1  # b holds no frames
    assert "removed 1 half-written file or folder" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["reel1"]


def test_the_library_checks_video_settings_and_paths_as_the_cli_does(tmp_path, tiny_model):
    from rehue.errors import UsageError

    clip = make_clip(tmp_path / "clip.mp4", [textured_rgb(32, 32)] * 4)
    colorizer = Colorizer.load(tiny_model)
    for options, message in (({"crf": 99}, "crf must be a whole number"), ({"preset": "warp"}, "preset"),
                             ({"codec": "av1"}, "unknown codec"), ({"scene_mode": "magic"}, "scene mode")):
        with pytest.raises(UsageError, match=message):
            colorize_video(clip, tmp_path / "out.mp4", colorizer=colorizer, **options)
    with pytest.raises(UsageError, match="paths, not bytes"):
        colorize_video(clip.read_bytes(), tmp_path / "out.mp4", colorizer=colorizer)
    assert not (tmp_path / "out.mp4").exists()


def test_a_progress_function_hears_the_total_at_last_where_the_header_said_another(tmp_path, tiny_model):
    """Probe 100: a Matroska film with sound said one frame more than it holds, and a service's last call was
    (30, 31); with numbered frames too. A film holding more than its header says went past 100% (30, 8)."""
    from tests.helpers_video import textured_frames

    steps = np.random.default_rng(1).integers(15, 25, 20)  # a phone's variable rate: its header says 19
    clip = make_clip(tmp_path / "film.mkv", list(textured_frames(20, 48, 64)), fps=30, pts=list(np.cumsum(steps)),
                     time_base="1/600", audio=True)
    colorizer = Colorizer.load(tiny_model)
    for target in (tmp_path / "out.mkv", tmp_path / "frames" / "f_%02d.png"):
        heard = []
        colorize_video(clip, target, colorizer=colorizer, dependent_model="none",
                       progress=lambda *call, heard=heard: heard.append(call))
        assert heard[0] == (1, 19) and heard[18] == (19, 19) and heard[-1] == (20, 20), (target, heard)
    from rehue.progress import finished
    from rehue.video.pipeline import _ProgressCallback

    heard = []
    callback = _ProgressCallback(lambda *c: heard.append(c), 8)  # a header that says too few
    for _ in range(20):
        callback.update(1)
    finished(callback)
    assert heard[7] == (8, 8) and heard[8] == (9, None) and heard[-1] == (20, 20)


def test_a_progress_function_hears_every_frame_and_can_cancel_the_job(tmp_path, tiny_model, capsys):
    clip = make_clip(tmp_path / "clip.mp4", [textured_rgb(32, 32)] * 6)
    colorizer = Colorizer.load(tiny_model)
    heard = []
    colorize_video(clip, tmp_path / "out.mp4", colorizer=colorizer, progress=lambda *done: heard.append(done))
    assert [done for done, _ in heard] == [1, 2, 3, 4, 5, 6] and {total for _, total in heard} <= {6, None}
    assert "%|" not in capsys.readouterr().err, "a function instead of the bar"

    class Cancelled(Exception):
        pass

    def cancel_at_third(done, total):
        if done == 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        colorize_video(clip, tmp_path / "cancelled.mp4", colorizer=colorizer, progress=cancel_at_third)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["clip.mp4", "models", "out.mp4"]


@pytest.mark.parametrize("rotation, with_dependent", [(90, False), (180, False), (270, False), (270, True)])
def test_a_rotated_film_is_coloured_upright_and_kept_as_stored(tmp_path, tiny_model, tiny_dependent_model, rotation,
                                                                with_dependent):
    """A phone's portrait film is stored sideways with a display rotation; colour depends on which way is
    up, so the models see it as it is shown. Before, they saw the stored, sideways picture."""
    shown = [np.ascontiguousarray(frame[:, :64]) for frame in two_scene_frames(count_each=4, height=96, width=96)]
    upright_clip = make_clip(tmp_path / "upright.mp4", shown, fps=12)
    rotated_clip = make_clip(tmp_path / "rotated.mp4", [as_stored(frame, rotation) for frame in shown], fps=12,
                             rotation=rotation)
    colorizer = Colorizer.load(tiny_model, device="cpu")
    for clip in (upright_clip, rotated_clip):
        colorize_video(clip, clip.with_name(f"{clip.stem}-colour.mp4"), colorizer=colorizer,
                       dependent_model=str(tiny_dependent_model) if with_dependent else "none", progress=False)
    with VideoReader(tmp_path / "upright-colour.mp4") as reader:
        expected = [frame.rgb.astype(int) for frame in reader]
    with VideoReader(tmp_path / "rotated-colour.mp4") as reader:
        assert reader.rotation == rotation and (reader.width, reader.height) == (
            (64, 96) if rotation == 180 else (96, 64)), "kept as stored, with its rotation"
        got = [upright(frame.rgb, rotation).astype(int) for frame in reader]
    from rehue.color.lab import rgb_to_lab

    def ab_error(a, b):
        return np.abs(rgb_to_lab(a.astype(np.uint8))[..., 1:] - rgb_to_lab(b.astype(np.uint8))[..., 1:]).mean()

    errors = [ab_error(a, b) for a, b in zip(got, expected, strict=True)]
    assert max(errors) < 2.0, f"coloured as the upright film is (a*b* off by {max(errors):.2f})"


def test_a_rotated_film_side_by_side_shows_the_gray_left_of_the_colour(tmp_path, tiny_model):
    shown = [np.ascontiguousarray(frame[:, :64]) for frame in two_scene_frames(count_each=3, height=96, width=96)]
    clip = make_clip(tmp_path / "portrait.mp4", [as_stored(frame, 270) for frame in shown], fps=12, rotation=270)
    out = tmp_path / "review.mp4"
    colorize_video(clip, out, colorizer=Colorizer.load(tiny_model, device="cpu"), dependent_model="none",
                   side_by_side=True, progress=False)
    with VideoReader(out) as reader:
        assert reader.rotation == 270 and (reader.width, reader.height) == (96, 128)
        frame = upright(next(iter(reader)).rgb, 270).astype(int)
    assert frame.shape == (96, 128, 3)
    left, right = frame[:, :60], frame[:, 64:]  # chroma is subsampled across the seam
    assert np.abs(left - left.mean(axis=2, keepdims=True)).max() <= 3, "the gray input, on the left as shown"
    assert np.abs(right - right.mean(axis=2, keepdims=True)).mean() > 0.5, "the colour, on the right"


def test_a_tinted_print_keeps_the_lightness_of_its_colours(tmp_path, tiny_model):
    """Before, a tinted film's lightness was the decoder's luma, which is not L* for a tint's colours: on
    this blue-toned print the colour version came out darker by 1.3 L* units on average (a colour
    photo's L* was already kept)."""
    import av

    from rehue.color.lab import rgb_to_lightness

    blue = [(textured_rgb(49, 65, seed=i)[..., 1:2] * np.array([0.35, 0.55, 1.0])).astype(np.uint8)
            for i in range(4)]  # odd sides: 4:4:4, the tint kept whole
    tinted = make_clip(tmp_path / "blue.mp4", blue, fps=4)
    out = tmp_path / "colour.mkv"
    assert main(["colorize", str(tinted), "-o", str(out), "--model", str(tiny_model), "--dependent-model", "none",
                 "--codec", "ffv1", "--no-progress"]) == 0
    with av.open(str(tinted)) as source, av.open(str(out)) as coloured:
        pairs = zip(source.decode(video=0), coloured.decode(video=0), strict=True)
        gaps = [rgb_to_lightness(b.to_ndarray(format="rgb24")) - rgb_to_lightness(a.to_ndarray(format="rgb24"))
                for a, b in pairs]
    assert abs(float(np.mean(gaps))) < 0.3 and float(np.abs(gaps).mean()) < 0.6


def bt709_rgb(frame) -> np.ndarray:
    """An 8-bit 4:2:0 frame of limited range as float RGB (0-1) by BT.709's formula, each chroma sample for its 2x2
    pixels: the test's own reckoning, not swscale's."""
    planes = [np.frombuffer(plane, np.uint8).reshape(plane.height, -1)[:, :plane.width].astype(np.float64)
              for plane in frame.planes]
    luma = (planes[0] - 16) / 219
    blue, red = ((np.repeat(np.repeat(plane, 2, 0), 2, 1) - 128) / 224 for plane in planes[1:])
    r, b = luma + 1.5748 * red, luma + 1.8556 * blue
    g = (luma - 0.2126 * r - 0.0722 * b) / 0.7152
    return np.clip(np.stack([r, g, b], axis=-1), 0, 1)


def test_a_toned_4_2_0_film_keeps_its_lightness(tmp_path, tiny_model):
    """Probe 152: a sepia print stored 4:2:0 (as H.264 and most films are) came out 0.58 L* darker on average, where
    the same print at 4:4:4 kept its L*: swscale's default conversion read its RGB 1 to 1.5 levels dark. (A 10-bit
    one is still 0.16 L* dark: reliability.md's Known limits.)"""
    from fractions import Fraction

    import av

    from rehue.color.lab import rgb_to_lightness

    ramp = np.tile(np.linspace(0.05, 0.95, 128), (96, 1))
    toned = tmp_path / "sepia.mkv"
    with av.open(str(toned), "w") as container:
        stream = container.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        stream.codec_context.colorspace, stream.codec_context.color_range = 1, 1  # BT.709, limited
        for index in range(4):
            shade = ramp * (0.8 + 0.05 * index)
            rgb = np.round(np.stack([shade ** 0.8, shade, shade ** 1.4], axis=-1) * 65535).astype(np.uint16)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb48le").reformat(
                format="yuv420p", dst_colorspace="itu709", dst_color_range="MPEG")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    out = tmp_path / "colour.mkv"
    assert main(["colorize", str(toned), "-o", str(out), "--model", str(tiny_model), "--dependent-model", "none",
                 "--codec", "ffv1", "--no-progress"]) == 0
    with av.open(str(toned)) as source, av.open(str(out)) as coloured:
        gaps = [rgb_to_lightness(b.to_ndarray(format="rgb24")) - rgb_to_lightness(np.round(bt709_rgb(a) * 255)
                                                                                  .astype(np.uint8))
                for a, b in zip(source.decode(video=0), coloured.decode(video=0), strict=True)]
    assert abs(float(np.mean(gaps))) < 0.1, float(np.mean(gaps))


def test_the_colour_does_not_pulse_with_an_old_prints_flicker(tiny_model):
    """Before, every darker frame of a flickering print was coloured as a darker picture is, so the colour
    pulsed with the flicker (probe 20: frame-to-frame colour change 5 times the clean print's on a
    flickering one). The models now see each frame at the scene's level; the output keeps its own L*."""
    from rehue.color.lab import rgb_to_lightness
    from rehue.video.pipeline import SceneColorizer

    colorizer = Colorizer.load(tiny_model, device="cpu")
    picture = textured_rgb(64, 80, seed=4)[..., 1].astype(np.float32)
    frames = [np.clip(np.round(picture * gain), 0, 255).astype(np.uint8) for gain in [1.0, 0.85] * 8]

    def colours(sequence):
        state = SceneColorizer(colorizer, None)
        try:
            decided = [d for gray in sequence for d in state.push_ab(gray)] + state.flush_ab()
            return [d.ab for d in decided], [rgb for _, rgb in map(state.compose, decided)]
        finally:
            state.close()

    alone = [colours([frame])[0][0] for frame in frames[:2]]
    pulse = float(np.abs(alone[1] - alone[0]).mean())  # what the model makes of the darker frame on its own
    ab, rgb = colours(frames)
    changes = [float(np.abs(b - a).mean()) for a, b in zip(ab[4:], ab[5:], strict=False)]
    assert pulse > 0.5 and max(changes) < 0.3 * pulse, (pulse, changes)
    for frame, out in zip(frames, rgb, strict=True):  # each frame's own lightness is kept
        assert np.abs(rgb_to_lightness(out) - rgb_to_lightness(np.repeat(frame[..., None], 3, axis=2))).max() < 1.0


def three_scene_frames(count_each=6, height=72, width=96):
    """Three shots of different textures, cut hard one to the next."""
    from rehue.color.lab import rgb_to_gray

    frames = []
    for seed in (1, 2, 3):
        base = textured_rgb(height, width + 3 * count_each, seed=seed)
        frames += [np.repeat(rgb_to_gray(base[:, 3 * i:3 * i + width])[..., None], 3, 2) for i in range(count_each)]
    return frames


def stop_after(frames):
    """A progress function that interrupts the job (as Ctrl-C does) once ``frames`` frames are done."""
    def report(done, total):
        if done == frames:
            raise KeyboardInterrupt
    return report


def test_an_interrupted_film_of_frames_goes_on_from_the_scene_it_stopped_in(tmp_path, tiny_model,
                                                                               tiny_dependent_model):
    from rehue.video.pipeline import colorize_frames
    from rehue.video.resume import JOURNAL, SCENES

    scans = write_frames(tmp_path / "scans", three_scene_frames())
    colorizer = Colorizer.load(tiny_model, device="cpu")
    options = {"colorizer": colorizer, "dependent_model": str(tiny_dependent_model)}
    whole = colorize_frames(scans, tmp_path / "whole", progress=False, **options)
    assert whole.scene_starts == [6, 12]

    messages = []
    with pytest.raises(KeyboardInterrupt):
        colorize_frames(scans, tmp_path / "out", progress=stop_after(15), log=messages.append, **options)
    assert not (tmp_path / "out").exists()
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.rehue-tmp")]
    assert "the 12 frames coloured up to the scene it stopped in are kept" in messages[-1]
    assert "goes on from frame 13" in messages[-1]
    assert sorted(p.name for p in staging.iterdir()) == \
        sorted([JOURNAL, SCENES] + [f"reel_{n}.png" for n in range(1, 13)])
    assert (staging / SCENES).read_text() == "6\n12\n"

    messages.clear()
    again = colorize_frames(scans, tmp_path / "out", progress=False, log=messages.append, **options)
    assert "going on from frame 13 of 18" in messages[0]
    assert again.frames == 6 and again.scene_starts == [] and again.independent_frames == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        sorted(p.name for p in (tmp_path / "whole").iterdir())
    for frame in (tmp_path / "whole").iterdir():
        assert np.array_equal(read_rgb(frame), read_rgb(tmp_path / "out" / frame.name)), frame.name
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"
    # probe 221: an --overwrite run stopped, then the command without --overwrite, was told only "pass --overwrite
    # to replace it", as if that began again
    with pytest.raises(KeyboardInterrupt):
        colorize_frames(scans, tmp_path / "out", progress=stop_after(15), overwrite=True, **options)
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.rehue-tmp")]
    with pytest.raises(RehueError) as refused:
        colorize_frames(scans, tmp_path / "out", progress=False, **options)
    assert str(refused.value) == (f"{tmp_path / 'out' / 'reel_1.png'}: output exists; pass --overwrite to replace it, "
                                  "going on from the coloured frames an interrupted run kept for it in "
                                  f"{staging} where its settings were these (or remove them)")


def test_a_film_of_frames_killed_as_it_moves_into_place_is_kept_whole(tmp_path, tiny_model, monkeypatch):
    """Probe 193: the journal was removed from the hidden folder before it moved into place; a kill between the two
    left every frame coloured in a folder the next run removed as half-written, and coloured the film again."""
    from rehue.video import pipeline
    from rehue.video.pipeline import colorize_frames

    scans = write_frames(tmp_path / "scans", three_scene_frames())
    colorizer = Colorizer.load(tiny_model, device="cpu")

    def killed(folder):
        raise KeyboardInterrupt  # as a kill there: nothing after it runs

    monkeypatch.setattr(pipeline, "remove_journal", killed)
    with pytest.raises(KeyboardInterrupt):
        colorize_frames(scans, tmp_path / "out", colorizer=colorizer, dependent_model="none", progress=False)
    assert len([path for path in (tmp_path / "out").iterdir() if path.suffix == ".png"]) == 18, "every frame in place"


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_film_into_numbered_frames_interrupted_goes_on_from_the_scene_it_stopped_in(tmp_path, tiny_model,
                                                                                      tiny_dependent_model, suffix):
    """A film coloured into frames for grading, stopped part way (Ctrl-C, a kill): the same command goes on
    from the first frame of the scene it stopped in, seeking the video there (in H.264, between key frames),
    and every frame is the uninterrupted run's."""
    from rehue.video.resume import JOURNAL, SCENES

    clip = make_clip(tmp_path / f"film{suffix}", three_scene_frames(), fps=12,
                     **({"codec": "ffv1"} if suffix == ".mkv" else {"gop": 5}))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    options = {"colorizer": colorizer, "dependent_model": str(tiny_dependent_model)}
    whole = colorize_video(clip, tmp_path / "whole" / "f_%03d.png", progress=False, **options)
    assert whole.scene_starts == [6, 12]

    out = tmp_path / "out"
    messages = []
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, out / "f_%03d.png", progress=stop_after(15), log=messages.append, **options)
    (staging,) = list(out.iterdir())
    assert staging.name.startswith(".f_%03d.png.rehue-tmp")
    assert messages[-1].startswith(f"{out}: interrupted; the 12 frames coloured up to the scene it stopped in are "
                                   f"kept in {staging}")
    assert messages[-1].endswith("the same command goes on from frame f_013.png")
    assert sorted(p.name for p in staging.iterdir()) == sorted([JOURNAL, SCENES] + [f"f_{n:03d}.png"
                                                                                     for n in range(1, 13)])
    assert [line.split()[0] for line in (staging / SCENES).read_text().splitlines()] == ["6", "12"]
    kept = staging / "f_009.png"  # probe 39: a frame a crash left full of zeros, its size whole, was taken
    kept.write_bytes(bytes(kept.stat().st_size))

    messages.clear()
    again = colorize_video(clip, out / "f_%03d.png", progress=False, log=messages.append, **options)
    assert messages[0] == (f"{out}: going on from frame f_007.png (6 frames kept, at 0.50 s), where an earlier run "
                           "stopped")
    assert again.frames == 12 and again.independent_frames == 2
    assert sorted(p.name for p in out.iterdir()) == [f"f_{n:03d}.png" for n in range(1, 19)], "no hidden folder left"
    for frame in (tmp_path / "whole").iterdir():
        assert np.array_equal(read_rgb(frame), read_rgb(out / frame.name)), frame.name

    # other settings: the kept frames are not used
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, tmp_path / "o2" / "f_%03d.png", progress=stop_after(15), log=messages.append,
                       **options)
    messages.clear()
    colorize_video(clip, tmp_path / "o2" / "f_%03d.png", progress=False, log=messages.append, colorizer=colorizer,
                   dependent_model="none")
    assert any("removed an interrupted run's frames" in message for message in messages)
    assert sorted(p.name for p in (tmp_path / "o2").iterdir()) == [f"f_{n:03d}.png" for n in range(1, 19)]

    # probe 221: an --overwrite run stopped over earlier frames, then the command without --overwrite, was told
    # only "pass --overwrite to replace them", as if that began again
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, tmp_path / "o2" / "f_%03d.png", progress=stop_after(15), log=messages.append,
                       overwrite=True, **options)
    (staging,) = [p for p in (tmp_path / "o2").iterdir() if p.name.startswith(".")]
    with pytest.raises(RehueError) as refused:
        colorize_video(clip, tmp_path / "o2" / "f_%03d.png", progress=False, log=messages.append, **options)
    assert str(refused.value) == (f"{tmp_path / 'o2'}: holds 18 frames of this name already, such as f_001.png; pass "
                                  "--overwrite to replace them, going on from the coloured frames an interrupted run "
                                  f"kept for it in {staging} where its settings were these (or remove them)")


@pytest.mark.parametrize("source", ["film", "reel"])
def test_frames_killed_while_they_move_into_place_are_finished_by_the_same_command(
        tmp_path, tiny_model, tiny_dependent_model, monkeypatch, source):
    """Probe 59: a run killed (SIGKILL, which no handler holds) while it moved its coloured frames out of the
    hidden folder left 113 of 491 frames in place and the rest hidden, and the same command refused the folder
    as holding frames already. It now puts the rest in place, for a film into numbered frames and a reel of
    scans into a folder; a run of other settings killed so is not taken."""
    from PIL import Image

    from rehue.video import pipeline, resume
    from rehue.video.pipeline import colorize_frames

    if source == "film":
        film = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1")
        colorize, output, frame = colorize_video, (lambda folder: folder / "f_%03d.png"), "f_{:03d}.png"
    else:
        film = tmp_path / "reel"
        film.mkdir()
        for number, picture in enumerate(three_scene_frames(), 1):
            Image.fromarray(picture).save(film / f"scan_{number:03d}.png")
        colorize, output, frame = colorize_frames, (lambda folder: folder), "scan_{:03d}.png"
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": str(tiny_dependent_model)}
    colorize(film, output(tmp_path / "whole"), progress=False, **options)

    class Killed(BaseException):
        pass

    moved, move = [], pipeline.move_into_place

    def killed_after_five(temp, target, overwrite):
        if len(moved) == 5:
            raise Killed
        moved.append(target)
        move(temp, target, overwrite)

    def cleans_nothing(folder, keep=False):  # killed: nothing removed at close, nor when the writer is collected
        folder._staging_cleanup.detach()
        return 0

    def kill_during_the_move(folder, **settings):
        folder.mkdir()  # the frames move one by one into a folder that is there (a film's holds its hidden one)
        with monkeypatch.context() as patched:
            patched.setattr(pipeline, "move_into_place", killed_after_five)
            patched.setattr(pipeline._FrameFolder, "close", cleans_nothing)
            with pytest.raises(Killed):
                colorize(film, output(folder), progress=False, **settings)
        resume.writing_now.clear()  # its process is gone
        moved.clear()

    out = tmp_path / "out"
    kill_during_the_move(out, **options)
    (staging,) = [path for path in (out if source == "film" else tmp_path).iterdir() if ".rehue-tmp" in path.name]
    assert len(list(out.glob("*.png"))) == 5 and len(list(staging.glob("*.png"))) == 13

    messages = []
    again = colorize(film, output(out), progress=False, log=messages.append, **options)
    assert again.kept == 13 and again.frames == 0
    assert messages[-1].startswith(f"{output(out)}: put in place the last 13 frames an earlier run coloured")
    assert sorted(path.name for path in out.iterdir()) == [frame.format(n) for n in range(1, 19)]
    assert not staging.exists()
    for done in (tmp_path / "whole").iterdir():
        assert np.array_equal(read_rgb(done), read_rgb(out / done.name)), done.name

    other = tmp_path / "other"
    kill_during_the_move(other, **options)
    with pytest.raises(RehueError, match="holds 5 frame|output exists"):  # other settings: no run to finish
        colorize(film, output(other), progress=False, colorizer=options["colorizer"], dependent_model="none")

    # a run replacing frames there (probe 60: coloured again from the start, "which held no frame to go on from")
    replaced = tmp_path / "replaced"
    kill_during_the_move(replaced, overwrite=True, **options)
    with pytest.raises(RehueError, match="with --overwrite, was killed while it put its frames in place over"):
        colorize(film, output(replaced), progress=False, **options)
    messages.clear()
    colorize(film, output(replaced), progress=False, overwrite=True, log=messages.append, **options)
    assert "put in place the last 13 frames" in messages[-1]
    for done in (tmp_path / "whole").iterdir():
        assert np.array_equal(read_rgb(done), read_rgb(replaced / done.name)), done.name


def test_a_film_interrupted_after_a_dissolve_goes_on_from_a_scene_a_fresh_colouring_starts_as_it_did(
        tmp_path, tiny_model, tiny_dependent_model):
    """Probe 55: a run gone on from a scene start found in a dissolve started a fresh detector in the middle
    of the dissolve, which found the rest of it as another scene, and did not settle the new shot's colour:
    87 of 232 frames differed from the uninterrupted run's, exit 0. Such a start is no point to go on from;
    the run goes on from the cut before it."""
    from rehue.color.lab import rgb_to_gray

    def shot(seed, count):
        base = textured_rgb(72, 96 + 2 * count, seed=seed)
        return [rgb_to_gray(base[:, 2 * i:2 * i + 96]) for i in range(count)]

    first, second, third = shot(1, 10), shot(2, 40), shot(3, 40)
    mixed = [np.round((1 - w) * second[28 + k] + w * third[k]).astype(np.uint8)
             for k, w in enumerate((k + 1) / 13 for k in range(12))]
    frames = [np.repeat(gray[..., None], 3, 2) for gray in first + second[:28] + mixed + third[12:]]
    clip = make_clip(tmp_path / "film.mkv", frames, fps=12, codec="ffv1")
    dependent = with_drift_check(tiny_dependent_model, drift_check_every=8, drift_ratio=0.7, drift_anchor=0.25)
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": str(dependent)}
    whole = colorize_video(clip, tmp_path / "whole" / "f_%03d.png", progress=False, **options)
    assert whole.scene_starts[0] == 10 and 38 <= whole.scene_starts[1] <= 50 and len(whole.scene_starts) == 2
    out, messages = tmp_path / "out", []
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, out / "f_%03d.png", progress=stop_after(whole.scene_starts[1] + 4),
                       log=messages.append, **options)
    assert messages[-1].endswith("the same command goes on from frame f_011.png"), "the cut, not the dissolve"
    messages.clear()
    colorize_video(clip, out / "f_%03d.png", progress=False, log=messages.append, **options)
    assert messages[0].startswith(f"{out}: going on from frame f_011.png")
    for frame in (tmp_path / "whole").iterdir():
        assert np.array_equal(read_rgb(frame), read_rgb(out / frame.name)), frame.name


def decoded(path):
    with VideoReader(path) as reader:
        return [(frame.pts, frame.rgb) for frame in reader]


def assert_as_uninterrupted(out, whole, sound=True):
    """``out``, a run gone on after interruptions, is ``whole``'s file: every frame at its time, pixel for
    pixel, and its sound packet for packet. Returns ``whole``'s frames."""
    got, want = decoded(out), decoded(whole)
    assert [pts for pts, _ in got] == [pts for pts, _ in want]
    for (_, ours), (_, theirs) in zip(got, want, strict=True):
        assert np.array_equal(ours, theirs)
    if sound:
        assert audio_packets(out) == audio_packets(whole)
    return want


@pytest.mark.parametrize(("suffix", "codec"), [(".mkv", "ffv1"), (".mp4", "h264")])
def test_an_interrupted_video_goes_on_from_the_scene_it_stopped_in(tmp_path, tiny_model, tiny_dependent_model,
                                                                   monkeypatch, suffix, codec):
    """Before, a film coloured into one video file started again from its first frame after Ctrl-C or a kill:
    hours of a feature lost. It is encoded a piece of whole scenes at a time; the same command goes on after
    the last piece finished, seeking the source there (in H.264, between key frames), and the file is the
    uninterrupted run's, sound and all."""
    from rehue.video import pieces
    from rehue.video.resume import JOURNAL, PIECES, SCENES

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    clip = make_clip(tmp_path / f"film{suffix}", three_scene_frames(), fps=12, audio=True,
                     **({"codec": "ffv1"} if suffix == ".mkv" else {"gop": 5}))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    options = {"colorizer": colorizer, "dependent_model": str(tiny_dependent_model), "codec": codec}
    whole = colorize_video(clip, tmp_path / f"whole{suffix}", progress=False, log=lambda message: None, **options)
    assert whole.scene_starts == [6, 12]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"

    out = tmp_path / f"out{suffix}"
    messages = []
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, out, progress=stop_after(15), log=messages.append, **options)
    assert not out.exists()
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(f".out{suffix}.rehue-tmp")]
    assert messages[-1] == (f"{out}: interrupted; the 12 frames coloured up to the scene it stopped in are kept in "
                            f"{staging}, and the same command goes on from frame 13")
    assert sorted(p.name for p in staging.iterdir()) == sorted(  # the third, half written, dropped (probe 180)
        [JOURNAL, SCENES, PIECES, "piece-000001.packets", "piece-000002.packets"])

    messages.clear()
    again = colorize_video(clip, out, progress=False, log=messages.append, **options)
    assert messages[0] == f"{out}: going on from frame 13 (at 1.00 s), where an earlier run stopped (12 frames kept)"
    assert again.frames == 6 and again.independent_frames == 1
    assert messages[-1].startswith(f"{out}: 6 frames (18 in all with the 12 an earlier run coloured), 1 scene,")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"
    got, want = decoded(out), decoded(tmp_path / f"whole{suffix}")
    assert [pts for pts, _ in got] == [pts for pts, _ in want]
    for (_, ours), (_, theirs) in zip(got, want, strict=True):
        if codec == "ffv1":
            assert np.array_equal(ours, theirs)
        else:  # x264 does not encode the same frames into the same bits every time in a busy process
            assert np.abs(ours.astype(int) - theirs).mean() < 2
    assert audio_packets(out) == audio_packets(tmp_path / f"whole{suffix}")


def test_a_reel_into_one_video_interrupted_goes_on_from_the_scene_it_stopped_in(tmp_path, tiny_model,
                                                                               tiny_dependent_model, monkeypatch):
    """Before, `--frames` into one video file started again from the reel's first frame after an interruption."""
    from rehue.video import pieces
    from rehue.video.pipeline import colorize_frames

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    scans = write_frames(tmp_path / "scans", three_scene_frames())
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": str(tiny_dependent_model),
               "codec": "ffv1", "fps": 12}
    colorize_frames(scans, tmp_path / "whole.mkv", progress=False, log=lambda message: None, **options)

    out = tmp_path / "out.mkv"
    messages = []
    with pytest.raises(KeyboardInterrupt):
        colorize_frames(scans, out, progress=stop_after(15), log=messages.append, **options)
    assert not out.exists()
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mkv.rehue-tmp")]
    assert messages[-1] == (f"{scans}: interrupted; the 12 frames coloured up to the scene it stopped in are kept in "
                            f"{staging}, and the same command goes on from frame 13 (reel_13.png)")

    messages.clear()
    again = colorize_frames(scans, out, progress=False, log=messages.append, **options)
    assert messages[0] == f"{out}: going on from frame 13 (at 1.00 s), where an earlier run stopped (12 frames kept)"
    assert again.frames == 6 and again.independent_frames == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"
    got, want = decoded(out), decoded(tmp_path / "whole.mkv")
    assert [pts for pts, _ in got] == [pts for pts, _ in want]
    for (_, ours), (_, theirs) in zip(got, want, strict=True):
        assert np.array_equal(ours, theirs)


def test_a_video_of_two_recordings_joined_goes_on_only_from_before_the_joint(tmp_path, tiny_model, monkeypatch):
    """Frames after a joint of two recordings (their clock going back) are timed to follow on, so their times
    are not the file's: a run going on from such a time would seek to the wrong place (probe 44 found this
    with damage, where it was a frame given out of order). Pieces after a joint are not gone on from; and where
    the frame to go on from is not found again (MPEG-TS has no index to seek by), the film is coloured from the
    start (before: 6 frames of 18, exit 0)."""
    import av

    from rehue.video import pieces
    from rehue.video.resume import PIECES

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    frames = three_scene_frames()
    clip = tmp_path / "joined.ts"  # `cat a.ts b.ts`: the second recording's clock is behind the first's
    for clock, part in ((250, frames[:9]), (0, frames[9:])):
        segment = tmp_path / f"part{clock}.ts"
        with av.open(str(segment), "w", format="mpegts") as container:
            stream = container.add_stream("mpeg2video", rate=12)
            stream.width, stream.height, stream.pix_fmt = 96, 72, "yuv420p"
            stream.options = {"g": "1", "q": "2"}
            for i, rgb in enumerate(part):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                frame.pts, frame.time_base = clock + i, Fraction(1, 12)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with open(clip, "ab") as joined:
            joined.write(segment.read_bytes())
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": "none", "codec": "ffv1"}
    colorize_video(clip, tmp_path / "whole.mkv", progress=False, log=lambda message: None, **options)
    out = tmp_path / "out.mkv"
    messages = []
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, out, progress=stop_after(15), log=messages.append, **options)
    assert "the 6 frames coloured up to the scene it stopped in are kept" in messages[-1]
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mkv.rehue-tmp")]
    assert [json.loads(line)["next_time"] for line in (staging / PIECES).read_text().splitlines()] == [0.5, None]
    messages.clear()
    colorize_video(clip, out, progress=False, log=messages.append, **options)
    assert messages[0] == f"{out}: going on from frame 7 (at 0.50 s), where an earlier run stopped (6 frames kept)"
    assert messages[1] == (f"note: {out}: the frame to go on from, at 0.50 s, is not where a reader started there "
                           "finds the film (a file without an index, or recordings joined end to end); it is coloured "
                           "from the start")
    got, want = decoded(out), decoded(tmp_path / "whole.mkv")
    assert len(got) == 18 and [pts for pts, _ in got] == [pts for pts, _ in want]
    for (_, ours), (_, theirs) in zip(got, want, strict=True):
        assert np.array_equal(ours, theirs)


def test_an_interrupted_videos_pieces_are_not_used_for_other_settings_a_changed_film_or_damage(
        tmp_path, tiny_model, monkeypatch):
    from rehue.video import pieces

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    clip = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1")
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": "none"}
    out = tmp_path / "out.mp4"

    def interrupted(**changed):
        with pytest.raises(KeyboardInterrupt):
            colorize_video(clip, out, progress=stop_after(15), log=lambda message: None, **{**options, **changed})
        (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mp4.rehue-tmp")]
        return staging

    # another process's (a command run again), whose pieces stay until the run of other settings is done
    earlier = interrupted().rename(tmp_path / ".out.mp4.rehue-tmp999999999")
    messages = []
    with pytest.raises(KeyboardInterrupt):  # probe 45: a wrong setting, stopped at once, threw them away
        colorize_video(clip, out, progress=stop_after(3), log=messages.append, crf=30, **options)
    assert messages[0] == (f"note: {out}: an interrupted run's coloured pieces in {earlier.name} were made with other "
                           "settings (crf); they are not used, and are removed once this run is done")
    assert earlier.is_dir()
    messages.clear()
    colorize_video(clip, out, progress=False, log=messages.append, crf=30, **options)
    assert not any("going on" in message for message in messages)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    out.unlink()
    staging = interrupted()
    copy = tmp_path / "copy.mkv"
    shutil.copy2(clip, copy)
    os.replace(copy, clip)  # copied away and back with its times (cp -p: a new file number): the same film
    messages.clear()
    colorize_video(clip, out, progress=False, log=messages.append, **options)
    assert messages[0].startswith(f"{out}: going on from frame "), "before: removed, as from another film"
    assert len(decoded(out)) == 18

    for change in ("touched", "a byte changed"):  # probe 53: one byte changed between the sampled blocks went on
        out.unlink()
        staging = interrupted()
        if change == "touched":
            os.utime(clip)
        else:
            film = bytearray(clip.read_bytes())
            film[len(film) // 2] ^= 0x10  # its size and name the same
            clip.write_bytes(bytes(film))
        messages.clear()
        colorize_video(clip, out, progress=False, log=messages.append, **options)
        assert messages[0] == (f"note: {out}: removed an interrupted run's hidden folder ({staging.name}), which was "
                               "made from another film (or this one changed, moved or renamed since)"), change

    out.unlink()
    staging = interrupted()
    clip = clip.rename(tmp_path / "renamed.mkv")  # probe 43: said to be "from another film"
    messages.clear()
    colorize_video(clip, out, progress=False, log=messages.append, **options)
    assert messages[0] == (f"note: {out}: removed an interrupted run's hidden folder ({staging.name}), which was made "
                           "from another film (or this one changed, moved or renamed since)")

    for damage in ("cut short", "a bit flipped"):  # a crash mid-copy, a full disk; a disk's bit rot
        out.unlink()
        staging = interrupted()
        second = staging / "piece-000002.packets"
        data = bytearray(second.read_bytes())
        if damage == "cut short":
            del data[-10:]
        else:
            data[len(data) // 2] ^= 0x10
        second.write_bytes(bytes(data))
        messages.clear()
        again = colorize_video(clip, out, progress=False, log=messages.append, **options)
        assert messages[0] == f"{out}: going on from frame 7 (at 0.50 s), where an earlier run stopped (6 frames kept)"
        assert again.frames == 12
        with VideoReader(out) as reader:
            assert sum(1 for _ in reader) == 18

    out.unlink()
    staging = interrupted()
    (staging / "piece-000001.packets").write_bytes(b"")  # as a kill in the first piece leaves it: no whole piece
    messages.clear()
    assert colorize_video(clip, out, progress=False, log=messages.append, **options).frames == 18
    assert messages[0] == (f"note: {out}: removed an interrupted run's hidden folder ({staging.name}), which held no "
                           "whole piece of the film (it stopped in its first, or they were damaged)")

    out.unlink()
    with pytest.raises(KeyboardInterrupt):  # a part: its frames are counted from the part's first
        colorize_video(clip, out, start=0.25, progress=stop_after(12), log=lambda message: None, **options)
    messages.clear()
    colorize_video(clip, out, start=0.25, progress=False, log=messages.append, **options)
    # the part's frames 0-7 are a piece, which ends in the middle of its second shot (at the part's frame 8)
    assert messages[0].startswith(f"{out}: going on from frame 9 of the part (at 0.92 s)")


def test_a_video_stopped_by_a_full_disk_or_while_its_pieces_join_keeps_them(tmp_path, tiny_model, monkeypatch,
                                                                            capsys):
    """An error (a full disk) says what was kept, in its one line; an interrupt while the finished pieces are
    joined into the file leaves no half-written file, and the next run joins them without colouring again."""
    from rehue.video import pieces
    from rehue.video.io import VideoWriter
    from rehue.video.pipeline import SceneColorizer

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    clip = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1")
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    out = tmp_path / "out.mp4"
    store = pieces.PiecedVideo._store

    class FullDisk:
        def __init__(self, file):
            self.file = file

        def close(self):  # probe 42: the half-written piece's last flush failed too, and that error won
            self.file.close()
            raise OSError(28, "No space left on device")

    def disk_full_in_the_third_piece(self, packets):
        if len(self.pieces) == 2:
            self.file = FullDisk(self.file)
            raise RehueError("cannot write the video (No space left on device)", self.writer.path)
        store(self, packets)

    with monkeypatch.context() as patched:
        patched.setattr(pieces.PiecedVideo, "_store", disk_full_in_the_third_piece)
        assert main(["colorize", str(clip), "-o", str(out), *args, "-q"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"rehue: error: {out}: cannot write the video (No space left on device); the 12 frames "
                           "coloured up to the scene it stopped in are kept in ")
    assert line.endswith(", and once that is put right the same command goes on from frame 13")
    assert not out.exists()
    (kept,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mp4.rehue-tmp")]
    assert sorted(p.name for p in kept.glob("piece-*.packets")) == ["piece-000001.packets", "piece-000002.packets"], \
        "probe 180: the piece half written took the room the user then made"

    joined = []

    def interrupted_while_joining(self, *packet):
        joined.append(packet)
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(VideoWriter, "write_encoded", interrupted_while_joining)
        assert main(["colorize", str(clip), "-o", str(out), *args]) == 130
    assert joined and not out.exists()
    # probe 44: it said "coloured up to the scene it stopped in", of a film all coloured
    said = capsys.readouterr().err
    assert ("interrupted; the 18 frames of the whole film (it stopped while they were joined into the file) are "
            "kept in") in said
    assert ", and the same command joins them\nrehue: interrupted\n" in said
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.rehue-tmp")] == [], "no half-written file"
    out.write_bytes(b"another run's")  # probe 42: a run that lost the race for the name; it keeps its pieces
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mp4.rehue-tmp")]
    capsys.readouterr()
    assert main(["colorize", str(clip), "-o", str(out), *args]) == 1
    assert capsys.readouterr().err.strip() == (
        f"rehue: error: {out}: output exists; pass --overwrite to replace it, going on from the coloured pieces an "
        f"interrupted run kept for it in {staging} where its settings were these (or remove them)")
    with monkeypatch.context() as patched:  # the film is only joined, not coloured again
        patched.setattr(SceneColorizer, "push_ab", lambda *args: pytest.fail("coloured again"))
        assert main(["colorize", str(clip), "-o", str(out), *args, "--overwrite"]) == 0
    said = capsys.readouterr().err.strip().splitlines()
    assert said[0] == f"{out}: joining the 18 frames an earlier run coloured, which it stopped before it had joined"
    assert said[-2].startswith(f"{out}: joined the 18 frames an earlier run coloured, in ")
    with VideoReader(out) as reader:
        assert sum(1 for _ in reader) == 18
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def one_long_shot(count=30, height=72, width=96):
    """A shot without a cut: a slow pan over one photo, its print flickering (each frame a little lighter
    or darker, which the flicker level follows)."""
    from rehue.color.lab import rgb_to_gray

    photo = rgb_to_gray(textured_rgb(height + 20, width + 2 * count, seed=4))
    gains = 1.0 + 0.08 * np.sin(np.arange(count) * 1.7)
    return [np.repeat(np.clip(photo[10:10 + height, 2 * i:2 * i + width] * gain, 0, 255).astype(np.uint8)[..., None],
                      3, 2) for i, gain in enumerate(gains)]


@pytest.mark.parametrize("scene_mode", ["robust", "thesis"])
def test_colouring_taken_up_from_a_saved_state_colours_the_rest_of_the_shot_as_without_a_break(
        tmp_path, tiny_model, tiny_dependent_model, scene_mode):
    """The state saved before every 4th frame (the previous a*b*, the flicker level, the drift check's
    count and easing, the scene detector's) colours the frames after it, taken up by another colouring,
    as the colouring that saved it went on to: a film in pieces goes on in the middle of a long shot."""
    from rehue.video.pipeline import SceneColorizer
    from rehue.video.resume import load_state, save_state

    independent = Colorizer.load(tiny_model, device="cpu")
    path = with_drift_check(tiny_dependent_model, drift_check_every=3, drift_ratio=3.0, drift_anchor=0.25,
                            drift_release=4.0)
    dependent = Colorizer.load(path, device="cpu")
    frames = [frame[..., 0] for frame in one_long_shot(24)] + [frame[..., 0] for frame in three_scene_frames()]

    def coloured(state, grays):
        decided = [d for gray in grays for d in state.push_ab(gray)] + state.flush_ab()
        return [state.compose(d)[1] for d in decided]

    whole = SceneColorizer(independent, dependent, scene_mode, state_every=4)
    want = coloured(whole, frames)
    assert whole.eased_frames > 0 and whole.scene_starts[0] == 24
    assert sorted(whole.states) == list(range(4, len(frames) + 1, 4))
    for first, state in whole.states.items():
        save_state(tmp_path / "state.npz", state)
        going_on = SceneColorizer(independent, dependent, scene_mode, first=first, state_every=4,
                                  state=load_state(tmp_path / "state.npz"))
        got = coloured(going_on, frames[first:])
        assert len(got) == len(frames) - first
        assert all(np.array_equal(ours, theirs) for ours, theirs in zip(got, want[first:], strict=True)), first
        assert [first + start for start in going_on.scene_starts] == [s for s in whole.scene_starts if s >= first]
        assert going_on.independent_frames == sum(s >= first for s in whole.scene_starts), "the shot went on"
        # a state saved by a colouring itself taken up is counted in the film: taken up again, it goes on too
        assert sorted(first + later for later in going_on.states) == [k for k in whole.states if k > first]
        for later, again in going_on.states.items():
            twice = SceneColorizer(independent, dependent, scene_mode, first=first + later, state=again)
            assert all(np.array_equal(ours, theirs) for ours, theirs in zip(
                coloured(twice, frames[first + later:]), want[first + later:], strict=True)), (first, later)


@pytest.mark.parametrize("reel", [False, True])
def test_a_film_without_a_cut_goes_on_in_the_middle_of_its_shot(tmp_path, tiny_model, tiny_dependent_model,
                                                                monkeypatch, reel):
    """Before, a film without a cut was one piece: an interruption anywhere threw it all away. A piece now
    also ends in a shot twice PIECE_FRAMES long, before a frame whose number is a multiple of it, with the
    colouring's state there; the same command goes on from it, and every frame, frame time and sound packet
    is the uninterrupted run's. A state file damaged goes back to the piece before it."""
    from rehue.video import pieces
    from rehue.video.io import VideoWriter
    from rehue.video.pipeline import colorize_frames
    from rehue.video.resume import PIECES

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    if reel:
        source = write_frames(tmp_path / "scans", one_long_shot())
        colorize, options = colorize_frames, {"fps": 12}
    else:
        source = make_clip(tmp_path / "film.mp4", one_long_shot(), fps=12, audio=True, gop=5)
        colorize, options = colorize_video, {}
    options.update(colorizer=Colorizer.load(tiny_model, device="cpu"), dependent_model=str(tiny_dependent_model),
                   codec="ffv1")
    whole = colorize(source, tmp_path / "whole.mkv", progress=False, log=lambda message: None, **options)
    assert whole.scene_starts == [] and whole.independent_frames == 1
    out = tmp_path / "out.mkv"

    def interrupted(after):
        messages = []
        with pytest.raises(KeyboardInterrupt):
            colorize(source, out, progress=stop_after(after), log=messages.append, **options)
        (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mkv.rehue-tmp")]
        return staging, messages[-1]

    staging, said = interrupted(after=21)
    assert " the 16 frames coloured up to the piece it stopped in are kept in " in said
    lines = [json.loads(line) for line in (staging / PIECES).read_text().splitlines()]
    assert [(line["frames"], line["state"]) for line in lines] == [
        (8, "piece-000001.state.npz"), (8, "piece-000002.state.npz")]
    messages = []
    again = colorize(source, out, progress=False, log=messages.append, **options)
    assert messages[0] == f"{out}: going on from frame 17 (at 1.33 s), where an earlier run stopped (16 frames kept)"
    assert again.frames == 14 and again.independent_frames == 0, "the shot coloured on from the state saved"
    want = assert_as_uninterrupted(out, tmp_path / "whole.mkv", sound=not reel)

    out.unlink()  # stopped twice: the second run's piece ends with a state it saved itself, taken up in turn
    interrupted(after=21)
    _, said = interrupted(after=10)
    assert " the 24 frames coloured up to the piece it stopped in are kept in " in said
    messages.clear()
    assert colorize(source, out, progress=False, log=messages.append, **options).frames == 6
    assert messages[0] == f"{out}: going on from frame 25 (at 2.00 s), where an earlier run stopped (24 frames kept)"
    got = decoded(out)
    assert all(np.array_equal(ours, theirs) for (_, ours), (_, theirs) in zip(got, want, strict=True))

    def damaged(path):
        path.write_bytes(path.read_bytes()[:-1] + b"x")

    for piece, going_on in ((2, "frame 9 (at 0.67 s), where an earlier run stopped (8 frames kept)"),
                            (1, "frame 17 (at 1.33 s), where an earlier run stopped (16 frames kept)")):
        out.unlink()
        staging, _ = interrupted(after=21)
        damaged(staging / f"piece-00000{piece}.state.npz")
        messages.clear()
        colorize(source, out, progress=False, log=messages.append, **options)
        assert messages[0] == f"{out}: going on from {going_on}"
        if piece == 2:  # probe 47: dropped without a word
            assert messages[1] == (f"note: {out}: the 8 frames that run coloured after those are coloured again: "
                                   "their piece's file, or the colouring's state saved with it, changed since it "
                                   "was written")
        else:  # probe 47: an earlier piece's state, which no run goes on from, cost every piece
            assert not messages[1].startswith("note:")
        got = decoded(out)
        assert all(np.array_equal(ours, theirs) for (_, ours), (_, theirs) in zip(got, want, strict=True))

    out.unlink()  # all coloured, stopped while joining: the states do not matter
    write_encoded = VideoWriter.write_encoded
    with monkeypatch.context() as patched:
        patched.setattr(VideoWriter, "write_encoded", lambda self, *packet: (_ for _ in ()).throw(KeyboardInterrupt))
        with pytest.raises(KeyboardInterrupt):
            colorize(source, out, progress=False, log=lambda message: None, **options)
    assert VideoWriter.write_encoded is write_encoded
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mkv.rehue-tmp")]
    for state in staging.glob("*.npz"):
        damaged(state)
    messages.clear()
    assert colorize(source, out, progress=False, log=messages.append, **options).frames == 0
    assert messages[0] == f"{out}: joining the 30 frames an earlier run coloured, which it stopped before it had joined"
    got = decoded(out)
    assert all(np.array_equal(ours, theirs) for (_, ours), (_, theirs) in zip(got, want, strict=True))


@pytest.mark.parametrize("reel", [False, True])
def test_a_film_without_a_cut_into_frames_goes_on_in_the_middle_of_its_shot(tmp_path, tiny_model,
                                                                            tiny_dependent_model, monkeypatch, reel):
    """Before, a film without a cut coloured into numbered frames (or a reel into a folder) went on only from
    a scene's first frame: its first. The colouring's state is saved every PIECE_FRAMES frames (the newest
    three kept), and the same command goes on from the last one with every frame before it written: every
    frame the uninterrupted run's. A damaged state file goes back to the one before it."""
    from rehue.video import pieces
    from rehue.video.pipeline import colorize_frames
    from rehue.video.resume import STATES

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    if reel:
        source = write_frames(tmp_path / "scans", one_long_shot())
        colorize, target, names = colorize_frames, "out", "reel_{}.png"
    else:
        source = make_clip(tmp_path / "film.mp4", one_long_shot(), fps=12, gop=5)
        colorize, target, names = colorize_video, "out/f_%04d.png", "f_{:04d}.png"
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": str(tiny_dependent_model)}
    colorize(source, tmp_path / target.replace("out", "whole"), progress=False, log=lambda message: None, **options)
    folder = tmp_path / "out"

    def interrupted(after=22):
        """The hidden folder and the frames kept: those up to the newest state with every frame before it
        written (frames decided when the interrupt came are written on other threads, so 20 or more)."""
        messages = []
        with pytest.raises(KeyboardInterrupt):
            colorize(source, tmp_path / target, progress=stop_after(after), log=messages.append, **options)
        (staging,) = [p for p in (tmp_path if reel else folder).iterdir() if ".rehue-tmp" in p.name]
        kept = int(re.search(r" the (\d+) frames coloured up to where it stopped are kept in ", messages[-1])[1])
        assert kept in (20, 24, 28) and (staging / f".rehue-resume-state-{kept:09d}.npz").is_file()
        return staging, kept

    staging, kept = interrupted()
    assert len(list(staging.glob("*.npz"))) <= 3, "the newest three are kept"
    assert [int(line.split()[0]) for line in (staging / STATES).read_text().splitlines()][:5] == [4, 8, 12, 16, 20]
    before = kept  # stopped again at once: it goes on from a saved state again, not as from a scene's first frame
    staging, kept = interrupted(after=1)
    assert kept >= before
    messages = []
    again = colorize(source, tmp_path / target, progress=False, log=messages.append, **options)
    assert f"going on from frame {kept + 1 if reel else names.format(kept + 1)}" in messages[0]
    assert again.frames == 30 - kept and again.independent_frames == 0, "the shot coloured on from the state saved"
    whole = tmp_path / "whole"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in whole.iterdir()) == sorted(
        names.format(n) for n in range(1, 31))
    for frame in whole.iterdir():
        assert np.array_equal(read_rgb(frame), read_rgb(folder / frame.name)), frame.name

    shutil.rmtree(folder)
    staging, kept = interrupted()
    newest = staging / f".rehue-resume-state-{kept:09d}.npz"
    newest.write_bytes(newest.read_bytes()[:-1] + b"x")
    messages.clear()
    assert colorize(source, tmp_path / target, progress=False, log=messages.append,
                    **options).frames == 30 - (kept - 4), "from the state before it"
    assert messages[1] == (f"note: {folder}: the colouring's state saved before frame {names.format(kept + 1)} "
                           "changed since it was written, so the frames from the point before it are coloured again")
    for frame in whole.iterdir():
        assert np.array_equal(read_rgb(frame), read_rgb(folder / frame.name)), frame.name


def test_a_killed_run_with_nothing_to_go_on_from_is_said_to_be_so(tmp_path, tiny_model):
    """Probe 49: a film into numbered frames killed before a scene's first frame or a saved state (its journal
    listing neither) was removed with "coloured with other settings or from another film ..., or damaged"."""
    clip = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1")
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": "none"}
    with pytest.raises(KeyboardInterrupt):
        colorize_video(clip, tmp_path / "out" / "f_%04d.png", progress=stop_after(15), log=lambda message: None,
                       **options)
    (staging,) = [p for p in (tmp_path / "out").iterdir() if ".rehue-tmp" in p.name]
    (staging / ".rehue-resume-scenes.txt").write_text("")  # as a kill before the first scene change leaves it
    killed = staging.rename(staging.with_name(staging.name.rsplit("rehue-tmp", 1)[0] + "rehue-tmp999999999"))
    messages = []
    assert colorize_video(clip, tmp_path / "out" / "f_%04d.png", progress=False, log=messages.append,
                          **options).frames == 18
    assert messages[0] == (f"note: {tmp_path / 'out'}: removed an interrupted run's frames ({killed.name}), which held "
                           "no frame to go on from (it stopped before a scene's first frame or a saved state, or its "
                           "frames were damaged)")


@pytest.mark.parametrize("reel", [False, True])
def test_a_film_all_coloured_but_not_joined_is_joined_as_the_uninterrupted_run_writes_it(
        tmp_path, tiny_model, tiny_dependent_model, monkeypatch, reel):
    """Before, a run stopped while it joined the pieces (or by a full disk then) coloured the last piece
    again; now the next run only joins them, into the file an uninterrupted run writes: every frame, frame
    time and sound packet. A video's and a reel's (``--frames``) alike."""
    from rehue.video import pieces
    from rehue.video.io import VideoWriter
    from rehue.video.pipeline import SceneColorizer, colorize_frames

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    if reel:
        source = write_frames(tmp_path / "scans", three_scene_frames())
        colorize, options = colorize_frames, {"fps": 12}
    else:
        source = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1", audio=True)
        colorize, options = colorize_video, {"side_by_side": True}
    options.update(colorizer=Colorizer.load(tiny_model, device="cpu"), dependent_model=str(tiny_dependent_model),
                   codec="ffv1")
    colorize(source, tmp_path / "whole.mkv", progress=False, log=lambda message: None, **options)
    out = tmp_path / "out.mkv"
    write_encoded = VideoWriter.write_encoded

    def stopped_while_joining(error):
        def write(self, *packet):
            if self.frames_written == 7:
                raise error
            write_encoded(self, *packet)
        return write

    messages = []
    with monkeypatch.context() as patched:
        patched.setattr(VideoWriter, "write_encoded", stopped_while_joining(
            RehueError("cannot write the video (No space left on device)", out)))
        with pytest.raises(RehueError) as error:
            colorize(source, out, progress=False, log=messages.append, **options)
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mkv.rehue-tmp")]
    assert str(error.value) == (f"{out}: cannot write the video (No space left on device); the 18 frames of the whole "
                                "film (it stopped while they were joined into the file, which needs room for the film "
                                f"twice) are kept in {staging}, and once that is put right the same command joins them")
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".out.mkv.tmp" in p.name]

    with monkeypatch.context() as patched:  # stopped again, joining: all is still kept
        patched.setattr(VideoWriter, "write_encoded", stopped_while_joining(KeyboardInterrupt()))
        patched.setattr(SceneColorizer, "push_ab", lambda *args: pytest.fail("coloured again"))
        messages.clear()
        with pytest.raises(KeyboardInterrupt):
            colorize(source, out, progress=False, log=messages.append, **options)
    assert messages[0] == f"{out}: joining the 18 frames an earlier run coloured, which it stopped before it had joined"
    assert messages[-1] == (f"{source if reel else out}: interrupted; the 18 frames of the whole film (it stopped "
                            f"while they were joined into the file) are kept in {staging}, and the same command joins "
                            "them")
    assert not out.exists()

    with monkeypatch.context() as patched:
        patched.setattr(SceneColorizer, "push_ab", lambda *args: pytest.fail("coloured again"))
        messages.clear()
        summary = colorize(source, out, progress=False, log=messages.append, **options)
    assert summary.frames == 0 and summary.kept == 18
    assert messages[-1].startswith(f"{out}: joined the 18 frames an earlier run coloured, in ")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"
    assert_as_uninterrupted(out, tmp_path / "whole.mkv", sound=not reel)


def test_a_film_whose_name_another_run_took_while_it_joined_keeps_its_pieces_without_blaming_the_disk(
        tmp_path, tiny_model, monkeypatch):
    """Stop 48: a run that lost the race for the output's name to a run beside it, while it joined its pieces,
    said the joining "needs room for the film twice", as if the disk were full; the room is said only of a
    full disk. The pieces stay, for --overwrite to join."""
    from rehue.video import pieces
    from rehue.video.io import VideoWriter
    from rehue.video.pipeline import SceneColorizer

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    clip = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1")
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": "none", "codec": "ffv1",
               "progress": False, "log": lambda message: None}
    out = tmp_path / "out.mkv"
    write_encoded = VideoWriter.write_encoded

    def another_run_wrote_it(self, *packet):
        if self.frames_written == 7:
            out.write_bytes(b"another run's")
        write_encoded(self, *packet)

    with monkeypatch.context() as patched:
        patched.setattr(VideoWriter, "write_encoded", another_run_wrote_it)
        with pytest.raises(RehueError) as error:
            colorize_video(clip, out, **options)
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mkv.rehue-tmp")]
    assert str(error.value) == (f"{out}: output exists (another run wrote it meanwhile); pass --overwrite to replace "
                                "it; the 18 frames of the whole film (it stopped while they were joined into the "
                                f"file) are kept in {staging}, and once that is put right the same command joins them")
    assert out.read_bytes() == b"another run's"
    with monkeypatch.context() as patched:
        patched.setattr(SceneColorizer, "push_ab", lambda *args: pytest.fail("coloured again"))
        assert colorize_video(clip, out, overwrite=True, **options).kept == 18
    assert VideoReader(out).frame_count == 18


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm"])
def test_a_video_in_pieces_keeps_its_frame_times(tmp_path, tiny_model, monkeypatch, suffix):
    """The pieces join into one stream with each frame at its source time, a variable frame rate's too, in
    every container rehue writes (H.264's reordered frames decoded across the joins)."""
    from rehue.video import pieces

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 3)
    frames = three_scene_frames()
    pts = [0, 1, 2, 4, 5, 9, 10, 11, 12, 14, 15, 16, 20, 21, 22, 23, 25, 30]
    clip = make_clip(tmp_path / "film.mkv", frames, codec="ffv1", pts=pts, time_base=Fraction(1, 24))
    out = tmp_path / f"out{suffix}"
    summary = colorize_video(clip, out, colorizer=Colorizer.load(tiny_model, device="cpu"), dependent_model="none",
                             progress=False, log=lambda message: None)
    assert summary.frames == 18
    with VideoReader(clip) as source, VideoReader(out) as coloured:
        assert [round(frame.time, 3) for frame in coloured] == [round(frame.time, 3) for frame in source]


def test_a_film_stopped_by_a_damaged_frame_keeps_its_frames_and_goes_on_once_it_is_mended(tmp_path, tiny_model,
                                                                                            capsys):
    """Before, a damaged frame near the end of a reel threw away every frame coloured before it; and where
    it was among the frames looked over for bars before the run (probe 33: every other frame of a
    60-frame reel), the run stopped before colouring any."""
    frames = three_scene_frames()
    scans = write_frames(tmp_path / "scans", frames)
    args = ["--frames", "--model", str(tiny_model), "--dependent-model", "none", "--borders", "neutral",
            "--no-progress"]
    assert main(["colorize", str(scans), "-o", str(tmp_path / "whole"), *args]) == 0
    good = (scans / "reel_17.png").read_bytes()
    (scans / "reel_17.png").write_bytes(good[:200])
    capsys.readouterr()
    assert main(["colorize", str(scans), "-o", str(tmp_path / "out"), *args, "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rehue: error: {scans / 'reel_17.png'}: "), err
    assert "; the 12 frames coloured up to the scene it stopped in are kept in" in err[0], "under --quiet too"
    assert "once that is put right the same command goes on from frame 13 (reel_13.png)" in err[0]
    assert not (tmp_path / "out").exists()

    (scans / "reel_17.png").write_bytes(good)
    assert main(["colorize", str(scans), "-o", str(tmp_path / "out"), *args]) == 0
    assert "going on from frame 13 of 18 (reel_13.png), where an earlier run stopped" in capsys.readouterr().err
    for frame in (tmp_path / "whole").iterdir():
        assert np.array_equal(read_rgb(frame), read_rgb(tmp_path / "out" / frame.name)), frame.name
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"


def test_an_interrupted_film_under_quiet_still_says_what_it_kept(tmp_path, tiny_model, tiny_dependent_model,
                                                                  monkeypatch, capsys):
    """Before, `rehue -q` said only "rehue: interrupted": where the frames were kept, and that the same command
    goes on from them, went with the notes."""
    from rehue.video import pipeline

    scans = write_frames(tmp_path / "scans", three_scene_frames())
    write, calls = pipeline._FrameFolder.write, []

    def write_until_frame_15(self, payload, rgb):
        calls.append(payload[0])
        if len(calls) > 15:
            raise KeyboardInterrupt
        write(self, payload, rgb)

    monkeypatch.setattr(pipeline._FrameFolder, "write", write_until_frame_15)
    out = tmp_path / "out"
    assert main(["-q", "colorize", str(scans), "--frames", "-o", str(out), "--model", str(tiny_model),
                 "--dependent-model", str(tiny_dependent_model)]) == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[1] == "rehue: interrupted", lines
    assert lines[0].startswith(f"rehue: {scans}: interrupted; the 12 frames coloured up to the scene it stopped in "
                               f"are kept in {tmp_path}")
    assert lines[0].endswith("and the same command goes on from frame 13 (reel_13.png)")


def test_an_interrupted_films_frames_are_not_used_for_other_settings_or_changed_frames(tmp_path, tiny_model):
    from rehue.video.pipeline import colorize_frames

    scans = write_frames(tmp_path / "scans", three_scene_frames())
    options = {"colorizer": Colorizer.load(tiny_model, device="cpu"), "dependent_model": "none"}

    def interrupted(**extra):
        def report(done, total):
            if done == 14:
                raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            colorize_frames(scans, tmp_path / "out", progress=report, log=lambda _: None, **{**options, **extra})
        (staging,) = [p for p in tmp_path.iterdir() if ".rehue-tmp" in p.name]
        return staging.rename(tmp_path / ".out.rehue-tmp999999999")  # as if a run that has ended left it

    interrupted()
    messages = []
    other = Colorizer.load(tiny_model, device="cpu", chroma=0.5)
    summary = colorize_frames(scans, tmp_path / "out", progress=False, log=messages.append,
                              **{**options, "colorizer": other})
    assert summary.frames == 18 and "which were made with other settings (chroma), are not used" in messages[0]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "removed once the run is done"

    interrupted(overwrite=True)
    write_frames(scans, three_scene_frames()[:1])  # the first frame scanned again
    messages.clear()
    summary = colorize_frames(scans, tmp_path / "out", progress=False, log=messages.append, overwrite=True, **options)
    assert summary.frames == 18 and "made from another film" in messages[0]

    staging = interrupted(overwrite=True)
    summary = colorize_frames(scans, tmp_path / "out", progress=False, overwrite=True, **options)
    assert summary.frames == 6 and not staging.exists()

    # probe 27: a frame written again and given back its old modification time, as cp -p and rsync -t do;
    # uncompressed, so that its size is its old size too
    from PIL import Image

    for path in scans.iterdir():
        Image.open(path).save(path, compress_level=0)
    interrupted(overwrite=True)
    frame = scans / "reel_3.png"
    before = frame.stat()
    Image.fromarray(255 - np.asarray(Image.open(frame))).save(frame, compress_level=0)
    os.utime(frame, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert frame.stat().st_size == before.st_size and frame.stat().st_mtime_ns == before.st_mtime_ns
    messages.clear()
    summary = colorize_frames(scans, tmp_path / "out", progress=False, log=messages.append, overwrite=True, **options)
    assert summary.frames == 18 and "made from another film" in messages[0]

    # probe 27: a kept frame that a power cut left empty (now each is on the disk before it takes its name)
    staging = interrupted(overwrite=True)
    (staging / "reel_9.png").write_bytes(b"")
    messages.clear()
    summary = colorize_frames(scans, tmp_path / "out", progress=False, log=messages.append, overwrite=True, **options)
    assert "going on from frame 7 of 18" in messages[0] and summary.frames == 12
    assert (tmp_path / "out" / "reel_9.png").stat().st_size > 0


def read_rgb(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def test_frames_a_folder_holds_beside_the_film_are_named(tmp_path, tiny_model, capsys):
    """Probe 26: EXR frames (now raw DNG ones, as EXR and Cineon are read) beside one PNG made a one-frame film
    without a word; a TIFF master and a JPEG proxy of every number made a film of each frame twice; an earlier,
    longer colouring's frames stayed in the folder without a word; 16-bit frames went to 8 bits without one."""
    from PIL import Image

    scans = write_frames(tmp_path / "scans", three_scene_frames(count_each=2))
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    (scans / "reel_7.dng").write_bytes(b"II*\x00" + bytes(100))
    assert main(["colorize", str(scans), "-o", str(tmp_path / "out"), "--frames", *args]) == 0
    err = capsys.readouterr().err
    assert "1 DNG file passed over: rehue does not read them; the film is the 6 frames" in err
    assert "numbered as this film's" not in err

    (scans / "reel_7.dng").unlink()
    (scans / "reel_6.png").unlink()
    assert main(["colorize", str(scans), "-o", str(tmp_path / "out"), "--frames", "--overwrite", *args]) == 0
    assert "1 frame numbered as this film's but not of it, such as reel_6.png, is left from an earlier " \
           "colouring; this film has 5 frames" in capsys.readouterr().err
    assert (tmp_path / "out" / "reel_6.png").exists(), "the user's folder: nothing removed"
    (tmp_path / "out" / "reel_6.png").unlink()
    assert main(["colorize", str(scans), "-o", str(tmp_path / "out"), "--frames", "--ext", ".jpg", *args]) == 0
    err = capsys.readouterr().err  # probe 154: the film's PNG frames were "numbered as this film's but not of it"
    assert "5 frames of this film in another format, such as reel_1.png, are left from an earlier colouring beside " \
           "its .jpg frames" in err and "not of it" not in err, err

    Image.open(scans / "reel_2.png").save(scans / "reel_2.jpg")
    assert main(["colorize", str(scans), "-o", str(tmp_path / "film.mkv"), "--frames", *args]) == 1
    assert "reel_2.jpg and reel_2.png are one frame in two formats" in capsys.readouterr().err
    assert not (tmp_path / "film.mkv").exists()
    (scans / "reel_2.jpg").unlink()

    write_frames(scans / "reel2", three_scene_frames(count_each=1))  # probe 30: a reel's folder beside frames
    assert main(["colorize", str(scans), "-o", str(tmp_path / "with-reel"), "--frames", *args]) == 0
    assert "its folders of frames (reel2) are not part of this film, which is its own 5 frames; name each film's " \
           "folder to colour it" in capsys.readouterr().err
    from rehue.video.frame_folder import FrameFolderReader

    said = []  # probe 120: `evaluate --frames` and `frames --film-fps` were told to colour it
    with FrameFolderReader(scans, 24, said.append):
        pass
    assert any(line.endswith("name each film's folder to read it") for line in said), said
    assert main(["colorize", str(scans), "-o", str(tmp_path / "film.tif"), "--frames", *args]) == 2
    assert "names a picture, and --frames writes a folder of frames or one video file" in capsys.readouterr().err
    assert not (tmp_path / "film.tif").exists()

    deep = write_frames(tmp_path / "deep", three_scene_frames(count_each=1), deep=True)
    assert main(["colorize", str(deep), "-o", str(tmp_path / "deep.mp4"), "--frames", *args]) == 0
    assert "its 16-bit frames are coloured and written at 8 bits into .mp4" in capsys.readouterr().err
    assert main(["colorize", str(deep), "-o", str(tmp_path / "deep-jpg"), "--frames", "--ext", ".jpg", *args]) == 0
    assert "its 16-bit frames are written at 8 bits" in capsys.readouterr().err
    assert main(["colorize", str(deep), "-o", str(tmp_path / "deep.mkv"), "--frames", "--codec", "ffv1", *args]) == 0
    assert "8 bits" not in capsys.readouterr().err


@pytest.mark.parametrize(("given", "stored"), [("23.976", "24000/1001"), ("24000/1001", "24000/1001"),
                                               ("29.97", "30000/1001"), ("18", "18")])
def test_ntscs_rates_as_people_write_them_are_its_exact_rates(tmp_path, tiny_model, given, stored):
    """Probe 26: --fps 23.976 was stored as 2997/125, which drifts from 24000/1001 by 4 frames an hour."""
    import av

    scans = write_frames(tmp_path / "scans", three_scene_frames(count_each=1))
    assert main(["colorize", str(scans), "-o", str(tmp_path / "film.mkv"), "--frames", "--fps", given,
                 "--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]) == 0
    with av.open(str(tmp_path / "film.mkv")) as container:
        assert str(container.streams.video[0].average_rate) == stored


def test_colorize_video_refuses_a_still_picture(tmp_path, tiny_model):
    """Probe 24: colorize_video on a JPEG wrote a one-frame MP4 without a word."""
    from PIL import Image

    Image.fromarray(textured_rgb(48, 64)).save(tmp_path / "photo.jpg")
    with pytest.raises(RehueError, match="is a picture, not a video"):
        Colorizer.load(tiny_model, device="cpu").colorize_video(tmp_path / "photo.jpg", tmp_path / "out.mp4",
                                                                progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_a_film_into_numbered_frames_is_coloured_as_into_a_video(tmp_path, colour_clip, tiny_model,
                                                                 tiny_dependent_model, capsys):
    """A restorer grades a film's frames, not its video: before, ``-o frames/f_%04d.png`` was "unsupported
    video output extension '.png'", and the frames had to be cut out of a lossless master by hand."""
    gray = gray_copy(colour_clip, tmp_path / "gray.mp4")
    args = ["--model", str(tiny_model), "--dependent-model", str(tiny_dependent_model), "--no-progress"]
    assert main(["colorize", str(gray), "-o", str(tmp_path / "master.mkv"), "--codec", "ffv1", *args]) == 0
    frames = tmp_path / "frames"
    assert main(["colorize", str(gray), "-o", str(frames / "f_%04d.png"), *args]) == 0
    err = capsys.readouterr().err
    assert "its sound is not in the frames (pictures hold none)" in err
    assert "frames f_0001.png to f_0024.png" in err
    # probe 83: the note came before the error that the frames could not be written
    assert main(["colorize", str(gray), "-o", "/proc/nowhere/f_%04d.png", *args]) == 1
    assert capsys.readouterr().err == \
        "rehue: error: /proc/nowhere: cannot make this folder (No such file or directory)\n"
    assert sorted(p.name for p in frames.iterdir()) == [f"f_{n:04d}.png" for n in range(1, 25)], "nothing hidden left"
    with VideoReader(tmp_path / "master.mkv") as master:
        for frame in master:
            written = read_rgb(frames / f"f_{frame.index + 1:04d}.png")
            assert np.array_equal(written, frame.rgb), f"frame {frame.index + 1} as the lossless master's"

    # a part is numbered by its place in the film, so that parts coloured one by one follow each other
    before = {p.name: p.stat().st_mtime_ns for p in frames.iterdir()}
    assert main(["colorize", str(gray), "-o", str(frames / "f_%04d.png"), "--start", "0.5", *args]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"rehue: error: {frames}: holds 24 frames of this name already, such as f_0001.png; pass --overwrite to "
        "replace them, or name another folder or pattern"]
    assert {p.name: p.stat().st_mtime_ns for p in frames.iterdir()} == before
    assert main(["colorize", str(gray), "-o", str(tmp_path / "part" / "p_####.jpg"), "--start", "0.5", *args]) == 0
    assert sorted(p.name for p in (tmp_path / "part").iterdir()) == [f"p_{n:04d}.jpg" for n in range(13, 25)]
    # probe 39: a start between two frames numbered the part from the frame before it, one less all along
    assert main(["colorize", str(gray), "-o", str(tmp_path / "later" / "p_##.png"), "--start", "0.51", *args]) == 0
    assert sorted(p.name for p in (tmp_path / "later").iterdir()) == [f"p_{n:02d}.png" for n in range(14, 25)]


def test_numbered_frames_say_what_they_cannot_hold_and_refuse_what_does_not_apply(tmp_path, tiny_model, capsys):
    """Probe 38: a variable-rate film's frames lost its timing without a word; --crf, --codec and --preset were
    left unused for frames, and a photo given a pattern was written under the pattern's literal name."""
    from PIL import Image

    times = [0, 80, 120, 200, 240, 320]  # ms: 80 and 40 apart, in turn
    frames = two_scene_frames(count_each=3)
    clip = make_clip(tmp_path / "vfr.mkv", frames, fps=12, pts=times, time_base=Fraction(1, 1000))
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(clip), "-o", str(tmp_path / "v" / "v_%02d.png"), *args]) == 0
    assert (f"warning: {clip}: its frames are not evenly timed (a variable frame rate), which numbered frames do not "
            "keep") in capsys.readouterr().err
    even = make_clip(tmp_path / "even.mkv", frames, fps=12)
    assert main(["colorize", str(even), "-o", str(tmp_path / "e" / "e_%02d.png"), *args]) == 0
    assert "not evenly timed" not in capsys.readouterr().err
    assert main(["colorize", str(even), "-o", str(tmp_path / "x" / "x_%02d.png"), "--crf", "10", "--preset", "slow",
                 *args]) == 2
    assert capsys.readouterr().err.strip() == ("rehue: error: --crf, --preset: not for a video into numbered frames "
                                               "(every frame is written as a picture; --quality sets JPEG's and "
                                               "WebP's)")
    Image.fromarray(frames[0]).save(tmp_path / "photo.png")
    assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "p_%04d.png"), *args]) == 2
    assert capsys.readouterr().err.strip() == (
        f"rehue: error: {tmp_path / 'p_%04d.png'}: names numbered frames, and {tmp_path / 'photo.png'} is one "
        f"picture; name one file (such as {tmp_path / 'photo.png'})")
    Image.fromarray(frames[0]).save(tmp_path / "anim.gif", save_all=True, append_images=[Image.fromarray(frames[1])])
    assert main(["colorize", str(tmp_path / "anim.gif"), "-o", str(tmp_path / "p_%04d.png"), *args]) == 2
    assert capsys.readouterr().err.strip() == (  # probe 211: "is one picture" of a 2-frame GIF
        f"rehue: error: {tmp_path / 'p_%04d.png'}: names numbered frames, and {tmp_path / 'anim.gif'} is a picture "
        f"(an animated GIF is coloured as its first frame); name one file (such as {tmp_path / 'anim.png'})")
    assert not (tmp_path / "x").exists() and not (tmp_path / "p_%04d.png").exists()


def test_frames_are_never_written_over_the_film_and_are_put_in_place_whole(tmp_path, tiny_model, monkeypatch,
                                                                            capsys):
    """Probe 41: a film saved as f_0001.png, coloured into f_%04d.png with --overwrite, was replaced by its own
    first frame (exit 0); Ctrl-C while the frames were moved into place left part of the film and threw the
    rest away; a frame gone from the hidden folder did the same."""
    import signal

    from rehue.video import pipeline

    clash = tmp_path / "clash"
    clash.mkdir()
    film = make_clip(clash / "f_0001.mkv", two_scene_frames(count_each=3), fps=12).rename(clash / "f_0001.png")
    before = film.read_bytes()
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(film), "-o", str(clash / "f_%04d.png"), "--overwrite", *args]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"rehue: error: {film}: is the film being coloured, and its name is one its frames would be written under; "
        "name another folder or pattern")
    assert film.read_bytes() == before and sorted(clash.iterdir()) == [film]

    clip = make_clip(tmp_path / "film.mkv", two_scene_frames(count_each=3), fps=12)
    out = tmp_path / "out"
    out.mkdir()
    move = pipeline.move_into_place

    def interrupted_while_moving(temp, target, overwrite):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C as the first frame moves
        move(temp, target, overwrite)

    colorizer = Colorizer.load(tiny_model, device="cpu")
    said = []
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "move_into_place", interrupted_while_moving)
        with pytest.raises(KeyboardInterrupt):
            colorize_video(clip, out / "f_%02d.png", colorizer=colorizer, dependent_model="none", progress=False,
                           log=said.append)
    assert sorted(p.name for p in out.iterdir()) == [f"f_{n:02d}.png" for n in range(1, 7)], "the whole film"
    # probe 221: "interrupted" alone, and the next run told "output exists"
    assert said == [f"note: {out}: every frame, f_01.png to f_06.png, was put in place before the interrupt"]
    reel, placed = tmp_path / "reel", tmp_path / "placed"
    write_frames(reel, two_scene_frames(count_each=3))
    placed.mkdir()
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "move_into_place", interrupted_while_moving)
        assert main(["colorize", str(reel), "--frames", "-o", str(placed), *args]) == 130
    assert capsys.readouterr().err.splitlines()[-2:] == [
        f"note: {placed}: every coloured frame was put in place before the interrupt", "rehue: interrupted"]
    assert sorted(p.name for p in placed.iterdir()) == sorted(p.name for p in reel.iterdir())
    with monkeypatch.context() as patched:  # probe 223: --quiet said "interrupted" alone
        patched.setattr(pipeline, "move_into_place", interrupted_while_moving)
        assert main(["colorize", str(reel), "--frames", "-o", str(placed), "--overwrite", "-q", *args]) == 130
    assert capsys.readouterr().err.splitlines() == [
        f"rehue: {placed}: every coloured frame was put in place before the interrupt", "rehue: interrupted"]

    finish = pipeline._FrameFolder.finish

    def one_frame_gone(self):
        while self.writing:  # the frame on the disk first: its writing thread may not be done with it yet
            self.writing.popleft().result()
        (self.staging / self.names[2]).unlink()
        finish(self)

    monkeypatch.setattr(pipeline._FrameFolder, "finish", one_frame_gone)
    (tmp_path / "again").mkdir()
    with pytest.raises(RehueError, match="the coloured frame f_03.png is gone from .*; no frame was put in place"):
        colorize_video(clip, tmp_path / "again" / "f_%02d.png", colorizer=colorizer, dependent_model="none",
                       progress=False, log=lambda message: None)
    assert [p.name for p in (tmp_path / "again").iterdir() if not p.name.startswith(".")] == []


@pytest.mark.parametrize(("rotation", "upright_aspect"), [(0, Fraction(8, 9)), (90, Fraction(9, 8))])
def test_a_films_non_square_pixels_go_into_its_frames_and_back(tmp_path, tiny_model, capsys, rotation,
                                                                upright_aspect):
    """Probe 43: a DV film's 8:9 pixels were dropped without a word into OpenEXR and DPX frames (written as
    square) and from frames back into a video. A film stored sideways has them turned too."""
    import av

    from rehue.data import dpx, exr

    film = tmp_path / "dv.mp4"
    with av.open(str(film), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(8, 9)
        if rotation:
            stream.set_display_rotation(rotation)
        encode_frames(container, stream, three_scene_frames(height=64))
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    for suffix in (".dpx", ".exr"):
        folder = tmp_path / suffix[1:]
        assert main(["colorize", str(film), "-o", str(folder / f"f_%03d{suffix}"), *args]) == 0
        first = (folder / f"f_001{suffix}").read_bytes()
        header = dpx.Header(first) if suffix == ".dpx" else exr.Header(first)
        assert header.pixel_aspect == pytest.approx(float(upright_aspect), abs=1e-6)
        back = tmp_path / f"back{suffix}.mp4"
        assert main(["colorize", str(folder), "--frames", "-o", str(back), *args]) == 0
        with VideoReader(back) as reader:
            assert reader.sample_aspect_ratio == upright_aspect
    capsys.readouterr()
    assert main(["colorize", str(film), "-o", str(tmp_path / "png" / "f_%03d.png"), *args]) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "not square" in line]
    assert warning == [f"warning: {film}: its pixels are not square ({float(upright_aspect):.4g} times as wide as "
                       f"tall, as the frames stand), which .png frames do not record, so they show "
                       f"{'too narrow' if upright_aspect > 1 else 'too wide'}; .dpx and .exr frames carry it"]


def test_a_films_dpx_frames_carry_its_rate_and_time_code_and_come_back_as_the_film(tmp_path, tiny_model, capsys):
    """DPX frames of a film with a time code: grading software conforms them by it, and a reel made back
    into a video takes the rate and time code from their headers."""
    from rehue.data.dpx import Header
    from rehue.video.io import VideoWriter

    clip = make_clip(tmp_path / "take.mov", two_scene_frames(count_each=3), fps=24)
    timed = tmp_path / "timed.mov"
    with VideoReader(clip) as reader, VideoWriter.like(reader, timed, timecode="01:00:10:22") as writer:
        for frame in reader:
            writer.write(np.repeat(frame.gray[..., None], 3, axis=2), frame.pts)
    reel = tmp_path / "reel"
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(timed), "-o", str(reel / "take.######.dpx"), *args]) == 0
    headers = [Header((reel / f"take.{n:06d}.dpx").read_bytes()) for n in range(1, 7)]
    assert [h.time_code for h in headers] == ["01:00:10:22", "01:00:10:23", "01:00:11:00", "01:00:11:01",
                                              "01:00:11:02", "01:00:11:03"]
    assert {(h.frame_rate, h.bits, h.orientation) for h in headers} == {(24.0, 10, 0)}
    # a part from between two frames: its first frame's own time code (review: it was the frame before's)
    assert main(["colorize", str(timed), "-o", str(tmp_path / "part" / "p.##.dpx"), "--start", "0.1", *args]) == 0
    assert Header((tmp_path / "part" / "p.04.dpx").read_bytes()).time_code == "01:00:11:01"
    assert headers[0].creator.startswith("rehue ")
    capsys.readouterr()
    assert main(["colorize", str(reel), "--frames", "-o", str(tmp_path / "back.mkv"), *args]) == 0
    with VideoReader(tmp_path / "back.mkv") as back:
        assert (back.fps, back.timecode, back.frame_count) == (24, "01:00:10:22", 6)

    # OpenEXR frames carry them too, as framesPerSecond and timeCode (probe 39: they carried neither)
    import struct

    from rehue.data.exr import Header as ExrHeader
    from rehue.data.exr import _attributes

    assert main(["colorize", str(timed), "-o", str(tmp_path / "exr" / "take.####.exr"), *args]) == 0
    data = (tmp_path / "exr" / "take.0003.exr").read_bytes()
    attributes = dict(_attributes(data)[0])
    assert struct.unpack("<iI", attributes[b"framesPerSecond"][-8:]) == (24, 1)
    assert struct.unpack("<II", attributes[b"timeCode"][-8:]) == (0x01001100, 0), "01:00:11:00, BCD"
    assert ExrHeader(data).compression == 3, "ZIP"
    assert main(["colorize", str(tmp_path / "exr"), "--frames", "-o", str(tmp_path / "exr-back.mkv"), *args]) == 0
    with VideoReader(tmp_path / "exr-back.mkv") as back:
        assert (back.fps, back.timecode) == (24, "01:00:10:22"), "an OpenEXR reel's own rate and time code"


def test_a_10_bit_master_into_frames_keeps_its_levels_where_the_format_holds_them(tmp_path, tiny_model, capsys):

    from rehue.color.lab import rgb_to_lightness
    from rehue.data.images import load_image

    master, ramp = ten_bit_master(tmp_path / "master10.mkv", shifts=(0, 0))
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    expected = rgb_to_lightness(np.repeat((ramp * 64 + ramp // 16)[..., None], 3, axis=2))
    for pattern in ("f_%d.tif", "f_%d.dpx"):
        assert main(["colorize", str(master), "-o", str(tmp_path / pattern.split("_")[1][3:] / pattern), *args]) == 0
        assert "warning" not in capsys.readouterr().err
    for path in (tmp_path / "tif" / "f_2.tif", tmp_path / "dpx" / "f_2.dpx"):
        image = load_image(path)
        assert image.deep_gray is not None, f"{path}: 16-bit"
        made = rgb_to_lightness(np.repeat(image.deep_gray[..., None], 3, axis=2))
        assert np.abs(made - expected).max() < 0.1, path
        assert len(np.unique(np.round(made, 2))) > 900, f"{path}: its 1024 levels, not 256"
    assert main(["colorize", str(master), "-o", str(tmp_path / "jpg" / "f_%d.jpg"), *args]) == 0
    assert ("its 10-bit samples are written at 8 bits into .jpg frames (.png, .tif or .dpx frames keep them, "
            "at 16 bits)") in capsys.readouterr().err


def test_a_rotated_films_frames_are_written_upright(tmp_path, tiny_model):
    shown = [np.ascontiguousarray(frame[:, :64]) for frame in two_scene_frames(count_each=2, height=96, width=96)]
    clip = make_clip(tmp_path / "portrait.mp4", [as_stored(frame, 90) for frame in shown], fps=12, rotation=90)
    colorize_video(clip, tmp_path / "f_%02d.png", colorizer=Colorizer.load(tiny_model, device="cpu"),
                   dependent_model="none", progress=False)
    assert read_rgb(tmp_path / "f_01.png").shape == (96, 64, 3), "as the film is shown"


def test_a_film_named_into_one_picture_or_where_frames_cannot_go_is_a_one_line_error(tmp_path, colour_clip,
                                                                                    tiny_model, capsys):
    (tmp_path / "file").write_text("mine")
    stale = tmp_path / "out" / ".f_%03d.png.rehue-tmp999999999"  # a killed run's frames
    stale.mkdir(parents=True)
    (stale / "f_001.png").write_bytes(b"half")
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    cases = {"still.png": (2, f"rehue: error: {tmp_path / 'still.png'}: names one picture, and a video's frames are "
                              f"written a picture each: name them with a number pattern, such as "
                              f"{tmp_path / 'still_%06d.png'}, or write a video (.mp4, .mkv, ...)"),
             "f_%d_%d.png": (2, f"rehue: error: {tmp_path / 'f_%d_%d.png'}: names frames with 2 number patterns; "
                                "give one, such as film_%06d.png or film_######.png"),
             "file/f_%d.png": (1, f"rehue: error: {tmp_path / 'file'}: is not a folder, and the frames were to go "
                                  "into it"),
             # probe 40: "unsupported video output extension '.cin'; use one of .mp4, ..."
             "f.####.cin": (2, f"rehue: error: {tmp_path / 'f.####.cin'}: names numbered frames as .cin, which rehue "
                               "does not write; name them .dpx, .exr, .jpg, .png, .tif, .webp")}
    for output, (code, line) in cases.items():
        assert main(["colorize", str(colour_clip), "-o", str(tmp_path / output), *args]) == code
        assert capsys.readouterr().err.strip().splitlines() == [line]
    assert (tmp_path / "file").read_text() == "mine" and not (tmp_path / "still.png").exists()
    assert main(["colorize", str(colour_clip), "-o", str(tmp_path / "out" / "f_%03d.png"), *args]) == 0
    assert "removed 1 half-written file or folder that a killed run left" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"f_{n:03d}.png" for n in range(1, 25)]



def test_frames_numbered_past_the_patterns_digits_are_warned_of(tmp_path, tiny_model):
    """Probe 91: `-o fr/f_%03d.jpg` on a film of over 999 frames wrote f_999.jpg, then f_1000.jpg, without a
    word: a list of the files sorts them out of order."""
    gray = np.repeat(textured_rgb(24, 32)[..., :1], 3, axis=2)
    clip = make_clip(tmp_path / "film.mp4", [gray] * 104, fps=24)
    colorizer = Colorizer.load(tiny_model, device="cpu")
    for pattern, warned in (("f_%02d.png", True), ("f_##.png", True), ("f_%03d.png", False), ("f_%d.png", False)):
        messages = []
        out = tmp_path / pattern.replace("%", "p").replace("#", "h")
        colorize_video(clip, out / pattern, colorizer=colorizer, dependent_model="none", progress=False,
                       log=messages.append)
        digits = [m for m in messages if "digits" in m]
        assert len(digits) == warned, (pattern, messages)
        if warned:
            assert digits[0] == (f"warning: {out / pattern}: the frames are numbered up to about 104, past the "
                                 "pattern's 2 digits (f_99.png is followed by f_100.png), so a list of the files "
                                 "sorts them out of order; a pattern of 3 digits keeps them in order")
        assert len(list(out.iterdir())) == 104


@pytest.mark.parametrize("tint", [(1.0, 1.0, 1.0), (1.0, 0.85, 0.65)], ids=["gray", "sepia"])
def test_a_masters_lossless_and_h264_copies_are_cut_into_the_same_scenes(tmp_path, capsys, tint):
    """Probe 105: a 10-bit ProRes master into FFV1 was cut into 3 scenes, into H.264 into 1: the 8-bit copy's
    gray came from swscale's own conversion (a toned print's from its 8-bit RGB), a level off here and there."""
    from rehue.video.io import VideoWriter
    from rehue.video.pipeline import SCENE_VIEW_SIZE
    from tests.conftest import make_tiny_model

    yy, xx = np.mgrid[0:72, 0:96].astype(np.float32)
    rng = np.random.default_rng(6)
    master = tmp_path / "master.mov"
    with VideoWriter(master, 96, 72, 24, codec="prores", deep=True) as writer:
        for i in range(48):
            level = 127 + 100 * np.sin(rng.uniform(0.05, 0.1) * xx + 0.05 * yy + rng.uniform(0.1, 0.6) * i)
            writer.write((np.dstack([level * share for share in tint]) * 257).astype(np.uint16))
    lines = {}
    # a model of the shipped models' size, whose view `rehue scenes` takes (a 32-pixel model's view is another)
    model = make_tiny_model(tmp_path / "tiny128.safetensors", size=SCENE_VIEW_SIZE)
    for name, codec in [("copy.mkv", "ffv1"), ("copy.mp4", "h264")]:
        assert main(["colorize", str(master), "-o", str(tmp_path / name), "--codec", codec, "--model", str(model),
                     "--dependent-model", "none", "--no-progress"]) == 0
        lines[name] = re.search(r": (\d+ frames, \d+ scenes?),", capsys.readouterr().err).group(1)
    assert main(["scenes", str(master), "--no-progress"]) == 0
    lines["scenes"] = re.search(r": (\d+ frames, \d+ scenes?)", capsys.readouterr().err).group(1)
    assert lines["copy.mkv"] == lines["copy.mp4"] == lines["scenes"], lines


def test_a_damaged_shipped_dependent_model_is_said_to_be_so(tmp_path, monkeypatch):
    """Probe 124: with the shipped dependent model's weights cut short, a film was coloured frame by frame
    after "note: no dependent model available", exit 0, as though none were installed."""
    import shutil

    from rehue.models import io
    from rehue.video.pipeline import load_dependent

    shipped = tmp_path / "weights"
    shutil.copytree(io.SHIPPED_DIR, shipped)
    monkeypatch.setattr(io, "SHIPPED_DIR", shipped)
    dependent = shipped / f"{io.default_model_name('dependent')}.safetensors"
    dependent.write_bytes(dependent.read_bytes()[:1000])
    said = []
    independent = Colorizer.load(io.default_model_name("video"), device="cpu")
    assert load_dependent("default", independent, said.append) is None
    assert len(said) == 1 and said[0].startswith(f"warning: the shipped dependent model cannot be read ({dependent}: "
                                                 "not a readable safetensors file"), said
    assert said[0].endswith("): reinstall rehue; every frame is coloured by the independent model"), said
    dependent.unlink()  # probe 131: one of its files gone was "no dependent model available", exit 0
    said.clear()
    assert load_dependent("default", independent, said.append) is None
    assert said == [f"warning: the shipped dependent model {dependent.stem} cannot be read (its weights "
                    "(.safetensors) missing): reinstall rehue; every frame is coloured by the independent model"]


def test_a_cancelled_worker_ends_though_its_wake_up_was_lost():
    """Probe 127: SIGTERM while a film was coloured hung the process for good in 3 of 90 tries, the main thread
    joining a worker that waited for an item whose wake-up the interrupt had cut off. A worker now looks
    whether it was cancelled as it waits, and needs no item to end."""
    import threading
    import time

    from rehue.video.pipeline import WORKER_POLL_S, _Worker

    handled = []
    worker = _Worker(handled.append, "test-worker")
    worker.put(1)
    time.sleep(4 * WORKER_POLL_S)
    worker._queue.not_empty.notify = lambda n=1: None  # every wake-up lost from here on
    cancelling = threading.Thread(target=worker.cancel, daemon=True)
    cancelling.start()
    cancelling.join(timeout=5 * WORKER_POLL_S + 2)
    assert not cancelling.is_alive() and not worker._thread.is_alive() and handled == [1]


def test_numpy_numbers_and_fractions_are_taken_as_the_numbers_they_are(tmp_path, tiny_model):
    """Probe 147: `end=np.float32(1.0)`, `np.int64(1)` or `Fraction(1, 5)` ended in "Object of type float32 is not
    JSON serializable" (the run's journal), leaving an empty frames folder; `crf=np.int64(20)` was "crf must be a
    whole number"; `colorize_frames` took quality -3 (774-byte JPEGs) and ended `ext="jpg"` in pathlib's
    "Invalid suffix"."""
    from PIL import Image

    from rehue.errors import UsageError
    from rehue.video.pipeline import colorize_frames

    colorizer = Colorizer.load(tiny_model, device="cpu")
    clip = make_clip(tmp_path / "film.mp4", textured_frames(20, 32, 48), fps=10)
    for number, (start, end) in enumerate(((Fraction(1, 5), np.float32(1.0)), (np.int32(0), np.int64(1)))):
        summary = colorizer.colorize_video(clip, tmp_path / f"part{number}.mp4", start=start, end=end,
                                           crf=np.int64(20), progress=False, dependent_model="none")
        assert summary.frames == (8 if number == 0 else 10)
    summary = colorizer.colorize_video(clip, tmp_path / "frames" / "f_%04d.png", end=np.float16(0.5), progress=False,
                                       dependent_model="none")
    assert summary.frames == 5
    reel = tmp_path / "reel"
    reel.mkdir()
    for index, frame in enumerate(textured_frames(3, 32, 48)):
        Image.fromarray(frame.mean(axis=2).astype(np.uint8)).save(reel / f"r_{index:04d}.png")
    for settings, message in (({"quality": -3, "ext": ".jpg"}, "quality must be a whole number between 0 and 100"),
                              ({"quality": 95.5, "ext": ".jpg"}, "quality must be a whole number"),
                              ({"ext": "jpg"}, "ext must be one of .dpx, .exr, .jpeg, .jpg, .png, .tif, .tiff, .webp, "
                                               "not 'jpg'"),
                              ({"ext": None}, "ext must be one of")):
        with pytest.raises(UsageError, match=message):
            colorize_frames(reel, tmp_path / "out", colorizer=colorizer, progress=False, log=lambda line: None,
                            **settings)
        assert not (tmp_path / "out").exists()
    colorize_frames(reel, tmp_path / "out", colorizer=colorizer, quality=np.int64(80), ext=".jpg", progress=False,
                    log=lambda line: None, dependent_model="none")
    assert len(list((tmp_path / "out").glob("*.jpg"))) == 3


def test_a_progress_function_is_called_once_at_a_time_and_not_after_it_cancelled(tmp_path, tiny_model):
    """Probe 147: numbered frames' writer threads called the caller's progress function two at once, and 1 to 3
    times more after it had raised to cancel."""
    import threading
    import time

    colorizer = Colorizer.load(tiny_model, device="cpu")
    clip = make_clip(tmp_path / "film.mp4", textured_frames(24, 32, 48), fps=10)
    active, most, lock = [0], [0], threading.Lock()

    def progress(done, total):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1

    colorizer.colorize_video(clip, tmp_path / "a" / "f_%04d.png", progress=progress, dependent_model="none")
    assert most == [1]
    calls = []

    def cancel(done, total):
        calls.append(done)
        if len(calls) == 5:
            raise RuntimeError("cancelled by the caller")

    with pytest.raises(RuntimeError, match="cancelled by the caller"):
        colorizer.colorize_video(clip, tmp_path / "b" / "f_%04d.png", progress=cancel, dependent_model="none")
    assert len(calls) == 5


def test_a_films_summary_writes_every_count_alike():
    """Probe 178: "3,000 frames, 24 scenes, ... (24 independent, 2976 dependent, 1005 eased against drift)"."""
    from rehue.video.pipeline import VideoSummary

    line = VideoSummary(frames=3000, scenes=24, seconds=30.0, independent_frames=24, dependent_frames=2976,
                        eased_frames=1005).line()
    assert line == ("3,000 frames, 24 scenes, 30.0 s, 100.0 frames/s (24 independent, 2,976 dependent, 1,005 eased "
                    "against drift)")


def test_a_piece_listed_as_finished_is_kept_whatever_the_moment_of_the_interrupt(tmp_path, tiny_model, monkeypatch,
                                                                                 capsys):
    """Probe 181: an interrupt between a piece's line in the list and its place in the run's own list removed its
    file, and the next run coloured its frames again, saying the file "changed since it was written"."""
    from rehue.video import pieces

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    clip = make_clip(tmp_path / "film.mkv", three_scene_frames(), fps=12, codec="ffv1")
    args = ["colorize", str(clip), "-o", str(tmp_path / "out.mp4"), "--model", str(tiny_model), "--dependent-model",
            "none", "--no-progress"]
    listed = pieces.add_piece

    def interrupted_once_listed(staging, piece):
        listed(staging, piece)
        if piece.file == "piece-000002.packets":
            raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(pieces, "add_piece", interrupted_once_listed)
        assert main(args) == 130
    (kept,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.mp4.rehue-tmp")]
    assert sorted(p.name for p in kept.glob("piece-*.packets")) == ["piece-000001.packets", "piece-000002.packets"]
    capsys.readouterr()
    assert main(args) == 0
    said = capsys.readouterr().err
    assert "going on from frame 13" in said and "coloured again" not in said, said
