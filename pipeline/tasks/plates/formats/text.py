"""Plate text as the annotations keep it: its canonical form, and the sidecar of YOLO folders.

GreenParking writes a two-line motorbike plate (`59-C1` over `399.16`) as `59C1-39916`: the
series line without its dash, `-`, the number without its dot; a one-line car plate
`51F-123.45` becomes `51F-12345`. That is the canonical form a recogniser learns and is
scored on, so the dots and dashes printed on plates never count as reading errors.

YOLO folders have no place for text, so it lives in a sidecar beside each label file:
`<stem>.plate.txt` next to `<stem>.txt`, UTF-8, one line per label line, the text of that
box (as printed, `59-T1 599.73`, or canonical, `59T1-59973`); an empty line is a box whose
text is unknown. labelImg and Ultralytics ignore the file (its stem is no image's stem).
"""

from __future__ import annotations

import string
from pathlib import Path

LETTERS = "ABCDEFGHKLMNPRSTUVXYZ"  # series letters of Vietnamese plates (R: trailers)
CHARSET = string.digits + LETTERS + "-"  # canonical text; `.` and spaces are layout only
SIDECAR_SUFFIX = ".plate.txt"


def canonical(text: str) -> str:
    """`59-T1 599.73` (two lines as printed) -> `59T1-59973`; `51F-123.45` -> `51F-12345`.

    Upper-cased; a text already canonical is unchanged.
    """
    lines = text.upper().split()
    if len(lines) == 2:
        return lines[0].replace("-", "") + "-" + lines[1].replace(".", "").replace("-", "")
    return "".join(lines).replace(".", "")


def is_sidecar(path: Path) -> bool:
    return path.name.lower().endswith(SIDECAR_SUFFIX)


def sidecar_of(label: Path) -> Path:
    """`x/abc.txt` -> `x/abc.plate.txt`."""
    return label.with_name(label.stem + SIDECAR_SUFFIX)


def split_text(text: str | None, boxes: int) -> tuple[list[str | None], str | None]:
    """A GreenParking line's text spread over its boxes: (one text per box, problem or None).

    One box takes the whole text; n boxes take n space-separated texts; any other count
    cannot say which text is whose.
    """
    if text is None:
        return [None] * boxes, None
    if boxes == 1:
        return [text], None
    parts = text.split()
    if len(parts) == boxes:
        return list(parts), None
    return [None] * boxes, f"{len(parts)} plate texts for {boxes} boxes"


def read_sidecar(path: Path, boxes: int) -> tuple[list[str | None], str | None]:
    """Texts of a sidecar, one per box (None: unknown), and a problem in words, if any.

    No sidecar is no text, not a problem.
    """
    if not path.is_file():
        return [None] * boxes, None
    try:
        lines = path.read_bytes().decode("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        return [None] * boxes, f"{path.name}: unreadable ({type(err).__name__})"
    while len(lines) > boxes and not lines[-1].strip():  # blank lines past the last box
        lines.pop()
    if len(lines) != boxes:
        return [None] * boxes, f"{path.name}: {len(lines)} text lines for {boxes} boxes"
    return [line.strip() or None for line in lines], None


def sidecar_lines(texts: list[str | None]) -> str:
    return "".join(f"{text or ''}\n" for text in texts)
