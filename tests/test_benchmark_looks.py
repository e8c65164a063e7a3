"""benchmarks/looks.py (the figures behind rehue.data.frames.SAME_LOOK) on tiny clips made here."""

import numpy as np

from tests.helpers_benchmarks import load_benchmark
from tests.helpers_video import make_clip, textured_frames


def test_a_copy_correlates_with_its_source_and_each_clip_is_reported(tmp_path):
    looks = load_benchmark("looks")
    for name, seed in (("carphone_pristine", 0), ("carphone_distorted", 0), ("bikes", 1), ("bigbuckbunny", 2)):
        make_clip(tmp_path / f"{name}.mp4", list(textured_frames(10, 96, 128, seed=seed)), fps=10)
    grays = looks.read_grays(tmp_path / "bikes.mp4")
    assert len(grays) == 2, "every 5th frame"
    own = looks.looks(grays)
    assert np.allclose(looks.best_correlations(own, own), 1.0, atol=1e-5)
    made = looks.copies(grays)
    assert list(made) == ["half size", "graded (gamma 0.7, 90%)", "vignetted", "cropped to 90%", "a logo box",
                          "burned-in subtitles"] and all(len(frames) == 2 for frames in made.values())
    lines = looks.report(tmp_path)
    assert lines[0].startswith("carphone_distorted against carphone_pristine: lowest 1.000"), "the same frames"
    assert lines[1].startswith("unrelated clips: highest bikes/bigbuckbunny ") and len(lines) == 2 + len(made)
