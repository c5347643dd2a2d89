"""`pipeline drift` on small generated photos: the pixel embedding, no TensorFlow, no MLflow."""

import json
import random

import cv2
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.drift import trail
from pipeline.drift.batches import new_profile, trail_profile
from pipeline.drift.compare import compare
from pipeline.drift.drift_params import DriftParams
from pipeline.drift.profile import build_profile, load
from pipeline.drift.proof import darken

PARAMS = DriftParams()
BOX = "0 0.5 0.5 0.2 0.1\n"


def photo(rng: np.random.Generator, height: int = 48, width: int = 64) -> np.ndarray:
    """A smooth scene with its own light and colour cast, plus sensor noise: images differ
    from one another as photos do, so statistics have a spread to compare against."""
    light = rng.uniform(90, 170)
    cast = rng.uniform(-25, 25, size=3)
    ramp = np.linspace(-30, 30, width)[None, :, None] * rng.uniform(-1, 1)
    noise = rng.normal(0, rng.uniform(5, 20), size=(height, width, 3))
    return np.clip(light + cast + ramp + noise, 0, 255).astype(np.uint8)


def write_photos(folder, count, seed, transform=None):
    """`count` photos with a plate label each (a folder the plates ingest reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        rgb = photo(rng)
        if transform is not None:
            rgb = transform(rgb)
        assert cv2.imwrite(
            str(folder / f"p{seed}_{index}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        )
        (folder / f"p{seed}_{index}.txt").write_text(BOX)
    return folder


def frame_of(folder):
    names = sorted(p.name for p in folder.glob("*.png"))
    return pd.DataFrame({"image": names, "n_boxes": [1] * len(names)})


def profile_of(folder, predict=None):
    return build_profile(
        "plates",
        frame_of(folder),
        folder,
        image_column="image",
        source=str(folder),
        params=PARAMS,
        seed=0,
        predict=predict,
    )


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    return {
        "reference": write_photos(root / "reference", 60, seed=1),
        "same": write_photos(root / "same", 40, seed=2),
        "dark": write_photos(root / "dark", 40, seed=3, transform=darken),
    }


@pytest.fixture(scope="module")
def reference(folders, tmp_path_factory):
    return profile_of(folders["reference"])


def test_a_darkened_batch_is_flagged(reference, folders):
    result = compare(reference, profile_of(folders["dark"]), PARAMS)
    assert result.drifted
    assert result.feature("image.brightness").drifted
    assert result.feature("image.width").drifted is False  # same size: not blamed
    assert result.embedding is not None and result.embedding.drifted


def test_a_batch_of_the_same_source_is_not_flagged(reference, folders):
    result = compare(reference, profile_of(folders["same"]), PARAMS)
    assert not result.drifted, result.reasons
    assert result.embedding is not None and result.embedding.auc < PARAMS.max_auc


def test_shifted_predictions_are_drift_on_unchanged_images(reference, folders):
    def predict(bias):
        def run(frame):
            rng = np.random.default_rng(len(frame))
            return pd.DataFrame({"steering": rng.normal(bias, 0.1, len(frame))})

        return run

    with_predictions = profile_of(folders["reference"], predict(0.0))
    result = compare(with_predictions, profile_of(folders["same"], predict(0.5)), PARAMS)
    assert result.drifted
    assert result.feature("prediction.steering").drifted
    assert any("predictions drifted" in reason for reason in result.reasons)


def test_a_profile_round_trips_through_json_and_npz_without_pickle(reference, tmp_path):
    folder = reference.save(tmp_path / "profile")
    assert sorted(p.name for p in folder.iterdir()) == ["profile.json", "profile.npz"]
    with np.load(folder / "profile.npz", allow_pickle=False) as stored:
        assert "embeddings/pixels" in stored.files
    again = load(folder)
    assert again.embedding == "pixels"
    np.testing.assert_array_equal(
        again.values["image.brightness"], reference.values["image.brightness"]
    )
    assert (
        "pixel embedding"
        in json.loads((folder / "profile.json").read_text())["facts"]["embedding_note"]
    )


@pytest.fixture(scope="module")
def saved_reference(folders, tmp_path_factory):
    from pipeline.config import load_config

    profile = new_profile(
        "plates",
        folders["reference"],
        config=load_config(),
        params=PARAMS,
        seed=0,
        embedder=None,
        predict=None,
    )
    return profile.save(tmp_path_factory.mktemp("ref") / "profile")


def drift_command(data, reference_dir, out):
    return CliRunner().invoke(
        app,
        [
            "drift",
            "plates",
            str(data),
            "--reference",
            str(reference_dir),
            "--out",
            str(out),
            "--no-predictions",
            "--no-mlflow",
            "--embedding",
            "pixels",
        ],
    )


def test_the_command_exits_3_on_drift_and_0_without(folders, saved_reference, tmp_path):
    drifted = drift_command(folders["dark"], saved_reference, tmp_path / "dark")
    assert drifted.exit_code == 3, drifted.output
    assert "drift" in drifted.output and "image.brightness" in drifted.output
    same = drift_command(folders["same"], saved_reference, tmp_path / "same")
    assert same.exit_code == 0, same.output
    assert "no drift" in same.output


def test_the_json_summary_and_the_one_file_report(folders, saved_reference, tmp_path):
    drift_command(folders["dark"], saved_reference, tmp_path)
    summary = json.loads((tmp_path / "drift.json").read_text())
    assert {
        "task",
        "drifted",
        "reasons",
        "thresholds",
        "drifted_share",
        "features",
        "embedding",
        "reference",
        "new",
    } <= set(summary)
    assert summary["drifted"] is True
    feature = next(f for f in summary["features"] if f["name"] == "image.brightness")
    assert {"ks", "p_value", "p_adjusted", "wasserstein", "effect", "smd", "drifted"} <= set(
        feature
    )
    assert summary["embedding"]["embedding"] == "pixels"
    page = (tmp_path / "drift.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and '<img src="http' not in page


def test_an_unknown_folder_is_one_line(saved_reference, tmp_path):
    result = drift_command(tmp_path / "nowhere", saved_reference, tmp_path / "out")
    assert result.exit_code == 1
    assert "no such folder" in result.output


def test_the_trail_keeps_a_bounded_sample_and_no_images_by_default(tmp_path):
    rng = np.random.default_rng(0)
    images = [photo(rng) for _ in range(200)]
    answers = pd.DataFrame({"steering": np.linspace(-1, 1, 200), "text": ["x" * 2000] * 200})
    kept = trail.record(tmp_path, "driving", images, answers, 0.25, rng=random.Random(0))
    lines = (tmp_path / "driving" / "trail.jsonl").read_text().splitlines()
    assert 25 < kept == len(lines) < 75
    entry = json.loads(lines[0])
    assert set(entry) == {"time", "task", "stats", "pixels", "prediction"}
    assert len(entry["pixels"]) == 192 and len(entry["prediction"]["text"]) == trail.MAX_TEXT
    assert not (tmp_path / "driving" / "images").exists()
    assert trail.record(tmp_path, "driving", images, answers, 0.0) == 0  # off


def test_the_trail_rotates_so_it_stays_bounded(tmp_path):
    rng = np.random.default_rng(1)
    images = [photo(rng) for _ in range(10)]
    for _ in range(30):
        trail.record(tmp_path, "plates", images, None, 1.0, max_bytes=20_000)
    sizes = [p.stat().st_size for p in (tmp_path / "plates").glob("trail*.jsonl")]
    assert len(sizes) == 2  # the current file and the one before: older ones are dropped
    assert all(size < 20_000 + 10 * 4_000 for size in sizes)  # the bound plus one call


def test_the_trail_keeps_images_only_when_asked_and_feeds_drift(tmp_path, reference):
    rng = np.random.default_rng(2)
    images = [cv2.imencode(".png", photo(rng))[1].tobytes() for _ in range(30)]
    trail.record(tmp_path, "plates", images, None, 1.0, keep_images=True)
    assert len(list((tmp_path / "plates" / "images").glob("*.png"))) == 30
    dark = [darken(photo(rng)) for _ in range(30)]
    trail.record(tmp_path / "dark", "plates", dark, None, 1.0)
    served = trail_profile(tmp_path / "dark" / "plates", "plates", PARAMS, 0, None)
    assert served.images == 30 and compare(reference, served, PARAMS).drifted


def test_the_trail_is_off_without_its_environment_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(trail.ENV_DIR, raising=False)
    assert trail.record_from_env("plates", [photo(np.random.default_rng(3))], None) == 0
    monkeypatch.setenv(trail.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(trail.ENV_RATE, "1")
    assert trail.record_from_env("plates", [photo(np.random.default_rng(3))], None) == 1
    monkeypatch.setenv(trail.ENV_RATE, "not a number")
    assert trail.record_from_env("plates", [photo(np.random.default_rng(3))], None) == 0
