import io
import logging
import os

import numpy as np
import pytest
from PIL import Image

from rehue.data.images import load_image, save_image
from rehue.errors import RehueError
from tests.conftest import textured_rgb


def test_sixteen_bit_gray(tmp_path):
    values = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    path = tmp_path / "scan16.png"
    Image.fromarray(values).save(path)
    image = load_image(path)
    assert image.is_gray and image.rgb.shape == (48, 64, 3)
    assert abs(int(image.rgb[-1, -1, 0]) - 255) <= 1 and image.rgb[0, 0, 0] == 0


def test_palette_cmyk_and_alpha(tmp_path):
    rgb = textured_rgb(20, 30)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg")
    rgba = Image.fromarray(rgb).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.arange(30, dtype=np.uint8) * 8, (20, 1))))
    rgba.save(tmp_path / "a.png")
    assert load_image(tmp_path / "p.png").rgb.shape == (20, 30, 3)
    assert load_image(tmp_path / "c.jpg").rgb.shape == (20, 30, 3)
    loaded = load_image(tmp_path / "a.png")
    assert loaded.alpha is not None and loaded.alpha[0, 29] == 29 * 8


def test_exif_rotation_is_applied(tmp_path):
    image = Image.fromarray(textured_rgb(20, 40))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image.save(tmp_path / "r.jpg", exif=exif)
    assert load_image(tmp_path / "r.jpg").rgb.shape == (40, 20, 3)


def test_decompression_bomb_header_is_refused(tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + \
        chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(bomb)
    with pytest.raises(RehueError, match="too large"):
        load_image(tmp_path / "bomb.png")


def test_one_pixel_image(tmp_path):
    Image.fromarray(np.array([[[10, 20, 30]]], np.uint8)).save(tmp_path / "one.png")
    assert load_image(tmp_path / "one.png").rgb.shape == (1, 1, 3)


def test_truncated_png(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(textured_rgb(64, 64)).save(buffer, format="PNG")
    (tmp_path / "t.png").write_bytes(buffer.getvalue()[:300])
    with pytest.raises(RehueError):
        load_image(tmp_path / "t.png")


def test_save_is_atomic_and_keeps_alpha(tmp_path):
    alpha = np.full((4, 5), 128, np.uint8)
    path = save_image(textured_rgb(4, 5), tmp_path / "o.png", alpha=alpha)
    assert Image.open(path).mode == "RGBA"
    with pytest.raises(RehueError, match="unsupported output extension"):
        save_image(textured_rgb(4, 5), tmp_path / "o.xyz")
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]


def test_sixteen_bit_gray_keeps_every_level(tmp_path):
    values = (np.arange(300 * 220) % 65536).astype(np.uint16).reshape(220, 300)
    Image.fromarray(values).save(tmp_path / "scan16.tif")
    image = load_image(tmp_path / "scan16.tif")
    assert image.deep_gray is not None and np.array_equal(image.deep_gray, values)
    assert load_image(tmp_path / "scan16.tif").rgb.dtype == np.uint8
    Image.fromarray((values >> 8).astype(np.uint8)).save(tmp_path / "scan8.tif")
    assert load_image(tmp_path / "scan8.tif").deep_gray is None


def test_sixteen_bit_rgb_is_read_at_sixteen_bits(tmp_path):
    import cv2

    from rehue.color.lab import rgb_to_gray

    rgb16 = textured_rgb(40, 60).astype(np.uint16) * 256 + np.arange(60, dtype=np.uint16)[:, None]
    cv2.imwrite(str(tmp_path / "colour16.png"), rgb16[..., ::-1])
    image = load_image(tmp_path / "colour16.png")
    assert np.array_equal(image.deep_gray, rgb_to_gray(rgb16, np.uint16))
    gray16 = np.repeat(rgb16[..., 1:2], 3, axis=2)
    cv2.imwrite(str(tmp_path / "gray16.png"), gray16)
    assert np.array_equal(load_image(tmp_path / "gray16.png").deep_gray, rgb16[..., 1]), "a gray scan as RGB"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_sixteen_bit_rgb_follows_exif_orientation_like_pillow(tmp_path, orientation):
    from rehue.data.images import _oriented

    rgb = textured_rgb(5, 7, seed=orientation)
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "o.png", exif=exif)
    expected = np.asarray(load_image(tmp_path / "o.png").rgb)
    assert np.array_equal(_oriented(rgb, orientation), expected)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_output_round_trips_with_alpha(tmp_path, suffix):
    import cv2

    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (30, 40, 3), dtype=np.uint16)
    alpha = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    path = save_image(rgb16, tmp_path / f"deep{suffix}", alpha=alpha)
    back = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(back[..., 2::-1], rgb16)
    assert np.array_equal(back[..., 3], alpha.astype(np.uint16) * 257)
    assert np.array_equal(load_image(path).alpha, alpha.astype(np.uint16) * 257), "a 16-bit file's alpha is 16-bit"
    jpeg = save_image(rgb16, tmp_path / "eight.jpg")
    assert Image.open(jpeg).mode == "RGB", "JPEG holds 8 bits: the 16-bit output is rounded"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".png16", ".tif16"])
def test_resolution_and_descriptive_exif_are_kept(tmp_path, suffix):
    image = Image.fromarray(textured_rgb(20, 30))
    exif = image.getexif()
    exif[0x010E] = "Wedding, 1931"
    exif[0x8298] = "City archive"
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0x9003] = "1931:05:01 10:00:00"
    exif.get_ifd(0x8769).update({0xA002: 30, 0xA003: 20, 0xA001: 0xFFFF})  # as stored, "uncalibrated" (Adobe RGB)
    image.save(tmp_path / "scan.jpg", exif=exif, dpi=(600, 600))
    loaded = load_image(tmp_path / "scan.jpg")
    assert loaded.dpi == (600, 600) and loaded.rgb.shape == (30, 20, 3)
    rgb = loaded.rgb.astype(np.uint16) * 257 if suffix.endswith("16") else loaded.rgb
    out = save_image(rgb, tmp_path / f"out{suffix[:4]}", dpi=loaded.dpi, exif=loaded.exif, software="rehue test")
    written = Image.open(out)
    tags = written.getexif()
    assert tags.get(0x010E) == "Wedding, 1931" and tags.get(0x8298) == "City archive"
    assert tags.get(0x0131) == "rehue test"
    assert tags.get(0x0112) in (None, 1), "the pixels are upright now: no orientation to apply again"
    assert written.info["dpi"] == pytest.approx((600, 600), abs=0.01)
    if suffix != ".tif16":  # 16-bit TIFFs keep IFD0's text tags only
        assert tags.get_ifd(0x8769).get(0x9003) == "1931:05:01 10:00:00"
        # probe 143: the stored width and height (30x20 of a picture now 20x30) and "uncalibrated" were kept
        assert 0xA002 not in tags.get_ifd(0x8769) and 0xA003 not in tags.get_ifd(0x8769)
        assert tags.get_ifd(0x8769).get(0xA001) == 1, "the output's numbers are sRGB's"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp", ".png-16", ".tif-16"])
def test_exif_text_that_is_not_ascii_keeps_its_bytes(tmp_path, suffix):
    """Probe 93: an Artist and Copyright in UTF-8, as cameras, exiftool and Lightroom write them, came out as
    "Zo?? ??ngstr??m" in every format (Pillow reads the bytes as Latin-1 and writes "?" for what is not ASCII)."""
    exif = Image.Exif()
    exif[0x013B] = "Zoë Ångström".encode()
    exif[0x8298] = "© Stadtarchiv Köln".encode()
    exif[0x8769] = {0x9003: "1931:05:01 10:00:00"}
    Image.fromarray(textured_rgb(20, 30)).save(tmp_path / "scan.jpg", exif=exif.tobytes())
    loaded = load_image(tmp_path / "scan.jpg")
    suffix, deep = suffix.removesuffix("-16"), suffix.endswith("-16")
    rgb = loaded.rgb.astype(np.uint16) * 257 if deep else loaded.rgb
    out = save_image(rgb, tmp_path / f"out{suffix}", exif=loaded.exif, software="rehue test")
    tags = Image.open(out).getexif()
    assert tags.get(0x013B).encode("latin-1").decode() == "Zoë Ångström"
    assert tags.get(0x8298).encode("latin-1").decode() == "© Stadtarchiv Köln"
    again = save_image(rgb, tmp_path / f"again{suffix}", exif=load_image(out).exif)  # and again, from the output
    assert Image.open(again).getexif().get(0x013B).encode("latin-1").decode() == "Zoë Ångström"


def test_an_exif_block_too_large_for_jpeg_is_left_out_with_a_warning(tmp_path, caplog):
    """Probe 93: a caption of 70,000 characters stopped a JPEG output with Pillow's "EXIF data is too long"
    traceback, and a folder's batch with it."""
    exif = Image.Exif()
    exif[0x010E] = "x" * 70_000
    Image.fromarray(textured_rgb(20, 30)[..., 0]).save(tmp_path / "scan.tif", exif=exif.tobytes())
    loaded = load_image(tmp_path / "scan.tif")
    with caplog.at_level(logging.WARNING, logger="rehue.data.images"):
        jpeg = save_image(loaded.rgb, tmp_path / "out.jpg", exif=loaded.exif, software="rehue test")
        png = save_image(loaded.rgb, tmp_path / "out.png", exif=loaded.exif)
    (said,) = [record.getMessage() for record in caplog.records]
    assert said.startswith(f"{jpeg}: the EXIF block (") and said.endswith(
        " bytes) is larger than a JPEG holds (65533); it is left out: write .png or .tif to keep it")
    assert Image.open(jpeg).getexif().get(0x0131) == "rehue test", "rehue's Software tag stays"
    assert Image.open(png).getexif().get(0x010E) == "x" * 70_000


def test_a_16_bit_tiff_says_the_exif_blocks_it_leaves_out(tmp_path, caplog):
    """Probe 93: the date taken and the GPS went without a word (a 16-bit PNG keeps them)."""
    exif = Image.Exif()
    exif[0x013B] = "A. Archivist"
    exif[0x8769] = {0x9003: "1931:05:01 10:00:00"}
    exif[0x8825] = {1: "N"}
    Image.fromarray(textured_rgb(20, 30)).save(tmp_path / "scan.jpg", exif=exif.tobytes())
    loaded = load_image(tmp_path / "scan.jpg")
    deep = loaded.rgb.astype(np.uint16) * 257
    with caplog.at_level(logging.WARNING, logger="rehue.data.images"):
        out = save_image(deep, tmp_path / "out.tif", exif=loaded.exif)
        save_image(deep, tmp_path / "out.png", exif=loaded.exif)
        save_image(deep, tmp_path / "frame.tif", exif=loaded.exif, fast=True)  # a film's, said of by the film
        again = save_image(deep, tmp_path / "again.tif", exif=loaded.exif)  # probe 208: a server's next call
    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: a 16-bit TIFF keeps the EXIF's text tags but not its Exif and GPS blocks (the date taken, the "
        "exposure, the place); they are left out: write .png to keep them at 16 bits" for path in (out, again)]
    assert Image.open(out).getexif().get(0x013B) == "A. Archivist"


