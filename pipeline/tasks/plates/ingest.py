"""Read a raw plates folder into manifest rows, each dataset in it in its own layout.

A raw folder may hold several datasets in subfolders; the layout is detected per image:
an image named by a GreenParking `location.txt` is read from it; one in an `images/`
folder beside `labels/` is Ultralytics/Roboflow YOLO; any other is labelImg YOLO (a
same-stem `.txt` beside it). An empty label marks a negative; an image with no label is
unlabelled and a label with no image an orphan: both stay rows with an `issue`. See
`pipeline.tasks.plates.formats` for each layout.

The split is drawn per source photo (`photo`), so the copies an export made of one photo
never straddle train and test; a dataset's own train/valid/test folders are not kept
(they are recorded in `source_split`), so that several datasets mixed in one raw folder
get one seeded split with the configured fractions.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.paths import printable
from pipeline.core.splits import assign_splits
from pipeline.tasks.plates.formats.greenparking import GreenParking
from pipeline.tasks.plates.formats.labelimg import CLASSES_FILE, LabelImg
from pipeline.tasks.plates.formats.rows import COLUMNS, issue, new_row
from pipeline.tasks.plates.formats.tree import Tree, relative, scan
from pipeline.tasks.plates.formats.ultralytics import Ultralytics
from pipeline.tasks.plates.formats.yolo import (
    LabelError,
    Located,
    label_columns,
    parse_yolo_label,
)
from pipeline.tasks.plates.params import PlatesIngestParams

__all__ = ["LabelError", "parse_yolo_label", "read_raw"]


class _YoloReader:
    """Rows of images not claimed by a location list: Ultralytics first, else labelImg."""

    def __init__(self, root: Path, default_names: list[str]) -> None:
        self.root = root
        self.default_names = default_names
        self.ultralytics = Ultralytics(root)
        self.labelimg = LabelImg(root)
        self.used_labels: Counter[Path] = Counter()

    def image_row(self, image: Path) -> dict[str, Any]:
        in_images_dir = self.ultralytics.locate(image)
        layout = "ultralytics" if in_images_dir else "labelimg"
        found = in_images_dir or self.labelimg.locate(image)
        self.used_labels[found.label] += 1
        label = found.label if found.label.is_file() else None
        row = self._describe(new_row(self.root, layout, found.folder, image, label), found)
        if row["issue"]:
            return row
        if label is None:
            where = printable(relative(self.root, found.label))
            return row | issue("unlabelled: no .txt label", f"{row['image']} (no {where})")
        names = found.names if found.names is not None else self.default_names
        return row | label_columns(self.root, label, names)

    def orphan_row(self, label: Path) -> dict[str, Any]:
        found = self.ultralytics.locate_label(label)
        layout, folder = ("ultralytics", found.folder) if found else ("labelimg", label.parent)
        row = new_row(self.root, layout, folder, None, label)
        return self._describe(row, found) | (
            {} if row["issue"] else issue("orphan label: no image", row["label"])
        )

    def _describe(self, row: dict[str, Any], found: Located | None) -> dict[str, Any]:
        """Where the classes were named, and the dataset's own split."""
        if found is None:
            return row
        classes_file = found.classes_file
        return row | {
            "source_split": found.source_split,
            "classes_file": classes_file and printable(relative(self.root, classes_file)),
        }


def _is_label_candidate(path: Path) -> bool:
    """Whether an unclaimed `.txt` may be a label: not a class list, not a README.

    Roboflow exports ship `README.dataset.txt` and `README.roboflow.txt`.
    """
    return path.name != CLASSES_FILE and not path.name.lower().startswith("readme")


def _rows(tree: Tree, params: PlatesIngestParams) -> list[dict[str, Any]]:
    greenparking = GreenParking(tree, params.classes)
    rows = greenparking.rows()
    yolo = _YoloReader(tree.root, params.classes)
    texts = set(tree.texts)
    for row in rows:  # a YOLO label made beside a listed image is noted, not an orphan
        if row["image"] and (beside := (tree.root / row["image"]).with_suffix(".txt")) in texts:
            yolo.used_labels[beside] += 1
            row["duplicate_labels"] = [*row["duplicate_labels"], f"{row['stem']}.txt (not read)"]
    for image in tree.images:
        if image in greenparking.claimed:
            continue
        row = yolo.image_row(image)
        if image.parent in greenparking.folders and row["issue"] == "unlabelled: no .txt label":
            row |= {
                "layout": "greenparking",
                "folder": printable(relative(tree.root, image.parent)),
            }
            row |= issue("unlabelled: not in location.txt", row["image"])
        rows.append(row)
    shared = {label for label, count in yolo.used_labels.items() if count > 1}
    for row in rows:
        if row["issue"] is None and row["label"] and tree.root / row["label"] in shared:
            row |= issue("ambiguous label: several images share it", row["label"])
    lists = set(greenparking.lists)
    for text in tree.texts:
        if text not in yolo.used_labels and text not in lists and _is_label_candidate(text):
            rows.append(yolo.orphan_row(text))
    for link in tree.outside_links:
        row = new_row(tree.root, "labelimg", link.parent, None, None, named=link)
        rows.append(row | issue("path outside dataset root", printable(relative(tree.root, link))))
    return rows


def read_raw(raw_dir: Path, params: PlatesIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of a raw plates folder: one row per image, its boxes, layout, split and issue."""
    frame = pd.DataFrame(_rows(scan(raw_dir), params), columns=COLUMNS)
    frame = frame.sort_values("stem", kind="stable").reset_index(drop=True)
    frame["n_boxes"] = frame["boxes"].map(len)
    photos = sorted(frame["photo"].unique())
    splits = assign_splits(photos, params.val_fraction, params.test_fraction, seed)
    frame["split"] = frame["photo"].map(splits)
    return frame
