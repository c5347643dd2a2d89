"""The validation report's `dataset` section: what was read from each dataset folder, and
every file of the raw folder by extension and role (image, label, metadata, ignored: why)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from pipeline.tasks.plates.formats.accounting import ATTRS_KEY

SHOWN_FILES = 3


def _count(values: pd.Series) -> dict[str, int]:
    return {str(key): int(n) for key, n in values.value_counts().sort_index().items()}


def _has_text(texts: Any) -> bool:
    return any(text is not None for text in texts)


def _unnamed(rows: pd.DataFrame) -> dict[str, Any]:
    """Class ids no class list names (called `class_<id>`): boxes and the first few files."""
    if "unnamed_class_ids" not in rows:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for ids, label, image in rows[["unnamed_class_ids", "label", "image"]].itertuples(False):
        for i in ids:
            entry = found.setdefault(str(i), {"files": 0, "first_files": []})
            entry["files"] += 1
            if len(entry["first_files"]) < SHOWN_FILES:
                entry["first_files"].append(label or image)
    return dict(sorted(found.items()))


def _flags(ok: pd.DataFrame, column: str) -> int:
    return int(ok[column].map(sum).sum()) if column in ok else 0


def _size_notes(rows: pd.DataFrame) -> dict[str, Any]:
    if "size_note" not in rows:
        return {"rows": 0, "first": []}
    notes = rows["size_note"].dropna()
    return {"rows": len(notes), "first": notes.head(SHOWN_FILES).tolist()}


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
        "unnamed_classes": _unnamed(ok),
        "difficult_boxes": _flags(ok, "difficult"),
        "truncated_boxes": _flags(ok, "truncated"),
        "size_disagreements": _size_notes(ok),
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
    files = manifest.attrs.get(ATTRS_KEY) or {}
    per_folder = files.get("folders", {})
    folders = {
        str(folder): _folder(rows, int(valid_per_folder.get(folder, 0)))
        | {"files": per_folder.get(str(folder), {})}
        for folder, rows in manifest.groupby("folder", sort=True, dropna=False)
    }
    return {
        "layouts": {folder: summary["layout"] for folder, summary in folders.items()},
        "folders": folders,
        "files": files.get("total", "not recorded: the manifest predates file accounting"),
        "files_outside_dataset_folders": files.get("elsewhere", {}),
        "photos": int(manifest["photo"].nunique()),
        "images_per_photo_max": int(manifest["photo"].value_counts().max()),
        "copies": _copies(manifest),
    }


def _copies(manifest: pd.DataFrame, largest: int = 5) -> dict[str, Any]:
    """Copy groups (`photo`): how many, how many images are copies, the largest few; and
    the split groups (photos sharing a plate text, with their copies)."""
    images = manifest[manifest["image"].notna()]
    files = images.groupby("photo")["image"].agg(sorted)
    biggest = sorted(files.items(), key=lambda item: (-len(item[1]), str(item[0])))[:largest]
    return {
        "groups": len(files),
        "copies": int(len(images) - len(files)),  # images beyond one per photo
        "largest": [
            {"photo": str(photo), "images": len(names), "files": list(names)}
            for photo, names in biggest
            if len(names) > 1
        ],
        "split_groups": int(manifest["group"].nunique()) if "group" in manifest else None,
    }
