"""Caption tables (Kaggle's `captions.txt`, Flickr30k's `results.csv`), one line at a time.

Each line is parsed on its own with the csv module, so a bad line (an unclosed quote, a
missing field) costs that line a row with its issue and names its line number; the header
is recognised on the first line, and a table without one is read with a note.
"""

from __future__ import annotations

import csv
from dataclasses import replace

from pipeline.tasks.captions.formats.lines import read_lines
from pipeline.tasks.captions.formats.source import Captions

NO_HEADER = "no header row ({file})"


def read_table(
    data: bytes,
    file: str,
    header: tuple[str, ...],
    delimiter: str = ",",
    quoted: bool = True,
) -> Captions:
    """Captions of a table whose columns are (image, [caption number,] caption); `quoted`:
    a field may be quoted (else a `"` is text)."""
    table = Captions(file, kind="caption")
    shown = f"{delimiter} ".join(header)
    first = True
    for line in read_lines(data, file):
        if line.text is None:
            table.not_utf8(line)
            continue
        if line.problem is not None:
            table.malformed(line)
            continue
        try:
            reader = (
                csv.reader([line.text], delimiter=delimiter, strict=True)
                if quoted
                else csv.reader([line.text], delimiter=delimiter, quoting=csv.QUOTE_NONE)
            )
            fields = [value.strip() for value in next(reader)]
        except csv.Error as error:
            table.malformed(line, f"not a {file} row ({error})")
            continue
        if first:
            first = False
            if [value.lower() for value in fields] == list(header):
                continue
            line = replace(line, notes=(*line.notes, NO_HEADER.format(file=file)))
        if len(fields) != len(header):
            table.malformed(line, f"{len(fields)} fields, expected {len(header)} ({shown})")
            continue
        image_id, caption = fields[0], fields[-1]
        number = fields[1] if len(header) == 3 else None
        if not image_id or (number is not None and not number.isdigit()):
            table.malformed(line, f"no image name or caption number ({shown})")
            continue
        table.add(image_id, caption, line, number=number)
    return table
