"""Plates ingest on hand-made folders of every real layout and quirk: none dropped, none crashes."""

import os

import pandas as pd
import pytest

from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks import TASKS
from pipeline.tasks.plates.checks import label_checks
from pipeline.tasks.plates.formats.yolo import parse_label
from pipeline.tasks.plates.ingest import LabelError, parse_yolo_label, read_raw
from pipeline.tasks.plates.params import PlatesIngestParams, PlatesValidateParams

PARAMS = PlatesIngestParams(val_fraction=0.25, test_fraction=0.25)
BOX = "0 0.5 0.5 0.2 0.1"


def test_parse_tolerates_bom_crlf_and_blank_lines():
    ids, boxes = parse_yolo_label("\ufeff0 0.5 0.5 0.2 0.1\r\n\r\n1 0.25 0.75 0.1 0.1\r\n")
    assert ids == [0, 1]
    assert boxes == [[0.5, 0.5, 0.2, 0.1], [0.25, 0.75, 0.1, 0.1]]


def test_parse_accepts_integral_float_class_id():
    assert parse_yolo_label("0.0 0.5 0.5 0.2 0.1")[0] == [0]


def test_a_polygon_line_becomes_its_bounding_box_and_is_counted():
    parsed = parse_label("0 0.5 0.5 0.2 0.1\n0 0.1 0.2 0.3 0.2 0.3 0.6 0.1 0.5\n")
    assert parsed.class_ids == [0, 0]
    assert parsed.boxes[1] == pytest.approx([0.2, 0.4, 0.2, 0.4])
    assert parsed.polygons == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 0.5 0.5 0.2", "line 1: expected 5 values .*, got 4"),
        ("0 0.1 0.2 0.3 0.2 0.3 0.6 0.1", "line 1: expected 5 values .*, got 8"),
        ("0 0.5 0.5 0.2 0.1\n0 a 0.5 0.2 0.1", "line 2: not a number"),
        ("0 nan 0.5 0.2 0.1", "line 1: a value is not finite"),
        ("0.5 0.5 0.5 0.2 0.1", "not an integer"),
    ],
)
def test_parse_rejects_malformed_lines_naming_the_line(text, message):
    with pytest.raises(LabelError, match=message):
        parse_yolo_label(text)


# --- labelImg: a same-stem .txt beside each image -------------------------------------------


@pytest.fixture
def yolo_folder(tmp_path, write_image):
    root = tmp_path / "plates"
    write_image(root / "a.jpg")
    (root / "a.txt").write_text(BOX + "\n")
    write_image(root / "negative.JPG")
    (root / "negative.txt").write_text("")
    write_image(root / "unlabelled.png")
    (root / "orphan.txt").write_text(BOX + "\n")
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
    assert set(manifest["layout"]) == {"labelimg"}


def test_negatives_have_no_boxes_and_paths_are_relative(yolo_folder):
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert manifest.at["negative", "n_boxes"] == 0
    assert manifest.at["negative", "image"] == "negative.JPG"
    assert manifest.at["sub/b", "image"] == "sub/b.jpeg"
    assert manifest.at["a", "label"] == "a.txt"


def test_class_ids_are_named_through_the_nearest_classes_txt(yolo_folder):
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert list(manifest.at["a", "class_names"]) == ["plate"]
    assert list(manifest.at["sub/b", "class_names"]) == ["class_15"]  # not in classes.txt
    assert list(manifest.at["sub/b", "unnamed_class_ids"]) == [15]
    assert manifest.at["sub/b", "classes_file"] == "classes.txt"
    assert manifest.at["sub/b", "folder"] == "."  # the dataset is where classes.txt is


def test_without_classes_txt_the_params_names_apply(yolo_folder):
    (yolo_folder / "classes.txt").unlink()
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert list(manifest.at["a", "class_names"]) == ["plate"]
    assert pd.isna(manifest.at["a", "classes_file"])


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


