"""The promotion history: one record per decision, appended, never rewritten.

Each decision (promoted, refused, forced, rolled back) is a JSON tag `promotion.NNNN.xxxxxx`
on the registered model `<task>.champion` (the ordered history `rollback` replays: on a team
server only maintainers may write there) and the same tag on the `<task>` version it is
about. `by` is the user the tracking server authenticated (`store.who`). NNNN orders the
records; the random suffix keeps two writers that picked the same number from overwriting
each other on a shared server.

Tags are for machines: the MLflow UI cuts them to a few characters. People read the history
as a Markdown table in the descriptions (rendered by the UI): `<task>.champion`'s holds
every decision, each version's the decisions about it. The tables are rebuilt from the tags
after each decision; text above the table's heading is the description's own and is kept.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.core.registry.gate import Decision
from pipeline.core.registry.names import champion_model

PREFIX = "promotion."
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
    by: str = ""  # who decided: the user the server authenticated
    at: str = ""
    seq: int = 0
    registered_by: str = ""  # who registered the version, as the server saw them


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


def append(client: Any, task: str, record: Record, by: str) -> Record:
    """Stamp who/when/sequence and add the record to `<task>.champion` and to the version."""
    holder = champion_model(task)
    existing = read(client.get_registered_model(holder).tags)
    record.seq = (existing[-1].seq if existing else 0) + 1
    record.by = by
    record.at = datetime.now(UTC).isoformat(timespec="milliseconds")
    key = f"{PREFIX}{record.seq:04d}.{uuid.uuid4().hex[:6]}"
    value = json.dumps(asdict(record), sort_keys=True)
    client.set_registered_model_tag(holder, key, value)
    client.set_model_version_tag(task, str(record.version), key, value)
    records = [*existing, record]
    model = client.get_registered_model(holder)
    client.update_registered_model(holder, description=with_table(model.description, records))
    about = [r for r in records if r.version == record.version]
    version = client.get_model_version(task, str(record.version))
    client.update_model_version(
        task, str(record.version), description=with_table(version.description, about)
    )
    return record


TABLE_HEADING = "### Promotion history"
_COLUMNS = (
    "#",
    "when (UTC)",
    "who",
    "registered by",
    "action",
    "version",
    "champion before → after",
    "metric",
    "candidate",
    "champion",
    "reason",
)


def _cell(value: object) -> str:
    """A table cell: `-` for nothing, numbers to 4 significant figures, pipes escaped."""
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(records: list[Record]) -> str:
    """The decisions as a Markdown table, oldest first."""
    lines = [
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "|".join("---" for _ in _COLUMNS) + "|",
    ]
    for r in sorted(records, key=lambda r: (r.seq, r.at)):
        when = r.at.replace("T", " ")[:19] if r.at else ""
        cells = (
            r.seq,
            when,
            r.by,
            r.registered_by,
            r.outcome if r.action == "promote" else r.action,
            r.version,
            f"{_cell(r.champion_before)} → {_cell(r.champion_after)}",
            r.metric,
            r.candidate_value,
            r.champion_value,
            r.reason,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def with_table(description: str | None, records: list[Record]) -> str:
    """`description` with its promotion-history section replaced by the current table."""
    own = (description or "").split(TABLE_HEADING)[0].rstrip()
    section = f"{TABLE_HEADING}\n\n{table(records)}\n"
    return f"{own}\n\n{section}" if own else section


def previous_champions(model_tags: dict[str, str]) -> list[int]:
    """The stack of earlier champions: each move pushes the one replaced, a rollback pops."""
    stack: list[int] = []
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
