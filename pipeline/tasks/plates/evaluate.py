"""Plate detection scored on the raw test images, beside a detector that finds nothing.

The baseline, scored by the same code (`scoring`), shows what a model gains over "no plate
anywhere". The report keeps every overall figure at the top level, and the same figures
per source (top-level dataset folder, `pipeline.tasks.plates.sources`) under `per_source`,
with each source's images per split; plots and the boxes found go beside it.
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
from pipeline.tasks.plates.sources import metric_key, source_of

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


def per_source(
    valid: pd.DataFrame,
    test: pd.DataFrame,
    truth: list[np.ndarray],
    detections: list[Detections],
    sizes: list[tuple[int, int]],
    params: PlatesEvaluateParams,
) -> dict[str, dict[str, Any]]:
    """Each source's images per split and test figures, keyed by a metric-safe name.

    A figure that is undefined for a source is null, not an error (the overall figures
    decide whether the run fails): every figure of a source with no test photo, AP of one
    whose test photos hold no plate.
    """
    sources = [source_of(folder) for folder in test["folder"]]
    counts = pd.crosstab(valid["folder"].map(source_of), valid["split"])
    report: dict[str, dict[str, Any]] = {}
    for source in sorted(set(counts.index) | set(sources)):
        rows = [i for i, name in enumerate(sources) if name == source]
        mine = [truth[i] for i in rows]
        found = [detections[i] for i in rows]
        plates = sum(len(as_boxes(boxes)) for boxes in mine)
        ours = coco_scores(mine, found, [sizes[i] for i in rows]) if plates else {}
        point = (
            operating_point(mine, found, params.score_threshold, params.iou_threshold)
            if rows
            else {}
        )
        images = counts.loc[source] if source in counts.index else {}
        key = metric_key(source)
        while key in report:  # two names that differ only by characters MLflow refuses
            key += "_"
        report[key] = {
            "source": source,
            "images": {split: int(images.get(split, 0)) for split in ("train", "val", "test")},
            "test_plates": plates,
            "test_ap50": ours.get("ap50"),
            "test_ap": ours.get("ap"),
            "test_precision": point.get("precision"),
            "test_recall": point.get("recall"),
        }
    return report


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
    metrics["per_source"] = per_source(valid, test, truth, detections, sizes, params)
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
