"""Driving ingest + validate on the five real simulator recordings, one by one and together.

The real folder (../shared/realdata/driving, see its PROVENANCE.md §1) holds WyckliffeAluga
(100 rows, Windows paths, `", "` separators, E-notation), Abonia1 (17 rows, a Windows path
with a space, the car standing still: steering 0 throughout), rikkimelissa (two logs
sharing one IMG/: 120 rows of which 60 are 13-column CRLF rows, and `driving_log1.csv`
listing 60 of the same frames again), UjjwalSaxena (1,980 rows: three drives appended into
one log under `data/data/`, Windows `D:` paths) and Abdullahfoysal (450 rows, macOS paths,
`", "` separators, a 69 s pause). 100 + 17 + 180 + 1,980 + 450 = 2,727 rows. Every frame is
sound, so nothing is rejected; the 60 copies go to the "duplicate" split, which no model
reads: the counts below are exact.
"""

import pytest

from pipeline.core.validation import ValidationResult
from tests.conftest import ingest_and_validate, realdata_dir

REAL = realdata_dir("driving")
WA = "WyckliffeAluga__sdc-training-datasets"
AB = "Abonia1__Simulate-Self-Driving-Car"
RM = "rikkimelissa__Behavioral-Cloning-Data"
US = "UjjwalSaxena__Behavior-Cloning-DataSet-Ujjwal"
AF = "Abdullahfoysal__car-training-data"

pytestmark = pytest.mark.skipif(
    not all((REAL / name).is_dir() for name in (WA, AB, RM, US, AF)),
    reason=f"real driving fixture not found at {REAL}",
)

# raw folder -> rows, valid, rejected, segment size used, valid rows per split
EXPECTED = {
    WA: (100, 100, 0, 10, {"guard": 8, "test": 18, "train": 56, "val": 18}),
    AB: (17, 17, 0, 3, {"guard": 4, "test": 4, "train": 6, "val": 3}),
    RM: (180, 180, 0, 12, {"duplicate": 60, "guard": 8, "test": 22, "train": 68, "val": 22}),
    US: (1980, 1980, 0, 40, {"guard": 54, "test": 304, "train": 1316, "val": 306}),
    AF: (450, 450, 0, 40, {"guard": 12, "test": 78, "train": 284, "val": 76}),
    "": (
        2727,
        2727,
        0,
        40,
        {"duplicate": 60, "guard": 64, "test": 384, "train": 1839, "val": 380},
    ),
}


@pytest.fixture(scope="module", params=list(EXPECTED), ids=lambda p: p or "all five")
def validated(request, tmp_path_factory) -> tuple[str, ValidationResult]:
    docs = tmp_path_factory.mktemp("docs")
    _, result = ingest_and_validate("driving", REAL / request.param, docs, seed=42)
    return request.param, result


def test_exact_counts(validated):
    name, result = validated
    rows, valid, rejected, segment_frames, splits = EXPECTED[name]
    report = result.report
    assert (report["rows_in"], report["valid"], report["rejected"]) == (rows, valid, rejected)
    assert report["valid_per_split"] == splits
    assert report["dataset"]["segment_frames"] == segment_frames
    assert not report["structural_failures"]


def test_val_and_test_are_never_empty(validated):
    name, result = validated
    per_split = result.report["valid_per_split"]
    assert per_split["val"] > 0 and per_split["test"] > 0
    recordings = result.report["dataset"]["recordings"]
    assert len(recordings) == (5 if name == "" else 1)
    totals = [
        sum(facts["splits"].get(split, 0) for facts in recordings.values()) for split in per_split
    ]
    assert totals == list(per_split.values())


def test_every_recording_passes_and_copies_are_kept_out_of_the_splits(validated):
    name, result = validated
    assert result.rejected.empty and result.report["passed"]
    copies = result.valid[result.valid["split"] == "duplicate"]
    if name in ("", RM):
        assert len(copies) == 60 and copies["log"].str.endswith("driving_log1.csv").all()
        assert copies["duplicate_of"].str.contains("driving_log.csv line ").all()
    else:
        assert copies.empty


def test_the_standing_car_is_flagged_for_constant_steering(validated):
    name, result = validated
    dataset = result.report["dataset"]
    parked = "data" if name == AB else f"{AB}/data"
    expected = [parked] if name in (AB, "") else []
    assert dataset["constant_steering"] == expected
    for recording, facts in dataset["recordings"].items():
        assert facts["constant_steering"] is (recording in expected)
        assert (facts["steering_std"] == 0.0) is (recording in expected)
