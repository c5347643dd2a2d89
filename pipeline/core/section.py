"""Base class of every typed params section."""

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A params.yaml section: unknown keys are rejected, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageSizeLimits(Section):
    """Accepted image sizes in pixels; a validate section of a task with images extends it."""

    min_width: int = Field(32, gt=0)
    max_width: int = Field(10_000, gt=0)
    min_height: int = Field(32, gt=0)
    max_height: int = Field(10_000, gt=0)
