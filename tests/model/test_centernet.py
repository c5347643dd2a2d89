"""CenterNet targets, loss and peak decoding: what the detector learns and reads back."""

import numpy as np
import pytest
from keras import ops

from pipeline.tasks.plates import centernet
from pipeline.tasks.plates.boxes import iou

STRIDE = 8
GRID = (24, 32)  # a 192 x 256 input


def _logits(target: np.ndarray) -> np.ndarray:
    """The output a perfect network would give for `target`: heat as logits, rest as is."""
    heat = np.clip(target[..., centernet.HEAT], 1e-6, 1 - 1e-6)
    output = target[..., : centernet.OUTPUT_CHANNELS].copy()
    output[..., centernet.HEAT] = np.log(heat / (1 - heat))
    return output


def test_encode_marks_each_centre_with_its_size_and_offset():
    boxes = np.array([[40.0, 50.0, 104.0, 98.0], [200.0, 10.0, 232.0, 34.0]])
    target = centernet.encode(boxes, GRID, STRIDE, 0.15)
    assert target.shape == (*GRID, centernet.TARGET_CHANNELS)
    assert target[..., centernet.CENTRE].sum() == 2
    row, col = 74 // STRIDE, 72 // STRIDE  # centre (72, 74) of the first box
    assert target[row, col, centernet.HEAT] == pytest.approx(1.0)
    np.testing.assert_allclose(target[row, col, centernet.SIZE], [8.0, 6.0])
    np.testing.assert_allclose(target[row, col, centernet.OFFSET], [0.0, 0.25])
    assert target[..., centernet.HEAT].max() <= 1.0
    assert 0 < target[row, col + 2, centernet.HEAT] < target[row, col + 1, centernet.HEAT] < 1


def test_encode_of_no_boxes_is_all_background():
    target = centernet.encode(np.zeros((0, 4)), GRID, STRIDE, 0.15)
    assert not target.any()


def test_decode_reads_back_the_encoded_boxes():
    boxes = np.array([[40.0, 50.0, 104.0, 98.0], [200.5, 10.0, 232.0, 33.0]])
    target = centernet.encode(boxes, GRID, STRIDE, 0.15)
    decoded, scores = centernet.decode(_logits(target), STRIDE, min_score=0.5, limit=10)
    assert len(decoded) == 2
    assert np.all(scores > 0.99)
    overlap = iou(boxes, decoded)
    assert overlap.max(axis=1).min() > 0.99


def test_peaks_keep_local_maxima_only_best_first_and_limited():
    heat = np.zeros((6, 6))
    heat[1, 1], heat[1, 2] = 0.9, 0.8  # neighbours: only the higher one is a peak
    heat[4, 4] = 0.95
    heat[4, 0] = 0.05  # below min_score
    rows, cols = centernet.peaks(heat, min_score=0.1, limit=10)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(4, 4), (1, 1)]
    rows, _ = centernet.peaks(heat, min_score=0.1, limit=1)
    assert len(rows) == 1


def test_decode_of_a_blank_heat_map_finds_nothing():
    output = np.zeros((*GRID, centernet.OUTPUT_CHANNELS), np.float32)
    output[..., centernet.HEAT] = -8.0
    boxes, scores = centernet.decode(output, STRIDE, min_score=0.01, limit=20)
    assert boxes.shape == (0, 4) and scores.shape == (0,)


def test_loss_is_lower_for_the_right_answer_than_for_a_shifted_one():
    pytest.importorskip("keras")
    boxes = np.array([[40.0, 50.0, 104.0, 98.0]])
    target = centernet.encode(boxes, GRID, STRIDE, 0.15)[None]
    right = _logits(target[0])[None]
    shifted = np.roll(right, 5, axis=2)
    blank = np.zeros_like(right)
    blank[..., centernet.HEAT] = centernet.PRIOR_LOGIT
    loss = centernet.loss()
    values = [float(ops.mean(loss(target, output))) for output in (right, shifted, blank)]
    assert values[0] < min(values[1:])
    assert np.isfinite(values).all()
    empty = centernet.encode(np.zeros((0, 4)), GRID, STRIDE, 0.15)[None]
    assert np.isfinite(float(ops.mean(loss(empty, blank))))


def test_overlapping_detections_of_one_plate_are_merged_into_the_best():
    from pipeline.tasks.plates.boxes import suppress_overlaps

    boxes = np.array([[10, 10, 50, 40], [14, 10, 54, 40], [100, 100, 140, 130.0]])
    scores = np.array([0.6, 0.7, 0.5])
    assert suppress_overlaps(boxes, scores, 0.5).tolist() == [1, 2]
    assert suppress_overlaps(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []
