"""What reading a 10-bit master's gray costs: `rehue.video.io.Frame.gray` on a black-and-white ProRes master
(looked up in a table of swscale's own levels of its luma), and swscale's 16-bit gray against the table under each
colour space tag a frame can carry (swscale's default is slow for BT.709, BT.2020 and FCC frames only, and reads
them by way of RGB: rehue's luma, `luma_gray`, is swscale's read by BT.601's matrix whatever the tag).

It writes a 48-frame 1920x1080 ProRes 422 10-bit gray master (a textured gray pattern with noise, by rehue's
own `VideoWriter(..., codec="prores", deep=True)`) into a temporary folder, reads it frame by frame (decode and
``.gray``), then times one frame's two conversions, five times each, with its tag set to each colour space.
docs/performance.md, section G, quotes it.

Run: ``python benchmarks/master_gray.py [--frames N]`` (about 30 s).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

COLOUR_SPACES = {2: "untagged", 1: "BT.709", 4: "FCC", 5: "BT.470BG", 6: "BT.601", 9: "BT.2020"}


def write_master(path: Path, frames: int, width: int = 1920, height: int = 1080) -> Path:
    from rehue.video.io import VideoWriter

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    with VideoWriter(path, width, height, 24, codec="prores", deep=True) as writer:
        for index in range(frames):
            gray = 32768 + 20000 * np.sin(0.05 * cols + 0.03 * rows + 0.1 * index)
            gray = np.clip(gray + rng.integers(0, 256, gray.shape), 0, 65535).astype(np.uint16)
            writer.write(np.dstack([gray] * 3))
    return path


def read_ms(path: Path) -> float:
    """Milliseconds a frame to decode the master and read each frame's ``.gray``."""
    from rehue.video.io import VideoReader

    started, count = time.perf_counter(), 0
    with VideoReader(path) as reader:
        for frame in reader:
            count += frame.gray.size > 0
    return (time.perf_counter() - started) / count * 1000


def conversions_ms(path: Path, repeats: int = 5) -> dict[str, tuple[float, float]]:
    """For each colour space tag: (swscale's default 16-bit gray, the table's), milliseconds for one frame. The
    table's levels are swscale's of the luma (`luma_gray`) whatever the tag, and swscale's default untagged."""
    from rehue.video.io import VideoReader, _luma_levels, _luma_plane, luma_gray

    with VideoReader(path) as reader:
        frame = next(iter(reader)).av_frame
    timings, untagged = {}, None
    for space, name in COLOUR_SPACES.items():
        frame.colorspace = space
        started = time.perf_counter()
        for _ in range(repeats):
            swscale = frame.reformat(format="gray16le", threads=1).to_ndarray()
        middle = time.perf_counter()
        for _ in range(repeats):
            looked_up = _luma_levels(frame)[0][_luma_plane(frame)]
        ended = time.perf_counter()
        untagged = swscale if untagged is None else untagged
        assert np.array_equal(looked_up, luma_gray(frame, "gray16le", threads=1)), name
        assert np.array_equal(looked_up, untagged), name
        timings[name] = ((middle - started) / repeats * 1000, (ended - middle) / repeats * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    frames = parser.parse_args().frames
    with tempfile.TemporaryDirectory() as folder:
        master = write_master(Path(folder) / "master.mov", frames)
        print(f"decode and .gray, {frames} frames of a 1920x1080 ProRes 422 gray master: {read_ms(master):.1f} ms a "
              "frame")
        for name, (swscale, table) in conversions_ms(master).items():
            print(f"tagged {name}: swscale's default 16-bit gray {swscale:.1f} ms, the table {table:.1f} ms (the "
                  "luma's levels)")


if __name__ == "__main__":
    main()
