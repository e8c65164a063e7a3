"""How good a colorization is: image metrics, video temporal stability, and the report on disk."""

from rehue.evaluation.metrics import (
    GRAY_BASELINE,
    PSNR_CAP_DB,
    ImageMetrics,
    MetricTable,
    TemporalStability,
    Verdict,
    ciede2000,
    colourfulness,
    evaluate_pair,
    gray_baseline,
    psnr,
    ssim,
    summarize,
    temporal_stability,
)
from rehue.evaluation.report import plot_lines, sample_grid, write_report

__all__ = [
    "GRAY_BASELINE",
    "PSNR_CAP_DB",
    "ImageMetrics",
    "MetricTable",
    "TemporalStability",
    "Verdict",
    "ciede2000",
    "colourfulness",
    "evaluate_pair",
    "gray_baseline",
    "plot_lines",
    "psnr",
    "sample_grid",
    "ssim",
    "summarize",
    "temporal_stability",
    "write_report",
]
