"""Copies of one photo: files that are the same picture, whatever they are called.

Three relations link two files; a copy group is a connected component of their union:

- **name**: the file names differ only by a suffix a tool adds to a copy (`name_key`);
- **bytes**: the files are byte-identical (sha256);
- **look**: their perceptual hashes are within `PHASH_MAX_DISTANCE` bits (a re-encode, a
  resize, a stretch to 640x640 as Roboflow exports do; a rotated or cropped augmentation
  is not caught this way, only by its name).

Grouping merges, never splits: a false merge only moves a few photos to another split,
while a missed copy leaks a test photo into training, so the name patterns and the look
threshold are chosen to catch every copy found on the real corpus with a wide margin.
A file that cannot be decoded is still hashed by its bytes and matched by its name; it
never raises.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.splits import UnionFind

#: side of the perceptual hash: 16 x 16 = 256 bits. An 8 x 8 (64-bit) pHash puts distinct
#: photos of one fixed camera (GreenParking) 4 bits apart, as close as copies.
PHASH_SIZE = 16
#: most bits two copies' hashes differ by. On the real plates corpus re-encodes, resizes and
#: stretches of a photo differ by at most 10 bits, distinct photos by at least 46.
PHASH_MAX_DISTANCE = 24
#: least standard deviation (grey levels) of the 64 x 64 thumbnail a perceptual hash is
#: trusted for: the hash of a near-uniform image is JPEG noise, and two such images (black
#: frames, a blank wall) would collide; these are matched by bytes and name only.
MIN_CONTRAST = 4.0
#: pixels decoded at most for a hash (as `pipeline.core.images.DEFAULT_MAX_PIXELS`)
MAX_PIXELS = 100_000_000

# Suffixes tools give a copy, removed from a file stem until none is left (case-insensitive):
#   Roboflow       `<stem>_jpg.rf.<hex>` (any image extension)
#   augmentations  `<stem>_aug3`, `<stem>-aug_3`, `<stem>_augmented` (not a bare `_aug`)
#   file managers  `<stem>_copy`, `<stem>-copy2`, `<stem> copy`, `<stem> - Copy`,
#                  `<stem> - Copy (2)`, `<stem> (copy)`, `<stem> (another copy)`,
#                  `<stem> (1)` (browsers, Windows)
_ALWAYS = (
    re.compile(r"^(?P<stem>.+)_(?:jpe?g|png|bmp|webp|tiff?)\.rf\.[0-9a-f]+$", re.IGNORECASE),
    re.compile(r"^(?P<stem>.+?)[_-]aug(?:[_-]?\d+|mented(?:[_-]?\d+)?)$", re.IGNORECASE),
    re.compile(r"^(?P<stem>.+?)(?:[_-]| - | )copy(?:[_-]?\d+| \(\d+\))?$", re.IGNORECASE),
    re.compile(r"^(?P<stem>.+?) \((?:\d+|copy|another copy)\)$", re.IGNORECASE),
)
# `<stem>_1`, `<stem>-2`, `<stem> 2` (macOS) are copies only when `<stem>` itself is there:
# `IMG_0001` is a camera counter, not a copy of `IMG`.
_IF_PLAIN_EXISTS = re.compile(r"^(?P<stem>.+?)(?:[_ -]\d{1,2})$")


def strip_copy_suffixes(stem: str) -> str:
    """`stem` without the suffixes every copy tool adds (see above); never empty."""
    while True:
        for pattern in _ALWAYS:
            match = pattern.match(stem)
            if match and match["stem"].strip():
                stem = match["stem"]
                break
        else:
            return stem


def name_keys(stems: Sequence[str]) -> list[str]:
    """The photo each file stem names: copy suffixes stripped, and a numbered stem
    (`x_1`, `x 2`) reduced to `x` when some stem of `stems` is `x`."""
    plain = [strip_copy_suffixes(stem) for stem in stems]
    present = set(plain)
    keys = []
    for stem in plain:
        match = _IF_PLAIN_EXISTS.match(stem)
        keys.append(match["stem"] if match and match["stem"] in present else stem)
    return keys


@dataclass(frozen=True)
class Fingerprint:
    sha256: str | None  # None: the file cannot be read
    phash: np.ndarray | None  # packed 256-bit hash; None: undecodable or near-uniform
    problem: str | None = None  # why there is no hash


def _phash(path: Path) -> tuple[np.ndarray | None, str | None]:
    import imagehash
    from PIL import Image, ImageOps

    side = PHASH_SIZE * 4  # imagehash's pHash works on a (4 * size)^2 thumbnail
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a bomb is refused below, EXIF quirks are ours
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None, f"{image.width}x{image.height} is too large to hash"
                image.draft("L", (side * 2, side * 2))  # JPEG: decode at a reduced scale
                grey = ImageOps.exif_transpose(image).convert("L")
            thumbnail = grey.resize((side, side), Image.Resampling.LANCZOS)
            bits = imagehash.phash(grey, hash_size=PHASH_SIZE).hash
    except Exception as err:  # a bad file is its own group, whatever PIL raises
        return None, f"does not decode ({type(err).__name__})"
    if float(np.asarray(thumbnail, np.float32).std()) < MIN_CONTRAST:
        return None, "near-uniform: no perceptual hash"
    return np.packbits(bits.flatten()).view(np.uint64), None


def fingerprint(path: Path) -> Fingerprint:
    """sha256 of the bytes and perceptual hash of `path`; never raises."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        return Fingerprint(None, None, f"cannot be read ({type(err).__name__})")
    phash, problem = _phash(path)
    return Fingerprint(digest.hexdigest(), phash, problem)


