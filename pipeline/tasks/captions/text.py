"""Caption text: the textbook's cleaning, `startseq ... endseq`, and a JSON tokenizer.

Ids: 0 pads, 1 is `<unk>`, then `startseq`, `endseq` and the vocabulary by falling count
(ties alphabetical), so the same captions always give the same ids.

With the default TextParams, the 30,000 captions of Flickr_8k.trainImages.txt give the
book's vocabulary: the book's 1651 words include `startseq` and `endseq`; we add `<pad>` and
`<unk>`, so `vocabulary_size` is 1653. The longest caption is 34 tokens with start and end.
"""

from __future__ import annotations

import json
import string
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.tasks.captions.params import TextParams

PAD, UNK, START, END = "<pad>", "<unk>", "startseq", "endseq"
_TO_SPACE = str.maketrans(string.punctuation, " " * len(string.punctuation))
_DELETE = str.maketrans("", "", string.punctuation)
#: TextParams keys of tokenizers saved before `punctuation`/`keep_words`: old key -> new key,
#: {old value: new value}; old saved tokenizers (e.g. a registered champion's) still load.
_LEGACY_TEXT_KEYS = {
    "strip_punctuation": ("punctuation", {True: "space", False: "keep"}),
    "drop_tokens_with_digits": ("keep_words", {True: "no_digits", False: "all"}),
}


def clean(caption: str, params: TextParams) -> list[str]:
    """Tokens of one caption, by default as the textbook (Keras Flickr8k tutorial) cleans it.

    Lower case, punctuation deleted (`don't` -> `dont`), words with a non-letter and
    one-letter words dropped.
    """
    if params.lowercase:
        caption = caption.lower()
    if params.punctuation == "delete":
        caption = caption.translate(_DELETE)
    elif params.punctuation == "space":
        caption = caption.translate(_TO_SPACE)
    tokens = caption.split()
    if params.keep_words == "alpha":
        tokens = [t for t in tokens if t.isalpha()]
    elif params.keep_words == "no_digits":
        tokens = [t for t in tokens if not any(c.isdigit() for c in t)]
    return [t for t in tokens if len(t) >= params.min_token_length and t not in (START, END)]


def text_params_from_json(data: dict[str, Any]) -> TextParams:
    """TextParams of a saved tokenizer, legacy keys mapped to the options that behave the same."""
    data = dict(data)
    for old, (new, values) in _LEGACY_TEXT_KEYS.items():
        if old in data:
            data.setdefault(new, values[bool(data.pop(old))])
    return TextParams(**data)


@dataclass(frozen=True)
class Tokenizer:
    """Words <-> ids, with the cleaning and length that produced it."""

    words: tuple[str, ...]  # index = id
    text: TextParams
    max_length: int  # tokens of a sequence, start and end included

    @classmethod
    def fit(cls, captions: Iterable[str], text: TextParams) -> Tokenizer:
        """Vocabulary of the words seen at least `text.min_word_count` times."""
        cleaned = [clean(c, text) for c in captions]
        counts = Counter(token for tokens in cleaned for token in tokens)
        kept = sorted(
            (w for w, n in counts.items() if n >= text.min_word_count),
            key=lambda w: (-counts[w], w),
        )
        tokenizer = cls((PAD, UNK, START, END, *kept), text, max_length=3)
        longest = max((len(tokenizer.tokens(c)) for c in cleaned), default=0) + 2
        return cls(tokenizer.words, text, text.max_length or max(longest, 3))

    @property
    def vocabulary_size(self) -> int:
        return len(self.words)

    def id(self, word: str) -> int:
        return self._index.get(word, 1)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def tokens(self, cleaned: list[str]) -> list[str]:
        """Cleaned tokens with out-of-vocabulary words made `<unk>` or dropped."""
        known = self._index
        if self.text.oov == "drop":
            return [t for t in cleaned if t in known]
        return [t if t in known else UNK for t in cleaned]

    def encode(self, caption: str) -> list[int]:
        """`startseq` + ids + `endseq`, cut to `max_length` (the end token always kept)."""
        ids = [self.id(t) for t in self.tokens(clean(caption, self.text))]
        ids = ids[: self.max_length - 2]
        return [self.id(START), *ids, self.id(END)]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words up to the end token, without start, padding or `<unk>`."""
        words = []
        for i in ids:
            word = self.words[int(i)]
            if word == END:
                break
            if word not in (PAD, START, UNK):
                words.append(word)
        return words

    def pad(self, captions: Iterable[str]) -> np.ndarray:
        """(n, max_length) int32 sequences, zero-padded at the end."""
        encoded = [self.encode(c) for c in captions]
        out = np.zeros((len(encoded), self.max_length), np.int32)
        for row, ids in zip(out, encoded, strict=True):
            row[: len(ids)] = ids
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "words": list(self.words),
            "max_length": self.max_length,
            "text": self.text.model_dump(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tokenizer:
        text = text_params_from_json(data["text"])
        return cls(tuple(data["words"]), text, int(data["max_length"]))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def load(cls, path: Path) -> Tokenizer:
        return cls.from_json(json.loads(path.read_text()))
