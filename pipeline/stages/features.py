"""`features`: image embeddings of every valid image, cached in `data/processed/<task>/`.

A separate stage so that DVC reruns it only when the images or the feature extractor
change, never for a change of the model trained on top.
"""

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir
from pipeline.core.manifest import read_manifest
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    from pipeline.core.backbones import weights_used

    task = TASKS[task_name]
    with (
        atomic_dir(layout.processed_dir(task_name)) as out_dir,
        atomic_dir(layout.features_reports(task_name)) as reports_dir,
    ):
        summary = task.features(
            read_manifest(layout.valid_path(task_name)),
            getattr(config.data, task_name).raw_dir,
            config.for_task("features", task_name),
            config.backbone,
            out_dir,
            reports_dir,
        )
    return (
        f"{task_name}: {summary['images']} images -> {summary['dimensions']}-d features "
        f"in {layout.processed_dir(task_name)} (backbone weights: {weights_used()})"
    )
