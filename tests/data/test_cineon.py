import numpy as np
import pytest

from rehue.cli import main
from rehue.data.images import load_image, media_kind
from tests.conftest import assert_each_refused_in_one_line
from tests.data.test_dpx import kodak
from tests.helpers_dpx import cineon_bytes

HEIGHT, WIDTH = 30, 42


def log_codes(seed: int = 0) -> np.ndarray:
    """10-bit printing-density codes from below the reference black to above the reference white."""
    return np.random.default_rng(seed).integers(60, 720, (HEIGHT, WIDTH, 3))


def test_a_cineon_frame_is_read_in_display_tones_by_kodaks_conversion():
    """Before: "Cineon frames are not read by rehue; convert them to 16-bit TIFF or DPX first"."""
    codes = log_codes()
    loaded = load_image(cineon_bytes(codes))
    assert not loaded.is_gray and loaded.rgb.shape == (HEIGHT, WIDTH, 3)
    assert np.abs(loaded.rgb / 255 - kodak(codes)).max() < 1 / 255 + 1e-6
    gray = load_image(cineon_bytes(codes[..., 0]))
    assert gray.is_gray and gray.deep_gray is not None
    assert np.abs(gray.deep_gray / 65535 - kodak(codes[..., 0])).max() < 1e-4  # 10-bit codes at 16 bits


@pytest.mark.parametrize(("orientation", "shown"), [(0, lambda c: c), (1, np.flipud), (2, np.fliplr),
                                                    (3, lambda c: np.flipud(np.fliplr(c)))])
def test_a_cineon_frames_orientation_is_turned_upright(orientation, shown):
    """Cineon numbers its orientations otherwise than DPX: its 1 is bottom to top, DPX's right to left."""
    codes = log_codes(1)
    loaded = load_image(cineon_bytes(codes, orientation=orientation))
    assert np.abs(loaded.rgb / 255 - kodak(shown(codes))).max() < 1 / 255 + 1e-6


def test_a_cineon_reel_is_coloured_as_a_film_and_written_as_dpx_in_log(tmp_path, tiny_model):
    from rehue.data.dpx import Header

    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(3):
        (reel / f"scan.{number:04d}.cin").write_bytes(cineon_bytes(log_codes(number)[..., 0], frame_rate=18.0))
    assert media_kind(reel / "scan.0000.cin") == "image"
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(reel), "-o", str(tmp_path / "out"), "--frames", "--ext", ".dpx", *args]) == 0
    written = Header((tmp_path / "out" / "scan.0000.dpx").read_bytes())
    assert (written.transfer, written.bits, written.frame_rate) == (1, 10, 18.0), "log again, at the scan's rate"
    assert main(["colorize", str(reel), "-o", str(tmp_path / "silent.mkv"), "--frames", *args]) == 0
    from rehue.video.io import VideoReader

    with VideoReader(tmp_path / "silent.mkv") as film:
        assert (film.fps, film.frame_count) == (18, 3)


def test_cineon_files_rehue_cannot_read_are_one_line_naming_them(tmp_path, capsys):
    whole = cineon_bytes(log_codes())
    eight_bit = cineon_bytes(log_codes() // 4, bits=8)
    cases = {"cut.cin": (whole[:-100], "truncated or corrupt Cineon file (its pixels end early)"),
             "header.cin": (whole[:500], "truncated Cineon header"),
             "eight.cin": (eight_bit, "a Cineon layout rehue does not read (3 channels of 8 bits"),
             "packed.cin": (cineon_bytes(log_codes(), packing=0), "its samples are laid out in a way rehue does not "
                                                                   "read (interleave 0, packing 0"),
             "narrow.cin": (cineon_bytes(log_codes()[:, :40, 0]), "a gray Cineon frame whose width is not a "
                                                                  "multiple of 3"),
             # probe 39: a traceback (KeyError: 9); Pillow's words without the file's name; a truncation
             "turned.cin": (whole[:192] + bytes([9]) + whole[193:], "its orientation, 9, is none of Cineon's eight"),
             "empty.cin": (cineon_bytes(np.zeros((0, 0, 3), int)), "a Cineon frame of no pixels (0x0)"),
             "inside.cin": (whole[:4] + (10).to_bytes(4, "big") + whole[8:], "its pixels would start at byte 10, "
                                                                            "inside its header"),
             "negative.cin": (whole[:683] + b"\x01" + whole[684:], "its samples are a negative image"),
             "swapped.cin": (whole[3::-1] + whole[4:], "a little-endian Cineon file")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)
