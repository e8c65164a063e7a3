import re

import numpy as np
import pytest

from rehue.errors import RehueError, UsageError
from rehue.video.scenes import SCENE_MODES, SceneDetector, consecutive_differences, detect_scenes, ssim

SIZE = 64
NOISE = 2.0


def texture(height, width, seed, level=128.0, contrast=45.0, blur=2.0):
    """A smooth random picture (blurred noise), different for every seed."""
    import cv2

    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.normal(size=(height, width)).astype(np.float32), (0, 0), blur)
    smooth = (smooth - smooth.mean()) / smooth.std()
    return level + contrast * smooth


def noisy(picture, rng):
    return np.clip(np.round(picture + rng.normal(0.0, NOISE, picture.shape)), 0, 255).astype(np.uint8)


def scaled(frame, gain, offset=0.0):
    return np.clip(np.round(gain * frame.astype(np.float32) + offset), 0, 255).astype(np.uint8)


def shot(picture, length, seed):
    """``length`` frames of a still picture with fresh sensor noise in each."""
    rng = np.random.default_rng(seed)
    return [noisy(picture, rng) for _ in range(length)]


SCENE_A = texture(SIZE, SIZE, seed=1, level=90.0)
SCENE_B = texture(SIZE, SIZE, seed=2, level=160.0, contrast=35.0)


def cut_sequence(height=SIZE, width=SIZE, cut_at=12):
    import cv2

    first = cv2.resize(SCENE_A, (width, height))
    second = cv2.resize(SCENE_B, (width, height))
    return shot(first, cut_at, seed=10) + shot(second, 12, seed=11)


@pytest.mark.parametrize("mode", list(SCENE_MODES))
@pytest.mark.parametrize("shape", [(SIZE, SIZE), (48, 80), (240, 320)])
def test_cut_is_found_at_its_first_frame_by_every_mode(mode, shape):
    assert detect_scenes(cut_sequence(*shape, cut_at=12), mode=mode) == [12]


def test_consecutive_differences_peak_at_the_cut_and_skip_black_frames():
    frames = cut_sequence(cut_at=12)
    frames[5] = np.zeros_like(frames[5])
    differences = consecutive_differences(frames)
    assert differences[0] is None and differences[5] is None and differences[6] is None
    within_shots = [value for index, value in enumerate(differences) if value is not None and index != 12]
    assert max(within_shots) < SceneDetector().thresholds.cut_score < differences[12]


def test_push_decides_every_frame_once_in_order_after_the_lookahead():
    detector = SceneDetector("robust")
    frames = cut_sequence()
    first_answers = [detector.push(frame) for frame in frames[: detector.lookahead + 1]]
    assert detector.lookahead == 2
    assert first_answers[: detector.lookahead] == [[]] * detector.lookahead
    decided = [pair for answer in first_answers for pair in answer]
    for frame in frames[detector.lookahead + 1 :]:
        decided += detector.push(frame)
    decided += detector.flush()
    assert [index for index, _ in decided] == list(range(len(frames)))
    assert [index for index, scene_changed in decided if scene_changed] == [12]


def test_update_answers_at_once_for_thesis_and_refuses_for_a_mode_with_lookahead():
    thesis = SceneDetector("thesis")
    answers = [thesis.update(frame) for frame in cut_sequence()]
    assert answers[0] is False
    assert [index for index, scene_changed in enumerate(answers) if scene_changed] == [12]
    with pytest.raises(ValueError, match="push"):
        SceneDetector("robust").update(cut_sequence()[0])


def fade_through_black(first, second, out_length=6, black_length=3, in_length=6, hold=10):
    frames = shot(first, hold, seed=20)
    fading_out = shot(first, out_length, seed=21)
    frames += [scaled(frame, 1 - (step + 1) / (out_length + 1)) for step, frame in enumerate(fading_out)]
    frames += [np.zeros((SIZE, SIZE), np.uint8)] * black_length
    fading_in = shot(second, in_length, seed=22)
    frames += [scaled(frame, (step + 1) / (in_length + 1)) for step, frame in enumerate(fading_in)]
    return frames + shot(second, hold, seed=23)


def test_fade_to_black_and_back_into_a_new_scene_is_one_change_at_the_fade_in():
    frames = fade_through_black(SCENE_A, SCENE_B)
    first_black, first_full_brightness = 16, 25
    changes = detect_scenes(frames)
    assert len(changes) == 1
    assert first_black < changes[0] <= first_full_brightness


def test_fade_to_black_and_back_into_the_same_scene_is_no_change():
    assert detect_scenes(fade_through_black(SCENE_A, SCENE_A)) == []


def pan(speed, length=20, seed=3):
    """A camera pan over a wide picture, ``speed`` pixels per frame to the right."""
    canvas = texture(SIZE, SIZE + speed * length, seed=seed, blur=1.5)
    rng = np.random.default_rng(seed)
    return [noisy(canvas[:, step * speed : step * speed + SIZE], rng) for step in range(length)]


