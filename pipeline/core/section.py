"""Base class of every typed params section, and the tiny value a field declares."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TINY = "tiny"


def tiny(value: Any) -> dict[str, Any]:
    """`Field(default, **tiny(value))`: the field's value in a run of seconds (the tests' one
    params profile, smoke runs), declared beside its default."""
    return {"json_schema_extra": {TINY: value}}


def tiny_values(model: type[BaseModel]) -> dict[str, Any]:
    """The tiny values `model` and its nested sections declare, nested as params.yaml is."""
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        key = field.alias or name
        if isinstance(extra, dict) and TINY in extra:
            found[key] = extra[TINY]
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            nested = tiny_values(field.annotation)
            if nested:
                found[key] = nested
    return found


class Section(BaseModel):
    """A params.yaml section: unknown keys are rejected, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageSizeLimits(Section):
    """Accepted image sizes in pixels; a validate section of a task with images extends it."""

    min_width: int = Field(32, gt=0)
    max_width: int = Field(10_000, gt=0)
    min_height: int = Field(32, gt=0)
    max_height: int = Field(10_000, gt=0)


class ExportParams(Section):
    """`export.<task>`: how much worse than the Keras model an exported file may score."""

    tolerance: float = Field(
        0.1, ge=0, description="how much worse the export's primary test metric may be"
    )
    relative: bool = Field(
        True, description="tolerance as a share of the Keras figure (else in metric units)"
    )
    calibration_images: int = Field(
        200, gt=0, description="train-split inputs int8 calibrates its ranges on"
    )
    latency_images: int = Field(50, gt=0, description="test inputs timed one at a time")
    batch_size: int = Field(32, gt=0, description="inputs per call while scoring")
