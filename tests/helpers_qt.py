"""Qt resource bundles for tests, written in the format ``rcc -binary`` writes."""

from __future__ import annotations

import struct
import zlib

from rehue.data.qt_resources import COMPRESSED, COMPRESSED_ZSTD, DIRECTORY


def write_rcc(path, tree: dict, version: int = 3, compress: tuple[str, ...] = (), zstd: tuple[str, ...] = ()):
    """A bundle holding ``tree`` ({name: bytes or a nested dict}); files named in ``compress`` are
    zlib-compressed the way qCompress does it, those in ``zstd`` are only flagged as zstd."""
    names, data = bytearray(), bytearray()
    name_offsets: dict[str, int] = {}
    nodes: list[bytes] = []

    def name_offset(name: str) -> int:
        if name not in name_offsets:
            name_offsets[name] = len(names)
            encoded = name.encode("utf-16-be")
            names.extend(struct.pack(">HI", len(name), 0) + encoded)
        return name_offsets[name]

    node_size = 22 if version >= 2 else 14
    # breadth first, as rcc does: a folder's children are consecutive nodes
    queue = [("", tree, "")]
    order: list[tuple[str, object, str]] = []
    while queue:
        order.append(queue.pop(0))
        name, value, full = order[-1]
        if isinstance(value, dict):
            queue += [(child, content, f"{full}/{child}".lstrip("/")) for child, content in value.items()]
    index = {full: i for i, (_, _, full) in enumerate(order)}
    for name, value, full in order:
        offset = name_offset(name) if full else 0
        if isinstance(value, dict):
            children = [f"{full}/{child}".lstrip("/") for child in value]
            first = index[children[0]] if children else 0
            body = struct.pack(">IHII", offset, DIRECTORY, len(children), first)
        else:
            flags, content = 0, value
            if full in compress:
                flags, content = COMPRESSED, struct.pack(">I", len(value)) + zlib.compress(value)
            elif full in zstd:
                flags = COMPRESSED_ZSTD
            body = struct.pack(">IHHHI", offset, flags, 0, 0, len(data))
            data.extend(struct.pack(">I", len(content)) + content)
        nodes.append(body + (b"\0" * 8 if version >= 2 else b""))
    assert all(len(n) == node_size for n in nodes)
    header_size = 24 if version >= 3 else 20
    tree_bytes = b"".join(nodes)
    tree_at, data_at = header_size, header_size + len(tree_bytes)
    names_at = data_at + len(data)
    header = b"qres" + struct.pack(">IIII", version, tree_at, data_at, names_at)
    if version >= 3:
        header += struct.pack(">I", 0)
    path.write_bytes(header + tree_bytes + bytes(data) + bytes(names))
