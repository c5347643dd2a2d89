"""The tiny `dvc repro` of the whole pipeline, run once per session and shared by the end-to-end
tests (each asserts one stage family, so one failure does not hide the rest)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.dvc_project import DVC, copy_repository, edit_params, run


def _tiny(params: dict) -> None:
    params["sample"]["plates"]["images"] = 20
    params["sample"]["driving"]["frames"] = 120
    params["sample"]["captions"]["images"] = 16
    params["ingest"]["driving"]["segment_frames"] = 10
    params["validate"]["max_rejected_fraction"] = 0.25
    params["pretrain"].update(images_per_task=8, epochs=1, image_size=32)
    params["augment"]["plates"]["copies"] = 1
    params["train"]["plates"].update(input_size=[64, 96], head_width=8)
    params["train"]["plates"]["fit"].update(head_epochs=1, finetune_epochs=1)
    params["train"]["driving"]["fit"].update(head_epochs=1, finetune_epochs=0)
    params["train"]["captions"].update(epochs=1, units=16, embedding_dim=8)
    params["train"]["captions"]["text"]["min_word_count"] = 2
    params["train"]["captions"]["val_from_train"] = 0.25  # 16 images: val has 2
    params["augment"]["plates_text"]["copies"] = 1
    params["train"]["plates_text"].update(epochs=1)


@dataclass
class Repro:
    """The project after its first `dvc repro`, and what that run printed."""

    project: Path
    first: str
    settled: bool = True  # False while a test that changes params is in progress

    def read(self, path: str) -> dict:
        return json.loads((self.project / path).read_text())

    def changing(self) -> None:
        """Start a test that changes params: rerun first if the last one stopped half-way."""
        if not self.settled:
            run(self.project, *DVC, "repro")
        self.settled = False


@pytest.fixture(scope="session")
def repro(tmp_path_factory) -> Repro:
    project = tmp_path_factory.mktemp("repro") / "project"
    copy_repository(project)
    edit_params(project, _tiny)
    return Repro(project, run(project, *DVC, "repro"))


STORE_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


@pytest.fixture(scope="session")
def repro_project(repro: Repro):
    """The project's path, with MLFLOW_TRACKING_URI and MLFLOW_REGISTRY_URI naming its
    embedded store (`mlflow.set_registry_uri` in an earlier test exports the latter)."""
    previous = {name: os.environ.get(name) for name in STORE_VARIABLES}
    for name in STORE_VARIABLES:
        os.environ[name] = f"sqlite:///{repro.project / 'mlflow.db'}"
    yield repro.project
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
