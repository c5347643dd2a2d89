"""Two `promote` calls at once: one winner, and both decisions in the history."""

import json
import subprocess
import sys
import textwrap

import pytest

mlflow = pytest.importorskip("mlflow")

from pipeline.core import registry, tracking  # noqa: E402
from pipeline.core.registry import history  # noqa: E402
from pipeline.tasks.base import PrimaryMetric  # noqa: E402

MSE = PrimaryMetric("test_mse", greater_is_better=False)

PROMOTE_SLOWLY = textwrap.dedent(
    """
    import json, time
    from pipeline.core import registry, tracking
    from pipeline.tasks.base import PrimaryMetric

    real = registry._champion

    def slow(client, task):  # widen the gap between reading and moving the champion
        found = real(client, task)
        time.sleep(1.0)
        return found

    registry._champion = slow
    tracking.configure_tracking()
    decision = registry.promote("toy", PrimaryMetric("test_mse", greater_is_better=False))
    print(json.dumps({"promoted": decision.promoted, "reason": decision.reason}))
    """
)


@pytest.fixture
def store_dir(embedded_store):
    return embedded_store


def _version(mse):
    """A registered version carrying what promote reads (no model files needed)."""
    client = mlflow.MlflowClient()
    if not client.search_registered_models("name='toy'"):
        client.create_registered_model("toy")
    tags = {"metric.test_mse": str(mse), "primary_metric": "test_mse", "test_split_hash": "s"}
    version = client.create_model_version("toy", "file:///nowhere", tags=tags)
    client.set_registered_model_alias("toy", "candidate", version.version)


def test_concurrent_promotes_give_one_winner_and_an_honest_record(store_dir):
    tracking.configure_tracking()
    _version(0.5)
    registry.promote("toy", MSE)
    _version(0.3)
    env = {"DVC_ROOT": str(store_dir), "PATH": "/usr/bin:/bin"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PROMOTE_SLOWLY],
            cwd=store_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["promoted"] for r in results) == [False, True]
    (loser,) = [r for r in results if not r["promoted"]]
    assert "version 2 is already the champion" in loser["reason"]
    client = mlflow.MlflowClient()
    # the champion is a copy of toy's version 2 in toy.champion, which keeps the history
    champion = client.get_model_version_by_alias("toy.champion", "champion")
    assert champion.source == "models:/toy/2"
    records = history.read(client.get_registered_model("toy.champion").tags)
    assert [(r.seq, r.outcome, r.champion_before, r.champion_after) for r in records] == [
        (1, "promoted", None, 1),
        (2, "promoted", 1, 2),
        (3, "refused", 2, 2),
    ]
    assert history.previous_champions(client.get_registered_model("toy.champion").tags) == [1]
    assert [r.outcome for r in history.read(client.get_model_version("toy", "2").tags)] == [
        "promoted",
        "refused",
    ]
    assert [r.outcome for r in history.read(client.get_model_version("toy", "1").tags)] == [
        "promoted"  # the dethroned champion's page is not rewritten
    ]
