import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rehue.color.lab import rgb_to_lab
from rehue.errors import RehueError, UsageError
from rehue.inference.colorizer import (
    GRAY_TO_NORMALIZED_LIGHTNESS,
    Box,
    Colorizer,
    compose_full_resolution,
    letterbox,
    native_view,
    picture_box,
)
from tests.conftest import textured_rgb


def test_letterbox_keeps_aspect_and_centres():
    gray = np.full((50, 100), 200, np.uint8)
    canvas, box = letterbox(gray, 32)
    assert canvas.shape == (32, 32)
    assert (box.height, box.width) == (16, 32) and box.top == 8
    assert canvas[:8].max() == 0 and canvas[8:24].min() == 200


def test_native_view_puts_the_short_side_at_the_working_size_without_bars():
    gray = np.full((90, 160), 200, np.uint8)
    gray[:, :5] = 40
    canvas, box = native_view(gray, 128)
    assert (box.height, box.width) == (128, 228), "short side at 128, aspect kept"
    assert canvas.shape == (128, 256) and (box.top, box.left) == (0, 14), "padded to multiples of 32, centred"
    assert canvas.min() == 40, "no black bars: the padding mirrors the picture's own edges"
    left, right = box.left, box.left + box.width
    assert np.array_equal(canvas[:, :left], canvas[:, left : 2 * left][:, ::-1])
    assert np.array_equal(canvas[:, right:], canvas[:, 2 * right - 256 : right][:, ::-1])


def test_native_view_of_a_square_is_the_letterbox():
    rgb = textured_rgb(300, 300, seed=2)
    native, native_box = native_view(rgb, 64)
    boxed, letter_box = letterbox(rgb, 64)
    assert native_box == letter_box and np.array_equal(native, boxed)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (3000, 7), (33, 31)])
def test_native_view_of_odd_shapes(shape):
    gray = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    canvas, box = native_view(gray, 128)
    assert canvas.shape[0] % 32 == 0 and canvas.shape[1] % 32 == 0
    assert max(canvas.shape) <= 8 * 128, "strips are shrunk to at most 8 working sizes"
    assert box.top + box.height <= canvas.shape[0] and box.left + box.width <= canvas.shape[1]


def test_compose_keeps_full_resolution_lightness():
    rgb = textured_rgb(70, 100)
    gray = rgb[..., 1]
    ab = np.full((7, 10, 2), 20.0, np.float32)
    out = compose_full_resolution(gray, ab)
    assert out.shape == (70, 100, 3)
    l_in = rgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 0]
    assert np.abs(rgb_to_lab(out)[..., 0] - l_in).max() < 1.0


def test_out_of_gamut_colours_keep_lightness_and_hue():
    gray = np.array([[240, 128, 12]], np.uint8)
    ab = np.array([[[-100.0, 100.0], [10.0, 10.0], [100.0, -100.0]]], np.float32)
    out = compose_full_resolution(gray, ab)
    lab = rgb_to_lab(out)[0]
    lightness = rgb_to_lab(np.repeat(gray[..., None], 3, 2))[0, :, 0]
    assert np.abs(lab[:, 0] - lightness).max() < 1.0
    assert np.allclose(lab[1, 1:], [10, 10], atol=2.0), "in-gamut colour unchanged"
    assert np.hypot(*lab[0, 1:]) < 100 and lab[0, 1] < 0 < lab[0, 2], "chroma shrunk, hue kept"
    assert lab[2, 1] > 0 > lab[2, 2]


def test_colorize_any_size_keeps_lightness(tiny_model):
    colorizer = Colorizer.load(tiny_model, device="cpu")
    rgb = textured_rgb(70, 101, seed=3)
    out = colorizer.colorize(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    from rehue.color.lab import rgb_to_lightness

    assert np.abs(rgb_to_lab(out)[..., 0] - rgb_to_lightness(rgb)).max() < 1.0
    assert np.abs(rgb_to_lab(out)[..., 1:]).mean() > 0.5, "the model adds colour"


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_fit_decides_the_canvas_the_model_sees(tiny_model, backend):
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
    rgb = textured_rgb(45, 80, seed=4)
    gray = rgb[..., 1].copy()
    native = Colorizer.load(tiny_model, device="cpu", backend=backend)
    boxed = Colorizer.load(tiny_model, device="cpu", backend=backend, fit="letterbox")
    assert native.fit == "native"
    out, ab = native.colorize_gray(gray)
    assert ab.shape == (2, 32, 64) and out.shape == rgb.shape
    canvas = native_view(gray, 32)[0]
    with torch.no_grad():
        expected = native.generator.eval()(torch.from_numpy(GRAY_TO_NORMALIZED_LIGHTNESS[canvas][None, None]))
    assert np.allclose(native.predict_ab(canvas[None], restrain=False)[0], expected.numpy()[0], atol=1e-4), \
        "a canvas that is not square runs in either backend"
    boxed_out, boxed_ab = boxed.colorize_gray(gray)
    assert boxed_ab.shape == (2, 32, 32) and boxed_out.shape == rgb.shape
    assert not np.array_equal(out, boxed_out)


def test_fit_comes_from_the_model_config_and_is_checked(tmp_path, tiny_model):
    import json

    config = tiny_model.with_suffix(".json")
    card = json.loads(config.read_text())
    card["inference"] = {"fit": "letterbox"}
    config.write_text(json.dumps(card))
    assert Colorizer.load(tiny_model, device="cpu").fit == "letterbox"
    assert Colorizer.load(tiny_model, device="cpu", fit="native").fit == "native"
    with pytest.raises(RehueError, match="unknown fit 'square'"):
        Colorizer.load(tiny_model, device="cpu", fit="square")


def test_colour_input_is_converted_to_gray_first(tiny_model):
    colorizer = Colorizer.load(tiny_model, device="cpu")
    rgb = textured_rgb(40, 40, seed=5)
    from rehue.color.lab import rgb_to_gray

    gray = rgb_to_gray(rgb)
    assert np.array_equal(colorizer.colorize(rgb), colorizer.colorize(gray))
    assert np.array_equal(colorizer.colorize(Image.fromarray(rgb)), colorizer.colorize(gray))


def test_dependent_model_needs_previous_colours(tiny_dependent_model):
    colorizer = Colorizer.load(tiny_dependent_model, device="cpu")
    gray = textured_rgb(32, 32)[..., 0]
    with pytest.raises(RehueError, match="tiny-dependent: is a dependent model .* need an independent model"):
        colorizer.colorize_gray(gray)
    rgb, ab = colorizer.colorize_gray(gray, prev_ab=np.zeros((2, 32, 32), np.float32))
    assert rgb.shape == (32, 32, 3) and ab.shape == (2, 32, 32)


def test_no_model_available_is_a_clear_error(monkeypatch, tmp_path):
    import rehue.models.io as io

    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path)
    with pytest.raises(RehueError, match="no model available"):
        Colorizer.load("default", device="cpu")


def test_restraint_settings_scale_and_smooth_the_colours(tiny_model):
    gray = textured_rgb(32, 32, seed=2)[None, ..., 0]
    plain = Colorizer.load(tiny_model, device="cpu").predict_ab(gray)
    half = Colorizer.load(tiny_model, device="cpu", chroma=0.5).predict_ab(gray)
    assert np.allclose(half, plain * 0.5, atol=1e-6)
    smooth = Colorizer.load(tiny_model, device="cpu", ab_smoothing=2.0).predict_ab(gray)
    assert np.abs(np.diff(smooth, axis=-1)).mean() < np.abs(np.diff(plain, axis=-1)).mean()
    assert abs(smooth.mean() - plain.mean()) < 0.02


def test_mean_share_keeps_that_share_of_the_pictures_mean_colour_inside_its_box(tiny_model):
    from rehue.inference.colorizer import Box

    rng = np.random.default_rng(3)
    ab = rng.normal(0.2, 0.1, (2, 2, 16, 24)).astype(np.float32)
    ab[..., :, 20:] = -0.5  # mirrored padding or bars, outside the picture
    box = Box(0, 0, 16, 20)
    colorizer = Colorizer.load(tiny_model, device="cpu", mean_share=0.25)
    kept = colorizer.restrain(ab, box)
    inside, kept_inside = ab[..., :, :20], kept[..., :, :20]
    assert np.allclose(kept_inside.mean(axis=(2, 3)), 0.25 * inside.mean(axis=(2, 3)), atol=1e-5)
    assert np.allclose(kept_inside - kept_inside.mean(axis=(2, 3), keepdims=True),
                       inside - inside.mean(axis=(2, 3), keepdims=True), atol=1e-5)
    whole = colorizer.restrain(ab)
    assert np.allclose(whole.mean(axis=(2, 3)), 0.25 * ab.mean(axis=(2, 3)), atol=1e-5)
    assert np.array_equal(Colorizer.load(tiny_model, device="cpu").restrain(ab), ab)
    with pytest.raises(RehueError, match="mean_share"):
        Colorizer.load(tiny_model, device="cpu", mean_share=1.5)


def test_restraint_is_read_from_the_model_config(tmp_path, tiny_model):
    import json

    config = json.loads(tiny_model.with_suffix(".json").read_text())
    config["inference"] = {"chroma": 0.6, "ab_smoothing": 1.5, "mean_share": 0.5}
    tiny_model.with_suffix(".json").write_text(json.dumps(config))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    assert (colorizer.chroma, colorizer.ab_smoothing, colorizer.mean_share) == (0.6, 1.5, 0.5)
    for key, value in (("mean_share", 2), ("chroma", -1), ("ab_smoothing", "wide")):
        tiny_model.with_suffix(".json").write_text(json.dumps({**config, "inference": {key: value}}))
        with pytest.raises(RehueError, match=key) as raised:
            Colorizer.load(tiny_model, device="cpu")
        assert raised.value.path == str(tiny_model.with_suffix(".json")), "the error names the model's config"


