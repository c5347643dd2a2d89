"""What a task is: a declaration (`Task`) plus the stages it implements (one Protocol each).

A stage asks the registry for a task that implements its protocol (`pipeline.tasks.task_for`)
and calls its methods: type checkers and editors follow every call from a stage into the
task's own class, and whether a task has an optional stage (`augment`, `features`, a model)
is whether its class implements the protocol. A task's class is a declaration: each stage
method is a function of the task's own modules bound as it is (`fit =
staticmethod(training.fit)`), with the protocol's signature, which mypy checks
(`pipeline.tasks`). The CLI imports every task at start, so those modules import TensorFlow,
Keras, MLflow, Great Expectations and Matplotlib inside their functions only.

Params: each method takes its task's own params model for that stage (declared in
`Task.params`; params.yaml's section `<stage>.<task>`), typed by the task's class. Folders come
in one `TaskPaths` (`pipeline.core.layout`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np

from pipeline.core.checked import Checked
from pipeline.core.evaluation import Baseline as Baseline
from pipeline.core.evaluation import Evaluation, PrimaryMetric
from pipeline.core.layout import TaskPaths
from pipeline.core.section import Section, tiny_values
from pipeline.core.splits import SPLITS

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from pipeline.core.model_params import BackboneParams


class Task:
    """A dataset's declaration; its stages are the protocols below that its class implements."""

    name: ClassVar[str]
    #: params model of this task's subsection of each stage section, e.g. {"sample": ...}:
    #: the type of the `params` parameter of its stage functions, unless declared
    params: ClassVar[dict[str, type[Section]]]
    #: manifest columns holding image paths (relative to the raw root)
    image_columns: ClassVar[tuple[str, ...]]
    #: rows sharing this column's value must share a split, or the test set leaks
    group_column: ClassVar[str]
    #: values the manifest's `split` column may take
    splits: ClassVar[tuple[str, ...]] = SPLITS
    #: manifest columns the task's own checks read: validation stops, naming any missing one
    label_columns: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def tiny(cls) -> dict[str, dict[str, Any]]:
        """This task's params shrunk to a run of seconds (tests, smoke runs): per stage
        section, the values its params models declare with `core.section.tiny`."""
        return {
            stage: values for stage, model in cls.params.items() if (values := tiny_values(model))
        }

    #: what `dvc plots show` draws: dvc.yaml `plots` entries, paths under reports/<task>/
    plots: ClassVar[tuple[Any, ...]] = ()
    #: the modules of the task's stages, those making its data (sample, ingest, validate,
    #: augment or features) and those of its model (train, evaluate, predict, export): every
    #: function one of them defines under a stage's name (`fit` in `training.py`) becomes that
    #: method of the class, so which protocols below the class implements follows from them
    data_modules: ClassVar[tuple[ModuleType, ...]] = ()
    model_modules: ClassVar[tuple[ModuleType, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        members, bound = stage_members(), dict[str, Callable[..., Any]]()
        for module in (
            *cls.__dict__.get("data_modules", ()),
            *cls.__dict__.get("model_modules", ()),
        ):
            for name in members & set(vars(module)):
                function = vars(module)[name]
                if getattr(function, "__module__", None) != module.__name__:
                    continue  # imported there, not defined there
                if name in bound:
                    raise TypeError(
                        f"{cls.__name__}: both {bound[name].__module__} and {module.__name__} "
                        f"define the stage function `{name}`; list one of them"
                    )
                bound[name] = function
                setattr(cls, name, staticmethod(function))
        if bound:
            cls.params = {**params_models(cls.__name__, bound), **cls.__dict__.get("params", {})}

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]:
        """Facts about the dataset for the validation report's `dataset` section.

        E.g. which layout each folder was read as, oddities of the files that ingest
        tolerated, a target with no variance. Ingest passes what it learnt as manifest
        columns, since the manifest is all that reaches validate.
        """
        return {}

    def commands(self) -> list[Callable[..., None]]:
        """Commands of this task's own for the CLI (e.g. a server), as Typer functions."""
        return []


P_contra = TypeVar("P_contra", bound=Section, contravariant=True)


# The data stages: every task has them.
@runtime_checkable
class Samples(Protocol[P_contra]):
    #: the key of its sample params that sets how many items it writes, e.g. "images"
    sample_size: ClassVar[str]

    def write_sample(self, out_dir: Path, params: P_contra, seed: int) -> None:
        """A small synthetic dataset in the real on-disk format, into `out_dir`."""


@runtime_checkable
class Ingests(Protocol[P_contra]):
    def read_raw(self, raw_dir: Path, params: P_contra, seed: int) -> pd.DataFrame:
        """Manifest rows with canonical columns, `split`, `issue` and `issue_detail`."""


@runtime_checkable
class Validates(Checked, Protocol[P_contra]):
    """A task's own label checks; validation adds the checks every task gets (core)."""

    def label_checks(self, manifest: pd.DataFrame, params: P_contra) -> pd.DataFrame:
        """The manifest with the derived `check_*` columns the expectations read."""

    def expectations(self, params: P_contra) -> list[Any]:
        """Great Expectations; row-level ones carry `meta.reason`."""


# How a task's processed folder is made: one of these two.
@runtime_checkable
class Augments(Protocol[P_contra]):
    def augment(
        self, valid: pd.DataFrame, params: P_contra, paths: TaskPaths, seed: int
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The train split augmented and val/test copied into `paths.processed_dir`:
        (its manifest, a JSON-able report)."""

    def write_augment_reports(self, report: dict[str, Any], paths: TaskPaths) -> None:
        """Plots of the report into `paths.reports_dir`."""


@runtime_checkable
class ExtractsFeatures(Protocol[P_contra]):
    def features(
        self, valid: pd.DataFrame, params: P_contra, backbone: BackboneParams, paths: TaskPaths
    ) -> FeaturesSummary:
        """Cached image embeddings into `paths.processed_dir`, figures into `paths.reports_dir`."""


@dataclass(frozen=True)
class FeaturesSummary:
    images: int
    dimensions: int
    note: str = ""  # one line on what was chosen and why, for the stage's output


@dataclass(frozen=True)
class Trained:
    model: keras.Model
    history: dict[str, list[float]]  # per-epoch values of each loss and metric


@runtime_checkable
class Trains(Protocol[P_contra]):
    primary_metric: ClassVar[PrimaryMetric]

    def fit(
        self,
        params: P_contra,
        backbone: BackboneParams,
        paths: TaskPaths,
        *,
        seed: int,
        jit_compile: bool,
    ) -> Trained:
        """A model trained on `paths.processed_dir`, resuming from `paths.checkpoints_dir`;
        what serving needs besides the weights written into `paths.assets_dir`."""

    def load_model(self, model_path: Path, paths: TaskPaths) -> keras.Model:
        """The trained model, loaded in safe mode."""

    def log_model(self, model: keras.Model, paths: TaskPaths) -> str:
        """Log the serving pyfunc (image bytes in, a DataFrame out) to the active MLflow run;
        its `models:/...` URI."""


@runtime_checkable
class Evaluates(Protocol[P_contra]):
    def evaluate(
        self, model: keras.Model, valid: pd.DataFrame, params: P_contra, paths: TaskPaths
    ) -> Evaluation:
        """The model on the untouched test split beside the trivial baseline; plots into
        `paths.reports_dir`."""


@dataclass(frozen=True)
class ExportData:
    """What `pipeline export` feeds an exported model: the Keras model's inputs."""

    test_inputs: np.ndarray  # the test split, in the order `score` expects its outputs
    calibration_inputs: np.ndarray  # train-split inputs int8 calibrates on
    #: the task's evaluate figures (its own metric code) from a function of a batch of inputs
    #: to the network's raw outputs; keys as in `metrics.json` (the primary metric among them)
    score: Callable[[Callable[[np.ndarray], np.ndarray]], dict[str, float]]


@runtime_checkable
class Exports(Protocol[P_contra]):
    """A task whose network ships as a TFLite or ONNX file (`pipeline export`)."""

    primary_metric: ClassVar[PrimaryMetric]

    def export_ready(self, model: keras.Model) -> keras.Model:
        """The model as it converts to builtin ops (same weights, same outputs)."""

    def export_data(self, valid: pd.DataFrame, params: P_contra, paths: TaskPaths) -> ExportData:
        """Test inputs with the scoring of the task's `evaluate`, and calibration inputs."""

    def serve_exported(self, model: Any, model_input: Any, params: dict[str, Any]) -> pd.DataFrame:
        """The pyfunc's answer (same columns) from an exported network `model`
        (`pipeline.core.edge.ExportedModel`), without TensorFlow."""


@dataclass(frozen=True)
class PredictOption:
    """An option of `pipeline predict` a task reads, e.g. `--beam 3`."""

    name: str  # the option is --<name with dashes>
    type: type  # bool, int, float, str or Path
    default: Any
    help: str
    to_model: bool = True  # passed to the pyfunc as a param (else only the task reads it)
    min: float | None = None  # bounds a number must keep, checked before any model loads
    max: float | None = None


@runtime_checkable
class Predicts(Protocol):
    """How `pipeline predict <task>` talks to the task's registered pyfunc."""

    @property
    def predict_options(self) -> tuple[PredictOption, ...]:
        """Options of `pipeline predict` this task reads (`to_model` ones go to the pyfunc)."""

    def prediction_lines(
        self, images: list[Path], predictions: pd.DataFrame, options: dict[str, Any]
    ) -> list[str]:
        """One line per image (and any file an option asks for, e.g. drawn images)."""


@dataclass(frozen=True)
class Refinement:
    """When `pipeline predict <of>` hands its model's answer on to this task's model."""

    of: str  # the task whose answer this one refines, e.g. "plates"
    when: str  # that task's bool option asking for it, e.g. "read"
    model_option: str  # that task's option naming this task's model URI, e.g. "reader"


@runtime_checkable
class Refines(Protocol):
    """A task whose model adds to another task's predictions (`predict plates --read`: the
    plate reader reads each detected box), so that the other task never imports this one."""

    refinement: ClassVar[Refinement]

    def refine(self, images: list[Path], predictions: pd.DataFrame, model: Any) -> pd.DataFrame:
        """`predictions` of `refinement.of`, in its own columns, with what `model` adds."""


def stage_members() -> set[str]:
    """The names a task's `stages` may bind: the functions of every stage protocol, and
    `summarize`."""
    protocols = (Samples, Ingests, Validates, Augments, ExtractsFeatures, Trains, Evaluates)
    protocols += (Exports, Predicts, Refines)  # type: ignore[assignment]
    names = {"summarize"}
    for protocol in protocols:
        names |= {
            name
            for name, value in vars(protocol).items()
            if not name.startswith("_") and callable(value) and not isinstance(value, type)
        }
    return names


#: the stage section whose params each stage function takes
STAGE_OF_FUNCTION = {
    "write_sample": "sample",
    "read_raw": "ingest",
    "label_checks": "validate",
    "expectations": "validate",
    "augment": "augment",
    "features": "features",
    "fit": "train",
    "evaluate": "evaluate",
    "export_data": "export",
}


def params_models(task: str, functions: dict[str, Callable[..., Any]]) -> dict[str, type[Section]]:
    """Stage section -> the params model its functions take, read from their `params`
    annotation (a class their module imports), so that it is declared once."""
    models: dict[str, type[Section]] = {}
    for name, stage in STAGE_OF_FUNCTION.items():
        if name not in functions:
            continue
        function = functions[name]
        annotation = function.__annotations__.get("params")
        model = function.__globals__.get(annotation) if isinstance(annotation, str) else annotation
        if not (isinstance(model, type) and issubclass(model, Section)):
            raise TypeError(
                f"{task}: {function.__module__}.{name} must annotate `params` with a params "
                f"model its module imports at run time, got {annotation!r}"
            )
        if models.setdefault(stage, model) is not model:
            raise TypeError(f"{task}: the `{stage}` stage functions take different params models")
    return models
