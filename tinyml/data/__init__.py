"""Datasets: a registry of loaders that all return a `Dataset`.

Built-in names: digits (offline default), images, wav, csv, speech_commands, cifar10.
"""
from .registry import Dataset, available, load_dataset, register

__all__ = ["Dataset", "available", "load_dataset", "register"]
