"""`pipeline export`: each format converts, matches Keras, refuses TF ops in one line, ships only
within tolerance; exported files predict through the pyfunc contract without TensorFlow."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.edge import ExportedModel, is_exported
from pipeline.core.section import ExportParams
from pipeline.export.convert import needs_tf_ops
from pipeline.tasks import TASKS
from pipeline.tasks.base import ExportData

ROOT = Path(__file__).resolve().parents[2]
#: float32 conversions agree with Keras to rounding; dynamic-range weights to ~1e-2 of a
#: logit on random weights; full int8 only to what its ranges allow
FLOAT_TOLERANCE = 1e-4
DYNAMIC_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def pilotnet():
    from pipeline.tasks.driving.model import pilotnet as build
    from pipeline.tasks.driving.params import DrivingTrainParams

    return build(DrivingTrainParams())


@pytest.fixture(scope="module")
def crnn():
    from pipeline.tasks.plates_text.model import build_model
    from pipeline.tasks.plates_text.params import PlateTextTrainParams

    return build_model(PlateTextTrainParams(conv_filters=(4, 8, 8), rnn_units=8), 32, 64, 10)


def frames(count: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (count, *shape)).astype(np.float32)


@pytest.fixture(scope="module")
def pilotnet_files(pilotnet, tmp_path_factory):
    """PilotNet as float, dynamic and int8 TFLite and as ONNX (converted once)."""
    from pipeline.export.run import convert

    out = tmp_path_factory.mktemp("pilotnet")
    calibration = frames(4, (160, 320, 3))
    return {
        (fmt, q): convert(pilotnet, out / f"p-{q}.{fmt}", fmt, q, calibration)
        for fmt, q in (
            ("tflite", "none"),
            ("tflite", "dynamic"),
            ("tflite", "int8"),
            ("onnx", "none"),
        )
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "quantize", "tolerance"),
    [
        ("tflite", "none", FLOAT_TOLERANCE),
        ("onnx", "none", FLOAT_TOLERANCE),
        ("tflite", "dynamic", DYNAMIC_TOLERANCE),
    ],
)
def test_pilotnet_exports_match_keras(pilotnet, pilotnet_files, fmt, quantize, tolerance):
    x = frames(5, (160, 320, 3))
    expected = np.asarray(pilotnet(x, training=False))
    exported = ExportedModel(pilotnet_files[fmt, quantize])
    got = exported.predict(x, batch_size=2)  # batches of 2 and 1: the batch axis is dynamic
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < tolerance * max(1.0, np.abs(expected).max())


@pytest.mark.slow
def test_int8_calibration_runs_and_the_file_answers(pilotnet_files):
    path = pilotnet_files["tflite", "int8"]
    assert path.stat().st_size < pilotnet_files["tflite", "none"].stat().st_size / 2
    answer = ExportedModel(path)(frames(2, (160, 320, 3)))
    assert answer.shape == (2, 1) and np.isfinite(answer).all()


@pytest.mark.slow
def test_crnn_with_a_looping_gru_is_refused_in_one_line_naming_the_op(crnn, tmp_path):
    from pipeline.export.convert import ExportError, to_tflite

    with pytest.raises(ExportError) as raised:
        to_tflite(crnn, tmp_path / "reader.tflite")
    message = str(raised.value)
    assert "\n" not in message
    assert "TensorListReserve" in message and "gru" in message  # the op and its layer
    assert not (tmp_path / "reader.tflite").exists()


@pytest.mark.slow
def test_crnn_unrolled_for_export_converts_to_builtin_ops_and_matches(crnn, tmp_path):
    from pipeline.export.run import convert
    from pipeline.tasks.plates_text.exporting import export_ready

    x = frames(3, (32, 64, 3))
    expected = np.asarray(crnn(x, training=False))
    ready = export_ready(crnn)
    np.testing.assert_allclose(np.asarray(ready(x, training=False)), expected, atol=1e-6)
    path = convert(ready, tmp_path / "reader.tflite", "tflite", "none", x)
    got = ExportedModel(path).predict(x)
    assert np.abs(got - expected).max() < FLOAT_TOLERANCE


@pytest.mark.slow
def test_an_exported_reader_answers_as_the_pyfunc_does(crnn, tmp_path, write_image):
    """Same columns, same texts as the Keras path (`read_crops`) on crops of any size."""
    from pipeline.core.edge import ExportedPyfunc
    from pipeline.core.images import read_image
    from pipeline.export.run import convert
    from pipeline.tasks.plates.formats.text import CHARSET
    from pipeline.tasks.plates_text.exporting import export_ready, serve_exported
    from pipeline.tasks.plates_text.reading import read_crops

    path = convert(
        export_ready(crnn), tmp_path / "r.tflite", "tflite", "none", frames(1, (32, 64, 3))
    )
    crops = [write_image(tmp_path / "a.png", 90, 30), write_image(tmp_path / "b.png", 60, 40)]
    answer = ExportedPyfunc(ExportedModel(path), serve_exported).predict(
        pd.DataFrame({"image": [c.read_bytes() for c in crops]})
    )
    texts, found = read_crops(crnn, [read_image(c) for c in crops], CHARSET)
    assert list(answer.columns) == ["text", "score"]
    assert answer["text"].tolist() == texts
    np.testing.assert_allclose(answer["score"], found, atol=1e-4)


def test_the_converters_error_becomes_one_line():
    message = (
        'loc(callsite(fused["TensorListReserve:", "reader/bidirectional/backward_gru/'
        "TensorArrayV2@__inference\"])): error: 'tf.TensorListReserve' op requires element_shape"
    )
    line = needs_tf_ops(message)
    assert "\n" not in line
    assert "TensorListReserve" in line and "bidirectional/backward_gru" in line


def test_exported_files_are_told_apart_from_registry_uris():
    assert is_exported("m/driving-int8.tflite") and is_exported("x.ONNX")
    assert not is_exported("models:/driving@champion") and not is_exported("model.keras")


class Scores:
    """A task's scoring that gives Keras `keras` and the export `exported` (in call order)."""

    def __init__(self, keras: float, exported: float) -> None:
        self.values = [keras, exported]

    def __call__(self, predict) -> dict[str, float]:
        predict(np.zeros((1, 160, 320, 3), np.float32))
        return {"test_mse": self.values.pop(0)}


