"""benchmarks/restraint.py (the model card's restraint table) on a tiny model and a demo-shaped folder."""

import pytest

from tests.helpers_benchmarks import held_out_demo, load_benchmark


@pytest.fixture
def restraint():
    return load_benchmark("restraint")


def test_sweep_scores_each_held_out_set_at_each_scale(tmp_path, tiny_model, restraint):
    sets = restraint.held_out_photos(held_out_demo(tmp_path / "demo"))
    assert [len(paths) for paths in sets.values()] == [1, 1, 1, 1, 1, 1]
    table = restraint.sweep(str(tiny_model), sets, [0.5, 1.0])
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen", "blind twenty-three", "Scratch forty-seven",
                           "KPhotoAlbum twenty-four"]
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


def test_refine_passes_the_colours_through_the_dependent_model(tmp_path, tiny_model, tiny_dependent_model,
                                                               restraint):
    import numpy as np

    from rehue.inference.colorizer import Colorizer
    from tests.conftest import textured_rgb

    colorizer = Colorizer.load(tiny_model, device="cpu")
    dependent = Colorizer.load(tiny_dependent_model, device="cpu")
    truth = textured_rgb(32, 32, seed=5)
    assert np.array_equal(restraint.refined(colorizer, dependent, truth, 0), colorizer.colorize(truth))
    once, twice = (restraint.refined(colorizer, dependent, truth, steps) for steps in (1, 2))
    assert not np.array_equal(once, colorizer.colorize(truth)) and not np.array_equal(once, twice)
    sets = restraint.held_out_photos(held_out_demo(tmp_path / "demo"))
    table = restraint.sweep(str(tiny_model), sets, [0.5], refine=1, dependent_model=str(tiny_dependent_model))
    plain = restraint.sweep(str(tiny_model), sets, [0.5])
    assert all(table[name]["0.5"] != plain[name]["0.5"] for name in table)


def test_per_photo_refinement_compares_crops_and_whole_photos(tmp_path, tiny_model, tiny_dependent_model,
                                                              restraint):
    sets = restraint.held_out_photos(held_out_demo(tmp_path / "demo"))
    table = restraint.refine_per_photo(str(tiny_model), sets, 0, 1.0, dependent_model=str(tiny_dependent_model))
    for views in table.values():
        assert list(views) == ["crops", "whole photos"] and all(d.shape == (1,) for d in views.values())
        assert all(abs(float(d[0])) < 1e-9 for d in views.values()), "no refinement, same scale: no difference"
    changed = restraint.refine_per_photo(str(tiny_model), sets, 2, 0.5, dependent_model=str(tiny_dependent_model))
    assert any(abs(float(d[0])) > 1e-3 for views in changed.values() for d in views.values())