def test_a_batch_of_16_bit_tiffs_says_the_exif_blocks_left_out_once_and_counts_the_others(tmp_path, tiny_model,
                                                                                        capsys):
    """Probe 94: a batch said it for each file; probe 208: said once a folder for the process instead, a
    server's later calls into the folder lost the date taken without a word."""
    from rehue.cli import main

    exif = Image.Exif()
    exif[0x8769] = {0x9003: "1931:05:01 10:00:00"}
    (tmp_path / "scans").mkdir()
    for number in range(3):
        deep = (textured_rgb(20, 30, seed=number)[..., 0].astype(np.uint16) * 257)
        Image.fromarray(deep).save(tmp_path / "scans" / f"scan{number}.png", exif=exif.tobytes())
    for run in range(2):
        assert main(["colorize", str(tmp_path / "scans"), "-o", str(tmp_path / "out"), "--ext", ".tif", "--model",
                     str(tiny_model), "--no-progress", "--overwrite"]) == 0
        warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
        assert warned == [
            f"warning: {tmp_path / 'out' / 'scan0.tif'}: a 16-bit TIFF keeps the EXIF's text tags but not its Exif "
            "block (the date taken, the exposure); they are left out: write .png to keep them at 16 bits",
            f"warning: {tmp_path / 'scans' / 'scan1.png'} and 1 more file: the same warning as "
            f"{tmp_path / 'out' / 'scan0.tif'}'s above (a 16-bit TIFF keeps the EXIF's text tags but...)"], run  # the
        # path the line above named (probe 237: its input's)


def test_tiff_layout_tags_are_not_carried_over(tmp_path):
    from rehue.data.images import EXIF_KEPT

    Image.fromarray(textured_rgb(20, 30)).save(tmp_path / "scan.tif", dpi=(300, 300), compression="tiff_lzw")
    loaded = load_image(tmp_path / "scan.tif")
    assert loaded.dpi == (300, 300)
    assert loaded.exif is None or set(loaded.exif) <= set(EXIF_KEPT) | {0x8769, 0x8825}
    out = save_image(loaded.rgb, tmp_path / "out.jpg", dpi=loaded.dpi, exif=loaded.exif)
    assert np.asarray(Image.open(out)).shape == (20, 30, 3)


def test_fast_png_has_the_same_pixels(tmp_path):
    rgb = textured_rgb(120, 160, seed=4)
    slow = save_image(rgb, tmp_path / "slow.png")
    fast = save_image(rgb, tmp_path / "fast.png", fast=True)
    assert np.array_equal(np.asarray(Image.open(fast)), np.asarray(Image.open(slow)))
    assert fast.stat().st_size > slow.stat().st_size, "zlib level 1 packs less tightly than the default"


def test_too_wide_for_webp_is_a_clear_error(tmp_path):
    wide = np.zeros((2, 17000, 3), np.uint8)
    with pytest.raises(RehueError, match="WEBP holds at most 16383 pixels a side"):
        save_image(wide, tmp_path / "wide.webp")
    assert list(tmp_path.iterdir()) == []
    assert save_image(wide, tmp_path / "wide.png").is_file()
    # probe 216: libjpeg stops at 65,500, under the format's 65,535: "cannot write image (broken data stream ...)"
    with pytest.raises(RehueError, match="JPEG holds at most 65500 pixels a side and this image is 65501x1"):
        save_image(np.zeros((1, 65501, 3), np.uint8), tmp_path / "wide.jpg")
    assert save_image(np.zeros((1, 65500, 3), np.uint8), tmp_path / "widest.jpg").is_file()


def test_folder_walks_pass_over_hidden_files_and_folders(tmp_path):
    from rehue.data.images import iter_image_files, iter_video_files

    for name in ("clip.mp4", "._clip.mp4", ".cache/old.mp4", "sub/b.mkv", "a.png", "._a.png", ".thumbs/a.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_video_files(tmp_path)] == ["clip.mp4", "sub/b.mkv"]
    assert [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path)] == ["a.png"]


def test_eight_bit_levels_of_wide_integers_clip_instead_of_wrapping():
    from rehue.data.images import to_uint8

    assert to_uint8(np.array([0, 70000, 65535, -300], np.int64)).tolist() == [0, 255, 255, 0]
    assert to_uint8(np.array([0, 257, 65535], np.uint16)).tolist() == [0, 1, 255]
    assert to_uint8(np.array([-5, 100, 255], np.int16)).tolist() == [0, 100, 255]


def test_tifffiles_note_of_the_array_shape_is_no_description_to_keep(tmp_path):
    """tifffile writes ``{"shape": [H, W]}`` as the ImageDescription of every TIFF it makes; before, that
    was carried into the coloured picture's EXIF as if a person had described the photo."""
    import tifffile

    gray = (textured_rgb(30, 40)[..., 0].astype(np.uint16) * 257)
    tifffile.imwrite(tmp_path / "noted.tif", gray)
    tifffile.imwrite(tmp_path / "described.tif", gray, description="Harbour, 1920", metadata=None)
    for name, kept in (("noted", None), ("described", "Harbour, 1920")):
        loaded = load_image(tmp_path / f"{name}.tif")
        save_image(loaded.rgb, tmp_path / f"{name}.png", exif=loaded.exif)
        assert Image.open(tmp_path / f"{name}.png").getexif().get(0x010E) == kept, name


def _scan_ramp16() -> np.ndarray:
    """A 16-bit gray scan, upright, with a dark block that shows which way up it is."""
    rows, cols = np.mgrid[0:60, 0:80]
    ramp = ((cols / 80 * 0.7 + rows / 60 * 0.3) * 65535).astype(np.uint16)
    ramp[15:30, 20:40] = 30 * 257
    return ramp


@pytest.mark.parametrize("layout", ["uncompressed, turned (orientation 5-8)", "16-bit RGB turned",
                                    "16-bit RGB planar", "16-bit MinIsWhite", "palette turned", "CMYK turned",
                                    "gray and alpha planar"])
def test_tiff_layouts_pillow_misreads_come_out_upright_and_at_their_depth(tmp_path, layout):
    """Before, Pillow's reading was taken as it came: an uncompressed TIFF with Orientation 5-8 came out
    sideways and scrambled, a planar 16-bit RGB scan as noise, a 16-bit MinIsWhite scan as a negative,
    and a turned 16-bit RGB scan at 8 bits, each with exit 0."""
    import tifffile
    from PIL import TiffImagePlugin

    picture16 = _scan_ramp16()
    picture8 = (picture16 // 257).astype(np.uint8)
    path = tmp_path / "scan.tif"
    if layout.startswith("uncompressed"):
        for orientation, turned in ((5, picture8.T), (6, np.rot90(picture8, 1)), (7, np.rot90(picture8, 2).T),
                                    (8, np.rot90(picture8, -1))):
            tags = TiffImagePlugin.ImageFileDirectory_v2()
            tags[274] = orientation
            Image.fromarray(np.ascontiguousarray(turned)).save(path, tiffinfo=tags)
            assert np.abs(load_image(path).rgb[..., 0].astype(int) - picture8).max() <= 1, orientation
        return
    if layout in ("palette turned", "CMYK turned", "gray and alpha planar"):
        turned = np.rot90(picture8, 1)
        if layout == "palette turned":
            levels = np.arange(256, dtype=np.uint16) * 257
            tifffile.imwrite(path, turned, photometric="palette", colormap=np.stack([levels] * 3),
                             extratags=[(274, "H", 1, 6, True)])
        elif layout == "CMYK turned":
            ink = np.dstack([np.zeros_like(turned)] * 3 + [255 - turned])
            tifffile.imwrite(path, ink, photometric="separated", extratags=[(274, "H", 1, 6, True)])
        else:
            tifffile.imwrite(path, np.stack([picture8, np.full_like(picture8, 200)]), photometric="minisblack",
                             planarconfig="separate", extrasamples=["unassalpha"])
        loaded = load_image(path)
        assert np.abs(loaded.rgb[..., 0].astype(int) - picture8).max() <= 2, "upright, its levels right"
        return
    if layout == "16-bit RGB turned":
        tifffile.imwrite(path, np.dstack([np.rot90(picture16, 1)] * 3), photometric="rgb", compression="zlib",
                         extratags=[(274, "H", 1, 6, True)])
    elif layout == "16-bit RGB planar":
        tifffile.imwrite(path, np.stack([picture16] * 3), photometric="rgb", planarconfig="separate")
    else:
        tifffile.imwrite(path, 65535 - picture16, photometric="miniswhite")
    loaded = load_image(path)
    assert loaded.deep_gray is not None and np.array_equal(loaded.deep_gray, picture16), "every 16-bit level kept"
    assert np.abs(loaded.rgb[..., 0].astype(int) - picture16 / 257).max() <= 1 and loaded.is_gray


def _fixed(x: float) -> bytes:
    import struct

    return struct.pack(">i", round(x * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _fixed(x) + _fixed(y) + _fixed(z)


def _gamma_curve(gamma: float) -> bytes:
    import struct

    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)


def icc_profile(colour_space: bytes, name: str, tags: list[tuple[bytes, bytes]]) -> bytes:
    """A minimal ICC v2 display profile of ``colour_space`` (b"GRAY", b"RGB "): a description, the D50
    white point and ``tags``."""
    import struct

    description = name.encode() + b"\0"
    tags = [(b"desc", b"desc" + bytes(4) + struct.pack(">I", len(description)) + description + bytes(79)),
            (b"wtpt", _xyz(0.9642, 1.0, 0.8249)), *tags]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntr" + colour_space
              + b"XYZ " + bytes(12) + b"acspAPPL" + bytes(24) + _xyz(0.9642, 1.0, 0.8249)[8:] + b"lcms" + bytes(44))
    return header + body


def gray_icc_profile(gamma: float, name: str) -> bytes:
    """A gray profile of one gamma curve."""
    return icc_profile(b"GRAY", name, [(b"kTRC", _gamma_curve(gamma))])


def test_a_colour_profile_gives_the_tones_a_colour_managed_viewer_shows(tmp_path):
    """Before, a scan tagged with a gray profile other than sRGB's (here linear gray) was read as if its
    numbers were sRGB's: mean level 126 where a colour-managed viewer shows 181."""
    levels = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    profile = gray_icc_profile(1.0, "Linear Gray (gamma 1.0)")
    turned = Image.fromarray(np.ascontiguousarray(np.rot90(levels, 1)))
    exif = turned.getexif()
    exif[0x0112] = 6
    turned.save(tmp_path / "scan.png", icc_profile=profile, exif=exif)
    loaded = load_image(tmp_path / "scan.png")
    linear = levels / 255.0
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055) * 255
    assert loaded.is_gray and loaded.rgb.shape == (48, 64, 3), "upright, and gray"
    error = np.abs(loaded.rgb[..., 0] - srgb)
    assert error.mean() < 1 and error.max() < 10, "as sRGB shows them (8-bit colour management: the deepest shadow)"
    Image.fromarray(levels).save(tmp_path / "untagged.png")
    assert np.array_equal(load_image(tmp_path / "untagged.png").rgb[..., 0], levels), "no profile: sRGB's numbers"
    import tifffile

    tifffile.imwrite(tmp_path / "scan.tif", np.rot90(levels, 1), iccprofile=profile,
                     extratags=[(274, "H", 1, 6, True)])  # a layout read with tifffile, not Pillow
    assert np.array_equal(load_image(tmp_path / "scan.tif").rgb, loaded.rgb), "the profile applies there too"


