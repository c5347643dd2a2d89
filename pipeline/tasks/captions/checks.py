"""Label checks of the captions manifest."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from pipeline.core.label_rules import between, none_of
from pipeline.tasks.captions.ingest import FACTS
from pipeline.tasks.captions.params import CaptionsValidateParams


def label_checks(manifest: pd.DataFrame, params: CaptionsValidateParams) -> pd.DataFrame:
    return manifest.assign(
        check_n_captions=manifest["captions"].map(len),
        check_blank_captions=manifest["captions"].map(lambda cs: sum(not c.strip() for c in cs)),
    )


def expectations(params: CaptionsValidateParams) -> list[Any]:
    least = params.min_captions
    return [
        # an image needs captions to be learnt or scored
        between("check_n_captions", f"fewer than {least} captions", low=least),
        # an empty caption would teach the model to stop at once
        none_of("check_blank_captions", "blank caption"),
    ]


def summarize(manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
    """How the folder was read (layout, split source, images left out as missing on disk),
    then image ids, captions, and each oddity of the files counted: notes ingest tolerated
    and issues it found (all of the manifest's rows, valid or not)."""
    images = manifest["image_id"].dropna()
    notes: Counter[str] = Counter()
    if "notes" in manifest:
        notes.update(note for row in manifest["notes"] for note in row)
    return {
        **manifest.attrs.get(FACTS, {}),
        "image_ids": int(images.nunique()),
        "captions": int(manifest.drop_duplicates("image_id")["captions"].map(len).sum()),
        "oddities": dict(sorted(notes.items())),
        "ingest_issues": dict(sorted(Counter(manifest["issue"].dropna()).items())),
    }
