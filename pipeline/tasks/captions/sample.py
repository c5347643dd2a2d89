"""Synthetic Flickr8k: pictures of coloured shapes, each with five true captions.

A scene is one or two groups on a named background; a group is one to three objects of one
kind, colour and size in one region (left, right, top, bottom or middle). Captions are built
from the scene with several templates and word orders, so every caption is true of the
pixels, the same caption fits many pictures, and the ~55-word vocabulary recurs often enough
for a small CNN + LSTM model to learn from a few hundred pictures.

The params model lives in `params.py` like every task's; it is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.core.progress import track
from pipeline.tasks.captions.params import CaptionsSampleParams

IMAGES_DIR = "Flicker8k_Dataset"  # the official (misspelt) name
TEXT_DIR = "Flickr8k_text"
TOKEN_FILE = "Flickr8k.token.txt"

KINDS = ("circle", "square", "triangle", "star")
COLOURS = {  # RGB; bright, so none is near a background colour
    "red": (225, 35, 35),
    "green": (40, 200, 60),
    "blue": (45, 90, 235),
    "yellow": (245, 225, 40),
    "white": (245, 245, 245),
}
BACKGROUNDS = {  # RGB; dim, so every object stands out
    "black": (22, 22, 26),
    "grey": (112, 112, 112),
    "brown": (105, 68, 38),
    "purple": (78, 40, 98),
}
REGIONS = {  # name: (phrase, centre x, centre y as fractions of the picture)
    "left": ("on the left", 0.25, 0.5),
    "right": ("on the right", 0.75, 0.5),
    "top": ("at the top", 0.5, 0.22),
    "bottom": ("at the bottom", 0.5, 0.78),
    "middle": ("in the middle", 0.5, 0.5),
}
PAIRED_REGIONS = (("left", "right"), ("top", "bottom"))  # two groups never share a region
NUMBERS = {2: "two", 3: "three"}
RADIUS = {False: 0.055, True: 0.1}  # object radius per `large`, as a fraction of the short side
SPACING = 2.9  # centre distance of neighbours in radii: wide enough that objects never touch
TWO_GROUP_FRACTION = 0.55  # share of scenes with two groups
JPEG_QUALITY = 92


@dataclass(frozen=True)
class Group:
    """`count` objects of one kind, colour and size, in a row in `region`."""

    kind: str
    colour: str
    count: int
    region: str
    large: bool


@dataclass(frozen=True)
class Scene:
    groups: tuple[Group, ...]
    background: str


def _random_group(rng: np.random.Generator, region: str) -> Group:
    kind, colour = KINDS[rng.integers(len(KINDS))], list(COLOURS)[rng.integers(len(COLOURS))]
    return Group(kind, colour, int(rng.integers(1, 4)), region, bool(rng.random() < 0.5))


def random_scene(rng: np.random.Generator) -> Scene:
    """One group anywhere, or two groups on opposite sides that differ in kind or colour."""
    background = list(BACKGROUNDS)[rng.integers(len(BACKGROUNDS))]
    if rng.random() >= TWO_GROUP_FRACTION:
        return Scene((_random_group(rng, list(REGIONS)[rng.integers(len(REGIONS))]),), background)
    regions = PAIRED_REGIONS[rng.integers(2)]
    first = _random_group(rng, regions[0])
    second = _random_group(rng, regions[1])
    while (second.kind, second.colour) == (first.kind, first.colour):
        second = _random_group(rng, regions[1])
    return Scene((first, second), background)


def _noun(group: Group, rng: np.random.Generator, sized: bool = False, one: bool = False) -> str:
    """`a red circle`, `one small red circle`, `two large blue squares`..."""
    number = NUMBERS.get(group.count, "one" if one else "a")
    size = ""
    if sized:
        size = ("big " if rng.random() < 0.2 else "large ") if group.large else "small "
    plural = "s" if group.count > 1 else ""
    return f"{number} {size}{group.colour} {group.kind}{plural}"


def _be(group: Group) -> str:
    return "is" if group.count == 1 else "are"


def _where(group: Group) -> str:
    return REGIONS[group.region][0]


def _a_picture(rng: np.random.Generator) -> str:
    return "an image" if rng.random() < 0.2 else "a picture"


def _single_options(g: Group, background: str, rng: np.random.Generator) -> list[str]:
    noun, sized, be, where = _noun(g, rng), _noun(g, rng, sized=True), _be(g), _where(g)
    a_picture = _a_picture(rng)
    return [
        f"{noun} {where}",
        f"{_noun(g, rng, one=True)} {where}",
        f"{sized} {where}",
        f"there {be} {sized} {where} of the {a_picture.split()[-1]}",
        f"{noun} {be} {where}",
        f"{noun} on a {background} background",
        f"{sized} {where} on a {background} background",
        f"{a_picture} of {sized}",
        f"{where} there {be} {noun}",
    ]


def _relation(a: Group, rng: np.random.Generator) -> str:
    """Where `a` is relative to the other group, which is always on the opposite side."""
    if a.region in ("top", "bottom"):
        return "above" if a.region == "top" else "below"
    return "beside" if rng.random() < 0.3 else "next to"


def _pair_options(scene: Scene, rng: np.random.Generator) -> list[str]:
    """Each template with the two groups in a random order."""
    background, a_picture = scene.background, _a_picture(rng)

    def options(a: Group, b: Group) -> list[str]:
        na, nb = _noun(a, rng), _noun(b, rng)
        sa, sb = _noun(a, rng, sized=True), _noun(b, rng, sized=True)
        return [
            f"{na} and {nb}",
            f"{na} {_where(a)} and {nb} {_where(b)}",
            f"{sa} and {sb}",
            f"{na} {_relation(a, rng)} {nb}",
            f"there {_be(a)} {na} and {nb}",
            f"{na} and {nb} on a {background} background",
            f"{a_picture} of {na} and {nb}",
            f"{sa} {_relation(a, rng)} {sb}",
            f"{na} {_be(a)} {_where(a)} and {nb} {_be(b)} {_where(b)}",
        ]

    forward, backward = options(*scene.groups), options(*reversed(scene.groups))
    return [f if rng.random() < 0.5 else b for f, b in zip(forward, backward, strict=True)]


def describe(scene: Scene, rng: np.random.Generator) -> list[str]:
    """Five different captions, each naming every group's count, colour and kind."""
    if len(scene.groups) == 1:
        options = _single_options(scene.groups[0], scene.background, rng)
    else:
        options = _pair_options(scene, rng)
    options = list(dict.fromkeys(options))  # `one`/`a` options coincide for plural groups
    return [_flickr_style(options[i], rng) for i in rng.choice(len(options), 5, replace=False)]


