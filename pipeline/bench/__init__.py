"""`pipeline bench`: our way and the textbook's way, measured side by side on this machine.

`pipeline bench NAME...` refreshes only the rows it runs: they replace the same-named rows of
the report already in the folder and the others stay, in the table's order, each with when
(and, if quick or on another machine, how) it was measured. Rows of benchmarks that no
longer exist are left out.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.bench.case import Case, Figure, Result, Setup, run_case
from pipeline.bench.timing import machine
from pipeline.core.errors import PipelineError
from pipeline.core.io import atomic_file, write_json

Row = dict[str, Any]  # one result as bench.json holds it, with `measured`, `quick`, `machine`


def __getattr__(name: str) -> dict[str, Case[Any]]:
    """`CASES`, the table by name, loaded on first use: the tasks' benchmark modules import
    this package's scaffold, so this package imports them only once it is itself loaded."""
    if name == "CASES":
        from pipeline.bench.cases import CASES

        return CASES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run(names: list[str], quick: bool, out_dir: Path, seed: int = 42) -> list[Result]:
    """Run the benchmarks `names` (all when empty) and merge them into the folder's report."""
    from pipeline.bench.cases import CASES

    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise PipelineError(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(CASES)}")
    earlier = earlier_rows(out_dir / "bench.json")  # a bad report stops us before, not after
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for name in names or list(CASES):
            setup = Setup(quick, Path(scratch) / name, seed, out_dir)
            results.append(run_case(CASES[name], setup))
    about = machine()
    measured = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    fresh = [{**asdict(r), "measured": measured, "quick": quick, "machine": about} for r in results]
    rows = merge(earlier, fresh)
    every_quick = all(row.get("quick") is True for row in rows)
    write_json(out_dir / "bench.json", {"machine": about, "quick": every_quick, "results": rows})
    with atomic_file(out_dir / "bench.md") as tmp:
        tmp.write_text(markdown(rows, about, every_quick))
    return results


def earlier_rows(report: Path) -> list[Row]:
    """The rows of an earlier bench.json (none when there is none), or a one-line error."""
    if not report.is_file():
        return []
    try:
        rows = json.loads(report.read_text())["results"]
        if not all(isinstance(row, dict) and isinstance(row["name"], str) for row in rows):
            raise TypeError("a row without a name")
    except (ValueError, KeyError, TypeError) as err:
        raise PipelineError(
            f"{report} is not a bench report ({type(err).__name__}: {err}): move it away, "
            "or pass --out another folder"
        ) from None
    return list(rows)


def merge(earlier: list[Row], fresh: list[Row]) -> list[Row]:
    """Fresh rows replace earlier rows of the same name; in the table's order."""
    from pipeline.bench.cases import CASES

    by_name = {row["name"]: row for row in earlier} | {row["name"]: row for row in fresh}
    return [by_name[name] for name in CASES if name in by_name]


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _machine(about: dict[str, Any]) -> str:
    return (
        f"{about['cores']} cores ({about['processor']}), {about['device']}, "
        f"TensorFlow {about['tensorflow']}, Python {about['python']}"
    )


def _measured(row: Row, about: dict[str, Any], every_quick: bool) -> str:
    """When a row was measured, and how when it differs from the report's first line."""
    text = row.get("measured") or "-"
    if row.get("quick") and not every_quick:
        text += ", quick"
    if row.get("machine") not in (None, about):
        text += f", on {_machine(row['machine'])}"
    return text


def markdown(rows: list[Row], about: dict[str, Any], quick: bool) -> str:
    lines = [
        f"Machine: {_machine(about)}" + (" — quick run (tiny inputs)" if quick else ""),
        "",
        "| benchmark | ours | baseline | ratio | goal | met | outputs agree | notes | measured |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.1f}"
        met = {True: "yes", False: "**no**", None: "-"}[r.get("met")]
        agree = {True: "yes", False: "**no**", None: "-"}[r.get("agree")]
        figures = [str(Figure(**figure)) for figure in r.get("figures", [])]
        notes = [*figures, *r.get("notes", [])]
        lines.append(
            f"| {r['name']} | {_seconds(r.get('ours'))} | {_seconds(r.get('baseline'))} "
            f"| {ratio} | {r.get('goal', '-')} | {met} | {agree}: {r.get('agreement', '')} "
            f"| {'; '.join(notes)} | {_measured(r, about, quick)} |"
        )
    details = [r["details"] for r in rows if r.get("details")]
    return "\n".join([*lines, *("\n" + d for d in details)]) + "\n"
