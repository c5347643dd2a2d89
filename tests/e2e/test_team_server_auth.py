"""The team server lets in only the team, and only maintainers move `@champion`.

A real `mlflow server --app-name basic-auth` on loopback, started as `make server` starts it;
accounts made with `pipeline users add`; a scientist and a maintainer then use the commands
a user types (and the raw REST API a user could call instead).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("flask_wtf", reason="the basic-auth app needs requirements/server.lock")
requests = pytest.importorskip("requests")

from pipeline.cli import app  # noqa: E402
from pipeline.core import layout  # noqa: E402
from tests.e2e.test_tracking_server import PARAMS, _pipeline, _train_and_evaluate  # noqa: E402
from tests.servers import auth_mlflow_server  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.server]

PASSWORDS = {"sci": "scientist-secret-4711", "boss": "maintainer-secret-0815"}
REGISTER = ("register", "driving", "--params", str(PARAMS))


@pytest.fixture
def auth_server(tmp_path, monkeypatch):
    """(server URI, its folder, the secrets folder); the cwd is a fresh project."""
    secrets = tmp_path / "secrets"
    monkeypatch.setenv("PIPELINE_SECRETS_DIR", str(secrets))
    for name in (
        "MLFLOW_AUTH_ADMIN_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_REGISTRY_URI",  # the session's repro exports its own store: not this server
    ):
        monkeypatch.delenv(name, raising=False)
    from mlflow.tracking._model_registry import utils as registry_utils

    monkeypatch.setattr(registry_utils, "_registry_uri", None)  # set by an earlier test
    server = tmp_path / "server"
    artifacts = server / "artifacts"
    artifacts.mkdir(parents=True)
    with auth_mlflow_server(f"sqlite:///{server / 'mlflow.db'}", artifacts) as uri:
        project = tmp_path / "project"
        project.mkdir()
        monkeypatch.chdir(project)
        monkeypatch.setenv("DVC_ROOT", str(project))
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri, server, secrets
        mlflow.set_tracking_uri(None)


def _as(monkeypatch, user: str, password: str | None = None) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password or PASSWORDS[user])


def _refused(*args: str) -> str:
    """`pipeline ARGS` that must fail with one error line and no traceback; that line."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    return line


def test_only_the_team_gets_in_and_only_maintainers_move_champion(
    auth_server, monkeypatch, write_image
):
    uri, server, secrets = auth_server
    # anonymous requests get nothing, not even a read
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{uri}/api/2.0/mlflow/experiments/search?max_results=1")
    assert anonymous.value.code == 401

    # the admin (its password generated outside git, mode 600) adds the team
    assert (secrets / "mlflow-admin-password").stat().st_mode & 0o777 == 0o600
    for user, role in (("sci", "scientist"), ("boss", "maintainer")):
        (secrets / user).write_text(PASSWORDS[user])
        added = _pipeline("users", "add", user, "--role", role, "--password-file", secrets / user)
        assert f"created {role} '{user}'" in added
    listed = requests.get(f"{uri}/api/2.0/mlflow/users/current", auth=("sci", PASSWORDS["sci"]))
    assert listed.json()["user"]["username"] == "sci"

    # a scientist logs a run and registers a candidate, and may not promote it
    _as(monkeypatch, "sci")
    _train_and_evaluate(angle=0.25, test_mse=0.3)
    assert "registered version 1" in _pipeline(*REGISTER)
    line = _refused("promote", "driving")
    assert "refused" in line and "to user 'sci', permission denied" in line
    assert "EDIT on registered model 'driving.champion'" in line

    # a maintainer promotes it
    _as(monkeypatch, "boss")
    assert "no champion yet" in _pipeline("promote", "driving")

    # a better candidate: promoted by the maintainer, and the scientist cannot move it back,
    # not even through the raw REST API
    _as(monkeypatch, "sci")
    _train_and_evaluate(angle=-0.5, test_mse=0.1)
    assert "registered version 2" in _pipeline(*REGISTER)
    _as(monkeypatch, "boss")
    assert "promoted to @champion" in _pipeline("promote", "driving")
    rest = f"{uri}/api/2.0/mlflow"
    sci = ("sci", PASSWORDS["sci"])
    moved = requests.post(
        f"{rest}/registered-models/alias",
        json={"name": "driving.champion", "alias": "champion", "version": "1"},
        auth=sci,
    )
    assert moved.status_code == 403
    copied = requests.post(
        f"{rest}/model-versions/create",
        json={"name": "driving.champion", "source": "models:/driving/1"},
        auth=sci,
    )
    assert copied.status_code == 403
    admin = mlflow.MlflowClient(uri)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
    monkeypatch.setenv(
        "MLFLOW_TRACKING_PASSWORD", (secrets / "mlflow-admin-password").read_text().strip()
    )
    champion = admin.get_model_version_by_alias("driving.champion", "champion")
    assert champion.source == "models:/driving/2"
    # (the candidates' model is the scientists': an alias `champion` there serves nothing)

    # the maintainer rolls back; the history names who decided and who registered
    _as(monkeypatch, "boss")
    assert "rolled back from version 2 to 1" in _pipeline("promote", "driving", "--rollback")
    frame = write_image(Path("frame.jpg"), width=320, height=160)
    assert "steering +0.2500" in _pipeline("predict", "driving", str(frame))
    tags = admin.get_registered_model("driving.champion").tags
    records = sorted(
        (json.loads(v) for k, v in tags.items() if k.startswith("promotion.")),
        key=lambda r: r["seq"],
    )
    assert [(r["outcome"], r["by"], r["registered_by"]) for r in records] == [
        ("promoted", "boss", "sci"),
        ("promoted", "boss", "sci"),
        ("rolled back", "boss", "sci"),
    ]
    history = _pipeline("models", "driving", "--history")
    assert " boss promote v2" in history and "[registered by sci]" in history

    # a wrong password fails in one line naming the user, without a traceback
    _as(monkeypatch, "sci", "not-the-password")
    line = _refused(*REGISTER)
    assert "refused the credentials of user 'sci'" in line

    # no password anywhere in the store, the artifacts, the server's log or the project
    registered = layout.model_dir("driving") / "registered.json"
    assert registered.is_file()
    secrets_written = [*PASSWORDS.values(), (secrets / "mlflow-admin-password").read_text().strip()]
    for folder in (server, Path.cwd()):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                leaked = [s for s in secrets_written if s.encode() in data]
                assert not leaked, f"{path} holds a password"
