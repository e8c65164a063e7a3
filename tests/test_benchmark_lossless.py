"""benchmarks/lossless.py (the FFV1 master's L* against H.264's) on a tiny clip and model."""

from rehue.inference.colorizer import Colorizer
from rehue.video.pipeline import colorize_video
from tests.conftest import textured_rgb
from tests.helpers_benchmarks import load_benchmark
from tests.helpers_video import make_clip


def test_the_lossless_master_keeps_lightness_that_h264_loses(tmp_path, tiny_model):
    import numpy as np

    lossless = load_benchmark("lossless")
    photo = textured_rgb(60, 100, seed=2)
    gray = [np.repeat(photo[:, i : i + 80, 1:2], 3, axis=2) for i in range(6)]
    clip = make_clip(tmp_path / "gray.mp4", gray, fps=12)
    colorizer = Colorizer.load(tiny_model, device="cpu")
    outputs = {"ffv1": tmp_path / "m.mkv", "h264": tmp_path / "a.mp4"}
    for name, path in outputs.items():
        colorize_video(clip, path, colorizer=colorizer, codec=name, dependent_model="none", progress=False,
                       log=lambda _: None)
    kept = lossless.lightness_kept(clip, outputs)
    assert kept["ffv1"][0] < 0.6 < kept["h264"][0]
    assert kept["ffv1"][1] < kept["h264"][1]
