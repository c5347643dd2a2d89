"""Test-split figures of a steering model beside the mean-angle predictor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.layout import TaskPaths
from pipeline.core.plots import new_figure, save_figure
from pipeline.core.splits import fingerprint
from pipeline.tasks.base import Evaluation, PrimaryMetric
from pipeline.tasks.driving.params import DrivingEvaluateParams

ANGLE_BINS = (-1.0, -0.3, -0.1, -0.02, 0.02, 0.1, 0.3, 1.0)
PRIMARY = PrimaryMetric("test_mse", greater_is_better=False)


def split_fingerprint(test: pd.DataFrame) -> str:
    """Identity of the test split: its frames and their angles."""
    return fingerprint(zip(test["center"], test["steering"].round(6), strict=True))


def bin_name(left: float, right: float) -> str:
    """An angle bin's key, valid as an MLflow metric name: `-0.30_to_-0.10`, `0.02_to_0.10`."""
    return f"{left:.2f}_to_{right:.2f}"


def regression_metrics(true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    error = predicted - true
    total = float(((true - true.mean()) ** 2).sum())
    return {
        "mse": float((error**2).mean()),
        "mae": float(np.abs(error).mean()),
        "r2": 1.0 - float((error**2).sum()) / total if total > 0 else 0.0,
    }


def jitter(values: np.ndarray, segments: pd.Series) -> float:
    """Mean absolute change between consecutive frames of the same segment."""
    frame = pd.DataFrame({"value": values, "segment": segments.to_numpy()})
    steps = frame.groupby("segment")["value"].diff().abs().dropna()
    return float(steps.mean()) if len(steps) else 0.0


def score(
    test: pd.DataFrame, predicted: np.ndarray, train_mean: float, curve_threshold: float
) -> dict[str, Any]:
    """Every figure of the report; `test` in time order with steering and segment columns."""
    true = test["steering"].to_numpy(dtype=float)
    baseline = np.full_like(true, train_mean)
    ours = regression_metrics(true, predicted)
    mean_predictor = regression_metrics(true, baseline)
    curves = np.abs(true) >= curve_threshold
    per_bin = {}
    bins = pd.cut(true, ANGLE_BINS, include_lowest=True)
    for interval, group in pd.Series(np.abs(predicted - true)).groupby(bins, observed=True):
        per_bin[bin_name(interval.left, interval.right)] = {
            "mae": float(group.mean()),
            "count": len(group),
        }
    return {
        "test_mse": ours["mse"],
        "test_mae": ours["mae"],
        "test_r2": ours["r2"],
        "baseline": {"name": "mean-angle predictor", "value": train_mean, **mean_predictor},
        "mse_ratio_to_baseline": ours["mse"] / max(mean_predictor["mse"], 1e-12),
        "beats_baseline": ours["mse"] < mean_predictor["mse"],
        "curves": {"mse": _mse(true, predicted, curves), "count": int(curves.sum())},
        "straights": {"mse": _mse(true, predicted, ~curves), "count": int((~curves).sum())},
        "mae_per_angle_bin": per_bin,
        "jitter": {
            "predicted": jitter(predicted, test["segment"]),
            "true": jitter(true, test["segment"]),
        },
        "test_rows": len(true),
        "test_split_hash": split_fingerprint(test),
    }


def _mse(true: np.ndarray, predicted: np.ndarray, mask: np.ndarray) -> float | None:
    return float(((predicted[mask] - true[mask]) ** 2).mean()) if mask.any() else None


def prediction_rows(test: pd.DataFrame, predicted: np.ndarray) -> list[dict[str, Any]]:
    """Rows for the DVC plot of true and predicted angle over test frames."""
    return [
        {"frame": i, "actual": float(t), "predicted": float(p)}
        for i, (t, p) in enumerate(zip(test["steering"], predicted, strict=True))
    ]


def plot_over_time(test: pd.DataFrame, predicted: np.ndarray, path: Path) -> None:
    figure = new_figure(10, 4)
    axes = figure.subplots()
    axes.plot(test["steering"].to_numpy(), label="true", linewidth=1.5)
    axes.plot(predicted, label="predicted", linewidth=1.0)
    axes.set(xlabel="test frame (time order)", ylabel="steering angle", title="Steering over time")
    axes.legend()
    save_figure(figure, path)


def plot_scatter(test: pd.DataFrame, predicted: np.ndarray, path: Path) -> None:
    figure = new_figure(5, 5)
    axes = figure.subplots()
    true = test["steering"].to_numpy()
    axes.scatter(true, predicted, s=8, alpha=0.6)
    axes.plot([-1, 1], [-1, 1], color="grey", linestyle="--", linewidth=1)
    axes.set(
        xlabel="true angle", ylabel="predicted angle", title="Predicted vs true", aspect="equal"
    )
    axes.set_xlim(-1, 1)
    axes.set_ylim(-1, 1)
    save_figure(figure, path)


def evaluate(
    model: Any, valid: pd.DataFrame, params: DrivingEvaluateParams, paths: TaskPaths
) -> Evaluation:
    """Score `model` on the raw test frames (time order); write plots and prediction rows."""
    from pipeline.core.io import write_json
    from pipeline.core.tfdata import image_dataset

    test = valid[valid["split"] == "test"].sort_values(["log", "frame"]).reset_index(drop=True)
    raw_dir, out_dir = paths.raw_dir, paths.reports_dir
    frames = image_dataset(
        raw_dir,
        test["center"].tolist(),
        test["steering"].to_numpy(dtype=np.float32),
        params.batch_size,
        shuffle=False,
        seed=0,
    )
    predicted = model.predict(frames, verbose=0).ravel().astype(float)
    train_mean = float(valid.loc[valid["split"] == "train", "steering"].mean())
    metrics = score(test, predicted, train_mean, params.curve_threshold)
    write_json(out_dir / "predictions.json", prediction_rows(test, predicted))
    plot_over_time(test, predicted, out_dir / "steering_over_time.png")
    plot_scatter(test, predicted, out_dir / "predicted_vs_true.png")
    return Evaluation.from_json(metrics, PRIMARY)
