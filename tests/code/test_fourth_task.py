"""A new dataset needs its own package, its params sections and its name in one list.

`tests/shapes_task` defines `shapes` outside `pipeline/`; a fresh process adds it to
`pipeline.tasks.TASKS` (the one list) before anything reads the registry, then runs the
real CLI's sample -> ingest -> validate and asks DVC which stages dvc.yaml now has.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.shapes_task import params_sections

ROOT = Path(__file__).resolve().parents[2]

RUN_WITH_SHAPES = """
import sys
import pipeline.tasks
from tests.shapes_task import Shapes
pipeline.tasks.TASKS["shapes"] = Shapes()  # the one list; nothing else is edited
from pipeline.cli import app
app(sys.argv[1:])
"""


def _params_with_shapes(folder: Path) -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in params_sections().items():
        params[section]["shapes"] = values
    params["validate"]["max_rejected_fraction"] = 0.1
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def _pipeline(folder: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RUN_WITH_SHAPES, *args],
        cwd=folder,
        env={"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_new_task_runs_sample_ingest_validate_with_no_pipeline_edit(tmp_path):
    _params_with_shapes(tmp_path)
    assert "wrote 13 files" in _pipeline(tmp_path, "sample", "shapes")
    with (tmp_path / "data/sample/shapes/labels.csv").open("a") as labels:
        labels.write("012.png,\n")  # a bad row: no shape, and no such file
    said = _pipeline(tmp_path, "ingest", "shapes")
    assert "13 rows" in said and "1 rows with an ingest issue" in said
    said = _pipeline(tmp_path, "validate", "shapes")
    assert "13 rows = 12 valid + 1 rejected" in said
    report = json.loads((tmp_path / "reports/validation/shapes.json").read_text())
    assert report["passed"] is True and report["valid_per_split"] == {
        "test": 2,
        "train": 7,
        "val": 3,
    }
    assert report["reasons"] == {  # the task's own check beside the ones every task gets
        "no shape": 1,
        "image: does not decode fully (truncated, corrupt or not an image)": 1,
        "shape not circle or square": 1,
    }


def test_dvc_yaml_fans_its_stages_out_over_the_new_task_with_no_edit(tmp_path):
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    _params_with_shapes(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc = Path(sys.executable).parent / "dvc"
    subprocess.run([dvc, "init", "-q"], cwd=tmp_path, check=True)
    listed = subprocess.run(
        [dvc, "stage", "list", "--name-only"], cwd=tmp_path, capture_output=True, text=True
    )
    stages = set(listed.stdout.split())
    assert {
        f"{stage}@shapes"
        for stage in ("sample", "ingest", "validate", "pretext", "augment", "train", "register")
    } <= stages
    assert "features@shapes" not in stages  # its processed folder comes from augment
