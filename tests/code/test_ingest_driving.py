"""Driving ingest on hand-made logs: headers, Windows/Unix/relative paths, segments,
short recordings, constant steering, odd bytes, several logs sharing frames."""

import itertools
import os

import pandas as pd
import pytest

from pipeline.core.errors import DatasetError
from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks.driving import Driving
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams

# no minimum of segments per split: a three-row log is all train
PARAMS = DrivingIngestParams(
    segment_frames=4,
    guard_frames=1,
    val_fraction=0.25,
    test_fraction=0.25,
    min_split_segments=0,
)
DEFAULTS = DrivingIngestParams()


def _recording(root, write_image, rows, header=False, style="windows"):
    (root / "IMG").mkdir(parents=True, exist_ok=True)
    lines = ["center,left,right,steering,throttle,brake,speed"] if header else []
    for i, steering in enumerate(rows):
        names = [
            f"{camera}_2016_12_01_13_30_{i:02d}_000.jpg" for camera in ("center", "left", "right")
        ]
        for name in names:
            write_image(root / "IMG" / name, width=32, height=16)
        if style == "windows":
            paths = [rf"C:\Users\me\Desktop\rec\IMG\{n}" for n in names]
        elif style == "unix":
            paths = [f"/home/me/rec/IMG/{n}" for n in names]
        else:
            paths = [f"IMG/{n}" for n in names]
        lines.append(f"{paths[0]}, {paths[1]}, {paths[2]},{steering},0.5,0,30.1")
    (root / "driving_log.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("style", ["windows", "unix", "relative"])
@pytest.mark.parametrize("header", [False, True])
def test_paths_resolve_by_file_name_under_img(tmp_path, write_image, style, header):
    root = _recording(tmp_path / "rec", write_image, [0, 0.1, -0.2], header=header, style=style)
    manifest = read_raw(root, PARAMS, seed=0)
    assert len(manifest) == 3
    assert manifest["issue"].isna().all()
    assert manifest.loc[1, "center"] == "IMG/center_2016_12_01_13_30_01_000.jpg"
    assert manifest.loc[2, "left"] == "IMG/left_2016_12_01_13_30_02_000.jpg"
    assert manifest["steering"].tolist() == [0, 0.1, -0.2]


def test_missing_image_and_bad_number_are_rows_with_an_issue(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0, "abc", 0.3])
    (root / "IMG" / "right_2016_12_01_13_30_02_000.jpg").unlink()
    manifest = read_raw(root, PARAMS, seed=0)
    assert len(manifest) == 3
    assert manifest.loc[1, "issue"] == "steering not a number"
    assert pd.isna(manifest.loc[1, "steering"])
    assert manifest.loc[2, "issue"] == "right image missing"
    assert pd.isna(manifest.loc[2, "right"])


def test_a_path_naming_a_parent_folder_is_not_followed(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0])
    log = root / "driving_log.csv"
    log.write_text(
        log.read_text().replace(
            r"C:\Users\me\Desktop\rec\IMG\center_2016_12_01_13_30_00_000.jpg", ".."
        )
    )
    assert read_raw(root, PARAMS, seed=0).loc[0, "issue"] == "center image missing"


def test_segments_are_contiguous_and_never_split(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.0] * 40)
    manifest = read_raw(root, PARAMS, seed=3)
    assert manifest["segment"].tolist() == [f"driving_log.csv:{i // 4}" for i in range(40)]
    real = manifest[manifest["split"] != "guard"]
    assert (real.groupby("segment")["split"].nunique() == 1).all()
    assert set(real["split"]) == {"train", "val", "test"}


def test_adjacent_frames_never_straddle_two_splits(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.0] * 40)
    splits = read_raw(root, PARAMS, seed=3)["split"].tolist()
    for before, after in itertools.pairwise(splits):
        assert before == after or "guard" in (before, after)


def test_several_recordings_are_read_each_with_its_own_img(tmp_path, write_image):
    _recording(tmp_path / "raw" / "lap1", write_image, [0.1, 0.2])
    _recording(tmp_path / "raw" / "lap2", write_image, [0.3])
    manifest = read_raw(tmp_path / "raw", PARAMS, seed=0)
    assert manifest["log"].tolist() == ["lap1/driving_log.csv"] * 2 + ["lap2/driving_log.csv"]
    assert manifest.loc[2, "center"] == "lap2/IMG/center_2016_12_01_13_30_00_000.jpg"


def test_a_folder_without_log_says_what_it_expected(tmp_path):
    with pytest.raises(DatasetError, match=r"no driving_log\*\.csv under"):
        read_raw(tmp_path, PARAMS, seed=0)


# ---- splits of short recordings, constant steering, several logs -----------------------
def _names(i):
    return [f"{camera}_2016_12_01_13_30_{i:02d}_000.jpg" for camera in ("center", "left", "right")]


