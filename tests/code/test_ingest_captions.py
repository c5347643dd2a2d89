"""Captions ingest on a hand-made Flickr8k layout with the real file's quirks."""

import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.tasks.captions.ingest import read_raw, read_tokens
from pipeline.tasks.captions.params import CaptionsIngestParams

PARAMS = CaptionsIngestParams()


def test_tokens_parse_tabs_spaces_and_keep_order():
    captions, malformed = read_tokens(
        "a.jpg#0\tA dog runs .\r\na.jpg#1  A brown dog .\nno hash here\n\nb.jpg#0\tA cat .\n"
    )
    assert captions == {"a.jpg": ["A dog runs .", "A brown dog ."], "b.jpg": ["A cat ."]}
    assert malformed == [(3, "no hash here")]


@pytest.fixture
def flickr(tmp_path, write_image):
    root = tmp_path / "flickr"
    for name in ("1_a.jpg", "2_b.jpg", "3_c.jpg", "4_nocaption.jpg", "5_nosplit.jpg"):
        write_image(root / "Flicker8k_Dataset" / name)
    text = root / "Flickr8k_text"
    text.mkdir()
    tokens = [
        f"{i}#{k}\tcaption {k} of {i} ."
        for i in ("1_a.jpg", "2_b.jpg", "3_c.jpg")
        for k in range(5)
    ]
    tokens += ["5_nosplit.jpg#0\ta thing .", "9_gone.jpg.1#0\tA ghost .", "../../escape.jpg#0\tx ."]
    (text / "Flickr8k.token.txt").write_text("\n".join(tokens) + "\n")
    (text / "Flickr_8k.trainImages.txt").write_text("1_a.jpg\n4_nocaption.jpg\n")
    (text / "Flickr_8k.devImages.txt").write_text("2_b.jpg\n")
    (text / "Flickr_8k.testImages.txt").write_text("3_c.jpg\n")
    return root


def test_official_split_files_decide_the_split(flickr):
    manifest = read_raw(flickr, PARAMS, seed=0).set_index("image_id")
    assert manifest.at["1_a.jpg", "split"] == "train"
    assert manifest.at["2_b.jpg", "split"] == "val"  # "dev" in Flickr8k
    assert manifest.at["3_c.jpg", "split"] == "test"
    assert manifest.at["1_a.jpg", "image"] == "Flicker8k_Dataset/1_a.jpg"
    assert len(manifest.at["1_a.jpg", "captions"]) == 5


def test_every_quirk_is_a_row_with_its_issue(flickr):
    issues = read_raw(flickr, PARAMS, seed=0).set_index("image_id")["issue"].to_dict()
    assert issues["9_gone.jpg.1"] == "image missing on disk"
    assert issues["4_nocaption.jpg"] == "no captions in the token file"
    assert issues["5_nosplit.jpg"] == "in no split file"
    assert issues["../../escape.jpg"] == "path outside dataset root"
    assert pd.isna(issues["1_a.jpg"])


def test_an_image_in_two_split_files_gives_two_rows(flickr):
    (flickr / "Flickr8k_text" / "Flickr_8k.testImages.txt").write_text("3_c.jpg\n1_a.jpg\n")
    manifest = read_raw(flickr, PARAMS, seed=0)
    assert sorted(manifest.loc[manifest["image_id"] == "1_a.jpg", "split"]) == ["test", "train"]


def test_the_kaggle_spelling_of_the_image_folder_is_accepted(flickr):
    (flickr / "Flicker8k_Dataset").rename(flickr / "Flickr8k_Dataset")
    manifest = read_raw(flickr, PARAMS, seed=0).set_index("image_id")
    assert manifest.at["1_a.jpg", "image"] == "Flickr8k_Dataset/1_a.jpg"


def test_a_folder_of_another_layout_says_what_it_expected(tmp_path):
    with pytest.raises(DatasetError, match="no image folder"):
        read_raw(tmp_path, PARAMS, seed=0)
