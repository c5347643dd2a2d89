"""A small CRNN: convolutions read columns of the one-line crop, a bidirectional GRU reads
them left to right, CTC aligns its per-column outputs with the text.

Class 0 is CTC's blank; class i (1..K) is `charset[i - 1]`. Trained from scratch: a plate
crop is 32 px tall, far from what ImageNet backbones see, and the model is ~0.2 M weights.
Only built-in layers, so it loads in safe mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.tasks.plates_text.params import PlateTextTrainParams

if TYPE_CHECKING:
    import keras

BLANK = 0
WIDTH_STRIDE = 4  # input columns per output step


def build_model(params: PlateTextTrainParams, height: int, width: int, classes: int) -> keras.Model:
    """uint8 `(height, width, 3)` in, `(width / 4, classes + 1)` logits out."""
    import keras

    layers = keras.layers
    inputs = keras.Input((height, width, 3), name="image")
    x = layers.Rescaling(1 / 255)(inputs)
    pools = [(2, 2), (2, 2), (2, 1)]
    for filters, pool in zip(params.conv_filters, pools, strict=True):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool)(x)
    rows, steps = height // 8, width // WIDTH_STRIDE
    x = layers.Permute((2, 1, 3))(x)  # (steps, rows, filters): one time step per column
    x = layers.Reshape((steps, rows * params.conv_filters[-1]))(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    x = layers.Bidirectional(layers.GRU(params.rnn_units, return_sequences=True))(x)
    outputs = layers.Dense(classes + 1, name="logits")(x)
    return keras.Model(inputs, outputs, name="plate_reader")


def ctc_loss(y_true: object, y_pred: object) -> object:
    """CTC of integer labels padded with 0 (the blank) against per-step logits."""
    import keras

    ops = keras.ops
    labels = ops.cast(y_true, "int32")
    label_length = ops.sum(ops.cast(ops.not_equal(labels, BLANK), "int32"), axis=1)
    batch, steps = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
    output_length = ops.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(labels, y_pred, label_length, output_length, mask_index=BLANK)


def encode(texts: list[str], charset: str, length: int) -> np.ndarray:
    """Texts as label rows padded with the blank; KeyError on a character outside charset."""
    index = {c: i + 1 for i, c in enumerate(charset)}
    labels = np.zeros((len(texts), length), np.int32)
    for row, text in enumerate(texts):
        codes = [index[c] for c in text][:length]
        labels[row, : len(codes)] = codes
    return labels


def greedy_decode(logits: np.ndarray, charset: str) -> tuple[list[str], np.ndarray]:
    """Best path of a batch of logits `(n, steps, K + 1)`: texts and scores.

    The score is the best path's probability per step, geometric mean (0-1; a confident
    reading is near 1).
    """
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    best = log_probs.argmax(axis=-1)
    scores = np.exp(log_probs.max(axis=-1).mean(axis=-1))
    texts = []
    for path in best:
        keep = np.ones(len(path), bool)
        keep[1:] = path[1:] != path[:-1]
        texts.append("".join(charset[i - 1] for i in path[keep] if i != BLANK))
    return texts, scores