@pytest.mark.parametrize("speed", [2, 8, 14])
def test_robust_finds_nothing_in_a_pan(speed):
    assert detect_scenes(pan(speed)) == []


def test_robust_finds_nothing_in_a_whip_pan_across_a_photo_and_the_cuts_between_such_pans():
    """Probe 227: a pan a quarter of the frame a frame (40 pixels of 160) across a photo with a bright part and
    a dark one was cut at its first moving frame, or later: the quarter come in new changed the whole frame's
    normalisation, and the part both frames show differed by a cut's score (0.64) at the right shift."""
    import cv2
    from skimage import data

    def whip(photo, speed, length=20, still=10):
        gray = photo if photo.ndim == 2 else cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
        canvas = cv2.resize(gray, (960, 720), interpolation=cv2.INTER_CUBIC)
        views = [canvas[int(step * speed * 0.3):int(step * speed * 0.3) + 120, step * speed:step * speed + 160]
                 for step in range(length)]
        rng = np.random.default_rng(speed)
        return [noisy(view, rng) for view in [views[0]] * still + views + [views[-1]] * still]

    for speed in (36, 40, 44):
        assert detect_scenes(whip(data.astronaut(), speed)) == [], speed
    shots = [whip(photo, speed, length=15, still=0) for photo, speed in (
        (data.astronaut(), 40), (data.coffee(), 12), (data.chelsea(), 40), (data.camera(), 36))]
    assert detect_scenes([frame for shot in shots for frame in shot]) == [15, 30, 45]


def dirty_print(picture, length, seed, speed):
    """A shot on a dirty old print at 192x144: panning ``speed`` pixels a frame, two blotches of dirt
    (dark or bright, 8-16 pixels across) in new places on every frame."""
    import cv2

    rng = np.random.default_rng(seed)
    frames = []
    for index in range(length):
        left = int(round(speed * index))
        frame = picture[:, left : left + 192].copy()
        for _ in range(2):
            centre = (int(rng.integers(192)), int(rng.integers(144)))
            cv2.circle(frame, centre, int(rng.integers(4, 9)), float(rng.choice([8.0, 245.0])), -1)
        frames.append(noisy(frame, rng))
    return frames


@pytest.mark.parametrize("speed", [0.0, 1.0, 2.0])
def test_robust_finds_the_one_cut_between_two_shots_of_a_dirty_print(speed):
    """Dirt on every frame outweighed a smooth picture in phase correlation: the wrong shift made every
    frame differ like a cut, so the real cut was no spike (missed) or a frame was a false cut."""
    first = texture(144, 272, seed=5, level=100.0, contrast=30.0, blur=4.0)
    second = texture(144, 272, seed=6, level=150.0, contrast=30.0, blur=4.0)
    frames = dirty_print(first, 30, seed=7, speed=speed) + dirty_print(second, 30, seed=8, speed=speed)
    assert detect_scenes(frames) == [30]
    assert max(value for value in consecutive_differences(frames)[1:30]) < SceneDetector().thresholds.cut_score


def test_thesis_fires_on_most_frames_of_a_fast_pan():
    """Why ``robust`` is the default: a 12%-of-the-width-per-frame pan is one shot, yet the thesis
    rule calls most of its frames a new scene."""
    frames = pan(8)
    assert len(detect_scenes(frames, mode="thesis")) > len(frames) // 2


def light_burst(frame):
    """Light flooding the left of the picture: unlike a uniform brightening, normalising the frame does
    not undo it, so only the lookahead (the shot resumes) tells it from a cut."""
    rows, cols = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]]
    glow = 200 * np.exp(-((cols - 20) ** 2 + (rows - 24) ** 2) / (2 * 14.0**2))
    return np.clip(0.7 * frame + glow, 0, 255).astype(np.uint8)


FLASHES = {
    "white frame": (1, lambda frame: np.full_like(frame, 250)),
    "over-exposed": (1, lambda frame: scaled(frame, 1.6, 110)),
    "white fog": (1, lambda frame: scaled(frame, 0.35, 0.65 * 255)),
    "two-frame spike": (2, lambda frame: scaled(frame, 1.4, 50)),
    "light burst": (1, light_burst),
    "two-frame light burst": (2, light_burst),
}


def flashed_shot(length, brighten, at=10):
    frames = shot(SCENE_A, 20, seed=30)
    for index in range(at, at + length):
        frames[index] = brighten(frames[index])
    return frames


@pytest.mark.parametrize("kind", list(FLASHES))
def test_robust_ignores_a_flash(kind):
    assert detect_scenes(flashed_shot(*FLASHES[kind])) == []


