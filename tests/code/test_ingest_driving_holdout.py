"""Held-out recordings (`ingest.driving.test_recordings`): a drive the model never sees in
training is the whole test split; the other drives split into train and val by segments."""

from datetime import datetime, timedelta

import pytest

from pipeline.core.errors import DatasetError
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams

START = datetime(2018, 2, 26, 10, 41, 13)
PARAMS = DrivingIngestParams(segment_frames=5, guard_frames=1, min_split_segments=1)


def _write_log(root, write_image, drives):
    """One log of `drives` (folder as written, frames), appended; 100 ms between frames."""
    lines, moment = [], START
    for folder, frames in drives:
        moment += timedelta(minutes=10)  # a new drive: another folder, later
        for i in range(frames):
            stamp = moment + timedelta(milliseconds=100 * i)
            text = f"{stamp:%Y_%m_%d_%H_%M_%S}_{stamp.microsecond // 1000:03d}"
            names = [f"{camera}_{text}.jpg" for camera in ("center", "left", "right")]
            for name in names:
                write_image(root / "IMG" / name, width=32, height=16)
            lines.append(",".join([*(folder + n for n in names), "0.1", "0.5", "0", "20"]))
    (root / "driving_log.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def raw(tmp_path, write_image):
    """Two folders: `lap` with three drives appended (30, 25, 20 frames), `slow` with one (40)."""
    _write_log(
        tmp_path / "lap",
        write_image,
        [("D:\\a\\IMG\\", 30), ("D:\\b\\IMG\\", 25), ("D:\\c\\IMG\\", 20)],
    )
    _write_log(tmp_path / "slow", write_image, [("/home/me/IMG/", 40)])
    return tmp_path


def _splits(manifest, recording):
    return manifest.loc[manifest["recording"] == recording, "split"].value_counts().to_dict()


def test_without_test_recordings_every_recording_splits_by_segments(raw):
    manifest = read_raw(raw, PARAMS, seed=0)
    assert manifest.groupby("recording").size().to_dict() == {
        "lap": 30,
        "lap#2": 25,
        "lap#3": 20,
        "slow": 40,
    }
    assert {"train", "val", "test"} <= set(manifest["split"])
    assert set(manifest.loc[manifest["split"] == "test", "recording"]) != {"lap#2"}


@pytest.mark.parametrize("pattern", ["lap#2", "l?p#2", "*#2"])
def test_a_held_out_recording_is_the_whole_test_split(raw, pattern):
    params = PARAMS.model_copy(update={"test_recordings": [pattern]})
    manifest = read_raw(raw, params, seed=0)
    assert _splits(manifest, "lap#2") == {"test": 25}  # every row, no guard inside it
    test = manifest[manifest["split"] == "test"]
    assert set(test["recording"]) == {"lap#2"}
    others = manifest[manifest["recording"] != "lap#2"]
    assert set(others["split"]) <= {"train", "val", "guard"}
    assert {"train", "val"} <= set(others["split"])
    for name in ("lap", "lap#3", "slow"):  # each long enough drive still gives val its share
        assert _splits(manifest, name).get("val", 0) > 0
    assert len(manifest) == 115  # rows in = rows out
    segments = manifest.groupby("segment")["split"].nunique()
    assert (segments[segments.index.isin(test["segment"])] == 1).all()  # none shared with train


def test_several_globs_hold_out_several_recordings(raw):
    params = PARAMS.model_copy(update={"test_recordings": ["slow", "lap#3"]})
    manifest = read_raw(raw, params, seed=0)
    test = manifest[manifest["split"] == "test"]
    assert test.groupby("recording").size().to_dict() == {"lap#3": 20, "slow": 40}


def test_the_held_out_split_is_seeded_and_repeatable(raw):
    params = PARAMS.model_copy(update={"test_recordings": ["lap"]})
    first, again = read_raw(raw, params, seed=3), read_raw(raw, params, seed=3)
    assert first["split"].tolist() == again["split"].tolist()


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        (["lap#9"], "'lap#9' matches no recording; the recordings are: lap, lap#2, lap#3, slow"),
        (["*"], "holds out every recording"),
    ],
)
def test_a_glob_matching_nothing_or_everything_fails_closed(raw, patterns, message):
    params = PARAMS.model_copy(update={"test_recordings": patterns})
    with pytest.raises(DatasetError, match=message.replace("?", r"\?")):
        read_raw(raw, params, seed=0)
