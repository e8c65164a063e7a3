import numpy as np
import pytest

from rehue.cli import main
from rehue.data.images import load_image, media_kind
from tests.conftest import assert_each_refused_in_one_line
from tests.helpers_exr import exr_bytes

WIDTH, HEIGHT = 48, 32
ACES_AP0 = ((0.7347, 0.2653), (0.0, 1.0), (0.0001, -0.0770), (0.32168, 0.33767))
# ACES' published AP0 -> linear sRGB (Bradford, D60 -> D65): the test's own constants
AP0_TO_SRGB = np.array([[2.52169, -1.13413, -0.38756], [-0.27648, 1.37272, -0.09624], [-0.01538, -0.15298, 1.16835]])


def srgb(linear):
    linear = np.clip(linear, 0, 1)
    return np.where(linear > 0.0031308, 1.055 * linear ** (1 / 2.4) - 0.055, 12.92 * linear)


def light_ramp() -> np.ndarray:
    """Scene-linear light from black to 1.5 (brighter than diffuse white at the right)."""
    return np.broadcast_to(np.linspace(0.0, 1.5, WIDTH, dtype=np.float32), (HEIGHT, WIDTH))


@pytest.mark.parametrize("half", [False, True])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_an_openexr_frame_is_read_in_display_tones_at_16_bits(channels, half):
    light = light_ramp() if channels == 1 else np.dstack([light_ramp()] * 3 + [np.ones_like(light_ramp())] *
                                                         (channels - 3))
    loaded = load_image(exr_bytes(light, half=half))
    assert loaded.is_gray and loaded.deep_gray is not None and loaded.deep_gray.dtype == np.uint16
    stored = light_ramp()[0].astype(np.float16).astype(np.float64) if half else light_ramp()[0]
    assert np.abs(loaded.deep_gray[0] / 65535 - srgb(stored)).max() < (2e-3 if half else 2e-5)
    assert loaded.deep_gray[0, -1] == 65535  # above white: clipped


def test_openexrs_premultiplied_colour_is_unpremultiplied():
    light = np.zeros((HEIGHT, WIDTH, 4), np.float32)
    light[..., :3], light[..., 3] = 0.25 * 0.5, 0.5  # light 0.25, half covered
    loaded = load_image(exr_bytes(light))
    assert np.abs(loaded.deep_gray / 65535 - srgb(0.25)).max() < 2e-5
    assert np.abs(loaded.alpha.astype(int) - 32768).max() <= 1


@pytest.mark.parametrize("pixel_type", [1, 2])  # half, float
def test_a_gray_openexr_with_alpha_is_read_unpremultiplied(pixel_type):
    """Probe 43: an OpenEXR of Y and A (gray with alpha) failed with NumPy's "non-broadcastable output operand"
    (half floats) or PyAV's "not yet supported" (full floats)."""
    from tests.helpers_exr import scanline_exr

    kind = np.float16 if pixel_type == 1 else np.float32
    light = np.full((HEIGHT, WIDTH), 0.25 * 0.5, kind)  # light 0.25, half covered
    loaded = load_image(scanline_exr({"Y": light, "A": np.full((HEIGHT, WIDTH), 0.5, kind)}, pixel_type=pixel_type))
    assert loaded.is_gray and np.abs(loaded.deep_gray / 65535 - srgb(0.25)).max() < 2e-5
    assert np.abs(loaded.alpha.astype(int) - 32768).max() <= 1


