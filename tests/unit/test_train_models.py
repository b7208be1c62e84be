"""model_stats (params, MACs, int8 size estimate) and budget sizing."""
import numpy as np
import pytest

from tinyml.core import tfcompat
from tinyml.config.schema import StudentConfig
from tinyml.core.errors import BudgetError
from tinyml.train import budget
from tinyml.train.models import StudentSpec, build_student, model_stats


def _hand_model():
    k = tfcompat.keras()
    L = k.layers
    inp = k.Input((8, 8, 1))
    x = L.Conv2D(4, 3, padding="same")(inp)            # 8*8*4*9*1 = 2304 MACs, 36+4 params
    x = L.BatchNormalization()(x)                      # folded: 0 params deployed
    x = L.ReLU()(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same")(x)  # 4*4*4*9 = 576 MACs, 36+4 params
    x = L.Conv2D(8, 1)(x)                              # 4*4*8*4 = 512 MACs, 32+8 params
    x = L.Flatten()(x)                                 # 128 features
    out = L.Dense(10)(x)                               # 128*10 = 1280 MACs, 1280+10 params
    return k.Model(inp, out)


def test_model_stats_hand_computed():
    m = _hand_model()
    st = model_stats(m)
    assert st["macs"] == 2304 + 576 + 512 + 1280
    assert st["params"] == 40 + 40 + 40 + 1290
    assert st["keras_params"] == 1410 + 16    # BN gamma/beta/mean/var of 4 channels


def test_int8_size_estimate_close_to_real_conversion():
    from tinyml.compress.quantize import to_int8_tflite, with_softmax
    tfcompat.seed_everything(0)
    m = build_student(StudentSpec("dscnn", 12, 1), (8, 8, 1), 10)
    rng = np.random.default_rng(0)
    # Non-trivial BN statistics and biases, as after training (zeros get deduplicated).
    m.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "variance" in v.name
                   else rng.normal(0, 0.3, w.shape).astype(np.float32)
                   for v, w in zip(m.weights, m.get_weights())])
    real = len(to_int8_tflite(with_softmax(m), rng.random((20, 8, 8, 1), dtype=np.float32)))
    est = model_stats(m)["int8_bytes_est"]
    assert abs(est - real) / real < 0.03, (est, real)


def _fits(st, cfg):
    return all(getattr(cfg, name) is None or st[key] <= getattr(cfg, name) for name, key, _ in budget.LIMITS)


@pytest.mark.parametrize("limits", [{"max_params": 3000, "max_bytes": None},
                                    {"max_macs": 20000, "max_bytes": 9000},
                                    {"max_bytes": 10000}])
def test_budget_picks_largest_fitting(limits):
    cfg = StudentConfig(arch="dscnn", **limits)
    spec, st = budget.size_student(cfg, (8, 8, 1), 10)
    assert spec.arch == "dscnn"
    assert _fits(st, cfg)
    # Nothing on the grid that fits has more parameters.
    for d in budget.DEPTHS["dscnn"]:
        for w in budget.WIDTHS:
            other = budget.candidate_stats(StudentSpec("dscnn", w, d), (8, 8, 1), 10)
            if _fits(other, cfg):
                assert other["params"] <= st["params"]


def test_budget_mlp_for_feature_vectors():
    spec, st = budget.size_student(StudentConfig(arch="auto", max_params=2000, max_bytes=None), (20,), 4)
    assert spec.arch == "mlp" and st["params"] <= 2000


def test_budget_impossible_names_limit_and_smallest():
    cfg = StudentConfig(arch="dscnn", max_params=50, max_bytes=None)
    smallest = min(budget.candidate_stats(StudentSpec("dscnn", w, d), (8, 8, 1), 10)["params"]
                   for d in budget.DEPTHS["dscnn"] for w in budget.WIDTHS)
    with pytest.raises(BudgetError) as e:
        budget.size_student(cfg, (8, 8, 1), 10)
    msg = str(e.value)
    assert f"max_params = 50 (smallest parameters achievable: {smallest:,})" in msg
    assert "max_macs" not in msg.split(".")[0]
    assert "int8 bytes" in msg and e.value.exit_code == 4


def test_budget_limits_each_possible_but_not_together():
    grid = [budget.candidate_stats(StudentSpec(a, w, d), (8, 8, 1), 10)
            for a in budget.AUTO_ORDER for d in budget.DEPTHS[a] for w in budget.WIDTHS]
    # The fewest MACs (an MLP) and the fewest params (a tiny CNN) are different models.
    min_macs = min(g["macs"] for g in grid)
    min_params = min(g["params"] for g in grid)
    assert not any(g["macs"] <= min_macs and g["params"] <= min_params for g in grid)
    cfg = StudentConfig(arch="auto", max_macs=min_macs, max_params=min_params, max_bytes=None)
    with pytest.raises(BudgetError, match="no single student meets all of these limits at once"):
        budget.size_student(cfg, (8, 8, 1), 10)


def test_budget_applies_to_the_channel_pruned_student():
    cfg = StudentConfig(arch="cnn", max_bytes=8000)
    plain, _ = budget.size_student(cfg, (8, 8, 1), 10)
    wide, st = budget.size_student(cfg, (8, 8, 1), 10, prune_sparsity=0.5)
    # The pruned student fits the budget; unpruned it would not: pruning buys width.
    assert _fits(st, cfg) and wide.width > plain.width
    assert not _fits(budget.candidate_stats(wide, (8, 8, 1), 10), cfg)
    from tinyml.compress.prune import plan_channels, shrink_channels
    model = build_student(wide, (8, 8, 1), 10)
    assert model_stats(shrink_channels(model, plan_channels(model, 0.5))) == st


def test_training_shows_epoch_progress_only_when_asked(capsys, monkeypatch):
    from tinyml.train import fit
    monkeypatch.setattr(fit, "PROGRESS_EVERY_S", 0.0)   # a line per epoch instead of every 10 s
    x = np.random.default_rng(0).random((32, 8, 8, 1), dtype=np.float32)
    y = np.arange(32) % 2
    loss = tfcompat.keras().losses.SparseCategoricalCrossentropy(from_logits=True)
    for progress in (False, True):
        model = build_student(StudentSpec("mlp", 4, 1), (8, 8, 1), 2)
        fit.train(model, x, y, x, y, loss=loss, epochs=3, batch_size=16, learning_rate=1e-3,
                  seed=0, progress=progress, desc="teach")
        err = capsys.readouterr().err
        # stderr is not a terminal here: plain lines, no bar
        if progress:
            assert "[teach] 1/3 epochs (33%)" in err and "[teach] 3/3 epochs (100%)" in err
        else:
            assert "[teach]" not in err
