"""Datasets: a registry of loaders that all return a `Dataset`."""
from .registry import Dataset, available, load_dataset, register

__all__ = ["Dataset", "available", "load_dataset", "register"]
