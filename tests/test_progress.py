import io
import sys

from rehue.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_whole_lines_not_a_bar_redrawn_in_place(monkeypatch):
    """Before, `rehue colorize film.mp4 2> log.txt` wrote 145 carriage-return redraws on one line of the
    log for a 17 s job (probe 19); a one-hour film wrote thousands."""
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    for _ in progress_bar(range(5), desc="film", unit="frame", mininterval=0, miniters=1, leave=False):
        pass
    lines = log.getvalue().split("\n")
    assert "\r" not in log.getvalue() and lines[-1] == "" and all(line.startswith("film:") for line in lines[:-1])
    assert lines[0].startswith("film:   0%") and len(lines) - 1 == 6, "one line for the start and each frame"


def test_a_log_gets_a_line_at_most_every_half_minute_by_default(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    bar = progress_bar(range(1000), desc="film", leave=False)
    for _ in bar:
        pass
    lines = log.getvalue().splitlines()
    assert len(lines) == 2, "the start and the end, in a job shorter than the interval"
    assert "0/1000" in lines[0] and "100%" in lines[1] and "1000/1000" in lines[1], \
        "before, only the start: a log of a job that ended looked stalled at 0% (probes 24, 26)"
    assert bar.maxinterval == 30, "before, tqdm's monitor drew a stale line 19 s after each (probe 25)"


def test_a_terminal_gets_the_bar_redrawn_in_place(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    for _ in progress_bar(range(5), desc="film", mininterval=0, miniters=1):
        pass
    assert terminal.getvalue().count("\r") >= 5 and terminal.getvalue().count("\n") <= 1


def test_a_terminal_that_cannot_move_its_cursor_gets_lines(monkeypatch):
    """Under TERM=dumb (Emacs' shell), nested bars showed their cursor moves as ^[[A garbage."""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TERM", "dumb")
    outer = progress_bar(range(2), desc="files", miniters=1)
    for _ in outer:
        for _ in progress_bar(range(3), desc="frames", leave=False, miniters=1):
            pass
    assert outer.mininterval == 5
    assert "\x1b" not in terminal.getvalue() and "\r" not in terminal.getvalue()
    assert terminal.getvalue().splitlines()[-1].startswith("files: 100%")


def test_colouring_a_film_into_a_log_writes_no_carriage_return(tmp_path, tiny_model, capsys):
    import numpy as np

    from rehue.cli import main
    from tests.conftest import textured_rgb
    from tests.helpers_video import make_clip

    photo = np.repeat(textured_rgb(48, 64 + 12, seed=3).mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    clip = make_clip(tmp_path / "film.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(12)], fps=12)
    assert main(["colorize", str(clip), "-o", str(tmp_path / "colour.mp4"), "--model", str(tiny_model),
                 "--dependent-model", "none"]) == 0
    err = capsys.readouterr().err
    assert "film.mp4:   0%" in err and "\r" not in err


def test_a_film_into_numbered_frames_ends_its_count_at_every_frame(tmp_path, tiny_model, capsys):
    """Stop 48: the bar was closed before the writing threads had counted the last frames saved, so a log's
    last line said 99% (11/12), and that line came after the frames were said written."""
    import numpy as np

    from rehue.cli import main
    from tests.conftest import textured_rgb
    from tests.helpers_video import make_clip

    photo = np.repeat(textured_rgb(48, 64 + 12, seed=3).mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    clip = make_clip(tmp_path / "film.mp4", [np.ascontiguousarray(photo[:, i : i + 64]) for i in range(12)], fps=12)
    assert main(["colorize", str(clip), "-o", str(tmp_path / "frames" / "f_%02d.png"), "--model", str(tiny_model),
                 "--dependent-model", "none"]) == 0
    lines = capsys.readouterr().err.splitlines()
    (last,) = [number for number, line in enumerate(lines) if line.startswith("film.mp4: 100%")]
    assert "12/12" in lines[last] and lines[last + 1] == f"{tmp_path / 'frames'}: frames f_01.png to f_12.png"


def test_a_bar_ends_at_every_step_where_its_total_was_an_estimate(tmp_path, tiny_model, capsys, monkeypatch):
    """A film's header says about how many frames it holds (a Matroska film with sound said one more, a phone's
    variable rate one fewer), and every film's bar (colorize, frames, scenes, evaluate) ended at ``95% 20/21``,
    as if a frame were left undone."""
    from rehue.cli import main
    from rehue.video.io import VideoReader
    from tests.helpers_video import make_clip, textured_frames

    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    for _ in progress_bar(range(4), total=5, desc="steps"):
        pass
    assert log.getvalue().splitlines()[-1].startswith("steps: 100%|##########| 4/4 ")
    for _ in progress_bar(range(4), total=5, desc="each", mininterval=0, miniters=1):  # its last step drawn already
        pass
    assert log.getvalue().splitlines()[-2:][0].startswith("each:  80%|########  | 4/5 ")
    assert log.getvalue().splitlines()[-1].startswith("each: 100%|##########| 4/4 ")
    monkeypatch.undo()
    import numpy as np

    steps = np.random.default_rng(1).integers(15, 25, 20)  # a phone's variable rate, at about 30 a second
    clip = make_clip(tmp_path / "film.mkv", list(textured_frames(20, 48, 64)), fps=30, pts=list(np.cumsum(steps)),
                     time_base="1/600", audio=True)
    with VideoReader(clip) as reader:
        assert reader.frame_count == 19, "the header's estimate this test is about"
    commands = {"colorize": ["colorize", clip, "-o", tmp_path / "c.mkv", "--model", tiny_model],
                "numbered frames": ["colorize", clip, "-o", tmp_path / "fr" / "f_%02d.png", "--model", tiny_model],
                "frames": ["frames", clip, "--out", tmp_path / "set"], "scenes": ["scenes", clip],
                "evaluate": ["evaluate", clip, "--out", tmp_path / "report", "--model", tiny_model]}
    for name, command in commands.items():
        capsys.readouterr()
        assert main([str(word) for word in command]) == 0, name
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("film.mkv: ") and "%|" in line]
        assert lines[-1].startswith("film.mkv: 100%|##########| 20/20 "), (name, lines)


def _interrupted_at_frame(number: int, monkeypatch) -> None:
    """Ctrl-C as the scene detector is given frame ``number`` (counted from 1)."""
    from rehue.video import scenes

    real_push = scenes.SceneDetector.push
    pushed = []

    def push(self, gray):
        pushed.append(1)
        if len(pushed) == number:
            raise KeyboardInterrupt
        return real_push(self, gray)

    monkeypatch.setattr(scenes.SceneDetector, "push", push)


def test_an_interrupt_is_said_after_the_bar_it_stopped(tmp_path, capsys, monkeypatch):
    """Probe 99: the bar of the loop an interrupt broke out of was closed when the loop was let go, and its last
    line came after "rehue: interrupted" (train, frames, evaluate, scenes)."""
    from rehue.cli import main
    from tests.helpers_video import make_clip, textured_frames

    clip = make_clip(tmp_path / "film.mp4", list(textured_frames(20, 48, 64)), fps=24)
    _interrupted_at_frame(8, monkeypatch)
    assert main(["frames", str(clip), "--out", str(tmp_path / "set")]) == 130
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "rehue: interrupted" and lines[-2].startswith("film.mp4:  40%|####      | 8/20 "), lines


def test_what_an_interrupted_film_kept_is_said_after_its_bar(tmp_path, tiny_model, capsys, monkeypatch):
    """Probe 180: "interrupted; the 1,879 frames ... are kept", then the bar's last line at 2,165, as if more were
    kept."""
    from rehue.cli import main
    from rehue.video import pieces
    from tests.helpers_video import make_clip, textured_frames

    monkeypatch.setattr(pieces, "PIECE_FRAMES", 4)
    frames = [*textured_frames(12, 48, 64, seed=1), *textured_frames(12, 48, 64, seed=9)]
    clip = make_clip(tmp_path / "film.mkv", frames, fps=24, codec="ffv1")
    _interrupted_at_frame(20, monkeypatch)
    assert main(["colorize", str(clip), "-o", str(tmp_path / "out.mkv"), "--model", str(tiny_model),
                 "--dependent-model", "none"]) == 130
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "rehue: interrupted" and " interrupted; the " in lines[-2], lines
    assert lines[-3].startswith("film.mkv: "), lines


def test_a_resumed_folder_counts_only_the_files_left(tmp_path, tiny_model, photo_folder, capsys, monkeypatch):
    """Before, the files an earlier run had coloured counted as done at once, so the bar's time left after
    a resume was far too short (`<00:01` with 26 of 40 photos to go, probe 19)."""
    import rehue.progress
    from rehue.cli import main

    out = tmp_path / "colour"
    assert main(["colorize", str(photo_folder), "-o", str(out), "--model", str(tiny_model), "--no-progress"]) == 0
    (out / "p2.png").unlink()
    monkeypatch.setattr(rehue.progress, "LOG_INTERVAL_S", 0.0)
    capsys.readouterr()
    assert main(["colorize", str(photo_folder), "-o", str(out), "--model", str(tiny_model)]) == 0
    err = capsys.readouterr().err
    assert " 0/1 " in err and "/4 " not in err


def test_nested_bars_in_a_log_leave_no_cursor_moves(monkeypatch):
    """A folder's file bar with a film's frame bar inside wrote tqdm's cursor-up codes as lines of their own."""
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    for _ in progress_bar(range(2), unit="file"):
        for _ in progress_bar(range(3), unit="frame", leave=False, mininterval=0, miniters=1):
            pass
    assert "\x1b" not in log.getvalue() and "frame" in log.getvalue()


def test_a_bar_whose_making_an_interrupt_cut_short_closes_quietly(monkeypatch):
    """tqdm closes such a bar too (from __del__); before, closing said AttributeError where "rehue: interrupted"
    was due (the interrupts benchmark's trial)."""
    from rehue.progress import _logged_bar

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar_class = _logged_bar()
    bar = bar_class.__new__(bar_class)
    bar.close()


def test_a_bar_that_stays_writes_its_end_once(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    for _ in progress_bar(range(3), desc="photos"):
        pass
    assert [line for line in log.getvalue().splitlines() if "3/3" in line] == [log.getvalue().splitlines()[-1]], \
        "the end once, not twice"


def test_a_bar_that_stays_and_drew_its_last_step_writes_its_end_once(monkeypatch):
    """Stop 46: under TERM=dumb (lines every 5 s) a job whose last step came after 5 s ended on its final
    line twice, the last step's and the closing bar's."""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TERM", "dumb")
    for _ in progress_bar(range(3), desc="files", mininterval=0, miniters=1):
        pass
    lines = terminal.getvalue().splitlines()
    assert len(lines) == 4 and [line for line in lines if "3/3" in line] == [lines[-1]], lines


def test_a_line_said_while_a_bar_stands_on_a_terminal_goes_above_it(monkeypatch):
    """Probe 89: `rehue colorize mix -o out` (photos and a film) printed the film's summary where the
    folder's bar stood: the bar was left half drawn at 83%, the summary's first letter stuck to its end."""
    from rehue.progress import say

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("TERM", raising=False)
    bar = progress_bar(range(6), desc="files", mininterval=0, miniters=1)
    steps = iter(bar)
    next(steps)
    drawn = len(terminal.getvalue())
    say("mix/film.mp4: 132 frames, 1 scene")
    said = terminal.getvalue()[drawn:]
    before, _, after = said.partition("mix/film.mp4: 132 frames, 1 scene\n")
    assert before.endswith("\r") and before.strip() == "", "the bar's line cleared first"
    assert "files:" in after, "the bar drawn again below the line"
    bar.close()


def test_a_narrow_terminal_shows_where_the_bar_got_to_not_only_its_name(monkeypatch):
    """Probe 89: at 20 columns a film's bar showed "bigbuckbunny-gray.m" and nothing of its count, rate or
    time left; a longer terminal keeps as much of the name as leaves them room."""
    import os

    class NarrowTerminal(Terminal):
        def fileno(self):
            return 2

    for columns, shown in ((20, "  0%|"), (60, "bigbuckbunn~:   0%|"), (120, "bigbuckbunny-gray.mp4:   0%|")):
        terminal = NarrowTerminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.delenv("TERM", raising=False)
        monkeypatch.setattr(os, "get_terminal_size", lambda fd=None, size=columns: os.terminal_size((size, 24)))
        for _ in progress_bar(range(3), desc="bigbuckbunny-gray.mp4", mininterval=0, miniters=1, leave=False):
            pass
        first = terminal.getvalue().split("\r")[1]
        assert first.startswith(shown), first
        assert "0/3" in first, "the count shown"


def test_a_terminal_of_no_width_gets_lines(monkeypatch):
    """Probe 91: under `script` with no terminal behind it (0 columns) the bar was drawn as nothing: no count,
    rate or time left for a whole film."""
    import os

    class NoWidth(Terminal):
        def fileno(self):
            return 2

    terminal = NoWidth()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=None: os.terminal_size((0, 0)))
    bar = progress_bar(range(3), desc="film.mp4", miniters=1)
    for _ in bar:
        pass
    assert bar.mininterval == 5 and "\r" not in terminal.getvalue()
    assert terminal.getvalue().splitlines()[-1].startswith("film.mp4: 100%")


def test_a_logs_last_line_says_the_jobs_own_rate(monkeypatch):
    """Stop 57's list: the line a log's bar wrote as it closed said the rate of its line before (tqdm's moving
    average is updated only as a line is drawn), 3.26 s a frame where the job took 140 s for 41: the closing
    line says the job's own rate, as tqdm's does for a bar that stays."""
    import tqdm.std

    now = [1000.0]
    monkeypatch.setattr(tqdm.std, "time", lambda: now[0])
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    for step in progress_bar(range(41), desc="film", unit="frame", leave=False):
        now[0] += 100.0 if step == 0 else 1.0
    lines = log.getvalue().splitlines()
    assert len(lines) == 4 and "31/41" in lines[2] and "41/41" in lines[3], lines
    assert "3.41s/frame" in lines[3], lines
