"""Driving evaluation figures on hand-made predictions."""

import re

import numpy as np
import pandas as pd
import pytest

from pipeline.tasks.driving.evaluate import jitter, regression_metrics, score, split_fingerprint


def _test_split(angles):
    n = len(angles)
    return pd.DataFrame(
        {
            "center": [f"IMG/center_{i}.jpg" for i in range(n)],
            "steering": angles,
            "segment": [f"log:{i // 4}" for i in range(n)],
        }
    )


def test_perfect_predictions_score_zero_error_and_r2_one():
    true = np.array([0.0, 0.2, -0.3, 0.5])
    assert regression_metrics(true, true) == {"mse": 0.0, "mae": 0.0, "r2": 1.0}


def test_the_mean_predictor_has_r2_zero():
    true = np.array([0.0, 0.2, -0.3, 0.5])
    assert regression_metrics(true, np.full(4, true.mean()))["r2"] == pytest.approx(0.0)


def test_jitter_only_counts_steps_inside_a_segment():
    values = np.array([0.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0])
    segments = pd.Series(["a"] * 4 + ["b"] * 4)
    assert jitter(values, segments) == pytest.approx(1.0 / 6)


def test_score_reports_the_baseline_and_says_who_wins():
    angles = np.array([0.0, 0.0, 0.3, 0.5, -0.4, -0.2, 0.0, 0.1])
    test = _test_split(angles)
    report = score(test, angles + 0.01, train_mean=0.05, curve_threshold=0.1)
    assert report["test_mse"] == pytest.approx(1e-4)
    assert report["baseline"]["mse"] == pytest.approx(((angles - 0.05) ** 2).mean())
    assert report["beats_baseline"] is True
    assert report["mse_ratio_to_baseline"] < 0.01
    assert report["curves"]["count"] + report["straights"]["count"] == 8
    assert sum(b["count"] for b in report["mae_per_angle_bin"].values()) == 8


def test_angle_bins_are_named_as_mlflow_metric_names():
    angles = np.array([-1.0, -0.2, 0.0, 0.05, 0.2, 0.9])
    bins = score(_test_split(angles), angles, train_mean=0.0, curve_threshold=0.1)
    assert list(bins["mae_per_angle_bin"]) == [
        "-1.00_to_-0.30", "-0.30_to_-0.10", "-0.02_to_0.02", "0.02_to_0.10", "0.10_to_0.30",
        "0.30_to_1.00",
    ]  # fmt: skip
    assert all(re.fullmatch(r"[\w.\-]+", key) for key in bins["mae_per_angle_bin"])


def test_the_split_hash_changes_with_the_test_rows():
    test = _test_split([0.0, 0.1, 0.2])
    assert split_fingerprint(test) == split_fingerprint(test.copy())
    assert split_fingerprint(test) != split_fingerprint(test.assign(steering=[0.0, 0.1, 0.3]))
    assert split_fingerprint(test.iloc[::-1]) == split_fingerprint(test)


def test_the_split_hash_stays_what_earlier_models_were_compared_on():
    # promote compares a candidate with the champion only on the same hash: a new formula
    # would make every earlier model incomparable
    assert split_fingerprint(_test_split([0.0, 0.1, 0.2])) == "a43838c9d11db6d8"
