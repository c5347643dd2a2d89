"""The benchmarks: ours and the textbook's way, same inputs, outputs checked to agree first.

Every case builds its own small sample data in a scratch folder with the project's sample
generators, so it measures the same thing on any checkout. Models are the trained ones
when the pipeline has run (`models/...`) and freshly built ones of the same shape
otherwise: the cost of a forward pass does not depend on the weights.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.bench import textbook
from pipeline.bench.timing import measure


@dataclass
class Result:
    name: str
    what: str
    goal: str
    ours: float | None = None  # seconds
    baseline: float | None = None
    ratio: float | None = None  # baseline / ours, or the figure the goal names
    met: bool | None = None
    agree: bool | None = None
    agreement: str = ""
    notes: list[str] = field(default_factory=list)
    details: str = ""  # markdown after the summary table (the scale case's own table)
    data: dict[str, Any] = field(default_factory=dict)  # figures behind `details`, for JSON


@dataclass(frozen=True)
class Setup:
    quick: bool
    scratch: Path
    seed: int = 42
    out_dir: Path = Path("reports")  # where a case writes its plots, beside bench.md

    @property
    def repeats(self) -> int:
        return 1 if self.quick else 3


# ---- captions ------------------------------------------------------------------------------
def _caption_parts(setup: Setup) -> tuple[Any, Any, np.ndarray, str]:
    """(merge model, tokenizer, image features, where the model comes from)."""
    import keras

    from pipeline.core import layout
    from pipeline.tasks.captions.features import load_features
    from pipeline.tasks.captions.model import build_model
    from pipeline.tasks.captions.params import CaptionsTrainParams, TextParams
    from pipeline.tasks.captions.text import Tokenizer
    from pipeline.tasks.captions.training import TOKENIZER_FILE

    count = 6 if setup.quick else 60
    model_file = layout.model_path("captions")
    tokenizer_file = layout.assets_dir("captions") / TOKENIZER_FILE
    processed = layout.processed_dir("captions")
    if not setup.quick and model_file.is_file() and tokenizer_file.is_file():
        model = keras.models.load_model(model_file, safe_mode=True)
        _, features = load_features(processed)
        return model, Tokenizer.load(tokenizer_file), features[:count], "trained model"
    keras.utils.set_random_seed(setup.seed)
    words = "a red blue green circle square star on the left right top bottom and two three"
    captions = [" ".join(np.random.default_rng(i).choice(words.split(), 9)) for i in range(40)]
    tokenizer = Tokenizer.fit(captions, TextParams(min_word_count=1))
    params = CaptionsTrainParams(units=32 if setup.quick else 256, embedding_dim=16)
    model = build_model(tokenizer.vocabulary_size, tokenizer.max_length - 1, 96, params)
    features = np.random.default_rng(setup.seed).normal(size=(count, 96)).astype(np.float32)
    return model, tokenizer, features, "untrained model of the same shape"


def _until_end(ids: np.ndarray, end: int) -> list[int]:
    out = []
    for i in ids:
        out.append(int(i))
        if i == end:
            break
    return out


def caption_greedy(setup: Setup) -> Result:
    from pipeline.tasks.captions.decode import Decoder
    from pipeline.tasks.captions.text import END, START

    result = Result(
        "caption-greedy",
        "greedy captions: batched compiled decoding vs predict per word per image",
        "ratio >= 30",
    )
    model, tokenizer, features, source = _caption_parts(setup)
    decoder = Decoder(model, tokenizer)
    start, end, steps = tokenizer.id(START), tokenizer.id(END), decoder.max_steps

    def baseline() -> list[list[int]]:
        return [textbook.greedy_caption(model, f, start, end, steps) for f in features]

    ours = [_until_end(row, end) for row in decoder.greedy(features)]
    result.agree = ours == baseline()
    result.agreement = f"same token ids for all {len(features)} images"
    if result.agree:
        result.ours = measure(lambda: decoder.greedy(features), setup.repeats).median
        result.baseline = measure(baseline, setup.repeats, warmup=0).median
        result.ratio = result.baseline / result.ours
        result.met = result.ratio >= 30
    result.notes.append(f"{len(features)} images, {source}")
    return result


def caption_beam(setup: Setup) -> Result:
    from pipeline.tasks.captions.decode import Decoder

    result = Result(
        "caption-beam",
        "batched beam search (k=3) vs our batched greedy",
        "beam time <= 2.5x greedy time",
    )
    model, tokenizer, features, source = _caption_parts(setup)
    decoder = Decoder(model, tokenizer)
    result.agree = bool(
        np.array_equal(decoder.beam(features, 1), decoder.greedy(features))
        and len(decoder.captions(features, 3)) == len(features)
    )
    result.agreement = "beam search of width 1 gives the greedy captions"
    if result.agree:
        result.baseline = measure(lambda: decoder.greedy(features), setup.repeats).median
        result.ours = measure(lambda: decoder.beam(features, 3), setup.repeats).median
        result.ratio = result.ours / result.baseline
        result.met = result.ratio <= 2.5
    result.notes.append(f"{len(features)} images, {source}; ratio = beam / greedy")
    return result


def features(setup: Setup) -> Result:
    from pipeline.core.model_params import BackboneParams
    from pipeline.tasks.captions.features import build_extractors, feature_batches
    from pipeline.tasks.captions.params import CaptionsFeaturesParams, CaptionsSampleParams
    from pipeline.tasks.captions.sample import IMAGES_DIR, write_sample

    result = Result(
        "features",
        "image features: tf.data batched extraction vs load-and-predict one image at a time",
        "ratio >= 3",
    )
    count = 8 if setup.quick else 128
    folder = setup.scratch / "captions"
    folder.mkdir(parents=True, exist_ok=True)
    write_sample(folder, CaptionsSampleParams(images=count), setup.seed)
    files = sorted((folder / IMAGES_DIR).glob("*.jpg"))
    params = CaptionsFeaturesParams(parts=["backbone", "colour_layout"])
    _, extractor = build_extractors(params, BackboneParams(weights="none"))

    def ours() -> np.ndarray:
        batches = feature_batches([str(f) for f in files], params.image_size, params.batch_size)
        return np.concatenate([extractor(b, training=False).numpy() for b in batches])

    def baseline() -> np.ndarray:
        return textbook.features_one_by_one(extractor, files, params.image_size)

    difference = float(np.abs(ours() - baseline()).max())
    result.agree = difference < 1e-3
    result.agreement = f"largest feature difference {difference:.2g} (tolerance 1e-3)"
    if result.agree:
        result.ours = measure(ours, setup.repeats).median
        result.baseline = measure(baseline, setup.repeats).median
        result.ratio = result.baseline / result.ours
        result.met = result.ratio >= 3
    result.notes.append(f"{len(files)} images, MobileNetV2 backbone + colour layout")
    return result


# ---- driving -------------------------------------------------------------------------------
def _driving_frames(setup: Setup, frames: int) -> tuple[Path, list[str], np.ndarray]:
    from pipeline.tasks.driving.ingest import read_raw
    from pipeline.tasks.driving.params import DrivingIngestParams, DrivingSampleParams
    from pipeline.tasks.driving.sample import write_sample

    folder = setup.scratch / "driving"
    folder.mkdir(parents=True, exist_ok=True)
    write_sample(folder, DrivingSampleParams(frames=frames), setup.seed)
    manifest = read_raw(folder, DrivingIngestParams(), setup.seed)
    return folder, manifest["center"].tolist(), manifest["steering"].to_numpy(np.float32)


def driving_input(setup: Setup) -> Result:
    import keras
    import tensorflow as tf

    from pipeline.core.tfdata import image_dataset
    from pipeline.tasks.driving.preprocess import frame_preprocessing

    result = Result(
        "driving-input",
        "training input, one epoch: tf.data (names shuffled, frames decoded in parallel) vs a "
        "Python generator reading, augmenting and preprocessing every frame",
        "ratio >= 5",
    )
    root, paths, angles = _driving_frames(setup, 64 if setup.quick else 512)
    batch = 64
    ours_data = image_dataset(root, paths, angles, batch, shuffle=True, seed=setup.seed)

    def epoch_ours() -> int:
        return sum(1 for _ in ours_data)

    def epoch_baseline() -> int:
        rng = np.random.default_rng(setup.seed)
        return sum(
            1 for _ in textbook.driving_batches(root, paths, angles, batch, augment=True, rng=rng)
        )

    # agreement: without shuffling or augmenting, both give the same network input
    plain = image_dataset(root, paths[:16], angles[:16], 16, shuffle=False, seed=0)
    frames, targets = next(iter(plain))
    preprocess = keras.Sequential(frame_preprocessing()[:-1])  # up to YUV, before scaling
    ours_input = preprocess(tf.cast(frames, tf.float32)).numpy()
    theirs, their_targets = next(
        textbook.driving_batches(
            root, paths[:16], angles[:16], 16, augment=False, rng=np.random.default_rng(0)
        )
    )
    gap = float(np.abs(ours_input - theirs).mean())
    result.agree = gap < 2.0 and np.allclose(targets.numpy(), their_targets)
    result.agreement = f"mean pixel difference {gap:.2f} of 255 after preprocessing, same angles"
    if result.agree:
        epoch_ours()  # warms the file system cache, as the baseline's first run does
        result.ours = measure(epoch_ours, setup.repeats, warmup=0).median
        result.baseline = measure(epoch_baseline, setup.repeats, warmup=0).median
        result.ratio = result.baseline / result.ours
        result.met = result.ratio >= 5
    result.notes.append(
        f"{len(paths)} frames; ours hands raw frames to the model, whose first layers "
        "crop, resize and convert them on the batch"
    )
    return result


def _driving_model(setup: Setup) -> tuple[Any, str]:
    import keras

    from pipeline.core import layout
    from pipeline.tasks.driving.model import pilotnet
    from pipeline.tasks.driving.params import DrivingTrainParams

    path = layout.model_path("driving")
    if not setup.quick and path.is_file():
        return keras.models.load_model(path, safe_mode=True), "trained model"
    keras.utils.set_random_seed(setup.seed)
    return pilotnet(DrivingTrainParams()), "untrained PilotNet"


def driving_infer(setup: Setup) -> Result:
    import tensorflow as tf

    result = Result(
        "driving-infer",
        "steering for one frame: a compiled direct call vs model.predict",
        "ratio >= 20 and < 5 ms per frame",
    )
    model, source = _driving_model(setup)
    frames = (
        np.random.default_rng(setup.seed)
        .uniform(0, 255, (8 if setup.quick else 100, 160, 320, 3))
        .astype(np.float32)
    )
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def ours() -> np.ndarray:
        return np.concatenate([call(tf.constant(f[None])).numpy() for f in frames])

    def baseline() -> np.ndarray:
        return textbook.predict_frames_one_by_one(model, frames)

    gap = float(np.abs(ours() - baseline()).max())
    result.agree = gap < 1e-4
    result.agreement = f"largest angle difference {gap:.2g} (tolerance 1e-4)"
    if result.agree:
        result.ours = measure(ours, setup.repeats).median
        result.baseline = measure(baseline, setup.repeats).median
        result.ratio = result.baseline / result.ours
        per_frame = 1000 * result.ours / len(frames)
        result.met = result.ratio >= 20 and per_frame < 5
        result.notes.append(f"{per_frame:.2f} ms per frame (ours)")
    result.notes.append(f"{len(frames)} frames, {source}")
    return result


# ---- ingest --------------------------------------------------------------------------------
_INGEST_CHILD = """
import json, sys, time
from pathlib import Path
from pipeline.tasks.driving.ingest import read_raw
from pipeline.tasks.driving.params import DrivingIngestParams
start = time.perf_counter()
manifest = read_raw(Path(sys.argv[1]), DrivingIngestParams(), 42)
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    # VmHWM: this process's own peak; ru_maxrss would also count the parent's memory,
    # which Linux carries over into a child's figure at exec
    "peak_bytes": next(
        int(line.split()[1]) * 1024
        for line in open("/proc/self/status")
        if line.startswith("VmHWM:")
    ),
    "rows": len(manifest),
    "issues": manifest["issue"].value_counts().to_dict(),
    "splits": manifest["split"].value_counts().to_dict(),
}))
"""


def _long_log(folder: Path, rows: int, frames: int) -> None:
    """A simulator log of `rows` rows (Windows paths, `", "`) over `frames` frame triples.

    IMG/ stays small: the rows cycle over its frames, so all rows after the first
    `frames` are duplicates (the costlier path: each is matched to its original).
    """
    (folder / "IMG").mkdir(parents=True, exist_ok=True)
    recorded = "C:\\Users\\udacity\\Desktop\\my track\\IMG\\"
    lines = []
    for i in range(frames):
        stamp = f"2016_12_01_13_{i // 3600 % 60:02d}_{i // 60 % 60:02d}_{i % 60:02d}0"
        names = [f"{camera}_{stamp}.jpg" for camera in ("center", "left", "right")]
        for name in names:
            (folder / "IMG" / name).write_bytes(b"")  # ingest only lists IMG/
        lines.append(", ".join(recorded + name for name in names))
    angles = np.random.default_rng(0).normal(0, 0.2, 997).round(7)
    with (folder / "driving_log.csv").open("w") as log:
        for row in range(rows):
            steering = f"{angles[row % 997]:.7g}"
            log.write(f"{lines[row % frames]}, {steering}, 0.9, 0, 30.19\n")


def ingest_1m(setup: Setup) -> Result:
    rows = 20_000 if setup.quick else 1_000_000
    frames = 300
    result = Result(
        "ingest-1m",
        f"driving ingest of a {rows:,}-row driving_log.csv, in a process of its own",
        "< 60 s and < 2 GB",
    )
    folder = setup.scratch / "ingest"
    _long_log(folder, rows, frames)
    runs = []
    for _ in range(setup.repeats):
        done = subprocess.run(
            [sys.executable, "-c", _INGEST_CHILD, str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.splitlines()[-1]))
    last = runs[-1]
    duplicates = last["splits"].get("duplicate", 0)
    result.agree = (
        last["rows"] == rows
        and last["issues"] == {}
        and duplicates == rows - frames
        and all(last["splits"].get(split, 0) > 0 for split in ("train", "val", "test"))
    )
    result.agreement = (
        f"{last['rows']:,} rows in the manifest for {rows:,} in the log, {duplicates:,} of "
        f"them copies of the {frames} frames, train/val/test all filled"
    )
    if result.agree:
        result.ours = float(np.median([run["seconds"] for run in runs]))
        peak = max(run["peak_bytes"] for run in runs)
        result.met = result.ours < 60 and peak < 2 * 1024**3
        result.notes.append(f"peak memory {peak / 1024**3:.2f} GB (process RSS)")
    result.notes.append(
        f"{frames} frame triples in IMG/; no baseline: the textbook has no such step"
    )
    return result


# ---- scale ---------------------------------------------------------------------------------
def scale(setup: Setup) -> Result:
    from pipeline.bench import scale as scaling

    result = Result(
        "scale",
        "every stage of every task at 1x, 3x and 10x the sample, each in its own process",
        f"time exponent <= {scaling.TIME_EXPONENT_GOAL}, peak memory ratio <= "
        f"{scaling.MEMORY_RATIO_GOAL} (or <= {scaling.MEMORY_SLACK_MB} MB more)",
    )
    runs = scaling.measure_all(setup.scratch, setup.quick)
    grown = scaling.growth(runs)
    failed = [f"{r.task} {r.stage} at {r.factor}x: {r.log}" for r in runs if not r.ok]
    result.agree = not failed
    result.agreement = (
        f"all {len(runs)} stage runs finished" if not failed else "failed: " + "; ".join(failed)
    )
    result.ours = sum(r.seconds for r in runs)
    result.met = all(g.met for g in grown)
    worst = max((g.time_exponent or 0.0 for g in grown), default=0.0)
    result.ratio = worst
    peak = max((r.peak_mb for r in runs), default=0.0)
    result.notes.append(
        f"ours = total time; ratio = the largest time exponent; highest peak {peak:,.0f} MB"
    )
    plot_name = "bench_scale.png"
    if len(runs) > 0:
        scaling.plot(runs, setup.out_dir / plot_name)
    result.details = scaling.markdown(runs, grown, plot_name)
    result.data = scaling.as_json(runs, grown)
    return result


# ---- pipeline ------------------------------------------------------------------------------
def repro_noop(setup: Setup) -> Result:
    result = Result("repro-noop", "`dvc repro` with nothing changed", "<= 3 s")
    dvc = [sys.executable, "-m", "dvc"]
    status = subprocess.run([*dvc, "status", "--json"], capture_output=True, text=True)
    if status.returncode != 0 or json.loads(status.stdout or "{}") != {}:
        result.notes.append("skipped: the pipeline is not up to date here (run `make repro`)")
        return result

    def run() -> None:
        subprocess.run([*dvc, "repro"], check=True, capture_output=True)

    result.agree = True
    result.agreement = "nothing to compare: no baseline"
    result.ours = measure(run, setup.repeats, warmup=1).median
    result.ratio = result.ours
    result.met = result.ours <= 3.0
    return result


CASES: dict[str, Callable[[Setup], Result]] = {
    "caption-greedy": caption_greedy,
    "caption-beam": caption_beam,
    "features": features,
    "driving-input": driving_input,
    "driving-infer": driving_infer,
    "ingest-1m": ingest_1m,
    "scale": scale,
    "repro-noop": repro_noop,
}
