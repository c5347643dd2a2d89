"""`ingest`: a raw folder (sample or real) into `data/interim/<task>/manifest.parquet`."""

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.errors import DatasetError
from pipeline.core.manifest import write_manifest
from pipeline.tasks import Ingests, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "ingest", Ingests)
    raw_dir = config.raw_dir(task_name)
    if not raw_dir.is_dir():
        raise DatasetError(
            f"data.{task_name}.raw_dir: {raw_dir} is not a folder "
            f"(run `pipeline sample {task_name}` or point it at a real dataset)"
        )
    manifest = task.read_raw(raw_dir, config.for_task("ingest", task_name), config.seed)
    write_manifest(manifest, layout.manifest_path(task_name))
    splits = manifest["split"].value_counts(dropna=False).to_dict()
    issues = int(manifest["issue"].notna().sum())
    return (
        f"{task_name}: {len(manifest)} rows from {raw_dir} -> {layout.manifest_path(task_name)} "
        f"(splits {splits}; {issues} rows with an ingest issue, judged by validate)"
    )
