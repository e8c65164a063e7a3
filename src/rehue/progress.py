"""Progress bars on stderr. On a terminal, tqdm's bar redrawn in place; where stderr is a file or a pipe (a
log, a batch system, ``2> log.txt``), a plain line at most every ``LOG_INTERVAL_S`` seconds: a bar's
carriage returns would put thousands of redraws on one line of the log. A terminal that cannot move its
cursor (``TERM=dumb``: Emacs' shell, some IDE consoles) gets such lines too, at most every
``DUMB_TERMINAL_INTERVAL_S`` seconds, as a person is watching: nested bars' cursor moves showed there as
``^[[A`` garbage."""

from __future__ import annotations

import functools
import os
import re
import sys

LOG_INTERVAL_S = 30.0
DUMB_TERMINAL_INTERVAL_S = 5.0
CURSOR_MOVES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # how tqdm moves between nested bars on a terminal


class _Lines:
    """A stream that writes each of tqdm's redraws as a line of its own and drops the blank redraws with
    which tqdm clears a finished bar, and its cursor moves between nested bars."""

    def __init__(self, stream):
        self.stream = stream
        self.encoding = getattr(stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> None:
        for line in CURSOR_MOVES.sub("", text).replace("\r", "\n").split("\n"):
            if line.strip():
                self.stream.write(line.rstrip() + "\n")

    def flush(self) -> None:
        self.stream.flush()


def _on_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a test's capture, a closed stream
        return False


def _dumb_terminal() -> bool:
    return os.environ.get("TERM") == "dumb"


def progress_bar(iterable=None, **options):
    """``tqdm(iterable, **options)`` on stderr: a bar on a terminal, lines in a log (the module says why). An
    iterable's ``total`` is taken for an estimate, such as a film header's count of its frames, and the bar
    ends at the steps it held."""
    if iterable is not None and options.get("total") is not None:
        bar = _bar(_counted_to_its_end(iterable, lambda: bar), options)
        return bar
    return _bar(iterable, options)


def _bar(iterable, options: dict):
    from tqdm import tqdm

    stream = sys.stderr
    on_terminal = _on_terminal(stream)
    if _draws_bars(stream):
        options.setdefault("dynamic_ncols", True)
        if options.get("desc"):
            options["desc"] = _fitted_desc(options["desc"], _columns(stream))
        return tqdm(iterable, file=stream, **options)
    options.pop("dynamic_ncols", None)
    options.setdefault("mininterval", DUMB_TERMINAL_INTERVAL_S if on_terminal else LOG_INTERVAL_S)
    # tqdm's monitor redraws a bar not drawn for ``maxinterval`` (10 s): between two lines 30 s apart it
    # put a stale one, 19 s after the first
    options.setdefault("maxinterval", options["mininterval"])
    return _logged_bar()(iterable, file=_Lines(stream), ascii=True, **options)


def _counted_to_its_end(iterable, bar_of):
    """``iterable``, its bar's total set to the steps it held once it ends (``finished``)."""
    count = 0
    for item in iterable:
        yield item
        count += 1
    bar = bar_of()
    bar.n = count  # tqdm counts its steps locally, and sets them on the bar as it closes
    finished(bar)


def finished(bar) -> None:
    """A job's bar at 100% once it has done every step: a film's frame count is its header's estimate, often one
    more than the frames it holds, and a film's bar ended at ``98% 60/61``, as if a frame were left undone. Where
    the last step was drawn already, it is drawn again at its new total (closing, a bar draws only what is new)."""
    if bar is not None and not getattr(bar, "disable", True) and bar.total != bar.n:
        bar.total = bar.n
        if bar.n == getattr(bar, "last_print_n", None):
            bar.refresh()


def bar_name(path) -> str:
    """A file's or folder's name for its bar: a folder given as ``.`` or ``reel/`` by its own name (probe 94:
    `rehue scenes .` drew a bar with none), a link by its own, not its target's."""
    from rehue.errors import shown_path

    return shown_path(os.path.basename(os.path.abspath(path)) or path)


BAR_ROOM = 48  # "100%|#| 132/132 [00:02<00:00, 68.09frame/s]": what a bar needs beside its description


def _columns(stream) -> int | None:
    """The terminal's width; 0 where it says none (`script` with no terminal behind it: a bar of no width is
    drawn as nothing, so such a terminal gets lines, as a dumb one does: probe 91); None where it cannot say."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):  # a test's stream, a closed terminal
        return None


def _draws_bars(stream) -> bool:
    """Whether bars are drawn in place on ``stream``: a terminal that can move its cursor and has a width;
    elsewhere they are lines (the module says why)."""
    return _on_terminal(stream) and not _dumb_terminal() and _columns(stream) != 0


def _fitted_desc(desc: str, columns: int | None) -> str:
    """A bar's description cut to leave its count, rate and time left room on a terminal of ``columns`` (None:
    unknown): at 20 columns a film's bar showed its name alone, cut off, and nothing of where it got to (probe
    89)."""
    if columns is None:
        return desc
    room = columns - BAR_ROOM
    if room >= len(desc):
        return desc
    return desc[: room - 1] + "~" if room >= 8 else ""


@functools.cache  # one class, not one for each bar
def _logged_bar():
    """tqdm that, closing, writes where it got to: a job shorter than ``LOG_INTERVAL_S`` left only its
    "0%" line in a log, as if it had stalled."""
    from tqdm import tqdm

    class LoggedBar(tqdm):
        def refresh(self, *args, **kwargs):
            # a line written by a redraw of its own (a new description) is where the bar got to: closing wrote it
            # again (probe 178: "write: 67% 2/3" twice)
            drawn = super().refresh(*args, **kwargs)
            self.last_print_n = self.n
            return drawn

        def close(self):
            # a bar that stays (``leave``) writes its end itself, unless its last step was written already
            # (under TERM=dumb the last line came twice); getattr: tqdm closes a bar whose making an
            # interrupt cut short, too (from __del__)
            if not getattr(self, "disable", True):
                if self.n == getattr(self, "last_print_n", self.n):
                    self.leave = False
                elif not self.leave:
                    self._ema_dt = lambda: None  # the job's own rate, as tqdm's closing line of a bar that stays
                    self.refresh()
            super().close()

    return LoggedBar


def close_bars() -> None:
    """Every bar still open closed where it got to: after an interrupt, a loop's bar was closed only when the
    loop's frame was let go, and its last line came after "rehue: interrupted" (probe 99)."""
    tqdm = sys.modules.get("tqdm")  # no bar was drawn where tqdm was never imported
    if tqdm is None:
        return
    for bar in list(tqdm.tqdm._instances):
        try:
            bar.close()
        except Exception:  # noqa: BLE001 -- a bar half made; the interrupt is what is said
            pass


