"""The files of a raw folder, listed once, and their names made safe for a manifest.

On Linux a file name is bytes; one that is not UTF-8 reaches Python with surrogate escapes,
which `as_posix()` keeps but Parquet cannot write, so such names are escaped for display.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.paths import UnsafePathError, resolve_inside
from pipeline.tasks.plates.formats.text import is_sidecar

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass
class Tree:
    """Every file under `root`, sorted, by kind: images, `.txt`, sidecars, others, hidden."""

    root: Path
    images: list[Path] = field(default_factory=list)
    texts: list[Path] = field(default_factory=list)
    #: plate-text sidecars (`<stem>.plate.txt`), read with their label, never as labels
    sidecars: list[Path] = field(default_factory=list)
    #: folder symlinks that point outside the root (never followed)
    outside_links: list[Path] = field(default_factory=list)
    #: any other file (`.xml`, `.json`, `.yaml`, ...): a reader claims it or it is accounted for
    others: list[Path] = field(default_factory=list)
    #: hidden files (`.DS_Store`) of the folders walked; hidden folders are not walked
    hidden: list[Path] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every file listed, whatever its kind."""
        return [*self.images, *self.texts, *self.sidecars, *self.others, *self.hidden]


def scan(root: Path) -> Tree:
    """Walk `root` without following folder symlinks; a file symlink is listed (checked later)."""
    tree = Tree(root)
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in list(dirs):
            if (here / name).is_symlink():
                dirs.remove(name)  # inside the root, its files are listed at their real place
                if not is_inside(root, here / name):
                    tree.outside_links.append(here / name)
        for name in sorted(files):
            suffix = Path(name).suffix.lower()
            if name.startswith("."):
                tree.hidden.append(here / name)
            elif suffix in IMAGE_SUFFIXES:
                tree.images.append(here / name)
            elif is_sidecar(here / name):
                tree.sidecars.append(here / name)
            elif suffix == ".txt":
                tree.texts.append(here / name)
            else:
                tree.others.append(here / name)
    return tree


def relative(root: Path, path: Path) -> str:
    """`path` relative to `root`, POSIX style (may hold surrogate escapes)."""
    return path.relative_to(root).as_posix()


def is_inside(root: Path, path: Path) -> bool:
    """Whether `path` (listed under `root`) resolves inside it, symlinks followed."""
    try:
        resolve_inside(root, relative(root, path))
    except UnsafePathError:
        return False
    return True