def test_a_colour_profile_is_told_from_srgb_by_what_it_does_not_its_name(tmp_path, caplog):
    """Probe 143: a profile whose name held "sRGB" was taken for sRGB's, so GIMP's "GIMP built-in Linear sRGB" (a
    linear one) came out at mean L* 50.9 where a colour-managed viewer shows 71.5, 8-bit and 16-bit alike."""
    import struct

    import tifffile

    primaries = [(b"rXYZ", _xyz(0.4361, 0.2225, 0.0139)), (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)),
                 (b"bXYZ", _xyz(0.1431, 0.0606, 0.7141))]

    def rgb_profile(name, curve):
        return icc_profile(b"RGB ", name, [*primaries, *((channel, curve) for channel in (b"rTRC", b"gTRC", b"bTRC"))])

    srgb_curve = b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(
        struct.pack(">i", round(value * 65536)) for value in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    ramp = np.tile(np.linspace(10, 240, 200).astype(np.uint8), (100, 1))
    picture = Image.fromarray(np.dstack([ramp, ramp // 2 + 60, 250 - ramp]))
    means = {}
    for name, curve in (("Linear RGB", _gamma_curve(1.0)), ("GIMP built-in Linear sRGB", _gamma_curve(1.0)),
                        ("My display", srgb_curve)):
        picture.save(tmp_path / f"{name}.png", icc_profile=rgb_profile(name, curve))
        means[name] = load_image(tmp_path / f"{name}.png").rgb.astype(np.float64)
        deep = (np.asarray(picture).astype(np.uint16) * 257)
        tifffile.imwrite(tmp_path / f"{name}.tif", deep, photometric="rgb", iccprofile=rgb_profile(name, curve))
        means[name + " 16"] = load_image(tmp_path / f"{name}.tif").deep_gray.astype(np.float64)
    assert np.abs(means["GIMP built-in Linear sRGB"] - means["Linear RGB"]).max() <= 1
    assert means["Linear RGB"].mean() > np.asarray(picture).mean() + 30, "linear numbers shown lighter"
    assert np.abs(means["GIMP built-in Linear sRGB 16"] - means["Linear RGB 16"]).max() < 1e-3
    assert np.array_equal(means["My display"], np.asarray(picture)), "an sRGB profile of another name: as they are"
    assert not [record for record in caplog.records if "profile" in record.getMessage()]
    from rehue.data.images import in_srgb

    held = picture.copy()  # probe 145: a profile a program holds as a bytearray was "unhashable type"
    held.info["icc_profile"] = bytearray(rgb_profile("Linear RGB", _gamma_curve(1.0)))
    assert np.abs(np.asarray(in_srgb(held, None), np.float64) - means["Linear RGB"]).max() <= 1
    # probe 143: a palette picture's profile was "not applied to P samples", its numbers read as sRGB's
    for transparency in (None, 0):
        palette = picture.quantize(64)
        palette.save(tmp_path / "palette.png", icc_profile=rgb_profile("Linear RGB", _gamma_curve(1.0)),
                     **({} if transparency is None else {"transparency": transparency}))
        loaded = load_image(tmp_path / "palette.png")
        assert abs(loaded.rgb.mean() - means["Linear RGB"].mean()) < 3
        assert (loaded.alpha is None) == (transparency is None)
    assert not [record for record in caplog.records if "profile" in record.getMessage()]


def test_a_sixteen_bit_gray_scans_profile_is_applied_at_sixteen_bits(tmp_path, caplog):
    """Before, a 16-bit gray scan's profile (Photoshop tags gray scans "Dot Gain 20%") was not applied,
    with a warning: its numbers were read as sRGB's, lighter or darker than the scan shows."""
    import logging

    import tifffile

    levels = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1))
    profile = gray_icc_profile(1.0, "Linear Gray (gamma 1.0)")
    linear = levels / 65535.0
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055) * 65535
    Image.fromarray(levels).save(tmp_path / "scan.png", icc_profile=profile)
    tifffile.imwrite(tmp_path / "scan.tif", np.ascontiguousarray(np.rot90(levels, 1)), iccprofile=profile,
                     extratags=[(274, "H", 1, 6, True)])  # a layout read with tifffile, not Pillow
    with caplog.at_level(logging.WARNING, logger="rehue"):
        for name in ("scan.png", "scan.tif"):
            loaded = load_image(tmp_path / name)
            assert loaded.deep_gray.shape == (48, 64) and np.abs(loaded.deep_gray - srgb).max() <= 1, name
            assert np.abs(loaded.rgb[..., 0] - srgb / 257).max() <= 0.5 + 1e-9, name
        # probe 215: a float scan's was "not applied to F samples", its L* up to 3.3 off
        tifffile.imwrite(tmp_path / "float.tif", (levels / 65535.0).astype(np.float32), iccprofile=profile)
        loaded = load_image(tmp_path / "float.tif")
        assert loaded.deep_gray.shape == (48, 64) and np.abs(loaded.deep_gray - srgb).max() <= 1
        # probe 216: 32-bit integers of 8-bit levels, read as 8-bit untagged, were read as 16-bit ones: black
        eight = np.round(levels / 257.0).astype(np.int32)
        Image.fromarray(eight, "I").save(tmp_path / "int.tif", icc_profile=profile)
        linear8 = eight / 255.0
        srgb8 = np.where(linear8 <= 0.0031308, 12.92 * linear8, 1.055 * linear8 ** (1 / 2.4) - 0.055) * 65535
        assert np.abs(load_image(tmp_path / "int.tif").deep_gray - srgb8).max() <= 1
    assert caplog.records == []
    rgb16 = np.repeat(levels[..., None], 3, axis=2)
    tifffile.imwrite(tmp_path / "colour.tif", rgb16, photometric="rgb", iccprofile=profile)
    with caplog.at_level(logging.WARNING, logger="rehue"):
        load_image(tmp_path / "colour.tif")
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'colour.tif'}: its colour profile (Linear Gray (gamma 1.0)) is not applied to 16-bit samples; "
        "its numbers are read as sRGB's"]


def rgb_icc_profile(name: str) -> bytes:
    """An RGB profile of linear light: sRGB's primaries (adapted to D50) and a gamma of 1.0 for each
    channel, as a linear scan's profile is."""
    return icc_profile(b"RGB ", name, [
        (b"rXYZ", _xyz(0.4361, 0.2225, 0.0139)), (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", _xyz(0.1431, 0.0606, 0.7141)), *((tag, _gamma_curve(1.0)) for tag in (b"rTRC", b"gTRC", b"bTRC"))])


def test_a_sixteen_bit_colour_scans_profile_gives_its_gray_at_sixteen_bits(tmp_path, caplog):
    """Before, a 16-bit RGB scan's profile (here linear RGB) was not applied, with a warning: its gray was
    read from its numbers as if they were sRGB's, far too dark."""
    import logging

    import tifffile

    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, (48, 64, 3), dtype=np.uint16)
    rgb16[:, :8] = np.linspace(0, 65535, 48).astype(np.uint16)[:, None, None]  # neutral steps: a gray print
    profile = rgb_icc_profile("Linear RGB")
    luminance = (rgb16 / 65535.0) @ np.array([0.2225, 0.7169, 0.0606])
    expected = np.where(luminance <= 0.0031308, 12.92 * luminance, 1.055 * luminance ** (1 / 2.4) - 0.055) * 65535
    tifffile.imwrite(tmp_path / "scan.tif", rgb16, photometric="rgb", iccprofile=profile)
    tifffile.imwrite(tmp_path / "turned.tif", np.ascontiguousarray(np.rot90(rgb16, 1)), photometric="rgb",
                     iccprofile=profile, extratags=[(274, "H", 1, 6, True)])  # read with tifffile, not Pillow
    with caplog.at_level(logging.WARNING, logger="rehue"):
        for name in ("scan.tif", "turned.tif"):
            loaded = load_image(tmp_path / name)
            assert np.abs(loaded.deep_gray - expected).max() <= 2, name
            error = np.abs(loaded.rgb[:, :8, 0] - expected[:, :8] / 257)  # the 8-bit view of the neutral steps
            assert error.mean() < 1 and error.max() < 10, "8-bit colour management: off in the deepest shadow"
    assert caplog.records == []


XMP_PACKET = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>City Archive</dc:creator>'
              b'</rdf:Description></rdf:RDF></x:xmpmeta>')


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif", "16-bit.png", "16-bit.tif"])
def test_xmp_and_a_pngs_text_are_kept(tmp_path, suffix):
    """Before, an archive's XMP (captions, credits, keywords) and a PNG's Title and Author were dropped."""
    from PIL import PngImagePlugin

    chunks = PngImagePlugin.PngInfo()
    chunks.add_text("Title", "Harbour, 1952")
    chunks.add_itxt("Author", "Studio Hafenbär")
    chunks.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    Image.fromarray(textured_rgb(20, 30)[..., 0]).save(tmp_path / "in.png", pnginfo=chunks)
    loaded = load_image(tmp_path / "in.png")
    assert loaded.xmp == XMP_PACKET and loaded.text == {"Title": "Harbour, 1952", "Author": "Studio Hafenbär"}
    rgb = loaded.rgb.astype(np.uint16) * 257 if suffix.startswith("16") else loaded.rgb
    out = save_image(rgb, tmp_path / f"out.{suffix.split('.')[-1]}", xmp=loaded.xmp, text=loaded.text)
    back = load_image(out)
    assert back.xmp == XMP_PACKET
    if out.suffix == ".png":
        assert back.text == loaded.text


@pytest.mark.parametrize("written", ["Scanned at the Stadtarchiv, Gärten 1934".encode("latin-1"),
                                     "Scan — Überlingen".encode()])
def test_a_jpegs_comment_is_kept_into_jpeg_and_png_and_a_pngs_comment_into_jpeg(tmp_path, written, caplog):
    """Before, a scanner's or an archive's JPEG comment was dropped from every output."""
    gray = textured_rgb(20, 30)[..., 0]
    Image.fromarray(gray).save(tmp_path / "in.jpg", comment=written)
    loaded = load_image(tmp_path / "in.jpg")
    comment = written.decode("utf-8" if "Ü".encode() in written else "latin-1")
    assert loaded.text == {"Comment": comment}
    with Image.open(save_image(loaded.rgb, tmp_path / "out.jpg", text=loaded.text)) as jpeg:
        assert jpeg.info["comment"] == comment.encode("utf-8")
    png = load_image(save_image(loaded.rgb, tmp_path / "out.png", text=loaded.text))
    assert png.text == {"Comment": comment}
    with Image.open(save_image(png.rgb, tmp_path / "again.jpg", text=png.text)) as jpeg:
        assert jpeg.info["comment"] == comment.encode("utf-8")
    with caplog.at_level(logging.WARNING, logger="rehue.data.images"):
        save_image(loaded.rgb, tmp_path / "long.jpg", text={"Comment": "x" * 70_000, "Title": "Harbour"})
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'long.jpg'}: the comment (70000 bytes) is longer than a JPEG comment segment holds (65533); "
        "it is left out: write .png to keep it"]
    with Image.open(tmp_path / "long.jpg") as jpeg:
        assert "comment" not in jpeg.info


