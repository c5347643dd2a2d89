"""The CLI as a user runs it: help, one-line errors, and the three stages on tiny data."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.tasks import tasks_with
from tests.tiny import tiny_params

REPO = Path(__file__).parents[2]
runner = CliRunner()


@pytest.fixture
def tiny_project(tmp_path, monkeypatch):
    """A working folder with params.yaml shrunk to a few items per task."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_lists_every_stage():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("sample", "ingest", "validate"):
        assert command in result.output


def test_command_help_explains_the_task_argument():
    result = runner.invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0
    assert "raw_dir" in result.output and "plates" in result.output


def test_an_unknown_task_is_refused():
    result = runner.invoke(app, ["sample", "boats"])
    assert result.exit_code == 2
    assert "boats" in result.output


def test_a_bad_params_key_is_one_line_without_traceback(tiny_project):
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["seed"] = "forty-two"
    Path("bad.yaml").write_text(yaml.safe_dump(params))
    result = runner.invoke(app, ["sample", "plates", "--params", "bad.yaml"])
    assert result.exit_code == 1
    assert "seed:" in result.output and "forty-two" in result.output
    assert "Traceback" not in result.output


def test_ingest_of_a_missing_raw_folder_says_how_to_fix_it(tiny_project):
    result = runner.invoke(app, ["ingest", "driving"])
    assert result.exit_code == 1
    assert "is not a folder" in result.output and "pipeline sample driving" in result.output
    assert "data.driving.raw_dir" in result.output and "Traceback" not in result.output


def test_validate_before_ingest_is_one_line_naming_the_command(tiny_project):
    result = runner.invoke(app, ["validate", "driving"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: validate driving: data/interim/driving/manifest.parquet not found; "
        "run `pipeline ingest driving` (or `dvc repro ingest@driving`) first"
    )


@pytest.mark.parametrize("task", tasks_with("sample"))
def test_sample_ingest_validate_reconcile(tiny_project, task):
    for stage in ("sample", "ingest", "validate"):
        result = runner.invoke(app, [stage, task])
        assert result.exit_code == 0, result.output
        assert "nan" not in result.output  # split counts name a missing split 'none'
    report = json.loads(Path(f"reports/validation/{task}.json").read_text())
    assert report["rows_in"] == report["valid"] + report["rejected"] > 0
    assert report["passed"] is True
    assert Path(f"data/interim/{task}/valid.parquet").is_file()
    assert Path(f"reports/validation/docs/{task}/index.html").is_file()
