"""benchmarks/interrupts.py (signals as the output opens) on a short clip and the tiny model."""

from tests.helpers_benchmarks import load_benchmark
from tests.helpers_video import make_clip, textured_frames


def test_a_trial_signals_both_runs_mid_run_and_reports_a_clean_interrupt(tmp_path, tiny_model):
    interrupts = load_benchmark("interrupts")
    clip = make_clip(tmp_path / "clip.mp4", textured_frames(600, 120, 160), fps=25, audio=True)
    results = interrupts.trial(clip, tiny_model, tmp_path)
    assert [r["signal"] for r in results] == ["SIGINT", "SIGTERM"]
    for result, exit_status in zip(results, (130, 143), strict=True):
        assert result["signalled mid-run"], result
        assert (result["exit"], result["temp left"], result["output written"]) == (exit_status, False, False), result
        assert result["error"] == "rehue: interrupted"
