"""Captions on the real Flickr8k files: the book's vocabulary, ingest + validate, real variants.

The real folder (../shared/realdata/flickr8k, see its PROVENANCE.md) has the original text
files and 293 of the 8,091 photos (158 train, 1 dev, 125 test, 9 in no split file), so most
rows are rightly rejected as missing on disk; the counts below are exact, each checked by
hand against the split files and the folder listing. Variants are combined with the real
photos in tmp_path, never in the repository.
"""

import shutil
from pathlib import Path

import pytest

from pipeline.tasks.captions.ingest import read_raw, read_tokens
from pipeline.tasks.captions.params import (
    CaptionsIngestParams,
    TextParams,
)
from pipeline.tasks.captions.text import END, START, Tokenizer
from tests.conftest import ingest_and_validate, realdata_dir

REAL = realdata_dir("flickr8k")

pytestmark = pytest.mark.skipif(
    not (REAL / "Flickr8k_text" / "Flickr8k.token.txt").is_file(),
    reason=f"real Flickr8k fixture not found at {REAL}",
)


def _train_captions() -> list[str]:
    tokens = read_tokens((REAL / "Flickr8k_text" / "Flickr8k.token.txt").read_bytes())
    train = (REAL / "Flickr8k_text" / "Flickr_8k.trainImages.txt").read_text().split()
    return [caption for image_id in train for caption in tokens.captions[image_id]]


def test_the_default_text_cleaning_gives_the_books_vocabulary_and_length():
    captions = _train_captions()
    assert len(captions) == 30_000  # 6000 train images x 5
    tokenizer = Tokenizer.fit(captions, TextParams())
    # the book's 1651 words count startseq and endseq; we add <pad> (id 0) and <unk> (id 1)
    assert tokenizer.vocabulary_size == 1651 + 2
    assert {START, END} <= set(tokenizer.words)
    assert tokenizer.max_length == 34  # the book's longest caption, startseq/endseq included


def test_the_older_cleaning_gives_other_words_and_one_more_token():
    spaced = TextParams(punctuation="space", keep_words="no_digits")
    tokenizer = Tokenizer.fit(_train_captions(), spaced)
    book = set(Tokenizer.fit(_train_captions(), TextParams()).words)
    assert tokenizer.vocabulary_size == 1658 and tokenizer.max_length == 35
    assert {"tshirt", "upsidedown"} <= book - set(tokenizer.words)  # "t-shirt" is one word
    assert {"sleeved", "multi"} <= set(tokenizer.words) - book  # "long-sleeved" is two


def _folder(tmp_path: Path, name: str, variants: dict[str, str], photos: list[Path]) -> Path:
    """Real photos and text files in tmp_path, with some text files replaced by variants."""
    root = tmp_path / name
    (root / "Flicker8k_Dataset").mkdir(parents=True)
    (root / "Flickr8k_text").mkdir()
    for photo in photos:
        shutil.copyfile(photo, root / "Flicker8k_Dataset" / photo.name)
    for text in (REAL / "Flickr8k_text").iterdir():
        source = REAL / "variants" / variants[text.name] if text.name in variants else text
        shutil.copyfile(source, root / "Flickr8k_text" / text.name)
    return root


def _ingest_and_validate(root: Path, docs: Path):
    return ingest_and_validate("captions", root, docs)[1].report


REAL_PHOTOS = sorted((REAL / "Flicker8k_Dataset").glob("*.jpg"))
FOUND_IN_REAL = {"in no split file": 92}  # 91 real images and the ghost .jpg.1
# 8092 ids - 293 photos on disk - the ghost id
MISSING = 7798
#: how the real folder is read, as the report's `dataset` section says
REAL_FACTS = {
    "layout": "Flickr8k",
    "captions_file": "Flickr8k_text/Flickr8k.token.txt",
    "images_dir": "Flicker8k_Dataset",
    "split_source": "official split files",
    "split_files": [
        "Flickr8k_text/Flickr_8k.trainImages.txt",
        "Flickr8k_text/Flickr_8k.devImages.txt",
        "Flickr8k_text/Flickr_8k.testImages.txt",
    ],
    "missing_images": "reject",
    "missing_on_disk": MISSING,
}


