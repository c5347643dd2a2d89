"""The driving part of the validation report: segment size used, and each recording's facts.

Each recording (a log, or one of the drives appended into it) is listed in log order with
its rows, splits, segments, the time range its frame names give, the folder its image paths
name, and why it starts where it does (the start of its log, a folder change, a time jump).
A recording whose steering never varies (a car standing still, a log that lost its angles)
is flagged: a regressor learns nothing from it, and its val/test figures mean nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _first(rows: pd.DataFrame, column: str) -> str | None:
    values = rows[column].dropna() if column in rows else pd.Series(dtype="str")
    return str(values.iloc[0]) if len(values) else None


def _moment(moment: pd.Timestamp) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # the frame names' milliseconds


def _recording(rows: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    steering = valid["steering"].dropna()
    std = float(steering.std(ddof=0)) if len(steering) else None
    constant = bool(len(steering)) and steering.nunique() == 1
    times = rows["recorded_at"].dropna() if "recorded_at" in rows else pd.Series()
    return {
        "logs": list(dict.fromkeys(rows["log"].tolist())),
        "rows": len(rows),
        "valid": len(valid),
        "duplicates": int((rows["split"] == "duplicate").sum()),
        "splits": {str(k): int(v) for k, v in valid["split"].value_counts().sort_index().items()},
        "segments": int(rows.loc[rows["split"] != "duplicate", "segment"].nunique()),
        "first_line": int(rows["line"].min()) if "line" in rows and len(rows) else None,
        "start": _moment(times.min()) if len(times) else None,
        "end": _moment(times.max()) if len(times) else None,
        "folder": _first(rows, "recorded_folder"),
        "cut": _first(rows, "recording_cut"),
        "steering_std": std,
        "constant_steering": constant,
    }


def summarize(manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    """Segment size used, per-recording facts (in log order), constant-steering flags."""
    valid_rows = dict(list(valid.groupby("recording", sort=False)))
    recordings = {
        str(name): _recording(rows, valid_rows.get(name, valid.iloc[0:0]))
        for name, rows in manifest.groupby("recording", sort=False)
    }
    constant = [name for name, facts in recordings.items() if facts["constant_steering"]]
    sizes = manifest["segment_frames"].unique().tolist() if "segment_frames" in manifest else []
    summary: dict[str, Any] = {
        "segment_frames": int(sizes[0]) if len(sizes) == 1 else sizes,
        "recordings": recordings,
        "constant_steering": constant,
    }
    if constant:
        summary["warning"] = (
            f"steering never varies in {', '.join(constant)}: nothing to learn from there; "
            "its val/test scores say nothing about steering"
        )
    return summary
