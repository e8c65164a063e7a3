import csv
import json

import numpy as np
import pytest
from PIL import Image

from rehue.data.datasets import build_datasets, degrade_prev_ab, jitter_colour
from rehue.errors import RehueError
from tests.conftest import textured_rgb


def make_demo_like(root, photos=5, stamps=3):
    rows = []
    (root / "photos").mkdir(parents=True)
    (root / "stamps").mkdir()
    for i in range(photos):
        path = f"photos/p{i}.png"
        Image.fromarray(textured_rgb(80, 100, seed=i)).save(root / path)
        rows.append({"path": path, "kind": "photo", "split": "test" if i == 0 else "train", "weight": 1 + i})
    for i in range(stamps):
        path = f"stamps/s{i}.png"
        rgba = np.zeros((40, 30, 4), np.uint8)
        rgba[..., 0] = 255
        rgba[10:30, 5:25, 3] = 255
        Image.fromarray(rgba, "RGBA").save(root / path)
        rows.append({"path": path, "kind": "stamp", "split": "train", "weight": 1})
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "kind", "split", "weight"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_demo_manifest_gives_held_out_split_weights_and_stamps(tmp_path):
    root = make_demo_like(tmp_path / "demo")
    train, val = build_datasets(root, 32, stamp_share=0.5)
    assert [p.name for p in val.paths] == ["p0.png"]
    assert sorted(p.name for p in train.paths) == ["p1.png", "p2.png", "p3.png", "p4.png"]
    assert train.weights.tolist() == [2, 3, 4, 5] and len(train.stamps) == 3
    pasted = train._paste_stamps(np.zeros((32, 32, 3), np.uint8), np.random.default_rng(0))
    assert pasted[..., 0].max() == 255 and pasted[..., 1].max() == 0, "a red cut-out landed on the crop"



def test_a_sets_clip_that_cannot_be_read_is_skipped_as_a_photo_is(tmp_path):
    """Probe 129: a demo-style set whose manifest lists a damaged training clip ended the run ("not a video
    file FFmpeg can read"), where a damaged photo is skipped with a warning."""
    from tests.helpers_video import make_clip, textured_frames

    root = make_demo_like(tmp_path / "demo", stamps=0)
    (root / "videos").mkdir()
    make_clip(root / "videos" / "good.mp4", list(textured_frames(6, 48, 64)), fps=2)
    (root / "videos" / "broken.mp4").write_text("not a film")
    with open(root / "manifest.csv", "a", newline="") as fh:
        fh.write("videos/broken.mp4,video,train,1\nvideos/good.mp4,video,train,1\n")
    said = []
    train, _ = build_datasets(root, 32, log=said.append)
    assert [line for line in said if "broken.mp4" in line] == [
        f"warning: skipping {root / 'videos' / 'broken.mp4'}: not a video file FFmpeg can read (Invalid data found "
        "when processing input)"]
    assert any(str(path).startswith(str(root / "videos" / "good.mp4")) for path in train.paths)

def test_stamps_are_pasted_on_the_asked_share_of_crops(tmp_path):
    root = make_demo_like(tmp_path / "demo")
    assert build_datasets(root, 32)[0].stamps == []  # off by default, not even loaded
    for photo in (root / "photos").iterdir():  # grey photos: any colour in a crop is a pasted red cut-out
        Image.open(photo).convert("L").convert("RGB").save(photo)

    def crops_with_red_cut_outs(share):
        train, _ = build_datasets(root, 32, stamp_share=share)
        train._rng = np.random.default_rng(0)
        return sum(bool((train[0]["ab"][0] > 0.3).any()) for _ in range(40))

    with pytest.raises(RehueError, match="all 4 photos are gray"):
        crops_with_red_cut_outs(0.0)
    assert crops_with_red_cut_outs(1e-9) == 0
    assert crops_with_red_cut_outs(1.0) == 40
    assert 8 <= crops_with_red_cut_outs(0.5) <= 32