def test_the_guided_filter_keeps_colour_on_its_side_of_an_edge_and_smooths_within_a_region():
    import cv2

    from rehue.inference.colorizer import guided_filter

    guide = np.full((32, 32), 0.2, np.float32)
    guide[:, 16:] = 0.8  # a sharp edge in L*
    ab = np.zeros((2, 32, 32), np.float32)
    ab[0, :, 16:] = 0.3  # colour that changes where L* does
    guided = guided_filter(guide, ab, 4, 0.01)
    blurred = cv2.GaussianBlur(ab[0], (0, 0), 1.5)
    assert np.abs(guided[0] - ab[0]).max() < 0.02, "the colour stays on its side of the edge"
    assert np.abs(blurred - ab[0])[:, 14:18].min() > 0.02, "where a blur carries it across"
    speckle = np.random.default_rng(0).normal(0, 0.1, (2, 32, 32)).astype(np.float32)
    smoothed = guided_filter(np.full((32, 32), 0.5, np.float32), speckle, 4, 0.01)
    assert smoothed.std() < 0.3 * speckle.std(), "a flat region's speckle is smoothed away"
    assert guided_filter(guide, np.full((2, 32, 32), 0.25, np.float32), 4, 0.01) == pytest.approx(0.25, abs=1e-5)


def test_a_guide_in_the_model_config_smooths_along_the_gray_the_model_saw(tmp_path, tiny_model):
    import json

    import cv2

    from rehue.inference.colorizer import guided_filter

    config = json.loads(tiny_model.with_suffix(".json").read_text())
    config["inference"] = {"chroma": 0.5, "ab_guide_radius": 3, "ab_guide_eps": 0.02}
    tiny_model.with_suffix(".json").write_text(json.dumps(config))
    gray = textured_rgb(32, 32, seed=2)[None, ..., 0]
    guided = Colorizer.load(tiny_model, device="cpu")
    assert (guided.ab_guide_radius, guided.ab_guide_eps) == (3, 0.02)
    raw = guided.predict_ab(gray, restrain=False)
    expected = 0.5 * guided_filter(gray[0] / np.float32(255), raw[0], 3, 0.02)
    assert np.allclose(guided.predict_ab(gray)[0], expected, atol=1e-6)
    with pytest.raises(ValueError, match="gray canvas"):
        guided.restrain(raw)
    gaussian = Colorizer.load(tiny_model, device="cpu", ab_smoothing=1.5)
    assert gaussian.ab_guide_radius == 0, "asking for a Gaussian turns the config's guide off"
    blurred = np.stack([cv2.GaussianBlur(plane, (0, 0), 1.5) for plane in raw[0]])
    assert np.allclose(gaussian.predict_ab(gray)[0], 0.5 * blurred, atol=1e-6)
    assert Colorizer.load(tiny_model, device="cpu", ab_guide=(2, 0.01)).ab_guide_radius == 2
    for value in (2.5, -1, 40, "4", True):
        tiny_model.with_suffix(".json").write_text(json.dumps({**config, "inference": {"ab_guide_radius": value}}))
        with pytest.raises(RehueError, match="ab_guide_radius must be a whole number from 0 to 32") as raised:
            Colorizer.load(tiny_model, device="cpu")
        assert raised.value.path == str(tiny_model.with_suffix(".json"))
    tiny_model.with_suffix(".json").write_text(json.dumps({**config, "inference": {"ab_guide_eps": 0}}))
    with pytest.raises(RehueError, match="ab_guide_eps must be a number"):
        Colorizer.load(tiny_model, device="cpu")


def test_default_dependent_is_not_mistaken_for_the_independent_model(monkeypatch, tmp_path):
    import rehue.models.io as io
    from tests.conftest import make_tiny_model

    make_tiny_model(tmp_path / "rehue-tiny-independent.safetensors")
    monkeypatch.setattr(io, "SHIPPED_DIR", tmp_path)
    assert Colorizer.load("default", device="cpu").card.in_channels == 1
    with pytest.raises(RehueError, match="no model available"):
        Colorizer.load("default", device="cpu", role="dependent")


def test_table_compose_matches_the_exact_join():
    """The colour table rounds a*b* to whole units: the result stays within a fraction of a unit of
    the exact gamut-fitted join on average, and L* is the input's either way."""
    import cv2

    from rehue.inference.colorizer import _gamut_fitted_rgb

    rng = np.random.default_rng(0)
    gray = textured_rgb(90, 160, seed=7)[..., 1]
    ab = rng.uniform(-60, 60, (9, 16, 2)).astype(np.float32)
    out = compose_full_resolution(gray, ab)
    ab_full = cv2.resize(ab, (160, 90), interpolation=cv2.INTER_LINEAR)
    exact = _gamut_fitted_rgb(gray, np.ascontiguousarray(ab_full[..., 0]), np.ascontiguousarray(ab_full[..., 1]))
    delta_e = np.linalg.norm(rgb_to_lab(out) - rgb_to_lab(exact), axis=-1)
    assert delta_e.mean() < 0.8 and np.percentile(delta_e, 99) < 3.0
    lightness = rgb_to_lab(np.repeat(gray[..., None], 3, 2))[..., 0]
    assert np.abs(rgb_to_lab(out)[..., 0] - lightness).max() < 1.0


def framed(picture: np.ndarray, top: int, bottom: int, left: int, right: int, level: int) -> np.ndarray:
    """``picture`` (gray) inside a plain border of ``level`` with these widths."""
    height, width = picture.shape
    out = np.full((height + top + bottom, width + left + right), level, np.uint8)
    out[top : top + height, left : left + width] = picture
    return out


def test_picture_box_finds_the_picture_inside_plain_white_or_black_borders():
    picture = textured_rgb(60, 90, seed=6)[..., 1]
    assert picture_box(picture) == Box(0, 0, 60, 90), "no border"
    assert picture_box(framed(picture, 5, 9, 4, 7, 247)) == Box(5, 4, 60, 90), "a print's white border"
    noisy = framed(picture, 6, 6, 6, 6, 240).astype(np.int16)
    noisy[:6] += np.random.default_rng(0).integers(-4, 5, noisy[:6].shape).astype(np.int16)
    assert picture_box(noisy.astype(np.uint8)) == Box(6, 6, 60, 90), "scanner noise in the border"
    assert picture_box(framed(picture, 12, 12, 0, 0, 0)) == Box(12, 0, 60, 90), "letterbox bars"
    assert picture_box(framed(picture, 0, 0, 15, 13, 8)) == Box(0, 15, 60, 90), "pillarbox bars"


@pytest.mark.parametrize("case", ["one side only", "levels differ", "mid gray", "blank", "mostly page"])
def test_picture_box_leaves_what_is_not_a_border(case):
    picture = textured_rgb(60, 90, seed=7)[..., 1]
    image = {
        "one side only": framed(picture, 20, 0, 0, 0, 230),  # a clear sky or a dark stage above the picture
        "levels differ": framed(framed(picture, 10, 0, 0, 0, 0), 0, 10, 0, 0, 245),  # black above, white below
        "mid gray": framed(picture, 8, 8, 8, 8, 128),  # a studio backdrop is picture
        "blank": np.full((50, 70), 250, np.uint8),
        "mostly page": framed(picture[:10, :10], 40, 40, 40, 40, 255),
    }[case]
    assert picture_box(image) == Box(0, 0, *image.shape)


def test_borders_stay_gray_and_the_picture_is_coloured_as_if_alone(tiny_model):
    colorizer = Colorizer.load(tiny_model, device="cpu")
    assert colorizer.borders == "neutral"
    picture = textured_rgb(40, 64, seed=8)[..., 1]
    image = framed(picture, 6, 10, 5, 5, 250)
    out = colorizer.colorize(image)
    inner = out[6:46, 5:69]
    assert np.array_equal(inner, colorizer.colorize(picture)), "the model sees only the picture"
    border = np.ones(image.shape, bool)
    border[6:46, 5:69] = False
    assert np.array_equal(out[border], np.repeat(image[border][:, None], 3, axis=1)), "borders stay gray"
    whole = Colorizer.load(tiny_model, device="cpu", borders="model").colorize(image)
    assert not np.array_equal(whole[6:46, 5:69], inner)
    with pytest.raises(RehueError, match="unknown borders 'crop'"):
        Colorizer.load(tiny_model, device="cpu", borders="crop")


def test_sixteen_bit_gray_comes_back_at_sixteen_bits(tiny_model):
    from rehue.color.lab import rgb_to_lightness

    colorizer = Colorizer.load(tiny_model, device="cpu")
    gray16 = (np.linspace(0, 65535, 90 * 120).reshape(90, 120) + np.arange(120) * 7).astype(np.uint16)
    out16 = colorizer.colorize(gray16)
    out8 = colorizer.colorize(np.round(gray16 / 257).astype(np.uint8))
    assert out16.dtype == np.uint16 and out16.shape == (90, 120, 3)
    lightness = rgb_to_lightness(np.repeat(gray16[..., None], 3, axis=2))
    error16 = np.abs(rgb_to_lightness(out16) - lightness)
    error8 = np.abs(rgb_to_lightness(out8) - lightness)
    assert error16.max() < 0.1 < error8.max(), "16-bit L* is kept to a fraction of an 8-bit step"
    assert len(np.unique(out16[..., 1])) > 1000, "more tones than 8 bits hold"
    colour_gap = np.abs(rgb_to_lab(out16)[..., 1:] - rgb_to_lab(out8)[..., 1:])
    assert colour_gap.max() < 3.0 and colour_gap.mean() < 0.5, "the same a*b* as the 8-bit path (which rounds it)"
    assert colorizer.colorize(np.repeat(gray16[..., None], 3, axis=2)).dtype == np.uint16


