"""The manifest: one row per dataset item, canonical columns, paths relative to the raw root.

Every task's manifest has `split` and `issue` (why ingest could not read the row properly,
or null) with `issue_detail`; rows are never dropped at ingest, so validation can account
for each of them.

A manifest knows which dataset it came from (`Provenance`, in the Parquet file's schema
metadata, so `pd.read_parquet` reads it as any other): the task, the raw folder as the
params name it, a fingerprint of that folder's listing and of the ingest params. Those are
the same on every machine, so the file stays a function of the data, which DVC caches and
restores. What only this workspace can know (the folder resolved, the files' mtimes) is kept
beside it in a local record (`LocalRecord`), which DVC neither tracks nor restores.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.io import atomic_file, write_json
from pipeline.core.splits import SPLITS

PROVENANCE_KEY = b"pipeline.provenance"


@dataclass(frozen=True)
class Listing:
    """A folder's files by relative path and size (and mtime), hashed: fast on 10k files."""

    files: int
    digest: str  # paths + sizes: the same after a copy, a checkout or a `dvc pull`
    digest_mtimes: str  # paths + sizes + mtimes: also sees an edit that keeps the size


def list_folder(root: Path) -> Listing:
    """Every file under `root`; a symlinked folder is listed, never followed (it may escape
    the root or loop); a symlinked file counts with its target's size and mtime (DVC's
    `cache.type: symlink` makes every file one)."""
    entries: list[tuple[str, int, int]] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as found:
            for entry in found:
                relative = Path(entry.path).relative_to(root).as_posix()
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                    continue
                try:
                    stat = entry.stat(follow_symlinks=True)
                    size, mtime = stat.st_size, stat.st_mtime_ns
                except OSError:  # a dangling link: counted by name
                    size, mtime = -1, 0
                if entry.is_dir():  # a symlinked folder: its size means nothing
                    size = -1
                entries.append((relative, size, mtime))
    entries.sort()
    plain, timed = hashlib.sha256(), hashlib.sha256()
    for relative, size, mtime in entries:
        name = relative.encode("utf-8", "surrogateescape")
        plain.update(b"%s\0%d\n" % (name, size))
        timed.update(b"%s\0%d\0%d\n" % (name, size, mtime))
    return Listing(len(entries), plain.hexdigest(), timed.hexdigest())


def params_digest(params: Any) -> str:
    """A fingerprint of JSON-able params (key order does not matter)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Which dataset a manifest was made from."""

    task: str
    raw_dir: str  # as `data.<task>.raw_dir` gives it
    raw_files: int
    raw_listing: str  # `Listing.digest` of the raw folder at ingest
    ingest_params: str  # `params_digest` of the seed and `ingest.<task>`

    @property
    def digest(self) -> str:
        return params_digest(asdict(self))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Provenance | None:
        """The record, or None for one this version cannot read."""
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class LocalRecord:
    """What ingest saw in this workspace, for the `Provenance` whose digest it names."""

    provenance: str  # `Provenance.digest`
    raw_dir_resolved: str
    raw_listing_mtimes: str  # `Listing.digest_mtimes`

    @classmethod
    def read(cls, path: Path) -> LocalRecord | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, TypeError, ValueError):
            return None

    def write(self, path: Path) -> None:
        write_json(path, asdict(self))


def write_manifest(frame: pd.DataFrame, target: Path, provenance: Provenance | None = None) -> None:
    """Write `frame` atomically; `provenance`, if given, into the file's schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_file(target) as tmp:
        if provenance is None:
            frame.to_parquet(tmp, index=False)
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        metadata = {**(table.schema.metadata or {}), PROVENANCE_KEY: provenance.to_json().encode()}
        pq.write_table(table.replace_schema_metadata(metadata), tmp, compression="snappy")


def read_manifest(source: Path) -> pd.DataFrame:
    return pd.read_parquet(source)


def read_provenance(source: Path) -> Provenance | None:
    """The provenance stored in a manifest (None if it has none: an older file)."""
    import pyarrow.parquet as pq

    stored = (pq.read_schema(source).metadata or {}).get(PROVENANCE_KEY)
    return None if stored is None else Provenance.from_json(stored)


def split_sizes(splits: pd.Series) -> dict[str, int]:
    """Rows per split, train/val/test first, then any other value sorted, null as 'none'."""
    counts = splits.fillna("none").astype(str).value_counts().to_dict()
    order = [s for s in SPLITS if s in counts] + sorted(set(counts) - set(SPLITS))
    return {split: int(counts[split]) for split in order}
