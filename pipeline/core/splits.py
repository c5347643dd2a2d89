"""Deterministic, seeded assignment of dataset items to train/val/test, and split helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


class UnionFind:
    """Disjoint sets of 0..n-1; a set's root is its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def linked_groups(items: Sequence[str], keys: Sequence[Iterable[str]]) -> list[str]:
    """Per item, its group: items sharing a key (directly or through others) form one group,
    named by its smallest item. Equal items are one group."""
    groups = UnionFind(len(items))
    first: dict[str, int] = {}
    for i, (item, shared) in enumerate(zip(items, keys, strict=True)):
        for key in ("item:" + item, *("key:" + k for k in shared)):
            groups.union(first.setdefault(key, i), i)
    names: dict[int, str] = {}
    for i, item in enumerate(items):
        root = groups.find(i)
        names[root] = min(names.get(root, item), item)
    return [names[groups.find(i)] for i in range(len(items))]


def assign_group_splits(
    sizes: dict[str, int], val_fraction: float, test_fraction: float, seed: int
) -> dict[str, str]:
    """Seeded split of groups of items (`sizes`: group -> item count), as near the fractions
    of items as whole groups allow.

    Groups are drawn in `assign_splits`' seeded order; each goes to test, else val, if it
    brings that split nearer its item count (`split_counts` of all items), else to train.
    With groups of one item this is exactly `assign_splits`.
    """
    import numpy as np  # lazily: the CLI imports SPLITS and must start fast

    ordered = sorted(sizes)
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_val, n_test = split_counts(sum(sizes.values()), val_fraction, test_fraction)
    targets = {"val": n_val, "test": n_test}
    counts = {"val": 0, "test": 0}
    splits = {}
    for index in order:
        group = ordered[index]
        size = sizes[group]
        splits[group] = "train"
        for split in ("test", "val"):
            if abs(counts[split] + size - targets[split]) < abs(counts[split] - targets[split]):
                counts[split] += size
                splits[group] = split
                break
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