def test_a_class_models_prior_mean_removal_from_its_json_runs_the_same_in_both_backends(tmp_path):
    pytest.importorskip("onnxruntime")
    from rehue.models.io import ModelCard, save_model
    from rehue.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("gen2-classes", in_channels=1, size=32, width=4).eval()
    with torch.no_grad():
        model.ab_prior.uniform_(0.0, 1.0)
        model.ab_prior /= model.ab_prior.sum()
    rgb = textured_rgb(40, 56, seed=2)
    outputs = {}
    for removal in (0.0, 1.0):
        card = ModelCard("gen2-classes", 1, 32, 4, inference={"prior_mean_removal": removal})
        path = save_model(model, card, tmp_path / f"r{removal:g}" / "m.safetensors")
        for backend in ("torch", "onnxruntime"):
            outputs[removal, backend] = Colorizer.load(path, device="cpu", backend=backend).colorize(rgb).astype(int)
    assert np.abs(outputs[1.0, "torch"] - outputs[1.0, "onnxruntime"]).max() <= 2
    assert np.abs(outputs[1.0, "torch"] - outputs[0.0, "torch"]).mean() > 0.5, "the JSON's removal is applied"


@pytest.mark.parametrize(("device", "message"), [("gpu", "unknown device 'gpu'; use auto, cpu, cuda, cuda:N or mps"),
                                                 ("cuda:0", "CUDA is not available")])
def test_a_device_that_is_not_there_is_a_clear_error(tiny_model, device, message):
    """Before, --device gpu ended in PyTorch's RuntimeError listing its twenty device types."""
    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RehueError, match=message):
        Colorizer.load(tiny_model, device=device)



def test_colorize_takes_a_path_and_refuses_empty_and_nan_images_clearly(tmp_path, tiny_model):
    """Before, a path gave "got shape ()", an empty array an IndexError, and NaN a cast warning and garbage."""
    colorizer = Colorizer.load(tiny_model, device="cpu")
    picture = textured_rgb(40, 50)
    Image.fromarray(picture).save(tmp_path / "photo.png")
    from_path = colorizer.colorize(tmp_path / "photo.png")
    assert np.array_equal(from_path, colorizer.colorize(str(tmp_path / "photo.png")))
    assert np.array_equal(from_path, colorizer.colorize(picture))
    with pytest.raises(RehueError, match="missing.png: no such file"):
        colorizer.colorize(tmp_path / "missing.png")
    with pytest.raises(RehueError, match=r"the image is empty \(shape \(0, 10\)\)"):
        colorizer.colorize(np.zeros((0, 10), np.uint8))
    with pytest.raises(RehueError, match="NaN or infinite"):
        colorizer.colorize(np.full((10, 10), np.nan, np.float32))
    gray = picture[..., 1]
    levels = colorizer.colorize(gray)
    # before, floats in 0-255 (as image libraries hand them over) were clipped to 1: an all-white picture
    for floats in (gray.astype(np.float32), gray.astype(np.float64) / 255.0):
        assert np.abs(colorizer.colorize(floats).astype(int) - levels).max() <= 1


def test_colorize_reads_what_a_notebook_or_a_web_service_hands_it_as_a_viewer_shows_it(tmp_path, tiny_model):
    """Before: 16-bit levels in an int32 array came out white, a PIL image from a phone sideways, upload
    bytes "got shape ()", a torch tensor an AttributeError, (H, W, 1) was refused and alpha was dropped."""
    import io

    import torch
    from PIL import Image

    from rehue.errors import UsageError

    colorizer = Colorizer.load(tiny_model, device="cpu")
    gray = textured_rgb(40, 56)[..., 1]
    expected = colorizer.colorize(gray)
    levels16 = gray.astype(np.uint16) * 257
    deep = colorizer.colorize(levels16)
    assert deep.dtype == np.uint16
    assert np.array_equal(colorizer.colorize(levels16.astype(np.int32)), deep), "16-bit levels, not white"
    assert np.array_equal(colorizer.colorize(gray.astype(np.int64)), expected)
    assert np.array_equal(colorizer.colorize(gray[..., None]), expected), "(H, W, 1) is (H, W)"
    with pytest.raises(RehueError, match=f"float levels must lie in 0-1 or 0-255; this image reaches {levels16.max()}"
                                         r" \(divide 16-bit levels by 65535\)"):
        colorizer.colorize(levels16.astype(np.float32))
    negative = gray.astype(np.int32)
    negative[0, 0] = -1
    with pytest.raises(RehueError, match="integer levels must lie in 0-65535; this image holds -1 to"):
        colorizer.colorize(negative)
    with pytest.raises(RehueError, match=r"torch tensor .* tensor.cpu\(\).numpy\(\)"):
        colorizer.colorize(torch.from_numpy(gray))
    for nothing, name in ((None, "NoneType"), ([["a", "b"]], r"a list of values other than numbers \(None, text, or "
                                                          r"integers past 64 bits\)"), ({"gray": gray}, "dict"),
                          (np.zeros((4, 4), object), "an array of object values"),  # probe 133: "ndarray is not"
                          (np.zeros((4, 4), "datetime64[s]"), r"an array of datetime64\[s\] values")):
        with pytest.raises(RehueError, match=f"^{name} is not an image: pass a numpy array of numbers, a PIL image"):
            colorizer.colorize(nothing)

    stored = np.ascontiguousarray(np.rot90(gray, 1))  # as a phone stores a photo taken upright
    phone = Image.fromarray(stored)
    exif = phone.getexif()
    exif[0x0112] = 6
    phone.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    upright = colorizer.colorize(tmp_path / "phone.jpg")
    assert upright.shape[:2] == gray.shape
    assert np.array_equal(colorizer.colorize(Image.open(tmp_path / "phone.jpg")), upright), "turned as from its path"
    from tests.data.test_images import gray_icc_profile

    Image.fromarray(gray).save(tmp_path / "linear.png", icc_profile=gray_icc_profile(1.0, "Linear Gray"))
    assert np.array_equal(colorizer.colorize(Image.open(tmp_path / "linear.png")),
                          colorizer.colorize(tmp_path / "linear.png")), "a PIL image's profile applies as a file's"
    data = (tmp_path / "phone.jpg").read_bytes()
    assert np.array_equal(colorizer.colorize(data), upright)
    assert np.array_equal(colorizer.colorize(io.BytesIO(data)), upright)
    with pytest.raises(RehueError, match=r"not an image file \(or a format Pillow cannot read\)$"):
        colorizer.colorize(b"not an image")
    with pytest.raises(RehueError, match="these bytes are a file's name, not its contents: pass the name as a str"):
        colorizer.colorize(bytes(tmp_path / "phone.jpg"))  # probe 104: no hint
    with open(tmp_path / "phone.jpg", encoding="latin-1") as text, pytest.raises(RehueError, match='open it with "rb"'):
        colorizer.colorize(text)
    with open(tmp_path / "phone.jpg") as text, pytest.raises(RehueError, match='^a file opened as text holds no'):
        colorizer.colorize(text)  # probe 133: undecodable as UTF-8, said as a file closed
    with pytest.raises(RehueError, match="float levels must lie in 0-1 or 0-255; this image holds -0.2"):
        colorizer.colorize(np.full((8, 8), -0.2, np.float32))

    alpha = np.tile(np.arange(56, dtype=np.uint8) * 4, (40, 1))
    rgba = colorizer.colorize(np.dstack([gray, gray, gray, alpha]))
    assert rgba.shape == (40, 56, 4) and np.array_equal(rgba[..., 3], alpha) and np.array_equal(rgba[..., :3], expected)
    assert np.array_equal(colorizer.colorize(Image.fromarray(np.dstack([gray] * 3 + [alpha]), "RGBA")), rgba)
    deep_rgba = colorizer.colorize(np.dstack([levels16] * 3 + [alpha.astype(np.uint16) * 257]))
    assert deep_rgba.dtype == np.uint16 and np.array_equal(deep_rgba[..., 3], alpha.astype(np.uint16) * 257)
    with pytest.raises(UsageError, match="chroma must be a number, not 'x'"):
        Colorizer.load(tiny_model, device="cpu", chroma="x")


def test_the_library_colours_a_video_and_scores_a_folder_as_the_commands_do(tmp_path, tiny_model,
                                                                            tiny_dependent_model, photo_folder,
                                                                            capsys, caplog):
    import logging

    import rehue
    from tests.helpers_video import make_clip

    gray = np.repeat(textured_rgb(48, 64, seed=3)[..., 1:2], 3, axis=2)  # a gray film: nothing to warn of
    clip = make_clip(tmp_path / "clip.mp4", [np.roll(gray, 2 * i, axis=1) for i in range(6)], fps=12)
    capsys.readouterr()
    with caplog.at_level(logging.INFO, logger="rehue"):
        summary = rehue.colorize_video(clip, tmp_path / "colour.mp4", model=str(tiny_model), device="cpu",
                                       dependent_model=str(tiny_dependent_model), progress=False)
    assert capsys.readouterr().err == "", "no progress asked for: nothing on stderr (the summary is logged)"
    assert any(record.getMessage().endswith(summary.line()) for record in caplog.records)
    assert summary.frames == 6 and summary.independent_frames + summary.dependent_frames == 6
    assert summary.dependent_frames > 0, "within a scene the dependent model colours"
    from rehue.video.io import VideoReader

    with VideoReader(tmp_path / "colour.mp4") as reader:
        assert (reader.width, reader.height) == (64, 48) and sum(1 for _ in reader) == 6
    with pytest.raises(RehueError, match="output exists"):
        rehue.colorize_video(clip, tmp_path / "colour.mp4", model=str(tiny_model), device="cpu", progress=False)

    result = rehue.evaluate(str(tiny_model), str(photo_folder), tmp_path / "report", progress=False)
    assert result.extra["images"] == len(list(photo_folder.iterdir()))
    assert (tmp_path / "report" / "metrics.json").is_file()


