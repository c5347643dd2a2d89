"""plates_text ingest and validate: one row per plate box with its text, read from the plates
layouts (GreenParking text after the box, `<stem>.plate.txt` sidecars beside YOLO labels)."""

from pathlib import Path

import pytest

from pipeline.core.validation import validate_manifest
from pipeline.tasks.plates.formats.text import canonical
from pipeline.tasks.plates_text import PlateText
from pipeline.tasks.plates_text.ingest import read_raw
from pipeline.tasks.plates_text.params import PlateTextIngestParams, PlateTextValidateParams

PARAMS = PlateTextIngestParams(val_fraction=0.25, test_fraction=0.25)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("59-T1 599.73", "59T1-59973"),  # two lines as printed
        ("59T1-59973", "59T1-59973"),  # GreenParking's form stays
        ("51F-123.45", "51F-12345"),  # one-line car plate
        ("51f 123.45", "51F-12345"),  # two-line car plate, lower case
    ],
)
def test_plate_text_is_compared_in_one_canonical_form(written, expected):
    assert canonical(written) == expected


@pytest.fixture
def greenparking(tmp_path, write_image) -> Path:
    root = tmp_path / "gp"
    for index, name in enumerate(("a", "b", "c", "d", "e", "f")):
        write_image(root / f"{name}.jpg", width=120, height=80, seed=index)
    (root / "location.txt").write_text(
        "a.jpg 1 10 10 40 30 59C1-39916\n"
        "b.jpg 1 10 10 40 30 59C1-39916\n"  # the same motorbike again
        "c.jpg 1 10 10 40 30\n"  # a box without text
        "d.jpg 2 5 5 30 20 60 40 40 30 51F-12345 59-T1 599.73\n"  # 3 texts, 2 boxes
        "e.jpg 2 5 5 30 20 60 40 40 30 51F-12345 29A1-11111\n"
        "f.jpg 1 10 10 40 30 29X1-123.45\n"
    )
    return root


def test_one_row_per_box_with_text_and_an_issue_for_what_cannot_be_read(greenparking):
    manifest = read_raw(greenparking, PARAMS, seed=0).set_index("stem")
    assert sorted(manifest.index) == ["a#0", "b#0", "c#0", "d", "e#0", "e#1", "f#0"]
    assert manifest.at["a#0", "target"] == "59C1-39916"
    assert list(manifest.at["a#0", "box"]) == pytest.approx([30 / 120, 25 / 80, 40 / 120, 30 / 80])
    assert (manifest.at["e#0", "target"], manifest.at["e#1", "target"]) == (
        "51F-12345",
        "29A1-11111",
    )
    assert manifest.at["f#0", "target"] == "29X1-12345"  # the dot is print, not text
    assert manifest.at["c#0", "issue"] == "no plate text"
    assert manifest.at["d", "issue"] == "plate text does not match the boxes"
    assert "3 plate texts for 2 boxes" in manifest.at["d", "issue_detail"]
    assert manifest["issue"].notna().sum() == 2


def test_photos_of_one_plate_text_share_a_group_and_a_split(greenparking):
    for seed in range(5):
        manifest = read_raw(greenparking, PARAMS, seed=seed).set_index("stem")
        assert manifest.at["a#0", "group"] == manifest.at["b#0", "group"] == "a"
        assert manifest.at["a#0", "split"] == manifest.at["b#0", "split"]
        assert manifest.at["e#0", "split"] == manifest.at["e#1", "split"]  # one photo


def test_a_yolo_folder_keeps_its_text_in_the_sidecar_beside_the_label(tmp_path, write_image):
    root = tmp_path / "yolo"
    for name in ("x", "y", "z"):
        write_image(root / f"{name}.jpg", width=100, height=60)
        (root / f"{name}.txt").write_text("0 0.3 0.3 0.2 0.2\n0 0.7 0.7 0.2 0.2\n")
    (root / "x.plate.txt").write_text("59-T1 599.73\n\n")  # second box: no text
    (root / "y.plate.txt").write_text("51F-123.45\n")  # one line for two boxes
    manifest = read_raw(root, PARAMS, seed=0).set_index("stem")
    assert manifest.at["x#0", "target"] == "59T1-59973"
    assert manifest.at["x#1", "issue"] == "no plate text"
    assert manifest.at["y", "issue"] == "plate text does not match the boxes"
    assert manifest.at["y", "issue_detail"] == "y.plate.txt: 1 text lines for 2 boxes"
    assert (manifest.loc[["z#0", "z#1"], "issue"] == "no plate text").all()  # no sidecar
    assert "x.plate" not in {Path(s).stem for s in manifest.index}  # never an orphan label


def test_validate_rejects_foreign_characters_odd_lengths_and_tiny_boxes(tmp_path, write_image):
    root = tmp_path / "gp"
    lines = {
        "ok": "1 10 10 40 30 59C1-39916",
        "foreign": "1 10 10 40 30 59Q1-3991O",  # Q and O are not on Vietnamese plates
        "short": "1 10 10 40 30 59",
        "long": "1 10 10 40 30 59C1-3991612345",
        "tiny": "1 10 10 5 4 59C1-39916",
        "outside": "1 100 10 40 30 59C1-39917",
    }
    for index, name in enumerate(lines):
        write_image(root / f"{name}.jpg", width=120, height=80, seed=index)
    (root / "location.txt").write_text("".join(f"{n}.jpg {v}\n" for n, v in lines.items()))
    manifest = read_raw(root, PlateTextIngestParams(val_fraction=0, test_fraction=0), seed=0)
    result = validate_manifest(
        manifest,
        PlateText(),
        PlateTextValidateParams(),
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=1.0,
        workers=1,
    )
    reasons = dict(zip(result.rejected["stem"], result.rejected["reason"], strict=True))
    assert result.valid["stem"].tolist() == ["ok#0"]
    assert "characters outside" in reasons["foreign#0"]
    assert "length not in 4-12" in reasons["short#0"]
    assert "length not in 4-12" in reasons["long#0"]
    assert "under 8 px" in reasons["tiny#0"]
    assert "outside the image" in reasons["outside#0"]
    assert len(result.valid) + len(result.rejected) == len(manifest)
    assert result.report["dataset"]["plates_with_text"] == 6
