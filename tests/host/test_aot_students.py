"""The project's own student families (tinyml.train.models) compile with the AOT
compiler and match TFLM byte for byte (with the deployment Softmax appended)."""
from __future__ import annotations

import pytest

from aot_harness import assert_bit_exact, to_int8_tflite


@pytest.mark.parametrize("arch, shape", [("dscnn", (16, 16, 1)), ("cnn", (8, 8, 1)),
                                         ("mlp", (20,))])
def test_student_family_bit_exact(arch, shape):
    from tinyml.core.tfcompat import keras, seed_everything
    from tinyml.train.models import StudentSpec, build_student
    seed_everything(7)
    k = keras()
    m = build_student(StudentSpec(arch, 8, 3), shape, 10)
    m = k.Model(m.input, k.layers.Softmax()(m.output))
    res = assert_bit_exact(to_int8_tflite(m), n_inputs=6)
    assert res.ops[-1] == "SOFTMAX"
