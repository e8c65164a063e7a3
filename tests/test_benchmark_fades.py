"""benchmarks/fades.py (docs/scenes.md, Limits): the films it makes and the lines it prints."""

import numpy as np

from tests.helpers_benchmarks import BENCHMARKS, load_benchmark


def test_a_fade_through_black_is_made_and_each_length_is_summed_up(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    fades = load_benchmark("fades")
    first = [np.full((4, 6), 200, np.uint8)] * 40
    second = [np.full((4, 6), 100, np.uint8)] * 40
    frames, first_new = fades.fade_through_black(first, second, 3, 2)
    assert first_new == fades.HOLD + 3 + 2 and len(frames) == first_new + 3 + fades.HOLD
    assert [int(frame[0, 0]) for frame in frames[fades.HOLD - 1:first_new + 4]] == [200, 150, 100, 50, 0, 0, 25, 50,
                                                                                    75, 100]
    monkeypatch.setattr(fades, "LENGTHS", (6,))
    monkeypatch.setattr(fades, "PAIRS", fades.PAIRS[:1])
    monkeypatch.setattr("sys.argv", ["fades.py"])
    fades.main()
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("fades of 6 frames out and in (4 cases): 4 found 0 frames late (on a frame at 14% of")
