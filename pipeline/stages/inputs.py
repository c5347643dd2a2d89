"""What every stage checks before it works: its inputs exist and come from the dataset the
params name. Each refusal is one line naming the file, what is wrong and the command to run.

A manifest records its dataset (`pipeline.core.manifest.Provenance`); a stage compares it
with what `data.<task>.raw_dir` and `ingest.<task>` give now, and with the raw folder's
current listing. Files edited in place keeping their size are caught by the mtimes ingest
saw in this workspace; under DVC (`DVC_STAGE` set) DVC's own hashes of the raw folder decide
that instead, since a checkout or `dvc pull` gives every file a new mtime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core import layout
from pipeline.core.errors import PipelineError
from pipeline.core.manifest import (
    LocalRecord,
    Provenance,
    list_folder,
    params_digest,
    read_manifest,
    read_provenance,
)

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.config import Config

PROVENANCE_FILE = "provenance.json"  # in a processed folder, beside what augment/features made


class StageInputError(PipelineError):
    """A stage's input is missing or was made from another dataset."""


def commands(*stages: str, task: str | None) -> str:
    """`pipeline a T`, `pipeline b T` (or `dvc repro b@T`): what makes the last of `stages`."""
    suffix = f" {task}" if task else ""
    shown = ", ".join(f"`pipeline {stage}{suffix}`" for stage in stages)
    target = f"{stages[-1]}@{task}" if task else stages[-1]
    return f"{shown} (or `dvc repro {target}`)"


def _who(stage: str, task: str | None) -> str:
    return f"{stage} {task}" if task else stage


def require(
    path: Path, stage: str, task: str | None, made_by: str, made_for: str | None = None
) -> Path:
    """`path`, or a one-line refusal naming the command (`made_by` of `made_for`, by default
    `task`) that writes it."""
    if not path.exists():
        raise StageInputError(
            f"{_who(stage, task)}: {path} not found; "
            f"run {commands(made_by, task=made_for or task)} first"
        )
    return path


def raw_folder(stage: str, task: str, config: Config) -> Path:
    """`data.<task>.raw_dir`, or a refusal naming the key and how to fill it."""
    raw_dir = config.raw_dir(task)
    if raw_dir.is_dir():
        return raw_dir
    owner = next(
        (name for name in _sampled() if Path(os.path.normpath(raw_dir)) == layout.sample_dir(name)),
        None,
    )
    fix = (
        f"run {commands('sample', task=owner)} or point it at a real dataset"
        if owner
        else f"point it at a {task} dataset in params.yaml"
    )
    raise StageInputError(
        f"{_who(stage, task)}: data.{task}.raw_dir: {raw_dir} is not a folder ({fix})"
    )


def _sampled() -> list[str]:
    from pipeline.tasks import tasks_with

    return tasks_with("sample")


def ingest_params(task: str, config: Config) -> str:
    """Fingerprint of what ingest reads besides the files: the seed and `ingest.<task>`."""
    params = config.for_task("ingest", task).model_dump(mode="json")
    return params_digest({"seed": config.seed, "ingest": params})


def provenance_now(task: str, config: Config, raw_dir: Path) -> tuple[Provenance, LocalRecord]:
    """The provenance ingest records for `raw_dir` as it is now, and the local part."""
    listing = list_folder(raw_dir)
    provenance = Provenance(
        task=task,
        raw_dir=str(config.raw_dir(task)),
        raw_files=listing.files,
        raw_listing=listing.digest,
        ingest_params=ingest_params(task, config),
    )
    local = LocalRecord(provenance.digest, str(raw_dir.resolve()), listing.digest_mtimes)
    return provenance, local


@dataclass(frozen=True)
class Made:
    """An input and the stages, from ingest on, that make it."""

    path: Path
    stages: tuple[str, ...]


def manifest_input(task: str) -> Made:
    return Made(layout.manifest_path(task), ("ingest",))


def valid_input(task: str) -> Made:
    return Made(layout.valid_path(task), ("ingest", "validate"))


def processed_input(task: str) -> Made:
    from pipeline.tasks import TASKS, Augments

    maker = "augment" if isinstance(TASKS[task], Augments) else "features"
    return Made(layout.processed_dir(task), ("ingest", "validate", maker))


def checked_manifest(
    made: Made, stage: str, task: str, config: Config
) -> tuple[pd.DataFrame, Provenance]:
    """The manifest `made.path` and its provenance, once `check` has found it is of the
    dataset the params name."""
    found = read_provenance(require(made.path, stage, task, made.stages[-1]))
    return read_manifest(made.path), check(made, found, stage, task, config)


def checked_provenance(
    made: Made, stage: str, task: str, config: Config, reads_raw: bool = True
) -> Provenance:
    """The provenance recorded in the processed folder `made.path`, checked."""
    record = require(made.path, stage, task, made.stages[-1]) / PROVENANCE_FILE
    found = Provenance.from_json(record.read_text()) if record.is_file() else None
    return check(made, found, stage, task, config, reads_raw)


def write_provenance(folder: Path, provenance: Provenance) -> None:
    """Record in a processed folder the dataset it was made from."""
    (folder / PROVENANCE_FILE).write_text(provenance.to_json() + "\n")


def check(
    made: Made,
    found: Provenance | None,
    stage: str,
    task: str,
    config: Config,
    reads_raw: bool = True,
) -> Provenance:
    """`found` if it is the provenance of the dataset the params name now, else a refusal.

    `reads_raw`: the stage reads the raw folder too, so its current listing must be the one
    ingested (a stage that reads only its processed inputs checks names and params).
    """
    if reads_raw:
        raw_folder(stage, task, config)
    problem = _problem(found, task, config, reads_raw)
    if problem:
        raise StageInputError(
            f"{_who(stage, task)}: {made.path} {problem}; "
            f"run {commands(*made.stages, task=task)} first"
        )
    assert found is not None
    return found


def _problem(found: Provenance | None, task: str, config: Config, reads_raw: bool) -> str | None:
    if found is None:
        return "records no dataset provenance (written by an older version of the pipeline)"
    if found.task != task:
        return f"was made for task {found.task}, not {task}"
    raw_dir = config.raw_dir(task)
    if found.raw_dir != str(raw_dir) and Path(found.raw_dir).resolve() != raw_dir.resolve():
        return f"was ingested from {found.raw_dir}, not from {raw_dir} (data.{task}.raw_dir)"
    if found.ingest_params != ingest_params(task, config):
        return f"was ingested with other `ingest.{task}` params or seed"
    if not reads_raw:
        return None
    now, local = provenance_now(task, config, raw_dir)
    if now.raw_listing != found.raw_listing:
        return (
            f"no longer matches {raw_dir}: files were added, removed or resized since ingest "
            f"({found.raw_files} files then, {now.raw_files} now)"
        )
    seen = LocalRecord.read(layout.ingest_record(task))
    if (
        seen is not None
        and seen.provenance == found.digest
        and seen.raw_listing_mtimes != local.raw_listing_mtimes
        and "DVC_STAGE" not in os.environ
    ):
        return f"no longer matches {raw_dir}: files were modified since ingest"
    return None
