"""Counts in messages: "1 frame", "2 frames", "12,000 frames", never "frame(s)"."""


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` with ``noun``, plural unless it is one; ``plural`` where adding an s is wrong."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
