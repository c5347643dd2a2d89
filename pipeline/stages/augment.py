"""`augment`: the valid train split augmented, val/test copied unchanged, into data/processed."""

from dataclasses import replace

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir, write_json
from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks import Augments, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "augment", Augments)
    valid = read_manifest(layout.valid_path(task_name))
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
        write_manifest(manifest, out_dir / "manifest.parquet")
    with atomic_dir(paths.reports_dir) as reports:
        write_json(reports / "summary.json", report)
        task.write_augment_reports(report, replace(paths, reports_dir=reports))
    splits = manifest["split"].value_counts().to_dict()
    return f"{task_name}: {len(manifest)} images in {paths.processed_dir} {splits}"