def test_a_folder_symlink_out_of_the_root_is_a_row_not_a_walk(yolo_folder, tmp_path, write_image):
    write_image(tmp_path / "elsewhere" / "x.jpg")
    os.symlink(tmp_path / "elsewhere", yolo_folder / "linked")
    manifest = read_raw(yolo_folder, PARAMS, seed=1).set_index("stem")
    assert manifest.at["linked", "issue"] == "path outside dataset root"
    assert not any(stem.rsplit("/", 1)[-1] == "x" for stem in manifest.index)


def test_two_images_sharing_one_label_are_both_flagged(yolo_folder, write_image):
    write_image(yolo_folder / "a.png")
    manifest = read_raw(yolo_folder, PARAMS, seed=1)
    shared = manifest[manifest["label"] == "a.txt"]
    assert sorted(shared["image"]) == ["a.jpg", "a.png"]
    assert set(shared["issue"]) == {"ambiguous label: several images share it"}


# --- Ultralytics / Roboflow: images/ beside labels/ -------------------------------------------


@pytest.fixture
def roboflow_folder(tmp_path, write_image):
    """A Roboflow export: train/valid/test each with images/ and labels/, data.yaml at the top."""
    root = tmp_path / "egypt"
    root.mkdir()
    (root / "data.yaml").write_text("train: ../train/images\nnc: 1\nnames: ['License Plate']\n")
    (root / "README.roboflow.txt").write_text("Exported via roboflow.com\n")
    for split, stem, label in [
        ("train", "p1_jpg.rf.aa11", BOX),
        ("train", "p1_jpg.rf.bb22", BOX),
        ("train", "poly_jpg.rf.cc33", "0 0.1 0.2 0.3 0.2 0.3 0.6 0.1 0.5\n" + BOX),
        ("valid", "empty_jpg.rf.dd44", ""),
        ("test", "p2_jpg.rf.ee55", "0 0.5 0.5 0.2 0.1\n0 0.2 0.2 0.1 0.1"),
    ]:
        write_image(root / split / "images" / f"{stem}.jpg")
        (root / split / "labels").mkdir(parents=True, exist_ok=True)
        (root / split / "labels" / f"{stem}.txt").write_text(label)
    write_image(root / "test" / "images" / "nolabel.jpg")
    (root / "valid" / "labels" / "gone.txt").write_text(BOX)
    return root


def test_split_folders_with_data_yaml_are_read_as_one_ultralytics_dataset(roboflow_folder):
    manifest = read_raw(roboflow_folder, PARAMS, seed=1).set_index("stem")
    assert set(manifest["layout"]) == {"ultralytics"}
    assert set(manifest["folder"]) == {"."}
    assert set(manifest["classes_file"]) == {"data.yaml"}
    assert list(manifest.at["train/images/p1_jpg.rf.aa11", "class_names"]) == ["License Plate"]
    assert manifest.at["train/images/p1_jpg.rf.aa11", "label"] == "train/labels/p1_jpg.rf.aa11.txt"
    assert manifest["source_split"].to_dict() == {
        "test/images/nolabel": "test",
        "test/images/p2_jpg.rf.ee55": "test",
        "train/images/p1_jpg.rf.aa11": "train",
        "train/images/p1_jpg.rf.bb22": "train",
        "train/images/poly_jpg.rf.cc33": "train",
        "valid/images/empty_jpg.rf.dd44": "val",
        "valid/labels/gone": "val",
    }  # the README is not a label, so no orphan row for it


def test_polygons_empty_labels_and_missing_files_in_an_ultralytics_set(roboflow_folder):
    manifest = read_raw(roboflow_folder, PARAMS, seed=1).set_index("stem")
    poly = manifest.loc["train/images/poly_jpg.rf.cc33"]
    assert (poly["n_boxes"], poly["n_polygons"]) == (2, 1)
    assert poly["boxes"][0] == pytest.approx([0.2, 0.4, 0.2, 0.4])
    empty = manifest.loc["valid/images/empty_jpg.rf.dd44"]
    assert pd.isna(empty["issue"]) and empty["n_boxes"] == 0  # a negative
    assert manifest.at["test/images/p2_jpg.rf.ee55", "n_boxes"] == 2
    assert manifest.at["test/images/nolabel", "issue"] == "unlabelled: no .txt label"
    assert "test/labels/nolabel.txt" in manifest.at["test/images/nolabel", "issue_detail"]
    assert manifest.at["valid/labels/gone", "issue"] == "orphan label: no image"


