"""`pipeline bench --quick`: both reports are written and every output-agreement check holds.

Timings are printed, not asserted: speed goals live in the report, not in a test.
"""

import json

import pytest
from typer.testing import CliRunner

from pipeline.tasks import TASKS, tasks_with

pytest.importorskip("tensorflow")

from pipeline.cli import app

MEASURED = ["caption-greedy", "caption-beam", "features", "driving-input", "driving-infer"]


@pytest.mark.slow
def test_quick_bench_writes_both_reports_with_agreeing_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no pipeline outputs here: fresh models, scratch samples
    done = CliRunner().invoke(app, ["bench", *MEASURED, "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "reports/bench.json").read_text())
    assert report["quick"] is True
    assert {"cores", "tensorflow", "device"} <= set(report["machine"])
    results = {r["name"]: r for r in report["results"]}
    from pipeline.bench.cases import CASES

    assert list(results) == [name for name in CASES if name in MEASURED]  # the table's order
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
    from pipeline.tasks import tasks_with

    base = scale.base_params()
    for task in tasks_with("train"):  # every task with a model, plates_text included
        source, key = scale.producer(task, base), scale.count_key(task, base)
        scaled = scale.scaled_params(base, task, 10, "params", quick=False)
        path = tmp_path / f"{task}.yaml"
        path.write_text(yaml.safe_dump(scaled))
        config = load_config(path)  # unknown or mistyped keys would fail here
        assert getattr(config.sample, source).model_dump()[key] == 10 * base["sample"][source][key]
        assert config.backbone.weights == "none"
        assert scale.stages(task, base)[0] == ("sample", source)
        train = config.for_task("train", task)
        fit = getattr(train, "fit", train)
        assert fit.patience == 99  # no early stopping: the same work at every size


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


@pytest.mark.slow
def test_quick_scale_bench_measures_each_stage_at_each_size(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["bench", "scale", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    (result,) = json.loads((tmp_path / "reports/bench.json").read_text())["results"]
    assert result["agree"] is True, result["agreement"]
    runs = result["data"]["runs"]
    stages = ["sample", "ingest", "validate", "augment"]
    task = tasks_with("train")[0]  # the quick run: the first task with a model, its tiny sample
    tiny = TASKS[task].tiny()["sample"][TASKS[task].sample_size]
    assert [(r["task"], r["stage"], r["count"]) for r in runs] == [
        (task, s, n) for n in (tiny, 3 * tiny) for s in stages
    ]
    assert all(r["ok"] and r["seconds"] > 0 and r["peak_mb"] > 50 for r in runs), runs
    assert [g["stage"] for g in result["data"]["growth"]] == stages
    table = (tmp_path / "reports/bench.md").read_text()
    assert "## Cost by size" in table and f"| {task} | validate |" in table
    assert "![time and peak memory by size](bench_scale.png)" in table
    assert (tmp_path / "reports/bench_scale.png").stat().st_size > 10_000


# ---- the scaffold that runs any row, on toy rows that report their own seconds ------------
def _toy(agree=True, **fields):
    """A row whose ways return the seconds they 'took' (its clock), recording their calls."""
    from pipeline.bench.case import Agreement, Case, speedup_at_least

    calls = {"inputs": 0, "ours": [], "baseline": [], "agree": []}
    ours_seconds, baseline_seconds = iter([9.0, 1.0, 2.0, 6.0]), iter([10.0, 20.0, 40.0])

    def inputs(setup):
        calls["inputs"] += 1
        return "inputs"

    def ours(inputs):
        calls["ours"].append(next(ours_seconds))
        return calls["ours"][-1]

    def baseline(inputs):
        calls["baseline"].append(next(baseline_seconds))
        return calls["baseline"][-1]

    def agreement(inputs, mine, theirs):
        calls["agree"].append((inputs, mine, theirs))
        return Agreement(agree, "toy outputs compared")

    case = Case(
        name="toy", what="a toy", goal=speedup_at_least(5), inputs=inputs, ours=ours,
        baseline=baseline, agree=agreement, note=lambda inputs: "toy note",
        clock=lambda seconds: seconds, **fields,
    )  # fmt: skip
    return case, calls


def _setup(tmp_path, quick=False):
    from pipeline.bench.case import Setup

    return Setup(quick, tmp_path / "scratch", 42, tmp_path / "reports")


def test_a_row_is_checked_on_its_first_runs_then_timed_to_a_median_and_ratio(tmp_path):
    from pipeline.bench.case import run_case

    case, calls = _toy(baseline_warmup=0)
    result = run_case(case, _setup(tmp_path))
    # the first runs' outputs are the ones compared; ours' first is its untimed warm-up,
    # the baseline's (warm-up 0) is its first timed run
    assert calls["agree"] == [("inputs", 9.0, 10.0)]
    assert calls["ours"] == [9.0, 1.0, 2.0, 6.0] and calls["baseline"] == [10.0, 20.0, 40.0]
    assert calls["inputs"] == 1
    assert (result.ours, result.baseline, result.ratio) == (2.0, 20.0, 10.0)  # medians of 3
    assert result.met is True and result.goal == "ratio >= 5"
    assert result.agree is True and result.agreement == "toy outputs compared"
    assert result.notes == ["toy note"]


def test_a_quick_run_times_each_way_once_after_the_warm_up(tmp_path):
    from pipeline.bench.case import run_case

    case, calls = _toy()
    result = run_case(case, _setup(tmp_path, quick=True))
    assert calls["ours"] == [9.0, 1.0] and calls["baseline"] == [10.0, 20.0]
    assert (result.ours, result.baseline, result.ratio, result.met) == (1.0, 20.0, 20.0, True)


def test_a_row_whose_outputs_disagree_is_not_timed(tmp_path):
    from pipeline.bench.case import run_case

    case, calls = _toy(agree=False)
    result = run_case(case, _setup(tmp_path))
    assert len(calls["ours"]) == 1 and len(calls["baseline"]) == 1  # the check's runs only
    assert result.agree is False and result.ours is None and result.ratio is None
    assert result.met is None and result.notes == ["toy note"]


def test_a_row_that_cannot_run_here_is_reported_skipped_with_its_reason(tmp_path):
    from dataclasses import replace

    from pipeline.bench.case import Skip, run_case

    def no_pipeline(setup):
        raise Skip("the pipeline is not up to date here")

    case, calls = _toy()
    result = run_case(replace(case, inputs=no_pipeline), _setup(tmp_path))
    assert calls["ours"] == [] and result.agree is None and result.ours is None
    assert result.notes == ["skipped: the pipeline is not up to date here"]


def test_inputs_a_row_started_are_closed_even_when_a_way_fails(tmp_path):
    """A server a row starts for its inputs (drive-latency's) never outlives the row."""
    from dataclasses import replace

    from pipeline.bench.case import run_case

    closed = []

    class Server:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            closed.append(True)

    def crashes(inputs):
        raise ConnectionError("server went away")

    case, _ = _toy()
    case = replace(case, inputs=lambda setup: Server(), ours=crashes)
    with pytest.raises(ConnectionError):
        run_case(case, _setup(tmp_path))
    assert closed == [True]


def test_a_row_reports_extra_figures_in_both_reports(tmp_path, monkeypatch):
    """A latency row's median and p99 show in its notes in bench.md and in bench.json."""
    from dataclasses import replace

    from pipeline import bench
    from pipeline.bench.case import Figure, Goal, Verdict

    def latency(measured):
        return Verdict(
            True, 1.5, figures=(Figure("ours median", 3.14159, "ms"), Figure("p99", 12, "ms"))
        )

    case, _ = _toy()
    monkeypatch.setitem(bench.CASES, "toy", replace(case, goal=Goal("p99 < 20 ms", latency)))
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["bench", "toy", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output
    table = (tmp_path / "reports/bench.md").read_text()
    assert (
        "| toy | 1.00 s | 20.00 s | 1.5 | p99 < 20 ms | yes | yes: toy outputs compared "
        "| ours median 3.14 ms; p99 12.00 ms; toy note |" in table
    )
    (result,) = json.loads((tmp_path / "reports/bench.json").read_text())["results"]
    assert result["figures"] == [
        {"name": "ours median", "value": 3.14159, "unit": "ms"},
        {"name": "p99", "value": 12, "unit": "ms"},
    ]


def test_every_benchmark_keeps_its_command_line_name():
    from pipeline.bench.cases import CASES

    assert list(CASES) == [
        "export-plates", "driving-input", "driving-infer", "drive-latency",
        "drive-latency-tflite", "export-driving", "ingest-1m", "caption-greedy",
        "caption-beam", "features", "scale", "repro-noop",
    ]  # fmt: skip


def test_a_tasks_rows_come_from_its_benchmarks_module_in_registry_order():
    from pipeline.bench.cases import CASES
    from pipeline.tasks.captions.benchmarks import CASES as captions
    from pipeline.tasks.driving.benchmarks import CASES as driving
    from pipeline.tasks.plates.benchmarks import CASES as plates

    tasks_rows = [case for rows in (plates, driving, captions) for case in rows]
    assert list(CASES.values())[:-2] == tasks_rows


# ---- the report: rows run now replace theirs, the others stay ------------------------------
def _earlier_report(path, machine):
    """A bench.json of an earlier run: the toy row, a full row of another machine, and the
    row of a benchmark that no longer exists."""
    other = {**machine, "cores": 64, "device": "GPU"}
    rows = [
        {"name": "toy", "what": "a toy", "goal": "ratio >= 5", "ours": 9.0, "baseline": 9.0,
         "ratio": 1.0, "met": False, "agree": True, "agreement": "old", "notes": [],
         "figures": [], "details": "", "data": {}, "measured": "2026-01-01 09:00 UTC",
         "quick": True, "machine": machine},
        {"name": "retired", "what": "gone", "goal": "-", "measured": "2025-12-01 09:00 UTC"},
        {"name": "caption-greedy", "what": "greedy captions", "goal": "ratio >= 30",
         "ours": 0.0249, "baseline": 41.99, "ratio": 1689.2, "met": True, "agree": True,
         "agreement": "same token ids", "notes": ["60 images"], "measured":
         "2026-01-02 10:30 UTC", "quick": False, "machine": other,
         "figures": [{"name": "p99", "value": 30.5, "unit": "ms"}],
         "details": "## Greedy details"},
    ]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": other, "quick": False, "results": rows}))
    return rows


def test_running_some_rows_replaces_those_and_keeps_the_others_in_table_order(
    tmp_path, monkeypatch
):
    from datetime import UTC, datetime

    from pipeline import bench
    from pipeline.bench.timing import machine

    case, _ = _toy()
    monkeypatch.setitem(bench.CASES, "toy", case)  # after every real row in the table
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "reports/bench.json"
    earlier = _earlier_report(report, machine())
    done = CliRunner().invoke(app, ["bench", "toy", "--quick", "--out", "reports"])
    assert done.exit_code == 0, done.output

    merged = json.loads(report.read_text())
    rows = {row["name"]: row for row in merged["results"]}
    assert list(rows) == ["caption-greedy", "toy"]  # the table's order; "retired" left out
    assert rows["caption-greedy"] == earlier[2]  # kept as it was
    assert (rows["toy"]["ours"], rows["toy"]["agreement"]) == (1.0, "toy outputs compared")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert rows["toy"]["measured"].startswith(today) and rows["toy"]["quick"] is True
    assert merged["quick"] is False  # one row of the report is a full run
    assert merged["machine"] == machine()

    table = (tmp_path / "reports/bench.md").read_text()
    assert table.startswith("Machine: ") and "quick run" not in table.splitlines()[0]
    assert "| measured |" in table and table.count("\n| ") == 3  # header + two rows
    greedy = next(line for line in table.splitlines() if line.startswith("| caption-greedy |"))
    assert greedy.endswith(
        "| p99 30.50 ms; 60 images | 2026-01-02 10:30 UTC, on 64 cores "
        f"({machine()['processor']}), GPU, TensorFlow {machine()['tensorflow']}, "
        f"Python {machine()['python']} |"
    )
    toy = next(line for line in table.splitlines() if line.startswith("| toy |"))
    assert toy.startswith("| toy | 1.00 s | 20.00 s | 20.0 |") and toy.endswith(" UTC, quick |")
    assert "## Greedy details" in table  # a kept row keeps its section after the table


def test_a_report_that_is_not_a_bench_report_stops_the_run_before_any_row(tmp_path, monkeypatch):
    from pipeline import bench

    case, calls = _toy()
    monkeypatch.setitem(bench.CASES, "toy", case)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/bench.json").write_text('{"machine": {}, "rows": []}')
    done = CliRunner().invoke(app, ["bench", "toy", "--quick", "--out", "reports"])
    assert done.exit_code == 1
    assert "reports/bench.json is not a bench report" in done.output
    assert "pass --out another folder" in done.output
    assert calls["inputs"] == 0 and calls["ours"] == []
