"""What do image features know? A linear probe per caption word.

For each frequent word, a ridge regression on the train images' features predicts whether
any caption of the image uses the word; its accuracy on the val images is set beside the
majority answer. A feature set whose accuracy stays at the majority line cannot tell the
captioner that word, however long it trains. With fewer than MIN_PROBE_VAL val images (a
partial copy of a dataset) the held-out answers are those of a k-fold cross-validation
over the train images instead: the test images are never used to choose features.
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
MIN_PROBE_VAL = 30  # fewer val images: accuracy steps of > 3 points, noise; cross-validate
FOLDS = 5
# a word is "told apart" when a random image using it outscores one not using it this often
# (0.5: chance); on ~150 images one standard error of the AUC is ~0.05
TOLD_APART_AUC = 0.65


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
    ranked = sorted(images_using.items(), key=lambda item: (-item[1], item[0]))  # ties: a-z
    content = [w for w, n in ranked if 0.05 <= n / images <= 0.6]
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


def _scores(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Ridge regression fitted on the `train` rows, its scores of the `test` rows."""
    fit = x[train]  # only the rows used: at most MAX_PROBE_TRAIN + MAX_PROBE_VAL of them
    mean, scale = fit.mean(0), fit.std(0) + 1e-6
    a = (fit - mean) / scale
    offset = y[train].mean()  # the intercept, left out of the penalty
    # dual form: an (images x images) system, however many features there are
    gram = a @ a.T + RIDGE * a.shape[1] * np.eye(len(a))
    weights = a.T @ np.linalg.solve(gram, y[train] - offset)
    return np.asarray((x[test] - mean) / scale @ weights + offset)


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve: the chance that an image using the word scores above one
    that does not (ties count half); 0.5 = the features rank at random."""
    positive, negative = scores[y > 0.5], scores[y <= 0.5]
    if not len(positive) or not len(negative):
        return 0.5
    above = (positive[:, None] > negative[None, :]).mean()
    tied = (positive[:, None] == negative[None, :]).mean()
    return float(above + tied / 2)


def probe(
    manifest: pd.DataFrame, feature_sets: dict[str, np.ndarray], words: list[str]
) -> dict[str, Any]:
    """Held-out accuracy (and AUC) per word for each feature set, the majority baseline, and
    a summary per set."""
    folds, held_out = _folds(manifest["split"].to_numpy())
    if not folds:
        return {"words": [], "note": held_out}
    result: dict[str, Any] = {
        "words": words,
        "held_out": held_out,
        "majority": [],
        **{k: [] for k in feature_sets},
        "auc": {k: [] for k in feature_sets},
    }
    for word in words:
        y = np.array(
            [any(word in c.lower().split() for c in captions) for captions in manifest["captions"]],
            float,
        )
        truth = np.concatenate([y[test] for _, test in folds])
        result["majority"].append(float(max(truth.mean(), 1 - truth.mean())))
        for name, x in feature_sets.items():
            scores = [_scores(x, y, train, test) for train, test in folds]
            right = ((np.concatenate(scores) > 0.5) == (truth > 0.5)).mean()
            result[name].append(float(right))
            # AUC within each fold: folds differ in their offset (the fold's mean), which
            # pooled would rank images by fold, below chance for features that know nothing
            result["auc"][name].append(
                float(
                    np.mean([auc(s, y[test]) for s, (_, test) in zip(scores, folds, strict=True)])
                )
            )
    result["summary"] = summarize(result, list(feature_sets))
    return result


def _folds(split: np.ndarray) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """(fit rows, scored rows) pairs and how they were drawn."""
    train = _spread(split == "train", MAX_PROBE_TRAIN)
    val = _spread(split == "val", MAX_PROBE_VAL)
    if int(val.sum()) >= MIN_PROBE_VAL and train.any():
        return [(train, val)], f"val ({int(val.sum())} images)"
    rows = np.flatnonzero(train)
    if len(rows) < 2 * FOLDS:
        return [], f"needs {MIN_PROBE_VAL} val images or {2 * FOLDS} train images"
    folds = []
    for fold in range(FOLDS):  # every FOLDS-th train image: deterministic, evenly spread
        scored = np.zeros_like(train)
        scored[rows[fold::FOLDS]] = True
        folds.append((train & ~scored, scored))
    return folds, (
        f"{FOLDS}-fold cross-validation over {len(rows)} train images "
        f"(val has {int((split == 'val').sum())} < {MIN_PROBE_VAL})"
    )


def summarize(result: dict[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    """Per feature set: mean accuracy above the majority answer, mean AUC, and the words it
    tells apart (held-out AUC at least TOLD_APART_AUC)."""
    majority = np.asarray(result["majority"])
    summary = {}
    for name in names:
        gain = np.asarray(result[name]) - majority
        aucs = result["auc"][name]
        summary[name] = {
            "mean_accuracy_gain": round(float(gain.mean()), 4),
            "mean_auc": round(float(np.mean(aucs)), 4),
            "words_told_apart": [
                w for w, a in zip(result["words"], aucs, strict=True) if a >= TOLD_APART_AUC
            ],
        }
    return summary


def plot_probe(result: dict[str, Any], path: Path) -> None:
    words = result["words"]
    if not words:
        return
    names = list(result.get("auc", {}))
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
        ylabel="held-out accuracy",
        title=f"Linear probe: is the word in a caption? (the captioner gets: {gets})\n"
        f"held out: {result.get('held_out', 'val')}",
    )
    axes.legend(loc="lower right", fontsize=8)
    save_figure(figure, path)
