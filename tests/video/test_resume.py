from pathlib import Path

import numpy as np
from PIL import Image

from rehue.video.resume import (
    SCENES,
    STATES,
    add_scene_start,
    add_state,
    load_state,
    saved_states,
    scene_start_times,
    state_file,
)


def test_a_scene_line_a_power_cut_left_half_written_is_not_one(tmp_path):
    add_scene_start(tmp_path, 6)
    add_scene_start(tmp_path, 12, 0.5)
    assert scene_start_times(tmp_path) == {6: None, 12: 0.5}
    with open(tmp_path / SCENES, "a") as file:
        file.write("1")  # "18\n" cut after its first byte
    assert scene_start_times(tmp_path) == {6: None, 12: 0.5}
    assert scene_start_times(tmp_path / "none") == {}


def test_saved_states_are_listed_whole_read_back_as_saved_and_only_the_newest_three_kept(tmp_path):
    """A film in a long shot saves the colouring's state every PIECE_FRAMES frames: the newest three stay (the
    frames before an older one are all written), a line a power cut left half-written is none, and a state
    reads back as the arrays it was, without pickling."""
    for index in (500, 1000, 1500, 2000):
        add_state(tmp_path, index, {"prev_ab": np.full((2, 4, 4), index, np.float32), "level": np.float64(0.5)},
                  index / 25)
    with open(tmp_path / STATES, "a") as file:
        file.write("2500 283")  # cut short
    listed = saved_states(tmp_path)
    assert sorted(listed) == [500, 1000, 1500, 2000] and listed[2000][2] == 80.0
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == [state_file(i) for i in (1000, 1500, 2000)]
    state = load_state(tmp_path / state_file(1500))
    assert state["prev_ab"].dtype == np.float32 and (state["prev_ab"] == 1500).all() and state["level"] == 0.5
    assert saved_states(tmp_path / "none") == {}


def test_a_film_is_the_same_after_a_move_or_a_copy_with_its_times_and_another_once_written_to(tmp_path):
    """The sample hash reads 64 blocks of a film over 4 MiB: a byte changed between them is not in it (probe 53:
    such a film went on with 65 frames of the old one's colours), so a film whose modification time changed is
    another, whatever its sample says; one moved or copied with its times is the same."""
    import os
    import shutil

    from rehue.video.resume import content_sample, frame_stats, same_frames

    film = tmp_path / "film.mp4"
    film.write_bytes(np.random.default_rng(0).integers(0, 256, 5 << 20, np.uint8).tobytes())
    before = frame_stats([film], content=True)
    kept = tmp_path / "kept"
    kept.mkdir()
    shutil.copy2(film, kept / "film.mp4")  # cp -p: a new file number and change time, the same times
    moved = frame_stats([kept / "film.mp4"], content=True)
    assert moved[0][4] != before[0][4] and same_frames(before, moved)
    data = bytearray(film.read_bytes())
    data[70_000] ^= 0xFF  # between the first two sampled blocks (0-64 KiB, and from 80 KiB)
    film.write_bytes(bytes(data))
    assert content_sample(film) == before[0][5], "the sample misses it"
    assert not same_frames(before, frame_stats([film], content=True))
    status = (kept / "film.mp4").stat()
    os.utime(kept / "film.mp4", ns=(status.st_atime_ns, status.st_mtime_ns + 1))  # touched
    assert not same_frames(before, frame_stats([kept / "film.mp4"], content=True))
    assert same_frames([row[:5] for row in before], [row[:5] for row in before]), "a stop 40 journal's rows"


def test_a_second_run_into_an_output_another_is_colouring_now_is_refused_at_once(tmp_path, tiny_model, capsys):
    """Probe 127: two runs on one film at once each coloured all of it, and the second, refused the output at the
    end, left a hidden folder the size of the film. A run is writing while it holds its folder's lock; the
    folder of a process still there that holds none (a notebook's call, stopped: probe 137) is no run going on."""
    import os
    import subprocess
    import sys

    from rehue.cli import main
    from rehue.data.images import staging_folder_for
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(6, 48, 64))
    out = tmp_path / "colour.mp4"
    prefix = str(tmp_path / staging_folder_for(out).name.removesuffix(str(os.getpid())))
    holding = ("import fcntl, os, sys, time\n"
               "folder = sys.argv[1] + str(os.getpid()); os.mkdir(folder)\n"
               "descriptor = os.open(folder, os.O_RDONLY)\n"
               "if sys.argv[2] == 'lock': fcntl.flock(descriptor, fcntl.LOCK_EX)\n"
               "print('ready', flush=True); time.sleep(60)\n")
    others = [subprocess.Popen([sys.executable, "-c", holding, prefix, kind], stdout=subprocess.PIPE, text=True)
              for kind in ("lock", "idle")]
    try:
        assert [other.stdout.readline().strip() for other in others] == ["ready", "ready"]
        writer, idle = others
        assert main(["colorize", str(clip), "-o", str(out), "--model", str(tiny_model), "--no-progress"]) == 1
        assert capsys.readouterr().err.strip().endswith(
            f"{out}: another rehue (process {writer.pid}) is colouring this output now, into "
            f"{Path(prefix).name}{writer.pid}; wait for it to finish, or name another output")
        assert not out.exists()
        writer.kill()
        writer.wait()
        assert main(["colorize", str(clip), "-o", str(out), "--model", str(tiny_model), "--no-progress"]) == 0, \
            "the folders of a process gone, and of one still there that holds no lock"
    finally:
        for other in others:
            other.kill()
            other.wait()

    # probe 139: the same frames typed as f_%05d.png and as f_#####.png are one output
    frames = tmp_path / "frames"
    frames.mkdir()
    prefix = str(frames / staging_folder_for(frames / "f_%05d.png").name.removesuffix(str(os.getpid())))
    writer = subprocess.Popen([sys.executable, "-c", holding, prefix, "lock"], stdout=subprocess.PIPE, text=True)
    others = [writer]
    try:
        assert writer.stdout.readline().strip() == "ready"
        assert main(["colorize", str(clip), "-o", str(frames / "f_#####.png"), "--model", str(tiny_model),
                     "--no-progress"]) == 1
        assert f"another rehue (process {writer.pid}) is colouring this output now" in capsys.readouterr().err
    finally:
        for other in others:
            other.kill()
            other.wait()


