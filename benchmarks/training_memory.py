"""How far below a training step's real memory the check before training stays (``rehue.training.memory``):
the lower bound it refuses a run by (every layer's output for one sample, worked out on PyTorch's meta device,
the discriminator's twice, times the batch size) beside the peak resident memory a 2-step CPU run of that
configuration adds. The bound must stay below the peak, or a run that fits would be refused.

Each configuration runs in a process of its own (a peak is a process's high-water mark), on photos made here.

Run: ``python benchmarks/training_memory.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIGS = [  # (generator, discriminator, size, batch size)
    ("gen2", "disc2", 64, 32),
    ("gen2", "disc2", 128, 16),
    ("gen1", "disc1", 128, 16),
    ("gen2", "patch", 128, 16),
    ("gen2-classes", "disc2", 64, 16),
]

ONE_RUN = """
import json, resource, sys
from rehue.training.config import TrainConfig
from rehue.training.loop import train
from rehue.training.memory import layer_output_bytes
generator, discriminator, size, batch, data, out = sys.argv[1:]
config = TrainConfig(data=data, out=out, generator=generator, discriminator=discriminator, size=int(size),
                     batch_size=int(batch), epochs=1, steps_per_epoch=2, device="cpu", val_images=4)
bound = int(batch) * (layer_output_bytes(generator, config.in_channels, int(size), config.width, "generator")
                      + 2 * layer_output_bytes(discriminator, 3, int(size), None, "discriminator"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
train(config, progress=False, log=lambda *lines: None)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({"bound": bound, "peak": peak}))
"""


def main() -> int:
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conftest import textured_rgb

    with tempfile.TemporaryDirectory() as scratch:
        photos = Path(scratch) / "photos"
        photos.mkdir()
        for i in range(8):
            Image.fromarray(textured_rgb(160, 192, seed=i)).save(photos / f"p{i}.png")
        print(f"{'generator':<13} {'discriminator':<13} {'size':>4} {'batch':>5} {'bound GB':>9} {'peak GB':>8} "
              f"{'bound/peak':>10}")
        worst = 0.0
        for k, (generator, discriminator, size, batch) in enumerate(CONFIGS):
            done = subprocess.run([sys.executable, "-c", ONE_RUN, generator, discriminator, str(size), str(batch),
                                   str(photos), str(Path(scratch) / f"run{k}")],
                                  capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            ratio = figures["bound"] / figures["peak"]
            worst = max(worst, ratio)
            print(f"{generator:<13} {discriminator:<13} {size:>4} {batch:>5} {figures['bound'] / 1e9:>9.3f} "
                  f"{figures['peak'] / 1e9:>8.3f} {ratio:>10.2f}")
        print(f"highest bound/peak: {worst:.2f} (below 1: no run that fits is refused)")
    return 0 if worst < 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
