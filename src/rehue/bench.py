"""``rehue bench``: how fast video colouring runs on this machine, beside the thesis' figures.

One run measures, on the same machine and in the same process (except peak memory, which each
clip measures in a fresh process):

* per-frame times like thesis table 6.1: the dependent and the independent generator
  (``Colorizer.predict_ab``, batch 1) and scene detection, as medians over many frames after a
  warm-up, plus the ECCV16 network of Zhang et al. (2016) for scale;
* end-to-end frames per second of the real ``colorize_video`` path (decode, scene detection,
  colouring, upsampling, encoding, audio) on a generated gray clip at the models' working size (128x128
  for the shipped ones) and a 1280x720 clip;
* peak resident memory colouring a short clip and one ten times longer.

Models are randomly initialised ``gen2`` generators of the shipped architecture (width 16 at 128)
unless ``--model``/``--dependent-model`` name real ones. The clips are generated here (panning
textures with hard cuts and an AAC tone), so the benchmark runs from a fresh clone.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from rehue.errors import RehueError, UsageError, check_flags
from rehue.progress import lines_to, say
from rehue.words import counted

if TYPE_CHECKING:
    import numpy as np
# Everything else loads inside the functions: the CLI imports this module to build its parser, and
# `rehue --help` stays instant.

SHIPPED_ARCHITECTURE = {"architecture": "gen2", "size": 128, "width": 16}

THESIS_SIZE = "128x128"
THESIS = {
    "hardware": f"NVIDIA RTX A5000 GPU, {THESIS_SIZE}",
    "dependent_model_ms": 21.7,
    "independent_model_ms": 577.7,
    "scene_detection_ms": 4.6,
    "end_to_end_fps": 37.0,
}

TARGETS = {
    "end_to_end_fps_128": 150.0,
    "end_to_end_fps_720p": 30.0,
    "scene_detection_ms": 0.5,
}

SCENE_FRAMES = 50  # frames per shot in the generated clips: a hard cut every 2 s at 25 frames/s
CLIP_FPS = 25
TONE_HZ = 440.0
TONE_SAMPLE_RATE = 44100
PAN_PIXELS_PER_FRAME = 2
ECCV16_SIZE = 224
ECCV16_BINS = 313
ECCV16_TEMPERATURE = 0.38  # annealed-mean temperature of the paper
KIB = 1024
MIB = 1024 * 1024


class BenchPlan(NamedTuple):
    """How much each part of the benchmark runs; ``quick`` trades precision for time.

    ``memory_frames`` 0 leaves the memory measurement out; ``eccv16_size`` other than 224 is for tests.
    """

    warmup: int
    model_frames: int
    scene_frames: int
    eccv16_frames: int
    clip_frames_128: int
    clip_frames_720p: int
    memory_frames: int
    memory_size: tuple[int, int]
    memory_factor: int = 10
    eccv16_size: int = ECCV16_SIZE


FULL_PLAN = BenchPlan(warmup=10, model_frames=200, scene_frames=400, eccv16_frames=5, clip_frames_128=600,
                      clip_frames_720p=250, memory_frames=30, memory_size=(640, 360))
QUICK_PLAN = BenchPlan(warmup=5, model_frames=60, scene_frames=150, eccv16_frames=2, clip_frames_128=200,
                       clip_frames_720p=75, memory_frames=15, memory_size=(640, 360))


# ----------------------------------------------------------------------------------------- machine


INDEPENDENT_ONLY = ", independent only"  # end-to-end runs without a dependent model


def _first_cpu() -> dict[str, str]:
    """The fields /proc/cpuinfo gives its first processor (none where it is missing)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip() and fields:
                break
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def cpu_model() -> str:
    import platform

    return _first_cpu().get("model name") or platform.processor() or platform.machine()


SPEED_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd")


