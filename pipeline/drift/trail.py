"""The serving trail: statistics and predictions of served images, for `pipeline drift`.

Off unless asked: `record` is called by serving with what it served; it keeps a random
`sample_rate` share of the images, and of each one only its statistics, its pixel embedding
(192 numbers) and the model's answer, never the image unless `keep_images`. One JSON line
per image in `<folder>/<task>/trail.jsonl`; past `max_bytes` the file is moved to
`trail.1.jsonl` (the one before is dropped), so a trail never holds more than twice that.

Serving turns it on with environment variables (`record_from_env`): `PIPELINE_TRAIL_DIR`
(the folder; unset = off), `PIPELINE_TRAIL_RATE` (share of images kept, default 0.1) and
`PIPELINE_TRAIL_IMAGES=1` (keep the images too, as PNG). A trail that cannot be written
never fails a request: it warns once on the `pipeline.drift.trail` logger.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TRAIL_FILE, OLD_TRAIL_FILE = "trail.jsonl", "trail.1.jsonl"
IMAGES_DIR = "images"
MAX_BYTES = 20_000_000
MAX_TEXT = 500  # characters of a text prediction kept
ENV_DIR, ENV_RATE, ENV_IMAGES = "PIPELINE_TRAIL_DIR", "PIPELINE_TRAIL_RATE", "PIPELINE_TRAIL_IMAGES"
DEFAULT_RATE = 0.1

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _rgb(image: Any) -> np.ndarray:
    if isinstance(image, bytes | bytearray):
        from pipeline.core.images import decode_image

        return decode_image(bytes(image))
    return np.asarray(image)


def _plain(value: Any) -> Any:
    """A prediction cell as JSON: numbers as numbers, text cut to MAX_TEXT characters."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)[:MAX_TEXT]


def _save_image(folder: Path, rgb: np.ndarray) -> str:
    import cv2

    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    data = png.tobytes()
    name = f"{IMAGES_DIR}/{hashlib.sha256(data).hexdigest()[:24]}.png"
    target = folder / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return name


def _append(folder: Path, lines: list[str], max_bytes: int) -> None:
    """Append whole lines under an exclusive lock; rotate the file once it is too big."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TRAIL_FILE
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and path.stat().st_size >= max_bytes:
            path.replace(folder / OLD_TRAIL_FILE)
        with path.open("a", encoding="utf-8") as out:
            out.write("".join(lines))


def record(
    folder: Path,
    task: str,
    images: Sequence[Any],
    predictions: pd.DataFrame | None,
    sample_rate: float,
    keep_images: bool = False,
    *,
    rng: random.Random | None = None,
    max_bytes: int = MAX_BYTES,
) -> int:
    """Append a `sample_rate` share of `images` (encoded bytes or RGB uint8 arrays) with
    their row of `predictions` (the pyfunc's output, one row per image) to the task's trail;
    how many were kept."""
    from pipeline.drift.embedding import pixel_embedding
    from pipeline.drift.stats import image_stats

    if sample_rate <= 0 or not len(images):
        return 0
    draw = rng or random
    rows = predictions.reset_index(drop=True) if predictions is not None else None
    where = Path(folder) / task
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    lines = []
    for index, image in enumerate(images):
        if draw.random() >= sample_rate:
            continue
        rgb = _rgb(image)
        entry: dict[str, Any] = {
            "time": now,
            "task": task,
            "stats": {k: round(v, 4) for k, v in image_stats(rgb).items()},
            "pixels": [round(float(x), 4) for x in pixel_embedding(rgb)],
        }
        if rows is not None and index < len(rows):
            entry["prediction"] = {str(k): _plain(v) for k, v in rows.iloc[index].items()}
        if keep_images:
            entry["image"] = _save_image(where, rgb)
        lines.append(json.dumps(entry) + "\n")
    if lines:
        _append(where, lines, max_bytes)
    return len(lines)


def record_from_env(task: str, images: Sequence[Any], predictions: pd.DataFrame | None) -> int:
    """`record` as the environment asks (nothing when `PIPELINE_TRAIL_DIR` is unset); never
    raises, since a trail must not fail the request it describes."""
    folder = os.environ.get(ENV_DIR)
    if not folder:
        return 0
    try:
        rate = float(os.environ.get(ENV_RATE, DEFAULT_RATE))
        keep = os.environ.get(ENV_IMAGES, "0").lower() in ("1", "true", "yes")
        return record(Path(folder), task, images, predictions, rate, keep)
    except Exception as err:  # a full disk or a bad setting: serving goes on
        if folder not in _warned:
            _warned.add(folder)
            log.warning("serving trail %s not written: %s", folder, err)
        return 0


def trail_dir(folder: Path, task: str) -> Path | None:
    """The folder holding `task`'s trail: `folder/<task>/` or `folder` itself, else None."""
    for candidate in (folder / task, folder):
        if (candidate / TRAIL_FILE).is_file() or (candidate / OLD_TRAIL_FILE).is_file():
            return candidate
    return None


def read(folder: Path) -> list[dict[str, Any]]:
    """Every record of a trail folder (from `trail_dir`), oldest first; bad lines skipped."""
    records = []
    for name in (OLD_TRAIL_FILE, TRAIL_FILE):
        path = folder / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut by a crash mid-write
                continue
            if isinstance(entry, dict) and isinstance(entry.get("stats"), dict):
                records.append(entry)
    return records