def test_studio_crops_are_cut_outs_on_a_plain_near_neutral_backdrop(tmp_path):
    root = make_demo_like(tmp_path / "demo")  # colourful textured photos, red cut-outs
    train, val = build_datasets(root, 32, studio_share=1.0)
    assert len(train.stamps) == 3 and val.studio_share == 0
    train._rng = np.random.default_rng(0)
    levels = []
    for _ in range(20):
        item = train[0]
        chroma = item["ab"].norm(dim=0)
        backdrop = chroma < 0.1  # |ab| < 11: neutral or a faint tint
        assert backdrop.float().mean() > 0.3, "most of a studio crop is its backdrop"
        assert (item["ab"][0] > 0.3).any(), "the red cut-out is on it"
        levels.append(item["lightness"][0][backdrop].mean().item())
    assert np.ptp(levels) > 0.5, "backdrops range from dark to light grey"
    assert build_datasets(root, 32)[0].stamps == []  # off by default


def test_cut_out_settings_without_cut_outs_are_refused(photo_folder):
    with pytest.raises(RehueError, match="manifest.csv lists stamps"):
        build_datasets(photo_folder, 32, studio_share=0.2)
    with pytest.raises(RehueError, match="manifest.csv lists stamps"):
        build_datasets(photo_folder, 32, stamp_share=0.2)


def test_colour_jitter_scales_chroma_and_turns_hue_within_its_bounds():
    import math

    import torch

    ab = torch.zeros(2, 8, 8)
    ab[0], ab[1] = 0.3, 0.1  # one colour everywhere: chroma 0.316, hue 18.4 degrees
    chroma, hue = math.hypot(0.3, 0.1), math.degrees(math.atan2(0.1, 0.3))
    rng = np.random.default_rng(0)
    scales, turns = [], []
    for _ in range(200):
        out = jitter_colour(ab, rng, 0.3)
        assert torch.allclose(out, out[:, :1, :1].expand_as(out)), "the same change for every pixel"
        a, b = out[0, 0, 0].item(), out[1, 0, 0].item()
        scales.append(math.hypot(a, b) / chroma)
        turns.append(math.degrees(math.atan2(b, a)) - hue)
    assert 0.7 <= min(scales) < 0.75 and 1.25 < max(scales) <= 1.3
    assert -12 <= min(turns) < -10 and 10 < max(turns) <= 12
    assert torch.equal(jitter_colour(ab, rng, 0.0), ab)
    neutral = torch.zeros(2, 4, 4)
    assert torch.equal(jitter_colour(neutral, rng, 0.3), neutral), "grey stays grey"


def test_colour_jitter_reaches_training_items_only(photo_folder):
    train, val = build_datasets(photo_folder, 32, val_fraction=0.25, colour_jitter=0.3)
    plain, _ = build_datasets(photo_folder, 32, val_fraction=0.25)
    assert val.colour_jitter == 0
    train._rng, plain._rng = np.random.default_rng(5), np.random.default_rng(5)
    jittered, original = train[0], plain[0]
    assert np.array_equal(jittered["lightness"].numpy(), original["lightness"].numpy()), "L* untouched"
    assert not np.allclose(jittered["ab"].numpy(), original["ab"].numpy())


def test_colour_jitter_also_reaches_frame_and_cifar_style_arrays():
    from rehue.data.datasets import ArrayDataset

    images = np.stack([textured_rgb(16, 16, seed=i) for i in range(3)])
    plain = ArrayDataset(images, flips=False)[1]
    jittered = ArrayDataset(images, flips=False, colour_jitter=0.3)[1]
    assert np.array_equal(jittered["lightness"].numpy(), plain["lightness"].numpy())
    assert not np.allclose(jittered["ab"].numpy(), plain["ab"].numpy())
    held_out = ArrayDataset(images, train=False, colour_jitter=0.3)[1]
    assert np.array_equal(held_out["ab"].numpy(), plain["ab"].numpy()), "validation colours stay true"


