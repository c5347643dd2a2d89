"""Synthetic Udacity simulator recordings: a rendered road, three cameras, the real log format.

The car drives a track of straights and curves while drifting in its lane. The centre
camera's steering angle is a fixed function of what the frame shows: the road's curvature
ahead (bends the road), the car's lateral offset (shifts the near road) and its heading
error (shifts the whole road). The left and right cameras see the same scene from
`camera_offset` to the side, so their correct angle differs by about
`0.4 * camera_offset`: the textbook's ±0.2 correction for the default 0.5.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path, PureWindowsPath

import cv2
import numpy as np

from pipeline.core.progress import track
from pipeline.tasks.driving.camera import write_camera
from pipeline.tasks.driving.params import DrivingSampleParams

WIDTH, HEIGHT = 320, 160
HORIZON = 58  # first road row; the sky is above
HOOD = 135  # first row of the car's hood
FOCAL = 160.0  # pixels per unit of lateral distance at depth 1
HEADING_GAIN = 2.0  # steering per unit of heading error
DEPTH_SCALE = 2.0 * (HEIGHT - 1 - HORIZON)  # depth 2 at the bottom row
MAX_DEPTH = 30.0  # the road fades out this far ahead
MAX_CURVATURE = 0.03
START = datetime(2016, 12, 1, 13, 30, 48, 287000)
CAMERAS = ("center", "left", "right")


def steering_angle(curvature: float, offset: float, heading: float) -> float:
    """Positive = turn right: follow the bend, steer back to the lane centre and direction."""
    turn = 0.6 * curvature / MAX_CURVATURE - 0.4 * offset - HEADING_GAIN * heading
    return float(np.clip(turn, -1, 1))


def _track(n: int, rng: np.random.Generator, zero_fraction: float) -> np.ndarray:
    """(curvature, offset, heading) per frame: alternating straights and smooth curves."""
    curvature = np.zeros(n)
    frame, direction = 0, rng.choice([-1, 1])
    while frame < n:
        length = int(rng.integers(25, 70))
        if rng.random() > zero_fraction:  # a curve, eased in and out, turning the other way
            direction = -direction
            bend = direction * rng.uniform(0.25, 1.0) * MAX_CURVATURE
            ease = np.sin(np.linspace(0, np.pi, length))[: n - frame]
            curvature[frame : frame + length] = bend * ease
        frame += length
    drift = np.cumsum(rng.normal(0, 0.04, n))
    offset = 0.6 * np.tanh(drift - _smooth(drift, 30))
    heading = 0.04 * np.tanh(_smooth(rng.normal(0, 1, n), 15))
    return np.stack([curvature, offset, heading], axis=1)


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average of the same length as `values`."""
    window = min(window, len(values))
    return np.convolve(values, np.ones(window) / window, mode="same")


def _angles(states: np.ndarray) -> np.ndarray:
    """Steering per frame; exactly 0 on straights when the car is near the lane centre."""
    angles = np.array([steering_angle(*state) for state in states])
    straight = (np.abs(states[:, 0]) < 1e-9) & (np.abs(states[:, 1]) < 0.2)
    angles[straight & (np.abs(states[:, 2]) < 0.02)] = 0.0
    return angles.round(4)


def _scenery(rng: np.random.Generator) -> dict:
    """Colours of one stretch of track, so the same angle is seen in many looks."""
    return {
        "sky": rng.integers(120, 255, 3),
        "grass": rng.integers(30, 140, 3) * np.array([0.7, 1.0, 0.7]),
        "road": rng.integers(70, 130) + rng.integers(-10, 10, 3),
        "line": (235, 235, 235) if rng.random() < 0.7 else (230, 200, 40),
        "light": rng.uniform(0.6, 1.1),
    }


