"""Every file of a raw folder accounted for: read as an image, a label or metadata, or
ignored and why, counted per dataset folder and extension for the validation report.

The counts travel with the manifest in `DataFrame.attrs` (Parquet keeps them), since most
of these files are not rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pipeline.core.paths import printable
from pipeline.tasks.plates.formats.tree import Tree, relative

ATTRS_KEY = "plates_files"
ROLES = ("image", "label", "metadata", "ignored")
METADATA_SUFFIXES = {".yaml", ".yml", ".names", ".data", ".labels", ".md", ".pbtxt", ".rst"}
METADATA_PREFIXES = ("readme", "license", "licence", "dataset-metadata")


def is_metadata_name(path: Path) -> bool:
    """Dataset configs, class lists and documents, by their name: never labels."""
    name = path.name.lower()
    return path.suffix.lower() in METADATA_SUFFIXES or name.startswith(METADATA_PREFIXES)


def _rank(role: str) -> int:
    return ROLES.index(role.split(":", 1)[0])


class Ledger:
    """The role of each file, and the dataset folder it belongs to when known."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._roles: dict[Path, tuple[str, str | None]] = {}

    def note(self, path: Path, role: str, folder: str | None = None) -> None:
        """Record `role` for `path`; a read role (image, label) wins over metadata and ignored."""
        known = self._roles.get(path)
        if known is None or _rank(role) < _rank(known[0]):
            self._roles[path] = (role, folder)

    def _default(self, path: Path) -> str:
        if path in self.tree.hidden:
            return "ignored: hidden file"
        if is_metadata_name(path):
            return "metadata"
        return "ignored: not a dataset file"

    def _folder(self, path: Path, folders: set[str]) -> str | None:
        """The nearest dataset folder at or above the file's folder."""
        here = path.parent
        while True:
            shown = printable(relative(self.tree.root, here)) if here != self.tree.root else "."
            if shown in folders:
                return shown
            if here == self.tree.root or not here.is_relative_to(self.tree.root):
                return None
            here = here.parent

    def summary(self, folders: set[str]) -> dict[str, Any]:
        """`{"folders": {folder: {ext: {role: n}}}, "elsewhere": {dir: ...}, "total": {...}}`."""
        per_folder: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        elsewhere: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        totals: Counter[str] = Counter()
        for path in self.tree.files():
            role, folder = self._roles.get(path, (self._default(path), None))
            folder = folder or self._folder(path, folders)
            suffix = path.suffix.lower() or "(none)"
            if folder is None:
                where = relative(self.tree.root, path.parent) or "."
                elsewhere[printable(where)][(suffix, role)] += 1
            else:
                per_folder[folder][(suffix, role)] += 1
            totals[role.split(":", 1)[0]] += 1
        return {
            "folders": {key: _nest(counts) for key, counts in sorted(per_folder.items())},
            "elsewhere": {key: _nest(counts) for key, counts in sorted(elsewhere.items())},
            "total": {"files": len(self.tree.files())} | {r: totals[r] for r in ROLES},
        }


def _nest(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = defaultdict(dict)
    for (suffix, role), n in sorted(counts.items()):
        nested[suffix][role] = n
    return dict(nested)
