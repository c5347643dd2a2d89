"""Read a YOLO-format folder (labelImg's output) into manifest rows.

Real folders hold `<stem>.<image ext>` + `<stem>.txt` pairs, maybe in subfolders, and an
optional `classes.txt` (labelImg writes its whole predefined class list there, so class
ids are mapped to names through it). An empty `.txt` marks a negative image; an image
with no `.txt` is unlabelled and a `.txt` with no image is an orphan: both are kept as
rows with an `issue`, never dropped.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from pipeline.core.paths import UnsafePathError, resolve_inside
from pipeline.core.splits import assign_splits
from pipeline.tasks.plates.params import PlatesIngestParams

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
CLASSES_FILE = "classes.txt"


class LabelError(ValueError):
    """A YOLO label file that cannot be parsed."""


def parse_yolo_label(text: str) -> tuple[list[int], list[list[float]]]:
    """Class ids and `[x_center, y_center, width, height]` boxes of one label file.

    Blank lines, CRLF endings and a UTF-8 byte-order mark are tolerated; anything else
    that is not `class x y w h` raises LabelError naming the line.
    """
    class_ids: list[int] = []
    boxes: list[list[float]] = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            raise LabelError(f"line {number}: expected 5 values, got {len(fields)}")
        try:
            class_value, *box = (float(field) for field in fields)
        except ValueError as err:
            raise LabelError(f"line {number}: not a number ({err})") from err
        if not class_value.is_integer():
            raise LabelError(f"line {number}: class id {fields[0]!r} is not an integer")
        class_ids.append(int(class_value))
        boxes.append(box)
    return class_ids, boxes


def read_class_names(raw_dir: Path, default: list[str]) -> list[str]:
    classes_file = raw_dir / CLASSES_FILE
    if not classes_file.is_file():
        return list(default)
    names = classes_file.read_text(encoding="utf-8-sig").splitlines()
    return [name.strip() for name in names if name.strip()]


def _pairs(raw_dir: Path) -> dict[str, dict[str, Path]]:
    """Files grouped by stem path relative to the root: {"sub/img1": {"image": .., "label": ..}}."""
    pairs: dict[str, dict[str, Path]] = defaultdict(dict)
    for path in sorted(raw_dir.rglob("*")):
        if path.name == CLASSES_FILE or path.name.startswith(".") or path.is_dir():
            continue
        suffix = path.suffix.lower()
        kind = "label" if suffix == ".txt" else "image" if suffix in IMAGE_SUFFIXES else None
        if kind is not None:
            stem = path.relative_to(raw_dir).with_suffix("").as_posix()
            pairs[stem].setdefault(kind, path)
    return pairs


COLUMNS = ["stem", "image", "label", "class_ids", "class_names", "boxes", "issue", "issue_detail"]


def _row(raw_dir: Path, stem: str, files: dict[str, Path], names: list[str]) -> dict:
    row: dict = dict.fromkeys(COLUMNS) | {"stem": stem, "class_ids": [], "class_names": []}
    row["boxes"] = []
    try:
        for kind, path in files.items():
            resolve_inside(raw_dir, path.relative_to(raw_dir))
            row[kind] = path.relative_to(raw_dir).as_posix()
    except UnsafePathError as err:
        return row | {"image": None, "issue": "path outside dataset root", "issue_detail": str(err)}
    if "image" not in files:
        return row | {"issue": "orphan label: no image", "issue_detail": row["label"]}
    if "label" not in files:
        return row | {"issue": "unlabelled: no .txt label", "issue_detail": row["image"]}
    try:
        class_ids, boxes = parse_yolo_label(files["label"].read_text(encoding="utf-8"))
    except (LabelError, UnicodeDecodeError) as err:
        return row | {"issue": "malformed label file", "issue_detail": f"{row['label']}: {err}"}
    class_names = [names[i] if 0 <= i < len(names) else "" for i in class_ids]
    return row | {"class_ids": class_ids, "class_names": class_names, "boxes": boxes}


def read_raw(raw_dir: Path, params: PlatesIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of a YOLO folder: one row per stem, with its boxes, split and any issue."""
    names = read_class_names(raw_dir, params.classes)
    pairs = _pairs(raw_dir)
    rows = [_row(raw_dir, stem, files, names) for stem, files in pairs.items()]
    splits = assign_splits(list(pairs), params.val_fraction, params.test_fraction, seed)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["n_boxes"] = frame["boxes"].map(len)
    frame["split"] = frame["stem"].map(splits)
    return frame
