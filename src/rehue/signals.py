"""Ctrl-C and SIGTERM held over a step that must not be broken into."""

from __future__ import annotations

import signal
from contextlib import contextmanager

# the signals that stop a run as Ctrl-C does, its work kept to go on from: SIGHUP is a closed terminal or a
# dropped ssh session (probe 63: it killed the run as kill -9 does, leaving its temporary files)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def stop_signals() -> tuple[int, ...]:
    """``STOP_SIGNALS`` less those this process was started ignoring: ``nohup`` ignores SIGHUP so that a job
    outlives its terminal (probe 64: caught all the same, the hangup stopped it), and a shell ignores
    SIGINT in a job it starts in the background."""
    return tuple(signum for signum in STOP_SIGNALS if signal.getsignal(signum) is not signal.SIG_IGN)


@contextmanager
def signals_held():
    """Ctrl-C and SIGTERM held until the block is done, then raised as the interrupt they are: for a step that
    must not be left half done, or that an interrupt would crash (a C++ library's import). Outside the main
    thread, where signals cannot be caught, the block runs as it is."""
    received = []
    try:
        previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum))
                    for signum in stop_signals()}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for signum in received[:1]:  # to the handler it was meant for (the CLI's says which signal ended the run)
        signal.raise_signal(signum)
