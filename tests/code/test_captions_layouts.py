"""Captions layouts besides Flickr8k's own: Kaggle's Flickr8k, Flickr30k (token file and Kaggle's
`|` CSV), Karpathy's split json, the seeded split, unknown caption files, partial copies."""

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.core.manifest import Provenance, read_manifest, write_manifest
from pipeline.tasks import TASKS
from pipeline.tasks.captions.ingest import FACTS, read_raw
from pipeline.tasks.captions.params import CaptionsIngestParams

PARAMS = CaptionsIngestParams()
IMAGES = [f"{1000 + i}_{i:02d}.jpg" for i in range(16)]
COMMA = "A dog, brown and white, runs on the grass ."
QUOTES = 'A sign says "stop" here .'


def _plain(values):
    return [None if pd.isna(v) else v for v in values]


def _kaggle_lines(names: list[str]) -> list[str]:
    return [f"{name},a picture number {k} of {name} ." for name in names for k in range(5)]


@pytest.fixture
def kaggle(tmp_path, write_image):
    """Kaggle's Flickr8k: `Images/` + `captions.txt`, with a caption holding commas."""
    root = tmp_path / "flickr8k"
    for i, name in enumerate(IMAGES):
        write_image(root / "Images" / name, seed=i)
    lines = ["image,caption", *_kaggle_lines(IMAGES)]
    lines[1] = f'{IMAGES[0]},"{COMMA}"'
    lines[2] = f'{IMAGES[0]},"{QUOTES.replace(chr(34), chr(34) * 2)}"'
    (root / "captions.txt").write_text("\n".join(lines) + "\n")
    return root


def test_kaggle_captions_are_read_with_quoted_commas(kaggle):
    manifest = read_raw(kaggle, PARAMS, seed=0).set_index("image_id")
    assert list(manifest.index) == IMAGES  # one row per image, none with an issue
    assert manifest["issue"].isna().all()
    first = manifest.at[IMAGES[0], "captions"]
    assert first[:2] == [COMMA, QUOTES] and len(first) == 5
    assert manifest.at[IMAGES[0], "image"] == f"Images/{IMAGES[0]}"
    facts = read_raw(kaggle, PARAMS, seed=0).attrs[FACTS]
    assert facts["layout"] == "Kaggle Flickr8k"
    assert facts["captions_file"] == "captions.txt" and facts["images_dir"] == "Images"
    assert facts["split_source"] == "seeded by image"
    assert facts["split_fractions"] == {"val": 0.125, "test": 0.125}


def test_bad_kaggle_lines_are_rows_with_their_line(kaggle):
    with (kaggle / "captions.txt").open("a") as captions:
        captions.write(f'{IMAGES[1]},"an unclosed quote\n')
        captions.write(f"{IMAGES[1]},one,comma too many\n")
        captions.write("gone.jpg,a picture the folder lacks .\n")
    manifest = read_raw(kaggle, PARAMS, seed=0)
    bad = manifest[manifest["image_id"].isna()]
    assert _plain(bad["issue"]) == ["malformed caption line"] * 2
    assert bad["issue_detail"].iloc[0].startswith("captions.txt line 82: not a captions.txt row")
    assert (
        bad["issue_detail"]
        .iloc[1]
        .startswith("captions.txt line 83: 3 fields, expected 2 (image, caption)")
    )
    gone = manifest.set_index("image_id").loc["gone.jpg"]
    assert gone["issue"] == "image missing on disk"
    assert gone["issue_detail"] == "captions.txt line 84: gone.jpg"


def test_a_kaggle_image_without_captions_is_a_row(kaggle, write_image):
    write_image(kaggle / "Images" / "9_silent.jpg")
    row = read_raw(kaggle, PARAMS, seed=0).set_index("image_id").loc["9_silent.jpg"]
    assert row["issue"] == "no captions in captions.txt" and pd.isna(row["split"])


def test_kaggle_without_a_header_is_read_with_a_note(kaggle):
    text = (kaggle / "captions.txt").read_text().split("\n", 1)[1]
    (kaggle / "captions.txt").write_text(text)
    manifest = read_raw(kaggle, PARAMS, seed=0)
    assert manifest["issue"].isna().all() and len(manifest) == len(IMAGES)
    summary = TASKS["captions"].summarize(manifest, manifest)
    assert summary["oddities"] == {"no header row (captions.txt)": 1}


