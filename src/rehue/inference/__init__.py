"""Inference: load -> preprocess (L* at the working size) -> model -> postprocess onto full-res L*."""

from rehue.inference.colorizer import Colorizer, compose_full_resolution, letterbox

__all__ = ["Colorizer", "compose_full_resolution", "letterbox"]
