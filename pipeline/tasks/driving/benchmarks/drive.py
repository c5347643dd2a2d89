"""The drive-latency row: `pipeline drive` from telemetry to steer, per frame, over its socket.

The simulator waits for each answer before it sends the next frame, so this latency is the
frame rate it can be driven at. Ours: a drive server steering with the driving model logged
as `pipeline train` logs it (the pyfunc's `angles`, loaded as `pipeline drive --model` loads
it). The book's `drive.py` way: the same server calling `model.predict` per frame on the
Keras model. Both servers run on free loopback ports, each with a simulator connected (the
simulator's own wire), for the whole row; every run sends each sample frame once.

The `drive-latency-tflite` row: the same model exported by `pipeline export`'s converter to a
float32 TFLite file, served by `pipeline drive --model file.tflite` (LiteRT, one thread),
against the logged model's compiled Keras call (this row's "ours").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.bench.case import Agreement, Figure, Goal, Measured, Setup, Skip, Verdict
from pipeline.core.errors import PipelineError
from pipeline.tasks.driving.benchmarks.frames import pilotnet_model
from pipeline.tasks.driving.drive.bench import Drove, Latency, SimulatorClient, drive, simulator

GOAL_MEDIAN_MS = 10.0
GOAL_RATIO = 20.0
TFLITE_GOAL_MS = 1.72  # the logged model's median when TFLite steering came (docs/benchmarks.md)
TOLERANCE = 1e-4  # largest angle difference between the two ways


@dataclass
class Servers:
    """The row's inputs: frames, and a simulator connected to each way's drive server.

    A context manager: the scaffold stops both servers when the row ends.
    """

    jpegs: list[bytes]  # the sample's centre frames, in recording order
    ours: SimulatorClient
    book: SimulatorClient
    source: str  # where the Keras model comes from
    stack: ExitStack = field(repr=False)

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def servers(setup: Setup) -> Servers:
    """Sample frames, the driving model logged and loaded back, both servers started."""
    from pipeline.tasks.driving.drive.steering import load_steering, predict_steering

    _check_drive_extra()
    jpegs = sample_frames(setup)
    model, source = keras_model(setup, jpegs)
    logged = log_model(model, setup.folder("drive-model"))
    with ExitStack() as stack:
        ours = stack.enter_context(simulator(load_steering(str(logged))))
        book = stack.enter_context(simulator(predict_steering(model)))
        return Servers(jpegs, ours, book, source, stack.pop_all())


def tflite_servers(setup: Setup) -> Servers:
    """Sample frames; the model exported to TFLite behind one server, the logged model
    behind the other."""
    from pipeline.export.run import convert
    from pipeline.tasks.driving.drive.steering import exported_steering, load_steering

    _check_drive_extra()
    jpegs = sample_frames(setup)
    model, source = keras_model(setup, jpegs)
    folder = setup.folder("drive-model-tflite")
    logged = log_model(model, folder)
    frame = np.zeros((1, 160, 320, 3), np.float32)
    exported = convert(model, folder / "driving.tflite", "tflite", "none", frame)
    with ExitStack() as stack:
        ours = stack.enter_context(simulator(exported_steering(exported)))
        book = stack.enter_context(simulator(load_steering(str(logged))))
        source += f", exported as float32 TFLite ({exported.stat().st_size / 1e6:.1f} MB)"
        return Servers(jpegs, ours, book, source, stack.pop_all())


def _check_drive_extra() -> None:
    """Skip the row, saying how to install them, without the drive server's packages."""
    from pipeline.tasks.driving.drive.server import INSTALL, check_socketio

    try:
        check_socketio()
        import websocket  # noqa: F401 - the simulator's side of the wire
    except PipelineError as err:
        raise Skip(str(err)) from None
    except ImportError:
        raise Skip(f"the simulator's client needs websocket-client: {INSTALL}") from None


def sample_frames(setup: Setup) -> list[bytes]:
    """Centre frames of a sample recording (the simulator's 320x160 JPEGs), in time order."""
    from pipeline.tasks.driving.params import DrivingSampleParams
    from pipeline.tasks.driving.sample import write_sample

    root = setup.folder("drive")
    write_sample(root, DrivingSampleParams(frames=setup.size(8, 200)), setup.seed)
    return [path.read_bytes() for path in sorted((root / "IMG").glob("center_*.jpg"))]


def keras_model(setup: Setup, jpegs: list[bytes]) -> tuple[Any, str]:
    """The trained model when the pipeline has run (full runs), else a fresh PilotNet whose
    angles on these frames span [-0.9, 0.9], so an answer for the wrong frame would show."""
    from pipeline.core.serving import decode_rgb

    model, trained = pilotnet_model(setup)
    if trained:
        return model, "trained model"
    frames = np.stack([decode_rgb(jpeg) for jpeg in jpegs]).astype(np.float32)
    angles = model.predict(frames, verbose=0).ravel()
    scale = 1.8 / max(float(np.ptp(angles)), 1e-9)
    head = model.get_layer("steering")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * scale, (bias - angles.min()) * scale - 0.9])
    return model, "untrained PilotNet, its angles spread over [-0.9, 0.9]"


