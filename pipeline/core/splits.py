"""Deterministic, seeded assignment of dataset items to train/val/test, and split helpers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import DatasetError

if TYPE_CHECKING:
    import pandas as pd

SPLITS = ("train", "val", "test")


def split_counts(
    n: int, val_fraction: float, test_fraction: float, minimum: int = 0
) -> tuple[int, int]:
    """(val, test) item counts for `n` items: the rounded fractions, raised to `minimum`.

    The minimum applies only to a split whose fraction is above zero, so a user who asks
    for no test set gets none.
    """
    n_val = max(round(n * val_fraction), minimum) if val_fraction > 0 else 0
    n_test = max(round(n * test_fraction), minimum) if test_fraction > 0 else 0
    return n_val, n_test


def assign_splits(
    keys: list[str], val_fraction: float, test_fraction: float, seed: int, minimum: int = 0
) -> dict[str, str]:
    """Seeded random split of `keys` with exact counts; same keys + seed → same split.

    Keys are sorted first, so the split does not depend on the order files were listed in.
    `minimum` raises val and test to at least that many keys (see `split_counts`); the
    caller makes sure there are enough keys left for train.
    """
    import numpy as np  # lazily: the CLI imports SPLITS and must start fast

    ordered = sorted(keys)
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_val, n_test = split_counts(len(ordered), val_fraction, test_fraction, minimum)
    splits = {}
    for rank, index in enumerate(order):
        split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        splits[ordered[index]] = split
    return splits


def fingerprint(rows: Iterable[tuple[Any, ...]]) -> str:
    """Identity of a test split from its (item, label...) rows, in any order: two models are
    only compared on the same split. Each task chooses the rows; this hashes them."""
    import hashlib

    return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()[:16]


def training_splits(
    manifest_path: Path, task: str, what: str, hint: str, has_labels: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and val rows of a processed manifest, or one line saying which is empty.

    `has_labels(rows) -> bool` can ask for more than rows (e.g. at least one box).
    """
    import pandas as pd

    manifest = pd.read_parquet(manifest_path)
    train, val = (manifest[manifest["split"] == split] for split in ("train", "val"))
    for name, rows in (("train", train), ("val", val)):
        if rows.empty or (has_labels is not None and not has_labels(rows)):
            raise DatasetError(f"{task}: no {name} {what} in {manifest_path}; {hint}")
    return train, val
