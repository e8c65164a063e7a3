"""Property tests on random and mutated input: the colour conversions over any float32 values (extremes,
subnormals, infinities for RGB), and ``load_image`` over bit-flipped, overwritten and truncated PNG, JPEG
and WebP files, which must give a valid LoadedImage or a RehueError naming the file, never anything else.

The CLI-level fuzz run over thousands of files is benchmarks/fuzz_colorize.py.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from rehue.color import lab as labmod
from rehue.data.images import LoadedImage, load_image
from rehue.errors import RehueError
from tests.conftest import textured_rgb

FLOAT32_MAX = float(np.finfo(np.float32).max)
# sRGB's gamut in L*a*b*: a* and b* stay within +-110 (the normalisation relies on it), L* within [0, 100].
AB_LIMIT = 110.0
L_LIMIT = 100.0
# float32 round trip RGB -> Lab -> RGB: the worst error measured over a million random colours in [0, 1]
# was 7.8e-6 (numpy) and 6.4e-6 (torch); the bound leaves room for other BLAS builds.
ROUND_TRIP_TOLERANCE = 1e-4
# The torch and numpy paths compute the same formulas in a different order (measured: 6.1e-5 in L*a*b*).
TORCH_LAB_TOLERANCE = 1e-3

any_rgb = arrays(np.float32, (6, 5, 3), elements=st.floats(width=32, allow_nan=False))
unit_rgb = arrays(np.float32, (6, 5, 3), elements=st.floats(0.0, 1.0, width=32))
any_lab = arrays(np.float32, (6, 5, 3), elements=st.floats(-FLOAT32_MAX, FLOAT32_MAX, width=32))


def as_tensor(hwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1)))[None]


@settings(max_examples=200, deadline=None)
@given(any_rgb)
def test_any_rgb_gives_lab_inside_the_srgb_gamut(rgb):
    """Out-of-range RGB (negative, above 1, infinite) is clipped, so the result is always a real colour."""
    lab = labmod.rgb_to_lab(rgb)
    assert lab.dtype == np.float32 and np.isfinite(lab).all()
    assert (lab[..., 0] >= -1e-3).all() and (lab[..., 0] <= L_LIMIT + 1e-3).all()
    assert (np.abs(lab[..., 1:]) <= AB_LIMIT).all()
    assert np.abs(labmod.rgb_to_lightness(rgb) - lab[..., 0]).max() <= 1e-3
    torch_lab = labmod.rgb_to_lab_torch(as_tensor(rgb))[0].numpy().transpose(1, 2, 0)
    assert np.abs(torch_lab - lab).max() <= TORCH_LAB_TOLERANCE


@settings(max_examples=200, deadline=None)
@given(unit_rgb)
def test_float_rgb_round_trips_through_lab(rgb):
    back = labmod.lab_to_rgb(labmod.rgb_to_lab(rgb))
    assert np.abs(back - rgb).max() <= ROUND_TRIP_TOLERANCE
    torch_back = labmod.lab_to_rgb_torch(labmod.rgb_to_lab_torch(as_tensor(rgb)))
    assert (torch_back - as_tensor(rgb)).abs().max().item() <= ROUND_TRIP_TOLERANCE


@settings(max_examples=200, deadline=None)
@given(any_lab)
def test_any_finite_lab_gives_finite_rgb_in_unit_range(lab):
    """Generators can emit anything; extreme L*a*b* (up to float32's limit) is clipped, never NaN."""
    for rgb in (labmod.lab_to_rgb(lab), labmod.lab_to_rgb_torch(as_tensor(lab))[0].numpy()):
        assert np.isfinite(rgb).all()
        assert (rgb >= 0.0).all() and (rgb <= 1.0).all()


@pytest.mark.parametrize("value", [-FLOAT32_MAX, -1e30, -1.0, 0.0, 1e-45, 1.0, 1e30, FLOAT32_MAX])
def test_lab_extremes_clip_to_black_or_white(value):
    lab = np.array([[[value, 0.0, 0.0]]], np.float32)
    expected = 0.0 if value <= 0 else 1.0 if value >= 1e30 else None
    rgb = labmod.lab_to_rgb(lab)
    assert np.isfinite(rgb).all()
    if expected is not None:
        assert np.allclose(rgb, expected, atol=1e-6)


# ---------------------------------------------------------------------------------- mutated image files

SEED_FORMATS = {".png": {"format": "PNG"}, ".jpg": {"format": "JPEG", "quality": 85},
                ".webp": {"format": "WEBP", "quality": 80}, ".gray.png": {"format": "PNG", "mode": "L"},
                ".rgba.webp": {"format": "WEBP", "mode": "RGBA", "lossless": True}}


def _encode(suffix: str) -> bytes:
    options = dict(SEED_FORMATS[suffix])
    image = Image.fromarray(textured_rgb(24, 32, seed=3))
    if "mode" in options:
        image = image.convert(options.pop("mode"))
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


SEEDS = {suffix: _encode(suffix) for suffix in SEED_FORMATS}


@st.composite
def mutated_image(draw):
    """(suffix, bytes): a valid file with bits flipped, bytes overwritten, or cut short."""
    suffix = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[suffix])
    kind = draw(st.sampled_from(["flip", "overwrite", "truncate", "header"]))
    if kind == "truncate":
        return suffix, bytes(data[: draw(st.integers(0, len(data) - 1))])
    span = min(len(data), 64) if kind == "header" else len(data)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, span - 1))
        if kind == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        else:
            data[position] = draw(st.integers(0, 255))
    return suffix, bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_image())
def test_load_image_returns_a_valid_image_or_a_rehue_error(tmp_path, case):
    suffix, data = case
    path = tmp_path / f"mutant{suffix}"
    path.write_bytes(data)
    try:
        image = load_image(path)
    except RehueError as exc:
        assert exc.path == str(path) and exc.reason
        return
    assert isinstance(image, LoadedImage)
    assert image.rgb.dtype == np.uint8 and image.rgb.ndim == 3 and image.rgb.shape[2] == 3
    assert image.rgb.shape[0] >= 1 and image.rgb.shape[1] >= 1
    if image.alpha is not None:
        assert image.alpha.dtype == np.uint8 and image.alpha.shape == image.rgb.shape[:2]


def test_the_mutations_reach_both_outcomes(tmp_path):
    """The property above would pass vacuously if every mutant failed to load; some must load."""
    flipped = bytearray(SEEDS[".jpg"])
    flipped[len(flipped) // 2] ^= 0x10  # inside the entropy-coded picture data
    (tmp_path / "flipped.jpg").write_bytes(bytes(flipped))
    assert load_image(tmp_path / "flipped.jpg").rgb.shape == (24, 32, 3)
    (tmp_path / "cut.png").write_bytes(SEEDS[".png"][:100])
    with pytest.raises(RehueError):
        load_image(tmp_path / "cut.png")
