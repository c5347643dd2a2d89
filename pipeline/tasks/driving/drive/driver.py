"""One telemetry event in, one answer out: the simulator protocol without the socket.

The simulator sends `telemetry` with `steering_angle`, `throttle`, `speed` (strings) and
`image` (a base64 JPEG of the centre camera) and waits for the answer before it sends the
next frame. While its user drives with the keys it sends an empty `telemetry`; the answer is
then an empty `manual` (as in the book's `drive.py`), which asks it for the next frame. A frame
that cannot be read is answered with zero steering and throttle (the car coasts straight)
and counted, never fatal: one bad frame must not stop the car's driver.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.drift.trail import record_from_env
from pipeline.tasks.driving.drive.control import SpeedController
from pipeline.tasks.driving.drive.record import Recorder, as_jpeg
from pipeline.tasks.driving.drive.steering import Steering, check_frame

Answer = tuple[str, dict[str, str]]  # (event, payload)
ZERO: dict[str, str] = {"steering_angle": "0.0", "throttle": "0.0"}


def number(text: Any) -> float:
    """A telemetry number; the simulator formats with the machine's locale ("12,3456")."""
    if isinstance(text, int | float):
        return float(text)
    try:
        return float(text)
    except (TypeError, ValueError):
        return float(str(text).replace(",", "."))  # ValueError when it is no number at all


def decode_frame(image: Any) -> tuple[bytes, np.ndarray]:
    """(encoded bytes, RGB uint8 frame) of a telemetry `image`, or a ValueError saying why.

    Decoded as training and the logged model decode frames (exact IDCT: OpenCV here,
    `core.tfdata.decode_rgb` in training), so the angle is the model's angle for the frame.
    """
    from pipeline.core.serving import decode_rgb

    if not isinstance(image, str | bytes) or not image:
        raise ValueError("no image")
    try:
        data = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"image is not base64 ({err})") from None
    try:
        frame = decode_rgb(data)
    except ValueError:
        raise ValueError(f"image does not decode ({len(data)} bytes)") from None
    return data, frame


@dataclass
class Driver:
    """Answers telemetry with the model's angle and the PI controller's throttle."""

    steer: Steering
    controller: SpeedController
    recorder: Recorder | None = None
    on_problem: Callable[[str], None] = lambda message: None
    frames: int = 0  # answered with the model's angle
    bad_frames: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connect(self) -> Answer:
        """What the book sends a simulator that connects: a zero steer, which starts it."""
        with self._lock:
            self.controller.integral = 0.0  # a new run (or a reset car) starts afresh
        return "steer", dict(ZERO)

    def close(self) -> None:
        """Stop recording, after the frame being answered (if any) is written."""
        with self._lock:
            if self.recorder is not None:
                self.recorder.close()
                self.recorder = None

    def manual(self) -> Answer:
        return "manual", {}

    def _record(
        self, encoded: bytes, frame: np.ndarray, steering: str, throttle: float, speed: float
    ) -> None:
        """Record one frame; a failing disk stops the recording, never the driving."""
        assert self.recorder is not None
        try:
            self.recorder.record(as_jpeg(encoded, frame), steering, throttle, speed)
        except (OSError, ValueError) as err:
            self.on_problem(f"recording stopped after {self.recorder.rows} frames: {err}")
            self.recorder.close()
            self.recorder = None

    def telemetry(self, data: Any) -> Answer:
        """The answer to one telemetry event (frames are answered one at a time)."""
        if not data:
            return self.manual()
        with self._lock:
            try:
                encoded, frame = decode_frame(data.get("image"))
                check_frame(frame)
                speed = number(data.get("speed"))
                angle = self.steer(frame)
                if not math.isfinite(angle) or not math.isfinite(speed):
                    raise ValueError(f"not a finite number (angle {angle}, speed {speed})")
            except (ValueError, TypeError, AttributeError) as err:
                self.bad_frames += 1
                self.on_problem(f"frame answered with zero steering: {err}")
                return "steer", dict(ZERO)
            steering = str(min(max(angle, -1.0), 1.0))  # the simulator's range
            throttle = self.controller.update(speed)
            if self.recorder is not None:
                self._record(encoded, frame, steering, throttle, speed)
            record_from_env("driving", [frame], pd.DataFrame({"steering": [angle]}))
            self.frames += 1
            return "steer", {"steering_angle": steering, "throttle": str(throttle)}
