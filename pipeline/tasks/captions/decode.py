"""Greedy and beam-search decoding, batched over images and compiled with `tf.function`.

The trained merge model is taken apart into its layers and run one word at a time with
the LSTM cell, carrying its state: each step costs one cell update for the whole batch,
instead of one `predict` of the whole prefix per word per image as in the textbook.
Decoding stops when every caption has produced `endseq`, and after `max_steps` at most.
A caption never says `<unk>` (its word would be dropped: on a small vocabulary a model
trained on many rare words says little else), `<pad>` or `startseq`, and never ends before
its first word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.tasks.captions.text import END, PAD, START, UNK, Tokenizer

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

NEG = -1e9  # log-probability of an impossible continuation (finite: no inf - inf)


class Decoder:
    def __init__(self, model: keras.Model, tokenizer: Tokenizer) -> None:
        import tensorflow as tf

        self.tokenizer = tokenizer
        self.max_steps = int(model.get_layer("image_per_step").n)
        branch = ("feature_scaling", "image_dropout", "image_dense")
        self._image = [model.get_layer(n) for n in branch]
        self._embedding = model.get_layer("embedding")
        self._cell = model.get_layer("lstm").cell
        self._head = [model.get_layer(n) for n in ("merge_dense", "next_word")]
        self._units = int(self._cell.units)
        self._start, self._end, self._pad = (tokenizer.id(w) for w in (START, END, PAD))
        never = np.zeros(tokenizer.vocabulary_size, np.float32)
        never[[tokenizer.id(w) for w in (PAD, UNK, START)]] = NEG
        first = never.copy()
        first[self._end] = NEG
        self._never, self._first = tf.constant(never), tf.constant(first)
        spec = tf.TensorSpec([None, model.inputs[0].shape[-1]], tf.float32)
        self._greedy = tf.function(self._greedy_graph, input_signature=[spec])
        self._beams: dict[int, tf.types.experimental.PolymorphicFunction] = {}
        self._spec = spec

    # ---- public API: features (n, d) -> token ids or words -------------------------------
    def greedy(self, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
        return self._batched(self._greedy, features, batch_size)

    def beam(self, features: np.ndarray, beam_size: int, batch_size: int = 256) -> np.ndarray:
        import tensorflow as tf

        if beam_size not in self._beams:
            self._beams[beam_size] = tf.function(
                lambda f: self._beam_graph(f, beam_size), input_signature=[self._spec]
            )
        return self._batched(self._beams[beam_size], features, batch_size)

    def captions(
        self, features: np.ndarray, beam_size: int = 1, batch_size: int = 256
    ) -> list[str]:
        if beam_size == 1:
            ids = self.greedy(features, batch_size)
        else:
            ids = self.beam(features, beam_size, batch_size)
        return [" ".join(self.tokenizer.decode(row)) for row in ids]

    def _batched(self, function, features: np.ndarray, batch_size: int) -> np.ndarray:
        out = np.full((len(features), self.max_steps), self._pad, np.int32)
        for start in range(0, len(features), batch_size):
            ids = function(np.asarray(features[start : start + batch_size], np.float32)).numpy()
            out[start : start + len(ids), : ids.shape[1]] = ids
        return out

    # ---- graphs --------------------------------------------------------------------------
    def _image_vector(self, features: tf.Tensor) -> tf.Tensor:
        x = features
        for layer in self._image:
            x = layer(x, training=False)
        return x

    def _step(self, image: tf.Tensor, words: tf.Tensor, state: list, t: tf.Tensor) -> tuple:
        """Log-probabilities of the next word (number `t`) for each row, words it may not
        say set to NEG, and the new LSTM state."""
        import tensorflow as tf

        vectors = tf.gather(self._embedding.embeddings, words)  # no mask: one word per row
        output, state = self._cell(vectors, state, training=False)
        x = image + output
        for layer in self._head:
            x = layer(x)
        allowed = tf.where(tf.equal(t, 0), self._first, self._never)
        return tf.math.log(tf.cast(x, tf.float32) + 1e-12) + allowed, state

    def _greedy_graph(self, features: tf.Tensor) -> tf.Tensor:
        import tensorflow as tf

        batch = tf.shape(features)[0]
        image = self._image_vector(features)
        state = [tf.zeros([batch, self._units]), tf.zeros([batch, self._units])]
        words = tf.fill([batch], self._start)
        done = tf.zeros([batch], tf.bool)
        chosen = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        for t in tf.range(self.max_steps):
            log_p, state = self._step(image, words, state, t)
            words = tf.where(done, self._pad, tf.argmax(log_p, axis=-1, output_type=tf.int32))
            chosen = chosen.write(t, words)
            done = done | tf.equal(words, self._end)
            if tf.reduce_all(done):
                break
        return tf.transpose(chosen.stack())

    def _beam_graph(self, features: tf.Tensor, k: int) -> tf.Tensor:
        import tensorflow as tf

        batch = tf.shape(features)[0]
        rows = batch * k
        image = tf.repeat(self._image_vector(features), k, axis=0)
        state = [tf.zeros([rows, self._units]), tf.zeros([rows, self._units])]
        words = tf.fill([rows], self._start)
        vocabulary = self.tokenizer.vocabulary_size
        # only the first beam of each image is alive at the start
        scores = tf.tile(tf.constant([[0.0] + [NEG] * (k - 1)]), [batch, 1])
        done = tf.zeros([batch, k], tf.bool)
        pad_only = tf.one_hot(self._pad, vocabulary, on_value=0.0, off_value=NEG)
        chosen = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        parents = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
        offsets = tf.range(batch)[:, None] * k
        for t in tf.range(self.max_steps):
            log_p, state = self._step(image, words, state, t)
            log_p = tf.reshape(log_p, [batch, k, vocabulary])
            log_p = tf.where(done[..., None], pad_only, log_p)  # finished beams stay put
            total = tf.reshape(scores[..., None] + log_p, [batch, k * vocabulary])
            scores, index = tf.math.top_k(total, k)
            parent, word = index // vocabulary, index % vocabulary
            flat_parent = tf.reshape(parent + offsets, [-1])
            state = [tf.gather(s, flat_parent) for s in state]
            done = tf.gather(done, parent, batch_dims=1) | tf.equal(word, self._end)
            done = done | tf.equal(word, self._pad)
            chosen = chosen.write(t, word)
            parents = parents.write(t, parent)
            words = tf.reshape(word, [-1])
            if tf.reduce_all(done):
                break
        # follow the best beam of each image back from its last word
        all_words, all_parents = chosen.stack(), parents.stack()  # (steps, batch, k)
        steps = tf.shape(all_words)[0]
        beam = tf.argmax(scores, axis=1, output_type=tf.int32)
        path = tf.TensorArray(tf.int32, size=steps)
        for t in tf.range(steps - 1, -1, -1):
            path = path.write(t, tf.gather(all_words[t], beam, batch_dims=1))
            beam = tf.gather(all_parents[t], beam, batch_dims=1)
        return tf.transpose(path.stack())
