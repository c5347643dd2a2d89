"""Leakage across tasks: plates and plates_text read the same photos and give each one split,
no copy group straddles splits, and the pretext draw (the shared self-supervised backbone's
images) takes no photo that any task holds out for val or test."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Config, load_config
from pipeline.core.pretext import draw_train_images
from pipeline.tasks import TASKS
from tests.conftest import realdata_dir

PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
READERS = ("plates", "plates_text")  # the tasks that read plate photos
REAL = realdata_dir("plates")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(PARAMS)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory, config) -> Path:
    """The default plates sample (params.yaml sizes), as `pipeline sample plates` writes it."""
    root = tmp_path_factory.mktemp("sample") / "plates"
    root.mkdir()
    TASKS["plates"].write_sample(root, config.for_task("sample", "plates"), config.seed)
    return root


def ingest(root: Path, config: Config) -> dict[str, pd.DataFrame]:
    return {
        name: TASKS[name].read_raw(root, config.for_task("ingest", name), config.seed)
        for name in READERS
    }


def photo_splits(manifest: pd.DataFrame) -> pd.Series:
    """image -> its split, asserting each image has one split in the manifest."""
    rows = manifest[manifest["image"].notna()]
    assert rows.groupby("image")["split"].nunique().max() == 1
    return rows.groupby("image")["split"].first()


def assert_no_leak(manifests: dict[str, pd.DataFrame], config: Config) -> None:
    plates, text = (photo_splits(manifests[name]) for name in READERS)
    shared = plates.index.intersection(text.index)
    assert len(shared) == len(text)  # plates_text reads a subset of the plates photos
    differ = shared[plates[shared] != text[shared]]
    assert differ.empty, f"{len(differ)} photos have another split in each task: {list(differ)}"

    for name, manifest in manifests.items():  # copies and photos sharing a plate text
        for column in ("photo", "group"):
            assert manifest.groupby(column)["split"].nunique().max() == 1, (name, column)
    copies_of = manifests["plates"].dropna(subset=["image"]).set_index("image")["photo"]

    held_out = set()  # every copy group any task holds out
    for splits in (plates, text):
        held_out |= set(copies_of[splits.index[splits != "train"]])
    for name, manifest in manifests.items():
        task = TASKS[name]
        column = task.image_columns[0]
        drawn = draw_train_images(manifest, column, name, config.seed, 10**6)  # all of them
        assert len(drawn) == (manifest.loc[manifest["split"] == "train", column].nunique())
        leaked = {image for image in drawn if copies_of[image] in held_out}
        assert not leaked, f"{name}'s pretext draw holds val/test photos: {sorted(leaked)[:5]}"
        some = draw_train_images(manifest, column, name, config.seed, 50)  # as the stage draws
        assert set(some) <= set(drawn) and len(some) == len(set(some))


def test_the_fractions_both_tasks_split_by_are_the_same(config):
    plates, text = (config.for_task("ingest", name) for name in READERS)
    assert (plates.val_fraction, plates.test_fraction) == (text.val_fraction, text.test_fraction)


def test_the_default_sample_has_one_split_per_photo_across_tasks(sample_dir, config):
    manifests = ingest(sample_dir, config)
    assert_no_leak(manifests, config)
    plates = manifests["plates"]
    shares = plates["split"].value_counts(normalize=True)
    assert abs(shares["test"] - 0.15) < 0.02 and abs(shares["val"] - 0.15) < 0.02


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real plates not found at {REAL}")
def test_the_real_plates_have_one_split_per_photo_across_tasks(config):
    manifests = ingest(REAL, config)
    assert_no_leak(manifests, config)
    plates = manifests["plates"]
    assert plates["split"].value_counts().to_dict() == {"train": 199, "val": 43, "test": 43}
