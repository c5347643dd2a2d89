"""Talking to the registry without failing open: what counts as "not there", and one writer.

Only a definite answer of the store ("alias ... not found", "Registered Model ... not
found") means absent; a refused connection, a timeout or a 5xx is an error, never "no
champion". Registrations and promotions are serialised by an exclusive `fcntl` lock
beside the embedded store (or in the project for a server), so two `register` or
`promote` calls on one machine write one after the other. `who` names the user a
decision is recorded under: the one the tracking server authenticated, the local login
only on the embedded store.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.core import locks, tracking

LOCK_TIMEOUT_S = 60.0


def lock_path(uri: str) -> Path:
    """Beside the sqlite file for an embedded store; in the project for anything else."""
    if uri.startswith("sqlite:///"):
        store = Path(uri.removeprefix("sqlite:///"))
        return store.with_name(f"{store.name}.promote.lock")
    return tracking.project_root() / "mlflow.promote.lock"


@contextmanager
def exclusive(uri: str, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the registry lock of the store at `uri` (released even if the process dies)."""
    with locks.exclusive(lock_path(uri), timeout_s, "another register, promote or rollback"):
        yield


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
