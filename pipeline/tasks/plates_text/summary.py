"""The validation report's `dataset` section for plate text."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd


def summarize(manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    """Plates with text per layout and split, text lengths, characters, repeated plates."""
    if manifest.empty or "target" not in manifest.columns:
        return {"note": "manifest lacks rows or the target column"}
    targets = valid["target"].dropna()
    repeated = targets.value_counts()
    issues = manifest["issue"].dropna().value_counts()
    return {
        "plates_with_text": int(manifest["target"].notna().sum()),
        "photos": int(manifest["photo"].nunique()),
        "groups": int(manifest["group"].nunique()),
        "layouts": {str(k): int(n) for k, n in manifest["layout"].value_counts().items()},
        "ingest_issues": {str(k): int(n) for k, n in issues.items()},
        "valid_per_split": {str(k): int(n) for k, n in valid["split"].value_counts().items()},
        "text_lengths": {
            str(k): int(n) for k, n in targets.str.len().value_counts().sort_index().items()
        },
        "characters": dict(sorted(Counter("".join(targets)).items())),
        "distinct_plates": int(targets.nunique()),
        "plates_seen_more_than_once": int((repeated > 1).sum()),
    }
