"""`pipeline drive` against a stand-in simulator: real simulator frames go in as telemetry,
the registered model's angles come back, and the recorded drive is a dataset again.

The simulator's side is played by python-socketio 4.x's client (the protocol generation of
the simulator) over WebSocket, and by a client that speaks the simulator's exact wire
(`bench.SimulatorClient`: its URL with `EIO=4`, WebSocket from the first request, its pings).
"""

import base64
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from tests.conftest import ingest_and_validate, paths_in, realdata_dir
from tests.servers import free_port

socketio = pytest.importorskip(
    "socketio",
    reason="python-socketio 4.x not installed: uv pip install -r requirements/drive.lock",
)

pytestmark = [pytest.mark.slow, pytest.mark.server]  # a server process per test

RECORDING = realdata_dir("driving") / "WyckliffeAluga__sdc-training-datasets" / "data"
FRAMES = 20  # ingest splits a recording of 16 frames or more
ZERO = {"steering_angle": "0.0", "throttle": "0.0"}
#: `pipeline drive` until the lead registers it on the CLI: the same function, through Typer
DRIVE = [sys.executable, "-c", "import typer; from pipeline.tasks.driving.drive.command "
         "import drive; typer.run(drive)"]  # fmt: skip


def _real_frames() -> list[tuple[bytes, str]]:
    """(centre JPEG, speed as the simulator formats it) of the first FRAMES log rows."""
    if not RECORDING.is_dir():
        pytest.skip(f"real driving fixture not found at {RECORDING}")
    rows = (RECORDING / "driving_log.csv").read_text().splitlines()[:FRAMES]
    frames = []
    for row in rows:
        fields = [field.strip() for field in row.split(",")]
        name = fields[0].replace("\\", "/").rsplit("/", 1)[-1]
        frames.append(((RECORDING / "IMG" / name).read_bytes(), f"{float(fields[6]):.4f}"))
    return frames


def _model_angles(model, jpegs: list[bytes]) -> np.ndarray:
    """The Keras model's own angles, on frames decoded as training decodes them."""
    import tensorflow as tf

    from pipeline.core.tfdata import decode_rgb

    frames = np.stack([decode_rgb(tf.constant(jpeg)).numpy() for jpeg in jpegs])
    return model.predict(frames.astype("float32"), verbose=0).ravel()


def _spread_model(jpegs: list[bytes]):
    """PilotNet whose angles on these frames span [-0.9, 1.2]: frames get answers far apart,
    and the largest lies beyond the simulator's range (clipped)."""
    import keras

    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    keras.utils.set_random_seed(11)
    model = pilotnet(DrivingTrainParams())
    angles = _model_angles(model, jpegs)
    scale = 2.1 / (angles.max() - angles.min())  # new angle = (angle - min) * scale - 0.9
    head = model.get_layer("steering")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * scale, (bias - angles.min()) * scale - 0.9])
    return model


@contextmanager
def _drive_process(*args: str, output: list[str]) -> Iterator[subprocess.Popen]:
    """`pipeline drive ARGS` in a process of its own, yielded once it listens; its output
    lines are appended to `output`. Stopped by Ctrl-C (SIGINT) if the test has not."""
    process = subprocess.Popen(
        [*DRIVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT dumps every thread's stack
    )
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: output.extend(stream), daemon=True).start()
    try:
        deadline = time.monotonic() + 300  # TensorFlow is imported and the model loaded
        while not any("listening on" in line for line in output):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("pipeline drive did not start:\n" + "".join(output)[-3000:])
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _stopped(process: subprocess.Popen, output: list[str]) -> int:
    """The exit code of a process asked to stop; a hang fails with every thread's stack."""
    try:
        return process.wait(timeout=180)  # a loaded CI machine: the interpreter exit is slow
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(timeout=30)
        pytest.fail("pipeline drive did not stop on Ctrl-C:\n" + "".join(output)[-6000:])


def _client(port: int, transport: str = "websocket") -> tuple[object, queue.Queue]:
    """A python-socketio 4.x client connected to the server; its events land in the queue."""
    events: queue.Queue = queue.Queue()
    client = socketio.Client()
    client.on("steer", lambda data: events.put(("steer", data)))
    client.on("manual", lambda data=None: events.put(("manual", data)))
    client.connect(f"http://127.0.0.1:{port}", transports=[transport])
    return client, events


def _telemetry(jpeg: bytes, speed: str) -> dict[str, str]:
    image = base64.b64encode(jpeg).decode()
    return {"steering_angle": "0.0000", "throttle": "0.0000", "speed": speed, "image": image}


