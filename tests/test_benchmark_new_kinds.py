"""benchmarks/new_kinds.py (training on half of a new kind of photo, scoring on the other half): its data sets."""

import csv

import pytest

from tests.helpers_benchmarks import load_benchmark
from tests.test_benchmark_out_of_fold import demo_set


@pytest.fixture
def new_kinds():
    return load_benchmark("new_kinds")


def test_the_halves_alternate_through_the_sorted_photos(tmp_path, new_kinds):
    photos = [tmp_path / f"p{i}.jpg" for i in (3, 0, 4, 1, 2)]
    split = new_kinds.halves(photos)
    assert split == {"half A": [tmp_path / "p0.jpg", tmp_path / "p2.jpg", tmp_path / "p4.jpg"],
                     "half B": [tmp_path / "p1.jpg", tmp_path / "p3.jpg"]}


def test_added_photos_train_at_the_median_weight_and_nothing_else_changes(tmp_path, new_kinds):
    demo, training = demo_set(tmp_path / "demo", n_train=3)
    with open(demo / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row, weight in zip(rows[:3], ["1.0", "2.0", "4.0"], strict=True):
        row["weight"] = weight
    with open(demo / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    added = demo / "photos/mate-backgrounds/Dune.jpg"
    data = new_kinds.data_with(demo, tmp_path / "data", [added])
    with open(data / "manifest.csv", newline="") as fh:
        after = {r["path"]: r for r in csv.DictReader(fh)}
    assert after["photos/mate-backgrounds/Dune.jpg"]["split"] == "train"
    assert after["photos/mate-backgrounds/Dune.jpg"]["weight"] == "2.0000"
    assert [after[r["path"]] for r in rows if r["path"] != "photos/mate-backgrounds/Dune.jpg"] == \
        [r for r in rows if r["path"] != "photos/mate-backgrounds/Dune.jpg"]
    assert (data / "photos/mate-backgrounds/Dune.jpg").is_file()
