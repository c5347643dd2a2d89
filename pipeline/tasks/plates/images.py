"""Reading the plates' image files back after validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.core.errors import DatasetError
from pipeline.core.images import ImageDecodeError, read_image


def read_rgb(path: Path) -> np.ndarray:
    """The RGB pixels of an image that validation decoded; one that no longer decodes
    changed on disk since, and the stages after validation must rerun."""
    try:
        return read_image(path)
    except ImageDecodeError as err:
        raise DatasetError(
            f"plates: cannot decode {path}, which validated ({err}); rerun `dvc repro`"
        ) from None