def render(
    state: np.ndarray, camera_shift: float, scenery: dict, phase: float, noise: np.ndarray
) -> np.ndarray:
    """One RGB frame of the road seen from `camera_shift` beside the car's centre."""
    curvature, offset, heading = state
    image = np.empty((HEIGHT, WIDTH, 3), np.float32)
    image[:HORIZON] = scenery["sky"]
    image[HORIZON:] = scenery["grass"]
    rows = np.arange(HORIZON + int(DEPTH_SCALE / MAX_DEPTH), HEIGHT)
    depth = DEPTH_SCALE / (rows - HORIZON)
    lateral = 0.5 * curvature * depth**2 - heading * depth - (offset + camera_shift)
    centre = WIDTH / 2 + FOCAL * lateral / depth
    half = FOCAL * 1.0 / depth
    left, right = centre - half, centre + half
    road = np.concatenate([np.stack([left, rows], 1), np.stack([right, rows], 1)[::-1]])
    cv2.fillPoly(image, [road.astype(np.int32)], scenery["road"].tolist())
    for edge in (left + 0.06 * half, right - 0.06 * half):
        cv2.polylines(
            image, [np.stack([edge, rows], 1).astype(np.int32)], False, scenery["line"], 2
        )
    dashes = ((depth + phase) % 2.0) < 1.0
    for row, x, on in zip(rows, centre, dashes, strict=True):
        if on:
            width = max(1, int(0.04 * FOCAL / DEPTH_SCALE * (row - HORIZON)))
            image[row, max(0, int(x) - width) : int(x) + width] = 235
    image[HOOD:] = (40, 40, 45)
    image = image * scenery["light"] + noise
    return np.clip(image, 0, 255).astype(np.uint8)


def _timestamps(n: int, rng: np.random.Generator) -> list[str]:
    steps = np.cumsum(rng.integers(60, 71, n))
    return [
        (START + timedelta(milliseconds=int(ms))).strftime("%Y_%m_%d_%H_%M_%S_%f")[:-3]
        for ms in steps
    ]


def write_sample(out_dir: Path, params: DrivingSampleParams, seed: int) -> None:
    """Write `driving_log.csv` (no header, absolute Windows paths), `IMG/` and `camera.json`
    into out_dir.

    A frame shifted `p` pixels sideways shows the road of a heading error `-p / FOCAL`, so
    its angle moves by `HEADING_GAIN / FOCAL` per pixel: `camera.json` records it for
    `augment.driving.angle_per_pixel: auto`.
    """
    rng = np.random.default_rng(seed)
    states = _track(params.frames, rng, params.zero_fraction)
    angles = _angles(states)
    stamps = _timestamps(params.frames, rng)
    (out_dir / "IMG").mkdir()
    recording = PureWindowsPath(params.recording_dir) / "IMG"
    lines, scenery, speed = [], _scenery(rng), 20.0
    shifts = {"center": 0.0, "left": -params.camera_offset, "right": params.camera_offset}
    for i in track(range(params.frames), "driving: rendering"):
        if i % params.scenery_frames == 0:
            scenery = _scenery(rng)
        noise = rng.normal(0, 6, (HEIGHT, WIDTH, 1)).astype(np.float32)
        speed = float(np.clip(speed + rng.normal(0, 0.5), 8, 30.19))
        names = [f"{camera}_{stamps[i]}.jpg" for camera in CAMERAS]
        for camera, name in zip(CAMERAS, names, strict=True):
            frame = render(states[i], shifts[camera], scenery, i * 0.3, noise)
            cv2.imwrite(
                str(out_dir / "IMG" / name),
                cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 90],
            )
        throttle = 0.0 if abs(angles[i]) > 0.5 else round(float(rng.uniform(0.2, 1.0)), 4)
        brake = round(float(rng.uniform(0, 0.3)), 4) if rng.random() < 0.03 else 0
        paths = [str(recording / name) for name in names]
        lines.append(
            ", ".join([*paths, f"{angles[i]:g}", f"{throttle:g}", f"{brake:g}", f"{speed:.4f}"])
        )
    (out_dir / "driving_log.csv").write_text("\n".join(lines) + "\n")
    write_camera(out_dir, HEADING_GAIN / FOCAL)
