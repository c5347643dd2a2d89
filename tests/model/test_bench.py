"""`pipeline bench --quick`: both reports are written and every output-agreement check holds.

Timings are printed, not asserted: speed goals live in the report, not in a test.
"""

import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("tensorflow")

from pipeline.cli import app

MEASURED = ["caption-greedy", "caption-beam", "features", "driving-input", "driving-infer"]


def test_quick_bench_writes_both_reports_with_agreeing_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no pipeline outputs here: fresh models, scratch samples
    done = CliRunner().invoke(app, ["bench", *MEASURED, "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "reports/bench.json").read_text())
    assert report["quick"] is True
    assert {"cores", "tensorflow", "device"} <= set(report["machine"])
    results = {r["name"]: r for r in report["results"]}
    assert list(results) == MEASURED
    for result in results.values():
        assert result["agree"] is True, result
        assert result["ours"] > 0 and result["baseline"] > 0 and result["ratio"] > 0
        assert isinstance(result["met"], bool)
    table = (tmp_path / "reports/bench.md").read_text()
    assert table.count("\n| ") == len(MEASURED) + 1  # header + one row per benchmark
    for name in MEASURED:
        assert f"| {name} |" in table
    print(table)


def test_an_unknown_benchmark_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["bench", "warp-speed", "--quick"])
    assert done.exit_code == 1 and "unknown benchmark warp-speed" in done.output


def test_quick_ingest_bench_times_a_long_log_and_its_peak_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["bench", "ingest-1m", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    (result,) = json.loads((tmp_path / "reports/bench.json").read_text())["results"]
    assert result["name"] == "ingest-1m" and result["agree"] is True, result
    assert "20,000 rows in the manifest for 20,000 in the log" in result["agreement"]
    assert result["ours"] > 0 and result["met"] is True  # 20,000 rows: far inside the goal
    assert result["notes"][0].startswith("peak memory ")
    assert "| ingest-1m |" in (tmp_path / "reports/bench.md").read_text()
