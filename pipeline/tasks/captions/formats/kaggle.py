"""Kaggle's Flickr8k, the copy most people download: `Images/` beside `captions.txt`.

`captions.txt` is a CSV with the header `image,caption`, five rows per image, a caption
quoted when it holds a comma. It has no split files: the split is seeded by image unless
the official `Flickr_8k.*Images.txt` files are somewhere in the folder.
"""

from __future__ import annotations

from pipeline.tasks.captions.formats.source import Captions
from pipeline.tasks.captions.formats.table import read_table

CAPTIONS_FILE = "captions.txt"
IMAGES_DIRS = ["Images", "images"]
LAYOUT = "Kaggle Flickr8k"
HEADER = ("image", "caption")


def read_captions(data: bytes, file: str = CAPTIONS_FILE) -> Captions:
    return read_table(data, file, HEADER)
