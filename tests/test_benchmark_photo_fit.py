"""benchmarks/photo_fit.py (the model card's whole-photo table) on a tiny model and a demo-shaped folder."""

from PIL import Image

from tests.helpers_benchmarks import held_out_demo, load_benchmark


def test_both_fits_are_scored_on_each_set_and_drawn(tmp_path, tiny_model, monkeypatch, capsys):
    photo_fit = load_benchmark("photo_fit")
    demo = held_out_demo(tmp_path / "demo")
    sets = load_benchmark("restraint").held_out_photos(demo)
    table, shown, milliseconds = photo_fit.score(str(tiny_model), sets)
    assert set(milliseconds) == {"letterbox", "native"} and min(milliseconds.values()) > 0
    assert list(table) == ["first four", "lomiri four", "GCompris fifteen", "blind twenty-three",
                           "Scratch forty-seven", "KPhotoAlbum twenty-four", "all"]
    for name, row in table.items():
        assert list(row) == ["letterbox", "native"]
        assert row["letterbox"] != row["native"], "a 60x80 photo meets the model differently in each fit"
        assert row["native"][3] == (6 if name == "all" else 1)
    assert len(shown) == 1 and shown[0][0].shape == shown[0][3].shape == (60, 80, 3), "sea1 is drawn whole"

    monkeypatch.setattr("sys.argv", ["photo_fit.py", "--model", str(tiny_model), "--demo", str(demo),
                                     "--out", str(tmp_path / "out")])
    photo_fit.main()
    printed = capsys.readouterr().out
    assert "| all | native |" in printed and "of 6 |" in printed
    width, height = Image.open(tmp_path / "out" / "fit.png").size
    assert width == 4 * 192 and height > 192, "four columns, one photo"
