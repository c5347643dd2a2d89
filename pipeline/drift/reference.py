"""The reference a new batch is compared with: the profile stored with a model version (the
MLflow artifact `drift/` of its run), or one built from the task's train split.

`build_reference` is what registration calls: the train split's images and labels, and the
model's predictions on the validation split, into `models/<task>/drift/`; `log_reference`
puts that folder into the version's run as `drift/`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core import layout
from pipeline.core.errors import PipelineError
from pipeline.drift import embedding as emb
from pipeline.drift.drift_params import DriftParams
from pipeline.drift.profile import (
    Predict,
    Profile,
    build_profile,
    image_paths,
    load,
    predict_values,
    served_column,
)

ARTIFACT = "drift"


def params_of(config: Any) -> DriftParams:
    """`drift:` of params.yaml once the config declares it, else the defaults."""
    section = getattr(config, "drift", None)
    return section if isinstance(section, DriftParams) else DriftParams()


def reference_dir(task: str) -> Path:
    return layout.model_dir(task) / ARTIFACT


def pyfunc_predict(model_uri: str) -> Predict:
    """The pyfunc behind `model_uri` as a function of the serving DataFrame."""
    from pipeline.predict import load_registered

    model = load_registered(model_uri)
    return lambda frame: model.predict(frame)


def embedder_for(config: Any, embedding: str = "auto") -> emb.Embedder | None:
    """The backbone when its weights are there (`auto`) or asked for; None for pixels."""
    if embedding == emb.PIXELS:
        return None
    found = emb.backbone_embedder(getattr(config, "backbone", None))
    if found is None and embedding == emb.BACKBONE:
        raise PipelineError(
            "--embedding backbone: no backbone weights at models/backbone/backbone.weights.h5: "
            "run `pipeline pretrain`, or use --embedding pixels"
        )
    return found


def build_reference(
    task_name: str,
    config: Any,
    out_dir: Path | None = None,
    *,
    model_uri: str | None = None,
    predict: Predict | None = None,
    embedding: str = "auto",
) -> Path:
    """The reference profile of `task_name`'s train split (as validated), with the
    predictions of `model_uri`'s model (or `predict`) on the validation split, saved in
    `out_dir` (default `models/<task>/drift/`); returns that folder."""
    profile = train_profile(
        task_name, config, model_uri=model_uri, predict=predict, embedding=embedding
    )
    return profile.save(out_dir or reference_dir(task_name))


def train_profile(
    task_name: str,
    config: Any,
    *,
    model_uri: str | None = None,
    predict: Predict | None = None,
    embedding: str = "auto",
) -> Profile:
    valid_path = layout.valid_path(task_name)
    if not valid_path.is_file():
        raise PipelineError(
            f"{valid_path} not found: run `dvc repro validate@{task_name}` to have a train split "
            "to compare with, or give --reference"
        )
    valid = pd.read_parquet(valid_path)
    params = params_of(config)
    column = served_column(task_name)
    train = valid[valid["split"] == "train"]
    root = Path(config.raw_dir(task_name))
    if predict is None and model_uri is not None:
        predict = pyfunc_predict(model_uri)
    profile = build_profile(
        task_name,
        train,
        root,
        image_column=column,
        source=f"train split of {valid_path} ({root})",
        params=params,
        seed=config.seed,
        embedder=embedder_for(config, embedding),
    )
    if predict is not None:
        val = valid[(valid["split"] == "val") & valid[column].notna()]
        if len(val) > params.max_images:
            val = val.sample(n=params.max_images, random_state=config.seed).sort_index()
        profile.values |= predict_values(predict, image_paths(val, root, column))
        profile.facts["predictions"] = f"{model_uri or 'the model'} on {len(val)} val images"
    if model_uri:
        profile.facts["model"] = model_uri
    return profile


def log_reference(run_id: str, folder: Path) -> None:
    """Store a reference profile folder in the MLflow run `run_id` as the artifact `drift/`."""
    import mlflow

    mlflow.MlflowClient().log_artifacts(run_id, str(folder), artifact_path=ARTIFACT)


_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))")


def model_run(model_uri: str) -> str | None:
    """The MLflow run a registered model version was logged in; None when the registry says
    there is no such model or version (any other store failure raises)."""
    import mlflow

    from pipeline.core import tracking

    match = _URI.fullmatch(model_uri)
    if match is None:
        return None
    client = mlflow.MlflowClient()
    try:
        if match["alias"]:
            version = client.get_model_version_by_alias(match["name"], match["alias"])
        else:
            version = client.get_model_version(match["name"], match["version"])
    except Exception as err:
        if tracking.is_not_found(err):
            return None
        raise tracking.store_error(err, f"looking up {model_uri}") from err
    if version.run_id:
        return str(version.run_id)
    source = str(version.source or "")
    return model_run(source) if source.startswith("models:/") and source != model_uri else None


def stored_reference(model_uri: str, into: Path) -> Path | None:
    """The `drift/` profile of the run behind `model_uri`, downloaded into `into`; None when
    the model or the artifact does not exist."""
    import mlflow

    from pipeline.core import tracking

    run_id = model_run(model_uri)
    if run_id is None:
        return None
    try:
        if not mlflow.MlflowClient().list_artifacts(run_id, ARTIFACT):
            return None
        into.mkdir(parents=True, exist_ok=True)
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=ARTIFACT, dst_path=str(into)
        )
    except Exception as err:
        raise tracking.store_error(err, f"downloading the drift profile of {model_uri}") from err
    return Path(local)


def resolve(
    task_name: str,
    config: Any,
    *,
    reference: Path | None,
    model_uri: str | None,
    predict: Predict | None,
    embedding: str,
) -> tuple[Profile, str]:
    """(the reference profile, one line saying where it came from)."""
    if reference is not None:
        return load(reference), f"reference: profile {reference}"
    if model_uri is not None:
        with tempfile.TemporaryDirectory() as tmp:
            stored = stored_reference(model_uri, Path(tmp))
            if stored is not None:
                return load(stored), f"reference: the profile stored with {model_uri}"
    profile = train_profile(task_name, config, predict=predict, embedding=embedding)
    why = f"no profile stored with {model_uri}" if model_uri else "no model"
    return profile, (
        f"reference: {why}; built one from the train split of {layout.valid_path(task_name)} "
        f"({profile.images} images)"
    )
