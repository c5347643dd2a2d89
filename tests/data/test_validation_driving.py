"""Driving validation on a hand-made recording: rows in = valid + rejected, each reason exact.

The log holds sound rows and one of each bad row a real recording has shown (see
tests/code/test_ingest_driving.py for how ingest reads them): a row is rejected with its
own reason, never dropped; a broken manifest (a lost column, a segment in two splits, too
many rejections) fails the whole dataset.
"""

import cv2
import pandas as pd
import pytest

from pipeline.core.validation import validate_manifest
from pipeline.tasks import TASKS
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams, DrivingValidateParams

INGEST = DrivingIngestParams(segment_frames=3, guard_frames=1)
GOOD = 24  # sound rows first, then one bad row of each kind (its line number is 25, 26, ...)


def _names(i: int) -> list[str]:
    return [f"{camera}_2016_12_01_13_30_{i:02d}_000.jpg" for camera in ("center", "left", "right")]


def _row(i: int, steering="0.1", throttle="0.5", brake="0", speed="20.5") -> str:
    paths = ", ".join(f"C:\\Users\\me\\track1\\IMG\\{name}" for name in _names(i))
    return f"{paths}, {steering}, {throttle}, {brake}, {speed}"


#: line in the log -> (log row, the rejection reason validate must give it)
BAD = {
    # ingest's issue, then the label check that needs the angle
    25: (_row(25, steering="abc"), "steering not a number; steering missing or not a number"),
    26: (_row(26, steering="1.5"), "steering outside [-1.0, 1.0]"),
    27: (_row(27, throttle="1.2"), "throttle out of [0, 1]"),
    28: (_row(28, brake="-0.1"), "brake out of [0, 1]"),
    29: (_row(29, speed="-3"), "speed out of [0, 35.0]"),
    30: (_row(30).rsplit(", ", 2)[0], "short row"),
    31: (_row(31), "center image missing"),  # its frame is not in IMG/
    32: (_row(32), "center: does not decode fully (truncated, corrupt or not an image)"),
    33: (_row(33), "left: width out of range; left: height out of range"),
    34: (_row(34), "right: does not decode fully (truncated, corrupt or not an image)"),
}


@pytest.fixture
def recording(tmp_path, write_image):
    root = tmp_path / "track1"
    lines = [_row(i, steering=f"{(i % 7 - 3) / 10:g}") for i in range(1, GOOD + 1)]
    lines += [row for row, _ in BAD.values()]
    (root / "IMG").mkdir(parents=True)
    (root / "driving_log.csv").write_text("\n".join(lines) + "\n")
    for i in range(1, GOOD + len(BAD) + 1):
        for name in _names(i):
            write_image(root / "IMG" / name, width=320, height=160, seed=i)
    (root / "IMG" / _names(31)[0]).unlink()
    (root / "IMG" / _names(32)[0]).write_bytes(b"\xff\xd8 not really a jpeg")
    write_image(root / "IMG" / _names(33)[1], width=200, height=66)
    cut = root / "IMG" / _names(34)[2]  # its last two thirds lost in a copy
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    grey = root / "IMG" / _names(5)[2]  # a sound row: a greyscale frame is made RGB
    cv2.imwrite(str(grey), cv2.cvtColor(cv2.imread(str(grey)), cv2.COLOR_BGR2GRAY))
    return root


def _validate(root, tmp_path, manifest, max_rejected=1.0):
    return validate_manifest(
        manifest,
        TASKS["driving"],
        DrivingValidateParams(),
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=max_rejected,
        workers=2,
    )


def test_driving_rows_reconcile_and_each_rejection_has_its_reason(recording, tmp_path):
    manifest = read_raw(recording, INGEST, seed=0)
    result = _validate(recording, tmp_path, manifest)

    report = result.report
    assert report["rows_in"] == len(manifest) == GOOD + len(BAD) == 34
    assert (report["valid"], report["rejected"]) == (GOOD, len(BAD))
    reasons = result.rejected.set_index("line")["reason"].to_dict()
    assert reasons == {line: reason for line, (_, reason) in BAD.items()}
    assert result.valid["line"].tolist() == list(range(1, GOOD + 1))
    assert report["reasons"]["speed out of [0, 35.0]"] == 1
    # 34 frames in 12 segments of 3 (seed 0); the first frame after a split change is a guard
    assert report["valid_per_split"] == {"guard": 5, "test": 2, "train": 13, "val": 4}
    assert report["expectations_evaluated"] > 20
    assert report["image_conversions"] == {"grey->rgb": 1}
    assert report["dataset"]["segment_frames"] == 3
    assert report["dataset"]["constant_steering"] == []
    assert (tmp_path / "docs" / "index.html").is_file()
    assert result.problems == [] and report["passed"] is True


def test_too_many_rejections_fail_with_the_most_common_reasons(recording, tmp_path):
    manifest = read_raw(recording, INGEST, seed=0)
    result = _validate(recording, tmp_path, manifest, max_rejected=0.1)  # 10 of 34 rejected
    assert len(result.problems) == 1
    assert "10 of 34 rows rejected" in result.problems[0]
    assert "max_rejected_fraction" in result.problems[0]
    assert result.report["passed"] is False


def test_a_segment_in_two_splits_fails_the_dataset(recording, tmp_path):
    manifest = read_raw(recording, INGEST, seed=0)
    first = manifest.iloc[[0]]
    leaked = first.assign(split="test" if first["split"].item() != "test" else "train")
    result = _validate(recording, tmp_path, pd.concat([manifest, leaked], ignore_index=True))
    assert any("splits overlap: a segment" in problem for problem in result.problems)
    assert result.report["passed"] is False


# validate reads these columns before the suite runs (pipeline/core/validation.py:
# add_split_leakage_check, Driving.summarize), so their loss is a KeyError traceback today;
# and the measurements have no "column exists" expectation, so a lost `speed` is reported
# as "speed out of [0, 35.0]".


@pytest.mark.parametrize(
    "column",
    [
        "issue_detail",
        "speed",
        "segment",
        "steering",
        "center",
        "recording",
    ],
)
def test_a_missing_column_fails_the_dataset_naming_it(recording, tmp_path, column):
    manifest = read_raw(recording, INGEST, seed=0).drop(columns=column)
    result = _validate(recording, tmp_path, manifest)
    assert f"no column {column!r}" in result.problems
    assert result.report["passed"] is False


def test_a_manifest_without_rows_fails_the_dataset(recording, tmp_path):
    manifest = read_raw(recording, INGEST, seed=0).iloc[0:0]
    result = _validate(recording, tmp_path, manifest)
    assert "empty manifest" in result.problems