def test_a_large_picture_is_joined_band_by_band_with_the_whole_pictures_result(monkeypatch):
    import rehue.inference.colorizer as colorizer_module
    from rehue.inference.colorizer import ComposeWorkspace, compose_deep

    rng = np.random.default_rng(5)
    gray16 = (rng.random((301, 97)) * 65535).astype(np.uint16)
    gray8 = (gray16 >> 8).astype(np.uint8)
    ab = rng.normal(0, 40, (30, 10, 2)).astype(np.float32)
    whole8 = ComposeWorkspace(*gray8.shape).compose(gray8, ab)
    monkeypatch.setattr(colorizer_module, "BAND_PIXELS", 10**9)
    whole16 = compose_deep(gray16, ab)
    monkeypatch.setattr(colorizer_module, "BAND_PIXELS", 97 * 40 + 5)  # bands of 40 rows, the last of 21
    assert np.array_equal(compose_full_resolution(gray8, ab), whole8)
    assert np.array_equal(compose_deep(gray16, ab), whole16)


def test_premultiplied_pil_modes_keep_their_alpha_and_a_closed_image_or_bad_role_is_a_clear_error(tiny_model,
                                                                                                     tmp_path):
    colorizer = Colorizer.load(tiny_model)
    rgba = Image.fromarray(textured_rgb(16, 24)).convert("RGBA")
    rgba.putalpha(128)
    for mode in ("RGBa", "La"):
        out = colorizer.colorize(rgba.convert(mode) if mode == "RGBa" else rgba.convert("LA").convert("La"))
        assert out.shape == (16, 24, 4) and abs(int(out[..., 3].mean()) - 128) <= 1
    closed = Image.fromarray(textured_rgb(8, 8)).convert("L")
    closed.close()
    with pytest.raises(RehueError, match="closed"):
        colorizer.colorize(closed)
    import io

    saved = io.BytesIO()
    Image.fromarray(textured_rgb(8, 8)).save(saved, format="PNG")
    with Image.open(saved) as never_read:  # probe 146: Pillow's bare AssertionError
        pass
    with pytest.raises(RehueError, match="the PIL image is closed: colour it before closing it"):
        colorizer.colorize(never_read)
    saved.seek(0)
    with open(tmp_path / "photo.png", "wb") as file:
        file.write(saved.getvalue())
    with open(tmp_path / "photo.png", "rb") as file:  # probe 148: its file object closed, "seek of closed file"
        by_file = Image.open(file)
    with pytest.raises(RehueError, match="the PIL image is closed: colour it before closing it"):
        colorizer.colorize(by_file)
    with pytest.raises(UsageError, match="role"):
        Colorizer.load(tiny_model, role="bogus")


