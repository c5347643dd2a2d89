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


#: leading bytes of the encodings every task's model decodes (OpenCV and TensorFlow alike)
IMAGE_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"BM": "BMP"}


def read_images(paths: list[Path]) -> list[bytes]:
    """The bytes of each file, checked to be a decodable JPEG, PNG or BMP before any model
    is loaded, so that a wrong file costs one line, not a traceback from inside the model."""
    import cv2
    import numpy as np

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PipelineError(f"no such image file: {', '.join(missing)} (check the path)")
    images, wrong = [], []
    for path in paths:
        data = path.read_bytes()
        if not data.startswith(tuple(IMAGE_SIGNATURES)):
            wrong.append(f"{path} is not a JPEG, PNG or BMP image")
        elif cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None:
            wrong.append(f"{path} is a damaged image (it does not decode)")
        images.append(data)
    if wrong:
        raise PipelineError(f"{'; '.join(wrong)}: give the image files themselves")
    return images


def caption(paths: list[Path], model_uri: str, beam: int) -> list[tuple[Path, str]]:
    import pandas as pd

    frame = pd.DataFrame({"image": read_images(paths)})
    model = load_registered(model_uri)
    captions = model.predict(frame, params={"beam": beam})["caption"]
    return list(zip(paths, captions, strict=True))


def detect_plates(
    paths: list[Path], model_uri: str, min_score: float, out_dir: Path | None
) -> list[tuple[Path, list[dict]]]:
    """Boxes per image (pixel corners and score); with `out_dir`, each image drawn there."""
    import json

    import pandas as pd

    frame = pd.DataFrame({"image": read_images(paths)})
    model = load_registered(model_uri)
    found = [
        json.loads(rows) for rows in model.predict(frame, params={"min_score": min_score})["boxes"]
    ]
    if out_dir is not None:
        from pipeline.tasks.plates.drawing import write_drawn

        out_dir.mkdir(parents=True, exist_ok=True)
        for path, rows in zip(paths, found, strict=True):
            write_drawn(path, rows, out_dir / f"{path.stem}_plates.png")
    return list(zip(paths, found, strict=True))


def steer(paths: list[Path], model_uri: str) -> list[tuple[Path, float]]:
    """Steering angle per simulator frame (320x160 RGB, as recorded)."""
    import numpy as np

    from pipeline.core.serving import decode_rgb

    frames = [decode_rgb(data) for data in read_images(paths)]
    wrong = [
        f"{p} is {f.shape[1]}x{f.shape[0]}"
        for p, f in zip(paths, frames, strict=True)
        if f.shape[:2] != (160, 320)
    ]
    if wrong:
        raise PipelineError(
            f"driving frames must be 320x160 like the simulator's: {'; '.join(wrong)}"
        )
    model = load_registered(model_uri)
    import keras

    keras.utils.disable_interactive_logging()  # the Keras flavour's predict draws a progress bar
    angles = np.asarray(model.predict(np.stack(frames).astype(np.float32))).ravel()
    return [(p, float(a)) for p, a in zip(paths, angles, strict=True)]
