"""A trained steering model turns the way the road bends: a mirrored frame flips the angle.

The driving model is trained with the pipeline's own `fit` (PilotNet, in-model
preprocessing) for a few epochs on frames the sample generator renders: a road bending
left or right by a known curvature, the car centred in its lane, so the angle's sign is
what the frame shows. On frames of new scenery it never saw, the model must steer each
bend's way and the mirror image of the frame the other way.
"""

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from pipeline.core.model_params import BackboneParams, FinetuneParams  # noqa: E402
from pipeline.tasks.driving import sample  # noqa: E402
from pipeline.tasks.driving.params import DrivingTrainParams  # noqa: E402
from pipeline.tasks.driving.training import fit  # noqa: E402
from tests.conftest import paths_in  # noqa: E402

pytestmark = pytest.mark.train

EPOCHS = 6
SHARP = 0.3  # test bends: |angle| >= this (a third to all of the sharpest bend, 0.6)
#: the least |angle| a prediction must show. The test angles are 0.3-0.6 and a model that
#: ignores the road predicts the train mean (~0) for every frame; 0.1 is a third of the
#: smallest test angle, well clear of that and of the run-to-run noise of a short training.
DECIDED = 0.1


def _frames(n: int, seed: int, curvatures: np.ndarray | None = None):
    """(RGB frames, angles): centred car, no heading error, one bend per frame."""
    rng = np.random.default_rng(seed)
    if curvatures is None:
        curvatures = rng.uniform(-1, 1, n) * sample.MAX_CURVATURE
    frames, angles = [], []
    for curvature in curvatures:
        state = np.array([curvature, 0.0, 0.0])
        noise = rng.normal(0, 6, (sample.HEIGHT, sample.WIDTH, 1)).astype(np.float32)
        scenery = sample._scenery(rng)
        frames.append(sample.render(state, 0.0, scenery, rng.uniform(0, 2), noise))
        angles.append(sample.steering_angle(curvature, 0.0, 0.0))
    return np.stack(frames), np.array(angles, dtype=np.float32)


def _processed(folder: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> Path:
    """A processed folder as `augment` writes it: images plus manifest.parquet."""
    rows = []
    for split, (frames, angles) in splits.items():
        for i, (frame, angle) in enumerate(zip(frames, angles, strict=True)):
            name = f"IMG/{split}_{i:03d}.png"
            (folder / "IMG").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            rows.append({"image": name, "steering": float(angle), "split": split})
    pd.DataFrame(rows).to_parquet(folder / "manifest.parquet")
    return folder


def _trained(tmp_path: Path, labels=None, epochs: int = EPOCHS) -> keras.Model:
    keras.utils.set_random_seed(0)
    train = _frames(160, seed=1)
    if labels is not None:
        train = (train[0], labels(train[1]))
    processed = _processed(tmp_path / "processed", {"train": train, "val": _frames(32, seed=2)})
    params = DrivingTrainParams(
        batch_size=16,
        dropout=0.1,
        fit=FinetuneParams(head_epochs=epochs, finetune_epochs=0, patience=EPOCHS),
    )
    paths = paths_in(tmp_path, processed_dir=processed, checkpoints_dir=tmp_path / "work")
    return fit(params, BackboneParams(weights="none"), paths, seed=0).model


def _bends() -> tuple[np.ndarray, np.ndarray]:
    """Frames of unseen scenery, bending left and right by |angle| 0.3 to 0.6."""
    rng = np.random.default_rng(3)
    magnitude = rng.uniform(SHARP / 0.6, 1.0, 12) * sample.MAX_CURVATURE
    return _frames(12, seed=3, curvatures=magnitude * np.tile([1, -1], 6))


def _steers_with_the_bend(model: keras.Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frames, angles = _bends()
    mirrored = frames[:, :, ::-1]
    predicted = model.predict(frames.astype("float32"), verbose=0)[:, 0]
    flipped = model.predict(mirrored.astype("float32"), verbose=0)[:, 0]
    return angles, predicted, flipped


def test_a_mirrored_frame_steers_the_other_way(tmp_path):
    angles, predicted, flipped = _steers_with_the_bend(_trained(tmp_path))
    assert (np.sign(predicted) == np.sign(angles)).all(), (angles, predicted)
    assert (np.sign(flipped) == -np.sign(angles)).all(), (angles, flipped)
    assert (np.abs(predicted) >= DECIDED).all() and (np.abs(flipped) >= DECIDED).all()
