"""Counts and lists in messages: "1 frame", "2 frames", "12,000 frames", never "frame(s)"; "a, b and c"."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with ``noun``, plural unless it is one; ``plural`` where adding an s is wrong."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def listed(items: list[str]) -> str:
    """``items`` as a sentence lists them: "a", "a and b", "a, b and c"."""
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
