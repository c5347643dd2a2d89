"""The textbook's merge model, trained on every prefix of a caption at once.

Image branch: dropout + dense; text branch: embedding + dropout + LSTM; the two are added,
then a dense layer and a softmax over the vocabulary give the next word. The book feeds
one (image, prefix) -> next-word pair per row; here the LSTM returns its state after every
word, and the same head reads each state, so one caption trains all of its prefixes in one
pass. The loss and the weights are those of the book's model, at a fraction of the cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.tasks.captions.params import CaptionsTrainParams

if TYPE_CHECKING:
    import keras


def build_model(
    vocabulary_size: int,
    steps: int,
    feature_dim: int,
    params: CaptionsTrainParams,
    word_vectors: np.ndarray | None = None,
    train_features: np.ndarray | None = None,
) -> keras.Model:
    """(features, words[:, :steps]) -> next-word probabilities (batch, steps, vocabulary).

    Features are standardised with the train images' statistics first, so that a few
    colour-layout columns weigh as much as thousands of backbone columns.
    """
    import keras
    from keras import layers

    features = keras.Input((feature_dim,), name="features")
    words = keras.Input((steps,), dtype="int32", name="words")
    normalise = layers.Normalization(name="feature_scaling")
    if train_features is not None:
        normalise.adapt(train_features)
    image = layers.Dropout(params.dropout, name="image_dropout")(normalise(features))
    image = layers.Dense(params.units, activation="relu", name="image_dense")(image)
    image = layers.RepeatVector(steps, name="image_per_step")(image)
    dim = params.embedding_dim if word_vectors is None else word_vectors.shape[1]
    embedding = layers.Embedding(
        vocabulary_size, dim, mask_zero=True, trainable=word_vectors is None, name="embedding"
    )
    text = layers.Dropout(params.dropout, name="text_dropout")(embedding(words))
    text = layers.LSTM(params.units, return_sequences=True, name="lstm")(text)
    merged = layers.Add(name="merge")([image, text])
    merged = layers.Dense(params.units, activation="relu", name="merge_dense")(merged)
    probabilities = layers.Dense(
        vocabulary_size, activation="softmax", dtype="float32", name="next_word"
    )(merged)
    model = keras.Model([features, words], probabilities, name="caption_merge")
    if word_vectors is not None:
        embedding.set_weights([word_vectors])
    return model
