"""How a plate crop becomes what the reader reads, how its output becomes text, and
reading detected boxes of a photo in one batch (`pipeline predict plates --read`)."""

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.tasks.plates_text.boxes import read_boxes_scored
from pipeline.tasks.plates_text.crops import cut, is_two_line, to_line
from pipeline.tasks.plates_text.evaluate import edit_distance, position_confusions, scores
from pipeline.tasks.plates_text.model import encode, greedy_decode

CHARSET = "0123456789-"


def _two_tone(height: int, width: int) -> np.ndarray:
    """Top half red, bottom half blue."""
    crop = np.zeros((height, width, 3), np.uint8)
    crop[: height // 2, :, 0] = 255
    crop[height // 2 :, :, 2] = 255
    return crop


def test_a_two_line_plate_is_read_as_its_halves_side_by_side():
    line = to_line(_two_tone(60, 78), 32, 128)  # GreenParking's shape: about square
    assert line.shape == (32, 128, 3)
    left, right = line[:, :64].astype(int), line[:, 64:].astype(int)
    assert left[..., 0].mean() > 200 and left[..., 2].mean() < 60  # mostly the top line
    assert right[..., 2].mean() > 200 and right[..., 0].mean() < 60  # then the bottom line


def test_a_one_line_plate_is_resized_whole():
    crop = _two_tone(20, 90)  # a car plate: 4.5 times as wide as tall
    assert not is_two_line(crop)
    line = to_line(crop, 32, 128)
    assert line.shape == (32, 128, 3)
    assert line[:12, :, 0].mean() > 200 and line[-12:, :, 2].mean() > 200  # rows kept in place


def test_cut_grows_the_box_by_the_margin_and_stays_in_the_image():
    image = np.zeros((50, 100, 3), np.uint8)
    assert cut(image, (10, 10, 30, 20), margin=0.1).shape == (12, 24, 3)
    assert cut(image, (90, 40, 120, 60), margin=0).shape == (10, 10, 3)
    with pytest.raises(ValueError, match="no pixels"):
        cut(image, (200, 10, 220, 20), margin=0)


def test_greedy_decoding_merges_repeats_drops_blanks_and_scores_confidence():
    steps = [1, 1, 0, 1, 2, 2, 0, 11]  # "0", "0" (after a blank), "1", "-"
    confident = np.full((1, len(steps), len(CHARSET) + 1), -10.0)
    confident[0, np.arange(len(steps)), steps] = 10.0
    unsure = confident / 20  # the same path with low margins
    texts, high = greedy_decode(confident, CHARSET)
    assert texts == ["001-"]
    texts_unsure, low = greedy_decode(unsure, CHARSET)
    assert texts_unsure == ["001-"]
    assert high[0] > 0.99 and low[0] < 0.5


def test_labels_are_padded_with_the_blank():
    assert encode(["01", "-"], CHARSET, 4).tolist() == [[1, 2, 0, 0], [11, 0, 0, 0]]
    with pytest.raises(KeyError):
        encode(["A"], CHARSET, 4)


def test_character_error_rate_and_exact_accuracy():
    assert edit_distance("59C1-39916", "59C1-3996") == 1
    assert scores(["59C1-39916", "59C1-3996"], ["59C1-39916", "59C1-39916"]) == {
        "exact": 0.5,
        "cer": pytest.approx(1 / 20),
    }
    confusions = position_confusions(["12", "13"], ["12", "1"], positions=3)
    assert confusions[1] == {("2", "2"): 1, ("∅", "3"): 1}
    assert not confusions[2]


class _FakeReader:
    """A plates_text pyfunc stand-in: reads a crop's width as its text, and counts calls."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        self.calls.append(len(frame))
        widths = [
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[1]
            for data in frame["image"]
        ]
        return pd.DataFrame({"text": [f"w{w}" for w in widths], "score": [0.9] * len(widths)})


def test_read_boxes_cuts_each_box_and_reads_them_in_one_batch():
    photo = np.full((80, 160, 3), 128, np.uint8)
    _ok, jpeg = cv2.imencode(".jpg", photo)
    reader = _FakeReader()
    boxes = [
        {"x1": 10, "y1": 10, "x2": 50, "y2": 40, "score": 0.8},  # the plates pyfunc's rows
        (300, 10, 340, 40),  # entirely outside the photo
        (100, 20, 120, 60),
    ]
    read = read_boxes_scored(jpeg.tobytes(), boxes, reader, margin=0)
    assert read == [("w40", 0.9), (None, None), ("w20", 0.9)]
    assert reader.calls == [2]  # one batch for the readable boxes
    assert read_boxes_scored(jpeg.tobytes(), [], reader) == []
