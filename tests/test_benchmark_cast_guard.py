"""benchmarks/cast_guard.py (take the tint off outputs that are nearly all warm) on made-up a*b* and tiny models."""

import numpy as np
import pytest

from rehue.color.lab import AB_SCALE, rgb_to_lab
from rehue.evaluation.metrics import warm_share
from tests.helpers_benchmarks import fold_runs, load_benchmark


@pytest.fixture
def guard():
    return load_benchmark("cast_guard")


def _ab(a, b, size=32):
    """Normalised (2, size, size) a*b* of ``a``, ``b`` units everywhere, with a little texture."""
    texture = np.random.default_rng(0).normal(0, 0.5, (2, size, size))
    return ((np.array([a, b])[:, None, None] + texture) / AB_SCALE).astype(np.float32)


def test_only_an_output_that_is_nearly_all_warm_loses_its_tint(guard):
    gray = np.full((32, 32), 128, np.uint8)
    brown = _ab(6.0, 12.0)  # a faint orange-brown over the whole picture
    output, acted = guard.guarded(gray, brown, None, 0.9)
    assert not acted and warm_share(output) > 0.99
    output, acted = guard.guarded(gray, brown, 0.0, 0.9)
    assert acted
    mean_ab = rgb_to_lab(output)[..., 1:].mean(axis=(0, 1))
    assert np.abs(mean_ab).max() < 0.5, "K 0 keeps none of the mean"
    half, _ = guard.guarded(gray, brown, 0.5, 0.9)
    assert rgb_to_lab(half)[..., 2].mean() == pytest.approx(6.0, abs=0.6), "K 0.5 keeps half of b* 12"
    mixed = np.concatenate([brown[:, :16], _ab(-5.0, -15.0)[:, 16:]], axis=1)  # half blue sky
    output, acted = guard.guarded(gray, mixed, 0.0, 0.9)
    assert not acted and warm_share(output) < 0.9


def test_main_scores_the_cross_validation_and_the_held_out_sets(tmp_path, guard, monkeypatch, capsys):
    demo, training, runs = fold_runs(tmp_path)
    monkeypatch.setattr("sys.argv", ["cast_guard.py", "--demo", str(demo), "--runs", str(runs), "--model",
                                     str(runs / "0" / "model.safetensors"), "--threshold", "0"])
    guard.main()
    printed = capsys.readouterr().out
    assert f"cross-validation over the {len(training)} training photos" in printed
    rows = {line.split("|")[1].strip(): line.split("|") for line in printed.splitlines()
            if line.startswith(("| no guard", "| K "))}
    assert set(rows) == {"no guard", "K 0.5", "K 0"}
    assert rows["no guard"][6].strip() == "0"
    coloured = int(rows["K 0"][6])
    assert coloured > 0, "at threshold 0 every output with colour is guarded"
    assert rows["K 0"][2] != rows["no guard"][2], "the guarded outputs score differently"
    for name in ("first four", "lomiri four", "GCompris fifteen", "blind twenty-three", "Scratch forty-seven",
                 "KPhotoAlbum twenty-four"):
        assert f"| {name} | K 0 |" in printed
