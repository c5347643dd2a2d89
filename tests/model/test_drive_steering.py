"""`pipeline drive` steers with the registered model itself: one compiled call per frame that
gives the model's own angle, whichever flavour the model was logged with."""

import mlflow
import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import PipelineError
from pipeline.tasks.driving.drive.steering import compiled_steering, load_steering
from tests.conftest import paths_in

keras = pytest.importorskip("keras")

FRAMES = np.random.default_rng(0).integers(0, 256, (4, 160, 320, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def pilotnet():
    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    keras.utils.set_random_seed(3)
    return pilotnet(DrivingTrainParams())


def test_the_compiled_call_gives_the_models_own_angles(pilotnet):
    steer = compiled_steering(pilotnet)
    want = pilotnet.predict(FRAMES.astype("float32"), verbose=0).ravel()
    got = [steer(frame) for frame in FRAMES]
    np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="320x160"):
        steer(FRAMES[0, :80])


def test_the_logged_driving_model_is_called_through_its_angles(embedded_store, pilotnet):
    from pipeline.tasks.driving.training import log_model

    with mlflow.start_run():
        uri = log_model(pilotnet, paths_in(embedded_store))
    steer = load_steering(uri)
    want = pilotnet.predict(FRAMES.astype("float32"), verbose=0).ravel()
    np.testing.assert_allclose([steer(f) for f in FRAMES], want, atol=1e-5)


def test_a_keras_flavour_model_is_loaded_and_compiled(embedded_store, pilotnet):
    from mlflow.models import infer_signature

    example = FRAMES[:1].astype("float32")
    signature = infer_signature(example, pilotnet.predict(example, verbose=0))
    with mlflow.start_run():
        uri = mlflow.keras.log_model(pilotnet, name="model", signature=signature).model_uri
    steer = load_steering(uri)
    want = pilotnet.predict(FRAMES.astype("float32"), verbose=0).ravel()
    np.testing.assert_allclose([steer(f) for f in FRAMES], want, atol=1e-5)


def test_a_python_model_without_angles_is_not_a_driving_model(embedded_store):
    class Other(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input: pd.DataFrame) -> pd.DataFrame:
            return model_input

    with mlflow.start_run():
        uri = mlflow.pyfunc.log_model(name="model", python_model=Other()).model_uri
    with pytest.raises(PipelineError, match="without an `angles"):
        load_steering(uri)


def test_no_champion_yet_says_how_to_make_one(embedded_store):
    with pytest.raises(PipelineError) as failure:
        load_steering("models:/driving@champion")
    message = str(failure.value)
    assert "\n" not in message and "pipeline promote driving" in message
    assert "--model runs:/" in message
