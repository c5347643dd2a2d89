"""Plates augmentation: boxes follow the pixels, none is lost silently, val/test untouched."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks.plates.augment import augment
from pipeline.tasks.plates.boxes import transform, xyxy_to_yolo, yolo_to_xyxy
from pipeline.tasks.plates.ingest import parse_yolo_label
from pipeline.tasks.plates.params import PlatesAugmentParams
from pipeline.tasks.plates.plots import write_augment_reports
from pipeline.tasks.plates.transforms import border, brighten, crop, keep_visible, rotate
from tests.conftest import paths_in

WIDTH, HEIGHT = 160, 120
PLATE = np.array([[60.0, 40.0, 100.0, 70.0]])  # edge coordinates: pixels 60..99 x 40..69


def plate_image(xyxy=PLATE, width=WIDTH, height=HEIGHT) -> np.ndarray:
    """A black RGB image with each box filled white."""
    image = np.zeros((height, width, 3), np.uint8)
    for x1, y1, x2, y2 in np.asarray(xyxy).astype(int):
        image[y1:y2, x1:x2] = 255
    return image


def bright_extent(image: np.ndarray) -> np.ndarray:
    """The edge-coordinate rectangle of the bright pixels (pixel i spans [i, i + 1])."""
    ys, xs = np.nonzero(image.max(axis=2) > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)


def assert_encloses(box: np.ndarray, image: np.ndarray, tolerance: float = 1.5) -> None:
    """Every bright pixel lies in the box, and the box is not much larger than them."""
    extent = bright_extent(image)
    assert (extent[:2] >= box[:2] - tolerance).all() and (extent[2:] <= box[2:] + tolerance).all()
    assert (box[:2] >= extent[:2] - tolerance).all() and (box[2:] <= extent[2:] + tolerance).all()


@pytest.mark.parametrize("degrees", [-10, 7, 25, 90])
def test_a_rotated_box_encloses_the_rotated_plate(degrees):
    turned, matrix = rotate(plate_image(), degrees)
    (box,) = transform(PLATE, matrix)
    assert_encloses(box, turned)


def test_a_cropped_plate_is_enclosed_and_larger():
    cropped, matrix = crop(plate_image(), PLATE, 0.6, np.random.default_rng(0))
    (box,) = transform(PLATE, matrix)
    assert_encloses(box, cropped)
    assert box[2] - box[0] > (PLATE[0, 2] - PLATE[0, 0]) * 1.5


def test_a_bordered_plate_is_enclosed_and_smaller():
    bordered, matrix = border(plate_image(), (0.3, 0.1, 0.2, 0.25))
    (box,) = transform(PLATE, matrix)
    assert_encloses(box, bordered)
    assert box[2] - box[0] == pytest.approx(40 / 1.5, abs=0.5)
    assert box[3] - box[1] == pytest.approx(30 / 1.35, abs=0.5)


def test_a_crop_never_cuts_a_plate_and_grows_when_it_must():
    far_apart = np.array([[0.0, 2.0, 20.0, 15.0], [140.0, 100.0, 160.0, 118.0]])
    for seed in range(5):
        cropped, matrix = crop(plate_image(far_apart), far_apart, 0.3, np.random.default_rng(seed))
        assert np.allclose(matrix, np.eye(2, 3))  # only the whole image holds both
        assert np.array_equal(cropped, plate_image(far_apart))
    near_corner = np.array([[130.0, 90.0, 160.0, 120.0]])
    for seed in range(5):
        cropped, matrix = crop(
            plate_image(near_corner), near_corner, 0.5, np.random.default_rng(seed)
        )
        (box,) = transform(near_corner, matrix)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= WIDTH + 1e-9 and box[3] <= HEIGHT + 1e-9
        assert_encloses(box, cropped)


def test_brightness_scales_the_value_channel():
    image = np.full((2, 2, 3), 100, np.uint8)
    assert brighten(image, 0.5).mean() == pytest.approx(50, abs=2)
    assert brighten(image, 3.0).max() == 255


def test_a_box_rotated_out_of_the_image_is_dropped_with_a_reason():
    corner = np.array([[0.0, 0.0, 20.0, 20.0], [60.0, 40.0, 100.0, 70.0]])
    _, matrix = rotate(np.zeros((100, 100, 3), np.uint8), 45)
    kept, reasons = keep_visible(transform(corner, matrix), 100, 100, 0.5, "rotation")
    assert reasons == ["rotated out of the image"]
    assert len(kept) == 1 and (kept >= 0).all() and (kept <= 100).all()


def test_keep_visible_clips_keeps_mostly_inside_and_explains_every_drop():
    moved = np.array(
        [
            [-10.0, 10.0, 30.0, 30.0],  # 75 % inside: kept, clipped
            [-30.0, 10.0, 10.0, 30.0],  # 25 % inside: dropped
            [120.0, 10.0, 140.0, 30.0],  # wholly outside: dropped
            [5.0, 5.0, 5.0, 9.0],  # no width: dropped
        ]
    )
    kept, reasons = keep_visible(moved, 100, 100, 0.5, "crop")
    assert kept.tolist() == [[0.0, 10.0, 30.0, 30.0]]
    assert reasons == [
        "cropped out of the image",
        "cropped out of the image",
        "zero width or height (crop)",
    ]


@pytest.fixture
def plates_folder(tmp_path):
    """Four dark noisy photos with white plates: two train (one a PNG, one negative), val, test."""
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    plates = {
        "a.jpg": [[40.0, 30.0, 80.0, 55.0], [120.0, 85.0, 155.0, 115.0]],
        "sub/b.png": [[55.0, 45.0, 105.0, 80.0]],
        "neg.jpg": [],
        "v.jpg": [[20.0, 20.0, 60.0, 45.0]],
        "t.jpg": [[-1.0, 60.0, 40.0, 90.0]],  # a rounding past the edge, as validation allows
    }
    splits = {"a.jpg": "train", "sub/b.png": "train", "neg.jpg": "train", "v.jpg": "val"}
    rows = []
    for name, xyxy in plates.items():
        image = plate_image(np.clip(np.asarray(xyxy).reshape(-1, 4), 0, None))
        noise = rng.integers(0, 50, image.shape, dtype=np.uint8)
        cv2.imwrite(str(raw / name), cv2.cvtColor(np.maximum(image, noise), cv2.COLOR_RGB2BGR))
        yolo = xyxy_to_yolo(xyxy, WIDTH, HEIGHT)
        rows.append(
            {
                "stem": name.rsplit(".", 1)[0],
                "image": name,
                "boxes": [np.asarray(box) for box in yolo],  # as parquet hands them over
                "class_ids": [0] * len(xyxy),
                "split": splits.get(name, "test"),
            }
        )
    return raw, pd.DataFrame(rows)


ALWAYS = PlatesAugmentParams(
    copies=2,
    border_probability=1,
    crop_probability=1,
    brightness_probability=1,
    rotation_probability=1,
    max_rotation=8,
    grid_images=4,
)


def run(raw, valid, folder, params=ALWAYS, seed=1):
    folder.mkdir()
    return augment(valid, params, paths_in(raw, processed_dir=folder), seed)


def test_augment_writes_a_yolo_folder_with_labels_matching_the_manifest(plates_folder, tmp_path):
    raw, valid = plates_folder
    out = tmp_path / "out"
    manifest, report = run(raw, valid, out)
    assert len(manifest) == 3 * (1 + 2) + 1 + 1
    assert (out / "classes.txt").read_text().split() == ["plate"]
    assert manifest["copy"].tolist().count(0) == 5
    for row in manifest.itertuples():
        assert (out / row.image).is_file()
        ids, boxes = parse_yolo_label((out / row.label).read_text())
        assert ids == [0] * row.n_boxes and boxes == row.boxes
        assert all(0 <= value <= 1 for box in boxes for value in box)
        assert all(box[2] > 0 and box[3] > 0 for box in boxes)
        assert (row.width, row.height) == (WIDTH, HEIGHT)
    assert {"train_000001_0.png", "train_000000_1.jpg"} <= {p.name for p in out.glob("images/*")}
    variants = manifest[manifest["copy"] >= 1]
    assert all(ops == ["border", "crop", "brightness", "rotation"] for ops in variants["ops"])
    assert report["ops"] == {"border": 6, "crop": 6, "brightness": 6, "rotation": 6}
    assert report["train_images_before"] == 3 and report["train_images_after"] == 9
    json.dumps(report)  # written as summary.json


def test_val_and_test_are_unchanged_copies(plates_folder, tmp_path):
    raw, valid = plates_folder
    out = tmp_path / "out"
    manifest, _ = run(raw, valid, out)
    for split, source in (("val", "v.jpg"), ("test", "t.jpg")):
        (row,) = manifest[manifest["split"] == split].itertuples()
        assert row.image == f"images/{split}_00000{3 if split == 'val' else 4}.jpg"
        assert row.source == source and row.ops == [] and row.dropped == []
        assert (out / row.image).read_bytes() == (raw / source).read_bytes()
        expected = valid.loc[valid["image"] == source, "boxes"].item()
        assert np.allclose(row.boxes, np.asarray(expected), atol=0.01)  # test's box is clipped


def test_every_augmented_plate_is_inside_its_boxes(plates_folder, tmp_path):
    raw, valid = plates_folder
    out = tmp_path / "out"
    manifest, report = run(raw, valid, out)
    lost = manifest["dropped"].map(len)
    assert sum(report["dropped"].values()) == lost.sum()
    for row in manifest[(manifest["copy"] >= 1) & (lost == 0)].itertuples():
        image = cv2.imread(str(out / row.image))
        inside = np.zeros(image.shape[:2], bool)
        for x1, y1, x2, y2 in yolo_to_xyxy(row.boxes, row.width, row.height):
            inside[max(0, int(y1) - 2) : int(y2) + 3, max(0, int(x1) - 2) : int(x2) + 3] = True
        bright = image.min(axis=2) > 110  # white plate (even darkened), not the noise
        assert not (bright & ~inside).any(), row.image
        assert (row.n_boxes > 0) == bright.any() == (row.source != "neg.jpg")


def test_augment_is_deterministic_and_the_manifest_survives_parquet(plates_folder, tmp_path):
    raw, valid = plates_folder
    first, report = run(raw, valid, tmp_path / "one", seed=7)
    second, again = run(raw, valid, tmp_path / "two", seed=7)
    pd.testing.assert_frame_equal(first, second)
    assert report == again
    for name in first["image"]:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    other, _ = run(raw, valid, tmp_path / "three", seed=8)
    assert other["boxes"].tolist() != first["boxes"].tolist()
    write_manifest(first, tmp_path / "manifest.parquet")
    back = read_manifest(tmp_path / "manifest.parquet")
    assert back.columns.tolist() == [
        "image", "label", "split", "boxes", "n_boxes", "source", "width", "height",
        "copy", "ops", "dropped",
    ]  # fmt: skip
    assert back["n_boxes"].tolist() == first["n_boxes"].tolist()


def test_a_large_rotation_drops_boxes_with_a_reason(plates_folder, tmp_path):
    raw, valid = plates_folder
    params = PlatesAugmentParams(
        copies=6,
        border_probability=0,
        crop_probability=0,
        brightness_probability=0,
        rotation_probability=1,
        max_rotation=90,
        min_visible=0.95,
    )
    manifest, report = run(raw, valid, tmp_path / "out", params, seed=3)
    lost = manifest["dropped"].map(len)
    assert set(report["dropped"]) == {"rotated out of the image"}
    assert report["dropped"]["rotated out of the image"] == lost.sum() > 0
    plates = {"a.jpg": 2, "sub/b.png": 1, "neg.jpg": 0, "v.jpg": 1, "t.jpg": 1}
    assert (manifest["n_boxes"] + lost == manifest["source"].map(plates)).all()


def test_border_makes_plates_smaller_and_crop_larger_in_the_report(plates_folder, tmp_path):
    raw, valid = plates_folder
    only = {f"{op}_probability": 0.0 for op in ("border", "crop", "brightness", "rotation")}
    bordered = PlatesAugmentParams(copies=3, **(only | {"border_probability": 1.0}))
    cropped = PlatesAugmentParams(copies=3, min_crop=0.5, **(only | {"crop_probability": 1.0}))
    _, smaller = run(raw, valid, tmp_path / "border", bordered)
    _, larger = run(raw, valid, tmp_path / "crop", cropped)
    median = {
        name: report["plate_width"]["quantiles"][group]["q50"]
        for name, report, group in (
            ("before", smaller, "before"),
            ("border", smaller, "border_only"),
            ("crop", larger, "crop_only"),
        )
    }
    assert median["border"] < median["before"] < median["crop"]
    assert smaller["plate_width"]["quantiles"]["crop_only"] == {}


def test_write_reports_draws_the_samples_and_the_sizes(plates_folder, tmp_path):
    raw, valid = plates_folder
    out = tmp_path / "out"
    _, report = run(raw, valid, out)
    assert 0 < len(report["examples"]) <= ALWAYS.grid_images
    assert all(example["boxes"] for example in report["examples"])  # plates first
    assert all(example["image"].split("_")[-1] != "0.jpg" for example in report["examples"])
    reports = tmp_path / "reports"
    write_augment_reports(json.loads(json.dumps(report)), paths_in(reports, processed_dir=out))
    for name in ("augmented_samples.png", "plate_sizes.png"):
        assert cv2.imread(str(reports / name)) is not None


def test_write_reports_without_variants(plates_folder, tmp_path):
    raw, valid = plates_folder
    out = tmp_path / "out"
    manifest, report = run(raw, valid, out, PlatesAugmentParams(copies=0))
    assert len(manifest) == 5 and report["examples"] == []
    write_augment_reports(report, paths_in(tmp_path / "reports", processed_dir=out))
    assert (tmp_path / "reports" / "augmented_samples.png").is_file()