def test_a_jpegs_comments_are_kept_a_line_each_and_binary_ones_left_out(tmp_path):
    """Probe 100: of two comment segments only the last was kept (Pillow's), and one of binary data went into a
    PNG's text with its NULs and control bytes, which PNG's text may not hold."""
    import struct

    def segment(value: bytes) -> bytes:
        return b"\xff\xfe" + struct.pack(">H", len(value) + 2) + value

    plain = io.BytesIO()
    Image.fromarray(textured_rgb(20, 30)[..., 0]).save(plain, "JPEG")
    data = plain.getvalue()
    (tmp_path / "two.jpg").write_bytes(data[:2] + segment(b"Reel 4, box 12") + segment("Gärten".encode("latin-1"))
                                       + segment(bytes(range(256))) + segment(b"   ") + data[2:])
    assert load_image(tmp_path / "two.jpg").text == {"Comment": "Reel 4, box 12\nGärten"}
    (tmp_path / "binary.jpg").write_bytes(data[:2] + segment(bytes(range(256))) + data[2:])
    assert load_image(tmp_path / "binary.jpg").text is None


def test_a_kept_xmp_says_srgb_and_leaves_out_the_inputs_profile_mode_and_size(tmp_path, capsys):
    """Probe 215: as stop 54 did for EXIF; the XMP of a side-by-side JPEG 128 wide, untagged sRGB, still said
    "Dot Gain 20%", grayscale, ColorSpace 65535 and 64x16."""
    from rehue.cli import main
    from tests.conftest import make_tiny_model

    described = (b' photoshop:ICCProfile="Dot Gain 20%" photoshop:ColorMode="1" exif:ColorSpace="65535" '
                 b'exif:PixelXDimension="64" exif:PixelYDimension="16" tiff:ImageWidth="64" tiff:ImageLength="16" ')
    packet = XMP_PACKET.replace(b"<rdf:Description ", b"<rdf:Description" + described).replace(
        b"</rdf:Description>", b"<photoshop:ICCProfile>Adobe RGB (1998)</photoshop:ICCProfile><tiff:BitsPerSample>"
        b"<rdf:Seq><rdf:li>8</rdf:li></rdf:Seq></tiff:BitsPerSample><exif:ColorSpace>2</exif:ColorSpace>"
        b"<tiff:ImageWidth/></rdf:Description>")
    Image.fromarray(np.tile(np.arange(0, 256, 4, dtype=np.uint8), (16, 1))).save(tmp_path / "x.jpg", xmp=packet)
    assert main(["colorize", str(tmp_path / "x.jpg"), "-o", str(tmp_path / "sbs.jpg"), "--side-by-side", "--model",
                 str(make_tiny_model(tmp_path / "m.safetensors")), "-q"]) == 0
    with Image.open(tmp_path / "sbs.jpg") as written:
        kept = written.info["xmp"]
        assert written.size == (128, 16) and "icc_profile" not in written.info
    for gone in (b"ICCProfile", b"ColorMode", b"Dimension", b"ImageWidth", b"ImageLength", b"BitsPerSample",
                 b"65535", b"Dot Gain", b"Adobe RGB"):
        assert gone not in kept, (gone, kept)
    assert b'exif:ColorSpace="1"' in kept and b"<exif:ColorSpace>1</exif:ColorSpace>" in kept
    assert b"<dc:creator>City Archive</dc:creator>" in kept and kept.endswith(b"</rdf:RDF></x:xmpmeta>")


def test_a_kept_xmp_stays_well_formed_and_keeps_the_users_own_properties():
    """Probe 216: an empty element with attributes took the user's keywords after it with it, a comment naming a
    property was cut open, a schema under another prefix kept its profile name, and a packet's padding was read in
    time of its square (34 s for 60 KB)."""
    import xml.etree.ElementTree as ElementTree

    from rehue.data.images import upright_xmp

    head = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
            b'xmlns:ps="http://ns.adobe.com/photoshop/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"')
    packet = (head + b' ps:ICCProfile="Dot Gain 20%" ps:ColorMode="1" tiff:Orientation="6">'
              b'<!-- <tiff:ImageWidth> as scanned --><tiff:ImageWidth rdf:resource="x"/>'
              b'<dc:subject><rdf:Bag><rdf:li>keep</rdf:li></rdf:Bag></dc:subject><tiff:ImageWidth>64</tiff:ImageWidth>'
              b'<ps:ICCProfileName>mine</ps:ICCProfileName><![CDATA[ <tiff:ImageLength> ]]>'
              b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    kept = upright_xmp(packet)
    ElementTree.fromstring(kept)
    assert b"Dot Gain" not in kept and b"ColorMode" not in kept and b"ImageWidth" not in kept.split(b"-->")[1]
    for own in (b"<rdf:li>keep</rdf:li>", b"<ps:ICCProfileName>mine</ps:ICCProfileName>",
                b"<!-- <tiff:ImageWidth> as scanned -->", b"<![CDATA[ <tiff:ImageLength> ]]>", b'tiff:Orientation="1"'):
        assert own in kept, own
    padded = head + b"/></rdf:RDF></x:xmpmeta>" + (b"\n" + b" " * 99) * 600
    assert upright_xmp(padded) == padded, "padding kept as it is"
    # probe 218: a second prefix of the tiff schema kept its Orientation 6; a prefix ending in "tiff", or "exif"
    # declared for another schema, had its properties rewritten
    others = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" t:ImageWidth="64"/>'
              b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
              b'<rdf:Description xmlns:exif="urn:mine"><exif:ColorSpace>2</exif:ColorSpace></rdf:Description>'
              b'<rdf:Description xmlns:mytiff="urn:mine"><mytiff:Orientation>6</mytiff:Orientation></rdf:Description>'
              b'</rdf:RDF></x:xmpmeta>')
    kept = upright_xmp(others)
    ElementTree.fromstring(kept)
    assert b"ImageWidth" not in kept and b'tiff:Orientation="1"' in kept
    assert b"<exif:ColorSpace>2</exif:ColorSpace>" in kept and b"<mytiff:Orientation>6</mytiff:Orientation>" in kept
    # probe 220: schemas' URIs without their slash left no prefix, and every number after a ">" became 1; one
    # prefix declared for two schemas; a processing instruction and a value in CDATA
    wrapped = others[:others.index(b"<rdf:Description")] + b"%s" + b"</rdf:RDF></x:xmpmeta>"
    for packet, wanted in (
            (b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
             b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">5 cats</rdf:li></rdf:Alt></dc:title></rdf:Description>',
             None),
            (b'<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" t:Orientation="6"/><rdf:Description '
             b'xmlns:t="urn:mine" t:Orientation="3" t:ImageWidth="77"/>',
             b'<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" t:Orientation="1"/><rdf:Description '
             b'xmlns:t="urn:mine" t:Orientation="3" t:ImageWidth="77"/>'),
            (b'<?foo tiff:ImageWidth="5"?><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/"><tiff:ImageWidth>'
             b'<![CDATA[64]]></tiff:ImageWidth></rdf:Description>',
             b'<?foo tiff:ImageWidth="5"?><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/"></rdf:Description>')):
        assert upright_xmp(wrapped % packet) == wrapped % (wanted or packet)
    hostile = wrapped % (b"<!---->" * 140_000)  # 38.6 s before (probe 220), in one pass now
    assert upright_xmp(hostile) == hostile
    # probe 222: a TIFF tag's closing NUL, or a Latin-1 caption, made the packet no XML, and only its orientation
    # was rewritten
    described = wrapped % (b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:dc="urn:dc" '
                           b'dc:caption="G\xe4rten" tiff:ImageWidth="64"/>')
    for packet in (described + b"\0", b"\xef\xbb\xbf" + described):
        assert upright_xmp(packet) == packet.replace(b' tiff:ImageWidth="64"', b"")


