"""Score the reader on the untouched test crops beside the most-frequent-plate baseline.

Character error rate (CER) = edit distance / characters of the true texts; exact-plate
accuracy = share of plates read without a single error. Both on canonical text.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.core.images import ImageDecodeError, read_image
from pipeline.core.layout import TaskPaths
from pipeline.core.splits import fingerprint
from pipeline.tasks.base import Evaluation, PrimaryMetric
from pipeline.tasks.plates.formats.text import CHARSET
from pipeline.tasks.plates_text.augment import MANIFEST
from pipeline.tasks.plates_text.params import PlateTextEvaluateParams
from pipeline.tasks.plates_text.reading import read_lines

GAP = "∅"  # a position one text has and the other lacks
PRIMARY = PrimaryMetric("test_exact", greater_is_better=True)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions cost 1)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def scores(predicted: list[str], truth: list[str]) -> dict[str, float]:
    """`exact` and `cer` of `predicted` against `truth` (same length, truth non-empty)."""
    errors = sum(edit_distance(p, t) for p, t in zip(predicted, truth, strict=True))
    return {
        "exact": float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)])),
        "cer": errors / max(sum(len(t) for t in truth), 1),
    }


def _load_lines(processed_dir: Path, names: list[str]) -> np.ndarray:
    lines = []
    for name in names:
        try:
            lines.append(read_image(processed_dir / name))
        except ImageDecodeError as err:
            raise DatasetError(
                f"plates_text: cannot read crop {name} ({err}); rerun `pipeline augment`"
            ) from None
    return np.stack(lines)


def position_confusions(
    predicted: list[str], truth: list[str], positions: int
) -> list[Counter[tuple[str, str]]]:
    """Per character position of the true text: counts of (true, read) pairs."""
    found: list[Counter[tuple[str, str]]] = [Counter() for _ in range(positions)]
    for p, t in zip(predicted, truth, strict=True):
        for i in range(min(positions, max(len(p), len(t)))):
            found[i][(t[i] if i < len(t) else GAP, p[i] if i < len(p) else GAP)] += 1
    return found


def plot_confusions(confusions: list[Counter[tuple[str, str]]], path: Path, title: str) -> None:
    """One panel per position: the share read right, and the commonest misreadings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    used = [c for c in confusions if c]
    columns = 5
    rows = max(1, -(-len(used) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for position, (axis, counts) in enumerate(zip(axes.flat, used, strict=False)):
        labels = sorted({t for t, _ in counts} | {p for _, p in counts})
        index = {c: i for i, c in enumerate(labels)}
        matrix = np.zeros((len(labels), len(labels)))
        for (t, p), n in counts.items():
            matrix[index[t], index[p]] += n
        axis.axis("on")
        axis.imshow(matrix, cmap="Blues")
        axis.set_xticks(range(len(labels)), labels, fontsize=6)
        axis.set_yticks(range(len(labels)), labels, fontsize=6)
        right = sum(n for (t, p), n in counts.items() if t == p) / sum(counts.values())
        axis.set_title(f"position {position + 1}: {right:.0%} right", fontsize=8)
        axis.set_xlabel("read", fontsize=7)
        axis.set_ylabel("true", fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def _plot_examples(
    lines: np.ndarray, predicted: list[str], truth: list[str], path: Path, count: int
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = min(count, len(lines))
    if count == 0:
        return
    columns = 4
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 1.2 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, line, p, t in zip(axes.flat, lines, predicted, truth, strict=False):
        axis.imshow(line)
        axis.set_title(
            f"{p}" + ("" if p == t else f" (true {t})"),
            fontsize=7,
            color="green" if p == t else "red",
        )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def evaluate(
    model: Any, valid: pd.DataFrame, params: PlateTextEvaluateParams, paths: TaskPaths
) -> Evaluation:
    """test_exact, test_cer, baseline, beats_baseline, test_split_hash; plots into
    `paths.reports_dir`."""
    processed_dir, reports_dir = paths.processed_dir, paths.reports_dir
    crops = pd.read_parquet(processed_dir / MANIFEST)
    test = crops[(crops["split"] == "test") & (crops["kind"] == "crop")]
    if test.empty:
        raise DatasetError(
            "plates_text: no test plates; label more plates with text or raise "
            "ingest.plates_text.test_fraction"
        )
    truth = test["target"].tolist()
    lines = _load_lines(processed_dir, test["image"].tolist())
    predicted, confidence = read_lines(model, lines, CHARSET, params.batch_size)
    model_scores = scores(predicted, truth)

    train_texts = valid.loc[valid["split"] == "train", "target"].dropna().tolist()
    common = Counter(train_texts).most_common(1)[0][0] if train_texts else ""
    baseline = scores([common] * len(truth), truth)

    reports_dir.mkdir(parents=True, exist_ok=True)
    confusions = position_confusions(predicted, truth, params.max_positions)
    plot_confusions(
        confusions,
        reports_dir / "position_confusions.png",
        f"plates_text test: {len(truth)} plates",
    )
    _plot_examples(lines, predicted, truth, reports_dir / "test_readings.png", params.examples)
    misread = [
        {"stem": s, "true": t, "read": p}
        for s, t, p in zip(test["stem"], truth, predicted, strict=True)
        if p != t
    ]
    report = {
        "test_exact": model_scores["exact"],
        "test_cer": model_scores["cer"],
        "test_plates": len(truth),
        "test_mean_score": float(np.mean(confidence)),
        "baseline": {"name": f"most frequent train plate ({common or 'none'})", **baseline},
        "beats_baseline": bool(
            model_scores["exact"] > baseline["exact"] and model_scores["cer"] < baseline["cer"]
        ),
        "misread": misread[:50],
        "test_split_hash": fingerprint(zip(test["stem"], truth, strict=True)),
    }
    return Evaluation.from_json(report, PRIMARY)
