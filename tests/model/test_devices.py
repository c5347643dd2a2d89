"""Training on several devices: the CPU split into two logical devices trains driving's
model through `MirroredStrategy` to the loss one device reaches."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("tensorflow")

# Devices are fixed when TensorFlow starts: the split needs a process of its own. Two epochs
# on one device (TensorFlow's default strategy), then on both, as the train stage runs them:
# the task's `fit` inside the strategy's scope.
TRAIN_ON_ONE_AND_TWO = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from pipeline.core.accelerate import distribution_strategy
    from pipeline.core.layout import TaskPaths
    from pipeline.core.model_params import AcceleratorParams, BackboneParams, FinetuneParams

    strategy, described = distribution_strategy(AcceleratorParams())

    import keras
    import tensorflow as tf

    from pipeline.tasks import TASKS
    from pipeline.tasks.driving.params import DrivingTrainParams

    data, batch = Path(sys.argv[1]), int(sys.argv[2])
    twice = FinetuneParams(head_epochs=2, finetune_epochs=0)
    params = DrivingTrainParams(batch_size=batch, dropout=0.0, fit=twice)
    out = {"described": described}
    for name, scope in (("one", tf.distribute.get_strategy()), ("two", strategy)):
        work = data.parent / name
        keras.utils.set_random_seed(0)
        with scope.scope():
            trained = TASKS["driving"].fit(
                params, BackboneParams(), TaskPaths(data, data, work, work / "ckpt", work), seed=0
            )
        history = trained.history
        out[name] = {
            "replicas": scope.num_replicas_in_sync,
            "loss": history["loss"],
            "val_loss": history["val_loss"],
        }
    print(json.dumps(out))
    """
)

TRAIN_FRAMES, VAL_FRAMES = 16, 4

#: the two runs do the same arithmetic but sum the per-device gradients in another order
RELATIVE_TOLERANCE = 1e-3


@pytest.mark.train
def test_two_logical_devices_train_driving_to_the_loss_of_one(tmp_path, write_image):
    data = tmp_path / "processed"
    rows = []
    for index in range(TRAIN_FRAMES + VAL_FRAMES):
        name = f"frames/{index:03d}.jpg"
        write_image(data / name, width=320, height=160, seed=index)
        split = "train" if index < TRAIN_FRAMES else "val"
        rows.append({"image": name, "steering": (index % 7 - 3) / 3, "split": split})
    pd.DataFrame(rows).to_parquet(data / "manifest.parquet")

    # One batch holds the whole train split: an epoch is one step whatever the devices
    # (and whether a device's batch or the step's is `batch_size`), so the order in which
    # each run's iterator shuffles the frames cannot tell the runs apart. The second epoch's
    # losses are measured after the first update: a wrong gradient would show there.
    repo = Path(__file__).resolve().parents[2]
    env = os.environ | {"PIPELINE_CPU_DEVICES": "2", "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_ON_ONE_AND_TWO, str(data), str(TRAIN_FRAMES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert "2 logical CPU devices (MirroredStrategy)" in result["described"]
    one, two = result["one"], result["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    for name in ("loss", "val_loss"):
        assert len(two[name]) == 2
        assert two[name] == pytest.approx(one[name], rel=RELATIVE_TOLERANCE), name
