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



def scanner_dpx(samples: np.ndarray, *, transfer: int = 1, orientation: int = 0, little_endian: bool = False,
                bits: int = 10, time_code: int = 0x01020304, frame_rate: float = 24.0,
                project: bytes = b"Reel 7") -> bytes:
    """A DPX frame with all four headers, as a film scanner writes one (FFmpeg's encoder writes no industry
    headers): ``samples`` (H, W, 3) uint16 levels stored at ``bits`` in ``transfer``, with a time code
    (TV header), a frame rate (film header) and a project name."""
    from rehue.data.dpx import dpx_file_bytes

    small = np.zeros((2, 2, 3), np.uint16)
    plain = dpx_bytes(small, "gbrp10le" if little_endian else "gbrp10be", transfer=4)  # codes as they are
    if bits == 16:
        plain = plain[:803] + bytes([16]) + plain[804:]
    header, pixels = dpx_file_bytes(np.ascontiguousarray(samples), like=plain)
    order = "<" if little_endian else ">"
    header = bytearray(header)
    header[801] = transfer
    if transfer in (1, 3):  # Kodak's reference black and white
        scale = (2 ** bits - 1) / 1023
        struct.pack_into(order + "II", header, 784, round(95 * scale), 0xFFFFFFFF)
        struct.pack_into(order + "I", header, 792, round(685 * scale))
    struct.pack_into(order + "H", header, 768, orientation)
    struct.pack_into(order + "I", header, 1920, time_code)
    struct.pack_into(order + "f", header, 1724, frame_rate)
    header[260:260 + len(project)] = project
    header[820:832] = b"R G B film\0\0"  # the image element's description
    return bytes(header) + pixels