@pytest.mark.slow
@pytest.mark.parametrize(("exported", "shipped"), [(0.0105, True), (0.0115, False)])
def test_an_export_ships_only_within_tolerance(pilotnet, tmp_path, exported, shipped):
    from pipeline.export.run import export

    data = ExportData(
        test_inputs=frames(3, (160, 320, 3)),
        calibration_inputs=frames(2, (160, 320, 3)),
        score=Scores(0.0100, exported),
    )
    row, path = export(
        "driving",
        pilotnet,
        data,
        TASKS["driving"],
        ExportParams(tolerance=0.1, relative=True),
        fmt="tflite",
        quantize="none",
        out_dir=tmp_path / "out",
        model_sha256="x",
    )
    assert row.shipped is shipped and row.exported == exported
    assert row.allowed == pytest.approx(0.001)
    assert (path is not None) is shipped
    assert sorted(p.name for p in (tmp_path / "out").glob("*")) == (
        ["driving-none.tflite"] if shipped else []
    )
    assert row.median_ms > 0 and row.size_bytes > 0


@pytest.mark.slow
def test_the_command_fails_closed_beyond_tolerance(pilotnet, tmp_path, monkeypatch):
    """Exit 1 with the figures, no file kept, nothing attached, the row in export.md."""
    from pipeline.export import run as running
    from pipeline.stages import inputs

    model_file = tmp_path / "model.keras"
    pilotnet.save(model_file)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(inputs, "checked_manifest", lambda *a, **k: (pd.DataFrame(), None))
    monkeypatch.setattr(running, "keras_file", lambda task, model: (model_file, "run-1"))
    attached = []
    monkeypatch.setattr(running, "attach", lambda run_id, files: attached.append(files))
    data = ExportData(frames(2, (160, 320, 3)), frames(2, (160, 320, 3)), Scores(0.01, 0.02))
    monkeypatch.setattr(
        type(TASKS["driving"]), "export_data", staticmethod(lambda valid, params, paths: data)
    )
    result = CliRunner().invoke(app, ["export", "driving", "--params", str(ROOT / "params.yaml")])
    assert result.exit_code == 1
    assert "beyond export.driving.tolerance" in result.output and "0.02000" in result.output
    assert attached == []
    assert not list((tmp_path / "models").rglob("*.tflite"))
    table = (tmp_path / "reports/driving/export.md").read_text()
    assert "NO (beyond tolerance)" in table
    assert json.loads((tmp_path / "reports/driving/export.json").read_text())[0]["shipped"] is False


def test_onnx_quantization_is_refused_before_converting(pilotnet, tmp_path):
    from pipeline.export.convert import ExportError
    from pipeline.export.run import convert

    with pytest.raises(ExportError, match="ONNX is exported in float only"):
        convert(pilotnet, tmp_path / "m.onnx", "onnx", "int8", frames(1, (160, 320, 3)))


NO_TENSORFLOW = """
import sys
from typer.testing import CliRunner
from pipeline.cli import app
result = CliRunner().invoke(app, ["predict", "driving", *sys.argv[2:], "--model", sys.argv[1]])
print(result.output)
print("exit", result.exit_code)
print("tensorflow loaded:", "tensorflow" in sys.modules, "keras loaded:", "keras" in sys.modules)
"""


@pytest.mark.slow
@pytest.mark.parametrize("key", [("tflite", "none"), ("onnx", "none")])
def test_predict_runs_an_exported_file_without_tensorflow(
    pilotnet, pilotnet_files, tmp_path, write_image, key
):
    from pipeline.core.images import read_image

    images = [write_image(tmp_path / "a.png", 320, 160), write_image(tmp_path / "b.png", 64, 48)]
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, str(pilotnet_files[key]), *map(str, images)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert "tensorflow loaded: False keras loaded: False" in done.stdout, done.stdout + done.stderr
    assert "exit 0" in done.stdout
    expected = float(np.asarray(pilotnet(read_image(images[0])[None].astype(np.float32)))[0, 0])
    assert f"{images[0]}: steering {expected:+.4f}" in done.stdout
    assert f"{images[1]}: steering " in done.stdout  # another size: resized as the pyfunc does


def test_a_file_no_runtime_reads_is_refused_in_one_line(tmp_path):
    from pipeline.core.errors import PipelineError

    for name in ("bad.tflite", "bad.onnx"):
        (tmp_path / name).write_text("not a model")
        with pytest.raises(PipelineError, match=f"cannot load .*{name}") as raised:
            ExportedModel(tmp_path / name)
        assert "\n" not in str(raised.value)


def test_a_shipped_export_is_attached_to_the_versions_run(embedded_store):
    import mlflow

    from pipeline.export.run import attach

    with mlflow.start_run() as run:
        pass
    shipped = embedded_store / "driving-int8.tflite"
    shipped.write_bytes(b"tflite")
    table = embedded_store / "export.md"
    table.write_text("| format |\n")
    attach(run.info.run_id, [shipped, table])
    listed = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "export")}
    assert listed == {"export/driving-int8.tflite", "export/export.md"}
