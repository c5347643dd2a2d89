"""`train`: processed data -> `models/<task>/model.keras`, history, one MLflow run."""

from typing import Any

from pipeline.config import Config
from pipeline.core import layout, tracking
from pipeline.core.accelerate import distribution_strategy
from pipeline.core.io import atomic_dir, atomic_file, write_json
from pipeline.tasks import TASKS


def run(task_name: str, config: Config) -> str:
    import keras

    task = TASKS[task_name]
    keras.utils.set_random_seed(config.seed)
    strategy, device = distribution_strategy(config.train)
    with tracking.start_run(
        task_name, config.model_dump(mode="json", by_alias=True), layout.run_file(task_name)
    ) as run:
        tracking.set_tags({"device": device})
        with atomic_dir(layout.assets_dir(task_name)) as assets, strategy.scope():
            model, history = task.fit(
                layout.processed_dir(task_name),
                config.for_task("train", task_name),
                config.backbone,
                work_dir=layout.checkpoints_dir(task_name),
                assets_dir=assets,
                seed=config.seed,
                callbacks=[],
                jit_compile=config.train.jit_compile,
            )
            write_json(assets / "card.json", _card(task_name, model))
        with atomic_file(layout.model_path(task_name)) as tmp:
            model.save(tmp)
        write_json(layout.task_reports(task_name) / "history.json", _history_rows(history))
        tracking.log_history(history)
        tracking.log_artifacts(layout.assets_dir(task_name), "assets")
        model_uri = task.log_model(
            model, layout.assets_dir(task_name), layout.processed_dir(task_name)
        )
        tracking.record_model(layout.run_file(task_name), model_uri)
    epochs = len(history.get("loss", []))
    return (
        f"{task_name}: trained {model.name} for {epochs} epochs on {device}; "
        f"model {layout.model_path(task_name)}, MLflow run {run.info.run_id}"
    )


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
