"""Params of the plates_text task (reading plate text), one model per stage section."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.core.section import ExportParams, ImageSizeLimits, Section, tiny


class PlateTextIngestParams(Section):
    # the photos' split is the plates task's: keep these equal to ingest.plates'
    val_fraction: float = Field(0.15, ge=0, lt=1)
    test_fraction: float = Field(0.15, ge=0, lt=1)
    test_sources: list[str] = Field(
        default_factory=list, description="sources held out for test (as ingest.plates')"
    )
    classes: list[str] = Field(
        default_factory=lambda: ["plate"],
        description="names of class ids when a dataset names none (as ingest.plates.classes)",
    )


class PlateTextValidateParams(ImageSizeLimits):
    min_length: int = Field(4, ge=1, description="canonical text shorter than this is rejected")
    max_length: int = Field(12, ge=1, description="longer than this is rejected")
    min_box_pixels: int = Field(
        8, ge=1, description="a plate box narrower or lower than this in pixels is unreadable"
    )


class PlateTextAugmentParams(Section):
    """Crops cut with the true boxes, as the recogniser reads them; train crops varied."""

    height: int = Field(32, ge=16, description="recogniser input rows")
    width: int = Field(
        128, ge=32, description="recogniser input columns (a two-line plate's halves side by side)"
    )
    margin: float = Field(0.05, ge=0, le=0.5, description="box grown by this share per side")
    copies: int = Field(
        2, ge=0, description="augmented variants per train crop, besides itself", **tiny(1)
    )
    max_shift: float = Field(0.06, ge=0, le=0.3, description="box corners jitter, share of side")
    max_rotation: float = Field(4.0, ge=0, le=30, description="degrees, U(-r, r)")
    brightness: float = Field(0.35, ge=0, lt=1, description="value scaled by U(1-b, 1+b)")
    blur_probability: float = Field(0.3, ge=0, le=1)
    synthetic: int = Field(
        600,
        ge=0,
        description="rendered plates added to the train split (0: none); without them ~100 "
        "plates are memorised before CTC leaves its all-blank phase",
    )
    synthetic_one_line_fraction: float = Field(0.15, ge=0, le=1)
    grid_images: int = Field(24, ge=1, description="train crops drawn in the report grid")


class PlateTextTrainParams(Section):
    batch_size: int = Field(16, gt=0, description="small: more steps out of CTC's blank phase")
    epochs: int = Field(16, gt=0, **tiny(1))
    learning_rate: float = Field(2e-3, gt=0)
    decay_to: float = Field(
        0.05,
        gt=0,
        le=1,
        description="the learning rate falls along a cosine to this share of itself by the "
        "last epoch (1: constant)",
    )
    patience: int = Field(
        8,
        gt=0,
        description="early stopping on val_loss, best weights kept; CTC's val loss can rise "
        "for a few epochs before the reader starts emitting characters",
    )
    conv_filters: tuple[int, int, int] = Field((32, 64, 96), description="per conv block")
    rnn_units: int = Field(64, gt=0, description="per direction of the bidirectional GRU")
    dropout: float = Field(0.2, ge=0, lt=1)

    @model_validator(mode="after")
    def _positive(self) -> PlateTextTrainParams:
        if min(self.conv_filters) <= 0:
            raise ValueError("conv_filters must be positive")
        return self


class PlateTextEvaluateParams(Section):
    batch_size: int = Field(64, gt=0)
    examples: int = Field(16, ge=0, description="test crops drawn with their reading")
    max_positions: int = Field(10, ge=1, description="character positions in the confusion plot")


class PlateTextExportParams(ExportParams):
    tolerance: float = Field(0.02, ge=0, description="exact-plate accuracy may drop this much")
    relative: bool = False
