"""Plate detection scored on the raw test images, beside a detector that finds nothing.

The baseline, scored by the same code (`scoring`), shows what a model gains over "no plate
anywhere". The report keeps every figure at the top level; plots and the boxes found go
beside it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.io import write_json
from pipeline.core.layout import TaskPaths
from pipeline.core.splits import fingerprint
from pipeline.tasks.base import Evaluation, PrimaryMetric
from pipeline.tasks.plates.boxes import as_boxes, yolo_to_xyxy
from pipeline.tasks.plates.detectors.config import max_detections
from pipeline.tasks.plates.images import read_rgb
from pipeline.tasks.plates.inference import Detections, detect
from pipeline.tasks.plates.params import PlatesEvaluateParams
from pipeline.tasks.plates.plots import plot_detections, plot_precision_recall
from pipeline.tasks.plates.scoring import coco_scores, empty_detections, operating_point

PRIMARY = PrimaryMetric("test_ap50", greater_is_better=True)


def split_fingerprint(test: pd.DataFrame) -> str:
    """Identity of the test split: its images and their boxes."""
    return fingerprint(
        (image, tuple(tuple(box) for box in np.round(as_boxes(boxes), 6).tolist()))
        for image, boxes in zip(test["image"], test["boxes"], strict=True)
    )


def score(
    truth: list[np.ndarray],
    detections: list[Detections],
    sizes: list[tuple[int, int]],
    params: PlatesEvaluateParams,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The metrics dict, and the model's COCO scores and operating point (for plots)."""
    ours = coco_scores(truth, detections, sizes)
    point = operating_point(truth, detections, params.score_threshold, params.iou_threshold)
    empty = empty_detections(len(truth))
    nothing = coco_scores(truth, empty, sizes)
    nothing_point = operating_point(truth, empty, params.score_threshold, params.iou_threshold)
    metrics = {
        "test_ap": ours["ap"],
        "test_ap50": ours["ap50"],
        "test_ap75": ours["ap75"],
        "test_precision": point["precision"],
        "test_recall": point["recall"],
        "test_f1": point["f1"],
        "test_true_positives": point["true_positives"],
        "test_false_positives": point["false_positives"],
        "test_false_negatives": point["false_negatives"],
        "score_threshold": params.score_threshold,
        "iou_threshold": params.iou_threshold,
        "test_images": len(truth),
        "test_plates": sum(len(as_boxes(boxes)) for boxes in truth),
        "baseline": {
            "name": "empty detector",
            "ap": nothing["ap"],
            "ap50": nothing["ap50"],
            "ap75": nothing["ap75"],
            "precision": nothing_point["precision"],
            "recall": nothing_point["recall"],
        },
        "beats_baseline": bool(ours["ap50"] > nothing["ap50"]),
        "ap50_gain_over_baseline": ours["ap50"] - nothing["ap50"],
    }
    return metrics, ours, point


def evaluate(
    model: Any, valid: pd.DataFrame, params: PlatesEvaluateParams, paths: TaskPaths
) -> Evaluation:
    """Detect plates on the raw test images; write the plots and the boxes found."""
    raw_dir, out_dir = paths.raw_dir, paths.reports_dir
    test = valid[valid["split"] == "test"].sort_values("image").reset_index(drop=True)
    cap = max_detections(paths.assets_dir)
    truth: list[np.ndarray] = []
    sizes: list[tuple[int, int]] = []
    detections: list[Detections] = []
    for start in range(0, len(test), params.batch_size):  # a batch of images in memory
        chunk = test.iloc[start : start + params.batch_size]
        images = [read_rgb(raw_dir / image) for image in chunk["image"]]
        for image, boxes in zip(images, chunk["boxes"], strict=True):
            height, width = image.shape[:2]
            sizes.append((width, height))
            truth.append(yolo_to_xyxy(boxes, width, height))
        detections += detect(
            model, images, min_score=params.min_score, max_detections=cap,
            batch_size=params.batch_size,
        )  # fmt: skip
    metrics, ours, point = score(truth, detections, sizes, params)
    metrics["test_split_hash"] = split_fingerprint(test)
    write_json(
        out_dir / "pr_curve.json",
        [
            {"recall": round(r, 4), "precision": round(p, 4)}
            for r, p in zip(ours["curve"]["recall"], ours["curve"]["precision"], strict=True)
        ],
    )
    write_json(
        out_dir / "detections.json",
        [
            {"image": image, "width": w, "height": h, "detections": found.as_rows()}
            for image, (w, h), found in zip(test["image"], sizes, detections, strict=True)
        ],
    )
    plot_precision_recall(ours, point, metrics["baseline"], out_dir / "precision_recall.png")
    shown = min(params.grid_images, len(test))
    plot_detections(
        [read_rgb(raw_dir / image) for image in test["image"].iloc[:shown]],
        truth[:shown],
        detections[:shown],
        params.score_threshold,
        out_dir / "test_detections.png",
    )
    return Evaluation.from_json(metrics, PRIMARY)
