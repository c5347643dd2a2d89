"""Talking to the registry without failing open: what counts as "not there", and one writer.

Only a definite answer of the store ("alias ... not found", "Registered Model ... not
found") means absent; a refused connection, a timeout or a 5xx is an error, never "no
champion". Promotions are serialised by an exclusive `fcntl` lock beside the embedded
store (or in the project for a server), so two `promote` calls on one machine decide
one after the other.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core import tracking
from pipeline.core.errors import PipelineError

LOCK_TIMEOUT_S = 60.0


def lock_path(uri: str) -> Path:
    """Beside the sqlite file for an embedded store; in the project for anything else."""
    if uri.startswith("sqlite:///"):
        store = Path(uri.removeprefix("sqlite:///"))
        return store.with_name(f"{store.name}.promote.lock")
    return tracking.project_root() / "mlflow.promote.lock"


@contextmanager
def exclusive(uri: str, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the promotion lock of the store at `uri` (released even if the process dies)."""
    path = lock_path(uri)
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
                        f"another promote or rollback has held {path} for {timeout_s:.0f} s: "
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
