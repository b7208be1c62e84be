"""Importing this module registers every built-in loader (registry does it lazily)."""
from . import cifar10, csv_windows, digits, images, speech_commands, wav  # noqa: F401
