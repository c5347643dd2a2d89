"""Label checks of the plates manifest, as derived columns and expectations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.label_rules import between, none_of
from pipeline.tasks.plates.params import PlatesValidateParams


def _box_stats(boxes: Any) -> tuple[float, float, float]:
    """(lowest value, highest value, smallest width/height) over a row's boxes; NaN if none."""
    values = np.asarray([list(box) for box in boxes], dtype=float).reshape(-1, 4)
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    return float(values.min()), float(values.max()), float(values[:, 2:].min())


def label_checks(manifest: pd.DataFrame, params: PlatesValidateParams) -> pd.DataFrame:
    stats = np.array([_box_stats(boxes) for boxes in manifest["boxes"]]).reshape(-1, 3)
    keep = params.keep_classes
    unnamed = [sum(name == "" for name in names) for names in manifest["class_names"]]
    unknown = [
        sum(name != "" and keep is not None and name not in keep for name in names)
        for names in manifest["class_names"]
    ]
    return manifest.assign(
        check_box_min=stats[:, 0],
        check_box_max=stats[:, 1],
        check_box_min_size=stats[:, 2],
        check_unnamed_classes=unnamed,
        check_unknown_classes=unknown,
    )


def expectations(params: PlatesValidateParams) -> list[Any]:
    tolerance = params.box_tolerance
    return [
        # YOLO values are normalised; a little rounding outside [0, 1] is tolerated
        between("check_box_min", "box value below 0", low=-tolerance),
        between("check_box_max", "box value above 1", high=1 + tolerance),
        # a box with no width or height cannot be learnt nor scored
        between("check_box_min_size", "box with zero width or height", low=0, above=True),
        # every box has a class (an id past the class list is `class_<id>`, kept; a negative
        # id or an empty VOC `<name>` is none), one the detector learns (all unless narrowed)
        none_of("check_unnamed_classes", "box with a negative class id or an empty class name"),
        none_of("check_unknown_classes", f"class not in {params.keep_classes}"),
    ]