def test_aces_primaries_are_brought_to_srgbs():
    light = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    light[:, : WIDTH // 2] = (0.2, 0.1, 0.05)
    light[:, WIDTH // 2:] = 0.18
    loaded = load_image(exr_bytes(light, chromaticities=ACES_AP0))
    expected = np.round(srgb(AP0_TO_SRGB @ np.array([0.2, 0.1, 0.05])) * 255)
    assert np.abs(loaded.rgb[0, 0].astype(int) - expected).max() <= 1
    assert np.ptp(loaded.rgb[0, -1].astype(int)) == 0  # ACES' gray is sRGB's gray
    for half in (False, True):  # no chromaticities: OpenEXR's default, sRGB's primaries
        plain = load_image(exr_bytes(light, half=half))
        assert np.abs(plain.rgb[0, 0].astype(int) - np.round(srgb(np.array([0.2, 0.1, 0.05])) * 255)).max() <= 1


def test_not_a_number_and_infinity_are_black_and_white():
    light = np.full((HEIGHT, WIDTH), 0.5, np.float32)
    light[0, 0], light[0, 1], light[0, 2] = np.nan, np.inf, -np.inf
    gray = load_image(exr_bytes(light)).deep_gray
    assert list(gray[0, :3]) == [0, 65535, 0]


def test_an_openexr_frame_is_known_by_its_first_bytes(tmp_path):
    (tmp_path / "shot.0001").write_bytes(exr_bytes(light_ramp()))
    assert media_kind(tmp_path / "shot.0001") == "image"
    assert load_image(tmp_path / "shot.0001").deep_gray is not None


def test_an_openexr_file_rehue_cannot_read_is_one_line_naming_it(tmp_path, capsys):
    whole = exr_bytes(np.dstack([light_ramp()] * 3))
    huge = whole.replace(b"dataWindow\0box2i\0\x10\0\0\0", b"dataWindow\0box2i\0\x10\0\0\0" + bytes(8) +
                         (100_000).to_bytes(4, "little") * 2, 1)[:len(whole)]
    from tests.helpers_exr import scanline_exr

    edge = scanline_exr({"Y": light_ramp()[:5, :7]}, display=(-2**31, 0, -2**31 + 6, 4))  # probe 215: a traceback
    cases = {"edge.exr": (edge, "lie beyond the 32-bit coordinates a file holds"),
             "cut.exr": (whole[:600], "truncated or corrupt OpenEXR file"),
             "header.exr": (whole[:30], "truncated OpenEXR header"),
             "deep.exr": (exr_bytes(light_ramp(), flags=0x800), "holds deep data"),
             "parts.exr": (exr_bytes(light_ramp(), flags=0x1000), "multi-part OpenEXR file"),
             "huge.exr": (huge, "image too large")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)


def test_a_field_a_frame_reader_left_unbounded_is_still_one_line(tmp_path, capsys, monkeypatch):
    """Probe 215: a struct.error from a reader (a coordinate past 2**31) was a traceback of 60 lines."""
    import struct

    import rehue.data.exr as exr

    def unbounded(data, name=None):
        raise struct.error("'i' format requires -2147483648 <= number <= 2147483647")

    monkeypatch.setattr(exr, "read", unbounded)
    assert_each_refused_in_one_line(tmp_path, capsys, {"odd.exr": (exr_bytes(light_ramp()), (
        "corrupt DPX, OpenEXR or Cineon file (a field of its header lies beyond its range, or beyond the file's "
        "end)"))})


def test_a_reel_of_openexr_frames_is_coloured_to_16_bit_frames(tmp_path, tiny_model, tiny_dependent_model):
    import cv2

    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(3):
        (reel / f"plate.{number:04d}.exr").write_bytes(exr_bytes(np.dstack([light_ramp() * (1 - number / 10)] * 3)))
    assert main(["colorize", str(reel), "-o", str(tmp_path / "out"), "--frames", "--model", str(tiny_model),
                 "--dependent-model", str(tiny_dependent_model), "--no-progress"]) == 0
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == [f"plate.{n:04d}.png" for n in range(3)]
    assert all(cv2.imread(str(p), cv2.IMREAD_UNCHANGED).dtype == np.uint16 for p in outputs)


def test_a_picture_whose_display_window_is_not_at_the_origin_is_read_where_it_is():
    """Probe 32: FFmpeg places the data window as if the display window started at (0, 0), so a picture
    whose windows start elsewhere came out shifted, part of it lost and black in its place (exit 0)."""
    from tests.helpers_exr import scanline_exr

    light = np.dstack([light_ramp()] * 3)
    light[:3] = 0.25  # the top rows, which a shift would lose
    planes = {"R": light[..., 0], "G": light[..., 1], "B": light[..., 2]}
    at_origin = load_image(scanline_exr(planes)).deep_gray
    assert np.array_equal(load_image(scanline_exr(planes, data_origin=(-5, 7))).deep_gray, at_origin)
    inside = load_image(scanline_exr(planes, data_origin=(10, 20), display=(5, 15, 5 + 59, 15 + 49))).deep_gray
    assert inside.shape == (50, 60)
    assert np.array_equal(inside[5:5 + HEIGHT, 5:5 + WIDTH], at_origin)
    assert inside[:5].max() == 0 and inside[:, :5].max() == 0


def test_an_openexr_without_a_picture_of_light_is_refused_saying_what_it_holds(tmp_path, capsys):
    """Probe 32: whole-number channels (ids) were read as a black picture (exit 0); a file of a named layer
    alone said "Not yet implemented in FFmpeg, patches welcome"."""
    from tests.helpers_exr import scanline_exr

    ids = np.full((HEIGHT, WIDTH), 1000)
    cases = {"ids.exr": (scanline_exr({"R": ids, "G": ids, "B": ids}, pixel_type=0), "hold whole numbers (UINT"),
             "layer.exr": (scanline_exr({f"diffuse.{c}": light_ramp() for c in "RGB"}),
                           "no picture in its default layer (R, G and B, or Y): its channels are diffuse.B, "
                           "diffuse.G, diffuse.R"),
             "alpha.exr": (scanline_exr({"A": light_ramp()}), "its channels are A;")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)


def test_openexr_layouts_ffmpeg_does_not_read_are_named_not_called_damaged(tmp_path, capsys):
    """Probe 151: half-float colour with a full-float alpha was "truncated or corrupt OpenEXR file (Invalid data
    found when processing input)", and a luminance and chroma file (Y, RY, BY at 2x2) "(Not yet implemented in
    FFmpeg, patches welcome)"; a full-float depth beside half-float colour is read, as FFmpeg reads it."""
    from rehue.data.images import load_image
    from tests.helpers_exr import scanline_exr

    light = light_ramp()
    rgba = {"R": light, "G": light, "B": light, "A": np.full((HEIGHT, WIDTH), 0.5)}
    cases = {"alpha.exr": (scanline_exr(rgba, pixel_type=1, pixel_types={"A": 2}),
                           "its picture's channels are of unlike kinds (R, G, B half floats; A full floats), which "
                           "FFmpeg, rehue's OpenEXR decoder, does not read together"),
             "yc.exr": (scanline_exr({"Y": light, "RY": light, "BY": light}, sampling={"RY": (2, 2), "BY": (2, 2)}),
                        "its channels BY, RY are subsampled (2x2: a sample for each 2x2 pixels), which FFmpeg, "
                        "rehue's OpenEXR decoder, does not read")}
    assert_each_refused_in_one_line(tmp_path, capsys, cases)
    depth = scanline_exr({**rgba, "A": light, "Z": light}, pixel_type=1, pixel_types={"Z": 2})
    assert load_image(depth).rgb.shape == (HEIGHT, WIDTH, 3)


def read_light(data: bytes) -> np.ndarray:
    """An OpenEXR file's samples as FFmpeg decodes them (RGB, then alpha), as floats: the test's own reading."""
    import io

    import av

    with av.open(io.BytesIO(data), format="exr_pipe") as container:
        frame = next(container.decode(video=0))
    planes = [np.frombuffer(plane, "<f2" if "f16" in frame.format.name else "<f4").reshape(frame.height, -1)
              [:, :frame.width].astype(np.float32) for plane in frame.planes]
    planes[:3] = planes[2], planes[0], planes[1]  # FFmpeg's planar RGB: green, blue, red
    return np.stack(planes, axis=2)


def test_a_picture_written_as_openexr_is_scene_linear_light_that_reads_back_as_it_was(tmp_path):
    """Before, OpenEXR was read and not written: a visual-effects plate came back as a PNG in display tones."""
    from rehue.color.lab import rgb_to_gray
    from rehue.data.exr import Header
    from rehue.data.images import save_image, to_uint8

    rgb = np.random.default_rng(0).integers(0, 65536, (HEIGHT, WIDTH, 3)).astype(np.uint16)
    alpha = np.broadcast_to(np.linspace(0, 65535, WIDTH).astype(np.uint16), (HEIGHT, WIDTH))
    save_image(rgb, tmp_path / "f.exr", alpha=alpha, software="rehue 0.1.0, colorized with m (sha256 0123)")
    data = (tmp_path / "f.exr").read_bytes()
    light, coverage = read_light(data)[..., :3], read_light(data)[..., 3:]
    expected = np.where(rgb / 65535 > 0.04045, ((rgb / 65535 + 0.055) / 1.055) ** 2.4, rgb / 65535 / 12.92)
    assert np.abs(light - expected * alpha[..., None] / 65535).max() < 1e-3, "linear light, premultiplied"
    assert np.abs(coverage[..., 0] - alpha / 65535).max() < 1e-3
    header = Header(data)
    assert header.compression == 3 and header.chromaticities is None and header.software.startswith("rehue ")
    loaded = load_image(tmp_path / "f.exr")
    assert loaded.coloured_by_rehue, "rehue's own output, passed over by train and evaluate"
    covered = alpha > 4096
    assert np.abs(loaded.rgb.astype(int) - to_uint8(rgb).astype(int))[covered].max() <= 1
    assert np.abs(loaded.deep_gray.astype(int) - rgb_to_gray(rgb, np.uint16).astype(int))[covered].max() <= 40


@pytest.mark.parametrize("compression", [2, 3])  # ZIPS, ZIP
@pytest.mark.parametrize("shape", [(1, 1, 3), (17, 5, 3), (37, 64, 4)])
def test_openexr_zip_is_written_as_openexr_reads_it_each_sample_the_nearest_half(compression, shape):
    """rehue deflates OpenEXR's ZIP itself (at zlib level 4, twice as fast as FFmpeg's encoder at its 6): the
    file FFmpeg decodes holds each sample's nearest half float (FFmpeg's encoder truncated, twice the error),
    in one chunk per 16 lines (ZIP) or per line (ZIPS), a chunk that deflating does not shrink stored as it is
    (the 1x1 picture's). OpenEXR's own library (3.5.3, not a dependency) read these files the same."""
    import io

    import av

    from rehue.data import exr

    samples = np.random.default_rng(0).random(shape, dtype=np.float32) ** 2
    data = exr._zip_file_bytes(samples, compression)
    header = exr.Header(data)
    assert header.compression == compression and (header.width, header.height) == shape[1::-1]
    assert sorted(header.channels) == sorted("RGBA"[:shape[2]])
    with av.open(io.BytesIO(data), format="exr_pipe") as container:
        bits = exr._half_bits(next(container.decode(video=0)))
    assert np.array_equal(bits.view(np.float16), samples.astype(np.float16))


def test_an_openexr_plate_written_again_keeps_its_primaries_window_and_attributes(tmp_path):
    """A plate in ACES' primaries, offset in its format, with a studio's attributes: written as it came."""
    from rehue.data.exr import Header, _attributes
    from rehue.data.images import save_image
    from tests.helpers_exr import _with_attribute, scanline_exr

    light = np.dstack([light_ramp() * 0.6, light_ramp() * 0.4, light_ramp() * 0.2])
    plate = scanline_exr({"R": light[..., 0], "G": light[..., 1], "B": light[..., 2]}, data_origin=(100, 40))
    plate = _with_attribute(plate, b"owner", b"string", b"Studio 7")
    plate = _with_attribute(plate, b"chromaticities", b"chromaticities",
                            np.array(ACES_AP0, "<f4").tobytes())
    source = load_image(plate)
    shown = np.dstack([source.deep_gray] * 3)  # a colour picture of the plate's size, in display tones
    shown[..., 0] = np.minimum(65535, shown[..., 0].astype(int) + 3000)
    save_image(shown, tmp_path / "out.exr", exr_header=source.exr_header)
    data = (tmp_path / "out.exr").read_bytes()
    header = Header(data)
    assert header.display_window == header.data_window == (100, 40, 100 + WIDTH - 1, 40 + HEIGHT - 1)
    assert np.allclose(header.chromaticities, ACES_AP0, atol=1e-6)
    names = [name for name, _ in _attributes(data)[0]]
    assert b"owner" in names and b"pixelAspectRatio" in names and b"writer" not in names
    assert header.compression == 0, "the plate's own compression (none), where the encoder writes it"
    again = load_image(data)
    assert np.abs(again.rgb.astype(int) - (shown >> 8).astype(int)).max() <= 2, "the same picture, in AP0 and back"
    expected_light = np.linalg.solve(AP0_TO_SRGB, (((shown[0, -1] / 65535 + 0.055) / 1.055) ** 2.4))
    at_origin = Header(data).shown_from_origin(data)  # FFmpeg would place it as if its window were at (0, 0)
    assert np.abs(read_light(at_origin)[0, -1] - expected_light).max() < 2e-3, "AP0's light, by ACES' own matrix"


def test_a_reel_converted_between_dpx_openexr_and_cineon_keeps_its_rate_and_time_codes(tmp_path, tiny_model):
    """Probe 151: a DPX reel at 18 frames a second written as OpenEXR frames, an OpenEXR reel written as DPX and a
    Cineon reel as OpenEXR lost their rate and every frame's time code (a grader took them at 24 frames a second),
    where a video into frames keeps both; a drop-frame time code lost its flag, and 29.97 was 2997/100 (probe 153)."""
    import struct

    from rehue.data import dpx, exr
    from rehue.data.dpx import DROP_FRAME
    from tests.helpers_dpx import cineon_bytes, scanner_dpx
    from tests.helpers_exr import _with_attribute

    reels = {name: tmp_path / name for name in ("dpx", "exr", "cineon")}
    for reel in reels.values():
        reel.mkdir()
    for number in range(3):
        levels = np.dstack([np.full((HEIGHT, WIDTH), 20000 + 9000 * number, np.uint16), np.full((HEIGHT, WIDTH), 30000,
                            np.uint16), np.full((HEIGHT, WIDTH), 25000, np.uint16)])
        (reels["dpx"] / f"s.{number:04d}.dpx").write_bytes(scanner_dpx(  # drop frame (probe 153: its flag lost)
            levels, frame_rate=29.97, time_code=dpx._time_code_word(f"01:00:00:{number:02d}") | DROP_FRAME))
        plate = exr_bytes(np.dstack([light_ramp() * (1 - number / 10), light_ramp() * 0.5, light_ramp() * 0.3]))
        plate = _with_attribute(plate, b"framesPerSecond", b"rational", struct.pack("<iI", 25, 1))
        plate = _with_attribute(plate, b"timeCode", b"timecode",
                                struct.pack("<II", dpx._time_code_word(f"02:00:00:{number:02d}") | DROP_FRAME, 0))
        (reels["exr"] / f"p.{number:04d}.exr").write_bytes(plate)
        codes = np.dstack([np.full((HEIGHT, WIDTH), 300 + 100 * number), np.full((HEIGHT, WIDTH), 450),
                           np.full((HEIGHT, WIDTH), 380)]).astype(np.uint16)
        (reels["cineon"] / f"c.{number:04d}.cin").write_bytes(cineon_bytes(codes, frame_rate=16.666666))
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress", "--frames"]
    for name, ext in (("dpx", ".exr"), ("exr", ".dpx"), ("cineon", ".exr")):
        assert main(["colorize", str(reels[name]), "-o", str(tmp_path / f"{name}-out"), "--ext", ext, *args]) == 0
    read = {".exr": exr.Header, ".dpx": dpx.Header}
    timing = {name: [(round(header.frame_rate, 5), header.time_code, bool((header.time_code_word or 0) & DROP_FRAME))
                     for header in (read[path.suffix](path.read_bytes())
                                    for path in sorted((tmp_path / f"{name}-out").iterdir()))]
              for name in reels}
    assert timing == {"dpx": [(round(30000 / 1001, 5), f"01:00:00:{n:02d}", True) for n in range(3)],
                      "exr": [(25.0, f"02:00:00:{n:02d}", True) for n in range(3)],
                      "cineon": [(round(50 / 3, 5), None, False)] * 3}, timing  # 50/3, not 16667/1000 (probe 154)


def test_a_reel_or_a_film_is_written_as_openexr_frames(tmp_path, tiny_model):
    from rehue.data.exr import Header

    reel = tmp_path / "reel"
    reel.mkdir()
    for number in range(3):
        (reel / f"plate.{number:04d}.exr").write_bytes(exr_bytes(np.dstack([light_ramp() * (1 - number / 10)] * 3),
                                                                 chromaticities=ACES_AP0))
    args = ["--model", str(tiny_model), "--dependent-model", "none", "--no-progress"]
    assert main(["colorize", str(reel), "-o", str(tmp_path / "out"), "--frames", "--ext", ".exr", *args]) == 0
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == [f"plate.{n:04d}.exr" for n in range(3)]
    assert all(np.allclose(Header(p.read_bytes()).chromaticities, ACES_AP0, atol=1e-6) for p in outputs)
    assert main(["colorize", str(reel / "plate.0000.exr"), "-o", str(tmp_path / "one.exr"), *args]) == 0
    assert load_image(tmp_path / "one.exr").coloured_by_rehue
    from rehue.errors import RehueError
    from rehue.evaluation.evaluate import evaluate

    with pytest.raises(RehueError, match="every picture here was coloured \\(or drawn\\) by rehue"):  # probe 39
        evaluate(tiny_model, [tmp_path / "out"], tmp_path / "report", progress=False, log=lambda message: None)
