"""COCO JSON: Roboflow's per-split `_annotations.coco.json` beside the images, and the
standard `annotations/instances_<set>.json` with the images in `<set>/` or `images/`.

The file is untrusted: its structure is checked entry by entry before pycocotools indexes
it, so one bad entry becomes an issue on its image (or on the file), never a crash. A listed
image with no annotation is a negative; an image on disk beside the listed ones but not
listed is unlabelled; a listed image missing on disk is a row with an issue. `bbox` is
`[x, y, w, h]` from the top-left corner in pixels, normalised with the image header's size
(the JSON's `width`/`height` when they disagree are noted in `size_note`). Category names
are kept; an id with no category is named `class_<id>`.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import Any

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.found import Found, Unlisted, split_folder, split_in_name
from pipeline.tasks.plates.formats.greenparking import ABSOLUTE
from pipeline.tasks.plates.formats.jsonfiles import is_coco
from pipeline.tasks.plates.formats.pixels import corners_to_yolo, image_size, size_note
from pipeline.tasks.plates.formats.rows import issue, listed_image_row, new_row
from pipeline.tasks.plates.formats.tree import Tree, relative

LAYOUT = "coco"
SHOWN_PROBLEMS = 3


def _is_id(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bbox_problem(bbox: Any) -> str | None:
    if not isinstance(bbox, list) or len(bbox) != 4:
        return "bbox is not a list of 4 numbers"
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
        return "bbox holds a value that is not a number"
    if not all(math.isfinite(v) for v in bbox):
        return "bbox holds a value that is not finite"
    return None


def _index(
    images: list[dict[str, Any]], annotations: list[dict[str, Any]], categories: list[Any]
) -> Any:
    """pycocotools' index of the checked entries (it prints while indexing: silenced)."""
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = {"images": images, "annotations": annotations, "categories": categories}
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def safe_name(name: str) -> str:
    """A file name from the annotating machine's absolute path keeps only its last part."""
    name = name.replace("\\", "/")
    return name.rsplit("/", 1)[-1] if ABSOLUTE.match(name) else name


class Coco:
    """Rows of every image a COCO JSON under one raw folder lists."""

    def __init__(self, tree: Tree, loaded: dict[Path, Any]) -> None:
        self.root = tree.root
        self.files = {path: data for path, data in loaded.items() if is_coco(data)}
        self._images = set(tree.images)

    def _image_dir(self, source: Path, names: list[str]) -> Path:
        """The folder most listed names are found in: beside the JSON (Roboflow), else
        `<set>/`, `images/<set>/` or `images/` beside `annotations/` (standard COCO)."""
        candidates = [source.parent]
        if source.parent.name.lower() == "annotations" and source.parent != self.root:
            base, name = source.parent.parent, source.stem.split("_", 1)[-1]
            candidates += [base / name, base / "images" / name, base / "images", base]
        hits = [sum(folder / name in self._images for name in names) for folder in candidates]
        return candidates[hits.index(max(hits))]

    def _place(self, source: Path) -> tuple[Path, str | None]:
        if source.parent.name.lower() == "annotations" and source.parent != self.root:
            return source.parent.parent, split_in_name(source.stem)
        return split_folder(self.root, source.parent)

    def read(self) -> Found:
        found = Found()
        for source, data in self.files.items():
            found.labels.add(source)
            found.rows.extend(self._rows(source, data, found))
        return found

    def _rows(self, source: Path, data: dict[str, Any], found: Found) -> list[dict[str, Any]]:
        shown = printable(relative(self.root, source))
        folder, split = self._place(source)
        problems: list[str] = []
        categories = [
            c for c in data.get("categories") or [] if isinstance(c, dict) and _is_int(c.get("id"))
        ]
        names = {c["id"]: str(c.get("name", "")) for c in categories}
        images: dict[Any, dict[str, Any]] = {}
        for k, entry in enumerate(data["images"]):
            ok = isinstance(entry, dict) and _is_id(entry.get("id"))
            if not ok or not isinstance(entry.get("file_name"), str) or not entry["file_name"]:
                problems.append(f"images[{k}] lacks an id or a file_name")
            elif entry["id"] in images:
                problems.append(f"images[{k}] repeats image id {entry['id']!r}")
            else:
                images[entry["id"]] = entry
        annotations: list[dict[str, Any]] = []
        bad: dict[Any, list[str]] = {}
        for k, ann in enumerate(data["annotations"]):
            if not isinstance(ann, dict) or ann.get("image_id") not in images:
                problems.append(f"annotations[{k}] names no listed image")
                continue
            problem = _bbox_problem(ann.get("bbox"))
            if problem is None and not _is_int(ann.get("category_id")):
                problem = "category_id is not an integer"
            if problem:
                bad.setdefault(ann["image_id"], []).append(f"annotations[{k}]: {problem}")
                continue
            annotations.append(ann | {"id": k})
        coco = _index(list(images.values()), annotations, categories)
        names_listed = [safe_name(entry["file_name"]) for entry in images.values()]
        image_dir = self._image_dir(source, names_listed)
        found.unlisted[image_dir] = Unlisted(
            LAYOUT, folder, f"unlabelled: not in {source.name}", split
        )
        rows = []
        for (image_id, entry), name in zip(images.items(), names_listed, strict=True):
            path = image_dir / name
            row = self._row(path, folder, source, entry, coco.imgToAnns[image_id], names)
            if row["issue"] is None and image_id in bad:
                row |= issue("malformed label file", f"{shown} " + "; ".join(bad[image_id]))
            rows.append(row | {"source_split": split})
        if problems:
            row = new_row(self.root, LAYOUT, folder, None, source)
            shown_problems = "; ".join(problems[:SHOWN_PROBLEMS])
            more = (
                f" (+{len(problems) - SHOWN_PROBLEMS} more)"
                if len(problems) > SHOWN_PROBLEMS
                else ""
            )
            rows.append(row | issue("malformed label file", f"{shown}: {shown_problems}{more}"))
        return rows

    def _row(
        self,
        path: Path,
        folder: Path,
        source: Path,
        entry: dict[str, Any],
        anns: list[dict[str, Any]],
        names: dict[Any, str],
    ) -> dict[str, Any]:
        shown = printable(relative(self.root, source))
        row = listed_image_row(
            self.root, LAYOUT, folder, source, path, str(entry["file_name"]), self._images
        )
        if row["issue"]:
            return row
        try:
            width, height = image_size(path)
        except Exception as err:  # Pillow raises many types on bad files
            return row | issue("unreadable image", f"{row['image']}: {printable(str(err))}")
        ids = [ann["category_id"] for ann in anns]
        declared = (entry.get("width"), entry.get("height"))
        note = size_note(declared, (width, height), f"{shown} width/height")
        return row | {
            "class_ids": ids,
            "class_names": [names.get(i, f"class_{i}") for i in ids],
            "unnamed_class_ids": sorted({i for i in ids if i not in names}),
            "boxes": [
                corners_to_yolo(x, y, x + w, y + h, width, height)
                for x, y, w, h in (ann["bbox"] for ann in anns)
            ],
            "size_note": note if None not in declared else None,
        }