def test_an_orientation_in_xmp_is_read_by_its_schema_not_from_a_comment(tmp_path):
    """Probe 220: Pillow's pattern (and rehue's beside it) took "tiff:Orientation=\"6\"" in a comment, or of another
    schema, and turned the picture, and missed one under another prefix or in single quotes (which the output's
    XMP then set to 1: the turn lost)."""
    from rehue.data.images import _xmp_walk

    def xmp_orientation(packet: bytes | None) -> int | None:
        """The orientation a packet's ``tiff:Orientation`` states, known by its schema (None: none, or no XML)."""
        walk = _xmp_walk(packet) if packet else None
        return walk.orientation if walk else None

    def xmp(description: bytes) -> bytes:
        return (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                + description + b"</rdf:RDF></x:xmpmeta>")

    stored = Image.fromarray(np.zeros((48, 64), np.uint8))
    for name, description, size in (
            ("comment", b'<!-- was tiff:Orientation="6" --><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
                        b'tiff:Orientation="1"/>', (64, 48)),
            ("other", b'<rdf:Description xmlns:tiff="urn:mine" tiff:Orientation="6"/>', (64, 48)),
            ("prefix", b'<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/"><t:Orientation>6</t:Orientation>'
                       b'</rdf:Description>', (48, 64)),
            ("quotes", b"<rdf:Description xmlns:tiff='http://ns.adobe.com/tiff/1.0/' tiff:Orientation='6'/>",
             (48, 64))):
        stored.save(tmp_path / f"{name}.jpg", xmp=xmp(description))
        # probe 222: with a colour profile, the converted copy read the XMP again by Pillow's pattern
        stored.save(tmp_path / f"{name}-profiled.jpg", xmp=xmp(description),
                    icc_profile=gray_icc_profile(1.0, "Linear Gray"))
        for variant in (name, f"{name}-profiled"):
            loaded = load_image(tmp_path / f"{variant}.jpg")
            assert loaded.rgb.shape[1::-1] == size, variant
            assert xmp_orientation(loaded.xmp) in (None, 1), variant  # the output's XMP says upright, as its pixels
        # probe 222: a PNG's EXIF in ImageMagick's "Raw profile type exif" text chunk, as an eXIf chunk
        from PIL import PngImagePlugin

        exif = Image.Exif()
        exif[0x010F] = "Camera"
        block = (b"Exif\0\0" + exif.tobytes()).hex()
        chunks = PngImagePlugin.PngInfo()
        chunks.add_itxt("XML:com.adobe.xmp", xmp(description).decode())
        chunks.add_text("Raw profile type exif", f"\nexif\n{len(block) // 2:8d}\n{block}\n")
        stored.save(tmp_path / f"{name}.png", pnginfo=chunks)
        assert load_image(tmp_path / f"{name}.png").rgb.shape[1::-1] == size, f"{name}.png"
    exif[0x0112] = 6  # probe 223: such a chunk's orientation lost to the XMP's 3
    block = (b"Exif\0\0" + exif.tobytes()).hex()
    chunks = PngImagePlugin.PngInfo()
    chunks.add_itxt("XML:com.adobe.xmp", xmp(b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
                                             b'tiff:Orientation="3"/>').decode())
    chunks.add_text("Raw profile type exif", f"\nexif\n{len(block) // 2:8d}\n{block}\n")
    stored.save(tmp_path / "both.png", pnginfo=chunks)
    assert load_image(tmp_path / "both.png").rgb.shape[1::-1] == (48, 64), "the EXIF's 6, not the XMP's 3"


def test_a_kept_xmp_says_upright_and_one_too_large_for_jpeg_is_left_out_with_a_warning(tmp_path, caplog):
    """Before, the copied XMP still said Orientation 6 after the pixels were turned upright, so XMP-aware
    readers turned them again; and a packet over 64 KB stopped a JPEG output (and its batch) with a traceback."""
    import logging

    stored = np.ascontiguousarray(np.rot90(textured_rgb(20, 30)[..., 0], 1))
    phone = Image.fromarray(stored)
    exif = phone.getexif()
    exif[0x0112] = 6
    packet = XMP_PACKET.replace(b"<rdf:Description ", b'<rdf:Description tiff:Orientation="6" ')
    phone.save(tmp_path / "phone.jpg", exif=exif, xmp=packet)
    loaded = load_image(tmp_path / "phone.jpg")
    assert b'tiff:Orientation="1"' in loaded.xmp and b"City Archive" in loaded.xmp
    quoted = XMP_PACKET.replace(b"<rdf:Description ", b"<rdf:Description tiff:Orientation = '6' ")
    phone.save(tmp_path / "quoted.jpg", exif=exif, xmp=quoted)  # probe 93: single quotes, as XML allows
    assert b"tiff:Orientation = '1'" in load_image(tmp_path / "quoted.jpg").xmp
    save_image(loaded.rgb, tmp_path / "out.jpg", exif=loaded.exif, xmp=loaded.xmp)
    with Image.open(tmp_path / "out.jpg") as written:
        from PIL import ImageOps

        assert ImageOps.exif_transpose(written).size == (30, 20), "shown upright by an XMP-aware reader"
    caption = XMP_PACKET.replace(b"City Archive", b"x" * 70_000)
    with caplog.at_level(logging.WARNING, logger="rehue.data.images"):
        save_image(loaded.rgb, tmp_path / "big.jpg", xmp=caption)
        save_image(loaded.rgb, tmp_path / "big.png", xmp=caption)
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'big.jpg'}: the XMP packet ({len(caption)} bytes) is larger than a JPEG holds (65502); it is "
        "left out: write .png or .tif to keep it"]
    assert load_image(tmp_path / "big.jpg").xmp is None and load_image(tmp_path / "big.png").xmp == caption


def test_a_file_another_run_wrote_meanwhile_is_kept_unless_overwrite(tmp_path, monkeypatch):
    """Before, two runs into one folder replaced each other's outputs without --overwrite: each checked
    that the name was free, then renamed its finished file over whatever had appeared there since."""
    from rehue.data import images

    target = tmp_path / "out.png"
    real_write = images._write_pillow

    def slow_write(rgb, path, *args):  # another run finishes this output while this one encodes
        Image.new("RGB", (2, 2), (255, 0, 0)).save(target)
        real_write(rgb, path, *args)

    monkeypatch.setattr(images, "_write_pillow", slow_write)
    with pytest.raises(RehueError, match="another run wrote it meanwhile"):
        save_image(textured_rgb(20, 30), target, overwrite=False)
    assert Image.open(target).size == (2, 2), "the other run's file is kept"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"], "and no temporary file is left"
    save_image(textured_rgb(20, 30), target, overwrite=True)
    assert Image.open(target).size == (30, 20)


def test_reading_on_several_threads_leaves_the_warning_filters_as_they_were():
    """Pillow's size check is turned into an error while a file opens; threads must not leave that on."""
    import threading
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    png = io.BytesIO()
    Image.fromarray(textured_rgb(16, 16)).save(png, "PNG")
    filters = list(warnings.filters)
    start = threading.Barrier(4)

    def read(_):
        start.wait()
        return [load_image(png.getvalue()).rgb.shape for _ in range(50)]

    with ThreadPoolExecutor(4) as pool:
        shapes = {shape for shapes in pool.map(read, range(4)) for shape in shapes}
    assert shapes == {(16, 16, 3)}
    assert warnings.filters == filters


def test_a_pil_lab_image_is_read_as_its_colours_without_a_profile_warning(caplog):
    """Pillow tags every LAB image with a built-in Lab profile, which was reported as "not applied; its
    numbers are read as sRGB's" although Pillow converts the image to sRGB right."""
    from rehue.data.images import in_srgb, pil_to_loaded

    rgb = textured_rgb(16, 24)
    lab_image = Image.fromarray(rgb).convert("LAB")
    with caplog.at_level(logging.WARNING, logger="rehue"):
        loaded = pil_to_loaded(in_srgb(lab_image, None))
    assert caplog.records == []
    assert np.abs(loaded.rgb.astype(int) - rgb).mean() < 1  # Pillow's 8-bit Lab round trip


def test_a_files_kind_comes_from_its_first_bytes_where_they_say_and_from_its_extension_where_not(tmp_path):
    from rehue.data.images import media_kind
    from tests.helpers_video import make_clip, textured_frames

    picture = Image.fromarray(textured_rgb(16, 24))
    for fmt, ext in (("PNG", ".png"), ("JPEG", ".jpg"), ("GIF", ".gif"), ("TIFF", ".tif"), ("WEBP", ".webp"),
                     ("BMP", ".bmp"), ("PPM", ".ppm")):
        picture.save(tmp_path / f"real{ext}", format=fmt)
        (tmp_path / f"noext-{fmt}").write_bytes((tmp_path / f"real{ext}").read_bytes())
        (tmp_path / f"{fmt}.mp4").write_bytes((tmp_path / f"real{ext}").read_bytes())
        assert media_kind(tmp_path / f"real{ext}") == "image", fmt
        assert media_kind(tmp_path / f"noext-{fmt}") == "image", fmt
        assert media_kind(tmp_path / f"{fmt}.mp4") == "image", fmt
    for ext in (".mp4", ".mkv", ".avi", ".mov"):
        clip = make_clip(tmp_path / f"clip{ext}", textured_frames(2, 16, 16))
        assert media_kind(clip) == "video", ext
        (tmp_path / f"clip{ext[1:]}.jpg").write_bytes(clip.read_bytes())
        (tmp_path / f"clip{ext[1:]}").write_bytes(clip.read_bytes())
        assert media_kind(tmp_path / f"clip{ext[1:]}.jpg") == "video", ext
        assert media_kind(tmp_path / f"clip{ext[1:]}") == "video", ext
    heic = tmp_path / "phone-photo"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))
    assert media_kind(heic) == "unread"
    (tmp_path / "notes.txt").write_bytes((tmp_path / "real.png").read_bytes())
    assert media_kind(tmp_path / "notes.txt") is None  # another extension: not opened
    (tmp_path / "scan.0001").write_bytes((tmp_path / "real.png").read_bytes())
    assert media_kind(tmp_path / "scan.0001") == "image"
    for raw in ("camera.nef", "camera.cr2", "camera.dng"):  # TIFF inside, with a small preview first
        (tmp_path / raw).write_bytes((tmp_path / "real.tif").read_bytes())
        assert media_kind(tmp_path / raw) == "unread", raw
    (tmp_path / "film.mjpeg").write_bytes((tmp_path / "real.jpg").read_bytes())
    assert media_kind(tmp_path / "film.mjpeg") == "video"  # a motion JPEG opens as a JPEG
    (tmp_path / "unknown").write_bytes(b"hello, this is text")
    (tmp_path / "old.tga").write_bytes(b"\x00" * 64)  # TGA has no signature
    assert media_kind(tmp_path / "unknown") is None and media_kind(tmp_path / "old.tga") == "image"
    assert media_kind(tmp_path / "missing.dv") == "video"  # unopened: by its extension


def test_a_pipe_in_a_folder_is_not_opened_to_learn_its_kind(tmp_path):
    """Opening a named pipe waits for a writer: a folder holding one would hang."""
    import os
    import threading

    from rehue.data.images import folder_media, media_kind

    os.mkfifo(tmp_path / "pipe")
    os.mkfifo(tmp_path / "pipe.jpg")
    kinds = {}
    worker = threading.Thread(target=lambda: kinds.update(pipe=media_kind(tmp_path / "pipe"),
                                                          folder=folder_media(tmp_path)[0]), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "opened a pipe"
    assert kinds == {"pipe": None, "folder": [tmp_path / "pipe.jpg"]}
    with pytest.raises(RehueError, match="is a pipe or a device, not a file"):
        load_image(tmp_path / "pipe.jpg")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_a_model_named_outside_ascii_is_named_in_the_software_tag_without_question_marks(tmp_path, suffix):
    """EXIF text is 7-bit ASCII, and Pillow wrote each other character as "?" (``mod?le``)."""
    out = save_image(textured_rgb(8, 8), tmp_path / f"out{suffix}", software="rehue, colorized with modèle 模型")
    with Image.open(out) as image:
        assert image.getexif()[0x0131] == "rehue, colorized with modele \\u6a21\\u578b"


def test_a_float_or_32_bit_picture_out_of_range_is_an_error_as_a_numpy_array_is(tmp_path, tiny_model):
    """Before, a PIL image or a file of such levels was clipped: a 0-60000 float ramp came out white."""
    from rehue.inference.colorizer import Colorizer

    colorizer = Colorizer.load(tiny_model, device="cpu")
    across = np.tile(np.arange(32), (16, 1))
    cases = {"float-65535.tif": ((across / 31 * 60000).astype(np.float32), "float levels must lie in 0-1 or 0-255"),
             "negative.tif": ((across * 3 - 5).astype(np.int32), "integer levels must lie in 0-65535"),
             "huge.tif": ((across * 3000).astype(np.int32), "integer levels must lie in 0-65535"),
             "nan.tif": (np.where(across == 3, np.nan, 0.5).astype(np.float32), "NaN or infinite")}
    for name, (levels, reason) in cases.items():
        Image.fromarray(levels).save(tmp_path / name)
        for image in (tmp_path / name, (tmp_path / name).read_bytes(), Image.fromarray(levels), levels):
            with pytest.raises(RehueError, match=reason):
                colorizer.colorize(image)
    with pytest.raises(RehueError, match="^" + str(tmp_path / "huge.tif")):
        load_image(tmp_path / "huge.tif")
    ramp = (across / 31).astype(np.float32)
    Image.fromarray(ramp).save(tmp_path / "unit.tif")
    assert np.array_equal(load_image(tmp_path / "unit.tif").rgb[..., 0], np.round(ramp * 255).astype(np.uint8))
    wide = (across * 2000).astype(np.int32)
    Image.fromarray(wide).save(tmp_path / "wide.tif")
    assert np.array_equal(load_image(tmp_path / "wide.tif").deep_gray, wide)


def test_rehues_pixel_limit_is_the_one_a_scan_meets(tmp_path, monkeypatch):
    """Probe 28: Pillow's decompression-bomb warning (from 89.5 megapixels) refused scans below rehue's own
    limit, in Pillow's words. Scaled down here: Pillow warns from 1,000 pixels and refuses past 2,000;
    rehue's limit is 1,500."""
    from rehue.data import images

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    monkeypatch.setattr(images, "MAX_PIXELS", 1500)
    for side in (35, 40, 50):
        Image.fromarray(np.full((side, side), 100, np.uint8)).save(tmp_path / f"{side}.png")
    assert load_image(tmp_path / "35.png").rgb.shape == (35, 35, 3), "above Pillow's warning, below rehue's limit"
    with pytest.raises(RehueError, match=r"image too large \(40x40 pixels; limit 1,500\)"):
        load_image(tmp_path / "40.png")
    with pytest.raises(RehueError, match=r"image too large \(2,500 pixels; limit 1,500\)"):
        load_image(tmp_path / "50.png")  # past twice Pillow's limit, which Pillow refuses itself


def test_a_colour_profile_larger_than_pillow_reads_is_said_plainly(tmp_path):
    """Probe 29: "Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK", Pillow's words."""
    Image.fromarray(np.full((16, 16), 90, np.uint8)).save(tmp_path / "icc.png", icc_profile=b"\0" * (8 << 20))
    with pytest.raises(RehueError, match="holds a block of text or a colour profile larger than any a photo needs"):
        load_image(tmp_path / "icc.png")


@pytest.mark.parametrize("layout", ["unassociated", "associated", "planar", "miniswhite", "turned"])
def test_a_sixteen_bit_gray_scan_with_alpha_is_read_at_sixteen_bits(tmp_path, layout, tiny_model):
    """Pillow does not open 16-bit gray with alpha, the layout Photoshop saves a 16-bit gray scan with
    transparency in: before, "not an image file" (probe 51). Read with tifffile: gray and alpha at 16 bits,
    associated alpha divided out, upright, with its resolution and descriptive tags."""
    import tifffile

    from rehue.inference.files import colorize_paths

    gray = np.tile(np.linspace(0, 65535, 40).astype(np.uint16), (30, 1))
    alpha = np.full_like(gray, 65535)
    alpha[:, 20:] = 30000
    stored, extra, options = gray, 2, {}
    if layout == "associated":
        stored, extra = np.round(gray.astype(np.float64) * alpha / 65535).astype(np.uint16), 1
    if layout == "miniswhite":
        stored, options = 65535 - gray, {"photometric": "miniswhite"}
    samples = np.dstack([stored, alpha])
    if layout == "planar":
        samples, options = np.stack([stored, alpha]), {"planarconfig": "separate"}
    if layout == "turned":
        samples, options = np.ascontiguousarray(np.rot90(samples, 1)), {"extratags": [(274, "H", 1, 6, True)]}
    path = tmp_path / "scan.tif"
    tags = options.pop("extratags", []) + [(315, "s", 0, "County Archive", True)]
    tifffile.imwrite(path, samples, **{"photometric": "minisblack", **options}, extrasamples=[extra],
                     resolution=(600, 600), resolutionunit="INCH", metadata=None, extratags=tags)
    loaded = load_image(path)
    assert loaded.deep_gray.dtype == np.uint16 and loaded.deep_gray.shape == (30, 40)
    assert np.abs(loaded.deep_gray.astype(int) - gray).max() <= (2 if layout == "associated" else 0)
    assert loaded.alpha.dtype == np.uint16 and np.array_equal(loaded.alpha, alpha)
    assert loaded.is_gray and loaded.dpi == pytest.approx((600, 600))
    assert loaded.exif.get(315) == "County Archive"
    import cv2

    from rehue.color.lab import rgb_to_lab

    (tmp_path / "out").mkdir()
    summary = colorize_paths([path], tmp_path / "out", model=str(tiny_model), device="cpu", progress=False)
    written = cv2.imread(str(tmp_path / "out" / "scan.png"), cv2.IMREAD_UNCHANGED)
    assert summary.failed == [] and written.dtype == np.uint16 and written.shape == (30, 40, 4)
    assert np.array_equal(written[..., 3], alpha), "alpha kept at 16 bits"
    lightness = rgb_to_lab(written[..., 2::-1].astype(np.float32) / 65535)[..., 0]
    truth = rgb_to_lab(np.repeat(loaded.deep_gray[..., None], 3, axis=2).astype(np.float32) / 65535)[..., 0]
    assert np.abs(lightness - truth).max() < 0.1


def test_a_float_scan_is_read_at_sixteen_bits(tmp_path):
    """Before, a 32-bit float TIFF's levels were rounded to 8 bits, and its colour written at 8 (probe 51)."""
    ramp = np.tile(np.linspace(0, 1, 1000, dtype=np.float32), (4, 1))
    Image.fromarray(ramp).save(tmp_path / "float.tif")
    loaded = load_image(tmp_path / "float.tif")
    assert np.array_equal(loaded.deep_gray, np.round(ramp * 65535).astype(np.uint16))
    assert np.array_equal(loaded.rgb[..., 0], np.round(ramp * 255).astype(np.uint8))

    import tifffile  # probe 53: layouts Pillow does not open were "not an image file"

    tifffile.imwrite(tmp_path / "half.tif", ramp.astype(np.float16), photometric="minisblack")
    tifffile.imwrite(tmp_path / "double.tif", ramp.astype(np.float64), photometric="minisblack")
    tifffile.imwrite(tmp_path / "alpha.tif", np.dstack([ramp, np.full_like(ramp, 0.5)]), photometric="minisblack",
                     extrasamples=["unassalpha"])
    tifffile.imwrite(tmp_path / "nan.tif", np.where(ramp > 0.5, np.nan, ramp).astype(np.float16),
                     photometric="minisblack")
    for name, levels in (("half.tif", ramp.astype(np.float16)), ("double.tif", ramp), ("alpha.tif", ramp)):
        loaded = load_image(tmp_path / name)
        assert np.array_equal(loaded.deep_gray, np.round(levels.astype(np.float32) * 65535).astype(np.uint16)), name
    assert np.array_equal(loaded.alpha, np.full(ramp.shape, 32768, np.uint16))
    with pytest.raises(RehueError, match=f"^{tmp_path / 'nan.tif'}: the image holds NaN or infinite values$"):
        load_image(tmp_path / "nan.tif")


def test_a_tiff_output_is_lzw_compressed_and_keeps_its_xmp_and_exif_together(tmp_path):
    """Before, an 8-bit TIFF was written uncompressed (a 6000x4000 scan in 72 MB; probe 51), and one with an
    XMP packet lost its EXIF tags, the Software tag naming rehue too: Pillow writes one set of tags or the other."""
    from rehue.data.images import _kept_exif

    rgb = textured_rgb(40, 60)
    source = Image.fromarray(rgb)
    exif = source.getexif()
    exif[0x8298] = "City archive"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title>Harbour</dc:title></x:xmpmeta>'
    out = save_image(rgb, tmp_path / "out.tif", exif=_kept_exif(exif), xmp=xmp, software="rehue test")
    written = Image.open(out)
    assert written.tag_v2.get(259) == 5 and written.tag_v2.get(317) == 2, "LZW with horizontal differencing"
    assert np.array_equal(np.asarray(written), rgb)
    tags = written.getexif()
    assert tags.get(0x8298) == "City archive" and tags.get(0x0131) == "rehue test"
    assert load_image(out).xmp.startswith(b'<x:xmpmeta')


def test_an_encoders_refusal_is_a_one_line_error_naming_the_file(tmp_path, monkeypatch):
    """Probe 93: Pillow's ValueError ("EXIF data is too long") went up as a traceback and stopped a batch."""
    from rehue.data import images

    def refused(*args, **kwargs):
        raise ValueError("EXIF data is too long")

    monkeypatch.setattr(images, "_write_pillow", refused)
    with pytest.raises(RehueError) as error:
        save_image(textured_rgb(20, 30), tmp_path / "out.jpg")
    assert str(error.value) == f"{tmp_path / 'out.jpg'}: cannot write image (EXIF data is too long)"
    assert list(tmp_path.iterdir()) == [], "no temporary file left"


def test_a_picture_cut_short_by_a_full_disk_is_an_error_and_leaves_no_file(tmp_path):
    """Probe 205: Pillow's JPEG and uncompressed TIFF encoders, handed the file's descriptor, took a short write
    (a disk that filled) for a whole one: `colorize noise.png -o full/n.jpg` left 12 kB of a 41 kB JPEG and
    said "coloured 1 file". A file size limit cuts writes short as a full disk does."""
    import subprocess
    import sys

    pytest.importorskip("resource")
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2020:01:01 00:00:00"}  # a camera's Exif block: written into an uncompressed TIFF
    Image.fromarray(textured_rgb(20, 30)).save(tmp_path / "scan.jpg", exif=exif.tobytes())
    script = (
        "import resource, signal, sys\n"
        "import numpy as np\n"
        "from rehue.data.images import load_image, save_image\n"
        "from rehue.errors import RehueError\n"
        "exif = load_image(sys.argv[1]).exif\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (8000, 8000))\n"
        "rgb = np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)\n"
        "for name in sys.argv[2:]:\n"
        "    try:\n"
        "        save_image(rgb, name, exif=exif)\n"
        "    except RehueError as exc:\n"
        "        print(exc)\n")
    outputs = [tmp_path / name for name in ("out.jpg", "out.tif", "out.png")]
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "scan.jpg"), *map(str, outputs)],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == [f"{out}: cannot write image (File too large)" for out in outputs], done
    assert sorted(tmp_path.iterdir()) == [tmp_path / "scan.jpg"], "no part of a picture left"


