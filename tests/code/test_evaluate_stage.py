"""Evaluate fails closed: a broken model's NaN or infinite score never reaches register."""

import math

import pytest

from pipeline.core.errors import PipelineError
from pipeline.stages.evaluate import _fail_on_non_finite


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, None])
def test_a_non_finite_or_missing_primary_metric_fails_the_stage(value):
    metrics = {"test_mse": value, "test_r2": 0.5} if value is not None else {"test_r2": 0.5}
    with pytest.raises(PipelineError, match=r"test_mse .* broken and will not be registered"):
        _fail_on_non_finite("driving", metrics, "test_mse")


def test_an_undefined_secondary_figure_does_not_fail_an_honest_model():
    _fail_on_non_finite("driving", {"test_mse": 0.01, "test_r2": math.nan}, "test_mse")
