"""Read a raw plates folder into manifest rows, each dataset in it in its own layout.

A raw folder may hold several datasets in subfolders; the layout is detected per image:
an image named by a GreenParking `location.txt`, a COCO or CreateML JSON or a Pascal VOC
XML is read from it (the first of these to name it; the others are noted); then a folder
whose image names are CCPD annotations is CCPD; then one in an `images/` folder beside
`labels/` is Ultralytics/Roboflow YOLO; any other is labelImg YOLO (a same-stem `.txt`
beside it). An empty label marks a negative; an image with no label is unlabelled and a
label with no image an orphan: both stay rows with an `issue`. A label-like file no reader
claims stops the ingest with a `DatasetError` naming it. Every file is accounted for in
`frame.attrs` (see `formats.accounting`). See `pipeline.tasks.plates.formats` for each layout.

The split is drawn per group of photos (`pipeline.tasks.plates.photos`): copies of one
photo (by name, bytes or look) and photos sharing a plate text never straddle train and
test, and plates_text gives every photo the same split; a dataset's own train/valid/test
folders are not kept (they are recorded in `source_split`), so that several datasets mixed
in one raw folder get one seeded split with the configured fractions.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.accounting import ATTRS_KEY, Ledger, is_metadata_name
from pipeline.tasks.plates.formats.ccpd import Ccpd
from pipeline.tasks.plates.formats.coco import Coco
from pipeline.tasks.plates.formats.createml import CreateMl
from pipeline.tasks.plates.formats.found import Found, Unlisted
from pipeline.tasks.plates.formats.greenparking import GreenParking, is_image_list
from pipeline.tasks.plates.formats.jsonfiles import is_class_list, load_json_files
from pipeline.tasks.plates.formats.labelimg import CLASSES_FILE, LabelImg
from pipeline.tasks.plates.formats.rows import COLUMNS, issue, new_row
from pipeline.tasks.plates.formats.text import sidecar_of
from pipeline.tasks.plates.formats.tree import Tree, relative, scan
from pipeline.tasks.plates.formats.ultralytics import Ultralytics
from pipeline.tasks.plates.formats.unknown import LABEL_LIKE, refuse_unread
from pipeline.tasks.plates.formats.voc import Voc
from pipeline.tasks.plates.formats.yolo import (
    LabelError,
    Located,
    label_columns,
    parse_yolo_label,
)
from pipeline.tasks.plates.params import PlatesIngestParams
from pipeline.tasks.plates.photos import split_photos

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
    """Whether an unclaimed `.txt` may be a label: not a class list, a README or an image list.

    Roboflow exports ship `README.dataset.txt` and `README.roboflow.txt`.
    """
    return path.name != CLASSES_FILE and not is_metadata_name(path) and not is_image_list(path)


class _Annotated:
    """Rows of the images annotation files name (GreenParking, COCO, CreateML, VOC), one row
    per image: the first reader to name it reads it, the others are noted on its row."""

    def __init__(self, tree: Tree, params: PlatesIngestParams, ledger: Ledger) -> None:
        self.tree, self.ledger = tree, ledger
        loaded = load_json_files(tree)
        greenparking = GreenParking(tree, params.classes)
        self.greenparking = greenparking
        self.rows = greenparking.rows()
        self.images = {tree.root / row["image"]: row for row in self.rows if row["image"]}
        self.labels: set[Path] = set(greenparking.lists)
        self.metadata = {path for path, data in loaded.items() if is_class_list(data)}
        self.unlisted: dict[Path, Unlisted] = {}
        for found in (Coco(tree, loaded).read(), CreateMl(tree, loaded).read(), Voc(tree).read()):
            self._take(found)

    def _take(self, found: Found) -> None:
        self.labels |= found.labels
        self.metadata |= found.metadata
        for folder, unlisted in found.unlisted.items():
            self.unlisted.setdefault(folder, unlisted)
        for row in found.rows:
            image = self.tree.root / row["image"] if row["image"] else None
            first = self.images.get(image) if image else None
            if first is None:
                self.rows.append(row)
                if image:
                    self.images[image] = row
                continue
            first["duplicate_labels"] = [*first["duplicate_labels"], f"{row['label']} (not read)"]
            self.ledger.note(
                self.tree.root / row["label"],
                f"ignored: another annotation of an image read from {first['layout']}",
            )

    def unread(self) -> list[Path]:
        """Label-like files no reader claimed."""
        claimed = self.labels | self.metadata
        return [
            path
            for path in self.tree.others
            if path.suffix.lower() in LABEL_LIKE
            and path not in claimed
            and not is_metadata_name(path)
        ]


def _unlabelled(tree: Tree, row: dict[str, Any], unlisted: Unlisted) -> dict[str, Any]:
    """An image with no label in a folder another layout annotates is reported as that layout's."""
    return (
        row
        | {
            "layout": unlisted.layout,
            "folder": printable(relative(tree.root, unlisted.folder)),
            "source_split": unlisted.source_split,
            "label": None,
            "classes_file": None,
        }
        | issue(unlisted.issue, row["image"])
    )


