"""Every file of a plates raw folder accounted for; label files no reader reads stop the
ingest with one line; one folder per layout ingests and validates."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.errors import DatasetError
from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks.plates.ingest import read_raw
from pipeline.tasks.plates.params import PlatesIngestParams
from tests.code.test_plate_formats_readers import CCPD_NAME, LABELIMG_PREDEFINED, _coco, _voc
from tests.conftest import ingest_and_validate

REPO = Path(__file__).parents[2]
PARAMS = PlatesIngestParams()


@pytest.mark.parametrize(
    ("name", "content", "looks_like"),
    [
        ("a.xml", "<annotations><image name='a.jpg'/></annotations>", "CVAT XML"),
        ("a.json", json.dumps({"shapes": [], "imagePath": "a.jpg"}), "LabelMe JSON"),
        ("labels.csv", "filename,xmin,ymin,xmax,ymax\na.jpg,1,2,3,4\n", "CSV with header"),
    ],
)
def test_label_files_no_reader_reads_stop_the_ingest_with_one_line(
    tmp_path, write_image, name, content, looks_like
):
    write_image(tmp_path / "set" / "a.jpg")
    write_image(tmp_path / "set" / "b.jpg")
    (tmp_path / "set" / name).write_text(content)
    with pytest.raises(DatasetError) as raised:
        read_raw(tmp_path, PARAMS, seed=0)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"plates: set/ holds label files no reader reads: {name}")
    assert looks_like in message and "Pascal VOC .xml" in message


def test_the_ingest_command_prints_that_one_line(tmp_path, monkeypatch, write_image):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"]["plates"]["raw_dir"] = str(tmp_path / "raw")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_image(tmp_path / "raw" / "a.jpg")
    (tmp_path / "raw" / "a.xml").write_text("<annotations/>")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["ingest", "plates"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "a.xml" in lines[0] and "CVAT XML" in lines[0]


def test_every_file_is_counted_by_extension_and_role(tmp_path, write_image):
    data = tmp_path / "set"
    for stem in ("a", "b", "c"):
        write_image(data / f"{stem}.jpg")
    (data / "a.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    (data / "b.txt").write_text("")
    (data / "classes.txt").write_text("plate\n")
    (data / "README.roboflow.txt").write_text("exported\n")
    (data / "data.yaml").write_text("names: [plate]\n")
    (data / "convert.py").write_text("print('hi')\n")
    (data / ".DS_Store").write_bytes(b"\0")
    (data / "a.plate.txt").write_text("59C1-39916\n")
    (tmp_path / "NOTES.md").write_text("where the data came from\n")
    manifest, result = ingest_and_validate("plates", tmp_path, tmp_path / "docs")
    dataset = result.report["dataset"]
    assert dataset["folders"]["set"]["files"] == {
        "(none)": {"ignored: hidden file": 1},
        ".jpg": {"image": 3},
        ".py": {"ignored: not a dataset file": 1},
        ".txt": {"label": 3, "metadata": 2},  # a.txt, b.txt, a.plate.txt; classes, README
        ".yaml": {"metadata": 1},
    }
    assert dataset["files_outside_dataset_folders"] == {".": {".md": {"metadata": 1}}}
    assert dataset["files"] == {
        "files": 12,
        "image": 3,
        "label": 3,
        "metadata": 4,
        "ignored": 2,
    }
    assert manifest.at[2, "issue"] == "unlabelled: no .txt label"  # c.jpg
    write_manifest(manifest, tmp_path / "manifest.parquet")  # validate reads it back
    assert read_manifest(tmp_path / "manifest.parquet").attrs == manifest.attrs


def test_a_short_classes_txt_is_reported_and_its_rows_are_valid(tmp_path, write_image):
    (tmp_path / "classes.txt").write_text("\n".join(LABELIMG_PREDEFINED.split()) + "\n")
    for stem in ("a", "b", "c", "d"):
        write_image(tmp_path / f"{stem}.jpg", seed=ord(stem))
        (tmp_path / f"{stem}.txt").write_text("15 0.5 0.5 0.2 0.1\n")
    _, result = ingest_and_validate("plates", tmp_path, tmp_path / "docs")
    report = result.report
    assert (report["valid"], report["rejected"]) == (4, 0)
    folder = report["dataset"]["folders"]["."]
    assert folder["classes"] == {"class_15": 4}
    assert folder["unnamed_classes"] == {
        "15": {"files": 4, "first_files": ["a.txt", "b.txt", "c.txt"]}
    }


def _one_folder_per_layout(root: Path, write_image) -> None:
    """Four images per layout folder, each with one plate box of a sane size."""
    for i in range(4):  # labelImg YOLO
        write_image(root / "yolo" / f"y{i}.jpg", seed=i)
        (root / "yolo" / f"y{i}.txt").write_text("0 0.5 0.5 0.3 0.2\n")
    for i in range(4):  # Ultralytics
        write_image(root / "ultra" / "images" / f"u{i}.jpg", seed=10 + i)
        (root / "ultra" / "labels").mkdir(parents=True, exist_ok=True)
        (root / "ultra" / "labels" / f"u{i}.txt").write_text("0 0.5 0.5 0.3 0.2\n")
    lines = []
    for i in range(4):  # GreenParking
        write_image(root / "gp" / f"g{i}.jpg", seed=20 + i)
        lines.append(f"g{i}.jpg 1 30 20 30 20 59C1-3991{i}\n")
    (root / "gp" / "location.txt").write_text("".join(lines))
    for i in range(4):  # VOC
        write_image(root / "voc" / f"v{i}.jpg", seed=30 + i)
        (root / "voc" / f"v{i}.xml").write_text(_voc(f"v{i}.png", [("plate", 30, 20, 60, 40, 0)]))
    for i in range(4):  # COCO
        write_image(root / "coco" / f"c{i}.jpg", seed=40 + i)
    (root / "coco" / "_annotations.coco.json").write_text(
        _coco(
            [(f"c{i}.jpg", 96, 64) for i in range(4)], [(i, 1, (30, 20, 30, 20)) for i in range(4)]
        )
    )
    items = []
    for i in range(4):  # CreateML
        write_image(root / "createml" / f"m{i}.jpg", seed=50 + i)
        box = {"x": 48, "y": 32, "width": 30, "height": 20}
        items.append(
            {"image": f"m{i}.jpg", "annotations": [{"label": "plate", "coordinates": box}]}
        )
    (root / "createml" / "_annotations.createml.json").write_text(json.dumps(items))
    for i in range(4):  # CCPD
        name = CCPD_NAME.replace("0_0_22_27_27_33_16", f"0_0_22_27_27_33_{i}")
        name = name.replace("154&383_386&473", "154&183_254&243")
        write_image(root / "ccpd" / f"{name}.jpg", 400, 300, seed=60 + i)


def test_one_folder_per_layout_ingests_and_validates(tmp_path, write_image):
    _one_folder_per_layout(tmp_path, write_image)
    manifest, result = ingest_and_validate("plates", tmp_path, tmp_path / "docs")
    report = result.report
    assert report["dataset"]["layouts"] == {
        "ccpd": "ccpd",
        "coco": "coco",
        "createml": "createml",
        "gp": "greenparking",
        "ultra": "ultralytics",
        "voc": "voc",
        "yolo": "labelimg",
    }
    assert report["rows_in"] == len(manifest) == 28
    assert report["valid"] >= 0.9 * 28, report["reasons"]
    totals = report["dataset"]["files"]
    assert totals["image"] == 28 and totals["ignored"] == 0
