"""Parse one simulator log fast and forgivingly: each non-blank line is one row.

Every line is parsed on its own, so nothing in a line (a byte that is not UTF-8, a NUL, a
stray quote) can spill into the next. The simulator's seven fields are taken by position,
or by name after a header row; extra columns (a spreadsheet export's) are ignored, and
fields are stripped (the simulator writes `", "` between them). The file is read in
chunks of whole lines, the per-line work is a `str.split`, and everything after that is
vectorised, which is what keeps a million-row log within seconds and bounded memory.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

CAMERAS = ("center", "left", "right")
MEASUREMENTS = ("steering", "throttle", "brake", "speed")
LOG_COLUMNS = (*CAMERAS, *MEASUREMENTS)
CHUNK_BYTES = 8 << 20  # whole lines, some 30,000 of them

_BINARY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # control bytes; TAB is tolerated
_UNDECODED = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a non-UTF-8 byte


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def header_positions(fields: list[str]) -> dict[str, int] | None:
    """Column positions named by a header row, or None when `fields` is a data row.

    A header has no number where the steering goes and names a known column; when it does
    not name all seven (e.g. `SteeringAngle`), the columns are taken by position.
    """
    names = [field.strip().lower() for field in fields]
    if len(names) > 3 and _is_number(names[3]):
        return None
    if not {"center", "steering"} & set(names):
        return None
    if set(LOG_COLUMNS) <= set(names):
        return {column: names.index(column) for column in LOG_COLUMNS}
    return {column: k for k, column in enumerate(LOG_COLUMNS)}


def _fields(line: str) -> list[str]:
    # the simulator never quotes; a quoted field (a rewritten log) is honoured, one line only
    return next(csv.reader([line])) if '"' in line else line.split(",")


def _unreadable(line: str) -> tuple[str, str] | None:
    """(reason, where) for a line of odd bytes, else None."""
    if not line.isascii() and (match := _UNDECODED.search(line)):
        byte = ord(match.group()) - 0xDC00
        return "not UTF-8", f"byte 0x{byte:02X} at column {match.start() + 1}"
    if match := _BINARY.search(line):
        name = "NUL" if match.group() == "\x00" else f"control byte 0x{ord(match.group()):02X}"
        return "binary data", f"{name} at column {match.start() + 1}"
    return None


def _chunk(
    lines: list[str], first_line: int, positions: dict[str, int]
) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Rows of the non-blank `lines`; the odd ones listed as (position, reason, where)."""
    kept = [(first_line + k, line) for k, line in enumerate(lines) if line and not line.isspace()]
    odd = []
    text_check = "".join(line for _, line in kept)
    if not text_check.isascii() or _BINARY.search(text_check):
        for k, (_, line) in enumerate(kept):
            if found := _unreadable(line):
                odd.append((k, *found))
                kept[k] = (kept[k][0], "")  # parsed as nothing: the row is its problem
    split = [_fields(line) for _, line in kept]
    data: dict[str, object] = {
        "line": pd.array([number for number, _ in kept], dtype="int64"),
        "fields": pd.array([len(fields) for fields in split], dtype="int64"),
    }
    for column, k in positions.items():
        data[column] = pd.array(
            [fields[k] if k < len(fields) else None for fields in split], dtype="str"
        )
    return pd.DataFrame(data), odd


def parse_log(path: Path) -> pd.DataFrame:
    """Raw rows of one log: line number, field count, the seven fields as stripped text,
    and `unreadable` / `unreadable_detail` for lines of odd bytes (their fields are empty).
    """
    frames, odd_rows = [], []
    positions: dict[str, int] | None = None
    line_number, rows = 1, 0
    with path.open("rb") as handle:
        while chunk := handle.readlines(CHUNK_BYTES):
            text = b"".join(chunk).decode("utf-8", "surrogateescape")
            lines = text.replace("\r\n", "\n").split("\n")
            if text.endswith("\n"):
                lines.pop()
            if positions is None:
                lines[0] = lines[0].removeprefix("\ufeff")  # a BOM some editors add
                first = next((k for k, line in enumerate(lines) if line.strip()), None)
                found = None if first is None else header_positions(_fields(lines[first]))
                positions = found or {column: k for k, column in enumerate(LOG_COLUMNS)}
                if found is not None and first is not None:
                    lines[first] = ""  # the header is not a row
            frame, odd = _chunk(lines, line_number, positions)
            odd_rows += [(rows + k, reason, where) for k, reason, where in odd]
            frames.append(frame)
            line_number += len(lines)
            rows += len(frame)
    if not frames:
        return _chunk([], 1, {c: k for k, c in enumerate(LOG_COLUMNS)})[0].assign(
            unreadable=pd.Series(dtype="str"), unreadable_detail=pd.Series(dtype="str")
        )
    raw = pd.concat(frames, ignore_index=True)
    for column in LOG_COLUMNS:
        raw[column] = raw[column].str.strip()
    raw["unreadable"] = pd.Series(pd.NA, index=raw.index, dtype="str")
    raw["unreadable_detail"] = pd.Series(pd.NA, index=raw.index, dtype="str")
    if odd_rows:
        at = [k for k, _, _ in odd_rows]
        raw.loc[at, "unreadable"] = [reason for _, reason, _ in odd_rows]
        raw.loc[at, "unreadable_detail"] = [where for _, _, where in odd_rows]
    return raw
