import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rehue.cli import main
from rehue.errors import RehueError, UsageError
from rehue.evaluation.evaluate import evaluate
from rehue.evaluation.metrics import mean_interval
from tests.conftest import textured_rgb
from tests.helpers_video import make_clip, textured_frames, with_drift_check


def test_evaluate_folder_prints_thesis_table_with_gray_baseline(tmp_path, photo_folder, tiny_model, capsys):
    out = tmp_path / "report"
    assert main(["evaluate", str(photo_folder), "--model", str(tiny_model), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| Name | SSIM a | SSIM b | SSIM c | PSNR a | PSNR b | PSNR c" in printed
    assert "gray baseline" in printed and "tiny-independent" in printed
    report = json.loads((out / "metrics.json").read_text())
    assert report["rows"]["gray baseline"]["count"] == 4
    sources = [image["source"] for image in report["rows"]["tiny-independent"]["images"]]
    assert sorted(sources) == sorted(str(path) for path in photo_folder.iterdir())
    verdict = report["verdicts"]["tiny-independent"]
    assert verdict["units"] == 4 and len(verdict["psnr_gain_interval_db"]) == 2
    assert verdict["psnr_standing"] in ("clearly above", "level", "clearly below")
    assert "95% confidence intervals of the mean gain over 4 photos or clips" in printed
    assert Image.open(out / "samples.png").size[0] > 0


def test_full_resolution_scores_follow_the_fit(tmp_path, photo_folder, tiny_model):
    psnr = {}
    for fit in ("native", "letterbox"):
        result = evaluate(tiny_model, [photo_folder], tmp_path / fit, full_res=True, progress=False, fit=fit,
                          log=lambda message: None)
        assert result.extra["photo_fit"] == fit
        psnr[fit] = result.table.rows["tiny-independent"]
    assert psnr["native"] != psnr["letterbox"], "non-square photos are shown to the model differently"
    with pytest.raises(UsageError, match="unknown fit 'square'; choose one of"):
        evaluate(tiny_model, [photo_folder], tmp_path / "centre", progress=False, fit="square")
    with pytest.raises(UsageError, match="^fit letterbox changes only photos scored with full_res:"):
        evaluate(tiny_model, [photo_folder], tmp_path / "centre", progress=False, fit="letterbox")
    assert not (tmp_path / "centre").exists(), "a centre crop is square, where the fits are the same: refused"
    assert evaluate(tiny_model, [photo_folder], tmp_path / "centre", progress=False,
                    log=lambda message: None).extra["resolution"] == "photos: centre crop at 32x32"


def test_gray_input_scores_like_the_baseline_for_a_zero_colour_model(tmp_path, tiny_model):
    import torch

    from rehue.models import ModelCard, create_model, save_model

    model = create_model("gen2", in_channels=1, size=32, width=4)
    with torch.no_grad():
        for p in model.head.parameters():
            p.zero_()
    path = save_model(model, ModelCard("gen2", 1, 32, 4), tmp_path / "zero.safetensors")
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(textured_rgb(50, 60, seed=i)).save(folder / f"{i}.png")
    result = evaluate(path, [folder], tmp_path / "r", progress=False)
    summary = result.table.summary("zero")
    base = result.table.summary("gray baseline")
    assert abs(summary["psnr"]["mean"] - base["psnr"]["mean"]) < 0.3


def test_a_gray_photo_is_no_ground_truth_and_is_skipped_with_a_warning(tmp_path, photo_folder, tiny_model, capsys):
    """A gray "truth" is its own gray answer: before, a folder of gray scans was scored, and the report said
    the model does not beat gray, at 100 dB for the gray answer."""
    gray = np.repeat(textured_rgb(50, 60, seed=9)[..., 1:2], 3, axis=-1)
    Image.fromarray(gray).save(photo_folder / "scan.jpg", quality=90)
    messages = []
    result = evaluate(tiny_model, [photo_folder], tmp_path / "r", progress=False, log=messages.append)
    assert result.skipped == [str(photo_folder / "scan.jpg")] and result.extra["images"] == 4
    assert messages == [f"warning: skipping 1 photo with no colour to score against, such as "
                        f"{photo_folder / 'scan.jpg'} (evaluate needs colour ground truth; colour a gray photo "
                        "with `rehue colorize`)"]
    assert main(["evaluate", str(photo_folder / "scan.jpg"), "--out", str(tmp_path / "one"), "--model",
                 str(tiny_model), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scan.jpg: has no colour to score against" in err[0]
    assert not (tmp_path / "one").exists()
    for path in photo_folder.glob("p*.png"):
        path.unlink()
    (photo_folder / "broken.png").write_bytes(b"not a png")
    with pytest.raises(RehueError, match="no colour image to score against"):
        evaluate(tiny_model, [photo_folder], tmp_path / "r2", progress=False, log=messages.append)
    (photo_folder / "scan.jpg").unlink()
    with pytest.raises(RehueError, match="broken.png: not an image file"):  # one photo, named twice: its reason
        evaluate(tiny_model, [photo_folder, photo_folder / "broken.png"], tmp_path / "r3", progress=False,
                 log=messages.append)
    (photo_folder / "broken2.png").write_bytes(b"not a png either")
    with pytest.raises(RehueError, match="no image could be read"):
        evaluate(tiny_model, [photo_folder], tmp_path / "r3", progress=False, log=messages.append)


@pytest.mark.parametrize(("option", "message"), [(["--limit", "-1"], "--limit must be at least 0"),
                                               (["--video-frames", "0"], "--video-frames must be at least 1"),
                                               (["--fit", "letterbox"], "rehue: error: --fit letterbox changes only "
                                                                        "photos scored with --full-res: at the")])
def test_a_count_out_of_range_is_a_one_line_error(tmp_path, photo_folder, tiny_model, capsys, option, message):
    """Before, --limit -1 silently left out the last photo and --video-frames 0 said "no image could be read"."""
    assert main(["evaluate", str(photo_folder), "--out", str(tmp_path / "r"), "--model", str(tiny_model),
                 "--no-progress", *option]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not (tmp_path / "r").exists()


def test_a_report_folder_that_is_a_file_or_inside_the_photos_is_refused_before_scoring(tmp_path, photo_folder,
                                                                                      tiny_model):
    """Before, --out naming a photo failed only after scoring, as "PHOTO/metrics.json: cannot write (File
    exists)"; --out inside the photo folder wrote samples.png there, which the next run scored as a photo."""
    photos = sorted(photo_folder.iterdir())
    with pytest.raises(RehueError, match="p0.png: is a file; --out names the report folder"):
        evaluate(tiny_model, [photo_folder], photos[0], progress=False)
    with pytest.raises(RehueError, match="must not be inside the photos it scores"):
        evaluate(tiny_model, [photo_folder], photo_folder / "report", progress=False)
    assert sorted(photo_folder.iterdir()) == photos
    (tmp_path / "set" / "frames").mkdir(parents=True)  # probe 99: written into a frame dataset, which `rehue
    (tmp_path / "set" / "manifest.csv").write_text("path,video,time,scene,split\n")  # frames --overwrite` refused
    (tmp_path / "link").symlink_to(tmp_path / "set" / "frames")  # probe 100: through a link, it was written there
    for out in (tmp_path / "set", tmp_path / "set" / "report", tmp_path / "link" / "report"):
        with pytest.raises(UsageError, match=f"must not be inside the frame dataset {tmp_path / 'set'}: `rehue frames "
                                             "--overwrite` would refuse to replace a set holding it"):
            evaluate(tiny_model, [photo_folder], out, progress=False)
    assert sorted((tmp_path / "set").iterdir()) == [tmp_path / "set" / "frames", tmp_path / "set" / "manifest.csv"]


def test_an_earlier_report_is_refused_before_scoring_and_replaced_whole_with_overwrite(tmp_path, photo_folder,
                                                                                      tiny_model, capsys):
    """Before, a second run into the same --out replaced the report without a word, and a drift.png of an
    earlier clip stayed beside a report of photos that had none."""
    from tests.helpers_video import textured_frames

    clip = make_clip(tmp_path / "colour.mp4", list(textured_frames(4, 48, 64)), fps=10)
    out = tmp_path / "report"
    options = ["--model", str(tiny_model), "--dependent-model", "none", "--out", str(out), "--no-progress"]
    assert main(["evaluate", str(clip), *options]) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert {"metrics.json", "metrics.md", "drift.png"} <= set(before)
    capsys.readouterr()

    assert main(["evaluate", str(photo_folder), *options]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    named = ", ".join(name for name in ("metrics.json", "metrics.md", "samples.png", "gains.png", "drift.png")
                      if name in before)
    assert err == [f"rehue: error: {out}: holds an earlier report ({named}); pass --overwrite to replace it or "
                   "name another --out"]
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    through = [*options[:-3], "--out", str(out / "new" / ".."), "--no-progress"]  # probe 96: the report was replaced
    assert main(["evaluate", str(photo_folder), *through]) == 1
    assert "holds an earlier report" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before

    assert main(["evaluate", str(photo_folder), *options, "--overwrite"]) == 0
    assert "drift.png" not in {path.name for path in out.iterdir()}, "the clip's plot is not this report's"
    report = json.loads((out / "metrics.json").read_text())
    assert report["rows"]["gray baseline"]["count"] == 4 and not any(key.startswith("video") for key in report["extra"])

    mine = tmp_path / "mine"  # probe 113: a user's notes named metrics.md were "an earlier report", replaced
    mine.mkdir()
    (mine / "metrics.md").write_text("# my notes\n")
    capsys.readouterr()
    for extra in ([], ["--overwrite"]):
        assert main(["evaluate", str(photo_folder), *options[:-3], "--out", str(mine), "--no-progress", *extra]) == 1
        assert capsys.readouterr().err == (f"rehue: error: {mine}: holds a metrics.md that no rehue report wrote, "
                                           "which the report's would replace; move it, or name another --out\n")
    assert (mine / "metrics.md").read_text() == "# my notes\n"
    from PIL import Image, PngImagePlugin

    (mine / "metrics.md").unlink()
    tagged = PngImagePlugin.PngInfo()
    tagged.add_text("Software", "GIMP 2.10")
    Image.new("RGB", (4, 4)).save(mine / "samples.png", pnginfo=tagged)  # a picture of the user's, by its tag
    assert main(["evaluate", str(photo_folder), *options[:-3], "--out", str(mine), "--no-progress", "--overwrite"]) == 1
    assert "holds a samples.png that no rehue report wrote" in capsys.readouterr().err
    Image.new("RGB", (4, 4)).save(mine / "samples.png")  # untagged, as rehue's were before December 2026
    assert main(["evaluate", str(photo_folder), *options[:-3], "--out", str(mine), "--no-progress", "--overwrite"]) == 0
    table = (mine / "metrics.md").read_text()  # probe 114: a report's files handled since were "no report's"
    (mine / "metrics.md").write_text("\ufeff# Photos, December\n\n" + table, encoding="utf-8")
    (mine / "metrics.json").write_text(json.dumps({"rows": {}}))
    (mine / "samples.png").write_bytes((mine / "samples.png").read_bytes()[:100])
    assert main(["evaluate", str(photo_folder), *options[:-3], "--out", str(mine), "--no-progress", "--overwrite"]) == 0


def test_a_gray_clip_is_skipped_as_a_gray_photo_is(tmp_path, tiny_model, photo_folder):
    """Before, a gray clip was scored with a warning, and the gray answer's perfect score on its frames
    (PSNR 100) outweighed every photo in the verdict."""
    from tests.helpers_video import textured_frames

    clip = make_clip(tmp_path / "gray.mp4", [np.repeat(f[..., 1:2], 3, -1) for f in textured_frames(4, 48, 64)],
                     fps=10)
    messages = []
    with pytest.raises(RehueError, match=r"gray.mp4: has no colour to score against \(evaluate needs colour ground "
                                         r"truth; colour a gray film with `rehue colorize`\)"):
        evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False, log=messages.append)
    assert messages == [], "probe 120: alone, said once, as the error (it was a warning, then the error)"
    alone = evaluate(tiny_model, [photo_folder], tmp_path / "r1", dependent_model="none", progress=False,
                     log=messages.append)
    both = evaluate(tiny_model, [photo_folder, clip], tmp_path / "r2", dependent_model="none", progress=False,
                    log=messages.append)
    assert f"warning: skipping {clip}: has no colour to score against (evaluate needs colour ground truth; colour " \
           "a gray film with `rehue colorize`)" in messages
    assert both.table.to_dict() == alone.table.to_dict() and str(clip) in both.skipped
    assert not any(key.startswith("video") for key in both.extra)
    messages.clear()
    colour = make_clip(tmp_path / "colour.mp4", list(textured_frames(4, 48, 64)), fps=10)
    evaluate(tiny_model, [colour], tmp_path / "r3", dependent_model="none", progress=False, log=messages.append)
    assert not any("no colour" in message for message in messages)


def test_a_film_rehue_coloured_named_alone_is_refused_for_what_it_is(tmp_path, tiny_model):
    """Probe 199: "no colour image to score against", of a film in colour, after a warning that -q hid."""
    from rehue import Colorizer

    clip = make_clip(tmp_path / "clip.mp4", list(textured_frames(4, 48, 64)), fps=10)
    coloured = tmp_path / "coloured.mp4"
    Colorizer.load(tiny_model, device="cpu").colorize_video(clip, coloured, dependent_model="none", progress=False)
    messages = []
    with pytest.raises(RehueError) as refused:
        evaluate(tiny_model, [coloured], tmp_path / "r", dependent_model="none", progress=False, log=messages.append)
    assert str(refused.value) == (f"{coloured}: rehue coloured it, so its colours are a model's guess, not a truth "
                                  "to score against (evaluate needs the colour original)")
    assert messages == [] and not (tmp_path / "r").exists()
    other = make_clip(tmp_path / "other.mp4", list(textured_frames(4, 48, 64, seed=5)), fps=10)
    Colorizer.load(tiny_model, device="cpu").colorize_video(other, tmp_path / "other-coloured.mp4",
                                                           dependent_model="none", progress=False)
    with pytest.raises(RehueError, match="every picture here was coloured .*by rehue"):  # probe 201: two of them,
        # "no colour image to score against"
        evaluate(tiny_model, [coloured, tmp_path / "other-coloured.mp4"], tmp_path / "r", dependent_model="none",
                 progress=False, log=messages.append)


def test_a_model_named_as_the_gray_row_is_kept_apart_from_it(tmp_path, photo_folder, tiny_model):
    """Probe 199: `gray baseline.safetensors` was scored into the gray row, which then held twice its images; probe
    201: `gray baseline (against)` against `gray baseline`, the two models' rows were one."""
    named = tmp_path / "gray baseline.safetensors"
    shutil.copy(tiny_model, named)
    shutil.copy(tiny_model.with_suffix(".json"), named.with_suffix(".json"))
    rows = evaluate(named, [photo_folder], tmp_path / "r", progress=False, log=lambda line: None,
                    against=tiny_model).table.rows
    plain = evaluate(tiny_model, [photo_folder], tmp_path / "r2", progress=False, log=lambda line: None).table.rows
    assert set(rows) == {"gray baseline (model)", "tiny-independent", "gray baseline"}
    assert len(rows["gray baseline"]) == len(rows["gray baseline (model)"]) == len(plain["gray baseline"])
    for name in ("gray baseline (against)", "gray baseline"):
        shutil.copy(tiny_model, tmp_path / f"{name}.safetensors")
        shutil.copy(tiny_model.with_suffix(".json"), tmp_path / f"{name}.json")
    rows = evaluate(tmp_path / "gray baseline (against).safetensors", [photo_folder], tmp_path / "r3", progress=False,
                    log=lambda line: None, against=tmp_path / "gray baseline.safetensors").table.rows
    assert set(rows) == {"gray baseline (against)", "gray baseline (against) (against)", "gray baseline"}


def test_evaluate_colour_video_reports_temporal_stability(tmp_path, tiny_model, tiny_dependent_model):
    photo = textured_rgb(60, 100, seed=4)
    clip = make_clip(tmp_path / "v.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(16)], fps=10)
    result = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model=str(tiny_dependent_model), progress=False)
    stats = result.extra["video v.mp4"]
    assert stats["frames"] == 16 and len(stats["ab_error_by_frame"]) == 16
    assert result.extra["resolution"] == "videos: whole frames, the long side at most 64 px", "not a centre crop"
    verdict = result.table.verdicts()[0]
    assert len(verdict.psnr_gains) == 16 and verdict.units == 1 and verdict.psnr_interval is None
    assert stats["temporal_stability_truth"] >= 0 and stats["temporal_stability_output"] >= 0
    assert stats["eased_against_drift"] == 0, "a dependent model without a drift check eases nothing"
    assert stats["dependent_model"] == "tiny-dependent"
    assert result.paths["drift"].name == "drift.png"
    clip_line = next(line for line in result.paths["markdown"].read_text().splitlines() if line.startswith("- video"))
    assert clip_line.startswith("- video v.mp4: 16 frames, ") and "within scenes" in clip_line
    assert f"{stats['ab_error_by_frame'][-1]:.2f} at the last" in clip_line and "[" not in clip_line

    with_drift_check(tiny_dependent_model, drift_check_every=1, drift_ratio=4.0, drift_anchor=0.1)
    result = evaluate(tiny_model, [clip], tmp_path / "r2", dependent_model=str(tiny_dependent_model), progress=False)
    stats = result.extra["video v.mp4"]
    assert stats["eased_against_drift"] == 15 - len(stats["scene_starts"]), "every dependent frame, at ratio 4"


def test_a_clips_frames_without_colour_are_gaps_in_its_drift_not_perfect_scores(tmp_path, tiny_model):
    """Probe 120: a clip's black frames were "not scored", yet entered its drift as 0.0 error, its average
    (9.88 where the scored frames' was 11.40) and drift.png, which fell to 0 over them."""
    frames = list(textured_frames(12, 48, 64, seed=4))
    frames[4:8] = [np.zeros_like(frames[0])] * 4
    clip = make_clip(tmp_path / "fade.mp4", frames, fps=10)
    result = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False)
    errors = result.extra["video fade.mp4"]["ab_error_by_frame"]
    assert errors[4:8] == [None] * 4 and all(error > 0 for error in errors[:4] + errors[8:])
    scored = errors[:4] + errors[8:]
    clip_line = next(line for line in result.paths["markdown"].read_text().splitlines() if line.startswith("- video"))
    assert f"a*b* error {scored[0]:.2f} at the first frame scored, {scored[-1]:.2f} at the last, " \
           f"{sum(scored) / len(scored):.2f} on average" in clip_line
    assert json.loads(result.paths["json"].read_text())["extra"]["video fade.mp4"]["ab_error_by_frame"][4] is None


def test_a_thumbnail_too_small_to_score_at_full_resolution_is_skipped_in_a_folder(tmp_path, tiny_model):
    """Probe 120: with --full-res, a 1x1 picture among a folder's photos ended the evaluation in an error once
    the others were scored, and no report was written."""
    folder = tmp_path / "mix"
    folder.mkdir()
    for seed in range(2):
        Image.fromarray(textured_rgb(40, 60, seed=seed)).save(folder / f"photo{seed}.png")
    Image.fromarray(np.array([[[200, 40, 40]]], np.uint8)).save(folder / "dot.png")
    messages = []
    result = evaluate(tiny_model, [folder], tmp_path / "r", full_res=True, progress=False, log=messages.append)
    assert result.skipped == [str(folder / "dot.png")] and result.paths["markdown"].exists()
    assert f"warning: skipping {folder / 'dot.png'}: image is 1x1, too small to score at full resolution (SSIM " \
           "needs at least 3 pixels a side)" in messages
    with pytest.raises(RehueError, match="image is 1x1; SSIM needs at least 3 pixels a side"):
        evaluate(tiny_model, [folder / "dot.png"], tmp_path / "r2", full_res=True, progress=False)


def test_a_clip_too_thin_to_score_at_the_scored_size_is_skipped_beside_others(tmp_path, tiny_model):
    """Probe 121: a ticker's 1280x48 clip, scored with its long side at 64 px (the tiny model's 2 x 32), is 64x2:
    "image is 64x2; SSIM needs at least 3 pixels a side" ended the evaluation, a size rehue made, not the file's."""
    ticker = make_clip(tmp_path / "ticker.mp4", list(textured_frames(3, 48, 1280)), fps=10)
    Image.fromarray(textured_rgb(40, 60)).save(tmp_path / "photo.png")
    messages = []
    result = evaluate(tiny_model, [tmp_path / "photo.png", ticker], tmp_path / "r", dependent_model="none",
                      progress=False, log=messages.append)
    said = ("its frames are 1280x48, scored at 64x2 (its long side at 64 px), under the 3 pixels a side SSIM "
            "needs; --full-res scores them at their own size")
    assert f"warning: skipping {ticker}: {said}" in messages and str(ticker) in result.skipped
    with pytest.raises(RehueError, match=re.escape(f"{ticker}: {said}")):
        evaluate(tiny_model, [ticker], tmp_path / "r2", dependent_model="none", progress=False)



def test_a_clip_that_cannot_be_read_is_skipped_beside_others(tmp_path, tiny_model):
    """Probe 128: an empty .mp4 (or a text file named so) beside photos ended the evaluation once every photo
    was scored, no report written; an unreadable photo was skipped with a warning."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.fromarray(textured_rgb(40, 60)).save(folder / "photo.png")
    (folder / "empty.mp4").touch()
    (folder / "notes.mp4").write_text("hello")
    whole = make_clip(tmp_path / "whole.mp4", list(textured_frames(36, 64, 80)))
    (folder / "half.mp4").write_bytes(whole.read_bytes()[:whole.stat().st_size // 2])  # opens, then fails (probe 130)
    messages = []
    result = evaluate(tiny_model, [folder], tmp_path / "r", dependent_model="none", progress=False,
                      log=messages.append)
    assert f"warning: skipping {folder / 'empty.mp4'}: empty file" in messages
    assert any(m.startswith(f"warning: skipping {folder / 'notes.mp4'}: not a video file") for m in messages)
    assert any(m.startswith(f"warning: skipping {folder / 'half.mp4'}: ") for m in messages), messages
    assert sorted(result.skipped) == [str(folder / "empty.mp4"), str(folder / "half.mp4"), str(folder / "notes.mp4")]
    assert result.extra["images"] == 1 and (tmp_path / "r" / "metrics.json").exists()
    with pytest.raises(RehueError, match=re.escape(f"{folder / 'empty.mp4'}: empty file")):
        evaluate(tiny_model, [folder / "empty.mp4"], tmp_path / "r2", dependent_model="none", progress=False)
    (folder / "photo.png").unlink()
    with pytest.raises(RehueError, match="no video could be scored"):  # not "no colour image to score against"
        evaluate(tiny_model, [folder], tmp_path / "r3", dependent_model="none", progress=False)
    reels = [tmp_path / "good", tmp_path / "bad"]  # probe 131: the bad reel skipped whole, its frame named alone
    for reel in reels:
        reel.mkdir()
        for i in range(4):
            Image.fromarray(textured_rgb(40, 60, seed=i)).save(reel / f"f_{i:04d}.png")
    (reels[1] / "f_0002.png").write_text("not a frame")
    messages = []
    result = evaluate(tiny_model, reels, tmp_path / "r4", dependent_model="none", progress=False,
                      log=messages.append, films=True)
    assert f"warning: skipping {reels[1]}: its frame f_0002.png: not an image file (or a format Pillow cannot " \
           "read)" in messages and result.skipped == [str(reels[1])], messages

def test_two_clips_of_one_name_in_two_folders_are_reported_apart(tmp_path, tiny_model):
    """Probe 120: A/clip.mp4 and B/clip.mp4 were both "video clip.mp4" in the report, the second one's frame
    count, scenes and drift replacing the first's."""
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    first = make_clip(tmp_path / "A" / "clip.mp4", list(textured_frames(6, 48, 64, seed=1)), fps=10)
    second = make_clip(tmp_path / "B" / "clip.mp4", list(textured_frames(9, 48, 64, seed=2)), fps=10)
    other = make_clip(tmp_path / "B" / "other.mp4", list(textured_frames(4, 48, 64, seed=3)), fps=10)
    result = evaluate(tiny_model, [first, second, other], tmp_path / "r", dependent_model="none", progress=False)
    frames = {key: stats["frames"] for key, stats in result.extra.items() if key.startswith("video ")}
    assert frames == {"video A/clip.mp4": 6, "video B/clip.mp4": 9, "video other.mp4": 4}
    from rehue.evaluation.evaluate import _video_names

    named = _video_names([tmp_path / "n" / "a\nb" / "c.mp4", tmp_path / "n" / "a\\nb" / "c.mp4"])
    assert list(named.values()) == ["a\\nb/c.mp4", "a\\nb/c.mp4 (2)"], "probe 121: told apart by an escape alone"


def test_evaluate_finds_a_clips_bars_as_colorize_does_at_the_scored_size(tmp_path, tiny_model, capsys):
    photo = textured_rgb(60, 140, seed=5)
    frames = [np.pad(photo[:, i : i + 100], ((0, 0), (30, 30), (0, 0))) for i in range(20)]  # 160x60, pillarbox
    clip = make_clip(tmp_path / "wide.mp4", frames, fps=10)
    full = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", full_res=True)
    assert full.extra["video wide.mp4"]["bars"] == [0, 30, 60, 100]
    assert capsys.readouterr().err.splitlines()[0].startswith("wide.mp4:   0%|"), "stop 48: the bar was unnamed"
    scored = evaluate(tiny_model, [clip], tmp_path / "s", dependent_model="none", progress=False)
    assert scored.extra["video wide.mp4"]["bars"] == [0, 12, 24, 40], "frames scored at 64x24: the bars scale too"


def test_evaluate_scores_the_colour_strength_asked_for(tmp_path, photo_folder, tiny_model, capsys):
    strong = evaluate(tiny_model, [photo_folder], tmp_path / "strong", progress=False, chroma=2.0)
    none = evaluate(tiny_model, [photo_folder], tmp_path / "none", progress=False, chroma=0.0)
    assert none.extra["chroma"] == 0.0 and "chroma" not in evaluate(tiny_model, [photo_folder], tmp_path / "own",
                                                                     progress=False).extra
    gray, coloured = none.table.summary("gray baseline"), none.table.summary("tiny-independent x0")
    assert coloured["colourfulness_output"]["max"] < 1.0, "strength 0 is the gray answer"
    assert abs(coloured["psnr"]["mean"] - gray["psnr"]["mean"]) < 0.1
    assert strong.table.summary("tiny-independent x2")["colourfulness_output"]["mean"] > 1.0, "named by strength"
    assert main(["evaluate", str(photo_folder), "--model", str(tiny_model), "--out", str(tmp_path / "bad"),
                 "--chroma", "5", "--no-progress"]) == 2
    assert "chroma must be between 0 and 4, not 5" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_a_model_named_among_the_photos_is_refused(tmp_path, photo_folder, tiny_model, capsys, monkeypatch):
    """Probe 174: `evaluate runs/a/model.safetensors photos` passed over the model as "not an image file" and
    scored the shipped model, exit 0 (under -q, not a word)."""
    import shutil

    run = tmp_path / "best model"  # probe 175: a folder's own word "model" was said as "--model"
    (run / "checkpoints").mkdir(parents=True)
    for suffix in (".safetensors", ".json"):
        (run / f"model{suffix}").write_bytes(Path(tiny_model).with_suffix(suffix).read_bytes())
    (run / "checkpoints" / "epoch_0001.pt").write_bytes(b"a checkpoint")
    for named, what in (
            (run / "model.safetensors", "weights to colour with, not a photo, clip or frame dataset to score; give "
                                        "them as --model"),
            (run, "a training run, not a photo, clip or frame dataset to score; give it as --model"),
            # probe 175: sent to --model, which refuses a checkpoint
            (run / "checkpoints" / "epoch_0001.pt", "a training checkpoint (for rehue train --resume), not a photo, "
                                                    "clip or frame dataset to score; give its run's "
                                                    "model.safetensors as --model")):
        assert main(["evaluate", str(named), str(photo_folder), "--out", str(tmp_path / "r"), "-q"]) == 2
        assert capsys.readouterr().err == f"rehue: error: {named}: {what}\n"
    monkeypatch.chdir(tmp_path)  # probe 177: a folder typed as "model" was told "give it as model"
    shutil.copytree(run, tmp_path / "model")
    assert main(["evaluate", "model", str(photo_folder), "--out", "r", "-q"]) == 2
    assert capsys.readouterr().err == ("rehue: error: model: a training run, not a photo, clip or frame dataset to "
                                       "score; give it as --model\n")
    with pytest.raises(UsageError, match="weights to colour with, not a photo, clip or frame dataset to score; give "
                                         "them as model$"):
        evaluate(tiny_model, [photo_folder, run / "model.safetensors"], tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()
    photos = tmp_path / "photos-and-model"  # probe 175: a folder of photos a model was copied into is no run
    shutil.copytree(photo_folder, photos)
    for name in ("model.safetensors", "model.json"):
        shutil.copy(run / name, photos / name)
    assert main(["evaluate", str(photos), "--model", str(tiny_model), "--out", str(tmp_path / "r"), "-q"]) == 0


def test_a_folder_of_nothing_to_score_among_others_is_said_to_be_passed_over(tmp_path, photo_folder, tiny_model):
    """Probe 175: `evaluate emptydir photos` (or a run's checkpoints/) scored the photos without a word of it."""
    (tmp_path / "empty").mkdir()
    said = []
    evaluate(tiny_model, [tmp_path / "empty", photo_folder], tmp_path / "r", progress=False, log=said.append)
    assert f"warning: {tmp_path / 'empty'}: holds no photo, clip or frame dataset; passed over" in said, said


def test_a_model_against_the_same_weights_is_said_to_be_one(tmp_path, photo_folder, tiny_model):
    """Probe 172: `evaluate --model runs/a --against runs/a` called the two "level", not a word of why."""
    import shutil

    from rehue.models.io import file_sha256, shipped_models

    copy = shutil.copy(tiny_model, tmp_path / "copy.safetensors")
    shutil.copy(Path(tiny_model).with_suffix(".json"), tmp_path / "copy.json")
    said = []
    evaluate(tiny_model, [photo_folder], tmp_path / "r", progress=False, against=copy, log=said.append)
    assert [line for line in said if "same weights" in line] == [
        f"note: --against {copy} holds the same weights as --model {tiny_model} (sha256 "
        f"{file_sha256(tiny_model)[:12]}): the two score alike on photos"]
    said.clear()
    evaluate(tiny_model, [photo_folder], tmp_path / "x", progress=False, against=copy, chroma=0.5, log=said.append)
    assert not [line for line in said if "same weights" in line], "at another chroma, two colourings"
    said.clear()  # probe 175: a shipped model, of no fingerprint, was never compared
    shipped = shipped_models()["rehue-gen2-128-independent"]
    evaluate("default", [photo_folder], tmp_path / "s", progress=False, against=str(shipped), log=said.append)
    assert [line for line in said if "same weights" in line] == [
        f"note: --against {shipped} holds the same weights as --model default (sha256 {file_sha256(shipped)[:12]}): "
        "the two score alike on photos"]


def test_a_model_against_another_on_the_same_photos_says_how_sure_the_difference_is(tmp_path, photo_folder,
                                                                                      tiny_model, capsys):
    result = evaluate(tiny_model, [photo_folder], tmp_path / "r", progress=False, chroma=0.0, against=tiny_model)
    table = result.table
    assert list(table.rows) == ["tiny-independent x0", "gray baseline", "tiny-independent"]
    assert table.values("tiny-independent x0", "psnr") == pytest.approx(table.values("gray baseline", "psnr"),
                                                                         abs=0.3), "strength 0 is gray"
    comparison = table.comparisons()[0]
    assert (comparison.name, comparison.other, comparison.units, comparison.images) == (
        "tiny-independent x0", "tiny-independent", 4, 4)
    gains = [a - b for a, b in zip(table.values("tiny-independent x0", "psnr"),
                                   table.values("tiny-independent", "psnr"), strict=True)]
    assert comparison.psnr_interval == pytest.approx(mean_interval(gains))
    report = json.loads((tmp_path / "r" / "metrics.json").read_text())
    entry = report["comparisons"]["tiny-independent x0 vs tiny-independent"]
    assert entry["units"] == 4 and entry["psnr_standing"] in ("clearly above", "level", "clearly below")
    assert report["extra"]["against"] == str(tiny_model)
    assert "- tiny-independent x0 against tiny-independent, 95% confidence intervals of the mean difference over 4" \
        in (tmp_path / "r" / "metrics.md").read_text()
    assert Image.open(tmp_path / "r" / "samples.png").size[0] == 4 * 128, "gray | truth | model | against"

    same = evaluate(tiny_model, [photo_folder], tmp_path / "same", progress=False, against=tiny_model)
    assert list(same.table.rows)[2] == "tiny-independent (against)"
    assert same.table.comparisons()[0].psnr_interval == (0.0, 0.0)
    assert "level with tiny-independent (against)" in same.table.to_markdown()

    missing = str(tmp_path / "no.safetensors")
    assert main(["evaluate", str(photo_folder), "--model", str(tiny_model), "--against", missing,
                 "--out", str(tmp_path / "bad"), "--no-progress"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "no.safetensors" in error[0] and not (tmp_path / "bad").exists()


def test_two_models_of_different_sizes_score_alike_whichever_is_named_first(tmp_path, photo_folder, tiny_model):
    """Probe 37: photos were cropped at the first model's size, so naming the models the other way round
    changed both models' figures (21.37 dB against 20.88 for one model on the same photos)."""
    from tests.conftest import make_tiny_model

    larger = make_tiny_model(tmp_path / "models" / "larger.safetensors", size=64, seed=1)
    one = evaluate(tiny_model, [photo_folder], tmp_path / "a", progress=False, against=larger)
    other = evaluate(larger, [photo_folder], tmp_path / "b", progress=False, against=tiny_model)
    for name in ("tiny-independent", "larger", "gray baseline"):
        assert one.table.values(name, "psnr") == pytest.approx(other.table.values(name, "psnr"), abs=1e-9), name
    assert one.extra["resolution"] == other.extra["resolution"] == "photos: centre crop at 64x64"


def test_one_clip_says_why_there_is_no_interval(tmp_path, tiny_model):
    """Probe 37: a report of a single clip had no interval line and no word why; a comparison said it."""
    photo = textured_rgb(60, 100, seed=6)
    clip = make_clip(tmp_path / "v.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(6)], fps=6)
    evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False)
    report = (tmp_path / "r" / "metrics.md").read_text()
    assert ("- tiny-independent: no confidence interval of its gain over the gray baseline, from one photo or clip "
            "(a clip's frames count as one)") in report
    assert (tmp_path / "r" / "samples.png").exists(), "a sample grid of its frames, as the README says"


def test_a_clip_against_another_model_keeps_one_gray_row_per_frame(tmp_path, tiny_model, tiny_dependent_model):
    photo = textured_rgb(60, 100, seed=6)
    clip = make_clip(tmp_path / "v.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(10)], fps=10)
    result = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model=str(tiny_dependent_model), progress=False,
                      against=tiny_model)
    rows = result.table.rows
    assert [len(rows[name]) for name in rows] == [10, 10, 10]
    assert Image.open(tmp_path / "r" / "samples.png").size[0] == 4 * 128, \
        "its first frame: gray | truth | model | against (probe 37: no sample grid for clips with --against)"
    verdicts = result.table.verdicts()
    assert [len(verdict.psnr_gains) for verdict in verdicts] == [10, 10]
    comparison = result.table.comparisons()[0]
    assert comparison.units == 1 and comparison.psnr_interval is None
    assert "(one photo or clip: no interval)" in comparison.sentence()
    assert "video v.mp4, tiny-independent (against)" in result.extra


def test_a_note_on_how_the_models_pair_is_said_once_for_every_clip(tmp_path, tiny_model):
    photo = textured_rgb(48, 80, seed=3)
    clips = [make_clip(tmp_path / f"v{k}.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(4)], fps=4)
             for k in range(2)]
    messages = []
    evaluate(tiny_model, clips, tmp_path / "r", progress=False, log=messages.append)
    assert sum("the shipped dependent model learned" in m for m in messages) == 1, messages


def test_a_clip_against_a_model_of_another_size_is_scored_on_the_same_frames(tmp_path, tiny_model):
    """Before, each model scaled the clip to twice its own size: a 64x64 model's frames were scored at 128
    px and a 32x32 one's at 64, and the comparison paired scores of different pictures."""
    import torch

    from rehue.models import ModelCard, create_model, save_model

    gray_model = create_model("gen2", in_channels=1, size=64, width=4)
    with torch.no_grad():
        for p in gray_model.head.parameters():
            p.zero_()
    gray_path = save_model(gray_model, ModelCard("gen2", 1, 64, 4), tmp_path / "gray64.safetensors")
    noise = np.random.default_rng(7).integers(0, 256, (240, 300, 3), dtype=np.uint8)  # colour lost in scaling
    clip = make_clip(tmp_path / "v.mp4", [np.ascontiguousarray(noise[:, i : i + 256]) for i in range(0, 40, 8)],
                     fps=10)
    result = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False, against=gray_path)
    assert result.extra["resolution"] == "videos: whole frames, the long side at most 128 px"
    gray_rows, rival_rows = result.table.rows["gray baseline"], result.table.rows["gray64"]
    assert len(gray_rows) == len(rival_rows) == 5
    for gray, rival in zip(gray_rows, rival_rows, strict=True):
        assert rival.psnr == pytest.approx(gray.psnr, abs=0.01), "a model answering gray scores as gray does"


def test_the_frames_of_one_clip_in_a_frame_dataset_are_one_unit_of_evidence(tmp_path, tiny_model):
    """Before, each frame of a `rehue frames` set counted as its own photo: 30 frames of one test clip gave
    an interval five times too narrow and a confident verdict; a video file of the same clip gave none."""
    from rehue.data.frames import extract_frames
    from tests.helpers_video import textured_frames

    clips = [make_clip(tmp_path / f"v{i}.mp4", list(textured_frames(24, 48, 64, seed=i)), fps=12) for i in range(2)]
    extract_frames(clips, tmp_path / "frames", fps=6, size=32, test_videos=["v1.mp4"], progress=False,
                   log=lambda message: None)
    result = evaluate(tiny_model, [tmp_path / "frames"], tmp_path / "r", progress=False, log=lambda message: None)
    assert result.extra["images"] > 1
    assert result.extra["resolution"] == "frames: centre crop at 32x32", "probe 107: called photos"
    verdict = result.table.verdicts()[0]
    assert verdict.units == 1 and verdict.psnr_interval is None
    images = json.loads((tmp_path / "r" / "metrics.json").read_text())["rows"]["tiny-independent"]["images"]
    assert {image["source"] for image in images} == {f"{tmp_path / 'frames'}: v1.mp4"}
    # probe 46: each frame was named by its clip alone, where the README says each image is named by its file
    assert sorted(image["file"] for image in images) == sorted(
        str(path) for path in (tmp_path / "frames" / "frames" / "v1").iterdir())


def test_runs_are_named_by_their_folders_in_a_report():
    """Before, two runs compared with --against were both "model" ("model" and "model (against)")."""
    from rehue.evaluation.evaluate import _row_name

    assert _row_name("runs/reel7/model.safetensors") == "reel7/model"
    assert _row_name("models/tiny-independent.safetensors") == "tiny-independent"
    assert _row_name("default") == "rehue (shipped)"


def test_black_frames_of_a_colour_clip_are_not_scored(tmp_path, tiny_model):
    """Before, a fade to black scored 100 dB (the cap) for the gray answer on its black frames, which
    lifted the gray mean of the probe's 120-frame clip from 17.25 to 17.94 dB."""
    photo = textured_rgb(60, 100, seed=4)
    frames = [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(8)] + [np.zeros((60, 64, 3), np.uint8)] * 3
    clip = make_clip(tmp_path / "fade.mp4", frames, fps=10)
    messages = []
    result = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False,
                      log=messages.append)
    stats = result.extra["video fade.mp4"]
    assert stats["frames"] == 11 and stats["frames_without_colour"] == 3
    assert [len(rows) for rows in result.table.rows.values()] == [8, 8]
    assert max(metrics.psnr for metrics in result.table.rows["gray baseline"]) < 60
    assert f"note: {clip}: 3 of its 11 frames have no colour (black, a fade, a title card), such as frame 8; " \
           "they are not scored" in messages
    assert "3 frames without colour (black, a fade) not scored" in result.paths["markdown"].read_text()


def test_black_frames_of_a_film_count_in_no_pair_of_its_temporal_stability(tmp_path, tiny_model):
    """Before, the pairs of a fade's black frames (no change at all) and the pair into the first (a jump) were
    averaged into the film's temporal stability, the truth's and the output's alike."""
    photo = textured_rgb(48, 90, seed=6)
    pictures = [np.ascontiguousarray(photo[:, 2 * i : 2 * i + 64]) for i in range(6)]
    black = np.zeros((48, 64, 3), np.uint8)
    reels = {"plain": pictures, "faded": [*pictures, black, black], "short": pictures[:3],
             "dipped": [*pictures[:3], black, *pictures[:3], black]}
    stability = {}
    for name, frames in reels.items():
        reel = tmp_path / name
        reel.mkdir()
        for number, frame in enumerate(frames):
            Image.fromarray(frame).save(reel / f"f_{number:04d}.png")
        stats = evaluate(tiny_model, [reel], tmp_path / f"r-{name}", dependent_model="none", progress=False,
                         log=lambda message: None, films=True).extra[f"video {name}"]
        stability[name] = (stats["temporal_stability_output"], stats["temporal_stability_truth"])
    assert min(stability["plain"]) > 0.01
    assert stability["faded"] == pytest.approx(stability["plain"]), stability
    # the film's truth; the output after a dip is the pipeline's own (its flicker level follows the black)
    assert stability["dipped"][1] == pytest.approx(stability["short"][1]), stability


def test_the_limit_counts_photos_then_clips(tmp_path, photo_folder, tiny_model):
    """Before, ``--limit`` cut the photos only, and every clip's frames came on top ("at most this many
    images": a report of 123 for ``--limit 3``)."""
    photo = textured_rgb(60, 100, seed=4)
    clip = make_clip(tmp_path / "v.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(6)], fps=10)
    photos = sorted(photo_folder.iterdir())
    assert len(photos) >= 2
    messages = []
    only_photos = evaluate(tiny_model, [photo_folder, clip], tmp_path / "r1", dependent_model="none",
                           progress=False, limit=2, log=messages.append)
    assert only_photos.extra["images"] == 2 and not any(key.startswith("video") for key in only_photos.extra)
    found = len(photos) + 1  # probe 120: the files left out were not said, nor the limit in the report
    assert f"note: scoring the first 2 of {found} photos and videos found (--limit 2)" in messages
    assert only_photos.extra["limit"] == f"the first 2 of {found} photos and videos found"
    with_clip = evaluate(tiny_model, [*photos[:1], clip], tmp_path / "r2", dependent_model="none", progress=False,
                         limit=2)
    assert with_clip.extra["images"] == 1 + 6 and "video v.mp4" in with_clip.extra and "limit" not in with_clip.extra


def test_photos_the_model_was_trained_on_are_said_to_be_no_held_out_score(tmp_path, photo_folder):
    """Before, evaluating a run on its own training photos called it "clearly above" the shipped model
    without a word that it had learnt those photos (probe 19)."""

    from rehue.models import ModelCard, create_model, save_model

    model = create_model("gen2", in_channels=1, size=32, width=4).eval()
    card = ModelCard("gen2", 1, 32, 4, role="independent", training={"data": str(photo_folder)})
    trained = save_model(model, card, tmp_path / "run" / "model.safetensors")
    messages = []
    evaluate(trained, [photo_folder], tmp_path / "report", progress=False, log=messages.append)
    assert [m for m in messages if m.startswith("warning: 4 of the 4 photos and clips lie in")], messages

    (photo_folder / "manifest.csv").write_text("path,split\np0.png,train\np1.png,train\np2.png,held_out\n"
                                               "p3.png,held_out\n")
    messages = []
    evaluate(trained, [photo_folder / "p2.png", photo_folder / "p3.png"], tmp_path / "held", progress=False,
             log=messages.append)
    assert not [m for m in messages if "lie in" in m], "the set's held-out photos are held out"
    messages = []
    evaluate(trained, [photo_folder / "p1.png", photo_folder / "p3.png"], tmp_path / "mixed", progress=False,
             log=messages.append)
    assert [m for m in messages if m.startswith("warning: 1 of the 2 photos and clips lie in")], messages
    messages = []
    evaluate(trained, [photo_folder / "p1.png"], tmp_path / "one", progress=False, log=messages.append)
    assert [m for m in messages if m.startswith("warning: ") and m.endswith(  # was "1 of the 1 photos ... lie"
        f"p1.png lies in {photo_folder}, which run/model was trained on: it taught it, unless its training held it "
        "out for validation, so its score is not held out")], messages
    gray = tmp_path / "gray.png"  # probe 172: counted among the photos, though skipped: "1 of the 2"
    Image.fromarray(textured_rgb(40, 40, seed=9)[..., 0]).save(gray)
    messages = []
    result = evaluate(trained, [photo_folder / "p1.png", gray], tmp_path / "gray-too", progress=False,
                      log=messages.append)
    assert [m for m in messages if "lie in" in m or "lies in" in m] == [
        f"warning: {photo_folder / 'p1.png'} lies in {photo_folder}, which run/model was trained on: it taught it, "
        "unless its training held it out for validation, so its score is not held out"], messages
    assert result.extra["not_held_out"] == [messages[-1].removeprefix("warning: ")]


def test_a_run_resumed_on_another_folder_is_said_to_have_learnt_the_first_ones_photos(tmp_path, photo_folder):
    """Probe 72: trained on P, resumed on P_copy (README allows another data folder), the model's card named
    P_copy alone, and evaluate P said nothing of the photos its first epoch learnt."""
    import json
    import shutil

    from rehue.models.io import read_card
    from rehue.training import TrainConfig, train

    other = tmp_path / "other"
    shutil.copytree(photo_folder, other)
    sorted(other.iterdir())[0].unlink()  # another folder, which draws its validation photo again
    settings = dict(out=str(tmp_path / "run"), size=32, width=4, batch_size=2, steps_per_epoch=1, val_images=1,
                    device="cpu", workers=0)
    train(TrainConfig(data=str(photo_folder), epochs=1, **settings), progress=False, log=lambda message: None)
    messages = []
    result = train(TrainConfig(data=str(other), epochs=2, **settings), resume=True, progress=False,
                   log=messages.append)
    assert any(m.startswith(f"warning: the run goes on with another data folder ({other}; it trained on "
                            f"{photo_folder.resolve()} before)") for m in messages), messages  # probe 73: "gained"
    assert read_card(result.model_path).training["earlier_data"] == [str(photo_folder.resolve())]
    assert json.loads(result.model_path.with_suffix(".json").read_text())["training"]["data"] == str(other)
    messages = []
    evaluate(result.model_path, [photo_folder], tmp_path / "report", progress=False, log=messages.append)
    assert [m for m in messages if m.startswith("warning: 4 of the 4 photos and clips lie in") and
            str(photo_folder.resolve()) in m], messages
    result = train(TrainConfig(data=str(photo_folder), epochs=3, **settings), resume=True, progress=False,
                   log=lambda message: None)  # back to the first folder: the run's data, not an earlier one (probe 73)
    assert read_card(result.model_path).training["earlier_data"] == [str(other.resolve())]

    from rehue.evaluation.evaluate import warn_of_trained_videos
    from rehue.models import ModelCard

    card = ModelCard("gen2", 1, 32, 4, role="independent", training={  # learnt v1 from a set it left (probe 73)
        "data": str(photo_folder), "earlier_data": [str(tmp_path / "set")], "videos": ["v1.mp4"]})
    messages = []
    warn_of_trained_videos(result.model_path, card, "m", {tmp_path / "set": {"v0.mp4", "v1.mp4"}}, messages.append)
    assert [m for m in messages if m.startswith("warning: m was trained on 1 of the 2 videos whose frames are scored "
                                                "(v1.mp4)")], messages


def test_a_runs_relative_data_is_read_from_the_folder_it_was_started_in(tmp_path, photo_folder, monkeypatch):
    """The card keeps DATA as typed ("photos"); read from wherever evaluate ran, the warning was missed from
    another folder and given wrongly in a folder with other photos of that name (probe 21)."""
    import shutil

    from rehue.training import TrainConfig, train

    started = tmp_path / "w1"
    shutil.copytree(photo_folder, started / "photos")
    monkeypatch.chdir(started)
    train(TrainConfig(data="photos", out="run", size=32, width=4, batch_size=4, epochs=1, steps_per_epoch=2,
                      val_images=2, device="cpu"), progress=False, log=lambda message: None)
    elsewhere = tmp_path / "w2"
    shutil.copytree(photo_folder, elsewhere / "photos")
    monkeypatch.chdir(elsewhere)
    for photos, warned in ((started / "photos", True), (elsewhere / "photos", False)):
        messages = []
        evaluate(started / "run" / "model.safetensors", [photos], tmp_path / f"report-{warned}", progress=False,
                 log=messages.append)
        assert bool([m for m in messages if " lie in " in m]) == warned, messages
    # probe 84: copied out of its run (no config.json beside it), the model's card still names its photos
    (elsewhere / "m").mkdir()
    for suffix in (".safetensors", ".json"):
        shutil.copy(started / "run" / f"model{suffix}", elsewhere / "m" / f"mine{suffix}")
    messages = []
    evaluate(elsewhere / "m" / "mine.safetensors", [started / "photos"], tmp_path / "copied", progress=False,
             log=messages.append)
    assert [m for m in messages if m.startswith("warning: 4 of the 4 photos and clips lie in")], messages


def test_photos_skipped_for_one_reason_are_said_in_one_line(tmp_path, photo_folder, tiny_model):
    """Before, evaluate said one line for every skipped photo: 5,001 lines for a folder of 5,000 that rehue
    had coloured, where train says one (probe 22)."""
    for index in range(30):
        gray = np.repeat(textured_rgb(30, 40, seed=9 + index)[..., 1:2], 3, axis=-1)
        Image.fromarray(gray).save(photo_folder / f"scan{index:02d}.png")
    messages = []
    evaluate(tiny_model, [photo_folder], tmp_path / "r", progress=False, log=messages.append)
    assert len(messages) == 1 and messages[0].startswith("warning: skipping 30 photos with no colour")


def test_a_reels_numbered_frames_are_scored_as_one_film_with_frames(tmp_path, tiny_model, tiny_dependent_model,
                                                                     capsys):
    """Probe 33: a scanned colour reel's frames were scored as that many photos (an interval over 48 frames of
    one reel said "clearly above"), with no dependent model and no temporal stability."""
    reels = []
    for number in range(2):
        photo = textured_rgb(60, 100, seed=4 + number)
        reel = tmp_path / f"reel{number}"
        reel.mkdir()
        for i in range(12):
            Image.fromarray(np.ascontiguousarray(photo[:, number + i: number + i + 64])).save(reel / f"f_{i:04d}.png")
        reels.append(reel)
    messages = []
    as_photos = evaluate(tiny_model, reels, tmp_path / "p", progress=False, log=messages.append)
    assert as_photos.table.verdicts()[0].units == 24
    assert not [m for m in messages if "numbered alike" in m], "12 numbered pictures may be a few photos"
    long_reel = tmp_path / "reel_long"
    long_reel.mkdir()
    for i in range(24):
        Image.fromarray(np.ascontiguousarray(textured_rgb(24, 40, seed=9)[:, i % 8: i % 8 + 32])).save(
            long_reel / f"scan_{i + 1001}.png")
    messages = []
    evaluate(tiny_model, [long_reel], tmp_path / "l", progress=False, log=messages.append)
    assert f"note: {long_reel}: its 24 pictures are numbered alike, as a film's frames are, and are scored as that " \
           "many photos; if they are one film's frames, --frames scores the folder as one film (its stability and " \
           "colour drift too)" in messages, messages  # probe 61: no word of --frames
    assert main(["evaluate", *map(str, reels), "--frames", "--model", str(tiny_model), "--dependent-model",
                 str(tiny_dependent_model), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    report = json.loads((tmp_path / "r" / "metrics.json").read_text())
    stats = report["extra"]["video reel0"]
    assert stats["frames"] == 12 and stats["dependent_model"] == "tiny-dependent"
    assert stats["temporal_stability_truth"] >= 0
    assert "over 2 photos or clips" in (tmp_path / "r" / "metrics.md").read_text()
    assert main(["evaluate", str(reels[0] / "f_0000.png"), "--frames", "--model", str(tiny_model), "--out",
                 str(tmp_path / "x")]) == 2
    assert "--frames takes folders of numbered frames" in capsys.readouterr().err


def test_a_folder_of_reels_or_of_nothing_given_with_frames_is_refused_before_the_dependent_model(
        tmp_path, tiny_model, capsys):
    """Probe 204: `evaluate reels --frames` of a folder of reels was refused over the dependent model first (a
    dataset there was refused before it), and said why only once that was put right."""
    for reel in ("r1", "r2"):
        (tmp_path / "reels" / reel).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(textured_rgb(40, 40, seed=i)).save(tmp_path / "reels" / reel / f"f_{i:04d}.png")
    (tmp_path / "empty").mkdir()
    said = {"reels": "reels: no image frames in this folder, but folders of them (r1, r2): name each film's folder, "
                     f"such as {tmp_path / 'reels' / 'r1'}",
            "empty": "empty: no image frames in this folder"}
    for folder, why in said.items():
        assert main(["evaluate", str(tmp_path / folder), "--frames", "--model", str(tiny_model), "--dependent-model",
                     str(tiny_model), "--out", str(tmp_path / "report"), "--no-progress"]) == 1
        assert capsys.readouterr().err == f"rehue: error: {tmp_path / why}\n"
    assert not (tmp_path / "report").exists()
    lines = []  # one of several is passed over, the others scored (probe 210: the whole run refused)
    result = evaluate(tiny_model, [tmp_path / "reels" / "r1", tmp_path / "empty"], tmp_path / "report", films=True,
                      progress=False, log=lines.append, dependent_model="none")
    assert f"warning: skipping {tmp_path / 'empty'}: no image frames in this folder" in lines, lines
    assert result.table.verdicts()[0].units == 1
    (tmp_path / "emptier").mkdir()  # every one of several without frames: said so, not "no image could be read"
    assert main(["evaluate", str(tmp_path / "empty"), str(tmp_path / "emptier"), "--frames", "--model",
                 str(tiny_model), "--out", str(tmp_path / "none"), "--no-progress"]) == 1
    assert capsys.readouterr().err == (f"rehue: error: {tmp_path / 'empty'}, {tmp_path / 'emptier'}: none of these "
                                       "folders holds image frames\n")
    assert not (tmp_path / "none").exists()


def test_a_reels_fingerprint_is_taken_once_for_every_model_warned_of(tmp_path, tiny_model, monkeypatch):
    """Probe 204: each model compared (--model, --against, the dependent model) read every frame of each reel
    again to fingerprint it."""
    import rehue.data.frames as frames_module
    from tests.conftest import make_tiny_model

    reel = tmp_path / "reel"
    reel.mkdir()
    for i, frame in enumerate(textured_frames(4, 40, 40, seed=1)):
        Image.fromarray(frame).save(reel / f"f_{i:04d}.png")
    models = {}
    for name, channels in (("a", 1), ("b", 1), ("dep", 3)):
        models[name] = make_tiny_model(tmp_path / "m" / f"{name}.safetensors", in_channels=channels, seed=len(name))
        card = json.loads(models[name].with_suffix(".json").read_text())
        card["training"] = {"video_fingerprints": ["0" * 64]}
        models[name].with_suffix(".json").write_text(json.dumps(card))
    taken = []
    fingerprint = frames_module.film_fingerprint
    monkeypatch.setattr(frames_module, "film_fingerprint", lambda frames: taken.append(frames) or fingerprint(frames))
    evaluate(models["a"], [reel], tmp_path / "report", progress=False, log=lambda message: None, films=True,
             against=models["b"], dependent_model=str(models["dep"]), video_frames=2)
    assert len(taken) == 1


def test_a_reel_is_named_by_its_folder_and_its_frames_by_their_files_and_a_gap_hides_none(
        tmp_path, tiny_model, tiny_dependent_model, monkeypatch, capsys):
    """Probe 150: `--frames .` named the reel "" (a "video " key, a legend without a label); --video-frames
    counted a reel's frames by their numbers, so the frames after a gap in the numbering were never scored; the
    JSON's rows named no frame, and a black frame was "frame 2" where its file is f_000003.png."""
    reel = tmp_path / "reel"
    reel.mkdir()
    photo = textured_rgb(48, 80, seed=3)
    numbers = [*range(1, 6), *range(500, 505)]
    for place, number in enumerate(numbers):
        frame = np.zeros((48, 64, 3), np.uint8) if number == 3 else np.ascontiguousarray(photo[:, place: place + 64])
        Image.fromarray(frame).save(reel / f"f_{number:06d}.png")
    monkeypatch.chdir(reel)
    assert main(["evaluate", ".", "--frames", "--model", str(tiny_model), "--dependent-model",
                 str(tiny_dependent_model), "--video-frames", "8", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "note: .: 1 of its 8 frames has no colour (black, a fade, a title card), such as f_000003.png; it is " \
           "not scored" in err, err
    report = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert [key for key in report["extra"] if key.startswith("video")] == ["video reel"]
    assert report["extra"]["video reel"]["frames"] == 8
    images = report["rows"]["tiny-independent"]["images"]
    assert [Path(image["file"]).name for image in images] == \
        [f"f_{number:06d}.png" for number in numbers[:8] if number != 3]
    assert "- video reel: 8 frames" in (tmp_path / "r" / "metrics.md").read_text()


def test_a_frame_datasets_test_video_given_as_a_file_too_is_one_piece_of_evidence(tmp_path, tiny_model,
                                                                                 tiny_dependent_model):
    """Probe 157: a frame dataset and the video file its test frames came from, given together, were two units of
    one clip, whose near-equal gains made a narrow interval: "clearly above the gray baseline"."""
    from rehue.data.frames import extract_frames

    clips = tmp_path / "clips"
    clips.mkdir()
    for seed in range(2):
        make_clip(clips / f"clip{seed}.mp4", list(textured_frames(12, 48, 64, seed=seed)), fps=4)
    extract_frames([clips], tmp_path / "ds", fps=2, size=32, test_videos=["clip1.mp4"], progress=False,
                   log=lambda line: None)
    said = []
    result = evaluate(tiny_model, [tmp_path / "ds", clips / "clip1.mp4"], tmp_path / "r",
                      dependent_model=tiny_dependent_model, progress=False, log=said.append)
    assert result.table.verdicts()[0].units == 1
    assert (f"note: 1 video given as a file is also a frame dataset's test video (such as {clips / 'clip1.mp4'}, as "
            f"{tmp_path / 'ds'}: clip1.mp4); each is scored once, as the video file, one piece of evidence") in said
    extract_frames([clips], tmp_path / "ds2", fps=4, size=32, test_videos=["clip1.mp4"], progress=False,
                   log=lambda line: None)  # probe 158: with two datasets of it, the first's frames stayed
    result = evaluate(tiny_model, [tmp_path / "ds", tmp_path / "ds2", clips / "clip1.mp4"], tmp_path / "r2",
                      dependent_model=tiny_dependent_model, progress=False, log=lambda line: None)
    assert result.table.verdicts()[0].units == 1 and result.extra["images"] == 12
    said.clear()  # probe 159: under --limit the video was left out after its frames had been, and scored nowhere
    result = evaluate(tiny_model, [tmp_path / "ds", clips / "clip1.mp4"], tmp_path / "r3", limit=1,
                      dependent_model=tiny_dependent_model, progress=False, log=said.append)
    assert result.extra["images"] == 12 and "video clip1.mp4" in result.extra, "one video, within --limit 1, scored " \
        "as its file (probe 233: counted twice)"
    assert "limit" not in result.extra and [line for line in said if "also a frame dataset's" in line], said


def test_limit_counts_a_frame_datasets_video_once_and_the_report_says_what_it_left_out(tmp_path, tiny_model):
    """Probe 229: --limit 3 of a frame dataset scored its first 3 frames, all of one video, "the first 3 of 30 photos
    and videos found"; a fade's black first frame was a clip's sample picture, though scored nowhere; a clip cut short
    by --video-frames read as the whole clip; a photo or clip skipped was said on standard error alone; and
    --chroma -0 named the row "x-0"."""
    from PIL import Image

    from rehue.data.frames import extract_frames
    from rehue.evaluation.report import LISTED_LINES

    clips = tmp_path / "clips"
    clips.mkdir()
    for seed in range(3):
        make_clip(clips / f"v{seed}.mp4", list(textured_frames(8, 48, 64, seed=seed)), fps=4)
    extract_frames([clips], tmp_path / "ds", fps=4, size=32, test_videos=["v1.mp4", "v2.mp4"], progress=False,
                   log=lambda line: None)
    said = []
    result = evaluate(tiny_model, [tmp_path / "ds"], tmp_path / "r", limit=1, progress=False, log=said.append)
    assert result.extra["images"] == 8, "every frame of the first test video"
    assert {Path(file).parent.name for file in result.table.files["tiny-independent"]} == {"v1"}
    assert "note: scoring the first 1 of 2 photos and videos found (--limit 1)" in said
    assert result.extra["limit"] == "the first 1 of 2 photos and videos found"
    said.clear()  # probe 233: a test video given as a file too was counted twice, "the first 2 of 3", and under
    # --limit scored as the dataset's frames, not the file
    result = evaluate(tiny_model, [tmp_path / "ds", clips / "v2.mp4"], tmp_path / "r1", limit=2, progress=False,
                      log=said.append)
    assert not [line for line in said if "--limit" in line] and "limit" not in result.extra, said
    assert "video v2.mp4" in result.extra and result.extra["images"] == 16, "v1's 8 frames, and v2 as its file"

    fade = make_clip(tmp_path / "fade.mp4", [np.zeros((48, 64, 3), np.uint8)] * 3 + list(textured_frames(9, 48, 64)),
                     fps=4)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(48, 64, seed=1)).save(photos / "colour.png")
    Image.fromarray(np.full((48, 64, 3), 90, np.uint8)).save(photos / "gray.png")
    (photos / "broken.png").write_bytes(b"not a picture")
    result = evaluate(tiny_model, [photos, fade], tmp_path / "r2", video_frames=6, chroma=-0.0, progress=False,
                      log=lambda line: None)
    samples = np.asarray(Image.open(result.paths["samples"]).convert("L"))
    assert samples[samples.shape[0] // 2 :].mean() > 40, "the clip's sample is its first frame scored, not black"
    assert "tiny-independent x0" in result.table.rows and result.extra["chroma"] == 0 and \
        str(result.extra["chroma"]) == "0.0"
    stats = result.extra["video fade.mp4"]
    assert stats["frames"] == 6 and stats["cut_at_video_frames"] and stats["frames_without_colour"] == 3
    with pytest.raises(RehueError, match=re.escape(  # probe 233: "colour a gray film with `rehue colorize`"
            f"{fade}: none of the first 3 frames read (--video-frames 3) has colour to score against; a larger "
            "--video-frames reads further")):
        evaluate(tiny_model, [fade], tmp_path / "r3", video_frames=3, progress=False, log=lambda line: None)
    with pytest.raises(RehueError, match=r"no colour image to score against; a larger --video-frames reads further$"):
        evaluate(tiny_model, [fade, photos / "gray.png"], tmp_path / "r3", video_frames=3, progress=False,
                 log=lambda line: None)  # probe 234: "no colour image to score against", no more
    reel = tmp_path / "reel"  # probe 233: the frame past --video-frames was read, and its damage refused the reel
    reel.mkdir()
    for i in range(5):
        Image.fromarray(textured_rgb(48, 64, seed=i)).save(reel / f"f_{i:04d}.png")
    (reel / "f_0003.png").write_bytes(b"damaged")
    stats = evaluate(tiny_model, [reel], tmp_path / "r4", video_frames=3, films=True, progress=False,
                     log=lambda line: None).extra["video reel"]
    assert stats["frames"] == 3 and stats["cut_at_video_frames"]
    report = (tmp_path / "r2" / "metrics.md").read_text()
    assert "- video fade.mp4: 6 frames, 1 scene, coloured by tiny-independent x0; its first 6 alone (--video-frames)" \
        in report
    assert result.extra["skipped"] == [f"{photos / 'broken.png'}: not an image file (or a format Pillow cannot read)",
                                       f"{photos / 'gray.png'}: has no colour to score against"]
    assert f"- skipped:\n  - {photos / 'broken.png'}: not an image file" in report
    from rehue.evaluation.report import extra_said

    assert extra_said([f"line {i}" for i in range(LISTED_LINES + 5)]).endswith(
        f"  - line {LISTED_LINES - 1}\n  - and 5 more (metrics.json lists every one)")


def test_a_photo_named_twice_or_copied_is_one_piece_of_evidence_and_what_is_not_held_out_is_said(
        tmp_path, photo_folder, tiny_model, tiny_dependent_model):
    """Probe 46: photos named twice were 25 rows where 12 were scored ("ahead on 0 of 25"), a copied frame
    dataset made one clip two units ("clearly above"), a frame dataset without a test split was scored whole
    without a word, and --dependent-model, which scores only videos, was taken without one."""
    import shutil

    from rehue.data.frames import extract_frames
    from tests.helpers_video import textured_frames

    photos = sorted(photo_folder.iterdir())
    lines = []
    once = evaluate(tiny_model, [photo_folder], tmp_path / "once", progress=False, log=lambda message: None)
    shutil.copy(photos[1], tmp_path / "copy.png")
    (tmp_path / "link.png").symlink_to(photos[2])
    twice = evaluate(tiny_model, [photo_folder, photos[0], tmp_path / "link.png", tmp_path / "copy.png", photo_folder],
                     tmp_path / "twice", progress=False, log=lines.append)
    assert twice.extra["images"] == once.extra["images"] == len(photos)
    assert twice.table.verdicts()[0].units == once.table.verdicts()[0].units == len(photos)
    assert lines[0] == (f"note: {len(photos) + 3} of the inputs are the same file as another, or the same picture "
                        f"(such as {photos[0]}); each is scored once, as one piece of evidence")

    clips = [make_clip(tmp_path / f"v{i}.mp4", list(textured_frames(12, 48, 64, seed=i)), fps=12) for i in range(2)]
    extract_frames(clips, tmp_path / "frames", fps=6, size=32, test_videos=["v1.mp4"], progress=False,
                   log=lambda message: None)
    shutil.copytree(tmp_path / "frames", tmp_path / "frames-copy")
    copied = evaluate(tiny_model, [tmp_path / "frames", tmp_path / "frames-copy"], tmp_path / "copied",
                      progress=False, log=lambda message: None)
    assert copied.table.verdicts()[0].units == 1 and copied.table.verdicts()[0].psnr_interval is None

    shutil.copy(clips[0], tmp_path / "v0-copy.mp4")  # probe 70: a copied or hard-linked clip, a copied reel
    (tmp_path / "v1-link.mp4").hardlink_to(clips[1])
    reel = tmp_path / "reel"
    reel.mkdir()
    for number, frame in enumerate(textured_frames(4, 48, 64, seed=5)):
        Image.fromarray(frame).save(reel / f"f_{number:04d}.png")
    shutil.copytree(reel, tmp_path / "reel-copy")
    lines.clear()
    films = evaluate(tiny_model, [clips[0], tmp_path / "v0-copy.mp4", clips[1], tmp_path / "v1-link.mp4"],
                     tmp_path / "films", progress=False, log=lines.append, dependent_model="none")
    assert films.table.verdicts()[0].units == 2, "before: four clips, two of them the same"
    assert f"note: 2 of the films are copies of another (such as {tmp_path / 'v0-copy.mp4'}, of {clips[0]}); each " \
        "is scored once, as one piece of evidence" in lines
    reels = evaluate(tiny_model, [reel, tmp_path / "reel-copy"], tmp_path / "reels", progress=False,
                     log=lambda message: None, dependent_model="none", films=True)
    assert reels.table.verdicts()[0].units == 1

    extract_frames(clips[:1], tmp_path / "one", fps=6, size=32, progress=False, log=lambda message: None)
    lines.clear()
    evaluate(tiny_model, [tmp_path / "one"], tmp_path / "all", progress=False, log=lines.append,
             dependent_model=str(tiny_dependent_model))
    assert lines == [
        f"note: {tmp_path / 'one'}: the frame dataset holds out no video, so all its 6 frames are scored (`rehue "
        "train` refuses such a set, having no video to validate on)",
        "note: --dependent-model is not used: it colours videos and films (--frames), and photos and a frame "
        "dataset's test frames are scored one by one"]


def test_a_photo_folders_own_manifest_without_a_path_column_is_not_read_as_a_sets(tmp_path, photo_folder):
    """Probe 61's kin: a manifest.csv of the user's own with a "split" column and no "path" one ended
    evaluation in a KeyError traceback; it is no set's manifest, so every photo is scored."""
    from tests.conftest import make_tiny_model

    (photo_folder / "manifest.csv").write_text("name,split\np0.png,test\n")
    model = make_tiny_model(tmp_path / "m.safetensors")
    evaluate(str(model), [photo_folder], tmp_path / "ev", progress=False)
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["rows"]["gray baseline"]["count"] == 4


def test_a_library_callers_wrong_kinds_of_argument_are_usage_errors_and_notes_follow_the_logger(
        tmp_path, photo_folder, tiny_model, capsys, caplog):
    """Probe 75: limit=1.5, inputs=None and out_dir=None were TypeErrors from deep inside; a note was printed on
    stderr with progress=False whatever the ``rehue`` logger's level."""
    import logging

    from rehue.errors import UsageError

    report = tmp_path / "r"
    for inputs, out_dir, limit, message in (([photo_folder], report, 1.5, "^limit must be a whole number"),
                                            (None, report, 0, "a list of paths"),
                                            ([b"photos"], report, 0, "a list of paths"),
                                            ([photo_folder], None, 0, "out_dir is the report folder")):
        with pytest.raises(UsageError, match=message):
            evaluate(tiny_model, inputs, out_dir, limit=limit, progress=False)
    assert not (tmp_path / "r").exists()
    with caplog.at_level(logging.INFO, logger="rehue"):
        evaluate(tiny_model, (p for p in [photo_folder]), tmp_path / "r", dependent_model="none", progress=False)
    assert "note: --dependent-model is not used" in caplog.text and capsys.readouterr().err == ""


def test_video_frames_must_be_a_whole_number_and_a_limit_is_named_where_it_hid_the_photos(tmp_path, tiny_model):
    """Probe 88: ``video_frames="3"`` was a TypeError and 1.5 was taken; ``limit=1`` on a folder whose first
    file is unreadable said "no image could be read", of a folder of colour photos."""
    for bad in ("3", 1.5, True):
        with pytest.raises(UsageError, match="^video_frames must be a whole number"):
            evaluate(tiny_model, [tmp_path], tmp_path / "r", video_frames=bad, progress=False)
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes(b"not a picture")
    for seed, name in enumerate("bcd"):
        Image.fromarray(textured_rgb(32, 32, seed=seed)).save(photos / f"{name}.png")
    with pytest.raises(RehueError, match=r"no image could be read among the first 1 of 4 \(--limit 1\)"):
        evaluate(tiny_model, [photos], tmp_path / "r", limit=1, progress=False, log=lambda line: None)
    assert evaluate(tiny_model, [photos], tmp_path / "r", limit=2, progress=False,
                    log=lambda line: None).extra["images"] == 1
    Image.fromarray(textured_rgb(32, 32)[..., 0]).save(photos / "a.png")  # gray first: the single photo's error
    with pytest.raises(RehueError, match=r"no colour image to score against among the first 1 of 4 \(--limit 1\)"):
        evaluate(tiny_model, [photos], tmp_path / "r2", limit=1, progress=False, log=lambda line: None)


def test_pictures_smaller_than_the_scored_size_are_said_to_be_enlarged(tmp_path, tiny_model):
    """Probe 99: a frame dataset's 32 px frames scored against a 128 px model were enlarged 4 times without a
    word, the report saying only "photos: centre crop at 128x128"."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_rgb(20, 30, seed=1)).save(photos / "small.png")
    Image.fromarray(textured_rgb(40, 50, seed=2)).save(photos / "large.png")
    Image.fromarray(textured_rgb(20, 30, seed=3)[..., 0]).save(photos / "gray.png")  # skipped: not counted (probe 100)
    lines = []
    evaluate(tiny_model, [photos], tmp_path / "r", progress=False, log=lines.append)
    assert (f"note: 1 picture of 2 is smaller than 32x32, such as {photos / 'small.png'}, and scored enlarged to it, "
            "a soft truth (--full-res scores each at its own size)") in lines
    lines.clear()
    evaluate(tiny_model, [photos], tmp_path / "f", progress=False, log=lines.append, full_res=True)
    assert not [line for line in lines if "enlarged" in line]


def test_the_shipped_model_on_a_demo_sets_training_photos_is_said_to_be_no_held_out_score(tmp_path):
    """Probe 124: `rehue evaluate data/demo/photos` scored the shipped model on the photos it learnt from
    without a word: its card's data, "data/demo", is where it was built, not where a user builds the set."""
    import csv

    from rehue.data.demo import MANIFEST_FIELDS

    demo = tmp_path / "demo"
    (demo / "photos").mkdir(parents=True)
    with open(demo / "manifest.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for name, split in (("taught.png", "train"), ("held.png", "test")):
            Image.fromarray(textured_rgb(40, 60, seed=len(name))).save(demo / "photos" / name)
            writer.writerow({"path": f"photos/{name}", "kind": "photo", "split": split})
    messages = []
    evaluate("default", [demo / "photos"], tmp_path / "r", progress=False, log=messages.append)
    assert [line for line in messages if "trained on" in line] == [
        f"warning: 1 of the 2 photos and clips lie in {demo}, which rehue (shipped) was trained on (such as "
        f"{demo / 'photos' / 'taught.png'}): it taught it, except any its training held out for validation, so "
        "their scores are not held out"]
    said = messages[[i for i, line in enumerate(messages) if "trained on" in line][0]].removeprefix("warning: ")
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["extra"]["not_held_out"] == [said]
    assert f"- not_held_out:\n  - {said}\n" in (tmp_path / "r" / "metrics.md").read_text(), \
        "probe 157: said on standard error alone; probe 158: as a Python list"


def test_a_model_against_itself_at_another_chroma_keeps_both_lines_of_the_drift_plot(
        tmp_path, tiny_model, tiny_dependent_model, monkeypatch):
    """Probe 143: ``--model M --chroma 0.5 --against M`` named the model's own line of drift.png "clip.mp4, M", the
    rival's name, so one line replaced the other; the report said "coloured by M" of both."""
    from rehue.evaluation import report

    drawn = []
    real_plot = report.plot_lines

    def plot_lines(series, *args, **kwargs):
        drawn.append(dict(series))
        return real_plot(series, *args, **kwargs)

    monkeypatch.setattr(report, "plot_lines", plot_lines)
    clip = make_clip(tmp_path / "clip.mp4", list(textured_frames(6, 48, 64, seed=3)), fps=10)
    said = []
    result = evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False, chroma=0.5,
                      against=tiny_model, log=said.append)
    name = Path(tiny_model).stem
    mine, theirs = result.extra["video clip.mp4"], result.extra[f"video clip.mp4, {name}"]
    assert (mine["model"], theirs["model"]) == (f"{name} x0.5", name)
    assert len(drawn) == 1 and sorted(drawn[0]) == [f"clip.mp4, {name}", f"clip.mp4, {name} x0.5"]
    assert drawn[0][f"clip.mp4, {name} x0.5"] == mine["ab_error_by_frame"] != theirs["ab_error_by_frame"]
    assert f"coloured by {name} x0.5" in result.paths["markdown"].read_text()
    # probe 143: the rival's note was this model's, "--dependent-model pairs one", which pairs one with --model only
    assert said == [f"note: --against {name} colours each frame of a clip alone: the shipped dependent model pairs "
                    "only with the shipped rehue-gen2-128-independent, given by that name"]
    said.clear()  # probe 157: of the shipped dependent model, where --dependent-model named one's own
    evaluate(tiny_model, [clip], tmp_path / "r2", dependent_model=tiny_dependent_model, progress=False,
             against=tiny_model, log=said.append)
    assert f"note: --against {name} (against) colours each frame of a clip alone: --dependent-model pairs with " \
           "--model alone" in said, said


def test_one_unreadable_photo_alone_is_one_line_with_its_reason(tmp_path, tiny_model, capsys):
    """Probe 143: a warning with the reason, then "no image could be read" without it; with -q, the reason was
    not said at all."""
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    for quiet in ([], ["-q"]):
        assert main([*quiet, "evaluate", str(notes), "--model", str(tiny_model), "--out", str(tmp_path / "r"),
                     "--no-progress"]) == 1
        assert capsys.readouterr().err.strip().splitlines() == [
            f"rehue: error: {notes}: not an image file (or a format Pillow cannot read)"]
    assert not (tmp_path / "r").exists()


def test_fit_given_with_clips_alone_is_said_to_be_unused(tmp_path, tiny_model):
    """Probe 143: `--full-res --fit letterbox` on clips alone did nothing and said nothing (--dependent-model on
    photos alone gets a note)."""
    clip = make_clip(tmp_path / "clip.mp4", list(textured_frames(4, 48, 64, seed=3)), fps=10)
    said = []
    evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False, full_res=True,
             fit="letterbox", log=said.append)
    assert "note: --fit letterbox is not used: it fits photos, and a clip's or a film's frames are always " \
           "letterboxed (thesis 4.1)" in said
    said.clear()
    Image.fromarray(textured_rgb(40, 60)).save(tmp_path / "photo.png")
    evaluate(tiny_model, [clip, tmp_path / "photo.png"], tmp_path / "r2", dependent_model="none", progress=False,
             full_res=True, fit="letterbox", log=said.append)
    assert not [line for line in said if "--fit" in line]


def test_a_phone_clips_sample_pictures_are_upright(tmp_path, tiny_model, monkeypatch):
    """Probe 143: a portrait clip (stored turned, rotation 90) was coloured upright but shown sideways in
    samples.png."""
    from rehue.evaluation import report
    from rehue.video.io import VideoReader, upright

    drawn = []
    real_grid = report.sample_grid

    def sample_grid(rows, *args, **kwargs):
        drawn.extend(rows)
        return real_grid(rows, *args, **kwargs)

    monkeypatch.setattr(report, "sample_grid", sample_grid)
    clip = make_clip(tmp_path / "phone.mp4", list(textured_frames(4, 48, 64, seed=2)), fps=10, rotation=90)
    with VideoReader(clip) as reader:
        assert reader.rotation == 90
        shown = upright(next(iter(reader)).rgb, reader.rotation)
    evaluate(tiny_model, [clip], tmp_path / "r", dependent_model="none", progress=False, log=lambda message: None)
    gray, truth, output = drawn[0]
    assert truth.shape == output.shape == (64, 48, 3) and gray.shape[:2] == (64, 48)
    assert np.array_equal(truth, shown)


def test_a_report_a_killed_run_left_half_replaced_is_said_to_be(tmp_path, photo_folder, tiny_model, capsys):
    """Probe 189: a run killed as it moved its report's files in left the folder part its report, part the earlier
    one, the rest in a hidden folder that the next run removed without a word."""
    out = tmp_path / "report"
    options = ["--model", str(tiny_model), "--out", str(out), "--no-progress"]
    assert main(["evaluate", str(photo_folder), *options]) == 0
    left = out / ".report.rehue-tmp999999999"  # metrics.json moved in, the pictures not yet
    left.mkdir()
    (left / "samples.png").write_bytes((out / "samples.png").read_bytes())
    capsys.readouterr()
    assert main(["evaluate", str(photo_folder), *options]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"warning: {out}: its report is half replaced: a run killed as it moved its files in left the rest in {left}; "
        "pass --overwrite to write a whole one",
        f"rehue: error: {out}: holds an earlier report (metrics.json, metrics.md, samples.png, gains.png); pass "
        "--overwrite to replace it or name another --out"]
    assert main(["evaluate", str(photo_folder), *options, "--overwrite"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {out}: its report is half replaced: a run killed as it moved its files in left "
                          f"the rest in {left}; this run writes a whole one\n")
    assert f"note: removed 1 half-written report file or folder that a killed run left, such as {left}" in \
        err.splitlines(), "probe 193: removed without a word"
    assert not left.exists()
    (left / "metrics.json").parent.mkdir()  # killed before any move: the earlier report is whole
    (left / "metrics.json").write_text("{}")
    assert main(["evaluate", str(photo_folder), *options, "--overwrite"]) == 0
    assert "half replaced" not in capsys.readouterr().err
    beside = tmp_path / ".report.rehue-tmp999999998"  # probe 191: a first run into a new folder stages beside it;
    beside.mkdir()  # killed after its metrics.json moved in, it was said half replaced for good
    (beside / "samples.png").write_bytes((out / "samples.png").read_bytes())
    for said in (True, False):
        assert main(["evaluate", str(photo_folder), *options, "--overwrite"]) == 0
        assert ("half replaced" in capsys.readouterr().err) is said
    assert not beside.exists()
