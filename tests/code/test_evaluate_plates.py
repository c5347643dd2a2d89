"""Plates evaluation on hand-made boxes: COCO AP, the operating point, the report files."""

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.core.evaluation import Evaluation
from pipeline.tasks.plates import evaluate as plates_evaluate
from pipeline.tasks.plates.boxes import yolo_to_xyxy
from pipeline.tasks.plates.evaluate import evaluate, split_fingerprint
from pipeline.tasks.plates.inference import Detections
from pipeline.tasks.plates.params import PlatesEvaluateParams
from pipeline.tasks.plates.scoring import coco_scores, empty_detections, operating_point
from tests.conftest import paths_in

SIZES = [(200, 100), (200, 100)]
TRUTH = [np.array([[10.0, 10.0, 110.0, 60.0]]), np.array([[50.0, 20.0, 150.0, 70.0]])]


def _found(*rows):
    """Detections from `(x1, y1, x2, y2, score)` rows."""
    array = np.asarray(rows, dtype=float).reshape(-1, 5)
    return Detections(array[:, :4], array[:, 4])


def test_perfect_detections_score_one():
    detections = [_found((*TRUTH[0][0], 0.9)), _found((*TRUTH[1][0], 0.8))]
    scores = coco_scores(TRUTH, detections, SIZES)
    assert scores["ap50"] == pytest.approx(1.0)
    assert scores["ap"] == pytest.approx(1.0)
    assert scores["ap75"] == pytest.approx(1.0)
    assert scores["curve"]["precision"] == pytest.approx([1.0] * 101)
    point = operating_point(TRUTH, detections, score_threshold=0.5, iou_threshold=0.5)
    assert point["precision"] == point["recall"] == point["f1"] == 1.0
    assert point["true_positives"] == 2
    assert point["false_positives"] == point["false_negatives"] == 0


def test_no_detections_score_zero_without_crashing():
    scores = coco_scores(TRUTH, empty_detections(2), SIZES)
    assert scores["ap"] == scores["ap50"] == scores["ap75"] == 0.0
    assert scores["curve"]["precision"] == [0.0] * 101
    point = operating_point(TRUTH, empty_detections(2), score_threshold=0.3, iou_threshold=0.5)
    assert point["recall"] == point["precision"] == 0.0
    assert point["false_negatives"] == 2


def test_no_plate_at_all_is_a_readable_error():
    with pytest.raises(DatasetError, match="no plate in the test split"):
        coco_scores([np.zeros((0, 4))], [_found((1, 1, 5, 5, 0.9))], [(10, 10)])


def test_a_loose_box_counts_at_ap50_but_not_at_ap75():
    x1, y1, x2, y2 = TRUTH[0][0]
    shifted = _found((x1 + 24, y1, x2 + 24, y2, 0.9))  # IoU 76 / 124 = 0.61
    scores = coco_scores(TRUTH[:1], [shifted], SIZES[:1])
    assert scores["ap50"] == pytest.approx(1.0)
    assert scores["ap75"] == 0.0
    assert scores["ap"] == pytest.approx(0.3)  # matched at IoU 0.50, 0.55, 0.60 of ten


def test_a_confident_false_positive_lowers_ap50():
    detections = [_found((150, 60, 190, 90, 0.95), (*TRUTH[0][0], 0.8))]
    scores = coco_scores(TRUTH[:1], detections, SIZES[:1])
    assert scores["ap50"] == pytest.approx(0.5)


def test_two_boxes_on_one_plate_are_one_hit_and_one_false_positive():
    x1, y1, x2, y2 = TRUTH[0][0]
    detections = [_found((x1 + 2, y1, x2 + 2, y2, 0.7), (x1, y1, x2, y2, 0.9))]
    point = operating_point(TRUTH[:1], detections, score_threshold=0.5, iou_threshold=0.5)
    assert (point["true_positives"], point["false_positives"]) == (1, 1)
    assert point["precision"] == 0.5
    assert point["recall"] == 1.0


def test_boxes_below_the_operating_threshold_are_ignored():
    detections = [_found((*TRUTH[0][0], 0.2)), _found((*TRUTH[1][0], 0.9))]
    point = operating_point(TRUTH, detections, score_threshold=0.3, iou_threshold=0.5)
    assert (point["true_positives"], point["false_negatives"]) == (1, 1)
    assert point["precision"] == 1.0
    assert point["recall"] == 0.5


