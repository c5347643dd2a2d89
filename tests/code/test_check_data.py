"""`pipeline check-data` (run by `make repro`): a missing raw folder is named by its params key
before DVC fails on it with a bare `[Errno 2]`."""

from pathlib import Path

import yaml
from typer.testing import CliRunner

from pipeline.cli import app

REPO_PARAMS = Path(__file__).parents[2] / "params.yaml"
runner = CliRunner()


def test_a_missing_raw_dir_is_named_by_its_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = yaml.safe_load(REPO_PARAMS.read_text())
    params["data"]["driving"]["raw_dir"] = "/home/me/project/../datasets/udacity"
    Path("params.yaml").write_text(yaml.safe_dump(params))
    result = runner.invoke(app, ["check-data"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: data.driving.raw_dir: /home/me/project/../datasets/udacity")
    assert "data.plates" not in line  # the samples are made by the pipeline: not missing


def test_samples_the_pipeline_makes_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text(REPO_PARAMS.read_text())
    result = runner.invoke(app, ["check-data"])
    assert result.exit_code == 0 and "raw_dir is a folder" in result.stdout
