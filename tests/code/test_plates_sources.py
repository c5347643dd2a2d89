"""Sources of a mixed plates folder: held out whole for test (`ingest.plates.test_sources`),
the same way in plates and plates_text."""

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_config
from pipeline.core.errors import DatasetError
from pipeline.tasks.plates.ingest import read_raw as read_plates
from pipeline.tasks.plates.params import PlatesIngestParams
from pipeline.tasks.plates.sources import held_out, metric_key, source_of
from pipeline.tasks.plates_text.ingest import read_raw as read_texts
from pipeline.tasks.plates_text.params import PlateTextIngestParams

REPO_PARAMS = Path(__file__).parents[2] / "params.yaml"


@pytest.fixture
def mixed(tmp_path, write_image) -> Path:
    """`vn/`: ten labelImg photos; `eg/`: a GreenParking list of three photos and a copy of
    vn/v0.jpg (the same photo in two datasets)."""
    root = tmp_path / "raw"
    for index in range(10):
        write_image(root / "vn" / f"v{index}.jpg", width=120, height=80)
        (root / "vn" / f"v{index}.txt").write_text("0 0.5 0.5 0.3 0.2\n")
    for index in range(3):
        write_image(root / "eg" / f"e{index}.jpg", width=120, height=80)
    shutil.copy(root / "vn" / "v0.jpg", root / "eg" / "copied.jpg")
    (root / "eg" / "location.txt").write_text(
        "e0.jpg 1 10 10 40 30 59C1-39916\n"
        "e1.jpg 1 10 10 40 30 51F-12345\n"
        "e2.jpg 1 10 10 40 30 29A1-11111\n"
        "copied.jpg 1 10 10 40 30 29X1-12345\n"
    )
    return root


def test_a_source_is_the_top_level_folder():
    assert source_of("eg/GreenParking") == "eg"
    assert source_of("eg") == "eg"
    assert source_of(".") == source_of(None) == source_of("") == "."
    assert metric_key("CS231.M22 (copy)+x") == "CS231.M22 _copy__x"


def test_globs_choose_sources_and_a_typo_or_all_of_them_is_refused():
    sources = ["chutoanduc2601__x", "daotrananhtuan__y", "telattar__z"]
    assert held_out(sources, ["telattar*"]) == {"telattar__z"}
    assert held_out(sources, ["tel*", "dao*"]) == {"telattar__z", "daotrananhtuan__y"}
    with pytest.raises(DatasetError, match=r"'egypt\*' matches no source.*telattar__z"):
        held_out(sources, ["egypt*"])
    with pytest.raises(DatasetError, match="holds out every source"):
        held_out(sources, ["*"])


def test_held_out_sources_are_all_test_and_the_others_train_or_val(mixed):
    params = PlatesIngestParams(val_fraction=0.3, test_fraction=0.3, test_sources=["e*"])
    frame = read_plates(mixed, params, seed=0).set_index("image")
    splits = frame["split"].to_dict()
    assert {splits[f"eg/e{i}.jpg"] for i in range(3)} == {"test"}
    # the copy of a held-out photo follows it: no photo of the test source is trained on
    assert splits["eg/copied.jpg"] == splits["vn/v0.jpg"] == "test"
    others = [splits[f"vn/v{i}.jpg"] for i in range(1, 10)]
    assert set(others) == {"train", "val"}
    assert others.count("val") == 3  # val_fraction of the 9 photos left; test_fraction unused

    texts = read_texts(
        mixed, PlateTextIngestParams(val_fraction=0.3, test_fraction=0.3, test_sources=["e*"]), 0
    )
    assert all(
        splits[image] == split for image, split in zip(texts["image"], texts["split"], strict=True)
    )
    assert set(texts.loc[texts["folder"] == "eg", "split"]) == {"test"}


def test_without_test_sources_every_source_is_split(mixed):
    frame = read_plates(mixed, PlatesIngestParams(val_fraction=0.3, test_fraction=0.3), 0)
    assert frame.loc[frame["folder"] == "vn", "split"].nunique() > 1


def test_a_test_source_matching_nothing_stops_the_ingest(mixed):
    with pytest.raises(DatasetError, match=r"'telattar' matches no source; .*: eg, vn"):
        read_plates(mixed, PlatesIngestParams(test_sources=["telattar"]), 0)


def test_plates_and_plates_text_must_hold_out_the_same_sources(tmp_path):
    params = yaml.safe_load(REPO_PARAMS.read_text())
    params["ingest"]["plates"]["test_sources"] = ["telattar*"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match=r"test_sources \[\] vs \['telattar\*'\]"):
        load_config(path)
    params["ingest"]["plates_text"]["test_sources"] = ["telattar*"]
    path.write_text(yaml.safe_dump(params))
    assert load_config(path).for_task("ingest", "plates").test_sources == ["telattar*"]
