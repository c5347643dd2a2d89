"""Where each stage reads and writes, relative to the repository root (as in dvc.yaml)."""

from pathlib import Path

DATA = Path("data")
REPORTS = Path("reports")


def sample_dir(task: str) -> Path:
    return DATA / "sample" / task


def interim_dir(task: str) -> Path:
    return DATA / "interim" / task


def manifest_path(task: str) -> Path:
    return interim_dir(task) / "manifest.parquet"


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