def _line(i, steering=0.1, prefix="C:\\Users\\me\\rec\\IMG\\", sep=", ", extra=""):
    paths = sep.join(prefix + name for name in _names(i))
    return f"{paths}{sep}{steering}{sep}0.5{sep}0{sep}30.1{extra}"


def test_a_short_recording_still_gets_val_and_test_by_shorter_segments(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.05 * (i % 7) for i in range(30)])
    manifest = read_raw(root, DEFAULTS, seed=0)
    # 30 frames: 40-frame segments would put all in train; 10 segments of 3 give each its 2
    assert manifest["segment_frames"].unique().tolist() == [3]
    for split in ("val", "test"):
        assert manifest.loc[manifest["split"] == split, "segment"].nunique() == 2
    assert manifest.loc[manifest["split"] == "train", "segment"].nunique() == 6
    assert read_raw(root, DEFAULTS, seed=0)["split"].tolist() == manifest["split"].tolist()
    for before, after in itertools.pairwise(manifest["split"]):
        assert before == after or "guard" in (before, after)  # contiguous, guarded


def test_a_long_recording_keeps_the_configured_segments(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.1] * 40)
    manifest = read_raw(root, DrivingIngestParams(segment_frames=4, guard_frames=1), seed=0)
    assert manifest["segment_frames"].unique().tolist() == [4]
    assert manifest.loc[manifest["split"] == "val", "segment"].nunique() == 2


def test_a_recording_too_short_to_split_says_how_many_frames_it_needs(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0.1] * 10)
    # 2 segments each for val, test and train, of at least 3 frames (2 guard + 1)
    with pytest.raises(DatasetError, match=r"10 frames are too few.*at least 16 frames"):
        read_raw(root, DEFAULTS, seed=0)


def test_constant_steering_is_flagged_per_recording(tmp_path, write_image):
    _recording(tmp_path / "raw" / "curvy", write_image, [0.1, -0.2, 0.3, 0.0] * 3)
    _recording(tmp_path / "raw" / "parked", write_image, [0] * 12)
    manifest = read_raw(tmp_path / "raw", PARAMS, seed=0)
    summary = Driving().summarize(manifest, manifest[manifest["issue"].isna()])
    parked, curvy = summary["recordings"]["parked"], summary["recordings"]["curvy"]
    assert summary["constant_steering"] == ["parked"]
    assert "parked" in summary["warning"]
    assert parked["constant_steering"] is True and parked["steering_std"] == 0.0
    assert curvy["constant_steering"] is False and curvy["steering_std"] > 0.1
    assert parked["rows"] == parked["valid"] == 12
    assert sum(parked["splits"].values()) == 12
    assert summary["segment_frames"] == 4


def test_a_frame_in_two_logs_is_read_once_and_shares_its_split(tmp_path, write_image):
    root = tmp_path / "rec"
    for i in range(10):
        for name in _names(i):
            write_image(root / "IMG" / name, width=32, height=16)
    (root / "driving_log.csv").write_text("\n".join(_line(i) for i in range(8)) + "\n")
    # rikkimelissa's case: the same frames again, another format, plus frames of its own
    spreadsheet = ",,rec,IMG,center,jpg,"
    (root / "driving_log1.csv").write_bytes(
        "".join(_line(i, sep=",", extra=spreadsheet) + "\r\n" for i in range(4, 10)).encode()
    )
    (root / "driving_log-old.csv").write_text(_line(0) + "\n")  # sorts first, read last
    manifest = read_raw(root, PARAMS, seed=0)
    assert manifest["log"].tolist() == (
        ["driving_log.csv"] * 8 + ["driving_log-old.csv"] + ["driving_log1.csv"] * 6
    )
    assert manifest["issue"].isna().all()  # a sound copy is not a bad row
    duplicates = manifest[manifest["split"] == "duplicate"]
    assert duplicates.index.tolist() == [8, 9, 10, 11, 12]
    assert duplicates.loc[9, "duplicate_of"] == "driving_log.csv line 5"
    originals = manifest.loc[[0, 4, 5, 6, 7]]
    assert duplicates["segment"].tolist() == originals["segment"].tolist()
    assert manifest.loc[~manifest.index.isin(duplicates.index), "duplicate_of"].isna().all()
    new = manifest.loc[[13, 14]]
    assert new["issue"].isna().all() and new["steering"].tolist() == [0.1, 0.1]
    assert new["center"].tolist() == [f"IMG/{_names(i)[0]}" for i in (8, 9)]


