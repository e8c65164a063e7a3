"""Peak memory of `rehue colorize` on a long 1280x720 clip with sound against a clip a tenth as long
(video issue: memory must stay flat in the clip's length). Each colouring runs in a fresh process.

    .venv/bin/python benchmarks/long_video_memory.py [--minutes 10] [--fps 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys
from rehue.bench import peak_rss_bytes
from rehue.cli import main
code = main(["colorize", sys.argv[1], "-o", sys.argv[2], "--no-progress", "--preset", "veryfast"])
print("PEAK", peak_rss_bytes())
sys.exit(code)
"""


def make_long_clip(path: Path, seconds: float, fps: int) -> Path:
    from fractions import Fraction

    import av
    import numpy as np

    from rehue.bench import clip_frames

    rate = 48000
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "28"})
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        video.time_base = Fraction(1, fps)
        sound = container.add_stream("aac", rate=rate, layout="stereo")
        per_frame = rate // fps
        for index, rgb in enumerate(clip_frames(int(seconds * fps), 720, 1280)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
            t = np.arange(index * per_frame, (index + 1) * per_frame) / rate
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            chunk = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, index * per_frame, Fraction(1, rate)
            container.mux(sound.encode(chunk))
        container.mux(video.encode(None))
        container.mux(sound.encode(None))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=10)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, seconds in (("short", args.minutes * 6), ("long", args.minutes * 60)):
            clip = make_long_clip(Path(tmp) / f"{label}.mp4", seconds, args.fps)
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", CHILD, str(clip), str(Path(tmp) / f"{label}-out.mp4")],
                                  capture_output=True, text=True)
            wall = time.perf_counter() - started
            peak = [int(x.split()[1]) for x in proc.stdout.splitlines() if x.startswith("PEAK")]
            results[label] = {"seconds_of_video": seconds, "frames": int(seconds * args.fps), "exit": proc.returncode,
                              "wall_s": round(wall, 1), "peak_rss_mib": round(peak[0] / 2**20, 1) if peak else None}
            print(label, results[label], flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
