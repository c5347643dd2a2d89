"""`pipeline predict`: a registered model applied to image files given on the command line."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import PipelineError


def load_registered(model_uri: str):
    """The pyfunc behind `model_uri`, or an error that says which versions exist."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from pipeline.core import tracking

    tracking.configure_tracking()
    try:
        return mlflow.pyfunc.load_model(model_uri)
    except MlflowException as err:
        raise PipelineError(
            f"cannot load {model_uri} ({str(err).splitlines()[0][:160]}); "
            "`pipeline models <task>` lists versions and aliases, "
            "`pipeline promote <task>` makes a champion"
        ) from err


def read_images(paths: list[Path]) -> list[bytes]:
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PipelineError(f"no such image file: {', '.join(missing)}")
    return [p.read_bytes() for p in paths]


def caption(paths: list[Path], model_uri: str, beam: int) -> list[tuple[Path, str]]:
    import pandas as pd

    frame = pd.DataFrame({"image": read_images(paths)})
    model = load_registered(model_uri)
    captions = model.predict(frame, params={"beam": beam})["caption"]
    return list(zip(paths, captions, strict=True))
