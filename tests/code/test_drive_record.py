"""`pipeline drive` answers every telemetry frame, good or bad, and records a drive as a
simulator recording that our ingest reads back."""

import base64
from datetime import datetime

import cv2
import numpy as np
import pytest

from pipeline.tasks.driving.drive.control import SpeedController
from pipeline.tasks.driving.drive.driver import Driver, number
from pipeline.tasks.driving.drive.record import Recorder, frame_name
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams


def _jpeg(seed: int = 0, width: int = 320, height: int = 160) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", pixels)[1].tobytes()


def _telemetry(jpeg: bytes, speed: str = "10.0000") -> dict[str, str]:
    image = base64.b64encode(jpeg).decode()
    return {"steering_angle": "0.0000", "throttle": "0.0000", "speed": speed, "image": image}


def _mean_steer(frame: np.ndarray) -> float:
    """A stand-in model: the frame's mean, so each frame gets its own angle."""
    assert frame.shape == (160, 320, 3) and frame.dtype == np.uint8
    return float(frame.mean() / 127.5 - 1.0)


def _driver(recorder=None, steer=_mean_steer) -> tuple[Driver, list[str]]:
    problems: list[str] = []
    return Driver(steer, SpeedController(20.0), recorder, on_problem=problems.append), problems


def test_the_simulators_frame_names_sort_in_time_order():
    assert frame_name(datetime(2016, 12, 1, 13, 30, 48, 287999)) == (
        "center_2016_12_01_13_30_48_287.jpg"
    )


def test_a_frame_is_answered_with_its_angle_and_the_pi_throttle_as_strings():
    driver, problems = _driver()
    jpeg = _jpeg()
    event, answer = driver.telemetry(_telemetry(jpeg, speed="0.0000"))
    import tensorflow as tf

    from pipeline.core.tfdata import decode_rgb

    frame = decode_rgb(tf.constant(jpeg)).numpy()  # decoded as training decodes
    assert event == "steer"
    assert float(answer["steering_angle"]) == pytest.approx(_mean_steer(frame))
    assert answer["throttle"] == "1.0"  # standing still, 20 mph wanted: full throttle
    assert driver.frames == 1 and not problems


def test_connect_sends_zero_steering_and_empty_telemetry_gets_an_empty_manual():
    driver, _ = _driver()
    assert driver.connect() == ("steer", {"steering_angle": "0.0", "throttle": "0.0"})
    assert driver.telemetry({}) == ("manual", {})  # the user drives with the keys
    assert driver.telemetry(None) == ("manual", {})


def test_angles_beyond_the_simulators_range_are_clipped():
    driver, _ = _driver(steer=lambda frame: -3.5)
    assert driver.telemetry(_telemetry(_jpeg()))[1]["steering_angle"] == "-1.0"


def test_a_speed_written_with_a_decimal_comma_is_read():
    assert number("12,3456") == 12.3456  # a simulator on a vi-VN or de-DE Windows
    assert number("7.843922E-05") == pytest.approx(7.843922e-05)
    with pytest.raises(ValueError):
        number("fast")


@pytest.mark.parametrize(
    "data, why",
    [
        ({"speed": "1.0", "image": "not base64 at all!"}, "not base64"),
        ({"speed": "1.0", "image": base64.b64encode(b"GIF89a...").decode()}, "does not decode"),
        ({"speed": "1.0"}, "no image"),
        ({**_telemetry(_jpeg(), speed="fast")}, "fast"),
        ({**_telemetry(_jpeg(), speed="nan")}, "finite"),
        (_telemetry(_jpeg(width=64, height=32)), "320x160"),
    ],
)
def test_a_bad_frame_is_answered_with_zero_steering_counted_and_the_next_one_driven(data, why):
    driver, problems = _driver()
    assert driver.telemetry(data) == ("steer", {"steering_angle": "0.0", "throttle": "0.0"})
    assert driver.bad_frames == 1 and why in problems[0]
    event, answer = driver.telemetry(_telemetry(_jpeg()))
    assert event == "steer" and answer["throttle"] != "0.0" and driver.frames == 1


def test_a_recorded_drive_is_a_recording_our_ingest_reads_without_issues(tmp_path):
    recorder = Recorder(tmp_path / "run")
    driver, problems = _driver(recorder)
    speeds = [0.0, 12.5, 25.0] * 6  # 18 frames: ingest splits 16 or more
    sent = []
    for k, speed in enumerate(speeds):
        jpeg = _jpeg(seed=k)
        written = f"{speed:.4f}".replace(".", ",") if k == 1 else f"{speed:.4f}"
        sent.append((jpeg, driver.telemetry(_telemetry(jpeg, written))[1]))
    driver.telemetry({"speed": "1", "image": "broken"})  # not recorded
    driver.close()

    lines = (tmp_path / "run" / "driving_log.csv").read_text().splitlines()
    assert len(lines) == len(speeds) and len(problems) == 1  # the broken frame
    for line, (jpeg, answer), speed in zip(lines, sent, speeds, strict=True):
        center, left, right, steering, throttle, brake, logged_speed = line.split(",")
        assert center.startswith("IMG/center_") and left == right == center
        assert (tmp_path / "run" / center).read_bytes() == jpeg  # the simulator's bytes as sent
        assert steering == answer["steering_angle"]
        sent_throttle = float(answer["throttle"])
        assert (float(throttle), float(brake)) == (max(sent_throttle, 0), max(-sent_throttle, 0))
        assert float(logged_speed) == speed
    assert float(lines[2].split(",")[5]) > 0  # over the set speed: the PI controller brakes

    manifest = read_raw(tmp_path / "run", DrivingIngestParams(), seed=0)
    assert len(manifest) == len(speeds) and manifest["issue"].isna().all()
    assert manifest["steering"].tolist() == [float(a["steering_angle"]) for _, a in sent]


def test_a_second_run_appends_with_later_names_even_within_one_millisecond(tmp_path):
    (tmp_path / "IMG").mkdir()
    (tmp_path / "driving_log.csv").write_text("IMG/a.jpg,IMG/a.jpg,IMG/a.jpg,0,0,0,0")  # no \n
    recorder = Recorder(tmp_path)
    names = [recorder.record(_jpeg(), "0.0", 0.5, 1.0) for _ in range(20)]
    recorder.close()
    assert names == sorted(names) and len(set(names)) == 20  # 20 frames, < 1 ms apart
    lines = (tmp_path / "driving_log.csv").read_text().splitlines()
    assert lines[0] == "IMG/a.jpg,IMG/a.jpg,IMG/a.jpg,0,0,0,0" and len(lines) == 21


def test_a_killed_runs_half_written_frame_is_cleared_and_nothing_else(tmp_path):
    images = tmp_path / "IMG"
    images.mkdir()
    dead = images / ".center_x.jpg.999999999.tmp.jpg"  # a pid that is not running
    dead.write_bytes(b"\xff\xd8half")
    kept = images / "center_2016_12_01_13_30_48_287.jpg"
    kept.write_bytes(_jpeg())
    Recorder(tmp_path).close()
    assert not dead.exists() and kept.exists()


def test_a_failing_disk_stops_the_recording_not_the_driving(tmp_path, monkeypatch):
    recorder = Recorder(tmp_path)
    driver, problems = _driver(recorder)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder, "record", full)
    event, answer = driver.telemetry(_telemetry(_jpeg()))
    assert event == "steer" and answer["throttle"] == "1.0"
    assert driver.recorder is None and "recording stopped after 0 frames" in problems[0]
    assert driver.telemetry(_telemetry(_jpeg()))[0] == "steer" and driver.frames == 2
