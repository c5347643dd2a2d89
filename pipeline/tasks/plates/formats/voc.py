"""Pascal VOC XML: labelImg's default save format, and the VOC devkit's `Annotations/`.

labelImg saves `<stem>.xml` beside each image; the devkit keeps `Annotations/<stem>.xml`
beside `JPEGImages/`. The image is the one with the XML's stem in that folder, else the one
`<filename>` names (labelImg keeps the name the image had when it was labelled, extension
included, which renames and conversions break). `<bndbox>` corners are pixels, normalised
with the image header's size (`<size>` may be 0 or stale: a disagreement is noted in
`size_note`). `difficult` and `truncated` are kept per box, the class from `<name>`.
The XML is untrusted, so it is parsed with defusedxml.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.found import Found, Unlisted, read_small, split_folder
from pipeline.tasks.plates.formats.pixels import corners_to_yolo, image_size, size_note
from pipeline.tasks.plates.formats.rows import class_columns, issue, new_row
from pipeline.tasks.plates.formats.tree import Tree, relative
from pipeline.tasks.plates.formats.yolo import LabelError

LAYOUT = "voc"
ROOT_TAG = "annotation"
CORNERS = ("xmin", "ymin", "xmax", "ymax")


class VocObject(NamedTuple):
    name: str
    corners: tuple[float, float, float, float]
    difficult: bool
    truncated: bool


class VocFile(NamedTuple):
    filename: str | None
    size: tuple[str, str] | None  # `<size>` as written
    objects: list[VocObject]


def _flag(element: Any, tag: str) -> bool:
    return (element.findtext(tag) or "0").strip().lower() in {"1", "true", "yes"}


def _corners(number: int, element: Any) -> tuple[float, float, float, float]:
    box = element.find("bndbox")
    if box is None:
        raise LabelError(f"object {number}: no <bndbox>")
    values = []
    for tag in CORNERS:
        text = (box.findtext(tag) or "").strip()
        try:
            value = float(text)
        except ValueError:
            raise LabelError(f"object {number}: <{tag}> is {text!r}, not a number") from None
        if not math.isfinite(value):
            raise LabelError(f"object {number}: <{tag}> is not finite")
        values.append(value)
    return values[0], values[1], values[2], values[3]


def parse_voc(data: bytes) -> VocFile | None:
    """The annotation of one XML file; None if its root is not `<annotation>`.

    Raises LabelError when it is not well-formed XML or an object's box is unreadable.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data)
    except (ParseError, DefusedXmlException, ValueError) as err:
        raise LabelError(f"not well-formed XML ({err})") from None
    if root.tag != ROOT_TAG:
        return None
    size = root.find("size")
    declared = None
    if size is not None:
        declared = ((size.findtext("width") or "").strip(), (size.findtext("height") or "").strip())
    objects = [
        VocObject(
            (element.findtext("name") or "").strip(),
            _corners(number, element),
            _flag(element, "difficult"),
            _flag(element, "truncated"),
        )
        for number, element in enumerate(root.findall("object"), start=1)
    ]
    filename = (root.findtext("filename") or "").strip() or None
    return VocFile(filename, declared, objects)


def _declared(size: tuple[str, str]) -> tuple[object, object]:
    return tuple(int(v) if v.isdigit() else v for v in size)  # type: ignore[return-value]


class _Place(NamedTuple):
    images: Path  # where the images are
    folder: Path  # the dataset folder
    split: str | None


