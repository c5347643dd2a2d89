"""Keras model -> `.tflite` (builtin ops only; float, dynamic-range or int8) or `.onnx`.

Builtin ops only: a model that would need TensorFlow ops at run time (Flex) fails here, in
one line naming the op and the layer, instead of on the device.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.core import quiet
from pipeline.core.errors import PipelineError

if TYPE_CHECKING:
    import keras

Format = Literal["tflite", "onnx"]
Quantize = Literal["none", "dynamic", "int8"]
ONNX_OPSET = 17


class ExportError(PipelineError):
    """The model cannot be exported as asked."""


def to_tflite(
    model: keras.Model,
    path: Path,
    quantize: Quantize = "none",
    calibration: Callable[[], Iterable[np.ndarray]] | None = None,
) -> Path:
    """Write `model` as a TFLite flatbuffer at `path`; int8 calibrates on `calibration`
    (batches of the model's input; inputs and outputs stay float)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp, _converter_output():
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "int8":
            if calibration is None:
                raise ExportError("int8 quantization needs calibration images")
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.representative_dataset = lambda: ([batch] for batch in calibration())
        try:
            flatbuffer = converter.convert()
        except Exception as err:  # ConverterError, or an op int8 has no kernel for
            raise ExportError(f"{model.name}: {needs_tf_ops(str(err), quantize)}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    return path


@contextmanager
def _converter_output() -> Iterator[None]:
    """Hide the converter's own log lines (its error is reported in one line), unless verbose."""
    with quiet.library_output(), quiet.filtered_stderr(lambda line: not quiet.is_verbose()):
        yield


def needs_tf_ops(message: str, quantize: str = "none") -> str:
    """The converter's error as one line: the TensorFlow op it could not lower, and where."""
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op", message)))
    ops += sorted(set(re.findall(r"Flex(\w+)", message)) - set(ops))
    layers = sorted(
        {
            "/".join(part for part in where.split("/")[1:-1] if part)
            for where in re.findall(r'fused\["\w+:", "([^"@]+)@', message)
        }
        - {""}
    )
    if ops:
        where = f" (layer {', '.join(layers)})" if layers else ""
        return (
            f"needs TensorFlow op {', '.join(ops)}{where}, which TFLite's builtin ops"
            f"{' for int8' if quantize == 'int8' else ''} lack: not exported (a TF-op fallback "
            "would fail on the device; e.g. an RNN needs fixed time steps and unroll=True)"
        )
    first = next((line for line in message.splitlines() if "error" in line.lower()), message)
    return f"the TFLite converter failed: {first.strip()[:300]}"


def to_onnx(model: keras.Model, path: Path) -> Path:
    """Write `model` as ONNX (Keras' exporter, tf2onnx underneath) with a dynamic batch axis."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keras' ONNX export traces a model that has been called: one rebuilt from its config
    # (an unrolled reader) has not yet
    model(np.zeros((1, *model.inputs[0].shape[1:]), np.float32), training=False)
    try:
        with _converter_output():
            model.export(str(path), format="onnx", verbose=False, opset_version=ONNX_OPSET)
    except ModuleNotFoundError as err:
        raise ExportError(
            f"{model.name}: the ONNX converter ({err.name}) is not installed: "
            "uv pip install -r requirements/export.lock"
        ) from None
    except Exception as err:
        raise ExportError(f"{model.name}: the ONNX export failed: {str(err)[:300]}") from None
    return path