def test_the_simulators_quirks_are_read(tmp_path, write_image):
    root = tmp_path / "rec"
    for i in range(4):
        for name in _names(i):
            write_image(root / "IMG" / name, width=32, height=16)
    header = "steering,throttle,brake,speed,center,left,right"  # named, in another order
    rows = [
        f"-7.843922E-05,1,0,30.2,{' , '.join('IMG/' + n for n in _names(0))}",
        "",
        f"1e-1, 0.5, 0, 9,C:\\My Documents\\ml doc\\IMG\\{_names(1)[0]},  "
        f"IMG/{_names(1)[1]},IMG/{_names(1)[2]}",
    ]
    (root / "driving_log.csv").write_bytes(
        ("\ufeff" + header + "\r\n" + "\r\n".join(rows) + "\r\n\r\n").encode()
    )
    manifest = read_raw(root, PARAMS, seed=0)
    assert manifest["issue"].isna().all(), manifest["issue_detail"].tolist()
    assert manifest["steering"].tolist() == [-7.843922e-05, 0.1]
    assert manifest["line"].tolist() == [2, 4]
    assert manifest.loc[1, "center"] == f"IMG/{_names(1)[0]}"


# ---- odd bytes never crash -------------------------------------------------------------
def test_odd_bytes_make_rows_with_an_issue_and_the_rest_is_read(tmp_path, write_image):
    root = tmp_path / "rec"
    for i in range(6):
        for name in _names(i):
            write_image(root / "IMG" / name, width=32, height=16)
    lines = [_line(i).encode() for i in range(6)]
    lines[1] = lines[1].replace(b"center_", b"cent\xe9r_")  # Latin-1, not UTF-8
    lines[2] = b"\x00\x00garbage\x07," + lines[2]
    lines[3] = bytes(range(11, 256)) + b"\r"  # binary noise
    lines[4] = b'"' + lines[4]  # a stray quote must not swallow the next line
    (root / "driving_log.csv").write_bytes(b"\n".join(lines) + b"\n")
    manifest = read_raw(root, PARAMS, seed=0)
    assert len(manifest) == 6
    assert manifest["issue"].tolist()[1:4] == ["not UTF-8", "binary data", "not UTF-8"]
    assert manifest.loc[1, "issue_detail"] == (
        "driving_log.csv line 2: not UTF-8: byte 0xE9 at column 25"
    )
    assert manifest.loc[2, "issue_detail"].endswith("NUL at column 1")
    assert manifest.loc[1:3, "center"].isna().all()
    assert manifest.loc[4, "issue"] == "short row"
    assert manifest.loc[[0, 5], "issue"].isna().all()
    assert manifest.loc[5, "center"] == f"IMG/{_names(5)[0]}"
    write_manifest(manifest, tmp_path / "manifest.parquet")  # stores as text
    assert len(read_manifest(tmp_path / "manifest.parquet")) == 6


def test_a_path_outside_the_recording_uses_only_its_file_name_under_img(tmp_path, write_image):
    root = _recording(tmp_path / "rec", write_image, [0, 0.1, 0.2])
    (tmp_path / "secret.jpg").write_bytes(b"not yours")
    os.symlink(tmp_path / "secret.jpg", root / "IMG" / "secret.jpg")
    log = root / "driving_log.csv"
    lines = log.read_text().splitlines()
    lines[0] = "/etc/hostname," + lines[0].split(",", 1)[1]
    lines[1] = "../../secret.jpg," + lines[1].split(",", 1)[1]
    log.write_text("\n".join(lines) + "\n")
    manifest = read_raw(root, PARAMS, seed=0)
    assert manifest["issue"].tolist()[:2] == ["center image missing"] * 2
    assert "IMG/hostname not found" in manifest.loc[0, "issue_detail"]
    assert "secret.jpg leads outside the dataset root" in manifest.loc[1, "issue_detail"]
    assert manifest.loc[:1, "center"].isna().all()


def test_folders_and_logs_with_non_utf8_names_give_rows_not_tracebacks(tmp_path, write_image):
    raw = tmp_path / "raw"
    lap = _recording(raw / "lap", write_image, [0.1, 0.2])
    lap.rename(raw / os.fsdecode(b"lap\xff"))  # OpenCV cannot write there itself
    lap2 = _recording(raw / "lap2", write_image, [0.3])
    (lap2 / "driving_log.csv").rename(lap2 / os.fsdecode(b"driving_log\xfe.csv"))
    manifest = read_raw(raw, PARAMS, seed=0)
    assert (
        manifest["log"].tolist() == ["lap2/driving_log\\xfe.csv"] + ["lap\\xff/driving_log.csv"] * 2
    )
    assert pd.isna(manifest.loc[0, "issue"])  # only the log's own name is odd: read as usual
    assert manifest.loc[0, "center"] == f"lap2/IMG/{_names(0)[0]}"
    assert manifest["issue"].tolist()[1:] == ["folder name not UTF-8"] * 2
    assert manifest.loc[1:, "center"].isna().all()
    write_manifest(manifest, tmp_path / "manifest.parquet")
    assert read_manifest(tmp_path / "manifest.parquet")["log"].tolist() == manifest["log"].tolist()
