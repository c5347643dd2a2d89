"""Two trainings at once on a fresh embedded store (`dvc queue start -j 2`): both runs and
both registered versions are there, and neither process fails."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

# One "training": open the store as the train stage does, log a run with a (tiny) logged
# model, register it as the register stage does. Both workers wait for each other first,
# so that they open the new store and register at the same moment.
TRAIN_AND_REGISTER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import mlflow

    from pipeline.core import registry, tracking
    from pipeline.tasks.base import PrimaryMetric

    me, other = sys.argv[1], sys.argv[2]
    Path(f"ready-{me}").touch()
    while not Path(f"ready-{other}").exists():
        time.sleep(0.005)
    with tracking.start_run("toy", {"worker": me}, Path(f"run-{me}.json")) as run:
        mlflow.log_metric("loss", 0.5)
        model = mlflow.initialize_logged_model(name="model", source_run_id=run.info.run_id)
        mlflow.finalize_logged_model(model.model_id, "READY")
    version = registry.register(
        "toy",
        run.info.run_id,
        model.model_uri,
        {"test_mse": 0.5},
        PrimaryMetric("test_mse", greater_is_better=False),
        "split",
        Path(f"registered-{me}.json"),
    )
    print(json.dumps({"run_id": run.info.run_id, "version": version}))
    """
)


def test_two_trainings_on_a_fresh_store_both_log_and_register(tmp_path):
    repo = Path(__file__).resolve().parents[2]  # the workers run this checkout's code
    env = {"DVC_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", TRAIN_AND_REGISTER, me, other],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        assert "database is locked" not in err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["version"] for r in results) == [1, 2]

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(store, store)
    versions = client.search_model_versions("name='toy'")
    assert sorted((int(v.version), v.run_id) for v in versions) == sorted(
        (r["version"], r["run_id"]) for r in results
    )
    runs = client.search_runs([client.get_experiment_by_name("toy").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"]