def test_drive_answers_real_frames_with_the_registered_models_angles_and_records_them(
    embedded_store,
):
    import mlflow

    from pipeline.tasks.driving.training import log_model

    frames = _real_frames()
    jpegs = [jpeg for jpeg, _ in frames]
    model = _spread_model(jpegs)
    want = np.clip(_model_angles(model, jpegs), -1, 1)
    assert want.max() == 1 and (np.abs(want) < 1).sum() >= FRAMES // 2
    assert np.abs(np.diff(want)).max() > 0.1  # an answer for the wrong frame would show
    with mlflow.start_run():
        uri = log_model(model, paths_in(embedded_store))
    version = mlflow.register_model(uri, "driving.champion").version  # what `promote` makes
    mlflow.MlflowClient().set_registered_model_alias("driving.champion", "champion", version)

    port, record, output = free_port(), embedded_store / "run1", []
    with _drive_process("--port", str(port), "--record", str(record), output=output) as process:
        client, events = _client(port)
        assert events.get(timeout=30) == ("steer", ZERO)  # sent on connect: starts the car
        answers = []
        for jpeg, speed in frames:
            client.emit("telemetry", _telemetry(jpeg, speed))
            name, data = events.get(timeout=60)
            assert name == "steer" and set(data) == {"steering_angle", "throttle"}
            answers.append(data)
        client.emit("telemetry", {**_telemetry(b"", "1.0"), "image": "not a frame"})
        assert events.get(timeout=60) == ("steer", ZERO)  # unreadable: straight, no throttle
        client.emit("telemetry", {})  # the user drives with the keys
        assert events.get(timeout=60) == ("manual", {})
        client.emit("manual", {})
        assert events.get(timeout=60) == ("manual", {})
        client.disconnect()
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert _stopped(process, output) == 0
    time.sleep(0.2)  # the reader thread takes the last lines
    text = "".join(output)
    assert f"stopped after {FRAMES} frames, {FRAMES} recorded in {record}" in text
    assert "1 unreadable" in text

    angles = np.array([float(a["steering_angle"]) for a in answers])
    throttles = np.array([float(a["throttle"]) for a in answers])
    assert np.all(np.abs(angles) <= 1) and np.all(np.abs(throttles) <= 1)
    np.testing.assert_allclose(angles, want, atol=1e-4)  # the model's angle for that frame
    speeds = np.array([float(speed) for _, speed in frames])
    assert np.all(speeds > 20) and np.all(throttles < 0)  # the log's 30 mph: it brakes to 20

    lines = (record / "driving_log.csv").read_text().splitlines()
    assert len(lines) == FRAMES
    for line, jpeg, answer, speed in zip(lines, jpegs, answers, speeds, strict=True):
        center, left, right, steering, throttle, brake, logged = line.split(",")
        assert (record / center).read_bytes() == jpeg and left == right == center
        assert steering == answer["steering_angle"]  # the very string sent
        assert float(throttle) == 0 and float(brake) == -float(answer["throttle"])
        assert float(logged) == speed
    manifest, result = ingest_and_validate("driving", record, embedded_store / "docs")
    report = result.report
    assert (report["rows_in"], report["valid"], report["rejected"]) == (FRAMES, FRAMES, 0)
    np.testing.assert_allclose(manifest["steering"], angles)


def _fake_driver():
    from pipeline.tasks.driving.drive.control import SpeedController
    from pipeline.tasks.driving.drive.driver import Driver

    return Driver(lambda frame: float(frame.mean() / 255), SpeedController(20.0))


def test_the_simulators_own_wire_is_served():
    """Its URL says EIO=4 and opens a WebSocket at once; it pings, the server pongs."""
    from pipeline.tasks.driving.drive.bench import SimulatorClient
    from pipeline.tasks.driving.drive.server import DriveServer

    jpeg, speed = _real_frames()[0]
    with DriveServer(_fake_driver(), port=0).running() as server:
        simulator = SimulatorClient(server.port)
        assert simulator.handshake["upgrades"] == [] and simulator.first == ("steer", ZERO)
        assert simulator.ping() == "3"
        name, data = simulator.telemetry(jpeg, float(speed))
        assert name == "steer" and 0 < float(data["steering_angle"]) < 1
        simulator.send("telemetry", {})
        assert simulator.event() == ("manual", {})
        simulator.close()


def test_a_long_polling_client_is_served_too():
    from pipeline.tasks.driving.drive.server import DriveServer

    jpeg, speed = _real_frames()[0]
    with DriveServer(_fake_driver(), port=0).running() as server:
        client, events = _client(server.port, transport="polling")
        assert events.get(timeout=30) == ("steer", ZERO)
        client.emit("telemetry", _telemetry(jpeg, speed))
        name, data = events.get(timeout=30)
        assert name == "steer" and 0 < float(data["steering_angle"]) < 1
        client.disconnect()


def test_a_taken_port_is_one_line_before_any_model_loads():
    import socket as sockets

    from pipeline.core.errors import PipelineError
    from pipeline.tasks.driving.drive.command import drive

    with sockets.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(PipelineError, match=f"cannot listen on 127.0.0.1:{port}.*--port"):
            drive(model="models:/nowhere@never", port=port)
        assert time.monotonic() - start < 5  # no TensorFlow, no MLflow
