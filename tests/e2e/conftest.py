"""The tiny `dvc repro` of the whole pipeline, run once per session and shared by the end-to-end
tests (each asserts one stage family, so one failure does not hide the rest)."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.tasks import TASKS
from tests import shapes_task
from tests.e2e.dvc_project import DVC, add_task, copy_repository, edit_params, run
from tests.tiny import tiny_params

#: a fifth task, defined only in its own package: it must reach the registry like the others
FIFTH = "shapes"


def _tiny(params: dict) -> None:
    params.update(tiny_params(params, {**TASKS, FIFTH: shapes_task.Shapes()}))
    params["drift"]["at_register"] = True  # what a user's run does: checked once, here


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


@pytest.fixture(autouse=True)
def _one_worker_for_the_shared_run(request) -> None:
    """`--dist loadgroup` keeps the tests of the shared run on one worker by adding "@repro"
    to their ids; a pytest that ignores it (9.2 with pytest-xdist 3.8) makes every worker run
    its own `dvc repro`, minutes each, and a test that changes params meets another's half."""
    grouping = getattr(request.config.option, "loadgroup", False)
    if grouping and "repro" in request.fixturenames and "@" not in request.node.nodeid:
        pytest.fail(
            "pytest-xdist did not group the end-to-end tests: install requirements/dev.lock"
        )


@pytest.fixture(scope="session")
def repro(tmp_path_factory) -> Repro:
    project = tmp_path_factory.mktemp("repro") / "project"
    copy_repository(project)
    package = Path(shapes_task.__file__).parent
    add_task(project, package, FIFTH, "Shapes", shapes_task.params_sections())
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
