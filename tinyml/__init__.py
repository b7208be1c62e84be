"""tinyml: model to microcontroller, with measurements."""
__version__ = "0.1.0"
