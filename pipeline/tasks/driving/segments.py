"""Contiguous segments of frames, their seeded split, and guard frames at split boundaries.

Frames are consecutive video: neighbours are near copies, so a split by random rows leaks
the test set into training. Each recording (a log, or a part of one, see `recordings.py`)
is cut into segments of consecutive frames, so no segment spans two recordings; whole
segments are drawn into train/val/test, and the first `guard_frames` after a change of
split within a log are kept out of every split, a change at a recording boundary
included. A short dataset gets shorter segments, so that val and test still get
`min_split_segments` segments each.

The fractions apply to the whole dataset, and each split's segments are shared out among
the recordings in proportion to their segments (largest remainder), so every recording long
enough to owe a split one segment gives it at least one: val and test see every drive, not
whichever the draw happened to favour. Which of a recording's segments go where is drawn
at random with the run's seed (a single recording splits exactly as one log always did).

Held-out recordings (`ingest.driving.test_recordings`, globs on recording names) measure
whether the model generalises to a drive it never saw: all their frames go to test, none
is a guard (they are another drive), and the other recordings are split into train and
val alone by the same rules, `test_fraction` unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.splits import split_counts
from pipeline.tasks.driving.params import DrivingIngestParams

GUARD = "guard"


def _segments(frames_per_recording: Sequence[int], size: int) -> int:
    return sum(-(-frames // size) for frames in frames_per_recording)


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


def segment_size(frames_per_recording: Sequence[int], params: DrivingIngestParams) -> int:
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
            count = _segments(frames_per_recording, size)
            if not _enough(count, params, forced):
                continue
            if size == params.segment_frames:
                return size
            while size > smallest and _segments(frames_per_recording, size - 1) == count:
                size -= 1
            return size
    needed = next((n for n in range(1, 10_000) if _enough(n, params, forced=True)), None)
    if needed is None:
        raise DatasetError(
            "ingest.driving.val_fraction + test_fraction leave no segment for train: lower them"
        )
    raise DatasetError(
        f"{sum(frames_per_recording)} frames are too few to split: val, test and train need "
        f"{params.min_split_segments} segments each of at least {smallest} frames "
        f"(guard_frames {params.guard_frames} + 1), so at least "
        f"{(needed - 1) * smallest + 1} frames; record a longer drive, or lower "
        "ingest.driving.min_split_segments or guard_frames"
    )


def _apportion(n: int, sizes: np.ndarray, room: np.ndarray) -> np.ndarray:
    """`n` shared among groups in proportion to `sizes` (largest remainder), `room` at most."""
    exact = n * sizes / max(int(sizes.sum()), 1)
    counts = np.minimum(np.floor(exact).astype(np.int64), room)
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    while counts.sum() < n and (counts < room).any():
        for k in order:
            if counts.sum() < n and counts[k] < room[k]:
                counts[k] += 1
    return counts


def held_out(recordings: pd.Series, params: DrivingIngestParams) -> pd.Series:
    """Whether each row's recording is one of `test_recordings` (globs, case-sensitive).

    Fails closed: a glob matching no recording, or every recording matching, is an error
    naming the recordings there are.
    """
    names = sorted(recordings.dropna().unique())
    matched = {
        pattern: [name for name in names if fnmatchcase(name, pattern)]
        for pattern in params.test_recordings
    }
    known = ", ".join(names)
    for pattern, hits in matched.items():
        if not hits:
            raise DatasetError(
                f"ingest.driving.test_recordings: {pattern!r} matches no recording; "
                f"the recordings are: {known}"
            )
    held = {name for hits in matched.values() for name in hits}
    if len(held) == len(names):
        raise DatasetError(
            "ingest.driving.test_recordings holds out every recording, leaving none to train "
            f"on: {known}"
        )
    return recordings.isin(held)


def train_val_params(params: DrivingIngestParams) -> DrivingIngestParams:
    """The split rules for the recordings left when some are held out for test."""
    return params.model_copy(update={"test_fraction": 0.0})


def _draw(keys: dict[str, list[str]], params: DrivingIngestParams, seed: int) -> dict[str, str]:
    """Split of each recording's segment `keys`: the dataset's counts, shared out."""
    names = sorted(name for name, segments in keys.items() if segments)
    sizes = np.array([len(keys[name]) for name in names], dtype=np.int64)
    n_val, n_test = split_counts(
        int(sizes.sum()), params.val_fraction, params.test_fraction, params.min_split_segments
    )
    tests = _apportion(n_test, sizes, sizes)
    vals = _apportion(n_val, sizes, sizes - tests)
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n_test_here, n_val_here in zip(names, tests, vals, strict=True):
        ordered = sorted(keys[name])
        for rank, index in enumerate(rng.permutation(len(ordered))):
            here = n_test_here + n_val_here
            split = "test" if rank < n_test_here else "val" if rank < here else "train"
            splits[ordered[index]] = split
    return splits


def split_segments(
    log: pd.Series,
    recording: pd.Series,
    size: int,
    params: DrivingIngestParams,
    seed: int,
    held: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series]:
    """(segment, split) of rows in time order within each log; `log` and `recording` name
    each row's log and recording (a recording lies within one log, its rows together).

    Segments are numbered on through a log (`driving_log.csv:7`) but restart at each of
    its recordings, so none spans two. Rows `held` out (see `held_out`) are all test; the
    others are drawn into train and val with `params` as given (see `train_val_params`).
    """
    held = pd.Series(False, index=log.index) if held is None else held
    within = recording.groupby(recording, sort=False).cumcount()
    number = within // size
    count = number.groupby(recording, sort=False).max() + 1  # segments per recording
    owner = log.groupby(recording, sort=False).first()
    offset = count.groupby(owner, sort=False).cumsum() - count  # earlier ones in the log
    segment = log + ":" + (number + recording.map(offset)).astype("str")
    keys = segment[~held].groupby(recording[~held], sort=False).unique()
    splits = _draw({str(k): list(v) for k, v in keys.items()}, params, seed)
    splits.update(dict.fromkeys(segment[held], "test"))
    split = segment.map(splits).to_numpy(dtype=object)
    logs = log.to_numpy(dtype=object)
    same_log = np.r_[False, logs[1:] == logs[:-1]]
    changed = np.r_[False, split[1:] != split[:-1]] & same_log
    starts = np.flatnonzero(changed | ~same_log)  # where each run of one split begins
    run = np.cumsum(changed | ~same_log) - 1
    in_run = np.arange(len(split)) - starts[run]
    guard = changed[starts][run] & (in_run < params.guard_frames) & ~held.to_numpy(dtype=bool)
    split[guard] = GUARD
    return segment, pd.Series(split, index=log.index, dtype="str")
