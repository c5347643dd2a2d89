"""dvc.yaml's top-level `plots`, written from the tasks' declarations (`Task.plots`).

DVC 3's top-level plots take neither `foreach` nor globs, so the list is generated: each task
declares its entries relative to `reports/<task>/`, and `pipeline deps --write` rewrites the
block after the `plots:` line of dvc.yaml (the comments above it stay). A task with no
declared plots adds nothing; `pipeline deps --check` fails while the block is stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

DVC_FILE = Path("dvc.yaml")
MARKER = "plots:\n"


def loss_history(title: str, loss: str, epochs: str = "epoch (from 0)") -> dict[str, Any]:
    """The entry of a task's `history.json` (train's per-epoch loss and val_loss)."""
    return curve("history.json", "epoch", ["loss", "val_loss"], title, epochs, loss)


def curve(
    file: str, x: str, y: str | list[str], title: str, x_label: str, y_label: str, **more: str
) -> dict[str, Any]:
    """A JSON plot of `file` (under reports/<task>/): columns `x` and `y`, its labels, and
    any other DVC plot property (`template=...`)."""
    props = {"x": x, "y": y, **more, "title": title, "x_label": x_label, "y_label": y_label}
    return {file: props}


def entries(declared: Mapping[str, tuple[Any, ...]]) -> list[Any]:
    """Every task's declared entries with their paths under `reports/<task>/`."""
    found: list[Any] = []
    for task, plots in declared.items():
        for entry in plots:
            if isinstance(entry, str):
                found.append(f"reports/{task}/{entry}")
            else:
                found.extend({f"reports/{task}/{path}": props} for path, props in entry.items())
    return found


def rewritten(dvc_text: str, declared: Mapping[str, tuple[Any, ...]]) -> str:
    """dvc.yaml's text with its final `plots:` block made from `declared`."""
    head, marker, _ = dvc_text.rpartition("\n" + MARKER)
    if not marker:
        head = dvc_text.rstrip("\n")
    block = yaml.safe_dump(entries(declared), sort_keys=False, allow_unicode=True, width=100)
    indented = "".join(f"  {line}" if line.strip() else line for line in block.splitlines(True))
    return f"{head}\n{MARKER}{indented}"


def stale(root: Path, declared: Mapping[str, tuple[Any, ...]]) -> list[str]:
    text = (root / DVC_FILE).read_text()
    return [] if rewritten(text, declared) == text else [f"{DVC_FILE}: `plots` is stale"]


def write(root: Path, declared: Mapping[str, tuple[Any, ...]]) -> None:
    path = root / DVC_FILE
    path.write_text(rewritten(path.read_text(), declared))
