"""Plates ingest + validate on the three real plate folders, one by one and all together.

The real folder (../shared/realdata/plates, see its PROVENANCE.md) holds a Roboflow export
with `image/` + `labels/` siblings (chutoanduc2601), GreenParking with two `location.txt`
lists for the same 150 images (daotrananhtuan09102002) and a Roboflow `test/` split with
polygons, an empty label and two-plate images (telattar). Every image of them is sound, so
all are accepted: the counts below are exact.
"""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.validation import ValidationResult
from pipeline.tasks.plates.ingest import read_raw
from pipeline.tasks.plates.params import PlatesIngestParams
from tests.conftest import ingest_and_validate, realdata_dir

REAL = realdata_dir("plates")
VN = "chutoanduc2601__NhanDienBienSo_ML"
GP = "daotrananhtuan09102002__CS231.M22.KHCL-Project"
EG = "telattar__Egyptian-motorcycle-license-plate-dataset"

pytestmark = pytest.mark.skipif(
    not all((REAL / name).is_dir() for name in (VN, GP, EG)),
    reason=f"real plates fixture not found at {REAL}",
)

# Per dataset folder (relative to its own root): layout and exact counts.
EXPECTED = {
    VN: {
        "dataset_yolov8": {
            "layout": "ultralytics",
            "classes_file": "license_plate_data.yaml",  # one level above the dataset
            "images": 100,
            "boxes": 100,
            "polygons": 0,
            "negatives": 0,
            "photos": 34,  # Roboflow made 100 copies of 34 photos
            "classes": {"license_plate": 100},
            "source_splits": {},
        }
    },
    GP: {
        "GreenParking": {
            "layout": "greenparking",
            "classes_file": None,
            "images": 150,
            "boxes": 150,
            "polygons": 0,
            "negatives": 0,
            "with_plate_text": 150,  # all from the root list, which always has text
            "duplicate_annotations_skipped": 150,  # GreenParking/location.txt, identical
            "photos": 150,
            "classes": {"plate": 150},
        }
    },
    EG: {
        ".": {
            "layout": "ultralytics",
            "classes_file": "data.yaml",
            "images": 35,
            "boxes": 36,  # 24 one-box files, 8 polygons, 2 files of 2 boxes
            "polygons": 8,
            "negatives": 1,
            "photos": 33,
            "classes": {"License Plate": 36},
            "source_splits": {"test": 35},
        }
    },
}


def _ingest_and_validate(root: Path, tmp_path: Path) -> tuple[pd.DataFrame, ValidationResult]:
    return ingest_and_validate("plates", root, tmp_path / "docs")


def _assert_folder(report: dict, folder: str, expected: dict) -> None:
    found = report["dataset"]["folders"][folder]
    assert {key: found[key] for key in expected} == expected
    assert found["ingest_issues"] == {}
    assert (found["valid"], found["rejected"]) == (expected["images"], 0)


@pytest.mark.parametrize("name", [VN, GP, EG])
def test_each_real_folder_is_read_in_its_layout_and_fully_accepted(name, tmp_path):
    manifest, result = _ingest_and_validate(REAL / name, tmp_path)
    ((folder, expected),) = EXPECTED[name].items()
    report = result.report
    assert report["dataset"]["layouts"] == {folder: expected["layout"]}
    _assert_folder(report, folder, expected)
    assert report["rows_in"] == len(manifest) == report["valid"] == expected["images"]
    assert (report["rejected"], report["reasons"]) == (0, {})
    assert result.problems == [] and report["passed"] is True


def test_all_three_real_folders_together(tmp_path):
    _, result = _ingest_and_validate(REAL, tmp_path)
    report = result.report
    assert report["dataset"]["layouts"] == {
        f"{VN}/dataset_yolov8": "ultralytics",
        f"{GP}/GreenParking": "greenparking",
        EG: "ultralytics",
    }
    for name, folders in EXPECTED.items():
        ((folder, expected),) = folders.items()
        prefixed = f"{name}/{folder}" if folder != "." else name
        if expected["classes_file"]:
            expected = expected | {"classes_file": f"{name}/{expected['classes_file']}"}
        _assert_folder(report, prefixed, expected)
    assert (report["rows_in"], report["valid"], report["rejected"]) == (285, 285, 0)
    assert report["dataset"]["photos"] == 34 + 150 + 33
    copies = report["dataset"]["copies"]
    assert (copies["groups"], copies["copies"]) == (217, 285 - 217)  # 32 triples, 2 pairs
    assert copies["largest"][0]["photo"] == "0000_00532_b"
    assert copies["largest"][0]["images"] == 3
    assert sum(report["valid_per_split"].values()) == 285
    assert result.problems == []


def test_greenparking_pixels_become_the_yolo_label_provenance_gives(tmp_path):
    manifest = read_raw(REAL / GP, PlatesIngestParams(), seed=0).set_index("stem")
    row = manifest.loc["GreenParking/0143_02079_b"]  # "0143_02079_b.jpg 1 178 141 78 66 59C1-39916"
    x, y, w, h = 178, 141, 78, 66
    assert row["boxes"][0] == pytest.approx(
        [(x + w / 2) / 472, (y + h / 2) / 303, w / 472, h / 303]
    )
    assert (row["plate_text"], row["label"]) == ("59C1-39916", "location.txt")


def test_roboflow_copies_of_a_real_photo_share_a_split():
    manifest = read_raw(REAL / VN, PlatesIngestParams(), seed=0)
    copies = manifest[manifest["photo"] == "0000_00532_b"]
    assert len(copies) == 3 and copies["split"].nunique() == 1
    assert manifest.groupby("photo")["split"].nunique().max() == 1
