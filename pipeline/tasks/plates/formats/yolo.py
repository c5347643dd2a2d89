"""YOLO label files (labelImg and Ultralytics alike) and the files that name their classes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.rows import class_columns, issue
from pipeline.tasks.plates.formats.text import read_sidecar, sidecar_of
from pipeline.tasks.plates.formats.tree import is_inside, relative


class LabelError(ValueError):
    """A YOLO label file that cannot be parsed."""


class Located(NamedTuple):
    """Where an image's label is, which dataset folder it belongs to, and its class names."""

    label: Path
    folder: Path
    names: list[str] | None  # None: the dataset names no classes
    classes_file: Path | None
    source_split: str | None = None  # the dataset's own split folder, if any


class YoloLabel(NamedTuple):
    class_ids: list[int]
    boxes: list[list[float]]  # normalised [x_center, y_center, width, height]
    polygons: int  # how many of the boxes are the bounding box of a polygon line


def _polygon_box(values: list[float]) -> list[float]:
    xs, ys = values[0::2], values[1::2]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    return [(left + right) / 2, (top + bottom) / 2, right - left, bottom - top]


def parse_yolo_label(text: str) -> tuple[list[int], list[list[float]]]:
    """Class ids and `[x_center, y_center, width, height]` boxes of one label file."""
    parsed = parse_label(text)
    return parsed.class_ids, parsed.boxes


def parse_label(text: str) -> YoloLabel:
    """Class ids and boxes of one label file, and how many boxes came from polygons.

    A line is `class x y w h`, or a polygon `class x1 y1 x2 y2 x3 y3 ...` (Roboflow's
    segmentation export, mixed into detection sets), which becomes its bounding box.
    Blank lines, CRLF endings and a UTF-8 byte-order mark are tolerated; anything else
    raises LabelError naming the line.
    """
    class_ids: list[int] = []
    boxes: list[list[float]] = []
    polygons = 0
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        is_polygon = len(fields) >= 7 and len(fields) % 2 == 1
        if len(fields) != 5 and not is_polygon:
            raise LabelError(
                f"line {number}: expected 5 values or a polygon's odd number >= 7, "
                f"got {len(fields)}"
            )
        try:
            class_value, *values = (float(field) for field in fields)
        except ValueError as err:
            raise LabelError(f"line {number}: not a number ({err})") from err
        if not all(math.isfinite(value) for value in values):
            raise LabelError(f"line {number}: a value is not finite")
        if not class_value.is_integer():
            raise LabelError(f"line {number}: class id {fields[0]!r} is not an integer")
        class_ids.append(int(class_value))
        boxes.append(_polygon_box(values) if is_polygon else values)
        polygons += is_polygon
    return YoloLabel(class_ids, boxes, polygons)


def label_columns(root: Path, label: Path, names: list[str]) -> dict[str, Any]:
    """Row columns read from one label file: boxes and classes, or a malformed-file issue;
    the plate texts from its sidecar, if any (a broken sidecar is noted, the boxes kept)."""
    shown = printable(relative(root, label))
    try:
        parsed = parse_label(label.read_bytes().decode("utf-8"))
    except (LabelError, UnicodeDecodeError) as err:
        return issue("malformed label file", f"{shown}: {printable(str(err))}")
    except OSError as err:
        return issue("unreadable label file", f"{shown}: {err.strerror}")
    texts, problem = read_sidecar(sidecar_of(label), len(parsed.boxes))
    return {
        **class_columns(parsed.class_ids, names),
        "boxes": parsed.boxes,
        "n_polygons": parsed.polygons,
        "plate_texts": texts,
        "plate_text_issue": problem and printable(problem),
    }


def read_classes_txt(root: Path, path: Path) -> list[str] | None:
    """labelImg's class list, one name a line; None if absent, outside the root or undecodable."""
    if not path.is_file() or not is_inside(root, path):
        return None
    try:
        lines = path.read_bytes().decode("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return [line.strip() for line in lines if line.strip()]


def read_yaml_names(root: Path, path: Path) -> list[str] | None:
    """`names:` of an Ultralytics/Roboflow yaml (a list or an {id: name} map), else None."""
    import yaml

    if not path.is_file() or not is_inside(root, path):
        return None
    try:
        names = (yaml.safe_load(path.read_bytes().decode("utf-8-sig")) or {}).get("names")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
        return None
    if isinstance(names, dict) and all(isinstance(key, int) and key >= 0 for key in names):
        return [str(names.get(i, "")) for i in range(max(names, default=-1) + 1)]
    if isinstance(names, list) and names:
        return [str(name) for name in names]
    return None
