"""`pretext`: a task's share of the self-supervised backbone's images, drawn and resized once.

One stage per task (dvc.yaml fans it out over the `data` section), so `pretrain` depends on
the images themselves (`data/pretext/`), not on a list of tasks written by hand.

It draws from the ingest manifest's train rows (rows with an ingest issue left out; an image
that does not decode skipped and counted), not from validation's output: the backbone learns
rotations, not labels, so a task whose labels fail validation still lends its train images,
and one task's failing dataset does not hold another task's run hostage (`dvc repro
evaluate@driving` needs every task's ingest, never another task's validation).
"""

import numpy as np

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_file
from pipeline.core.pretext import draw_train_images, load_images
from pipeline.stages.inputs import checked_manifest, manifest_input
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    task = TASKS[task_name]
    manifest, _ = checked_manifest(manifest_input(task_name), "pretext", task_name, config)
    # validation's leakage check, kept here: no group that also has a val or test row
    held_out = manifest.loc[manifest["split"].isin(["val", "test"]), task.group_column]
    usable = manifest["issue"].isna() & ~manifest[task.group_column].isin(set(held_out))
    chosen = draw_train_images(
        manifest[usable],
        task.image_columns[0],
        task_name,
        config.seed,
        config.pretrain.images_per_task,
    )
    raw_dir = config.raw_dir(task_name)
    images, skipped = load_images([raw_dir / image for image in chosen], config.pretrain.image_size)
    target = layout.pretext_images(task_name)
    with atomic_file(target) as tmp, tmp.open("wb") as handle:
        np.savez(handle, images=images)
    unreadable = f" ({len(skipped)} that do not decode skipped)" if skipped else ""
    return f"{task_name}: {len(images)} train images for the pretext task{unreadable} -> {target}"
