"""`augment`: the valid train split augmented, val/test copied unchanged, into data/processed."""

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir, write_json
from pipeline.core.manifest import read_manifest, write_manifest
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    task = TASKS[task_name]
    valid = read_manifest(layout.valid_path(task_name))
    raw_dir = getattr(config.data, task_name).raw_dir
    with atomic_dir(layout.processed_dir(task_name)) as out_dir:
        manifest, report = task.augment(
            valid, raw_dir, out_dir, config.for_task("augment", task_name), config.seed
        )
        write_manifest(manifest, out_dir / "manifest.parquet")
    with atomic_dir(layout.augment_reports(task_name)) as reports:
        write_json(reports / "summary.json", report)
        task.write_augment_reports(report, reports, layout.processed_dir(task_name))
    splits = manifest["split"].value_counts().to_dict()
    return f"{task_name}: {len(manifest)} images in {layout.processed_dir(task_name)} {splits}"