def test_crop_min_sets_the_smallest_training_crop(tmp_path):
    """A photo whose L* rises evenly from left to right: a crop's L* range is its share of the photo's side."""
    from rehue.color.lab import lab_to_rgb

    folder = tmp_path / "ramp"
    folder.mkdir()
    lab = np.zeros((200, 200, 3), np.float32)
    lab[..., 0] = np.linspace(0, 100, 200)[None, :]
    lab[..., 1] = 8  # a faint red: a training photo needs some colour
    ramp = (lab_to_rgb(lab) * 255 + 0.5).astype(np.uint8)
    for name in ("a.png", "b.png"):
        Image.fromarray(ramp).save(folder / name)

    def crop_shares(crop_min):
        train, _ = build_datasets(folder, 32, val_fraction=0.5, crop_min=crop_min)
        train._rng = np.random.default_rng(0)
        ranges = []
        for _ in range(60):
            lightness = train[0]["lightness"][0].numpy()
            ranges.append(abs(lightness[:, -1].mean() - lightness[:, 0].mean()))  # mirrored crops fall
        return np.array(ranges) / 2  # the whole photo spans 2 (L* 0 to 100, normalised to -1..1)

    default = crop_shares(0.35)
    assert 0.3 < default.min() < 0.45 and default.max() > 0.9
    assert crop_shares(0.8).min() > 0.75
    assert np.allclose(crop_shares(1.0), crop_shares(1.0).max(), atol=0.02), "crop_min 1: always the whole side"
    # the held-out view is always the whole centre square, whatever crop_min is
    _, val = build_datasets(folder, 32, val_fraction=0.5, crop_min=0.8)
    assert val.crop_min == 0.35 and 1.0 - val[0]["lightness"][0].numpy()[:, 0].mean() > 0.95


def test_validation_items_are_deterministic_and_training_items_vary(photo_folder):
    train, val = build_datasets(photo_folder, 32, val_fraction=0.25)
    assert np.array_equal(val[0]["ab"].numpy(), val[0]["ab"].numpy())
    train._rng = np.random.default_rng(0)
    first = train[0]["ab"].numpy()
    assert not np.array_equal(first, train[0]["ab"].numpy())


def test_synthetic_pairs_for_the_dependent_model(photo_folder):
    train, _ = build_datasets(photo_folder, 32, dependent=True)
    train._rng = np.random.default_rng(0)  # about 1 move in 100 is tinier than 0.005: no flaky draw
    item = train[0]
    assert item["prev_ab"].shape == (2, 32, 32) and item["ab"].shape == (2, 32, 32)
    assert item["prev_lightness"].shape == (1, 32, 32)
    moves = []
    for index in range(40):
        item = train[index % len(train)]
        moves.append((item["prev_lightness"] - item["lightness"]).abs().mean().item())
    assert min(moves) > 0 and max(moves) < 0.5, "the previous frame is the same scene, a small camera move away"
    assert 0.005 < np.median(moves) < 0.2


def test_pair_item_carries_the_previous_frame():
    from rehue.color.lab import normalize_lightness, rgb_to_lab
    from rehue.data.datasets import pair_item

    prev, frame = textured_rgb(16, 16, seed=1), textured_rgb(16, 16, seed=2)
    item = pair_item(prev, frame, np.random.default_rng(0))
    expected = normalize_lightness(rgb_to_lab(prev)[..., :1]).transpose(2, 0, 1)
    assert np.allclose(item["prev_lightness"].numpy(), expected, atol=1e-6)
    assert not np.allclose(item["lightness"].numpy(), expected, atol=1e-3)


def test_degraded_previous_colours_are_smoother_but_not_systematically_weaker():
    rng = np.random.default_rng(0)
    ab = rng.uniform(-0.5, 0.5, (32, 32, 2)).astype(np.float32)
    ab = np.stack([cv2_blur(ab[..., 0]), cv2_blur(ab[..., 1])], -1)
    degraded = [degrade_prev_ab(ab, np.random.default_rng(s)) for s in range(200)]
    kept = [d for d in degraded if np.abs(d).max() > 0]
    assert 150 < len(kept) < 200, "about one in ten loses its colours"
    ratios = [np.abs(d).mean() / np.abs(ab).mean() for d in kept]
    assert 0.8 < np.mean(ratios) < 1.05
    speckle = rng.uniform(-0.5, 0.5, (32, 32, 2)).astype(np.float32)
    smoothed = [degrade_prev_ab(speckle, np.random.default_rng(s)) for s in range(20)]
    assert max(np.abs(np.diff(d, axis=0)).mean() for d in smoothed) < np.abs(np.diff(speckle, axis=0)).mean()


