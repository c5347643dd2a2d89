"""Reading plate crops with a trained reader, batched: shared by evaluation and serving."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.tasks.plates_text.crops import to_line
from pipeline.tasks.plates_text.model import greedy_decode


def read_lines(
    model: Any, lines: np.ndarray, charset: str, batch_size: int = 64
) -> tuple[list[str], np.ndarray]:
    """Texts and scores of one-line inputs `(n, height, width, 3)` uint8, in batches."""
    texts: list[str] = []
    scores: list[np.ndarray] = []
    for start in range(0, len(lines), batch_size):
        logits = np.asarray(model(lines[start : start + batch_size], training=False))
        batch_texts, batch_scores = greedy_decode(logits, charset)
        texts += batch_texts
        scores.append(batch_scores)
    return texts, np.concatenate(scores) if scores else np.zeros(0)


def read_crops(
    model: Any, crops: Sequence[np.ndarray], charset: str, batch_size: int = 64
) -> tuple[list[str], np.ndarray]:
    """Texts and scores of RGB plate crops of any size (made one-line as in training)."""
    height, width = (int(v) for v in model.inputs[0].shape[1:3])
    if not crops:
        return [], np.zeros(0)
    lines = np.stack([to_line(crop, height, width) for crop in crops])
    return read_lines(model, lines, charset, batch_size)
