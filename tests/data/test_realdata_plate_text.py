"""plates_text ingest + validate on the real GreenParking plates (../shared/realdata/plates).

PROVENANCE.md §3b: 150 photos; the root `location.txt` has the text of all 150, the
`GreenParking/location.txt` of 75 (the same texts). Every plate has one box and text, so
all 150 are accepted; some vehicles appear in several photos, which share a split.
"""

from collections import Counter

import pytest

from pipeline.core.validation import validate_manifest
from pipeline.tasks.plates_text import PlateText
from pipeline.tasks.plates_text.ingest import read_raw
from pipeline.tasks.plates_text.params import PlateTextIngestParams, PlateTextValidateParams
from tests.conftest import realdata_dir

REAL = realdata_dir("plates")
GP = REAL / "daotrananhtuan09102002__CS231.M22.KHCL-Project"

pytestmark = pytest.mark.skipif(
    not GP.is_dir(), reason=f"real GreenParking plates fixture not found at {GP}"
)


def _validate(root, manifest, tmp_path):
    return validate_manifest(
        manifest,
        PlateText(),
        PlateTextValidateParams(),
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=1.0,
        workers=1,
    )


def test_every_greenparking_plate_is_a_row_with_its_text_and_all_are_accepted(tmp_path):
    manifest = read_raw(GP, PlateTextIngestParams(), seed=0)
    assert len(manifest) == 150
    assert manifest["issue"].isna().all()
    assert (manifest["layout"] == "greenparking").all()
    lengths = Counter(manifest["target"].str.len())
    assert lengths == {10: 115, 9: 35}  # `59C1-39916`, and `54H1-5326` (4-digit numbers)
    assert manifest["target"].nunique() == 139  # 10 plates are seen in two or three photos
    assert manifest["group"].nunique() == 139  # one group per vehicle
    result = _validate(GP, manifest, tmp_path)
    assert (len(result.valid), len(result.rejected)) == (150, 0)
    # the plates split (0.15/0.15 of 150 photos, by vehicle): recounted from location.txt alone
    assert result.report["valid_per_split"] == {"test": 22, "train": 106, "val": 22}
    dataset = result.report["dataset"]
    assert (dataset["distinct_plates"], dataset["plates_seen_more_than_once"]) == (139, 10)


def test_photos_of_one_vehicle_never_straddle_splits():
    manifest = read_raw(GP, PlateTextIngestParams(), seed=0)
    splits_per_text = manifest.groupby("target")["split"].nunique()
    assert splits_per_text.max() == 1
    assert (manifest.groupby("target")["photo"].nunique() > 1).sum() == 10


def test_the_whole_real_plates_folder_keeps_text_less_boxes_as_rejected_rows(tmp_path):
    """The Roboflow sets (Vietnamese and Egyptian) have boxes but no text: each box is a row
    with the reason, never silently dropped; the GreenParking plates are all valid."""
    manifest = read_raw(REAL, PlateTextIngestParams(), seed=0)
    assert len(manifest) == 286  # 150 GreenParking + 100 Roboflow VN + 36 Egyptian boxes
    assert manifest["issue"].value_counts().to_dict() == {"no plate text": 136}
    result = _validate(REAL, manifest, tmp_path)
    assert (len(result.valid), len(result.rejected)) == (150, 136)
