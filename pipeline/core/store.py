"""The MLflow store: which one (the embedded SQLite file or a team server), with bounded HTTP
retries, and how its answers are read: a definite "not found" versus a failing store.

MLflow is imported inside functions: it costs seconds.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pipeline.core.errors import PipelineError


def project_root() -> Path:
    """The main project: `$DVC_ROOT` or the cwd, walked out of any `.dvc/tmp/exps/` copy."""
    root = Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve()
    parts = root.parts
    for index in range(len(parts) - 2):
        if parts[index : index + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:index])
    return root


# MLflow's HTTP client retries for minutes by default (7 retries, backoff factor 2, 120 s
# timeout). These bound one call to ~50 s against a silent host and ~3 s against a refused
# port; a value the user exported wins.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}


def configure_tracking(check: bool = True) -> str:
    """Point MLflow at the shared server, or at the project's embedded store.

    HTTP calls get short retry and timeout defaults, and with `check` a server is asked
    once for an experiment so that an unreachable one fails here, on one line, naming it.
    """
    import mlflow

    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    uri = os.environ.get("MLFLOW_TRACKING_URI") or embedded_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if uri.startswith("sqlite:///"):
        _open_sqlite(uri)
    if check and uri.startswith(("http://", "https://")):
        try:
            mlflow.MlflowClient(uri).search_experiments(max_results=1)
        except Exception as err:  # any failure to reach the server, whatever raised it
            raise store_error(err, "reaching it", uri) from err
    return uri


#: how long a process waits for another to finish creating the same SQLite store
OPEN_TIMEOUT_S = 120.0


def _open_sqlite(uri: str) -> None:
    """Open the runs and registry stores of a SQLite `uri`, one process at a time.

    MLflow creates a new database's tables when a process first opens it, with no lock:
    two processes opening a fresh `mlflow.db` together (`dvc queue start -j 2`) both run
    the schema migration and one fails (`table _alembic_tmp_tags already exists`). Opened
    here under a lock, the second finds the tables made; MLflow keeps the opened stores
    for the rest of the process. The lock file is in the temp folder, not in the project,
    so that it never shows in `git status`.
    """
    import hashlib
    import tempfile

    import mlflow

    from pipeline.core.locks import exclusive

    key = hashlib.sha256(uri.encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"pipeline-mlflow-open-{key}.lock"
    with exclusive(lock, OPEN_TIMEOUT_S, f"another process opening {uri}"):
        client = mlflow.MlflowClient(uri, uri)
        try:
            client.search_experiments(max_results=1)
            client.search_registered_models(max_results=1)
        except Exception as err:  # an out-of-date schema, a file that is not a database
            raise store_error(err, "opening it", uri) from err


def store_error(
    err: BaseException, doing: str, uri: str | None = None, needs: str | None = None
) -> PipelineError:
    """One line naming the store and what failed, for an error that is not a plain answer.

    A server that refused the credentials (401) or the permission (403) says so, naming the
    user and, when the caller knows it, the permission `needs`.
    """
    import mlflow

    uri = uri or mlflow.get_tracking_uri()
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if _status(err, 401, "UNAUTHENTICATED"):
        named = f"user {user!r}" if user else "anonymous requests"
        return PipelineError(
            f"MLflow server {uri} refused the credentials of {named} while {doing}: set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to your account's"
        )
    if _status(err, 403, "PERMISSION_DENIED"):
        what = f": it needs {needs}" if needs else ""
        return PipelineError(
            f"MLflow server {uri} refused {doing} to user {user!r}, permission denied{what} "
            "(`pipeline users add NAME --role ...` grants roles)"
        )
    return PipelineError(
        f"MLflow store {uri} failed while {doing}: {_short(err)} "
        "(is the server up? MLFLOW_TRACKING_URI picks the store; unset it for the embedded one)"
    )


def _status(err: BaseException, status: int, code: str) -> bool:
    """A server's HTTP `status` answer, as a `RestException` or inside MLflow's message."""
    from mlflow.exceptions import MlflowException

    text = str(err)
    if isinstance(err, MlflowException) and err.error_code == code:
        return True
    return f"error code {status} " in text or f"status code {status} " in text


NOT_FOUND_CODES = {"INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"}


def is_not_found(err: BaseException) -> bool:
    """True only for the store's own answer that an alias, model or version does not exist.

    MLflow 3.17 raises `MlflowException` (a `RestException` over HTTP) with
    INVALID_PARAMETER_VALUE for a missing alias and RESOURCE_DOES_NOT_EXIST for a missing
    model or version; transport failures come as INTERNAL_ERROR.
    """
    from mlflow.exceptions import MlflowException

    return (
        isinstance(err, MlflowException)
        and err.error_code in NOT_FOUND_CODES
        and "not found" in str(err).lower()
    )


def _short(err: BaseException) -> str:
    """The telling part of an MLflow/requests message (`[Errno 111] Connection refused`)."""
    text = " ".join(str(err).split())
    errno = re.search(r"\[Errno -?\d+\][^\"')\]]*", text)
    if errno:
        return errno.group(0).strip()
    if "timed out" in text or "timeout" in text.lower():
        return "the request timed out (MLFLOW_HTTP_REQUEST_TIMEOUT)"
    return text[:200] or type(err).__name__


def embedded_uri() -> str:
    return f"sqlite:///{project_root() / 'mlflow.db'}"
