import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays
from skimage.color import lab2rgb, rgb2lab

from rehue.color import lab as labmod


def _cube(n=17):
    axis = np.linspace(0, 255, n).round().astype(np.uint8)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 1, 3)


def test_numpy_matches_skimage_over_the_srgb_cube():
    rgb = _cube()
    ours = labmod.rgb_to_lab(rgb)
    ref = rgb2lab(rgb)
    assert np.abs(ours - ref).max() < 0.5


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, (8, 8, 3)))
def test_property_agrees_with_skimage_and_round_trips(rgb):
    lab = labmod.rgb_to_lab(rgb)
    assert np.abs(lab - rgb2lab(rgb)).max() < 0.5
    back = labmod.lab_to_rgb(lab)
    assert np.abs(back * 255 - rgb).max() < 0.6
    assert np.abs(labmod.lab_to_rgb(lab) - lab2rgb(lab.astype(np.float64))).max() < 0.005


def test_torch_matches_numpy_and_is_differentiable():
    rgb = _cube(9)
    tensor = torch.from_numpy(rgb.reshape(1, -1, 1, 3).transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
    tensor.requires_grad_(True)
    lab = labmod.rgb_to_lab_torch(tensor)
    expected = labmod.rgb_to_lab(rgb).reshape(1, -1, 1, 3).transpose(0, 3, 1, 2)
    assert torch.allclose(lab.detach(), torch.from_numpy(expected), atol=0.05)
    lab.sum().backward()
    assert torch.isfinite(tensor.grad).all()
    back = labmod.lab_to_rgb_torch(lab)
    assert torch.allclose(back, tensor, atol=1e-3)


def test_normalisation_maps_the_gamut_into_unit_range():
    lab = labmod.rgb_to_lab(_cube())
    lightness = labmod.normalize_lightness(lab[..., 0])
    ab = labmod.normalize_ab(lab[..., 1:])
    assert lightness.min() >= -1 - 1e-6 and lightness.max() <= 1 + 1e-6
    assert np.abs(ab).max() <= 1.0
    assert np.allclose(labmod.denormalize_ab(ab), lab[..., 1:])
    assert np.allclose(labmod.denormalize_lightness(lightness), lab[..., 0], atol=1e-4)


@pytest.mark.parametrize("dtype,scale", [(np.uint8, 255), (np.uint16, 65535)])
def test_integer_inputs(dtype, scale):
    rgb = (np.array([[[0.2, 0.5, 0.9]]]) * scale).astype(dtype)
    assert np.allclose(labmod.rgb_to_lab(rgb), rgb2lab(rgb.astype(np.float64) / scale), atol=0.5)


def test_gray_keeps_lightness():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    gray = labmod.rgb_to_gray(rgb)
    assert gray.dtype == np.uint8
    gray_l = labmod.rgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 0]
    assert np.abs(gray_l - labmod.rgb_to_lightness(rgb)).max() < 0.5
    assert np.abs(labmod.rgb_to_lab(rgb)[..., 1:][np.newaxis]).max() > 10
    assert np.abs(labmod.rgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 1:]).max() < 0.01


def test_gray_is_the_luminance_encoded_as_srgb_rounded_as_exactly_as_float64_does():
    """A colour's gray is its relative luminance encoded as sRGB. Taken through L* and back in float32 it
    rounded 0.8% of one photo's pixels the other way, and a first table of 2**16 luminance steps 19% of a
    dark photo's (near black, a level is 1/3300 of the luminance range)."""
    from rehue.color.lab import _RGB_TO_XYZ

    levels = np.arange(0, 256, 3, dtype=np.uint8)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    dark = np.random.default_rng(0).integers(0, 12, (20000, 1, 3)).astype(np.uint8)
    for colours in (rgb, dark):
        c = colours.astype(np.float64) / 255
        linear = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
        y = linear @ np.asarray(_RGB_TO_XYZ, np.float64)[1]
        exact = np.round(np.where(y > 0.0031308, 1.055 * y ** (1 / 2.4) - 0.055, 12.92 * y) * 255)
        assert (labmod.rgb_to_gray(colours) != exact).mean() < 2e-4


def test_a_table_is_built_once_by_threads_that_ask_for_it_at_once():
    """Probe 147: a burst of first calls on 16 threads built the 64 MiB colour table 16 times (2 GB at its peak):
    ``functools.cache`` holds no lock while the table is built."""
    import threading
    import time

    from rehue.color.lab import table_once

    built = []

    @table_once
    def table():
        built.append(threading.get_ident())
        time.sleep(0.2)
        return np.arange(4)

    results = []
    threads = [threading.Thread(target=lambda: results.append(table())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and len(results) == 8 and all(result is results[0] for result in results)
    from rehue.inference import colorizer

    for shared in (colorizer.colour_table, colorizer.gamut_chroma_limits, colorizer.deep_gray_to_lightness):
        assert shared.__qualname__ == shared.__wrapped__.__qualname__ and "table_once" in shared.__code__.co_qualname
