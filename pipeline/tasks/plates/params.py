"""Params of the plates task, one model per stage section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipeline.core.model_params import FinetuneParams
from pipeline.core.section import ExportParams, ImageSizeLimits, Section, tiny

ASPECT = (1.3, 1.4)  # plate width / height (two-line motorbike plates)
ONE_LINE_ASPECT = (3.5, 4.5)  # one-line car plates
ONE_LINE_WIDTH = 1.5  # one-line plates are this much wider than the width range says
JITTER = 0.08  # largest corner shift for the perspective, as a fraction of plate width


class PlatesSampleParams(Section):
    images: int = Field(160, gt=0, **tiny(20))  # total number of photos
    negative_fraction: float = Field(0.1, ge=0, le=1)  # share of photos with no plate
    width: int = Field(320, ge=64)  # photo size in pixels
    height: int = Field(240, ge=64)
    min_plate_width: float = Field(0.10, gt=0, le=0.5)  # plate width as a fraction of width
    max_plate_width: float = Field(0.35, gt=0, le=0.5)
    two_plate_fraction: float = Field(0.1, ge=0, le=1)  # share of plate photos with two plates
    one_line_fraction: float = Field(0.15, ge=0, le=1)  # share of plates on one line (cars)
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
    test_sources: list[str] = Field(
        default_factory=list,
        description="globs of top-level dataset folders held out: all their photos are test, "
        "the others train and val (test_fraction unused); empty: one split of every source",
    )
    classes: list[str] = Field(
        default_factory=lambda: ["plate"],
        description="names of class ids 0, 1, ... when a dataset names none "
        "(no classes.txt, no *.yaml with names:, GreenParking)",
    )


class PlatesValidateParams(ImageSizeLimits):
    box_tolerance: float = Field(
        0.01, ge=0, description="how far outside [0, 1] a YOLO value may be (rounding)"
    )
    keep_classes: list[str] | None = Field(
        None,
        description="class names the detector learns; None: every class the labels use "
        "(an image with a box of another class is rejected)",
    )


class PlatesAugmentParams(Section):
    """The textbook's four ways to diversify plates; each applied with its probability."""

    copies: int = Field(
        2, ge=0, description="augmented variants per train image, besides itself", **tiny(1)
    )
    border_probability: float = Field(0.5, ge=0, le=1)
    max_border: float = Field(
        0.3, ge=0, le=1, description="replicated border per side, as a fraction of the side"
    )
    crop_probability: float = Field(0.5, ge=0, le=1)
    min_crop: float = Field(
        0.6, gt=0, le=1, description="smallest crop side as a fraction (plates always kept)"
    )
    brightness_probability: float = Field(0.5, ge=0, le=1)
    brightness: float = Field(0.4, ge=0, lt=1, description="HSV value scaled by U(1-b, 1+b)")
    rotation_probability: float = Field(0.5, ge=0, le=1)
    max_rotation: float = Field(10.0, ge=0, le=90, description="degrees, U(-r, r)")
    min_visible: float = Field(
        0.5, gt=0, le=1, description="a box keeping less of its area inside the image is dropped"
    )
    grid_images: int = Field(12, ge=1, description="augmented samples drawn in the report grid")


class PlatesTrainParams(Section):
    detector: Literal["centernet", "retinanet"] = Field(
        "centernet", description="centernet: compact, CPU-friendly; retinanet: keras-hub, GPU"
    )
    input_size: tuple[int, int] = Field(
        (192, 256), description="network input, rows x cols", **tiny([64, 96])
    )
    stride: Literal[8, 16] = Field(8, description="centernet output stride")
    head_width: int = Field(
        64, gt=0, description="channels of the centernet head convolutions", **tiny(8)
    )
    heat_sigma: float = Field(
        0.15, gt=0, description="Gaussian of a centre, as a fraction of the box side"
    )
    size_loss_weight: float = Field(0.1, ge=0)
    offset_loss_weight: float = Field(1.0, ge=0)
    batch_size: int = Field(16, gt=0, **tiny(8))
    max_detections: int = Field(20, gt=0)
    fit: FinetuneParams = Field(default_factory=FinetuneParams)


class PlatesEvaluateParams(Section):
    score_threshold: float = Field(
        0.3, gt=0, lt=1, description="operating threshold for precision, recall and drawings"
    )
    min_score: float = Field(
        0.01, ge=0, lt=1, description="lowest score kept for the precision-recall curve and AP"
    )
    iou_threshold: float = Field(0.5, gt=0, le=1, description="a detection matches a plate from")
    batch_size: int = Field(16, gt=0)
    grid_images: int = Field(9, ge=1)


class PlatesExportParams(ExportParams):
    tolerance: float = Field(0.02, ge=0, description="test AP50 may drop this much")
    relative: bool = False
