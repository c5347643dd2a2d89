"""The model registry: one registered model per task, aliases `candidate` and `champion`.

`champion` moves only to a version that beats it on the task's primary test metric,
measured on the same test split, unless forced; every decision is recorded as tags on
the version, and the previous champions are kept so that a rollback is one command.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json

CANDIDATE, CHAMPION = "candidate", "champion"
HISTORY_TAG = "previous_champions"


@dataclass
class Decision:
    promoted: bool
    version: int
    candidate_value: float | None
    champion_version: int | None
    champion_value: float | None
    reason: str


def _client() -> Any:
    import mlflow

    return mlflow.MlflowClient()


def register(
    task: str,
    run_id: str,
    model_uri: str,
    metrics: dict[str, float],
    primary: Any,
    test_split_hash: str,
    out_file: Path,
) -> int:
    """A new version of `<task>` from the logged model `model_uri`, aliased `candidate`."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        client.get_registered_model(task)
    except MlflowException:
        client.create_registered_model(task, description=f"{task} models of the pipeline")
    tags = {f"metric.{k}": str(v) for k, v in metrics.items()}
    tags |= {
        "primary_metric": primary.name,
        "greater_is_better": str(primary.greater_is_better).lower(),
        "test_split_hash": test_split_hash,
    }
    version = mlflow.register_model(model_uri, task, tags=tags)
    client.set_registered_model_alias(task, CANDIDATE, version.version)
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
        },
    )
    return int(version.version)


def _version(task: str, version: int | None, alias: str) -> Any:
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        if version is None:
            return client.get_model_version_by_alias(task, alias)
        return client.get_model_version(task, str(version))
    except MlflowException as err:
        wanted = f"version {version}" if version is not None else f"alias @{alias}"
        raise PipelineError(
            f"no {wanted} of registered model {task!r}: run `dvc repro register@{task}` first"
        ) from err


def _champion(task: str) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return _client().get_model_version_by_alias(task, CHAMPION)
    except MlflowException:
        return None


def _value(version: Any, primary: Any) -> float | None:
    raw = version.tags.get(f"metric.{primary.name}")
    return None if raw is None else float(raw)


def _beats(candidate: float, champion: float, primary: Any) -> bool:
    return candidate > champion if primary.greater_is_better else candidate < champion


def _shown(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4g}"


def promote(task: str, primary: Any, version: int | None = None, force: bool = False) -> Decision:
    """Move `champion` to the candidate if it beats the champion on the same test split."""
    candidate = _version(task, version, CANDIDATE)
    number = int(candidate.version)
    champion = _champion(task)
    ours = _value(candidate, primary)
    theirs = None if champion is None else _value(champion, primary)
    direction = "higher" if primary.greater_is_better else "lower"
    if champion is None:
        promoted, reason = True, "no champion yet"
    elif int(champion.version) == number:
        promoted, reason = False, f"version {number} is already the champion"
    elif champion.tags.get("test_split_hash") != candidate.tags.get("test_split_hash"):
        promoted, reason = False, "the two were scored on different test splits"
    elif ours is not None and theirs is not None and _beats(ours, theirs, primary):
        promoted, reason = (
            True,
            f"{primary.name} {_shown(ours)} beats {_shown(theirs)} ({direction} is better)",
        )
    else:
        promoted, reason = (
            False,
            (
                f"{primary.name} {_shown(ours)} does not beat the champion's "
                f"{_shown(theirs)} ({direction} is better)"
            ),
        )
    forced = force and not promoted
    if forced:
        promoted, reason = True, f"forced: {reason}"
    decision = Decision(
        promoted=promoted,
        version=number,
        candidate_value=ours,
        champion_version=None if champion is None else int(champion.version),
        champion_value=theirs,
        reason=(f"version {number} promoted to @{CHAMPION}: " if promoted else "refused: ")
        + reason,
    )
    _record(task, decision, forced)
    if promoted:
        client = _client()
        if champion is not None and int(champion.version) != number:
            history = client.get_registered_model(task).tags.get(HISTORY_TAG, "")
            stack = [v for v in history.split(",") if v] + [str(champion.version)]
            client.set_registered_model_tag(task, HISTORY_TAG, ",".join(stack))
        client.set_registered_model_alias(task, CHAMPION, number)
    return decision


def _record(task: str, decision: Decision, forced: bool) -> None:
    client = _client()
    tags = {
        "promotion.decision": "promoted" if decision.promoted else "refused",
        "promotion.reason": decision.reason,
        "promotion.candidate_value": str(decision.candidate_value),
        "promotion.champion_value": str(decision.champion_value),
        "promotion.champion_version": str(decision.champion_version),
        "promotion.by": getpass.getuser(),
        "promotion.at": datetime.now(UTC).isoformat(timespec="seconds"),
        "promotion.forced": str(forced).lower(),
    }
    for key, value in tags.items():
        client.set_model_version_tag(task, str(decision.version), key, value)


def rollback(task: str) -> Decision:
    """Give `champion` back to the version that held it before."""
    client = _client()
    current = _version(task, None, CHAMPION)
    history = [
        v for v in client.get_registered_model(task).tags.get(HISTORY_TAG, "").split(",") if v
    ]
    if not history:
        raise PipelineError(f"{task}: no previous champion to roll back to")
    previous = history.pop()
    client.set_registered_model_tag(task, HISTORY_TAG, ",".join(history))
    client.set_registered_model_alias(task, CHAMPION, previous)
    client.set_model_version_tag(task, previous, "promotion.rollback_from", str(current.version))
    return Decision(
        True,
        int(previous),
        None,
        int(current.version),
        None,
        f"@{CHAMPION} rolled back from version {current.version} to {previous}",
    )


def list_versions(task: str) -> list[dict[str, Any]]:
    """Every version, newest first, with aliases, primary metric and promotion tags."""
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        model = client.get_registered_model(task)
    except MlflowException as err:
        raise PipelineError(f"no registered model {task!r} yet: run `dvc repro`") from err
    aliases: dict[str, list[str]] = {}
    for alias, version in model.aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for version in client.search_model_versions(f"name='{task}'"):
        primary = version.tags.get("primary_metric", "")
        raw = version.tags.get(f"metric.{primary}")
        rows.append(
            {
                "version": int(version.version),
                "aliases": sorted(aliases.get(str(version.version), [])),
                "primary_metric": primary,
                "primary_value": None if raw is None else float(raw),
                "run_id": version.run_id,
                "created": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC).isoformat(
                    timespec="seconds"
                ),
                "promotion": version.tags.get("promotion.decision", ""),
            }
        )
    return sorted(rows, key=lambda row: -row["version"])
