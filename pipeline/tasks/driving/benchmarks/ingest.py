"""The ingest-1m row: the driving ingest of a long simulator log, in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.bench.case import Agreement, Goal, Measured, Setup, Verdict

FRAMES = 300  # frame triples in IMG/: every row after the first 300 is a duplicate

_CHILD = """
import json, sys, time
from pathlib import Path
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams
start = time.perf_counter()
manifest = read_raw(Path(sys.argv[1]), DrivingIngestParams(), 42)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    # VmHWM: this process's own peak; ru_maxrss would also count the parent's memory,
    # which Linux carries over into a child's figure at exec
    "peak_bytes": next(
        int(line.split()[1]) * 1024
        for line in open("/proc/self/status")
        if line.startswith("VmHWM:")
    ),
    "rows": len(manifest),
    "issues": manifest["issue"].value_counts().to_dict(),
    "splits": manifest["split"].value_counts().to_dict(),
}))
"""


@dataclass(frozen=True)
class LongLog:
    folder: Path
    rows: int


def rows(setup: Setup) -> int:
    return setup.size(20_000, 1_000_000)


def what(setup: Setup) -> str:
    return f"driving ingest of a {rows(setup):,}-row driving_log.csv, in a process of its own"


def long_log(setup: Setup) -> LongLog:
    """A simulator log of many rows (Windows paths, `", "`) over `FRAMES` frame triples.

    IMG/ stays small: the rows cycle over its frames, so all rows after the first
    `FRAMES` are duplicates (the costlier path: each is matched to its original).
    """
    folder, count = setup.folder("ingest"), rows(setup)
    (folder / "IMG").mkdir(exist_ok=True)
    recorded = "C:\\Users\\udacity\\Desktop\\my track\\IMG\\"
    lines = []
    for i in range(FRAMES):
        stamp = f"2016_12_01_13_{i // 3600 % 60:02d}_{i // 60 % 60:02d}_{i % 60:02d}0"
        names = [f"{camera}_{stamp}.jpg" for camera in ("center", "left", "right")]
        for name in names:
            (folder / "IMG" / name).write_bytes(b"")  # ingest only lists IMG/
        lines.append(", ".join(recorded + name for name in names))
    angles = np.random.default_rng(0).normal(0, 0.2, 997).round(7)
    with (folder / "driving_log.csv").open("w") as log:
        for row in range(count):
            steering = f"{angles[row % 997]:.7g}"
            log.write(f"{lines[row % FRAMES]}, {steering}, 0.9, 0, 30.19\n")
    return LongLog(folder, count)


def ingest(inputs: LongLog) -> dict[str, Any]:
    """Ours (there is no textbook way): the child's own figures, its time among them."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(inputs.folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def child_seconds(output: dict[str, Any]) -> float:
    """The ingest's own time, without the child's start-up and imports."""
    return float(output["seconds"])


def every_row_kept(inputs: LongLog, ours: dict[str, Any], _theirs: None) -> Agreement:
    duplicates = ours["splits"].get("duplicate", 0)
    ok = (
        ours["rows"] == inputs.rows
        and ours["issues"] == {}
        and duplicates == inputs.rows - FRAMES
        and all(ours["splits"].get(split, 0) > 0 for split in ("train", "val", "test"))
    )
    text = (
        f"{ours['rows']:,} rows in the manifest for {inputs.rows:,} in the log, {duplicates:,} of "
        f"them copies of the {FRAMES} frames, train/val/test all filled"
    )
    return Agreement(ok, text)


def about_log(_inputs: LongLog) -> str:
    return f"{FRAMES} frame triples in IMG/; no baseline: the textbook has no such step"


def within(seconds: float, gigabytes: float) -> Goal[LongLog]:
    """Under `seconds` (median) and `gigabytes` of peak memory (the largest of the runs)."""

    def judge(measured: Measured[LongLog]) -> Verdict:
        peak = max(run.output["peak_bytes"] for run in measured.ours) / 1024**3
        met = measured.ours_seconds < seconds and peak < gigabytes
        return Verdict(met, notes=(f"peak memory {peak:.2f} GB (process RSS)",))

    return Goal(f"< {seconds:g} s and < {gigabytes:g} GB", judge)
