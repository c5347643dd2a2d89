"""`augment`: the valid train split augmented, val/test copied unchanged, into data/processed."""

from dataclasses import replace

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir, write_json
from pipeline.core.manifest import split_sizes, write_manifest
from pipeline.stages.inputs import checked_manifest, valid_input, write_provenance
from pipeline.tasks import Augments, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "augment", Augments)
    valid, provenance = checked_manifest(valid_input(task_name), "augment", task_name, config)
    paths = layout.task_paths(
        task_name, config.raw_dir(task_name), layout.augment_reports(task_name)
    )
    with atomic_dir(paths.processed_dir) as out_dir:
        manifest, report = task.augment(
            valid,
            config.for_task("augment", task_name),
            replace(paths, processed_dir=out_dir),
            config.seed,
        )
        write_manifest(manifest, out_dir / "manifest.parquet", provenance)
        write_provenance(out_dir, provenance)
    with atomic_dir(paths.reports_dir) as reports:
        write_json(reports / "summary.json", report)
        task.write_augment_reports(report, replace(paths, reports_dir=reports))
    return (
        f"{task_name}: {len(manifest)} images in {paths.processed_dir} "
        f"{split_sizes(manifest['split'])}"
    )
