"""Which split each image is in: the official split files, Karpathy's JSON, or a seeded draw.

In that order of preference. Flickr8k's `Flickr_8k.{train,dev,test}Images.txt` (dev is our
`val`) are used wherever they are in the folder, also beside Kaggle's `captions.txt`; an
image listed in two split files gives two listings, which validation reports as overlapping
splits. Karpathy's `dataset_*.json` (`restval` counts as train) comes next. Without either,
the images named by the caption file are split at random by image with the seed, so all
captions of an image share its split and the same file and seed give the same split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.errors import DatasetError
from pipeline.core.splits import assign_splits
from pipeline.tasks.captions.formats.lines import bad_line, read_lines, row
from pipeline.tasks.captions.formats.source import Captions, find_files, inside

SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "val": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
KARPATHY_FILES = {"dataset_flickr8k.json", "dataset_flickr30k.json"}
KARPATHY_SPLITS = {"train": "train", "restval": "train", "val": "val", "test": "test"}
OFFICIAL = "official split files"
KARPATHY = "Karpathy's dataset json"
SEEDED = "seeded by image"


@dataclass(frozen=True)
class Listing:
    """One image given a split, where that was read, and what was odd about its line."""

    image_id: str
    split: str | None  # None: the image is in no split file
    where: str
    notes: tuple[str, ...] = ()


@dataclass
class Plan:
    source: str  # OFFICIAL, KARPATHY or SEEDED
    listings: list[Listing] = field(default_factory=list)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # relative to the raw root


def plan_splits(
    raw_dir: Path,
    captions_path: Path,
    captions: Captions,
    fractions: tuple[float, float],
    seed: int,
) -> Plan:
    """Listings of the images the split sources name, from the best source the folder has."""
    folder = _split_folder(raw_dir, captions_path.parent)
    if folder is not None:
        return _official(raw_dir, folder)
    karpathy = find_files(raw_dir, KARPATHY_FILES)
    if len(karpathy) > 1:
        shown = ", ".join(p.relative_to(raw_dir).as_posix() for p in karpathy)
        raise DatasetError(f"{raw_dir}: several split files ({shown}); keep one")
    if karpathy:
        return _karpathy(raw_dir, inside(raw_dir, karpathy[0]))
    val, test = fractions
    splits = assign_splits(list(captions.captions), val, test, seed)
    listings = [Listing(i, splits[i], captions.where(i)) for i in captions.captions]
    return Plan(SEEDED, listings)


def _split_folder(raw_dir: Path, near: Path) -> Path | None:
    """The folder holding the official split files: beside the caption file, else the one
    folder of the raw folder that holds them (several: an error naming them)."""
    if any((near / name).is_file() for name in SPLIT_FILES.values()):
        return near
    folders = sorted({p.parent for p in find_files(raw_dir, set(SPLIT_FILES.values()))})
    if len(folders) > 1:
        shown = ", ".join(f.relative_to(raw_dir).as_posix() or "." for f in folders)
        raise DatasetError(f"{raw_dir}: official split files in several folders ({shown})")
    return folders[0] if folders else None


def _official(raw_dir: Path, folder: Path) -> Plan:
    plan = Plan(OFFICIAL)
    for split, name in SPLIT_FILES.items():
        path = folder / name
        if not path.is_file():
            continue
        plan.files.append(inside(raw_dir, path).relative_to(raw_dir).as_posix())
        for line in read_lines(path.read_bytes(), name):
            if line.text is None:
                plan.bad_rows.append(bad_line(line, "split line not UTF-8", name))
            elif line.problem is not None:
                plan.bad_rows.append(bad_line(line, "malformed split line", name))
            else:
                where = f"{name} line {line.number}"
                plan.listings.append(Listing(line.text.strip(), split, where, line.notes))
    return plan


def _karpathy(raw_dir: Path, path: Path) -> Plan:
    plan = Plan(KARPATHY, files=[path.relative_to(raw_dir).as_posix()])
    try:
        images = json.loads(path.read_bytes()).get("images")
    except (ValueError, AttributeError):
        images = None
    if not isinstance(images, list):
        raise DatasetError(f"{path}: not Karpathy's split json (no `images` list)")
    for number, image in enumerate(images):
        where = f"{path.name} image {number}"
        entry = image if isinstance(image, dict) else {}
        name, split = entry.get("filename"), entry.get("split")
        split = KARPATHY_SPLITS.get(split) if isinstance(split, str) else None
        if not isinstance(name, str) or not name.strip() or split is None:
            detail = f"{where}: no filename or split one of {', '.join(KARPATHY_SPLITS)}"
            plan.bad_rows.append(row(None, None, None, "malformed split entry", detail, []))
            continue
        plan.listings.append(Listing(name.strip(), split, where))
    return plan
