"""Cut one log into recordings: several drives are often appended into one log.

The simulator appends to the `driving_log.csv` it finds, and people join logs by hand, so
one log may hold drives recorded into other folders or on other days. A new recording
starts where the folder in the image paths changes, or where the time in the frame names
(`center_2018_02_26_10_41_13_221.jpg`, the simulator's local time to the millisecond)
goes backwards or leaps forward by more than `max_gap_seconds`. A row without an image
path (a row cut short, a line of odd bytes) or without a time in its frame name is judged
on what it has, against the last row that had it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_IMAGE = r"\.(?:jpe?g|png|bmp|gif|webp|tiff?)$"  # a path to an image, not a stray word
_STAMP = "%Y_%m_%d_%H_%M_%S_%f"  # the last 23 characters of a frame name's stem


@dataclass(frozen=True)
class Cuts:
    """Which recording of its log each row is in (0, 1, ... in order), with the facts."""

    piece: np.ndarray
    time: pd.Series  # the time in the frame's name, or NaT
    folder: pd.Series  # the folder of the recorded path, as written, or NA
    reason: pd.Series  # why the row's recording starts where it does, on each of its rows


def frame_times(recorded: pd.Series) -> pd.Series:
    """The time in each simulator frame name (NaT where it holds none)."""
    stem = recorded.str.replace(r"\.[A-Za-z]+$", "", regex=True)
    stamp = stem.str.slice(-23).where(~stem.str.slice(-24, -23).str.isdigit())
    return pd.to_datetime(stamp, format=_STAMP, errors="coerce").astype("datetime64[ms]")


def cut(recorded: pd.Series, max_gap_seconds: float, first: str) -> Cuts:
    """The recordings of one log's rows, in order.

    `recorded` is each row's image path as the log wrote it (NA where the line could not
    be read); `first` is the reason given for the log's first recording.
    """
    recorded = recorded.reset_index(drop=True)
    image = recorded.str.contains(_IMAGE, case=False, regex=True, na=False)
    folder = recorded.str.replace(r"[\\/][^\\/]*$", "", regex=True)
    folder = folder.where(recorded.str.contains(r"[\\/]", regex=True, na=False), "")
    folder = folder.where(image).astype("str")  # garbage is no evidence
    same = folder.str.replace("\\", "/", regex=False)  # one folder however it is written
    moved = same.notna() & same.ffill().shift(1).notna() & same.ne(same.ffill().shift(1))
    time = frame_times(recorded)
    gap = (time - time.ffill().shift(1)).dt.total_seconds()
    jumped = gap.notna() & ((gap < 0) | (gap > max_gap_seconds))
    start = (moved.fillna(False) | jumped).to_numpy(dtype=bool, copy=True)
    start[:1] = False
    piece = np.cumsum(start)

    was = folder.ffill().shift(1)
    reasons = [first]
    for k in np.flatnonzero(start):
        why = [f"folder change from {was[k]} to {folder[k]}"] if moved[k] else []
        why += [f"time jump of {gap[k]:+.1f} s"] if jumped[k] else []
        reasons.append(", ".join(why))
    reason = pd.Series(np.asarray(reasons, dtype=object)[piece], dtype="str")
    return Cuts(piece=piece, time=time, folder=folder, reason=reason)
