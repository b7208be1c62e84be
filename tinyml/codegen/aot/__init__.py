"""Ahead-of-time compiler: int8 .tflite -> plain C99 with a static memory plan.

    from tinyml.codegen.aot import compile_tflite
    res = compile_tflite(open("model_int8.tflite", "rb").read(), name="kws")
    res.files            # {"tm_aot_model.h": ..., "tm_aot_model.c": ...}
    res.peak_ram_bytes   # planned arena: activations + model in/out + scratch

The generated code is bit-exact with the TFLM runtime and needs the kernels in
firmware/runtime/aot/ (RUNTIME_DIR). No TensorFlow is imported here.
"""
from __future__ import annotations

from .compiler import RUNTIME_DIR, AotResult, compile_graph, compile_tflite

__all__ = ["compile_tflite", "compile_graph", "AotResult", "RUNTIME_DIR"]
