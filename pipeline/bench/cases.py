"""The benchmarks: ours and the textbook's way, same inputs, outputs checked to agree first.

One declaration a row; `case.run_case` runs any of them. Every row builds its own small
sample data in a scratch folder with the project's sample generators, so it measures the
same thing on any checkout. A new row: its input maker, ways, agreement check (and a goal,
when not a plain speed-up) in a module of its own, and one `Case(...)` below.
"""

from __future__ import annotations

from typing import Any

from pipeline.bench import captions, drive, driving, export, ingest, project
from pipeline.bench.case import Case, Goal, largest_difference_below, speedup_at_least

TABLE: tuple[Case[Any], ...] = (
    Case(
        name="caption-greedy",
        what="greedy captions: batched compiled decoding vs predict per word per image",
        goal=speedup_at_least(30),
        inputs=captions.decoding,
        ours=captions.greedy,
        baseline=captions.greedy_textbook,
        agree=captions.same_tokens,
        note=captions.about_decoding,
    ),
    Case(
        name="caption-beam",
        what="batched beam search (k=3) vs our batched greedy",
        goal=captions.beam_within(2.5),
        inputs=captions.decoding,
        ours=captions.beam,
        baseline=captions.greedy,
        agree=captions.beam_equals_greedy,
        note=captions.about_beam,
    ),
    Case(
        name="features",
        what="image features: tf.data batched extraction vs load-and-predict one image at a time",
        goal=speedup_at_least(3),
        inputs=captions.images,
        ours=captions.features,
        baseline=captions.features_textbook,
        agree=largest_difference_below(1e-3, "feature"),
        note=captions.about_images,
    ),
    Case(
        name="driving-input",
        what="training input, one epoch: tf.data (frames decoded once into a store on disk, "
        "indices shuffled) vs a Python generator reading, augmenting and preprocessing every "
        "frame",
        goal=speedup_at_least(5),
        inputs=driving.frames,
        ours=driving.epoch,
        baseline=driving.epoch_textbook,
        agree=driving.same_network_input,
        note=driving.about_frames,
        baseline_warmup=0,  # its first epoch runs after ours has warmed the file cache
    ),
    Case(
        name="driving-infer",
        what="steering for one frame: a compiled direct call vs model.predict",
        goal=driving.per_frame_within(20, milliseconds=5),
        inputs=driving.steering,
        ours=driving.steer,
        baseline=driving.steer_textbook,
        agree=largest_difference_below(1e-4, "angle"),
        note=driving.about_steering,
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
    Case(
        name="export-driving",
        what="steering for one frame at batch 1: the exported TFLite file (LiteRT) and ONNX "
        "file (ONNX Runtime) vs the Keras model's compiled direct call",
        goal=export.under_ms(export.DRIVING_GOAL_MS),
        inputs=export.driving,
        ours=export.ours,
        baseline=export.keras_call,
        agree=export.same_outputs,
        note=export.about,
        clock=export.median_input,
        repeats=1,  # one run times every input; its median and p99 are the figures
    ),
    Case(
        name="export-plates",
        what="the plate detector's network on one image at batch 1: TFLite and ONNX files vs "
        "the Keras model's compiled direct call (peak picking, the same for all, not timed)",
        goal=export.no_slower_than_keras(),
        inputs=export.plates,
        ours=export.ours,
        baseline=export.keras_call,
        agree=export.same_outputs,
        note=export.about,
        clock=export.median_input,
        repeats=1,
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
    Case(
        name="scale",
        what="every stage of every task at 1x, 3x and 10x the sample, each in its own process",
        goal=Goal(project.SCALE_GOAL, project.growth),
        inputs=project.here,
        ours=project.stages,
        baseline=None,
        agree=project.all_finished,
        warmup=0,
        repeats=1,  # minutes of stage runs, each already in a fresh process
        clock=project.total_seconds,
        judge_anyway=True,
    ),
    Case(
        name="repro-noop",
        what="`dvc repro` with nothing changed",
        goal=project.at_most(3),
        inputs=project.up_to_date,
        ours=project.repro,
        baseline=None,
        agree=project.nothing_to_compare,
    ),
)

CASES: dict[str, Case[Any]] = {case.name: case for case in TABLE}
