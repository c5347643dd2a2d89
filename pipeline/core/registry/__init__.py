"""The model registry: candidates are versions of `<task>` (alias `candidate`); `champion`
is an alias of `<task>.champion`, whose versions are copies of promoted candidates (see
`names.py`: on a team server only maintainers may edit it). Decisions and the history speak
of `<task>` version numbers.

`champion` moves only to a version whose primary test metric is finite and beats the
champion's, measured on the same test split, unless forced (a non-finite candidate cannot
be forced; a non-finite champion is replaced). The gate fails closed: only the store's own
"not found" means "no champion"; any other MLflow error stops with one line naming the
store. Promotions hold an exclusive lock and re-read `champion` right before moving it,
and every decision is appended to a history (`history.py`) that `rollback` replays, stamped
with the user the server authenticated (`store.who`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.core import quiet, tracking
from pipeline.core.errors import PipelineError
from pipeline.core.evaluation import PrimaryMetric
from pipeline.core.io import write_json
from pipeline.core.registry import history, store
from pipeline.core.registry.gate import Decision, decide, finite, number_of, shown, value_of
from pipeline.core.registry.names import CANDIDATE, CHAMPION, champion_model, champion_uri

#: the version tag naming who registered it (the user the server authenticated)
REGISTERED_BY = "registered_by"

__all__ = ["Decision", "PipelineError", "decide", "list_versions", "promote", "register"]
__all__ += ["champion_uri", "promotion_history", "rollback"]


def _client() -> Any:
    import mlflow

    return mlflow.MlflowClient()


def _version_of(client: Any, task: str, run_id: str, model_uri: str) -> Any | None:
    """The version already registered from this run's model (DVC restored the training)."""
    found = client.search_model_versions(f"name='{task}' and run_id='{run_id}'")
    same = [v for v in found if v.source == model_uri]
    return max(same, key=lambda v: int(v.version)) if same else None


def register(
    task: str,
    run_id: str,
    model_uri: str,
    metrics: dict[str, float],
    primary: PrimaryMetric,
    test_split_hash: str,
    out_file: Path,
) -> int:
    """A new version of `<task>` from the logged model `model_uri`, aliased `candidate`.

    A model already registered (the same run's same logged model, e.g. a training that
    DVC's run cache restored) is not registered twice: its version becomes the candidate.

    Refused before anything is written when a metric is not finite (a diverged model) or
    the primary metric is missing: such a version could never be compared.
    """
    import mlflow

    bad = sorted(name for name, value in metrics.items() if not math.isfinite(value))
    if primary.name not in metrics or bad:
        what = f"{', '.join(bad)} not finite" if bad else f"{primary.name} missing"
        raise PipelineError(
            f"{task}: not registered, {what} in the evaluation metrics (did training diverge?): "
            "fix training and rerun `dvc repro`"
        )
    client = _client()
    value = metrics[primary.name]
    direction = "higher" if primary.greater_is_better else "lower"
    description = (
        f"{task} model trained in MLflow run {run_id}; {primary.name} = {value:.6g} "
        f"({direction} is better) on test split {test_split_hash}"
    )
    tags = {f"metric.{k}": repr(float(v)) for k, v in metrics.items()}
    tags |= {
        "primary_metric": primary.name,
        "greater_is_better": str(primary.greater_is_better).lower(),
        "test_split_hash": test_split_hash,
        REGISTERED_BY: store.who(mlflow.get_tracking_uri()),
    }
    # one writer at a time: two trainings registering at once would both create a missing
    # model (the second fails), and SQLite can refuse a writer outright ("database is locked")
    with store.exclusive(mlflow.get_tracking_uri()):
        try:
            try:
                client.get_registered_model(task)
            except Exception as err:
                if not tracking.is_not_found(err):
                    raise
                client.create_registered_model(task, description=f"{task} models of the pipeline")
            version = _version_of(client, task, run_id, model_uri)
            reused = version is not None
            if version is None:
                with quiet.library_output():  # "Registered model ... already exists. ..."
                    version = mlflow.register_model(model_uri, task, tags=tags)
                client.update_model_version(task, version.version, description=description)
            client.set_registered_model_alias(task, CANDIDATE, version.version)
        except Exception as err:
            raise tracking.store_error(err, f"registering {task}") from err
    write_json(
        out_file,
        {
            "name": task,
            "version": int(version.version),
            "alias": CANDIDATE,
            "model_uri": f"models:/{task}@{CANDIDATE}",
            "run_id": run_id,
            "source": model_uri,
            "metrics": metrics,
            "reused_existing_version": reused,
        },
    )
    return int(version.version)


