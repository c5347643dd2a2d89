"""`pretext`: a task's share of the self-supervised backbone's images, drawn and resized once.

One stage per task (dvc.yaml fans it out over the `data` section), so `pretrain` depends on
the images themselves (`data/pretext/`), not on a list of tasks written by hand.
"""

import numpy as np

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_file
from pipeline.core.pretext import draw_train_images, load_images
from pipeline.stages.inputs import checked_manifest, valid_input
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    task = TASKS[task_name]
    valid, _ = checked_manifest(valid_input(task_name), "pretext", task_name, config)
    chosen = draw_train_images(
        valid, task.image_columns[0], task_name, config.seed, config.pretrain.images_per_task
    )
    raw_dir = config.raw_dir(task_name)
    images = load_images([raw_dir / image for image in chosen], config.pretrain.image_size)
    target = layout.pretext_images(task_name)
    with atomic_file(target) as tmp, tmp.open("wb") as handle:
        np.savez(handle, images=images)
    return f"{task_name}: {len(images)} train images for the pretext task -> {target}"