@pytest.fixture
def manifest(tmp_path, write_image):
    raw = tmp_path / "raw"
    rows = [
        ("a.jpg", [[0.5, 0.5, 0.4, 0.3]], "test", "vn/yolo"),
        ("b.jpg", np.array([[0.3, 0.4, 0.2, 0.2], [0.7, 0.6, 0.25, 0.2]]), "test", "eg"),  # parquet
        ("c.jpg", [], "test", "eg"),  # a negative image
        ("d.jpg", [[0.5, 0.5, 0.2, 0.2]], "train", "vn/yolo"),
        ("e.jpg", [[0.5, 0.5, 0.2, 0.2]], "val", "gp"),  # a source with no test photo
    ]
    for seed, (image, *_) in enumerate(rows):
        write_image(raw / image, width=96, height=64, seed=seed)
    return raw, pd.DataFrame(rows, columns=["image", "boxes", "split", "folder"])


def test_evaluate_writes_the_report_and_beats_the_empty_detector(tmp_path, manifest, monkeypatch):
    raw, valid = manifest
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "detector.json").write_text(json.dumps({"max_detections": 7}))
    test = valid[valid["split"] == "test"]
    perfect = iter(
        Detections(yolo_to_xyxy(boxes, 96, 64), np.full(len(boxes), 0.9)) for boxes in test["boxes"]
    )  # test rows are in image order, as evaluate reads them
    calls = []

    def fake_detect(model, images, *, min_score, max_detections, batch_size):
        calls.append((len(images), min_score, max_detections, batch_size))
        assert all(image.dtype == np.uint8 and image.shape == (64, 96, 3) for image in images)
        return [next(perfect) for _ in images]

    monkeypatch.setattr(plates_evaluate, "detect", fake_detect)
    params = PlatesEvaluateParams(batch_size=2, grid_images=2)
    out = tmp_path / "evaluation"
    paths = paths_in(raw, processed_dir=tmp_path, assets_dir=assets, reports_dir=out)
    evaluation = evaluate(None, valid, params, paths)
    assert evaluation.value == pytest.approx(1.0) and evaluation.beats_baseline
    metrics = evaluation.to_json()
    assert calls == [(2, params.min_score, 7, 2), (1, params.min_score, 7, 2)]
    assert metrics["test_ap50"] == pytest.approx(1.0)
    assert metrics["test_precision"] == metrics["test_recall"] == 1.0
    assert (metrics["test_images"], metrics["test_plates"]) == (3, 3)
    assert metrics["baseline"] == {
        "name": "empty detector", "ap": 0.0, "ap50": 0.0, "ap75": 0.0,
        "precision": 0.0, "recall": 0.0,
    }  # fmt: skip
    assert metrics["beats_baseline"] is True
    assert metrics["ap50_gain_over_baseline"] == pytest.approx(1.0)
    assert metrics["test_split_hash"] == split_fingerprint(test.iloc[::-1])
    json.dumps(metrics)  # JSON-serialisable without help
    assert metrics["per_source"]["vn"] == {
        "source": "vn", "images": {"train": 1, "val": 0, "test": 1}, "test_plates": 1,
        "test_ap50": pytest.approx(1.0), "test_ap": pytest.approx(1.0),
        "test_precision": 1.0, "test_recall": 1.0,
    }  # fmt: skip
    assert metrics["per_source"]["eg"]["images"] == {"train": 0, "val": 0, "test": 2}
    assert metrics["per_source"]["eg"]["test_plates"] == 2
    assert metrics["per_source"]["gp"]["test_ap50"] is None  # nothing to score, no error
    assert metrics["per_source"]["gp"]["test_precision"] is None
    again = Evaluation.from_json(json.loads(json.dumps(metrics)), plates_evaluate.PRIMARY)
    assert again.details["per_source"] == metrics["per_source"]
    assert again.metrics == evaluation.metrics  # nested figures stay out of the top level
    for name in ("precision_recall.png", "test_detections.png"):
        assert (out / name).stat().st_size > 0
    curve = json.loads((out / "pr_curve.json").read_text())
    assert curve[0] == {"recall": 0.0, "precision": 1.0}
    assert len(curve) == 101
    detections = json.loads((out / "detections.json").read_text())
    assert [row["image"] for row in detections] == ["a.jpg", "b.jpg", "c.jpg"]
    assert [len(row["detections"]) for row in detections] == [1, 2, 0]


def test_the_split_hash_changes_with_the_boxes():
    test = pd.DataFrame({"image": ["a.jpg", "b.jpg"], "boxes": [[[0.5, 0.5, 0.2, 0.1]], []]})
    moved = test.assign(boxes=[[[0.5, 0.5, 0.2, 0.2]], []])
    assert split_fingerprint(test) == split_fingerprint(test.copy())
    assert split_fingerprint(test) != split_fingerprint(moved)
    # promote compares models only on the same hash: the formula must not drift
    assert split_fingerprint(test) == "c475b74de613374a"
