"""Read Udacity simulator recordings (`driving_log.csv` + `IMG/`) into manifest rows.

Real logs come with or without a header row; image paths are absolute paths of the
recording machine (Windows backslashes included) or relative with leading spaces, so each
is resolved by its file name under the log's own `IMG/` folder. Several recordings
(several `driving_log.csv` under the raw root) are read in path order. Frames are
consecutive video, so the split is by contiguous segments, with guard frames at the
boundaries, never by random rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.paths import UnsafePathError, file_name, resolve_inside
from pipeline.core.splits import assign_splits
from pipeline.tasks.driving.params import DrivingIngestParams

LOG_FILE = "driving_log.csv"
CAMERAS = ("center", "left", "right")
MEASUREMENTS = ("steering", "throttle", "brake", "speed")
LOG_COLUMNS = (*CAMERAS, *MEASUREMENTS)


def _is_header(fields: list[str]) -> bool:
    try:
        float(fields[3])
    except (IndexError, ValueError):
        return True
    return False


def _image_path(raw_dir: Path, log: Path, recorded: str) -> tuple[str | None, str | None]:
    """(path relative to the raw root, None) or (None, why it could not be resolved)."""
    name = file_name(recorded)
    if not name:
        return None, "empty image path"
    try:
        path = resolve_inside(raw_dir, (log.parent / "IMG" / name).relative_to(raw_dir))
    except UnsafePathError as err:
        return None, str(err)
    if not path.is_file():
        return None, f"IMG/{name} not found next to {log.name}"
    return path.relative_to(raw_dir.resolve()).as_posix(), None


def _read_log(raw_dir: Path, log: Path) -> list[dict]:
    with log.open(newline="", encoding="utf-8-sig") as handle:
        lines = [fields for fields in csv.reader(handle, skipinitialspace=True) if fields]
    columns: tuple[str, ...] = LOG_COLUMNS
    if lines and _is_header(lines[0]):
        columns = tuple(name.strip().lower() for name in lines[0])
        lines = lines[1:]
    log_name = log.relative_to(raw_dir).as_posix()
    rows = []
    for frame, fields in enumerate(lines):
        row: dict = {"log": log_name, "frame": frame, "issue": None, "issue_detail": None}
        values = dict(zip(columns, fields, strict=False))
        problems = []
        if len(fields) < len(LOG_COLUMNS):
            problems.append(("short row", f"{len(fields)} fields, expected {len(LOG_COLUMNS)}"))
        for camera in CAMERAS:
            row[camera], problem = _image_path(raw_dir, log, values.get(camera, ""))
            if problem:
                problems.append((f"{camera} image missing", problem))
        for measurement in MEASUREMENTS:
            try:
                row[measurement] = float(values.get(measurement, ""))
            except ValueError:
                row[measurement] = np.nan
                problems.append((f"{measurement} not a number", repr(values.get(measurement))))
        if problems:
            row["issue"] = problems[0][0]
            row["issue_detail"] = f"{log_name} row {frame}: " + "; ".join(
                f"{what}: {detail}" for what, detail in problems
            )
        rows.append(row)
    return rows


def _segment_splits(frame: pd.DataFrame, params: DrivingIngestParams, seed: int) -> pd.Series:
    """Split per segment, then mark the first frames after a change of split as 'guard'."""
    splits = assign_splits(
        list(frame["segment"].unique()), params.val_fraction, params.test_fraction, seed
    )
    split = frame["segment"].map(splits)
    changed = split.ne(split.groupby(frame["log"]).shift()) & frame["frame"].gt(0)
    block = changed.groupby(frame["log"]).cumsum()
    position_in_block = frame.groupby([frame["log"], block]).cumcount()
    starts_after_change = block.gt(0) & position_in_block.lt(params.guard_frames)
    return split.mask(starts_after_change, "guard")


def read_raw(raw_dir: Path, params: DrivingIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of every recording under `raw_dir`: one row per log line."""
    logs = sorted(raw_dir.rglob(LOG_FILE))
    if not logs:
        raise DatasetError(f"no {LOG_FILE} under {raw_dir}: is this a simulator recording?")
    frame = pd.DataFrame([row for log in logs for row in _read_log(raw_dir, log)])
    if frame.empty:
        raise DatasetError(f"{', '.join(str(log) for log in logs)}: no rows")
    frame["segment"] = frame["log"] + ":" + (frame["frame"] // params.segment_frames).astype(str)
    frame["split"] = _segment_splits(frame, params, seed)
    order = ["log", "frame", "segment", *LOG_COLUMNS, "split", "issue", "issue_detail"]
    return frame[order]
