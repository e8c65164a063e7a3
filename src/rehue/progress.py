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
    """``tqdm(iterable, **options)`` on stderr: a bar on a terminal, lines in a log (the module says why)."""
    from tqdm import tqdm

    stream = sys.stderr
    on_terminal = _on_terminal(stream)
    if on_terminal and not _dumb_terminal():
        options.setdefault("dynamic_ncols", True)
        return tqdm(iterable, file=stream, **options)
    options.pop("dynamic_ncols", None)
    options.setdefault("mininterval", DUMB_TERMINAL_INTERVAL_S if on_terminal else LOG_INTERVAL_S)
    # tqdm's monitor redraws a bar not drawn for ``maxinterval`` (10 s): between two lines 30 s apart it
    # put a stale one, 19 s after the first
    options.setdefault("maxinterval", options["mininterval"])
    return _logged_bar()(iterable, file=_Lines(stream), ascii=True, **options)


@functools.cache  # one class, not one for each bar
def _logged_bar():
    """tqdm that, closing, writes where it got to: a job shorter than ``LOG_INTERVAL_S`` left only its
    "0%" line in a log, as if it had stalled."""
    from tqdm import tqdm

    class LoggedBar(tqdm):
        def close(self):
            # a bar that stays (``leave``) writes its end itself, unless its last step was written already
            # (under TERM=dumb the last line came twice); getattr: tqdm closes a bar whose making an
            # interrupt cut short, too (from __del__)
            if not getattr(self, "disable", True):
                if self.n == getattr(self, "last_print_n", self.n):
                    self.leave = False
                elif not self.leave:
                    self.refresh()
            super().close()

    return LoggedBar


def say(line: str) -> None:
    """A command's notes and summaries: on the standard error of the moment (``--quiet`` swaps it)."""
    print(line, file=sys.stderr, flush=True)


def lines_to(log=None, progress: bool = True):
    """Where a library call's lines go: to ``log`` where the caller gives one (the CLI gives a function that
    prints them), else its warnings ("warning: ..." lines) to the ``rehue`` logger as all of rehue's warnings
    (a service silences them by that logger's level, as the README says; probe 75: they were printed on
    standard error whatever its level), and its notes, summaries and epoch lines to standard error beside
    its progress bar, or with ``progress`` off (a service) to that logger at INFO level."""
    if log is not None:
        return log
    import logging

    logger = logging.getLogger("rehue")

    def said(line: str) -> None:
        if line.startswith("warning: "):
            logger.warning(line.removeprefix("warning: "))
        elif progress:
            print(line, file=sys.stderr, flush=True)
        else:
            logger.info(line)
    return said
