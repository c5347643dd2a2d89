"""Copies of one photo are found by name, bytes and look; distinct photos stay apart."""

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.core.copies import (
    PHASH_MAX_DISTANCE,
    copy_groups,
    fingerprint,
    name_keys,
    strip_copy_suffixes,
)
from pipeline.core.splits import assign_group_splits, assign_splits, linked_groups
from tests.conftest import realdata_dir


def photo(path: Path, seed: int, size: tuple[int, int] = (320, 240)) -> Path:
    """A structured picture (gradient, boxes, discs), as a photo has, unlike pixel noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    ramp = np.linspace(0, 1, width)[None, :, None] * rng.integers(40, 200, 3)
    pixels = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8).copy()
    for _ in range(8):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            cv2.rectangle(pixels, (x, y), (x + 60, y + 40), colour, -1)
        else:
            cv2.circle(pixels, (x, y), int(rng.integers(10, 50)), colour, -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), pixels)
    return path


def groups_of(paths: list[Path]) -> dict[str, str]:
    found = copy_groups([p.stem for p in paths], paths)
    return {p.name: group for p, group in zip(paths, found.group, strict=True)}


@pytest.mark.parametrize(
    ("stem", "photo_name"),
    [
        ("0000_00532_b_jpg.rf.08d429bf528f3671ba7f168285fd5998", "0000_00532_b"),
        ("car_aug1", "car"),
        ("car-aug_2", "car"),
        ("car_augmented", "car"),
        ("car_copy", "car"),
        ("car-copy2", "car"),
        ("car - Copy (2)", "car"),
        ("car (1)", "car"),
        ("car (another copy)", "car"),
        ("car_aug1_jpg.rf.abc123", "car"),
        ("car_aug", "car_aug"),  # no number: not a marker
        ("IMG_0001", "IMG_0001"),
        ("aug1", "aug1"),
    ],
)
def test_copy_suffixes_are_stripped_conservatively(stem, photo_name):
    assert strip_copy_suffixes(stem) == photo_name


def test_a_numbered_stem_is_a_copy_only_when_the_plain_stem_is_there():
    assert name_keys(["x", "x_1", "y_1", "z 2", "z", "IMG_0001"]) == [
        "x",
        "x",
        "y_1",
        "z",
        "z",
        "IMG_0001",
    ]


def test_byte_identical_files_with_unrelated_names_are_one_photo(tmp_path):
    original = photo(tmp_path / "night_0042.jpg", seed=1)
    twin = tmp_path / "export" / "IMG-9.jpg"
    twin.parent.mkdir()
    shutil.copyfile(original, twin)
    other = photo(tmp_path / "night_0043.jpg", seed=2)
    found = copy_groups([p.stem for p in (original, twin, other)], [original, twin, other])
    assert found.group == ["IMG-9", "IMG-9", "night_0043"]  # named by the smallest name
    assert found.links == {"name": 0, "bytes": 1, "look": 0}


def test_a_stretched_reencoded_copy_is_found_by_its_look(tmp_path):
    original = photo(tmp_path / "a.jpg", seed=3)
    with Image.open(original) as image:  # as Roboflow exports: stretched to 640x640
        image.convert("RGB").resize((640, 640)).save(tmp_path / "zz_export.jpg", quality=70)
        image.convert("RGB").resize((107, 80)).save(tmp_path / "thumb.png")
    paths = [original, tmp_path / "zz_export.jpg", tmp_path / "thumb.png"]
    found = copy_groups([p.stem for p in paths], paths)
    assert found.group == ["a", "a", "a"]
    assert found.links["look"] == 2


def test_augmented_and_downloaded_copies_are_found_by_name(tmp_path):
    # different pixels (an augmentation may flip or rotate): only the names link them
    paths = [
        photo(tmp_path / f"{name}.jpg", seed=seed)
        for seed, name in enumerate(["p", "p_aug1", "p_aug2", "p (1)", "q"])
    ]
    assert groups_of(paths) == {
        "p.jpg": "p",
        "p_aug1.jpg": "p",
        "p_aug2.jpg": "p",
        "p (1).jpg": "p",
        "q.jpg": "q",
    }


def test_different_photos_are_not_grouped(tmp_path):
    paths = [photo(tmp_path / f"{n}.jpg", seed=n) for n in range(12)]
    found = copy_groups([p.stem for p in paths], paths)
    assert len(set(found.group)) == 12


def test_near_uniform_images_are_not_matched_by_look(tmp_path):
    # two different dark frames: their hashes are noise, so only bytes or names may link them
    rng = np.random.default_rng(0)
    paths = []
    for n in range(2):
        dark = (rng.random((240, 320, 3)) * 3).astype(np.uint8)
        paths.append(tmp_path / f"dark{n}.png")
        cv2.imwrite(str(paths[-1]), dark)
    found = copy_groups([p.stem for p in paths], paths)
    assert found.group == ["dark0", "dark1"]
    assert found.unhashed == ["near-uniform: no perceptual hash"] * 2


def test_a_corrupt_or_missing_file_is_its_own_group_and_never_raises(tmp_path):
    good = photo(tmp_path / "good.jpg", seed=5)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:400])
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    missing = tmp_path / "missing.jpg"
    paths = [good, cut, junk, missing, None]
    found = copy_groups(["good", "cut", "junk", "missing", "orphan"], paths)
    assert found.group == ["good", "cut", "junk", "missing", "orphan"]
    assert found.unhashed[1].startswith("does not decode")
    assert found.unhashed[2].startswith("does not decode")
    assert fingerprint(missing).sha256 is None
    assert fingerprint(junk).sha256 is not None


def test_linked_groups_join_items_through_shared_keys():
    assert linked_groups(["b", "a", "c", "d"], [["59C1"], ["51F"], ["59C1", "51F"], []]) == [
        "a",
        "a",
        "a",
        "d",
    ]


def test_group_splits_keep_the_fractions_of_items_and_match_plain_splits_for_singletons():
    keys = [f"k{i}" for i in range(40)]
    assert assign_group_splits(dict.fromkeys(keys, 1), 0.15, 0.2, 7) == assign_splits(
        keys, 0.15, 0.2, 7
    )
    sizes = {f"g{i}": 3 if i % 3 == 0 else 1 for i in range(100)}  # 34 triples, 66 singles
    splits = assign_group_splits(sizes, 0.15, 0.15, 0)
    items = {s: sum(n for g, n in sizes.items() if splits[g] == s) for s in ("val", "test")}
    assert items == {"val": 25, "test": 25}  # round(168 * 0.15)


REAL = realdata_dir("plates")


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real plates not found at {REAL}")
def test_on_the_real_plates_copies_are_merged_and_distinct_photos_are_not(tmp_path):
    images = sorted(REAL.rglob("*.jpg"))
    found = copy_groups([p.stem for p in images], images)
    assert len(set(found.group)) == 34 + 150 + 33  # the sources PROVENANCE.md counts
    assert found.links == {"name": 68, "bytes": 0, "look": 0}
    # distinct photos are far apart: the nearest two differ by twice the threshold
    hashes = np.stack([fingerprint(p).phash for p in images])
    distance = np.bitwise_count(hashes[:, None] ^ hashes[None]).sum(axis=2)
    groups = np.array(found.group)
    assert distance[groups[:, None] != groups[None, :]].min() > 2 * PHASH_MAX_DISTANCE
    # stretched and shrunk re-encodes of real photos join their original
    first = {group: image for image, group in reversed(list(zip(images, found.group, strict=True)))}
    sources = sorted(first.values())[::10]
    copies = []
    for n, source in enumerate(sources):
        with Image.open(source) as image:
            copies.append(tmp_path / f"copy{n}.jpg")
            size = (640, 640) if n % 2 else (image.width // 3, image.height // 3)
            image.convert("RGB").resize(size).save(copies[-1], quality=60)
    both = [*sources, *copies]
    merged = copy_groups([p.stem for p in both], both).group
    assert merged[len(sources) :] == merged[: len(sources)]
    assert len(set(merged)) == len(sources)
