"""`train`: processed data -> `models/<task>/model.keras`, history, one MLflow run."""

from pipeline.config import Config
from pipeline.core import layout, tracking
from pipeline.core.accelerate import distribution_strategy
from pipeline.core.io import atomic_file, write_json
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
        with strategy.scope():
            model, history = task.fit(
                layout.processed_dir(task_name),
                config.for_task("train", task_name),
                config.backbone,
                work_dir=layout.checkpoints_dir(task_name),
                seed=config.seed,
                callbacks=[],
                jit_compile=config.train.jit_compile,
            )
        with atomic_file(layout.model_path(task_name)) as tmp:
            model.save(tmp)
        write_json(layout.task_reports(task_name) / "history.json", _history_rows(history))
        tracking.log_history(history)
        task.log_model(model)
    epochs = len(history.get("loss", []))
    return (
        f"{task_name}: trained {model.name} for {epochs} epochs on {device}; "
        f"model {layout.model_path(task_name)}, MLflow run {run.info.run_id}"
    )


def _history_rows(history: dict[str, list[float]]) -> list[dict[str, float]]:
    """One row per epoch, the shape DVC plots read."""
    epochs = len(history.get("loss", []))
    return [
        {"epoch": epoch, **{name: values[epoch] for name, values in history.items()}}
        for epoch in range(epochs)
    ]
