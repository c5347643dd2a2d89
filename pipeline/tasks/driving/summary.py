"""The driving part of the validation report: segment size used, and each recording's facts.

A recording whose steering never varies (a car standing still, a log that lost its angles)
is flagged: a regressor learns nothing from it, and its val/test figures mean nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def _recording(rows: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    steering = valid["steering"].dropna()
    std = float(steering.std(ddof=0)) if len(steering) else None
    constant = bool(len(steering)) and steering.nunique() == 1
    return {
        "logs": sorted(rows["log"].unique().tolist()),
        "rows": len(rows),
        "valid": len(valid),
        "duplicates": int((rows["split"] == "duplicate").sum()),
        "splits": {str(k): int(v) for k, v in valid["split"].value_counts().sort_index().items()},
        "steering_std": std,
        "constant_steering": constant,
    }


def summarize(manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    """Segment size used, per-recording rows/splits/steering spread, constant-steering flags."""
    recordings = {
        str(name): _recording(rows, valid[valid["recording"] == name])
        for name, rows in manifest.groupby("recording", sort=True)
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
