"""`train`: processed data -> `models/<task>/model.keras`, history, one MLflow run.

Fails closed: a NaN or infinite loss fails the stage (run FAILED, nothing saved); an
interrupted training resumes only when nothing that decides it has changed.
"""

from dataclasses import replace
from typing import Any

from pipeline.config import Config
from pipeline.core import checkpoints, layout, tracking
from pipeline.core.accelerate import distribution_strategy
from pipeline.core.io import (
    atomic_dir,
    atomic_file,
    normalise_keras_archive,
    remove_stale_temps,
    write_json,
)
from pipeline.core.multiworker import WorkerRole, worker_role
from pipeline.stages.inputs import checked_provenance, processed_input
from pipeline.tasks import Trains, task_with
from pipeline.tasks.base import PrimaryMetric


def stage_params(task_name: str, config: Config) -> dict[str, Any]:
    """The params this stage depends on (as dvc.yaml declares them), for MLflow and resume."""
    dumped = config.model_dump(mode="json", by_alias=True)
    train = dumped["train"]
    return {
        "seed": dumped["seed"],
        "backbone": dumped["backbone"],
        "train": {
            "mixed_precision": train["mixed_precision"],
            "jit_compile": train["jit_compile"],
            task_name: train[task_name],
        },
    }


def run(task_name: str, config: Config) -> str:
    task = task_with(task_name, "train", Trains)
    # train reads only its processed folder: the raw folder need not be on this machine
    checked_provenance(processed_input(task_name), "train", task_name, config, reads_raw=False)

    import keras

    from pipeline.core.backbones import SELFSUP_WEIGHTS, weights_used

    params = stage_params(task_name, config)
    paths = layout.task_paths(task_name, config.raw_dir(task_name), layout.task_reports(task_name))
    strategy, device = distribution_strategy(config.train)
    role = worker_role()
    if role is not None and not role.is_chief:
        return _train_as_worker(task, task_name, config, strategy, device, role, paths)
    remove_stale_temps(layout.model_dir(task_name))  # left by a killed run
    resume_note = checkpoints.prepare(
        paths.checkpoints_dir,
        checkpoints.fingerprint(params, {"data": paths.processed_dir, "backbone": SELFSUP_WEIGHTS}),
    )
    with tracking.start_run(task_name, params, layout.run_file(task_name)) as run:
        # Creating a run draws from Python's `random` in some stores and not in others:
        # seed after it, so the same inputs train the same model whatever the store.
        keras.utils.set_random_seed(config.seed)
        tracking.set_tags({"device": device})
        with atomic_dir(paths.assets_dir) as assets, strategy.scope():
            trained = task.fit(
                config.for_task("train", task_name),
                config.backbone,
                replace(paths, assets_dir=assets),
                seed=config.seed,
                jit_compile=config.train.jit_compile,
            )
            model, history = trained.model, trained.history
            write_json(assets / "card.json", _card(task_name, task.primary_metric, model))
        backbone, digest = weights_used(), _weights_digest(model)
        tracking.set_tags({"backbone_weights": backbone, "weights_sha256": digest})
        with atomic_file(layout.model_path(task_name)) as tmp:
            model.save(tmp)
            normalise_keras_archive(tmp)
        if role is not None:
            # The cluster's workers have stopped: what follows must not wait for them (a
            # prediction of the cluster's model is a collective operation), so the chief goes
            # on with the saved model, on its own devices.
            model = task.load_model(layout.model_path(task_name), paths)
        write_json(layout.task_reports(task_name) / "history.json", _history_rows(history))
        tracking.log_history(history)
        tracking.log_artifacts(paths.assets_dir, "assets")
        model_uri = task.log_model(model, paths)
        tracking.record_model(
            layout.run_file(task_name),
            model_uri,
            weights_sha256=digest,
            backbone_weights=backbone,
        )
    epochs = len(history.get("loss", []))
    return (
        (f"{task_name}: {resume_note}\n" if resume_note else "")
        + f"{task_name}: trained {model.name} for {epochs} epochs on {device} "
        f"(backbone weights: {backbone}); model {layout.model_path(task_name)}, "
        f"MLflow run {run.info.run_name} ({run.info.run_id})"
    )


def _train_as_worker(
    task: Trains,
    task_name: str,
    config: Config,
    strategy: Any,
    device: str,
    role: WorkerRole,
    paths: layout.TaskPaths,
) -> str:
    """Train beside the chief; write nothing in the workspace and log nothing to MLflow.

    The worker's backups and assets go to a scratch folder: its weights equal the chief's,
    which saves them. On a resume the chief's backups decide (`multiworker.chief_value`).
    """
    import tempfile
    from pathlib import Path

    import keras

    with tempfile.TemporaryDirectory(
        prefix=f"pipeline-{task_name}-{role.task_type}{role.index}-"
    ) as scratch_dir:
        scratch = Path(scratch_dir)
        worker_paths = replace(
            paths,
            assets_dir=scratch / "assets",
            checkpoints_dir=scratch / "checkpoints",
            reports_dir=scratch / "reports",
        )
        keras.utils.set_random_seed(config.seed)
        with strategy.scope():
            trained = task.fit(
                config.for_task("train", task_name),
                config.backbone,
                worker_paths,
                seed=config.seed,
                jit_compile=config.train.jit_compile,
            )
    epochs = len(trained.history.get("loss", []))
    return (
        f"{task_name}: {role.describe()} trained {epochs} epochs on {device}; wrote nothing "
        f"(the chief saves and logs); weights sha256 {_weights_digest(trained.model)}"
    )


def _weights_digest(model: Any) -> str:
    """sha256 of the weight values: two trainings with equal weights give the same digest."""
    import hashlib

    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(weights.tobytes())
    return digest.hexdigest()


def _card(task_name: str, primary: PrimaryMetric, model: Any) -> dict[str, Any]:
    """What the model takes and gives, for whoever serves it."""
    return {
        "task": task_name,
        "model": model.name,
        "inputs": {t.name: [d for d in t.shape] for t in model.inputs},
        "outputs": [list(t.shape) for t in model.outputs],
        "primary_metric": primary.name,
        "greater_is_better": primary.greater_is_better,
    }


def _history_rows(history: dict[str, list[float]]) -> list[dict[str, float]]:
    """One row per epoch, the shape DVC plots read."""
    epochs = len(history.get("loss", []))
    return [
        {"epoch": epoch, **{name: values[epoch] for name, values in history.items()}}
        for epoch in range(epochs)
    ]
