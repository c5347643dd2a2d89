"""JSON annotation files, each loaded once and told apart by their structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.tasks.plates.formats.found import read_small
from pipeline.tasks.plates.formats.tree import Tree


def is_coco(data: Any) -> bool:
    """COCO: an object with `images` and `annotations` lists."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("images"), list)
        and isinstance(data.get("annotations"), list)
    )


def is_createml(data: Any) -> bool:
    """CreateML: a non-empty list of `{"image": ..., "annotations": [...]}`."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(
            isinstance(item, dict) and "image" in item and "annotations" in item for item in data
        )
    )


def is_class_list(data: Any) -> bool:
    """Metadata such as Label Studio's `notes.json`: categories, no images."""
    return isinstance(data, dict) and "categories" in data and "images" not in data


def load_json_files(tree: Tree) -> dict[Path, Any]:
    """Every `.json` under the root that parses (others are left for the unknown-file check)."""
    loaded: dict[Path, Any] = {}
    for path in (p for p in tree.others if p.suffix.lower() == ".json"):
        data = read_small(tree.root, path)
        if data is None:
            continue
        try:
            loaded[path] = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            continue
    return loaded
