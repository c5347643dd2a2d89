"""An exported model file run without TensorFlow: `.tflite` on LiteRT, `.onnx` on ONNX Runtime.

`ExportedModel` maps a batch of inputs (the Keras model's input: float 0-255 images) to the
network's raw output, so the decoding that is not a network (CTC decoding, the steering
column) is the task's own code, shared with the Keras path. Importing this module imports
neither TensorFlow nor Keras; a test checks `sys.modules`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core import quiet
from pipeline.core.errors import PipelineError

FORMATS = {".tflite": "tflite", ".onnx": "onnx"}


def is_exported(model: str | Path) -> bool:
    """Whether `model` names an exported file (by its suffix), not a registry URI."""
    return Path(str(model)).suffix.lower() in FORMATS


class ExportedModel:
    """One input, one output; any batch size (the batch axis was exported dynamic)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise PipelineError(f"no such exported model: {self.path} (run `pipeline export`)")
        self.format = FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise PipelineError(f"{self.path}: not a .tflite or .onnx file")
        self._run: Callable[[np.ndarray], np.ndarray]
        try:
            if self.format == "tflite":
                self._load_tflite(threads)
            else:
                self._load_onnx(threads)
        except ModuleNotFoundError as err:
            raise PipelineError(
                f"cannot load {self.path}: its runtime ({err.name}) is not installed: "
                "uv pip install -r requirements/edge.lock"
            ) from None
        except Exception as err:  # each runtime has its own error types for a bad file
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            raise PipelineError(f"cannot load {self.path} as {self.format}: {first}") from None

    def _load_tflite(self, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
        source = interpreter.get_input_details()[0]
        target = interpreter.get_output_details()[0]
        self.input_shape = tuple(int(v) for v in source["shape_signature"][1:])
        dtype = source["dtype"]
        batch = [0]

        def run(inputs: np.ndarray) -> np.ndarray:
            if len(inputs) != batch[0]:
                interpreter.resize_tensor_input(source["index"], [len(inputs), *self.input_shape])
                with quiet.filtered_stderr(_runtime_note):  # its "Created ... delegate" line
                    interpreter.allocate_tensors()
                batch[0] = len(inputs)
            interpreter.set_tensor(source["index"], _quantized(inputs, dtype, source))
            interpreter.invoke()
            return _dequantized(interpreter.get_tensor(target["index"]), target)

        self._run = run

    def _load_onnx(self, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        source = session.get_inputs()[0]
        self.input_shape = tuple(int(v) for v in source.shape[1:])

        def run(inputs: np.ndarray) -> np.ndarray:
            return np.asarray(session.run(None, {source.name: inputs.astype(np.float32)})[0])

        self._run = run

    def __call__(self, inputs: Any, training: bool = False) -> np.ndarray:
        """The raw output of a batch (cast to float32 first); `training` is ignored, so this
        stands in for a Keras model called as `model(x, training=False)`."""
        batch = np.asarray(inputs)
        if batch.shape[1:] != self.input_shape:
            raise ValueError(
                f"{self.path.name} takes inputs of shape (N, "
                f"{', '.join(map(str, self.input_shape))}), got {batch.shape}"
            )
        if len(batch) == 0:
            return np.zeros((0,), np.float32)
        return self._run(batch.astype(np.float32))

    def predict(self, inputs: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """The raw outputs of `inputs`, `batch_size` at a time."""
        outputs = [
            self(inputs[start : start + batch_size]) for start in range(0, len(inputs), batch_size)
        ]
        return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)


def _runtime_note(line: str) -> bool:
    return line.startswith("INFO: ") and not quiet.is_verbose()


def _quantized(inputs: np.ndarray, dtype: Any, detail: dict[str, Any]) -> np.ndarray:
    """Float inputs as the tensor's type (an int8 input takes its scale and zero point)."""
    if np.issubdtype(dtype, np.floating):
        return inputs.astype(dtype)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(inputs / scale + zero), info.min, info.max).astype(dtype)


def _dequantized(output: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    if np.issubdtype(output.dtype, np.floating):
        return output.astype(np.float32)
    scale, zero = detail["quantization"]
    return ((output.astype(np.float32) - zero) * scale).astype(np.float32)


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p99_ms: float


def latency(model: Callable[[np.ndarray], Any], inputs: np.ndarray, warmup: int = 3) -> Latency:
    """Per-image wall time of `model` at batch 1 over `inputs` (after `warmup` calls)."""
    for image in inputs[:warmup]:
        model(image[None])
    times = []
    for image in inputs:
        start = time.perf_counter()
        model(image[None])
        times.append((time.perf_counter() - start) * 1000)
    if not times:
        return Latency(float("nan"), float("nan"))
    return Latency(float(np.median(times)), float(np.percentile(times, 99)))


class ExportedPyfunc:
    """An exported file behind the pyfunc's contract (a DataFrame with an `image` column in, a
    DataFrame out): `serve` is the task's own function from raw network to answer."""

    def __init__(self, model: ExportedModel, serve: Callable[..., Any]) -> None:
        self.model = model
        self._serve = serve

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self._serve(self.model, model_input, params or {})
