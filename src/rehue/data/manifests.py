"""The first line of a set's ``manifest.csv``, however a spreadsheet saved it again: "CSV UTF-8" with a
byte-order mark, "Unicode Text" (UTF-16, with a mark or, where the names are ASCII, told by its zero bytes),
plain CSV in a legacy code page (its header is ASCII all the same), or with semicolons or tabs."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

HEAD_BYTES = 4096  # the header lies well within it; what follows (names, cut anywhere) is not decoded strictly
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def read_header(manifest: Path) -> tuple[list[str], bool]:
    """The manifest's column names (unquoted, split at commas, else at semicolons or tabs) and whether it is
    UTF-16; OSError where it cannot be read."""
    with open(manifest, "rb") as file:
        head = file.read(HEAD_BYTES)
    utf16 = head[:2] in UTF16_MARKS or head[1:8:2] == b"\0\0\0\0" or head[0:8:2] == b"\0\0\0\0"
    if utf16:
        if head[:2] not in UTF16_MARKS:
            head = (b"\xff\xfe" if head[1:2] == b"\0" else b"\xfe\xff") + head
        text = head[:len(head) // 2 * 2].decode("utf-16", "replace")
    else:
        text = head.decode("utf-8-sig", "replace")
    first = text.splitlines()[0] if text else ""
    try:
        header = next(csv.reader(io.StringIO(first)), None) or []
    except csv.Error:
        header = [first]
    if len(header) == 1:
        header = re.split("[;\t]", header[0])
    return [column.strip().strip('"') for column in header], utf16
