"""A throwaway git + DVC copy of the repository for end-to-end tests, and how to drive it."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).parents[2]
DVC = (sys.executable, "-m", "dvc")
# What a user's own runs leave in the checkout: a copy starts without them.
NOT_COPIED = ("dvc.lock", "metrics/")


def copy_repository(target: Path) -> None:
    """The tracked and untracked-but-not-ignored files, in a new git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        source = REPO / name
        if source.is_file() and not name.startswith(NOT_COPIED):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    git(target, "config", "user.name", "e2e test")
    git(target, "config", "user.email", "e2e@example.invalid")


def add_task(
    project: Path, package: Path, name: str, class_name: str, params: dict[str, dict]
) -> None:
    """What a new task's author does: its package under pipeline/tasks/, its class in
    `TASKS`, its params sections; then `pipeline deps --write` links its stages' code."""
    shutil.copytree(
        package, project / "pipeline/tasks" / name, ignore=shutil.ignore_patterns("__pycache__")
    )
    registry = project / "pipeline/tasks/__init__.py"
    source = registry.read_text().replace(
        "\nTASKS: dict[str, Task] = {",
        f"from pipeline.tasks.{name} import {class_name}\n\nTASKS: dict[str, Task] = {{",
    )
    source = source.replace("Captions())", f"Captions(), {class_name}())")
    assert f"{class_name}())" in source, "the TASKS tuple moved: update add_task"
    registry.write_text(source)

    def with_sections(all_params: dict) -> None:
        for section, values in params.items():
            all_params[section][name] = values

    edit_params(project, with_sections)
    run(project, "pipeline", "deps", "--write")


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def edit_params(project: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    change(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def run(project: Path, *args: str) -> str:
    """Run a command with the venv's `pipeline` on PATH and the embedded MLflow store."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(project),  # the copy's own code, not the checkout's
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("MLFLOW_REGISTRY_URI", None)  # exported by any earlier mlflow.set_registry_uri
    done = subprocess.run(list(args), cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def ran(output: str) -> list[str]:
    """The stages a `dvc repro` / `dvc exp run` output says it ran."""
    return sorted(line.split("'")[1] for line in output.splitlines() if "Running stage" in line)


def restored(output: str) -> list[str]:
    """The stages DVC restored from its run-cache instead of running them."""
    return sorted(
        line.split("'")[1] for line in output.splitlines() if "is cached - skipping run" in line
    )
