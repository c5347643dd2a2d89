"""Driving augmentation: the train split only, with angles that follow the pixels."""

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.tasks.driving.augment import augment, brighten, flip, histogram_rows, shift
from pipeline.tasks.driving.camera import CAMERA_FILE, REAL_SIMULATOR, angle_per_pixel, write_camera
from pipeline.tasks.driving.params import DrivingAugmentParams
from tests.conftest import paths_in


@pytest.fixture
def recording(tmp_path):
    raw = tmp_path / "raw"
    (raw / "IMG").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    splits = ["train"] * 8 + ["val", "test", "guard"]
    angles = [0.0, 0.0, 0.0, 0.0, 0.3, -0.4, 0.5, 0.0, 0.1, -0.2, 0.0]
    for i, (split, angle) in enumerate(zip(splits, angles, strict=True)):
        row = {"split": split, "steering": angle, "log": "driving_log.csv", "frame": i}
        for camera in ("center", "left", "right"):
            name = f"IMG/{camera}_{i}.jpg"
            cv2.imwrite(str(raw / name), rng.integers(0, 255, (160, 320, 3), dtype=np.uint8))
            row[camera] = name
        rows.append(row)
    return raw, pd.DataFrame(rows)


def test_flip_mirrors_and_negates():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    flipped, angle = flip(image, 0.3)
    assert np.array_equal(flipped, image[:, ::-1]) and angle == -0.3


def test_a_shift_right_moves_the_picture_and_steers_right():
    image = np.zeros((4, 10, 3), np.uint8)
    image[:, 2] = 255
    moved, angle = shift(image, 0.0, 3, 0.01)
    assert moved[0, 5].max() == 255 and moved[0, 2].max() == 0
    assert angle == pytest.approx(0.03)


def test_brightness_scales_the_value_channel():
    image = np.full((2, 2, 3), 100, np.uint8)
    assert brighten(image, 0.5).mean() == pytest.approx(50, abs=2)


def test_only_train_is_augmented_and_val_test_are_byte_copies(recording, tmp_path):
    raw, valid = recording
    out = tmp_path / "out"
    out.mkdir()
    params = DrivingAugmentParams(copies=2, zero_keep_fraction=1.0)
    manifest, report = augment(valid, params, paths_in(raw, processed_dir=out), seed=1)
    assert sorted(manifest["split"].unique()) == ["test", "train", "val"]  # no guard frames
    assert (manifest["split"] == "train").sum() == 8 * 3
    for split in ("val", "test"):
        (row,) = manifest[manifest["split"] == split].itertuples()
        assert (out / row.image).read_bytes() == (raw / row.source).read_bytes()
        assert row.camera == "center" and not row.flipped
    assert report["train_images_after"] == 24 and sum(report["after"]) == 24


def test_side_cameras_get_the_steering_correction(recording, tmp_path):
    raw, valid = recording
    out = tmp_path / "out"
    out.mkdir()
    params = DrivingAugmentParams(
        copies=6,
        flip_probability=0,
        shift_pixels=0,
        brightness=0,
        zero_keep_fraction=1.0,
        steering_correction=0.2,
    )
    manifest, _ = augment(valid, params, paths_in(raw, processed_dir=out), seed=2)
    variants = manifest[(manifest["split"] == "train") & (manifest["source"].str.contains("_4"))]
    by_camera = variants.groupby("camera")["steering"].first()
    assert by_camera["left"] == pytest.approx(0.5) and by_camera["right"] == pytest.approx(0.1)


def test_straight_frames_are_downsampled_and_curves_kept(recording, tmp_path):
    raw, valid = recording
    out = tmp_path / "out"
    out.mkdir()
    params = DrivingAugmentParams(copies=0, zero_keep_fraction=0.0)
    manifest, report = augment(valid, params, paths_in(raw, processed_dir=out), seed=3)
    assert sorted(manifest.loc[manifest["split"] == "train", "steering"]) == [-0.4, 0.3, 0.5]
    assert report["straight_share_before"] == pytest.approx(5 / 8)
    assert report["straight_share_after"] == 0
    rows = histogram_rows(report)
    assert sum(r["count"] for r in rows if r["when"] == "before") == 8


# ---- the camera's angle per pixel ------------------------------------------------------
def test_a_number_is_used_as_it_is(tmp_path):
    write_camera(tmp_path, 0.0125)
    assert angle_per_pixel(0.01, tmp_path).value == 0.01


def test_auto_reads_the_recordings_camera_file(tmp_path):
    write_camera(tmp_path, 0.0125)
    found = angle_per_pixel("auto", tmp_path)
    assert found.value == 0.0125 and CAMERA_FILE in found.source


def test_auto_without_a_camera_file_is_the_real_simulator_and_says_so(tmp_path):
    found = angle_per_pixel("auto", tmp_path)
    assert found.value == REAL_SIMULATOR == 0.004
    assert "set augment.driving.angle_per_pixel" in found.source


@pytest.mark.parametrize("text", ["not json", '{"other": 1}', '{"angle_per_pixel": -1}', "[]"])
def test_a_camera_file_that_is_not_one_fails_closed(tmp_path, text):
    (tmp_path / CAMERA_FILE).write_text(text)
    with pytest.raises(DatasetError, match=CAMERA_FILE):
        angle_per_pixel("auto", tmp_path)


def test_augment_uses_and_reports_the_cameras_figure(recording, tmp_path):
    raw, valid = recording
    write_camera(raw, 0.05)
    out = tmp_path / "out"
    out.mkdir()
    params = DrivingAugmentParams(
        copies=3, flip_probability=0, brightness=0, zero_keep_fraction=1.0, shift_pixels=10
    )
    manifest, report = augment(valid, params, paths_in(raw, processed_dir=out), seed=3)
    assert report["angle_per_pixel"] == 0.05 and CAMERA_FILE in report["angle_source"]
    variants = manifest[(manifest["camera"] == "center") & (manifest["shift_px"] != 0)]
    source_angle = variants["source"].map(valid.set_index("center")["steering"])
    expected = (source_angle + variants["shift_px"] * 0.05).clip(-1, 1)
    assert np.allclose(variants["steering"], expected)