def test_a_run_refused_for_another_colouring_its_output_loads_no_model_and_draws_no_bar(tmp_path, tiny_model,
                                                                                        monkeypatch, capsys):
    """Probe 137: the second run read the whole film, loaded its models and drew its bar at 0% before it was
    refused, for a video, numbered frames, and a reel's frames into a folder or a video."""
    import os
    import subprocess
    import sys

    from rehue.cli import main
    from rehue.data.images import staging_folder_for
    from rehue.video import pipeline
    from tests.helpers_video import make_clip, textured_frames

    begun = []
    monkeypatch.setattr(pipeline, "_progress_bar", lambda *args: begun.append("bar"))
    monkeypatch.setattr(pipeline, "load_dependent", lambda *args: begun.append("models"))
    clip = make_clip(tmp_path / "film.mp4", textured_frames(4, 48, 64))
    reel = tmp_path / "reel"
    reel.mkdir()
    for index, frame in enumerate(textured_frames(4, 48, 64)):
        Image.fromarray(frame.mean(axis=2).astype(np.uint8)).save(reel / f"r_{index:04d}.png")
    (tmp_path / "frames").mkdir()
    holding = ("import fcntl, os, sys, time\n"
               "folder = sys.argv[1] + str(os.getpid()); os.mkdir(folder)\n"
               "fcntl.flock(os.open(folder, os.O_RDONLY), fcntl.LOCK_EX)\n"
               "print('ready', flush=True); time.sleep(60)\n")
    for source, output, frames in ((clip, tmp_path / "colour.mp4", []), (clip, tmp_path / "frames" / "f_%05d.png", []),
                                   (reel, tmp_path / "reel.mp4", ["--frames"]), (reel, tmp_path / "out", ["--frames"])):
        prefix = str(output.parent / staging_folder_for(output).name.removesuffix(str(os.getpid())))
        writer = subprocess.Popen([sys.executable, "-c", holding, prefix], stdout=subprocess.PIPE, text=True)
        try:
            assert writer.stdout.readline().strip() == "ready"
            assert main(["colorize", str(source), "-o", str(output), "--model", str(tiny_model), *frames]) == 1
            assert f"another rehue (process {writer.pid}) is colouring this output now" in capsys.readouterr().err
            assert begun == [], output
        finally:
            writer.kill()
            writer.wait()


def test_a_second_hold_of_one_folder_in_one_process_leaves_the_first_alone(tmp_path):
    """Probe 139: a second call into one output, from another thread, failed to make its hidden folder, and in
    failing let go of the first's hold: a third run took over the first's live folder."""
    import pytest

    from rehue.errors import RehueError
    from rehue.video import resume

    class Owner:
        pass

    first, second = Owner(), Owner()
    staging = tmp_path / ".out.mp4.rehue-tmp1"
    cleanup = resume.hold_staging(first, staging, None, "cannot make it", tmp_path, tmp_path / "out.mp4")
    try:
        with pytest.raises(RehueError, match="another call of this process is colouring this output now"):
            resume.hold_staging(second, staging, None, "cannot make it", tmp_path, tmp_path / "out.mp4")
        assert str(staging) in resume.writing_now and str(staging) in resume._locks and staging.is_dir()
    finally:
        resume.release_staging(staging, cleanup)
    assert str(staging) not in resume.writing_now and str(staging) not in resume._locks


