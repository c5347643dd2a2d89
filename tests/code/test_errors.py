"""Bad input a user gives: one line on stderr, exit 1, no traceback, nothing run or loaded."""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipeline import predict
from pipeline.cli import app
from pipeline.tasks import TASKS, tasks_with
from tests.tiny import raw_producers, tiny_params

REPO = Path(__file__).parents[2]
runner = CliRunner()


def one_line_error(result) -> str:
    """The error the user reads; fails unless it is one line, exit 1, without a traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a command gets as far as loading a model."""

    def refuse(uri):
        raise AssertionError(f"model {uri} loaded for input that should have been refused")

    monkeypatch.setattr(predict, "load_registered", refuse)


@pytest.fixture
def note(tmp_path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text("remember to buy milk\n")
    return path


@pytest.mark.parametrize("task", tasks_with("predict"))
def test_predict_on_a_text_file_says_it_is_not_an_image(task, note, no_model):
    line = one_line_error(runner.invoke(app, ["predict", task, str(note)]))
    assert line == f"error: {note} is not a JPEG, PNG or BMP image: give the image files themselves"


def test_predict_names_every_bad_file_at_once(tmp_path, note, no_model, write_image):
    good = write_image(tmp_path / "frame.jpg", 320, 160)
    damaged = tmp_path / "cut.jpg"
    damaged.write_bytes(good.read_bytes()[:3] + b"\x00" * 40)  # a JPEG start, then nothing
    line = one_line_error(
        runner.invoke(app, ["predict", "driving", str(good), str(note), str(damaged)])
    )
    assert f"{note} is not a JPEG, PNG or BMP image" in line
    assert f"{damaged} is a damaged image" in line
    assert str(good) not in line


def test_predict_on_a_missing_file_names_it(tmp_path, no_model):
    line = one_line_error(runner.invoke(app, ["predict", "plates", str(tmp_path / "gone.png")]))
    assert "no such image file" in line and "gone.png" in line


def test_predict_with_another_task_s_option_names_it(tmp_path, no_model, write_image):
    photo = write_image(tmp_path / "photo.png", 96, 64)
    line = one_line_error(runner.invoke(app, ["predict", "driving", str(photo), "--beam", "3"]))
    assert line == "error: driving has no option --beam"


def test_predict_prints_nothing_but_its_answers(tmp_path, monkeypatch, write_image):
    class FakeCaptioner:
        def predict(self, frame, params=None):
            assert params == {"beam": 3}
            return pd.DataFrame({"caption": [f"a dog runs ({len(b)} bytes)" for b in frame.image]})

    monkeypatch.setattr(predict, "load_registered", lambda uri: FakeCaptioner())
    images = [write_image(tmp_path / f"{n}.jpg", seed=n) for n in range(2)]
    result = runner.invoke(app, ["predict", "captions", *map(str, images), "--beam", "3"])
    assert result.exit_code == 0, result.output
    sizes = [p.stat().st_size for p in images]
    assert result.stdout.splitlines() == [
        f"{path}: a dog runs ({size} bytes)" for path, size in zip(images, sizes, strict=True)
    ]
    assert result.stderr == ""


def test_a_model_that_cannot_be_loaded_is_one_line(tmp_path, write_image, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the embedded store of an empty project: no model at all
    image = write_image(tmp_path / "car.jpg")
    line = one_line_error(
        runner.invoke(app, ["predict", "plates", str(image), "--model", str(tmp_path / "nope")])
    )
    assert "cannot load" in line and "pipeline models" in line


#: (stage, a task without it) for the optional stages
WITHOUT = [
    (stage, next(name for name in TASKS if name not in tasks_with(stage)))
    for stage in ("augment", "features", "sample")
]


@pytest.mark.parametrize(("stage", "task"), WITHOUT)
def test_a_stage_the_task_does_not_have_is_refused_before_anything_runs(
    tmp_path, monkeypatch, stage, task
):
    have = ", ".join(tasks_with(stage))
    monkeypatch.chdir(tmp_path)  # no params.yaml here: reading the params would fail first
    line = one_line_error(runner.invoke(app, [stage, task]))
    assert line.startswith(f"error: {task} has no `{stage}` stage; tasks that have one: {have}")
    assert list(tmp_path.iterdir()) == []


def test_every_task_can_be_run_end_to_end_from_its_declaration():
    """Data stages for all; a model only with one way to its processed folder; a task with no
    sample of its own reads the raw folder of one that has."""
    params = tiny_params()
    for name in TASKS:
        assert name in tasks_with("ingest") and name in tasks_with("validate"), name
        if name in tasks_with("train"):
            assert (name in tasks_with("augment")) != (name in tasks_with("features")), name
            assert name in tasks_with("evaluate") and name in tasks_with("predict"), name
        assert raw_producers(name, params), f"{name}: no task samples its raw folder"


def test_a_driving_log_with_binary_bytes_is_a_rejected_row_not_a_crash(tmp_path, monkeypatch):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["sample"]["driving"]["frames"] = 60
    params["validate"]["max_rejected_fraction"] = 0.25
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["sample", "driving"]).exit_code == 0
    log = Path(params["data"]["driving"]["raw_dir"]) / "driving_log.csv"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(
        b"".join([*lines[:10], b"\x00\x01PK\x03\x04\xff\xfe\x89garbage\n", *lines[10:]])
    )

    for stage in ("ingest", "validate"):
        result = runner.invoke(app, [stage, "driving"])
        assert result.exit_code == 0, result.output
    valid = pd.read_parquet("data/interim/driving/valid.parquet")
    rejected = pd.read_parquet("data/interim/driving/rejected.parquet")
    assert len(valid) + len(rejected) == len(lines) + 1 - (lines[0].startswith(b"center"))
    assert len(rejected) == 1
    assert rejected["reason"].iloc[0].startswith("not UTF-8")  # checked before control bytes
    assert "byte 0xFF" in rejected["issue_detail"].iloc[0]
