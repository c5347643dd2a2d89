"""Registry: candidate on register, champion only for a better, finite model on the same split.

Real embedded (sqlite) store in tmp_path; store failures are injected with a client whose
calls raise what MLflow raises over HTTP.
"""

import json
import math

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.exceptions import MlflowException, RestException  # noqa: E402

from pipeline.core import registry, tracking  # noqa: E402
from pipeline.core.registry import history  # noqa: E402
from pipeline.tasks.base import PrimaryMetric  # noqa: E402

MSE = PrimaryMetric("test_mse", greater_is_better=False)
ECHO_MODEL = """
import mlflow
import pandas as pd


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return model_input


mlflow.models.set_model(Echo())
"""


@pytest.fixture
def store_dir(embedded_store):
    return embedded_store


def _register(store_dir, mse, split="same", extra=None):
    code = store_dir / "echo_model.py"
    code.write_text(ECHO_MODEL)
    with tracking.start_run("toy", {"x": 1}, store_dir / "run.json") as run:
        logged = mlflow.pyfunc.log_model(name="model", python_model=str(code), pip_requirements=[])
    return registry.register(
        "toy",
        run.info.run_id,
        logged.model_uri,
        {"test_mse": mse, **(extra or {})},
        MSE,
        split,
        store_dir / "registered.json",
    )


def _champion():
    """The `toy` version whose copy in `toy.champion` holds the alias."""
    copy = mlflow.MlflowClient().get_model_version_by_alias("toy.champion", "champion")
    assert copy.source.startswith("models:/toy/")
    return int(copy.source.removeprefix("models:/toy/"))


def _records(version=None):
    client = mlflow.MlflowClient()
    if version is None:
        return history.read(client.get_registered_model("toy.champion").tags)
    return history.read(client.get_model_version("toy", str(version)).tags)


def test_register_makes_a_described_candidate_and_writes_the_record(store_dir):
    assert _register(store_dir, 0.5) == 1
    record = json.loads((store_dir / "registered.json").read_text())
    assert record["model_uri"] == "models:/toy@candidate" and record["version"] == 1
    version = mlflow.MlflowClient().get_model_version_by_alias("toy", "candidate")
    assert version.version == 1
    assert record["run_id"] in version.description and "test_mse = 0.5" in version.description
    assert "test split same" in version.description
    assert (store_dir / "mlartifacts").is_dir() and not (store_dir / "mlruns").exists()
    served = mlflow.pyfunc.load_model("models:/toy@candidate")  # the alias reaches the files
    assert served.predict({"x": [1]}) == {"x": [1]}


@pytest.mark.parametrize(
    ("mse", "extra", "named"),
    [(math.nan, {}, "test_mse"), (0.2, {"test_mae": math.inf}, "test_mae")],
)
def test_a_diverged_model_is_not_registered(store_dir, mse, extra, named):
    with pytest.raises(registry.PipelineError, match=f"not registered, {named} not finite") as err:
        _register(store_dir, mse, extra=extra)
    assert "\n" not in str(err.value)
    assert not (store_dir / "registered.json").exists()
    with pytest.raises(MlflowException, match="not found"):
        mlflow.MlflowClient().get_registered_model("toy")


def test_a_model_without_its_primary_metric_is_not_registered(store_dir):
    tracking.configure_tracking()
    with pytest.raises(registry.PipelineError, match="test_mse missing"):
        registry.register("toy", "r", "models:/m-1", {"test_mae": 0.1}, MSE, "s", store_dir / "r")


