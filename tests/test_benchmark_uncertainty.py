"""benchmarks/uncertainty.py (per-pixel restraint from a learned uncertainty) on a tiny model."""

import numpy as np
import pytest
from PIL import Image

from tests.helpers_benchmarks import held_out_demo, load_benchmark


@pytest.fixture
def uncertainty():
    return load_benchmark("uncertainty")


def striped_red(size=48):
    """Vivid red and green stripes: the tiny model cannot know these colours, so its error is large."""
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[:, :, 0] = 200
    rgb[:, ::4, :] = (40, 160, 40)
    rgb[:, 1::4, :] = (40, 160, 40)
    return rgb


def smooth_gray(size=48):
    """A smooth gray ramp: the truth has no colour, so the error is the model's own small output."""
    ramp = np.linspace(60, 200, size, dtype=np.float32)
    return np.repeat(np.repeat(ramp[None, :, None], size, 0), 3, 2).astype(np.uint8)


def test_the_head_learns_where_the_model_is_wrong(tmp_path, tiny_model, uncertainty):
    photos = tmp_path / "train"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(striped_red()).save(photos / f"stripes{i}.png")
        Image.fromarray(smooth_gray()).save(photos / f"gray{i}.png")
    generator, size, head, features = uncertainty.train_head(str(tiny_model), photos, steps=300, batch_size=4,
                                                              log=lambda line: None)
    from rehue.color.lab import rgb_to_gray

    _, b_stripes = uncertainty.predict(generator, head, features, rgb_to_gray(striped_red(size)))
    _, b_gray = uncertainty.predict(generator, head, features, rgb_to_gray(smooth_gray(size)))
    # both start at the same b (11 a*b* units); trained, the head expects the larger error on the stripes
    assert np.median(b_stripes) > 1.5 * np.median(b_gray)


def test_sweep_scores_global_and_per_pixel_rules_on_each_set(tmp_path, tiny_model, uncertainty):
    demo = held_out_demo(tmp_path / "demo")
    generator, size, head, features = uncertainty.train_head(str(tiny_model), demo / "photos", steps=2,
                                                              batch_size=2, log=lambda line: None)
    table, median_b = uncertainty.sweep(generator, size, head, features,
                                        uncertainty.held_out_photos(demo))
    assert median_b > 0
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen", "blind twenty-three", "Scratch forty-seven",
                           "KPhotoAlbum twenty-four"]
    for row in table.values():
        assert len(row) == len(uncertainty.GLOBAL_SCALES) + len(uncertainty.PER_PIXEL_RULES)
        assert row["global x1"][1] > row["global x0.5"][1] > 0, "twice the chroma scale gives more colour"
        # per pixel, s / (1 + (b / k)^2) never exceeds s: each rule has less colour than the global scale s
        assert row["per pixel k=%.1f s=1" % (2 * median_b)][1] < row["global x1"][1]
