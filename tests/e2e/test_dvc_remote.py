"""A DVC remote restores a fresh clone's outputs without rerunning; the run-cache restores
a stage whose deps and params it has seen before. Data stages of one task only: cheap."""

import json

import pytest

from tests.e2e.dvc_project import (
    DVC,
    commit_all,
    copy_repository,
    edit_params,
    git,
    ran,
    restored,
    run,
)

pytestmark = pytest.mark.slow

OUTPUTS = (  # what `validate@driving` and the stages before it produce
    "data/sample/driving/driving_log.csv",
    "data/interim/driving/manifest.parquet",
    "data/interim/driving/valid.parquet",
    "data/interim/driving/rejected.parquet",
    "reports/validation/driving.json",
    "reports/validation/docs/driving/index.html",
)


def _tiny_driving(params: dict) -> None:
    params["sample"]["driving"]["frames"] = 120
    params["ingest"]["driving"]["segment_frames"] = 10
    params["validate"]["max_rejected_fraction"] = 0.25


def test_push_then_pull_restores_a_fresh_clone_without_rerunning(tmp_path):
    project, remote, clone = tmp_path / "project", tmp_path / "remote", tmp_path / "clone"
    copy_repository(project)
    edit_params(project, _tiny_driving)
    first = run(project, *DVC, "repro", "validate@driving")
    assert ran(first) == ["ingest@driving", "sample@driving", "validate@driving"]

    run(project, *DVC, "remote", "add", "--default", "storage", str(remote))
    pushed = run(project, *DVC, "push")
    assert "files pushed" in pushed and any(remote.rglob("*"))
    commit_all(project, "data stages of driving, remote")  # dvc.lock and .dvc/config

    git(tmp_path, "clone", "-q", str(project), str(clone))
    assert not (clone / "data").exists()
    # Only these stages ran and are in dvc.lock: a bare `dvc pull` would fail on the others.
    run(clone, *DVC, "pull", "--with-deps", "validate@driving")
    for name in OUTPUTS:
        assert (clone / name).read_bytes() == (project / name).read_bytes(), name
    report = json.loads((clone / "reports/validation/driving.json").read_text())
    assert report["rows_in"] == report["valid"] + report["rejected"] > 0
    assert "up to date" in run(clone, *DVC, "status", "validate@driving")
    assert ran(run(clone, *DVC, "repro", "validate@driving")) == []


def test_run_cache_restores_a_reverted_param_instead_of_rerunning(tmp_path):
    project = tmp_path / "project"
    copy_repository(project)
    edit_params(project, _tiny_driving)
    run(project, *DVC, "repro", "validate@driving")
    report = (project / "reports/validation/driving.json").read_bytes()

    edit_params(project, lambda p: p["validate"]["driving"].update(steering_limit=2.0))
    assert ran(run(project, *DVC, "repro", "validate@driving")) == ["validate@driving"]

    edit_params(project, lambda p: p["validate"]["driving"].update(steering_limit=1.0))
    back = run(project, *DVC, "repro", "validate@driving")
    assert ran(back) == [] and restored(back) == ["validate@driving"]
    assert (project / "reports/validation/driving.json").read_bytes() == report
    assert "up to date" in run(project, *DVC, "status", "validate@driving")
