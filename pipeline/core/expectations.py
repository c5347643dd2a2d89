"""Great Expectations suites run on a manifest, turned into per-row reasons and a report.

Every expectation carries `meta`:
- `reason`: the rejection reason given to each row that fails it (row-level expectations);
  with `reason_column`, each failing row's own value of that column is its reason;
- `structural: True`: a failure means the dataset as a whole is wrong (e.g. splits
  overlap); it fails the stage instead of rejecting rows;
- `intent`: one word on why the expectation exists (schema, leakage, label, image...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class SuiteOutcome:
    """What a suite found: reasons per row index, failed structural checks, the raw results."""

    reasons: dict[int, list[str]] = field(default_factory=dict)
    structural_failures: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    evaluated: int = 0


def _context(docs_dir: Path) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        site_name="reports",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir.resolve()),
            },
        },
    )
    return context


def run_suite(
    frame: pd.DataFrame, expectations: list[Any], name: str, docs_dir: Path
) -> SuiteOutcome:
    """Validate `frame` (with a RangeIndex) against `expectations`; write data docs HTML."""
    import great_expectations as gx

    context = _context(docs_dir)
    batch = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset("manifest")
        .add_batch_definition_whole_dataframe("whole manifest")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data docs")],
            result_format={"result_format": "COMPLETE"},
        )
    )
    run = checkpoint.run(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    (result,) = run.run_results.values()
    return _outcome(result, frame.reset_index(drop=True))


def _outcome(result: Any, frame: pd.DataFrame) -> SuiteOutcome:
    outcome = SuiteOutcome(evaluated=result.statistics["evaluated_expectations"])
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        column = config.kwargs.get("column")
        failing = item.result.get("unexpected_index_list") or []
        described = config.type if column is None else f"{config.type}({column})"
        outcome.results.append(
            {
                "expectation": described,
                "success": bool(item.success),
                "intent": meta.get("intent"),
                "structural": bool(meta.get("structural")),
                "unexpected_count": item.result.get("unexpected_count"),
                "observed_value": _plain(item.result.get("observed_value")),
                "error": (item.exception_info or {}).get("exception_message"),
            }
        )
        if item.success:
            continue
        if meta.get("structural") or not failing:
            outcome.structural_failures.append(meta.get("reason", described))
            continue
        for index in failing:
            reason = frame.at[index, meta["reason_column"]] if "reason_column" in meta else None
            outcome.reasons.setdefault(int(index), []).append(str(reason or meta["reason"]))
    return outcome


def _plain(value: Any) -> Any:
    """JSON-friendly observed values (GX returns numpy scalars and lists)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
