"""Real servers on loopback for tests: a free port, and `mlflow server` as `make server`
starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: set by `make test-fast`, which deselects the tests marked `server`: one unmarked fails
NO_SERVERS = "PIPELINE_TESTS_NO_SERVERS"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _running(
    command: list[str], env: dict[str, str], log: Path, ready_url: str, wait: float, cwd=None
) -> Iterator[subprocess.Popen]:
    """`command` started in its own process group, yielded once `ready_url` answers (a failed
    start fails the test with the end of `log`), stopped by process group: both servers
    start worker processes."""
    if os.environ.get(NO_SERVERS):
        pytest.fail(f"{NO_SERVERS} is set (`make test-fast`): mark this test `server`")
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    what = " ".join([Path(command[0]).name, *command[1:3]])
                    pytest.fail(f"{what} did not start: {log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def mlflow_server(store_uri: str, artifacts: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`mlflow server` as `make server` starts it, on a free port. Yields its URI and process
    (a test may kill it)."""
    port = free_port()
    command = [os.path.join(os.path.dirname(sys.executable), "mlflow"), "server"]
    command += ["--serve-artifacts", "--artifacts-destination", str(artifacts)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = os.environ | {
        "MLFLOW_BACKEND_STORE_URI": store_uri,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    uri = f"http://127.0.0.1:{port}"
    # a new PostgreSQL database is migrated first
    with _running(command, env, artifacts.parent / "server.log", f"{uri}/health", 180) as process:
        yield uri, process


@contextmanager
def auth_mlflow_server(store_uri: str, artifacts: Path) -> Iterator[str]:
    """`mlflow server --app-name basic-auth` as `make server` starts it (`pipeline server`,
    `team_server.server`), on a free loopback port; yields its URI. The admin password and
    CSRF key are generated into `$PIPELINE_SECRETS_DIR`, which the caller points outside git."""
    from pipeline.core import team_server

    run = team_server.server(
        store_uri, artifacts, "127.0.0.1", free_port(), artifacts.parent / "auth.ini", workers=1
    )
    log = artifacts.parent / "server.log"
    with _running(run.command, os.environ | run.env, log, f"{run.url}/health", 180):
        yield run.url


@contextmanager
def model_server(
    model_uri: str, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """`mlflow models serve -m MODEL_URI --env-manager local` on a free loopback port, as the
    docs/mlflow.md tells a user to start it; yields its URL once `/ping` answers. `env` is the
    server's whole environment (default: ours), e.g. with `MLFLOW_TRACKING_URI` naming the
    store a `models:/` URI is looked up in."""
    port = free_port()
    bin_dir = os.path.dirname(sys.executable)
    command = [os.path.join(bin_dir, "mlflow"), "models", "serve"]
    command += ["-m", model_uri, "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    env = dict(os.environ if env is None else env)
    # it execs `uvicorn` by name: the venv's, as in a user's activated environment
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    url = f"http://127.0.0.1:{port}"
    # TensorFlow is imported and the model loaded first
    with _running(command, env, log, f"{url}/ping", 300, cwd):
        yield url
