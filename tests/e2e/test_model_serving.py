"""Each task's registered model served over REST by `mlflow models serve`, on loopback, as
docs/mlflow.md shows: a JSON request with base64 image bytes in, the task's columns out.

The models come from the tiny `dvc repro` of the shared `repro_project` fixture (the
project's path, with `MLFLOW_TRACKING_URI` naming its store).
"""

import base64
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.servers import model_server

# the session's tiny `dvc repro` (conftest.py) is made once per worker: one worker
pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.xdist_group("repro")]

#: a sample image of each task, relative to the project, and the columns its model answers
SAMPLES = {
    "driving": ("data/sample/driving/IMG", "center_*.jpg", ["steering"]),
    "plates": ("data/sample/plates", "*.jpg", ["count", "boxes"]),
    "captions": ("data/sample/captions/Flicker8k_Dataset", "*.jpg", ["caption"]),
    "plates_text": ("data/processed/plates_text/crops/test", "*.png", ["text", "score"]),
}


def _images(project: Path, task: str, count: int) -> list[Path]:
    folder, pattern, _ = SAMPLES[task]
    found = sorted((project / folder).glob(pattern))[:count]
    assert len(found) == count, f"{task}: fewer than {count} sample images in {folder}"
    return found


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def served(request, repro_project, tmp_path_factory):
    """(task, project, URL of `mlflow models serve -m models:/<task>@candidate`), one
    server per task for the module."""
    task = request.param
    log = tmp_path_factory.mktemp("serve") / f"{task}.log"
    store = f"sqlite:///{repro_project / 'mlflow.db'}"  # named here: other tests move theirs
    env = {**os.environ, "MLFLOW_TRACKING_URI": store, "MLFLOW_REGISTRY_URI": store}
    with model_server(f"models:/{task}@candidate", log, env=env, cwd=repro_project) as url:
        yield task, repro_project, url


def test_a_json_request_of_base64_images_is_answered_with_the_tasks_columns(served):
    task, project, url = served
    images = _images(project, task, 2)
    columns = SAMPLES[task][2]

    status, records = _post(url, {"dataframe_records": [{"image": _b64(p)} for p in images]})
    assert status == 200, records
    rows = records["predictions"]
    assert [list(row) for row in rows] == [columns, columns]

    split = {"dataframe_split": {"columns": ["image"], "data": [[_b64(p)] for p in images]}}
    status, answer = _post(url, split)
    assert status == 200 and answer == records  # both orientations, the same answer

    if task == "driving":
        import mlflow

        # the Keras model of the version served (an experiment of test_dvc_repro may have
        # registered a newer candidate than the workspace's models/driving/model.keras)
        store = f"sqlite:///{project / 'mlflow.db'}"
        mlflow.set_tracking_uri(store)
        mlflow.set_registry_uri(store)
        served_model = mlflow.pyfunc.load_model("models:/driving@candidate").unwrap_python_model()
        frames = np.stack(
            [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in images]
        ).astype(np.float32)
        want = served_model.model.predict(frames, verbose=0)[:, 0]
        np.testing.assert_allclose([r["steering"] for r in rows], want, atol=1e-4)
    elif task == "plates":
        for path, row in zip(images, rows, strict=True):
            boxes = json.loads(row["boxes"])
            height, width = cv2.imread(str(path)).shape[:2]
            assert row["count"] == len(boxes)
            for box in boxes:  # in the image's own pixels
                assert 0 <= box["x1"] <= box["x2"] <= width, box
                assert 0 <= box["y1"] <= box["y2"] <= height, box
                assert 0 <= box["score"] <= 1, box
    elif task == "plates_text":
        assert all(isinstance(r["text"], str) and 0 <= r["score"] <= 1 for r in rows)
    else:
        assert all(isinstance(r["caption"], str) for r in rows)


def test_the_models_params_and_bad_images_over_rest(served):
    task, project, url = served
    image = _images(project, task, 1)[0]
    body = {"dataframe_split": {"columns": ["image"], "data": [[_b64(image)], [_b64(image)]]}}
    if task == "captions":  # beam search, asked for in the request
        status, answer = _post(url, {**body, "params": {"beam": 2}})
        assert status == 200, answer
        first, second = (r["caption"] for r in answer["predictions"])
        assert first == second
    elif task == "plates":  # a score threshold no plate reaches
        status, answer = _post(url, {**body, "params": {"min_score": 1.0}})
        assert status == 200, answer
        assert [r["count"] for r in answer["predictions"]] == [0, 0]

    text = base64.b64encode(b"remember to buy milk").decode("ascii")
    status, answer = _post(url, {"dataframe_records": [{"image": text}]})
    assert status == 400, answer  # the client's mistake, not a server error
    assert "not a decodable image" in answer.get("message", "") + answer.get("stack_trace", "")
