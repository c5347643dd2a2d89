"""Long stages say how fast they go and when they will end: images/s and time left."""

import io
import re

import numpy as np
import pytest

from pipeline.core.progress import duration, rate_line, track


def test_rate_line_gives_images_per_second_and_time_left():
    assert rate_line("driving: augmenting", 300, 900, 2.0, "images") == (
        "driving: augmenting 300/900 images (150.0 images/s, 4 s left)"
    )
    assert rate_line("x", 0, 900, 0.0, "images") == "x 0/900 images"  # no rate yet
    assert duration(185) == "3 min 05 s" and duration(3720) == "1 h 02 min"


def test_off_a_terminal_track_prints_plain_lines_and_counts_batches_as_images():
    out = io.StringIO()  # not a terminal: no bar, plain lines
    items = list(track(range(5), "captions: image features", per_step=32, every=0.0, stream=out))
    assert items == list(range(5))  # every item passes through, in order
    lines = out.getvalue().splitlines()
    assert len(lines) == 6  # one per item (every=0) and the final one
    assert re.fullmatch(
        r"captions: image features 160/160 images \([\d,.]+ images/s, 0 s left\)", lines[-1]
    ), lines[-1]


def test_a_training_prints_images_per_second_and_time_left_each_epoch():
    keras = pytest.importorskip("keras")
    from pipeline.core.progress import epoch_progress

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    out = io.StringIO()
    x, y = np.ones((40, 3), np.float32), np.ones(40, np.float32)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[epoch_progress("driving", 40, 5, out)])
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "driving: epoch 1/5", "driving: epoch 2/5", "driving: epoch 3/5"
    ]  # fmt: skip
    for line in lines:
        assert re.search(r"40 images in \d+ s \([\d,]+ images/s\), at most .+ left$", line), line
