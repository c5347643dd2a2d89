"""Reading the plates' image files back after validation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.core.errors import DatasetError


def read_rgb(path: Path) -> np.ndarray:
    """The RGB pixels of an image that validation decoded; one that no longer decodes
    changed on disk since, and the stages after validation must rerun."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DatasetError(f"plates: cannot decode {path}, which validated; rerun `dvc repro`")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
