"""Whether a training step can fit in this machine's memory, asked before the first batch is drawn.

On a CPU, Linux lends memory it does not have and then kills the process that touches too much of it: a batch
size of 100,000 in a grid file ended in the kernel's kill, exit 137 and no word (probe 133), where a GPU's
allocator raises an error that says "out of memory". The layers' outputs for one sample, worked out on PyTorch's
meta device (shapes only: no memory, no arithmetic), times the batch size, is less than a training step
keeps for its backward pass; where even that exceeds the memory free, the run is refused before it starts.
"""

from __future__ import annotations

import functools
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


def free_memory_bytes() -> int | None:
    """Memory this process may still take: what Linux says is available, with free swap, within the cgroup's
    limit (a container's); None where it cannot be read (not Linux)."""
    try:
        meminfo = Path("/proc/meminfo").read_text()
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
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit, usage = Path(limit_file).read_text().strip(), Path(usage_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit() and usage.isdigit():
            free = min(free, max(0, int(limit) - int(usage)))
        break
    return free


def check_training_memory(config, device: str, processes: int = 1, free: int | None = None) -> None:
    """Refuse a run on the CPU whose batch's layer outputs alone (the generator's, and the discriminator's on
    real and coloured pictures) exceed the memory free, shared by ``processes`` on this machine."""
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
                         f"{needed / GIB:,.1f} GiB of memory{shared} for its layers' outputs alone, and this machine "
                         f"has {free / GIB:,.1f} GiB free; a smaller batch size, size or width needs less",
                         config.out or None)
