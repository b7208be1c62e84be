"""Models users bring: one module per format, into a full-int8 .tflite."""
