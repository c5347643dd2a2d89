"""Contiguous segments of frames, their seeded split, and guard frames at split boundaries.

Frames are consecutive video: neighbours are near copies, so a split by random rows leaks
the test set into training. Each log is cut into segments of consecutive frames, whole
segments are drawn into train/val/test, and the first `guard_frames` after a change of
split are kept out of every split. A short recording gets shorter segments, so that val
and test still get `min_split_segments` segments each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.splits import assign_splits, split_counts
from pipeline.tasks.driving.params import DrivingIngestParams

GUARD = "guard"


def _segments(frames_per_log: Sequence[int], size: int) -> int:
    return sum(-(-frames // size) for frames in frames_per_log)


def _enough(segments: int, params: DrivingIngestParams, forced: bool) -> bool:
    """Every split asked for gets its minimum of segments, train included.

    Not `forced`: by the fractions alone; `forced`: val and test raised to the minimum.
    """
    minimum = params.min_split_segments
    n_val, n_test = split_counts(
        segments, params.val_fraction, params.test_fraction, minimum if forced else 0
    )
    pairs = ((n_val, params.val_fraction), (n_test, params.test_fraction))
    asked = [n for n, fraction in pairs if fraction > 0]
    train_needs = max(1, minimum) if asked else 1
    return all(n >= minimum for n in asked) and segments - n_val - n_test >= train_needs


def segment_size(frames_per_log: Sequence[int], params: DrivingIngestParams) -> int:
    """`segment_frames`, or the least shrink of it that gives each split its segments.

    First choice: segments short enough that the fractions alone give val and test
    `min_split_segments` each (so train keeps its share); failing that, the longest
    segments with which val and test can be raised to that minimum. Segments never get
    shorter than one frame more than the guard, so each holds a frame of its split. Among
    sizes giving the same number of segments the smallest is taken: even segments.
    """
    smallest = min(params.guard_frames + 1, params.segment_frames)
    sizes = range(params.segment_frames, smallest - 1, -1)
    for forced in (False, True):
        for size in sizes:
            count = _segments(frames_per_log, size)
            if not _enough(count, params, forced):
                continue
            if size == params.segment_frames:
                return size
            while size > smallest and _segments(frames_per_log, size - 1) == count:
                size -= 1
            return size
    needed = next((n for n in range(1, 10_000) if _enough(n, params, forced=True)), None)
    if needed is None:
        raise DatasetError(
            "ingest.driving.val_fraction + test_fraction leave no segment for train: lower them"
        )
    raise DatasetError(
        f"{sum(frames_per_log)} frames are too few to split: val, test and train need "
        f"{params.min_split_segments} segments each of at least {smallest} frames "
        f"(guard_frames {params.guard_frames} + 1), so at least "
        f"{(needed - 1) * smallest + 1} frames; record a longer drive, or lower "
        "ingest.driving.min_split_segments or guard_frames"
    )


def split_segments(
    log: pd.Series, size: int, params: DrivingIngestParams, seed: int
) -> tuple[pd.Series, pd.Series]:
    """(segment, split) of rows in time order within each log (`log` names each row's log)."""
    position = log.groupby(log, sort=False).cumcount()
    segment = log + ":" + (position // size).astype("str")
    splits = assign_splits(
        list(segment.unique()),
        params.val_fraction,
        params.test_fraction,
        seed,
        minimum=params.min_split_segments,
    )
    split = segment.map(splits).to_numpy(dtype=object)
    logs = log.to_numpy(dtype=object)
    same_log = np.r_[False, logs[1:] == logs[:-1]]
    changed = np.r_[False, split[1:] != split[:-1]] & same_log
    starts = np.flatnonzero(changed | ~same_log)  # where each run of one split begins
    run = np.cumsum(changed | ~same_log) - 1
    in_run = np.arange(len(split)) - starts[run]
    guard = changed[starts][run] & (in_run < params.guard_frames)
    split[guard] = GUARD
    return segment, pd.Series(split, index=log.index, dtype="str")