def test_roboflow_copies_of_one_photo_share_a_split_whatever_their_folders(roboflow_folder):
    manifest = read_raw(roboflow_folder, PARAMS, seed=1)
    assert TASKS["plates"].group_column == "photo"
    copies = manifest[manifest["photo"] == "p1"]
    assert len(copies) == 2 and copies["split"].nunique() == 1
    for seed in range(10):
        splits = read_raw(roboflow_folder, PARAMS, seed=seed).groupby("photo")["split"].nunique()
        assert splits.max() == 1


def test_image_and_labels_siblings_with_a_yaml_one_level_up(tmp_path, write_image):
    """chutoanduc2601's layout: dataset_yolov8/{image,labels}/, license_plate_data.yaml above."""
    root = tmp_path / "vn"
    root.mkdir()
    (root / "license_plate_data.yaml").write_text("nc: 1\nnames: ['license_plate']\n")
    (root / "notes.yaml").write_text("author: someone\n")  # a yaml with no names: skipped
    write_image(root / "dataset_yolov8" / "image" / "x.jpg")
    (root / "dataset_yolov8" / "labels").mkdir()
    (root / "dataset_yolov8" / "labels" / "x.txt").write_text(BOX)  # no final newline
    row = read_raw(root, PARAMS, seed=1).iloc[0]
    assert (row["layout"], row["folder"]) == ("ultralytics", "dataset_yolov8")
    assert row["classes_file"] == "license_plate_data.yaml"
    assert list(row["class_names"]) == ["license_plate"]
    assert pd.isna(row["source_split"])


def test_ultralytics_images_train_and_labels_train(tmp_path, write_image):
    root = tmp_path / "coco8"
    root.mkdir()
    (root / "data.yaml").write_text("names:\n  0: plate\n  1: car\n")
    write_image(root / "images" / "val" / "y.jpg")
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "val" / "y.txt").write_text("1 0.5 0.5 0.2 0.1\n")
    row = read_raw(root, PARAMS, seed=1).iloc[0]
    assert (row["layout"], row["folder"], row["source_split"]) == ("ultralytics", ".", "val")
    assert list(row["class_names"]) == ["car"]


# --- GreenParking location.txt ----------------------------------------------------------------


@pytest.fixture
def greenparking_folder(tmp_path, write_image):
    """Two lists for the same images, as the public set ships: the root one always has text."""
    root = tmp_path / "gp"
    for name in ("a.jpg", "b.jpg", "c.jpg", "unlisted.jpg"):
        write_image(root / "GreenParking" / name, width=100, height=50)
    (root / "GreenParking" / "location.txt").write_text(
        "a.jpg 1 10 20 30 10\nb.jpg 1 40 5 20 10 59C1-39916\nc.jpg 0\nghost.jpg 1 1 1 5 5\n"
    )
    (root / "location.txt").write_text(
        "a.jpg 1 10 20 30 10 51F-12345\nb.jpg 1 40 5 20 10 59C1-39916\n"
    )
    return root


def test_greenparking_boxes_become_normalised_centre_boxes(greenparking_folder):
    manifest = read_raw(greenparking_folder, PARAMS, seed=1).set_index("stem")
    a = manifest.loc["GreenParking/a"]
    assert (a["layout"], a["folder"]) == ("greenparking", "GreenParking")
    assert a["boxes"] == [pytest.approx([0.25, 0.5, 0.3, 0.2])]  # (10+15)/100, (20+5)/50
    assert list(a["class_names"]) == ["plate"]
    assert manifest.at["GreenParking/c", "n_boxes"] == 0  # "c.jpg 0": a negative
    assert pd.isna(manifest.at["GreenParking/c", "issue"])