def cv2_blur(plane):
    import cv2

    return cv2.GaussianBlur(plane, (0, 0), 2.0)


def test_an_unreadable_photo_never_leaves_the_validation_split_empty(photo_folder):
    """The split is drawn among the photos that decode: before, a seed that drew the one corrupt file for
    validation stopped training with "no readable images found" in a folder of readable photos."""
    (photo_folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    readable = sorted(f"p{i}.png" for i in range(4))
    for seed in range(12):
        messages = []
        train, val = build_datasets(photo_folder, 32, seed=seed, log=messages.append)
        names = [p.name for p in train.paths], [p.name for p in val.paths]
        assert len(names[1]) == 1 and sorted(names[0] + names[1]) == readable, seed
        assert train.train and not val.train and len(val) == 1
        assert messages[-1] == "1 of 5 files skipped as unreadable"


def test_a_folder_split_is_the_same_whichever_way_the_photos_are_loaded(photo_folder):
    train, val = build_datasets(photo_folder, 32, seed=3, log=lambda message: None)
    order = np.random.default_rng(3).permutation(4)
    assert [p.name for p in val.paths] == [f"p{order[0]}.png"]
    assert [p.name for p in train.paths] == [f"p{i}.png" for i in sorted(order[1:])]


def test_a_folder_with_one_readable_photo_or_none_is_a_clear_error(photo_folder):
    for path in sorted(photo_folder.iterdir())[1:]:
        path.write_bytes(b"truncated")
    messages = []
    train, val = build_datasets(photo_folder, 32, log=messages.append)
    assert [p.name for p in train.paths] == [p.name for p in val.paths] == ["p0.png"], "one photo: it is both"
    assert messages[-1] == (f"warning: {photo_folder}: one photo, none held out, so validation scores a photo the "
                            "model trains on, and its scores flatter the model")
    build_datasets(photo_folder, 32)  # no log given (probe 76: "'NoneType' object is not callable")
    (photo_folder / "p0.png").write_bytes(b"truncated")
    with pytest.raises(RehueError, match="no readable images found"):
        build_datasets(photo_folder, 32, log=lambda message: None)


def test_reading_a_photo_folder_shows_progress_when_asked(tmp_path, capsys):
    from PIL import Image

    from rehue.data.datasets import build_datasets
    from tests.conftest import textured_rgb

    for i in range(4):
        Image.fromarray(textured_rgb(40, 50, seed=i)).save(tmp_path / f"p{i}.png")
    build_datasets(tmp_path, 32, log=lambda msg: None)
    assert "reading the photos" not in capsys.readouterr().err
    train, val = build_datasets(tmp_path, 32, log=lambda msg: None, progress=True)
    assert len(train.images) + len(val.images) == 4
    err = capsys.readouterr().err
    assert "reading the photos" in err and "/4 [" in err, "a bar over the 4 photos"


def test_gray_training_photos_are_named_and_a_folder_of_them_is_refused(photo_folder):
    """Before, a folder of gray scans trained a model that learned gray, without a word."""
    gray = textured_rgb(72, 96, seed=9).mean(axis=-1).astype(np.uint8)
    Image.fromarray(gray).save(photo_folder / "scan.png")
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(photo_folder / "scan-rgb.jpg", quality=80)
    messages = []
    train, _ = build_datasets(photo_folder, 32, seed=0, log=messages.append)
    warning = [m for m in messages if "gray" in m]
    assert len(warning) == 1 and warning[0].startswith("warning: 2 of 6 photos are gray (")
    assert "scan" in warning[0] and "such scenes have no colour" in warning[0]
    for path in photo_folder.glob("p*.png"):
        path.unlink()
    with pytest.raises(RehueError, match="all 2 photos are gray: there is no colour to learn from"):
        build_datasets(photo_folder, 32, log=messages.append)


def test_sampling_weights_stay_with_their_photos_when_one_is_skipped(tmp_path):
    """Before, a skipped photo left the weights one place out of step with the photos after it."""
    from PIL import Image

    from rehue.data.datasets import ImageFolderDataset

    names = ["a.png", "bad.png", "b.png"]
    for i, name in enumerate(names):
        if name == "bad.png":
            (tmp_path / name).write_bytes(b"not a picture")
        else:
            Image.fromarray(textured_rgb(40, 40, seed=i)).save(tmp_path / name)
    dataset = ImageFolderDataset(tmp_path, 32, files=[tmp_path / name for name in names], weights=[1.0, 5.0, 2.0],
                                 log=lambda message: None)
    assert [path.name for path in dataset.paths] == ["a.png", "b.png"]
    assert dataset.weights.tolist() == [1.0, 2.0]


def test_a_manifest_naming_files_outside_its_set_is_refused(tmp_path):
    """Probe 29: a frame set's manifest naming /tmp/... or ../../etc/passwd had training read files from
    anywhere, without a word."""
    import csv

    root = make_demo_like(tmp_path / "demo")
    manifest = root / "manifest.csv"
    with open(manifest, newline="") as file:
        rows = list(csv.DictReader(file))
    for outside in ("/etc/hostname", "../../elsewhere.png", "photos/../../x.png"):
        changed = [{**rows[0], "path": outside}, *rows[1:]]
        with open(manifest, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(changed)
        with pytest.raises(RehueError, match="line 2 names .*, outside the set's folder"):
            build_datasets(root, 32)


def make_frame_set(root, videos=2, frames=3):
    """A frame dataset as `rehue frames` writes it: frames/VIDEO/N.png and a manifest, the last video held out."""
    import csv

    from rehue.data.frames import MANIFEST_FIELDS

    rows = []
    for v in range(videos):
        (root / "frames" / f"v{v}").mkdir(parents=True)
        for i in range(frames):
            path = f"frames/v{v}/{i:06d}.png"
            Image.fromarray(textured_rgb(40, 40, seed=10 * v + i)).save(root / path)
            rows.append({"path": path, "video": f"v{v}.mp4", "time": f"{i / 5:.3f}", "frame_index": 2 * i,
                         "scene": 0, "split": "test" if v == videos - 1 else "train"})
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_a_manifest_saved_with_a_byte_order_mark_is_read_and_one_in_another_form_is_one_line(tmp_path, capsys):
    """Probe 61: a manifest saved by a spreadsheet as "CSV UTF-8" (a byte-order mark first) ended training and
    evaluation in a KeyError traceback; one saved tab-separated was "frame dataset has no test frames"."""
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    for root in (make_demo_like(tmp_path / "demo"), make_frame_set(tmp_path / "set")):
        manifest = root / "manifest.csv"
        text = manifest.read_bytes()
        plain = [[p.name for p in part.paths] if hasattr(part, "paths") else len(part)
                 for part in build_datasets(root, 32)]
        manifest.write_bytes(b"\xef\xbb\xbf" + text)
        assert [[p.name for p in part.paths] if hasattr(part, "paths") else len(part)
                for part in build_datasets(root, 32)] == plain
        for separator in (b"\t", b";"):  # probe 64: a demo-style set's was read as a plain folder of photos
            manifest.write_bytes(text.replace(b",", separator))
            with pytest.raises(RehueError, match=r"manifest.csv: is not comma-separated \(its header reads "
                                                 r"'path(\\t|;)"):
                build_datasets(root, 32)
        for utf16 in (text.decode().encode("utf-16"), text.decode().replace(",", "\t").encode("utf-16-le")):
            manifest.write_bytes(utf16)  # probe 70: "has no 'path' column (its header reads '\udcff\udcfep\x00...')"
            with pytest.raises(RehueError, match="manifest.csv: is UTF-16"):
                build_datasets(root, 32)
        lines = text.decode().splitlines()
        manifest.write_text("\n".join([lines[0], "," + lines[1].split(",", 1)[1], *lines[2:]]) + "\n")
        with pytest.raises(RehueError, match="manifest.csv: line 2 names no file"):
            build_datasets(root, 32)
        manifest.write_bytes(b"\xef\xbb\xbf" + text)
    model = make_tiny_model(tmp_path / "m.safetensors")
    demo = tmp_path / "demo"
    (demo / "manifest.csv").write_bytes((demo / "manifest.csv").read_bytes()[3:].replace(b",", b"\t"))
    assert main(["evaluate", str(demo), "--model", str(model), "--out", str(tmp_path / "ev0"), "-q"]) == 1
    assert "manifest.csv: is not comma-separated" in capsys.readouterr().err
    (demo / "manifest.csv").write_text("name,kind,split\np0.png,photo,test\n")  # a "kind" and no "path"
    assert main(["evaluate", str(demo), "--model", str(model), "--out", str(tmp_path / "ev0"), "-q"]) == 1
    assert "manifest.csv: has no 'path' column" in capsys.readouterr().err, "as training reads it"
    root = tmp_path / "set"
    assert main(["evaluate", str(root), "--model", str(model), "--out", str(tmp_path / "ev"), "-q"]) == 0
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())
    (root / "manifest.csv").write_bytes((root / "manifest.csv").read_bytes()[3:].replace(b"path,", b"file,"))
    capsys.readouterr()
    assert main(["evaluate", str(root), "--model", str(model), "--out", str(tmp_path / "ev2"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.csv: has no 'path' column" in err
    assert not (tmp_path / "ev2").exists()


def test_a_sets_files_that_lead_outside_it_through_links_are_said(tmp_path, capsys):
    """Probe 30: a link in a set to a picture elsewhere was trained on without a word."""
    import os

    root = make_demo_like(tmp_path / "demo")
    outside = tmp_path / "elsewhere.png"
    os.replace(root / "photos" / "p1.png", outside)
    os.symlink(outside, root / "photos" / "p1.png")
    messages = []
    build_datasets(root, 32, log=messages.append)
    assert any("1 of the files its manifest names lead outside it through links, such as" in m for m in messages)


def test_a_manifest_of_another_separator_is_told_by_its_header_and_a_users_own_is_left_alone(tmp_path):
    """Probe 65: a semicolon-separated set whose first path held a comma, or a header with no rows, passed as no
    set's; a user's own tab-separated manifest (path, caption) in a plain photo folder was refused."""
    root = make_demo_like(tmp_path / "demo")
    (root / "photos" / "p0.png").rename(root / "photos" / "p0, copy.png")
    lines = (root / "manifest.csv").read_text().replace("photos/p0.png", '"photos/p0, copy.png"').splitlines()
    semicolons = [lines[0].replace(",", ";")] + [line.replace(",photo,", ";photo;").replace(",stamp,", ";stamp;")
                                                 .replace('"', "") for line in lines[1:]]
    (root / "manifest.csv").write_text("\n".join(semicolons) + "\n")
    with pytest.raises(RehueError, match="is not comma-separated"):
        build_datasets(root, 32)
    (root / "manifest.csv").write_text("path\tkind\tsplit\n")
    with pytest.raises(RehueError, match="is not comma-separated"):
        build_datasets(root, 32)
    (root / "manifest.csv").write_text('"path";"kind";"split"\n"photos/p1.png";"photo";"test"\n')  # all quoted
    with pytest.raises(RehueError, match="is not comma-separated"):  # probe 66: "has no 'path' column"
        build_datasets(root, 32)
    own = tmp_path / "own"
    own.mkdir()
    for i in range(3):
        Image.fromarray(textured_rgb(40, 40, seed=i)).save(own / f"p{i}.png")
    (own / "manifest.csv").write_text("path\tcaption\np0.png\tgrandma\n")
    train, val = build_datasets(own, 32, log=lambda message: None)
    assert len(train.paths) + len(val.paths) == 3, "a plain folder of photos"
    (own / "manifest.csv").write_text("path,split\np0.png,train\np1.png,test\n")  # probe 192: dropped unsaid
    said = []
    train, val = build_datasets(own, 32, log=said.append)
    assert len(train.paths) + len(val.paths) == 3 and said == [
        f"warning: {own / 'manifest.csv'}: its split is not used: a manifest is read where it has a kind column, as "
        "`rehue data demo` writes it; the photos held out are drawn at random"]


def test_a_frame_dataset_whose_frames_folder_is_gone_is_said_so_not_read_as_photos(tmp_path):
    """Probe 213: it was read as a folder of photos, "its split is not used ... no readable images found"."""
    import shutil

    root = make_frame_set(tmp_path / "set", videos=3)
    shutil.rmtree(root / "frames")
    with pytest.raises(RehueError) as refused:
        build_datasets(root, 32, log=lambda message: None)
    assert str(refused.value) == (f"{root}: its manifest.csv is a frame dataset's (rehue frames), and its frames/ "
                                  "folder is missing")
    from rehue.evaluation.evaluate import evaluate
    from tests.conftest import make_tiny_model

    with pytest.raises(RehueError) as refused:  # "nothing to evaluate: no images, frame datasets or videos found"
        evaluate(make_tiny_model(tmp_path / "m.safetensors"), [root], tmp_path / "report", progress=False,
                 log=lambda message: None)
    assert str(refused.value).endswith("its manifest.csv is a frame dataset's (rehue frames), and its frames/ folder "
                                       "is missing") and not (tmp_path / "report").exists()
    (root / "frames").write_bytes(b"")  # probe 216: a file, or a link to nothing, said to be missing
    with pytest.raises(RehueError, match=r"and its frames/ is a file, not a folder$"):
        build_datasets(root, 32, log=lambda message: None)
    (root / "frames").unlink()
    (root / "frames").symlink_to(tmp_path / "gone")
    with pytest.raises(RehueError, match=rf"and its frames/ is a link to {tmp_path / 'gone'}, which is not there$"):
        build_datasets(root, 32, log=lambda message: None)


def test_a_frame_manifest_line_of_junk_is_said_not_dropped(tmp_path):
    """Probe 213: a line replaced by junk had no split, and was dropped from both without a word."""
    root = make_frame_set(tmp_path / "set", videos=3)
    lines = (root / "manifest.csv").read_text().splitlines()
    columns = len(lines[0].split(","))
    for junk, fields in (("junk", "1 field"), (lines[3] + ",extra,more", f"{columns + 2} fields")):
        (root / "manifest.csv").write_text("\n".join([*lines[:3], junk, *lines[4:]]) + "\n")
        with pytest.raises(RehueError) as refused:
            build_datasets(root, 32, log=lambda message: None)
        assert str(refused.value) == (f"{root / 'manifest.csv'}: line 4 has {fields}, and the header {columns} "
                                      "columns: the manifest was edited or damaged (rehue frames writes one field for "
                                      "each column)")
    (root / "manifest.csv").write_text("\n".join([lines[0], "", "", *lines[1:3], "junk", *lines[4:]]) + "\n")
    with pytest.raises(RehueError, match="line 6 has 1 field,"):  # probe 216: counted as rows, "line 4"
        build_datasets(root, 32, log=lambda message: None)


def test_a_frame_manifest_without_a_split_column_says_so(tmp_path):
    """Probe 64: it said "no test frames (split is by video; extract 2+ videos)" of a set of several videos."""
    root = make_frame_set(tmp_path / "set", videos=3)
    with open(root / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(root / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[name for name in rows[0] if name != "split"])
        writer.writeheader()
        writer.writerows({key: value for key, value in row.items() if key != "split"} for row in rows)
    with pytest.raises(RehueError, match="manifest.csv has no split column, so no frame is held out"):
        build_datasets(root, 32)
