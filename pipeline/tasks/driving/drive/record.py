"""Record a drive as a simulator recording: `driving_log.csv` + `IMG/center_<time>.jpg`.

So that `pipeline ingest driving` reads a recorded run like any other: no header, the
simulator's seven columns, the frame's path relative to the folder (ingest resolves it by
file name under `IMG/`). The simulator sends only its centre camera, so `left` and `right`
name the centre frame too (ingest rejects an empty camera path). The angle is the string
sent; a negative throttle (braking) is logged as the simulator logs it, as `brake`.

Nothing is ever half-written: each frame is written to a temporary file and renamed, and only
then is its row appended with a single `write` on an unbuffered file, so a run killed at any
moment leaves a log whose every row is whole and names a frame that exists. A folder that
already holds a recording is appended to, as the simulator does.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from pipeline.core.io import atomic_file, remove_stale_temps
from pipeline.tasks.driving.ingest import LOG_FILE

JPEG_START = b"\xff\xd8\xff"


def as_jpeg(encoded: bytes, rgb: np.ndarray) -> bytes:
    """The simulator's bytes as they are when JPEG (no second compression), else a JPEG."""
    if encoded.startswith(JPEG_START):
        return encoded
    import cv2

    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
    )
    if not ok:
        raise ValueError("the frame does not encode as JPEG")
    return jpeg.tobytes()


def frame_name(moment: datetime) -> str:
    """The simulator's frame name: `center_2016_12_01_13_30_48_287.jpg` (local time, ms)."""
    return f"center_{moment:%Y_%m_%d_%H_%M_%S}_{moment.microsecond // 1000:03d}.jpg"


class Recorder:
    """Appends frames and the commands sent for them to a recording folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.images = folder / "IMG"
        self.images.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.images)  # a killed run's half-written frame
        self.log = folder / LOG_FILE
        self._fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        self._lock = threading.Lock()
        self._last: datetime | None = None
        self.rows = 0
        if self.log.stat().st_size and not self._ends_with_newline():
            os.write(self._fd, b"\n")  # a hand-edited log: our first row starts a line

    def _ends_with_newline(self) -> bool:
        with self.log.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def _moment(self) -> datetime:
        """Now to the millisecond, later than the last frame's and free in `IMG/`."""
        now = datetime.now()
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        step = timedelta(milliseconds=1)
        if self._last is not None and moment <= self._last:
            moment = self._last + step
        while (self.images / frame_name(moment)).exists():
            moment += step
        self._last = moment
        return moment

    def record(self, jpeg: bytes, steering: str, throttle: float, speed: float) -> str:
        """Write one frame and its row; return the frame's path as written in the log."""
        with self._lock:
            if self._fd < 0:
                raise OSError(f"the recording in {self.folder} is closed")
            path = f"IMG/{frame_name(self._moment())}"
            with atomic_file(self.folder / path) as tmp:
                tmp.write_bytes(jpeg)
            pedal, brake = (throttle, 0.0) if throttle >= 0 else (0.0, -throttle)  # never -0.0
            row = f"{path},{path},{path},{steering},{pedal},{brake},{speed}\n"
            self._append(row.encode())
            self.rows += 1
            return path

    def _append(self, row: bytes) -> None:
        """One whole row or none: a short write (a full disk) is cut off again."""
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, row)
        except OSError:
            os.ftruncate(self._fd, size)
            raise
        if written != len(row):
            os.ftruncate(self._fd, size)
            raise OSError(f"{self.log}: disk full? only {written} of {len(row)} bytes written")

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
