"""The plates row of `pipeline bench`: the detector's network through its exported files."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.bench import export
from pipeline.bench.case import Case, Setup


def detector(setup: Setup) -> export.Exported:
    """The trained CenterNet detector when the pipeline has run (full runs), else a fresh
    one at the default input size (MobileNetV2 alpha 0.35, random weights); random images."""
    import keras

    from pipeline.core import layout
    from pipeline.core.model_params import BackboneParams
    from pipeline.tasks.plates.detectors import detector_kind, load_detector
    from pipeline.tasks.plates.detectors.centernet import network
    from pipeline.tasks.plates.params import PlatesTrainParams

    path, assets = layout.model_path("plates"), layout.assets_dir("plates")
    if not setup.quick and path.is_file() and detector_kind(assets) == "centernet":
        model, source = load_detector(path, assets), "trained CenterNet"
    else:
        keras.utils.set_random_seed(setup.seed)
        backbone = BackboneParams(name="MobileNetV2", weights="none", alpha=0.35)
        model, _ = network(PlatesTrainParams(), backbone)
        source = "untrained CenterNet (MobileNetV2 alpha 0.35)"
    shape = tuple(int(v) for v in model.inputs[0].shape[1:])
    images = np.random.default_rng(setup.seed).uniform(0, 255, (setup.size(4, 100), *shape))
    folder = setup.folder("export-plates")
    return export.exported("plates", model, images.astype(np.float32), source, folder)


CASES: tuple[Case[Any], ...] = (
    export.case(
        name="export-plates",
        what="the plate detector's network on one image at batch 1: TFLite and ONNX files vs "
        "the Keras model's compiled direct call (peak picking, the same for all, not timed)",
        goal=export.no_slower_than_keras(),
        inputs=detector,
    ),
)
