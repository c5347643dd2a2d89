"""Label checks of the driving manifest, as expectations on its measurements."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.core.label_rules import between, present
from pipeline.tasks.driving.params import DrivingValidateParams


def label_checks(manifest: pd.DataFrame, params: DrivingValidateParams) -> pd.DataFrame:
    return manifest  # the measurements are checked as they are


def expectations(params: DrivingValidateParams) -> list[Any]:
    limit, speed = params.steering_limit, params.max_speed
    return [
        # the angle is the target; a row without one cannot be learnt
        present("steering", "steering missing or not a number"),
        # the simulator's angles are normalised to [-1, 1]; pedals are fractions
        between("steering", f"steering outside [-{limit}, {limit}]", -limit, limit),
        between("throttle", "throttle out of [0, 1]", 0, 1),
        between("brake", "brake out of [0, 1]", 0, 1),
        # a negative or absurd speed is a corrupt row
        between("speed", f"speed out of [0, {speed}]", 0, speed),
    ]
