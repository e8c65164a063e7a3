"""Kodak Cineon frames (``.cin``), the film scans of the 1990s that DPX grew out of: 10-bit printing
density (log), big-endian, three samples filled into each 32-bit word from its top bits. FFmpeg has no
Cineon decoder, so the samples are unpacked here, and turned into display tones by Kodak's conversion as a
DPX log scan's are (``rehue.data.dpx``: reference black and white at codes 95 and 685, which Cineon takes
as given). Written, a Cineon frame is written as DPX, its successor, in log again: it carries the header of
the DPX frame it would be (``rehue.data.dpx.made_header``), with its frame rate.
"""

from __future__ import annotations

import struct

from rehue.words import counted

MAGIC_NUMBERS = (b"\x80\x2a\x5f\xd7", b"\xd7\x5f\x2a\x80")  # big-endian, as Kodak's format is; little
HEADER_BYTES = 2048  # file, image, data format, origination and film headers
CHANNELS_AT, CHANNEL_BYTES = 196, 28  # the image header's channel records
INTERLEAVE, PACKING, SIGNED, SENSE, LINE_PADDING = 680, 681, 682, 683, 684
FRAME_RATE = 1072  # the motion picture film header's
PIXEL_INTERLEAVED, FILLED_32_BIT_LEFT = 0, 5
# Cineon's orientations as DPX's: Cineon counts bottom-to-top before right-to-left, DPX the other way round
DPX_ORIENTATION = {0: 0, 1: 2, 2: 1, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7}


class Header:
    """The fields of a Cineon header that say where and how its picture is stored."""

    def __init__(self, data: bytes):
        if data[:4] == MAGIC_NUMBERS[1]:
            raise ValueError("a little-endian Cineon file (Kodak's format is big-endian), which rehue does not read; "
                             "convert it to DPX first")
        if len(data) < 1024 or data[:4] not in MAGIC_NUMBERS:
            raise ValueError("truncated Cineon header")
        self.data_offset, self.orientation, self.channels = (struct.unpack_from(">I", data, 4)[0], data[192],
                                                             data[193])
        records = [struct.unpack_from(">2sBxII", data, CHANNELS_AT + CHANNEL_BYTES * index)
                   for index in range(min(self.channels, 8))]
        if not records:
            raise ValueError("a Cineon file with no channels")
        self.bits = {bits for _, bits, _, _ in records}
        sizes = {(width, height) for _, _, width, height in records}
        self.width, self.height = records[0][2], records[0][3]
        self.same_size = len(sizes) == 1
        self.interleave, self.packing = data[INTERLEAVE], data[PACKING]
        self.signed, self.negative = data[SIGNED], data[SENSE]
        self.line_padding = struct.unpack_from(">I", data, LINE_PADDING)[0]
        rate = struct.unpack_from(">f", data, FRAME_RATE)[0] if len(data) >= FRAME_RATE + 4 else float("nan")
        self.frame_rate = rate if rate == rate and 0 < rate < 1000 else None  # unset: all ones, a NaN


def read(data: bytes, path: str | None):
    """A :class:`LoadedImage` of a Cineon file's bytes (upright, in display tones by Kodak's conversion, its
    levels at 16 bits); a ValueError says why one cannot be read. Its samples are unpacked here, three to a
    32-bit word from the top bits, as Kodak's format lays them out."""
    import numpy as np

    from rehue.data import dpx
    from rehue.data.images import _oriented, array_to_loaded

    header = Header(data)
    if header.orientation not in DPX_ORIENTATION:
        raise ValueError(f"its orientation, {header.orientation}, is none of Cineon's eight (0 to 7)")
    if not header.width or not header.height:
        raise ValueError(f"a Cineon frame of no pixels ({header.width}x{header.height})")
    if header.signed or header.negative:
        raise ValueError("its samples are " + ("signed" if header.signed else "a negative image (image sense 1)")
                         + ", which rehue does not read; convert it to DPX first")
    if header.channels not in (1, 3) or header.bits != {10} or not header.same_size:
        bits = "/".join(map(str, sorted(header.bits)))
        raise ValueError(f"a Cineon layout rehue does not read ({counted(header.channels, 'channel')} of {bits} bits"
                         f"{'' if header.same_size else ', of unlike sizes'}; it reads 10-bit RGB or gray); convert "
                         "it to DPX first")
    if header.interleave != PIXEL_INTERLEAVED or header.packing != FILLED_32_BIT_LEFT or header.line_padding:
        raise ValueError(f"its samples are laid out in a way rehue does not read (interleave {header.interleave}, "
                         f"packing {header.packing}, line padding {header.line_padding}; it reads pixel-interleaved "
                         "10-bit samples filled into 32-bit words); convert it to DPX first")
    if header.channels == 1 and header.width % 3:
        raise ValueError("a gray Cineon frame whose width is not a multiple of 3, whose lines may not start new "
                         "32-bit words; convert it to DPX first")
    count = header.width * header.height * header.channels
    words = -(-count // 3)
    if header.data_offset < 1024:
        raise ValueError(f"its pixels would start at byte {header.data_offset}, inside its header")
    if len(data) < header.data_offset + 4 * words:
        raise ValueError("truncated or corrupt Cineon file (its pixels end early)")
    packed = np.frombuffer(data, ">u4", words, header.data_offset)
    codes = np.stack([(packed >> shift) & 0x3FF for shift in (22, 12, 2)], axis=1).reshape(-1)[:count]
    codes = codes.reshape(header.height, header.width, header.channels).astype(np.uint16)
    table = dpx._display_table(False, dpx.LOG_BLACK, dpx.LOG_WHITE)
    samples = table[(codes * 64) | (codes >> 4)]  # 10-bit codes as 16-bit levels, as the DPX reader takes them
    samples = _oriented(samples, dpx.EXIF_ORIENTATION[DPX_ORIENTATION[header.orientation]])
    loaded = array_to_loaded(samples, path, colour=header.channels == 3)
    # written as DPX, in log again, at its frame rate; its reference codes unset, so Kodak's, as read here
    loaded.dpx_header = dpx.made_header(bits=10, transfer=dpx.PRINTING_DENSITY, frame_rate=header.frame_rate)
    return loaded
