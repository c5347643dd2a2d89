"""Read the Flickr8k layout into manifest rows, one per image and split listing.

`Flickr8k_text/Flickr8k.token.txt` holds `<id>.jpg#<k><TAB><caption>` lines; the official
`Flickr_8k.{train,dev,test}Images.txt` files decide the split (dev is our `val`). An image
listed in two split files gives two rows, which validation reports as overlapping splits.

Copies found in the wild are read as they are: a space instead of the TAB after the id, CRLF
endings, a byte-order mark, the ghost id `2258277193_586949ec62.jpg.1`, images in no split
file. Lines that cannot be read (not UTF-8, a control character such as NUL, no `#k`) and ids
that cannot be images (outside the dataset root, no image suffix, missing on disk) each
become a row with an `issue`; a non-UTF-8 file name on disk too. What ingest tolerated is
listed per row in `notes` (one entry per odd line or fact), which `summarize` counts for the
validation report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.paths import (
    UnsafePathError,
    is_utf8,
    printable,
    relative_to_root,
    resolve_inside,
)
from pipeline.tasks.captions.params import CaptionsIngestParams

TOKEN_FILE = "Flickr8k.token.txt"
SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "val": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
TOKEN_LINE = re.compile(r"^(?P<id>[^#\t]+)#(?P<k>\d+)(?P<sep>\s+)(?P<caption>.*?)\s*$")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # every C0 control but TAB, and DEL
_BOM = b"\xef\xbb\xbf"
_ODD_ENDINGS = {b"\r\n": "CRLF", b"\r": "CR"}

# notes: facts tolerated at ingest, counted in the validation report
SPACE_SEPARATOR = "space instead of TAB after the id"
REPEATED_NUMBER = "caption number repeated for the image"
IN_NO_SPLIT = "in no split file"


@dataclass(frozen=True)
class Line:
    """One line of a text file: its text (None if not UTF-8) and what was odd about it."""

    number: int
    text: str | None
    problem: str | None = None  # why the line cannot be read, for issue_detail
    notes: tuple[str, ...] = ()


@dataclass
class Tokens:
    """What the token file says: captions per id, notes per id, and the unreadable lines."""

    captions: dict[str, list[str]] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)


def read_lines(data: bytes, file: str) -> Iterator[Line]:
    """Non-blank lines of a file's bytes, split on LF, CRLF or CR (never on odd bytes)."""
    notes_first: tuple[str, ...] = ()
    if data.startswith(_BOM):
        data, notes_first = data[len(_BOM) :], (f"byte-order mark ({file})",)
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        body = raw.rstrip(b"\r\n")
        ending = raw[len(body) :]
        notes = notes_first if number == 1 else ()
        if ending in _ODD_ENDINGS:
            notes += (f"{_ODD_ENDINGS[ending]} line ending ({file})",)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            byte = body[error.start]
            yield Line(number, None, f"byte 0x{byte:02x} at position {error.start + 1}", notes)
            continue
        if not text.strip():
            continue
        control = _CONTROL.search(text)
        if control is not None:
            where = f"control character {control.group()!r} at position {control.start() + 1}"
            yield Line(number, text, where, notes)
            continue
        yield Line(number, text, None, notes)


def _bad_line(line: Line, issue: str, file: str) -> dict[str, Any]:
    shown = "" if line.text is None else f": {line.text[:80]!r}"
    return _row(
        None, None, None, issue, f"{file} line {line.number}: {line.problem}{shown}", [*line.notes]
    )


def _row(
    image_id: str | None,
    image: str | None,
    split: str | None,
    issue: str | None,
    detail: str | None,
    notes: list[str],
    captions: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "image_id": image_id,
        "image": image,
        "captions": captions or [],
        "split": split,
        "issue": issue,
        "issue_detail": detail,
        "notes": notes,
    }


def read_tokens(data: bytes) -> Tokens:
    """Captions per image id in file order; unreadable lines as rows with their issue."""
    tokens = Tokens()
    numbers: dict[str, set[str]] = {}
    for line in read_lines(data, TOKEN_FILE):
        if line.text is None:
            tokens.bad_rows.append(_bad_line(line, "token line not UTF-8", TOKEN_FILE))
            continue
        match = None if line.problem else TOKEN_LINE.match(line.text)
        if match is None or not match["id"].strip():
            problem = line.problem or "not <id>#<k> <caption>"
            bad = Line(line.number, line.text, problem, line.notes)
            tokens.bad_rows.append(_bad_line(bad, "malformed token line", TOKEN_FILE))
            continue
        image_id = match["id"].strip()
        notes = tokens.notes.setdefault(image_id, [])
        notes += line.notes
        if match["sep"] != "\t":
            notes.append(SPACE_SEPARATOR)
        if match["k"] in numbers.setdefault(image_id, set()):
            notes.append(REPEATED_NUMBER)
        numbers[image_id].add(match["k"])
        tokens.first_line.setdefault(image_id, line.number)
        tokens.captions.setdefault(image_id, []).append(match["caption"])
    return tokens