def test_an_image_in_two_lists_is_one_row_taken_from_the_line_with_plate_text(
    greenparking_folder,
):
    manifest = read_raw(greenparking_folder, PARAMS, seed=1).set_index("stem")
    assert manifest.index.tolist().count("GreenParking/a") == 1
    a = manifest.loc["GreenParking/a"]
    assert (a["label"], a["plate_text"]) == ("location.txt", "51F-12345")
    assert list(a["duplicate_labels"]) == ["GreenParking/location.txt line 1"]
    b = manifest.loc["GreenParking/b"]  # text in both: the list beside the image wins
    assert (b["label"], b["plate_text"]) == ("GreenParking/location.txt", "59C1-39916")
    assert pd.isna(manifest.at["GreenParking/c", "plate_text"])  # a 6-token line


def test_greenparking_names_missing_unlisted_and_conflicting_images(greenparking_folder):
    with (greenparking_folder / "location.txt").open("a") as handle:
        handle.write("c.jpg 1 1 1 5 5\n../../outside.jpg 1 1 1 5 5\n")
    manifest = read_raw(greenparking_folder, PARAMS, seed=1).set_index("stem")
    assert manifest.at["GreenParking/ghost", "issue"] == "missing image: named in location.txt"
    assert "GreenParking/location.txt line 4" in manifest.at["GreenParking/ghost", "issue_detail"]
    assert manifest.at["GreenParking/unlisted", "issue"] == "unlabelled: not in location.txt"
    assert manifest.at["GreenParking/c", "issue"] == "conflicting annotations"
    outside = manifest[manifest["issue"] == "path outside dataset root"]
    assert len(outside) == 1 and outside["image"].isna().all()


def test_a_yolo_label_beside_a_listed_image_is_noted_not_an_orphan(greenparking_folder):
    (greenparking_folder / "GreenParking" / "a.txt").write_text(BOX)
    manifest = read_raw(greenparking_folder, PARAMS, seed=1).set_index("stem")
    noted = list(manifest.at["GreenParking/a", "duplicate_labels"])
    assert "GreenParking/a.txt (not read)" in noted
    assert manifest["issue"].value_counts().to_dict() == {
        "missing image: named in location.txt": 1,
        "unlabelled: not in location.txt": 1,
    }


def test_a_malformed_greenparking_line_is_a_malformed_label_row(tmp_path, write_image):
    write_image(tmp_path / "gp" / "a.jpg")
    (tmp_path / "gp" / "location.txt").write_text("a.jpg 2 10 20 30 10\n")
    row = read_raw(tmp_path / "gp", PARAMS, seed=1).iloc[0]
    assert row["issue"] == "malformed label file"
    assert row["issue_detail"] == "location.txt line 1: 2 boxes need 8 numbers, got 4"


# --- several datasets in one raw folder ---------------------------------------------------------


def test_each_folder_of_a_raw_dir_is_read_in_its_own_layout(
    tmp_path, write_image, yolo_folder, roboflow_folder, greenparking_folder
):
    raw = tmp_path
    write_image(raw / "vn" / "0000_00532_b_jpg.rf.1234abcd.jpg")  # a copy of a GreenParking photo
    (raw / "vn" / "0000_00532_b_jpg.rf.1234abcd.txt").write_text(BOX)
    write_image(raw / "gp" / "GreenParking" / "0000_00532_b.jpg")
    with (raw / "gp" / "location.txt").open("a") as handle:
        handle.write("0000_00532_b.jpg 1 10 20 30 10 59C1-00001\n")
    manifest = read_raw(raw, PARAMS, seed=3)
    layouts = manifest.groupby("folder")["layout"].unique().map(list).to_dict()
    assert layouts == {
        "egypt": ["ultralytics"],
        "gp/GreenParking": ["greenparking"],
        "plates": ["labelimg"],
        "vn": ["labelimg"],
    }
    same_photo = manifest[manifest["photo"] == "0000_00532_b"]
    assert len(same_photo) == 2 and same_photo["split"].nunique() == 1

    valid = manifest[manifest["issue"].isna()]
    report = TASKS["plates"].summarize(manifest, valid)
    assert report["layouts"]["egypt"] == "ultralytics"
    egypt = report["folders"]["egypt"]
    assert (egypt["images"], egypt["boxes"], egypt["polygons"], egypt["negatives"]) == (6, 6, 1, 1)
    assert egypt["source_splits"] == {"test": 2, "train": 3, "val": 2}
    assert egypt["ingest_issues"] == {"orphan label: no image": 1, "unlabelled: no .txt label": 1}
    assert (egypt["valid"], egypt["rejected"]) == (5, 2)
    gp = report["folders"]["gp/GreenParking"]
    assert (gp["images"], gp["with_plate_text"], gp["duplicate_annotations_skipped"]) == (5, 3, 2)
    assert gp["unlabelled"] == 1
    assert report["folders"]["plates"]["classes"] == {"class_15": 1, "plate": 1}


