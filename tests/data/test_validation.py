"""Validation on hand-made datasets: rows in = valid + rejected, each rejection explained."""

import pandas as pd
import pytest

from pipeline.core.validation import validate_manifest
from pipeline.tasks import TASKS
from pipeline.tasks.plates.ingest import read_raw as read_plates
from pipeline.tasks.plates.params import PlatesIngestParams, PlatesValidateParams


@pytest.fixture
def plates_folder(tmp_path, write_image):
    root = tmp_path / "plates"
    for i in range(8):
        write_image(root / f"ok{i}.jpg", seed=i)
        (root / f"ok{i}.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    write_image(root / "outside.jpg")
    (root / "outside.txt").write_text("0 1.2 0.5 0.2 0.1\n")  # box beyond the image
    write_image(root / "car.jpg")
    (root / "car.txt").write_text("1 0.5 0.5 0.2 0.1\n")  # a class the detector does not learn
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (root / "broken.txt").write_text("")
    write_image(root / "grey.png")
    (root / "grey.txt").write_text("")
    cut = write_image(root / "cut.jpg", seed=9)  # its last two thirds lost in a copy
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    (root / "cut.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    (root / "classes.txt").write_text("plate\ncar\n")
    return root


def _validate(root, tmp_path, manifest, params=None, max_rejected=1.0):
    return validate_manifest(
        manifest,
        TASKS["plates"],
        params or PlatesValidateParams(min_width=32, min_height=32, keep_classes=["plate"]),
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=max_rejected,
        workers=2,
    )


def test_plates_rows_reconcile_and_each_rejection_has_its_reason(plates_folder, tmp_path):
    import cv2

    grey = cv2.cvtColor(cv2.imread(str(plates_folder / "grey.png")), cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(plates_folder / "grey.png"), grey)
    manifest = read_plates(plates_folder, PlatesIngestParams(), seed=0)
    result = _validate(plates_folder, tmp_path, manifest)

    report = result.report
    assert report["rows_in"] == len(manifest) == 13
    assert report["valid"] + report["rejected"] == report["rows_in"]
    assert report["valid"] == 9  # the eight sound photos and the greyscale one, made RGB
    reasons = result.rejected.set_index("stem")["reason"].to_dict()
    undecodable = "image: does not decode fully (truncated, corrupt or not an image)"
    assert reasons == {
        "outside": "box value above 1",
        "car": "class not in ['plate']",
        "broken": undecodable,
        "cut": undecodable,  # not filled with grey, as OpenCV would
    }
    assert report["reasons"]["box value above 1"] == 1
    assert report["image_conversions"] == {"grey->rgb": 1}
    assert report["expectations_evaluated"] > 10
    assert (tmp_path / "docs" / "index.html").is_file()
    assert result.problems == []  # 4 of 13 rejected is within max_rejected_fraction 1.0


def test_too_many_rejections_fail_with_the_most_common_reasons(plates_folder, tmp_path):
    manifest = read_plates(plates_folder, PlatesIngestParams(), seed=0)
    result = _validate(plates_folder, tmp_path, manifest, max_rejected=0.1)
    assert len(result.problems) == 1
    assert "rejected" in result.problems[0] and "max_rejected_fraction" in result.problems[0]
    assert result.report["passed"] is False


def test_overlapping_splits_fail_the_dataset(plates_folder, tmp_path):
    manifest = read_plates(plates_folder, PlatesIngestParams(), seed=0)
    leaked = manifest.iloc[[0]].assign(
        split="test" if manifest.at[0, "split"] != "test" else "train"
    )
    result = _validate(plates_folder, tmp_path, pd.concat([manifest, leaked], ignore_index=True))
    assert any("splits overlap" in problem for problem in result.problems)


def test_a_missing_column_fails_the_dataset(plates_folder, tmp_path):
    manifest = read_plates(plates_folder, PlatesIngestParams(), seed=0).drop(columns="issue_detail")
    result = _validate(plates_folder, tmp_path, manifest)
    assert "no column 'issue_detail'" in result.problems
