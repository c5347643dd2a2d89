"""Two-phase transfer learning, shared by every task, as in the textbook.

Phase 1 freezes the pretrained base and trains the new head; phase 2 makes the top
`unfreeze` layers of the base trainable and continues at a lower learning rate. Batch
normalisation layers stay frozen and the base is called with `training=False`, so their
moving statistics never move. Each phase backs itself up every epoch, so a rerun after an
interruption resumes at the last finished epoch, phase 1's result included, and each
epoch's figures are appended to a log beside the backup, so a resumed run's history
still holds the epochs before the interruption, with their true numbers.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.core.errors import PipelineError
from pipeline.core.model_params import FinetuneParams
from pipeline.core.multiworker import chief_value, distributed_fit, is_multi_worker

if TYPE_CHECKING:
    import keras
    import tensorflow as tf


class TrainingDiverged(PipelineError):
    """A loss became NaN or infinite: the stage fails rather than save a broken model."""


def _epoch_logger(path: Path) -> Any:
    """A callback appending `{"epoch": n, <metric>: value, ...}` lines to `path`."""
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
            with path.open("a") as handle:
                handle.write(json.dumps(row) + "\n")

    return EpochLog()


def read_epoch_log(path: Path) -> dict[str, list[float]]:
    """Per-metric lists in epoch order; an epoch logged twice (redone after a kill) counts once."""
    rows: dict[int, dict[str, float]] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a kill
                continue
            rows[int(row.pop("epoch"))] = row
    history: dict[str, list[float]] = {}
    for epoch in sorted(rows):
        for name, value in rows[epoch].items():
            history.setdefault(name, []).append(value)
    return history


def check_finite(history: dict[str, list[float]], first_epoch: int = 0) -> None:
    """Raise TrainingDiverged naming the first epoch whose loss or val loss is NaN or inf."""
    for name in ("loss", "val_loss"):
        for epoch, value in enumerate(history.get(name, []), start=first_epoch):
            if not math.isfinite(value):
                what = "NaN" if math.isnan(value) else "infinite"
                raise TrainingDiverged(
                    f"the {name.replace('_', ' ')} became {what} at epoch {epoch}; "
                    "lower the learning rate or check the targets"
                )


def _compile(
    model: keras.Model,
    learning_rate: float,
    loss: Any,
    metrics: list,
    jit: bool,
    compile_kwargs: dict | None = None,
) -> None:
    import keras

    if compile_kwargs is not None:  # a model whose compile() takes other keywords (keras-hub)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate), jit_compile=jit, **compile_kwargs
        )
        return
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss,
        metrics=metrics,
        jit_compile=jit,
    )


def freeze_all_but_top(base: keras.Model, unfreeze: int) -> None:
    """Base trainable except its lower layers and every BatchNormalization layer."""
    import keras

    base.trainable = True
    cut = max(len(base.layers) - unfreeze, 0)
    for index, layer in enumerate(base.layers):
        frozen = index < cut or isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = not frozen


def _fit_phase(
    model: keras.Model,
    train: tf.data.Dataset,
    val: tf.data.Dataset,
    *,
    epochs: int,
    initial_epoch: int,
    patience: int,
    backup: Path,
    callbacks: list,
    verbose: int,
) -> dict[str, list[float]]:
    import keras
    import tensorflow as tf

    log = backup.with_name(f"{backup.name}_epochs.jsonl")
    every_callback = [
        _epoch_logger(log),  # before the backup: a logged epoch may be redone, never lost
        keras.callbacks.BackupAndRestore(str(backup)),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=patience, restore_best_weights=True
        ),
        keras.callbacks.TerminateOnNaN(),  # stops on NaN and on inf
        *callbacks,
    ]
    if is_multi_worker(tf.distribute.get_strategy()):  # Keras' fit fails there
        distributed_fit(
            model, train, val, epochs=epochs, initial_epoch=initial_epoch, callbacks=every_callback
        )
    else:
        model.fit(
            train,
            validation_data=val,
            epochs=epochs,
            initial_epoch=initial_epoch,
            shuffle=False,  # tf.data shuffles; Keras would only warn
            verbose=verbose,
            callbacks=every_callback,
        )
    history = read_epoch_log(log)
    check_finite(history, first_epoch=initial_epoch)
    return history


def two_phase_fit(
    model: keras.Model,
    train: tf.data.Dataset,
    val: tf.data.Dataset,
    params: FinetuneParams,
    *,
    loss: Any,
    metrics: list,
    work_dir: Path,
    base: keras.Model | None = None,
    callbacks: list | None = None,
    jit_compile: bool = False,
    verbose: int = 2,
    compile_kwargs: dict | None = None,
) -> dict[str, list[float]]:
    """Fit `model`; `base` (a layer of it) is frozen in phase 1. Returns per-epoch history.

    `compile_kwargs`, when given, replace `loss` and `metrics` in `model.compile` (for
    models such as keras-hub's detectors whose compile takes other keywords).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    callbacks = callbacks or []
    with _discarded_if_diverged(work_dir):
        phase1_weights = work_dir / "phase1.weights.h5"
        phase1_history = work_dir / "phase1_history.json"
        head_epochs = params.head_epochs + (params.finetune_epochs if base is None else 0)

        if base is not None:
            base.trainable = False
        _compile(model, params.learning_rate, loss, metrics, jit_compile, compile_kwargs)
        # phase 1 finished before (on a cluster: the chief's folder decides for every worker)
        if chief_value(phase1_weights.is_file() and phase1_history.is_file()):
            if phase1_history.is_file():  # a worker takes the chief's weights in phase 2
                model.load_weights(phase1_weights)
            history = json.loads(phase1_history.read_text()) if phase1_history.is_file() else {}
        else:
            history = _fit_phase(
                model,
                train,
                val,
                epochs=head_epochs,
                initial_epoch=0,
                backup=work_dir / "backup_phase1",
                patience=params.patience,
                callbacks=callbacks,
                verbose=verbose,
            )
            model.save_weights(phase1_weights)
            phase1_history.write_text(json.dumps(history))
        history["phase"] = [1] * len(history.get("loss", []))

        if base is not None and params.finetune_epochs > 0:
            freeze_all_but_top(base, params.unfreeze)
            learning_rate = params.learning_rate * params.finetune_learning_rate_factor
            _compile(model, learning_rate, loss, metrics, jit_compile, compile_kwargs)
            done = len(history["phase"])
            second = _fit_phase(
                model,
                train,
                val,
                epochs=done + params.finetune_epochs,
                initial_epoch=done,
                backup=work_dir / "backup_phase2",
                patience=params.patience,
                callbacks=callbacks,
                verbose=verbose,
            )
            for name, values in second.items():
                history.setdefault(name, []).extend(values)
            history["phase"] += [2] * len(second.get("loss", []))
        weights_ok = all(np.isfinite(w).all() for w in model.get_weights())
        if not weights_ok:
            raise TrainingDiverged("the trained weights hold NaN or inf; lower the learning rate")
        shutil.rmtree(work_dir, ignore_errors=True)  # finished: nothing to resume next time
    return history


@contextmanager
def _discarded_if_diverged(work_dir: Path) -> Iterator[None]:
    """Never resume from a diverged state: its checkpoints go with the failure."""
    try:
        yield
    except TrainingDiverged:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
