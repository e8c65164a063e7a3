"""CIE LAB (D65) colour maths and the one normalisation every part of rehue uses."""

from rehue.color.lab import (
    AB_SCALE,
    L_SCALE,
    denormalize_ab,
    denormalize_lightness,
    lab_to_rgb,
    lab_to_rgb_torch,
    normalize_ab,
    normalize_lightness,
    rgb_to_gray,
    rgb_to_lab,
    rgb_to_lab_torch,
    rgb_to_lightness,
)

__all__ = [
    "AB_SCALE",
    "L_SCALE",
    "denormalize_ab",
    "denormalize_lightness",
    "lab_to_rgb",
    "lab_to_rgb_torch",
    "normalize_ab",
    "normalize_lightness",
    "rgb_to_gray",
    "rgb_to_lab",
    "rgb_to_lab_torch",
    "rgb_to_lightness",
]
