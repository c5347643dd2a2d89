"""The committed baseline: `dvc.lock` and `metrics/` of the default run (`make baseline`) are
in git, as in DVC's example projects, and stay true to the code and params.

`dvc status` compares the lock with the checkout. A fresh clone has no outputs, so missing
data and outputs are not staleness; a changed code dep (`code_deps/...`), a changed param, a
changed command, a stage the lock lacks, or committed metrics that do not match the lock are.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DVC = Path(sys.executable).with_name("dvc")
LOCK = ROOT / "dvc.lock"
PARAMS_FILE = "params.yaml"
FIX = "run `make baseline` and commit dvc.lock metrics/"


def stale_stages(status: dict[str, list[Any]]) -> dict[str, list[str]]:
    """What makes each stage of `dvc status --json` stale, leaving out missing data/outputs."""
    stale: dict[str, list[str]] = {}
    for stage, entries in status.items():
        reasons = []
        for entry in entries:
            if isinstance(entry, str):  # "changed command"
                reasons.append(entry)
                continue
            for path, state in entry.get("changed deps", {}).items():
                if isinstance(state, dict):  # {"train.driving": "modified"}
                    reasons += [f"param {key} {change}" for key, change in sorted(state.items())]
                elif path.startswith("code_deps/") or path == PARAMS_FILE:
                    reasons.append(f"{path} {state}")
            for path, state in entry.get("changed outs", {}).items():
                if path.startswith("metrics/"):  # committed with the lock, never missing
                    reasons.append(f"{path} {state}")
        if reasons:
            stale[stage] = reasons
    return stale


def test_stale_stages_ignores_missing_outputs_and_data():
    status = {
        "ingest@driving": [
            {"changed deps": {"data/sample/driving": "deleted"}},
            {"changed outs": {"data/interim/driving/manifest.parquet": "deleted"}},
        ],
        "train@driving": [{"changed deps": {"code_deps/train/driving": "modified"}}],
        "sample@driving": [{"changed deps": {"params.yaml": {"sample.driving": "modified"}}}],
        "evaluate@plates": [{"changed outs": {"metrics/plates.json": "modified"}}],
        "new@stage": [{"changed deps": {"code_deps/new": "modified", "params.yaml": "new"}}],
        "pretrain": ["changed command"],
    }
    assert stale_stages(status) == {
        "train@driving": ["code_deps/train/driving modified"],
        "sample@driving": ["param sample.driving modified"],
        "evaluate@plates": ["metrics/plates.json modified"],
        "new@stage": ["code_deps/new modified", "params.yaml new"],
        "pretrain": ["changed command"],
    }


def test_the_baseline_files_are_not_ignored_by_git():
    """`git add dvc.lock metrics/` must take them: neither is in .gitignore."""
    for path in ("dvc.lock", "metrics/driving.json"):
        done = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT, check=False
        )
        assert done.returncode == 1, f"{path} is ignored by git"


def _copy(target: Path, lock: Path) -> None:
    """What `dvc status` reads, without outputs: a copy, so that a `dvc repro` running in
    the checkout (which holds DVC's lock) cannot fail or delay the check."""
    for name in ("dvc.yaml", PARAMS_FILE, ".dvc/config"):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    shutil.copy2(lock, target / "dvc.lock")
    if (ROOT / "metrics").is_dir():
        shutil.copytree(ROOT / "metrics", target / "metrics")
    shutil.copytree(
        ROOT / "pipeline", target / "pipeline", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "code_deps", target / "code_deps", symlinks=True)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)


def _status(project: Path) -> dict[str, list[Any]]:
    done = subprocess.run(
        [str(DVC), "status", "--json"], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout or "{}")


@pytest.mark.skipif(
    not LOCK.is_file(), reason=f"dvc.lock is not committed yet (the baseline): {FIX}"
)
def test_the_committed_dvc_lock_matches_the_code_and_params(tmp_path):
    _copy(tmp_path, LOCK)
    stale = stale_stages(_status(tmp_path))
    lines = [f"{stage}: {', '.join(reasons)}" for stage, reasons in sorted(stale.items())]
    assert not stale, f"dvc.lock is stale ({FIX}):\n" + "\n".join(lines)


@pytest.mark.slow
def test_the_check_names_a_stage_whose_code_changed_and_not_missing_outputs(tmp_path):
    """Against DVC's real output: a lock made with stand-in outputs (nothing runs), then the
    outputs removed as in a fresh clone, then one stage's module edited."""
    from dvc.repo import Repo

    project = tmp_path / "project"
    project.mkdir()
    fake = tmp_path / "dvc.lock"
    fake.write_text("schema: '2.0'\nstages: {}\n")
    _copy(project, fake)
    (project / "dvc.lock").unlink()
    for stage in Repo(str(project)).index.stages:
        for out in stage.outs:
            path = Path(out.fs_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    subprocess.run([str(DVC), "commit", "--force", "-q"], cwd=project, check=True)
    for folder in ("data", "models", "reports"):
        shutil.rmtree(project / folder)
    assert stale_stages(_status(project)) == {}

    module = project / "pipeline/stages/pretrain.py"
    module.write_text(module.read_text() + "# edited\n")
    assert stale_stages(_status(project)) == {"pretrain": ["code_deps/pretrain modified"]}