@contextmanager
def _store(folder: Path) -> Iterator[str]:
    """A tracking store of the row's own (the project's is never written); its experiment."""
    import mlflow

    previous = mlflow.get_tracking_uri() if mlflow.tracking.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    try:
        yield mlflow.create_experiment("bench", artifact_location=(folder / "mlartifacts").as_uri())
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]  # None: the default again


def log_model(model: Any, folder: Path) -> Path:
    """`model` logged by the pipeline's own `log_model`, then downloaded: a model folder."""
    import mlflow

    from pipeline.core.layout import TaskPaths
    from pipeline.tasks.driving.training import log_model as log_driving_model

    with _store(folder) as experiment, mlflow.start_run(experiment_id=experiment):
        uri = log_driving_model(model, TaskPaths(folder, folder, folder, folder, folder))
        return Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(folder / "model")))


def about(inputs: Servers) -> str:
    return (
        f"{len(inputs.jpegs)} sample frames, each timed from telemetry sent to steer "
        f"received; {inputs.source}; each way behind a drive server of its own"
    )


def ours(inputs: Servers) -> Drove:
    """The logged model's `angles`, as `pipeline drive` steers."""
    return drive(inputs.ours, inputs.jpegs)


def book(inputs: Servers) -> Drove:
    """The book's `drive.py`: `model.predict` per frame."""
    return drive(inputs.book, inputs.jpegs)


def median_frame(drove: Drove) -> float:
    """A run's clock: its median seconds per frame (the figure the simulator feels)."""
    return float(np.median(drove.seconds))


def same_angles(inputs: Servers, mine: Drove, theirs: Drove) -> Agreement:
    gap = float(np.abs(mine.angles - theirs.angles).max())
    low, high = float(mine.angles.min()), float(mine.angles.max())
    return Agreement(
        gap < TOLERANCE,
        f"largest angle difference {gap:.2g} (tolerance 1e-4) over {len(mine.angles)} frames "
        f"answered from {low:.2f} to {high:.2f}",
    )


def _pooled(runs: list[Any]) -> Latency:
    return Latency.of(np.concatenate([run.output.seconds for run in runs]))


def _judged(
    measured: Measured[Servers],
    names: tuple[str, str],
    goals: Callable[[float, float], dict[str, bool]],
) -> Verdict:
    """Median and p99 of both ways over every timed frame, shown as `names`; the ratio of the
    baseline's median over ours; `goals` of ours' median and that ratio map what to say when
    a goal is missed to whether it is met."""
    ours, baseline = _pooled(measured.ours), _pooled(measured.baseline)
    ratio = baseline.median_ms / ours.median_ms
    figures = tuple(
        Figure(f"{name} {which}", getattr(way, f"{which}_ms"), "ms")
        for name, way in zip(names, (ours, baseline), strict=True)
        for which in ("median", "p99")
    )
    failed = [reason for reason, met in goals(ours.median_ms, ratio).items() if not met]
    notes = tuple(f"goal not met: {reason}" for reason in failed)
    return Verdict(not failed, ratio, notes=notes, figures=figures)


def _drive_goals(median_ms: float, ratio: float) -> dict[str, bool]:
    """Median under GOAL_MEDIAN_MS and GOAL_RATIO times faster than `predict`, per frame."""
    return {
        f"median {median_ms:.2f} ms is not under {GOAL_MEDIAN_MS:g}": median_ms < GOAL_MEDIAN_MS,
        f"{ratio:.1f}x predict is under {GOAL_RATIO:g}x": ratio >= GOAL_RATIO,
    }


def _tflite_goals(median_ms: float, ratio: float) -> dict[str, bool]:
    """The TFLite server's median at most TFLITE_GOAL_MS and no slower than the logged
    model's server in the same run."""
    return {
        f"median {median_ms:.2f} ms is above {TFLITE_GOAL_MS:g}": median_ms <= TFLITE_GOAL_MS,
        f"{ratio:.2f}x the logged model is slower than it": ratio >= 1.0,
    }


GOAL: Goal[Servers] = Goal(
    f"median < {GOAL_MEDIAN_MS:g} ms per frame and ratio >= {GOAL_RATIO:g}",
    lambda measured: _judged(measured, ("ours", "predict"), _drive_goals),
)
TFLITE_GOAL: Goal[Servers] = Goal(
    f"median <= {TFLITE_GOAL_MS:g} ms per frame and ratio >= 1",
    lambda measured: _judged(measured, ("TFLite", "logged model"), _tflite_goals),
)
