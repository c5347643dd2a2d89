"""Flickr8k as published: `Flickr8k_text/Flickr8k.token.txt` beside `Flicker8k_Dataset/`.

Token lines are `<id>.jpg#<k><TAB><caption>`. Copies found in the wild are read as they are:
a space instead of the TAB after the id, CRLF endings, a byte-order mark, the ghost id
`2258277193_586949ec62.jpg.1`. Flickr30k's `results_20130124.token` has the same form.
"""

from __future__ import annotations

import re

from pipeline.tasks.captions.formats.lines import Line, read_lines
from pipeline.tasks.captions.formats.source import Captions

TOKEN_FILE = "Flickr8k.token.txt"
LAYOUT = "Flickr8k"
TOKEN_LINE = re.compile(r"^(?P<id>[^#\t]+)#(?P<k>\d+)(?P<sep>\s+)(?P<caption>.*?)\s*$")
SPACE_SEPARATOR = "space instead of TAB after the id"


def read_tokens(data: bytes, file: str = TOKEN_FILE) -> Captions:
    """Captions per image id in file order; unreadable lines as rows with their issue."""
    tokens = Captions(file, kind="token")
    for line in read_lines(data, file):
        if line.text is None:
            tokens.not_utf8(line)
            continue
        match = None if line.problem else TOKEN_LINE.match(line.text)
        if match is None or not match["id"].strip():
            tokens.malformed(line, line.problem or "not <id>#<k> <caption>")
            continue
        notes = (SPACE_SEPARATOR,) if match["sep"] != "\t" else ()
        read = Line(line.number, line.text, None, line.notes + notes)
        tokens.add(match["id"].strip(), match["caption"], read, number=match["k"])
    return tokens
