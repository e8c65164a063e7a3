import io

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
