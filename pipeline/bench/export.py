"""The export rows' machinery: one input through the Keras model (a compiled direct call),
its TFLite file on LiteRT and its ONNX file on ONNX Runtime, at batch 1, outputs compared
first. A task's row brings its model and inputs (`exported`); the ways, clock, agreement
and goals are these.

Every way gets the same inputs one at a time and each call is timed on its own: the
figures are per-input median and p99, the latency a device answering one camera frame at a
time sees. The exported files run on one thread (as `pipeline export` times them); Keras
uses what TensorFlow takes. The files are converted by `pipeline export`'s own converter
(float32, builtin ops only) into the row's scratch folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.bench.case import Agreement, Case, Figure, Goal, Measured, Setup, Skip, Verdict
from pipeline.core.edge import ExportedModel

#: largest output difference of either export from Keras, as a share of the largest output
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Exported:
    """A row's inputs: the Keras model's call, its two exported files, the inputs."""

    task: str
    keras_call: Callable[[np.ndarray], np.ndarray]
    tflite: ExportedModel
    onnx: ExportedModel
    inputs: np.ndarray  # float32, one network input per row
    source: str  # where the Keras model comes from
    megabytes: dict[str, float]  # each file's size


@dataclass(frozen=True)
class PerInput:
    """One way's outputs for every input, and the seconds each call took."""

    outputs: np.ndarray
    seconds: np.ndarray

    @property
    def median_ms(self) -> float:
        return 1000 * float(np.median(self.seconds))

    @property
    def p99_ms(self) -> float:
        return 1000 * float(np.percentile(self.seconds, 99))


@dataclass(frozen=True)
class Runtimes:
    """Ours: the TFLite file and the ONNX file, each over every input."""

    tflite: PerInput
    onnx: PerInput


def per_input(call: Callable[[np.ndarray], Any], inputs: np.ndarray) -> PerInput:
    outputs, seconds = [], []
    for x in inputs:
        start = time.perf_counter()
        output = np.asarray(call(x[None]))
        seconds.append(time.perf_counter() - start)
        outputs.append(output)
    return PerInput(np.concatenate(outputs), np.array(seconds))


def exported(task: str, model: Any, inputs: np.ndarray, source: str, folder: Path) -> Exported:
    """`model` converted to both formats; its Keras call compiled once for one input."""
    import tensorflow as tf

    from pipeline.export.run import convert

    try:
        files = {
            fmt: convert(model, folder / f"{task}.{fmt}", fmt, "none", inputs[:1])
            for fmt in ("tflite", "onnx")
        }
    except ImportError as err:  # the export tools are dev dependencies
        raise Skip(f"converting needs {err.name}: `make install-dev` installs it") from None
    call = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((1, *inputs.shape[1:]), tf.float32)],
    )

    def keras_call(x: np.ndarray) -> np.ndarray:
        return np.asarray(call(tf.constant(x)))

    return Exported(
        task,
        keras_call,
        ExportedModel(files["tflite"]),
        ExportedModel(files["onnx"]),
        inputs,
        source,
        {fmt: path.stat().st_size / 1e6 for fmt, path in files.items()},
    )


def ours(inputs: Exported) -> Runtimes:
    """Each input through the TFLite file, then through the ONNX file."""
    return Runtimes(per_input(inputs.tflite, inputs.inputs), per_input(inputs.onnx, inputs.inputs))


def keras_call(inputs: Exported) -> PerInput:
    """Each input through the Keras model's compiled direct call."""
    return per_input(inputs.keras_call, inputs.inputs)


def median_input(output: Runtimes | PerInput) -> float:
    """A run's clock: the median seconds per input (of the TFLite file, for ours)."""
    timed = output.tflite if isinstance(output, Runtimes) else output
    return float(np.median(timed.seconds))


def same_outputs(inputs: Exported, mine: Runtimes, theirs: PerInput) -> Agreement:
    scale = max(float(np.abs(theirs.outputs).max()), 1.0)
    gaps = {
        name: float(np.abs(way.outputs - theirs.outputs).max()) / scale
        for name, way in (("TFLite", mine.tflite), ("ONNX", mine.onnx))
    }
    said = ", ".join(f"{name} {gap:.2g}" for name, gap in gaps.items())
    return Agreement(
        max(gaps.values()) < TOLERANCE,
        f"largest output difference from Keras, as a share of its largest output: {said} "
        f"(tolerance 1e-4) over {inputs.inputs.size // len(inputs.inputs)} values x "
        f"{len(inputs.inputs)} inputs",
    )


def about(inputs: Exported) -> str:
    sizes = ", ".join(f"{fmt} {mb:.1f} MB" for fmt, mb in inputs.megabytes.items())
    return (
        f"{len(inputs.inputs)} random inputs of {inputs.inputs.shape[1:]}, each timed alone; "
        f"{inputs.source}; float32 files ({sizes}), one thread each"
    )


def _judge(measured: Measured[Exported], limit_ms: float | None) -> Verdict:
    """TFLite's median per input under `limit_ms` (None: no slower than Keras); the ratio is
    Keras' median over TFLite's."""
    runs: list[Runtimes] = [run.output for run in measured.ours]
    tflite = PerInput(np.zeros(0), np.concatenate([r.tflite.seconds for r in runs]))
    onnx = PerInput(np.zeros(0), np.concatenate([r.onnx.seconds for r in runs]))
    kept = PerInput(np.zeros(0), np.concatenate([r.output.seconds for r in measured.baseline]))
    ratio = kept.median_ms / tflite.median_ms
    met = tflite.median_ms < limit_ms if limit_ms is not None else ratio >= 1.0
    figures = tuple(
        Figure(f"{name} {which}", getattr(way, f"{which}_ms"), "ms")
        for name, way in (("TFLite", tflite), ("ONNX Runtime", onnx), ("Keras", kept))
        for which in ("median", "p99")
    )
    wanted = f"under {limit_ms:g} ms" if limit_ms is not None else "no slower than Keras"
    notes = () if met else (f"goal not met: TFLite median {tflite.median_ms:.2f} ms, not {wanted}",)
    return Verdict(met, ratio, notes=notes, figures=figures)


def under_ms(limit_ms: float) -> Goal[Exported]:
    return Goal(
        f"TFLite median < {limit_ms:g} ms per input",
        lambda measured: _judge(measured, limit_ms),
    )


def no_slower_than_keras() -> Goal[Exported]:
    return Goal("TFLite median <= Keras median", lambda measured: _judge(measured, None))


def case(
    name: str, what: str, goal: Goal[Exported], inputs: Callable[[Setup], Exported]
) -> Case[Exported]:
    """An export row: a task's model and inputs (`inputs`, built with `exported`) through its
    exported files against its Keras call, each input timed alone."""
    return Case(
        name=name,
        what=what,
        goal=goal,
        inputs=inputs,
        ours=ours,
        baseline=keras_call,
        agree=same_outputs,
        note=about,
        clock=median_input,
        repeats=1,  # one run times every input; its median and p99 are the figures
    )
