"""Params of the plates task, one model per stage section."""

from __future__ import annotations

from pydantic import Field, model_validator

from pipeline.core.section import ImageSizeLimits, Section

ASPECT = (1.3, 1.4)  # plate width / height
JITTER = 0.08  # largest corner shift for the perspective, as a fraction of plate width


class PlatesSampleParams(Section):
    images: int = Field(160, gt=0)  # total number of photos
    negative_fraction: float = Field(0.1, ge=0, le=1)  # share of photos with no plate
    width: int = Field(320, ge=64)  # photo size in pixels
    height: int = Field(240, ge=64)
    min_plate_width: float = Field(0.10, gt=0, le=0.5)  # plate width as a fraction of width
    max_plate_width: float = Field(0.35, gt=0, le=0.5)
    two_plate_fraction: float = Field(0.1, ge=0, le=1)  # share of plate photos with two plates
    distractor_fraction: float = Field(0.2, ge=0, le=1)  # photos with a plain light panel
    jpeg_quality: int = Field(90, ge=1, le=100)  # labelImg datasets are usually camera JPEGs

    @model_validator(mode="after")
    def _plate_range(self) -> PlatesSampleParams:
        if self.min_plate_width > self.max_plate_width:
            raise ValueError("min_plate_width must not exceed max_plate_width")
        tallest = self.max_plate_width * self.width * (1 / ASPECT[0] + 2 * JITTER)
        if tallest > self.height:
            raise ValueError(f"plates up to {tallest:.0f} px tall do not fit in height")
        return self


class PlatesIngestParams(Section):
    val_fraction: float = Field(0.15, ge=0, lt=1)
    test_fraction: float = Field(0.15, ge=0, lt=1)
    classes: list[str] = Field(
        default_factory=lambda: ["plate"],
        description="class names when the dataset has no classes.txt",
    )


class PlatesValidateParams(ImageSizeLimits):
    box_tolerance: float = Field(
        0.01, ge=0, description="how far outside [0, 1] a YOLO value may be (rounding)"
    )
    keep_classes: list[str] = Field(
        default_factory=lambda: ["plate"], description="class names the detector learns"
    )
