"""Pruning and int8 quantization (PTQ and QAT) of a trained student."""
