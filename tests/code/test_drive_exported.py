"""`pipeline drive --model file.tflite`: an exported steering network answers the simulator
with the Keras model's angles, on its runtime alone (TensorFlow never imported)."""

import base64
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.tasks.driving.drive.control import SpeedController
from pipeline.tasks.driving.drive.driver import Driver
from pipeline.tasks.driving.drive.steering import exported_steering, load_steering
from pipeline.tasks.driving.model import FRAME_SHAPE

ROOT = Path(__file__).resolve().parents[2]
FRAMES = np.random.default_rng(0).integers(0, 256, (3, *FRAME_SHAPE), dtype=np.uint8)


def _tiny(shape):
    """A small network of the driving model's contract: float 0-255 frames in, one angle out."""
    import keras

    keras.utils.set_random_seed(0)
    frames = keras.Input(shape)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(frames)
    x = keras.layers.AveragePooling2D(8)(x)
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(frames, keras.layers.Dense(1, name="steering")(x))


@pytest.fixture(scope="module")
def steering_file(tmp_path_factory):
    """A tiny driving network and its float TFLite file."""
    from pipeline.export.run import convert

    model = _tiny(FRAME_SHAPE)
    path = tmp_path_factory.mktemp("drive") / "driving-none.tflite"
    convert(model, path, "tflite", "none", FRAMES[:1].astype(np.float32))
    return model, path


def _jpeg(frame: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


@pytest.mark.slow
def test_the_exported_file_steers_with_the_keras_models_angles(steering_file):
    model, path = steering_file
    steer = load_steering(str(path))  # chosen by the suffix: no registry, no MLflow
    want = np.asarray(model(FRAMES.astype(np.float32), training=False)).ravel()
    np.testing.assert_allclose([steer(frame) for frame in FRAMES], want, atol=1e-5)
    with pytest.raises(ValueError, match="320x160"):
        steer(FRAMES[0, :80])


@pytest.mark.slow
def test_the_driver_answers_telemetry_from_the_exported_file(steering_file):
    from pipeline.core.serving import decode_rgb

    model, path = steering_file
    driver = Driver(exported_steering(path), SpeedController(20.0))
    jpeg = _jpeg(FRAMES[0])
    event, answer = driver.telemetry({"image": base64.b64encode(jpeg).decode(), "speed": "10"})
    frame = decode_rgb(jpeg)[None].astype(np.float32)
    expected = float(np.asarray(model(frame, training=False))[0, 0])
    assert event == "steer" and float(answer["steering_angle"]) == pytest.approx(expected, abs=1e-5)
    assert float(answer["throttle"]) > 0 and driver.frames == 1


@pytest.mark.slow
def test_a_file_of_another_input_is_not_a_driving_model(tmp_path):
    from pipeline.export.run import convert

    path = convert(_tiny((32, 32, 3)), tmp_path / "other.tflite", "tflite", "none", FRAMES[:0])
    with pytest.raises(PipelineError, match="not a driving model") as raised:
        exported_steering(path)
    assert "\n" not in str(raised.value)


def test_a_missing_file_is_one_line():
    with pytest.raises(PipelineError, match="no such exported model"):
        load_steering("nowhere/driving-none.tflite")


NO_TENSORFLOW = """
import base64, sys
import numpy as np
from pipeline.cli import app  # every command registered, as `pipeline drive` starts
from pipeline.tasks.driving.drive.bench import drive, simulator
from pipeline.tasks.driving.drive.steering import load_steering

steer = load_steering(sys.argv[1])
with simulator(steer) as client:
    drove = drive(client, [open(sys.argv[2], "rb").read()])
print("angle", f"{drove.angles[0]:.6f}")
print("tensorflow loaded:", "tensorflow" in sys.modules, "keras loaded:", "keras" in sys.modules)
"""


@pytest.mark.slow
def test_the_drive_server_steers_from_a_tflite_file_without_tensorflow(steering_file, tmp_path):
    """The server and a simulator on its wire, in a process that never imports TensorFlow."""
    from pipeline.core.serving import decode_rgb
    from pipeline.tasks.driving.drive.server import check_socketio

    try:
        check_socketio()
    except PipelineError as err:
        pytest.skip(str(err))
    model, path = steering_file
    jpeg = tmp_path / "frame.jpg"
    jpeg.write_bytes(_jpeg(FRAMES[1]))
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, str(path), str(jpeg)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert "tensorflow loaded: False keras loaded: False" in done.stdout, done.stdout + done.stderr
    frame = decode_rgb(jpeg.read_bytes())[None].astype(np.float32)
    expected = float(np.asarray(model(frame, training=False))[0, 0])
    angle = float(done.stdout.split("angle ")[1].split()[0])
    assert angle == pytest.approx(expected, abs=1e-5)
