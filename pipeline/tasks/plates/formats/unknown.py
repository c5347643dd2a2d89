"""Label-like files no reader claims: the ingest stops and names them, since the images
beside them would otherwise read as unlabelled while their annotations sit unread."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.core.errors import DatasetError
from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.found import read_small
from pipeline.tasks.plates.formats.tree import relative

LABEL_LIKE = {".xml", ".json", ".csv", ".tsv"}
SHOWN = 3
READABLE = (
    "YOLO .txt, Pascal VOC .xml, COCO or CreateML .json, GreenParking location.txt, CCPD file names"
)


def _xml_kind(data: bytes) -> str:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        tag = fromstring(data).tag
    except (ParseError, DefusedXmlException, ValueError):
        return "XML that does not parse"
    if tag == "annotations":
        return "CVAT XML (root <annotations>)"
    return f"XML with root <{printable(str(tag))}>, not VOC's <annotation>"


def _json_kind(data: Any) -> str:
    if isinstance(data, dict):
        if "shapes" in data and "imagePath" in data:
            return "LabelMe JSON"
        if "_via_img_metadata" in data or any(
            isinstance(v, dict) and "regions" in v for v in data.values()
        ):
            return "VGG Image Annotator (VIA) JSON"
        keys = ", ".join(printable(str(key)) for key in list(data)[:4])
        return f"JSON object with keys {keys}" if keys else "an empty JSON object"
    if isinstance(data, list):
        if data and all(isinstance(item, dict) and "data" in item for item in data):
            return "Label Studio JSON"
        return "a JSON list that is not CreateML"
    return "JSON that is neither COCO nor CreateML"


def describe(root: Path, path: Path) -> str:
    """What a label-like file looks like, in a few words."""
    data = read_small(root, path, limit=64 * 1024 * 1024)
    if data is None:
        return "a file outside the root or too large to read"
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return _xml_kind(data)
    if suffix == ".json":
        try:
            return _json_kind(json.loads(data.decode("utf-8-sig")))
        except (UnicodeDecodeError, ValueError):
            return "JSON that does not parse"
    header = data[:200].decode("utf-8", "replace").splitlines()[:1]
    return f"{suffix[1:].upper()} with header {printable(header[0])!r}" if header else "empty"


def refuse_unread(root: Path, unread: list[Path]) -> None:
    """Raise one DatasetError line naming the first folder's unread files and their look."""
    if not unread:
        return
    by_folder: dict[Path, list[Path]] = defaultdict(list)
    for path in sorted(unread):
        by_folder[path.parent].append(path)
    folder, files = next(iter(by_folder.items()))
    names = ", ".join(printable(path.name) for path in files[:SHOWN])
    more = f" (+{len(files) - SHOWN} more)" if len(files) > SHOWN else ""
    kinds = sorted({describe(root, path) for path in files[:SHOWN]})
    others = len(by_folder) - 1
    elsewhere = f"; {others} other folder{'s' if others > 1 else ''} too" if others else ""
    where = printable(relative(root, folder)) or "."
    message = (
        f"plates: {where}/ holds label files no reader reads: {names}{more}, which look like "
        f"{' and '.join(kinds)}{elsewhere}. Readable: {READABLE}; convert them or move them "
        f"out of {root}"
    )
    raise DatasetError(message.replace("\r", " ").replace("\n", " "))
