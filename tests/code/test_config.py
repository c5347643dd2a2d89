"""Typed params: the shipped params.yaml loads; unknown or mistyped keys are named."""

from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_config

REPO_PARAMS = Path(__file__).parents[2] / "params.yaml"


def _write(tmp_path, change):
    params = yaml.safe_load(REPO_PARAMS.read_text())
    change(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_the_repository_params_load():
    config = load_config(REPO_PARAMS)
    assert config.seed == 42
    assert config.for_task("validate", "driving").steering_limit == 1.0
    assert config.validate_.max_rejected_fraction == 0.05


def test_an_unknown_key_is_named(tmp_path):
    path = _write(tmp_path, lambda p: p["sample"]["plates"].update(imagez=3))
    with pytest.raises(ConfigError, match=r"sample\.plates\.imagez: unknown key"):
        load_config(path)


def test_a_mistyped_value_is_named_with_what_was_given(tmp_path):
    path = _write(tmp_path, lambda p: p["ingest"]["driving"].update(segment_frames="many"))
    with pytest.raises(ConfigError, match=r"ingest\.driving\.segment_frames: .*'many'"):
        load_config(path)


def test_a_missing_task_section_is_named(tmp_path):
    path = _write(tmp_path, lambda p: p["validate"].pop("captions"))
    with pytest.raises(ConfigError, match=r"validate\.captions: missing"):
        load_config(path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such params file"):
        load_config(tmp_path / "nope.yaml")


def test_tasks_reading_one_folder_must_split_it_alike(tmp_path):
    def change(params):
        params["ingest"]["plates_text"]["test_fraction"] = 0.2

    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, change))
    message = str(err.value)
    assert "ingest.plates_text and ingest.plates read the same raw folder" in message
    assert "(0.15, 0.2) vs (0.15, 0.15)" in message and "\n" not in message

    def elsewhere(params):
        change(params)
        params["data"]["plates_text"]["raw_dir"] = "data/other"

    assert load_config(_write(tmp_path, elsewhere)).for_task("ingest", "plates_text")
