"""Driving ingest of the layouts recordings are published in, and of drives appended into one
log: frames beside the log or under a folder the paths name, and logs cut into recordings at
a folder change or a time jump, with no segment spanning two recordings."""

import itertools
from datetime import datetime, timedelta

import pandas as pd
import pytest

from pipeline.tasks.driving import Driving
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams

START = datetime(2018, 2, 26, 10, 41, 13)
PARAMS = DrivingIngestParams(segment_frames=5, guard_frames=1, min_split_segments=1)
ONE_ROW = PARAMS.model_copy(update={"min_split_segments": 0})  # too short to split: all train


def _names(moment: datetime) -> list[str]:
    stamp = f"{moment:%Y_%m_%d_%H_%M_%S}_{moment.microsecond // 1000:03d}"
    return [f"{camera}_{stamp}.jpg" for camera in ("center", "left", "right")]


def _times(n: int, start: datetime = START) -> list[datetime]:
    return [start + timedelta(milliseconds=100 * i) for i in range(n)]


def _write(root, write_image, rows, frames="IMG", sep=", "):
    """A log of `rows` (folder as the log writes it, time) and their frames in `frames`."""
    lines = []
    for folder, moment in rows:
        names = _names(moment)
        for name in names:
            write_image(root / frames / name if frames else root / name, width=32, height=16)
        paths = [f"{folder}{name}" for name in names]
        lines.append(sep.join([*paths, "0.1", "0.5", "0", "20"]))
    root.mkdir(parents=True, exist_ok=True)
    (root / "driving_log.csv").write_text("\n".join(lines) + "\n")
    return root


def _no_segment_crosses_a_recording(manifest: pd.DataFrame) -> None:
    rows = manifest[manifest["split"] != "duplicate"]
    assert (rows.groupby("segment")["recording"].nunique() == 1).all()
    for before, after in itertools.pairwise(manifest["split"]):
        assert before == after or "guard" in (before, after)  # guards stay at every change


def _recordings(manifest: pd.DataFrame) -> dict[str, int]:
    return manifest.groupby("recording", sort=False).size().to_dict()


# ---- where the frames are -------------------------------------------------------------
@pytest.mark.parametrize("folder", ["", r"C:\Users\me\Desktop\rec\IMG" + "\\", "/home/me/x/"])
def test_frames_beside_the_log_are_found(tmp_path, write_image, folder):
    root = _write(tmp_path / "raw" / "lap", write_image, [(folder, t) for t in _times(12)], None)
    manifest = read_raw(tmp_path / "raw", PARAMS, seed=0)
    assert manifest["issue"].isna().all(), manifest["issue_detail"].dropna().tolist()
    assert manifest.loc[0, "center"] == f"lap/{_names(START)[0]}"
    assert (root / manifest.loc[0, "right"].removeprefix("lap/")).is_file()


@pytest.mark.parametrize(("written", "frames"), [("IMG_Ori\\", "IMG_Ori"), ("IMG\\", "IMG")])
def test_relative_backslash_paths_with_leading_spaces_are_found(
    tmp_path, write_image, written, frames
):
    _write(tmp_path / "rec", write_image, [(written, t) for t in _times(12)], frames, sep=",  ")
    manifest = read_raw(tmp_path / "rec", PARAMS, seed=0)
    assert manifest["issue"].isna().all(), manifest["issue_detail"].dropna().tolist()
    assert manifest.loc[3, "left"] == f"{frames}/{_names(_times(12)[3])[1]}"
    assert _recordings(manifest) == {".": 12}


def test_a_folder_the_path_names_is_found_under_the_log_folder_not_beside_it(tmp_path, write_image):
    root = _write(tmp_path / "rec", write_image, [("sub\\frames\\", START)], "sub/frames")
    write_image(root / _names(START)[0], width=32, height=16)  # a stray copy beside the log
    assert read_raw(root, ONE_ROW, seed=0).loc[0, "center"] == f"sub/frames/{_names(START)[0]}"


def test_a_path_whose_folder_leads_outside_the_root_is_not_followed(tmp_path, write_image):
    outside = tmp_path / "elsewhere"
    _write(outside, write_image, [("", START)], None)  # the frames exist, outside the root
    root = tmp_path / "raw" / "rec"
    root.mkdir(parents=True)
    (root / "driving_log.csv").write_text(
        ", ".join(f"..\\..\\elsewhere\\{name}" for name in _names(START)) + ", 0, 0, 0, 0\n"
    )
    manifest = read_raw(root, ONE_ROW, seed=0)
    assert manifest.loc[0, "issue"] == "center image missing"
    assert manifest.loc[0, ["center", "left", "right"]].isna().all()
    inside = read_raw(tmp_path, ONE_ROW, seed=0)  # the same log, the folder now inside
    assert inside.loc[0, "center"] == f"elsewhere/{_names(START)[0]}"


