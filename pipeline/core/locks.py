"""An exclusive lock on a file (`fcntl.flock`) that processes of one machine take in turn.

The kernel drops a lock when its holder dies, so a killed process never leaves one behind;
a waiter gives up after a timeout with one line naming the file.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.errors import PipelineError


@contextmanager
def exclusive(path: Path, timeout_s: float, holder: str) -> Iterator[None]:
    """Hold `path` locked; `holder` names who else may hold it, for the timeout message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PipelineError(
                        f"{holder} has held {path} for {timeout_s:.0f} s: "
                        "wait for it to finish and run this again"
                    ) from None
                time.sleep(0.05)
        try:
            handle.truncate(0)
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
