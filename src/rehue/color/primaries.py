"""RGB primaries other than sRGB's (an OpenEXR file's ``chromaticities``, such as ACES'), brought to sRGB's:
linear RGB -> XYZ -> (Bradford's chromatic adaptation to D65, where the white differs) -> linear sRGB."""

from __future__ import annotations

import numpy as np

# red, green, blue and white x, y: ITU-R BT.709's, which sRGB shares (and OpenEXR's default)
BT709 = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def rgb_to_xyz(chromaticities) -> np.ndarray:
    """The 3x3 matrix from linear RGB of these primaries to XYZ, with their white at Y = 1."""
    *primaries, white = chromaticities
    columns = np.stack([_xyz(*p) for p in primaries], axis=1)
    return columns * np.linalg.solve(columns, _xyz(*white))


def to_srgb_matrix(chromaticities) -> np.ndarray:
    """The 3x3 matrix from linear RGB of ``chromaticities`` to linear sRGB; gray (R = G = B) stays gray."""
    source_white, target_white = BRADFORD @ _xyz(*chromaticities[3]), BRADFORD @ _xyz(*BT709[3])
    adapt = np.linalg.inv(BRADFORD) @ np.diag(target_white / source_white) @ BRADFORD
    return np.linalg.inv(rgb_to_xyz(BT709)) @ adapt @ rgb_to_xyz(chromaticities)


def is_bt709(chromaticities, tolerance: float = 5e-4) -> bool:
    return bool(np.allclose(np.asarray(chromaticities, float), np.asarray(BT709), atol=tolerance))
