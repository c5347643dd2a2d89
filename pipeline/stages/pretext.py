"""`pretext`: a task's share of the self-supervised backbone's images, drawn and resized once.

One stage per task (dvc.yaml fans it out over the `data` section), so `pretrain` depends on
the images themselves (`data/pretext/`), not on a list of tasks written by hand.
"""

import zlib

import numpy as np

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_file
from pipeline.core.manifest import read_manifest
from pipeline.core.pretext import load_images
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    task = TASKS[task_name]
    valid = read_manifest(layout.valid_path(task_name))
    train = valid.loc[valid["split"] == "train", task.image_columns[0]].dropna().tolist()
    # a stream of its own per task: adding a task changes no other task's draw
    rng = np.random.default_rng([config.seed, zlib.crc32(task_name.encode())])
    count = min(config.pretrain.images_per_task, len(train))
    chosen = sorted(rng.choice(len(train), size=count, replace=False))
    raw_dir = config.raw_dir(task_name)
    images = load_images([raw_dir / train[i] for i in chosen], config.pretrain.image_size)
    target = layout.pretext_images(task_name)
    with atomic_file(target) as tmp, tmp.open("wb") as handle:
        np.savez(handle, images=images)
    return f"{task_name}: {len(images)} train images for the pretext task -> {target}"
