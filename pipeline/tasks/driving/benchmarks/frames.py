"""The driving-input and driving-infer rows: one epoch of training input, steering for one
frame; inputs and ways."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.bench.case import Agreement, Goal, Measured, Setup, Verdict, speedup
from pipeline.tasks.driving.benchmarks import textbook


# ---- training input ------------------------------------------------------------------------
@dataclass(frozen=True)
class Frames:
    root: Path
    paths: list[str]  # centre frames, relative to `root`
    angles: np.ndarray
    dataset: Any  # ours: the shuffled tf.data pipeline over them
    batch: int
    seed: int
    store: Path  # where ours decoded the frames once
    stored_seconds: float  # what that took (once, untimed)


def frames(setup: Setup) -> Frames:
    """A sample log and its frames on disk, read by the driving ingest; ours decodes them
    once into a frame store, as training does."""
    import importlib
    import time

    from pipeline.core.tfdata import image_dataset
    from pipeline.tasks.driving.ingest import read_raw
    from pipeline.tasks.driving.params import DrivingIngestParams, DrivingSampleParams
    from pipeline.tasks.driving.sample import write_sample

    root = setup.folder("driving")
    write_sample(root, DrivingSampleParams(frames=setup.size(64, 512)), setup.seed)
    manifest = read_raw(root, DrivingIngestParams(), setup.seed)
    paths = manifest["center"].tolist()
    angles = manifest["steering"].to_numpy(np.float32)
    batch, store = 64, setup.folder("frame_store")
    importlib.import_module("tensorflow")  # its import is not the store's time
    start = time.perf_counter()
    dataset = image_dataset(root, paths, angles, batch, shuffle=True, seed=setup.seed, store=store)
    stored = time.perf_counter() - start
    return Frames(root, paths, angles, dataset, batch, setup.seed, store, stored)


def about_frames(inputs: Frames) -> str:
    return (
        f"{len(inputs.paths)} frames; ours decodes them once into a frame store on disk "
        f"({inputs.stored_seconds:.2f} s, not timed) that every epoch reads, and hands raw "
        "frames to the model, whose first layers crop, resize and convert them on the batch"
    )


def epoch(inputs: Frames) -> int:
    """Ours: one epoch of tf.data batches (the first also warms the file system cache)."""
    return sum(1 for _ in inputs.dataset)


def epoch_textbook(inputs: Frames) -> int:
    rng = np.random.default_rng(inputs.seed)
    batches = textbook.driving_batches(
        inputs.root, inputs.paths, inputs.angles, inputs.batch, augment=True, rng=rng
    )
    return sum(1 for _ in batches)


def same_network_input(inputs: Frames, _ours: int, _theirs: int) -> Agreement:
    """Without shuffling or augmenting, both ways give the same network input (ours read
    from its frame store)."""
    import keras
    import tensorflow as tf

    from pipeline.core.tfdata import image_dataset
    from pipeline.tasks.driving.preprocess import frame_preprocessing

    root, paths, angles = inputs.root, inputs.paths[:16], inputs.angles[:16]
    plain = image_dataset(root, paths, angles, 16, shuffle=False, seed=0, store=inputs.store)
    images, targets = next(iter(plain))
    preprocess = keras.Sequential(frame_preprocessing()[:-1])  # up to YUV, before scaling
    ours = preprocess(tf.cast(images, tf.float32)).numpy()
    theirs, their_targets = next(
        textbook.driving_batches(
            root, paths, angles, 16, augment=False, rng=np.random.default_rng(0)
        )
    )
    gap = float(np.abs(ours - theirs).mean())
    return Agreement(
        bool(gap < 2.0 and np.allclose(targets.numpy(), their_targets)),
        f"mean pixel difference {gap:.2f} of 255 after preprocessing, same angles",
    )


# ---- steering ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Steering:
    model: Any
    call: Any  # ours: the model's call compiled once
    frames: np.ndarray  # raw camera frames, float32
    source: str  # where the model comes from


def pilotnet_model(setup: Setup) -> tuple[Any, bool]:
    """The trained PilotNet when the pipeline has run (full runs), else a fresh one seeded by
    the row; and whether it is the trained one."""
    import keras

    from pipeline.core import layout
    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    path = layout.model_path("driving")
    if not setup.quick and path.is_file():
        return keras.models.load_model(path, safe_mode=True), True
    keras.utils.set_random_seed(setup.seed)
    return pilotnet(DrivingTrainParams()), False


def random_frames(setup: Setup, count: int) -> np.ndarray:
    """`count` camera frames (160x320 RGB, float32) of random pixels, seeded by the row."""
    rng = np.random.default_rng(setup.seed)
    return rng.uniform(0, 255, (count, 160, 320, 3)).astype(np.float32)


def steering(setup: Setup) -> Steering:
    """The trained PilotNet when the pipeline has run, else a fresh one; random frames."""
    import tensorflow as tf

    model, trained = pilotnet_model(setup)
    source = "trained model" if trained else "untrained PilotNet"
    pixels = random_frames(setup, setup.size(8, 100))
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return Steering(model, call, pixels, source)


def about_steering(inputs: Steering) -> str:
    return f"{len(inputs.frames)} frames, {inputs.source}"


def steer(inputs: Steering) -> np.ndarray:
    import tensorflow as tf

    return np.concatenate([inputs.call(tf.constant(f[None])).numpy() for f in inputs.frames])


def steer_textbook(inputs: Steering) -> np.ndarray:
    return textbook.predict_frames_one_by_one(inputs.model, inputs.frames)


def per_frame_within(times: float, milliseconds: float) -> Goal[Steering]:
    """At least `times` faster than `predict` and under `milliseconds` a frame."""

    def judge(measured: Measured[Steering]) -> Verdict:
        ratio = speedup(measured)
        per_frame = 1000 * measured.ours_seconds / len(measured.inputs.frames)
        met = ratio >= times and per_frame < milliseconds
        return Verdict(met, ratio, notes=(f"{per_frame:.2f} ms per frame (ours)",))

    return Goal(f"ratio >= {times:g} and < {milliseconds:g} ms per frame", judge)
