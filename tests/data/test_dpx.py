import numpy as np
import pytest

from rehue.cli import main
from rehue.data.dpx import log_to_display
from rehue.data.images import load_image, media_kind
from rehue.errors import RehueError
from tests.conftest import assert_each_refused_in_one_line
from tests.helpers_dpx import dpx_bytes, scanner_dpx

WIDTH, HEIGHT = 64, 48


def ramp() -> np.ndarray:
    """A gray ramp of 16-bit levels, different along both sides (so a flip shows)."""
    across = np.linspace(0, 1, WIDTH)[None, :]
    down = np.linspace(0, 1, HEIGHT)[:, None]
    return np.round((0.8 * across + 0.2 * down) * 65535).astype(np.uint16)


def kodak(code: np.ndarray, black: float = 95, white: float = 685) -> np.ndarray:
    """Cineon log to sRGB tones, written out from Kodak's formula: the test's own reckoning."""
    offset = 10 ** ((black - white) * 0.002 / 0.6)
    linear = np.clip((10 ** ((code - white) * 0.002 / 0.6) - offset) / (1 - offset), 0, 1)
    return np.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear)


@pytest.mark.parametrize("pix_fmt", ["gbrp10be", "gbrp10le", "gbrp12be", "rgb48be", "gray16be"])
def test_a_deep_dpx_scan_keeps_its_levels(pix_fmt):
    gray = ramp()
    samples = gray if pix_fmt.startswith("gray") else np.dstack([gray] * 3)
    loaded = load_image(dpx_bytes(samples, pix_fmt))
    assert loaded.is_gray and loaded.rgb.shape == (HEIGHT, WIDTH, 3)
    assert loaded.deep_gray is not None and loaded.deep_gray.dtype == np.uint16
    bits = 10 if "10" in pix_fmt else 12 if "12" in pix_fmt else 16
    step = 65535 / (2 ** bits - 1)
    assert np.abs(loaded.deep_gray.astype(int) - gray).max() <= step + 1  # the encoder truncates
    assert len(np.unique(loaded.deep_gray)) > 256


def test_an_8_bit_dpx_is_read_at_8_bits_and_colour_stays_colour():
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    rgb[..., 0], rgb[..., 2] = 200, 40
    loaded = load_image(dpx_bytes(rgb, "rgb24"))
    assert loaded.deep_gray is None and not loaded.is_gray
    assert np.array_equal(loaded.rgb, rgb)


def test_a_log_scan_is_read_in_display_tones_with_its_reference_codes():
    codes = np.arange(0, 1024, 1023 / (WIDTH - 1))[:WIDTH].round().astype(int)
    levels = np.broadcast_to(np.round(codes * 65535 / 1023).astype(np.uint16), (HEIGHT, WIDTH))
    planes = np.dstack([levels] * 3)
    as_written = load_image(dpx_bytes(planes, "gbrp10be", transfer=4)).deep_gray[0] / 65535
    assert np.abs(as_written - codes / 1023).max() < 1e-3  # a video transfer is taken as it is

    for transfer in (1, 3):  # printing density, logarithmic
        shown = load_image(dpx_bytes(planes, "gbrp10be", transfer=transfer)).deep_gray[0] / 65535
        assert np.abs(shown - kodak(codes)).max() < 2e-4
        assert shown[codes <= 95].max() == 0 and shown[codes >= 685].min() == 1

    own = load_image(dpx_bytes(planes, "gbrp10be", transfer=1, reference=(64, 940))).deep_gray[0] / 65535
    assert np.abs(own - kodak(codes, 64, 940)).max() < 2e-4
    assert own[np.argmin(np.abs(codes - 685))] < 0.9  # white only at the header's 940


def test_log_to_display_is_kodaks_conversion_and_rises():
    codes = np.linspace(0, 1023, 200)
    tones = log_to_display(codes / 1023)
    assert np.abs(tones - kodak(codes)).max() < 2e-4
    assert np.all(np.diff(tones) >= 0)


def test_a_linear_scan_gets_srgbs_curve():
    planes = np.full((HEIGHT, WIDTH, 3), round(0.18 * 65535), np.uint16)
    shown = load_image(dpx_bytes(planes, "rgb48be", transfer=2)).deep_gray
    assert abs(shown.mean() / 65535 - (1.055 * 0.18 ** (1 / 2.4) - 0.055)) < 1e-3


@pytest.mark.parametrize("orientation", range(8))
def test_a_dpx_is_turned_upright_by_its_orientation(orientation):
    upright = ramp()
    stored = {0: upright, 1: upright[:, ::-1], 2: upright[::-1], 3: upright[::-1, ::-1],
              4: upright.T, 5: upright.T[::-1], 6: upright.T[:, ::-1], 7: upright.T[::-1, ::-1]}[orientation]
    loaded = load_image(dpx_bytes(stored, "gray16be", orientation=orientation))
    assert np.array_equal(loaded.deep_gray, upright)


def test_a_dpx_keeps_its_alpha():
    gray = ramp()
    alpha = np.full_like(gray, 40000)
    loaded = load_image(dpx_bytes(np.dstack([gray, gray, gray, alpha]), "rgba64be"))
    assert loaded.alpha is not None and np.abs(loaded.alpha.astype(int) - 40000).max() <= 1


def test_a_dpx_is_known_by_its_first_bytes(tmp_path):
    for name in ("scan.0001", "scan0001", "frame.png", "frame.dpx", "FRAME.DPX"):
        (tmp_path / name).write_bytes(dpx_bytes(ramp(), "gray16be"))
        assert media_kind(tmp_path / name) == "image"
        assert load_image(tmp_path / name).deep_gray is not None


def test_a_damaged_dpx_is_one_line_naming_it(tmp_path, capsys):
    whole = dpx_bytes(np.dstack([ramp()] * 3))
    cases = {"cut.dpx": (whole[:3000], "truncated or corrupt DPX file"),
             "header.dpx": (whole[:100], "truncated DPX header"),
             "depth.dpx": (whole[:801] + bytes([11]) + whole[802:], "holds depth"),
             "huge.dpx": (whole[:772] + b"\xff\xff\xff\xff" + whole[776:], "image too large")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)


def test_an_8_bit_log_scan_reads_alike_in_rgb_and_gray():
    """Probe 27: FFmpeg widened 8-bit RGB as v * 256 and gray as v * 257, so the two read up to 0.78 L* apart."""
    codes = np.broadcast_to(np.arange(0, 256, 4, dtype=np.uint8), (HEIGHT, WIDTH))
    gray = load_image(dpx_bytes(np.ascontiguousarray(codes), "gray", transfer=1)).deep_gray
    rgb = load_image(dpx_bytes(np.dstack([codes] * 3), "rgb24", transfer=1)).deep_gray
    assert np.array_equal(gray, rgb)
    assert np.abs(gray[0] / 65535 - kodak(codes[0].astype(float) * 1023 / 255)).max() < 2e-4


def test_reference_codes_that_cannot_be_used_are_said(caplog):
    import logging

    planes = np.dstack([ramp()] * 3)
    with caplog.at_level(logging.WARNING, logger="rehue.data.dpx"):
        default = load_image(dpx_bytes(planes, "gbrp10be", transfer=1)).deep_gray
        assert not caplog.records, "no reference codes (0 and 0) is not a fault"
        backwards = load_image(dpx_bytes(planes, "gbrp10be", transfer=1, reference=(685, 95))).deep_gray
    assert np.array_equal(default, backwards)
    assert ["cannot be used; read with Kodak's 95 and 685" in r.getMessage() for r in caplog.records] == [True]


def test_a_reel_in_two_formats_is_said_to_be_so_not_out_of_its_numbering(tmp_path):
    from PIL import Image

    from rehue.video.pipeline import numbering_warnings

    for number in range(6):
        if number < 3:
            (tmp_path / f"r_{number:04d}.dpx").write_bytes(dpx_bytes(ramp(), "gray16be"))
        else:
            Image.fromarray((ramp() >> 8).astype(np.uint8)).save(tmp_path / f"r_{number:04d}.png")
    from rehue.video.pipeline import frame_files

    assert numbering_warnings(frame_files(tmp_path)) == [
        "its frames are in 2 formats (3 .dpx, 3 .png); they are coloured as one film, in the order of their numbers"]


@pytest.mark.parametrize("width", [7, 8, 9])
@pytest.mark.parametrize("deep", [False, True])
def test_a_picture_written_as_dpx_reads_back_as_it_was(tmp_path, width, deep):
    from rehue.data.images import save_image, to_uint16

    rng = np.random.default_rng(width)
    rgb = rng.integers(0, 65536 if deep else 256, (5, width, 3)).astype(np.uint16 if deep else np.uint8)
    alpha = rng.integers(0, 256, (5, width)).astype(np.uint8)
    for with_alpha in (False, True):
        path = save_image(rgb, tmp_path / f"{with_alpha}.dpx", alpha if with_alpha else None, software="a program")
        data = path.read_bytes()
        assert data[:4] == b"SDPX" and data[803] == (16 if deep else 10)  # 8-bit pictures at DPX's usual 10
        loaded = load_image(path)
        assert loaded.software == "a program" and (loaded.alpha is not None) == with_alpha
        if deep:
            assert np.array_equal(loaded.deep_gray, rgb_to_gray16(rgb))
        else:
            assert np.array_equal(loaded.rgb, rgb)
        if with_alpha:
            assert np.abs(loaded.alpha.astype(int) - to_uint16(alpha)).max() <= 65535 / 1023 / 2 + 1