# --- odd names and bytes ------------------------------------------------------------------------


def test_a_non_utf8_file_name_is_an_issue_row_that_parquet_can_store(tmp_path, write_image):
    root = tmp_path / "odd"
    jpeg = write_image(root / "ok.jpg").read_bytes()
    (root / "ok.txt").write_text(BOX)
    odd = root / os.fsdecode(b"\xff\xfe.jpg")
    odd.write_bytes(jpeg)
    odd.with_suffix(".txt").write_text(BOX)
    (root / "latin1.jpg").write_bytes(jpeg)
    (root / "latin1.txt").write_bytes(b"0 0.5 0.5 0.2 0.1 \xe9\n")
    manifest = read_raw(root, PARAMS, seed=1)
    write_manifest(manifest, tmp_path / "manifest.parquet")
    stored = read_manifest(tmp_path / "manifest.parquet").set_index("stem")
    assert sorted(stored.index) == ["\\xff\\xfe", "latin1", "ok"]  # no orphan for its label
    assert stored.at["\\xff\\xfe", "issue"] == "file name is not valid UTF-8"
    assert stored.at["\\xff\\xfe", "issue_detail"] == "\\xff\\xfe.jpg"
    assert pd.isna(stored.at["\\xff\\xfe", "image"])
    assert stored.at["latin1", "issue"] == "malformed label file"
    assert "latin1.txt" in stored.at["latin1", "issue_detail"]
    assert pd.isna(stored.at["ok", "issue"])


def test_a_non_utf8_greenparking_line_never_crashes(tmp_path, write_image):
    root = tmp_path / "gp"
    write_image(root / "a.jpg")
    write_image(root / "b.jpg")
    (root / "location.txt").write_bytes(b"a.jpg 1 1 1 5 5 59\xc4-1\nb.jpg 1 1 1 5 5 59C-1\n")
    manifest = read_raw(root, PARAMS, seed=1)
    write_manifest(manifest, tmp_path / "manifest.parquet")
    rows = manifest.set_index("stem")
    assert rows.at["a", "issue"] == "malformed label file"
    assert "plate text is not valid UTF-8" in rows.at["a", "issue_detail"]
    assert rows.at["b", "plate_text"] == "59C-1"


# --- classes kept by validate -----------------------------------------------------------------


def test_every_named_class_is_kept_by_default_and_keep_classes_narrows(roboflow_folder):
    manifest = read_raw(roboflow_folder, PARAMS, seed=1)
    checked = label_checks(manifest, PlatesValidateParams())
    assert PlatesValidateParams().keep_classes is None
    assert checked["check_unknown_classes"].max() == 0  # "License Plate" taken as is
    narrowed = label_checks(manifest, PlatesValidateParams(keep_classes=["plate"]))
    assert narrowed["check_unknown_classes"].max() > 0


def test_a_class_id_the_class_list_does_not_name_is_named_and_kept(yolo_folder):
    checked = label_checks(read_raw(yolo_folder, PARAMS, seed=1), PlatesValidateParams())
    flags = checked.set_index("stem")[["check_unnamed_classes", "check_unknown_classes"]]
    assert flags.loc["sub/b"].tolist() == [0, 0]  # id 15 with classes.txt of 2 names: class_15
    assert flags.loc["a"].tolist() == [0, 0]
