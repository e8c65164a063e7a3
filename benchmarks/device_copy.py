"""A copy of the demo set small enough for a lent GPU machine (it takes 64 MiB of files and has no PyAV):
every photo scaled to 256 px on its short side (the size `rehue train` caches photos at for 128x128
crops), JPEG q95 without chroma subsampling, and the training clips' frames every 0.5 s as training
photos that together weigh what their clip weighs. About 21 MB.

    .venv/bin/python benchmarks/device_copy.py --out .gpu/data
"""
import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image

from rehue.data.datasets import VIDEO_FRAME_EVERY_S, VIDEO_WEIGHT_IN_PHOTOS, frames_every
from rehue.data.images import load_image


def save_scaled(rgb: np.ndarray, path: Path, short_side: int = 256) -> None:
    height, width = rgb.shape[:2]
    image = Image.fromarray(rgb)
    scale = short_side / min(height, width)
    if scale < 1:
        image = image.resize((max(1, round(width * scale)), max(1, round(height * scale))),
                             Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, quality=95, subsampling=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="data/demo")
    parser.add_argument("--out", default=".gpu/data")
    args = parser.parse_args()
    demo, out = Path(args.demo), Path(args.out)
    with open(demo / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0])
    kept = []
    for row in rows:
        if row["kind"] == "photo":
            path = str(Path(row["path"]).with_suffix(".jpg"))
            save_scaled(load_image(demo / row["path"]).rgb, out / path)
            kept.append({**row, "path": path})
    median = float(np.median([float(r["weight"]) for r in kept if r["split"] == "train"]))
    for row in rows:
        if row["kind"] != "video" or row["split"] != "train":
            continue
        frames = list(frames_every(demo / row["path"], VIDEO_FRAME_EVERY_S))
        for index, rgb in enumerate(frames):
            path = f"clips/{Path(row['path']).stem}_{index:03d}.jpg"
            save_scaled(rgb, out / path)
            kept.append({**row, "path": path, "kind": "photo",  # the clip's source and licence
                         "weight": f"{VIDEO_WEIGHT_IN_PHOTOS * median / len(frames):.6f}"})
    with open(out / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)
    print(f"{len(kept)} photos in {out}")


if __name__ == "__main__":
    main()
