import struct

import numpy as np

from rehue.color.icc import gray_levels_in_srgb
from tests.data.test_images import gray_icc_profile


def with_tone_curve(profile: bytes, curve: bytes) -> bytes:
    """``profile`` (from ``gray_icc_profile``, whose last tag is kTRC) with its kTRC replaced by ``curve``."""
    count = struct.unpack_from(">I", profile, 128)[0]
    signature, offset, _ = struct.unpack_from(">4sII", profile, 128 + 4 + 12 * (count - 1))
    assert signature == b"kTRC"
    curve += bytes(-len(curve) % 4)
    body = profile[:offset] + curve
    table = bytearray(body)
    struct.pack_into(">4sII", table, 128 + 4 + 12 * (count - 1), b"kTRC", offset, len(curve))
    struct.pack_into(">I", table, 0, len(table))
    return bytes(table)


def srgb_encode(y):
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(y, 1 / 2.4) - 0.055)


def test_a_gamma_curve_is_brought_into_srgb_exactly():
    levels = gray_levels_in_srgb(gray_icc_profile(1.0, "Linear Gray"))
    x = np.arange(65536) / 65535
    assert levels.dtype == np.uint16 and np.abs(levels - srgb_encode(x) * 65535).max() <= 1
    gamma22 = gray_levels_in_srgb(gray_icc_profile(2.2, "Gray Gamma 2.2"))
    assert np.abs(gamma22 - srgb_encode(x ** (563 / 256)) * 65535).max() <= 1, "u8Fixed8: 2.2 is stored as 563/256"


def test_sRGBs_own_parametric_curve_changes_nothing_and_a_table_is_interpolated():
    def fixed(value):
        return struct.pack(">i", round(value * 65536))

    srgb_curve = b"para" + bytes(4) + struct.pack(">H", 3) + bytes(2) + b"".join(
        fixed(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    levels = gray_levels_in_srgb(with_tone_curve(gray_icc_profile(1.0, "sRGB gray"), srgb_curve))
    assert np.abs(levels.astype(int) - np.arange(65536)).max() <= 2
    table = np.linspace(0, 1, 5) ** 2  # five points of a square law, as a "Dot Gain" table is stored
    curv = b"curv" + bytes(4) + struct.pack(">I", 5) + np.round(table * 65535).astype(">u2").tobytes()
    levels = gray_levels_in_srgb(with_tone_curve(gray_icc_profile(1.0, "table"), curv))
    middle = np.interp(0.5, np.linspace(0, 1, 5), table)
    assert abs(levels[32768] / 65535 - srgb_encode(middle)) < 1e-4


def test_colour_and_unreadable_profiles_give_none():
    profile = bytearray(gray_icc_profile(1.0, "x"))
    assert gray_levels_in_srgb(bytes(profile[:130])) is None, "cut short"
    profile[16:20] = b"RGB "
    assert gray_levels_in_srgb(bytes(profile)) is None
    assert gray_levels_in_srgb(b"") is None
