from rehue.video.resume import SCENES, _scene_starts, add_scene_start


def test_a_scene_line_a_power_cut_left_half_written_is_not_one(tmp_path):
    add_scene_start(tmp_path, 6)
    add_scene_start(tmp_path, 12)
    assert _scene_starts(tmp_path) == [6, 12]
    with open(tmp_path / SCENES, "a") as file:
        file.write("1")  # "18\n" cut after its first byte
    assert _scene_starts(tmp_path) == [6, 12]
    assert _scene_starts(tmp_path / "none") == []