def test_the_real_folder_ingests_and_validates_with_exact_counts(tmp_path):
    report = _ingest_and_validate(REAL, tmp_path / "docs")
    assert report["rows_in"] == 8092  # 8000 split listings + 92 ids in no split file
    assert (report["valid"], report["rejected"]) == (284, 8092 - 284)
    assert report["valid_per_split"] == {"train": 158, "val": 1, "test": 125}
    reasons = {"image missing on disk": MISSING, "in no split file": 9, "not an image file name": 1}
    assert report["reasons"] == reasons
    assert report["dataset"] == {
        **REAL_FACTS,
        "image_ids": 8092,
        "captions": 40_460,
        "oddities": FOUND_IN_REAL,
        "ingest_issues": reasons,
    }
    assert report["passed"] is False  # 293 of 8091 photos are in the fixture


def test_karan_copy_with_spaces_after_ids_and_224px_resized_photos(tmp_path):
    resized = sorted((REAL / "variants" / "resized_224").glob("*.jpg"))
    root = _folder(
        tmp_path,
        "karan",
        {"Flickr8k.token.txt": "Karan14-11__Flickr8k.token.txt"},
        REAL_PHOTOS + resized,
    )
    manifest = read_raw(root, CaptionsIngestParams(), seed=0).set_index("image_id")
    # lines 1 and 12 of the space-separated three are captions of the two resized photos
    for photo in resized:
        assert len(manifest.at[photo.name, "captions"]) == 5
    report = _ingest_and_validate(root, tmp_path / "docs")
    assert report["rows_in"] == 8092
    # one resized photo replaces its original, the other (a train photo) is new
    assert (report["valid"], report["rejected"]) == (285, 8092 - 285)
    assert report["valid_per_split"] == {"train": 159, "val": 1, "test": 125}
    assert report["reasons"] == {
        "image missing on disk": MISSING - 1,
        "in no split file": 9,
        "not an image file name": 1,
    }
    assert report["dataset"]["oddities"] == {
        **FOUND_IN_REAL,
        "space instead of TAB after the id": 3,
    }
    assert report["dataset"]["captions"] == 40_460


def test_sadika_copy_with_crlf_and_three_train_images_missing(tmp_path):
    root = _folder(
        tmp_path,
        "sadika",
        {
            "Flickr8k.token.txt": "Sadika1212__Flickr8k.token.txt",
            "Flickr_8k.trainImages.txt": "Sadika1212__Flickr_8k.trainImages.txt",
        },
        REAL_PHOTOS,
    )
    report = _ingest_and_validate(root, tmp_path / "docs")
    # 5997 + 1000 + 1000 listings; 93 in no split (the two images dropped from both files are
    # named nowhere, 937559727_ae2613cee5.jpg only in the token file)
    assert report["rows_in"] == 7997 + 93
    # the three ids Sadika's copy drops are none of the 293 photos
    reasons = {
        "image missing on disk": MISSING - 2,
        "in no split file": 9,
        "not an image file name": 1,
    }
    assert (report["valid"], report["rejected"]) == (284, 8090 - 284)
    assert report["reasons"] == reasons
    assert report["dataset"] == {
        **REAL_FACTS,
        "missing_on_disk": MISSING - 2,
        "image_ids": 8090,
        "captions": 40_450,
        "oddities": {
            "CRLF line ending (Flickr8k.token.txt)": 40_450,
            "CRLF line ending (Flickr_8k.trainImages.txt)": 5997,
            "in no split file": 93,
        },
        "ingest_issues": reasons,
    }


def test_a_partial_copy_validates_on_its_photos_when_missing_images_are_skipped(tmp_path):
    """`missing_images: skip`: the 7,798 images not on disk are counted, not rows; the 9
    photos in no split file and the ghost id stay rejected (10 of 294 rows, under 5 %)."""
    from pipeline.config import ValidateShared
    from pipeline.core.validation import validate_manifest
    from pipeline.tasks import TASKS

    manifest = read_raw(REAL, CaptionsIngestParams(missing_images="skip"), seed=0)
    shared = ValidateShared()
    task = TASKS["captions"]
    result = validate_manifest(
        manifest,
        task,
        task.params["validate"](),
        raw_dir=REAL,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=shared.max_rejected_fraction,
        workers=shared.workers,
    )
    report = result.report
    assert report["rows_in"] == 284 + 9 + 1
    assert (report["valid"], report["rejected"]) == (284, 10)
    assert report["valid_per_split"] == {"train": 158, "val": 1, "test": 125}
    reasons = {"in no split file": 9, "not an image file name": 1}
    assert report["reasons"] == reasons
    assert report["dataset"] == {
        **REAL_FACTS,
        "missing_images": "skip",
        "missing_on_disk": MISSING,
        "image_ids": 294,
        "captions": 294 * 5,
        "oddities": {"in no split file": 10},  # the 9 photos and the ghost
        "ingest_issues": reasons,
    }
    assert report["passed"] is True
