"""The manifest: one row per dataset item, canonical columns, paths relative to the raw root.

Every task's manifest has `split` and `issue` (why ingest could not read the row properly,
or null) with `issue_detail`; rows are never dropped at ingest, so validation can account
for each of them.
"""

from pathlib import Path

import pandas as pd

from pipeline.core.io import atomic_file


def write_manifest(frame: pd.DataFrame, target: Path) -> None:
    with atomic_file(target) as tmp:
        frame.to_parquet(tmp, index=False)


def read_manifest(source: Path) -> pd.DataFrame:
    return pd.read_parquet(source)
