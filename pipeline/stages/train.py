"""`train`: processed data -> `models/<task>/model.keras`, history, one MLflow run.

Fails closed: a NaN or infinite loss fails the stage (run FAILED, nothing saved); an
interrupted training resumes only when nothing that decides it has changed.
"""

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
from pipeline.tasks import TASKS


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
    import keras

    from pipeline.core.backbones import SELFSUP_WEIGHTS, weights_used

    task = TASKS[task_name]
    params = stage_params(task_name, config)
    remove_stale_temps(layout.model_dir(task_name))  # left by a killed run
    work_dir = layout.checkpoints_dir(task_name)
    resume_note = checkpoints.prepare(
        work_dir,
        checkpoints.fingerprint(
            params,
            {"data": layout.processed_dir(task_name), "backbone": SELFSUP_WEIGHTS},
        ),
    )
    strategy, device = distribution_strategy(config.train)
    with tracking.start_run(task_name, params, layout.run_file(task_name)) as run:
        # Creating a run draws from Python's `random` in some stores and not in others:
        # seed after it, so the same inputs train the same model whatever the store.
        keras.utils.set_random_seed(config.seed)
        tracking.set_tags({"device": device})
        with atomic_dir(layout.assets_dir(task_name)) as assets, strategy.scope():
            model, history = task.fit(
                layout.processed_dir(task_name),
                config.for_task("train", task_name),
                config.backbone,
                work_dir=work_dir,
                assets_dir=assets,
                seed=config.seed,
                callbacks=[],
                jit_compile=config.train.jit_compile,
            )
            write_json(assets / "card.json", _card(task_name, model))
        backbone, digest = weights_used(), _weights_digest(model)
        tracking.set_tags({"backbone_weights": backbone, "weights_sha256": digest})
        with atomic_file(layout.model_path(task_name)) as tmp:
            model.save(tmp)
            normalise_keras_archive(tmp)
        write_json(layout.task_reports(task_name) / "history.json", _history_rows(history))
        tracking.log_history(history)
        tracking.log_artifacts(layout.assets_dir(task_name), "assets")
        model_uri = task.log_model(
            model, layout.assets_dir(task_name), layout.processed_dir(task_name)
        )
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


def _weights_digest(model: Any) -> str:
    """sha256 of the weight values: two trainings with equal weights give the same digest."""
    import hashlib

    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(weights.tobytes())
    return digest.hexdigest()


def _card(task_name: str, model: Any) -> dict[str, Any]:
    """What the model takes and gives, for whoever serves it."""
    primary = TASKS[task_name].primary_metric
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
