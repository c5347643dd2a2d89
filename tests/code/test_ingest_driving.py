"""Driving ingest on hand-made logs: headers, Windows/Unix/relative paths, segments."""

import itertools

import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams

PARAMS = DrivingIngestParams(
    segment_frames=4, guard_frames=1, val_fraction=0.25, test_fraction=0.25
)


def _recording(root, write_image, rows, header=False, style="windows"):
    (root / "IMG").mkdir(parents=True, exist_ok=True)
    lines = ["center,left,right,steering,throttle,brake,speed"] if header else []
    for i, steering in enumerate(rows):
        names = [
            f"{camera}_2016_12_01_13_30_{i:02d}_000.jpg" for camera in ("center", "left", "right")
        ]
        for name in names:
            write_image(root / "IMG" / name, width=32, height=16)
        if style == "windows":
            paths = [rf"C:\Users\me\Desktop\rec\IMG\{n}" for n in names]
        elif style == "unix":
            paths = [f"/home/me/rec/IMG/{n}" for n in names]
        else:
            paths = [f"IMG/{n}" for n in names]
        lines.append(f"{paths[0]}, {paths[1]}, {paths[2]},{steering},0.5,0,30.1")
    (root / "driving_log.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("style", ["windows", "unix", "relative"])
@pytest.mark.parametrize("header", [False, True])
def test_paths_resolve_by_file_name_under_img(tmp_path, write_image, style, header):
    root = _recording(tmp_path / "rec", write_image, [0, 0.1, -0.2], header=header, style=style)
    manifest = read_raw(root, PARAMS, seed=0)
    assert len(manifest) == 3
    assert manifest["issue"].isna().all()
    assert manifest.loc[1, "center"] == "IMG/center_2016_12_01_13_30_01_000.jpg"
    assert manifest.loc[2, "left"] == "IMG/left_2016_12_01_13_30_02_000.jpg"
    assert manifest["steering"].tolist() == [0, 0.1, -0.2]


def test_missing_image_and_bad_number_are_rows_with_an_issue(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0, "abc", 0.3])
    (root / "IMG" / "right_2016_12_01_13_30_02_000.jpg").unlink()
    manifest = read_raw(root, PARAMS, seed=0)
    assert len(manifest) == 3
    assert manifest.loc[1, "issue"] == "steering not a number"
    assert pd.isna(manifest.loc[1, "steering"])
    assert manifest.loc[2, "issue"] == "right image missing"
    assert pd.isna(manifest.loc[2, "right"])


def test_a_path_naming_a_parent_folder_is_not_followed(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0])
    log = root / "driving_log.csv"
    log.write_text(
        log.read_text().replace(
            r"C:\Users\me\Desktop\rec\IMG\center_2016_12_01_13_30_00_000.jpg", ".."
        )
    )
    assert read_raw(root, PARAMS, seed=0).loc[0, "issue"] == "center image missing"


def test_segments_are_contiguous_and_never_split(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.0] * 40)
    manifest = read_raw(root, PARAMS, seed=3)
    assert manifest["segment"].tolist() == [f"driving_log.csv:{i // 4}" for i in range(40)]
    real = manifest[manifest["split"] != "guard"]
    assert (real.groupby("segment")["split"].nunique() == 1).all()
    assert set(real["split"]) == {"train", "val", "test"}


def test_adjacent_frames_never_straddle_two_splits(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.0] * 40)
    splits = read_raw(root, PARAMS, seed=3)["split"].tolist()
    for before, after in itertools.pairwise(splits):
        assert before == after or "guard" in (before, after)


def test_several_recordings_are_read_each_with_its_own_img(tmp_path, write_image):
    _recording(tmp_path / "raw" / "lap1", write_image, [0.1, 0.2])
    _recording(tmp_path / "raw" / "lap2", write_image, [0.3])
    manifest = read_raw(tmp_path / "raw", PARAMS, seed=0)
    assert manifest["log"].tolist() == ["lap1/driving_log.csv"] * 2 + ["lap2/driving_log.csv"]
    assert manifest.loc[2, "center"] == "lap2/IMG/center_2016_12_01_13_30_00_000.jpg"


def test_a_folder_without_log_says_what_it_expected(tmp_path):
    with pytest.raises(DatasetError, match=r"no driving_log\.csv"):
        read_raw(tmp_path, PARAMS, seed=0)
