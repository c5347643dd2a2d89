"""Captions validation on a hand-made Flickr8k folder: rows in = valid + rejected, reasons exact.

One bad row of each kind the real files and their copies have shown (see
tests/code/test_ingest_captions.py for how ingest reads them): each is rejected with its own
reason, never dropped; a broken manifest (an image in two splits, a lost column, too many
rejections) fails the whole dataset.
"""

import cv2
import pytest

from pipeline.core.validation import validate_manifest
from pipeline.tasks import TASKS
from pipeline.tasks.captions.ingest import read_raw
from pipeline.tasks.captions.params import CaptionsIngestParams, CaptionsValidateParams

GOOD = [f"{i}_good.jpg" for i in range(8)]

#: image id -> the rejection reason validate must give its row
BAD = {
    "missing.jpg": "image missing on disk",
    "broken.jpg": "image: does not decode fully (truncated, corrupt or not an image)",
    "small.jpg": "image: width out of range; image: height out of range",
    "cut.jpg": "image: does not decode fully (truncated, corrupt or not an image)",
    "blank.jpg": "blank caption",
    "nocaption.jpg": "no captions in the token file; fewer than 1 captions",
    "nosplit.jpg": "in no split file",
    "ghost.jpg.1": "not an image file name",  # the real token file's `.jpg.1` id
    "../../escape.jpg": "path outside dataset root",  # ../ alone stays inside the root
}
#: rows of lines that name no image: (issue_detail, reason)
#: (they have no captions either, which the label check adds)
BAD_LINES = [
    (
        "Flickr8k.token.txt line 46: not <id>#<k> <caption>: 'no hash here'",
        "malformed token line; fewer than 1 captions",
    ),
    (
        "Flickr8k.token.txt line 47: byte 0xe9 at position 19",
        "token line not UTF-8; fewer than 1 captions",
    ),
]
PARAMS = CaptionsValidateParams(min_width=64, min_height=64)  # as params.yaml


def _captions(image_id: str) -> list[str]:
    return [f"{image_id}#{k}\ta dog runs on the grass number {k} ." for k in range(5)]


@pytest.fixture
def flickr(tmp_path, write_image):
    root = tmp_path / "flickr"
    images = root / "Flicker8k_Dataset"
    for i, name in enumerate([*GOOD, "blank.jpg", "nocaption.jpg", "nosplit.jpg", "cut.jpg"]):
        write_image(images / name, seed=i)
    (images / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    write_image(images / "small.jpg", width=48, height=40)
    cut = images / "cut.jpg"  # its last two thirds lost in a copy
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    grey = images / GOOD[0]  # a sound row: a greyscale photo is made RGB
    cv2.imwrite(str(grey), cv2.cvtColor(cv2.imread(str(grey)), cv2.COLOR_BGR2GRAY))

    text = root / "Flickr8k_text"
    text.mkdir()
    lines = [line for name in GOOD for line in _captions(name)]  # lines 1-40
    lines += [*_captions("blank.jpg")[:4], "blank.jpg#4\t"]  # 41-45
    lines += ["no hash here", "broken.jpg#0\ta caf\xe9 ."]  # 46, 47 (Latin-1 below)
    for name in ("missing.jpg", "broken.jpg", "small.jpg", "cut.jpg", "nosplit.jpg"):
        lines += _captions(name)
    lines += _captions("ghost.jpg.1")[:1] + _captions("../../escape.jpg")[:1]
    (text / "Flickr8k.token.txt").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    listed = {
        "train": [*GOOD[:6], "missing.jpg", "broken.jpg", "small.jpg", "nocaption.jpg"],
        "dev": [GOOD[6], "cut.jpg"],
        "test": [GOOD[7], "blank.jpg"],
    }
    for split, names in listed.items():
        (text / f"Flickr_8k.{split}Images.txt").write_text("\n".join(names) + "\n")
    return root


def _validate(root, tmp_path, manifest, max_rejected=1.0):
    return validate_manifest(
        manifest,
        TASKS["captions"],
        PARAMS,
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=max_rejected,
        workers=2,
    )


def test_captions_rows_reconcile_and_each_rejection_has_its_reason(flickr, tmp_path):
    manifest = read_raw(flickr, CaptionsIngestParams(), seed=0)
    result = _validate(flickr, tmp_path, manifest)

    report = result.report
    assert report["rows_in"] == len(manifest) == len(GOOD) + len(BAD) + len(BAD_LINES) == 19
    assert (report["valid"], report["rejected"]) == (8, 11)
    assert sorted(result.valid["image_id"]) == GOOD
    named = result.rejected.dropna(subset=["image_id"])
    assert named.set_index("image_id")["reason"].to_dict() == BAD
    unnamed = result.rejected[result.rejected["image_id"].isna()]
    assert list(zip(unnamed["issue_detail"], unnamed["reason"], strict=True)) == BAD_LINES
    assert report["valid_per_split"] == {"test": 1, "train": 6, "val": 1}
    assert report["dataset"]["oddities"] == {"in no split file": 3}
    assert report["expectations_evaluated"] > 10
    assert report["image_conversions"] == {"grey->rgb": 1}
    assert (tmp_path / "docs" / "index.html").is_file()
    assert result.problems == [] and report["passed"] is True


def test_an_image_needs_the_captions_min_captions_asks_for(flickr, tmp_path):
    manifest = read_raw(flickr, CaptionsIngestParams(), seed=0)
    result = validate_manifest(
        manifest,
        TASKS["captions"],
        PARAMS.model_copy(update={"min_captions": 6}),  # every image has 5
        raw_dir=flickr,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=1.0,
        workers=2,
    )
    assert result.report["valid"] == 0
    assert set(result.rejected.loc[result.rejected["image_id"].isin(GOOD), "reason"]) == {
        "fewer than 6 captions"
    }


def test_too_many_rejections_fail_with_the_most_common_reasons(flickr, tmp_path):
    manifest = read_raw(flickr, CaptionsIngestParams(), seed=0)
    result = _validate(flickr, tmp_path, manifest, max_rejected=0.5)  # 11 of 19 rejected
    assert len(result.problems) == 1
    assert "11 of 19 rows rejected" in result.problems[0]
    assert "max_rejected_fraction" in result.problems[0]
    assert result.report["passed"] is False


def test_an_image_in_two_split_files_fails_the_dataset(flickr, tmp_path):
    test_file = flickr / "Flickr8k_text" / "Flickr_8k.testImages.txt"
    test_file.write_text(test_file.read_text() + f"{GOOD[0]}\n")  # also in train
    manifest = read_raw(flickr, CaptionsIngestParams(), seed=0)
    result = _validate(flickr, tmp_path, manifest)
    assert any("splits overlap: a image_id" in problem for problem in result.problems)
    assert result.report["passed"] is False


def test_a_missing_column_fails_the_dataset(flickr, tmp_path):
    manifest = read_raw(flickr, CaptionsIngestParams(), seed=0).drop(columns="issue_detail")
    result = _validate(flickr, tmp_path, manifest)
    assert "no column 'issue_detail'" in result.problems


def test_a_manifest_without_rows_fails_the_dataset(flickr, tmp_path):
    manifest = read_raw(flickr, CaptionsIngestParams(), seed=0)
    result = _validate(flickr, tmp_path, manifest.iloc[0:0])
    assert "empty manifest" in result.problems
    assert result.report["passed"] is False
