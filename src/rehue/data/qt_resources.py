"""Read the files inside a compiled Qt resource bundle (``.rcc``, the format ``rcc -binary`` writes).

GCompris ships its activities' photographs only inside such bundles, so the demo set builder reads
them here rather than needing Qt's ``rcc`` tool. The format (Qt's ``rcc.cpp``): a ``qres`` header
with the offsets of a tree of fixed-size nodes, a table of UTF-16 names and a data area; a file's
bytes may be zlib-compressed (``qCompress``: a 4-byte length, then a zlib stream).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from rehue.errors import RehueError

MAGIC = b"qres"
COMPRESSED = 0x01
DIRECTORY = 0x02
COMPRESSED_ZSTD = 0x04


def read_qt_resources(path: str | Path) -> dict[str, bytes]:
    """Every file in the bundle, by its resource path (``gcompris/src/...``, no leading slash).

    Files compressed with zstd, which needs a library Python lacks, are left out.
    """
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise RehueError(f"cannot read ({exc.strerror or exc})", path) from None
    try:
        return _parse(blob)
    except (struct.error, zlib.error, UnicodeDecodeError) as exc:
        raise RehueError(f"not a readable Qt resource bundle ({exc})", path) from None


def _parse(blob: bytes) -> dict[str, bytes]:
    if blob[:4] != MAGIC:
        raise struct.error("no 'qres' header")
    version, tree, data, names = struct.unpack_from(">IIII", blob, 4)
    node_size = 22 if version >= 2 else 14

    def name_at(offset: int) -> str:
        (length,) = struct.unpack_from(">H", blob, names + offset)
        start = names + offset + 6  # length, then a 4-byte hash
        return blob[start:start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}
    pending = [(0, "")]
    visited: set[int] = set()
    while pending:
        index, prefix = pending.pop()
        if index in visited:
            raise struct.error("the node tree loops")
        visited.add(index)
        node = tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", blob, node)
        name = name_at(name_offset) if index else ""
        if flags & DIRECTORY:
            count, first = struct.unpack_from(">II", blob, node + 6)
            pending += [(child, f"{prefix}{name}/" if index else "") for child in range(first, first + count)]
            continue
        (offset,) = struct.unpack_from(">I", blob, node + 10)
        (size,) = struct.unpack_from(">I", blob, data + offset)
        content = blob[data + offset + 4:data + offset + 4 + size]
        if len(content) != size:
            raise struct.error(f"{prefix}{name} runs past the end of the file")
        if flags & COMPRESSED_ZSTD:
            continue
        if flags & COMPRESSED:
            content = zlib.decompress(content[4:])
        files[prefix + name] = content
    return files
