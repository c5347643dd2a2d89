"""Row problems kept as Arrow string columns, so a million bad rows cost no Python loop.

Each problem is a column that is null on the rows it does not concern; a row's `issue` is
its first problem's short name, its `issue_detail` every problem joined by "; ".
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pa.large_string()  # what pandas' "str" columns hold
_NULL = pa.scalar(None, TEXT)


def _arrow(value: str | pd.Series) -> pa.Scalar | pa.Array:
    """A scalar, or one contiguous array (varargs kernels refuse unlike chunk layouts)."""
    if isinstance(value, str):
        return pa.scalar(value, TEXT)
    array = pa.array(value.astype("str"), type=TEXT)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _series(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"), index=index)


class Problems:
    """Problems of the rows of one frame, in the order found (the first one is the issue)."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.names: list[pa.Array] = []
        self.details: list[pa.Array] = []

    def add(self, mask: pd.Series, what: str | pd.Series, text: str | pd.Series) -> None:
        """Record `what: text` on the rows of `mask` (Series aligned with the frame)."""
        where = pa.array(mask.to_numpy(dtype=bool, na_value=False))
        if not pc.any(where).as_py():
            return
        name = _arrow(what)
        if isinstance(name, pa.Scalar):
            name = pa.repeat(name, len(self.index))
        self.names.append(pc.if_else(where, name, _NULL))
        detail = pc.binary_join_element_wise(name, _arrow(text), pa.scalar(": ", TEXT))
        self.details.append(pc.if_else(where, detail, _NULL))

    def extend(self, issue: pd.Series, detail: pd.Series) -> None:
        """Take over problems already rendered as (issue, detail) columns."""
        self.names.append(_arrow(issue))
        self.details.append(_arrow(detail))

    def columns(self, where: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """(issue, issue_detail), the detail prefixed with `where` the row is, e.g. its line."""
        if not self.names:
            empty = pa.nulls(len(self.index), TEXT)
            return _series(empty, self.index), _series(empty, self.index)
        issue = pc.coalesce(*self.names)
        detail = self.details[0]
        for more in self.details[1:]:  # null_handling="skip" drops rows (pyarrow 25)
            joined = pc.binary_join_element_wise(detail, more, pa.scalar("; ", TEXT))
            detail = pc.coalesce(joined, detail, more)
        if where is not None:
            detail = pc.binary_join_element_wise(_arrow(where), detail, pa.scalar(": ", TEXT))
        detail = pc.if_else(pc.is_null(issue), _NULL, detail)
        return _series(issue, self.index), _series(detail, self.index)