def test_official_split_files_anywhere_in_a_kaggle_folder_decide_the_split(kaggle):
    text = kaggle / "extra" / "Flickr8k_text"
    text.mkdir(parents=True)
    (text / "Flickr_8k.trainImages.txt").write_text("\n".join(IMAGES[:12]) + "\n")
    (text / "Flickr_8k.devImages.txt").write_text("\n".join(IMAGES[12:14]) + "\n")
    (text / "Flickr_8k.testImages.txt").write_text("\n".join(IMAGES[14:]) + "\n")
    manifest = read_raw(kaggle, PARAMS, seed=0)
    assert manifest["split"].tolist() == ["train"] * 12 + ["val"] * 2 + ["test"] * 2
    facts = manifest.attrs[FACTS]
    assert facts["split_source"] == "official split files"
    assert facts["split_files"][0] == "extra/Flickr8k_text/Flickr_8k.trainImages.txt"


def test_the_seeded_split_is_per_image_deterministic_and_follows_the_fractions(kaggle):
    params = CaptionsIngestParams(val_fraction=0.25, test_fraction=0.25)
    first = read_raw(kaggle, params, seed=3).set_index("image_id")["split"]
    assert first.index.is_unique  # every caption of an image is in its one row
    assert first.value_counts().to_dict() == {"train": 8, "val": 4, "test": 4}
    assert read_raw(kaggle, params, seed=3).set_index("image_id")["split"].equals(first)
    # the order of the lines does not matter, the seed does
    lines = (kaggle / "captions.txt").read_text().splitlines()
    (kaggle / "captions.txt").write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    again = read_raw(kaggle, params, seed=3).set_index("image_id")["split"]
    assert again.sort_index().equals(first.sort_index())
    others = [read_raw(kaggle, params, seed=s).set_index("image_id")["split"] for s in (4, 5)]
    assert any(not o.sort_index().equals(first.sort_index()) for o in others)


@pytest.fixture
def flickr30k_csv(tmp_path, write_image):
    """Kaggle's Flickr30k: `flickr30k_images/results.csv` beside the nested image folder."""
    root = tmp_path / "flickr30k"
    images = root / "flickr30k_images" / "flickr30k_images"
    for i, name in enumerate(IMAGES[:4]):
        write_image(images / name, seed=i)
    lines = ["image_name| comment_number| comment"]
    lines += [f"{name}| {k}| A man number {k} ." for name in IMAGES[:4] for k in range(5)]
    lines[3] = f"{IMAGES[0]}| 2| {QUOTES}"  # a quote is text in this file
    lines[10] = f"{IMAGES[1]}| 4   A dog runs across the grass ."  # the real file's bad line
    (root / "flickr30k_images" / "results.csv").write_text("\n".join(lines) + "\n")
    return root


def test_flickr30k_csv_with_its_malformed_line_is_read(flickr30k_csv):
    manifest = read_raw(flickr30k_csv, PARAMS, seed=0)
    rows = manifest.set_index("image_id")
    assert rows.at[IMAGES[0], "captions"][2] == QUOTES
    assert len(rows.at[IMAGES[1], "captions"]) == 4  # still valid with its other captions
    assert rows.at[IMAGES[1], "image"] == f"flickr30k_images/flickr30k_images/{IMAGES[1]}"
    assert _plain(rows.loc[IMAGES[:4], "issue"]) == [None] * 4
    bad = manifest[manifest["image_id"].isna()]
    assert _plain(bad["issue"]) == ["malformed caption line"]
    assert bad["issue_detail"].iloc[0] == (
        "results.csv line 11: 2 fields, expected 3 (image_name| comment_number| comment): "
        f"'{IMAGES[1]}| 4   A dog runs across the grass .'"
    )
    facts = manifest.attrs[FACTS]
    assert (facts["layout"], facts["split_source"]) == ("Kaggle Flickr30k", "seeded by image")


def test_flickr30k_token_file_is_read_like_flickr8k(tmp_path, write_image):
    root = tmp_path / "flickr30k"
    for i, name in enumerate(IMAGES[:4]):
        write_image(root / "flickr30k-images" / name, seed=i)
    lines = [f"{name}#{k}\tTwo people number {k} ." for name in IMAGES[:4] for k in range(5)]
    (root / "results_20130124.token").write_text("\n".join(lines) + "\n")
    manifest = read_raw(root, PARAMS, seed=0)
    assert manifest["issue"].isna().all() and len(manifest) == 4
    assert manifest["captions"].map(len).tolist() == [5] * 4
    assert manifest.attrs[FACTS]["layout"] == "Flickr30k"


