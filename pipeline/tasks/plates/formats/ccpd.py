"""CCPD: the annotation is the file name, no label file.

`<area>-<tilt>-<x1>&<y1>_<x2>&<y2>-<four vertices>-<plate indices>-<brightness>-<blur>.jpg`,
e.g. `025-95_113-154&383_386&473-386&473_177&454_154&383_363&402-0_0_22_27_27_33_16-37-15.jpg`:
the box is the third field (top-left and bottom-right corners in pixels), the plate text
the fifth, decoded with the tables the CCPD authors publish (the first index a province,
the second a letter, the rest letters or digits). A folder is CCPD when most of its images
parse so and it holds no label file; there, an image whose name does not parse is a row
with an issue naming the field.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.found import Found
from pipeline.tasks.plates.formats.pixels import corners_to_yolo, image_size
from pipeline.tasks.plates.formats.rows import class_columns, issue, new_row

LAYOUT = "ccpd"
PROVINCES = list("皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学O")
ALPHABETS = list("ABCDEFGHJKLMNPQRSTUVWXYZO")
ADS = list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789O")
FIELDS = ("area", "tilt", "bbox", "vertices", "plate indices", "brightness", "blur")


class CcpdError(ValueError):
    """A CCPD file name that does not parse; the message names the field."""


class CcpdName(NamedTuple):
    corners: tuple[int, int, int, int]  # x1, y1, x2, y2
    text: str


def _ints(field: str, text: str, separator: str, count: int | None) -> list[int]:
    parts = text.split(separator)
    if (count is not None and len(parts) != count) or not all(p.isdigit() for p in parts):
        want = f"{count} integers" if count else "integers"
        raise CcpdError(f"field {field!r} is {text!r}, not {want} joined by {separator!r}")
    return [int(p) for p in parts]


def _point(field: str, text: str) -> list[int]:
    return _ints(field, text, "&", 2)


def decode_plate(indices: list[int]) -> str:
    """CCPD's plate indices as text: province, letter, then letters or digits."""
    tables = [PROVINCES, ALPHABETS] + [ADS] * (len(indices) - 2)
    for position, (index, table) in enumerate(zip(indices, tables, strict=True)):
        if index >= len(table):
            raise CcpdError(f"field 'plate indices': index {index} at {position} is past the table")
    return "".join(table[index] for index, table in zip(indices, tables, strict=True))


def parse_ccpd_name(stem: str) -> CcpdName:
    fields = stem.split("-")
    if len(fields) != len(FIELDS):
        raise CcpdError(f"{len(fields)} fields separated by '-', CCPD names have {len(FIELDS)}")
    values = dict(zip(FIELDS, fields, strict=True))
    for field in ("area", "brightness", "blur"):
        _ints(field, values[field], "_", 1)
    _ints("tilt", values["tilt"], "_", 2)
    corners = [v for point in values["bbox"].split("_") for v in _point("bbox", point)]
    if len(corners) != 4:
        raise CcpdError(f"field 'bbox' is {values['bbox']!r}, not x1&y1_x2&y2")
    vertices = values["vertices"].split("_")
    if len(vertices) != 4:
        raise CcpdError(f"field 'vertices' is {values['vertices']!r}, not 4 points x&y")
    for vertex in vertices:
        _point("vertices", vertex)
    indices = _ints("plate indices", values["plate indices"], "_", None)
    if len(indices) not in (7, 8):
        raise CcpdError(f"field 'plate indices' has {len(indices)} indices, not 7 or 8")
    x1, y1, x2, y2 = corners
    return CcpdName((x1, y1, x2, y2), decode_plate(indices))


def is_ccpd(stem: str) -> bool:
    try:
        parse_ccpd_name(stem)
    except CcpdError:
        return False
    return True


class Ccpd:
    """Rows of the images of every CCPD folder among `images` (those no label file claims)."""

    def __init__(self, root: Path, images: list[Path], names: list[str]) -> None:
        self.root = root
        self.names = names
        self._by_folder: dict[Path, list[Path]] = defaultdict(list)
        for image in images:
            self._by_folder[image.parent].append(image)

    def read(self, label_folders: set[Path]) -> tuple[Found, set[Path]]:
        """Rows of the CCPD folders not in `label_folders`, and the images they claim."""
        found, claimed = Found(), set()
        for folder, images in self._by_folder.items():
            if folder in label_folders or 2 * sum(is_ccpd(i.stem) for i in images) <= len(images):
                continue
            for image in images:
                found.rows.append(self._row(folder, image))
                claimed.add(image)
        return found, claimed

    def _row(self, folder: Path, image: Path) -> dict[str, Any]:
        row = new_row(self.root, LAYOUT, folder, image, None)
        if row["issue"]:
            return row
        try:
            parsed = parse_ccpd_name(image.stem)
        except CcpdError as err:
            return row | issue("malformed CCPD file name", f"{row['image']}: {err}")
        try:
            width, height = image_size(image)
        except Exception as err:  # Pillow raises many types on bad files
            return row | issue("unreadable image", f"{row['image']}: {printable(str(err))}")
        return row | {
            **class_columns([0], self.names),
            "boxes": [corners_to_yolo(*parsed.corners, width, height)],
            "plate_text": parsed.text,
            "plate_texts": [parsed.text],
        }
