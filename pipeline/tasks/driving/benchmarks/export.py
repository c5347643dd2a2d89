"""The export-driving row's model and inputs: PilotNet and camera frames, at batch 1."""

from __future__ import annotations

from pipeline.bench.case import Setup
from pipeline.bench.export import Exported, exported
from pipeline.tasks.driving.benchmarks.frames import pilotnet_model, random_frames

GOAL_MS = 1.0  # single-frame steering on this CPU


def driving(setup: Setup) -> Exported:
    """The trained PilotNet when the pipeline has run (full runs), else a fresh one; random
    camera frames, as the `driving-infer` row uses."""
    model, trained = pilotnet_model(setup)
    source = "trained PilotNet" if trained else "untrained PilotNet"
    frames = random_frames(setup, setup.size(8, 200))
    return exported("driving", model, frames, source, setup.folder("export-driving"))
