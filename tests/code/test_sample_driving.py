"""The driving sample is a simulator recording.

No header, absolute Windows paths, and the signal in the pixels.
"""

import csv

import cv2
import numpy as np
import pytest

from pipeline.tasks.driving.camera import angle_per_pixel
from pipeline.tasks.driving.params import DrivingSampleParams
from pipeline.tasks.driving.sample import render, steering_angle, write_sample


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    out = tmp_path_factory.mktemp("driving")
    write_sample(out, DrivingSampleParams(frames=150), seed=7)
    with (out / "driving_log.csv").open() as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    return out, rows


def test_log_is_written_as_the_simulator_writes_it(recording):
    out, rows = recording
    assert len(rows) == 150
    assert all(len(row) == 7 for row in rows)
    assert not rows[0][3].isalpha()  # no header row
    first_line = (out / "driving_log.csv").read_text().splitlines()[0]
    assert first_line.startswith("C:\\Users\\udacity\\Desktop\\track1\\IMG\\center_2016_12_01_")
    assert ", C:\\" in first_line  # the simulator's space after the comma


def test_the_sample_describes_its_camera_for_auto(recording):
    out, _ = recording
    assert angle_per_pixel("auto", out).value == 0.0125  # 2 per unit of heading / 160 px


def test_every_frame_exists_and_is_320x160_colour(recording):
    out, rows = recording
    for row in rows[::15]:
        for recorded in row[:3]:
            image = cv2.imread(str(out / "IMG" / recorded.split("\\")[-1]))
            assert image.shape == (160, 320, 3)


def test_angles_have_many_zeros_and_both_signs(recording):
    angles = np.array([float(row[3]) for row in recording[1]])
    assert np.all(np.abs(angles) <= 1)
    assert 0.15 < np.mean(angles == 0) < 0.8
    assert angles.min() < -0.1 and angles.max() > 0.1


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    params = DrivingSampleParams(frames=5)
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        (tmp_path / name).mkdir()
        write_sample(tmp_path / name, params, seed)
    log = "driving_log.csv"
    assert (tmp_path / "a" / log).read_bytes() == (tmp_path / "b" / log).read_bytes()
    image = sorted((tmp_path / "a" / "IMG").iterdir())[0].name
    assert (tmp_path / "a" / "IMG" / image).read_bytes() == (
        tmp_path / "b" / "IMG" / image
    ).read_bytes()
    assert (tmp_path / "a" / log).read_bytes() != (tmp_path / "c" / log).read_bytes()


def _road_centre(frame: np.ndarray) -> float:
    """Mean column of road-grey pixels in the band just above the hood."""
    band = frame[110:130].astype(int)
    grey = np.abs(band - np.array([100, 100, 100])).max(axis=2) < 12
    return float(np.nonzero(grey)[1].mean())


def test_the_angle_is_in_the_pixels():
    """A car right of the lane centre sees the road to its left, and must steer left."""
    scenery = {
        "sky": np.array([200, 200, 230]),
        "grass": np.array([40, 120, 40]),
        "road": np.array([100, 100, 100]),
        "line": (235, 235, 235),
        "light": 1.0,
    }
    noise = np.zeros((160, 320, 1), np.float32)
    right_of_centre = np.array([0.0, 0.5, 0.0])
    left_of_centre = np.array([0.0, -0.5, 0.0])
    assert steering_angle(*right_of_centre) < 0 < steering_angle(*left_of_centre)
    seen_right = _road_centre(render(right_of_centre, 0.0, scenery, 0.0, noise))
    seen_left = _road_centre(render(left_of_centre, 0.0, scenery, 0.0, noise))
    assert seen_right < 160 - 10 and seen_left > 160 + 10


def test_the_left_camera_sees_what_a_car_further_left_sees():
    scenery = {
        "sky": np.array([200, 200, 230]),
        "grass": np.array([40, 120, 40]),
        "road": np.array([100, 100, 100]),
        "line": (235, 235, 235),
        "light": 1.0,
    }
    noise = np.zeros((160, 320, 1), np.float32)
    state = np.array([0.01, 0.1, 0.0])
    left_camera = render(state, -0.5, scenery, 0.0, noise)
    car_further_left = render(state - np.array([0, 0.5, 0]), 0.0, scenery, 0.0, noise)
    assert np.array_equal(left_camera, car_further_left)
    correction = steering_angle(*(state - [0, 0.5, 0])) - steering_angle(*state)
    assert correction == pytest.approx(0.2)
