"""`pipeline promote` / `pipeline models` as a user runs them, on an embedded store."""

import pytest
from typer.testing import CliRunner

mlflow = pytest.importorskip("mlflow")

from pipeline.cli import app  # noqa: E402

runner = CliRunner()


@pytest.fixture
def driving(embedded_store):
    mlflow.MlflowClient().create_registered_model("driving")
    return mlflow.MlflowClient()


def _candidate(client, mse: str) -> None:
    tags = {"metric.test_mse": mse, "primary_metric": "test_mse", "test_split_hash": "s"}
    version = client.create_model_version("driving", "file:///nowhere", tags=tags)
    client.set_registered_model_alias("driving", "candidate", version.version)


def test_a_nan_candidate_cannot_be_forced(driving):
    _candidate(driving, "nan")
    result = runner.invoke(app, ["promote", "driving", "--force"])
    assert result.exit_code == 1
    assert "test_mse of version 1 is nan" in result.output
    assert "not even with --force" in result.output
    assert "promotes it anyway" not in result.output  # no hint that cannot work


def test_a_refusal_exits_1_with_a_hint_and_the_history_lists_every_decision(driving):
    _candidate(driving, "0.5")
    assert runner.invoke(app, ["promote", "driving"]).exit_code == 0
    _candidate(driving, "0.7")
    refused = runner.invoke(app, ["promote", "driving"])
    assert refused.exit_code == 1 and "does not beat the champion's 0.5" in refused.output
    assert "--force promotes it anyway" in refused.output
    forced = runner.invoke(app, ["promote", "driving", "--force"])
    assert forced.exit_code == 0 and "version 2 promoted to @champion: forced" in forced.output
    back = runner.invoke(app, ["promote", "driving", "--rollback"])
    assert back.exit_code == 0 and "rolled back from version 2 to 1" in back.output
    listed = runner.invoke(app, ["models", "driving", "--history"])
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if line[:4].isdigit()]
    assert [line.split()[0] for line in lines] == ["0001", "0002", "0003", "0004"]
    assert lines[0].endswith("promoted to @champion: no champion yet")
    assert "promote v2: refused" in lines[1] and "promote v2: forced" in lines[2]
    assert "rollback v1: rolled back, champion 2 -> 1" in lines[3]
