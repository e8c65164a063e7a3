"""Interrupts at the worst moment: `rehue colorize` of a clip is frozen (SIGSTOP) as soon as its temp output
appears (or ``--delay`` seconds later, mid-run), sent SIGINT or SIGTERM, and let go (SIGCONT), two runs side
by side, ``--trials`` times. A clean interrupt exits 130 (SIGINT) or 143 (SIGTERM) with no output and no
temp file; the script counts exit codes (-11: a crash), temp files left and outputs written
(docs/reliability.md). ``--load N`` keeps N busy loops running beside them, as a loaded machine schedules
the threads differently.

    .venv/bin/python benchmarks/interrupts.py [--trials 60] [--load 2] [--frames 1500] [--delay 0]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import make_tiny_model  # noqa: E402
from tests.helpers_video import default_sigint, make_clip, temp_files, textured_frames  # noqa: E402


def trial(clip: Path, model: Path, root: Path, delay: float = 0.0) -> list[dict]:
    """One SIGINT run and one SIGTERM run, each frozen ``delay`` seconds after its output opens (at once by
    default), signalled, then continued."""
    runs = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        folder = Path(tempfile.mkdtemp(prefix=f"{signum.name}-", dir=root))
        out = folder / "coloured.mp4"
        proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "rehue.cli", "colorize", str(clip), "-o",
                                 str(out), "--model", str(model), "--dependent-model", "none", "--no-progress"],
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                                preexec_fn=default_sigint)
        runs.append((signum, folder, out, proc))
    # Both runs are watched at once: waiting on one first gave the other time to finish unsignalled.
    signalled, opened = {}, {}
    pending = {signum: (folder, proc) for signum, folder, _, proc in runs}
    while pending:
        for signum, (folder, proc) in list(pending.items()):
            if signum not in opened and (temp_files(folder) or proc.poll() is not None):
                opened[signum] = time.monotonic()
            if signum in opened and time.monotonic() - opened[signum] >= delay:
                proc.send_signal(signal.SIGSTOP)
                signalled[signum] = proc.poll() is None and bool(temp_files(folder))
                proc.send_signal(signum)
                proc.send_signal(signal.SIGCONT)
                del pending[signum]
        time.sleep(0.002)
    results = []
    for signum, folder, out, proc in runs:
        _, err = proc.communicate(timeout=120)
        results.append({"signal": signum.name, "signalled mid-run": signalled[signum], "exit": proc.returncode,
                        "temp left": bool(temp_files(folder)), "output written": out.exists(),
                        "error": err.strip().splitlines()[-1] if err.strip() else "",
                        "stderr": err})
    return results


def busy() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=60, help="pairs of runs (one SIGINT, one SIGTERM)")
    parser.add_argument("--load", type=int, default=2, help="busy loops beside the runs")
    parser.add_argument("--frames", type=int, default=1500, help="frames of the 160x120 clip with sound")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds after the output opens before the signal (0: as it opens)")
    args = parser.parse_args()
    loads = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.load)]
    for load in loads:
        load.start()
    outcomes: Counter = Counter()
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            clip = make_clip(root / "clip.mp4", textured_frames(args.frames, 120, 160), fps=25, audio=True)
            model = make_tiny_model(root / "tiny.safetensors")
            for k in range(args.trials):
                for result in trial(clip, model, root, args.delay):
                    clean = (result["exit"] == 128 + signal.Signals[result["signal"]]
                             and not result["temp left"] and not result["output written"])
                    outcomes["clean" if clean else "not clean"] += 1
                    outcomes[f"exit {result['exit']}"] += 1
                    outcomes["temp left"] += result["temp left"]
                    outcomes["signalled after the run ended"] += not result["signalled mid-run"]
                    if not clean:  # a crash's stderr holds faulthandler's stacks of every thread
                        stderr = result.pop("stderr")
                        print(f"trial {k}: {result}", flush=True)
                        if result["exit"] < 0:
                            print(stderr, flush=True)
                done = k + 1
                rate = done / (time.perf_counter() - started)
                print(f"\r{done}/{args.trials} trials, {rate:.2f}/s, {(args.trials - done) / rate:.0f} s left",
                      end="", file=sys.stderr, flush=True)
    finally:
        for load in loads:
            load.terminate()
    print(file=sys.stderr)
    runs = 2 * args.trials
    print(f"{runs} runs ({args.trials} SIGINT, {args.trials} SIGTERM; {args.frames} frames; signalled "
          f"{args.delay:g} s after the output opened; {args.load} busy loops beside): "
          + ", ".join(f"{key} {value}" for key, value in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
