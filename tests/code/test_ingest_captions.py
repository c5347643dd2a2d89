"""Captions ingest on hand-made Flickr8k layouts with the real files' quirks and odd bytes."""

import os
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks import TASKS
from pipeline.tasks.captions.ingest import read_raw, read_tokens
from pipeline.tasks.captions.params import CaptionsIngestParams

PARAMS = CaptionsIngestParams()
#: how the hand-made folder is read, as the report's `dataset` section says
FLICKR8K_FACTS = {
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
    "missing_on_disk": 0,
}


def test_tokens_parse_tabs_spaces_and_keep_order():
    tokens = read_tokens(
        b"a.jpg#0\tA dog runs .\r\na.jpg#1  A brown dog .\nno hash here\n\nb.jpg#0\tA cat .\n"
    )
    assert tokens.captions == {"a.jpg": ["A dog runs .", "A brown dog ."], "b.jpg": ["A cat ."]}
    assert tokens.notes["a.jpg"] == [
        "CRLF line ending (Flickr8k.token.txt)",
        "space instead of TAB after the id",
    ]
    assert [r["issue_detail"] for r in tokens.bad_rows] == [
        "Flickr8k.token.txt line 3: not <id>#<k> <caption>: 'no hash here'"
    ]


def test_odd_bytes_in_the_token_file_cost_one_row_each():
    tokens = read_tokens(
        b"\xef\xbb\xbfa.jpg#0\tA caf\xe9 .\n"  # Latin-1, not UTF-8
        b"a.jpg#1\tA dog\x00 runs .\n"  # NUL
        b"\x89PNG\r\n\x1a\n"  # binary: CR, LF and a control byte
        b"a.jpg#2\tA good one .\n"
    )
    assert tokens.captions == {"a.jpg": ["A good one ."]}
    assert [(r["issue"], r["issue_detail"]) for r in tokens.bad_rows] == [
        ("token line not UTF-8", "Flickr8k.token.txt line 1: byte 0xe9 at position 14"),
        (
            "malformed token line",
            "Flickr8k.token.txt line 2: control character '\\x00' at position 14: "
            "'a.jpg#1\\tA dog\\x00 runs .'",
        ),
        ("token line not UTF-8", "Flickr8k.token.txt line 3: byte 0x89 at position 1"),
        (
            "malformed token line",
            "Flickr8k.token.txt line 4: control character '\\x1a' at position 1: '\\x1a'",
        ),
    ]
    assert tokens.bad_rows[0]["notes"] == ["byte-order mark (Flickr8k.token.txt)"]


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


def _plain(values):
    return [None if pd.isna(v) else v for v in values]


def _issues(manifest):
    return dict(zip(manifest["image_id"], _plain(manifest["issue"]), strict=True))


def test_official_split_files_decide_the_split(flickr):
    manifest = read_raw(flickr, PARAMS, seed=0).set_index("image_id")
    assert manifest.at["1_a.jpg", "split"] == "train"
    assert manifest.at["2_b.jpg", "split"] == "val"  # "dev" in Flickr8k
    assert manifest.at["3_c.jpg", "split"] == "test"
    assert manifest.at["1_a.jpg", "image"] == "Flicker8k_Dataset/1_a.jpg"
    assert len(manifest.at["1_a.jpg", "captions"]) == 5


def test_every_quirk_is_a_row_with_its_issue(flickr):
    manifest = read_raw(flickr, PARAMS, seed=0)
    assert _issues(manifest) == {
        "1_a.jpg": None,
        "2_b.jpg": None,
        "3_c.jpg": None,
        "4_nocaption.jpg": "no captions in the token file",
        "5_nosplit.jpg": "in no split file",
        "9_gone.jpg.1": "not an image file name",  # the real file's ghost id
        "../../escape.jpg": "path outside dataset root",
    }
    details = manifest.set_index("image_id")["issue_detail"]
    assert details["9_gone.jpg.1"] == "Flickr8k.token.txt line 17: 9_gone.jpg.1"
    assert details["4_nocaption.jpg"] == "Flickr_8k.trainImages.txt line 2: 4_nocaption.jpg"


def test_absolute_and_escaping_ids_in_any_text_file_are_never_followed(flickr):
    text = flickr / "Flickr8k_text"
    with (text / "Flickr8k.token.txt").open("a") as tokens:
        tokens.write("/etc/hostname#0\tA host .\n")
    (text / "Flickr_8k.testImages.txt").write_text("3_c.jpg\n/etc/passwd\n../../x.jpg\n")
    issues = _issues(read_raw(flickr, PARAMS, seed=0))
    for image_id in ("/etc/hostname", "/etc/passwd", "../../x.jpg", "../../escape.jpg"):
        assert issues[image_id] == "path outside dataset root"


def test_nul_and_non_utf8_lines_of_split_files_are_rows(flickr):
    (flickr / "Flickr8k_text" / "Flickr_8k.devImages.txt").write_bytes(
        b"2_b.jpg\nx\x00.jpg\n\xff\xfe.jpg\n"
    )
    manifest = read_raw(flickr, PARAMS, seed=0)
    bad = manifest[manifest["image_id"].isna()]
    assert list(bad["issue"]) == ["malformed split line", "split line not UTF-8"]
    assert list(bad["issue_detail"]) == [
        "Flickr_8k.devImages.txt line 2: control character '\\x00' at position 2: 'x\\x00.jpg'",
        "Flickr_8k.devImages.txt line 3: byte 0xff at position 1",
    ]
    assert _issues(manifest)["2_b.jpg"] is None


