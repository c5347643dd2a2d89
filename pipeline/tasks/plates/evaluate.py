"""COCO average precision of the plate detector on the test split, beside an empty detector.

AP comes from pycocotools (the figure papers and model zoos report), on the raw test images
in their own pixels. Precision, recall and F1 are taken at the operating threshold, the
score above which the served model's boxes are shown. The baseline is a detector that finds
nothing: scored by the same code, it shows what a model gains over "no plate anywhere".
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.io import write_json
from pipeline.core.plots import new_figure, save_figure
from pipeline.tasks.plates.boxes import as_boxes, iou, yolo_to_xyxy
from pipeline.tasks.plates.inference import Detections, detect
from pipeline.tasks.plates.params import PlatesEvaluateParams

DEFAULT_MAX_DETECTIONS = 100
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


def split_fingerprint(test: pd.DataFrame) -> str:
    """Identity of the test split: two models are only compared on the same one."""
    rows = sorted(
        (image, tuple(tuple(box) for box in np.round(as_boxes(boxes), 6).tolist()))
        for image, boxes in zip(test["image"], test["boxes"], strict=True)
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


def max_detections(assets_dir: Path) -> int:
    """The training-time cap on boxes per image (`detector.json`), else COCO's 100."""
    path = assets_dir / "detector.json"
    if not path.exists():
        return DEFAULT_MAX_DETECTIONS
    return int(json.loads(path.read_text()).get("max_detections", DEFAULT_MAX_DETECTIONS))


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    bgr = cv2.imread(str(path))
    if bgr is None:
        raise DatasetError(f"plates: cannot decode test image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


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


def plot_precision_recall(
    ours: dict[str, Any], point: dict[str, Any], baseline: dict[str, Any], path: Path
) -> None:
    figure = new_figure(5.5, 5)
    axes = figure.subplots()
    curve = ours["curve"]
    axes.plot(curve["recall"], curve["precision"], label=f"detector (AP50 {ours['ap50']:.3f})")
    axes.plot(
        [0, 1], [0, 0], color="grey", linestyle="--",
        label=f"{baseline['name']} (AP50 {baseline['ap50']:.3f})",
    )  # fmt: skip
    axes.scatter(
        [point["recall"]], [point["precision"]], color="red", zorder=3, label="operating point"
    )
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall at IoU 0.5")
    axes.set_xlim(0, 1)
    axes.set_ylim(-0.02, 1.02)
    axes.legend(loc="best")
    save_figure(figure, path)


def plot_detections(
    images: list[np.ndarray],
    truth: list[np.ndarray],
    detections: list[Detections],
    score_threshold: float,
    path: Path,
) -> None:
    """Test images with plates in green and the boxes above the threshold in red."""
    from pipeline.tasks.plates.drawing import GREEN, RED, draw

    shown = max(1, len(images))
    columns = min(3, shown)
    rows = -(-shown // columns)
    figure = new_figure(4 * columns, 3.4 * rows)
    for i, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.axis("off")
        if i >= len(images):
            continue
        plates = [dict(zip(("x1", "y1", "x2", "y2"), box, strict=True)) for box in truth[i]]
        found = [r for r in detections[i].as_rows() if r["score"] >= score_threshold]
        axes.imshow(draw(draw(images[i], plates, GREEN), found, RED))
        axes.set_title(f"plates: {len(truth[i])}, found: {len(found)}", fontsize=9)
    save_figure(figure, path)


def evaluate(
    model: Any,
    valid: pd.DataFrame,
    raw_dir: Path,
    params: PlatesEvaluateParams,
    out_dir: Path,
    *,
    processed_dir: Path,
    assets_dir: Path,
) -> dict[str, Any]:
    """Detect plates on the raw test images; write the plots and the boxes found."""
    test = valid[valid["split"] == "test"].sort_values("image").reset_index(drop=True)
    cap = max_detections(assets_dir)
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
    return metrics
