"""What a reader hands on: the captions a file gives per image id, and where the images are."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.errors import DatasetError
from pipeline.core.paths import UnsafePathError, resolve_inside
from pipeline.tasks.captions.formats.lines import Line, bad_line

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
REPEATED_NUMBER = "caption number repeated for the image"
SEARCH_DEPTH = 2  # caption and split files are looked for this many folders down


@dataclass
class Captions:
    """Captions per image id in file order, where each id is first named, notes per id, and
    the rows of lines that cannot be read."""

    file: str  # file name, for messages
    kind: str = "token"  # "token" (`id#k<TAB>caption`) or "caption" (CSV): names issues
    captions: dict[str, list[str]] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    _numbers: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @property
    def described(self) -> str:
        """How issues name this file: the token file, or the caption file's name."""
        return "the token file" if self.kind == "token" else self.file

    def add(self, image_id: str, caption: str, line: Line, number: str | None = None) -> None:
        notes = self.notes.setdefault(image_id, [])
        notes += line.notes
        if number is not None:
            if number in self._numbers.setdefault(image_id, set()):
                notes.append(REPEATED_NUMBER)
            self._numbers[image_id].add(number)
        self.first_line.setdefault(image_id, line.number)
        self.captions.setdefault(image_id, []).append(caption)

    def not_utf8(self, line: Line) -> None:
        self.bad_rows.append(bad_line(line, f"{self.kind} line not UTF-8", self.file))

    def malformed(self, line: Line, problem: str | None = None) -> None:
        line = Line(line.number, line.text, problem or line.problem, line.notes)
        self.bad_rows.append(bad_line(line, f"malformed {self.kind} line", self.file))

    def where(self, image_id: str) -> str:
        return f"{self.file} line {self.first_line[image_id]}"


@dataclass(frozen=True)
class Source:
    """A folder read as one layout: its caption file, read, and its image folder."""

    layout: str
    captions_path: Path
    images_dir: Path
    captions: Captions


def walk_files(root: Path, keep: Callable[[str], bool], depth: int = SEARCH_DEPTH) -> list[Path]:
    """Files whose name `keep` accepts, in `root` or up to `depth` folders below it, sorted;
    hidden folders and folder symlinks are not entered."""
    found = []
    base = len(root.parts)
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        level = len(here.parts) - base
        dirs[:] = [] if level >= depth else sorted(d for d in dirs if not d.startswith("."))
        found += [here / name for name in files if keep(name)]
    return sorted(found)


def find_files(root: Path, names: set[str], depth: int = SEARCH_DEPTH) -> list[Path]:
    """Files named one of `names` (see `walk_files`)."""
    return walk_files(root, names.__contains__, depth)


def inside(raw_dir: Path, path: Path) -> Path:
    """`path` (found under `raw_dir`) if it resolves inside it; a one-line error otherwise."""
    try:
        resolve_inside(raw_dir, path.relative_to(raw_dir))
    except UnsafePathError as error:
        raise DatasetError(f"{path}: {error}; not read") from None
    return path


def has_images(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


def find_images_dir(raw_dir: Path, near: Path, names: list[str]) -> Path | None:
    """The image folder of a caption file `near`: a folder named one of `names` beside it or
    beside one of its parents up to `raw_dir`, entered again when the download nests it in a
    folder of the same kind (`flickr30k_images/flickr30k_images/`)."""
    folder = near.parent
    while True:
        for name in names:
            candidate = folder / name
            if candidate.is_dir():  # each image is still resolved inside the root
                return _nested(candidate, names)
        if folder == raw_dir or raw_dir not in folder.parents:
            return None
        folder = folder.parent


def _nested(folder: Path, names: list[str]) -> Path:
    while not has_images(folder):
        inner = next((folder / n for n in names if (folder / n).is_dir()), None)
        if inner is None:
            return folder
        folder = inner
    return folder
