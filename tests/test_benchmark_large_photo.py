"""benchmarks/large_photo.py (time and peak memory of one large scan) on a small scan and a tiny model."""

import numpy as np
from PIL import Image

from tests.helpers_benchmarks import load_benchmark


def test_a_scan_is_made_at_its_size_and_coloured_in_a_process_of_its_own(tmp_path, tiny_model):
    large_photo = load_benchmark("large_photo")
    scan = large_photo.make_scan(0.06)
    assert scan.dtype == np.uint16 and scan.shape == (200, 300)
    assert np.ptp(scan) > 30000, "a picture, not a flat field"
    Image.fromarray(scan).save(tmp_path / "scan.tif")
    seconds, peak_mib = large_photo.run_colorize(tmp_path / "scan.tif", tmp_path / "out.png", str(tiny_model))
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (300, 200)
    assert seconds > 0 and 50 < peak_mib < 10_000
