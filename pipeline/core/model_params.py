"""Params of the shared model machinery (backbone, pretraining, fine-tuning, devices).

Kept apart from the modules that use them so that reading params never imports TensorFlow.
"""

from typing import Literal

from pydantic import Field

from pipeline.core.section import Section, tiny


class BackboneParams(Section):
    name: Literal["MobileNetV2", "VGG16", "InceptionV3", "ResNet50", "EfficientNetB0"] = (
        "MobileNetV2"
    )
    weights: str = Field(
        "auto",
        description="auto (imagenet if it can be had, else selfsup) | imagenet | selfsup | none "
        "| path to a weights file",
    )
    alpha: float = Field(0.35, gt=0, description="width multiplier, MobileNetV2 only")


class PretrainParams(Section):
    image_size: int = Field(96, ge=32)
    images_per_task: int = Field(300, gt=0, description="unlabelled train images per task")
    epochs: int = Field(4, gt=0)
    batch_size: int = Field(64, gt=0)
    learning_rate: float = Field(2e-3, gt=0)
    val_fraction: float = Field(0.15, gt=0, lt=1)


class FinetuneParams(Section):
    head_epochs: int = Field(5, ge=0, description="phase 1: base frozen, head trained", **tiny(1))
    finetune_epochs: int = Field(
        3,
        ge=0,
        description="phase 2: top layers of the base trainable; 0 = feature extractor",
        **tiny(0),
    )
    unfreeze: int = Field(20, ge=0, description="top layers of the base trained in phase 2")
    learning_rate: float = Field(1e-3, gt=0)
    finetune_learning_rate_factor: float = Field(0.1, gt=0)
    patience: int = Field(3, gt=0, description="early stopping on val_loss, best weights kept")


class AcceleratorParams(Section):
    mixed_precision: Literal["auto", "on", "off"] = Field(
        "auto", description="auto = on for GPUs with tensor cores"
    )
    jit_compile: bool = False
