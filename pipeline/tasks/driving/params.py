"""Params of the driving task, one model per stage section."""

from typing import Literal

from pydantic import Field, field_validator

from pipeline.core.model_params import FinetuneParams
from pipeline.core.section import ExportParams, ImageSizeLimits, Section, tiny


class DrivingSampleParams(Section):
    frames: int = Field(
        900, gt=0, description="rows of driving_log.csv, 3 frames each", **tiny(120)
    )
    camera_offset: float = Field(
        0.5, ge=0, description="side cameras' distance from the centre, in road half-widths"
    )
    zero_fraction: float = Field(
        0.45, ge=0, le=1, description="share of track stretches that are straight"
    )
    scenery_frames: int = Field(60, gt=0, description="frames between changes of colours")
    recording_dir: str = Field(
        r"C:\Users\udacity\Desktop\track1", description="recording machine's folder in the log"
    )


class DrivingIngestParams(Section):
    logs: str = Field(
        "driving_log*.csv",
        description="file names of the logs read in every folder (a glob); a frame listed "
        "by two logs is read once, the later row flagged as a duplicate",
    )
    segment_frames: int = Field(
        40,
        gt=0,
        description="most frames per contiguous segment; a segment is never split",
        **tiny(10),
    )
    min_split_segments: int = Field(
        2,
        ge=0,
        description="segments val and test each get at least (train too); for a short "
        "recording, segments shrink below segment_frames until they can",
    )
    guard_frames: int = Field(
        2, ge=0, description="frames at a split boundary kept out of every split ('guard')"
    )
    max_gap_seconds: float = Field(
        5.0,
        gt=0,
        description="a longer pause between frames (their names hold the time), a step back "
        "in time or a new folder in the image paths starts a new recording within a log",
    )
    val_fraction: float = Field(0.15, ge=0, lt=1)
    test_fraction: float = Field(
        0.15, ge=0, lt=1, description="share of segments in test; unused with test_recordings"
    )
    test_recordings: list[str] = Field(
        default_factory=list,
        description="recordings held out whole for test (globs on the names the ingest report "
        "lists, e.g. 'UjjwalSaxena*#3'); the others split into train and val by segments. "
        "Empty: every recording split by segments",
    )


class DrivingValidateParams(ImageSizeLimits):
    min_width: int = 320
    max_width: int = 320
    min_height: int = 160
    max_height: int = 160
    steering_limit: float = Field(1.0, gt=0, description="|steering| above this is rejected")
    max_speed: float = Field(
        35.0, gt=0, description="mph; the simulator caps the car near 30 on either track"
    )


class DrivingAugmentParams(Section):
    steering_correction: float = Field(
        0.2, ge=0, description="added for the left camera, subtracted for the right one"
    )
    copies: int = Field(
        2, ge=0, description="random variants per train frame, besides itself", **tiny(1)
    )
    flip_probability: float = Field(0.5, ge=0, le=1)
    brightness: float = Field(0.4, ge=0, lt=1, description="HSV value scaled by U(1-b, 1+b)")
    shift_pixels: int = Field(40, ge=0, description="horizontal shift U(-s, s) pixels ...")
    angle_per_pixel: float | Literal["auto"] = Field(
        "auto",
        description="... changing the angle this much; auto: the recording's camera.json "
        "(the sample writes its exact 0.0125), else the real simulator's ~0.004",
    )
    zero_threshold: float = Field(0.02, ge=0, description="|angle| below this is 'straight'")

    @field_validator("angle_per_pixel")
    @classmethod
    def _not_negative(cls, value: float | str) -> float | str:
        if not isinstance(value, str) and value < 0:
            raise ValueError("must be >= 0 or auto")
        return value

    zero_keep_fraction: float = Field(
        0.3, ge=0, le=1, description="share of straight train frames kept"
    )
    histogram_bins: int = Field(21, gt=1)


class DrivingTrainParams(Section):
    model: Literal["pilotnet", "transfer"] = "pilotnet"
    batch_size: int = Field(64, gt=0)
    crop_top: int = Field(60, ge=0, description="sky rows cut off the 160-row frame")
    crop_bottom: int = Field(25, ge=0, description="hood rows cut off the frame")
    transfer_input: tuple[int, int] = Field((66, 200), description="backbone input, rows x cols")
    dropout: float = Field(0.3, ge=0, lt=1)
    fit: FinetuneParams = Field(default_factory=FinetuneParams)


class DrivingEvaluateParams(Section):
    curve_threshold: float = Field(0.1, gt=0, description="|angle| from which a frame is a curve")
    batch_size: int = Field(128, gt=0)


__all__ = [
    "DrivingAugmentParams",
    "DrivingEvaluateParams",
    "DrivingIngestParams",
    "DrivingSampleParams",
    "DrivingTrainParams",
    "DrivingValidateParams",
]


class DrivingExportParams(ExportParams):
    tolerance: float = Field(0.1, ge=0, description="test MSE may grow by this share")
    relative: bool = True
