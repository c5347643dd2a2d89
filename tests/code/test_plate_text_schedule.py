"""The reader's learning rate: full at the start (CTC's blank phase needs it), falling along
a cosine to `decay_to` of itself by the last epoch, the same whatever epoch a run resumes at."""

from itertools import pairwise

import pytest

from pipeline.tasks.plates_text.params import PlateTextTrainParams
from pipeline.tasks.plates_text.training import cosine_schedule


def test_the_rate_starts_full_falls_steadily_and_ends_at_its_floor():
    rate = cosine_schedule(0.004, decay_to=0.05, epochs=16)
    rates = [rate(epoch) for epoch in range(16)]
    assert rates[0] == pytest.approx(0.004)
    assert rates[-1] == pytest.approx(0.0002)
    assert rates[8] == pytest.approx(0.002, rel=0.1)  # about half way down at mid-run
    assert all(a > b for a, b in pairwise(rates))


def test_keras_calling_convention_and_a_constant_rate():
    rate = cosine_schedule(0.002, decay_to=1.0, epochs=10)
    assert [rate(epoch, 0.123) for epoch in (0, 5, 9)] == pytest.approx([0.002] * 3)
    assert cosine_schedule(0.01, decay_to=0.1, epochs=1)(0) == pytest.approx(0.01)


def test_a_decay_floor_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="decay_to"):
        PlateTextTrainParams(decay_to=1.5)
    with pytest.raises(ValueError, match="decay_to"):
        PlateTextTrainParams(decay_to=0)
