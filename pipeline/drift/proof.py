"""Evidence that `pipeline drift` flags real shifts and passes unchanged batches.

On the real-data corpus (`../shared/realdata`, see its PROVENANCE.md): plates of the
Vietnamese sources vs the Egyptian photos; one driving recording vs others; a held-out batch
vs a darkened and a blurred copy of it; and the false-alarm rate over repeated random
held-out batches of the same source, drawn by the task's group column (copies of one photo,
one driving segment) so that a batch is held out as a split would hold it out. Each image is
read once; a batch is a subset of those rows.

    python -m pipeline.drift.proof [REALDATA] [--trials 20] [--out reports/drift/proof]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.drift import embedding as emb
from pipeline.drift import report
from pipeline.drift import values as labels
from pipeline.drift.compare import DriftResult, compare
from pipeline.drift.drift_params import DriftParams
from pipeline.drift.profile import Profile, image_paths, summarise_images
from pipeline.drift.stats import STAT_NAMES

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
Transform = Callable[[np.ndarray], np.ndarray]


def darken(rgb: np.ndarray, factor: float = 0.6) -> np.ndarray:
    """The image at `factor` of its brightness (dusk, an underexposed camera)."""
    return (rgb.astype(np.float32) * factor).round().astype(np.uint8)


def blur(rgb: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """The image out of focus: a Gaussian blur of `sigma` pixels."""
    import cv2

    return cv2.GaussianBlur(rgb, (0, 0), sigma)


@dataclass
class Pool:
    """Rows of a manifest with their images read once (statistics, pixel embeddings)."""

    task: str
    frame: pd.DataFrame  # the rows whose image decoded, in order
    stats: np.ndarray  # rows x STAT_NAMES
    pixels: np.ndarray  # rows x 192
    backbone: np.ndarray | None

    def profile(self, rows: np.ndarray, source: str, params: DriftParams) -> Profile:
        embedded = np.sort(rows[: params.max_embeddings])  # in recorded order, as
        rows = np.sort(rows[: params.max_images])  # `build_profile` keeps them
        values = {f"image.{n}": self.stats[rows, i] for i, n in enumerate(STAT_NAMES)}
        values |= labels.label_values(self.frame.iloc[rows])
        embeddings = {emb.PIXELS: self.pixels[embedded]}
        if self.backbone is not None:
            embeddings[emb.BACKBONE] = self.backbone[embedded]
        return Profile(self.task, source, values, embeddings, images=len(rows))


def read_pool(
    task: str,
    frame: pd.DataFrame,
    root: Path,
    column: str,
    embedder: emb.Embedder | None,
    transform: Transform | None = None,
) -> Pool:
    paths = image_paths(frame, root, column)
    summary = summarise_images(
        paths, embedder=embedder, max_embeddings=len(paths), transform=transform
    )
    read = {str(p) for p in summary.read}
    kept = frame[[str(p) in read for p in paths]].reset_index(drop=True)
    stats = np.column_stack([summary.values[f"image.{n}"] for n in STAT_NAMES])
    return Pool(
        task, kept, stats, summary.embeddings[emb.PIXELS], summary.embeddings.get(emb.BACKBONE)
    )


def shifted_pools(
    task: str, frame: pd.DataFrame, root: Path, column: str, embedder: emb.Embedder | None
) -> dict[str, Pool]:
    """The rows' pools as they are ("original"), darkened and blurred: `shifted_copies`'s
    batches."""
    transforms: dict[str, Transform | None] = {
        "original": None,
        "darkened": darken,
        "blurred": blur,
    }
    return {
        kind: read_pool(task, frame, root, column, embedder, transform)
        for kind, transform in transforms.items()
    }


def group_split(
    groups: pd.Series, new_share: float, rng: np.random.Generator, max_new: int
) -> tuple[np.ndarray, np.ndarray]:
    """(reference rows, new rows): whole groups drawn at random into the new batch until it
    holds `new_share` of the rows (at most `max_new`), both in random order."""
    codes = groups.astype(str).to_numpy()
    order = rng.permutation(np.unique(codes))
    target = min(max_new, round(new_share * len(codes)))
    chosen: set[str] = set()
    size = 0
    for group in order:
        if size >= target:
            break
        chosen.add(group)
        size += int((codes == group).sum())
    is_new = np.isin(codes, list(chosen))
    return rng.permutation(np.flatnonzero(~is_new)), rng.permutation(np.flatnonzero(is_new))


@dataclass
class Outcome:
    case: str
    expected_drift: bool
    reference_images: int
    new_images: int
    flagged: bool
    auc: float | None
    drifted_features: list[str]
    result: DriftResult
    reference_profile: Profile
    new_profile: Profile

    def row(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "expected": "drift" if self.expected_drift else "no drift",
            "reference_images": self.reference_images,
            "new_images": self.new_images,
            "flagged": self.flagged,
            "correct": self.flagged == self.expected_drift,
            "auc": None if self.auc is None else round(self.auc, 3),
            "drifted_features": self.drifted_features,
        }


def run_case(
    case: str, reference: Profile, new: Profile, expected: bool, params: DriftParams, seed: int
) -> Outcome:
    result = compare(reference, new, params, seed)
    return Outcome(
        case,
        expected,
        reference.images,
        new.images,
        result.drifted,
        result.embedding.auc if result.embedding else None,
        [f.name for f in result.features if f.drifted],
        result,
        reference,
        new,
    )


def _manifest(task: str, raw: Path) -> pd.DataFrame:
    from pipeline.tasks import TASKS

    t: Any = TASKS[task]
    frame = t.read_raw(raw, t.params["ingest"](), 0)
    column = t.image_columns[0]
    frame = frame[frame[column].notna()]
    if "split" in frame.columns:
        frame = frame[frame["split"] != "duplicate"]
    return frame.reset_index(drop=True)


def false_alarms(
    name: str, pool: Pool, group: str, trials: int, params: DriftParams, seed: int, max_new: int
) -> list[Outcome]:
    """Repeated random held-out batches of whole `group`s (a photo's copies, a driving
    segment), or of single rows when `group` is empty."""
    outcomes = []
    for trial in range(trials):
        rng = np.random.default_rng(seed + trial)
        groups = pool.frame[group] if group else pd.Series(np.arange(len(pool.frame)))
        ref_rows, new_rows = group_split(groups, 0.3, rng, max_new)
        reference = pool.profile(ref_rows, f"{name}, reference of split {trial}", params)
        new = pool.profile(new_rows, f"{name}, held-out batch of split {trial}", params)
        outcomes.append(
            run_case(f"{name}: same source #{trial}", reference, new, False, params, trial)
        )
    return outcomes


def shifted_copies(
    name: str, pools: dict[str, Pool], group: str, params: DriftParams, seed: int, max_new: int
) -> list[Outcome]:
    """The held-out batch unchanged, darkened and blurred, against the same reference."""
    rng = np.random.default_rng(seed)
    frame = pools["original"].frame
    groups = frame[group] if group else pd.Series(np.arange(len(frame)))
    ref_rows, new_rows = group_split(groups, 0.3, rng, max_new)
    reference = pools["original"].profile(ref_rows, f"{name} reference", params)
    out = []
    for kind, pool in pools.items():
        new = pool.profile(new_rows, f"{name} held-out batch, {kind}", params)
        out.append(
            run_case(
                f"{name}: held-out batch, {kind}", reference, new, kind != "original", params, seed
            )
        )
    return out


def plates_cases(
    realdata: Path, params: DriftParams, embedder: emb.Embedder | None, trials: int, seed: int
) -> list[Outcome]:
    root = realdata / "plates"
    frame = _manifest("plates", root)
    egyptian = frame["folder"].str.startswith("telattar")
    vn = shifted_pools("plates", frame[~egyptian], root, "image", embedder)
    eg = read_pool("plates", frame[egyptian], root, "image", embedder)
    everything = np.random.default_rng(seed).permutation(len(vn["original"].frame))
    out = [
        run_case(
            "plates: Vietnamese sources vs Egyptian photos",
            vn["original"].profile(everything, "Vietnamese sources", params),
            eg.profile(np.arange(len(eg.frame)), "Egyptian photos", params),
            True,
            params,
            seed,
        )
    ]
    out += shifted_copies("plates (Vietnamese)", vn, "group", params, seed, max_new=80)
    out += false_alarms("plates (Vietnamese)", vn["original"], "group", trials, params, seed, 80)
    return out


def driving_cases(
    realdata: Path, params: DriftParams, embedder: emb.Embedder | None, trials: int, seed: int
) -> list[Outcome]:
    root = realdata / "driving"
    frame = _manifest("driving", root)
    repo = frame["recording"].str.split("/").str[0].str.split("#").str[0]
    base = "UjjwalSaxena__Behavior-Cloning-DataSet-Ujjwal"
    main = shifted_pools("driving", frame[repo == base], root, "center", embedder)
    rng = np.random.default_rng(seed)
    reference = main["original"].profile(
        rng.permutation(len(main["original"].frame)), f"recording {base}", params
    )
    out = []
    for other in sorted(set(repo) - {base}):
        pool = read_pool("driving", frame[repo == other], root, "center", embedder)
        new = pool.profile(np.arange(len(pool.frame)), f"recording {other}", params)
        out.append(run_case(f"driving: {base} vs {other}", reference, new, True, params, seed))
    out += shifted_copies("driving (Ujjwal)", main, "", params, seed, max_new=200)
    out += false_alarms("driving (Ujjwal) frames", main["original"], "", trials, params, seed, 200)
    out += false_alarms(
        "driving (Ujjwal) segments", main["original"], "segment", trials, params, seed, 200
    )
    return out


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| case | expected | reference / new images | flagged | embedding AUC | drifted features |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        auc = "n/a" if o.auc is None else f"{o.auc:.2f}"
        features = ", ".join(f.removeprefix("image.") for f in o.drifted_features) or "none"
        mark = "yes" if o.flagged else "no"
        lines.append(
            f"| {o.case} | {'drift' if o.expected_drift else 'no drift'} | "
            f"{o.reference_images} / {o.new_images} | {mark} | {auc} | {features} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("realdata", nargs="?", type=Path, default=REALDATA)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("reports/drift/proof"))
    parser.add_argument(
        "--pixels", action="store_true", help="pixel embedding even if a backbone is there"
    )
    args = parser.parse_args(argv)
    params = DriftParams()
    embedder = None if args.pixels else emb.backbone_embedder()
    plates = plates_cases(args.realdata, params, embedder, args.trials, args.seed)
    driving = driving_cases(args.realdata, params, embedder, args.trials, args.seed)
    outcomes = plates + driving
    shifts = [o for o in outcomes if "same source" not in o.case]
    same = [o for o in outcomes if "same source" in o.case]
    rates = {}
    for kind in ("plates (Vietnamese)", "driving (Ujjwal) frames", "driving (Ujjwal) segments"):
        trials = [o for o in same if o.case.startswith(kind + ":")]
        rates[kind] = {"trials": len(trials), "false_alarms": sum(o.flagged for o in trials)}
    args.out.mkdir(parents=True, exist_ok=True)
    figures = {
        "embedding": "backbone" if embedder else "pixels",
        "params": params.model_dump(),
        "cases": [o.row() for o in outcomes],
        "false_alarm_rate": rates,
    }
    (args.out / "proof.json").write_text(json.dumps(figures, indent=2) + "\n")
    (args.out / "proof.md").write_text(table(shifts) + "\n\n" + table(same) + "\n")
    shown = next(o for o in outcomes if "Egyptian" in o.case)
    report.write(
        args.out / "plates_egyptian", shown.result, shown.reference_profile, shown.new_profile
    )
    print(table(shifts))
    print()
    for task, rate in rates.items():
        print(
            f"{task}: {rate['false_alarms']} false alarms in {rate['trials']} same-source batches"
        )
    missed = [o.case for o in shifts if not o.flagged and o.expected_drift]
    wrong = [o.case for o in shifts if o.flagged and not o.expected_drift]
    print(f"missed shifts: {missed or 'none'}; unchanged batches flagged: {wrong or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
