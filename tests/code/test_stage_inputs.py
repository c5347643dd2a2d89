"""Every stage checks its inputs first: a missing one, or one made from another dataset, is
one line naming the file, what is wrong and the command to run, with the real task name."""

import math
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cli.registry import history_line
from pipeline.core.manifest import (
    Provenance,
    list_folder,
    read_manifest,
    read_provenance,
    split_sizes,
    write_manifest,
)
from pipeline.core.registry.history import Record
from tests.tiny import tiny_params

REPO = Path(__file__).parents[2]
runner = CliRunner()


def one_line_error(result) -> str:
    """The error the user reads; fails unless it is one line, exit 1, without a traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "<task>" not in lines[0] and "TASK" not in lines[0]
    return lines[0]


def edit_params(change) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())
    change(params)
    Path("params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working folder with params.yaml shrunk to a few items per task, no data yet."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params()))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    return tmp_path


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def driving(project):
    """The driving sample ingested."""
    run("sample", "driving")
    run("ingest", "driving")
    return project


MISSING = [  # stage, task, the file it lacks, the command that makes it
    ("validate", "driving", "data/interim/driving/manifest.parquet", "ingest driving"),
    ("augment", "plates", "data/interim/plates/valid.parquet", "validate plates"),
    ("pretext", "captions", "data/interim/captions/manifest.parquet", "ingest captions"),
    ("features", "captions", "data/interim/captions/valid.parquet", "validate captions"),
    ("train", "driving", "data/processed/driving", "augment driving"),
    ("train", "captions", "data/processed/captions", "features captions"),
    ("evaluate", "plates_text", "data/interim/plates_text/valid.parquet", "validate plates_text"),
    ("register", "driving", "models/driving/mlflow_run.json", "train driving"),
]


@pytest.mark.parametrize(("stage", "task", "missing", "command"), MISSING)
def test_a_stage_without_its_input_says_which_command_makes_it(
    project, stage, task, missing, command
):
    line = one_line_error(runner.invoke(app, [stage, task]))
    maker = command.split()[0]
    assert line == (
        f"error: {stage} {task}: {missing} not found; "
        f"run `pipeline {command}` (or `dvc repro {maker}@{task}`) first"
    )


def test_pretrain_names_the_pretext_file_it_lacks(project):
    line = one_line_error(runner.invoke(app, ["pretrain"]))
    assert line == (
        "error: pretrain: data/pretext/plates.npz not found; "
        "run `pipeline pretext plates` (or `dvc repro pretext@plates`) first"
    )


def test_evaluate_and_register_name_the_model_and_metrics_they_lack(driving):
    run("validate", "driving")
    run("augment", "driving")
    line = one_line_error(runner.invoke(app, ["evaluate", "driving"]))
    assert "models/driving/model.keras not found; run `pipeline train driving`" in line
    Path("models/driving").mkdir(parents=True)
    Path("models/driving/mlflow_run.json").write_text("{}")
    line = one_line_error(runner.invoke(app, ["register", "driving"]))
    assert "reports/driving/metrics.json not found; run `pipeline evaluate driving`" in line


def test_a_missing_raw_folder_is_named_by_its_params_key(project):
    line = one_line_error(runner.invoke(app, ["ingest", "plates_text"]))
    assert line == (
        "error: ingest plates_text: data.plates_text.raw_dir: data/sample/plates is not a folder "
        "(run `pipeline sample plates` (or `dvc repro sample@plates`) or point it at a real "
        "dataset)"
    )
    edit_params(lambda p: p["data"]["driving"].update(raw_dir="data/raw/udacity"))
    line = one_line_error(runner.invoke(app, ["ingest", "driving"]))
    assert "data.driving.raw_dir: data/raw/udacity is not a folder" in line
    assert "point it at a driving dataset in params.yaml" in line


def test_after_a_failed_ingest_validate_refuses_the_previous_datasets_manifest(driving):
    shutil.copytree("data/sample/driving", "data/raw/udacity")
    (Path("data/raw/udacity") / "driving_log.csv").write_text("not,a,log\n")
    edit_params(lambda p: p["data"]["driving"].update(raw_dir="data/raw/udacity"))
    assert runner.invoke(app, ["ingest", "driving"]).exit_code == 1  # the old manifest stays
    line = one_line_error(runner.invoke(app, ["validate", "driving"]))
    assert line == (
        "error: validate driving: data/interim/driving/manifest.parquet was ingested from "
        "data/sample/driving, not from data/raw/udacity (data.driving.raw_dir); "
        "run `pipeline ingest driving` (or `dvc repro ingest@driving`) first"
    )
    assert not Path("data/interim/driving/valid.parquet").exists()


def test_a_manifest_of_another_task_is_refused(project):
    run("sample", "plates")
    run("ingest", "plates")
    target = Path("data/interim/plates_text/manifest.parquet")
    target.parent.mkdir(parents=True)
    shutil.copy("data/interim/plates/manifest.parquet", target)
    line = one_line_error(runner.invoke(app, ["validate", "plates_text"]))
    assert "manifest.parquet was made for task plates, not plates_text" in line
    assert "run `pipeline ingest plates_text`" in line


def _files(folder: str) -> int:
    return sum(1 for path in Path(folder).rglob("*") if path.is_file())


def test_files_added_to_the_raw_folder_since_ingest_are_refused(driving):
    before = _files("data/sample/driving")
    shutil.copy("data/sample/driving/driving_log.csv", "data/sample/driving/extra.csv")
    line = one_line_error(runner.invoke(app, ["validate", "driving"]))
    assert "no longer matches data/sample/driving: files were added, removed or resized" in line
    assert f"({before} files then, {before + 1} now)" in line
    assert "run `pipeline ingest driving`" in line


def test_a_file_edited_in_place_is_refused_outside_dvc_only(driving, monkeypatch):
    log = Path("data/sample/driving/driving_log.csv")
    stat = log.stat()
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # same size
    line = one_line_error(runner.invoke(app, ["validate", "driving"]))
    assert "files were modified since ingest" in line
    # a checkout or `dvc pull` gives every file a new mtime: DVC's hashes decide there
    monkeypatch.setenv("DVC_STAGE", "validate@driving")
    run("validate", "driving")


def test_changed_ingest_params_are_refused(driving):
    edit_params(lambda p: p["ingest"]["driving"].update(val_fraction=0.3))
    line = one_line_error(runner.invoke(app, ["validate", "driving"]))
    assert "was ingested with other `ingest.driving` params or seed" in line


def test_a_manifest_without_provenance_is_refused(driving):
    path = Path("data/interim/driving/manifest.parquet")
    write_manifest(read_manifest(path), path)  # as an older version wrote it
    line = one_line_error(runner.invoke(app, ["validate", "driving"]))
    assert "manifest.parquet records no dataset provenance" in line
    assert "run `pipeline ingest driving` (or `dvc repro ingest@driving`) first" in line


def test_validated_manifests_carry_the_provenance_on_and_later_stages_check_it(driving):
    run("validate", "driving")
    ingested = read_provenance(Path("data/interim/driving/manifest.parquet"))
    assert ingested is not None and ingested.task == "driving"
    assert ingested.raw_dir == "data/sample/driving"
    assert ingested.raw_files == _files("data/sample/driving")
    for name in ("valid", "rejected"):
        assert read_provenance(Path(f"data/interim/driving/{name}.parquet")) == ingested
    assert len(pd.read_parquet("data/interim/driving/valid.parquet")) > 0  # still plain Parquet

    Path("data/sample/driving/IMG/stray.jpg").write_bytes(b"x")
    line = one_line_error(runner.invoke(app, ["augment", "driving"]))
    assert line.startswith("error: augment driving: data/interim/driving/valid.parquet no longer")
    assert line.endswith(
        "run `pipeline ingest driving`, `pipeline validate driving` "
        "(or `dvc repro validate@driving`) first"
    )


def test_the_processed_folder_records_its_dataset_for_train(driving):
    run("validate", "driving")
    run("augment", "driving")
    recorded = Path("data/processed/driving/provenance.json").read_text()
    assert Provenance.from_json(recorded) == read_provenance(
        Path("data/interim/driving/valid.parquet")
    )
    edit_params(lambda p: p["ingest"]["driving"].update(guard_frames=3))
    line = one_line_error(runner.invoke(app, ["train", "driving"]))
    assert line.startswith("error: train driving: data/processed/driving was ingested with other")
    assert "`pipeline augment driving` (or `dvc repro augment@driving`)" in line


def test_the_listing_fingerprint_is_of_names_and_sizes_and_fast_on_10k_files(tmp_path):
    root = tmp_path / "raw"
    for folder in range(10):
        (root / f"d{folder}").mkdir(parents=True)
        for n in range(1000):
            (root / f"d{folder}" / f"{n}.txt").write_bytes(b"x" * (n % 7))
    start = time.perf_counter()
    listing = list_folder(root)
    assert time.perf_counter() - start < 2.0
    assert listing.files == 10_000
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)  # new mtimes, same names and sizes
    assert list_folder(copy).digest == listing.digest
    (copy / "d0" / "1.txt").write_bytes(b"yy")
    assert list_folder(copy).digest != listing.digest


def test_split_counts_print_clean_and_in_order(driving):
    sizes = split_sizes(pd.Series(["val", None, "train", "test", "train", math.nan]))
    assert sizes == {"train": 2, "val": 1, "test": 1, "none": 2}
    assert list(sizes) == ["train", "val", "test", "none"]
    printed = run("ingest", "driving")
    assert "nan" not in printed and "{'train': " in printed


def test_the_promotion_history_prints_no_none():
    first = Record("promote", "promoted", 1, None, 1, "test_mse", 0.5, None, False, "first")
    assert "None" not in history_line(first)
    assert "champion none -> 1 (test_mse 0.5) first" in history_line(first)
    second = Record("promote", "refused", 2, 1, 1, "test_mse", 0.7, 0.5, False, "worse")
    assert "(test_mse 0.7 vs 0.5)" in history_line(second)
    back = Record("rollback", "rolled back", 1, 2, 1, "test_mse", None, None, False, "back")
    assert "None" not in history_line(back) and "()" not in history_line(back)


def test_predict_offers_every_task_that_predicts_and_plates_text_reads_crops():
    shown = runner.invoke(app, ["predict", "--help"], terminal_width=200)
    assert "plates_text" in shown.output
    # accepted as a task (exit 2 would be typer refusing the choice): the crop is checked
    missing = runner.invoke(app, ["predict", "plates_text", "no-such-crop.png"])
    assert missing.exit_code == 1 and "no-such-crop.png" in missing.output


def test_predict_on_an_empty_store_says_to_run_dvc_repro(embedded_store, write_image):
    image = write_image(embedded_store / "car.jpg")
    result = runner.invoke(app, ["predict", "plates", str(image)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    # MLflow may log the creation of the new store's tables: the error is the one line after
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: cannot load models:/plates.champion@champion")
    assert "no model 'plates' is registered yet: run `dvc repro`" in line
    assert "promote" not in line


def test_a_task_whose_validation_fails_still_lends_its_train_images_to_the_backbone(project):
    """One task's failing dataset does not stop another's run: pretext reads the ingest
    manifest, so the backbone (and every task after it) does not wait on its validation."""
    run("sample", "captions")
    images = sorted(Path("data/sample/captions/Flicker8k_Dataset").glob("*.jpg"))
    for image in images[: len(images) // 2]:  # half the photos cut short: over any budget
        image.write_bytes(image.read_bytes()[:200])
    run("ingest", "captions")
    assert runner.invoke(app, ["validate", "captions"]).exit_code == 1
    said = run("pretext", "captions")
    assert "train images for the pretext task" in said and "do not decode skipped" in said
    import numpy as np

    with np.load("data/pretext/captions.npz") as pretext:
        assert 0 < len(pretext["images"]) < len(images)