def test_light_lasting_longer_than_the_lookahead_is_a_change_there_and_back_unless_lookahead_grows():
    frames = flashed_shot(3, light_burst)
    assert detect_scenes(frames) == [10, 13]
    assert detect_scenes(frames, lookahead=3) == []


SCENE_C = texture(SIZE, SIZE, seed=3, level=120.0)


@pytest.mark.parametrize("short", [1, 2])
def test_robust_finds_the_shot_after_a_shot_of_one_or_two_frames(short):
    """Probe 83: a stray frame or two at a splice (or an insert) between two shots hid the cut into the shot
    after it: the change into the short shot and the change out of it each failed the spike test for the
    other's sake, and the dependent model carried the first shot's colours into the third for 12 frames. The
    short shot's own frames are still coloured as the first shot's (a change there is decided before the
    change after it is seen)."""
    frames = shot(SCENE_A, 20, seed=40) + shot(SCENE_B, short, seed=41) + shot(SCENE_C, 20, seed=42)
    assert detect_scenes(frames) == [20 + short]
    longer = shot(SCENE_A, 20, seed=40) + shot(SCENE_B, 3, seed=41) + shot(SCENE_C, 20, seed=42)
    assert detect_scenes(longer) == [20, 23], "as before"


WIDE_PICTURE = texture(4 * SIZE, 4 * SIZE, seed=5, blur=1.5)


