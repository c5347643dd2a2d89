"""Plates box geometry: YOLO fractions <-> pixel corners, with hand-computed numbers."""

import numpy as np

from pipeline.tasks.plates.boxes import as_boxes, clip, transform, xyxy_to_yolo, yolo_to_xyxy


def test_yolo_to_pixels_with_known_numbers():
    # a 200 x 100 image; centre (0.5, 0.25), 0.2 wide, 0.1 tall -> x 80..120, y 20..30
    xyxy = yolo_to_xyxy([[0.5, 0.25, 0.2, 0.1]], 200, 100)
    assert np.allclose(xyxy, [[80, 20, 120, 30]])


def test_pixels_to_yolo_with_known_numbers():
    yolo = xyxy_to_yolo([[0, 0, 50, 25], [150, 50, 200, 100]], 200, 100)
    assert np.allclose(yolo, [[0.125, 0.125, 0.25, 0.25], [0.875, 0.75, 0.25, 0.5]])


def test_round_trip_yolo_pixels_yolo():
    yolo = np.array([[0.46698, 0.1579, 0.160657, 0.18439], [0.1, 0.9, 0.05, 0.2]])
    back = xyxy_to_yolo(yolo_to_xyxy(yolo, 640, 480), 640, 480)
    assert np.allclose(back, yolo, atol=1e-12)


def test_no_boxes_keep_their_shape():
    assert as_boxes([]).shape == (0, 4)
    assert yolo_to_xyxy([], 10, 10).shape == (0, 4)
    assert xyxy_to_yolo(np.empty((0, 4)), 10, 10).shape == (0, 4)
    assert transform([], np.eye(2, 3)).shape == (0, 4)


def test_clip_cuts_boxes_to_the_image():
    assert clip([[-5, 2, 12, 20]], 10, 8).tolist() == [[0, 2, 10, 8]]