def rgb_to_gray16(rgb):
    from rehue.color.lab import rgb_to_gray

    return rgb_to_gray(rgb, np.uint16)


@pytest.mark.parametrize("bits", [10, 12, 16])
def test_a_log_frame_read_and_written_again_keeps_its_codes(bits):
    """Before, a 12-bit scan came back at 16 bits: it is written at its own 12 now, as FFmpeg writes them."""
    from rehue.data.dpx import dpx_file_bytes

    codes = np.round(np.linspace(95, 685, WIDTH) * (2 ** bits - 1) / 1023).astype(np.uint16)
    levels = np.broadcast_to(codes * (65535 // (2 ** bits - 1)), (HEIGHT, WIDTH)).astype(np.uint16)
    scan = scanner_dpx(np.dstack([levels] * 3), transfer=1, bits=bits)
    loaded = load_image(scan)
    again = b"".join(dpx_file_bytes(np.dstack([loaded.deep_gray] * 3), like=scan[:2048]))
    assert again[:2048].find(b"Reel 7") == 260 and again[801] == 1 and again[803] == bits
    assert np.abs(load_image(again).deep_gray.astype(int) - loaded.deep_gray).max() <= 0.003 * 65535


def test_a_small_frame_from_ffmpeg_is_read():
    """FFmpeg writes no industry headers: a 6x10 frame is 1904 bytes, and was refused as "truncated"."""
    data = dpx_bytes(np.zeros((6, 10, 3), np.uint16))
    assert len(data) < 2048
    assert load_image(data).rgb.shape == (6, 10, 3)


def test_dpx_is_an_output_format_of_the_cli(tmp_path, capsys):
    from PIL import Image

    Image.fromarray((ramp() >> 8).astype(np.uint8)).save(tmp_path / "photo.jpg")
    assert main(["colorize", str(tmp_path / "photo.jpg"), "-o", str(tmp_path / "photo.dpx"), "--no-progress"]) == 0
    coloured = load_image(tmp_path / "photo.dpx")
    assert coloured.coloured_by_rehue and coloured.rgb.shape == (HEIGHT, WIDTH, 3)
    assert main(["colorize", str(tmp_path / "photo.jpg"), "-o", str(tmp_path / "out"), "--ext", "dpx",
                 "--no-progress"]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["photo.dpx"]


def test_10_bit_layouts_ffmpeg_does_not_read_are_named_not_called_damaged(tmp_path, capsys):
    """Probe 32: 10-bit samples packed end to end, and gray lines that do not start new words, were
    "truncated or corrupt DPX file (Operation not permitted)"."""
    import struct

    filled = bytearray(scanner_dpx(np.dstack([ramp()] * 3), transfer=1))
    packed = bytearray(filled)
    struct.pack_into(">H", packed, 804, 0)
    gray = bytearray(filled[:2048])
    gray[800], width, height = 6, 7, 5
    struct.pack_into(">II", gray, 772, width, height)
    gray += bytes(4 * -(-width * height // 3))  # 12 words, where lines padded to words take 15
    struct.pack_into(">I", gray, 16, len(gray))
    cases = {"packed.dpx": (packed, "packed end to end (packing 0)"),
             "unpadded.dpx": (gray, "10-bit lines do not each start a new 32-bit word")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)
    assert "corrupt" not in str(load_error(tmp_path / "packed.dpx")) + str(load_error(tmp_path / "unpadded.dpx"))


def test_other_layouts_ffmpeg_does_not_read_and_pixels_inside_the_header_are_named(tmp_path, capsys):
    """Probe 151: a DPX whose pixels' offset lay inside its header was coloured from the header's bytes, exit 0;
    floats, run-length encoding and descriptors FFmpeg has not were "truncated or corrupt DPX file (Not yet
    implemented in FFmpeg, patches welcome)"."""
    import struct

    filled = scanner_dpx(np.dstack([ramp()] * 3), transfer=1)

    def changed(offset: int, fmt: str, value: int) -> bytes:
        data = bytearray(filled)
        struct.pack_into(fmt, data, offset, value)
        return bytes(data)

    floats = bytearray(changed(803, "B", 32))
    struct.pack_into(">H", floats, 804, 0)
    layout = "a DPX layout FFmpeg, rehue's DPX decoder, does not read"
    cases = {"offset.dpx": (changed(4, ">I", 1024), "its pixels would start at byte 1024, inside its header"),
             "floats.dpx": (floats, f"{layout} (RGB, 32-bit floats)"),
             "rle.dpx": (changed(806, ">H", 1), f"{layout} (RGB, 10-bit samples, run-length encoded)"),
             "cbycr.dpx": (changed(800, "B", 102), f"{layout} (CbYCr 4:4:4, 10-bit samples)"),
             # probe 215: read as upright, decoded as method A, "truncated or corrupt DPX file (Invalid argument)"
             "turned.dpx": (changed(768, ">H", 9), "its orientation, 9, is none of DPX's eight (0 to 7)"),
             "packed.dpx": (changed(804, ">H", 3), "its packing, 3, is none of DPX's (0 to 2)"),
             "unset.dpx": (changed(804, ">H", 0xFFFF), "its packing, 65535 (undefined), is none of DPX's (0 to 2)"),
             "narrow.dpx": (changed(772, ">I", 0), "a DPX frame of no pixels (0x48)")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)
    assert np.array_equal(load_image(changed(768, ">H", 0xFFFF)).rgb, load_image(filled).rgb), \
        "an orientation left undefined is DPX's default"


def test_a_turned_frames_header_no_longer_gives_the_scans_geometry(tmp_path):
    """Probe 32: a frame turned upright kept its scan's offsets and original size, which described the stored
    frame. An upright frame of the same size keeps them."""
    import struct

    from rehue.data.images import save_image

    for orientation in (0, 3, 4):
        stored = ramp() if orientation != 4 else ramp().T
        scan = bytearray(scanner_dpx(np.dstack([stored] * 3), transfer=1, orientation=orientation))
        struct.pack_into(">6I", scan, 1408, 1, 2, 3, 4, 2048, 1556)
        loaded = load_image(bytes(scan))
        written = save_image(loaded.rgb, tmp_path / f"{orientation}.dpx", dpx_header=loaded.dpx_header).read_bytes()
        expected = struct.pack(">6I", 1, 2, 3, 4, 2048, 1556) if orientation == 0 else b"\xff" * 24
        assert written[1408:1432] == expected


def load_error(path) -> RehueError:
    with pytest.raises(RehueError) as caught:
        load_image(path)
    return caught.value


def test_a_long_provenance_fits_the_creator_field_with_every_digest_whole(tmp_path):
    """Probe 33: two models of one's own, by their run folders, ran past the 100 characters of the DPX creator
    field, cutting the dependent model's digest to one digit."""
    from rehue.data.images import save_image

    long = ("rehue 0.1.0, colorized with runs/mine/model (sha256 40777a562822); within scenes runs/mine-dep/model "
            "(sha256 4f0a11223344)")
    written = save_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "a.dpx", software=long)
    loaded = load_image(written)
    assert loaded.software == "rehue 0.1.0, colorized with runs/mine/model (sha256 40777a562822); within scenes " \
                              "sha256 4f0a11223344", "the dependent model's name goes first"
    longer = long.replace("runs/mine/", "runs/a-much-longer-name-for-my-own-run/")
    written = save_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "c.dpx", software=longer)
    assert load_image(written).software == "rehue 0.1.0, colorized with sha256 40777a562822; within scenes sha256 " \
                                           "4f0a11223344"
    assert loaded.coloured_by_rehue
    short = "rehue 0.1.0, colorized with rehue-gen2-128-independent"
    assert load_image(save_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "b.dpx", software=short)).software == short


def test_a_scans_user_data_is_carried_into_the_frame_written_from_it(tmp_path):
    """Probe 33: a scanner's user-defined block (1,022 bytes here, after the headers) was dropped."""
    import struct

    from rehue.data.images import save_image

    scan = bytearray(scanner_dpx(np.dstack([ramp()] * 3), transfer=1))
    user = b"scanner calibration " * 51 + b"ok"
    struct.pack_into(">I", scan, 32, len(user))
    struct.pack_into(">I", scan, 4, 2048 + 1024)
    struct.pack_into(">I", scan, 808, 2048 + 1024)
    scan = bytes(scan[:2048]) + user + bytes(2) + bytes(scan[2048:])
    loaded = load_image(scan)
    written = save_image(loaded.rgb, tmp_path / "a.dpx", dpx_header=loaded.dpx_header).read_bytes()
    assert struct.unpack_from(">I", written, 32)[0] == len(user) and written[2048:2048 + len(user)] == user
    offset = struct.unpack_from(">I", written, 4)[0]
    assert offset % 4 == 0 and struct.unpack_from(">I", written, 808)[0] == offset
    assert struct.unpack_from(">I", written, 16)[0] == len(written)
    assert np.array_equal(load_image(written).rgb, loaded.rgb)
