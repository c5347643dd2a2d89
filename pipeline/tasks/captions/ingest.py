"""Read a captions folder into manifest rows, one per image and split listing.

The folder's layout is detected by the caption file it holds (`formats`): Flickr8k's token
file, Kaggle's `captions.txt`, Flickr30k's token file or Kaggle's `results.csv`. The split
comes from the official split files, Karpathy's JSON, or a seeded draw by image
(`formats.splits`). Lines that cannot be read (not UTF-8, a control character, a missing
field) and ids that cannot be images (outside the dataset root, no image suffix, missing on
disk) each become a row with an `issue`; a non-UTF-8 file name on disk too. What ingest
tolerated is listed per row in `notes`, which `summarize` counts for the validation report.

With `missing_images: skip` an image the captions or split files name but the folder lacks
is not a row: a partial copy of a dataset then validates on the images it has, and the
number left out is recorded with the dataset-level facts (layout, split source) in the
manifest's `attrs`, which Parquet keeps and the report's `dataset` section shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.paths import (
    UnsafePathError,
    is_utf8,
    printable,
    relative_to_root,
    resolve_inside,
)
from pipeline.tasks.captions.formats import detect
from pipeline.tasks.captions.formats.flickr8k import read_tokens
from pipeline.tasks.captions.formats.lines import COLUMNS, row
from pipeline.tasks.captions.formats.source import IMAGE_SUFFIXES, Source
from pipeline.tasks.captions.formats.splits import SEEDED, Listing, plan_splits
from pipeline.tasks.captions.params import CaptionsIngestParams

__all__ = ["FACTS", "read_raw", "read_tokens"]

#: key of the manifest's `attrs` holding facts about the whole folder
FACTS = "captions_dataset"
IN_NO_SPLIT = "in no split file"
MISSING = "image missing on disk"


def _image_path(raw_dir: Path, images_dir: Path, image_id: str) -> tuple[str | None, str | None]:
    """(image path relative to the raw root, issue) for an id read from a text file."""
    try:
        path = resolve_inside(raw_dir, images_dir.relative_to(raw_dir) / image_id)
    except UnsafePathError:
        return None, "path outside dataset root"
    except (OSError, ValueError, RuntimeError):  # too long, a symlink loop: not a usable path
        return None, "unusable image path"
    if Path(image_id).suffix.lower() not in IMAGE_SUFFIXES:
        return None, "not an image file name"
    try:
        if not path.is_file():
            return None, MISSING
    except OSError:
        return None, "unusable image path"
    return relative_to_root(raw_dir, path), None


def _files_on_disk(images_dir: Path) -> tuple[set[str], list[dict[str, Any]]]:
    """Image file names on disk, and rows for names that are not UTF-8 (no text can name them)."""
    names, bad_rows = set(), []
    for path in images_dir.iterdir():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if not is_utf8(path.name):
            shown = printable(path.name)
            detail = f"{images_dir.name}/{shown}"
            bad_rows.append(row(shown, None, None, "file name not UTF-8", detail, []))
            continue
        names.add(path.name)
    return names, bad_rows


def _unlisted(source: Source, listings: list[Listing], on_disk: set[str]) -> list[Listing]:
    """Images the caption file or the folder has that no split source names."""
    captions = source.captions
    listed = {listing.image_id for listing in listings}
    found = []
    for image_id in sorted((set(captions.captions) | on_disk) - listed):
        if image_id in captions.first_line:
            found.append(Listing(image_id, None, captions.where(image_id), (IN_NO_SPLIT,)))
        else:
            found.append(Listing(image_id, None, f"{source.images_dir.name}/{image_id}"))
    return found


def read_raw(raw_dir: Path, params: CaptionsIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of a captions folder in any layout `formats` reads."""
    source = detect(raw_dir, params)
    captions = source.captions
    fractions = (params.val_fraction, params.test_fraction)
    plan = plan_splits(raw_dir, source.captions_path, captions, fractions, seed)
    on_disk, bad_name_rows = _files_on_disk(source.images_dir)
    listings = plan.listings + _unlisted(source, plan.listings, on_disk)

    rows, seen, missing = [], set(), set()
    for listing in listings:
        image_id, split = listing.image_id, listing.split
        image, issue = _image_path(raw_dir, source.images_dir, image_id)
        if issue == MISSING:
            missing.add(image_id)
            if params.missing_images == "skip":
                continue
        texts = captions.captions.get(image_id, [])
        if issue is None and (image_id, split) in seen:
            issue = "repeated in the split file"
        if issue is None and split is None and texts:
            issue = IN_NO_SPLIT
        if issue is None and not texts:
            issue = f"no captions in {captions.described}"
        seen.add((image_id, split))
        notes = [*captions.notes.pop(image_id, []), *listing.notes]
        detail = None if issue is None else f"{listing.where}: {image_id}"
        rows.append(row(image_id, image, split, issue, detail, notes, texts))
    rows += captions.bad_rows + plan.bad_rows + bad_name_rows
    manifest = pd.DataFrame(rows, columns=list(COLUMNS))
    manifest.attrs[FACTS] = {
        "layout": source.layout,
        "captions_file": source.captions_path.relative_to(raw_dir).as_posix(),
        "images_dir": source.images_dir.relative_to(raw_dir).as_posix(),
        "split_source": plan.source,
        "split_files": plan.files,
        "missing_images": params.missing_images,
        "missing_on_disk": len(missing),
    }
    if plan.source == SEEDED:
        manifest.attrs[FACTS]["split_fractions"] = {"val": fractions[0], "test": fractions[1]}
    return manifest
