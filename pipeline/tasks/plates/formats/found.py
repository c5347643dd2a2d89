"""What a layout reader took from a raw folder: rows, and the files it read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.tasks.plates.formats.tree import is_inside

SPLIT_NAMES = {"train": "train", "valid": "val", "val": "val", "test": "test"}


class Unlisted(NamedTuple):
    """How an image in a folder a reader annotates, but that no annotation names, is reported."""

    layout: str
    folder: Path  # the dataset folder
    issue: str  # "unlabelled: ..."
    source_split: str | None = None


@dataclass
class Found:
    rows: list[dict[str, Any]] = field(default_factory=list)
    labels: set[Path] = field(default_factory=set)  # annotation files read
    metadata: set[Path] = field(default_factory=set)  # class lists, image lists, ...
    unlisted: dict[Path, Unlisted] = field(default_factory=dict)  # image folder -> how


def split_folder(root: Path, folder: Path) -> tuple[Path, str | None]:
    """A Roboflow split folder (`train/`, `valid/`, `test/`) is reported as its parent
    dataset folder and the split; any other folder as itself."""
    split = SPLIT_NAMES.get(folder.name.lower())
    if split and folder != root:
        return folder.parent, split
    return folder, None


def split_in_name(name: str) -> str | None:
    """`instances_train2017` -> train; `val`, `valid` -> val; `test` -> test."""
    lowered = name.lower()
    for word in ("train", "valid", "val", "test"):
        if word in lowered:
            return SPLIT_NAMES[word]
    return None


def read_small(root: Path, path: Path, limit: int = 512 * 1024 * 1024) -> bytes | None:
    """The bytes of an annotation file inside `root`; None when it is outside or too large."""
    if not is_inside(root, path) or path.stat().st_size > limit:
        return None
    return path.read_bytes()
