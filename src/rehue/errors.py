"""Errors that reach the user as one line: ``rehue: error: <file>: <reason>``."""


class RehueError(Exception):
    """A problem the user can fix (bad input, missing model, unwritable output).

    The CLI prints it as one line and exits 1; no traceback unless ``--debug``.
    """

    def __init__(self, reason: str, path: object | None = None):
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class UsageError(RehueError):
    """Wrong arguments: exit code 2."""
