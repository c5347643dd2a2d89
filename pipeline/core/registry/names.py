"""Where a task's models live in the registry: one function for every reader of `@champion`.

Candidates are versions of `<task>` (alias `candidate`); a promotion copies the version into
`<task>.champion` and moves its alias `champion` there. On a team server only maintainers
may edit `<task>.champion` (MLflow's auth needs the same permission to register a version
and to set an alias, so the two cannot share one registered model).
"""

from __future__ import annotations

CANDIDATE, CHAMPION = "candidate", "champion"
CHAMPION_SUFFIX = ".champion"
#: the tag on a champion copy naming the `<task>` version it was copied from
SOURCE_VERSION_TAG = "candidate_version"


def champion_model(task: str) -> str:
    return f"{task}{CHAMPION_SUFFIX}"


def champion_uri(task: str) -> str:
    """`models:/<task>.champion@champion`: what predict, drive and serve load by default."""
    return f"models:/{champion_model(task)}@{CHAMPION}"


def candidate_uri(task: str) -> str:
    return f"models:/{task}@{CANDIDATE}"