def test_promotion_follows_the_primary_metric_and_records_each_decision(store_dir):
    _register(store_dir, 0.5)
    first = registry.promote("toy", MSE)
    assert first.promoted and "no champion yet" in first.reason
    _register(store_dir, 0.3)
    better = registry.promote("toy", MSE)
    assert better.promoted and better.champion_value == 0.5
    champion_tags = dict(mlflow.MlflowClient().get_model_version("toy", "2").tags)
    _register(store_dir, 0.9)
    worse = registry.promote("toy", MSE)
    assert not worse.promoted and "does not beat the champion's 0.3" in worse.reason
    assert _champion() == 2
    # a refusal leaves the champion's tags alone
    assert dict(mlflow.MlflowClient().get_model_version("toy", "2").tags) == champion_tags
    (refused,) = _records(3)
    assert refused.outcome == "refused" and not refused.forced
    assert (refused.candidate_value, refused.champion_value) == (0.9, 0.3)
    assert (refused.champion_before, refused.champion_after) == (2, 2)
    assert refused.by and refused.at and refused.reason == worse.reason
    assert [(r.seq, r.outcome, r.version) for r in _records()] == [
        (1, "promoted", 1),
        (2, "promoted", 2),
        (3, "refused", 3),
    ]


def test_a_forced_record_survives_the_next_promote(store_dir):
    _register(store_dir, 0.5)
    registry.promote("toy", MSE)
    _register(store_dir, 0.9)
    forced = registry.promote("toy", MSE, force=True)
    assert forced.promoted and forced.forced and forced.reason.startswith("version 2 promoted")
    _register(store_dir, 0.1)
    assert registry.promote("toy", MSE).promoted
    (record,) = _records(2)
    assert record.outcome == "forced" and record.forced and "does not beat" in record.reason
    assert [r.outcome for r in _records()] == ["promoted", "forced", "promoted"]


def test_a_different_test_split_is_refused_unless_forced(store_dir):
    _register(store_dir, 0.5)
    registry.promote("toy", MSE)
    _register(store_dir, 0.1, split="other")
    assert "different test splits" in registry.promote("toy", MSE).reason
    assert registry.promote("toy", MSE, force=True).promoted


def _spoil(version, value="nan"):
    """A version registered before register refused non-finite metrics."""
    mlflow.MlflowClient().set_model_version_tag("toy", str(version), "metric.test_mse", value)


def test_a_non_finite_candidate_is_never_promoted_not_even_forced(store_dir):
    _register(store_dir, 0.5)
    _spoil(1)
    for force in (False, True):
        decision = registry.promote("toy", MSE, force=force)
        assert not decision.promoted and "not a finite number" in decision.reason
        assert "not even with --force" in decision.reason
    with pytest.raises(MlflowException, match="alias champion not found"):
        mlflow.MlflowClient().get_model_version_by_alias("toy.champion", "champion")
    assert [r.outcome for r in _records()] == ["refused", "refused"]


def test_a_non_finite_champion_is_replaced_by_a_finite_candidate(store_dir):
    _register(store_dir, 0.5)
    registry.promote("toy", MSE)
    # the champion's figures are its copy's in toy.champion (frozen when it was promoted)
    mlflow.MlflowClient().set_model_version_tag("toy.champion", "1", "metric.test_mse", "inf")
    _spoil(1, "0.1")  # the candidates' model does not speak for the champion
    _register(store_dir, 0.7, split="other")  # worse than 0.5 and another split: still wins
    decision = registry.promote("toy", MSE)
    assert decision.promoted and not decision.forced
    assert "champion (version 1) has test_mse inf, not a finite number: replaced" in decision.reason
    assert _champion() == 2
    assert _records()[-1].champion_value == "inf"  # JSON holds it as text


def test_rollback_follows_the_history(store_dir):
    for mse in (0.5, 0.4, 0.3):
        _register(store_dir, mse)
        registry.promote("toy", MSE)
    assert _champion() == 3
    first = registry.rollback("toy", MSE)
    assert (first.version, first.champion_version, _champion()) == (2, 3, 2)
    assert registry.rollback("toy", MSE).version == 1 and _champion() == 1
    with pytest.raises(registry.PipelineError, match="no previous champion"):
        registry.rollback("toy", MSE)
    assert [r.outcome for r in _records()][-2:] == ["rolled back", "rolled back"]
    assert _records(1)[-1].reason == "@champion rolled back from version 2 to 1"
    rows = registry.list_versions("toy")
    assert [(r["version"], r["aliases"]) for r in rows] == [
        (3, ["candidate"]),
        (2, []),
        (1, ["champion"]),
    ]
    assert rows[2]["promotion"] == "rolled back"


