"""Plates ingest on hand-made YOLO folders: every real-world variant, none dropped."""

import os

import pandas as pd
import pytest

from pipeline.tasks.plates.ingest import LabelError, parse_yolo_label, read_raw
from pipeline.tasks.plates.params import PlatesIngestParams

PARAMS = PlatesIngestParams(val_fraction=0.25, test_fraction=0.25)


def test_parse_tolerates_bom_crlf_and_blank_lines():
    ids, boxes = parse_yolo_label("\ufeff0 0.5 0.5 0.2 0.1\r\n\r\n1 0.25 0.75 0.1 0.1\r\n")
    assert ids == [0, 1]
    assert boxes == [[0.5, 0.5, 0.2, 0.1], [0.25, 0.75, 0.1, 0.1]]


def test_parse_accepts_integral_float_class_id():
    assert parse_yolo_label("0.0 0.5 0.5 0.2 0.1")[0] == [0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 0.5 0.5 0.2", "line 1: expected 5 values, got 4"),
        ("0 0.5 0.5 0.2 0.1\n0 a 0.5 0.2 0.1", "line 2: not a number"),
        ("0.5 0.5 0.5 0.2 0.1", "not an integer"),
    ],
)
def test_parse_rejects_malformed_lines_naming_the_line(text, message):
    with pytest.raises(LabelError, match=message):
        parse_yolo_label(text)


@pytest.fixture
def yolo_folder(tmp_path, write_image):
    root = tmp_path / "plates"
    write_image(root / "a.jpg")
    (root / "a.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    write_image(root / "negative.JPG")
    (root / "negative.txt").write_text("")
    write_image(root / "unlabelled.png")
    (root / "orphan.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    write_image(root / "sub" / "b.jpeg")
    (root / "sub" / "b.txt").write_text("15 0.5 0.5 0.2 0.1\n")
    write_image(root / "bad.jpg")
    (root / "bad.txt").write_text("0 0.5 0.5\n")
    (root / "classes.txt").write_text("plate\ncar\n")
    return root


def test_every_stem_becomes_one_row_with_its_issue(yolo_folder):
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert sorted(manifest.index) == ["a", "bad", "negative", "orphan", "sub/b", "unlabelled"]
    issues = manifest["issue"].to_dict()
    assert all(pd.isna(issues[stem]) for stem in ("a", "negative", "sub/b"))
    assert issues["unlabelled"] == "unlabelled: no .txt label"
    assert issues["orphan"] == "orphan label: no image"
    assert issues["bad"] == "malformed label file"
    assert "line 1: expected 5 values" in manifest.at["bad", "issue_detail"]


def test_negatives_have_no_boxes_and_paths_are_relative(yolo_folder):
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert manifest.at["negative", "n_boxes"] == 0
    assert manifest.at["negative", "image"] == "negative.JPG"
    assert manifest.at["sub/b", "image"] == "sub/b.jpeg"
    assert manifest.at["a", "label"] == "a.txt"


def test_class_ids_are_named_through_classes_txt(yolo_folder):
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert list(manifest.at["a", "class_names"]) == ["plate"]
    assert list(manifest.at["sub/b", "class_names"]) == [""]  # id 15 is not in classes.txt


def test_without_classes_txt_the_params_names_apply(yolo_folder):
    (yolo_folder / "classes.txt").unlink()
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert list(manifest.at["a", "class_names"]) == ["plate"]


def test_split_is_seeded_and_exact(yolo_folder):
    first = read_raw(yolo_folder, PARAMS, seed=1)
    again = read_raw(yolo_folder, PARAMS, seed=1)
    assert first["split"].tolist() == again["split"].tolist()
    assert sorted(first["split"].value_counts().to_dict().items()) == [
        ("test", 2),
        ("train", 2),
        ("val", 2),
    ]


def test_a_symlink_out_of_the_root_is_not_followed(yolo_folder, tmp_path, write_image):
    outside = write_image(tmp_path / "secret.jpg")
    os.symlink(outside, yolo_folder / "link.jpg")
    (yolo_folder / "link.txt").write_text("")
    row = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem").loc["link"]
    assert row["issue"] == "path outside dataset root"
    assert pd.isna(row["image"])
