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


def test_scaled_params_are_valid_with_fixed_epochs_and_offline_weights(tmp_path):
    import yaml

    from pipeline.bench import scale
    from pipeline.config import load_config

    base = scale.base_params()
    for task, key in scale.COUNT_KEY.items():
        scaled = scale.scaled_params(base, task, 10, {}, quick=False)
        path = tmp_path / f"{task}.yaml"
        path.write_text(yaml.safe_dump(scaled))
        config = load_config(path)  # unknown or mistyped keys would fail here
        assert getattr(config.sample, task).model_dump()[key] == 10 * base["sample"][task][key]
        assert config.backbone.weights == "none"
        train = config.for_task("train", task)
        fit = train if task == "captions" else train.fit
        epochs = train.epochs if task == "captions" else fit.head_epochs + fit.finetune_epochs
        assert fit.patience > epochs  # no early stopping: the same work at every size


def test_growth_is_the_time_exponent_and_the_memory_ratio():
    from pipeline.bench.scale import StageRun, growth

    def run(stage, factor, seconds, peak):
        return StageRun("driving", stage, factor, 100 * factor, seconds, peak, True, "")

    linear, superlinear, small = growth(
        [run("train", 1, 10, 900), run("train", 10, 100, 950),
         run("evaluate", 1, 10, 500), run("evaluate", 10, 1000, 1500),
         run("ingest", 1, 1, 80), run("ingest", 10, 2, 160)]
    )  # fmt: skip
    assert linear.time_exponent == pytest.approx(1.0) and linear.met
    assert linear.seconds_per_1000 == pytest.approx(100.0)  # 90 s more for 900 more frames
    assert superlinear.time_exponent == pytest.approx(2.0)
    assert superlinear.memory_ratio == pytest.approx(3.0) and not superlinear.met
    assert superlinear.mb_per_1000 == pytest.approx(1000 / 0.9)
    assert small.memory_ratio == pytest.approx(2.0) and small.met  # twice, but 80 MB more


def test_quick_scale_bench_measures_each_stage_at_each_size(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["bench", "scale", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    (result,) = json.loads((tmp_path / "reports/bench.json").read_text())["results"]
    assert result["agree"] is True, result["agreement"]
    runs = result["data"]["runs"]
    stages = ["sample", "ingest", "validate", "augment"]
    assert [(r["stage"], r["count"]) for r in runs] == [(s, 60) for s in stages] + [
        (s, 180) for s in stages
    ]
    assert all(r["ok"] and r["seconds"] > 0 and r["peak_mb"] > 50 for r in runs), runs
    assert [g["stage"] for g in result["data"]["growth"]] == stages
    table = (tmp_path / "reports/bench.md").read_text()
    assert "## Cost by size" in table and "| driving | validate |" in table
    assert "![time and peak memory by size](bench_scale.png)" in table
    assert (tmp_path / "reports/bench_scale.png").stat().st_size > 10_000
