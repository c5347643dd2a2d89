"""The driving rows of `pipeline bench`: training input and steering (`frames`), `pipeline
drive` over its socket (`drive`), the exported files (`export`), a long log's ingest
(`ingest`); the book's ways in `textbook`."""

from __future__ import annotations

from typing import Any

from pipeline.bench import export as exports
from pipeline.bench.case import Case, largest_difference_below, speedup_at_least
from pipeline.tasks.driving.benchmarks import drive, export, frames, ingest

CASES: tuple[Case[Any], ...] = (
    Case(
        name="driving-input",
        what="training input, one epoch: tf.data (frames decoded once into a store on disk, "
        "indices shuffled) vs a Python generator reading, augmenting and preprocessing every "
        "frame",
        goal=speedup_at_least(5),
        inputs=frames.frames,
        ours=frames.epoch,
        baseline=frames.epoch_textbook,
        agree=frames.same_network_input,
        note=frames.about_frames,
        baseline_warmup=0,  # its first epoch runs after ours has warmed the file cache
    ),
    Case(
        name="driving-infer",
        what="steering for one frame: a compiled direct call vs model.predict",
        goal=frames.per_frame_within(20, milliseconds=5),
        inputs=frames.steering,
        ours=frames.steer,
        baseline=frames.steer_textbook,
        agree=largest_difference_below(1e-4, "angle"),
        note=frames.about_steering,
    ),
    Case(
        name="drive-latency",
        what="`pipeline drive`, telemetry to steer per frame over its socket: the logged "
        "model's compiled call vs the book's drive.py (model.predict per frame)",
        goal=drive.GOAL,
        inputs=drive.servers,
        ours=drive.ours,
        baseline=drive.book,
        agree=drive.same_angles,
        note=drive.about,
        clock=drive.median_frame,
        repeats=1,  # one run times every frame; its median and p99 are the figures
    ),
    Case(
        name="drive-latency-tflite",
        what="`pipeline drive`, telemetry to steer per frame over its socket: the exported "
        "TFLite file on LiteRT vs the logged model's compiled Keras call",
        goal=drive.TFLITE_GOAL,
        inputs=drive.tflite_servers,
        ours=drive.ours,
        baseline=drive.book,
        agree=drive.same_angles,
        note=drive.about,
        clock=drive.median_frame,
        repeats=1,
    ),
    exports.case(
        name="export-driving",
        what="steering for one frame at batch 1: the exported TFLite file (LiteRT) and ONNX "
        "file (ONNX Runtime) vs the Keras model's compiled direct call",
        goal=exports.under_ms(export.GOAL_MS),
        inputs=export.driving,
    ),
    Case(
        name="ingest-1m",
        what=ingest.what,
        goal=ingest.within(60, gigabytes=2),
        inputs=ingest.long_log,
        ours=ingest.ingest,
        baseline=None,
        agree=ingest.every_row_kept,
        note=ingest.about_log,
        warmup=0,  # a fresh process each run: nothing to warm
        clock=ingest.child_seconds,
    ),
)
