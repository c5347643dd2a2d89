"""Caption cleaning, the tokenizer and its JSON round trip, GloVe parsing."""

import json

import numpy as np
import pytest

from pipeline.core.errors import PipelineError
from pipeline.tasks.captions.glove import glove_path, read_glove
from pipeline.tasks.captions.params import TextParams
from pipeline.tasks.captions.text import END, PAD, START, UNK, Tokenizer, clean

BOOK = TextParams(min_word_count=1)


def test_cleaning_follows_the_textbook():
    # punctuation deleted inside words, then non-alphabetic and one-letter words dropped
    assert clean("A dog, 2 cats don't 3rd-place... RUN!", BOOK) == ["dog", "cats", "dont", "run"]


def test_the_older_cleaning_stays_reachable():
    spaced = TextParams(min_word_count=1, punctuation="space", keep_words="no_digits")
    assert clean("A dog, 2 cats don't 3rd-place... RUN!", spaced) == [
        "dog",
        "cats",
        "don",
        "place",
        "run",
    ]


def test_cleaning_steps_can_be_turned_off():
    kept = TextParams(lowercase=False, punctuation="keep", keep_words="all", min_token_length=1)
    assert clean("A dog, 2 cats", kept) == ["A", "dog,", "2", "cats"]


def test_rare_words_become_unk_or_are_dropped():
    captions = ["red ball here", "red ball there", "red cube"]
    unk = Tokenizer.fit(captions, TextParams(min_word_count=2))
    assert set(unk.words) == {PAD, UNK, START, END, "red", "ball"}
    assert unk.decode(unk.encode("red cube")) == ["red"]  # <unk> is never printed
    assert unk.encode("red cube")[2] == unk.id(UNK)
    dropped = Tokenizer.fit(captions, TextParams(min_word_count=2, oov="drop"))
    assert dropped.encode("red cube") == [dropped.id(START), dropped.id("red"), dropped.id(END)]


def test_sequences_are_wrapped_padded_and_cut_keeping_the_end_token():
    tokenizer = Tokenizer.fit(["one two three four"] * 3, TextParams(min_word_count=1))
    assert tokenizer.max_length == 6  # the longest caption plus start and end
    padded = tokenizer.pad(["one two", "one two three four five six"])
    assert padded.shape == (2, 6) and padded.dtype == np.int32
    assert list(padded[0]) == [tokenizer.id(w) for w in (START, "one", "two", END)] + [0, 0]
    assert padded[1][-1] == tokenizer.id(END)
    short = Tokenizer.fit(["one two three four"], TextParams(min_word_count=1, max_length=4))
    assert short.encode("one two three four")[-1] == short.id(END) and short.max_length == 4


def test_ids_are_deterministic_most_frequent_first():
    tokenizer = Tokenizer.fit(["bb aa", "bb cc", "aa bb"], BOOK)
    assert tokenizer.words[4:] == ("bb", "aa", "cc")


def test_tokenizer_json_round_trip(tmp_path):
    tokenizer = Tokenizer.fit(
        ["the red ball", "a blue ball"], TextParams(min_word_count=1, oov="drop")
    )
    tokenizer.save(tmp_path / "tokenizer.json")
    json.loads((tmp_path / "tokenizer.json").read_text())  # plain JSON, no pickle
    again = Tokenizer.load(tmp_path / "tokenizer.json")
    assert again == tokenizer
    assert again.encode("The red ball!") == tokenizer.encode("The red ball!")


def test_a_tokenizer_saved_before_the_punctuation_option_loads_and_cleans_as_it_did(tmp_path):
    saved = {
        "words": [PAD, UNK, START, END, "don", "place"],
        "max_length": 5,
        "text": {
            "lowercase": True,
            "strip_punctuation": True,
            "drop_tokens_with_digits": True,
            "min_token_length": 2,
            "min_word_count": 1,
            "oov": "unk",
            "max_length": None,
        },
    }
    (tmp_path / "tokenizer.json").write_text(json.dumps(saved))
    old = Tokenizer.load(tmp_path / "tokenizer.json")
    assert (old.text.punctuation, old.text.keep_words) == ("space", "no_digits")
    assert old.decode(old.encode("Don't 3rd-place")) == ["don", "place"]
    off = Tokenizer.from_json(
        {
            **saved,
            "text": {**saved["text"], "strip_punctuation": False, "drop_tokens_with_digits": False},
        }
    )
    assert (off.text.punctuation, off.text.keep_words) == ("keep", "all")


def test_glove_text_file_is_parsed_for_the_vocabulary(tmp_path):
    path = tmp_path / "glove.6B.3d.txt"
    path.write_text("red 0.1 0.2 0.3\nunused 9 9 9\nball -1 0 1.5\n")
    words = (PAD, UNK, START, END, "red", "ball", "cube")
    vectors = read_glove(path, words, special=4)
    assert vectors.matrix.shape == (7, 3) and vectors.matrix.dtype == np.float32
    np.testing.assert_allclose(vectors.matrix[4], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(vectors.matrix[5], [-1, 0, 1.5])
    assert not vectors.matrix[6].any() and not vectors.matrix[:4].any()
    assert vectors.found == 2 and vectors.coverage == pytest.approx(2 / 3)


def test_a_ragged_glove_line_names_its_line(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("red 0.1 0.2 0.3\nball 1 2\n")
    with pytest.raises(PipelineError, match=r"glove\.txt:2: 2 numbers where 3"):
        read_glove(path, (PAD, UNK, START, END, "red", "ball"), special=4)


def test_embeddings_setting_is_checked(tmp_path):
    assert glove_path("learned") is None
    with pytest.raises(PipelineError, match="neither 'learned' nor"):
        glove_path("word2vec")
    with pytest.raises(PipelineError, match=r"not found.*embeddings: learned"):
        glove_path(f"glove:{tmp_path / 'missing.txt'}")
    (tmp_path / "g.txt").write_text("a 1\n")
    assert glove_path(f"glove:{tmp_path / 'g.txt'}") == tmp_path / "g.txt"
