"""The plate detector kinds, and the one place a kind's name becomes its strategy.

The name comes from `train.plates.detector` at training, from the trained assets'
`detector.json` at load, and from the model's own name (each kind names its network after
itself) at detection; `detector_for` turns each into the same `Detector`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import PipelineError
from pipeline.tasks.plates.detectors.base import CompileSettings, Detector
from pipeline.tasks.plates.detectors.centernet import CenterNet
from pipeline.tasks.plates.detectors.config import DETECTOR_FILE, detector_kind
from pipeline.tasks.plates.detectors.retinanet import RetinaNet

if TYPE_CHECKING:
    import keras

__all__ = [
    "DETECTORS",
    "DETECTOR_FILE",
    "CenterNet",
    "CompileSettings",
    "Detector",
    "RetinaNet",
    "detector_for",
    "detector_kind",
    "detector_of",
    "load_detector",
]

DETECTORS: dict[str, Detector] = {kind.name: kind for kind in (CenterNet(), RetinaNet())}


def detector_for(kind: str) -> Detector:
    """The strategy of a detector kind, or one line naming the kinds there are."""
    if kind not in DETECTORS:
        raise PipelineError(
            f"unknown plate detector {kind!r}; train.plates.detector is one of "
            f"{', '.join(DETECTORS)}"
        )
    return DETECTORS[kind]


def load_detector(model_path: Path, assets_dir: Path) -> keras.Model:
    """A saved detector, of the kind its assets name, in safe mode and uncompiled."""
    return detector_for(detector_kind(assets_dir)).load(model_path)


def detector_of(model: Any) -> Detector:
    """The strategy of a built or loaded detector, from the name its kind gave it."""
    if model.name not in DETECTORS:
        raise PipelineError(
            f"model {model.name!r} is not a plate detector ({', '.join(DETECTORS)}); "
            "retrain it with `pipeline train plates`"
        )
    return DETECTORS[model.name]
