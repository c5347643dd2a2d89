"""The logged steering model keeps the serving contract: encoded frames of any size in, one
`steering` angle each out, the same angles as the Keras model; `angles` is the fast path."""

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.tasks.driving.model import pilotnet
from pipeline.tasks.driving.params import DrivingTrainParams
from tests.conftest import paths_in


@pytest.fixture(scope="module")
def keras_model():
    """A PilotNet whose output varies with the frame: its last layer pushed off zero."""
    import keras

    keras.utils.set_random_seed(0)
    model = pilotnet(DrivingTrainParams(dropout=0.0))
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * 3, bias])
    return model


@pytest.fixture(scope="module")
def logged(keras_model, tmp_path_factory):
    """(pyfunc, its local folder): logged by `log_model` into an embedded store, loaded back."""
    import mlflow

    from pipeline.tasks.driving.training import log_model

    project = tmp_path_factory.mktemp("project")
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    try:
        # artifacts under the project, not ./mlruns of whatever folder the tests run from
        experiment = mlflow.create_experiment("driving", (project / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment):
            uri = log_model(keras_model, paths_in(project))
        folder = mlflow.artifacts.download_artifacts(uri, dst_path=str(project / "model"))
        yield mlflow.pyfunc.load_model(folder), folder
    finally:
        mlflow.set_tracking_uri(None)


def frames(count: int, seed: int = 0, size: tuple[int, int] = (160, 320)) -> np.ndarray:
    """Camera-like RGB uint8 frames: smooth gradients with a bright bar at a random column."""
    rng = np.random.default_rng(seed)
    height, width = size
    batch = np.zeros((count, height, width, 3), np.uint8)
    for frame in batch:
        column = rng.integers(0, width - 20)
        frame[:] = rng.integers(0, 120, 3, dtype=np.uint8)
        frame[:, column : column + 20] = 255
    return batch


def png(frame: np.ndarray) -> bytes:
    return cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))[1].tobytes()


def test_angles_are_the_keras_models_on_the_same_frames(logged, keras_model):
    model, _ = logged
    batch = frames(5)
    angles = model.unwrap_python_model().angles(batch)
    expected = keras_model.predict(batch.astype(np.float32), verbose=0).ravel()
    assert angles.shape == (5,) and angles.dtype == np.float32
    assert np.ptp(expected) > 1e-3  # the frames are told apart: the comparison means something
    np.testing.assert_allclose(angles, expected, atol=1e-5)


def test_angles_is_traced_once_whatever_the_batch_size(logged):
    steering = logged[0].unwrap_python_model()
    for count in (1, 3, 8, 1):
        steering.angles(frames(count, seed=count))
    assert steering._call.experimental_get_tracing_count() == 1  # the warm-up's


def test_angles_refuses_frames_it_would_misread(logged):
    steering = logged[0].unwrap_python_model()
    with pytest.raises(ValueError, match=r"RGB uint8 frames of shape \(N, 160, 320, 3\)"):
        steering.angles(frames(2).astype(np.float32))
    with pytest.raises(ValueError, match="got uint8 \\(2, 80, 160, 3\\)"):
        steering.angles(frames(2, size=(80, 160)))
    assert steering.angles(np.zeros((0, 160, 320, 3), np.uint8)).shape == (0,)


def test_predict_takes_encoded_frames_and_answers_steering(logged):
    model, _ = logged
    batch = frames(3, seed=1)
    answer = model.predict(pd.DataFrame({"image": [png(f) for f in batch]}))
    assert list(answer.columns) == ["steering"] and answer["steering"].dtype == np.float64
    np.testing.assert_allclose(
        answer["steering"], model.unwrap_python_model().angles(batch), atol=1e-6
    )


def test_predict_takes_rgb_arrays_and_frames_of_any_size(logged):
    model, _ = logged
    steering = model.unwrap_python_model()
    big = frames(1, seed=2, size=(320, 640))[0]
    small = frames(1, seed=3, size=(80, 160))[0]
    exact = frames(1, seed=4)[0]
    answer = model.predict(pd.DataFrame({"image": [png(big), small, exact]}))["steering"]
    expected = steering.angles(
        np.stack(
            [
                cv2.resize(big, (320, 160), interpolation=cv2.INTER_AREA),
                cv2.resize(small, (320, 160), interpolation=cv2.INTER_LINEAR),
                exact,
            ]
        )
    )
    np.testing.assert_allclose(answer, expected, atol=1e-6)


def test_the_logged_model_is_a_pyfunc_with_the_image_contract(logged):
    """No Keras flavour: a pyfunc from code, `image` typed binary, a REST example stored."""
    import yaml

    model, folder = logged
    mlmodel = yaml.safe_load(Path(folder, "MLmodel").read_text())
    assert set(mlmodel["flavors"]) == {"python_function"}
    schema = model.metadata.get_input_schema().to_dict()
    assert schema == [{"type": "binary", "name": "image", "required": True}]
    assert model.metadata.get_output_schema().to_dict() == [
        {"type": "double", "name": "steering", "required": True}
    ]
    request = json.loads(Path(folder, "serving_input_example.json").read_text())
    (encoded,) = request["dataframe_split"]["data"][0]
    assert cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), 1).shape == (
        160,
        320,
        3,
    )


@pytest.mark.parametrize("orient", ["dataframe_records", "dataframe_split"])
def test_a_json_request_with_base64_frames_is_answered_as_served(logged, orient):
    """What `mlflow models serve` does with a request body, in this process."""
    from mlflow.pyfunc import scoring_server

    model, _ = logged
    batch = frames(2, seed=5)
    encoded = [base64.b64encode(png(f)).decode("ascii") for f in batch]
    if orient == "dataframe_records":
        body = {orient: [{"image": text} for text in encoded]}
    else:
        body = {orient: {"columns": ["image"], "data": [[text] for text in encoded]}}
    response = scoring_server.invocations(
        json.dumps(body), "application/json", model, model.metadata.get_input_schema()
    )
    assert response.status == 200, response.response
    predictions = json.loads(response.response)["predictions"]
    assert [set(row) for row in predictions] == [{"steering"}, {"steering"}]
    np.testing.assert_allclose(
        [row["steering"] for row in predictions],
        model.unwrap_python_model().angles(batch),
        atol=1e-6,
    )