def _version(client: Any, task: str, version: int | None, alias: str) -> Any:
    """A version by number, or the holder of `alias`; a definite absence says what to run."""
    try:
        if version is None:
            return client.get_model_version_by_alias(task, alias)
        return client.get_model_version(task, str(version))
    except Exception as err:
        wanted = f"version {version}" if version is not None else f"alias @{alias}"
        if tracking.is_not_found(err):
            raise PipelineError(
                f"no {wanted} of registered model {task!r}: run `dvc repro register@{task}` first"
            ) from err
        raise tracking.store_error(err, f"reading {wanted} of {task!r}") from err


@dataclass
class Held:
    """The champion: the `<task>` version number its copy came from, the copy's tags (the
    figures frozen when it was promoted) and the copy's own version in `<task>.champion`."""

    version: str
    tags: dict[str, str]
    copy_version: str


def _source_version(task: str, source: str) -> str | None:
    """`models:/<task>/N` -> "N" (a copy's source names the candidate it was made from)."""
    prefix = f"models:/{task}/"
    rest = source.removeprefix(prefix) if source.startswith(prefix) else ""
    return rest if rest.isdigit() else None


def _champion(client: Any, task: str) -> Held | None:
    """The champion, None only when the store says there is none."""
    try:
        copy = client.get_model_version_by_alias(champion_model(task), CHAMPION)
    except Exception as err:
        if tracking.is_not_found(err):
            return None
        raise tracking.store_error(err, f"looking up @{CHAMPION} of {task!r}") from err
    number = _source_version(task, copy.source)
    if number is None:
        raise PipelineError(
            f"{champion_model(task)} version {copy.version} holds @{CHAMPION} but was not copied "
            f"from a version of {task!r} (source {copy.source}): choose one with "
            "`pipeline promote --version N --force`"
        )
    return Held(number, dict(copy.tags), str(copy.version))


def _adopt_legacy(client: Any, task: str) -> None:
    """An embedded store from before `<task>.champion`: its `champion` alias and history on
    `<task>` move there once (never on a server, where scientists may edit `<task>`)."""
    import mlflow

    if not mlflow.get_tracking_uri().startswith("sqlite:"):
        return
    try:
        client.get_registered_model(champion_model(task))
        return
    except Exception as err:
        if not tracking.is_not_found(err):
            raise tracking.store_error(err, f"reading {champion_model(task)!r}") from err
    try:
        legacy = client.get_registered_model(task)
    except Exception as err:
        if tracking.is_not_found(err):
            return
        raise tracking.store_error(err, f"reading registered model {task!r}") from err
    if CHAMPION not in legacy.aliases:
        return
    number = int(legacy.aliases[CHAMPION])
    _move(client, task, number)
    for key, value in legacy.tags.items():
        if key.startswith(history.PREFIX):
            client.set_registered_model_tag(champion_model(task), key, value)
    client.delete_registered_model_alias(task, CHAMPION)


def promote(
    task: str, primary: PrimaryMetric, version: int | None = None, force: bool = False
) -> Decision:
    """Move `champion` to the candidate if it beats the champion on the same test split.

    Under the store's lock: decide, re-read `champion` and refuse if it moved meanwhile
    (another writer on a shared server), move the alias, then append the decision.
    """
    import mlflow

    with store.exclusive(mlflow.get_tracking_uri()):
        client = _client()
        who = store.who(mlflow.get_tracking_uri())
        _adopt_legacy(client, task)
        candidate = _version(client, task, version, CANDIDATE)
        decision = decide(candidate, _champion(client, task), primary, force)
        if decision.promoted:
            again = _champion(client, task)
            now = number_of(again)
            if now == decision.champion_version:
                _move(client, task, decision.version)
            else:
                decision.reason = (
                    f"refused: @{CHAMPION} moved from version {decision.champion_version} to "
                    f"{now} while deciding (a concurrent promote): run promote again"
                )
                decision.promoted, decision.forced, decision.champion_version = False, False, now
                decision.champion_value = None if again is None else value_of(again, primary.name)
        outcome = "forced" if decision.forced else "promoted" if decision.promoted else "refused"
        record = history.record_of(decision, "promote", outcome, primary.name)
        record.registered_by = candidate.tags.get(REGISTERED_BY, "")
        _append(client, task, record, who)
    return decision


def _copy_of(client: Any, task: str, number: int) -> str:
    """The version of `<task>.champion` copied from `<task>` version `number`, made if new."""
    target = champion_model(task)
    _ensure_model(client, target, f"{task}: the promoted versions; alias @{CHAMPION} is served")
    source = f"models:/{task}/{number}"
    copies = [v for v in client.search_model_versions(f"name='{target}'") if v.source == source]
    if copies:
        return str(max(int(v.version) for v in copies))
    with quiet.library_output():  # "Copied version ... of model ..."
        return str(client.copy_model_version(source, target).version)


def _ensure_model(client: Any, name: str, description: str) -> None:
    try:
        client.get_registered_model(name)
    except Exception as err:
        if not tracking.is_not_found(err):
            raise
        client.create_registered_model(name, description=description)


