"""A new user's plate folders, one per published layout, with RGBA PNG exports among the
photos: VOC XML, COCO JSON, CreateML JSON, CCPD file names and labelImg YOLO whose
`classes.txt` is shorter than the ids its labels use. Each is read in its own layout and at
least 90 % of its photos validate."""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.code.test_plate_formats_readers import CCPD_NAME, _coco, _voc
from tests.conftest import ingest_and_validate

W, H = 96, 64
PHOTOS = 6  # per layout folder; every other one an RGBA PNG


def _photo(path: Path, seed: int) -> str:
    """A random photo, RGB JPEG or (odd seeds) RGBA PNG with a varying alpha; its file name."""
    rng = np.random.default_rng(seed)
    path = path.with_suffix(".png" if seed % 2 else ".jpg")
    path.parent.mkdir(parents=True, exist_ok=True)
    if seed % 2:
        pixels = rng.integers(0, 255, (H, W, 4), dtype=np.uint8)
        Image.fromarray(pixels, "RGBA").save(path)
    else:
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), "RGB").save(path)
    return path.name


def _layouts(root: Path) -> None:
    coco_images, createml = [], []
    for i in range(PHOTOS):
        name = _photo(root / "voc" / f"v{i}", 100 + i)
        (root / "voc" / f"v{i}.xml").write_text(_voc(name, [("bien_so", 30, 20, 60, 40, 0)]))
        coco_images.append((_photo(root / "coco" / f"c{i}", 200 + i), W, H))
        name = _photo(root / "createml" / f"m{i}", 300 + i)
        box = {"x": 48, "y": 32, "width": 30, "height": 20}
        createml.append({"image": name, "annotations": [{"label": "LP", "coordinates": box}]})
        stem = CCPD_NAME.replace("33_16", f"33_{i}").replace("154&383_386&473", "40&20_70&40")
        _photo(root / "ccpd" / stem, 400 + i)
        name = _photo(root / "yolo" / f"y{i}", 500 + i)
        (root / "yolo" / f"{Path(name).stem}.txt").write_text("15 0.5 0.5 0.3 0.2\n")
    annotations = [(i, 1, (30, 20, 30, 20)) for i in range(PHOTOS)]
    (root / "coco" / "_annotations.coco.json").write_text(_coco(coco_images, annotations))
    (root / "createml" / "_annotations.createml.json").write_text(json.dumps(createml))
    (root / "yolo" / "classes.txt").write_text("dog\nperson\ncat\n")  # labelImg's predefined


def test_each_published_layout_with_rgba_exports_validates(tmp_path):
    _layouts(tmp_path)
    manifest, result = ingest_and_validate("plates", tmp_path, tmp_path / "docs")
    report = result.report
    assert report["dataset"]["layouts"] == {
        "ccpd": "ccpd",
        "coco": "coco",
        "createml": "createml",
        "voc": "voc",
        "yolo": "labelimg",
    }
    for folder, facts in report["dataset"]["folders"].items():
        assert facts["valid"] >= 0.9 * PHOTOS, (folder, report["reasons"])
        assert facts["boxes"] == PHOTOS, folder
    assert report["rows_in"] == len(manifest) == 5 * PHOTOS and report["passed"]
    # the RGBA exports were converted (alpha dropped), not rejected
    assert report["image_conversions"] == {"rgba->rgb": 5 * PHOTOS // 2}
    assert report["dataset"]["folders"]["yolo"]["classes"] == {"class_15": PHOTOS}
