"""Label checks of the plates manifest, as derived columns and expectations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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
    import great_expectations as gx

    E = gx.expectations
    tolerance = params.box_tolerance
    label = {"intent": "label"}
    return [
        # label: YOLO values are normalised; a little rounding outside [0, 1] is tolerated
        E.ExpectColumnValuesToBeBetween(
            column="check_box_min",
            min_value=-tolerance,
            meta={**label, "reason": "box value below 0"},
        ),
        E.ExpectColumnValuesToBeBetween(
            column="check_box_max",
            max_value=1 + tolerance,
            meta={**label, "reason": "box value above 1"},
        ),
        # label: a box with no width or height cannot be learnt nor scored
        E.ExpectColumnValuesToBeBetween(
            column="check_box_min_size",
            min_value=0,
            strict_min=True,
            meta={**label, "reason": "box with zero width or height"},
        ),
        # label: every box has a class (an id past the class list is `class_<id>`, kept;
        # a negative id or an empty VOC `<name>` is none)
        E.ExpectColumnValuesToBeInSet(
            column="check_unnamed_classes",
            value_set=[0],
            meta={**label, "reason": "box with a negative class id or an empty class name"},
        ),
        # label: every class is one the detector learns (all of them unless narrowed)
        E.ExpectColumnValuesToBeInSet(
            column="check_unknown_classes",
            value_set=[0],
            meta={**label, "reason": f"class not in {params.keep_classes}"},
        ),
    ]
