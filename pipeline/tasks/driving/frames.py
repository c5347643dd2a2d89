"""Find the file of each image path a log records, without trusting the path.

A log's paths name the recording machine's folders (`D:\\proj3\\data\\IMG\\center_….jpg`,
`/Users/me/Desktop/data/IMG/…`) or are relative (`IMG/…`, `IMG_Ori\\…`, leading spaces
stripped), and recordings are published with the frames under `IMG/`, under a folder of
another name, or beside `driving_log.csv`. So only the file name is looked up, in order:
under the log's `IMG/` folder; else under the folder the path's parent names, taken from
the log's folder (a relative parent as written, an absolute one by its last name only);
else beside the log. Each folder is listed once; a folder or a symbolic link leading out
of the dataset root is never followed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pipeline.core.paths import UnsafePathError, resolve_inside
from pipeline.tasks.driving.issues import Problems

IMAGES = "IMG"  # the simulator's frame folder, beside its log
_ABSOLUTE = r"^(?:[A-Za-z]:|[\\/])"  # a drive letter, a root or a UNC path


class Folder:
    """The file names of one folder inside the dataset root, listed once (one `os.scandir`)."""

    def __init__(self, raw_dir: Path, folder: Path) -> None:
        self.names: set[str] = set()
        self.outside: set[str] = set()  # symbolic links leading out of the dataset
        self.prefix = ""
        self.problem: str | None = None
        try:
            resolved = resolve_inside(raw_dir, folder.relative_to(raw_dir))
        except UnsafePathError:
            self.problem = "outside the dataset root"
            return
        relative = resolved.relative_to(raw_dir.resolve()).as_posix()
        self.prefix = "" if relative == "." else relative + "/"
        if not resolved.is_dir():
            self.problem = "no such folder"
            return
        with os.scandir(resolved) as entries:
            for entry in entries:
                if entry.is_symlink():
                    try:
                        resolve_inside(raw_dir, Path(entry.path).relative_to(raw_dir.resolve()))
                    except UnsafePathError:
                        self.outside.add(entry.name)
                        continue
                if entry.is_file():
                    self.names.add(entry.name)


def _parent(recorded: pd.Series) -> pd.Series:
    """The folder a recorded path names, relative to the log's folder ("" for none)."""
    posix = recorded.str.replace("\\", "/", regex=False)
    parent = posix.str.replace(r"/[^/]*$", "", regex=True).where(posix.str.contains("/"), "")
    absolute = recorded.str.contains(_ABSOLUTE, regex=True, na=False)
    return parent.mask(absolute, parent.str.replace(r"^.*/", "", regex=True)).str.strip("/")


class FrameFinder:
    """Resolves the recorded paths of one log to paths relative to the dataset root."""

    def __init__(self, raw_dir: Path, log_dir: Path) -> None:
        self.raw_dir = raw_dir
        self.log_dir = log_dir
        self.images = Folder(raw_dir, log_dir / IMAGES)
        self._folders: dict[str, Folder | None] = {IMAGES: None}
        self._beside: Folder | None = None

    def _named(self, parent: str) -> Folder | None:
        """The folder `parent` names from the log's folder, if it is another existing folder."""
        if parent not in self._folders:
            folder = self.log_dir / parent
            found = Folder(self.raw_dir, folder) if parent and folder.is_dir() else None
            self._folders[parent] = found if found is not None and not found.problem else None
        return self._folders[parent]

    def _look_in(self, folder: Folder, name: pd.Series, todo: pd.Series) -> pd.Series:
        """Paths of the `todo` rows whose `name` is a file of `folder` (NA elsewhere)."""
        return (folder.prefix + name).where(todo & name.isin(folder.names))

    def resolve(self, recorded: pd.Series, problems: Problems, camera: str) -> pd.Series:
        """Paths relative to the raw root of the recorded paths' files (NA if not found).

        Rows whose `recorded` is NA are not checked (their line could not be read).
        """
        checked = recorded.notna()
        name = recorded.str.replace(r"^.*[\\/]", "", regex=True)  # Windows or POSIX path
        missing = f"{camera} image missing"
        empty = checked & name.eq("")
        problems.add(empty, missing, "empty image path")
        todo = checked & ~empty
        found = self._look_in(self.images, name, todo)
        elsewhere = todo & found.isna()
        parent = _parent(recorded[elsewhere])  # usually no row: IMG/ holds every frame
        for text in parent.unique():
            folder = self._named(str(text))
            if folder is not None:
                rows = parent.index[parent.eq(text)]
                found = found.fillna(self._look_in(folder, name[rows], todo[rows]))
        if (todo & found.isna()).any():
            if self._beside is None:
                self._beside = Folder(self.raw_dir, self.log_dir)
            found = found.fillna(self._look_in(self._beside, name, todo))
        absent = todo & found.isna()
        listed = [self.images, self._beside, *self._folders.values()]
        outside = name.isin(set().union(*(f.outside for f in listed if f is not None)))
        problems.add(absent & outside, missing, name + " leads outside the dataset root")
        problems.add(absent & ~outside, missing, "IMG/" + name + " not found, nor beside the log")
        return found
