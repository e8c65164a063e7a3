"""benchmarks/master_gray.py (docs/performance.md, section G) on a tiny master made here."""

from tests.helpers_benchmarks import load_benchmark


def test_a_gray_masters_reading_and_each_tags_conversions_are_timed(tmp_path):
    master_gray = load_benchmark("master_gray")
    master = master_gray.write_master(tmp_path / "master.mov", 3, width=64, height=48)
    assert master_gray.read_ms(master) > 0
    timings = master_gray.conversions_ms(master, repeats=1)  # each asserts the table's levels are the luma's
    assert list(timings) == list(master_gray.COLOUR_SPACES.values())
    assert all(swscale > 0 and table > 0 for swscale, table in timings.values())
