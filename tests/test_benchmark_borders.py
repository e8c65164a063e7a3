"""benchmarks/borders.py (the model card's border table) on a tiny model and a demo-shaped folder."""

from PIL import Image

from tests.helpers_benchmarks import held_out_demo, load_benchmark


def test_borders_are_scored_in_each_framing_and_mode(tmp_path, tiny_model, monkeypatch, capsys):
    borders = load_benchmark("borders")
    demo = held_out_demo(tmp_path / "demo")
    paths = [p for paths in load_benchmark("restraint").held_out_photos(demo).values() for p in paths]
    table, shown = borders.score(str(tiny_model), paths)
    assert len(shown) == 1 and shown[0][3].shape[:2] == (60 + 2 * 5, 80 + 2 * 5), "Dune, in its white frame"
    assert list(table) == ["as it is", "white frame", "black bars to a square"]
    plain = table["as it is"]
    assert plain["neutral"] == plain["model"], "a photo without borders is coloured the same either way"
    for name in ("white frame", "black bars to a square"):
        assert table[name]["neutral"] == plain["neutral"], "inside its border the photo is coloured as if alone"
        assert table[name]["model"] != plain["model"]
    monkeypatch.setattr("sys.argv", ["borders.py", "--model", str(tiny_model), "--demo", str(demo),
                                     "--out", str(tmp_path / "out")])
    borders.main()
    assert "| white frame | neutral |" in capsys.readouterr().out
    width, height = Image.open(tmp_path / "out" / "borders.png").size
    assert width == 4 * 192 and height > 192, "four columns, one photo"
