"""Shared fixtures: tiny images written in the test, never the sample stage's output."""

import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.core.layout import TaskPaths


@pytest.fixture
def write_image():
    """Write a small random colour JPEG (or PNG) at `path` and return the path.

    Without a seed the pixels are drawn from the file's name and folder, so two files are
    two photos (the plates ingest groups identical images as copies of one)."""

    def write(path: Path, width: int = 96, height: int = 64, seed: int | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        if seed is None:
            seed = zlib.crc32("/".join(path.parts[-2:]).encode())
        pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
        assert cv2.imwrite(str(path), pixels)
        return path

    return write


def paths_in(folder: Path, **folders: Path) -> TaskPaths:
    """A task's folders: every one `folder`, but those named (e.g. `processed_dir=out`)."""
    return replace(TaskPaths(folder, folder, folder, folder, folder), **folders)


def realdata_dir(name: str) -> Path:
    """A folder of the real-data corpus: `$REALDATA_DIR/<name>`, by default the repository's
    sibling `../shared/realdata/<name>` (where CI has it). Never copied into the repository."""
    import os

    default = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
    return Path(os.environ.get("REALDATA_DIR") or default) / name


def ingest_and_validate(task_name: str, root: Path, docs_dir: Path, seed: int = 0):
    """(manifest, ValidationResult) of `root` with the task's default params, as the
    ingest and validate stages would produce them."""
    from pipeline.config import ValidateShared
    from pipeline.core.validation import validate_manifest
    from pipeline.tasks import TASKS

    task = TASKS[task_name]
    manifest = task.read_raw(root, task.params["ingest"](), seed)
    shared = ValidateShared()
    result = validate_manifest(
        manifest,
        task,
        task.params["validate"](),
        raw_dir=root,
        docs_dir=docs_dir,
        max_rejected_fraction=shared.max_rejected_fraction,
        workers=shared.workers,
    )
    return manifest, result


@pytest.fixture
def embedded_store(tmp_path, monkeypatch):
    """A project in tmp_path with its own embedded MLflow store (`mlflow.db`), configured."""
    import mlflow

    from pipeline.core import tracking

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    tracking.configure_tracking()
    yield tmp_path
    mlflow.set_tracking_uri(None)