def say(line: str) -> None:
    """A command's notes, summaries and warnings: on the standard error of the moment (``--quiet`` swaps it).
    On a terminal, above the bars drawn there (tqdm's ``write`` clears them and draws them again below): a
    film's summary printed as a folder's bar stood left that bar half drawn, the line stuck to it (probe 89)."""
    from rehue.errors import one_line

    line = one_line(line)
    tqdm = sys.modules.get("tqdm")  # no bar was drawn where tqdm was never imported
    stream = sys.stderr
    if tqdm is not None and _draws_bars(stream):
        tqdm.tqdm.write(line, file=stream)
        stream.flush()
    else:
        print(line, file=stream, flush=True)


def said_once(log, prefix: str = ""):
    """``log`` that says each line starting with ``prefix`` once (every line, by default), the rest each time."""
    said: set[str] = set()

    def say(message: str) -> None:
        if message.startswith(prefix):
            if message in said:
                return
            said.add(message)
        log(message)
    return say


def lines_to(log=None, progress: bool = True, logger_name: str = "rehue"):
    """Where a library call's lines go: to ``log`` where the caller gives one (the CLI gives a function that
    prints them), else its warnings ("warning: ..." lines) to the ``rehue`` logger (or ``logger_name``) as all
    of rehue's warnings (a service silences them by that logger's level, as the README says; probe 75: they
    were printed on standard error whatever its level), and its notes, summaries and epoch lines to standard
    error beside its progress bar, or with ``progress`` off (a service) to that logger: a file that failed
    ("rehue: error: ..." lines, a batch's) as an error, the rest at INFO level."""
    from rehue.errors import check_log, one_line

    check_log(log)
    if log is not None:
        return log
    import logging

    logger = logging.getLogger(logger_name)

    def said(line: str) -> None:
        if line.startswith("warning: "):
            logger.warning(line.removeprefix("warning: "))
        elif progress:
            say(line)
        elif line.startswith("rehue: error: "):
            logger.error(one_line(line.removeprefix("rehue: error: ")))
        else:
            logger.info(line)
    return said
