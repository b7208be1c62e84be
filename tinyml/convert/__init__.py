"""Host checks of an int8 .tflite: ops, tensor arena, accuracy and runtime
parity (LiteRT vs the TFLM host runtime), golden vectors.

Entry point: `tinyml.convert.check.run_check`. Nothing here imports TensorFlow
at module level.
"""
