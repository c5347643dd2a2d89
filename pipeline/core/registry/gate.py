"""The promotion gate as a pure function: what to do with a candidate, given the champion."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pipeline.core.evaluation import PrimaryMetric

CHAMPION = "champion"


@dataclass
class Decision:
    promoted: bool
    version: int
    candidate_value: float | None
    champion_version: int | None
    champion_value: float | None
    reason: str
    forced: bool = False


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def shown(value: float | None) -> str:
    return "missing" if value is None else f"{value:.4g}"


def value_of(version: Any, metric: str) -> float | None:
    """The metric recorded on a version at registration (None if missing or unreadable)."""
    raw = version.tags.get(f"metric.{metric}")
    try:
        return None if raw is None else float(raw)
    except ValueError:
        return None


def number_of(version: Any | None) -> int | None:
    return None if version is None else int(version.version)


def decide(candidate: Any, champion: Any | None, primary: PrimaryMetric, force: bool) -> Decision:
    """The gate, without side effects: promote, refuse, or (if forcible and forced) force."""
    number, theirs_number = int(candidate.version), number_of(champion)
    ours = value_of(candidate, primary.name)
    theirs = None if champion is None else value_of(champion, primary.name)
    direction = "higher" if primary.greater_is_better else "lower"
    forcible = True
    if not finite(ours):
        promoted, forcible = False, False
        reason = (
            f"{primary.name} of version {number} is {shown(ours)}, not a finite number: "
            "it can never be champion, not even with --force"
        )
    elif champion is None:
        promoted, reason = True, "no champion yet"
    elif theirs_number == number:
        promoted, forcible = False, False
        reason = f"version {number} is already the champion"
    elif not finite(theirs):
        promoted = True
        reason = (
            f"the champion (version {theirs_number}) has {primary.name} {shown(theirs)}, "
            f"not a finite number: replaced by {shown(ours)}"
        )
    elif champion.tags.get("test_split_hash") != candidate.tags.get("test_split_hash"):
        promoted, reason = False, "the two were scored on different test splits"
    elif _beats(ours, theirs, primary):  # type: ignore[arg-type]
        promoted = True
        reason = f"{primary.name} {shown(ours)} beats {shown(theirs)} ({direction} is better)"
    else:
        promoted = False
        reason = (
            f"{primary.name} {shown(ours)} does not beat the champion's "
            f"{shown(theirs)} ({direction} is better)"
        )
    forced = force and forcible and not promoted
    if forced:
        promoted, reason = True, f"forced: {reason}"
    prefix = f"version {number} promoted to @{CHAMPION}: " if promoted else "refused: "
    return Decision(promoted, number, ours, theirs_number, theirs, prefix + reason, forced)


def _beats(candidate: float, champion: float, primary: PrimaryMetric) -> bool:
    return candidate > champion if primary.greater_is_better else candidate < champion
