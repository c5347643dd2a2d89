"""Corpus BLEU-1..4 on the official test split, greedy and beam, beside the baseline.

BLEU is NLTK's `corpus_bleu` on the cleaned tokens (the tokenizer's cleaning, start/end
and `<unk>` removed) against every reference caption of the image, with Chen & Cherry's
smoothing method 1 so that a missing 4-gram does not zero the score. The baseline gives
every test image the most frequent cleaned train caption (ties: the most typical one).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.layout import TaskPaths
from pipeline.core.plots import new_figure, save_figure
from pipeline.core.splits import fingerprint
from pipeline.tasks.base import Evaluation, PrimaryMetric
from pipeline.tasks.captions.features import load_features
from pipeline.tasks.captions.params import CaptionsEvaluateParams
from pipeline.tasks.captions.text import Tokenizer, clean

BLEU_WEIGHTS = {
    "bleu1": (1.0, 0, 0, 0),
    "bleu2": (0.5, 0.5, 0, 0),
    "bleu3": (1 / 3, 1 / 3, 1 / 3, 0),
    "bleu4": (0.25, 0.25, 0.25, 0.25),
}
PRIMARY = PrimaryMetric("test_bleu4", greater_is_better=True)
METHOD = "nltk corpus_bleu, cleaned tokens, smoothing method1 (Chen & Cherry 2014)"


def bleu(references: list[list[list[str]]], hypotheses: list[list[str]]) -> dict[str, float]:
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

    smoothing = SmoothingFunction().method1
    return {
        name: float(corpus_bleu(references, hypotheses, weights=w, smoothing_function=smoothing))
        for name, w in BLEU_WEIGHTS.items()
    }


def most_frequent_caption(captions: list[str], tokenizer: Tokenizer) -> list[str]:
    """The cleaned train caption seen most often, never an empty one (a caption of rare
    words only cleans to nothing). Ties, e.g. every caption seen once in a few hundred
    photos, go to the caption whose words are the most common (summed train counts): the
    most typical caption, not the first one read."""
    cleaned = [tokenizer.decode(tokenizer.encode(c)) for c in captions]
    words = Counter(w for c in cleaned for w in c)
    counts = Counter(" ".join(c) for c in cleaned if c)
    if not counts:
        return []
    best = max(counts.items(), key=lambda item: (item[1], sum(words[w] for w in item[0].split())))
    return best[0].split()


def split_fingerprint(test: pd.DataFrame) -> str:
    """Identity of the test split: its images and their reference captions."""
    return fingerprint(zip(test["image_id"], (tuple(c) for c in test["captions"]), strict=True))


def plot_grid(
    raw_dir: Path, test: pd.DataFrame, greedy: list[str], beam: list[str], path: Path, count: int
) -> None:
    from contextlib import suppress

    from pipeline.core.images import ImageDecodeError, read_image

    shown = min(count, len(test))
    columns = min(3, shown)
    rows = -(-shown // columns)
    figure = new_figure(4.2 * columns, 4.6 * rows)
    for i, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.axis("off")
        if i >= shown:
            continue
        with suppress(ImageDecodeError):  # the caption is still worth showing
            axes.imshow(read_image(raw_dir / test["image"].iloc[i]))
        reference = test["captions"].iloc[i][0]
        axes.set_title(
            f"greedy: {greedy[i]}\nbeam: {beam[i]}\ntrue: {reference}", fontsize=8, loc="left"
        )
    save_figure(figure, path)


def evaluate(
    model: Any, valid: pd.DataFrame, params: CaptionsEvaluateParams, paths: TaskPaths
) -> Evaluation:
    """BLEU of greedy and beam captions of the test images; their captions and a grid of
    them into `paths.reports_dir`."""
    from pipeline.core.io import write_json
    from pipeline.tasks.captions.decode import Decoder
    from pipeline.tasks.captions.training import TOKENIZER_FILE

    out_dir = paths.reports_dir
    tokenizer = Tokenizer.load(paths.assets_dir / TOKENIZER_FILE)
    manifest, features = load_features(paths.processed_dir)
    is_test = (manifest["split"] == "test").to_numpy()
    test = manifest[is_test].reset_index(drop=True)
    decoder = Decoder(model, tokenizer)
    greedy = decoder.captions(features[is_test], 1, params.batch_size)
    beam = decoder.captions(features[is_test], params.beam_size, params.batch_size)
    references = [[clean(c, tokenizer.text) for c in captions] for captions in test["captions"]]
    train_captions = [
        c for cs in manifest.loc[manifest["split"] == "train", "captions"] for c in cs
    ]
    baseline_caption = most_frequent_caption(train_captions, tokenizer)
    scores = {
        "greedy": bleu(references, [c.split() for c in greedy]),
        f"beam{params.beam_size}": bleu(references, [c.split() for c in beam]),
    }
    baseline = bleu(references, [baseline_caption] * len(test))
    served = scores["greedy"]  # what the logged model does by default
    write_json(
        out_dir / "captions.json",
        [
            {"image": image, "greedy": g, "beam": b, "references": list(refs)}
            for image, g, b, refs in zip(test["image"], greedy, beam, test["captions"], strict=True)
        ],
    )
    plot_grid(paths.raw_dir, test, greedy, beam, out_dir / "test_captions.png", params.grid_images)
    report = {
        **{f"test_{k}": v for k, v in served.items()},
        **{f"{decoding}_{k}": v for decoding, s in scores.items() for k, v in s.items()},
        "baseline": {
            "name": "most frequent caption",
            "caption": " ".join(baseline_caption),
            **baseline,
        },
        "bleu4_ratio_to_baseline": served["bleu4"] / max(baseline["bleu4"], 1e-12),
        "beats_baseline": served["bleu4"] >= 2 * baseline["bleu4"]
        and served["bleu1"] > baseline["bleu1"],
        "bleu_method": METHOD,
        "test_images": len(test),
        "test_split_hash": split_fingerprint(test),
        "mean_length": float(np.mean([len(c.split()) for c in greedy])) if greedy else 0.0,
    }
    return Evaluation.from_json(report, PRIMARY)