def _rows(tree: Tree, params: PlatesIngestParams, ledger: Ledger) -> list[dict[str, Any]]:
    annotated = _Annotated(tree, params, ledger)
    refuse_unread(tree.root, annotated.unread())
    rows = annotated.rows
    yolo = _YoloReader(tree.root, params.classes)
    texts = set(tree.texts)
    for row in rows:  # a YOLO label made beside an annotated image is noted, not an orphan
        if row["image"] and (beside := (tree.root / row["image"]).with_suffix(".txt")) in texts:
            yolo.used_labels[beside] += 1
            ledger.note(beside, f"ignored: second annotation of an image read from {row['layout']}")
            row["duplicate_labels"] = [*row["duplicate_labels"], f"{row['stem']}.txt (not read)"]
    unlisted = dict(annotated.unlisted)
    for folder in annotated.greenparking.folders:
        gap = "unlabelled: not in location.txt"
        unlisted.setdefault(folder, Unlisted("greenparking", folder, gap))
    busy = {p.parent for p in tree.texts if _is_label_candidate(p)} | set(unlisted)
    busy |= {p.parent for p in tree.others if p.suffix.lower() in LABEL_LIKE}
    free = [image for image in tree.images if image not in annotated.images]
    ccpd, ccpd_images = Ccpd(tree.root, free, params.classes).read(busy)
    rows.extend(ccpd.rows)
    for image in free:
        if image in ccpd_images:
            continue
        row = yolo.image_row(image)
        if row["issue"] == "unlabelled: no .txt label" and image.parent in unlisted:
            row = _unlabelled(tree, row, unlisted[image.parent])
        rows.append(row)
    shared = {label for label, count in yolo.used_labels.items() if count > 1}
    for row in rows:
        if row["issue"] is None and row["label"] and tree.root / row["label"] in shared:
            row |= issue("ambiguous label: several images share it", row["label"])
    metadata = annotated.metadata | {text for text in tree.texts if not _is_label_candidate(text)}
    for text in tree.texts:
        if text not in yolo.used_labels and text not in annotated.labels | metadata:
            rows.append(yolo.orphan_row(text))
    for link in tree.outside_links:
        row = new_row(tree.root, "labelimg", link.parent, None, None, named=link)
        rows.append(row | issue("path outside dataset root", printable(relative(tree.root, link))))
    _account(tree, rows, annotated.labels, metadata, ledger)
    return rows


def _account(
    tree: Tree, rows: list[dict[str, Any]], labels: set[Path], metadata: set[Path], ledger: Ledger
) -> None:
    """Note each file's role: rows' images and labels, class lists, sidecars, metadata."""
    sidecars = set(tree.sidecars)
    for row in rows:
        folder = row["folder"]
        for column, role in (("image", "image"), ("label", "label"), ("classes_file", "metadata")):
            if row[column]:
                ledger.note(tree.root / row[column], role, folder)
        if row["label"] and (sidecar := sidecar_of(tree.root / row["label"])) in sidecars:
            ledger.note(sidecar, "label", folder)
    for path in labels:
        ledger.note(path, "label")
    for path in metadata:
        ledger.note(path, "metadata")
    for sidecar in sidecars:
        ledger.note(sidecar, "ignored: plate-text sidecar of no label read")


def read_raw(raw_dir: Path, params: PlatesIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of a raw plates folder: one row per image, its boxes, layout, split and issue."""
    tree = scan(raw_dir)
    ledger = Ledger(tree)
    frame = pd.DataFrame(_rows(tree, params, ledger), columns=COLUMNS)
    frame = frame.sort_values("stem", kind="stable").reset_index(drop=True)
    frame["n_boxes"] = frame["boxes"].map(len)
    frame = split_photos(
        frame, raw_dir, params.val_fraction, params.test_fraction, seed, params.test_sources
    )
    frame.attrs[ATTRS_KEY] = ledger.summary(set(frame["folder"]))
    return frame
