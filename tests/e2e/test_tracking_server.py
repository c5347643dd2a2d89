"""A team tracking server: the commands a team runs against a real `mlflow server` on
loopback, its artifacts proxied by the server, PostgreSQL behind it where PostgreSQL is
installed (SQLite otherwise).

No real training: two tiny Keras models of the driving serving shape (a 160x320 RGB frame in,
a constant steering angle out) go through what train and evaluate log (tracking.start_run,
the task's log_model, resume_run), then `pipeline register`, `promote`, `models`, `predict`
and `promote --rollback` as a user types them.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

mlflow = pytest.importorskip("mlflow")

from pipeline.cli import app  # noqa: E402
from pipeline.core import layout, tracking  # noqa: E402
from pipeline.core.io import write_json  # noqa: E402
from pipeline.tasks import TASKS  # noqa: E402
from tests.servers import free_port, mlflow_server  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.server]


def _params_file() -> Path:
    """The repository's params, without the drift profile at registration: these models are
    registered with no dataset behind them."""
    import tempfile

    import yaml

    params = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())
    params["drift"]["at_register"] = False
    path = Path(tempfile.mkdtemp(prefix="params-")) / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


PARAMS = _params_file()


def _postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<N>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    return versions[-1].parent if versions else None


def _postgres_owner() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` account."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def _backend() -> str:
    """ "postgresql" where the server and its driver can run here, else "sqlite" (said why)."""
    why = None
    if _postgres_bin() is None:
        why = "PostgreSQL is not installed (no initdb/pg_ctl)"
    elif os.geteuid() == 0 and _postgres_owner() is None:
        why = "running as root and there is no `postgres` account to run PostgreSQL as"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            why = "its driver is missing: install the `server` extra (requirements/server.lock)"
    if why:
        warnings.warn(f"tracking server test on SQLite: {why}", stacklevel=2)
        return "sqlite"
    return "postgresql"


@contextmanager
def _postgres() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free loopback port; its SQLAlchemy URI.

    Created in its own temporary folder (pytest's is private to root, and PostgreSQL may run
    as another account), with fsync off: the data is thrown away.
    """
    bin_dir, owner = _postgres_bin(), _postgres_owner()
    assert bin_dir is not None
    home = Path(tempfile.mkdtemp(prefix="mlflow-pg-"))
    as_owner = {} if owner is None else {"user": owner.pw_uid, "group": owner.pw_gid}
    if owner is not None:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data, port = home / "data", free_port()

    def pg(*args: str) -> None:
        command = [str(bin_dir / args[0]), *args[1:]]
        done = subprocess.run(command, cwd=home, capture_output=True, text=True, **as_owner)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(args[:1])} failed: {done.stderr.strip()[-1500:]}")

    try:
        pg("initdb", "-D", str(data), "-U", "mlflow", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg("pg_ctl", "-D", str(data), "-l", str(home / "log"), "-o", options, "-w", "start")
        try:
            yield f"postgresql://mlflow@127.0.0.1:{port}/postgres"
        finally:
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def team_server(tmp_path, monkeypatch):
    """(backend, server URI, the server's artifact folder); the cwd is a fresh project."""
    backend = _backend()
    artifacts = tmp_path / "server" / "artifacts"
    artifacts.mkdir(parents=True)
    with (
        _postgres() if backend == "postgresql" else _sqlite(tmp_path) as store,
        mlflow_server(store, artifacts) as (uri, _),
    ):
        project = tmp_path / "project"
        project.mkdir()
        monkeypatch.chdir(project)
        monkeypatch.setenv("DVC_ROOT", str(project))
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        yield backend, uri, artifacts
        mlflow.set_tracking_uri(None)


@contextmanager
def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'server' / 'mlflow.db'}"


def _train_and_evaluate(angle: float, test_mse: float) -> str:
    """What `train` and `evaluate` log for a model that always steers `angle`; its run id."""
    import keras

    frame = keras.Input(shape=(160, 320, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(frame)
    steering = keras.layers.Dense(
        1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(angle)
    )(pooled)
    model = keras.Model(frame, steering, name="constant_steering")
    run_file = layout.run_file("driving")
    with tracking.start_run("driving", {"train": {"driving": {"epochs": 1}}}, run_file) as run:
        tracking.log_history({"loss": [0.4, test_mse]})
        paths = layout.task_paths("driving", Path("raw"), layout.task_reports("driving"))
        model_uri = TASKS["driving"].log_model(model, paths)
        tracking.record_model(run_file, model_uri)
    evaluation = layout.task_reports("driving") / "evaluation"
    write_json(evaluation / "predictions.json", {"angle": angle})
    metrics = {
        "test_mse": test_mse,
        "test_mae": test_mse / 2,
        "baseline": {"name": "mean-angle predictor", "mse": 1.0},
        "beats_baseline": True,
        "test_split_hash": "split-1",
    }
    with tracking.resume_run(run_file):
        tracking.log_metrics(metrics)
        tracking.log_artifacts(evaluation, "evaluation")
    write_json(layout.task_reports("driving") / "metrics.json", metrics)
    return run.info.run_id


def _pipeline(*args: str) -> str:
    """`pipeline ARGS` as typed; its output, after checking it succeeded."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_register_promote_rollback_and_predict_against_a_team_server(team_server, write_image):
    backend, uri, artifacts = team_server
    frame = write_image(Path("frame.jpg"), width=320, height=160)
    register = ("register", "driving", "--params", str(PARAMS))

    first_run = _train_and_evaluate(angle=0.25, test_mse=0.3)
    assert "registered version 1" in _pipeline(*register)
    assert "no champion yet" in _pipeline("promote", "driving")
    assert "steering +0.2500" in _pipeline("predict", "driving", str(frame))

    _train_and_evaluate(angle=-0.5, test_mse=0.1)
    assert "registered version 2" in _pipeline(*register)
    _pipeline("promote", "driving")
    assert "steering -0.5000" in _pipeline("predict", "driving", str(frame))
    listed = _pipeline("models", "driving", "--history")
    assert "champion" in listed and "candidate" in listed and "promoted" in listed

    _pipeline("promote", "driving", "--rollback")
    assert "steering +0.2500" in _pipeline("predict", "driving", str(frame))

    # everything went through the server: runs, tags and the registry in its store ...
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name("driving")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    run = client.get_run(first_run)
    assert run.data.params == {"train.driving.epochs": "1"}
    assert run.data.metrics["test_mse"] == 0.3
    champion = client.get_model_version_by_alias("driving.champion", "champion")
    assert champion.source == "models:/driving/1" and champion.run_id == first_run
    assert [r["outcome"] for r in _history(client)] == ["promoted", "promoted", "rolled back"]
    # ... and the files through its proxy, into its artifact folder, none beside the project
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert any(artifacts.rglob("MLmodel")) and any(artifacts.rglob("predictions.json"))
    assert not Path("mlartifacts").exists() and not Path("mlflow.db").exists()
    registered = json.loads((layout.model_dir("driving") / "registered.json").read_text())
    assert registered["version"] == 2
    if backend == "sqlite":
        assert (artifacts.parent / "mlflow.db").is_file()


def _history(client) -> list[dict]:
    tags = client.get_registered_model("driving.champion").tags
    records = [json.loads(v) for k, v in tags.items() if k.startswith("promotion.")]
    return sorted(records, key=lambda r: r["seq"])
