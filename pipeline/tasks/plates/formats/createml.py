"""CreateML JSON: a list of `{"image": "x.jpg", "annotations": [{"label": ..., "coordinates":
{"x", "y", "width", "height"}}]}` beside the images (Roboflow's CreateML export).

`x`, `y` are the box centre in pixels, normalised with the image header's size. An image
listed with no annotation is a negative, one beside them but not listed is unlabelled, a
listed one missing on disk is a row with an issue. Class ids number the labels in sorted
order per dataset folder.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.coco import safe_name
from pipeline.tasks.plates.formats.found import Found, Unlisted, split_folder
from pipeline.tasks.plates.formats.jsonfiles import is_createml
from pipeline.tasks.plates.formats.pixels import image_size
from pipeline.tasks.plates.formats.rows import class_columns, issue, listed_image_row
from pipeline.tasks.plates.formats.tree import Tree, relative

LAYOUT = "createml"
KEYS = ("x", "y", "width", "height")


def _box(number: int, annotation: Any) -> tuple[str, list[float]]:
    """(label, [cx, cy, w, h] in pixels) of one annotation; ValueError naming what is wrong."""
    coordinates = annotation.get("coordinates") if isinstance(annotation, dict) else None
    if not isinstance(coordinates, dict):
        raise ValueError(f"annotations[{number}] has no coordinates")
    raw = [coordinates.get(key) for key in KEYS]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        raise ValueError(f"annotations[{number}]: x, y, width, height must be numbers")
    values = [float(v) for v in raw]  # type: ignore[arg-type]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"annotations[{number}]: a coordinate is not finite")
    return str(annotation.get("label", "")), values


class CreateMl:
    """Rows of every image a CreateML JSON under one raw folder lists."""

    def __init__(self, tree: Tree, loaded: dict[Path, Any]) -> None:
        self.root = tree.root
        self.files = {path: data for path, data in loaded.items() if is_createml(data)}
        self._images = set(tree.images)

    def read(self) -> Found:
        found = Found()
        names: dict[Path, set[str]] = defaultdict(set)
        for source, data in self.files.items():
            folder, _ = split_folder(self.root, source.parent)
            for item in data:
                for ann in item["annotations"] if isinstance(item["annotations"], list) else []:
                    if isinstance(ann, dict):
                        names[folder].add(str(ann.get("label", "")))
        for source, data in self.files.items():
            folder, split = split_folder(self.root, source.parent)
            found.labels.add(source)
            found.unlisted[source.parent] = Unlisted(
                LAYOUT, folder, f"unlabelled: not in {source.name}", split
            )
            for item in data:
                row = self._row(source, folder, item, sorted(names[folder]))
                found.rows.append(row | {"source_split": split})
        return found

    def _row(
        self, source: Path, folder: Path, item: dict[str, Any], names: list[str]
    ) -> dict[str, Any]:
        shown = printable(relative(self.root, source))
        name = item["image"] if isinstance(item["image"], str) and item["image"] else None
        path = source.parent / safe_name(name or f"{source.stem}.unnamed")
        row = listed_image_row(
            self.root, LAYOUT, folder, source, path, str(item["image"]), self._images
        )
        if row["issue"]:
            return row
        try:
            if not isinstance(item["annotations"], list):
                raise ValueError("annotations is not a list")
            boxes = [_box(k, ann) for k, ann in enumerate(item["annotations"])]
        except ValueError as err:
            return row | issue("malformed label file", f"{shown} {name}: {err}")
        try:
            width, height = image_size(path)
        except Exception as err:  # Pillow raises many types on bad files
            return row | issue("unreadable image", f"{row['image']}: {printable(str(err))}")
        ids = [names.index(label) for label, _ in boxes]
        return row | {
            **class_columns(ids, names),
            "boxes": [[x / width, y / height, w / width, h / height] for _, (x, y, w, h) in boxes],
        }
