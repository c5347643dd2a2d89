"""Synthetic plates sample: labelImg YOLO layout, sane boxes, visible plates, determinism."""

import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.tasks.plates.sample import PlatesSampleParams, write_sample

PARAMS = PlatesSampleParams(images=20, negative_fraction=0.25, two_plate_fraction=0.2)
LINE = re.compile(r"0( [01]\.\d{6}){4}")


def _write(folder: Path, params: PlatesSampleParams = PARAMS, seed: int = 0) -> Path:
    folder.mkdir(parents=True)
    write_sample(folder, params, seed)
    return folder


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("plates") / "sample")


def _label_files(sample: Path) -> list[Path]:
    """YOLO label files (not the plate-text sidecars `<stem>.plate.txt`)."""
    return [p for p in sorted(sample.glob("xemay_*.txt")) if not p.name.endswith(".plate.txt")]


def _labels(sample: Path) -> dict[str, list[list[float]]]:
    """Boxes `[x, y, w, h]` per stem."""
    return {
        path.stem: [[float(v) for v in line.split()[1:]] for line in path.read_text().splitlines()]
        for path in _label_files(sample)
    }


def _pixel_box(box: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return (
        round((x - w / 2) * width),
        round((y - h / 2) * height),
        round((x + w / 2) * width),
        round((y + h / 2) * height),
    )


def test_flat_folder_of_same_stem_pairs_and_classes_file(sample):
    images = sorted(path.stem for path in sample.glob("*.jpg"))
    labels = [path.stem for path in _label_files(sample)]
    assert images == labels == [f"xemay_{i:04d}" for i in range(1, PARAMS.images + 1)]
    assert (sample / "classes.txt").read_text() == "plate\n"
    sidecars = sorted(path.name for path in sample.glob("*.plate.txt"))
    with_plates = [f"{stem}.plate.txt" for stem, boxes in _labels(sample).items() if boxes]
    assert sidecars == with_plates  # a negative photo has no text to keep
    assert len(list(sample.iterdir())) == 2 * PARAMS.images + 1 + len(sidecars)


def test_images_decode_to_the_configured_rgb_size(sample):
    for path in sample.glob("*.jpg"):
        pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert pixels is not None, path.name
        assert pixels.shape == (PARAMS.height, PARAMS.width, 3)


def test_label_lines_are_labelimg_yolo_with_boxes_inside_the_image(sample):
    for path in _label_files(sample):
        text = path.read_text()
        assert text == "" or text.endswith("\n"), path.name
        for line in text.splitlines():
            assert LINE.fullmatch(line), f"{path.name}: {line!r}"
            x, y, w, h = (float(v) for v in line.split()[1:])
            assert w > 0 and h > 0
            assert x - w / 2 >= -1e-6 and x + w / 2 <= 1 + 1e-6
            assert y - h / 2 >= -1e-6 and y + h / 2 <= 1 + 1e-6


def test_exact_share_of_negatives_and_of_two_plate_photos(sample):
    counts = [len(boxes) for boxes in _labels(sample).values()]
    negatives = round(PARAMS.images * PARAMS.negative_fraction)
    assert counts.count(0) == negatives
    assert counts.count(2) == round((PARAMS.images - negatives) * PARAMS.two_plate_fraction)
    assert set(counts) == {0, 1, 2}
    empty = [path for path in _label_files(sample) if path.stat().st_size == 0]
    assert len(empty) == negatives


def test_two_plates_in_a_photo_do_not_overlap(sample):
    for stem, boxes in _labels(sample).items():
        if len(boxes) == 2:
            a, b = (_pixel_box(box, PARAMS.width, PARAMS.height) for box in boxes)
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, stem


def test_plate_is_a_light_object_with_dark_text_at_its_box(sample):
    """The signal is in the pixels: a light box on a dim scene, not flat (text inside)."""
    for stem, boxes in _labels(sample).items():
        gray = cv2.imread(str(sample / f"{stem}.jpg"), cv2.IMREAD_GRAYSCALE).astype(float)
        for box in boxes:
            x0, y0, x1, y1 = _pixel_box(box, PARAMS.width, PARAMS.height)
            plate = gray[y0:y1, x0:x1]
            assert plate.mean() > gray.mean() + 20, stem
            dx, dy = (x1 - x0) // 5, (y1 - y0) // 5
            # sensor noise alone is a std of about 5; dark text on a light plate far more
            assert gray[y0 + dy : y1 - dy, x0 + dx : x1 - dx].std() > 10, stem


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    params = PlatesSampleParams(images=12)
    first = _write(tmp_path / "first", params, seed=3)
    again = _write(tmp_path / "again", params, seed=3)
    other = _write(tmp_path / "other", params, seed=4)
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in again.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    jpegs = [name for name in names if name.endswith(".jpg")]
    assert all((first / n).read_bytes() != (other / n).read_bytes() for n in jpegs)


def test_size_and_shape_knobs_are_honoured(tmp_path):
    params = PlatesSampleParams(
        images=6, negative_fraction=0, width=200, height=100, one_line_fraction=0
    )
    sample = _write(tmp_path / "small", params)
    for stem, boxes in _labels(sample).items():
        assert len(boxes) >= 1
        assert cv2.imread(str(sample / f"{stem}.jpg")).shape == (100, 200, 3)
        widths = [box[2] for box in boxes]  # enclosing box: a bit wider than the plate itself
        assert all(0.05 < w < 0.45 for w in widths), stem


@pytest.mark.parametrize(
    "bad",
    [
        {"images": 0},
        {"negative_fraction": 1.5},
        {"min_plate_width": 0.3, "max_plate_width": 0.2},
        {"width": 640, "height": 64},
        {"unknown": 1},
    ],
)
def test_invalid_params_are_rejected(bad):
    with pytest.raises(ValidationError):
        PlatesSampleParams(**bad)


def test_photos_are_not_copies_of_one_another(sample):
    """No constant image: photos are not copies of one another."""
    pixels = [cv2.imread(str(path)) for path in sorted(sample.glob("*.jpg"))[:5]]
    assert all(np.abs(a.astype(int) - pixels[0]).mean() > 5 for a in pixels[1:])


TEXT = re.compile(r"\d{2}[A-Z]\d?-\d{4,5}")  # canonical: 59T1-59973 (two lines), 51F-12345 (one)


def test_each_plate_has_its_canonical_text_in_the_sidecar_line_of_its_box(sample):
    from pipeline.tasks.plates.formats.text import CHARSET

    for stem, boxes in _labels(sample).items():
        if not boxes:
            continue
        lines = (sample / f"{stem}.plate.txt").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(boxes), stem
        for line in lines:
            assert TEXT.fullmatch(line), f"{stem}: {line!r}"
            assert set(line) <= set(CHARSET)


def test_one_and_two_line_layouts_by_the_plate_shape(tmp_path):
    """Two-line motorbike plates are about square (the series letter then a digit); one-line
    car plates are wide (`51F-...`); one_line_fraction sets the share."""
    params = PlatesSampleParams(images=40, negative_fraction=0, one_line_fraction=0.5)
    sample = _write(tmp_path / "layouts", params)
    shapes = {"one": 0, "two": 0}
    for stem, boxes in _labels(sample).items():
        lines = (sample / f"{stem}.plate.txt").read_text().splitlines()
        for (_, _, w, h), text in zip(boxes, lines, strict=True):
            aspect = w * params.width / (h * params.height)
            two_line = re.fullmatch(r"\d{2}[A-Z]\d-\d+", text) is not None
            assert (aspect < 2) == two_line, f"{stem}: {text} at aspect {aspect:.2f}"
            shapes["two" if two_line else "one"] += 1
    assert shapes["one"] >= 10 and shapes["two"] >= 10, shapes
