"""The export bench rows: Keras, TFLite and ONNX Runtime per input, outputs compared before
anything is timed, the TFLite median judged against the goal."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.bench import export
from pipeline.bench.case import Measured, Run


def _timed(median_s: float, count: int = 5) -> export.PerInput:
    return export.PerInput(np.zeros((count, 1)), np.full(count, median_s))


def _measured(tflite_s: float, onnx_s: float, keras_s: float) -> Measured:
    ours = export.Runtimes(_timed(tflite_s), _timed(onnx_s))
    return Measured(None, [Run(tflite_s, ours)], [Run(keras_s, _timed(keras_s))])


def test_the_goal_is_the_tflite_median_and_every_runtime_is_reported():
    verdict = export.under_ms(1.0).judge(_measured(0.0008, 0.0012, 0.0024))
    assert verdict.met and verdict.ratio == pytest.approx(3.0)
    shown = {figure.name: figure.value for figure in verdict.figures}
    assert shown["TFLite median"] == pytest.approx(0.8)
    assert shown["ONNX Runtime median"] == pytest.approx(1.2)
    assert shown["Keras median"] == pytest.approx(2.4)
    missed = export.under_ms(1.0).judge(_measured(0.0015, 0.0012, 0.0024))
    assert not missed.met and "TFLite median 1.50 ms, not under 1 ms" in missed.notes[0]
    assert not export.no_slower_than_keras().judge(_measured(0.003, 0.001, 0.002)).met


def test_an_export_whose_outputs_drift_from_keras_disagrees():
    inputs = export.Exported("t", None, None, None, np.zeros((2, 3)), "fresh", {})
    keras_out = export.PerInput(np.array([[1.0], [-2.0]]), np.zeros(2))
    close = export.PerInput(keras_out.outputs + 1e-6, np.zeros(2))
    far = export.PerInput(keras_out.outputs + np.array([[0.0], [0.01]]), np.zeros(2))
    assert export.same_outputs(inputs, export.Runtimes(close, close), keras_out).ok
    drift = export.same_outputs(inputs, export.Runtimes(close, far), keras_out)
    assert not drift.ok and "ONNX 0.005" in drift.text


@pytest.mark.slow
def test_quick_export_driving_row_agrees_and_times_each_runtime(tmp_path, monkeypatch):
    pytest.importorskip("tf2onnx")
    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)  # no trained model here: a fresh PilotNet
    done = CliRunner().invoke(app, ["bench", "export-driving", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    (row,) = json.loads((tmp_path / "reports/bench.json").read_text())["results"]
    assert row["agree"] is True, row
    assert row["ours"] > 0 and row["baseline"] > 0 and isinstance(row["met"], bool)
    names = {figure["name"] for figure in row["figures"]}
    assert {"TFLite median", "ONNX Runtime median", "Keras median"} <= names
