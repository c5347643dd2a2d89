"""The promotion history: one record per decision, appended, never rewritten.

Each decision (promoted, refused, forced, rolled back) is a JSON tag `promotion.NNNN.xxxxxx`
on the registered model (the ordered history `rollback` replays) and the same tag on the
version it is about, so it shows on that version's page in the MLflow UI. NNNN orders the
records; the random suffix keeps two writers that picked the same number from overwriting
each other on a shared server.
"""

from __future__ import annotations

import getpass
import json
import math
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.core.registry.gate import Decision

PREFIX = "promotion."
LEGACY_TAG = "previous_champions"  # the comma-separated stack written before the history
MOVES = ("promoted", "forced", "rolled back")


@dataclass
class Record:
    """One decision about `version`: where `champion` was before and after, and why."""

    action: str  # "promote" or "rollback"
    outcome: str  # "promoted", "refused", "forced" or "rolled back"
    version: int
    champion_before: int | None
    champion_after: int | None
    metric: str
    candidate_value: float | str | None
    champion_value: float | str | None
    forced: bool
    reason: str
    by: str = ""
    at: str = ""
    seq: int = 0


def figure(value: float | None) -> float | str | None:
    """A metric as JSON can hold it: finite floats as numbers, nan/inf as text."""
    if value is None or math.isfinite(value):
        return value
    return str(value)


def record_of(decision: Decision, action: str, outcome: str, metric: str) -> Record:
    """The record of a decision; `champion` ends on the version if it moved."""
    return Record(
        action=action,
        outcome=outcome,
        version=decision.version,
        champion_before=decision.champion_version,
        champion_after=decision.version if decision.promoted else decision.champion_version,
        metric=metric,
        candidate_value=figure(decision.candidate_value),
        champion_value=figure(decision.champion_value),
        forced=decision.forced,
        reason=decision.reason,
    )


def read(model_tags: dict[str, str]) -> list[Record]:
    """The registered model's records, oldest first."""
    records = []
    for key, value in model_tags.items():
        if key.startswith(PREFIX) and key[len(PREFIX) :][:4].isdigit():
            try:
                records.append(Record(**json.loads(value)))
            except (TypeError, ValueError):
                continue  # a hand-made tag in our namespace is not a decision
    return sorted(records, key=lambda r: (r.seq, r.at))


def append(client: Any, task: str, record: Record) -> Record:
    """Stamp who/when/sequence and add the record to the model and to its version."""
    existing = read(client.get_registered_model(task).tags)
    record.seq = (existing[-1].seq if existing else 0) + 1
    record.by = f"{getpass.getuser()}@{socket.gethostname()}"
    record.at = datetime.now(UTC).isoformat(timespec="milliseconds")
    key = f"{PREFIX}{record.seq:04d}.{uuid.uuid4().hex[:6]}"
    value = json.dumps(asdict(record), sort_keys=True)
    client.set_registered_model_tag(task, key, value)
    client.set_model_version_tag(task, str(record.version), key, value)
    return record


def previous_champions(model_tags: dict[str, str]) -> list[int]:
    """The stack of earlier champions: each move pushes the one replaced, a rollback pops."""
    legacy = model_tags.get(LEGACY_TAG, "")
    stack = [int(v) for v in legacy.split(",") if v.strip().isdigit()]
    for record in read(model_tags):
        if record.outcome == "rolled back":
            if stack:
                stack.pop()
        elif record.outcome in MOVES and record.champion_before is not None:
            stack.append(record.champion_before)
    return stack


def last_champion(model_tags: dict[str, str]) -> int | None:
    """Where the history says `champion` is now (None if it never moved it)."""
    moves = [r for r in read(model_tags) if r.outcome in MOVES]
    return moves[-1].champion_after if moves else None


def latest_for_version(version_tags: dict[str, str]) -> Record | None:
    """The newest decision recorded on a version."""
    records = read(version_tags)
    return records[-1] if records else None
