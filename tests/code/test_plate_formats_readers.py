"""Plates ingest of every annotation layout people publish: VOC XML, COCO and CreateML JSON,
CCPD file names and YOLO with a short `classes.txt`, each on a tiny folder made here."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.tasks.plates.formats.ccpd import CcpdError, parse_ccpd_name
from pipeline.tasks.plates.ingest import read_raw
from pipeline.tasks.plates.params import PlatesIngestParams

PARAMS = PlatesIngestParams()
W, H = 96, 64  # the size of every image written here, unless said otherwise


def _voc(filename: str, objects: list[tuple], size: tuple[int, int] = (0, 0)) -> str:
    parts = "".join(
        f"<object><name>{name}</name><difficult>{int(difficult)}</difficult>"
        f"<truncated>0</truncated><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
        f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
        for name, x1, y1, x2, y2, difficult in objects
    )
    return (
        f"<annotation><folder>imgs</folder><filename>{filename}</filename>"
        f"<path>C:\\Users\\me\\imgs\\{filename}</path><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height><depth>3</depth></size>{parts}</annotation>"
    )


def _read(root: Path):
    return read_raw(root, PARAMS, seed=0).set_index("stem")


def _none(value) -> bool:
    """A missing value (pandas shows None as NaN in an object column)."""
    return value is None or pd.isna(value)


# --- Pascal VOC ----------------------------------------------------------------------------


def test_voc_beside_the_image_with_a_wrong_extension_and_size_zero(tmp_path, write_image):
    write_image(tmp_path / "car.jpg")
    write_image(tmp_path / "bare.jpg")
    objects = [("plate", 10, 20, 40, 44, True), ("plate", 50, 8, 62, 16, False)]
    (tmp_path / "car.xml").write_text(_voc("car.png", objects))  # saved when it was a PNG
    manifest = _read(tmp_path)
    car = manifest.loc["car"]
    assert (car["layout"], car["label"]) == ("voc", "car.xml") and _none(car["issue"])
    assert np.array([list(b) for b in car["boxes"]]) == pytest.approx(
        np.array([[25 / W, 32 / H, 30 / W, 24 / H], [56 / W, 12 / H, 12 / W, 8 / H]])
    )
    assert list(car["class_names"]) == ["plate", "plate"]
    assert list(car["difficult"]) == [True, False] and list(car["truncated"]) == [False, False]
    assert car["size_note"] == "car.xml <size> says 0x0, the image is 96x64"
    assert manifest.at["bare", "issue"] == "unlabelled: no .xml annotation"
    assert manifest.at["bare", "layout"] == "voc"


def test_voc_image_found_by_filename_when_the_stems_differ(tmp_path, write_image):
    write_image(tmp_path / "photo.jpg")
    (tmp_path / "annotation_1.xml").write_text(_voc("photo.jpg", [("bien_so", 0, 0, 48, 32, 0)]))
    (tmp_path / "annotation_2.xml").write_text(_voc("gone.jpg", [("bien_so", 0, 0, 8, 8, 0)]))
    manifest = _read(tmp_path)
    assert manifest.at["photo", "label"] == "annotation_1.xml"
    assert list(manifest.at["photo", "boxes"][0]) == pytest.approx([0.25, 0.25, 0.5, 0.5])
    assert (
        manifest.at["photo", "size_note"] == "annotation_1.xml <size> says 0x0, the image is 96x64"
    )
    assert manifest.at["gone", "issue"] == "missing image: named in .xml"


def test_voc_devkit_annotations_beside_jpegimages_and_imagesets_as_metadata(tmp_path, write_image):
    voc = tmp_path / "VOC2007"
    write_image(voc / "JPEGImages" / "000001.jpg")
    (voc / "Annotations").mkdir()
    (voc / "Annotations" / "000001.xml").write_text(
        _voc("000001.jpg", [("plate", 24, 16, 72, 48, 0)], size=(W, H))
    )
    (voc / "ImageSets" / "Main").mkdir(parents=True)
    (voc / "ImageSets" / "Main" / "train.txt").write_text("000001\n")
    manifest = read_raw(tmp_path, PARAMS, seed=0)
    assert len(manifest) == 1  # the ImageSets list is no orphan label
    row = manifest.iloc[0]
    assert (row["layout"], row["folder"]) == ("voc", "VOC2007")
    assert _none(row["issue"]) and _none(row["size_note"])
    assert list(row["boxes"][0]) == pytest.approx([0.5, 0.5, 0.5, 0.5])
    files = manifest.attrs["plates_files"]["folders"]["VOC2007"]
    assert files == {".jpg": {"image": 1}, ".txt": {"metadata": 1}, ".xml": {"label": 1}}


def test_a_malformed_voc_xml_is_a_row_with_an_issue(tmp_path, write_image):
    write_image(tmp_path / "a.jpg")
    write_image(tmp_path / "b.jpg")
    (tmp_path / "a.xml").write_text(_voc("a.jpg", [("plate", 1, 1, 9, 9, 0)]))
    (tmp_path / "b.xml").write_text("<annotation><object><name>plate</name></object>")
    manifest = _read(tmp_path)
    assert _none(manifest.at["a", "issue"])
    assert manifest.at["b", "issue"] == "malformed label file"
    assert "b.xml: not well-formed XML" in manifest.at["b", "issue_detail"]


# --- COCO ----------------------------------------------------------------------------------


def _coco(images: list[tuple], annotations: list[tuple]) -> str:
    return json.dumps(
        {
            "images": [
                {"id": i, "file_name": name, "width": w, "height": h}
                for i, (name, w, h) in enumerate(images)
            ],
            "annotations": [
                {"id": k, "image_id": i, "category_id": c, "bbox": list(bbox), "area": 1}
                for k, (i, c, bbox) in enumerate(annotations)
            ],
            "categories": [
                {"id": 0, "name": "plates", "supercategory": "none"},  # Roboflow's, unused
                {"id": 1, "name": "license-plate", "supercategory": "plates"},
            ],
        }
    )


def test_roboflow_coco_listed_unlisted_negative_and_missing_images(tmp_path, write_image):
    train = tmp_path / "train"
    for name in ("a.jpg", "b.jpg", "unlisted.jpg"):
        write_image(train / name)
    (train / "_annotations.coco.json").write_text(
        _coco(
            [("a.jpg", W, H), ("b.jpg", W, H), ("gone.jpg", W, H)],
            [(0, 1, (10, 20, 30, 24)), (0, 7, (0, 0, 48, 32))],
        )
    )
    manifest = _read(tmp_path)
    a = manifest.loc["train/a"]
    assert (a["layout"], a["folder"], a["source_split"]) == ("coco", ".", "train")
    assert _none(a["issue"])
    assert np.array([list(b) for b in a["boxes"]]) == pytest.approx(
        np.array([[25 / W, 32 / H, 30 / W, 24 / H], [0.25, 0.25, 0.5, 0.5]])
    )
    assert list(a["class_names"]) == ["license-plate", "class_7"]
    assert list(a["unnamed_class_ids"]) == [7]
    assert _none(a["size_note"])
    assert _none(manifest.at["train/b", "issue"]) and len(manifest.at["train/b", "boxes"]) == 0
    assert manifest.at["train/unlisted", "issue"] == "unlabelled: not in _annotations.coco.json"
    assert manifest.at["train/unlisted", "layout"] == "coco"
    assert manifest.at["train/gone", "issue"] == "missing image: named in .json"


def test_standard_coco_images_in_the_folder_the_json_names(tmp_path, write_image):
    write_image(tmp_path / "val2017" / "x.jpg")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_val2017.json").write_text(
        _coco([("x.jpg", 640, 480)], [(0, 1, (24, 16, 48, 32))])
    )
    row = _read(tmp_path).loc["val2017/x"]
    assert (row["layout"], row["label"], row["source_split"]) == (
        "coco",
        "annotations/instances_val2017.json",
        "val",
    )
    assert list(row["boxes"][0]) == pytest.approx([0.5, 0.5, 0.5, 0.5])  # the header's size
    assert row["size_note"] == (
        "annotations/instances_val2017.json width/height says 640x480, the image is 96x64"
    )


def test_a_coco_annotation_with_a_bad_bbox_is_an_issue_on_its_image(tmp_path, write_image):
    write_image(tmp_path / "a.jpg")
    (tmp_path / "_annotations.coco.json").write_text(
        _coco([("a.jpg", W, H)], [(0, 1, ("x", 0, 1, 1))])
    )
    row = _read(tmp_path).loc["a"]
    assert row["issue"] == "malformed label file"
    assert "annotations[0]: bbox holds a value that is not a number" in row["issue_detail"]


# --- CreateML ------------------------------------------------------------------------------


def test_createml_centre_boxes_in_pixels(tmp_path, write_image):
    write_image(tmp_path / "valid" / "a.jpg")
    write_image(tmp_path / "valid" / "neg.jpg")
    items = [
        {
            "image": "a.jpg",
            "annotations": [
                {"label": "plate", "coordinates": {"x": 48, "y": 32, "width": 24, "height": 16}}
            ],
        },
        {"image": "neg.jpg", "annotations": []},
    ]
    (tmp_path / "valid" / "_annotations.createml.json").write_text(json.dumps(items))
    manifest = _read(tmp_path)
    a = manifest.loc["valid/a"]
    assert (a["layout"], a["source_split"]) == ("createml", "val") and _none(a["issue"])
    assert list(a["boxes"][0]) == pytest.approx([0.5, 0.5, 0.25, 0.25])
    assert list(a["class_names"]) == ["plate"]
    assert _none(manifest.at["valid/neg", "issue"])
    assert len(manifest.at["valid/neg", "boxes"]) == 0


# --- CCPD ----------------------------------------------------------------------------------

CCPD_NAME = "025-95_113-154&383_386&473-386&473_177&454_154&383_363&402-0_0_22_27_27_33_16-37-15"


def test_ccpd_name_decodes_box_and_text():
    parsed = parse_ccpd_name(CCPD_NAME)
    assert parsed.corners == (154, 383, 386, 473)
    assert parsed.text == "皖AY339S"
    with pytest.raises(CcpdError, match="field 'bbox'"):
        parse_ccpd_name(CCPD_NAME.replace("154&383_386&473", "154&383_386"))


def test_a_ccpd_folder_reads_boxes_and_text_from_file_names(tmp_path, write_image):
    folder = tmp_path / "ccpd_base"
    write_image(folder / f"{CCPD_NAME}.jpg", 500, 500)
    other = CCPD_NAME.replace("0_0_22", "1_2_24")
    write_image(folder / f"{other}.jpg", 500, 500)
    write_image(folder / "025-95_113-154&383-x-0_0-1-2.jpg", 500, 500)
    manifest = _read(tmp_path)
    row = manifest.loc[f"ccpd_base/{CCPD_NAME}"]
    assert (row["layout"], row["plate_text"]) == ("ccpd", "皖AY339S") and _none(row["issue"])
    assert list(row["plate_texts"]) == ["皖AY339S"]
    assert list(row["boxes"][0]) == pytest.approx([270 / 500, 428 / 500, 232 / 500, 90 / 500])
    assert manifest.at[f"ccpd_base/{other}", "plate_text"] == "沪C0339S"  # ads[24] is the digit 0
    broken = manifest.loc["ccpd_base/025-95_113-154&383-x-0_0-1-2"]
    assert broken["issue"] == "malformed CCPD file name"
    assert "field 'bbox'" in broken["issue_detail"]


# --- YOLO with a short classes.txt --------------------------------------------------------

LABELIMG_PREDEFINED = (
    "dog person cat tv car meatballs marinara_sauce tomato_soup chicken_noodle_soup "
)
LABELIMG_PREDEFINED += "french_onion_soup chicken_breast ribs pulled_pork hamburger cavity"


def test_yolo_ids_past_a_short_classes_txt_are_named_and_kept(tmp_path, write_image):
    (tmp_path / "classes.txt").write_text("\n".join(LABELIMG_PREDEFINED.split()) + "\n")
    for stem in ("a", "b"):
        write_image(tmp_path / f"{stem}.jpg")
        (tmp_path / f"{stem}.txt").write_text("15 0.5 0.5 0.2 0.1\n")
    manifest = _read(tmp_path)
    assert list(manifest.at["a", "class_names"]) == ["class_15"]
    assert list(manifest.at["a", "unnamed_class_ids"]) == [15]
    assert manifest["issue"].isna().all()
