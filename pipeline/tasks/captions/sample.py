"""Synthetic Flickr8k: scenes of coloured shapes with five true captions each.

A scene has one or two groups of objects; a group is one kind in one colour, one to three
of them, in one region of the picture. Captions are built from the scene by several
templates (kinds, colours, counts, positions, sizes), so every caption is true and the
same caption fits many different pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.core.progress import track
from pipeline.tasks.captions.params import CaptionsSampleParams

KINDS = ("circle", "square", "triangle")
COLOURS = {  # RGB
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 80, 230),
    "yellow": (240, 220, 40),
    "white": (245, 245, 245),
}
REGIONS = {  # name: (phrase, centre x, centre y) as fractions of the picture
    "left": ("on the left", 0.25, 0.5),
    "right": ("on the right", 0.75, 0.5),
    "top": ("at the top", 0.5, 0.22),
    "bottom": ("at the bottom", 0.5, 0.78),
    "middle": ("in the middle", 0.5, 0.5),
}
COUNTS = ("a", "two", "three")
TEXT_DIR = "Flickr8k_text"
IMAGES_DIR = "Flicker8k_Dataset"  # the official (misspelt) name


@dataclass(frozen=True)
class Group:
    kind: str
    colour: str
    count: int
    region: str
    large: bool

    def phrase(self, with_size: bool = False) -> str:
        noun = self.kind if self.count == 1 else f"{self.kind}s"
        size = ("large " if self.large else "small ") if with_size else ""
        return f"{COUNTS[self.count - 1]} {size}{self.colour} {noun}"

    @property
    def where(self) -> str:
        return REGIONS[self.region][0]


def random_scene(rng: np.random.Generator) -> list[Group]:
    regions = rng.choice([r for r in REGIONS if r != "middle"], 2, replace=False)
    kinds = rng.choice(KINDS, 2, replace=False)
    colours = rng.choice(list(COLOURS), 2, replace=False)
    n_groups = 1 if rng.random() < 0.4 else 2
    if n_groups == 1 and rng.random() < 0.4:
        regions[0] = "middle"
    return [
        Group(
            str(kinds[i]),
            str(colours[i]),
            int(rng.integers(1, 4)),
            str(regions[i]),
            bool(rng.random() < 0.5),
        )
        for i in range(n_groups)
    ]


def describe(scene: list[Group], rng: np.random.Generator) -> list[str]:
    """Five different true captions of `scene`."""
    first = scene[0]
    verb = "is" if first.count == 1 else "are"
    options = [
        f"{first.phrase()}",
        f"{first.phrase(True)} {first.where}",
        f"there {verb} {first.phrase()} {first.where}",
        f"a picture of {first.phrase()}",
        f"{first.phrase(True)} on a plain background",
        f"{first.phrase()} {first.where} of the picture",
    ]
    if len(scene) == 2:
        second = scene[1]
        options = [
            f"{first.phrase()} and {second.phrase()}",
            f"{first.phrase()} {first.where} and {second.phrase()} {second.where}",
            f"{second.phrase(True)} {second.where} and {first.phrase(True)} {first.where}",
            f"{first.phrase()} next to {second.phrase()}",
            f"there {verb} {first.phrase()} and {second.phrase()}",
            f"a picture of {second.phrase()} and {first.phrase()}",
        ]
    chosen = rng.choice(len(options), 5, replace=False)
    return [_flickr_style(options[i], rng) for i in chosen]


def _flickr_style(caption: str, rng: np.random.Generator) -> str:
    """Like real Flickr8k captions: often capitalised, often ending in ' .'."""
    if rng.random() < 0.7:
        caption = caption[0].upper() + caption[1:]
    return caption + (" ." if rng.random() < 0.8 else "")


def _draw(image: np.ndarray, group: Group, rng: np.random.Generator) -> None:
    height, width = image.shape[:2]
    _, fx, fy = REGIONS[group.region]
    size = (0.11 if group.large else 0.065) * min(width, height)
    spacing = 2.6 * size
    offsets = (np.arange(group.count) - (group.count - 1) / 2) * spacing
    vertical = group.region in ("left", "right")
    colour = np.clip(np.array(COLOURS[group.colour]) + rng.integers(-15, 16, 3), 0, 255)
    for offset in offsets:
        jitter = rng.normal(0, 0.06 * size, 2)
        x = fx * width + (0 if vertical else offset) + jitter[0]
        y = fy * height + (offset if vertical else 0) + jitter[1]
        r = size * rng.uniform(0.9, 1.1)
        if group.kind == "circle":
            cv2.circle(image, (int(x), int(y)), int(r), colour.tolist(), -1, cv2.LINE_AA)
            continue
        angles = rng.uniform(-0.3, 0.3) + (
            np.arange(4) * np.pi / 2 + np.pi / 4
            if group.kind == "square"
            else np.arange(3) * 2 * np.pi / 3 - np.pi / 2
        )
        points = np.stack([x + r * np.cos(angles), y + r * np.sin(angles)], 1)
        cv2.fillPoly(image, [points.astype(np.int32)], colour.tolist(), cv2.LINE_AA)


def render(scene: list[Group], width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """RGB picture: a dim textured background (never an object colour) and the groups."""
    base = rng.integers(20, 110, 3).astype(np.float32)
    gradient = np.linspace(0.8, 1.2, height, dtype=np.float32)[:, None, None]
    if rng.random() < 0.5:
        gradient = gradient.transpose(1, 0, 2)
    image = np.ones((height, width, 3), np.float32) * base * gradient
    image += rng.normal(0, 8, (height, width, 1)).astype(np.float32)
    image = np.clip(image, 0, 255).astype(np.uint8)
    for group in scene:
        _draw(image, group, rng)
    return image


def _image_id(rng: np.random.Generator) -> str:
    return f"{rng.integers(10**9, 10**10)}_{rng.bytes(5).hex()}.jpg"


def write_sample(out_dir: Path, params: CaptionsSampleParams, seed: int) -> None:
    """Write `Flicker8k_Dataset/`, the token file and the three split files into out_dir."""
    rng = np.random.default_rng(seed)
    (out_dir / IMAGES_DIR).mkdir()
    (out_dir / TEXT_DIR).mkdir()
    ids = sorted({_image_id(rng) for _ in range(params.images)})
    token_lines = []
    for image_id in track(ids, "captions: rendering"):
        scene = random_scene(rng)
        picture = render(scene, params.width, params.height, rng)
        cv2.imwrite(
            str(out_dir / IMAGES_DIR / image_id),
            cv2.cvtColor(picture, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 92],
        )
        token_lines += [f"{image_id}#{k}\t{c}" for k, c in enumerate(describe(scene, rng))]
    # The real token file names an image that is not in the dataset (`...jpg.1`).
    ghost = f"{ids[0]}.1"
    token_lines += [f"{ghost}#{k}\tA picture of nothing ." for k in range(5)]
    (out_dir / TEXT_DIR / "Flickr8k.token.txt").write_text("\n".join(token_lines) + "\n")
    order = rng.permutation(len(ids))
    n_test = round(len(ids) * params.test_fraction)
    n_dev = round(len(ids) * params.dev_fraction)
    parts = {
        "test": order[:n_test],
        "dev": order[n_test : n_test + n_dev],
        "train": order[n_test + n_dev :],
    }
    for split, indices in parts.items():
        names = "".join(f"{ids[i]}\n" for i in sorted(indices))
        (out_dir / TEXT_DIR / f"Flickr_8k.{split}Images.txt").write_text(names)
