"""Flickr30k, as published and as Kaggle has it.

- `results_20130124.token`: the same `<id>.jpg#<k><TAB><caption>` lines as Flickr8k's;
- Kaggle's `results.csv`: `image_name| comment_number| comment`, `|` separators followed by
  a space, no quoting (a caption may hold a `"`); the real file has one line whose caption
  is missing, which becomes a row with its issue.

Images are in `flickr30k_images/` (Kaggle nests it: `flickr30k_images/flickr30k_images/`)
or `flickr30k-images/` (the original archive). There are no official split files: the split
is seeded by image, or read from Karpathy's `dataset_flickr30k.json` when present.
"""

from __future__ import annotations

from pipeline.tasks.captions.formats.flickr8k import read_tokens
from pipeline.tasks.captions.formats.source import Captions
from pipeline.tasks.captions.formats.table import read_table

TOKEN_FILE = "results_20130124.token"
CSV_FILE = "results.csv"
IMAGES_DIRS = ["flickr30k_images", "flickr30k-images"]
TOKEN_LAYOUT = "Flickr30k"
CSV_LAYOUT = "Kaggle Flickr30k"
HEADER = ("image_name", "comment_number", "comment")


def read_token_file(data: bytes, file: str = TOKEN_FILE) -> Captions:
    return read_tokens(data, file)


def read_csv(data: bytes, file: str = CSV_FILE) -> Captions:
    return read_table(data, file, HEADER, delimiter="|", quoted=False)