def _move(client: Any, task: str, number: int) -> None:
    target = champion_model(task)
    try:
        client.set_registered_model_alias(target, CHAMPION, _copy_of(client, task, number))
    except Exception as err:
        raise tracking.store_error(
            err, f"moving @{CHAMPION} of {target!r}", needs=f"EDIT on registered model {target!r}"
        ) from err


def _append(client: Any, task: str, record: history.Record, who: str) -> None:
    target = champion_model(task)
    try:
        _ensure_model(client, target, f"{task}: the promoted versions; alias @{CHAMPION} is served")
        history.append(client, task, record, who)
    except Exception as err:
        raise tracking.store_error(
            err,
            f"recording '{record.reason}' in {task!r}'s promotion history",
            needs=f"EDIT on registered model {target!r}",
        ) from err


def _model_tags(client: Any, task: str) -> dict[str, str]:
    """The tags of `<task>.champion`, where the history lives (none before a decision)."""
    try:
        client.get_registered_model(task)
    except Exception as err:
        if tracking.is_not_found(err):
            raise PipelineError(f"no registered model {task!r} yet: run `dvc repro`") from err
        raise tracking.store_error(err, f"reading registered model {task!r}") from err
    try:
        return dict(client.get_registered_model(champion_model(task)).tags)
    except Exception as err:
        if tracking.is_not_found(err):
            return {}
        raise tracking.store_error(err, f"reading {task!r}'s promotion history") from err


def rollback(task: str, primary: PrimaryMetric) -> Decision:
    """Give `champion` back to the version that held it before, as the history tells."""
    import mlflow

    with store.exclusive(mlflow.get_tracking_uri()):
        client = _client()
        who = store.who(mlflow.get_tracking_uri())
        _adopt_legacy(client, task)
        tags = _model_tags(client, task)
        current = _champion(client, task)
        if current is None:
            raise PipelineError(f"{task}: no @{CHAMPION} to roll back")
        number = int(current.version)
        recorded = history.last_champion(tags)
        if recorded is not None and recorded != number:
            raise PipelineError(
                f"{task}: @{CHAMPION} is version {number} but the promotion history ends at "
                f"{recorded} (moved outside `pipeline promote`?): choose one with "
                "`pipeline promote --version N --force`"
            )
        stack = history.previous_champions(tags)
        if not stack:
            raise PipelineError(f"{task}: no previous champion to roll back to")
        target = stack[-1]
        previous = _version(client, task, target, CHAMPION)
        ours = value_of(previous, primary.name)
        if not finite(ours):
            raise PipelineError(
                f"{task}: the previous champion, version {target}, has {primary.name} "
                f"{shown(ours)}: choose another with `pipeline promote --version N --force`"
            )
        if number_of(_champion(client, task)) != number:
            raise PipelineError(f"{task}: @{CHAMPION} moved while rolling back: run it again")
        _move(client, task, target)
        reason = f"@{CHAMPION} rolled back from version {number} to {target}"
        theirs = value_of(current, primary.name)
        decision = Decision(True, target, ours, number, theirs, reason)
        record = history.record_of(decision, "rollback", "rolled back", primary.name)
        record.registered_by = previous.tags.get(REGISTERED_BY, "")
        _append(client, task, record, who)
    return decision


def list_versions(task: str) -> list[dict[str, Any]]:
    """Every version, newest first, with aliases, primary metric and its latest decision."""
    client = _client()
    try:
        model = client.get_registered_model(task)
    except Exception as err:
        if tracking.is_not_found(err):
            raise PipelineError(f"no registered model {task!r} yet: run `dvc repro`") from err
        raise tracking.store_error(err, f"reading registered model {task!r}") from err
    try:
        versions = client.search_model_versions(f"name='{task}'")
    except Exception as err:
        raise tracking.store_error(err, f"listing the versions of {task!r}") from err
    aliases: dict[str, list[str]] = {}
    for alias, number in model.aliases.items():
        if alias != CHAMPION:  # only the copy in `<task>.champion` is the champion
            aliases.setdefault(str(number), []).append(alias)
    champion = _champion(client, task)
    if champion is not None:
        aliases.setdefault(champion.version, []).append(CHAMPION)
    rows = []
    for version in versions:
        primary = version.tags.get("primary_metric", "")
        latest = history.latest_for_version(version.tags)
        rows.append(
            {
                "version": int(version.version),
                "aliases": sorted(aliases.get(str(version.version), [])),
                "primary_metric": primary,
                "primary_value": value_of(version, primary),
                "run_id": version.run_id,
                "created": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC).isoformat(
                    timespec="seconds"
                ),
                "promotion": "" if latest is None else latest.outcome,
                "description": version.description or "",
            }
        )
    return sorted(rows, key=lambda row: -row["version"])


def promotion_history(task: str) -> list[history.Record]:
    """The registered model's decisions, oldest first."""
    return history.read(_model_tags(_client(), task))
