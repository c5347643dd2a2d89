"""The team server's set-up without a server: secrets, the auth config, what each role gets."""

import configparser
from pathlib import Path

import pytest

from pipeline.core import team_server
from pipeline.core.errors import PipelineError
from pipeline.core.registry.names import champion_uri

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    folder = tmp_path / "secrets"
    monkeypatch.setenv(team_server.SECRETS_DIR_ENV, str(folder))
    monkeypatch.delenv(team_server.PASSWORD_ENV, raising=False)
    monkeypatch.delenv(team_server.SECRET_KEY_ENV, raising=False)
    return folder


def test_only_maintainers_may_edit_the_champions_model():
    scientist = team_server.grants("scientist", ["driving"])
    maintainer = team_server.grants("maintainer", ["driving"])
    assert ("registered_model", "driving", "EDIT") in scientist
    assert ("registered_model", "driving.champion", "READ") in scientist
    assert ("registered_model", "driving.champion", "EDIT") in maintainer
    assert champion_uri("driving") == "models:/driving.champion@champion"
    with pytest.raises(PipelineError, match="unknown role 'admin'"):
        team_server.grants("admin", ["driving"])


def test_the_admin_password_is_generated_on_loopback_only(secrets):
    with pytest.raises(PipelineError, match=r"refusing to serve on 0\.0\.0\.0 without an admin"):
        team_server.admin_password("0.0.0.0")
    password = team_server.admin_password("127.0.0.1")
    path = secrets / "mlflow-admin-password"
    assert path.stat().st_mode & 0o777 == 0o600 and path.read_text().strip() == password
    assert len(password) >= 24 and password != "password1234"
    assert team_server.admin_password("0.0.0.0") == password  # now it exists


def test_a_secret_is_never_kept_in_the_checkout_nor_readable_by_others(secrets, monkeypatch):
    monkeypatch.setenv(team_server.SECRETS_DIR_ENV, str(REPOSITORY / "not-here"))
    with pytest.raises(PipelineError, match="inside the git checkout"):
        team_server.admin_password("127.0.0.1")
    assert not (REPOSITORY / "not-here").exists()
    monkeypatch.setenv(team_server.SECRETS_DIR_ENV, str(secrets))
    secrets.mkdir()
    (secrets / "mlflow-admin-password").write_text("a-long-enough-password")
    (secrets / "mlflow-admin-password").chmod(0o644)
    with pytest.raises(PipelineError, match="chmod 600"):
        team_server.admin_password("127.0.0.1")


def test_the_server_denies_by_default_and_keeps_no_password_in_its_config(secrets, tmp_path):
    pytest.importorskip("flask_wtf", reason="the basic-auth app needs requirements/server.lock")
    run = team_server.server(
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        tmp_path / "mlartifacts",
        "127.0.0.1",
        5999,
        tmp_path / "auth.ini",
    )
    assert run.command[1:4] == ["server", "--app-name", "basic-auth"]
    config = configparser.ConfigParser()
    config.read(tmp_path / "auth.ini")
    assert config["mlflow"]["default_permission"] == "NO_PERMISSIONS"
    assert config["mlflow"]["database_uri"] == f"sqlite:///{tmp_path / 'mlflow-auth.db'}"
    password = run.env[team_server.PASSWORD_ENV]
    assert password not in (tmp_path / "auth.ini").read_text()
    assert run.env[team_server.SECRET_KEY_ENV] != password
    assert team_server.auth_database("postgresql://db/x") == "postgresql://db/x"
