"""benchmarks/restraint.py (the model card's restraint table) on a tiny model and a demo-shaped folder."""

import pytest

from tests.helpers_benchmarks import held_out_demo, load_benchmark


@pytest.fixture
def restraint():
    return load_benchmark("restraint")


def test_sweep_scores_each_held_out_set_at_each_scale(tmp_path, tiny_model, restraint):
    sets = restraint.held_out_photos(held_out_demo(tmp_path / "demo"))
    assert [len(paths) for paths in sets.values()] == [1, 1, 1, 1]
    table = restraint.sweep(str(tiny_model), sets, [0.5, 1.0])
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen", "blind twenty-three"]
    for row in table.values():
        assert list(row) == ["0.5", "1", "raw"]
        assert row["1"][1] > row["0.5"][1] > 0, "twice the chroma scale gives more colour"
    smoothed = restraint.sweep(str(tiny_model), sets, [1.0], ab_smoothing=3.0)
    for name, row in smoothed.items():
        assert row["raw"] == table[name]["raw"], "the raw column is never smoothed"
        assert row["1"] != table[name]["1"], "a blur of 3 px changes the scaled column"


def test_a_missing_demo_set_is_one_clear_message(tmp_path, restraint):
    with pytest.raises(SystemExit, match="rehue data demo"):
        restraint.held_out_photos(tmp_path / "nowhere")
