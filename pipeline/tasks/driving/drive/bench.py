"""`pipeline drive` as the simulator sees it: telemetry sent -> steer received, per frame.

A client speaking the simulator's own wire protocol (WebSocket from the first request,
`EIO=4` in the URL, Socket.IO text packets) sends one frame, waits for the answer, sends the
next, as the simulator does; the time per frame is its frame rate. `pipeline bench
drive-latency` (pipeline/tasks/driving/benchmarks/drive.py) times it with the logged model
and with the book's `model.predict` per frame; the end-to-end tests play the simulator with
the same client.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.tasks.driving.drive.control import SpeedController
from pipeline.tasks.driving.drive.driver import Driver
from pipeline.tasks.driving.drive.server import DriveServer
from pipeline.tasks.driving.drive.steering import Steering


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


@contextmanager
def simulator(steer: Steering) -> Iterator[SimulatorClient]:
    """A drive server steering with `steer` on a free loopback port, a simulator connected
    to it; both stopped after the block."""
    server = DriveServer(Driver(steer, SpeedController(20.0)), port=0)
    with server.running():
        client = SimulatorClient(server.port)
        try:
            yield client
        finally:
            client.close()


@dataclass(frozen=True)
class Drove:
    """What the simulator saw of one drive: the angle answered for each frame and the
    seconds from its telemetry sent to that steer received."""

    angles: np.ndarray
    seconds: np.ndarray


def drive(client: SimulatorClient, jpegs: Sequence[bytes]) -> Drove:
    """Send `jpegs` one at a time, each after the answer to the one before (the simulator's
    way), timing each from telemetry sent to steer received."""
    angles, seconds = [], []
    for jpeg in jpegs:
        start = time.perf_counter()
        name, data = client.telemetry(jpeg)
        seconds.append(time.perf_counter() - start)
        if name != "steer":
            raise RuntimeError(f"the drive server answered {name!r}, not 'steer'")
        angles.append(float(data["steering_angle"]))
    return Drove(np.array(angles), np.array(seconds))


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p99_ms: float
    frames: int

    @classmethod
    def of(cls, seconds: Sequence[float] | np.ndarray) -> Latency:
        """Median and 99th percentile of per-frame times (at least one)."""
        ms = [1000 * float(s) for s in seconds]
        return cls(statistics.median(ms), float(np.percentile(ms, 99)), len(ms))
