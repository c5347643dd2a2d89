"""The team tracking server: MLflow's basic-auth app, its secrets, its users and their roles.

Every request needs a user and password; a user with no grant on a resource gets nothing
(`default_permission = NO_PERMISSIONS`). Creating a model version and setting an alias both
need EDIT on the registered model, so one model cannot let scientists register and keep them
from moving `@champion`: candidates are versions of `<task>`, champions are copies in
`<task>.champion` (see `registry.names`), which only maintainers may edit.

The admin password and the CSRF key come from the environment or from files outside git
(`secrets_dir()`, mode 600); on loopback they are generated there the first time. The auth
database sits beside the store: `mlflow-auth.db` beside a SQLite file, the same PostgreSQL
database otherwise (MLflow keeps its own tables and migration table there).
"""

from __future__ import annotations

import configparser
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.registry.names import champion_model

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
PASSWORD_ENV = "MLFLOW_AUTH_ADMIN_PASSWORD"
USERNAME_ENV = "MLFLOW_AUTH_ADMIN_USERNAME"
SECRET_KEY_ENV = "MLFLOW_FLASK_SERVER_SECRET_KEY"
SECRETS_DIR_ENV = "PIPELINE_SECRETS_DIR"
ADMIN = "admin"
ROLES = ("scientist", "maintainer")


def secrets_dir() -> Path:
    """`$PIPELINE_SECRETS_DIR`, else `~/.config/pipeline` (outside any checkout)."""
    if os.environ.get(SECRETS_DIR_ENV):
        return Path(os.environ[SECRETS_DIR_ENV]).expanduser()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "pipeline"


def _inside_git(path: Path) -> Path | None:
    """The git work tree holding `path`, if any (a secret must never be committed)."""
    for folder in [path.resolve(), *path.resolve().parents]:
        if (folder / ".git").exists():
            return folder
    return None