class Voc:
    """Rows of every image a VOC XML under one raw folder annotates."""

    def __init__(self, tree: Tree) -> None:
        self.root = tree.root
        self.tree = tree
        self._by_stem: dict[tuple[Path, str], list[Path]] = defaultdict(list)
        for image in tree.images:
            self._by_stem[(image.parent, image.stem)].append(image)
        self._images = set(tree.images)

    def _place(self, xml: Path) -> _Place:
        parent = xml.parent
        if parent.name.lower() == "annotations" and (parent.parent / "JPEGImages").is_dir():
            return _Place(parent.parent / "JPEGImages", parent.parent, None)
        folder, split = split_folder(self.root, parent)
        return _Place(parent, folder, split)

    def read(self) -> Found:
        found = Found()
        parsed: dict[Path, VocFile | LabelError] = {}
        for xml in (p for p in self.tree.others if p.suffix.lower() == ".xml"):
            data = read_small(self.root, xml)
            if data is None:
                continue
            try:
                if (annotation := parse_voc(data)) is not None:
                    parsed[xml] = annotation
            except LabelError as err:
                parsed[xml] = err
        voc_dirs = {xml.parent for xml, voc in parsed.items() if isinstance(voc, VocFile)}
        parsed = {xml: voc for xml, voc in parsed.items() if xml.parent in voc_dirs}
        names: dict[Path, set[str]] = defaultdict(set)
        for xml, voc in parsed.items():
            if isinstance(voc, VocFile):
                names[self._place(xml).folder].update(o.name for o in voc.objects)
        for xml, voc in parsed.items():
            place = self._place(xml)
            found.labels.add(xml)
            found.unlisted[place.images] = Unlisted(
                LAYOUT, place.folder, "unlabelled: no .xml annotation", place.split
            )
            if place.folder != xml.parent:  # the devkit's ImageSets/ lists
                sets = place.folder / "ImageSets"
                found.metadata.update(t for t in self.tree.texts if t.is_relative_to(sets))
            row = self._row(xml, voc, place, sorted(names[place.folder]))
            found.rows.append(row | {"source_split": place.split})
        return found

    def _image(self, xml: Path, filename: str | None, images: Path) -> Path | str:
        """The annotated image, or why none is."""
        named = PurePosixPath(filename.replace("\\", "/")).name if filename else None
        same_stem = self._by_stem.get((images, xml.stem), [])
        if len(same_stem) == 1:
            return same_stem[0]
        exact = [image for image in same_stem if image.name == named]
        if exact:
            return exact[0]
        if same_stem:
            return f"{len(same_stem)} images have the stem {xml.stem!r}"
        if named and (images / named) in self._images:
            return images / named
        return "missing image"

    def _row(
        self, xml: Path, voc: VocFile | LabelError, place: _Place, names: list[str]
    ) -> dict[str, Any]:
        shown = printable(relative(self.root, xml))
        filename = voc.filename if isinstance(voc, VocFile) else None
        image = self._image(xml, filename, place.images)
        if isinstance(image, str):
            shown_name = PurePosixPath(filename).name if filename else f"{xml.stem}.jpg"
            named = place.images / shown_name
            row = new_row(self.root, LAYOUT, place.folder, None, xml, named=named)
            if row["issue"]:
                return row
            if image == "missing image":
                wanted = f"{xml.stem}.* or {filename}" if filename else f"{xml.stem}.*"
                return row | issue("missing image: named in .xml", f"{shown}: no {wanted}")
            return row | issue("ambiguous image: several match the .xml", f"{shown}: {image}")
        row = new_row(self.root, LAYOUT, place.folder, image, xml)
        if row["issue"]:
            return row
        if isinstance(voc, LabelError):
            return row | issue("malformed label file", f"{shown}: {printable(str(voc))}")
        try:
            width, height = image_size(image)
        except Exception as err:  # Pillow raises many types on bad files
            return row | issue("unreadable image", f"{row['image']}: {printable(str(err))}")
        ids = [names.index(o.name) for o in voc.objects]
        note = voc.size and size_note(_declared(voc.size), (width, height), f"{shown} <size>")
        return row | {
            **class_columns(ids, names),
            "boxes": [corners_to_yolo(*o.corners, width, height) for o in voc.objects],
            "difficult": [o.difficult for o in voc.objects],
            "truncated": [o.truncated for o in voc.objects],
            "size_note": note or None,
        }
