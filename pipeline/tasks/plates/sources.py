"""The dataset a plates row comes from, and the sources a run holds out for testing.

A raw plates folder may mix datasets, each in its own top-level folder; a row's source is
the first part of its `folder` (where its layout was read), "." for a dataset at the root.
Scoring per source shows whether a model works on each kind of photo, and holding a
whole source out (`ingest.plates.test_sources`) shows whether it works on photos from a
camera and a country it never saw.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence

from pipeline.core.errors import DatasetError

ROOT = "."
#: characters MLflow accepts in a metric name; a source's figures are logged under its name
_UNSAFE = re.compile(r"[^\w.\- /]")


def source_of(folder: object) -> str:
    """The top-level folder of a row's `folder` ("." at the root or when there is none)."""
    if not isinstance(folder, str):
        return ROOT
    first = folder.replace("\\", "/").strip("/").split("/", 1)[0]
    return first or ROOT


def metric_key(source: str) -> str:
    """`source` as a metric name MLflow accepts (other characters become `_`)."""
    return _UNSAFE.sub("_", source)


def held_out(sources: Iterable[str], patterns: Sequence[str]) -> set[str]:
    """The sources matching any glob of `patterns` (case-sensitive, as folder names).

    A pattern matching no source is a `DatasetError` (a typo would otherwise test on
    nothing held out), and so is one holding out every source (nothing left to train on).
    """
    known = sorted(set(sources))
    chosen: set[str] = set()
    for pattern in patterns:
        matched = {source for source in known if fnmatch.fnmatchcase(source, pattern)}
        if not matched:
            raise DatasetError(
                f"ingest.plates.test_sources: {pattern!r} matches no source; the sources "
                f"(top-level folders of the raw folder) are: {', '.join(known)}"
            )
        chosen |= matched
    if chosen and chosen == set(known):
        raise DatasetError(
            "ingest.plates.test_sources holds out every source "
            f"({', '.join(known)}): leave at least one to train on"
        )
    return chosen
