"""The export-driving row's model and inputs: PilotNet and camera frames, at batch 1."""

from __future__ import annotations

import numpy as np

from pipeline.bench.case import Setup
from pipeline.bench.export import Exported, exported

GOAL_MS = 1.0  # single-frame steering on this CPU


def driving(setup: Setup) -> Exported:
    """The trained PilotNet when the pipeline has run (full runs), else a fresh one; random
    camera frames, as the `driving-infer` row uses."""
    import keras

    from pipeline.core import layout
    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    path = layout.model_path("driving")
    if not setup.quick and path.is_file():
        model, source = keras.models.load_model(path, safe_mode=True), "trained PilotNet"
    else:
        keras.utils.set_random_seed(setup.seed)
        model, source = pilotnet(DrivingTrainParams()), "untrained PilotNet"
    rng = np.random.default_rng(setup.seed)
    frames = rng.uniform(0, 255, (setup.size(8, 200), 160, 320, 3)).astype(np.float32)
    return exported("driving", model, frames, source, setup.folder("export-driving"))
