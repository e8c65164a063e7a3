"""OpenEXR frames made by the tests: FFmpeg's encoder (through PyAV), with attributes put into the header
afterwards (its encoder writes none of the optional ones)."""

import fractions
import struct

import numpy as np


def exr_bytes(light: np.ndarray, *, chromaticities=None, flags: int = 0, half: bool = False) -> bytes:
    """An OpenEXR file of float ``light``: (H, W) as one Y channel, (H, W, 3) RGB or (H, W, 4) RGBA, in
    full floats or ``half`` ones; ``chromaticities`` ((x, y) of red, green, blue, white) added to its
    header, ``flags`` to its version."""
    import av

    light = np.ascontiguousarray(light, np.float32)
    pix_fmt = "grayf32le" if light.ndim == 2 else {3: "gbrpf32le", 4: "gbrapf32le"}[light.shape[2]]
    codec = av.CodecContext.create("exr", "w")
    codec.height, codec.width = light.shape[:2]
    codec.pix_fmt, codec.time_base = pix_fmt, fractions.Fraction(1, 24)
    codec.options = {"format": "half" if half else "float"}
    frame = av.VideoFrame.from_ndarray(light, format=pix_fmt)
    data = b"".join(bytes(packet) for packet in codec.encode(frame) + codec.encode(None))
    if flags:
        data = data[:4] + struct.pack("<I", struct.unpack_from("<I", data, 4)[0] | flags) + data[8:]
    if chromaticities is not None:
        values = [value for pair in chromaticities for value in pair]
        data = _with_attribute(data, b"chromaticities", b"chromaticities", struct.pack("<8f", *values))
    return data


def _with_attribute(data: bytes, name: bytes, kind: bytes, value: bytes) -> bytes:
    """``data`` with one more header attribute; the offset table after the header (absolute positions of
    the pixels' chunks) moved along with it."""
    offset = 8
    while data[offset] != 0:
        kind_end = data.index(b"\0", data.index(b"\0", offset) + 1)
        offset = kind_end + 5 + struct.unpack_from("<i", data, kind_end + 1)[0]
    header_end = offset + 1
    attribute = name + b"\0" + kind + b"\0" + struct.pack("<i", len(value)) + value
    chunks = (struct.unpack_from("<Q", data, header_end)[0] - header_end) // 8
    table = np.frombuffer(data, "<u8", chunks, header_end) + len(attribute)
    return data[:offset] + attribute + b"\0" + table.astype("<u8").tobytes() + data[header_end + 8 * chunks:]


def scanline_exr(channels: dict[str, np.ndarray], *, data_origin=(0, 0), display=None, pixel_type: int = 2,
                 pixel_types: dict[str, int] | None = None, sampling: dict[str, tuple[int, int]] | None = None
                 ) -> bytes:
    """An uncompressed scan-line OpenEXR file written by the test itself, for what FFmpeg's encoder does not
    write: ``channels`` (name: (H, W) values, of ``pixel_type``: 0 UINT, 1 HALF, 2 FLOAT, or a channel's own in
    ``pixel_types``; a channel in ``sampling`` (x, y) holds every x-th sample of every y-th line) in a data
    window at ``data_origin``, and a ``display`` window (x min, y min, x max, y max; the data window's by
    default)."""
    def attribute(name: str, kind: str, value: bytes) -> bytes:
        return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value

    names = sorted(channels)
    height, width = channels[names[0]].shape
    left, top = data_origin
    data_window = struct.pack("<4i", left, top, left + width - 1, top + height - 1)
    types = {name: (pixel_types or {}).get(name, pixel_type) for name in names}
    steps = {name: (sampling or {}).get(name, (1, 1)) for name in names}
    kinds = {name: {0: "<u4", 1: "<f2", 2: "<f4"}[types[name]] for name in names}
    chlist = b"".join(name.encode() + b"\0" + struct.pack("<iB3xii", types[name], 0, *steps[name])
                      for name in names) + b"\0"
    header = (b"v/1\x01" + struct.pack("<I", 2) + attribute("channels", "chlist", chlist)
              + attribute("compression", "compression", b"\0") + attribute("dataWindow", "box2i", data_window)
              + attribute("displayWindow", "box2i", struct.pack("<4i", *display) if display else data_window)
              + attribute("lineOrder", "lineOrder", b"\0")
              + attribute("pixelAspectRatio", "float", struct.pack("<f", 1))
              + attribute("screenWindowCenter", "v2f", struct.pack("<ff", 0, 0))
              + attribute("screenWindowWidth", "float", struct.pack("<f", 1)) + b"\0")
    lines = []
    for row in range(height):
        pixels = b"".join(np.ascontiguousarray(channels[name][row, ::steps[name][0]], kinds[name]).tobytes()
                          for name in names if row % steps[name][1] == 0)
        lines.append(struct.pack("<ii", top + row, len(pixels)) + pixels)
    first = len(header) + 8 * height
    offsets = np.cumsum([first] + [len(line) for line in lines[:-1]]).astype("<u8")
    return header + offsets.tobytes() + b"".join(lines)