def _secret(env: str, name: str, host: str | None, what: str) -> str:
    """`$env`, else the file `secrets_dir()/name`; on loopback, generated into that file
    (`host` None: only read, never generated)."""
    if os.environ.get(env):
        return os.environ[env]
    path = secrets_dir() / name
    checkout = _inside_git(path.parent)
    if checkout is not None:
        raise PipelineError(
            f"{path} is inside the git checkout {checkout}: keep the {what} outside git "
            f"({SECRETS_DIR_ENV} picks the folder)"
        )
    if path.is_file():
        if path.stat().st_mode & 0o077:
            raise PipelineError(f"{path} can be read by others: `chmod 600 {path}` first")
        value = path.read_text().strip()
        if value:
            return value
    if host is None:
        raise PipelineError(f"no {what}: set {env} or write it to {path} (chmod 600)")
    if host not in LOOPBACK:
        raise PipelineError(
            f"refusing to serve on {host} without an {what}: set {env} or write one to "
            f"{path} (chmod 600)"
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    print(f"generated the {what} into {path} (mode 600)", file=sys.stderr)
    return value


def admin_password(host: str) -> str:
    return _secret(PASSWORD_ENV, "mlflow-admin-password", host, "admin password")


def admin_username() -> str:
    return os.environ.get(USERNAME_ENV) or ADMIN


def auth_database(store_uri: str) -> str:
    """`mlflow-auth.db` beside a SQLite store; the same database for any other."""
    if store_uri.startswith("sqlite:///"):
        store = Path(store_uri.removeprefix("sqlite:///"))
        return f"sqlite:///{store.with_name(store.stem + '-auth.db')}"
    return store_uri


def write_config(path: Path, database_uri: str) -> Path:
    """The auth app's ini (no secret in it: the admin password goes by environment)."""
    config = configparser.ConfigParser()
    config["mlflow"] = {
        "default_permission": "NO_PERMISSIONS",
        "database_uri": database_uri,
        "admin_username": admin_username(),
        "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",
        "grant_default_workspace_access": "false",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold a PG URI
    with os.fdopen(descriptor, "w") as handle:
        config.write(handle)
    return path


@dataclass
class Server:
    command: list[str]
    env: dict[str, str]
    url: str


def server(
    store_uri: str,
    artifacts: Path,
    host: str,
    port: int,
    config_path: Path,
    workers: int | None = None,
    gunicorn_opts: str | None = None,
) -> Server:
    """`mlflow server --app-name basic-auth` over `store_uri`, artifacts proxied into `artifacts`.

    GenAI job workers are off: they serve no pipeline command and cost processes.
    """
    try:
        import flask_wtf  # noqa: F401
    except ImportError:
        raise PipelineError(
            "the basic-auth app needs Flask-WTF: install requirements/server.lock"
        ) from None
    env = {
        "MLFLOW_BACKEND_STORE_URI": store_uri,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_AUTH_CONFIG_PATH": str(write_config(config_path, auth_database(store_uri))),
        PASSWORD_ENV: admin_password(host),
        SECRET_KEY_ENV: _secret(SECRET_KEY_ENV, "mlflow-server-secret-key", host, "CSRF key"),
    }
    command = [str(Path(sys.executable).with_name("mlflow")), "server", "--app-name", "basic-auth"]
    command += ["--serve-artifacts", "--artifacts-destination", str(artifacts)]
    command += ["--host", host, "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    if gunicorn_opts:
        command += ["--gunicorn-opts", gunicorn_opts]
    scheme = "https" if gunicorn_opts and "--certfile" in gunicorn_opts else "http"
    return Server(command, env, f"{scheme}://{host}:{port}")


def grants(role: str, tasks: list[str]) -> list[tuple[str, str, str]]:
    """(resource type, resource, permission) a role gets: runs in every experiment, EDIT on
    the candidates' models; on the champions' models READ for scientists, EDIT for
    maintainers."""
    if role not in ROLES:
        raise PipelineError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    champion = "EDIT" if role == "maintainer" else "READ"
    rows = [("experiment", "*", "EDIT")]
    for task in tasks:
        rows += [("registered_model", task, "EDIT")]
        rows += [("registered_model", champion_model(task), champion)]
    return rows


@contextmanager
def _as_admin() -> Iterator[None]:
    """Sign in as the admin unless credentials are exported; put the environment back after."""
    if os.environ.get("MLFLOW_TRACKING_USERNAME"):
        yield
        return
    password = _secret(PASSWORD_ENV, "mlflow-admin-password", None, "admin password")
    os.environ["MLFLOW_TRACKING_USERNAME"] = admin_username()
    os.environ["MLFLOW_TRACKING_PASSWORD"] = password
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME", None)
        os.environ.pop("MLFLOW_TRACKING_PASSWORD", None)


def _ensure_models(client: Any, tasks: list[str]) -> None:
    """`<task>` and `<task>.champion` made by the admin, so that no scientist creates (and
    so manages) the champions' model first."""
    from pipeline.core.store import is_not_found

    for task in tasks:
        for name, about in (
            (task, f"{task} models of the pipeline"),
            (champion_model(task), f"{task}: the promoted versions; alias @champion is served"),
        ):
            try:
                client.get_registered_model(name)
            except Exception as err:
                if not is_not_found(err):
                    raise
                client.create_registered_model(name, description=about)


def add_user(name: str, role: str, password: str, tasks: list[str]) -> str:
    """Create (or re-grant) `name` with `role` on the server at MLFLOW_TRACKING_URI."""
    from pipeline.core.store import store_error

    rows = grants(role, tasks)
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")):
        raise PipelineError("set MLFLOW_TRACKING_URI to the team server (http://HOST:PORT)")
    if len(password) < 12:
        raise PipelineError("the password needs at least 12 characters")
    try:
        with _as_admin():
            done = _add(uri, name, password, rows, tasks)
    except PipelineError:
        raise
    except Exception as err:
        raise store_error(err, f"adding user {name!r}", uri, needs="the admin account") from err
    granted = ", ".join(f"{p} on {t} {r!r}" for t, r, p in rows)
    return f"{done} {role} {name!r} on {uri}: {granted}"


def _add(
    uri: str, name: str, password: str, rows: list[tuple[str, str, str]], tasks: list[str]
) -> str:
    """The account and its grants; "created" or "updated"."""
    import mlflow
    from mlflow.server import get_app_client

    _ensure_models(mlflow.MlflowClient(uri), tasks)
    auth = get_app_client("basic-auth", tracking_uri=uri)
    try:
        auth.create_user(name, password)
        done = "created"
    except Exception as err:
        if "already" not in str(err).lower():
            raise
        auth.update_user_password(name, password)
        done = "updated"
    for resource_type, resource, permission in rows:
        try:
            auth.grant_user_permission(name, resource_type, resource, permission)
        except Exception as err:  # a grant from an earlier role: replaced
            if "already exists" not in str(err):
                raise
            auth.revoke_user_permission(name, resource_type, resource)
            auth.grant_user_permission(name, resource_type, resource, permission)
    return done
