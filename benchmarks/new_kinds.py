"""Does training on a few photos of a new kind help on more photos of that kind?

The Scratch forty-seven (streets, buildings, rooms, sports grounds; held out whole from the demo set)
are split into two halves by alternating through their sorted names. For each half, a model of the
shipped recipe is trained on the demo set's training photos plus that half (each added photo at the
median training weight; no other photo's weight changes), and scored on the other half; the shipped
recipe without them is scored on both. The other held-out sets show what the addition costs or gains
elsewhere. Scores: PSNR minus gray's at the shipped restraint (smoothing 1.5, scale 0.5), centre crops
at 128x128, as the model card's tables.

    .venv/bin/python benchmarks/new_kinds.py [--demo data/demo] [--runs runs/new-kinds] [--seeds 1 0]

Each model is the third command of scripts/train_shipped.sh (about 3 minutes on a 2-core CPU); one
that exists (runs/new-kinds/NAME-sSEED/model.safetensors) is not trained again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from out_of_fold import RECIPE, SMOOTHING, derived_set, read_manifest_rows, train_run  # noqa: E402
from restraint import held_out_photos, sweep  # noqa: E402

NEW_KIND = "Scratch forty-seven"
SCALE = 0.5


def halves(photos: list[Path]) -> dict[str, list[Path]]:
    ordered = sorted(photos)
    return {"half A": ordered[0::2], "half B": ordered[1::2]}


def data_with(demo: Path, out: Path, added: list[Path]) -> Path:
    """``out``: demo's manifest with ``added`` photos moved into the training split at the median
    training weight, beside links to demo's folders."""
    rows = read_manifest_rows(demo)
    median = float(np.median([float(r["weight"]) for r in rows if r["kind"] == "photo" and r["split"] == "train"]))
    wanted = {str(p.relative_to(demo)) for p in added}
    return derived_set(demo, out, [{**r, "split": "train", "weight": f"{median:.4f}"} if r["path"] in wanted
                                   else r for r in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path("data/demo"))
    parser.add_argument("--runs", type=Path, default=Path("runs/new-kinds"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 0])
    args = parser.parse_args()
    sets = held_out_photos(args.demo)
    split = halves(sets.pop(NEW_KIND))
    scored = {**split, **sets}
    data = {"shipped recipe": args.demo,
            **{f"+ {name}": data_with(args.demo, args.runs / f"data-{name[-1]}", photos)
               for name, photos in split.items()}}
    results = {}
    for seed in args.seeds:
        for name, folder in data.items():
            tag = "base" if folder == args.demo else name[-1]
            run = args.runs / f"{tag}-s{seed}"
            model = train_run(folder, run, [*RECIPE, "--seed", str(seed)], run.name)  # the last --seed counts
            table = sweep(str(model), {k: v for k, v in scored.items() if k != name[2:]}, [SCALE], SMOOTHING)
            results[(name, seed)] = {k: row[f"{SCALE:g}"] for k, row in table.items()}
    columns = list(scored)
    print(f"PSNR minus gray's (dB) at scale {SCALE:g}, colourfulness share in brackets; a half is not scored by the "
          "model trained on it")
    print("| model | seed | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for (name, seed), row in results.items():
        cells = [f"{row[c][0]:+.2f} ({row[c][1]:.2f})" if c in row else "" for c in columns]
        print(f"| {name} | {seed} | " + " | ".join(cells) + " |")
    for name in data:
        rows = [results[(name, seed)] for seed in args.seeds]
        cells = [f"{np.mean([r[c][0] for r in rows]):+.2f}" if c in rows[0] else "" for c in columns]
        print(f"| {name} | mean | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
