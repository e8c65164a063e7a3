"""How much of the input's L* a coloured video keeps: a lossless FFV1 master against H.264.

    .venv/bin/python benchmarks/lossless.py [--clip samples/bigbuckbunny-gray.mp4] [--model default]

Colours the clip twice with `rehue colorize` (``--codec ffv1`` into .mkv, the default H.264 into .mp4)
and prints, per codec, the largest and the mean |L* of the output - L* of the gray input| over every
frame, the file size and the frames per second. rehue keeps L* when it joins the colours, so what is
left is the codec's loss (and 8-bit RGB rounding).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def lightness_kept(clip: Path, outputs: dict[str, Path]) -> dict[str, tuple[float, float]]:
    """{name: (largest, mean) |L* error| against ``clip``'s frames} for each coloured video in ``outputs``."""
    from contextlib import ExitStack

    from rehue.color.lab import rgb_to_lightness
    from rehue.video.io import VideoReader

    errors = {name: [] for name in outputs}
    with ExitStack() as stack:
        source = stack.enter_context(VideoReader(clip))
        readers = {name: stack.enter_context(VideoReader(path)) for name, path in outputs.items()}
        for frames in zip(source, *readers.values(), strict=True):
            lightness = rgb_to_lightness(np.repeat(frames[0].gray[..., None], 3, axis=2))
            for name, frame in zip(readers, frames[1:], strict=True):
                error = np.abs(rgb_to_lightness(frame.rgb) - lightness)
                errors[name].append((float(error.max()), float(error.mean())))
    return {name: (max(e[0] for e in rows), float(np.mean([e[1] for e in rows]))) for name, rows in errors.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=Path("samples/bigbuckbunny-gray.mp4"))
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_video

    colorizer = Colorizer.load(args.model)
    with tempfile.TemporaryDirectory() as folder:
        outputs = {"ffv1": Path(folder) / "master.mkv", "h264": Path(folder) / "access.mp4"}
        rates = {name: colorize_video(args.clip, path, colorizer=colorizer, codec=name, progress=False,
                                      log=lambda _: None).fps for name, path in outputs.items()}
        kept = lightness_kept(args.clip, outputs)
        print("| codec | largest L* error | mean L* error | size | frames/s |")
        print("|---|---|---|---|---|")
        for name, path in outputs.items():
            print(f"| {name} | {kept[name][0]:.2f} | {kept[name][1]:.3f} | {path.stat().st_size / 1e6:.1f} MB "
                  f"| {rates[name]:.1f} |")


if __name__ == "__main__":
    main()
