"""`pipeline drift TASK DATA`: profile DATA, compare it with the reference, report, log.

The model: `--model`, else the task's champion. Its stored profile is the reference (else
one is built from the train split, saying so), and it predicts on DATA so that the
prediction distribution is compared too. No champion yet: images and labels only.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core import layout
from pipeline.core.errors import PipelineError
from pipeline.drift import batches, reference, report
from pipeline.drift import embedding as emb
from pipeline.drift.compare import DriftResult, compare
from pipeline.drift.drift_params import DriftParams
from pipeline.drift.profile import Predict

EXPERIMENT = "drift"


@dataclass
class Outcome:
    result: DriftResult
    out_dir: Path
    lines: list[str]
    mlflow_run: str | None = None


def out_dir_of(task: str) -> Path:
    return layout.REPORTS / "drift" / task


def _model(
    task: str, model_uri: str | None, use_model: bool
) -> tuple[str | None, Predict | None, str]:
    """(the model URI whose profile to look for, its predictor or None, a line on it)."""
    from pipeline.core.registry.names import champion_uri

    uri = model_uri or champion_uri(task)
    if reference.model_run(uri) is None:
        if model_uri is not None:
            raise PipelineError(
                f"{model_uri}: no such registered model version: `pipeline models {task}` "
                "lists them"
            )
        return None, None, f"model: no champion of {task} yet: predictions not compared"
    if not use_model:
        return uri, None, f"model: {uri} (predictions not compared: --no-predictions)"
    return uri, reference.pyfunc_predict(uri), f"model: {uri}"


def run(
    task: str,
    data: Path,
    config: Any,
    *,
    params: DriftParams,
    model_uri: str | None = None,
    reference_dir: Path | None = None,
    out_dir: Path | None = None,
    embedding: str = "auto",
    predictions: bool = True,
    log_to_mlflow: bool = True,
    say: Callable[[str], None] = print,
) -> Outcome:
    lines: list[str] = []

    def note(line: str) -> None:
        lines.append(line)
        say(line)

    needs_model = reference_dir is None or model_uri is not None or predictions
    if log_to_mlflow or needs_model:
        from pipeline.core import tracking

        tracking.configure_tracking()
    uri: str | None = None
    predict: Predict | None = None
    if needs_model:
        uri, predict, line = _model(task, model_uri, predictions)
        note(line)
    ref, line = reference.resolve(
        task, config, reference=reference_dir, model_uri=uri, predict=predict, embedding=embedding
    )
    note(line)
    embedder = reference.embedder_for(config, embedding) if emb.BACKBONE in ref.embeddings else None
    new = batches.new_profile(
        task,
        data,
        config=config,
        params=params,
        seed=config.seed,
        embedder=embedder,
        predict=predict,
    )
    note(f"new: {new.source}, {new.images} images ({new.unreadable} unreadable)")
    result = compare(ref, new, params, seed=config.seed)
    target = out_dir or out_dir_of(task)
    html = report.write(target, result, ref, new, model=uri or "none", data=str(data))
    outcome = Outcome(result, target, lines)
    if log_to_mlflow:
        outcome.mlflow_run = log_run(task, data, target, result, uri)
        note(f"logged to MLflow: experiment {EXPERIMENT!r}, run {outcome.mlflow_run}")
    note(f"report: {html}")
    return outcome


def _experiment_id() -> str:
    import mlflow

    from pipeline.core.store import embedded_uri
    from pipeline.core.tracking import project_root

    found = mlflow.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if mlflow.get_tracking_uri() == embedded_uri():
        location = (project_root() / "mlartifacts" / EXPERIMENT).as_uri()
    try:
        return str(mlflow.create_experiment(EXPERIMENT, artifact_location=location))
    except Exception:  # another process created it at the same moment
        again = mlflow.get_experiment_by_name(EXPERIMENT)
        if again is None:
            raise
        return str(again.experiment_id)


def log_run(task: str, data: Path, folder: Path, result: DriftResult, model_uri: str | None) -> str:
    """One run in the `drift` experiment: verdict, figures, the report and its JSON."""
    import mlflow

    from pipeline.core import tracking

    metrics = {
        "drifted": float(result.drifted),
        **{f"drifted_share/{g}": result.drifted_share(g) for g in ("image", "label", "prediction")},
        **{f"effect/{f.name}": f.effect for f in result.features if f.effect != float("inf")},
    }
    if result.embedding is not None:
        metrics["embedding_auc"] = result.embedding.auc
    try:
        with mlflow.start_run(
            experiment_id=_experiment_id(), run_name=f"{task} {data.name}"
        ) as run:
            mlflow.log_params({"task": task, "data": str(data), "model": model_uri or "none"})
            mlflow.set_tags(
                {
                    "task": task,
                    "verdict": "drift" if result.drifted else "no drift",
                    "host": socket.gethostname(),
                }
            )
            mlflow.log_metrics(metrics)
            for name in (report.REPORT_HTML, report.SUMMARY_JSON, report.FEATURES_PNG):
                if (folder / name).is_file():
                    mlflow.log_artifact(str(folder / name), artifact_path="drift")
            return str(run.info.run_id)
    except PipelineError:
        raise
    except Exception as err:
        raise tracking.store_error(err, "logging the drift report") from err
