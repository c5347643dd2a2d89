"""`ingest`: a raw folder (sample or real) into `data/interim/<task>/manifest.parquet`.

The manifest records the dataset it was read from (`pipeline.stages.inputs`), so that no
later stage works on the manifest of another dataset, e.g. one left by a failed ingest.
"""

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.manifest import split_sizes, write_manifest
from pipeline.stages.inputs import provenance_now, raw_folder
from pipeline.tasks import Ingests, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "ingest", Ingests)
    raw_dir = raw_folder("ingest", task_name, config)
    provenance, local = provenance_now(task_name, config, raw_dir)
    manifest = task.read_raw(raw_dir, config.for_task("ingest", task_name), config.seed)
    write_manifest(manifest, layout.manifest_path(task_name), provenance)
    local.write(layout.ingest_record(task_name))
    issues = int(manifest["issue"].notna().sum())
    return (
        f"{task_name}: {len(manifest)} rows from {raw_dir} -> {layout.manifest_path(task_name)} "
        f"(splits {split_sizes(manifest['split'])}; {issues} rows with an ingest issue, "
        "judged by validate)"
    )
