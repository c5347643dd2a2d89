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

Logs are cut into recordings where the paths' folder changes or the frame names' time jumps
(back, or forward by more than `max_gap_seconds`, 5 s). Counted from the CSVs by hand (the
folder of each center path and the time in its name): UjjwalSaxena is 411 / 654 / 915 rows
(folder `data\data` -> `data\data1` with +392 s, then `data7` with -2.8 days);
Abdullahfoysal 225 / 225 (the 68.9 s pause, same folder); rikkimelissa's `driving_log.csv`
60 / 23 / 37 (+1445.3 s at 18:01:26 -> 18:25:31, then +8.9 s at 18:25:33 -> 18:25:42),
and its `driving_log1.csv` one recording of 60 copies.
"""

import pytest

from pipeline.core.splits import split_counts
from pipeline.core.validation import ValidationResult
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams
from pipeline.tasks.driving.summary import summarize
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
    RM: (180, 180, 0, 13, {"duplicate": 60, "guard": 14, "test": 17, "train": 67, "val": 22}),
    US: (1980, 1980, 0, 40, {"guard": 50, "test": 280, "train": 1347, "val": 303}),
    AF: (450, 450, 0, 40, {"guard": 14, "test": 76, "train": 284, "val": 76}),
    "": (
        2727,
        2727,
        0,
        40,
        {"duplicate": 60, "guard": 70, "test": 420, "train": 1791, "val": 386},
    ),
}

# raw folder -> its recordings: (name, rows, first line, why it starts there)
RECORDINGS = {
    WA: [("data", 100, 1, "start of driving_log.csv")],
    AB: [("data", 17, 1, "start of driving_log.csv")],
    RM: [
        (".", 60, 1, "start of driving_log.csv"),
        (".#2", 23, 61, "time jump of +1445.3 s"),
        (".#3", 37, 84, "time jump of +8.9 s"),
        (".#4", 60, 1, "start of driving_log1.csv"),
    ],
    US: [
        ("data/data", 411, 1, "start of driving_log.csv"),
        (
            "data/data#2",
            654,
            412,
            r"folder change from D:\proj3\data\data\IMG to D:\proj3\data\data1\IMG, "
            "time jump of +391.9 s",
        ),
        (
            "data/data#3",
            915,
            1066,
            r"folder change from D:\proj3\data\data1\IMG to D:\proj3\data7\IMG, "
            "time jump of -243434.5 s",
        ),
    ],
    AF: [
        (".", 225, 1, "start of driving_log.csv"),
        (".#2", 225, 226, "time jump of +68.9 s"),
    ],
}


def _from_the_top(folder: str, name: str) -> str:
    """A recording's name when the raw folder is the whole corpus, not `folder` alone."""
    return folder + name[1:] if name.startswith(".") else f"{folder}/{name}"


RECORDINGS[""] = [
    (_from_the_top(folder, name), *facts)
    for folder, recordings in sorted(RECORDINGS.items())
    for name, *facts in recordings
]


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
    _, result = validated
    per_split = result.report["valid_per_split"]
    assert per_split["val"] > 0 and per_split["test"] > 0
    recordings = result.report["dataset"]["recordings"]
    totals = [
        sum(facts["splits"].get(split, 0) for facts in recordings.values()) for split in per_split
    ]
    assert totals == list(per_split.values())


def test_appended_drives_are_cut_into_recordings(validated):
    name, result = validated
    recordings = result.report["dataset"]["recordings"]
    found = [(k, f["rows"], f["first_line"], f["cut"]) for k, f in recordings.items()]
    assert found == RECORDINGS[name]


def test_no_segment_spans_two_recordings(validated):
    _, result = validated
    rows = result.valid[result.valid["split"] != "duplicate"]  # a copy keeps its original's
    assert (rows.groupby("segment")["recording"].nunique() == 1).all()
    for _, frames in rows.groupby("recording", sort=False):
        assert frames["line"].is_monotonic_increasing  # each recording one run of its log


def test_each_recording_long_enough_gives_val_and_test_their_share(validated):
    """The split's segments are shared out in proportion to each recording's segments: one
    that owes a split a whole segment gives it at least one."""
    _, result = validated
    recordings = result.report["dataset"]["recordings"].values()
    total = sum(facts["segments"] for facts in recordings)
    n_val, n_test = split_counts(total, 0.15, 0.15, minimum=2)
    for facts in recordings:
        for split, n in (("val", n_val), ("test", n_test)):
            if facts["segments"] * n >= total:
                assert facts["splits"].get(split, 0) > 0, facts


def test_the_appended_log_keeps_each_drives_times_and_folder():
    manifest = read_raw(REAL / US, DrivingIngestParams(), seed=42)
    facts = list(summarize(manifest, manifest)["recordings"].values())
    assert [(f["start"], f["end"]) for f in facts] == [
        ("2018-02-26 10:41:13.221", "2018-02-26 10:42:22.345"),
        ("2018-02-26 10:48:54.269", "2018-02-26 10:50:50.528"),
        ("2018-02-23 15:13:36.034", "2018-02-23 15:16:10.291"),
    ]
    assert [f["folder"] for f in facts] == [
        r"D:\proj3\data\data\IMG",
        r"D:\proj3\data\data1\IMG",
        r"D:\proj3\data7\IMG",
    ]
    assert all(f["splits"]["val"] and f["splits"]["test"] for f in facts)


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


def test_a_held_out_recording_is_the_whole_test_split():
    """Ujjwal's third session (source rows 1066-1980, PROVENANCE §1d) held out whole."""
    params = DrivingIngestParams(test_recordings=[f"{US}*#3"])
    manifest = read_raw(REAL, params, seed=42)
    assert len(manifest) == 2727
    test = manifest[manifest["split"] == "test"]
    assert test.groupby("recording").size().to_dict() == {f"{US}/data/data#3": 915}
    assert test["line"].astype(int).tolist() == list(range(1066, 1981))
    others = manifest[manifest["recording"] != f"{US}/data/data#3"]
    assert set(others["split"]) == {"train", "val", "guard", "duplicate"}
