"""Training across machines: two `pipeline train driving` processes join one
`MultiWorkerMirroredStrategy` cluster on loopback ports, as TFJob or Ray Train would start
them, and train the model one process trains alone.

What a user relies on: both processes finish, the chief alone logs one MLflow run and writes
the stage's outputs, the worker writes nothing in its workspace, both hold the same weights,
and the loss is the single-machine loss.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from tests.tiny import tiny_params

pytest.importorskip("tensorflow")

pytestmark = [pytest.mark.slow, pytest.mark.train]

PARAMS = "tiny.yaml"
#: the same steps; the per-worker gradients are summed in another order
RELATIVE_TOLERANCE = 1e-3
runner = CliRunner()


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _params(batch_size: int) -> str:
    params = tiny_params()
    params["backbone"]["weights"] = "none"
    params["augment"]["driving"]["copies"] = 1  # an even number of train frames
    train = params["train"]["driving"]
    train.update({"batch_size": batch_size, "dropout": 0.0})
    train["fit"].update({"head_epochs": 2, "finetune_epochs": 0, "learning_rate": 1e-4})
    return yaml.safe_dump(params, sort_keys=False)


@pytest.fixture
def projects(embedded_store, tmp_path_factory):
    """Three copies of one project holding driving's processed frames: chief, worker, alone.

    One batch is the whole train split, shared evenly by the workers: an epoch is one step.
    Keras averages the loss over each worker's own examples, so a batch the workers share
    unevenly (the last of an epoch) weighs their examples unequally, as it does under
    `MirroredStrategy` on one machine; whole equal shares leave only the summing order.
    """
    (embedded_store / PARAMS).write_text(_params(1))
    for stage in ("sample", "ingest", "validate", "augment"):
        result = runner.invoke(app, [stage, "driving", "--params", PARAMS])
        assert result.exit_code == 0, result.output
    manifest = pd.read_parquet(embedded_store / "data/processed/driving/manifest.parquet")
    train_frames = int((manifest["split"] == "train").sum())
    assert train_frames % 2 == 0, f"{train_frames} train frames cannot be shared evenly"
    (embedded_store / PARAMS).write_text(_params(train_frames // 2))
    copies = {}
    for name in ("chief", "worker", "alone"):
        copies[name] = tmp_path_factory.mktemp("cluster") / name
        shutil.copytree(embedded_store, copies[name], ignore=shutil.ignore_patterns("mlflow.db"))
    (copies["alone"] / PARAMS).write_text(_params(train_frames))
    return copies


def _train(project: Path, tf_config: dict | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG", "MLFLOW_TRACKING_URI")}
    env |= {"DVC_ROOT": str(project), "PYTHONPATH": str(Path(__file__).parents[2])}
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "train", "driving", "--params", PARAMS],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def _runs(project: Path) -> list:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    return client.search_runs([client.get_experiment_by_name("driving").experiment_id])


def test_two_workers_on_loopback_train_the_single_machine_model(projects):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    worker_files_before = _files(projects["worker"])
    started = {
        name: _train(projects[name], {"cluster": cluster, "task": {"type": "worker", "index": i}})
        for i, name in enumerate(("chief", "worker"))
    }
    started["alone"] = _train(projects["alone"], None)
    printed = {}
    for name, process in started.items():
        try:
            printed[name], _ = process.communicate(timeout=600)
        finally:
            process.kill()
        assert process.returncode == 0, f"{name}:\n{printed[name][-4000:]}"

    assert "worker 0 of 2 workers, 2 replicas (MultiWorkerMirroredStrategy)" in printed["chief"]
    assert "worker 1 of 2 workers" in printed["worker"] and "wrote nothing" in printed["worker"]

    # the chief logs one run and writes the stage's outputs; the worker writes nothing
    (run,) = _runs(projects["chief"])
    assert run.info.status == "FINISHED"
    assert (projects["chief"] / "models/driving/model.keras").is_file()
    assert _files(projects["worker"]) == worker_files_before

    # both workers hold the weights the chief saved
    worker_digest = printed["worker"].split("weights sha256 ")[-1].split()[0]
    assert run.data.tags["weights_sha256"] == worker_digest

    # the cluster's step is the single machine's: the same loss, epoch by epoch
    history = {
        name: json.loads((projects[name] / "reports/driving/history.json").read_text())
        for name in ("chief", "alone")
    }
    for metric in ("loss", "val_loss"):
        cluster_values = [row[metric] for row in history["chief"]]
        alone_values = [row[metric] for row in history["alone"]]
        assert len(cluster_values) == 2
        assert cluster_values == pytest.approx(alone_values, rel=RELATIVE_TOLERANCE), metric