def _flickr_style(caption: str, rng: np.random.Generator) -> str:
    """Like real Flickr8k captions: mostly capitalised, mostly ending in ' .'."""
    if rng.random() < 0.75:
        caption = caption[0].upper() + caption[1:]
    return caption + (" ." if rng.random() < 0.85 else "")


def _background(name: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """The named colour, shaded plainly, by a gradient, stripes, a checker or soft blotches."""
    jitter = rng.uniform(-12, 12) + rng.uniform(-3, 3, 3)  # mostly brightness: grey stays grey
    base = (np.array(BACKGROUNDS[name]) + jitter).astype(np.float32)
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    angle = rng.uniform(0, 2 * np.pi)
    along = np.cos(angle) * xs + np.sin(angle) * ys
    style = rng.integers(5)
    if style == 0:
        shade = np.ones_like(along)
    elif style == 1:
        shade = 1 + rng.uniform(0.2, 0.4) * (along - along.mean())
    elif style == 2:
        shade = 1 + 0.12 * np.sin(2 * np.pi * rng.uniform(4, 12) * along)
    elif style == 3:
        cells = rng.integers(4, 10)
        shade = 1 + 0.1 * np.sign(np.sin(np.pi * cells * xs) * np.sin(np.pi * cells * ys))
    else:
        blotches = rng.normal(0, 0.15, (6, 6)).astype(np.float32)
        shade = 1 + cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(base * shade[..., None], 0, 255).astype(np.uint8)


def _outline(kind: str, x: float, y: float, r: float, angle: float) -> np.ndarray:
    """Polygon corners of a square, triangle or five-pointed star of about radius `r`."""
    if kind == "square":
        turns, radii = angle + np.pi / 4 + np.arange(4) * np.pi / 2, np.full(4, 1.2 * r)
    elif kind == "triangle":
        turns, radii = angle - np.pi / 2 + np.arange(3) * 2 * np.pi / 3, np.full(3, 1.3 * r)
    else:
        turns, radii = angle - np.pi / 2 + np.arange(10) * np.pi / 5, np.tile([1.3, 0.55], 5) * r
    return np.stack([x + radii * np.cos(turns), y + radii * np.sin(turns)], axis=1)


def _draw_group(image: np.ndarray, group: Group, rng: np.random.Generator) -> None:
    """The group's objects in a row (a column on the left or right), slightly jittered."""
    height, width = image.shape[:2]
    r = RADIUS[group.large] * min(width, height)
    _, fx, fy = REGIONS[group.region]
    vertical = group.region in ("left", "right")
    half_span = (group.count - 1) / 2 * SPACING * r + 1.45 * r  # centre to the farthest edge
    limit_x, limit_y = (1.45 * r, half_span) if vertical else (half_span, 1.45 * r)
    cx = np.clip(fx * width + rng.normal(0, 0.02 * width), limit_x, width - limit_x)
    cy = np.clip(fy * height + rng.normal(0, 0.02 * height), limit_y, height - limit_y)
    colour = np.clip(np.array(COLOURS[group.colour]) + rng.integers(-15, 16, 3), 0, 255).tolist()
    for offset in (np.arange(group.count) - (group.count - 1) / 2) * SPACING * r:
        x, y = (cx, cy + offset) if vertical else (cx + offset, cy)
        x, y = x + rng.normal(0, 0.04 * r), y + rng.normal(0, 0.04 * r)
        size = r * rng.uniform(0.9, 1.1)
        if group.kind == "circle":  # shift=4: sub-pixel centre and radius, in 1/16 pixels
            centre = (round(x * 16), round(y * 16))
            cv2.circle(image, centre, round(size * 16), colour, -1, cv2.LINE_AA, shift=4)
        else:
            corners = _outline(group.kind, x, y, size, rng.uniform(-0.35, 0.35))
            cv2.fillPoly(image, [np.round(corners * 16).astype(np.int32)], colour, cv2.LINE_AA, 4)


def render(scene: Scene, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """The scene as an RGB uint8 picture with a little blur and sensor noise."""
    image = _background(scene.background, width, height, rng)
    for group in scene.groups:
        _draw_group(image, group, rng)
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 0.9))
    noise = rng.standard_normal(image.shape, dtype=np.float32) * rng.uniform(2, 7)
    return cv2.convertScaleAbs(image.astype(np.float32) + noise)  # rounds and clips to uint8


