"""Deterministic, seeded assignment of dataset items to train/val/test."""

SPLITS = ("train", "val", "test")


def assign_splits(
    keys: list[str], val_fraction: float, test_fraction: float, seed: int
) -> dict[str, str]:
    """Seeded random split of `keys` with exact counts; same keys + seed → same split.

    Keys are sorted first, so the split does not depend on the order files were listed in.
    """
    import numpy as np  # lazily: the CLI imports SPLITS and must start fast

    ordered = sorted(keys)
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_test = round(len(ordered) * test_fraction)
    n_val = round(len(ordered) * val_fraction)
    splits = {}
    for rank, index in enumerate(order):
        split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        splits[ordered[index]] = split
    return splits
