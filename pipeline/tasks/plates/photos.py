"""One split per photo, shared by every task that reads plate photos (plates, plates_text).

- `photo`: the copy group of an image (`pipeline.core.copies`): names that differ by a copy
  suffix, byte-identical files and look-alike re-encodes are one photo.
- `group`: photos linked by a plate text they share (the same vehicle photographed again),
  with all their copies: the unit of the split. Splitting by `group` keeps both tasks leak
  free: no copy of a photo and no plate text is in two splits.
- `split`: drawn per group, seeded, as near the configured fractions of images as whole
  groups allow (`pipeline.core.splits.assign_group_splits`).

Both ingests take these three columns from here, so for one raw folder, seed and fractions
every photo has the same split in every task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.copies import copy_groups
from pipeline.core.splits import assign_group_splits, linked_groups
from pipeline.tasks.plates.formats.text import canonical


def _texts(texts: Any) -> list[str]:
    """The canonical plate texts of a row's `plate_texts` (None entries skipped)."""
    if texts is None or isinstance(texts, float):
        return []
    return [canonical(text) for text in texts if isinstance(text, str) and text.strip()]


def split_photos(
    frame: pd.DataFrame, raw_dir: Path, val_fraction: float, test_fraction: float, seed: int
) -> pd.DataFrame:
    """`frame` (plates manifest rows) with `photo`, `group` and `split` set."""
    frame = frame.copy()
    images = [raw_dir / image if isinstance(image, str) else None for image in frame["image"]]
    copies = copy_groups([Path(stem).name for stem in frame["stem"]], images)
    frame["photo"] = copies.group
    frame["group"] = linked_groups(copies.group, [_texts(t) for t in frame["plate_texts"]])
    sizes = {str(k): int(n) for k, n in frame["group"].value_counts().items()}
    splits = assign_group_splits(sizes, val_fraction, test_fraction, seed)
    frame["split"] = frame["group"].map(splits)
    return frame
