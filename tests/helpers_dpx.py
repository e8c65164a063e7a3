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
    if bits in (12, 16):
        plain = plain[:803] + bytes([bits]) + plain[804:]
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


def cineon_bytes(codes: np.ndarray, *, orientation: int = 0, frame_rate: float | None = 24.0, packing: int = 5,
                 bits: int = 10) -> bytes:
    """A Kodak Cineon frame written by the test itself, from the format's description: (H, W, 3) or (H, W)
    10-bit printing-density codes, big-endian, pixel-interleaved, three samples filled into each 32-bit word
    from its top bits (packing 5), its pixels after a 2048-byte header."""
    codes = np.asarray(codes, np.uint32)
    height, width = codes.shape[:2]
    channels = 1 if codes.ndim == 2 else codes.shape[2]
    header = bytearray(2048)
    struct.pack_into(">IIIIII", header, 0, 0x802A5FD7, 2048, 1024, 1024, 0, 0)
    header[24:28] = b"V4.5"
    header[192], header[193] = orientation, channels
    for channel in range(channels):
        struct.pack_into(">BBBxII", header, 196 + 28 * channel, 0, channel + 1 if channels == 3 else 0, bits,
                         width, height)
    header[680], header[681] = 0, packing
    struct.pack_into(">f", header, 1072, frame_rate if frame_rate is not None else float("nan"))
    samples = codes.reshape(-1)
    samples = np.concatenate([samples, np.zeros(-len(samples) % 3, np.uint32)])
    words = (samples[0::3] << 22) | (samples[1::3] << 12) | (samples[2::3] << 2)
    return bytes(header) + words.astype(">u4").tobytes()
