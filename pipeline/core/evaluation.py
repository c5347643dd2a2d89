"""What `evaluate` measures and the model registry compares: a task's primary metric and
its evaluation (reports/<task>/metrics.json)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.core.errors import PipelineError


@dataclass(frozen=True)
class PrimaryMetric:
    """The test metric that decides promotion, and which way is better."""

    name: str
    greater_is_better: bool


@dataclass(frozen=True)
class Baseline:
    """The trivial model the trained one must beat, scored on the same test split."""

    name: str
    metrics: dict[str, float]  # named like the model's metrics without `test_`


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate` measured and `register`/`promote` read (reports/<task>/metrics.json)."""

    primary: PrimaryMetric
    metrics: dict[str, float]  # the top-level figures (`test_*` and others); primary among them
    baseline: Baseline
    beats_baseline: bool  # by the task's own rule (captions asks for twice the baseline)
    split_fingerprint: str  # which test split: only figures on the same one compare
    details: dict[str, Any] = field(default_factory=dict)  # per-class figures, examples, notes

    @property
    def value(self) -> float:
        return self.metrics[self.primary.name]

    @property
    def baseline_value(self) -> float | None:
        return self.baseline.metrics.get(self.primary.name.removeprefix("test_"))

    def to_json(self) -> dict[str, Any]:
        """The report's shape: every figure at the top level, then the baseline and facts."""
        return {
            **self.metrics,
            **self.details,
            "baseline": {"name": self.baseline.name, **self.baseline.metrics},
            "beats_baseline": self.beats_baseline,
            "test_split_hash": self.split_fingerprint,
        }

    @classmethod
    def from_json(cls, report: dict[str, Any], primary: PrimaryMetric) -> Evaluation:
        """A task's report dict (or metrics.json read back) as an Evaluation; one line
        naming what is missing when it is not one."""
        baseline = report.get("baseline")
        missing = [
            key
            for key, ok in (
                (primary.name, _is_number(report.get(primary.name))),
                ("baseline", isinstance(baseline, dict)),
                ("beats_baseline", isinstance(report.get("beats_baseline"), bool)),
                ("test_split_hash", isinstance(report.get("test_split_hash"), str)),
            )
            if not ok
        ]
        if missing or not isinstance(baseline, dict):
            raise PipelineError(
                f"the evaluation report has no {', '.join(missing)}: rerun `pipeline evaluate`"
            )
        reserved = {"baseline", "beats_baseline", "test_split_hash"}
        return cls(
            primary=primary,
            metrics={k: float(v) for k, v in report.items() if _is_number(v)},
            baseline=Baseline(
                str(baseline.get("name", "")),
                {k: float(v) for k, v in baseline.items() if _is_number(v)},
            ),
            beats_baseline=bool(report["beats_baseline"]),
            split_fingerprint=str(report["test_split_hash"]),
            details={k: v for k, v in report.items() if not _is_number(v) and k not in reserved},
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
