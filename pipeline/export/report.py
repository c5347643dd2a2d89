"""The export table of a task: one row per format and quantization, kept in
`reports/<task>/export.json` and drawn as Markdown in `reports/<task>/export.md`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.core.io import write_json


@dataclass(frozen=True)
class Row:
    format: str
    quantize: str
    file: str
    size_bytes: int
    metric: str
    keras: float
    exported: float
    worse_by: float  # in the metric's units, positive = worse than Keras
    allowed: float  # in the metric's units
    median_ms: float
    p99_ms: float
    shipped: bool
    model_sha256: str  # of the Keras model file the export came from

    @property
    def key(self) -> str:
        return f"{self.format}/{self.quantize}"


def read_rows(path: Path) -> list[Row]:
    if not path.is_file():
        return []
    return [Row(**row) for row in json.loads(path.read_text())]


def add_row(path: Path, row: Row) -> list[Row]:
    """The table with `row` in place of any row of the same format and quantization; rows of
    another Keras model are dropped (their figures describe a model that is gone)."""
    rows = [r for r in read_rows(path) if r.key != row.key and r.model_sha256 == row.model_sha256]
    rows = sorted([*rows, row], key=lambda r: (r.format, r.quantize))
    write_json(path, [asdict(r) for r in rows])
    return rows


def markdown(task: str, rows: list[Row]) -> str:
    """The table as Markdown, with how to read it."""
    lines = [
        f"# {task}: exported models",
        "",
        "Each file re-scored on the test split by the task's own metric code, beside the Keras "
        "model on the same inputs; latency per image at batch 1, one CPU thread.",
        "",
        "| format | quantization | size | metric | Keras | export | difference | allowed "
        "| median ms | p99 ms | shipped |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.format} | {r.quantize} | {r.size_bytes / 1024:.0f} KiB | {r.metric} "
            f"| {r.keras:.5f} | {r.exported:.5f} | {r.exported - r.keras:+.5f} "
            f"| {r.allowed:.5f} worse | {r.median_ms:.2f} | {r.p99_ms:.2f} "
            f"| {'yes' if r.shipped else 'NO (beyond tolerance)'} |"
        )
    return "\n".join(lines) + "\n"
