"""What do image features know? A linear probe per caption word.

For each frequent word, a ridge regression on the train images' features predicts whether
any caption of the image uses the word; its accuracy on the val images is set beside the
majority answer. A feature set whose accuracy stays at the majority line cannot tell the
captioner that word, however long it trains.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.plots import new_figure, save_figure

RIDGE = 0.1  # times the feature count; the probe ranks feature sets, it is not tuned
# train images the probe fits on, at most: its (images x images) system grows with their
# square (Flickr8k's 6,000 train images: ~1 GB and minutes); an even spread of 2,000 ranks
# feature sets as well and keeps the features stage's memory flat as the data grows
MAX_PROBE_TRAIN = 2000
MAX_PROBE_VAL = 1000


def probe_words(manifest: pd.DataFrame, count: int = 16) -> list[str]:
    """Content words: used for 5-60% of the train images (not "the", not typos), most first."""
    train = manifest.loc[manifest["split"] == "train", "captions"]
    images_using = Counter(
        word
        for captions in train
        for word in {w for c in captions for w in c.lower().replace(".", " ").split()}
        if len(word) >= 3
    )
    images = max(len(train), 1)
    content = [w for w, n in images_using.most_common() if 0.05 <= n / images <= 0.6]
    return content[:count]


def probe_rows(manifest: pd.DataFrame) -> np.ndarray:
    """Rows the probe uses (a spread of at most MAX_PROBE_TRAIN train, MAX_PROBE_VAL val)."""
    split = manifest["split"].to_numpy()
    return _spread(split == "train", MAX_PROBE_TRAIN) | _spread(split == "val", MAX_PROBE_VAL)


def _spread(mask: np.ndarray, most: int) -> np.ndarray:
    """`mask` with at most `most` of its rows kept, evenly spaced (deterministic)."""
    rows = np.flatnonzero(mask)
    if len(rows) <= most:
        return mask
    kept = np.zeros_like(mask)
    kept[rows[np.linspace(0, len(rows) - 1, most).round().astype(int)]] = True
    return kept


def _accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    fit = x[train]  # only the rows used: at most MAX_PROBE_TRAIN + MAX_PROBE_VAL of them
    mean, scale = fit.mean(0), fit.std(0) + 1e-6
    a = (fit - mean) / scale
    offset = y[train].mean()  # the intercept, left out of the penalty
    # dual form: an (images x images) system, however many features there are
    gram = a @ a.T + RIDGE * a.shape[1] * np.eye(len(a))
    weights = a.T @ np.linalg.solve(gram, y[train] - offset)
    scored = (x[test] - mean) / scale @ weights + offset
    return float(((scored > 0.5) == (y[test] > 0.5)).mean())


def probe(
    manifest: pd.DataFrame, feature_sets: dict[str, np.ndarray], words: list[str]
) -> dict[str, Any]:
    """Val accuracy per word for each feature set, and the majority baseline."""
    train = _spread((manifest["split"] == "train").to_numpy(), MAX_PROBE_TRAIN)
    test = _spread((manifest["split"] == "val").to_numpy(), MAX_PROBE_VAL)
    if not train.any() or not test.any():
        return {"words": [], "note": "needs train and val images"}
    result: dict[str, Any] = {"words": words, "majority": [], **{k: [] for k in feature_sets}}
    for word in words:
        y = np.array(
            [any(word in c.lower().split() for c in captions) for captions in manifest["captions"]],
            float,
        )
        result["majority"].append(float(max(y[test].mean(), 1 - y[test].mean())))
        for name, x in feature_sets.items():
            result[name].append(_accuracy(x, y, train, test))
    return result


def plot_probe(result: dict[str, Any], path: Path) -> None:
    words = result["words"]
    if not words:
        return
    names = [k for k in result if k not in ("words", "majority", "captioner_gets")]
    figure = new_figure(max(8, 0.6 * len(words)), 4)
    axes = figure.subplots()
    width = 0.8 / len(names)
    positions = np.arange(len(words))
    for i, name in enumerate(names):
        axes.bar(positions + i * width, result[name], width, label=name)
    axes.scatter(
        positions + 0.4 - width / 2,
        result["majority"],
        color="black",
        marker="_",
        s=200,
        label="majority answer",
        zorder=3,
    )
    axes.set_xticks(positions + 0.4 - width / 2, words, rotation=45, ha="right")
    gets = ", ".join(result.get("captioner_gets", []))
    axes.set(
        ylim=(0.4, 1.0),
        ylabel="val accuracy",
        title=f"Linear probe: is the word in a caption? (the captioner gets: {gets})",
    )
    axes.legend(loc="lower right", fontsize=8)
    save_figure(figure, path)
