"""Saving and loading a task's Keras model the one way every task does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.layout import TaskPaths

if TYPE_CHECKING:
    import keras


def load_saved(model_path: Path) -> keras.Model:
    """A saved model with no custom objects: loaded in safe mode, uncompiled."""
    import keras

    return keras.models.load_model(model_path, safe_mode=True, compile=False)


def load_model(model_path: Path, paths: TaskPaths) -> keras.Model:
    """The model `train` saved (a task whose model needs no assets to load)."""
    return load_saved(model_path)
