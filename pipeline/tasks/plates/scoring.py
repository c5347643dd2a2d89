"""COCO average precision and the operating point of plate detections, beside none at all.

AP comes from pycocotools (the figure papers and model zoos report), on images in their
own pixels. Precision, recall and F1 are taken at the operating threshold, the score above
which the served model's boxes are shown.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from pipeline.core.errors import DatasetError
from pipeline.tasks.plates.boxes import as_boxes, iou
from pipeline.tasks.plates.detectors.config import DEFAULT_MAX_DETECTIONS
from pipeline.tasks.plates.inference import Detections

RECALL_THRESHOLDS = np.linspace(0.0, 1.0, 101)  # COCO's 101-point interpolation


def empty_detections(count: int) -> list[Detections]:
    """What a detector that never fires returns for `count` images."""
    return [Detections(np.zeros((0, 4)), np.zeros(0)) for _ in range(count)]


def _coco_boxes(xyxy: np.ndarray) -> list[list[float]]:
    """Pixel corners -> COCO's `[x, y, width, height]`."""
    return [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in as_boxes(xyxy).tolist()]


def coco_scores(
    truth: list[np.ndarray],
    detections: list[Detections],
    sizes: list[tuple[int, int]],
    *,
    split: str = "test",
) -> dict[str, Any]:
    """AP@[.5:.95], AP50, AP75 and the precision-recall curve at IoU 0.5, by pycocotools.

    `truth` holds each image's pixel xyxy plates and `sizes` its (width, height). With no
    detection at all AP is 0 (pycocotools cannot load an empty result); with no plate at
    all AP is undefined, so that is a `DatasetError` naming the split.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    plates = sum(len(as_boxes(boxes)) for boxes in truth)
    if plates == 0:
        raise DatasetError(
            f"plates: no plate in the {split} split, so average precision is undefined; "
            "label more images or change ingest.plates.test_fraction"
        )
    zero_curve = {"recall": RECALL_THRESHOLDS.tolist(), "precision": [0.0] * 101}
    results = [
        {"image_id": i + 1, "category_id": 1, "bbox": bbox, "score": float(score)}
        for i, found in enumerate(detections)
        for bbox, score in zip(_coco_boxes(found.boxes), found.scores, strict=True)
    ]
    if not results:
        return {"ap": 0.0, "ap50": 0.0, "ap75": 0.0, "curve": zero_curve}
    annotations = [
        {"image_id": i + 1, "category_id": 1, "bbox": bbox, "area": bbox[2] * bbox[3]}
        for i, boxes in enumerate(truth)
        for bbox in _coco_boxes(boxes)
    ]
    ground = COCO()
    ground.dataset = {
        "images": [{"id": i + 1, "width": w, "height": h} for i, (w, h) in enumerate(sizes)],
        # ids from 1: COCOeval takes a matched id of 0 for "unmatched"
        "annotations": [{**a, "id": n + 1, "iscrowd": 0} for n, a in enumerate(annotations)],
        "categories": [{"id": 1, "name": "plate"}],
    }
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        ground.createIndex()
        evaluation = COCOeval(ground, ground.loadRes(results), "bbox")
        most = max(len(found.scores) for found in detections)
        evaluation.params.maxDets = [1, 10, max(DEFAULT_MAX_DETECTIONS, most)]
        evaluation.evaluate()
        evaluation.accumulate()
    # [iou, recall, class, area range ("all" first), max detections (the largest last)]
    precision = evaluation.eval["precision"][:, :, 0, 0, -1]
    thresholds = evaluation.params.iouThrs
    at_50, at_75 = (int(np.argmin(np.abs(thresholds - t))) for t in (0.5, 0.75))
    curve = precision[at_50]
    return {
        "ap": _mean_precision(precision),
        "ap50": _mean_precision(precision[at_50]),
        "ap75": _mean_precision(precision[at_75]),
        "curve": {
            "recall": RECALL_THRESHOLDS[curve > -1].tolist(),
            "precision": curve[curve > -1].tolist(),
        },
    }


def _mean_precision(precision: np.ndarray) -> float:
    """COCOeval.summarize's AP: the mean over entries with data (-1 means none)."""
    known = precision[precision > -1]
    return float(known.mean()) if known.size else 0.0


def operating_point(
    truth: list[np.ndarray],
    detections: list[Detections],
    score_threshold: float,
    iou_threshold: float,
) -> dict[str, Any]:
    """Precision, recall and F1 of the boxes scoring at least `score_threshold`.

    Greedy matching, best score first: a detection takes the unmatched plate it overlaps
    most (IoU >= `iou_threshold`), so a second box on the same plate is a false positive.
    Precision is 0.0 when nothing is detected (a detector that finds nothing is not
    precise), recall is 0.0 when there is no plate.
    """
    tp = fp = plates = 0
    for boxes, found in zip(truth, detections, strict=True):
        plates_here = as_boxes(boxes)
        plates += len(plates_here)
        keep = np.asarray(found.scores) >= score_threshold
        kept = as_boxes(found.boxes)[keep][np.argsort(-np.asarray(found.scores)[keep])]
        overlaps = iou(kept, plates_here)
        free = np.ones(len(plates_here), dtype=bool)
        for row in overlaps:
            candidates = np.where(free & (row >= iou_threshold), row, -1.0)
            if candidates.size and candidates.max() >= 0:
                free[int(candidates.argmax())] = False
                tp += 1
            else:
                fp += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / plates if plates else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": plates - tp,
    }
