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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mlflow_server(store_uri: str, artifacts: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`mlflow server` as `make server` starts it, on a free port; stopped by process group
    (it starts worker processes). Yields its URI and process (a test may kill it)."""
    port = free_port()
    command = [os.path.join(os.path.dirname(sys.executable), "mlflow"), "server"]
    command += ["--serve-artifacts", "--artifacts-destination", str(artifacts)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    env = os.environ | {
        "MLFLOW_BACKEND_STORE_URI": store_uri,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    log = artifacts.parent / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a new PostgreSQL database is migrated first
        while True:
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"mlflow server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield uri, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def model_server(
    model_uri: str, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """`mlflow models serve -m MODEL_URI --env-manager local` on a free loopback port, as the
    README tells a user to start it; yields its URL once `/ping` answers, stops it by process
    group (uvicorn starts workers). `env` is the server's whole environment (default: ours),
    e.g. with `MLFLOW_TRACKING_URI` naming the store a `models:/` URI is looked up in."""
    port = free_port()
    bin_dir = os.path.dirname(sys.executable)
    command = [os.path.join(bin_dir, "mlflow"), "models", "serve"]
    command += ["-m", model_uri, "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]
    env = dict(os.environ if env is None else env)
    # it execs `uvicorn` by name: the venv's, as in a user's activated environment
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # TensorFlow is imported and the model loaded first
        while True:
            try:
                urllib.request.urlopen(f"{url}/ping", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"mlflow models serve did not start: {log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
