"""One registry of architectures, picked by name (like pix2pix's ``--netG`` or timm's ``create_model``)."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

from rehue.errors import UsageError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str  # "generator" or "discriminator"
    builder: Callable
    summary: str


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, role: str, summary: str):
    def wrap(builder):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        _REGISTRY[name] = ModelEntry(name, role, builder, summary)
        return builder

    return wrap


def list_models(role: str | None = None) -> list[str]:
    _load_builtin()
    return sorted(n for n, e in _REGISTRY.items() if role is None or e.role == role)


def model_entry(name: str) -> ModelEntry:
    _load_builtin()
    if not isinstance(name, str) or name not in _REGISTRY:  # probe 156: a list's TypeError, "unhashable type"
        raise UsageError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name: str, *, in_channels: int, size: int, width: int | None = None, role: str | None = None):
    """Build ``name`` for square ``size`` inputs with ``in_channels`` channels.

    Generators take L* (1 channel) or L* plus the previous frame's a*b* (3) and return a*b*;
    discriminators take a LAB image (3 channels) and return real/fake logits.
    """
    if role is not None and role not in ("generator", "discriminator"):  # probe 155: "choose one of: " and nothing
        raise UsageError(f"role must be 'generator' or 'discriminator', not {role!r}")
    for setting, value, least in (("in_channels", in_channels, 1), ("size", size, 32), ("width", width, 1)):
        if value is None and setting == "width":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:  # probe 155: a
            # TypeError of '<' for "64", a network of no channels for 0
            raise UsageError(f"{setting} must be a whole number of at least {least}, not {value!r}")
    entry = model_entry(name)
    if role is not None and entry.role != role:
        raise UsageError(f"{name!r} is a {entry.role}, not a {role}; choose one of: {', '.join(list_models(role))}")
    if size < 32 or size & (size - 1):
        raise UsageError(f"model size must be a power of two >= 32, not {size}")
    kwargs = {"in_channels": in_channels, "size": size}
    if width is not None:
        kwargs["width"] = width
    return entry.builder(**kwargs)


def _load_builtin():
    from rehue.models import discriminators, generators  # noqa: F401  (they register themselves)
