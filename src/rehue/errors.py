"""Errors that reach the user as one line: ``rehue: error: <file>: <reason>``."""

import contextlib
import errno
import os
import threading
import warnings

_WARNINGS_LOCK = threading.RLock()


class RehueError(Exception):
    """A problem the user can fix (bad input, missing model, unwritable output).

    The CLI prints it as one line and exits 1; no traceback unless ``--debug``.
    """

    def __init__(self, reason: str, path: object | None = None):
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{shown_path(self.path)}: {reason}" if self.path else reason)


def shown_path(path: object) -> str:
    """A path as one line shows it: a newline or other control character in a name is written as its escape
    (``a\\nb.jpg``), so an error stays one line."""
    return one_line(str(path))


def bytes_escaped(text: str) -> str:
    """``text`` with each byte of a file name that is not UTF-8 (held as a surrogate) as its escape, ``\\xe9``: the
    byte the name holds, in a form a tag, a report or a film's comment can hold in UTF-8 (probe 141: ``\\udce9``
    in some, ``\\xe9`` in others, a traceback in an OpenEXR header)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def one_line(text: str) -> str:
    """A message as one line: the control characters in it (a file name's newline) written as escapes."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def first_line(exc: BaseException) -> str:
    """An exception's message as a reason in a line of rehue's: its first line, less a closing colon or full stop,
    or its type's name where it says nothing (PyTorch's errors run on for lines of detail)."""
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(":.") if text else type(exc).__name__


class OutputExists(RehueError):
    """An output file is there already and ``overwrite`` was not given: found before writing, or written by
    another run meanwhile. A batch passes over such a file as over one found when it began (probe 161: two
    runs into one folder each failed on the other's outputs)."""


class BeingWritten(RehueError):
    """Another rehue (another process, or another call of this one) is writing this output now: a batch leaves
    the file to it (probe 162: two runs into one folder each failed on the film the other was colouring)."""


class UsageError(RehueError):
    """Wrong arguments: exit code 2. ``settings``: the library settings whose names the reason holds
    (``batch_size``), which a command line says as the options it took them from (``--batch-size``)."""

    def __init__(self, reason: str, path: object | None = None, *, settings: tuple[str, ...] = ()):
        super().__init__(reason, path)
        self.settings = settings


def path_exists(path) -> bool:
    """``os.path.exists`` that says why it cannot tell: Python's ``Path.exists`` raises for a name too long for the
    file system or a folder not to be searched, an ``OSError`` the library gave as it was (probe 225, "File name
    too long" at ``Colorizer.load`` and ``colorize``); here a ``RehueError`` naming the path."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EBADF):  # a loop of links leads to nothing, as Path.exists says
            return False
        raise RehueError(exc.strerror or str(exc), path) from None
    except ValueError as exc:  # a NUL in the name
        raise RehueError(f"not a path a file can have ({exc})", path) from None
    return True


def check_flags(*, progress_function: bool = False, **flags) -> None:
    """A library caller's yes-or-no arguments are True or False (numpy's bool, 1, 0 and None too), or, for
    ``progress`` where ``progress_function`` (a film's colouring, which calls it after each frame), a function:
    the string "false" from a form, a query or an environment variable is true to Python, and
    ``overwrite="false"`` replaced the user's file (probe 88). A function elsewhere was never called, and a bar
    drawn on stderr in its place (probe 190)."""
    for name, value in flags.items():
        if value is None or isinstance(value, bool) or type(value) is int and value in (0, 1) or \
                type(value).__name__ in ("bool", "bool_") and type(value).__module__ == "numpy" or \
                name == "progress" and progress_function and callable(value):
            continue
        wanted = "True, False or a function called as progress(done, total)" if name == "progress" and \
            progress_function else "True or False"
        also = " (a function is called by colorize_video and colorize_frames alone, after each frame)" if \
            name == "progress" and not progress_function and callable(value) else ""
        raise UsageError(f"{name} must be {wanted}{also}, not {value!r}")


def check_log(log) -> None:
    """A library caller's ``log`` is a function (or None): probe 104's ``log="x"`` failed once the film was
    written, its output left in place under an error."""
    if log is not None and not callable(log):
        raise UsageError(f"log must be a function called with each line, not {log!r}")


@contextlib.contextmanager
def warnings_as(action: str, category: type[Warning] = Warning):
    """``warnings.catch_warnings`` with one filter, taken in turns by rehue's threads; "record" keeps those of
    ``category`` in the list it yields, neither shown nor raised.

    ``catch_warnings`` saves and restores the process's whole filter list, so two threads inside it at
    once can leave one's filter in place for good (a web server's warnings turned into errors, or
    silenced); rehue's own uses hold one lock, and are kept short.
    """
    with _WARNINGS_LOCK, warnings.catch_warnings(record=action == "record") as caught:
        warnings.simplefilter("always" if action == "record" else action, category)
        yield caught


OUT_OF_MEMORY_WORDS = ("failed to allocate", "bad_alloc", "bfcarena", "can't allocate memory", "not enough memory",
                       "out of memory", "insufficient memory")


@contextlib.contextmanager
def out_of_memory_as_memory_error():
    """An allocation a library could not make raised as the MemoryError it is: ONNX Runtime's is a ``Fail``
    of its own, PyTorch's a RuntimeError, OpenCV's a ``cv2.error`` (probes 63 and 64: tracebacks of 40-60
    lines, the batch stopped)."""
    try:
        yield
    except Exception as exc:
        if (memory_error := as_memory_error(exc)) is not None:
            raise memory_error from None
        raise


def as_memory_error(exc: Exception) -> MemoryError | None:
    """``exc`` as a MemoryError where it is a failed allocation (``out_of_memory_as_memory_error``), else None."""
    if isinstance(exc, (MemoryError, RehueError)):
        return None
    if isinstance(exc, OSError):  # its message holds a file's name, which may hold any words (probe 65)
        return MemoryError(exc.strerror or "") if exc.errno == errno.ENOMEM else None
    if any(words in str(exc).lower() for words in OUT_OF_MEMORY_WORDS):
        return MemoryError(str(exc).splitlines()[0][:200])
    return None


OUT_OF_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def out_of_room(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised from or while handling, is a full disk, a full quota or a
    file too big for its file system: an OSError of that errno, or a RehueError whose reason holds the
    system's words for one (the OSError is not kept behind every RehueError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in OUT_OF_ROOM:
            return True
        if isinstance(exc, RehueError) and any(os.strerror(code) in exc.reason for code in OUT_OF_ROOM):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
