"""Params of the captions task, one model per stage section."""

from pydantic import Field

from pipeline.core.section import ImageSizeLimits, Section


class CaptionsSampleParams(Section):
    images: int = Field(400, gt=0, description="pictures in Flicker8k_Dataset")
    dev_fraction: float = Field(0.15, ge=0, lt=1)
    test_fraction: float = Field(0.15, ge=0, lt=1)
    width: int = Field(224, ge=64)
    height: int = Field(224, ge=64)


class CaptionsIngestParams(Section):
    images_dirs: list[str] = Field(
        default_factory=lambda: ["Flicker8k_Dataset", "Flickr8k_Dataset"],
        description="image folder names tried in order (the official one is misspelt)",
    )
    text_dir: str = "Flickr8k_text"


class CaptionsValidateParams(ImageSizeLimits):
    min_captions: int = Field(1, gt=0, description="fewer captions than this rejects an image")
