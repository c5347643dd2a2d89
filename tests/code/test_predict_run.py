"""`pipeline predict`'s one path for every task: files checked, the model loaded once and
given the image bytes and the task's model options, its answer printed the task's way."""

import json
from pathlib import Path

import cv2
import pandas as pd
import pytest

from pipeline import predict
from pipeline.core.errors import PipelineError
from pipeline.tasks import TASKS


class Recorder:
    """A stand-in registered model: records what it was given, answers `answer(frame)`."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.calls: list[tuple[pd.DataFrame, dict | None]] = []

    def predict(self, frame, params=None):
        self.calls.append((frame, params))
        return self.answer(frame)


@pytest.fixture
def serve(monkeypatch):
    """Install `model` as what every URI loads; counts the loads."""
    loads = []

    def install(model):
        monkeypatch.setattr(predict, "load_registered", lambda uri: loads.append(uri) or model)
        return loads

    return install


def test_driving_prints_one_signed_angle_per_frame_in_order(tmp_path, write_image, serve):
    images = [write_image(tmp_path / f"f{n}.jpg", 320, 160, seed=n) for n in range(3)]
    model = Recorder(lambda frame: pd.DataFrame({"steering": [0.12345, -0.5, 0.0]}))
    loads = serve(model)
    lines = predict.run(TASKS["driving"], images, "models:/driving@champion", {})
    assert lines == [
        f"{images[0]}: steering +0.1235",
        f"{images[1]}: steering -0.5000",
        f"{images[2]}: steering +0.0000",
    ]
    ((frame, params),) = model.calls
    assert loads == ["models:/driving@champion"] and params is None
    assert list(frame.columns) == ["image"]
    assert frame["image"].tolist() == [p.read_bytes() for p in images]  # the files' own bytes


def test_plates_text_reads_each_crop(tmp_path, write_image, serve):
    crops = [write_image(tmp_path / f"crop{n}.png", 128, 32, seed=n) for n in range(2)]
    model = Recorder(lambda frame: pd.DataFrame({"text": ["59T1-59973", ""], "score": [0.93, 0.1]}))
    serve(model)
    lines = predict.run(TASKS["plates_text"], crops, "models:/plates_text.champion@champion", {})
    assert lines == [
        f"{crops[0]}: 59T1-59973 (score 0.93)",
        f"{crops[1]}: (no text read) (score 0.10)",
    ]


def test_captions_passes_the_beam_to_the_model(tmp_path, write_image, serve):
    images = [write_image(tmp_path / f"{n}.png", seed=n) for n in range(2)]
    model = Recorder(lambda frame: pd.DataFrame({"caption": ["a dog runs", "two men talk"]}))
    serve(model)
    lines = predict.run(TASKS["captions"], images, "m", {"beam": 3})
    assert lines == [f"{images[0]}: a dog runs", f"{images[1]}: two men talk"]
    assert model.calls[0][1] == {"beam": 3}
    predict.run(TASKS["captions"], images, "m", {})  # not given: the option's default
    assert model.calls[1][1] == {"beam": 1}


PLATES = [
    [{"x1": 10.4, "y1": 20.0, "x2": 60.6, "y2": 40.0, "score": 0.913}],
    [],
    [
        {"x1": 1.0, "y1": 2.0, "x2": 30.0, "y2": 12.0, "score": 0.5},
        {"x1": 40.0, "y1": 5.0, "x2": 90.0, "y2": 25.0, "score": 0.349},
    ],
]


def _boxes(frame):
    return pd.DataFrame({"count": [len(r) for r in PLATES], "boxes": map(json.dumps, PLATES)})


def test_plates_prints_the_boxes_and_draws_them_with_out(tmp_path, write_image, serve):
    images = [write_image(tmp_path / f"car{n}.jpg", seed=n) for n in range(3)]
    model = Recorder(_boxes)
    serve(model)
    out = tmp_path / "drawn"
    lines = predict.run(TASKS["plates"], images, "m", {"min_score": 0.25, "out": out})
    assert lines == [
        f"{images[0]}: 1 plate(s) [10, 20, 61, 40] 0.91",
        f"{images[1]}: 0 plate(s) ",
        f"{images[2]}: 2 plate(s) [1, 2, 30, 12] 0.50; [40, 5, 90, 25] 0.35",
        f"drawn images in {out}",
    ]
    assert model.calls[0][1] == {"min_score": 0.25}  # `out` is the task's, not the model's
    original = cv2.imread(str(images[0]))
    drawn = cv2.imread(str(out / "car0_plates.png"))
    assert drawn.shape == original.shape and (drawn != original).any()
    assert sorted(p.name for p in out.iterdir()) == [f"car{n}_plates.png" for n in range(3)]


def test_plates_without_out_writes_nothing(tmp_path, write_image, serve):
    images = [write_image(tmp_path / f"car{n}.jpg", seed=n) for n in range(3)]
    serve(Recorder(_boxes))
    lines = predict.run(TASKS["plates"], images, "m", {"out": None})
    assert len(lines) == 3 and not any("drawn" in line for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["car0.jpg", "car1.jpg", "car2.jpg"]


def test_a_bad_file_is_refused_before_any_model_is_loaded(tmp_path, write_image, serve):
    loads = serve(Recorder(lambda frame: pytest.fail("predicted")))
    note = tmp_path / "note.txt"
    note.write_text("not an image")
    good = write_image(tmp_path / "ok.jpg")
    with pytest.raises(PipelineError, match=r"note\.txt is not a JPEG, PNG or BMP image"):
        predict.run(TASKS["driving"], [good, note], "m", {})
    assert loads == []


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (lambda frame: pd.DataFrame({"steering": [0.1, 0.2]}), "answered 2 rows for 1 images"),
        (lambda frame: [[0.1]], "answered a list, not a DataFrame"),
        (lambda frame: pd.DataFrame({"0": [0.1]}), "answered columns ['0'], without 'steering'"),
    ],
)
def test_a_model_off_the_contract_is_one_line(tmp_path, write_image, serve, answer, said):
    """E.g. a driving version logged with the Keras flavour before the common contract."""
    serve(Recorder(answer))
    with pytest.raises(PipelineError) as refused:
        predict.run(TASKS["driving"], [write_image(tmp_path / "f.jpg")], "models:/driving/1", {})
    message = str(refused.value)
    assert message.startswith("models:/driving/1 ") and said in message
    assert "pipeline train" in message and "\n" not in message


def test_a_model_that_cannot_take_image_bytes_is_one_line(tmp_path, write_image, serve):
    """What a driving version logged with the Keras flavour raises on a DataFrame of bytes."""
    from mlflow.exceptions import MlflowException

    def refuse(frame):
        raise MlflowException("Failed to enforce schema of data\nwith a long trace")

    serve(Recorder(refuse))
    with pytest.raises(PipelineError) as refused:
        predict.run(TASKS["driving"], [write_image(tmp_path / "f.jpg")], "m", {})
    message = str(refused.value)
    assert message.startswith("m could not predict (Failed to enforce schema of data)")
    assert "`pipeline train` again" in message and "\n" not in message


def test_an_option_the_model_refuses_is_one_line(tmp_path, write_image, serve):
    def refuse(frame):
        raise ValueError("beam must be 1 (greedy) or more, got 0")

    serve(Recorder(refuse))
    with pytest.raises(PipelineError) as refused:
        predict.run(TASKS["captions"], [write_image(tmp_path / "f.jpg")], "m", {"beam": 0})
    assert str(refused.value) == "m refused the input: beam must be 1 (greedy) or more, got 0"


def test_every_task_declares_its_options_with_a_default_of_their_type():
    for task in TASKS.values():
        for option in getattr(task, "predict_options", ()):
            assert option.default is None or isinstance(option.default, option.type)
    assert [(o.name, o.to_model) for o in TASKS["plates"].predict_options] == [
        ("min_score", True),
        ("out", False),
        ("read", False),
        ("reader", False),
    ]
    assert [(o.name, o.to_model) for o in TASKS["captions"].predict_options] == [("beam", True)]
    assert TASKS["driving"].predict_options == ()


def test_predict_names_no_task():
    """A fourth task adds its own predicting module; predict.py never changes."""
    source = Path(predict.__file__).read_text()
    assert not any(name in source for name in ("driving", "plates", "captions"))


def test_plates_read_prints_each_box_with_the_text_the_reader_gives_it(
    tmp_path, write_image, serve, monkeypatch
):
    """`--read`: the detector's boxes, then the reader model on their crops (one batch per
    image), each text printed after its box and drawn with --out."""
    image = write_image(tmp_path / "bike.jpg", 120, 90)
    boxes = [
        {"x1": 10.0, "y1": 10.0, "x2": 50.0, "y2": 40.0, "score": 0.9},
        {"x1": 60.0, "y1": 20.0, "x2": 100.0, "y2": 60.0, "score": 0.5},
    ]
    detector = Recorder(lambda frame: pd.DataFrame({"count": [2], "boxes": [json.dumps(boxes)]}))
    reader = Recorder(
        lambda frame: pd.DataFrame({"text": ["59T1-59973", "51F-12345"], "score": [0.8, 0.4]})
    )
    loads = []
    monkeypatch.setattr(
        predict,
        "load_registered",
        lambda uri: loads.append(uri) or (reader if "text" in uri else detector),
    )
    options = {
        "min_score": 0.3,
        "out": tmp_path / "drawn",
        "read": True,
        "reader": "models:/plates_text@1",
    }
    lines = predict.run(TASKS["plates"], [image], "models:/plates@champion", options)
    assert lines[0] == (
        f'{image}: 2 plate(s) [10, 10, 50, 40] 0.90 "59T1-59973" (0.80); '
        '[60, 20, 100, 60] 0.50 "51F-12345" (0.40)'
    )
    assert loads == ["models:/plates@champion", "models:/plates_text@1"]
    ((crops, _),) = reader.calls  # both crops of the image in one call
    assert len(crops) == 2 and (tmp_path / "drawn" / "bike_plates.png").is_file()
