"""`features`: image embeddings of every valid image, cached in `data/processed/<task>/`.

A separate stage so that DVC reruns it only when the images or the feature extractor
change, never for a change of the model trained on top.
"""

from dataclasses import replace

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir
from pipeline.core.manifest import read_manifest
from pipeline.tasks import ExtractsFeatures, task_with


def run(task_name: str, config: Config) -> str:
    from pipeline.core.backbones import weights_used

    task = task_with(task_name, "features", ExtractsFeatures)
    paths = layout.task_paths(
        task_name, config.raw_dir(task_name), layout.features_reports(task_name)
    )
    with (
        atomic_dir(paths.processed_dir) as out_dir,
        atomic_dir(paths.reports_dir) as reports_dir,
    ):
        summary = task.features(
            read_manifest(layout.valid_path(task_name)),
            config.for_task("features", task_name),
            config.backbone,
            replace(paths, processed_dir=out_dir, reports_dir=reports_dir),
        )
    return (
        f"{task_name}: {summary.images} images -> {summary.dimensions}-d features "
        f"in {paths.processed_dir} (backbone weights: {weights_used()})"
    )
