"""Lazy, single place to import TensorFlow and Keras.

The whole pipeline uses tf-keras (Keras 2): tensorflow-model-optimization's
pruning and QAT do not support Keras 3. TF_USE_LEGACY_KERAS must be set before
TensorFlow is first imported, so every ML module gets TF from here, inside
functions, never at module top level (keeps `tinyml --help` instant).
"""
from __future__ import annotations

import os
from typing import Any


_TF: Any = None


def tf() -> Any:
    # Cached, so code traced by tf.function (losses call this) never touches os.environ.
    global _TF
    if _TF is None:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as _tf
        _TF = _tf
    return _TF


def keras() -> Any:
    tf()
    import tf_keras as _keras
    return _keras


def tfmot() -> Any:
    tf()
    import tensorflow_model_optimization as _tfmot
    return _tfmot


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TF and ask TF for deterministic ops."""
    import random

    import numpy as np
    t = tf()
    random.seed(seed)
    np.random.seed(seed)
    t.random.set_seed(seed)
    try:
        t.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def settings_if_loaded() -> dict[str, Any]:
    """TensorFlow's determinism and thread settings if it is already loaded; {} otherwise
    (never imports it: a light command records no TF settings)."""
    import sys
    t = sys.modules.get("tensorflow")
    if t is None:
        return {}
    try:
        from tensorflow.python.framework import config as tf_config  # no public getter
        return {"op_determinism": bool(tf_config.is_op_determinism_enabled()),
                "intra_op_threads": t.config.threading.get_intra_op_parallelism_threads(),
                "inter_op_threads": t.config.threading.get_inter_op_parallelism_threads(),
                "onednn_enabled": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"}
    except Exception:  # an unusual TF build: record what we have
        return {}
