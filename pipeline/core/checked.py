"""What validation needs to know of a dataset: every task declares it (`pipeline.tasks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd


class Checked(Protocol):
    """What validation needs to know of a dataset (every task declares it)."""

    @property
    def name(self) -> str: ...

    @property
    def image_columns(self) -> tuple[str, ...]: ...

    @property
    def group_column(self) -> str: ...

    @property
    def splits(self) -> tuple[str, ...]: ...

    @property
    def label_columns(self) -> tuple[str, ...]: ...

    def label_checks(self, manifest: pd.DataFrame, params: Any) -> pd.DataFrame: ...

    def expectations(self, params: Any) -> list[Any]: ...

    def summarize(self, manifest: pd.DataFrame, valid: pd.DataFrame) -> dict[str, Any]: ...
