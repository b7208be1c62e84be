"""Run report: metrics.json, Markdown, HTML and plots. Never imports TensorFlow."""
from .metrics import build_metrics
from .render import write_report

__all__ = ["build_metrics", "write_report"]
