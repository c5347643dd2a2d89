"""Real `dvc repro` on a copy of the repository with a tiny profile."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[2]
pytestmark = pytest.mark.slow


def _copy_repository(target: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.split()
    for name in tracked:
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)


def _shrink(params_file: Path, **sizes: int) -> None:
    params = yaml.safe_load(params_file.read_text())
    for task, size in sizes.items():
        key = "frames" if task == "driving" else "images"
        params["sample"][task][key] = size
    params["validate"]["max_rejected_fraction"] = 0.25
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))


def _dvc(project: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_repro_runs_once_then_only_what_changed(tmp_path):
    project = tmp_path / "project"
    _copy_repository(project)
    _shrink(project / "params.yaml", plates=12, driving=60, captions=16)

    first = _dvc(project, "repro")
    for task in ("plates", "driving", "captions"):
        for stage in ("sample", "ingest", "validate"):
            assert f"Running stage '{stage}@{task}'" in first
    assert (project / "reports" / "validation" / "captions.json").is_file()

    second = _dvc(project, "repro")
    assert "Running stage" not in second
    assert "up to date" in second

    _shrink(project / "params.yaml", plates=14, driving=60, captions=16)
    third = _dvc(project, "repro")
    ran = sorted(line.split("'")[1] for line in third.splitlines() if "Running stage" in line)
    assert ran == ["ingest@plates", "sample@plates", "validate@plates"]
