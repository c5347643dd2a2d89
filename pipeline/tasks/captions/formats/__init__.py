"""The on-disk layouts caption datasets come in, one reader each, chosen by the files present.

- `flickr8k`: `Flickr8k_text/Flickr8k.token.txt` + `Flicker8k_Dataset/` (+ official splits);
- `kaggle`: Kaggle's Flickr8k, `captions.txt` (CSV `image,caption`) + `Images/`;
- `flickr30k`: `results_20130124.token` + `flickr30k_images/` (or `flickr30k-images/`);
- `flickr30k_csv`: Kaggle's Flickr30k, `results.csv` (`|`-separated) + `flickr30k_images/`.

A folder must hold the caption file of exactly one layout (`ingest.captions.layout` picks
one when it holds several). A folder whose caption-like files no reader claims fails with
one line naming them, never reads as an empty dataset. `splits` decides the split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import DatasetError
from pipeline.tasks.captions.formats import flickr8k, flickr30k, kaggle
from pipeline.tasks.captions.formats.source import (
    Captions,
    Source,
    find_files,
    find_images_dir,
    inside,
    walk_files,
)
from pipeline.tasks.captions.formats.splits import KARPATHY_FILES, SPLIT_FILES
from pipeline.tasks.captions.params import CaptionsIngestParams

_CAPTION_WORDS = ("caption", "token", "result", "annotation", "description")
_CAPTION_SUFFIXES = (".txt", ".csv", ".tsv", ".json", ".token")
_NOT_CAPTIONS = {*SPLIT_FILES.values(), *KARPATHY_FILES, "readme.txt"}


@dataclass(frozen=True)
class Layout:
    key: str  # its name in `ingest.captions.layout`
    name: str  # its name in the report
    file: str  # the caption file it reads
    images_dirs: list[str]
    read: Callable[[bytes, str], Captions]
    folder: str = ""  # where the caption file is looked for first


def layouts(params: CaptionsIngestParams) -> list[Layout]:
    return [
        Layout(
            "flickr8k",
            flickr8k.LAYOUT,
            flickr8k.TOKEN_FILE,
            params.images_dirs,
            flickr8k.read_tokens,
            params.text_dir,
        ),
        Layout(
            "kaggle", kaggle.LAYOUT, kaggle.CAPTIONS_FILE, kaggle.IMAGES_DIRS, kaggle.read_captions
        ),
        Layout(
            "flickr30k",
            flickr30k.TOKEN_LAYOUT,
            flickr30k.TOKEN_FILE,
            flickr30k.IMAGES_DIRS,
            flickr30k.read_token_file,
        ),
        Layout(
            "flickr30k_csv",
            flickr30k.CSV_LAYOUT,
            flickr30k.CSV_FILE,
            flickr30k.IMAGES_DIRS,
            flickr30k.read_csv,
        ),
    ]


def detect(raw_dir: Path, params: CaptionsIngestParams) -> Source:
    """The folder read by the one layout whose caption file it holds."""
    candidates = [x for x in layouts(params) if params.layout in ("auto", x.key)]
    found = {x.key: (x, path) for x in candidates if (path := _caption_file(raw_dir, x))}
    if len(found) > 1:
        shown = "; ".join(f"{x.name} ({_shown(raw_dir, p)})" for x, p in found.values())
        raise DatasetError(
            f"{raw_dir}: captions of several layouts: {shown}; "
            f"set ingest.captions.layout to one of {', '.join(found)}"
        )
    if not found:
        raise DatasetError(_nothing_found(raw_dir, candidates))
    layout, path = next(iter(found.values()))
    images = find_images_dir(raw_dir, path, layout.images_dirs)
    if images is None:
        tried = " or ".join(layout.images_dirs)
        raise DatasetError(
            f"{raw_dir}: no image folder ({tried}) beside {_shown(raw_dir, path)}; "
            f"is this the {layout.name} layout?"
        )
    return Source(layout.name, path, images, layout.read(path.read_bytes(), path.name))


def _caption_file(raw_dir: Path, layout: Layout) -> Path | None:
    preferred = raw_dir / layout.folder / layout.file
    found = [preferred] if preferred.is_file() else find_files(raw_dir, {layout.file})
    if len(found) > 1:
        shown = ", ".join(_shown(raw_dir, p) for p in found)
        raise DatasetError(f"{raw_dir}: {layout.file} in several places ({shown}); keep one")
    return inside(raw_dir, found[0]) if found else None


def _nothing_found(raw_dir: Path, candidates: list[Layout]) -> str:
    unclaimed = walk_files(raw_dir, _caption_like)
    known = "; ".join(f"{x.name}: {x.file} + {x.images_dirs[0]}/" for x in candidates)
    if unclaimed:
        shown = ", ".join(_shown(raw_dir, p) for p in unclaimed[:5])
        more = f" and {len(unclaimed) - 5} more" if len(unclaimed) > 5 else ""
        return f"{raw_dir}: no captions reader reads {shown}{more} (layouts read: {known})"
    return f"{raw_dir}: no caption file found (layouts read: {known})"


def _caption_like(name: str) -> bool:
    lower = name.lower()
    return (
        lower.endswith(_CAPTION_SUFFIXES)
        and any(word in lower for word in _CAPTION_WORDS)
        and name not in _NOT_CAPTIONS
    )


def _shown(raw_dir: Path, path: Path) -> str:
    return path.relative_to(raw_dir).as_posix()
