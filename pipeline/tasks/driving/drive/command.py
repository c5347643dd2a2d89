"""`pipeline drive`: the command (a plain function; the CLI registers it)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.core.errors import PipelineError
from pipeline.core.registry.names import champion_uri

DEFAULT_MODEL = champion_uri("driving")
SIMULATOR_PORT = 4567  # the port the simulator's build connects to


def _check_port(host: str, port: int) -> None:
    """Fail before the model loads (seconds) when the port is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise PipelineError(
                f"cannot listen on {host}:{port} ({err.strerror or err}): is another drive "
                f"server running? Stop it or pass --port (the simulator connects to "
                f"{SIMULATOR_PORT})"
            ) from None


def _check_record_dir(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise PipelineError(f"--record {folder} is a file: give a folder for the recording")


class _Problems:
    """Print a problem the 1st, 10th, 100th... time it happens, not at every frame."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message: str) -> None:
        self.count += 1
        if self.count & (self.count - 1) == 0 or self.count % 1000 == 0:
            typer.echo(f"warning ({self.count} so far): {message}", err=True)


def _stop_on_sigterm() -> None:
    """`kill` stops the server like Ctrl-C does (the recording is closed either way), and
    Ctrl-C stops it even when the parent process ignored SIGINT (an ignored signal is
    inherited, and Python then leaves it ignored: a server that could never be stopped)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def drive(
    model: Annotated[
        str,
        typer.Option(
            help="Registered model (or runs:/ URI) that steers, or an exported .tflite/.onnx "
            "file (`pipeline export driving`), run without TensorFlow."
        ),
    ] = DEFAULT_MODEL,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port the simulator connects to.")
    ] = SIMULATOR_PORT,
    speed: Annotated[
        float, typer.Option(min=0.0, max=30.0, help="Speed to keep, mph (PI controller).")
    ] = 20.0,
    record: Annotated[
        Path | None,
        typer.Option(
            help="Folder to record the drive in: driving_log.csv + IMG/, readable by "
            "`pipeline ingest driving`; appended to if it holds a recording.",
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 for a simulator on another host.")
    ] = "127.0.0.1",
) -> None:
    """Drive the Udacity simulator with a steering model (the book's `drive.py`): registered,
    or a .tflite/.onnx file from `pipeline export driving` (no TensorFlow needed).

    Start it, then start the simulator in Autonomous Mode: each camera frame it sends is
    answered with the model's steering angle and a throttle that keeps --speed. Needs the
    `drive` extra (`uv pip install -r requirements/drive.lock`). Ctrl-C stops it.
    """
    from pipeline.core import tracking
    from pipeline.core.edge import is_exported
    from pipeline.tasks.driving.drive.control import SpeedController
    from pipeline.tasks.driving.drive.driver import Driver
    from pipeline.tasks.driving.drive.record import Recorder
    from pipeline.tasks.driving.drive.server import DriveServer, check_socketio
    from pipeline.tasks.driving.drive.steering import load_steering

    check_socketio()
    _check_port(host, port)
    if record is not None:
        _check_record_dir(record)
    if not is_exported(model):  # a file needs no tracking store (nor MLflow)
        tracking.configure_tracking()
    start = time.perf_counter()
    steer = load_steering(model)
    typer.echo(f"drive: {model} loaded in {time.perf_counter() - start:.1f} s")
    recorder = Recorder(record) if record is not None else None
    driver = Driver(steer, SpeedController(speed), recorder, on_problem=_Problems())
    server = DriveServer(driver, host, port, say=lambda message: typer.echo(f"drive: {message}"))
    where = f" recording to {record}," if record is not None else ""
    typer.echo(
        f"drive: listening on {host}:{server.port},{where} keeping {speed:g} mph; start the "
        "simulator in Autonomous Mode (Ctrl-C stops)"
    )
    _stop_on_sigterm()
    try:
        server.serve_forever()  # returns on Ctrl-C
    finally:
        server.shutdown()
        driver.close()
    recorded = f", {recorder.rows} recorded in {record}" if recorder is not None else ""
    bad = f", {driver.bad_frames} unreadable (answered with zero steering)"
    typer.echo(
        f"drive: stopped after {driver.frames} frames{recorded}{bad if driver.bad_frames else ''}"
    )