def cpu_generation() -> dict:
    """The CPU's family and model numbers and the vector instructions that set a model call's speed: machines
    of one name ("AMD EPYC") ran the models at twice the speed of each other (probe 89), and a reader of
    two benchmarks needs to tell them apart."""
    fields = _first_cpu()
    if not fields:
        return {}
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    return {"family": fields.get("cpu family"), "model": fields.get("model"),
            "features": [name for name in SPEED_FEATURES if name in flags]}


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_info(device: str) -> dict:
    import platform

    import cv2
    import torch

    info = {
        "cpu": cpu_model(),
        "cpu_generation": cpu_generation(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "device": device,
    }
    try:
        from rehue.inference.colorizer import import_onnxruntime

        info["onnxruntime"] = import_onnxruntime().__version__
    except ImportError:
        info["onnxruntime"] = None
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def peak_rss_bytes() -> int:
    """The process's peak resident memory (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * KIB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * KIB


# ------------------------------------------------------------------------------------------- clips


def _texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth colourful picture with a few sharp-edged blocks, like a photo's mix of gradients and edges."""
    import numpy as np

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy = rng.uniform(0.005, 0.05, 2)
        channels.append(127 + 90 * np.sin(xx * fx + yy * fy + rng.uniform(0, 2 * np.pi)))
    picture = np.stack(channels, -1)
    for _ in range(6):
        top, left = rng.integers(0, height // 2), rng.integers(0, width // 2)
        picture[top : top + height // 4, left : left + width // 4] = rng.uniform(20, 235, 3)
    return picture.astype(np.uint8)


def clip_frames(count: int, height: int, width: int, seed: int = 0):
    """``count`` RGB frames: each shot pans across its own texture; a hard cut every ``SCENE_FRAMES``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pan = PAN_PIXELS_PER_FRAME * SCENE_FRAMES
    texture = None
    for index in range(count):
        step = index % SCENE_FRAMES
        if step == 0:
            texture = _texture(height + pan, width + pan, rng)
        offset = PAN_PIXELS_PER_FRAME * step
        yield np.ascontiguousarray(texture[offset // 2 : offset // 2 + height, offset : offset + width])


def make_clip(path: Path, count: int, width: int, height: int, *, audio: bool = True, seed: int = 0) -> Path:
    """Write a generated gray H.264 clip (with a stereo AAC tone) to ``path``."""
    from fractions import Fraction

    import av
    import numpy as np

    from rehue.color.lab import rgb_to_gray

    time_base = Fraction(1, CLIP_FPS)
    samples_per_frame = TONE_SAMPLE_RATE // CLIP_FPS
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=CLIP_FPS, options={"preset": "ultrafast", "crf": "20"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = time_base
        sound = container.add_stream("aac", rate=TONE_SAMPLE_RATE, layout="stereo") if audio else None
        for index, rgb in enumerate(clip_frames(count, height, width, seed)):  # a gray film, as rehue colours
            frame = av.VideoFrame.from_ndarray(np.repeat(rgb_to_gray(rgb)[..., None], 3, axis=2), format="rgb24")
            frame.pts, frame.time_base = index, time_base
            container.mux(video.encode(frame))
            if sound is not None:
                first = index * samples_per_frame
                t = np.arange(first, first + samples_per_frame) / TONE_SAMPLE_RATE
                tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
                chunk = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                chunk.sample_rate, chunk.pts = TONE_SAMPLE_RATE, first
                chunk.time_base = Fraction(1, TONE_SAMPLE_RATE)
                container.mux(sound.encode(chunk))
        container.mux(video.encode(None))
        if sound is not None:
            container.mux(sound.encode(None))
    return path


# ------------------------------------------------------------------------------------------ models


def make_random_models(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Randomly initialised independent and dependent generators of the shipped architecture, saved the
    way shipped models are; BatchNorm statistics are randomised too so no layer is an identity."""
    import torch

    from rehue.models import ModelCard, create_model, save_model

    paths = []
    for role, in_channels in (("independent", 1), ("dependent", 3)):
        torch.manual_seed(seed + in_channels)
        model = create_model(SHIPPED_ARCHITECTURE["architecture"], in_channels=in_channels,
                             size=SHIPPED_ARCHITECTURE["size"], width=SHIPPED_ARCHITECTURE["width"])
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 2.0)
        card = ModelCard(SHIPPED_ARCHITECTURE["architecture"], in_channels, SHIPPED_ARCHITECTURE["size"],
                         SHIPPED_ARCHITECTURE["width"], role=role)
        paths.append(save_model(model.eval(), card, folder / f"random-{role}.safetensors"))
    return paths[0], paths[1]


def build_eccv16(device: str = "cpu"):
    """The ECCV16 "Colorful Image Colorization" network (Zhang, Isola, Efros 2016), random weights.

    Eight conv blocks, each ending in BatchNorm (block 8 instead upsamples and predicts): 1x224x224 L
    in; blocks 1-3 halve the resolution, blocks 5-6 use dilation 2 at 28x28, block 8 deconvolves to
    56x56 and predicts a distribution over 313 quantised a*b* bins; the annealed-mean softmax (T=0.38)
    and a 1x1 convolution holding the bin centres decode it to a*b*, upsampled back to 224.
    """
    import torch
    from torch import nn

    def block(cin, cout, count, *, stride_last=1, dilation=1, norm=True):
        layers = []
        for index in range(count):
            stride = stride_last if index == count - 1 else 1
            layers += [nn.Conv2d(cin if index == 0 else cout, cout, 3, stride, dilation, dilation=dilation),
                       nn.ReLU(inplace=True)]
        if norm:
            layers.append(nn.BatchNorm2d(cout))
        return layers

    class ECCV16(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                *block(1, 64, 2, stride_last=2), *block(64, 128, 2, stride_last=2),
                *block(128, 256, 3, stride_last=2), *block(256, 512, 3),
                *block(512, 512, 3, dilation=2), *block(512, 512, 3, dilation=2), *block(512, 512, 3),
                nn.ConvTranspose2d(512, 256, 4, 2, 1), nn.ReLU(inplace=True),
                *block(256, 256, 2, norm=False), nn.Conv2d(256, ECCV16_BINS, 1))
            self.decode_ab = nn.Conv2d(ECCV16_BINS, 2, 1, bias=False)
            self.upsample = nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False)

        def forward(self, lightness):
            probabilities = torch.softmax(self.features(lightness) / ECCV16_TEMPERATURE, dim=1)
            return self.upsample(self.decode_ab(probabilities))

    return ECCV16().to(device).eval()


# ---------------------------------------------------------------------------------------- measuring


def summarise_ms(seconds: list[float]) -> dict:
    """The median and the 90th percentile of ``seconds``, in milliseconds. The percentile interpolates
    between the samples (numpy's default), so it is never below the median; the index
    ``int(0.9 * (n - 1))`` it replaced rounded down, to the smaller of two samples (a p90 under the median)."""
    import statistics

    import numpy as np

    ms = [1000 * value for value in seconds]
    return {"median_ms": round(statistics.median(ms), 3), "p90_ms": round(float(np.percentile(ms, 90)), 3),
            "frames": len(ms)}


def time_calls(call, inputs: list, warmup: int) -> list[float]:
    """Seconds per call of ``call(item)`` over ``inputs``, after ``warmup`` untimed calls."""
    for item in inputs[:warmup]:
        call(item)
    times = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        times.append(time.perf_counter() - started)
    return times


def bench_models(independent, dependent, frames: list[np.ndarray], warmup: int) -> dict:
    """Per-frame generator times as the video pipeline calls them: one letterboxed frame at a time."""
    from rehue.inference.colorizer import letterbox

    small = [letterbox(gray, independent.size)[0][None] for gray in frames]
    results = {"independent_model": summarise_ms(time_calls(independent.predict_ab, small, warmup))}
    if dependent is not None:
        previous = [independent.predict_ab(small[0])]

        def dependent_step(gray_small):
            previous[0] = dependent.predict_ab(gray_small, previous[0])

        results["dependent_model"] = summarise_ms(time_calls(dependent_step, small, warmup))
    return results


def bench_scene_detection(frames: list[np.ndarray], warmup: int) -> dict:
    """Per-frame time of ``SceneDetector.push`` for each scene mode, on working-size frames with cuts."""
    from rehue.video.scenes import SCENE_MODES, SceneDetector

    results = {}
    for mode in SCENE_MODES:
        detector = SceneDetector(mode)
        times = time_calls(detector.push, frames, warmup)
        detector.flush()
        results[mode] = summarise_ms(times)
    return results


def bench_eccv16(device: str, frames: int, size: int = ECCV16_SIZE) -> dict:
    import torch

    model = build_eccv16(device)
    lightness = torch.randn(1, 1, size, size, device=device)

    def forward(_):
        with torch.inference_mode():
            model(lightness).cpu()

    return summarise_ms(time_calls(forward, [None] * frames, warmup=1))


def bench_end_to_end(source: Path, target: Path, colorizer, dependent_model: str) -> dict:
    """Frames per second of ``colorize_video`` (model loading excluded), and the CPU time it used per
    frame: on a shared machine the CPU time varies less than the wall time, and ``usable cores x 1000 /
    CPU ms`` bounds the frame rate the same work could reach on the idle machine."""
    from rehue.video.pipeline import colorize_video

    load_before = load_average()
    cpu_at: list[float] = [time.process_time()]  # at the start, then as each frame is done

    def done(frames: int, total) -> None:
        cpu_at.append(time.process_time())

    summary = colorize_video(source, target, colorizer=colorizer, dependent_model=dependent_model,
                             overwrite=True, progress=done, log=lambda message: None)
    # from the first frame done to the last: the setup (opening the film, finding its bars) and the join are
    # not colouring, and are not in its frame rate either (probe 46: a bound below the rate measured)
    span = cpu_at[1:] if len(cpu_at) > 2 else cpu_at
    cpu_ms = 1000 * (span[-1] - span[0]) / max(len(span) - 1, 1)
    return {"frames": summary.frames, "seconds": round(summary.seconds, 3), "fps": round(summary.fps, 2),
            "cpu_ms_per_frame": round(cpu_ms, 2),
            "fps_bound_from_cpu": round(usable_cores() * 1000 / cpu_ms, 1),
            "scenes": summary.scenes, "independent_frames": summary.independent_frames,
            "dependent_frames": summary.dependent_frames, "eased_frames": summary.eased_frames,
            "stage_ms": {name: round(value, 3) for name, value in summary.timings_ms.items()},
            "load_average_before": load_before}



def peak_rss_child(argv: list[str]) -> None:
    """Entry point of the fresh process that colours one clip and prints its peak memory as JSON."""
    source, target, model, dependent_model, device, backend, threads = argv
    from rehue.inference.colorizer import Colorizer
    from rehue.video.pipeline import colorize_video

    colorizer = Colorizer.load(model, device=device, backend=backend, threads=int(threads))
    loaded = peak_rss_bytes()
    summary = colorize_video(source, target, colorizer=colorizer, dependent_model=dependent_model,
                             overwrite=True, progress=False, log=lambda message: None)
    print(json.dumps({"frames": summary.frames, "peak_rss_mb": round(peak_rss_bytes() / MIB, 1),
                      "peak_rss_after_load_mb": round(loaded / MIB, 1)}))


def bench_peak_rss(clip: Path, target: Path, model: str, dependent_model: str, colorizer) -> dict:
    """Peak resident memory of a fresh process that loads the models and colours ``clip``."""
    import subprocess

    command = [sys.executable, "-c", "import sys; from rehue.bench import peak_rss_child; "
               "peak_rss_child(sys.argv[1:])", str(clip), str(target), model, dependent_model,
               colorizer.device, colorizer.backend, str(colorizer.threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode < 0:  # probe 144: a child the kernel ended lost every figure, said as "failed: []"
        import signal

        killer = -done.returncode
        name = signal.Signals(killer).name if killer in signal.Signals._value2member_map_ else f"signal {killer}"
        return {"failed": f"its process was ended by {name}" + (" (out of memory?)" if killer == signal.SIGKILL
                                                                 else "")}
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:]
        return {"failed": last[0] if last else f"its process ended with exit status {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------- driver


def run_benchmark(*, quick: bool = False, device: str = "cpu", model: str | None = None,
                  dependent_model: str | None = None, backend: str = "auto", threads: int | None = None,
                  workdir: str | os.PathLike | None = None, plan: BenchPlan | None = None, log=None,
                  progress: bool = True) -> dict:
    """Run every measurement and return them as one JSON-ready dict (see the module docstring).

    ``model``/``dependent_model``: shipped names or paths; None means randomly initialised generators
    of the shipped architecture. ``backend`` and ``threads`` go to ``Colorizer.load`` (None: its
    default). ``plan`` overrides the frame counts (tests use a tiny one). Its lines of what it measures go to
    ``log``, else to stderr, or with ``progress`` off to the ``rehue`` logger at INFO (``rehue.progress.lines_to``).
    """
    check_flags(quick=quick, progress=progress)
    from rehue.inference.colorizer import BACKENDS, check_threads

    if device not in ("cpu", "cuda") and not (device.startswith("cuda:") and device[5:].isdigit()):
        raise UsageError(f"the benchmark runs on cpu, cuda or cuda:N, not {device!r}")  # probe 89: cuda:abc
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if threads is not None:
        check_threads(threads)
    if dependent_model is not None and model is None:
        raise UsageError("--dependent-model goes with --model: without it the benchmark times random generators "
                         "of its own, a dependent one among them")
    log = lines_to(log, progress)
    return _run_benchmark(quick, device, model, dependent_model, backend, threads, workdir, plan, log)


def _run_benchmark(quick, device, model, dependent_model, backend, threads, workdir, plan, log) -> dict:
    import tempfile

    from rehue.inference.colorizer import DEFAULT_MODEL_THREADS, Colorizer, resolve_device
    from rehue.video.pipeline import load_dependent

    plan = plan or (QUICK_PLAN if quick else FULL_PLAN)
    device = resolve_device(device)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rehue-bench-", dir=workdir) as folder:
        folder = Path(folder)
        if model is None:
            independent_path, dependent_path = (str(path) for path in make_random_models(folder))
            dependent_spec = dependent_path
        else:
            independent_path, dependent_spec = str(model), dependent_model or "default"
        results = {"machine": machine_info(device), "plan": plan._asdict(), "quick": quick,
                   "models": "random gen2 width 16 at 128" if model is None else
                   {"independent": independent_path, "dependent": dependent_spec},
                   "load_average_start": load_average(), "thesis": THESIS, "targets": TARGETS}
        # a dependent model as --model is refused before a note on it, or a line of measuring (probe 104)
        independent = Colorizer.load_independent(independent_path, device=device, backend=backend,
                                                 threads=threads or DEFAULT_MODEL_THREADS)
        results["machine"].update(model_backend=independent.backend, model_threads=independent.threads)
        dependent = load_dependent(dependent_spec, independent, log)
        if model is not None:  # as the clips were coloured, a shipped model by its name (probe 160: "default")
            results["models"] = {"independent": independent.name if independent.shipped else independent_path,
                                 "dependent": "none" if dependent is None else
                                 dependent.name if dependent.shipped else dependent_spec}
        size = independent.size
        results["model_size"] = size

        log("bench: generator and scene detection per-frame times")
        count = max(plan.model_frames, plan.scene_frames)
        frames = [rgb[..., 1].copy() for rgb in clip_frames(count, size, size)]
        per_frame = bench_models(independent, dependent, frames[: plan.model_frames], plan.warmup)
        per_frame["scene_detection"] = bench_scene_detection(frames[: plan.scene_frames], plan.warmup)
        log("bench: ECCV16 per-frame time")
        per_frame["eccv16"] = bench_eccv16(device, plan.eccv16_frames, plan.eccv16_size)
        results["per_frame"] = per_frame

        # with a dependent model frames within a scene form a chain; without one (the shipped set) the
        # independent model colours several frames at once, so both ways are measured
        modes = [("", dependent_spec)] if dependent is not None else []
        modes.append((INDEPENDENT_ONLY, "none"))
        end_to_end = {}
        for name, count, (width, height) in ((f"{size}x{size}", plan.clip_frames_128, (size, size)),
                                             ("1280x720", plan.clip_frames_720p, (1280, 720))):
            clip = make_clip(folder / f"clip-{name}.mp4", count, width, height)
            for suffix, spec in modes:
                log(f"bench: end to end, {count} frames at {name}{suffix}")
                end_to_end[name + suffix] = bench_end_to_end(clip, folder / f"out-{name}.mp4", independent, spec)
        results["end_to_end"] = end_to_end

        memory = None
        if plan.memory_frames:
            memory = {}
            width, height = plan.memory_size
            lengths = (("short", plan.memory_frames), ("long", plan.memory_frames * plan.memory_factor))
            for name, count in lengths:
                log(f"bench: peak memory, {count} frames at {width}x{height} in a fresh process")
                clip = make_clip(folder / f"memory-{name}.mp4", count, width, height)
                measured = bench_peak_rss(clip, folder / f"memory-out-{name}.mp4", independent_path,
                                          dependent_spec, independent)
                if "failed" in measured:  # the other figures stand
                    log(f"warning: the peak memory was not measured: {measured['failed']}")
                    memory = {"not_measured": measured["failed"]}
                    break
                memory[name] = measured
            else:
                memory["growth_mb"] = round(memory["long"]["peak_rss_mb"] - memory["short"]["peak_rss_mb"], 1)
        results["peak_memory"] = memory
    results["load_average_end"] = load_average()
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def format_report(results: dict) -> str:
    """The results as a plain-text table, rehue beside the thesis and the targets."""
    per_frame, end_to_end, memory = results["per_frame"], results["end_to_end"], results["peak_memory"]
    working = next(iter(end_to_end))  # the clip at the models' working size comes first
    size = working.removesuffix(INDEPENDENT_ONLY)  # the models' working size, "128x128"
    machine = results["machine"]

    def ms(entry):
        return f"{entry['median_ms']:.2f} ms" if entry else "-"

    rows = [
        (f"dependent model at {size}, per frame", ms(per_frame.get("dependent_model")),
         f"{THESIS['dependent_model_ms']} ms", ""),
        (f"independent model at {size}, per frame", ms(per_frame["independent_model"]),
         f"{THESIS['independent_model_ms']} ms", ""),
        ("scene detection (robust), per frame", ms(per_frame["scene_detection"]["robust"]),
         f"{THESIS['scene_detection_ms']} ms", f"< {TARGETS['scene_detection_ms']} ms"),
        ("scene detection (thesis), per frame", ms(per_frame["scene_detection"]["thesis"]), "", ""),
        ("ECCV16 (Zhang et al.) at 224, per frame", ms(per_frame["eccv16"]), "", ""),
    ]
    for name, entry in end_to_end.items():
        at_working_size = name.startswith(working.removesuffix(INDEPENDENT_ONLY))
        target = TARGETS["end_to_end_fps_128" if at_working_size else "end_to_end_fps_720p"]
        rows.append((f"end to end, {_clip_named(name)}",
                     f"{entry['fps']:.1f} frames/s", f"{THESIS['end_to_end_fps']} frames/s" if name == working else "",
                     f">= {target:.0f} frames/s"))
    if memory and "not_measured" in memory:
        rows.append(("peak memory", "not measured", "", ""))
    elif memory:
        for name, target in (("short", ""), ("long", "flat in clip length")):
            entry = memory[name]
            rows.append((f"peak memory, {entry['frames']} frames", f"{entry['peak_rss_mb']:.0f} MiB", "",
                         target))
    header = ("measure", "rehue (this machine)", f"thesis ({THESIS['hardware']})", "target")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    generation = machine.get("cpu_generation") or {}  # absent from an older rehue's JSON
    hardware = (f" (family {generation['family']} model {generation['model']}; "
                f"{', '.join(generation['features']) or 'no vector extensions listed'})"
                if generation.get("family") else "") + (f", GPU {machine['gpu']}" if machine.get("gpu") else "")
    lines += [
        "",
        f"machine: {machine['cpu']}, {machine['usable_cores']} usable of {machine['logical_cores']} logical "
        f"cores{hardware}; device {machine['device']}",
        _models_line(results),
        f"software: torch {machine['torch']} ({machine['torch_threads']} threads, "
        f"{machine['torch_interop_threads']} inter-op), "
        f"onnxruntime {machine['onnxruntime'] or 'not installed'}, "
        f"OpenCV {machine['opencv']}, Python {machine['python']}",
        f"load average at start {results['load_average_start']}, at end {results['load_average_end']}; "
        f"{results['seconds']:.0f} s in all" + ("; --quick: fewer frames, each figure less sure" if results.get("quick")
                                               else ""),
    ]
    for name, entry in end_to_end.items():
        stages = ", ".join(f"{stage} {value:.2f}" for stage, value in entry["stage_ms"].items())
        lines.append(f"{_clip_named(name)}: {entry['frames']} frames in {entry['seconds']:.2f} s, "
                     f"{entry['cpu_ms_per_frame']:.1f} CPU ms per frame (at most "
                     f"{entry['fps_bound_from_cpu']:.0f} frames/s on these cores idle); "
                     f"mean ms per call: {stages}")
    return "\n".join(lines)


def bench_plot(results: dict, path: str | Path, overwrite: bool = False) -> Path:
    """The results as a picture: each step's time per frame beside the thesis's (a log scale: 0.1 ms to half a
    second), and each clip's frames per second beside its target and the thesis's 37."""
    from rehue.data.images import check_output_path
    from rehue.evaluation.report import PLOT_DPI, matplotlib_parts, save_figure

    _check_name(path, "the plot is a PNG", ".png")
    check_output_path(path, overwrite)
    Figure, FigureCanvasAgg, _ = matplotlib_parts()
    per_frame, end_to_end = results["per_frame"], results["end_to_end"]
    size = next(iter(end_to_end)).removesuffix(INDEPENDENT_ONLY)
    steps = [(f"dependent model at {size}", per_frame.get("dependent_model"), THESIS["dependent_model_ms"]),
             (f"independent model at {size}", per_frame["independent_model"], THESIS["independent_model_ms"]),
             ("scene detection (robust)", per_frame["scene_detection"]["robust"], THESIS["scene_detection_ms"]),
             ("scene detection (thesis)", per_frame["scene_detection"]["thesis"], None),
             ("ECCV16 at 224", per_frame["eccv16"], None)]
    steps = [(name, entry["median_ms"], thesis) for name, entry, thesis in steps if entry]
    figure = Figure(figsize=(10.0, 7.0), dpi=PLOT_DPI)
    FigureCanvasAgg(figure)
    times, rates = figure.subplots(2, 1)
    places = range(len(steps))
    times.barh(places, [ms for _, ms, _ in steps], color="tab:blue", label="rehue (this machine)")
    thesis = [(place, ms) for place, (_, _, ms) in zip(places, steps, strict=True) if ms is not None]
    times.scatter([ms for _, ms in thesis], [place for place, _ in thesis], marker="x", color="black", zorder=3,
                  label=f"thesis ({THESIS['hardware']})")
    times.set_yticks(list(places), [name for name, _, _ in steps])
    times.invert_yaxis()
    times.set_xscale("log")
    times.set_xlabel("median ms per frame (log scale)")
    times.set_title("Each step, per frame", fontsize=10)
    times.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    clips = list(end_to_end)
    fps = [end_to_end[name]["fps"] for name in clips]
    places = range(len(clips))
    rates.barh(places, fps, color="tab:green")
    for place, name in zip(places, clips, strict=True):
        at_working_size = name.startswith(size)
        target = TARGETS["end_to_end_fps_128" if at_working_size else "end_to_end_fps_720p"]
        rates.plot([target, target], [place - 0.4, place + 0.4], color="black", linewidth=2)
        if name == clips[0]:  # the thesis measured its own size only (probe 120: the line ran across 720p's rows),
            # its whole system (probe 232: beside the independent model alone too, where the table says none)
            rates.plot([THESIS["end_to_end_fps"]] * 2, [place - 0.45, place + 0.45], color="gray", linestyle="--")
        rates.annotate(f"{end_to_end[name]['fps']:.0f}", (end_to_end[name]["fps"], place), va="center", fontsize=8,
                       xytext=(3, 0), textcoords="offset points",
                       bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})  # readable over a target line
    # the thesis's size, whatever the models' (probe 144: "thesis at 32x32" of a 32x32 model's bench)
    rates.plot([], [], color="gray", linestyle="--",
               label=f"thesis at {THESIS_SIZE}: {THESIS['end_to_end_fps']:g} frames/s")
    rates.plot([], [], color="black", linewidth=2, label="target")
    rates.set_yticks(list(places), [_clip_named(name) for name in clips])
    rates.invert_yaxis()
    rates.set_xlabel("frames per second, end to end")
    rates.set_title("Whole clips, end to end: decoding, scenes, models, compose and encoding", fontsize=10)
    rates.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    machine = results["machine"]
    # the models and how they ran, as the report says them (probe 232: one's own models read as a default run's)
    figure.suptitle(f"rehue bench{' --quick' if results.get('quick') else ''}: {machine['cpu']}, "
                    f"{machine['usable_cores']} cores, device {machine['device']}\n{_models_line(results)}",
                    fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)


def _check_name(path, what: str, extension: str) -> None:
    """Probe 110: PNG bytes under .jpg, .svg or no extension; probe 160: JSON under .png, taken for a picture;
    probe 172: `--json r.json/`, a folder as typed, written as the file r.json."""
    from rehue.data.images import typed_as_folder

    if typed_as_folder(path):
        raise UsageError(f"{path}: names a folder, as typed, and {what}: name a file {extension}")
    if not Path(path).name.lower().endswith(extension):
        raise UsageError(f"{path}: {what}; name it {extension}")


def _clip_named(name: str) -> str:
    """An end-to-end run's name, as its JSON keys it ("128x128, independent only"), for a person: "128x128
    clip with audio, independent model only" (probe 89: "128x128, independent only clip"). Every clip the
    benchmark makes has sound (``make_clip``; probe 144: the working size's was said to have none)."""
    size = name.removesuffix(INDEPENDENT_ONLY)
    return f"{size} clip with audio" + (", independent model only" if size != name else "")


def _models_line(results: dict) -> str:
    """The models a benchmark ran and how, as its report and its plot say them."""
    machine = results["machine"]
    return (f"models: {_models_named(results['models'])}, run by {machine['model_backend']} with "
            f"{counted(machine['model_threads'], 'thread')} per call")


def _models_named(models) -> str:
    """The models a benchmark ran, for a person: "run2 (independent), none (dependent)", not a dict."""
    if isinstance(models, dict):
        return ", ".join(f"{spec} ({role})" for role, spec in models.items())
    return str(models)


def write_json(results: dict, path: Path, overwrite: bool = False) -> Path:
    """Write ``results`` to ``path`` through a temp file beside it, so a failed run leaves no half file; an
    existing file is replaced only with ``overwrite``."""
    from rehue.data.images import check_output_path, move_into_place, temp_path_for

    path = Path(path)
    check_output_path(path, overwrite)
    temp = temp_path_for(path)
    try:
        temp.write_text(json.dumps(results, indent=2) + "\n")
        move_into_place(temp, path, overwrite)
    except OSError as exc:  # probe 207: a full disk was "rehue: error: No space left on device", no file named
        raise RehueError(f"cannot write ({exc.strerror or exc})", path) from None
    finally:
        temp.unlink(missing_ok=True)
    return path


# ---------------------------------------------------------------------------------------------- CLI


def add_bench_parser(sub):
    """Register ``rehue bench`` on the CLI's subcommand parsers (imports nothing heavy)."""
    parser = sub.add_parser("bench", help="measure colouring speed and memory on this machine")
    parser.add_argument("--quick", action="store_true",
                        help="fewer frames: about a third to a half of them, in about half the time")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--plot", default=None,
                        help="also draw the figures into this PNG: each step's time beside the thesis's, each "
                             "clip's frames per second beside its target")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json or --plot file")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default %(default)s)")
    parser.add_argument("--model", default=None,
                        help="independent model (shipped name or path); default: random gen2 weights")
    parser.add_argument("--dependent-model", default=None,
                        help="dependent model with --model (default: the shipped one, which pairs with the shipped "
                        "independent model alone: with another --model, none; 'none': no dependent)")
    parser.add_argument("--backend", default="auto",
                        help="how the models run: auto (ONNX Runtime on the CPU when installed, else "
                        "PyTorch), onnxruntime or torch")
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads per model call (default: rehue's default for videos, 1)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no line for each measurement as it starts (its notes and warnings still)")
    parser.set_defaults(handler=cmd_bench)
    return parser


def _model_files(*specs) -> tuple[Path, ...]:
    """The weights and configs of the models named, and of every shipped model (named as "default", or the
    dependent model left to its default: probe 210), which no --json or --plot may replace (probe 206: `--json
    m.json --overwrite` of the model m.safetensors wrote the results over its config, and it loaded no more);
    a name that names no model is said as the models load."""
    from rehue.models.io import resolve_model_path, shipped_models

    weights = list(shipped_models().values())
    for spec in specs:
        if spec not in (None, "none", "default"):
            with contextlib.suppress(RehueError):
                weights.append(resolve_model_path(spec))
    return tuple(file for path in weights for file in (path, path.with_suffix(".json")))


def cmd_bench(args) -> int:
    from rehue.data.images import check_output_path, remove_stale_files

    if args.plot is not None:
        _check_name(args.plot, "the plot is a PNG", ".png")
    if args.json is not None and not Path(args.json).is_dir():  # a folder is said to be one, below
        _check_name(args.json, "the results are JSON", ".json")
    for path in (args.json, args.plot):  # before the minutes of measuring, not after (probe 67)
        if path is not None:
            check_output_path(path, args.overwrite, inputs=_model_files(args.model, args.dependent_model),
                              inputs_are="a model's weights or config, which rehue reads")
    if args.json is not None and args.plot is not None and Path(args.json).resolve() == Path(args.plot).resolve():
        raise UsageError(f"{args.json}: named by both --json and --plot; name two files")
    remove_stale_files([path for path in (args.json, args.plot) if path is not None], say)
    log = say if not args.no_progress else lambda line: None if line.startswith("bench: ") else say(line)
    results = run_benchmark(quick=args.quick, device=args.device, model=args.model,
                            dependent_model=args.dependent_model, backend=args.backend, threads=args.threads, log=log)
    # the files first: minutes of measuring are kept where the table cannot be printed (probe 130: > /dev/full),
    # and in the table and the plot where the JSON cannot be written (probe 207: a full disk lost them all)
    written, failed = [], []
    try:
        for path, write, said in ((args.json, write_json, "results written to"),
                                  (args.plot, bench_plot, "plot drawn into")):
            if path is not None:
                try:
                    written.append(f"{said} {write(results, path, args.overwrite)}")
                except RehueError as exc:
                    failed.append(exc)
        print(format_report(results))
        while written:
            say(written[0])
            written.pop(0)
    except BaseException as stop:  # Ctrl-C as the plot is drawn or the table printed, or a full standard output
        # (probes 232, 234, 236: the files kept without a word, and the same command refused, "output exists")
        after = " before the interrupt" if isinstance(stop, KeyboardInterrupt) else ""
        for line in written:
            say(f"note: {line}{after}")
        for exc in failed:
            say(f"rehue: error: {exc}")
        raise
    if failed:
        for exc in failed[:-1]:
            say(f"rehue: error: {exc}")
        raise failed[-1]
    return 0
