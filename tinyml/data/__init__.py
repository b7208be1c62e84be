"""Datasets: an explicit registry of loaders that all return a `Dataset`.

Built-in names: digits (offline default), images, wav, csv, speech_commands,
tts_kws (synthetic speech, offline), cifar10.
"""
from .dataset import Dataset
from .registry import available, load_dataset

__all__ = ["Dataset", "available", "load_dataset"]