def test_text_in_the_exif_block_keeps_its_type_as_text(tmp_path):
    """Probe 94: written as bytes, a lens's name in Cyrillic in the Exif block (a tag Pillow does not know)
    became a list of numbers; its text that is not ASCII is "?" there, as before, and stays text."""
    name = "Объектив 50mm".encode()
    exif = Image.Exif()
    exif[0x8769] = {0xA434: "x" * (len(name) - 5) + " 50mm", 0xA433: "Leitz"}  # text, then its bytes put in
    Image.fromarray(textured_rgb(20, 30)).save(tmp_path / "scan.jpg", exif=exif.tobytes())
    scan = (tmp_path / "scan.jpg").read_bytes()
    (tmp_path / "scan.jpg").write_bytes(scan.replace(b"x" * (len(name) - 5) + b" 50mm", name))
    out = save_image(textured_rgb(20, 30), tmp_path / "out.png", exif=load_image(tmp_path / "scan.jpg").exif)
    block = Image.open(out).getexif().get_ifd(0x8769)
    assert block[0xA433] == "Leitz" and isinstance(block[0xA434], str) and block[0xA434].endswith(" 50mm")


def test_the_exif_given_to_save_image_is_left_as_it_was(tmp_path):
    """Its text tags are written as the bytes the file held, from a copy: a library caller's own object keeps
    its values."""
    exif = Image.Exif()
    exif[0x013B] = "Zoë Ångström".encode()
    Image.fromarray(textured_rgb(20, 30)).save(tmp_path / "scan.jpg", exif=exif.tobytes())
    given = Image.open(tmp_path / "scan.jpg").getexif()
    before = given[0x013B]
    save_image(textured_rgb(20, 30), tmp_path / "out.png", exif=given)
    assert given[0x013B] == before and isinstance(before, str)
    assert Image.open(tmp_path / "out.png").getexif()[0x013B] == before


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
def test_a_resolution_follows_a_quarter_turn_and_none_is_made_up(tmp_path, suffix):
    """Probe 116: a picture stored on its side (EXIF orientation 6) at 300 x 600 dpi came out upright at 300 x
    600, its printed shape wrong; and a JPEG that states no resolution, with EXIF, came out at Pillow's 72."""
    picture = Image.fromarray(textured_rgb(40, 60)[..., 0])
    exif = Image.Exif()
    exif[0x0112] = 6
    picture.save(tmp_path / f"side{suffix}", exif=exif, dpi=(300, 600))
    loaded = load_image(tmp_path / f"side{suffix}")
    assert loaded.rgb.shape[:2] == (60, 40) and loaded.dpi == pytest.approx((600, 300), rel=1e-3)
    save_image(loaded.rgb, tmp_path / f"out{suffix}", dpi=loaded.dpi)
    assert Image.open(tmp_path / f"out{suffix}").info["dpi"] == pytest.approx((600, 300), rel=1e-3)
    exif[0x0112] = 3  # half a turn: across and down as they were
    picture.save(tmp_path / f"turned{suffix}", exif=exif, dpi=(300, 600))
    assert load_image(tmp_path / f"turned{suffix}").dpi == pytest.approx((300, 600), rel=1e-3)


def test_a_jpeg_that_states_no_resolution_is_read_without_one(tmp_path):
    picture = Image.fromarray(textured_rgb(40, 60)[..., 0])
    picture.save(tmp_path / "none.jpg", exif=Image.Exif())
    assert Image.open(tmp_path / "none.jpg").info["dpi"] == (72, 72), "Pillow's own guess"
    assert load_image(tmp_path / "none.jpg").dpi is None
    stated = Image.Exif()
    stated[0x011A], stated[0x011B], stated[0x0128] = 72.0, 72.0, 2
    picture.save(tmp_path / "stated.jpg", exif=stated)
    assert load_image(tmp_path / "stated.jpg").dpi == (72, 72), "a resolution the EXIF states is kept"
    picture.save(tmp_path / "jfif.jpg", dpi=(150, 150))
    assert load_image(tmp_path / "jfif.jpg").dpi == (150, 150)


@pytest.mark.parametrize("order", ["<", ">"])
def test_a_tiff_of_32_bit_unsigned_levels_is_refused_with_the_levels_it_holds(tmp_path, order):
    """Probe 116: Pillow holds 32-bit unsigned samples as signed ones, and the error named levels the file
    does not hold ("-2138865533 to 2139258754"); within 16 bits, such a file is read. Big-endian ones, which
    Pillow does not open, were "not an image file" either way."""
    import tifffile

    levels = (np.arange(40 * 60).reshape(40, 60) * 27).astype(f"{order}u4")
    tifffile.imwrite(tmp_path / "wide.tif", levels * 65537)
    with pytest.raises(RehueError, match=f"integer levels must lie in 0-65535; this image holds 0 to "
                                         f"{int(levels.max()) * 65537}$") as error:
        load_image(tmp_path / "wide.tif")
    assert error.value.path == str(tmp_path / "wide.tif")
    tifffile.imwrite(tmp_path / "narrow.tif", levels)
    assert np.array_equal(load_image(tmp_path / "narrow.tif").deep_gray, levels.astype(np.uint16))
    tifffile.imwrite(tmp_path / "white.tif", levels, photometric="miniswhite")
    assert np.array_equal(load_image(tmp_path / "white.tif").deep_gray, 65535 - levels.astype(np.uint16))


@pytest.mark.parametrize("bits", [8, 16])
def test_a_colour_profile_on_a_gray_picture_is_named_as_such(tmp_path, caplog, bits):
    """Probe 116: a gray picture tagged with a colour profile was told "cannot build transform" (LittleCMS's
    words) at 8 bits, and at 16 "not applied to 16-bit samples", as if 8 would have had it applied."""
    from PIL import ImageCms

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    levels = (np.arange(40 * 60).reshape(40, 60) * 27).astype(np.uint16)
    Image.fromarray(levels if bits == 16 else (levels >> 8).astype(np.uint8)).save(tmp_path / "g.png", icc_profile=lab)
    with caplog.at_level(logging.WARNING, logger="rehue"):
        loaded = load_image(tmp_path / "g.png")
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'g.png'}: its colour profile cannot be applied (a profile for Lab pictures, on gray samples); "
        "its numbers are read as sRGB's"]
    kept = loaded.deep_gray if bits == 16 else loaded.rgb[..., 0]
    assert np.array_equal(kept, levels if bits == 16 else levels >> 8), "its numbers as they are"


def test_a_gray_scan_in_webp_keeps_its_gray_profile(tmp_path, caplog):
    """Probe 143: WebP holds no gray, so a gray scan saved as one is RGB with its gray profile, which was "cannot
    build transform", its numbers read as sRGB's; a colour picture with a gray profile is still said so."""
    levels = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    profile = gray_icc_profile(1.0, "Linear Gray")
    Image.fromarray(np.dstack([levels] * 3)).save(tmp_path / "scan.webp", icc_profile=profile, lossless=True)
    Image.fromarray(levels).save(tmp_path / "scan.png", icc_profile=profile)
    with caplog.at_level(logging.WARNING, logger="rehue"):
        webp = load_image(tmp_path / "scan.webp")
    assert not caplog.records and webp.is_gray
    assert np.array_equal(webp.rgb, load_image(tmp_path / "scan.png").rgb) and webp.rgb.mean() > levels.mean() + 30
    Image.fromarray(np.dstack([levels] * 3)).save(tmp_path / "lossy.webp", icc_profile=profile, quality=90)
    with caplog.at_level(logging.WARNING, logger="rehue"):  # probe 145: a level or so apart: "colour samples"
        lossy = load_image(tmp_path / "lossy.webp")
    assert not caplog.records and lossy.is_gray and abs(lossy.rgb.mean() - webp.rgb.mean()) < 2
    Image.fromarray(np.dstack([levels, levels // 2, levels])).save(tmp_path / "colour.webp", icc_profile=profile,
                                                                   lossless=True)
    with caplog.at_level(logging.WARNING, logger="rehue"):
        load_image(tmp_path / "colour.webp")
    assert [record.getMessage() for record in caplog.records] == [
        f"{tmp_path / 'colour.webp'}: its colour profile cannot be applied (a profile for gray pictures, on colour "
        "samples); its numbers are read as sRGB's"]


def test_a_folder_that_cannot_be_made_names_what_is_in_its_way(tmp_path):
    """Probes 149 and 153: a file or a link to nothing above the folder was said of the folder itself, in the OS's
    words ("photos/scikit-image: Not a directory", "dangling: cannot make this folder (File exists)")."""
    from rehue.data.images import make_folder

    (tmp_path / "file").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "real").mkdir()
    (tmp_path / "good").symlink_to(tmp_path / "real")
    for folder, said in ((tmp_path / "file" / "a" / "b", f"{tmp_path / 'file'}: is a file, not a folder"),
                         (tmp_path / "dangling" / "a", f"{tmp_path / 'dangling'}: is a link to {tmp_path / 'nowhere'}, "
                                                       f"which does not exist, so {tmp_path / 'dangling' / 'a'} cannot "
                                                       "be made")):
        with pytest.raises(RehueError) as refused:
            make_folder(folder)
        assert str(refused.value) == said
    assert make_folder(tmp_path / "good" / "a" / "b").is_dir() and (tmp_path / "real" / "a" / "b").is_dir()


def test_the_staging_folder_of_the_working_folder_or_the_root_is_named_or_refused(tmp_path, monkeypatch):
    """Probes 158 and 159: `.` as an output was "PosixPath('.') has an empty name", `/` "'/' has an empty name"."""
    from pathlib import Path

    from rehue.data.images import staging_folder_for

    monkeypatch.chdir(tmp_path)
    assert staging_folder_for(Path(".")).parent == tmp_path.parent
    assert staging_folder_for(Path(".")).name.startswith(f".{tmp_path.name}.rehue-tmp")
    with pytest.raises(RehueError) as refused:
        staging_folder_for(Path("/"))
    assert str(refused.value) == ("/: is the root folder, which rehue does not write into as a whole; name a folder "
                                  "in it")


@pytest.mark.parametrize("bits, compression, kept, said", [
    (16, "tiff_adobe_deflate", 0.97, "truncated or corrupt TIFF (it begins as one, and its first page cannot be read)"),
    (8, "tiff_lzw", 0.3, "truncated or corrupt TIFF (it begins as one, and its first page cannot be read)"),
    (8, "tiff_lzw", 0.9, "truncated or corrupt TIFF (it begins as one, and its first page cannot be read)"),
    (8, None, 100, "truncated or corrupt image (image file is truncated (0 bytes not processed))"),  # probe 162: in
    ("big", None, 16, "truncated or corrupt TIFF (it begins as one, and its first page cannot be read)")])  # its tags
def test_a_tiff_cut_short_is_said_to_be_one_in_one_line(tmp_path, capsys, caplog, bits, compression, kept, said):
    """Probe 161: a TIFF whose end (with its directory) was cut off was "not an image file", after two of
    Pillow's "Corrupt EXIF data" warnings and tifffile's "invalid offset to first page" on standard error;
    probe 162: one cut among its first page's tags still warned, and a BigTIFF cut short was "not an image file"."""
    import re
    import warnings

    import tifffile

    from rehue.cli import main

    levels = np.random.default_rng(0).integers(0, 2 ** 16 if bits == 16 else 256, (200, 300))
    whole = io.BytesIO()
    if bits == "big":
        tifffile.imwrite(whole, levels.astype(np.uint8), bigtiff=True)
    elif compression is None:  # uncompressed: the first page's tags at the start, its samples after them
        Image.fromarray(levels.astype(np.uint8)).save(whole, "TIFF")
    else:
        Image.fromarray(levels.astype(np.uint16 if bits == 16 else np.uint8)).save(whole, "TIFF",
                                                                                  compression=compression)
    data = whole.getvalue()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[:kept if isinstance(kept, int) else int(len(data) * kept)])
    with warnings.catch_warnings(record=True) as warned, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        assert main(["colorize", str(cut), "-o", str(tmp_path / "out")]) == 1
        with pytest.raises(RehueError, match=re.escape(said)):
            load_image(cut.read_bytes())
    assert capsys.readouterr().err == f"rehue: error: {cut}: {said}\n"
    assert [str(warning.message) for warning in warned] == []
    assert [record.getMessage() for record in caplog.records if record.name == "tifffile"] == []
    assert not (tmp_path / "out").exists()


