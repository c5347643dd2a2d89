"""Params of the captions task, one model per stage section."""

from pydantic import Field

from pipeline.core.section import ImageSizeLimits, Section


class CaptionsIngestParams(Section):
    images_dirs: list[str] = Field(
        default_factory=lambda: ["Flicker8k_Dataset", "Flickr8k_Dataset"],
        description="image folder names tried in order (the official one is misspelt)",
    )
    text_dir: str = "Flickr8k_text"


class CaptionsValidateParams(ImageSizeLimits):
    min_captions: int = Field(1, gt=0, description="fewer captions than this rejects an image")

from pipeline.tasks.captions.sample import CaptionsSampleParams  # noqa: E402  (moved here once written)
