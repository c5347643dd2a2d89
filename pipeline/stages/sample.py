"""`sample`: a small synthetic dataset in the task's real on-disk format."""

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.io import atomic_dir
from pipeline.tasks import Samples, task_with


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "sample", Samples)
    target = layout.sample_dir(task_name)
    with atomic_dir(target) as tmp:
        task.write_sample(tmp, config.for_task("sample", task_name), config.seed)
    files = sum(1 for path in target.rglob("*") if path.is_file())
    return f"{task_name}: wrote {files} files to {target}"