def zoomed(scale: float):
    """The middle of a wide picture, magnified ``scale`` times, at ``SIZE``."""
    import cv2

    half = 2 * SIZE / scale
    middle = WIDE_PICTURE[int(2 * SIZE - half) : int(2 * SIZE + half), int(2 * SIZE - half) : int(2 * SIZE + half)]
    return cv2.resize(middle.astype(np.float32), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def test_robust_finds_nothing_in_a_fast_zoom_on_twos_or_a_jolt_of_two_frames():
    """Motion on twos (each picture held for two frames, as animation and old undercranked footage are) raises
    every other difference, on both sides of each frame: it is no shot of one or two frames. Nor is a jolt
    that leaves the camera where it was."""
    rng = np.random.default_rng(7)
    steps = [zoomed(1.15**step) for step in range(12)]
    on_twos = [steps[0]] * 6 + [steps[index // 2 * 2] for index in range(12)] + [steps[10]] * 6
    assert detect_scenes([noisy(picture, rng) for picture in on_twos]) == []
    jolted = [steps[0]] * 10 + [steps[3], steps[6]] + [steps[0]] * 10
    assert detect_scenes([noisy(picture, rng) for picture in jolted]) == []


def cross_fade(first, second, start, length):
    """The ``length`` mixed frames of a linear dissolve from ``first`` (from its frame ``start``) into ``second``."""
    weights = [(step + 1) / (length + 1) for step in range(length)]
    return [np.round((1 - weight) * first[start + step] + weight * second[step]).astype(np.uint8)
            for step, weight in enumerate(weights)]


def test_robust_finds_one_change_inside_a_dissolve():
    length, start = 12, 15
    first, second = shot(SCENE_A, start + length, seed=40), shot(SCENE_B, length + 15, seed=41)
    mixed = cross_fade(first, second, start, length)
    frames = first[:start] + mixed + second[length:]
    changes = detect_scenes(frames)
    assert len(changes) == 1
    assert start <= changes[0] <= start + length


@pytest.mark.parametrize("length", [8, 12, 16])
@pytest.mark.parametrize("speed", [1, 2])
def test_robust_finds_one_change_inside_a_dissolve_between_two_panning_shots(length, speed):
    """Each shot moves between the frames that the dissolve test compares, so the middle one is a mix of
    the ends only once they are aligned onto it. Before, none of these was found (probe 15: "scenes": 1
    for every panning cross-fade of 10-24 frames)."""
    start = 15
    first, second = pan(speed, start + length, seed=40), pan(speed, length + 15, seed=41)
    mixed = cross_fade(first, second, start, length)
    changes = detect_scenes(first[:start] + mixed + second[length:])
    assert len(changes) == 1
    assert start <= changes[0] <= start + length + 3


@pytest.mark.parametrize("speed", [0, 1, 2])
def test_robust_finds_one_change_inside_a_slow_dissolve(speed):
    """A 24-frame dissolve (a second of film) changes too little across the 6-frame window for its ends to
    differ as a dissolve's must: found over the 8-frame one (before: no change at all; probe 50: a still
    astronaut fading into coffee)."""
    length, start = 24, 15
    first = pan(speed, start + length, seed=40) if speed else shot(SCENE_A, start + length, seed=40)
    second = pan(speed, length + 15, seed=41) if speed else shot(SCENE_B, length + 15, seed=41)
    mixed = cross_fade(first, second, start, length)
    changes = detect_scenes(first[:start] + mixed + second[length:])
    assert len(changes) == 1
    assert start <= changes[0] <= start + length + 3
    assert detect_scenes(first[:start] + mixed + second[length:], slow_dissolve_window=0) == []


def test_thresholds_are_configurable_both_ways():
    frames = cut_sequence()
    assert detect_scenes(frames, mode="robust", cut_score=5.0) == []
    assert detect_scenes(frames, mode="thesis", histogram_similarity=-1.0) == []
    still = shot(SCENE_A, 10, seed=50)
    assert detect_scenes(still, mode="thesis") == []
    assert detect_scenes(still, mode="thesis", histogram_similarity=1.01, ssim=1.01) == list(range(1, 10))
    assert SceneDetector("robust", cut_score=0.7).thresholds.cut_score == 0.7


def test_unknown_mode_is_an_error_listing_the_modes():
    with pytest.raises(RehueError) as error:
        SceneDetector("fastest")
    assert all(name in error.value.reason for name in SCENE_MODES)


def test_unknown_threshold_is_an_error_listing_the_valid_ones():
    with pytest.raises(RehueError, match="histogram_similarity"):
        SceneDetector("thesis", cut_score=0.5)


@pytest.mark.parametrize(("mode", "threshold", "said"), [
    ("robust", {"working_size": 0}, "working_size must be from 16 to 1024, not 0"),  # an OpenCV traceback
    ("thesis", {"working_size": -5}, "working_size must be from 16 to 1024, not -5"),
    ("robust", {"working_size": 100_000}, "working_size must be from 16 to 1024, not 100000"),
    ("robust", {"working_size": np.uint8(8)}, "working_size must be from 16 to 1024, not 8"),  # probe 177: overflow
    ("robust", {"lookahead": -1}, "lookahead must be from 0 to 10000, not -1"),  # an AttributeError
    ("robust", {"wipe_window": 10**400}, "wipe_window must be from 0 to 10000, not 1"),  # an OverflowError
    ("robust", {"cut_score": 10**400}, "cut_score must be a finite number, not 1"),
    ("robust", {"lookahead": 1.5}, "lookahead must be a whole number, not 1.5"),
    ("thesis", {"ssim": "x"}, "ssim must be a finite number, not 'x'"),  # a TypeError
    ("robust", {"cut_score": float("nan")}, "cut_score must be a finite number, not nan"),  # a false cut
    ("robust", {"cut_score": True}, "cut_score must be a finite number, not True")])
def test_a_threshold_no_detector_can_use_is_refused(mode, threshold, said):
    """Probe 176: OpenCV's and Python's own errors deep inside the detector, or NaN taken without a word."""
    with pytest.raises(UsageError, match=f"^{re.escape(said)}"):
        detect_scenes(cut_sequence(), mode=mode, **threshold)


@pytest.mark.parametrize(("threshold", "error", "said"), [
    ({"working_size": 0}, UsageError, "working_size must be from 16 to 1024, not 0"),  # OpenCV's assertion
    ({"cut_score": float("nan")}, UsageError, "cut_score must be a finite number, not nan"),  # taken
    ({"bogus": 1}, RehueError, "unknown threshold bogus for scene mode 'robust'")])  # a TypeError
def test_the_differences_for_plots_check_their_thresholds_as_the_detector_does(threshold, error, said):
    """Probe 184: ``consecutive_differences`` made its thresholds without the detector's checks."""
    with pytest.raises(error, match=f"^{re.escape(said)}"):
        consecutive_differences(cut_sequence(), **threshold)
    assert consecutive_differences(cut_sequence(), working_size=np.int64(64))[1] is not None


@pytest.mark.parametrize("mode", SCENE_MODES)
def test_a_frame_pushed_after_the_end_is_refused_not_lost(mode):
    """Probe 184: a frame pushed after ``flush`` was taken and never decided, without a word."""
    frames = cut_sequence()
    detector = SceneDetector(mode)
    for gray in frames[:-1]:
        detector.push(gray)
    state = detector.state()
    detector.flush()
    with pytest.raises(ValueError, match="flushed"):
        detector.push(frames[-1])
    detector.restore(state, first=len(frames) - 1)
    assert [index for index, _ in detector.push(frames[-1]) + detector.flush()][-1] == 0, \
        "a restored detector goes on"


def test_a_score_below_zero_is_a_threshold_like_another():
    """Probe 179: ``cut_score=-1.0, lookahead=1`` took a frame before the film's first for a change, and ended in
    "'<' not supported between instances of 'NoneType' and 'float'"."""
    frames = cut_sequence()
    changes = detect_scenes(frames, cut_score=-1.0, lookahead=1)
    assert all(0 < index < len(frames) for index in changes) and changes == sorted(set(changes))


def test_a_threshold_of_numpy_is_taken_as_the_number_it_is():
    """Probe 177: ``lookahead=np.int64(3)`` ended in deque's TypeError, ``working_size=np.int8(100)`` overflowed and
    found no cut."""
    frames = cut_sequence()
    assert detect_scenes(frames, lookahead=np.int64(3), working_size=np.int8(100), cut_score=np.float32(0.6)) == \
        detect_scenes(frames, lookahead=3, working_size=100, cut_score=0.6) != []


@pytest.mark.parametrize(
    "frame", [np.zeros((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8), np.zeros((0, 8), np.uint8), [[0]]]
)
def test_frame_that_is_not_2d_uint8_is_refused(frame):
    with pytest.raises(ValueError, match="2-D uint8"):
        SceneDetector("thesis").push(frame)


def test_ssim_equals_scikit_image():
    from skimage.metrics import structural_similarity

    first = noisy(texture(40, 56, seed=5), np.random.default_rng(0))
    second = noisy(texture(40, 56, seed=5) * 0.8 + 20, np.random.default_rng(1))
    assert ssim(first, second) == pytest.approx(structural_similarity(first, second), abs=1e-5)
    assert ssim(first, first) == pytest.approx(1.0, abs=1e-6)


def test_the_scenes_command_and_frames_report_the_cuts_colorize_acts_on(tmp_path, capsys):
    """Before, `rehue scenes` looked at the full-resolution frame and `rehue frames` at one shrunk to 128
    px, while colouring looks at the picture inside its bars in the models' 128-pixel view: on this clip
    `scenes` and `frames` found no cut where colouring starts a scene at frames 37 and 73 (probe 18)."""
    import json

    from rehue.cli import main
    from rehue.data.datasets import read_frame_manifest
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_video
    from tests.helpers_video import make_clip

    rng = np.random.default_rng(1)
    frames, level = [], 80
    for i in range(90):
        if i in (20, 45, 70):
            level = int(rng.integers(30, 220))
        frame = np.full((240, 320, 3), 20, np.uint8)
        frame[60:180, 100:220] = level
        frame[100:140, 20:60] = (i * 7) % 255
        frame[150:170, 240:280] = (40, 200, 60)  # a film with some colour: `rehue frames` samples colour films
        frames.append(frame)
    clip = make_clip(tmp_path / "square.mp4", frames, fps=25)
    summary = colorize_video(clip, tmp_path / "colour.mp4", colorizer=Colorizer.load("default", device="cpu"),
                             dependent_model="none", progress=False, log=lambda message: None)
    assert main(["scenes", str(clip), "--json", "--no-progress"]) == 0
    reported = json.loads(capsys.readouterr().out)["scene_starts"]
    assert main(["frames", str(clip), "--out", str(tmp_path / "dataset"), "--fps", "25", "--no-progress"]) == 0
    rows = read_frame_manifest(tmp_path / "dataset")
    labelled = [i for i in range(1, len(rows)) if rows[i]["scene"] != rows[i - 1]["scene"]]
    assert summary.scene_starts == reported == labelled and summary.scene_starts


def test_a_state_of_another_mode_or_none_is_refused_and_the_detector_left_as_it_was():
    """Probe 214: ``restore({})``, or another mode's state, was a bare KeyError, part of the state taken."""
    frames = [texture(48, 64, seed=k, level=100.0, contrast=30.0, blur=2.0).astype(np.uint8) for k in range(3)]
    for mode in SCENE_MODES:
        detector = SceneDetector(mode)
        for frame in frames:
            detector.push(frame)
        before = detector.state()
        other = SceneDetector(next(name for name in SCENE_MODES if name != mode)).state()
        odd = [{**before, "count": np.float64("inf")}]  # probe 216: an OverflowError; taken, then a push failed
        if mode == "thesis":
            odd += [{**before, "previous_working": np.zeros((64, 64), np.uint8)},
                    {**before, "previous_histogram": np.zeros(10, np.float32)}]
        else:
            odd.append({**before, "consecutive": np.zeros((0, 2))})
        for wrong in ({}, other, {key: "x" for key in before}, *odd):
            with pytest.raises(ValueError, match=f"^state: not the state\\(\\) of a '{mode}' scene detector$"):
                detector.restore(wrong)
            after = detector.state()
            assert sorted(after) == sorted(before)
            for key, value in after.items():  # left as it was
                np.testing.assert_array_equal(value, before[key], err_msg=key)


@pytest.mark.parametrize("mode", list(SCENE_MODES))
def test_a_detector_taken_up_from_its_saved_state_decides_as_the_one_that_went_on(mode, tmp_path):
    """A film coloured in pieces goes on in the middle of a shot from the detector's saved state (as arrays,
    not pickled): every frame after it, flashes, dissolves and cuts, is decided as without the break."""
    first = dirty_print(texture(144, 272, seed=5, level=100.0, contrast=30.0, blur=4.0), 30, seed=7, speed=2.0)
    second = dirty_print(texture(144, 272, seed=6, level=150.0, contrast=30.0, blur=4.0), 30, seed=8, speed=2.0)
    dissolve = [np.round((1 - w) * first[-1] + w * second[0]).astype(np.uint8) for w in np.linspace(0.1, 0.9, 8)]
    frames = (first[:12] + [np.full_like(first[0], 250)] + first[13:] + dissolve + second[:20] + first[:10]
              + fade_through_black(second[-1], first[0]) + wipe(first, second, 12, 12, "left") + second[12:24])
    whole = SceneDetector(mode)
    decisions, states = [], {}
    for index, frame in enumerate(frames):
        decisions += whole.push(frame)
        path = tmp_path / f"state-{index + 1}.npz"
        np.savez(path, **whole.state())
        states[index + 1] = path
    decisions += whole.flush()
    assert [index for index, changed in decisions if changed], "the film has changes to decide"
    for first_frame in range(1, len(frames)):
        going_on, same = SceneDetector(mode), SceneDetector(mode)
        with np.load(states[first_frame], allow_pickle=False) as saved:
            saved = dict(saved)
        same.restore(saved)  # counted as it was, it gives back the state it took up, every field of it
        assert sorted(same.state()) == sorted(saved)
        for key, value in same.state().items():
            np.testing.assert_array_equal(value, saved[key], err_msg=key)
        going_on.restore(saved, first=first_frame)
        after = []
        for frame in frames[first_frame:]:
            after += going_on.push(frame)
        after += going_on.flush()
        undecided = first_frame - going_on.lookahead if mode == "robust" else first_frame
        assert [(index + first_frame, changed) for index, changed in after] == \
            [(index, changed) for index, changed in decisions if index >= undecided]


def test_robust_finds_nothing_in_a_slow_pan_over_fine_texture():
    """Probe 49: a pan of a pixel every five frames over fine texture (noise blurred by 2 pixels at 192x108,
    a bright block crossing it), seen as colorize sees it, was a dissolve every 10-90 frames (7 in 300):
    moved by part of a pixel, the texture differs at every point and a middle frame is a mix of its ends.
    A dissolve's ends must now differ without their finest detail too."""
    import cv2

    from rehue.video.pipeline import scene_view

    noise = np.random.default_rng(1).random((148, 592)).astype(np.float32) * 255
    canvas = cv2.GaussianBlur(noise, (0, 0), 2)
    canvas = (canvas - canvas.min()) / (canvas.max() - canvas.min()) * 180 + 30
    frames = []
    for i in range(300):
        frame = canvas[20:128, int(i * 0.2):int(i * 0.2) + 192].copy()
        left, top = int(20 + (i * 0.1) % 150), int(40 + 20 * np.sin(i / 50))
        frame[top:top + 16, left:left + 16] = 235
        frames.append(scene_view(np.clip(frame * (1 + 0.03 * np.sin(i * 1.7)), 0, 255).astype(np.uint8)))
    assert detect_scenes(frames) == []


def test_robust_finds_a_fade_through_black_between_two_soft_pictures():
    """Probe 52: a still magnified six times by a slow zoom, faded through black into another, differed from it
    by 0.59 at the working size, under the cut score of 0.6: no change, and the first photo's colour was carried
    into the second. Across black a lower score is a fade's end; a dip to black and back into the same moving
    shot is still none."""
    import cv2
    from skimage import data

    def shot(picture, length, scale, zoom=0.0):
        height, width = picture.shape
        frames = []
        for frame in range(length):
            size = max(320 / width, 180 / height) * 1.15 * scale * (1 + zoom) ** frame
            centred = np.float32([[size, 0, 160 - size * width / 2], [0, size, 90 - size * height / 2]])
            frames.append(cv2.warpAffine(picture, centred, (320, 180), flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REFLECT))
        return frames

    def seen(frames):
        return [cv2.resize(np.clip(frame, 0, 255).astype(np.uint8), (128, 72), interpolation=cv2.INTER_AREA)
                for frame in frames]

    camera = data.camera().astype(np.float32)
    rocket = cv2.cvtColor(data.rocket(), cv2.COLOR_RGB2GRAY).astype(np.float32)
    first, second = shot(camera, 70, 6.0, 0.01), shot(rocket, 60, 1.2)
    black = [np.zeros((180, 320), np.float32)] * 4
    fade = seen(first[:60] + [first[60 + i] * (1 - (i + 1) / 11) for i in range(10)] + black
                + [second[i] * min(1.0, (i + 1) / 11) for i in range(60)])
    changes = detect_scenes(fade)
    assert len(changes) == 1 and 70 <= changes[0] <= 88
    assert detect_scenes(fade, fade_cut_score=0.6) == []
    moving = shot(camera, 140, 1.3, 0.004)
    dip = seen(moving[:60] + [moving[60 + i] * (1 - (i + 1) / 11) for i in range(10)] + black
               + [moving[74 + i] * min(1.0, (i + 1) / 11) for i in range(60)])
    assert detect_scenes(dip) == []


@pytest.mark.parametrize("film", ["night", "dip"])
def test_robust_finds_no_fade_in_a_night_shot_or_a_dip_to_black_into_the_same_shot(film):
    """Probe 53: with the fade's lower score applied to the frames as they are, a night shot flickering in and
    out of black (3-9% of white, grain) had 4 false changes, and a dip to black into the same zooming shot
    with grain and dust one in 5 of 10 draws: normalising lifts the dim frames' grain."""
    import cv2
    from scipy import ndimage
    from skimage import data

    camera = data.camera() / 255.0
    rng = np.random.default_rng(0 if film == "night" else 4)

    def view(zoom):
        height, width = camera.shape
        step = min(width / 256, height / 144) / zoom
        rows, columns = np.meshgrid((np.arange(144) - 72) * step + height / 2,
                                    (np.arange(256) - 128) * step + width / 2, indexing="ij")
        return ndimage.map_coordinates(camera, [rows, columns], order=1, mode="reflect")

    def aged(frame, grain, flicker):
        frame = frame * (1 + flicker * rng.standard_normal()) + grain * rng.standard_normal(frame.shape)
        if rng.random() < 0.3:  # a speck of dust
            y, x = rng.integers(0, 144), rng.integers(0, 256)
            frame[max(0, y - 2):y + 2, max(0, x - 2):x + 2] = rng.choice([0, 1])
        return frame

    if film == "night":
        still = view(1.2)
        frames = [aged(still * (0.06 + 0.03 * np.sin(i / 7)), 0.015, 0.15) for i in range(200)]
    else:
        light = [1.0] * 40 + [1 - (i + 1) / 11 for i in range(10)] + [0.0] * 6 + [(i + 1) / 11 for i in range(10)]
        frames = [aged(view(1.5 * 1.01**i) * (light[i] if i < len(light) else 1.0), 0.03, 0.04) for i in range(106)]
    seen = [cv2.resize((np.clip(frame, 0, 1) * 255).astype(np.uint8), (128, 72), interpolation=cv2.INTER_AREA)
            for frame in frames]
    assert detect_scenes(seen) == []


def test_robust_finds_one_change_in_a_grainy_dissolve():
    """Probe 55: grain turned the dissolve test off and on within one dissolve, and each time it came on was a
    new scene (coffee into a zooming rocket: changes at 55 and 65, and the colour jumped at each)."""
    import cv2
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    rng = np.random.default_rng(1)
    rows, columns = np.mgrid[0:144, 0:256]
    vignette = 1 - 0.175 * (((columns - 128) / 128) ** 2 + ((rows - 72) / 72) ** 2)

    def views(picture, count, zoom):
        height, width = picture.shape
        frames = []
        for t in range(count):
            crop_width = width / 1.3 / (1 + zoom * t)
            crop_height = min(crop_width * 144 / 256, height / (1 + zoom * t))
            crop_width = crop_height * 256 / 144
            left = int((width - crop_width) * (0.5 if zoom else 0.2 + 0.0042 * t))
            top = int((height - crop_height) / 2)
            frames.append(resize(picture[top:top + int(crop_height), left:left + int(crop_width)], (144, 256),
                                 anti_aliasing=True))
        return frames

    first = views(rgb2gray(data.coffee()), 64, 0.0)
    second = views(rgb2gray(data.rocket()), 100, 0.004)
    mixed = [(1 - (i + 1) / 25) * first[40 + i] + (i + 1) / 25 * second[i] for i in range(24)]
    film = first[:40] + mixed + second[24:]
    seen = [cv2.resize(np.clip((frame * vignette + rng.normal(0, 0.03, frame.shape)) * 255, 0, 255).astype(np.uint8),
                       (128, 72), interpolation=cv2.INTER_AREA) for frame in film]
    changes = detect_scenes(seen)
    assert len(changes) == 1 and 40 <= changes[0] <= 67


def wipe(first, second, start, length, kind):
    """The ``length`` frames of a wipe from ``first`` (from its frame ``start``) to ``second``: the new shot
    pushed in from the left, from the top, along the diagonal, or an iris opening on it from the centre."""
    height, width = first[0].shape
    rows, cols = np.mgrid[0:height, 0:width]
    frames = []
    for step in range(length):
        progress = (step + 1) / (length + 1)
        radius = np.hypot(cols - width / 2, rows - height / 2) / np.hypot(width / 2, height / 2)
        new = {"left": cols < progress * width, "top": rows < progress * height,
               "diagonal": cols / width + rows / height < 2 * progress, "iris": radius < progress}[kind]
        frames.append(np.where(new, second[step], first[start + step]))
    return frames


@pytest.mark.parametrize("kind", ["left", "top", "diagonal", "iris"])
@pytest.mark.parametrize("length, speed", [(12, 0), (12, 1), (16, 1)])
def test_robust_finds_one_change_in_a_wipe(kind, length, speed):
    """A wipe changes a strip of the frame at a time, so no two frames differ as a cut's do, and it is no mix
    of its ends, as a dissolve is; each frame shows, block by block, one shot or the other (before: none of
    these was found; probe 54's newsreel: a 12-frame wipe, a 16-frame one and an 18-frame iris missed)."""
    start = 20
    first = pan(speed, start + length, seed=40) if speed else shot(SCENE_A, start + length, seed=40)
    second = pan(speed, length + 20, seed=41) if speed else shot(SCENE_B, length + 20, seed=41)
    frames = first[:start] + wipe(first, second, start, length, kind) + second[length:]
    changes = detect_scenes(frames)
    assert len(changes) == 1
    assert start <= changes[0] <= start + length + 3
    assert detect_scenes(frames, wipe_window=0) == []


@pytest.mark.parametrize("length, speed", [(12, 0), (16, 0), (16, 1)])
def test_robust_finds_one_change_in_an_iris_closing_to_black_and_opening_on_another_shot(length, speed):
    """No frame shows both shots, and the last disc before the black and the first after it are alike (probe 54:
    0.31 apart, under the fade's score); black lies between the frames that show the old shot alone and those
    that show the new one (before: not found)."""
    start, black = 20, 2
    first = pan(speed, start + length, seed=40) if speed else shot(SCENE_A, start + length, seed=40)
    second = pan(speed, length + 20, seed=41) if speed else shot(SCENE_B, length + 20, seed=41)
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    radius = np.hypot(cols - SIZE / 2, rows - SIZE / 2) / np.hypot(SIZE / 2, SIZE / 2)
    closing = (length - black) // 2
    opening = length - black - closing
    iris = [np.where(radius < 1 - (step + 1) / (closing + 1), first[start + step], 0) for step in range(closing)]
    iris += [np.zeros((SIZE, SIZE), np.uint8)] * black
    iris += [np.where(radius < (step + 1) / (opening + 1), second[closing + black + step], 0).astype(np.uint8)
             for step in range(opening)]
    frames = first[:start] + iris + second[length:]
    changes = detect_scenes(frames)
    assert len(changes) == 1
    assert start <= changes[0] <= start + length + 3
    assert detect_scenes(frames, wipe_window=0) == []


@pytest.mark.parametrize("film", ["face on black", "torch on black", "night shot", "torch in a dim room",
                                  "city lights at night"])
def test_robust_keeps_lit_parts_on_black_and_dim_night_shots_as_pictures(film):
    """Dark pictures are pictures: a lit face or a torch on black (1-5% of the frame), a dim night shot (standard
    deviation 6), a city's lights at night; cuts to and from them are found, and a torch sweeping a dim room is
    no change. Probe 58 and 59 found rules tried in stop 42 to tell black leader with dust from a picture (by the
    spread of levels without the top and bottom 5%; by the deviation left after a 3x3 median) taking these for
    black (docs/scenes.md, Limits)."""
    import cv2
    from skimage import data

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:240, 0:320]

    def picture(image, low, high):
        gray = cv2.resize(image.astype(np.float32), (320, 240), interpolation=cv2.INTER_AREA)
        return low + (gray - gray.min()) / (gray.max() - gray.min()) * (high - low)

    def frames(pictures):
        return [np.clip(np.round(p + rng.normal(0, 1.5, p.shape)), 0, 255).astype(np.uint8) for p in pictures]

    coffee = picture(cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2GRAY), 0, 255)
    camera = data.camera()
    if film == "torch in a dim room":
        room = picture(camera, 10, 30)
        beam = [room * np.where((rows - 120) ** 2 + (cols - (-60 + (12 * i) % 440)) ** 2 < 45 ** 2, 6.0, 1.0)
                for i in range(96)]
        assert detect_scenes(frames(beam)) == []
        return
    if film == "night shot":
        middle = [picture(camera, 10, 30)] * 40
    elif film == "city lights at night":
        lights = np.full((240, 320), 6.0)
        for _ in range(300):
            cv2.circle(lights, (int(rng.integers(320)), int(rng.integers(96, 240))), int(rng.integers(0, 2)),
                       float(rng.integers(150, 255)), -1)
        middle = [lights] * 40
    else:
        face = picture(camera[100:400, 150:400], 60, 230)
        middle = []
        for i in range(40):
            shot = np.full((240, 320), 8.0)
            if film == "face on black":
                shot[110:170, 200 - i : 250 - i] = cv2.resize(face, (50, 60))
            else:
                shot[(rows - 120) ** 2 + (cols - 40 - 5 * i) ** 2 < 18 ** 2] = 230.0
            middle.append(shot)
    assert detect_scenes(frames([coffee] * 30 + middle + [coffee] * 30)) == [30, 70]