@dataclass(frozen=True)
class Listing:
    """One id of a split file, where it was read and what was odd about its line."""

    image_id: str
    split: str | None  # None: the id is in no split file
    where: str
    notes: tuple[str, ...]


def _split_listings(text_dir: Path) -> tuple[list[Listing], list[dict[str, Any]]]:
    """Every readable line of the split files that exist, and rows for the unreadable ones."""
    listings: list[Listing] = []
    bad_rows = []
    for split, name in SPLIT_FILES.items():
        path = text_dir / name
        if not path.is_file():
            continue
        for line in read_lines(path.read_bytes(), name):
            if line.text is None:
                bad_rows.append(_bad_line(line, "split line not UTF-8", name))
            elif line.problem is not None:
                bad_rows.append(_bad_line(line, "malformed split line", name))
            else:
                where = f"{name} line {line.number}"
                listings.append(Listing(line.text.strip(), split, where, line.notes))
    return listings, bad_rows


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
            return None, "image missing on disk"
    except OSError:
        return None, "unusable image path"
    return relative_to_root(raw_dir, path), None


def _find_dirs(raw_dir: Path, params: CaptionsIngestParams) -> tuple[Path, Path]:
    images = next((raw_dir / n for n in params.images_dirs if (raw_dir / n).is_dir()), None)
    if images is None:
        tried = " or ".join(params.images_dirs)
        raise DatasetError(f"{raw_dir}: no image folder ({tried}); is this the Flickr8k layout?")
    text = raw_dir / params.text_dir
    if not (text / TOKEN_FILE).is_file():
        raise DatasetError(f"{text / TOKEN_FILE}: token file missing")
    if not any((text / name).is_file() for name in SPLIT_FILES.values()):
        raise DatasetError(f"{text}: none of the split files {', '.join(SPLIT_FILES.values())}")
    return images, text


def _files_on_disk(images_dir: Path) -> tuple[set[str], list[dict[str, Any]]]:
    """Image file names on disk, and rows for names that are not UTF-8 (no text can name them)."""
    names, bad_rows = set(), []
    for path in images_dir.iterdir():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if not is_utf8(path.name):
            shown = printable(path.name)
            detail = f"{images_dir.name}/{shown}"
            bad_rows.append(_row(shown, None, None, "file name not UTF-8", detail, []))
            continue
        names.add(path.name)
    return names, bad_rows


def read_raw(raw_dir: Path, params: CaptionsIngestParams, seed: int) -> pd.DataFrame:
    """Manifest of a Flickr8k folder (the split comes from the official files, not the seed)."""
    images_dir, text_dir = _find_dirs(raw_dir, params)
    tokens = read_tokens((text_dir / TOKEN_FILE).read_bytes())
    listings, bad_split_rows = _split_listings(text_dir)
    on_disk, bad_name_rows = _files_on_disk(images_dir)
    listed = {listing.image_id for listing in listings}
    unlisted = sorted((set(tokens.captions) | on_disk) - listed)
    for image_id in unlisted:
        where = (
            f"{TOKEN_FILE} line {tokens.first_line[image_id]}"
            if image_id in tokens.first_line
            else f"{images_dir.name}/{image_id}"
        )
        listings.append(Listing(image_id, None, where, (IN_NO_SPLIT,)))

    rows, seen = [], set()
    for listing in listings:
        image_id, split = listing.image_id, listing.split
        image, issue = _image_path(raw_dir, images_dir, image_id)
        captions = tokens.captions.get(image_id, [])
        if issue is None and (image_id, split) in seen:
            issue = "repeated in the split file"
        if issue is None and split is None:
            issue = IN_NO_SPLIT
        if issue is None and not captions:
            issue = "no captions in the token file"
        seen.add((image_id, split))
        notes = [*tokens.notes.pop(image_id, []), *listing.notes]
        detail = None if issue is None else f"{listing.where}: {image_id}"
        rows.append(_row(image_id, image, split, issue, detail, notes, captions))
    rows += tokens.bad_rows + bad_split_rows + bad_name_rows
    return pd.DataFrame(rows, columns=list(_row(None, None, None, None, None, [])))
