import numpy as np

from rehue.video.resume import (
    SCENES,
    STATES,
    add_scene_start,
    add_state,
    load_state,
    saved_states,
    scene_start_times,
    state_file,
)


def test_a_scene_line_a_power_cut_left_half_written_is_not_one(tmp_path):
    add_scene_start(tmp_path, 6)
    add_scene_start(tmp_path, 12, 0.5)
    assert scene_start_times(tmp_path) == {6: None, 12: 0.5}
    with open(tmp_path / SCENES, "a") as file:
        file.write("1")  # "18\n" cut after its first byte
    assert scene_start_times(tmp_path) == {6: None, 12: 0.5}
    assert scene_start_times(tmp_path / "none") == {}


def test_saved_states_are_listed_whole_read_back_as_saved_and_only_the_newest_three_kept(tmp_path):
    """A film in a long shot saves the colouring's state every PIECE_FRAMES frames: the newest three stay (the
    frames before an older one are all written), a line a power cut left half-written is none, and a state
    reads back as the arrays it was, without pickling."""
    for index in (500, 1000, 1500, 2000):
        add_state(tmp_path, index, {"prev_ab": np.full((2, 4, 4), index, np.float32), "level": np.float64(0.5)},
                  index / 25)
    with open(tmp_path / STATES, "a") as file:
        file.write("2500 283")  # cut short
    listed = saved_states(tmp_path)
    assert sorted(listed) == [500, 1000, 1500, 2000] and listed[2000][2] == 80.0
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == [state_file(i) for i in (1000, 1500, 2000)]
    state = load_state(tmp_path / state_file(1500))
    assert state["prev_ab"].dtype == np.float32 and (state["prev_ab"] == 1500).all() and state["level"] == 0.5
    assert saved_states(tmp_path / "none") == {}
