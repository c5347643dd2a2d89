"""Manifest rows: one per image (or per label or list line that names no image)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.core.copies import strip_copy_suffixes
from pipeline.core.paths import UnsafePathError, is_utf8, printable, resolve_inside
from pipeline.tasks.plates.formats.tree import relative

COLUMNS = [
    "stem",  # image path relative to the root, without suffix (label path for orphans)
    "image",
    "label",  # the label file, or the location.txt the boxes were taken from
    "layout",  # labelimg | ultralytics | greenparking
    "folder",  # the dataset folder the layout was detected at
    "photo",  # the source photo: copies an export made of one photo share it (and a split)
    "source_split",  # the dataset's own train/val/test folder, if any (reported, not kept)
    "class_ids",
    "class_names",
    "unnamed_class_ids",  # ids the class list does not cover, named `class_<id>`
    "classes_file",  # classes.txt or *.yaml that named the classes (None: ingest params)
    "boxes",  # normalised [x_center, y_center, width, height]
    "n_polygons",  # boxes that came from polygon lines
    "difficult",  # per box, Pascal VOC's `difficult` flag (empty: the layout has none)
    "truncated",  # per box, Pascal VOC's `truncated` flag (empty: the layout has none)
    "size_note",  # the annotation's image size disagrees with the file's (the file's is used)
    "plate_text",  # GreenParking's plate text, when the annotation has one
    "plate_texts",  # one text per box (None: unknown), from location.txt or the sidecar
    "plate_text_issue",  # why the text could not be matched to the boxes (not the boxes)
    "duplicate_labels",  # other annotations of the same image, identical, not used
    "issue",
    "issue_detail",
]


def photo_of(stem: str) -> str:
    """The photo a file stem names, by name alone (`x_jpg.rf.<hash>`, `x_aug1`, `x (1)` -> `x`).

    The ingest then merges byte-identical and look-alike files too (`read_raw`)."""
    return strip_copy_suffixes(stem)


def new_row(
    root: Path,
    layout: str,
    folder: Path,
    image: Path | None,
    label: Path | None,
    named: Path | None = None,
) -> dict[str, Any]:
    """A row naming `image` and `label`, or an issue row if either is unsafe to follow or store.

    The stem and photo come from `named` if given (an image a list names but that is
    missing), else from the image, else from the label.
    """
    key = named or image or label
    assert key is not None
    stem = relative(root, key)
    row: dict[str, Any] = dict.fromkeys(COLUMNS) | {
        "stem": printable(stem[: len(stem) - len(key.suffix)]),
        "layout": layout,
        "folder": printable(relative(root, folder)),
        "photo": printable(photo_of(key.stem)),
        "class_ids": [],
        "class_names": [],
        "unnamed_class_ids": [],
        "boxes": [],
        "difficult": [],
        "truncated": [],
        "plate_texts": [],
        "n_polygons": 0,
        "duplicate_labels": [],
    }
    for column, path in (("image", image), ("label", label)):
        if path is None:
            continue
        name = relative(root, path)
        try:
            resolve_inside(root, name)
        except UnsafePathError as err:
            return row | issue("path outside dataset root", printable(str(err)), image=None)
        if not is_utf8(name):
            return row | issue("file name is not valid UTF-8", printable(name))
        row[column] = name
    return row


def listed_image_row(
    root: Path,
    layout: str,
    folder: Path,
    source: Path,
    image: Path,
    listed_as: str,
    on_disk: set[Path] | dict[Path, Any],
) -> dict[str, Any]:
    """The row of an image a JSON label file lists (COCO, CreateML): a "missing image" issue
    when it is not on disk, else `new_row` (which may carry an unsafe-path issue)."""
    if image not in on_disk:
        row = new_row(root, layout, folder, None, source, named=image)
        detail = f"{printable(relative(root, source))}: {printable(listed_as)}"
        return row if row["issue"] else row | issue("missing image: named in .json", detail)
    return new_row(root, layout, folder, image, source)


def issue(reason: str, detail: str, **columns: Any) -> dict[str, Any]:
    """Columns that mark a row as unreadable, for `row | issue(...)`."""
    return {"issue": reason, "issue_detail": detail, **columns}


def name_classes(class_ids: list[int], names: list[str]) -> list[str]:
    """Class names of `class_ids`: `class_<id>` for an id past the list's end (labelImg's
    predefined classes take ids 0-14 and leave the user's class unnamed), "" for a negative id."""
    return [names[i] if 0 <= i < len(names) else f"class_{i}" if i >= 0 else "" for i in class_ids]


def class_columns(class_ids: list[int], names: list[str]) -> dict[str, Any]:
    """`class_ids`, their names and the ids the names list does not cover."""
    return {
        "class_ids": class_ids,
        "class_names": name_classes(class_ids, names),
        "unnamed_class_ids": sorted({i for i in class_ids if i >= len(names)}),
    }