def test_the_file_writing_function_the_readme_names_takes_plain_strings(tmp_path, tiny_model):
    """Before, ``colorize_image_file`` raised AttributeError on str paths, which the rest of the API takes."""
    import cv2
    from PIL import Image

    from rehue.inference.files import colorize_image_file

    gray = (np.tile(np.arange(64), (48, 1)) * 1000).astype(np.uint16)
    Image.fromarray(gray).save(tmp_path / "scan.png")
    colorizer = Colorizer.load(tiny_model, device="cpu")
    written = colorize_image_file(colorizer, str(tmp_path / "scan.png"), str(tmp_path / "colour.png"))
    assert written == tmp_path / "colour.png"
    assert cv2.imread(str(written), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    with pytest.raises(RehueError, match="output exists"):
        colorize_image_file(colorizer, str(tmp_path / "scan.png"), str(tmp_path / "colour.png"))


def test_onnx_runtime_writes_nothing_in_the_users_home(tmp_path, tiny_model):
    """Probe 24: ONNX Runtime 1.32 wrote a device id and an event database under ~/.cache/Microsoft, and
    queued a report of the machine for upload, as rehue loaded a model."""
    import os
    import subprocess
    import sys

    pytest.importorskip("onnxruntime")
    env = {key: value for key, value in os.environ.items() if key != "ORT_DISABLE_TELEMETRY"}
    env["HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir()
    script = ("import sys, rehue\n"
              "c = rehue.Colorizer.load(sys.argv[1], device='cpu', backend='onnxruntime')\n"
              "assert c.backend == 'onnxruntime'\n")
    subprocess.run([sys.executable, "-c", script, str(tiny_model)], env=env, check=True, cwd=os.getcwd())
    assert list((tmp_path / "home").rglob("*")) == []
    # probe 53: the CLI imported ONNX Runtime itself, with Ctrl-C held, before the switch was set (since stop 40)
    Image.fromarray(np.full((16, 16), 90, np.uint8)).save(tmp_path / "gray.png")
    subprocess.run([sys.executable, "-m", "rehue", "-q", "colorize", str(tmp_path / "gray.png"), "-o",
                    str(tmp_path / "colour.png"), "--model", str(tiny_model)],
                   env=env, check=True, cwd=os.getcwd())
    assert (tmp_path / "colour.png").is_file() and list((tmp_path / "home").rglob("*")) == []


def test_threads_writing_one_output_at_once_each_finish_it(tmp_path, tiny_model, tiny_dependent_model):
    """Probe 62: temporary names are the process's, so two threads writing one output (a service's double
    submit) shared them: 45 of 60 photo writes failed ("No such file or directory"), and two films failed
    both, one blaming the disk, leaving a hidden folder of frames. Now each waits for the other."""
    import threading

    from rehue.inference.files import colorize_image_file
    from tests.helpers_video import make_clip

    colorizer = Colorizer.load(tiny_model, device="cpu")
    photo = tmp_path / "gray.png"
    Image.fromarray(textured_rgb(96, 128, seed=1)[..., 0]).save(photo)
    gray = np.repeat(textured_rgb(48, 64, seed=3)[..., 1:2], 3, axis=2)
    clip = make_clip(tmp_path / "clip.mp4", [np.roll(gray, 2 * i, axis=1) for i in range(8)], fps=12)
    out = tmp_path / "out"
    out.mkdir()
    failures, frames = [], []

    (tmp_path / "link").symlink_to(out)  # probe 64: the same output through a link to its folder

    def photo_job():
        for k in range(4):
            try:
                colorize_image_file(colorizer, photo, (out if k % 2 else tmp_path / "link") / "same.png",
                                    overwrite=True)
            except Exception as exc:  # noqa: BLE001 - counted, then asserted none
                failures.append(exc)

    def film_job():
        try:
            frames.append(colorizer.colorize_video(clip, out / "same.mp4", overwrite=True, progress=False,
                                                   dependent_model=str(tiny_dependent_model)).frames)
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)

    jobs = [threading.Thread(target=photo_job) for _ in range(4)] + [threading.Thread(target=film_job)
                                                                      for _ in range(2)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    assert failures == [] and frames == [8, 8]
    assert sorted(p.name for p in out.iterdir()) == ["same.mp4", "same.png"], "no temporary file or folder left"
    assert Image.open(out / "same.png").size == (128, 96)
    from rehue.data import images

    assert images._WRITING == {}, "an output no thread wants is forgotten (probe 64: kept for the process's life)"


@pytest.mark.parametrize(("call", "message"), [
    (lambda c, t: c.colorize(""), "no image named"),
    (lambda c, t: c.colorize("https://example.com/a.jpg"), "https://example.com/a.jpg: is a URL: rehue reads files"),
    (lambda c, t: c.colorize(_closed_file(t)), r"cannot read the file object \(read of closed file\)"),
    (lambda c, t: c.colorize(_read_to_end(t)), r"empty image data \(the file object was read to its end: seek"),
    (lambda c, t: _file(c, t / "p.png", t, quality=-3), "quality must be a whole number between 0 and 100, not -3"),
    (lambda c, t: _file(c, t / "p.png", t, quality="high"), "quality must be a whole number .* not 'high'"),
    (lambda c, t: _file(c, np.zeros((8, 8), np.uint8), t, quality=95), "source is a file's path, not ndarray"),
    (lambda c, t: c.colorize_video(t / "nope.mp4", t / "v.mp4"), "nope.mp4: no such file"),
    (lambda c, t: _file_to(c, t / "p.png", ""), "colorize_image_file's target is an empty path"),  # was ".: is a
    (lambda c, t: c.colorize_video(t / "p.png", ""), "not an empty one"),                        # folder"
    (lambda c, t: _file_to(c, t / "p.png", t / "models"), "models: is a folder; name a file to write"),  # probe 205:
    # "unsupported output extension ''"
    (lambda c, t: _file_to(c, t / "p.png", b"o.png"), r"target is a file's path as a str or a Path, not bytes \(a "
                                                       "name: os.fsdecode it"),  # probe 208: said as an upload's
    (lambda c, t: c.colorize_video(t / "p.png", t / "v.mp4", start="1"), "^start must be a number of seconds, "
                                                                           "not '1'"),
    (lambda c, t: c.colorize_video(t / "p.png", t / "f_%03d.jpg", quality=500), "quality must be a whole number"),
    (lambda c, t: Colorizer.load(c.path, device=None), r"device must be a name \(auto, cpu"),
    (lambda c, t: Colorizer.load(c.path, device="cpu", threads="2"), "threads must be a whole number from 1 to"),
    (lambda c, t: Colorizer.load(c.path, device="cpu", threads=1.5), "threads must be a whole number from 1 to"),
    (lambda c, t: Colorizer.load(c.path, device="cpu", threads=10**5), r"threads must be a whole number from 1 to "
                                                                       r"\d+ \(4 times this machine's"),
])
def test_the_librarys_arguments_are_checked_as_the_commands_are(tmp_path, tiny_model, call, message):
    """Probe 62: these were Python's or PyTorch's own TypeError, ValueError or FileNotFoundError from deep
    inside, or taken: quality -3 wrote a 1 kB JPEG, threads 1.5 switched the runtime to PyTorch."""
    colorizer = Colorizer.load(tiny_model, device="cpu")
    colorizer.path = tiny_model
    Image.fromarray(textured_rgb(32, 32)[..., 0]).save(tmp_path / "p.png")
    with pytest.raises(RehueError, match=message):
        call(colorizer, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "p.png"], "nothing written"


def _closed_file(folder):
    handle = open(folder / "p.png", "rb")  # noqa: SIM115 - closed on purpose
    handle.close()
    return handle


def _read_to_end(folder):
    import io

    upload = io.BytesIO((folder / "p.png").read_bytes())
    upload.read()
    return upload


def _file_to(colorizer, source, target):
    from rehue.inference.files import colorize_image_file

    return colorize_image_file(colorizer, source, target)


def test_numpy_numbers_are_numbers_to_the_library(tmp_path, tiny_model):
    """Probe 64: quality=np.int64(90), threads=np.int64(2) and start=np.float64(0) were refused as not numbers."""
    from rehue.inference.files import colorize_image_file
    from tests.helpers_video import make_clip

    colorizer = Colorizer.load(tiny_model, device="cpu", threads=np.int64(2))
    assert colorizer.threads == 2 and type(colorizer.threads) is int
    Image.fromarray(textured_rgb(32, 32)[..., 0]).save(tmp_path / "p.png")
    colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "o.jpg", quality=np.int64(90))
    assert Image.open(tmp_path / "o.jpg").size == (32, 32)
    gray = np.repeat(textured_rgb(32, 48, seed=3)[..., 1:2], 3, axis=2)
    clip = make_clip(tmp_path / "clip.mp4", [gray] * 4, fps=8)
    assert colorizer.colorize_video(clip, tmp_path / "c.mp4", start=np.float64(0.0), progress=False,
                                    dependent_model="none").frames == 4


def _file(colorizer, source, folder, quality):
    from rehue.inference.files import colorize_image_file

    return colorize_image_file(colorizer, source, folder / "o.jpg", quality=quality)


def test_a_library_callers_bad_restraint_or_model_name_is_a_usage_error_and_an_arrays_alpha_keeps_its_scale(
        tiny_model):
    """Probe 75: ab_smoothing=inf never returned (1e5 took 37 s on a small photo), a malformed ab_guide was an
    IndexError, "" loaded the working folder's one model, a Colorizer named as a model was "no such model
    file", and an int32 RGBA array of 16-bit levels had its alpha of 200 read as 8-bit (51400 out)."""
    for bad in (float("inf"), float("nan"), -3.0, 100.0):
        with pytest.raises(UsageError, match="ab_smoothing must be between 0 and 32"):
            Colorizer.load(tiny_model, ab_smoothing=bad)
    for bad in ((3,), ("a", 1), 4, (float("inf"), 0.1), "40", {4: 1, 5: 2}):
        with pytest.raises(UsageError, match=r"ab_guide must be a \(radius, eps\) pair"):
            Colorizer.load(tiny_model, ab_guide=bad)
    with pytest.raises(UsageError, match="ab_guide_eps must be above 0 and finite"):
        Colorizer.load(tiny_model, ab_guide=(4, float("inf")))
    for bad in ("2", True):  # probe 76: taken as 2.0 and 1.0
        with pytest.raises(UsageError, match="ab_smoothing must be a number"):
            Colorizer.load(tiny_model, ab_smoothing=bad)
    with pytest.raises(UsageError, match="empty name"):
        Colorizer.load("")
    colorizer = Colorizer.load(tiny_model)
    with pytest.raises(UsageError, match="not a Colorizer"):
        Colorizer.load(colorizer)
    levels = np.dstack([np.tile(np.arange(0, 64000, 1000, dtype=np.int32), (24, 1))] * 3 + [np.full((24, 64), 200)])
    out = colorizer.colorize(levels)
    assert out.dtype == np.uint16 and np.all(out[..., 3] == 200)
    floats = np.dstack([np.full((8, 8, 3), 100.0), np.full((8, 8), 255.0)]).astype(np.float32)
    assert np.all(colorizer.colorize(floats)[..., 3] == 255), "0-255 floats: alpha on the picture's scale"
    with pytest.raises(RehueError, match="channels first"):
        colorizer.colorize(np.zeros((3, 24, 32), np.uint8))


def test_an_onnx_runtime_this_machine_lacks_is_named_as_such_not_as_the_models_fault(monkeypatch, tiny_model):
    """Stop 46: ``backend="onnxruntime"`` without ONNX Runtime blamed the model's JSON ("<model>.json:
    inference: cannot run the model ..."), a temporary file's under `rehue bench`; a GPU device likewise."""
    import sys

    from rehue.errors import UsageError

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(UsageError) as caught:
        Colorizer.load(tiny_model, device="cpu", backend="onnxruntime")
    assert caught.value.path is None and "ONNX Runtime cannot be imported" in caught.value.reason
    assert "pip install onnxruntime" in caught.value.reason and ".json" not in str(caught.value)
    assert Colorizer.load(tiny_model, device="cpu").backend == "torch"


def test_yes_or_no_arguments_are_true_or_false_not_a_string_that_python_finds_true(tmp_path, tiny_model):
    """Probe 88: ``overwrite="false"`` (a form's, a query's, an environment variable's) replaced the user's
    picture, video and report; ``progress="no"`` drew the bar and ``side_by_side="false"`` drew two pictures."""
    import rehue
    from rehue.inference.files import colorize_image_file, colorize_paths
    from tests.helpers_video import make_clip

    colorizer = Colorizer.load(tiny_model, device="cpu")
    Image.fromarray(textured_rgb(32, 32)[..., 0]).save(tmp_path / "p.png")
    clip = make_clip(tmp_path / "clip.mp4", [np.repeat(textured_rgb(32, 32)[..., :1], 3, axis=2)] * 3, fps=8)
    mine = {tmp_path / "mine.png": b"the user's picture", tmp_path / "mine.mp4": b"the user's film"}
    (tmp_path / "report").mkdir()
    mine[tmp_path / "report" / "metrics.md"] = b"an earlier report"
    for path, data in mine.items():
        path.write_bytes(data)
    calls = [
        (lambda: colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "mine.png", overwrite="false"),
         "overwrite must be True or False, not 'false'"),
        (lambda: colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "o.png", side_by_side="false"),
         "side_by_side must be True or False"),
        (lambda: colorizer.colorize_video(clip, tmp_path / "mine.mp4", overwrite="no"), "overwrite must be True"),
        (lambda: colorizer.colorize_video(clip, tmp_path / "o.mp4", progress="no"),
         r"progress must be True, False or a function called as progress\(done, total\), not 'no'"),
        (lambda: rehue.evaluate(tiny_model, [tmp_path / "p.png"], tmp_path / "report", overwrite="false"),
         "overwrite must be True or False"),
        (lambda: rehue.evaluate(tiny_model, [tmp_path / "p.png"], tmp_path / "r2", full_res="no"),
         "full_res must be True or False"),
        # probe 190: taken, never called, and a bar drawn on stderr in its place
        (lambda: rehue.evaluate(tiny_model, [tmp_path / "p.png"], tmp_path / "r2", progress=print),
         r"^progress must be True or False \(a function is called by colorize_video and colorize_frames alone, "
         r"after each frame\), not <built-in function print>"),
        (lambda: colorize_paths([tmp_path / "p.png", clip], tmp_path / "out", progress=print),
         "progress must be True or False"),
        (lambda: colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "o.png", progress=print),
         "progress must be True or False"),
    ]
    for call, message in calls:
        with pytest.raises(UsageError, match=message):
            call()
    assert {path: path.read_bytes() for path in mine} == mine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "mine.mp4", "mine.png", "models", "p.png",
                                                          "report"]
    colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "mine.png", overwrite=np.bool_(True))
    assert Image.open(tmp_path / "mine.png").size == (32, 32), "numpy's True is True"
    (tmp_path / "mine.png").write_bytes(b"the user's picture")
    with pytest.raises(RehueError, match="exists"):  # None and 0 are no, 1 is yes (probe 90: refused)
        colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "mine.png", overwrite=None, progress=0)
    colorize_image_file(colorizer, tmp_path / "p.png", tmp_path / "mine.png", overwrite=1, progress=None)
    assert Image.open(tmp_path / "mine.png").size == (32, 32)


def _png(array: np.ndarray, **options) -> bytes:
    import io

    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG", **options)
    return out.getvalue()


def _png16_rgb(rgb: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))[1].tobytes()


def _with_colour_key(png: bytes, key: tuple[int, int, int]) -> bytes:
    """The PNG with a tRNS chunk naming ``key`` (16-bit levels) transparent, as optimisers write one."""
    import struct
    import zlib

    payload = struct.pack(">HHH", *key)
    chunk = struct.pack(">I", len(payload)) + b"tRNS" + payload + struct.pack(">I", zlib.crc32(b"tRNS" + payload))
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


