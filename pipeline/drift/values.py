"""Labels and predictions as numeric samples that two-sample tests can compare.

Read by column name, not by task, so a new task's manifest or pyfunc output is profiled as
far as its columns are recognisable: numbers as they are, box lists as boxes per image and
box sizes, captions as their length in words (and the vocabulary in the summary), plate
text as its length, a JSON list of scored boxes as the scores.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

#: numeric manifest columns that are labels
NUMERIC_LABELS = ("steering", "throttle", "speed", "n_boxes")
TOP_WORDS = 30


def _finite(values: Any) -> np.ndarray:
    array = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    return array[np.isfinite(array)]


def _lists(column: pd.Series) -> list[list[Any]]:
    out = []
    for value in column:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        out.append(list(value) if isinstance(value, list | tuple | np.ndarray) else [])
    return out


def label_values(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """`label.<name>` samples of the manifest rows in `frame`."""
    out: dict[str, np.ndarray] = {}
    for name in NUMERIC_LABELS:
        if name in frame.columns:
            out[f"label.{name}"] = _finite(frame[name])
    if "boxes" in frame.columns:
        boxes = [b for row in _lists(frame["boxes"]) for b in row if len(b) == 4]
        if boxes:
            sizes = np.asarray(boxes, dtype=np.float64)
            out["label.box_area"] = sizes[:, 2] * sizes[:, 3]
            out["label.box_aspect"] = sizes[:, 2] / np.maximum(sizes[:, 3], 1e-6)
    if "captions" in frame.columns:
        captions = [str(c) for row in _lists(frame["captions"]) for c in row]
        out["label.caption_words"] = np.asarray([len(c.split()) for c in captions], np.float64)
    if "text" in frame.columns:
        texts = frame["text"].dropna().astype(str)
        out["label.text_length"] = texts.str.len().to_numpy(dtype=np.float64)
    return {name: values for name, values in out.items() if len(values)}


def vocabulary(frame: pd.DataFrame) -> dict[str, Any]:
    """Captions' vocabulary size and most frequent words (empty without captions)."""
    if "captions" not in frame.columns:
        return {}
    words = Counter(
        word.lower() for row in _lists(frame["captions"]) for c in row for word in str(c).split()
    )
    return {"size": len(words), "top": dict(words.most_common(TOP_WORDS))}


def prediction_values(predictions: pd.DataFrame) -> dict[str, np.ndarray]:
    """`prediction.<name>` samples of a pyfunc's output (one row per image)."""
    out: dict[str, np.ndarray] = {}
    for column in predictions.columns:
        series = predictions[column]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            out[f"prediction.{column}"] = _finite(series.astype(float))
            continue
        lists = _lists(series)
        if any(lists):
            scores = [
                float(item["score"])
                for row in lists
                for item in row
                if isinstance(item, dict)
                if "score" in item
            ]
            out[f"prediction.{column}_count"] = np.asarray([len(r) for r in lists], np.float64)
            if scores:
                out[f"prediction.{column}_score"] = np.asarray(scores, np.float64)
            continue
        texts = series.dropna().astype(str)
        if texts.str.contains(" ").any():
            out[f"prediction.{column}_words"] = texts.str.split().str.len().to_numpy(np.float64)
        else:
            out[f"prediction.{column}_length"] = texts.str.len().to_numpy(np.float64)
    return {name: values for name, values in out.items() if len(values)}


def describe(values: np.ndarray) -> dict[str, float]:
    """Count, mean, spread and quantiles of a sample, for the JSON summaries."""
    if not len(values):
        return {"count": 0}
    q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "count": len(values),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
        "p05": float(q[0]),
        "p25": float(q[1]),
        "median": float(q[2]),
        "p75": float(q[3]),
        "p95": float(q[4]),
        "max": float(values.max()),
    }


def histogram(values: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    if not len(values):
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(values, bins=bins)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}