def test_a_webps_resolution_is_kept_in_its_exif(tmp_path):
    """Probe 161: a 300 dpi scan coloured into a WebP lost its resolution (Pillow writes none into one), and
    rehue read none from a WebP whose EXIF states it."""
    picture = textured_rgb(40, 60)
    out = save_image(picture, tmp_path / "out.webp", dpi=(300, 200))
    tags = Image.open(out).getexif()
    assert (tags[0x011A], tags[0x011B], tags[0x0128]) == (300, 200, 2)
    assert load_image(out).dpi == pytest.approx((300, 200))
    exif = Image.Exif()
    exif[0x010E] = "Wedding, 1931"
    exif[0x011A] = 72.0  # a camera's own, which the scan's resolution replaces
    save_image(picture, tmp_path / "tagged.webp", dpi=(600, 600), exif=exif)
    tags = Image.open(tmp_path / "tagged.webp").getexif()
    assert (tags[0x010E], tags[0x011A]) == ("Wedding, 1931", 600) and exif[0x011A] == 72.0
    turned = Image.Exif()
    turned[0x0112], turned[0x011A], turned[0x011B], turned[0x0128] = 6, 300.0, 600.0, 3  # per centimetre
    Image.fromarray(picture).save(tmp_path / "side.webp", exif=turned)
    assert load_image(tmp_path / "side.webp").dpi == pytest.approx((1524, 762))
    turned[0x0128] = 1  # no unit: a shape, no resolution
    Image.fromarray(picture).save(tmp_path / "shape.webp", exif=turned)
    assert load_image(tmp_path / "shape.webp").dpi is None
    save_image(picture, tmp_path / "none.webp")
    assert 0x011A not in Image.open(tmp_path / "none.webp").getexif()


@pytest.mark.parametrize("name, exif", [("g.png", b"Exif\x00\x00garbage-not-tiff"), ("g.webp", b"Exif\x00\x00garbage"),
                                        ("c.webp", b"II*\x00\x08\x00\x00\x00\x05\x00\x1a\x01")])
def test_a_picture_of_malformed_exif_is_read_without_it_and_without_a_warning(tmp_path, name, exif):
    """Probe 162: a PNG or WebP whose EXIF block is not one was "damaged or unreadable image (not a TIFF file
    ...)", its pixels whole (a JPEG of the same EXIF was coloured); one cut short printed Pillow's "Corrupt EXIF
    data" warning."""
    import warnings

    picture = textured_rgb(40, 60)
    Image.fromarray(picture).save(tmp_path / name, exif=exif, **({"lossless": True} if name.endswith("webp") else {}))
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        loaded = load_image(tmp_path / name)
    assert np.array_equal(loaded.rgb, picture) and loaded.exif is None
    assert [str(warning.message) for warning in warned] == []


def test_a_malformed_exif_is_no_reason_to_lose_an_xmp_orientation_or_a_colour_profile(tmp_path):
    """Probe 163: beside an EXIF block Pillow cannot read, an XMP orientation was lost (the picture left
    sideways, its XMP then saying upright), and a picture of a colour profile other than sRGB was still
    "damaged or unreadable image (not a TIFF file ...)", its profile's conversion reading the block again."""
    from PIL import PngImagePlugin

    levels = textured_rgb(24, 48)[..., 0]
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>')
    chunks = PngImagePlugin.PngInfo()
    chunks.add_itxt("XML:com.adobe.xmp", xmp)
    garbage = b"Exif\x00\x00garbage-not-tiff"
    Image.fromarray(levels).save(tmp_path / "side.png", pnginfo=chunks, exif=garbage)
    Image.fromarray(levels).save(tmp_path / "side.jpg", xmp=xmp.encode(), exif=garbage, quality=100)
    for name in ("side.png", "side.jpg"):
        loaded = load_image(tmp_path / name)
        assert loaded.rgb.shape[:2] == (48, 24), name
    assert np.array_equal(load_image(tmp_path / "side.png").rgb[..., 0], np.rot90(levels, -1))
    Image.fromarray(np.dstack([levels] * 3)).save(tmp_path / "profiled.png", exif=garbage,
                                                 icc_profile=rgb_icc_profile("Linear RGB"))
    assert load_image(tmp_path / "profiled.png").rgb.shape == (24, 48, 3)
    Image.fromarray(levels).save(tmp_path / "profiled.jpg", exif=garbage, icc_profile=gray_icc_profile(1.0, "Linear"))
    assert load_image(tmp_path / "profiled.jpg").rgb.shape == (24, 48, 3)


@pytest.mark.parametrize("cut", [8, 40, 86])
def test_a_png_cut_within_its_first_chunks_is_said_to_be_one(tmp_path, cut):
    """Probe 163: a PNG cut among its first chunks was "not an image file (or a format Pillow cannot read)"."""
    exif = Image.Exif()
    exif[0x0112] = 6
    whole = io.BytesIO()
    Image.fromarray((np.arange(48 * 24).reshape(24, 48) * 40).astype(np.uint16)).save(whole, "PNG", exif=exif)
    (tmp_path / "cut.png").write_bytes(whole.getvalue()[:cut])
    with pytest.raises(RehueError) as error:
        load_image(tmp_path / "cut.png")
    assert error.value.reason.startswith("truncated or corrupt "), error.value.reason


def test_a_command_shows_no_warning_of_pillows_of_an_exif_block_cut_short(tmp_path, capsys):
    """Probe 163: "UserWarning: Tag data larger than file. Skipping tag 271" and "Truncated File Read", each with
    a line of Pillow's source, before a picture that was then coloured."""
    import warnings

    from rehue.cli import main
    from tests.conftest import make_tiny_model

    model = make_tiny_model(tmp_path / "tiny.safetensors")
    gray = Image.fromarray(textured_rgb(24, 48)[..., 0])
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = 6, "Cam" * 40
    gray.save(tmp_path / "cut.jpg", exif=exif.tobytes()[:-60])
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x8769] = 6, "Cam", {0x9003: "2020:01:01 00:00:00", 0x9286: b"x" * 50}
    gray.save(tmp_path / "sub.jpg", exif=exif.tobytes()[:-40])
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        assert main(["colorize", str(tmp_path / "cut.jpg"), str(tmp_path / "sub.jpg"), "-o", str(tmp_path / "out"),
                     "--model", str(model), "--no-progress"]) == 0
    assert [str(warning.message) for warning in warned] == []
    assert Image.open(tmp_path / "out" / "cut.png").size == Image.open(tmp_path / "out" / "sub.png").size == (24, 48)
    assert capsys.readouterr().err == "coloured 2 files\n"


def test_a_damaged_exif_block_warns_no_library_caller_and_fails_no_strict_one(tmp_path):
    """Probe 165: an EXIF block whose tag data ran past its end gave library callers Pillow's "Tag data larger
    than file" warning, and a caller who makes UserWarnings errors (`-W error::UserWarning`) an exception: the
    block, read once with its warnings kept, was read again as the picture was turned."""
    import struct
    import warnings

    picture = textured_rgb(48, 64)
    block = b"Exif\0\0II*\0" + struct.pack("<IHHHII", 8, 1, 0x010E, 2, 100, 0x1000) + bytes(4)
    Image.fromarray(picture).save(tmp_path / "damaged.jpg", exif=block, quality=100)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        assert load_image(tmp_path / "damaged.jpg").rgb.shape == (48, 64, 3)
    assert [str(warning.message) for warning in warned] == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        before = list(warnings.filters)
        assert load_image(tmp_path / "damaged.jpg").rgb.shape == (48, 64, 3)
        assert warnings.filters == before, "the caller's filters as they were"


def test_a_temporary_name_of_a_process_number_none_can_have_is_a_killed_runs(tmp_path, tiny_model, capsys):
    """Probe 174: `.g.rehue-tmp99999999999999999999.png` beside the output ended colorize in an OverflowError
    traceback, nothing coloured; process numbers 0 and below name process groups, which os.kill signals."""
    from rehue.cli import main
    from rehue.data.images import process_running, remove_stale_temps

    assert [process_running(pid) for pid in (0, -1, 2**31, 10**20)] == [False] * 4
    assert process_running(os.getpid()) and process_running(1)
    Image.fromarray(textured_rgb(24, 32)[..., 0]).save(tmp_path / "g.png")
    out = tmp_path / "out"
    out.mkdir()
    left = out / ".g.rehue-tmp99999999999999999999.png"
    left.write_bytes(b"half a picture")
    assert main(["colorize", str(tmp_path / "g.png"), "-o", str(out / "g.png"), "--model", str(tiny_model)]) == 0
    assert not left.exists() and (out / "g.png").is_file()
    assert f"note: removed 1 half-written file that a killed run left, such as {left}\n" in capsys.readouterr().err
    left.write_bytes(b"half a picture")
    assert remove_stale_temps([out / "g.png"]) == [left]
