"""The drive-latency bench row measures what it says: telemetry to steer over a real drive
server, the logged model's angle for each frame sent, the same angles as `model.predict`,
figures for every frame; its goal says which half failed; it is skipped, with the fix, where
the simulator's packages are missing."""

import json
import socket

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import realdata_dir

RECORDING = realdata_dir("driving") / "WyckliffeAluga__sdc-training-datasets" / "data"


def _needs_socketio():
    pytest.importorskip(
        "socketio",
        reason="python-socketio 4.x not installed: uv pip install -r requirements/drive.lock",
    )


def test_quick_row_drives_sample_frames_through_both_servers_and_reports_latencies(
    tmp_path, monkeypatch
):
    _needs_socketio()
    from pipeline.cli import app

    monkeypatch.chdir(tmp_path)  # no trained model here: a fresh PilotNet, spread
    done = CliRunner().invoke(app, ["bench", "drive-latency", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    (row,) = json.loads((tmp_path / "reports/bench.json").read_text())["results"]
    assert row["name"] == "drive-latency" and row["agree"] is True, row
    assert row["agreement"].startswith("largest angle difference ")
    assert "over 8 frames answered from -0.9" in row["agreement"]  # the 8 quick frames
    figures = {f["name"]: f["value"] for f in row["figures"]}
    assert list(figures) == ["ours median", "ours p99", "predict median", "predict p99"]
    assert 0 < figures["ours median"] <= figures["ours p99"]
    assert 0 < figures["predict median"] <= figures["predict p99"]
    # the columns are seconds per frame (medians); the ratio is of the medians
    assert row["ours"] == pytest.approx(figures["ours median"] / 1000)
    assert row["ratio"] == pytest.approx(figures["predict median"] / figures["ours median"])
    assert isinstance(row["met"], bool)
    assert row["goal"] == "median < 10 ms per frame and ratio >= 20"
    assert "8 sample frames, each timed from telemetry sent to steer received" in row["notes"][-1]
    table = (tmp_path / "reports/bench.md").read_text()
    assert "| drive-latency |" in table and "ours median " in table


def test_each_real_frame_is_answered_with_the_logged_models_angle_for_it(tmp_path, monkeypatch):
    """100 real simulator frames, sent one at a time: ours answers each with the Keras model's
    angle for that frame (clipped to the simulator's range), as `predict` does; then the
    servers are stopped."""
    _needs_socketio()
    if not RECORDING.is_dir():
        pytest.skip(f"real driving fixture not found at {RECORDING}")
    from pipeline.bench.case import Setup
    from pipeline.core.serving import decode_rgb
    from pipeline.tasks.driving.benchmarks import drive

    jpegs = [path.read_bytes() for path in sorted((RECORDING / "IMG").glob("center_*.jpg"))]
    assert len(jpegs) == 100
    monkeypatch.setattr(drive, "sample_frames", lambda setup: jpegs)
    setup = Setup(True, tmp_path / "scratch", 42, tmp_path / "reports")
    with drive.servers(setup) as inputs:
        ours, theirs = drive.ours(inputs), drive.book(inputs)
        ports = [client.ws.sock.getpeername()[1] for client in (inputs.ours, inputs.book)]
    model, _ = drive.keras_model(setup, jpegs)  # seeded: the row's very model
    frames = np.stack([decode_rgb(jpeg) for jpeg in jpegs]).astype(np.float32)
    want = np.clip(model.predict(frames, verbose=0).ravel(), -1, 1)
    assert np.abs(np.diff(want)).max() > 0.05  # an answer for the wrong frame would show
    np.testing.assert_allclose(ours.angles, want, atol=1e-4)
    np.testing.assert_allclose(theirs.angles, want, atol=1e-4)
    assert len(ours.seconds) == len(theirs.seconds) == 100 and ours.seconds.min() > 0
    agreement = drive.same_angles(inputs, ours, theirs)
    assert agreement.ok and "over 100 frames" in agreement.text
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)


def _measured(ours_ms: float, book_ms: float):
    from pipeline.bench.case import Measured, Run
    from pipeline.tasks.driving.drive.bench import Drove

    def run(ms: float) -> Run:
        seconds = np.array([ms, ms, ms, 10 * ms]) / 1000  # one slow frame: the p99
        return Run(float(np.median(seconds)), Drove(np.zeros(4), seconds))

    return Measured(None, [run(ours_ms)], [run(book_ms)])


@pytest.mark.parametrize(
    ("ours_ms", "book_ms", "met", "notes"),
    [
        (4.0, 100.0, True, ()),
        (12.0, 300.0, False, ("goal not met: median 12.00 ms is not under 10",)),
        (4.0, 40.0, False, ("goal not met: 10.0x predict is under 20x",)),
        (
            12.0,
            120.0,
            False,
            (
                "goal not met: median 12.00 ms is not under 10",
                "goal not met: 10.0x predict is under 20x",
            ),
        ),
    ],
)
def test_the_goal_needs_both_halves_and_names_the_one_that_failed(ours_ms, book_ms, met, notes):
    from pipeline.tasks.driving.benchmarks.drive import GOAL

    verdict = GOAL.judge(_measured(ours_ms, book_ms))
    assert verdict.met is met and verdict.notes == notes
    assert verdict.ratio == pytest.approx(book_ms / ours_ms)
    figures = {f.name: f.value for f in verdict.figures}
    assert figures["ours median"] == pytest.approx(ours_ms)
    assert figures["ours p99"] > 9 * ours_ms  # the slow frame shows in the p99 only
    assert figures["predict median"] == pytest.approx(book_ms)


def test_without_the_simulators_packages_the_row_is_skipped_with_the_fix(tmp_path, monkeypatch):
    from pipeline.bench.case import Setup, run_case
    from pipeline.bench.cases import CASES
    from pipeline.core.errors import PipelineError
    from pipeline.tasks.driving.drive import server

    def missing():
        raise PipelineError(f"`pipeline drive` needs python-socketio: {server.INSTALL}")

    monkeypatch.setattr(server, "check_socketio", missing)
    result = run_case(CASES["drive-latency"], Setup(True, tmp_path / "scratch"))
    assert result.agree is None and result.ours is None and result.met is None
    (note,) = result.notes
    assert note.startswith("skipped: `pipeline drive` needs python-socketio")
    assert "uv pip install -r requirements/drive.lock" in note
