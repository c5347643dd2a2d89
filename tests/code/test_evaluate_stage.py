"""Evaluate fails closed: a broken model's NaN or infinite score never reaches register."""

import math

import pytest

from pipeline.core.errors import PipelineError
from pipeline.stages.evaluate import _fail_on_non_finite, summary
from pipeline.tasks.base import Evaluation, PrimaryMetric

MSE = PrimaryMetric("test_mse", greater_is_better=False)


def report(**figures):
    return {
        **figures,
        "baseline": {"name": "mean-angle predictor", "mse": 0.04},
        "beats_baseline": True,
        "test_split_hash": "abc",
    }


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_primary_metric_fails_the_stage(value):
    evaluation = Evaluation.from_json(report(test_mse=value, test_r2=0.5), MSE)
    with pytest.raises(PipelineError, match=r"test_mse .* broken and will not be registered"):
        _fail_on_non_finite("driving", evaluation)


@pytest.mark.parametrize("missing", ["test_mse", "baseline", "beats_baseline", "test_split_hash"])
def test_a_report_without_its_primary_metric_baseline_or_split_is_refused(missing):
    broken = report(test_mse=0.01)
    del broken[missing]
    with pytest.raises(PipelineError, match=f"no {missing}"):
        Evaluation.from_json(broken, MSE)


def test_an_undefined_secondary_figure_does_not_fail_an_honest_model():
    evaluation = Evaluation.from_json(report(test_mse=0.01, test_r2=math.nan), MSE)
    _fail_on_non_finite("driving", evaluation)
    assert summary(evaluation) == {
        "test_mse": 0.01,
        "test_r2": None,  # NaN is not JSON
        "baseline_mse": 0.04,
        "beats_baseline": True,
    }


def test_the_report_reads_back_as_written():
    written = report(test_mse=0.01, test_rows=18) | {"curves": {"mse": 0.02, "count": 3}}
    evaluation = Evaluation.from_json(written, MSE)
    assert evaluation.value == 0.01 and evaluation.baseline_value == 0.04
    assert evaluation.split_fingerprint == "abc" and evaluation.details["curves"]["count"] == 3
    assert Evaluation.from_json(evaluation.to_json(), MSE) == evaluation
