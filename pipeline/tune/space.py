"""The search space: `KEY=SPEC` lines over params.yaml keys, checked before any trial runs.

SPEC is `choice(a,b,...)`, `uniform(lo,hi)`, `loguniform(lo,hi)`, `randint(lo,hi)` (hi
excluded) or a plain `a,b,...` list (a choice). Keys are the dotted paths of params.yaml
(`train.driving.fit.learning_rate`), the same that `dvc exp run -S` takes.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import yaml

from pipeline.core.errors import PipelineError

KINDS = ("choice", "uniform", "loguniform", "randint")
_SPEC = re.compile(r"^(?P<kind>[a-z]+)\((?P<args>.*)\)$")


@dataclass(frozen=True)
class Dimension:
    """One searched key: its kind and arguments (values for a choice, bounds otherwise)."""

    key: str
    kind: str
    args: tuple[Any, ...]

    def to_ray(self) -> Any:
        from ray import tune

        if self.kind == "choice":
            return tune.choice(list(self.args))
        return getattr(tune, self.kind)(*self.args)


def _value(text: str) -> Any:
    """A YAML scalar: `0.001` a float, `3` an int, `true` a bool, `pilotnet` a string."""
    return yaml.safe_load(text.strip())


def parse_dimension(line: str) -> Dimension:
    key, sep, spec = line.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise PipelineError(
            f"--space {line!r}: write KEY=SPEC, e.g. train.driving.fit.learning_rate="
            "loguniform(0.0001,0.01) or train.driving.dropout=0.2,0.3"
        )
    match = _SPEC.match(spec)
    if match is None:
        return Dimension(key, "choice", tuple(_value(v) for v in spec.split(",")))
    kind, args = match["kind"], tuple(_value(v) for v in match["args"].split(","))
    if kind not in KINDS:
        raise PipelineError(f"--space {line!r}: {kind} is not one of {', '.join(KINDS)}")
    if kind != "choice":
        if len(args) != 2 or not all(isinstance(a, int | float) for a in args):
            raise PipelineError(f"--space {line!r}: {kind} takes two numbers, lo and hi")
        if not args[0] < args[1] or (kind == "loguniform" and args[0] <= 0):
            raise PipelineError(
                f"--space {line!r}: {kind} needs 0 < lo < hi"
                if kind == "loguniform"
                else f"--space {line!r}: {kind} needs lo < hi"
            )
    return Dimension(key, kind, args)


def parse_space(lines: list[str], params: dict[str, Any]) -> list[Dimension]:
    """The dimensions of `lines`, each key one params.yaml already has (a typo fails here)."""
    if not lines:
        raise PipelineError(
            "give at least one --space KEY=SPEC, e.g. "
            "--space 'train.driving.fit.learning_rate=loguniform(0.0001,0.01)'"
        )
    dimensions = [parse_dimension(line) for line in lines]
    for dimension in dimensions:
        current(params, dimension.key)
    keys = [d.key for d in dimensions]
    if len(set(keys)) != len(keys):
        raise PipelineError(f"--space names a key twice: {', '.join(keys)}")
    return dimensions


def current(params: dict[str, Any], key: str) -> Any:
    """The value at dotted `key` of params, or a one-line refusal naming the key."""
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise PipelineError(f"--space: {key} is not a key of the params file")
        node = node[part]
    if isinstance(node, dict):
        raise PipelineError(f"--space: {key} is a section of the params file, not a value")
    return node


def applied(params: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of params with each dotted key of `values` set."""
    out = copy.deepcopy(params)
    for key, value in values.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node[part]
        node[leaf] = value
    return out


def exp_run_line(values: dict[str, Any]) -> str:
    """`dvc exp run -S 'key=value' ...`: the DVC experiment that trains with `values`."""
    sets = " ".join(
        f"-S '{key}={yaml.safe_dump(value).strip().removesuffix('...').strip()}'"
        for key, value in values.items()
    )
    return f"dvc exp run {sets}"
