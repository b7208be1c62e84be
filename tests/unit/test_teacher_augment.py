"""The teacher's optional shift augmentation acts in training only."""
import numpy as np

from tinyml import config, tfcompat
from tinyml.train import models


def test_augment_shift_changes_training_inputs_not_inference():
    keras = tfcompat.keras()
    cfg = config.TeacherConfig(filters=[4], dense=8, augment_shift=0.25)
    m = models.build_teacher((8, 8, 1), 3, cfg)
    aug = m.get_layer("augment")
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(aug(x, training=False).numpy(), x)
    assert not np.array_equal(aug(x, training=True).numpy(), x)
    np.testing.assert_array_equal(m.predict(x, verbose=0), m.predict(x, verbose=0))
    plain = models.build_teacher((8, 8, 1), 3, config.TeacherConfig(filters=[4], dense=8, augment_shift=0.0))
    assert "augment" not in [layer.name for layer in plain.layers]
    assert isinstance(aug, keras.layers.RandomTranslation)
