"""Whether a training step can fit in this machine's memory, asked before the first batch is drawn.

On a CPU, Linux lends memory it does not have and then kills the process that touches too much of it: a batch
size of 100,000 in a grid file ended in the kernel's kill, exit 137 and no word (probe 133), where a GPU's
allocator raises an error that says "out of memory". The layers' outputs for one sample, worked out on PyTorch's
meta device (shapes only: no memory, no arithmetic), times the batch size, is less than a training step
keeps for its backward pass; where even that exceeds the memory free, the run is refused before it starts.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from rehue.errors import RehueError

GIB = 1 << 30


@functools.lru_cache(maxsize=64)
def layer_output_bytes(name: str, in_channels: int, size: int, width: int | None, role: str) -> int:
    """Bytes of every layer's output for one sample of ``size`` x ``size``: what a training step keeps for its
    backward pass, at least (an in-place activation's output is its input's memory, counted once)."""
    import torch

    from rehue.models.registry import create_model

    with torch.device("meta"):
        model = create_model(name, in_channels=in_channels, size=size, width=width, role=role)
    total = 0

    def count(module, inputs, output) -> None:
        nonlocal total
        if isinstance(output, torch.Tensor) and not getattr(module, "inplace", False):
            total += output.numel() * output.element_size()

    for module in model.modules():
        if not list(module.children()):
            module.register_forward_hook(count)
    model.eval()  # one sample through BatchNorm
    with torch.no_grad():
        model(torch.empty(1, in_channels, size, size, device="meta"))
    return total


def free_memory_bytes(meminfo_file: Path = Path("/proc/meminfo"), cgroup: Path = Path("/sys/fs/cgroup")
                      ) -> int | None:
    """Memory this process may still take: what Linux says is available, with free swap, within the cgroup's
    limit (a container's; v2 at ``cgroup``, v1 in its ``memory`` folder); None where it cannot be read (not
    Linux)."""
    try:
        meminfo = meminfo_file.read_text()
    except OSError:
        return None
    fields = {}
    for line in meminfo.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0]) * 1024
    if "MemAvailable" not in fields:
        return None
    free = fields["MemAvailable"] + fields.get("SwapFree", 0)
    for folder, limit_name, usage_name, cache_name in (
            (cgroup, "memory.max", "memory.current", "inactive_file"),
            (cgroup / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")):
        try:
            limit = (folder / limit_name).read_text().strip()
            usage = (folder / usage_name).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit():  # the usage less the files' pages the kernel gives back first
            # (probe 135: a container that had read more than its limit of files was never free), as Docker does
            free = min(free, max(0, int(limit) - int(usage) + _stat_field(folder / "memory.stat", cache_name)))
        break
    return free


def _stat_field(path: Path, name: str) -> int:
    """A number in a cgroup's memory.stat, 0 where it cannot be read."""
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name and value.strip().isdigit():
                return int(value)
    except OSError:
        pass
    return 0


def _amount(size: int) -> str:
    return f"{size / GIB:,.1f} GiB" if size >= GIB else f"{size / (1 << 20):,.0f} MiB"


def check_training_memory(config, device: str, processes: int = 1, free: int | None = None) -> None:
    """Refuse a run on the CPU whose batch's layer outputs alone (the generator's, and the discriminator's on
    real and coloured pictures) exceed the memory free, shared by ``processes`` on this machine (torchrun's
    ``LOCAL_WORLD_SIZE`` where it is set: the processes of a run on several machines are not all here)."""
    local = os.environ.get("LOCAL_WORLD_SIZE", "")
    processes = min(processes, int(local)) if local.isascii() and local.isdigit() and int(local) > 0 else processes
    if not device.startswith("cpu"):
        return
    free = free_memory_bytes() if free is None else free
    if free is None:
        return
    per_sample = layer_output_bytes(config.generator, config.in_channels, config.size, config.width, "generator")
    if config.adversarial_weight > 0 or config.feature_matching > 0:
        per_sample += 2 * layer_output_bytes(config.discriminator, 3, config.size, config.disc_width or None,
                                             "discriminator")
    needed = per_sample * config.batch_size * processes
    if needed > free:
        shared = f" across its {processes} processes" if processes > 1 else ""
        raise RehueError(f"batch size {config.batch_size:,} on {config.size}x{config.size} crops needs at least "
                         f"{_amount(needed)} of memory{shared} for its layers' outputs alone, and this machine has "
                         f"{_amount(free)} free; a smaller batch size, size or width needs less", config.out or None)
