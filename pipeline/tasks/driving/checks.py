"""Label checks of the driving manifest, as expectations on its measurements."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.tasks.driving.params import DrivingValidateParams


def label_checks(manifest: pd.DataFrame, params: DrivingValidateParams) -> pd.DataFrame:
    return manifest  # the measurements are checked as they are


def expectations(params: DrivingValidateParams) -> list[Any]:
    import great_expectations as gx

    E = gx.expectations
    label = {"intent": "label"}
    limit = params.steering_limit
    return [
        # label: the angle is the target; a row without one cannot be learnt
        E.ExpectColumnValuesToNotBeNull(
            column="steering", meta={**label, "reason": "steering missing or not a number"}
        ),
        # label: the simulator's angles are normalised to [-1, 1]
        E.ExpectColumnValuesToBeBetween(
            column="steering",
            min_value=-limit,
            max_value=limit,
            meta={**label, "reason": f"steering outside [-{limit}, {limit}]"},
        ),
        # label: pedals are fractions
        E.ExpectColumnValuesToBeBetween(
            column="throttle",
            min_value=0,
            max_value=1,
            meta={**label, "reason": "throttle out of [0, 1]"},
        ),
        E.ExpectColumnValuesToBeBetween(
            column="brake",
            min_value=0,
            max_value=1,
            meta={**label, "reason": "brake out of [0, 1]"},
        ),
        # label: a negative or absurd speed is a corrupt row
        E.ExpectColumnValuesToBeBetween(
            column="speed",
            min_value=0,
            max_value=params.max_speed,
            meta={**label, "reason": f"speed out of [0, {params.max_speed}]"},
        ),
    ]
