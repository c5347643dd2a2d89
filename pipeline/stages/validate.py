"""`validate`: every row and file of the manifest checked; valid and rejected rows written."""

import shutil

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.errors import ValidationFailed
from pipeline.core.io import write_json
from pipeline.core.manifest import write_manifest
from pipeline.core.validation import validate_manifest
from pipeline.stages.inputs import checked_manifest, manifest_input
from pipeline.tasks import Validates, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "validate", Validates)
    made = manifest_input(task_name)
    manifest, provenance = checked_manifest(made, "validate", task_name, config)
    docs = layout.validation_docs(task_name)
    shutil.rmtree(docs, ignore_errors=True)  # data docs accumulate runs otherwise
    result = validate_manifest(
        manifest,
        task,
        config.for_task("validate", task_name),
        raw_dir=config.raw_dir(task_name),
        docs_dir=docs,
        max_rejected_fraction=config.validate_.max_rejected_fraction,
        workers=config.validate_.workers,
    )
    report = result.report | {"data_docs": str(docs / "index.html")}
    write_manifest(result.valid, layout.valid_path(task_name), provenance)
    write_manifest(result.rejected, layout.rejected_path(task_name), provenance)
    write_json(layout.validation_report(task_name), report)
    if result.problems:
        raise ValidationFailed(
            f"{task_name}: validation failed: {' | '.join(result.problems)} "
            f"(details: {layout.validation_report(task_name)}, {layout.rejected_path(task_name)})"
        )
    return (
        f"{task_name}: {report['rows_in']} rows = {report['valid']} valid + "
        f"{report['rejected']} rejected; {report['expectations_evaluated']} expectations; "
        f"report {layout.validation_report(task_name)}"
    )
