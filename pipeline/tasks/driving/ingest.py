"""Read Udacity simulator recordings (`driving_log*.csv` + their frames) into manifest rows.

Real logs come with or without a header row; image paths are absolute paths of the
recording machine (Windows backslashes included) or relative with leading spaces, and the
frames sit under `IMG/`, under another folder or beside the log, so each path is resolved
by its file name (see `frames.py`). Every log matching `ingest.driving.logs` in every
folder is read, in path order with `driving_log.csv` first in its folder: a second log may
add frames recorded into the same folder (e.g. rikkimelissa's `driving_log1.csv`), and a
frame that an earlier row already listed is kept as a row of the split "duplicate" (no
model stage reads it) with `duplicate_of` naming the original's log and line, so nothing
is counted twice or leaks across splits, and a sound copy is not a rejection.

A log may hold several drives appended one after another: it is cut into recordings where
the image paths' folder changes or the frame names' time jumps (see `recordings.py`). The
first recording of a folder is named after the folder, the next ones `<folder>#2`, `#3`...
in reading order; `recorded_at` (the time in the frame's name), `recorded_folder` and
`recording_cut` keep the facts the report shows. The split is by contiguous segments
within each recording, with guard frames at the boundaries, never by random rows (see
`segments.py`); or, with `test_recordings`, the recordings named there are the test split
whole and the others are split into train and val.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.paths import printable
from pipeline.tasks.driving.frames import FrameFinder
from pipeline.tasks.driving.issues import Problems
from pipeline.tasks.driving.logs import CAMERAS, LOG_COLUMNS, MEASUREMENTS, parse_log
from pipeline.tasks.driving.params import DrivingIngestParams
from pipeline.tasks.driving.recordings import cut
from pipeline.tasks.driving.segments import (
    held_out,
    segment_size,
    split_segments,
    train_val_params,
)

LOG_FILE = "driving_log.csv"  # what the simulator writes
COLUMNS = (
    "log",
    "recording",
    "frame",
    "line",
    "recorded_at",
    "recorded_folder",
    "recording_cut",
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


def _recorded(raw: pd.DataFrame, readable: pd.Series) -> pd.Series:
    """Each readable row's image path as written: the center one, else left, else right."""
    path = pd.Series(pd.NA, index=raw.index, dtype="str")
    for camera in reversed(CAMERAS):
        text = raw[camera].where(readable)
        path = text.mask(text.fillna("").eq("")).fillna(path)
    return path.mask(readable & path.isna(), "")


def read_log(
    raw_dir: Path, log: Path, params: DrivingIngestParams
) -> tuple[pd.DataFrame, Problems]:
    """Rows of one log with resolved image paths, numbers and recordings (`piece` 0, 1...
    within the log); its problems so far."""
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
        frames = FrameFinder(raw_dir, log.parent)
        for camera in CAMERAS:
            recorded = raw[camera].fillna("").where(readable)  # a short row's camera is ""
            rows[camera] = frames.resolve(recorded, problems, camera).where(readable)
    for measurement in MEASUREMENTS:
        value = pd.to_numeric(raw[measurement], errors="coerce").astype("float64")
        problems.add(
            readable & value.isna(),
            f"{measurement} not a number",
            "'" + raw[measurement].fillna("") + "'",
        )
        rows[measurement] = value
    first = f"start of {printable(log.name)}"
    cuts = cut(_recorded(raw, readable), params.max_gap_seconds, first)
    rows["piece"] = cuts.piece
    rows["recorded_at"] = cuts.time.set_axis(raw.index)
    rows["recorded_folder"] = cuts.folder.set_axis(raw.index)  # readable lines: UTF-8
    rows["recording_cut"] = cuts.reason.set_axis(raw.index)
    return rows, problems


def _name_recordings(parts: list[pd.DataFrame]) -> None:
    """`recording` of each part's rows: its folder, then `<folder>#2`, `#3`... in order."""
    seen: dict[str, int] = {}
    for rows in parts:
        if rows.empty:
            continue
        folder = str(rows["recording"].iloc[0])
        first = seen.get(folder, 0)
        number = rows["piece"] + first
        named = folder + "#" + (number + 1).astype("str")
        rows["recording"] = named.where(number > 0, folder)
        seen[folder] = first + int(rows["piece"].max()) + 1


def read_raw(raw_dir: Path, params: DrivingIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of every recording under `raw_dir`: one row per log line."""
    logs = find_logs(raw_dir, params.logs)
    if not logs:
        raise DatasetError(f"no {params.logs} under {raw_dir}: is this a simulator recording?")
    parts = [read_log(raw_dir, log, params) for log in logs]
    _name_recordings([rows for rows, _ in parts])
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
    held = held_out(unique["recording"], params)
    rules = train_val_params(params) if params.test_recordings else params
    frames = unique[~held].groupby("recording", sort=False).size().tolist()
    size = segment_size(frames, rules)
    segment, split = split_segments(
        unique["log"], unique["recording"], size, rules, seed, held=held
    )
    source = np.where(duplicate.to_numpy(), first, np.arange(len(frame)))  # own or original
    frame["segment"] = segment.reindex(source).set_axis(frame.index)
    frame["split"] = split.reindex(source).set_axis(frame.index).mask(duplicate, "duplicate")
    frame["segment_frames"] = size
    frame["issue"], frame["issue_detail"] = problems.columns(frame["log"] + " line " + line)
    return frame[list(COLUMNS)]
