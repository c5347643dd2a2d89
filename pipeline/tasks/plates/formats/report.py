"""The validation report's `dataset` section: what was read from each dataset folder."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd


def _count(values: pd.Series) -> dict[str, int]:
    return {str(key): int(n) for key, n in values.value_counts().sort_index().items()}


def _has_text(texts: Any) -> bool:
    return any(text is not None for text in texts)


def _folder(rows: pd.DataFrame, valid_rows: int) -> dict[str, Any]:
    ok = rows[rows["issue"].isna()]
    issues = rows["issue"].fillna("")
    classes = Counter(name for names in ok["class_names"] for name in names)
    return {
        "layout": str(rows["layout"].iloc[0]),
        "classes_file": next(iter(rows["classes_file"].dropna()), None),
        "rows": len(rows),
        "images": int(rows["image"].notna().sum()),
        "read": len(ok),
        "boxes": int(ok["n_boxes"].sum()),
        "polygons": int(ok["n_polygons"].sum()),
        "negatives": int((ok["n_boxes"] == 0).sum()),
        "unlabelled": int(issues.str.startswith("unlabelled").sum()),
        "with_plate_text": int(ok["plate_texts"].map(_has_text).sum()),
        "plate_text_issues": int(ok["plate_text_issue"].notna().sum()),
        "duplicate_annotations_skipped": int(rows["duplicate_labels"].map(len).sum()),
        "photos": int(rows["photo"].nunique()),
        "classes": dict(sorted(classes.items())),
        "source_splits": _count(rows["source_split"]),
        "ingest_issues": _count(rows["issue"]),
        "valid": valid_rows,
        "rejected": len(rows) - valid_rows,
    }


def summarize(manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    """Per dataset folder: its layout and counts of images, boxes, polygons, negatives..."""
    needed = {"folder", "layout", "photo", "n_boxes", "n_polygons", "duplicate_labels"}
    if manifest.empty or not needed <= set(manifest.columns):
        return {"folders": {}, "note": f"manifest lacks rows or columns {sorted(needed)}"}
    valid_per_folder = valid["folder"].value_counts()
    folders = {
        str(folder): _folder(rows, int(valid_per_folder.get(folder, 0)))
        for folder, rows in manifest.groupby("folder", sort=True, dropna=False)
    }
    return {
        "layouts": {folder: summary["layout"] for folder, summary in folders.items()},
        "folders": folders,
        "photos": int(manifest["photo"].nunique()),
        "images_per_photo_max": int(manifest["photo"].value_counts().max()),
    }
