"""Read Udacity simulator recordings (`driving_log*.csv` + `IMG/`) into manifest rows.

Real logs come with or without a header row; image paths are absolute paths of the
recording machine (Windows backslashes included) or relative with leading spaces, so each
is resolved by its file name under the log's own `IMG/` folder, listed once. Every log
matching `ingest.driving.logs` in every folder is read, in path order with
`driving_log.csv` first in its folder: a second log may add frames recorded into the same
`IMG/` (e.g. rikkimelissa's `driving_log1.csv`), and a frame that an earlier row already
listed is kept as a row of the split "duplicate" (no model stage reads it) with
`duplicate_of` naming the original's log and line, so nothing is counted twice or leaks
across splits, and a sound copy is not a rejection. The split is by contiguous
segments, with guard frames at the boundaries, never by random rows (see `segments.py`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.paths import UnsafePathError, printable, resolve_inside
from pipeline.tasks.driving.issues import Problems
from pipeline.tasks.driving.logs import CAMERAS, LOG_COLUMNS, MEASUREMENTS, parse_log
from pipeline.tasks.driving.params import DrivingIngestParams
from pipeline.tasks.driving.segments import segment_size, split_segments

LOG_FILE = "driving_log.csv"  # what the simulator writes
COLUMNS = (
    "log",
    "recording",
    "frame",
    "line",
    "segment",
    "segment_frames",
    *LOG_COLUMNS,
    "split",
    "duplicate_of",
    "issue",
    "issue_detail",
)


def find_logs(raw_dir: Path, pattern: str) -> list[Path]:
    """Logs under `raw_dir`, folder by folder, the simulator's own `driving_log.csv` first."""
    logs = [path for path in raw_dir.rglob(pattern) if path.is_file()]
    return sorted(logs, key=lambda p: (p.parent.as_posix(), p.name != LOG_FILE, p.name))


class ImageFolder:
    """The file names of one recording's `IMG/`, listed once (one `os.scandir`)."""

    def __init__(self, raw_dir: Path, recording: Path) -> None:
        folder = recording / "IMG"
        self.prefix = (folder.relative_to(raw_dir)).as_posix() + "/"
        self.names: set[str] = set()
        self.outside: set[str] = set()  # symbolic links leading out of the dataset
        self.problem: str | None = None
        try:
            resolve_inside(raw_dir, folder.relative_to(raw_dir))
        except UnsafePathError as err:
            self.problem = str(err)
            return
        if not folder.is_dir():
            self.problem = "no IMG/ folder"
            return
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_symlink():
                    try:
                        resolve_inside(raw_dir, Path(entry.path).relative_to(raw_dir))
                    except UnsafePathError:
                        self.outside.add(entry.name)
                        continue
                if entry.is_file():
                    self.names.add(entry.name)

    def resolve(self, recorded: pd.Series, problems: Problems, camera: str) -> pd.Series:
        """Paths relative to the raw root of the recorded paths' file names (NA if absent).

        Rows whose `recorded` is NA are not checked (their line could not be read).
        """
        checked = recorded.notna()
        name = recorded.str.replace(r"^.*[\\/]", "", regex=True)  # Windows or POSIX path
        found = checked & name.isin(self.names)
        missing = f"{camera} image missing"
        empty = checked & name.eq("")
        problems.add(empty, missing, "empty image path")
        absent = checked & ~empty & ~found
        if self.problem is not None:
            problems.add(absent, missing, self.problem)
        else:
            outside = name.isin(self.outside)
            problems.add(outside, missing, "IMG/" + name + " leads outside the dataset root")
            problems.add(absent & ~outside, missing, "IMG/" + name + " not found")
        return (self.prefix + name).where(found)


def read_log(raw_dir: Path, log: Path) -> tuple[pd.DataFrame, Problems]:
    """Rows of one log with resolved image paths and numbers; its problems so far."""
    raw = parse_log(log)
    recording = log.parent.relative_to(raw_dir).as_posix()
    rows = pd.DataFrame(
        {
            "log": printable(log.relative_to(raw_dir).as_posix()),
            "recording": printable(recording),
            "frame": range(len(raw)),
            "line": raw["line"],
        },
        index=raw.index,
    )
    problems = Problems(raw.index)
    problems.add(raw["unreadable"].notna(), raw["unreadable"], raw["unreadable_detail"])
    readable = raw["unreadable"].isna()
    short = readable & raw["fields"].lt(len(LOG_COLUMNS))
    problems.add(
        short, "short row", raw["fields"].astype("str") + f" fields, expected {len(LOG_COLUMNS)}"
    )
    if printable(recording) != recording:  # its image paths could not be stored as text
        problems.add(readable, "folder name not UTF-8", f"rename {printable(recording)!r}")
        readable = readable & False
        for camera in CAMERAS:
            rows[camera] = pd.Series(pd.NA, index=raw.index, dtype="str")
    else:
        images = ImageFolder(raw_dir, log.parent)
        for camera in CAMERAS:
            recorded = raw[camera].fillna("").where(readable)  # a short row's camera is ""
            rows[camera] = images.resolve(recorded, problems, camera).where(readable)
    for measurement in MEASUREMENTS:
        value = pd.to_numeric(raw[measurement], errors="coerce").astype("float64")
        problems.add(
            readable & value.isna(),
            f"{measurement} not a number",
            "'" + raw[measurement].fillna("") + "'",
        )
        rows[measurement] = value
    return rows, problems


def read_raw(raw_dir: Path, params: DrivingIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of every recording under `raw_dir`: one row per log line."""
    logs = find_logs(raw_dir, params.logs)
    if not logs:
        raise DatasetError(f"no {params.logs} under {raw_dir}: is this a simulator recording?")
    parts = [read_log(raw_dir, log) for log in logs]
    frame = pd.concat([rows for rows, _ in parts], ignore_index=True)
    issues = [problems.columns() for _, problems in parts]
    if frame.empty:
        raise DatasetError(f"{', '.join(printable(str(log)) for log in logs)}: no rows")
    problems = Problems(frame.index)
    problems.extend(
        pd.concat([issue for issue, _ in issues], ignore_index=True),
        pd.concat([detail for _, detail in issues], ignore_index=True),
    )

    # the same frame listed twice: the later row is a sound row but a copy; it keeps the
    # first one's segment and goes to the "duplicate" split, which no model stage reads
    key = frame["center"]
    duplicate = key.notna() & key.duplicated()
    first = pd.Series(frame.index, index=frame.index).groupby(key).transform("first")
    first = first.fillna(0).astype("int64").to_numpy()
    line = frame["line"].astype("str")
    original = frame["log"].take(first).set_axis(frame.index) + " line "
    frame["duplicate_of"] = (original + line.take(first).set_axis(frame.index)).where(duplicate)

    unique = frame[~duplicate]
    size = segment_size(unique.groupby("log", sort=False).size().tolist(), params)
    segment, split = split_segments(unique["log"], size, params, seed)
    source = np.where(duplicate.to_numpy(), first, np.arange(len(frame)))  # own or original
    frame["segment"] = segment.reindex(source).set_axis(frame.index)
    frame["split"] = split.reindex(source).set_axis(frame.index).mask(duplicate, "duplicate")
    frame["segment_frames"] = size
    frame["issue"], frame["issue_detail"] = problems.columns(frame["log"] + " line " + line)
    return frame[list(COLUMNS)]
