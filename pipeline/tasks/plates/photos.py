"""One split per photo, shared by every task that reads plate photos (plates, plates_text).

- `photo`: the copy group of an image (`pipeline.core.copies`): names that differ by a copy
  suffix, byte-identical files and look-alike re-encodes are one photo.
- `group`: photos linked by a plate text they share (the same vehicle photographed again),
  with all their copies: the unit of the split. Splitting by `group` keeps both tasks leak
  free: no copy of a photo and no plate text is in two splits.
- `split`: drawn per group, seeded, as near the configured fractions of images as whole
  groups allow (`pipeline.core.splits.assign_group_splits`). With `test_sources` (globs of
  top-level folders, `pipeline.tasks.plates.sources`) every group with a photo of those
  sources is test, and the other groups are drawn into train and val only (val_fraction of
  their images): the test photos come from datasets the model never saw.

Both ingests take these three columns from here, so for one raw folder, seed and fractions
every photo has the same split in every task.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.copies import copy_groups
from pipeline.core.splits import assign_group_splits, linked_groups
from pipeline.tasks.plates.formats.text import canonical
from pipeline.tasks.plates.sources import held_out, source_of


def _texts(texts: Any) -> list[str]:
    """The canonical plate texts of a row's `plate_texts` (None entries skipped)."""
    if texts is None or isinstance(texts, float):
        return []
    return [canonical(text) for text in texts if isinstance(text, str) and text.strip()]


def split_photos(
    frame: pd.DataFrame,
    raw_dir: Path,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    test_sources: Sequence[str] = (),
) -> pd.DataFrame:
    """`frame` (plates manifest rows) with `photo`, `group` and `split` set."""
    frame = frame.copy()
    images = [raw_dir / image if isinstance(image, str) else None for image in frame["image"]]
    copies = copy_groups([Path(stem).name for stem in frame["stem"]], images)
    frame["photo"] = copies.group
    frame["group"] = linked_groups(copies.group, [_texts(t) for t in frame["plate_texts"]])
    sources = [source_of(folder) for folder in frame["folder"]]
    held = held_out(sources, test_sources) if test_sources else set()
    tested = {g for g, source in zip(frame["group"], sources, strict=True) if source in held}
    drawn = frame["group"][~frame["group"].isin(tested)]
    sizes = {str(k): int(n) for k, n in drawn.value_counts().items()}
    splits = assign_group_splits(sizes, val_fraction, 0.0 if held else test_fraction, seed)
    frame["split"] = frame["group"].map(splits | dict.fromkeys(tested, "test"))
    return frame
