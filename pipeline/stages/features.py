"""`features`: image embeddings of every valid image, cached in `data/processed/<task>/`.

A separate stage so that DVC reruns it only when the images or the feature extractor
change, never for a change of the model trained on top.
"""

from dataclasses import replace

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir
from pipeline.stages.inputs import checked_manifest, valid_input, write_provenance
from pipeline.tasks import ExtractsFeatures, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "features", ExtractsFeatures)
    valid, provenance = checked_manifest(valid_input(task_name), "features", task_name, config)

    from pipeline.core.backbones import weights_used

    paths = layout.task_paths(
        task_name, config.raw_dir(task_name), layout.features_reports(task_name)
    )
    with (
        atomic_dir(paths.processed_dir) as out_dir,
        atomic_dir(paths.reports_dir) as reports_dir,
    ):
        summary = task.features(
            valid,
            config.for_task("features", task_name),
            config.backbone,
            replace(paths, processed_dir=out_dir, reports_dir=reports_dir),
        )
        write_provenance(out_dir, provenance)
    return (
        f"{task_name}: {summary.images} images -> {summary.dimensions}-d features "
        f"in {paths.processed_dir} (backbone weights: {weights_used()})"
        + (f"\n{task_name}: {summary.note}" if summary.note else "")
    )
