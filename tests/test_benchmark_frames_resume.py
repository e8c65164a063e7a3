"""benchmarks/frames_resume.py: its reel, cut where its photos change."""

from rehue.video.pipeline import frame_files
from rehue.video.scenes import SceneDetector
from tests.helpers_benchmarks import load_benchmark


def test_the_reel_is_panned_photos_cut_hard_one_to_the_next(tmp_path):
    import numpy as np
    from PIL import Image

    resume = load_benchmark("frames_resume")
    assert resume.make_reel(tmp_path / "reel", 4, 64, 48) == 20
    frames = frame_files(tmp_path / "reel")
    assert [p.name for p in frames[:2]] == ["reel_00000.png", "reel_00001.png"]
    detector = SceneDetector("robust")
    starts = [i for frame in frames for i, changed in detector.push(np.asarray(Image.open(frame))) if changed]
    starts += [i for i, changed in detector.flush() if changed]
    assert starts == [4, 8, 12, 16]
