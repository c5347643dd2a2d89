"""The row-level label rules a task's `expectations` returns, as Great Expectations.

Each rule rejects the rows that break it with its `reason` (the validation report counts rows
by reason), under the `label` intent: `between` for a range, `none_of` for a count that must
be zero, `present` for a value that must be there.
"""

from __future__ import annotations

from typing import Any


def between(
    column: str,
    reason: str,
    low: float | None = None,
    high: float | None = None,
    *,
    above: bool = False,
) -> Any:
    """`column` in [low, high] (`above`: strictly greater than `low`); None: unbounded."""
    import great_expectations as gx

    return gx.expectations.ExpectColumnValuesToBeBetween(
        column=column, min_value=low, max_value=high, strict_min=above, meta=_label(reason)
    )


def none_of(column: str, reason: str) -> Any:
    """`column` counts what may not occur in a row (foreign characters, blank captions): 0."""
    import great_expectations as gx

    return gx.expectations.ExpectColumnValuesToBeInSet(
        column=column, value_set=[0], meta=_label(reason)
    )


def one_of(column: str, values: list[Any], reason: str) -> Any:
    """`column` takes one of `values`."""
    import great_expectations as gx

    return gx.expectations.ExpectColumnValuesToBeInSet(
        column=column, value_set=list(values), meta=_label(reason)
    )


def present(column: str, reason: str) -> Any:
    """`column` is set in every row."""
    import great_expectations as gx

    return gx.expectations.ExpectColumnValuesToNotBeNull(column=column, meta=_label(reason))


def _label(reason: str) -> dict[str, str]:
    return {"intent": "label", "reason": reason}
