"""Typed params: params.yaml is parsed once into frozen models that reject unknown keys.

Each stage has a section; a stage whose settings differ per task has one subsection per
task, whose model the task declares (`Task.params`). The models are assembled from the
task registry, so a new task brings its own params without an edit here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, create_model, model_validator

from pipeline.core.errors import PipelineError
from pipeline.core.model_params import AcceleratorParams, BackboneParams, PretrainParams
from pipeline.core.section import Section
from pipeline.drift.drift_params import DriftParams
from pipeline.tasks import TASKS

DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(PipelineError):
    """params.yaml is missing, malformed, or has an unknown or mistyped key."""


class DataSource(Section):
    raw_dir: Path = Field(description="raw dataset folder: the sample or a real dataset")


class ValidateShared(Section):
    max_rejected_fraction: float = Field(0.05, ge=0.0, le=1.0)
    workers: int = Field(4, gt=0, description="threads that decode images")


def _per_task_section(
    stage: str, base: type[Section] = Section, *, optional: bool = False
) -> type[Section]:
    """A section with one subsection per task that declares params for `stage`: required,
    or, when `optional`, its model's defaults where params.yaml leaves it out."""
    fields: dict[str, Any] = {
        name: (task.params[stage], Field(default_factory=task.params[stage]) if optional else ...)
        for name, task in TASKS.items()
        if stage in task.params
    }
    return create_model(f"{stage.title()}Section", __base__=base, **fields)


ExportSection = _per_task_section("export", optional=True)


_data_fields: dict[str, Any] = {name: (DataSource, ...) for name in TASKS}
DataSection = create_model("DataSection", __base__=Section, **_data_fields)


class Config(Section):
    seed: int = Field(description="the one seed every random choice derives from")
    data: DataSection  # type: ignore[valid-type]
    sample: _per_task_section("sample")  # type: ignore[valid-type]
    ingest: _per_task_section("ingest")  # type: ignore[valid-type]
    validate_: _per_task_section("validate", ValidateShared) = Field(  # type: ignore[valid-type]
        alias="validate"
    )
    augment: _per_task_section("augment")  # type: ignore[valid-type]
    features: _per_task_section("features")  # type: ignore[valid-type]
    backbone: BackboneParams
    pretrain: PretrainParams
    train: _per_task_section("train", AcceleratorParams)  # type: ignore[valid-type]
    evaluate: _per_task_section("evaluate")  # type: ignore[valid-type]
    export: ExportSection = Field(default_factory=ExportSection)  # type: ignore[valid-type]
    drift: DriftParams = Field(default_factory=DriftParams)

    @model_validator(mode="after")
    def _one_split_per_photo(self) -> Config:
        """Tasks that read one raw folder draw one split of its photos (a photo in one task's
        test split must not be in another's train split), so their fractions and held-out
        sources must agree."""
        fractions: dict[Path, tuple[str, tuple[Any, ...]]] = {}
        for task in TASKS:
            ingest = getattr(self.ingest, task, None)
            drawn = (getattr(ingest, "val_fraction", None), getattr(ingest, "test_fraction", None))
            if None in drawn:
                continue
            mine = (*drawn, tuple(sorted(getattr(ingest, "test_sources", []))))
            folder = self.raw_dir(task).expanduser().resolve()
            first, theirs = fractions.setdefault(folder, (task, mine))
            if theirs != mine:
                raise ValueError(
                    f"ingest.{task} and ingest.{first} read the same raw folder {folder} but "
                    f"split it differently (val/test fractions {mine[:2]} vs {theirs[:2]}, "
                    f"test_sources {list(mine[2])} vs {list(theirs[2])}): give both the same "
                    "val_fraction, test_fraction and test_sources"
                )
        return self

    def for_task(self, stage: str, task: str) -> Any:
        """The params of `task` in `stage`'s section (typed by the task's own method)."""
        section = self.validate_ if stage == "validate" else getattr(self, stage)
        return getattr(section, task)

    def raw_dir(self, task: str) -> Path:
        """`data.<task>.raw_dir`: the raw dataset the task's stages read."""
        source: DataSource = getattr(self.data, task)
        return source.raw_dir


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key (check its spelling and its section)"
    if error["type"] == "missing":
        return f"{where}: missing"
    if not error["loc"]:  # a rule across sections: its own message says it all
        return str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {error['msg'].lower()} (got {error['input']!r})"


def load_config(path: Path = DEFAULT_PARAMS) -> Config:
    """Parse `path` into a Config, or raise ConfigError naming every bad key."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: no such params file") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(_describe(e) for e in err.errors())  # type: ignore[arg-type]
        raise ConfigError(f"{path}: {problems}") from err
