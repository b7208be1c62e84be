"""The teacher: optional shift augmentation (training only), label smoothing."""
import numpy as np

from tinyml.config import schema as config
from tinyml.core import tfcompat
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


def test_classification_loss_smooths_labels():
    from tinyml.train import fit
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]], np.float32)
    y = np.array([0, 2])
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    plain = fit.classification_loss(3, 0.0)
    np.testing.assert_allclose(float(np.mean(plain(y, logits))), -np.mean(logp[[0, 1], y]), rtol=1e-5)
    target = 0.9 * np.eye(3)[y] + 0.1 / 3
    smoothed = fit.classification_loss(3, 0.1)(y, logits).numpy()
    np.testing.assert_allclose(smoothed, -(target * logp).sum(axis=1), rtol=1e-5)


def test_teacher_defaults_smooth_labels_and_keep_the_last_epoch():
    # digits, 10 seeds (benchmarks/quality.py): see the comments in config.TeacherConfig
    cfg = config.TeacherConfig()
    assert cfg.label_smoothing == 0.1 and cfg.restore_best is False
