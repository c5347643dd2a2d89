"""The drive bench row measures what it says: same frames, same angles both ways, figures
for each frame sent."""

import pytest

pytest.importorskip(
    "socketio", reason="python-socketio 4.x not installed (requirements/drive.lock)"
)
keras = pytest.importorskip("keras")


def test_the_bench_row_times_both_ways_on_agreeing_angles():
    from pipeline.tasks.driving.drive.bench import _frames, compare
    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    keras.utils.set_random_seed(0)
    figures = compare(pilotnet(DrivingTrainParams()), _frames(None, 4), frames=6, warmup=2)
    assert figures["agree"] and figures["largest_angle_difference"] < 1e-4
    for way in ("ours", "predict"):
        row = figures[way]
        assert row["frames"] == 6 and 0 < row["median_ms"] <= row["p99_ms"]
    assert figures["ratio"] == pytest.approx(
        figures["predict"]["median_ms"] / figures["ours"]["median_ms"]
    )
