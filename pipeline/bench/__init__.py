"""`pipeline bench`: our way and the textbook's way, measured side by side on this machine."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.bench.case import Result, Setup, run_case
from pipeline.bench.cases import CASES
from pipeline.bench.timing import machine
from pipeline.core.errors import PipelineError
from pipeline.core.io import atomic_file, write_json


def run(names: list[str], quick: bool, out_dir: Path, seed: int = 42) -> list[Result]:
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise PipelineError(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(CASES)}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for name in names or list(CASES):
            setup = Setup(quick, Path(scratch) / name, seed, out_dir)
            results.append(run_case(CASES[name], setup))
    about = machine()
    write_json(
        out_dir / "bench.json",
        {"machine": about, "quick": quick, "results": [asdict(r) for r in results]},
    )
    with atomic_file(out_dir / "bench.md") as tmp:
        tmp.write_text(markdown(results, about, quick))
    return results


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def markdown(results: list[Result], about: dict[str, Any], quick: bool) -> str:
    lines = [
        f"Machine: {about['cores']} cores ({about['processor']}), {about['device']}, "
        f"TensorFlow {about['tensorflow']}, Python {about['python']}"
        + (" — quick run (tiny inputs)" if quick else ""),
        "",
        "| benchmark | ours | baseline | ratio | goal | met | outputs agree | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = "-" if r.ratio is None else f"{r.ratio:.1f}"
        met = {True: "yes", False: "**no**", None: "-"}[r.met]
        agree = {True: "yes", False: "**no**", None: "-"}[r.agree]
        notes = [*map(str, r.figures), *r.notes]
        lines.append(
            f"| {r.name} | {_seconds(r.ours)} | {_seconds(r.baseline)} | {ratio} | {r.goal} "
            f"| {met} | {agree}: {r.agreement} | {'; '.join(notes)} |"
        )
    details = [r.details for r in results if r.details]
    return "\n".join([*lines, *("\n" + d for d in details)]) + "\n"