def test_two_threads_colouring_one_output_through_the_pipeline_take_turns(tmp_path, tiny_model):
    """Probe 139: two threads calling rehue.video.pipeline.colorize_video (as a library caller of reels calls
    colorize_frames) into one output shared its temporary file, and the second's failure removed the first's."""
    import threading

    from rehue.errors import RehueError
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_video
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(30, 48, 64))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    results = []

    def colour():
        try:
            results.append(colorize_video(clip, tmp_path / "colour.mp4", colorizer=colorizer, dependent_model="none",
                                          progress=False, log=lambda line: None).frames)
        except RehueError as error:
            results.append(error.reason)

    threads = [threading.Thread(target=colour) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == sorted([30, "output exists; pass --overwrite to replace it"], key=str)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["colour.mp4", "film.mp4", "models"]


def test_a_progress_callback_colouring_the_same_output_is_refused_not_left_waiting(tmp_path, tiny_model):
    """Probe 141: a progress callback (run on the encoder's thread) that coloured the same output waited for the
    call it served, which waited for it: a hang."""
    import threading

    from rehue.errors import RehueError
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_video
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(20, 48, 64))
    colorizer = Colorizer.load(tiny_model, device="cpu")
    said, results = [], []

    def progress(done, total):
        if done == 5 and not said:
            try:
                colorize_video(clip, tmp_path / "colour.mp4", colorizer=colorizer, progress=False)
            except RehueError as error:
                said.append(error.reason)

    def colour():
        results.append(colorize_video(clip, tmp_path / "colour.mp4", colorizer=colorizer, dependent_model="none",
                                      progress=progress, log=lambda line: None).frames)

    thread = threading.Thread(target=colour, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "hung"
    assert said == ["another call of this process is colouring this output now; wait for it to finish, or name "
                    "another output"] and results == [20]


def test_an_older_rehues_interrupted_frames_under_the_typed_pattern_are_removed(tmp_path, tiny_model, capsys):
    """Probe 141: a run into f_#####.png interrupted before the pattern named its hidden folder in FFmpeg's
    spelling left a folder no later run found, the size of the frames it held."""
    from rehue.cli import main
    from rehue.data.images import RESUMABLE
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(6, 48, 64))
    frames = tmp_path / "frames"
    left = frames / f".f_#####.png.rehue-tmp{2**22 - 1}"  # a process gone
    left.mkdir(parents=True)
    (left / RESUMABLE).write_text("{}")
    (left / "f_00001.png").write_bytes(b"an older run's frame")
    assert main(["colorize", str(clip), "-o", str(frames / "f_#####.png"), "--model", str(tiny_model),
                 "--no-progress"]) == 0
    assert not left.exists() and len(list(frames.iterdir())) == 6


def test_ctrl_c_as_a_finished_films_pieces_are_removed_keeps_nothing_and_says_nothing_kept(tmp_path, tiny_model,
                                                                                          monkeypatch, capsys):
    """Probe 145: Ctrl-C landing while the pieces were removed, the output already in place, said they were kept
    for the same command to join, which then found the output there ("output exists")."""
    import os
    import shutil
    import signal

    from rehue.cli import main
    from rehue.video import pieces
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", textured_frames(6, 48, 64))
    out = tmp_path / "colour.mp4"
    real_rmtree = shutil.rmtree

    def interrupted_rmtree(path, *args, **kwargs):
        if out.exists():  # the pieces' folder, the output in place: Ctrl-C now
            os.kill(os.getpid(), signal.SIGINT)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(pieces.shutil, "rmtree", interrupted_rmtree)
    assert main(["colorize", str(clip), "-o", str(out), "--model", str(tiny_model), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "kept" not in err and err.strip().splitlines()[-1] == "rehue: interrupted"
    assert out.is_file() and not list(tmp_path.glob(".colour.mp4*"))
    # probe 146: Ctrl-C just after the output moved into place, before the run knew it was done
    from rehue.video.io import VideoWriter

    monkeypatch.setattr(pieces.shutil, "rmtree", real_rmtree)
    real_close = VideoWriter.close

    def interrupted_close(writer):
        real_close(writer)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(VideoWriter, "close", interrupted_close)
    out.unlink()
    assert main(["colorize", str(clip), "-o", str(out), "--model", str(tiny_model), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "kept" not in err and out.is_file() and not list(tmp_path.glob(".colour.mp4*"))


def test_a_callers_threads_take_turns_on_one_output_whatever_their_names(tmp_path, tiny_model):
    """Probe 147: rehue's own threads were told by their names ("rehue-..."), so a caller's pool named "rehue-jobs"
    writing one output from several threads was refused ("another call of this process ...") where threads of
    other names take turns."""
    from concurrent.futures import ThreadPoolExecutor

    from rehue.inference.colorizer import Colorizer
    from rehue.inference.files import colorize_image_file
    from tests.conftest import textured_rgb

    photo = tmp_path / "photo.png"
    Image.fromarray(textured_rgb(40, 60)).save(photo)
    colorizer = Colorizer.load(tiny_model, device="cpu")
    with ThreadPoolExecutor(4, thread_name_prefix="rehue-jobs") as pool:
        done = list(pool.map(lambda _: colorize_image_file(colorizer, photo, tmp_path / "out.png", overwrite=True),
                             range(8)))
    assert len(done) == 8 and (tmp_path / "out.png").is_file()
