"""benchmarks/scenes_eval.py's old-film aging (`--old-film`): each part does what its name says, alone."""

import numpy as np

from tests.helpers_benchmarks import load_benchmark


def frames(count=40, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    picture = cv2.GaussianBlur(rng.uniform(40, 210, (144, 192)).astype(np.float32), (0, 0), 3)
    return np.repeat(np.round(picture).astype(np.uint8)[None], count, axis=0)


def test_each_part_of_the_aging_changes_what_it_should_and_the_same_draws_whatever_is_picked():
    scenes_eval = load_benchmark("scenes_eval")
    still = frames()
    assert np.array_equal(scenes_eval.age_film(still, 1.0, parts=()), still)
    aged = {part: scenes_eval.age_film(still, 1.0, parts=(part,)).astype(np.float32)
            for part in scenes_eval.OLD_FILM_PARTS}
    means = {part: aged[part].mean(axis=(1, 2)) for part in aged}
    assert means["flicker"].std() > 2.0 and means["grain"].std() < 0.5, "flicker moves the exposure, grain not"
    vignette = aged["vignette"]
    assert np.array_equal(vignette[0], vignette[-1]) and vignette[0, 0, 0] < still[0, 0, 0], "fixed, darker corners"
    assert np.abs(aged["grain"] - still).std() > 1.0
    dust = np.abs(aged["dust"] - still) > 100
    assert dust.any() and not dust.all(axis=0).any(), "specks, each on a frame of its own"
    assert np.abs(np.diff(aged["weave"], axis=0)).mean() > 0.1, "the picture sways"
    same = scenes_eval.age_film(still, 1.0)
    assert np.array_equal(same, scenes_eval.age_film(still, 1.0)), "one seed, one aging"


def test_old_prints_scores_each_version_against_the_clean_prints_colour(monkeypatch, capsys):
    old_prints = load_benchmark("old_prints")
    monkeypatch.setattr(old_prints, "CLIPS", {"carphone_pristine": 8})
    assert old_prints.main([]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[2:]]
    assert [row[1] for row in rows] == [version for version, _, _ in old_prints.VERSIONS]
    assert rows[0][5] == "0.00" and all(float(row[5]) > 0 for row in rows[1:]), "the clean print is the reference"
