"""Where each stage reads and writes, relative to the repository root (as in dvc.yaml)."""

from dataclasses import dataclass
from pathlib import Path

DATA = Path("data")
REPORTS = Path("reports")


def sample_dir(task: str) -> Path:
    return DATA / "sample" / task


def interim_dir(task: str) -> Path:
    return DATA / "interim" / task


def manifest_path(task: str) -> Path:
    return interim_dir(task) / "manifest.parquet"


def ingest_record(task: str) -> Path:
    """What ingest saw of the raw folder in this workspace (mtimes, the folder resolved):
    not a DVC output, since no other machine or checkout sees the same."""
    return interim_dir(task) / "ingest.local.json"


def valid_path(task: str) -> Path:
    return interim_dir(task) / "valid.parquet"


def rejected_path(task: str) -> Path:
    return interim_dir(task) / "rejected.parquet"


def validation_report(task: str) -> Path:
    return REPORTS / "validation" / f"{task}.json"


def validation_docs(task: str) -> Path:
    return REPORTS / "validation" / "docs" / task


def processed_dir(task: str) -> Path:
    return DATA / "processed" / task


def augment_reports(task: str) -> Path:
    return REPORTS / task / "augment"


def features_reports(task: str) -> Path:
    return REPORTS / task / "features"


def pretext_images(task: str) -> Path:
    """The task's images for the self-supervised backbone (`pretrain`)."""
    return DATA / "pretext" / f"{task}.npz"


BACKBONE_DIR = Path("models") / "backbone"


def model_dir(task: str) -> Path:
    return Path("models") / task


def model_path(task: str) -> Path:
    return model_dir(task) / "model.keras"


def assets_dir(task: str) -> Path:
    """What serving needs besides the weights (a tokenizer, a model card)."""
    return model_dir(task) / "assets"


def run_file(task: str) -> Path:
    """The MLflow run of the last training, kept with the model so DVC restores lineage too."""
    return model_dir(task) / "mlflow_run.json"


def checkpoints_dir(task: str) -> Path:
    """Backups that let an interrupted `train` resume; not a DVC output, so they survive."""
    return model_dir(task) / "checkpoints"


def task_reports(task: str) -> Path:
    return REPORTS / task


@dataclass(frozen=True)
class TaskPaths:
    """The folders a task's stage reads and writes (dvc.yaml declares the same ones)."""

    raw_dir: Path  # the raw dataset: the sample or a real one (`data.<task>.raw_dir`)
    processed_dir: Path  # augmented images or cached features, with their manifest
    assets_dir: Path  # what serving needs besides the weights (tokenizer, model card)
    checkpoints_dir: Path  # backups an interrupted `train` resumes from
    reports_dir: Path  # plots and figures of the stage running


def task_paths(task: str, raw_dir: Path, reports_dir: Path) -> TaskPaths:
    return TaskPaths(
        raw_dir=raw_dir,
        processed_dir=processed_dir(task),
        assets_dir=assets_dir(task),
        checkpoints_dir=checkpoints_dir(task),
        reports_dir=reports_dir,
    )