def test_karpathy_json_decides_the_split_when_present(flickr30k_csv):
    images = [
        {"filename": IMAGES[0], "split": "train"},
        {"filename": IMAGES[1], "split": "restval"},  # Karpathy's extra train images
        {"filename": IMAGES[2], "split": "val"},
        {"filename": IMAGES[3], "split": "test"},
        {"filename": "", "split": "test"},
    ]
    path = flickr30k_csv / "dataset_flickr30k.json"
    path.write_text(json.dumps({"images": images, "dataset": "flickr30k"}))
    manifest = read_raw(flickr30k_csv, PARAMS, seed=0)
    splits = manifest.dropna(subset=["image_id"]).set_index("image_id")["split"]
    assert splits.to_dict() == dict(zip(IMAGES[:4], ["train", "train", "val", "test"], strict=True))
    assert manifest.attrs[FACTS]["split_source"] == "Karpathy's dataset json"
    assert "malformed split entry" in set(manifest["issue"].dropna())


def test_caption_files_no_reader_claims_fail_with_one_line_naming_them(tmp_path, write_image):
    write_image(tmp_path / "photos" / "a.jpg")
    (tmp_path / "annotations.csv").write_text("file;text\na.jpg;a dog .\n")
    (tmp_path / "photos" / "my_captions.json").write_text("{}")
    with pytest.raises(DatasetError) as error:
        read_raw(tmp_path, PARAMS, seed=0)
    message = str(error.value)
    assert "\n" not in message
    assert "no captions reader reads annotations.csv, photos/my_captions.json" in message
    assert "captions.txt" in message  # and what it would read


def test_a_folder_with_two_layouts_names_both_and_the_param_picks_one(kaggle, write_image):
    write_image(kaggle / "flickr30k_images" / "x.jpg")
    (kaggle / "results_20130124.token").write_text("x.jpg#0\tA man .\n")
    with pytest.raises(DatasetError, match=r"Kaggle Flickr8k .*Flickr30k .*ingest.captions.layout"):
        read_raw(kaggle, PARAMS, seed=0)
    manifest = read_raw(kaggle, CaptionsIngestParams(layout="flickr30k"), seed=0)
    assert manifest["image_id"].tolist() == ["x.jpg"]


def test_missing_images_skip_leaves_them_out_and_counts_them(kaggle, tmp_path):
    with (kaggle / "captions.txt").open("a") as captions:
        captions.writelines(f"gone_{i}.jpg,a picture the folder lacks .\n" for i in range(30))
    rejected = read_raw(kaggle, PARAMS, seed=0)
    assert (rejected["issue"] == "image missing on disk").sum() == 30
    assert rejected.attrs[FACTS]["missing_on_disk"] == 30

    skipped = read_raw(kaggle, CaptionsIngestParams(missing_images="skip"), seed=0)
    assert skipped["image_id"].tolist() == IMAGES and skipped["issue"].isna().all()
    # the split of an image does not depend on which others are on disk
    both = rejected.set_index("image_id").loc[IMAGES, "split"]
    assert skipped.set_index("image_id")["split"].equals(both)
    # the count survives the manifest file and reaches the report's dataset section
    path = tmp_path / "manifest.parquet"
    write_manifest(skipped, path, Provenance("captions", "raw", 1, "a", "b"))
    summary = TASKS["captions"].summarize(read_manifest(path), skipped)
    assert (summary["missing_images"], summary["missing_on_disk"]) == ("skip", 30)
    assert summary["image_ids"] == len(IMAGES)


def test_a_caption_file_linked_from_outside_the_root_is_not_read(tmp_path, write_image):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("image,caption\na.jpg,a dog .\n")
    root = tmp_path / "raw"
    write_image(root / "Images" / "a.jpg")
    (root / "captions.txt").symlink_to(outside)
    with pytest.raises(DatasetError, match="outside the dataset root"):
        read_raw(root, PARAMS, seed=0)


def test_every_layout_gives_the_canonical_columns(kaggle, flickr30k_csv):
    for root in (kaggle, flickr30k_csv):
        columns = list(read_raw(Path(root), PARAMS, seed=0).columns)
        assert columns == [
            "image_id",
            "image",
            "captions",
            "split",
            "issue",
            "issue_detail",
            "notes",
        ]
