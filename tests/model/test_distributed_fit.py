"""`distributed_fit`, the loop that replaces Keras' `fit` on a cluster, gives what `fit` gives:
the same epochs and figures, the NaN stop, early stopping and resume from a backup.

It runs here on TensorFlow's default strategy (one device); the two-worker test runs it on a
cluster.
"""

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from pipeline.core.finetune import _epoch_logger, read_epoch_log
from pipeline.core.multiworker import distributed_fit, worker_role


def _model_and_data(targets: np.ndarray | None = None):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True) if targets is None else targets
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    train = tf.data.Dataset.from_tensor_slices((x[:32], y[:32])).batch(8)
    val = tf.data.Dataset.from_tensor_slices((x[32:], y[32:])).batch(8)
    return model, train, val


def test_the_loop_gives_the_epochs_and_figures_of_fit(tmp_path):
    model, train, val = _model_and_data()
    fitted = model.fit(train, validation_data=val, epochs=3, verbose=0).history

    model, train, val = _model_and_data()
    log = tmp_path / "epochs.jsonl"
    distributed_fit(model, train, val, epochs=3, initial_epoch=0, callbacks=[_epoch_logger(log)])
    looped = read_epoch_log(log)

    assert set(looped) == set(fitted) == {"loss", "mae", "val_loss", "val_mae"}
    for name, values in fitted.items():
        assert looped[name] == pytest.approx(values, rel=1e-5), name


def test_a_nan_loss_stops_the_loop_at_its_epoch(tmp_path):
    import keras

    targets = np.full((40, 1), np.nan, dtype="float32")
    model, train, val = _model_and_data(targets)
    log = tmp_path / "epochs.jsonl"
    callbacks = [_epoch_logger(log), keras.callbacks.TerminateOnNaN()]
    distributed_fit(model, train, val, epochs=5, initial_epoch=0, callbacks=callbacks)
    assert len(read_epoch_log(log)["loss"]) <= 1


def test_an_interrupted_loop_resumes_at_the_next_epoch_from_its_backup(tmp_path):
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    class Epochs(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen: list[int] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.seen.append(epoch)

    def four_epochs_backed_up(callback: keras.callbacks.Callback) -> None:
        model, train, val = _model_and_data()  # fresh weights each time, as a new process
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        distributed_fit(model, train, val, epochs=4, initial_epoch=0, callbacks=[backup, callback])

    with pytest.raises(KeyboardInterrupt):
        four_epochs_backed_up(Interrupt())
    epochs = Epochs()
    four_epochs_backed_up(epochs)
    assert epochs.seen == [2, 3]  # epochs 0 and 1 were backed up before the interruption


def test_early_stopping_restores_the_best_weights(tmp_path):
    import keras

    model, train, val = _model_and_data()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    log = tmp_path / "epochs.jsonl"
    # a learning rate that makes the val loss climb after the first epochs
    model.optimizer.learning_rate.assign(2.0)
    distributed_fit(
        model, train, val, epochs=20, initial_epoch=0, callbacks=[_epoch_logger(log), stop]
    )
    history = read_epoch_log(log)
    assert len(history["val_loss"]) < 20
    best = min(history["val_loss"])
    assert model.evaluate(val, verbose=0, return_dict=True)["loss"] == pytest.approx(best, rel=1e-4)


@pytest.mark.parametrize(
    ("tf_config", "role"),
    [
        (None, None),
        ({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}, None),
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}, "chief"),
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}, "worker"),
        (
            {
                "cluster": {"chief": ["c:1"], "worker": ["a:1"]},
                "task": {"type": "worker", "index": 0},
            },
            "worker",
        ),
    ],
)
def test_tf_config_gives_the_process_its_role(monkeypatch, tf_config, role):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    found = worker_role()
    assert (found is None) if role is None else (found.is_chief == (role == "chief"))


def test_a_task_the_cluster_does_not_list_stops_in_one_line(monkeypatch):
    from pipeline.core.errors import PipelineError

    config = {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    with pytest.raises(PipelineError, match="names task worker 2"):
        worker_role()
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(PipelineError, match="not a cluster description"):
        worker_role()
