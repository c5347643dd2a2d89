"""What augmentation did, as a JSON-able report: counts, dropped boxes, plate widths."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from pipeline.tasks.plates.params import PlatesAugmentParams

OPS = ("border", "crop", "brightness", "rotation")
WIDTH_BINS = np.linspace(0, 1, 41)  # plate width as a fraction of the image width
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def _widths(manifest: pd.DataFrame) -> np.ndarray:
    return np.asarray([box[2] for boxes in manifest["boxes"] for box in boxes], np.float64)


def report(
    train: pd.DataFrame, manifest: pd.DataFrame, params: PlatesAugmentParams
) -> dict[str, Any]:
    after = manifest[manifest["split"] == "train"]
    variants = after[after["copy"] >= 1]
    has = {op: variants["ops"].map(lambda ops, op=op: op in ops) for op in OPS}
    groups = {
        "before": _widths(train),
        "after": _widths(after),
        "border_only": _widths(variants[has["border"] & ~has["crop"]]),
        "crop_only": _widths(variants[has["crop"] & ~has["border"]]),
    }
    return {
        "train_images_before": len(train),
        "train_images_after": len(after),
        "variants": len(variants),
        "ops": {op: int(has[op].sum()) for op in OPS},
        "boxes_before": int(groups["before"].size),
        "boxes_after": int(groups["after"].size),
        "dropped": dict(Counter(reason for reasons in after["dropped"] for reason in reasons)),
        "plate_width": {
            "bin_edges": WIDTH_BINS.round(4).tolist(),
            "histograms": {
                group: np.histogram(widths.clip(0, 1), WIDTH_BINS)[0].tolist()
                for group, widths in groups.items()
            },
            "quantiles": {group: _quantiles(widths) for group, widths in groups.items()},
        },
        "examples": _examples(variants, params.grid_images),
    }


def _quantiles(widths: np.ndarray) -> dict[str, float]:
    if not widths.size:
        return {}
    return {f"q{round(q * 100)}": round(float(np.quantile(widths, q)), 4) for q in QUANTILES}


def _examples(variants: pd.DataFrame, count: int) -> list[dict[str, Any]]:
    """Up to `count` variants spread over the train set, those with plates first."""
    plated = variants["n_boxes"] > 0
    picks = _spread(variants[plated], count)
    picks = pd.concat([picks, _spread(variants[~plated], count - len(picks))])
    return [
        {"image": row.image, "boxes": row.boxes, "ops": list(row.ops)} for row in picks.itertuples()
    ]


def _spread(rows: pd.DataFrame, count: int) -> pd.DataFrame:
    """`count` rows evenly spaced (all of them if fewer)."""
    if len(rows) <= count:
        return rows
    return rows.iloc[np.linspace(0, len(rows) - 1, count).round().astype(int)]
