"""Talking to the registry without failing open: what counts as "not there", and one writer.

Only a definite answer of the store ("alias ... not found", "Registered Model ... not
found") means absent; a refused connection, a timeout or a 5xx is an error, never "no
champion". Promotions are serialised by an exclusive `fcntl` lock beside the embedded
store (or in the project for a server), so two `promote` calls on one machine decide
one after the other. `who` names the user a decision is recorded under: the one the
tracking server authenticated, the local login only on the embedded store.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import socket
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


CURRENT_USER = "/api/2.0/mlflow/users/current"


def who(uri: str) -> str:
    """The user the server at `uri` says we are (MLflow's basic-auth app answers
    `users/current` for the credentials the client sent); `login@host` on the embedded store,
    marked unauthenticated on a server without the auth app."""
    local = f"{getpass.getuser()}@{socket.gethostname()}"
    if not uri.startswith(("http://", "https://")):
        return local
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    try:
        response = http_request(get_default_host_creds(uri), CURRENT_USER, "GET")
    except Exception as err:
        raise tracking.store_error(err, "asking who we are", uri) from err
    if response.status_code == 404:
        return f"{local} (server without auth)"
    if response.status_code != 200:
        raise tracking.store_error(
            RuntimeError(f"error code {response.status_code} != 200"), "asking who we are", uri
        )
    try:
        return str(response.json()["user"]["username"])
    except (ValueError, KeyError, TypeError) as err:
        raise tracking.store_error(err, "reading who we are", uri) from err