def test_the_descriptions_show_the_promotion_history_as_a_table(store_dir):
    for mse in (0.5, 0.3, 0.9):
        _register(store_dir, mse)
        registry.promote("toy", MSE)
    registry.rollback("toy", MSE)
    client = mlflow.MlflowClient()
    model = client.get_registered_model("toy.champion").description
    # the model's own description stays above the table
    assert model.startswith("toy: the promoted versions; alias @champion is served\n\n### Promo")
    rows = [line for line in model.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| # | when (UTC) | who | registered by | action | version |")
    assert [row.split(" | ")[4:6] for row in rows[1:]] == [
        ["promoted", "1"],
        ["promoted", "2"],
        ["refused", "3"],
        ["rollback", "1"],
    ]
    assert "| test_mse | 0.3 | 0.5 |" in rows[2] and "None" not in model
    # a version's description keeps its registration text and lists only its own decisions
    third = client.get_model_version("toy", "3").description
    assert third.startswith("toy model trained in MLflow run")
    table_rows = third.split("### Promotion history")[1].strip().splitlines()[2:]
    assert len(table_rows) == 1 and table_rows[0].split(" | ")[4:6] == ["refused", "3"]


def test_rollback_refuses_when_champion_was_moved_outside_the_history(store_dir):
    for mse in (0.5, 0.4):
        _register(store_dir, mse)
        registry.promote("toy", MSE)
    # by hand in the UI: the copy of version 1 is version 1 of toy.champion
    mlflow.MlflowClient().set_registered_model_alias("toy.champion", "champion", "1")
    with pytest.raises(registry.PipelineError, match="history ends at 2"):
        registry.rollback("toy", MSE)
    assert _champion() == 1


def test_higher_is_better_metrics_compare_the_other_way(store_dir):
    ap = PrimaryMetric("test_mse", greater_is_better=True)  # reuse the logged name
    _register(store_dir, 0.5)
    registry.promote("toy", ap)
    _register(store_dir, 0.9)
    assert registry.promote("toy", ap).promoted


def test_promoting_with_nothing_registered_says_what_to_run(store_dir):
    tracking.configure_tracking()
    with pytest.raises(registry.PipelineError, match="dvc repro register@toy"):
        registry.promote("toy", MSE)


def test_a_champion_moved_while_deciding_is_not_overwritten(store_dir, monkeypatch):
    """What a second writer on a shared server does between our read and our move."""
    for mse in (0.5, 0.6, 0.4):
        _register(store_dir, mse)
    registry.promote("toy", MSE, version=1)
    real = registry._champion
    calls = []

    def champion_then_someone_moves_it(client, task):
        found = real(client, task)
        if not calls:
            registry._move(client, task, 2)
        calls.append(found)
        return found

    monkeypatch.setattr(registry, "_champion", champion_then_someone_moves_it)
    decision = registry.promote("toy", MSE, version=3)
    assert not decision.promoted and "moved from version 1 to 2 while deciding" in decision.reason
    assert _champion() == 2
    assert _records()[-1].outcome == "refused" and _records()[-1].champion_after == 2


class _Failing:
    """The real client, except that one method raises `error`."""

    def __init__(self, real, method, error):
        self._real, self._method, self._error = real, method, error

    def __getattr__(self, name):
        if name == self._method:

            def fail(*args, **kwargs):
                raise self._error

            return fail
        return getattr(self._real, name)


TRANSPORT = MlflowException(
    "API request to http://10.0.0.9:5000/api/2.0/mlflow/registered-models/alias failed with "
    "exception HTTPConnectionPool(host='10.0.0.9', port=5000): Max retries exceeded "
    '(Caused by NewConnectionError("...: [Errno 111] Connection refused"))'
)
SERVER_5XX = RestException({"error_code": "INTERNAL_ERROR", "message": "database is locked"})
ODD = RuntimeError("unexpected")


@pytest.mark.parametrize("error", [TRANSPORT, SERVER_5XX, ODD], ids=["transport", "5xx", "odd"])
def test_the_gate_fails_closed_on_any_store_error(store_dir, monkeypatch, error):
    _register(store_dir, 0.5)
    real = mlflow.MlflowClient()
    monkeypatch.setattr(
        registry, "_client", lambda: _Failing(real, "get_model_version_by_alias", error)
    )
    for call in (
        lambda: registry.promote("toy", MSE, version=1),
        lambda: registry.rollback("toy", MSE),
    ):
        with pytest.raises(registry.PipelineError) as err:
            call()
        message = str(err.value)
        assert "\n" not in message and "MLflow store sqlite:///" in message
        assert "no champion" not in message and "dvc repro" not in message
    assert "[Errno 111] Connection refused" in message or error is not TRANSPORT
    with pytest.raises(MlflowException, match="not found"):
        real.get_model_version_by_alias("toy.champion", "champion")
    with pytest.raises(MlflowException, match="not found"):
        real.get_registered_model("toy.champion")


def test_listing_fails_closed_on_a_store_error(store_dir, monkeypatch):
    _register(store_dir, 0.5)
    real = mlflow.MlflowClient()
    monkeypatch.setattr(
        registry, "_client", lambda: _Failing(real, "get_registered_model", TRANSPORT)
    )
    with pytest.raises(registry.PipelineError, match="Connection refused") as err:
        registry.list_versions("toy")
    assert "run `dvc repro`" not in str(err.value)


@pytest.mark.parametrize(
    ("error", "absent"),
    [
        (
            RestException(
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": "Registered model alias champion not found.",
                }
            ),
            True,
        ),
        (
            RestException(
                {
                    "error_code": "RESOURCE_DOES_NOT_EXIST",
                    "message": "Registered Model with name=toy not found",
                }
            ),
            True,
        ),
        (
            RestException(
                {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid alias name"}
            ),
            False,
        ),
        (RestException({"error_code": "INTERNAL_ERROR", "message": "alias not found"}), False),
        (TRANSPORT, False),
    ],
)
def test_only_a_definite_not_found_means_absent(error, absent):
    assert tracking.is_not_found(error) is absent


def test_the_same_logged_model_is_not_registered_twice(store_dir):
    code = store_dir / "echo_model.py"
    code.write_text(ECHO_MODEL)
    with tracking.start_run("toy", {"x": 1}, store_dir / "run.json") as run:
        logged = mlflow.pyfunc.log_model(name="model", python_model=str(code), pip_requirements=[])
    args = ("toy", run.info.run_id, logged.model_uri, {"test_mse": 0.5}, MSE, "same")
    assert registry.register(*args, store_dir / "registered.json") == 1
    assert _register(store_dir, 0.4) == 2  # another training: a new version
    # DVC restored the first training from its run cache: register reuses version 1
    assert registry.register(*args, store_dir / "registered.json") == 1
    record = json.loads((store_dir / "registered.json").read_text())
    assert record["reused_existing_version"] is True
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias("toy", "candidate").version == 1
    assert len(client.search_model_versions("name='toy'")) == 2


def test_an_embedded_store_from_before_the_champions_model_is_adopted(store_dir):
    """`champion` and the history on `toy` itself (the old layout) move to `toy.champion`."""
    for mse in (0.5, 0.4):
        _register(store_dir, mse)
    client = mlflow.MlflowClient()
    old = history.Record("promote", "promoted", 1, None, 1, "test_mse", 0.5, None, False, "x")
    old.seq, old.by = 1, "someone@host"
    client.set_registered_model_tag("toy", "promotion.0001.abcdef", json.dumps(old.__dict__))
    client.set_registered_model_alias("toy", "champion", "1")
    decision = registry.promote("toy", MSE)
    assert decision.promoted and decision.champion_version == 1 and _champion() == 2
    assert [r.seq for r in _records()] == [1, 2]
    assert "champion" not in client.get_registered_model("toy").aliases
    assert registry.rollback("toy", MSE).version == 1 and _champion() == 1
