"""Frame rates as a person writes them."""

from __future__ import annotations

import argparse
from fractions import Fraction

# the rates of NTSC television and of film transferred to it, which a person writes as 23.976 or 29.97
NTSC_RATES = tuple(Fraction(base * 1000, 1001) for base in (24, 30, 48, 60, 120))
NTSC_TOLERANCE = 0.005  # 23.976 and 23.98 are 24000/1001; 23.97 is not


def exact_rate(rate: float | Fraction | str) -> Fraction:
    """``rate`` as a fraction: NTSC's exact rates for their decimal roundings (23.976 or 23.98 as 24000/1001:
    23.976 as it stands drifts from it by 4 frames an hour), any other as it stands."""
    if isinstance(rate, str):
        text = rate.strip()
        rate = Fraction(text)
        if "/" in text:
            return rate
    exact = Fraction(rate)
    rate = exact.limit_denominator(1_000_000)
    if rate == 0 != exact:  # a rate below a millionth, as typed, for the range check to name (probe 136: "not 0")
        return exact
    if rate.denominator == 1001:
        return rate
    return next((ntsc for ntsc in NTSC_RATES if abs(float(rate - ntsc)) < NTSC_TOLERANCE), rate)


def frame_rate(text: str) -> Fraction:
    """argparse's type for a frame rate: 24, 16.5, 23.976 or 24000/1001 (``exact_rate``)."""
    try:
        return exact_rate(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a frame rate: {text!r} (such as 24, 23.976 or 24000/1001)") from None


def sampling_rate(text: str) -> float:
    """argparse's type for how many frames a second to keep: a decimal as typed (inf and nan too, for the range
    check to name) or a fraction such as 24000/1001, as ``frame_rate`` takes it."""
    try:
        return float(exact_rate(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a rate: {text!r} (such as 0.667, 3 or 24000/1001)") from None