# ---- drives appended into one log -------------------------------------------------------
def test_a_folder_change_starts_a_recording(tmp_path, write_image):
    first = [("D:\\proj3\\data\\data\\IMG\\", t) for t in _times(30)]
    later = START + timedelta(seconds=3.1)  # in time, but another folder
    second = [("D:\\proj3\\data\\data1\\IMG\\", t) for t in _times(40, later)]
    manifest = read_raw(_write(tmp_path / "rec", write_image, first + second), PARAMS, seed=0)
    assert _recordings(manifest) == {".": 30, ".#2": 40}
    cut = manifest.loc[30, "recording_cut"]
    assert cut == r"folder change from D:\proj3\data\data\IMG to D:\proj3\data\data1\IMG"
    assert manifest.loc[30, "recorded_folder"] == r"D:\proj3\data\data1\IMG"
    assert manifest.loc[30, "segment"] != manifest.loc[29, "segment"]
    _no_segment_crosses_a_recording(manifest)


def test_a_backwards_time_jump_starts_a_recording(tmp_path, write_image):
    rows = [("C:\\rec\\IMG\\", t) for t in _times(30) + _times(30, START - timedelta(days=2.8))]
    manifest = read_raw(_write(tmp_path / "rec", write_image, rows), PARAMS, seed=0)
    assert _recordings(manifest) == {".": 30, ".#2": 30}
    assert manifest.loc[30, "recording_cut"] == "time jump of -241922.9 s"
    assert manifest.loc[30, "recorded_at"] == pd.Timestamp("2018-02-23 15:29:13.000")
    _no_segment_crosses_a_recording(manifest)


@pytest.mark.parametrize(("gap", "expected"), [(3.0, {".": 60}), (69.0, {".": 30, ".#2": 30})])
def test_a_forward_gap_longer_than_max_gap_seconds_starts_a_recording(
    tmp_path, write_image, gap, expected
):
    resumed = START + timedelta(seconds=2.9 + gap)
    rows = [("/Users/me/data/IMG/", t) for t in _times(30) + _times(30, resumed)]
    manifest = read_raw(_write(tmp_path / "rec", write_image, rows), PARAMS, seed=0)
    assert _recordings(manifest) == expected
    _no_segment_crosses_a_recording(manifest)
    relaxed = PARAMS.model_copy(update={"max_gap_seconds": 100.0})
    assert _recordings(read_raw(tmp_path / "rec", relaxed, seed=0)) == {".": 60}


def test_segments_restart_at_each_recording_and_each_gets_val_and_test(tmp_path, write_image):
    params = DrivingIngestParams(segment_frames=4, guard_frames=1)
    pieces = [_times(42), _times(42, START + timedelta(minutes=10))]
    rows = [("C:\\rec\\IMG\\", t) for t in pieces[0] + pieces[1]]
    manifest = read_raw(_write(tmp_path / "rec", write_image, rows), params, seed=0)
    assert manifest["segment"].tolist() == [f"driving_log.csv:{i // 4}" for i in range(42)] + [
        f"driving_log.csv:{11 + i // 4}" for i in range(42)
    ]  # 11 segments each, the last of each two frames short
    _no_segment_crosses_a_recording(manifest)
    summary = Driving().summarize(manifest, manifest)
    for name in (".", ".#2"):
        facts = summary["recordings"][name]
        assert facts["segments"] == 11 and facts["rows"] == 42
        assert facts["splits"]["val"] > 0 and facts["splits"]["test"] > 0
    assert summary["recordings"][".#2"]["cut"] == "time jump of +595.9 s"
    assert summary["recordings"]["."]["start"] == "2018-02-26 10:41:13.000"
    assert summary["recordings"]["."]["end"] == "2018-02-26 10:41:17.100"


def test_unreadable_rows_stay_in_the_recording_around_them(tmp_path, write_image):
    rows = [("C:\\rec\\IMG\\", t) for t in _times(12)]
    root = _write(tmp_path / "rec", write_image, rows)
    lines = (root / "driving_log.csv").read_bytes().split(b"\n")
    lines[5] = b"\x00binary"
    lines[6] = b"too, short"
    (root / "driving_log.csv").write_bytes(b"\n".join(lines))
    manifest = read_raw(root, PARAMS, seed=0)
    assert manifest["issue"].tolist()[5:7] == ["binary data", "short row"]
    assert _recordings(manifest) == {".": 12}


def test_a_second_log_in_the_folder_is_a_recording_of_its_own(tmp_path, write_image):
    root = _write(tmp_path / "rec", write_image, [("IMG/", t) for t in _times(20)])
    later = _times(20, START + timedelta(minutes=5))
    for moment in later:
        for name in _names(moment):
            write_image(root / "IMG" / name, width=32, height=16)
    (root / "driving_log2.csv").write_text(
        "".join(
            ",".join([*(f"IMG/{n}" for n in _names(t)), "0", "0", "0", "9"]) + "\n" for t in later
        )
    )
    manifest = read_raw(root, PARAMS, seed=0)
    assert _recordings(manifest) == {".": 20, ".#2": 20}
    assert manifest.loc[20, "recording_cut"] == "start of driving_log2.csv"
    _no_segment_crosses_a_recording(manifest)
