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
