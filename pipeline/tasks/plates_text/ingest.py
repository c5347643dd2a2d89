"""Manifest of plate texts: one row per plate box, read with the plates task's format readers.

Every layout the plates ingest reads works here (GreenParking `location.txt` keeps the text
after the box; YOLO folders keep it in `<stem>.plate.txt` sidecars, see
`pipeline.tasks.plates.formats.text`). A box without text is a row with the issue
"no plate text"; an image the plates ingest could not read stays one row with its issue.
An image with no plate has nothing to read and is not a row.

Split: each row takes its photo's split from the plates ingest (`pipeline.tasks.plates.photos`),
so a photo has one split in both tasks, and the pretext draw of either never takes the other's
val or test photos. The unit is the plates `group`: copies of a photo and photos sharing a
plate text (the same vehicle photographed again: GreenParking has one plate in three photos),
so no photo and no plate text is in two splits. `ingest.plates_text`'s fractions are passed to
the plates reader and must equal `ingest.plates`' for the two tasks to agree, and so
must `test_sources` (the datasets held out for test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.tasks.plates.formats.text import canonical
from pipeline.tasks.plates_text.params import PlateTextIngestParams

COLUMNS = [
    "stem",  # image stem and box number: `<stem>#<i>`
    "image",
    "box",  # normalised [x_center, y_center, width, height]
    "box_index",
    "text",  # as the annotation writes it
    "target",  # canonical text (`59T1-59973`), what the recogniser learns
    "layout",  # the dataset layout the plates ingest detected
    "folder",
    "photo",
    "group",  # the plates group (copies, photos sharing a plate text): the unit of the split
    "split",
    "issue",
    "issue_detail",
]


def _rows(plates: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for image in plates.itertuples(index=False):
        base = {
            "image": image.image,
            "layout": image.layout,
            "folder": image.folder,
            "photo": image.photo,
            "group": image.group,
            "split": image.split,
            "box": None,
            "box_index": None,
            "text": None,
            "target": None,
            "issue": None,
            "issue_detail": None,
        }
        if image.issue is not None and not pd.isna(image.issue):
            rows.append(
                base
                | {"stem": image.stem, "issue": image.issue, "issue_detail": image.issue_detail}
            )
            continue
        if image.plate_text_issue is not None and not pd.isna(image.plate_text_issue):
            rows.append(
                base
                | {
                    "stem": image.stem,
                    "issue": "plate text does not match the boxes",
                    "issue_detail": image.plate_text_issue,
                }
            )
            continue
        texts = list(image.plate_texts) if len(image.plate_texts) else [None] * len(image.boxes)
        for index, (box, text) in enumerate(zip(image.boxes, texts, strict=True)):
            row = base | {
                "stem": f"{image.stem}#{index}",
                "box": [float(v) for v in box],
                "box_index": index,
                "text": text,
                "target": None if text is None else canonical(str(text)),
            }
            if text is None:
                where = image.label or image.image
                row |= {"issue": "no plate text", "issue_detail": f"{where} box {index}"}
            rows.append(row)
    return rows


def read_raw(raw_dir: Path, params: PlateTextIngestParams, seed: int) -> pd.DataFrame:
    """One row per plate box with its text (or an issue), in its photo's plates split."""
    from pipeline.tasks.plates.ingest import read_raw as read_plates
    from pipeline.tasks.plates.params import PlatesIngestParams

    plates = read_plates(
        raw_dir,
        PlatesIngestParams(
            classes=params.classes,
            val_fraction=params.val_fraction,
            test_fraction=params.test_fraction,
            test_sources=params.test_sources,
        ),
        seed,
    )
    frame = pd.DataFrame(_rows(plates), columns=COLUMNS)
    frame = frame.sort_values("stem", kind="stable").reset_index(drop=True)
    frame["box_index"] = frame["box_index"].astype("Int64")
    return frame