def test_a_pictures_colour_key_is_its_transparency(tmp_path, tiny_model):
    """Probe 88: a gray or RGB PNG whose transparent area is one level named in its tRNS chunk (as optimisers
    write them) came back opaque, RGB; a palette PNG's came back RGBA."""
    colorizer = Colorizer.load(tiny_model, device="cpu")
    gray = textured_rgb(24, 40)[..., 0]
    gray[:6] = 7
    key = gray == 7
    for picture, options in ((gray, {"transparency": 7}),
                             (np.repeat(gray[..., None], 3, axis=2), {"transparency": (7, 7, 7)})):
        coloured = colorizer.colorize(_png(picture, **options))
        assert coloured.shape == (24, 40, 4) and coloured.dtype == np.uint8
        assert ((coloured[..., 3] == 0) == key).all() and (coloured[..., 3][~key] == 255).all()
    deep = gray.astype(np.uint16) * np.uint16(257)
    coloured = colorizer.colorize(Image.open(__import__("io").BytesIO(_png(deep, transparency=7 * 257))))
    assert coloured.shape == (24, 40, 4) and coloured.dtype == np.uint16, "a 16-bit scan stays 16-bit"
    assert ((coloured[..., 3] == 0) == key).all(), "Pillow's own convert finds no pixel of a 16-bit key"
    rgb16 = np.repeat(deep[..., None], 3, axis=2)  # a 16-bit RGB PNG's key is in 16-bit levels (the first fix
    rgb16[..., 0] += key.astype(np.uint16) * np.uint16(257)  # compared them with 8-bit ones: an OverflowError)
    coloured = colorizer.colorize(_with_colour_key(_png16_rgb(rgb16), (8 * 257, 7 * 257, 7 * 257)))
    assert coloured.shape == (24, 40, 4) and coloured.dtype == np.uint16 and ((coloured[..., 3] == 0) == key).all()
    palette = Image.fromarray(np.repeat(gray[..., None], 3, axis=2)).convert("P")
    opened = Image.open(__import__("io").BytesIO(_png(np.asarray(palette), transparency=0)))
    assert colorizer.colorize(opened).shape == (24, 40, 4)
    assert colorizer.colorize(opened.convert("RGB")).shape == (24, 40, 3), \
        "probe 90: a picture the program made opaque keeps Pillow's key in its info, and came back transparent"
    from rehue.inference.files import colorize_image_file

    (tmp_path / "k.png").write_bytes(_png(gray, transparency=7))
    colorize_image_file(colorizer, tmp_path / "k.png", tmp_path / "out.png")
    written = np.asarray(Image.open(tmp_path / "out.png"))
    assert written.shape == (24, 40, 4) and ((written[..., 3] == 0) == key).all()


def test_a_truncated_picture_is_an_error_even_where_the_program_lets_pillow_load_truncated_ones(
        tmp_path, tiny_model, monkeypatch):
    """Probe 88: with ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` (common in ML code) half a JPEG was coloured
    and written, its lower half Pillow's gray filler, without a word."""
    import io

    from PIL import ImageFile

    from rehue.inference.files import colorize_image_file

    colorizer = Colorizer.load(tiny_model, device="cpu")
    whole = io.BytesIO()
    Image.fromarray(textured_rgb(120, 120)).save(whole, "JPEG")
    half = whole.getvalue()[: len(whole.getvalue()) // 2]
    (tmp_path / "half.jpg").write_bytes(half)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RehueError, match="half.jpg: truncated or corrupt image"):
        colorize_image_file(colorizer, tmp_path / "half.jpg", tmp_path / "out.png")
    with pytest.raises(RehueError, match="truncated or corrupt image"):
        colorizer.colorize(_png(textured_rgb(64, 64))[:-200])
    assert not (tmp_path / "out.png").exists()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True, "the program's setting is put back"
    assert colorizer.colorize(whole.getvalue()).shape == (120, 120, 3)


def test_uploads_junk_and_odd_arrays_are_told_apart_plainly(tmp_path, tiny_model, monkeypatch):
    """Probe 88: an async upload's read() was a TypeError; big-endian uint16 was read as 8-bit levels; a
    program's lower Pillow limit was named as rehue's own; Pillow's words came through bare; a video given to
    colorize was "not an image file"."""
    import warnings

    from PIL import Image as PILImage

    from tests.helpers_video import make_clip

    colorizer = Colorizer.load(tiny_model, device="cpu")

    class Upload:  # Starlette's UploadFile: read() is a coroutine function
        async def read(self, size=-1):
            return _png(textured_rgb(16, 16))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited"
        with pytest.raises(RehueError, match=r"read\(\) is asynchronous .* pass `await upload.read\(\)`"):
            colorizer.colorize(Upload())

    class Broken:  # probe 190: Python's own OSError and TypeError, not a RehueError
        def __init__(self, gives):
            self.gives = gives

        def read(self, size=-1):
            if isinstance(self.gives, Exception):
                raise self.gives
            return self.gives

    for upload, said in ((Broken(ConnectionResetError(104, "Connection reset by peer")),
                          r"^cannot read the file object \(Connection reset by peer\)$"),
                         (Broken(None), r"^the file object's read\(\) gave nothing yet \(a non-blocking stream\)"),
                         (Broken(TimeoutError()), r"^cannot read the file object \(TimeoutError\)$"),  # probe 191: ()
                         (Broken(object()), r"^the file object's read\(\) gave object, not bytes$"),  # a TypeError
                         (writing := open(tmp_path / "w.png", "wb"), r"^the file object is open for writing, not "
                                                                     r"reading: open it with \"rb\"$")):  # probe
        with pytest.raises(RehueError, match=said):  # 191: "before closing it", of a file open for writing
            colorizer.colorize(upload)
    writing.close()
    levels = np.random.default_rng(0).integers(0, 256, (20, 30)).astype(np.uint16)
    native, big = colorizer.colorize(levels), colorizer.colorize(levels.astype(">u2"))
    assert big.dtype == np.uint16 and np.array_equal(native, big)
    with pytest.raises(RehueError, match=r"not an image file|damaged or unreadable image \("):
        colorizer.colorize(b"BM" + bytes(50))
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(RehueError, match=r"image too large \(4,800 pixels; limit 2,000, twice Pillow's "
                                         r"Image.MAX_IMAGE_PIXELS as this program set it\)"):
        colorizer.colorize(_png(textured_rgb(60, 80)))
    monkeypatch.undo()
    clip = make_clip(tmp_path / "clip.mp4", [textured_rgb(32, 32)] * 2, fps=8)
    with pytest.raises(RehueError, match="clip.mp4: is a video, not a picture: colour it with colorize_video"):
        colorizer.colorize(clip)
    with pytest.raises(RehueError, match="^is a video, not a picture"):  # an upload's bytes (probe 90)
        colorizer.colorize(clip.read_bytes())


def test_a_model_card_without_its_weights_and_an_unknown_setting_are_named(tmp_path, tiny_model):
    """Probe 88: a card whose weights were not copied beside it was "no such model file"; an unknown setting
    was a TypeError of ``Colorizer.__init__``; ``dir(rehue)`` lacked the names a notebook completes."""
    import shutil

    import rehue

    shutil.copy(tiny_model.with_suffix(".json"), tmp_path / "alone.json")
    with pytest.raises(RehueError, match=r"alone.json: the weights beside this model card are missing "
                                         r"\(alone.safetensors\)"):
        Colorizer.load(tmp_path / "alone.json")
    with pytest.raises(UsageError, match="Colorizer.load takes no setting 'colour'; its settings: device, role, "
                                         "backend, threads, chroma"):
        Colorizer.load(tiny_model, colour=2)
    assert {"Colorizer", "evaluate", "train", "TrainConfig", "colorize"} <= set(dir(rehue))


def test_a_float_pictures_overshoot_is_clipped_not_read_as_0_255_levels(tiny_model):
    """Probe 104: a 0-1 picture one pixel of which a resize took to 1.0000001 was read as 0-255 levels and
    came out all but black, without a word."""
    colorizer = Colorizer.load(tiny_model, device="cpu")
    unit = textured_rgb(40, 56)[..., 1].astype(np.float32) / 255
    expected = colorizer.colorize(unit)
    rung = unit.copy()
    rung[0, 0], rung[0, 1] = 1.0000001, -0.05
    assert np.abs(colorizer.colorize(rung).astype(int) - expected).mean() < 1, "two pixels' colour, not all"
    assert np.array_equal(colorizer.colorize(unit * 255), expected)
    rung[0, 0], rung[0, 1] = np.float32(1.1), np.float32(-0.1)  # float32's 1.1 is 1.10000002 (probe 106: refused)
    assert np.abs(colorizer.colorize(rung).astype(int) - expected).mean() < 1
    rung[0, 0] = 1.3
    with pytest.raises(RehueError, match="reaches 1.3: too far past 1 for 0-1 levels, too dark for 0-255 ones"):
        colorizer.colorize(rung)
    rung[0, 0] = 260.0  # 0-255 levels rung past white: clipped too
    assert colorizer.colorize(rung).mean() < 30


