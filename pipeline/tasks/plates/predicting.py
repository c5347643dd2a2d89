"""How `pipeline predict plates` reads the model's answer: the boxes of each image, in its
pixels, and with `--out` each image drawn with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.registry.names import champion_uri
from pipeline.tasks.base import PredictOption

if TYPE_CHECKING:
    import pandas as pd

OPTIONS: tuple[PredictOption, ...] = (
    PredictOption("min_score", float, 0.3, "lowest score of a plate shown", min=0.0, max=1.0),
    PredictOption(
        "out", Path, None, "folder for the images with their boxes drawn", to_model=False
    ),
    PredictOption(
        "read", bool, False, "also read each plate's text with the --reader model", False
    ),
    PredictOption(
        "reader", str, champion_uri("plates_text"), "the plate reader --read uses", False
    ),
)


def prediction_lines(
    images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
) -> list[str]:
    """`path: N plate(s) [x1, y1, x2, y2] score[ "TEXT" (text score)]; ...` per image, then
    where the drawn images went (`out`: `<stem>_plates.png` each)."""
    found = [json.loads(rows) for rows in predictions["boxes"]]  # with texts under --read
    out = options.get("out")
    if out is not None:
        from pipeline.tasks.plates.drawing import write_drawn

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for path, rows in zip(images, found, strict=True):
            write_drawn(path, rows, out / f"{path.stem}_plates.png")
    printed = [
        f"{path}: {len(rows)} plate(s) " + "; ".join(_box(row) for row in rows)
        for path, rows in zip(images, found, strict=True)
    ]
    return printed if out is None else [*printed, f"drawn images in {out}"]


def _box(row: dict[str, Any]) -> str:
    said = (
        f"[{row['x1']:.0f}, {row['y1']:.0f}, {row['x2']:.0f}, {row['y2']:.0f}] {row['score']:.2f}"
    )
    if "text" in row:
        text = "unreadable" if row["text"] is None else f'"{row["text"]}"'
        said += f" {text}" + ("" if row["text_score"] is None else f" ({row['text_score']:.2f})")
    return said
