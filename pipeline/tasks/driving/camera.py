"""How much a horizontal shift of a frame changes its steering angle, per pixel.

It depends on the camera, which the simulator's log does not record. The synthetic sample
knows its own exactly (a heading error `h` shifts the whole road by `FOCAL * h` pixels and
its angle has `-2 h` in it: 2 / 160 = 0.0125 per pixel) and writes it into `camera.json`
beside its log. A recording without that file is taken for the real Udacity simulator,
whose usual figure is about 0.004 per pixel (a rule of thumb of the behavioural-cloning
write-ups, not a measurement): with the sample's figure, a 30-pixel shift would move a
real frame's angle by 0.375 where the picture moved it by about 0.12.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import DatasetError

CAMERA_FILE = "camera.json"
REAL_SIMULATOR = 0.004


@dataclass(frozen=True)
class AnglePerPixel:
    value: float
    source: str  # where the value comes from, for the augment report and the stage's line


def write_camera(out_dir: Path, angle_per_pixel: float) -> None:
    """The sample's own camera figure, for `angle_per_pixel: auto`."""
    text = json.dumps({"angle_per_pixel": angle_per_pixel}, indent=2) + "\n"
    (out_dir / CAMERA_FILE).write_text(text)


def angle_per_pixel(setting: float | str, raw_dir: Path) -> AnglePerPixel:
    """The value to use: the param's number, or with `auto` the recording's `camera.json`,
    else the real simulator's figure."""
    if not isinstance(setting, str):
        return AnglePerPixel(float(setting), "augment.driving.angle_per_pixel")
    path = raw_dir / CAMERA_FILE
    if not path.is_file():
        return AnglePerPixel(
            REAL_SIMULATOR,
            f"auto: no {CAMERA_FILE} in {raw_dir}, so the real simulator's ~{REAL_SIMULATOR}; "
            "set augment.driving.angle_per_pixel for another camera",
        )
    if not path.resolve().is_relative_to(raw_dir.resolve()):
        raise DatasetError(f"{path} leads outside {raw_dir}: not read")
    try:
        value = json.loads(path.read_text())["angle_per_pixel"]
    except (ValueError, KeyError, TypeError) as err:
        raise DatasetError(
            f"{path}: not a camera description ({err}); it holds "
            '{"angle_per_pixel": <number>}, or set augment.driving.angle_per_pixel'
        ) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise DatasetError(f"{path}: angle_per_pixel must be a number >= 0, not {value!r}")
    return AnglePerPixel(float(value), f"auto: {path}")
