"""DPX frames made by the tests, as a film scanner writes them: FFmpeg's encoder (through PyAV), with
the header's orientation, transfer and reference codes set afterwards."""

import fractions
import struct

import numpy as np


def dpx_bytes(samples: np.ndarray, pix_fmt: str = "gbrp10be", *, transfer: int | None = None,
              orientation: int | None = None, reference: tuple[int, int] | None = None) -> bytes:
    """A DPX file of ``samples`` (H, W) gray or (H, W, 3|4) RGB(A), uint16 levels (or uint8) stored as
    ``pix_fmt``."""
    import av

    samples = np.ascontiguousarray(samples)
    deep = samples.dtype == np.uint16
    source = {2: "gray16le" if deep else "gray", 3: "rgb48le" if deep else "rgb24",
              4: "rgba64le" if deep else "rgba"}[samples.ndim if samples.ndim == 2 else samples.shape[2]]
    codec = av.CodecContext.create("dpx", "w")
    codec.height, codec.width = samples.shape[:2]
    codec.pix_fmt, codec.time_base = pix_fmt, fractions.Fraction(1, 24)
    frame = av.VideoFrame.from_ndarray(samples, format=source).reformat(format=pix_fmt)
    data = bytearray(b"".join(bytes(packet) for packet in codec.encode(frame) + codec.encode(None)))
    order = ">" if data[:4] == b"SDPX" else "<"
    if transfer is not None:
        data[801] = transfer
    if orientation is not None:
        struct.pack_into(order + "H", data, 768, orientation)
    if reference is not None:
        struct.pack_into(order + "I", data, 784, reference[0])
        struct.pack_into(order + "I", data, 792, reference[1])
    return bytes(data)
