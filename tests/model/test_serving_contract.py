"""The shared serving helpers: what a model accepts as images, and how every task logs it."""

import textwrap

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.core.errors import PipelineError
from pipeline.core.serving import images_of, log_pyfunc, rgb_images, signature

ECHO = """
import mlflow
import pandas as pd

from pipeline.core.serving import rgb_images


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input: pd.DataFrame, params=None):
        {body}


mlflow.models.set_model(Echo())
"""
SIZES = """images = rgb_images(model_input)
        widths = [image.shape[1] for image in images]
        return pd.DataFrame({"width": widths, "scale": (params or {}).get("scale")})"""
BROKEN = "raise RuntimeError('the weights file is empty')"


def test_images_are_bytes_or_rgb_uint8_arrays_and_nothing_else(write_image, tmp_path):
    jpeg = write_image(tmp_path / "a.jpg", 40, 30).read_bytes()
    array = np.full((30, 40, 3), 200, np.uint8)
    decoded = rgb_images(pd.DataFrame({"image": [jpeg, array]}))
    assert [image.shape for image in decoded] == [(30, 40, 3), (30, 40, 3)]
    assert images_of(pd.DataFrame({"image": [jpeg]})) == [jpeg]
    png = images_of([array])[0]  # an array reaches a bytes-only model losslessly
    assert np.array_equal(cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), 1), 4), array)
    with pytest.raises(ValueError, match=r"RGB uint8 image of shape \(h, w, 3\), got float64"):
        rgb_images([array / 255.0])  # a 0-1 float image would be read as black
    with pytest.raises(ValueError, match="an `image` column, got columns \\['frame'\\]"):
        rgb_images(pd.DataFrame({"frame": [jpeg]}))
    with pytest.raises(ValueError, match="not a decodable image"):
        rgb_images([b"\xff\xd8\xff not really"])


def test_the_signature_types_image_binary_and_each_param_by_its_default():
    found = signature({"count": "long", "boxes": "string"}, {"min_score": 0.3, "beam": 2})
    assert found.inputs.to_dict() == [{"type": "binary", "name": "image", "required": True}]
    assert [c["name"] for c in found.outputs.to_dict()] == ["count", "boxes"]
    assert [(p.name, p.dtype.name, p.default) for p in found.params.params] == [
        ("min_score", "double", 0.3),
        ("beam", "long", 2),
    ]
    assert signature({"steering": "double"}, {}).params is None


@pytest.fixture
def run(embedded_store):
    import mlflow

    mlflow.set_experiment("contract")
    with mlflow.start_run() as active:
        yield active


def _code(tmp_path, body: str):
    path = tmp_path / "echo.py"
    path.write_text(textwrap.dedent(ECHO).replace("{body}", body))
    return path


def test_a_logged_model_takes_params_and_answers_its_columns(run, tmp_path):
    import mlflow

    uri = log_pyfunc(
        _code(tmp_path, SIZES),
        artifacts={},
        outputs={"width": "long", "scale": "double"},
        params={"scale": 1.5},
        example_size=(64, 32),
    )
    model = mlflow.pyfunc.load_model(uri)
    frame = pd.DataFrame({"image": [np.zeros((8, 24, 3), np.uint8)]})
    assert model.predict(frame).to_dict("list") == {"width": [24], "scale": [1.5]}
    assert model.predict(frame, params={"scale": 2.0})["scale"].tolist() == [2.0]
    assert model.metadata.get_params_schema().params[0].default == 1.5


def test_a_model_that_fails_on_its_own_example_is_refused_on_one_line(run, tmp_path):
    with pytest.raises(PipelineError) as refused:
        log_pyfunc(_code(tmp_path, BROKEN), artifacts={}, outputs={"width": "long"})
    message = str(refused.value)
    assert "echo.py fails on its own input example" in message
    assert "the weights file is empty" in message and "\n" not in message


def test_a_logged_model_answers_rgba_grey_16_bit_cmyk_and_exif_images(run, tmp_path):
    import io

    import mlflow
    from PIL import Image

    def encoded(image, kind="PNG", **options):
        out = io.BytesIO()
        image.save(out, kind, **options)
        return out.getvalue()

    exif = Image.Exif()
    exif[0x0112] = 6  # stored 24 wide, shown 24 high
    images = [
        encoded(Image.new("RGBA", (24, 16), (1, 2, 3, 0))),
        encoded(Image.new("L", (24, 16), 7)),
        cv2.imencode(".png", np.full((16, 24), 65535, np.uint16))[1].tobytes(),
        encoded(Image.new("CMYK", (24, 16), (0, 0, 0, 0)), "JPEG"),
        encoded(Image.new("RGB", (24, 16), (9, 9, 9)), "JPEG", exif=exif),
    ]
    uri = log_pyfunc(
        _code(tmp_path, SIZES), artifacts={}, outputs={"width": "long"}, example_size=(64, 32)
    )
    model = mlflow.pyfunc.load_model(uri)
    answer = model.predict(pd.DataFrame({"image": images}))
    assert answer["width"].tolist() == [24, 24, 24, 24, 16]
    cut = images[3][: len(images[3]) // 3]
    with pytest.raises(Exception, match="image 1: not a decodable image: truncated or corrupt"):
        model.predict(pd.DataFrame({"image": [images[0], cut]}))
