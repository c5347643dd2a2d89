"""Read the Flickr8k layout into manifest rows, one per image and split listing.

`Flickr8k_text/Flickr8k.token.txt` holds `<id>.jpg#<k><TAB><caption>` lines; the official
`Flickr_8k.{train,dev,test}Images.txt` files decide the split (dev is our `val`). The real
token file names images that are not on disk (e.g. `2258277193_586949ec62.jpg.1`), disk
images may have no captions and ids may be in no split file: each becomes a row with an
`issue`. An image listed in two split files gives two rows, which validation reports as
overlapping splits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.paths import UnsafePathError, resolve_inside
from pipeline.tasks.captions.params import CaptionsIngestParams

TOKEN_FILE = "Flickr8k.token.txt"
SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "val": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
TOKEN_LINE = re.compile(r"^(?P<id>[^#\t]+)#(?P<k>\d+)\s+(?P<caption>.*?)\s*$")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def _find_dirs(raw_dir: Path, params: CaptionsIngestParams) -> tuple[Path, Path]:
    images = next((raw_dir / n for n in params.images_dirs if (raw_dir / n).is_dir()), None)
    if images is None:
        tried = " or ".join(params.images_dirs)
        raise DatasetError(f"{raw_dir}: no image folder ({tried}); is this the Flickr8k layout?")
    text = raw_dir / params.text_dir
    if not (text / TOKEN_FILE).is_file():
        raise DatasetError(f"{text / TOKEN_FILE}: token file missing")
    return images, text


def read_tokens(text: str) -> tuple[dict[str, list[str]], list[tuple[int, str]]]:
    """Captions per image id in file order, and the (line number, line) pairs that do not parse."""
    captions: dict[str, list[str]] = {}
    malformed = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        match = TOKEN_LINE.match(line)
        if match is None:
            malformed.append((number, line))
            continue
        captions.setdefault(match["id"].strip(), []).append(match["caption"])
    return captions, malformed


def _split_listings(text_dir: Path) -> list[tuple[str, str]]:
    """(image id, split) for every line of the split files that exist."""
    listings = []
    for split, name in SPLIT_FILES.items():
        path = text_dir / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            listings += [(line.strip(), split) for line in lines if line.strip()]
    return listings


def _image_path(raw_dir: Path, images_dir: Path, image_id: str) -> tuple[str | None, str | None]:
    """(image path relative to the raw root, issue) for an id read from a text file."""
    try:
        path = resolve_inside(raw_dir, (images_dir / image_id).relative_to(raw_dir))
    except UnsafePathError:
        return None, "path outside dataset root"
    if not path.is_file():
        return None, "image missing on disk"
    return (images_dir / image_id).relative_to(raw_dir).as_posix(), None


def read_raw(raw_dir: Path, params: CaptionsIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of a Flickr8k folder (the split comes from the official files, not the seed)."""
    images_dir, text_dir = _find_dirs(raw_dir, params)
    captions, malformed = read_tokens((text_dir / TOKEN_FILE).read_text(encoding="utf-8"))
    listings = _split_listings(text_dir)
    if not any((text_dir / name).is_file() for name in SPLIT_FILES.values()):
        raise DatasetError(f"{text_dir}: none of the split files {', '.join(SPLIT_FILES.values())}")
    on_disk = {p.name for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    listed = {image_id for image_id, _ in listings}
    unlisted = sorted((set(captions) | on_disk) - listed)
    rows = []
    for image_id, split in [*listings, *((image_id, None) for image_id in unlisted)]:
        image, issue = _image_path(raw_dir, images_dir, image_id)
        image_captions = captions.get(image_id, [])
        if issue is None and split is None:
            issue = "in no split file"
        if issue is None and not image_captions:
            issue = "no captions in the token file"
        rows.append(
            {
                "image_id": image_id,
                "image": image,
                "captions": image_captions,
                "split": split,
                "issue": issue,
                "issue_detail": None if issue is None else image_id,
            }
        )
    rows += [
        {
            "image_id": None,
            "image": None,
            "captions": [],
            "split": None,
            "issue": "malformed token line",
            "issue_detail": f"{TOKEN_FILE} line {number}: {line[:80]!r}",
        }
        for number, line in malformed
    ]
    return pd.DataFrame(rows)