def _close_pairs(hashes: np.ndarray, max_distance: int, block: int = 256) -> list[tuple[int, int]]:
    """(i, j), i < j, of the rows of `hashes` (n x words, uint64) within `max_distance` bits.

    All pairs, in blocks of rows: ~0.1 s for 2,000 photos; O(n^2), so a corpus of 100,000
    would want an index (BK-tree, multi-index hashing) instead.
    """
    pairs = []
    for start in range(0, len(hashes), block):
        rows = hashes[start : start + block]
        distances = np.bitwise_count(rows[:, None, :] ^ hashes[None, :, :]).sum(axis=2)
        for i, j in zip(*np.nonzero(distances <= max_distance), strict=True):
            if start + i < j:
                pairs.append((start + int(i), int(j)))
    return pairs


@dataclass(frozen=True)
class CopyGroups:
    group: list[str]  # per item: its group's name, the smallest name key of its members
    links: dict[str, int]  # how many merges each relation made: name, bytes, look
    unhashed: list[str]  # per item without a perceptual hash: why ("" for the others)


def copy_groups(
    stems: Sequence[str],
    paths: Sequence[Path | None],
    max_distance: int = PHASH_MAX_DISTANCE,
) -> CopyGroups:
    """Group items (a file stem, and its image file or None) into copies of one photo."""
    n = len(stems)
    keys = name_keys(stems)
    groups = UnionFind(n)
    links = {"name": 0, "bytes": 0, "look": 0}

    def link(a: int, b: int, relation: str) -> None:
        if groups.find(a) != groups.find(b):
            groups.union(a, b)
            links[relation] += 1

    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        link(first.setdefault(key, i), i, "name")
    prints = [fingerprint(path) if path is not None else None for path in paths]
    by_bytes: dict[str, int] = {}
    for i, found in enumerate(prints):
        if found is not None and found.sha256 is not None:
            link(by_bytes.setdefault(found.sha256, i), i, "bytes")
    hashed = {i: found.phash for i, found in enumerate(prints) if found and found.phash is not None}
    if hashed:
        index = list(hashed)
        for a, b in _close_pairs(np.stack(list(hashed.values())), max_distance):
            link(index[a], index[b], "look")
    names: dict[int, str] = {}
    for i, key in enumerate(keys):
        root = groups.find(i)
        names[root] = min(names.get(root, key), key)
    unhashed = [(found.problem or "") if found is not None else "" for found in prints]
    return CopyGroups([names[groups.find(i)] for i in range(n)], links, unhashed)
