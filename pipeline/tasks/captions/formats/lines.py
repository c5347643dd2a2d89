"""Text files read line by line, never crashing on odd bytes, and the manifest rows they give.

Every reader goes through `read_lines`: a line that is not UTF-8 or holds a control character
becomes a `Line` with a `problem` (a row with an issue later), CRLF/CR endings and a
byte-order mark become notes, blank lines are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # every C0 control but TAB, and DEL
_BOM = b"\xef\xbb\xbf"
_ODD_ENDINGS = {b"\r\n": "CRLF", b"\r": "CR"}

COLUMNS = ("image_id", "image", "captions", "split", "issue", "issue_detail", "notes")


@dataclass(frozen=True)
class Line:
    """One line of a text file: its text (None if not UTF-8) and what was odd about it."""

    number: int
    text: str | None
    problem: str | None = None  # why the line cannot be read, for issue_detail
    notes: tuple[str, ...] = ()


def read_lines(data: bytes, file: str) -> Iterator[Line]:
    """Non-blank lines of a file's bytes, split on LF, CRLF or CR (never on odd bytes)."""
    notes_first: tuple[str, ...] = ()
    if data.startswith(_BOM):
        data, notes_first = data[len(_BOM) :], (f"byte-order mark ({file})",)
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        body = raw.rstrip(b"\r\n")
        ending = raw[len(body) :]
        notes = notes_first if number == 1 else ()
        if ending in _ODD_ENDINGS:
            notes += (f"{_ODD_ENDINGS[ending]} line ending ({file})",)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            byte = body[error.start]
            yield Line(number, None, f"byte 0x{byte:02x} at position {error.start + 1}", notes)
            continue
        if not text.strip():
            continue
        control = _CONTROL.search(text)
        if control is not None:
            where = f"control character {control.group()!r} at position {control.start() + 1}"
            yield Line(number, text, where, notes)
            continue
        yield Line(number, text, None, notes)


def row(
    image_id: str | None,
    image: str | None,
    split: str | None,
    issue: str | None,
    detail: str | None,
    notes: list[str],
    captions: list[str] | None = None,
) -> dict[str, Any]:
    """One manifest row with the task's canonical columns."""
    return {
        "image_id": image_id,
        "image": image,
        "captions": captions or [],
        "split": split,
        "issue": issue,
        "issue_detail": detail,
        "notes": notes,
    }


def bad_line(line: Line, issue: str, file: str) -> dict[str, Any]:
    """The row of a line that names no image it could be read for."""
    shown = "" if line.text is None else f": {line.text[:80]!r}"
    detail = f"{file} line {line.number}: {line.problem}{shown}"
    return row(None, None, None, issue, detail, [*line.notes])