def test_a_device_rehue_does_not_run_on_is_a_usage_error_and_cpu_is_one_device(monkeypatch, tiny_model):
    """Probe 104: "xpu", "meta", "hpu" gave PyTorch's own errors ("meta" a colorizer cached that failed on every
    call); "cpu:1" and "auto" each loaded a copy of their own beside "cpu"'s."""
    import rehue
    from rehue.errors import UsageError
    from rehue.inference.colorizer import resolve_device

    for device in ("xpu", "meta", "hpu", "lazy", "vulkan", "xla", "gpu"):
        with pytest.raises(UsageError, match=f"unknown device '{device}'; use auto, cpu, cuda, cuda:N or mps"):
            resolve_device(device)
    assert [resolve_device(device) for device in ("cpu", "cpu:0", "cpu:1")] == ["cpu"] * 3
    monkeypatch.setattr(rehue, "_COLORIZERS", {})
    loads = []
    real = Colorizer.load_independent
    monkeypatch.setattr(Colorizer, "load_independent", lambda *a, **k: loads.append(k) or real(*a, **k))
    for device in ("cpu", "cpu:1", "auto"):
        rehue.colorize(np.zeros((8, 8), np.uint8), model=str(tiny_model), device=device)
    assert loads == [{"device": "cpu"}], "auto is the cpu here: one model"
    with pytest.raises(UsageError, match="unknown device 'meta'"):
        rehue.colorize(np.zeros((8, 8), np.uint8), model=str(tiny_model), device="meta")
    assert [(key[0], key[-1]) for key in rehue._COLORIZERS] == [(str(Path(tiny_model).resolve()), "cpu")]


def test_threads_colouring_at_once_load_the_model_once(monkeypatch, tiny_model):
    """Probe 104: three threads' first calls at once each loaded a model of their own (a server's workers)."""
    import threading
    import time

    import rehue

    monkeypatch.setattr(rehue, "_COLORIZERS", {})
    loads = []
    real = Colorizer.load_independent

    def slow_load(*args, **kwargs):
        loads.append(args)
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(Colorizer, "load_independent", slow_load)
    threads = [threading.Thread(target=rehue.colorize, args=(np.zeros((8, 8), np.uint8), str(tiny_model), "cpu"))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1


def test_a_log_that_is_not_a_function_is_refused_before_any_work(tmp_path, tiny_model):
    """Probe 104: ``colorize_video(..., log="x")`` failed once the film was written, its output left in place."""
    import rehue
    from rehue.errors import UsageError
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "in.mp4", list(textured_frames(3, 32, 32)))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    with pytest.raises(UsageError, match="log must be a function called with each line, not 'x'"):
        colorizer.colorize_video(clip, tmp_path / "out.mkv", progress=False, log="x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "models"]
    with pytest.raises(UsageError, match="log must be a function"):
        rehue.evaluate(str(tiny_model), [clip], tmp_path / "report", log=5)


def test_a_float_gray_arrays_levels_are_its_own_rounded(monkeypatch, tiny_model):
    """Probe 104: a float gray array was made RGB and turned to gray again through luminance, 50 bytes a pixel
    more (a 24 MP array peaked at 1.9 GiB, now 1 GiB: docs/performance.md) and some levels one off."""
    colorizer = Colorizer.load(tiny_model, device="cpu")
    levels = np.random.default_rng(0).random((300, 400), dtype=np.float32)
    seen = []
    real = colorizer.colorize_gray
    monkeypatch.setattr(colorizer, "colorize_gray", lambda gray: seen.append(gray) or real(gray))
    colorizer.colorize(levels)
    assert np.array_equal(seen[0], np.round(levels * 255).astype(np.uint8))


def test_cuda_and_its_first_gpu_are_one_device_and_a_gpu_not_there_is_refused(monkeypatch):
    """Probe 106, with CUDA faked: "auto", "cuda" and "cuda:0" were two cached models on one GPU, and "cuda:7" on
    a one-GPU machine passed the check to fail later."""
    import torch

    import rehue

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(rehue, "_COLORIZERS", {})
    loads = []
    monkeypatch.setattr(Colorizer, "load_independent", lambda model, device: loads.append(device) or object())
    for device in ("auto", "cuda", "cuda:0"):
        rehue._colorizer("default", device)
    assert loads == ["cuda:0"]
    with pytest.raises(RehueError, match=r"device 'cuda:7' requested but this machine has 1 CUDA device \(cuda:0"):
        rehue._colorizer("default", "cuda:7")


def test_a_codec_named_in_capitals_is_taken_by_the_library_too(tmp_path, tiny_model):
    """Probe 108: the CLI took --codec FFV1, the library refused codec="FFV1" listing "ffv1" as a choice."""
    from rehue.video.io import VideoReader
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "in.mp4", list(textured_frames(3, 32, 32)))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    colorizer.colorize_video(clip, tmp_path / "master.mkv", codec="FFV1", dependent_model="none", progress=False)
    with VideoReader(tmp_path / "master.mkv") as reader:
        assert reader._stream.codec_context.name == "ffv1"


def test_a_native_16_bit_pil_image_and_a_float_alpha_on_its_own_scale_are_read_as_meant(tiny_model):
    """Probe 133: a PIL image of mode I;16N (16-bit, native byte order) came out 8-bit and all but white; a float
    RGBA array of 0-1 colour beside an alpha of 255.0 came out black, and 0-255 colour beside an alpha of 1.0 all
    but transparent."""
    colorizer = Colorizer.load(tiny_model, device="cpu")
    levels16 = (np.add.outer(np.arange(30), np.arange(40)) * 900).astype(np.uint16)
    deep = colorizer.colorize(levels16)
    assert deep.dtype == np.uint16
    assert np.array_equal(colorizer.colorize(Image.frombytes("I;16N", (40, 30), levels16.tobytes())), deep)

    gray = np.linspace(0, 1, 30 * 40, dtype=np.float32).reshape(30, 40)
    rgb = colorizer.colorize(np.dstack([gray] * 3))
    opaque = np.full_like(gray, 255.0)
    for rgba in (np.dstack([gray] * 3 + [opaque]), np.dstack([gray * 255] * 3 + [opaque / 255])):
        coloured = colorizer.colorize(rgba)
        assert np.array_equal(coloured[..., :3], rgb) and np.all(coloured[..., 3] == 255)
    half = colorizer.colorize(np.dstack([gray] * 3 + [opaque / 2]))
    assert np.all(half[..., 3] == 128), "an alpha of 127.5 on 0-255 levels is half"
    with pytest.raises(RehueError, match="^its alpha: float levels must lie in 0-1 or 0-255; this image reaches 1.5"):
        colorizer.colorize(np.dstack([gray] * 3 + [np.full_like(gray, 1.5)]))


def test_a_pil_image_of_a_tiff_pillow_misreads_is_coloured_as_its_file_is(tmp_path, tiny_model, monkeypatch):
    """Probe 143: ``colorize(Image.open(scan.tif))`` of an uncompressed TIFF turned by Orientation 5-8 gave
    Pillow's scrambled pixels (63 levels from the file's colouring on average); the file's path was right."""
    import tifffile
    from PIL import Image

    from rehue.inference.colorizer import Colorizer

    colorizer = Colorizer.load(tiny_model, device="cpu")
    gray = textured_rgb(60, 90, seed=1).mean(axis=2).astype(np.uint8)
    for orientation in (1, 5, 6, 7, 8):
        path = tmp_path / f"o{orientation}.tif"
        tifffile.imwrite(path, gray, extratags=[(274, "H", 1, orientation, True)])
        with Image.open(path) as opened:
            coloured = colorizer.colorize(opened)
        assert np.array_equal(coloured, colorizer.colorize(path)), orientation
        assert coloured.shape[:2] == ((60, 90) if orientation == 1 else (90, 60))
    # probe 145: read again by its file's name, a relative one, after a change of folder: another file's picture
    import io

    (tmp_path / "elsewhere").mkdir()
    tifffile.imwrite(tmp_path / "elsewhere" / "o6.tif", gray[:40, :70], extratags=[(274, "H", 1, 6, True)])
    monkeypatch.chdir(tmp_path)
    opened = Image.open("o6.tif")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert np.array_equal(colorizer.colorize(opened), colorizer.colorize(tmp_path / "o6.tif"))
    in_memory = Image.open(io.BytesIO((tmp_path / "o6.tif").read_bytes()))  # opened from bytes: read the same
    assert np.array_equal(colorizer.colorize(in_memory), colorizer.colorize(tmp_path / "o6.tif"))


def test_the_module_level_colorize_tells_models_by_their_files_not_their_names(tmp_path, monkeypatch):
    """Probe 147: ``rehue.colorize(model="model.safetensors")`` from a second folder kept colouring with the first
    folder's model, and a model file replaced at one path kept giving the old weights, without a word."""
    import rehue
    from tests.conftest import make_tiny_model

    monkeypatch.setattr(rehue, "_COLORIZERS", {})
    for folder, seed in (("a", 0), ("b", 1)):
        make_tiny_model(tmp_path / folder / "model.safetensors", seed=seed)
    photo = textured_rgb(64, 96)
    own = {folder: Colorizer.load(tmp_path / folder / "model.safetensors", device="cpu").colorize(photo)
           for folder in ("a", "b")}
    assert not np.array_equal(own["a"], own["b"])
    for folder in ("a", "b"):
        monkeypatch.chdir(tmp_path / folder)
        assert np.array_equal(rehue.colorize(photo, model="model.safetensors", device="cpu"), own[folder]), folder
    shutil.copy(tmp_path / "a" / "model.safetensors", tmp_path / "b" / "model.safetensors")  # b's file replaced
    os.utime(tmp_path / "b" / "model.safetensors", ns=(1, 1))
    assert np.array_equal(rehue.colorize(photo, model="model.safetensors", device="cpu"), own["a"])
    assert len(rehue._COLORIZERS) == 2, "the replaced file's model is let go"


