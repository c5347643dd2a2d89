"""GreenParking's `location.txt`: `<file> <n_boxes> (<x> <y> <w> <h>)*n [<plate text>]`.

x, y are the top-left corner in pixels; boxes become normalised `[cx, cy, w, h]` using the
image size read from its header. The public set ships two lists for the same images (one
without plate text on its first lines): each image becomes one row, taken from the entry
with plate text, then from the list beside the image; identical others are recorded in
`duplicate_labels`, differing ones make the row a "conflicting annotations" issue.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.core.paths import is_utf8, printable
from pipeline.tasks.plates.formats.pixels import image_size
from pipeline.tasks.plates.formats.rows import issue, name_classes, new_row
from pipeline.tasks.plates.formats.text import split_text
from pipeline.tasks.plates.formats.tree import IMAGE_SUFFIXES, Tree, is_inside, relative

LAYOUT = "greenparking"
ABSOLUTE = re.compile(r"^(/|[A-Za-z]:)")  # a path from the annotating machine


@dataclass(frozen=True)
class Entry:
    """One line of a list: pixel boxes `(x, y, w, h)` and plate text, or why it is malformed."""

    source: Path
    line: int
    name: str  # as written, with "/" separators
    boxes: tuple[tuple[float, ...], ...] = ()
    text: str | None = None
    error: str | None = None


def _first_fields(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", "surrogateescape").lstrip("\ufeff")
    except OSError:
        return []
    return next((line.split() for line in head.splitlines() if line.split()), [])


def _names_image(field: str) -> bool:
    return PurePosixPath(field.replace("\\", "/")).suffix.lower() in IMAGE_SUFFIXES


def is_location_list(path: Path) -> bool:
    """A `.txt` whose first line is an image file name then a box count (a YOLO label's
    first field is a class id)."""
    fields = _first_fields(path)
    return len(fields) >= 2 and _names_image(fields[0])


def is_image_list(path: Path) -> bool:
    """A `.txt` listing one image path a line (Darknet's `train.txt`, CCPD's splits): metadata."""
    fields = _first_fields(path)
    return len(fields) == 1 and _names_image(fields[0])


def parse_line(source: Path, number: int, line: str) -> Entry:
    name, *fields = line.split()
    name = name.replace("\\", "/")
    try:
        count = int(fields[0])
        values = [float(field) for field in fields[1 : 1 + 4 * count]]
    except (IndexError, ValueError):
        error = f"line {number}: expected <file> <n> then n boxes of x y w h"
        return Entry(source, number, name, error=error)
    if count < 0 or len(values) != 4 * count:
        error = f"line {number}: {count} boxes need {4 * count} numbers, got {len(values)}"
        return Entry(source, number, name, error=error)
    text = " ".join(fields[1 + 4 * count :]) or None
    if text is not None and not is_utf8(text):
        return Entry(source, number, name, error=f"line {number}: plate text is not valid UTF-8")
    boxes = tuple(tuple(values[i : i + 4]) for i in range(0, len(values), 4))
    return Entry(source, number, name, boxes, text)


def read_list(path: Path) -> list[Entry]:
    """Every non-blank line; undecodable bytes stay surrogate-escaped, as file names are."""
    text = path.read_bytes().decode("utf-8", "surrogateescape").lstrip("\ufeff")
    lines = enumerate(text.splitlines(), start=1)
    return [parse_line(path, number, line) for number, line in lines if line.strip()]


def _differs(first: Entry, second: Entry) -> bool:
    texts = {entry.text for entry in (first, second) if entry.text is not None}
    return first.boxes != second.boxes or len(texts) > 1


def _to_yolo(boxes: tuple[tuple[float, ...], ...], width: int, height: int) -> list[list[float]]:
    return [
        [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height] for x, y, w, h in boxes
    ]


class GreenParking:
    """Rows of every image named by a `location.txt` list under one raw folder."""

    def __init__(self, tree: Tree, names: list[str]) -> None:
        self.root = tree.root
        self.names = names
        self.lists = [path for path in tree.texts if is_location_list(path)]
        self.claimed: set[Path] = set()  # images named by a list
        self.folders: set[Path] = set()  # folders holding such images
        self._images = set(tree.images)
        self._by_name: dict[str, list[Path]] = defaultdict(list)
        for image in tree.images:
            self._by_name[image.name].append(image)

    def rows(self) -> list[dict[str, Any]]:
        entries: dict[Path, list[Entry]] = defaultdict(list)
        rows: list[dict[str, Any]] = []
        for source in self.lists:
            if not is_inside(self.root, source):
                rows.append(new_row(self.root, LAYOUT, source.parent, None, source))
                continue
            for entry in read_list(source):
                entries[self._find(entry)].append(entry)
        for path, named in entries.items():
            if path in self._images:
                self.claimed.add(path)
                self.folders.add(path.parent)
                rows.append(self._image_row(path, named))
            else:
                rows.append(self._missing_row(path, named))
        return rows

    def _where(self, entry: Entry) -> str:
        return f"{printable(relative(self.root, entry.source))} line {entry.line}"

    def _find(self, entry: Entry) -> Path:
        """The named image: beside the list, else the one image of that name below it."""
        name = PurePosixPath(entry.name).name if ABSOLUTE.match(entry.name) else entry.name
        named = entry.source.parent / name
        if named in self._images or "/" in name:
            return named
        below = [p for p in self._by_name[name] if p.is_relative_to(entry.source.parent)]
        return below[0] if len(below) == 1 else named

    def _missing_row(self, path: Path, named: list[Entry]) -> dict[str, Any]:
        row = new_row(self.root, LAYOUT, path.parent, None, named[0].source, named=path)
        detail = "; ".join(f"{self._where(e)}: {printable(e.name)}" for e in named)
        if row["issue"]:
            return row
        if not is_inside(self.root, path):
            return row | issue("path outside dataset root", detail)
        return row | issue("missing image: named in location.txt", detail)

    def _image_row(self, path: Path, named: list[Entry]) -> dict[str, Any]:
        ordered = sorted(
            named,
            key=lambda e: (e.text is None, e.source.parent != path.parent, str(e.source), e.line),
        )
        chosen, others = ordered[0], ordered[1:]
        row = new_row(self.root, LAYOUT, path.parent, path, chosen.source)
        row["duplicate_labels"] = [self._where(e) for e in others]
        broken = [f"{printable(relative(self.root, e.source))} {e.error}" for e in named if e.error]
        if row["issue"]:
            return row
        if broken:
            return row | issue("malformed label file", "; ".join(broken))
        if any(_differs(chosen, other) for other in others):
            return row | issue("conflicting annotations", " vs ".join(map(self._where, ordered)))
        try:
            width, height = image_size(path)
        except Exception as err:  # Pillow raises many types on bad files
            return row | issue("unreadable image", f"{row['image']}: {printable(str(err))}")
        ids = [0] * len(chosen.boxes)
        texts, problem = split_text(chosen.text, len(chosen.boxes))
        return row | {
            "boxes": _to_yolo(chosen.boxes, width, height),
            "class_ids": ids,
            "class_names": name_classes(ids, self.names),
            "plate_text": chosen.text,
            "plate_texts": texts,
            "plate_text_issue": problem and f"{self._where(chosen)}: {problem}",
        }
