"""`detector.json`: what a trained detector's assets say about it (its kind, input, cap)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import PipelineError
from pipeline.core.io import write_json

if TYPE_CHECKING:
    from pipeline.tasks.plates.params import PlatesTrainParams

DETECTOR_FILE = "detector.json"
DEFAULT_MAX_DETECTIONS = 100  # COCO's cap on boxes per image


def write_config(assets_dir: Path, params: PlatesTrainParams) -> None:
    write_json(
        assets_dir / DETECTOR_FILE,
        {
            "detector": params.detector,
            "input_size": list(params.input_size),
            "stride": params.stride,
            "max_detections": params.max_detections,
        },
    )


def _read(assets_dir: Path) -> dict[str, Any]:
    return dict(json.loads((assets_dir / DETECTOR_FILE).read_text()))


def detector_kind(assets_dir: Path) -> str:
    """The kind of the detector trained into `assets_dir`."""
    path = assets_dir / DETECTOR_FILE
    if not path.is_file():
        raise PipelineError(f"plates: no {path}; rerun `pipeline train plates`")
    return str(_read(assets_dir)["detector"])


def max_detections(assets_dir: Path) -> int:
    """The training-time cap on boxes per image, else COCO's 100."""
    if not (assets_dir / DETECTOR_FILE).exists():
        return DEFAULT_MAX_DETECTIONS
    return int(_read(assets_dir).get("max_detections", DEFAULT_MAX_DETECTIONS))
