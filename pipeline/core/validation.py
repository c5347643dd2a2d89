"""Validation of a manifest: every file and label checked, each row valid or rejected with reasons.

Invariant: rows in = valid + rejected. Row-level failures reject rows; structural
failures (a missing column, overlapping splits, an empty manifest, a suite that checked
nothing) fail the whole dataset.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.checked import Checked
from pipeline.core.expectations import run_suite
from pipeline.core.images import DEFAULT_MAX_PIXELS, inspect_images
from pipeline.core.splits import SPLITS

CHECK_PREFIX = "check_"
#: the one reason a truncated, corrupt or non-image file is rejected, in every task
UNDECODABLE = "does not decode fully (truncated, corrupt or not an image)"
IMAGE_ATTRIBUTES = ("decodes", "width", "height", "oversized", "mode", "conversion")


@dataclass
class ValidationResult:
    valid: pd.DataFrame
    rejected: pd.DataFrame
    report: dict[str, Any]

    @property
    def problems(self) -> list[str]:
        """Why the dataset as a whole fails, in words a user can act on (empty if it passes)."""
        found = list(self.report["structural_failures"])
        if self.report["rejected_fraction"] > self.report["max_rejected_fraction"]:
            top = ", ".join(f"{r} ({n})" for r, n in list(self.report["reasons"].items())[:3])
            found.append(
                f"{self.report['rejected']} of {self.report['rows_in']} rows rejected "
                f"({self.report['rejected_fraction']:.1%} > max_rejected_fraction "
                f"{self.report['max_rejected_fraction']:.1%}); most common: {top}"
            )
        return found


def add_image_checks(
    manifest: pd.DataFrame,
    raw_dir: Path,
    columns: tuple[str, ...],
    workers: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> pd.DataFrame:
    """Add `check_<column>_{decodes,width,height,oversized,mode,conversion}` for each image
    column: each file decoded by `core.images`, the decode every later stage uses."""
    paths = [p for column in columns for p in manifest[column].dropna()]
    infos = inspect_images(raw_dir, paths, workers, max_pixels)
    checked = manifest.copy()
    for column in columns:
        for attribute in IMAGE_ATTRIBUTES:
            checked[f"{CHECK_PREFIX}{column}_{attribute}"] = [
                None if pd.isna(path) else getattr(infos[path], attribute)
                for path in manifest[column]
            ]
    return checked


def image_conversions(checked: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, int]:
    """How many distinct image files each conversion to 8-bit RGB was applied to."""
    conversions: dict[str, str] = {}
    for column in columns:
        paths, done = checked[column], checked[f"{CHECK_PREFIX}{column}_conversion"]
        conversions.update(
            (path, conversion)
            for path, conversion in zip(paths, done, strict=True)
            if not pd.isna(path) and isinstance(conversion, str)
        )
    counts = Counter(step for conversion in conversions.values() for step in conversion.split("+"))
    return dict(sorted(counts.items()))


def add_split_leakage_check(frame: pd.DataFrame, group_column: str) -> pd.DataFrame:
    """`check_splits_of_group`: in how many of train/val/test the row's group appears (<= 1).

    Values outside train/val/test (a task's guard frames, a missing split) do not count.
    """
    split = frame["split"].where(frame["split"].isin(SPLITS))
    splits_per_group = split.groupby(frame[group_column], dropna=False).transform("nunique")
    return frame.assign(**{f"{CHECK_PREFIX}splits_of_group": splits_per_group})


def common_expectations(task: Checked, image_size: Any) -> list[Any]:
    """Expectations every task's manifest meets: schema, ingest issues, images, leakage."""
    import great_expectations as gx

    E = gx.expectations
    schema = {"intent": "schema", "structural": True}
    found: list[Any] = [
        E.ExpectTableRowCountToBeBetween(min_value=1, meta={**schema, "reason": "empty manifest"}),
        *(
            E.ExpectColumnToExist(column=c, meta={**schema, "reason": f"no column {c!r}"})
            for c in ("split", "issue", "issue_detail", task.group_column, *task.image_columns)
        ),
        E.ExpectColumnValuesToBeNull(
            column="issue", meta={"intent": "ingest", "reason_column": "issue"}
        ),
        E.ExpectColumnValuesToBeInSet(
            column="split",
            value_set=list(task.splits),
            meta={"intent": "schema", "reason": f"split not one of {', '.join(task.splits)}"},
        ),
        E.ExpectColumnValuesToBeBetween(
            column=f"{CHECK_PREFIX}splits_of_group",
            min_value=0,
            max_value=1,
            meta={
                "intent": "leakage",
                "structural": True,
                "reason": f"splits overlap: a {task.group_column} is in more than one split",
            },
        ),
    ]
    for column in task.image_columns:
        check = f"{CHECK_PREFIX}{column}_"
        image = {"intent": "image"}
        found += [
            E.ExpectColumnValuesToBeInSet(
                column=check + "oversized",
                value_set=[False],
                meta={**image, "reason": f"{column}: too many pixels to decode safely"},
            ),
            E.ExpectColumnValuesToBeInSet(  # any other mode was converted to 8-bit RGB
                column=check + "decodes",
                value_set=[True],
                meta={**image, "reason": f"{column}: {UNDECODABLE}"},
            ),
            E.ExpectColumnValuesToBeBetween(
                column=check + "width",
                min_value=image_size.min_width,
                max_value=image_size.max_width,
                meta={**image, "reason": f"{column}: width out of range"},
            ),
            E.ExpectColumnValuesToBeBetween(
                column=check + "height",
                min_value=image_size.min_height,
                max_value=image_size.max_height,
                meta={**image, "reason": f"{column}: height out of range"},
            ),
        ]
    return found


def _unreadable(
    manifest: pd.DataFrame, task: Checked, missing: list[str], max_rejected_fraction: float
) -> ValidationResult:
    """The result for a manifest without the columns its checks read: every row rejected."""
    problems = [f"no column {column!r}" for column in missing]
    reason = "; ".join(problems)
    report = {
        "task": task.name,
        "rows_in": len(manifest),
        "valid": 0,
        "rejected": len(manifest),
        "rejected_fraction": 1.0 if len(manifest) else 0.0,
        "max_rejected_fraction": max_rejected_fraction,
        "reasons": {reason: len(manifest)},
        "valid_per_split": {},
        "dataset": {},
        "image_conversions": {},
        "expectations_evaluated": 0,
        "structural_failures": problems,
        "expectations": [],
        "passed": False,
    }
    return ValidationResult(manifest.iloc[0:0], manifest.assign(reason=reason), report)


def validate_manifest(
    manifest: pd.DataFrame,
    task: Checked,
    params: Any,
    raw_dir: Path,
    docs_dir: Path,
    max_rejected_fraction: float,
    workers: int,
) -> ValidationResult:
    """Check every row and file of `manifest`; split it into valid and rejected rows."""
    manifest = manifest.reset_index(drop=True)
    needed = ("split", "issue", "issue_detail", task.group_column, *task.image_columns)
    missing = [c for c in (*needed, *task.label_columns) if c not in manifest.columns]
    if missing:  # nothing below can read the rows: say which columns, not a KeyError
        return _unreadable(manifest, task, missing, max_rejected_fraction)
    width, height = getattr(params, "max_width", None), getattr(params, "max_height", None)
    max_pixels = width * height if width and height else DEFAULT_MAX_PIXELS
    checked = add_image_checks(manifest, raw_dir, task.image_columns, workers, max_pixels)
    checked = add_split_leakage_check(task.label_checks(checked, params), task.group_column)
    expectations = common_expectations(task, params) + task.expectations(params)
    outcome = run_suite(checked, expectations, task.name, docs_dir)

    structural = list(outcome.structural_failures)
    if outcome.evaluated == 0:
        structural.append("the expectation suite evaluated no expectation")
    reasons = pd.Series({i: "; ".join(r) for i, r in outcome.reasons.items()}, dtype="string")
    is_rejected = manifest.index.isin(reasons.index)
    valid = manifest[~is_rejected].reset_index(drop=True)
    rejected = manifest[is_rejected].assign(reason=reasons).reset_index(drop=True)

    counts = Counter(r for row in outcome.reasons.values() for r in row)
    report = {
        "task": task.name,
        "rows_in": len(manifest),
        "valid": len(valid),
        "rejected": len(rejected),
        "rejected_fraction": len(rejected) / max(len(manifest), 1),
        "max_rejected_fraction": max_rejected_fraction,
        "reasons": dict(counts.most_common()),
        "valid_per_split": valid["split"].value_counts().sort_index().to_dict(),
        "dataset": task.summarize(manifest, valid),
        "image_conversions": image_conversions(checked, task.image_columns),
        "expectations_evaluated": outcome.evaluated,
        "structural_failures": structural,
        "expectations": outcome.results,
    }
    result = ValidationResult(valid, rejected, report)
    report["passed"] = not result.problems
    return result