def _image_ids(rng: np.random.Generator, n: int) -> list[str]:
    """`n` distinct Flickr-style ids, `<10 digits>_<10 hex>`."""
    ids: dict[str, None] = {}
    while len(ids) < n:
        ids[f"{rng.integers(10**9, 10**10)}_{rng.bytes(5).hex()}"] = None
    return list(ids)


def _token_lines(name: str, captions: list[str]) -> str:
    return "".join(f"{name}#{k}\t{caption}\n" for k, caption in enumerate(captions))


def _split_names(
    names: list[str], params: CaptionsSampleParams, rng: np.random.Generator
) -> dict[str, list[str]]:
    """Disjoint train, dev and test lists, sizes rounded from the fractions."""
    n_test, n_dev = (
        round(len(names) * params.test_fraction),
        round(len(names) * params.dev_fraction),
    )
    if n_test + n_dev >= len(names):
        raise ValueError("dev_fraction + test_fraction leave no training image")
    test, dev, train = np.split(rng.permutation(names), [n_test, n_test + n_dev])
    return {"train": train.tolist(), "dev": dev.tolist(), "test": test.tolist()}


def write_sample(out_dir: Path, params: CaptionsSampleParams, seed: int) -> None:
    """Write the dataset into out_dir (which exists and is empty)."""
    rng = np.random.default_rng(seed)
    *ids, ghost = _image_ids(rng, params.images + 1)
    scene_rngs = rng.spawn(params.images + 1)  # one stream per picture: a change stays local
    images_dir, text_dir = out_dir / IMAGES_DIR, out_dir / TEXT_DIR
    images_dir.mkdir()
    text_dir.mkdir()
    tokens = []
    for index in track(range(params.images), "captions: rendering"):
        scene_rng = scene_rngs[index]
        scene = random_scene(scene_rng)
        picture = render(scene, params.width, params.height, scene_rng)
        bgr = cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f"could not encode {ids[index]}.jpg")
        (images_dir / f"{ids[index]}.jpg").write_bytes(jpeg.tobytes())
        tokens.append(_token_lines(f"{ids[index]}.jpg", describe(scene, scene_rng)))
    # Like `2258277193_586949ec62.jpg.1` in the real file: captions for an image not on disk.
    ghost_scene = random_scene(scene_rngs[-1])
    tokens.append(_token_lines(f"{ghost}.jpg.1", describe(ghost_scene, scene_rngs[-1])))
    (text_dir / TOKEN_FILE).write_text("".join(tokens), encoding="utf-8", newline="\n")
    for split, names in _split_names([f"{i}.jpg" for i in ids], params, rng).items():
        lines = "".join(f"{name}\n" for name in names)
        (text_dir / f"Flickr_8k.{split}Images.txt").write_text(lines, encoding="utf-8")