def test_colorize_videos_warnings_reach_the_rehue_logger_as_warnings(tmp_path, tiny_model, caplog):
    """Probe 147: `Colorizer.colorize_video`'s warnings (numbered frames past the pattern's digits, a 16-bit film
    written at 8 bits) went to the `rehue.video` logger at INFO, unseen without a handler."""
    import logging

    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(120, 32, 32))
    with caplog.at_level(logging.INFO, logger="rehue"):
        Colorizer.load(tiny_model, device="cpu").colorize_video(clip, tmp_path / "of" / "f_%02d.png", progress=False,
                                                                dependent_model="none")
    levels = {record.getMessage().split(":")[-1][:30]: record.levelname for record in caplog.records
              if record.name == "rehue.video"}
    digits = [record for record in caplog.records if "past the pattern's 2 digits" in record.getMessage()]
    assert [record.levelname for record in digits] == ["WARNING"], levels
    assert not digits[0].getMessage().startswith("warning: ")
    assert any(record.levelname == "INFO" and "120 frames" in record.getMessage() for record in caplog.records)


def test_a_wrong_colorizer_or_video_option_is_said_before_any_work(tmp_path, tiny_model, monkeypatch):
    """Probe 155: colorize_image_file("default", ...) read the whole picture, then ended in AttributeError; an
    option Colorizer.colorize_video has not was the pipeline function's bare TypeError."""
    from PIL import Image

    from rehue.data import images
    from rehue.inference.files import colorize_image_file

    Image.fromarray(textured_rgb(30, 40, seed=1)[..., 0]).save(tmp_path / "g.png")
    monkeypatch.setattr(images, "load_image", lambda *args, **kwargs: pytest.fail("the picture was read"))
    with pytest.raises(UsageError, match=r"colorize_image_file takes a Colorizer \(Colorizer.load\(...\)\), not str"):
        colorize_image_file("default", tmp_path / "g.png", tmp_path / "c.png")
    with pytest.raises(UsageError, match="colorize_video has no option 'foo'; its options: dependent_model, "):
        Colorizer.load(tiny_model, device="cpu").colorize_video(tmp_path / "g.png", tmp_path / "c.mp4", foo=1)
    assert not (tmp_path / "c.png").exists() and not (tmp_path / "c.mp4").exists()


def test_a_batchs_failures_go_where_the_caller_says(tmp_path, tiny_model, capsys, caplog):
    """Probe 147: `colorize_paths` printed each failure on standard error, whatever log the caller gave and
    whatever the `rehue` logger's level."""
    import logging

    from rehue.inference.files import colorize_paths

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(40, 60)).save(photos / "good.png")
    (photos / "bad.jpg").write_text("not a picture")
    lines = []
    summary = colorize_paths([photos], tmp_path / "out", model=str(tiny_model), device="cpu", progress=False,
                             log=lines.append)
    assert len(summary.failed) == 1 and capsys.readouterr().err == ""
    assert [line for line in lines if line.startswith("rehue: error: ")] == [
        f"rehue: error: {photos / 'bad.jpg'}: not an image file (or a format Pillow cannot read)"]
    with caplog.at_level(logging.ERROR, logger="rehue"):  # a service: no log given, progress off
        colorize_paths([photos], tmp_path / "out2", model=str(tiny_model), device="cpu", progress=False)
    assert capsys.readouterr().err == ""
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == [
        f"{photos / 'bad.jpg'}: not an image file (or a format Pillow cannot read)"]


def test_a_bool_array_is_read_as_a_one_bit_picture(tiny_model):
    """Probe 169 asked how a bool array is read (the README said nothing of it): False black, True white, as a
    1-bit PNG is; said in the README now. Passes on the code before too: it guards the reading."""
    from rehue.inference.colorizer import Colorizer

    colorizer = Colorizer.load(tiny_model)
    mask = np.random.default_rng(0).random((48, 64)) > 0.5
    assert np.array_equal(colorizer.colorize(mask), colorizer.colorize(mask.astype(np.uint8) * 255))


def test_an_array_or_a_pil_image_past_the_pixel_limit_is_refused_as_a_file_is(tiny_model, monkeypatch):
    """Probe 190: files were refused past ``MAX_PIXELS``, an array or a PIL image not: a 70,000-pixel square (a
    view of one value, no memory of its own) had the process killed for memory, and a server with it."""
    from rehue.data import images

    colorizer = Colorizer.load(tiny_model, device="cpu")
    huge = np.lib.stride_tricks.as_strided(np.full(1, 100, np.uint8), (70_000, 70_000), (0, 0))
    for image in (huge, np.broadcast_to(np.uint16(300), (70_000, 70_000, 4))):
        with pytest.raises(RehueError, match=r"^image too large \(70000x70000 pixels; limit 120,000,000\)$"):
            colorizer.colorize(image)
    monkeypatch.setattr(images, "MAX_PIXELS", 2000)
    with pytest.raises(RehueError, match=r"^image too large \(60x40 pixels; limit 2,000\)$"):
        colorizer.colorize(Image.new("L", (60, 40), 90))
    assert colorizer.colorize(np.full((40, 50), 90, np.uint8)).shape == (40, 50, 3), "at the limit, coloured"


def test_finite_weights_whose_colours_overflow_are_refused_not_drawn(tmp_path, capsys):
    """Probe 204: weights finite but overflowing (each convolution's 1e12 times) coloured photos a saturated warm
    cast, exit 0, and `evaluate` scored them; NaN weights were refused as the model loaded (probe 128)."""
    from safetensors.torch import load_file, save_file

    from rehue.cli import main
    from tests.conftest import make_tiny_model

    path = make_tiny_model(tmp_path / "overflow.safetensors")
    tensors = load_file(str(path))
    save_file({key: tensor * 1e12 if tensor.dim() == 4 else tensor for key, tensor in tensors.items()}, str(path))
    said = f"{path}: its colours come out NaN or infinite: its weights overflow (the file is damaged, or its training "
    with pytest.raises(RehueError, match=f"^{re.escape(said)}"):
        Colorizer.load(path, device="cpu").colorize(textured_rgb(40, 48))
    Image.fromarray(textured_rgb(40, 48)[..., 0]).save(tmp_path / "photo.png")
    assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out.png"), "--model", str(path)]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [f"rehue: error: {said}diverged)"]
    assert not (tmp_path / "out.png").exists()


def test_a_name_too_long_for_the_file_system_and_ragged_rows_are_rehue_errors(tmp_path, tiny_model, monkeypatch):
    """Probe 225: a name too long for the file system was Python's own OSError (Colorizer.load, colorize,
    colorize_video, evaluate, train), and a list of rows of unequal lengths numpy's own ValueError."""
    import rehue

    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    Image.fromarray(np.full((16, 16), 90, np.uint8)).save("gray.png")
    long_name = "a" * 300
    colorizer = Colorizer.load(tiny_model, device="cpu")
    calls = [lambda: Colorizer.load(long_name + ".safetensors"), lambda: colorizer.colorize(long_name + ".png"),
             lambda: colorizer.colorize_video(long_name + ".mp4", "out.mp4", progress=False),
             lambda: rehue.evaluate(tiny_model, [long_name], "report", progress=False),
             lambda: rehue.evaluate(tiny_model, ["gray.png"], long_name, progress=False),
             lambda: rehue.train(rehue.TrainConfig(data=long_name, out="run")),
             lambda: rehue.train(rehue.TrainConfig(data="gray.png", out=long_name))]
    from rehue.inference.files import colorize_paths
    from tests.helpers_video import make_clip, textured_frames

    make_clip("clip.mp4", textured_frames(2, 16, 16))  # probe 228: the outputs' names, and colorize_paths
    calls += [lambda: colorizer.colorize_video("clip.mp4", long_name + ".mp4", progress=False),
              lambda: colorize_paths(["gray.png"], Path(long_name + ".png"), model=tiny_model, progress=False),
              lambda: colorize_paths([long_name + ".png"], Path("out.png"), model=tiny_model, progress=False)]
    for call in calls:
        with pytest.raises(RehueError, match=f"{long_name}.*: File name too long$"):
            call()
    for call in (lambda: colorizer.colorize_video("clip.mp4", "o\0.mp4", progress=False),
                 lambda: colorize_paths(["gray.png"], Path("o\0.png"), model=tiny_model, progress=False),
                 lambda: rehue.train(rehue.TrainConfig(data="a\0b", out="run")),
                 lambda: rehue.train(rehue.TrainConfig(data="gray.png", out="r\0n"))):
        with pytest.raises(RehueError, match=r"\\x00.*: not a path a file can have \(embedded null byte\)$"):
            call()
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["clip.mp4", "gray.png"]
    for ragged, said in (([[1, 2], [3]], "a list whose rows are not all of one length is not an image"),
                         (((1, 2), (3, None)), "a tuple of values other than numbers (None, text, or integers past 64 "
                                               "bits) is not an image")):
        with pytest.raises(RehueError, match=re.escape(said)):
            colorizer.colorize(ragged)


def test_models_of_other_thread_counts_called_at_once_leave_the_process_count_as_it_was(tiny_model):
    """Probe 225: two models of 1 and 3 threads on the PyTorch backend, called at once from 4 threads, gave back
    each other's counts: the process was left with 1 or 3 threads, not its 2."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import torch

    def in_a_new_thread():
        counts = []
        thread = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        return counts[0]

    before = torch.get_num_threads()
    process = in_a_new_thread()
    models = [Colorizer.load(tiny_model, device="cpu", backend="torch", threads=threads) for threads in (1, 3)]
    gray = np.full((64, 64), 90, np.uint8)
    alone = models[0].colorize(gray)
    for _ in range(5):
        with ThreadPoolExecutor(4) as pool:
            outputs = list(pool.map(lambda i: (models[i % 2].colorize(gray), torch.get_num_threads()), range(40)))
        assert all(np.array_equal(rgb, alone) for rgb, _ in outputs[::2])
        assert {count for _, count in outputs} == {process}, "each thread's count given back as its call ends"
        assert (in_a_new_thread(), torch.get_num_threads()) == (process, before)
