"""Two-phase fine-tuning: the frozen base and its batch-norm statistics really stay put."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pipeline.core.backbones import build_backbone  # noqa: E402
from pipeline.core.finetune import TrainingDiverged, two_phase_fit  # noqa: E402
from pipeline.core.model_params import BackboneParams, FinetuneParams  # noqa: E402

pytestmark = pytest.mark.train  # every test here fits a model


def _data(n=32, seed=0):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (n, 32, 32, 3)).astype("float32")
    y = x.mean(axis=(1, 2, 3)) / 255.0
    return tf.data.Dataset.from_tensor_slices((x, y.astype("float32"))).batch(8)


def _model():
    keras.utils.set_random_seed(1)
    backbone = build_backbone(BackboneParams(weights="none"), (32, 32, 3))
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(x))
    return model, backbone.get_layer("base")


def _batchnorm_stats(base):
    return [
        w.numpy().copy()
        for layer in base.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for w in (layer.moving_mean, layer.moving_variance)
    ]


def test_phase_one_leaves_the_base_and_its_batchnorm_statistics_untouched(tmp_path):
    model, base = _model()
    base_before = [w.copy() for w in base.get_weights()]
    stats_before = _batchnorm_stats(base)
    head_before = model.get_layer("head").get_weights()[0].copy()
    params = FinetuneParams(head_epochs=2, finetune_epochs=0, learning_rate=0.01)
    two_phase_fit(
        model,
        _data(),
        _data(seed=1),
        params,
        loss="mse",
        metrics=[],
        work_dir=tmp_path / "work",
        base=base,
        verbose=0,
    )
    assert all(np.array_equal(a, b) for a, b in zip(base_before, base.get_weights(), strict=True))
    assert all(
        np.array_equal(a, b) for a, b in zip(stats_before, _batchnorm_stats(base), strict=True)
    )
    assert not np.array_equal(head_before, model.get_layer("head").get_weights()[0])


def test_phase_two_trains_the_top_of_the_base_but_not_batchnorm(tmp_path):
    model, base = _model()
    stats_before = _batchnorm_stats(base)
    top_conv = [layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    bottom_conv = next(layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D))
    top_before, bottom_before = (
        top_conv.get_weights()[0].copy(),
        bottom_conv.get_weights()[0].copy(),
    )
    params = FinetuneParams(
        head_epochs=1, finetune_epochs=1, unfreeze=10, learning_rate=0.05, patience=5
    )
    history = two_phase_fit(
        model,
        _data(),
        _data(seed=1),
        params,
        loss="mse",
        metrics=[],
        work_dir=tmp_path / "work",
        base=base,
        verbose=0,
    )
    assert history["phase"] == [1, 2]
    assert not np.array_equal(top_before, top_conv.get_weights()[0])
    assert np.array_equal(bottom_before, bottom_conv.get_weights()[0])
    assert all(
        np.array_equal(a, b) for a, b in zip(stats_before, _batchnorm_stats(base), strict=True)
    )
    assert not (tmp_path / "work").exists()  # finished: nothing left to resume


@pytest.mark.parametrize(("target", "said"), [(np.nan, "NaN"), (3e38, "infinite")])
def test_a_diverging_run_fails_and_leaves_nothing_to_resume(tmp_path, target, said):
    import tensorflow as tf

    model, base = _model()
    x = np.ones((8, 32, 32, 3), "float32")
    diverging = tf.data.Dataset.from_tensor_slices((x, np.full(8, target, "float32"))).batch(4)
    with pytest.raises(TrainingDiverged, match=said):
        two_phase_fit(
            model,
            diverging,
            diverging,
            FinetuneParams(head_epochs=2),
            loss="mse",
            metrics=[],
            work_dir=tmp_path / "work",
            base=base,
            verbose=0,
        )
    assert not (tmp_path / "work").exists()


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_at_its_last_finished_epoch(tmp_path):
    params = FinetuneParams(head_epochs=4, finetune_epochs=0, patience=10)
    model, base = _model()
    with pytest.raises(KeyboardInterrupt):
        two_phase_fit(
            model,
            _data(),
            _data(seed=1),
            params,
            loss="mse",
            metrics=[],
            work_dir=tmp_path / "work",
            base=base,
            callbacks=[_Interrupt()],
            verbose=0,
        )
    seen = []
    counter = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    model, base = _model()
    history = two_phase_fit(
        model,
        _data(),
        _data(seed=1),
        params,
        loss="mse",
        metrics=[],
        work_dir=tmp_path / "work",
        base=base,
        callbacks=[counter],
        verbose=0,
    )
    assert seen[0] >= 1 and seen[-1] == 3  # did not start again from epoch 0
    # the epochs before the interruption are kept, each once, in order
    assert len(history["loss"]) == len(history["val_loss"]) == 4
    assert history["phase"] == [1, 1, 1, 1]
    assert not (tmp_path / "work").exists()  # finished: nothing left to resume