def test_a_non_utf8_file_name_on_disk_is_a_row_and_the_manifest_still_writes(flickr, tmp_path):
    images = os.fsencode(flickr / "Flicker8k_Dataset")
    os.rename(images + b"/1_a.jpg", images + b"/caf\xe9.jpg")
    manifest = read_raw(flickr, PARAMS, seed=0)
    row = manifest.set_index("image_id").loc["caf\\xe9.jpg"]
    assert row["issue"] == "file name not UTF-8"
    assert row["issue_detail"] == "Flicker8k_Dataset/caf\\xe9.jpg"
    assert _issues(manifest)["1_a.jpg"] == "image missing on disk"
    write_manifest(manifest, tmp_path / "manifest.parquet")
    assert len(read_manifest(tmp_path / "manifest.parquet")) == len(manifest)


def test_an_id_repeated_in_a_split_file_is_rejected_once(flickr):
    (flickr / "Flickr8k_text" / "Flickr_8k.trainImages.txt").write_text("1_a.jpg\n1_a.jpg\n")
    rows = read_raw(flickr, PARAMS, seed=0).query("image_id == '1_a.jpg'")
    assert _plain(rows["issue"]) == [None, "repeated in the split file"]
    assert rows["issue_detail"].iloc[1] == "Flickr_8k.trainImages.txt line 2: 1_a.jpg"


def test_copies_found_in_the_wild_are_read_and_their_oddities_counted(flickr):
    text = flickr / "Flickr8k_text"
    lines = (text / "Flickr8k.token.txt").read_text().splitlines()
    lines[0] = lines[0].replace("\t", " ")  # Karan14-11's copy: a space after the id
    lines[5] = lines[5].replace("\t", "  ")
    lines.append("1_a.jpg#0\tthe same number again .")  # prakhar-dhakar's "fixed" ghost
    (text / "Flickr8k.token.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    (text / "Flickr_8k.trainImages.txt").write_bytes(b"\xef\xbb\xbf1_a.jpg\r\n4_nocaption.jpg\r\n")
    manifest = read_raw(flickr, PARAMS, seed=0)
    assert len(manifest.set_index("image_id").at["1_a.jpg", "captions"]) == 6
    assert _issues(manifest)["1_a.jpg"] is None
    summary = TASKS["captions"].summarize(manifest, manifest[manifest["issue"].isna()])
    assert summary == {
        **FLICKR8K_FACTS,
        "image_ids": 7,
        "captions": 19,
        "oddities": {
            "CRLF line ending (Flickr8k.token.txt)": 19,
            "CRLF line ending (Flickr_8k.trainImages.txt)": 2,
            "byte-order mark (Flickr_8k.trainImages.txt)": 1,
            "caption number repeated for the image": 1,
            "in no split file": 3,
            "space instead of TAB after the id": 2,
        },
        "ingest_issues": {
            "in no split file": 1,
            "no captions in the token file": 1,
            "not an image file name": 1,
            "path outside dataset root": 1,
        },
    }


def test_an_image_in_two_split_files_gives_two_rows(flickr):
    (flickr / "Flickr8k_text" / "Flickr_8k.testImages.txt").write_text("3_c.jpg\n1_a.jpg\n")
    manifest = read_raw(flickr, PARAMS, seed=0)
    assert sorted(manifest.loc[manifest["image_id"] == "1_a.jpg", "split"]) == ["test", "train"]


def test_the_kaggle_spelling_of_the_image_folder_is_accepted(flickr):
    (flickr / "Flicker8k_Dataset").rename(flickr / "Flickr8k_Dataset")
    manifest = read_raw(flickr, PARAMS, seed=0).set_index("image_id")
    assert manifest.at["1_a.jpg", "image"] == "Flickr8k_Dataset/1_a.jpg"


def test_a_folder_of_another_layout_says_what_it_expected(tmp_path):
    with pytest.raises(DatasetError, match=r"no caption file found .*Flickr8k.token.txt"):
        read_raw(tmp_path, PARAMS, seed=0)


def test_a_token_file_without_its_image_folder_says_which_folder(flickr):
    (flickr / "Flicker8k_Dataset").rename(flickr / "photos")
    with pytest.raises(DatasetError, match=r"no image folder .*Flicker8k_Dataset"):
        read_raw(flickr, PARAMS, seed=0)


def test_every_row_keeps_the_canonical_columns(flickr):
    manifest = read_raw(flickr, PARAMS, seed=0)
    assert list(manifest.columns) == [
        "image_id",
        "image",
        "captions",
        "split",
        "issue",
        "issue_detail",
        "notes",
    ]
    assert manifest["issue_detail"].notna().equals(manifest["issue"].notna())
    assert pd.isna(manifest["issue"]).sum() == 3


def test_a_raw_dir_relative_to_the_working_folder_is_read(tmp_path, monkeypatch, write_image):
    """params.yaml's raw_dir is relative to the project root, where stages run."""
    root = tmp_path / "data" / "captions"
    write_image(root / "Flicker8k_Dataset" / "1_a.jpg")
    (root / "Flickr8k_text").mkdir(parents=True)
    (root / "Flickr8k_text" / "Flickr8k.token.txt").write_text("1_a.jpg#0\tA dog runs .\n")
    (root / "Flickr8k_text" / "Flickr_8k.trainImages.txt").write_text("1_a.jpg\n")
    monkeypatch.chdir(tmp_path)
    manifest = read_raw(Path("data/captions"), CaptionsIngestParams(), seed=0)
    assert manifest["issue"].isna().all()
    assert manifest["image"].tolist() == ["Flicker8k_Dataset/1_a.jpg"]
