"""Time `pipeline drive` as the simulator sees it: telemetry sent -> steer received.

A client speaking the simulator's own wire protocol (WebSocket from the first request,
`EIO=4` in the URL, Socket.IO text packets) sends one frame, waits for the answer, sends the
next, as the simulator does; the time per frame is its frame rate. The same frames go
through the same server with the book's way of steering (`model.predict` per frame), and
the two sets of angles are checked to agree before any time is trusted.

    python -m pipeline.tasks.driving.drive.bench [--frames 200] [IMAGE_DIR]
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.tasks.driving.drive.control import SpeedController
from pipeline.tasks.driving.drive.driver import Driver
from pipeline.tasks.driving.drive.server import DriveServer
from pipeline.tasks.driving.drive.steering import Steering, compiled_steering, predict_steering

if TYPE_CHECKING:
    import keras

GOAL_MEDIAN_MS = 10.0
GOAL_RATIO = 20.0


class SimulatorClient:
    """The simulator's side of the wire, as its Unity client speaks it (no library).

    Like the simulator, it pings every 25 s: a server hears nothing else from a client that
    sends no frame for a while, and closes it 60 s after its last ping.
    """

    PING_INTERVAL_S = 25.0

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
        import websocket

        url = f"ws://{host}:{port}/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=timeout)
        self.handshake = json.loads(self._packet("0"))  # Engine.IO OPEN: sid, pings
        self.last_ping = time.monotonic()
        self._packet("40")  # Socket.IO CONNECT of "/"
        self.first = self.event()  # what the server says on connect

    def _packet(self, kind: str) -> str:
        while True:
            message = self.ws.recv()
            if isinstance(message, str) and message.startswith(kind):
                return message[len(kind) :]

    def event(self) -> tuple[str, Any]:
        """The next Socket.IO event: (name, data)."""
        name, *data = json.loads(self._packet("42"))
        return name, data[0] if data else None

    def send(self, name: str, data: Any) -> None:
        if time.monotonic() - self.last_ping > self.PING_INTERVAL_S:
            self.ws.send("2")  # its "3" answer is skipped by `event`
            self.last_ping = time.monotonic()
        self.ws.send("42" + json.dumps([name, data]))

    def telemetry(self, jpeg: bytes, speed: float = 20.0) -> tuple[str, Any]:
        """One frame as the simulator sends it, and the server's answer."""
        payload = {"steering_angle": "0.0000", "throttle": "0.0000", "speed": f"{speed:.4f}"}
        self.send("telemetry", {**payload, "image": base64.b64encode(jpeg).decode()})
        return self.event()

    def ping(self) -> str:
        """The simulator pings (Engine.IO 3); the server answers "3" (returned)."""
        self.ws.send("2")
        self.last_ping = time.monotonic()
        return "3" + self._packet("3")

    def close(self) -> None:
        self.ws.close()


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p99_ms: float
    frames: int


def telemetry_latency(
    steer: Steering, jpegs: Sequence[bytes], frames: int = 200, warmup: int = 20
) -> tuple[Latency, list[float]]:
    """(latency per frame after `warmup` frames, the angles answered) over loopback."""
    server = DriveServer(Driver(steer, SpeedController(20.0)), port=0)
    times, angles = [], []
    with server.running():
        client = SimulatorClient(server.port)
        try:
            for k in range(warmup + frames):
                jpeg = jpegs[k % len(jpegs)]
                start = time.perf_counter()
                name, data = client.telemetry(jpeg)
                elapsed = time.perf_counter() - start
                if name != "steer":
                    raise RuntimeError(f"the server answered {name!r}, not 'steer'")
                if k >= warmup:
                    times.append(1000 * elapsed)
                    angles.append(float(data["steering_angle"]))
        finally:
            client.close()
    p99 = float(np.percentile(times, 99))
    return Latency(statistics.median(times), p99, len(times)), angles


def compare(
    model: keras.Model, jpegs: Sequence[bytes], frames: int = 200, warmup: int = 20
) -> dict[str, Any]:
    """`pipeline drive`'s compiled call vs the book's `model.predict`, on the same frames.

    A bench row: `ours`/`predict` latencies (median, p99 ms), `ratio` of the medians,
    `agree` (largest angle difference under 1e-4) and `met` (the goals).
    """
    ours, our_angles = telemetry_latency(compiled_steering(model), jpegs, frames, warmup)
    book, book_angles = telemetry_latency(predict_steering(model), jpegs, frames, warmup)
    gap = float(np.max(np.abs(np.subtract(our_angles, book_angles))))
    ratio = book.median_ms / ours.median_ms
    return {
        "ours": asdict(ours),
        "predict": asdict(book),
        "ratio": ratio,
        "largest_angle_difference": gap,
        "agree": gap < 1e-4,
        "goal": f"median < {GOAL_MEDIAN_MS:g} ms and >= {GOAL_RATIO:g}x predict per frame",
        "met": gap < 1e-4 and ours.median_ms < GOAL_MEDIAN_MS and ratio >= GOAL_RATIO,
    }


def _frames(folder: Path | None, count: int = 50) -> list[bytes]:
    """Centre frames of a recording folder, or random 320x160 JPEGs."""
    if folder is not None:
        paths = sorted(folder.rglob("center_*.jpg"))[:count]
        if paths:
            return [path.read_bytes() for path in paths]
    import cv2

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (count, 160, 320, 3), dtype=np.uint8)
    return [cv2.imencode(".jpg", image)[1].tobytes() for image in pixels]


def main(argv: Sequence[str] | None = None) -> None:
    import argparse

    import keras

    from pipeline.core import layout
    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="?", type=Path, help="folder of center_*.jpg frames")
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args(argv)
    path = layout.model_path("driving")
    if path.is_file():
        model, source = keras.models.load_model(path, safe_mode=True), str(path)
    else:
        keras.utils.set_random_seed(0)
        model, source = pilotnet(DrivingTrainParams()), "untrained PilotNet"
    figures = compare(model, _frames(args.images), args.frames)
    print(f"telemetry -> steer over loopback, {args.frames} frames, {source}")
    for name in ("ours", "predict"):
        row = figures[name]
        print(f"  {name:8s} median {row['median_ms']:7.2f} ms   p99 {row['p99_ms']:7.2f} ms")
    print(
        f"  ratio {figures['ratio']:.1f}x, largest angle difference "
        f"{figures['largest_angle_difference']:.2g}; goal ({figures['goal']}) "
        f"{'met' if figures['met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
