"""Resume only the same training; leave no temporary debris; save the same bytes twice."""

import json
import os
import subprocess
import sys

import pytest

from pipeline.core import checkpoints
from pipeline.core.io import atomic_dir, remove_stale_temps


def _key(tmp_path, learning_rate=0.001, data=b"frames"):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "manifest.parquet").write_bytes(data)
    return checkpoints.fingerprint(
        {"train": {"learning_rate": learning_rate}}, {"data": tmp_path / "data"}
    )


def test_same_training_resumes_its_checkpoints(tmp_path):
    work = tmp_path / "ckpt"
    assert checkpoints.prepare(work, _key(tmp_path)) == ""
    (work / "backup_phase1").mkdir()
    assert "resuming" in checkpoints.prepare(work, _key(tmp_path))
    assert (work / "backup_phase1").is_dir()


@pytest.mark.parametrize(
    ("change", "named"),
    [({"learning_rate": 0.5}, "params"), ({"data": b"other frames"}, "input:data")],
)
def test_changed_params_or_data_start_afresh_and_say_why(tmp_path, change, named):
    work = tmp_path / "ckpt"
    checkpoints.prepare(work, _key(tmp_path))
    (work / "backup_phase1").mkdir()
    note = checkpoints.prepare(work, _key(tmp_path, **change))
    assert "starting afresh" in note and named in note
    assert not (work / "backup_phase1").exists()
    assert json.loads((work / checkpoints.FINGERPRINT_FILE).read_text()) == _key(tmp_path, **change)


def test_the_code_version_is_part_of_the_fingerprint(tmp_path):
    assert _key(tmp_path)["code"] == checkpoints.code_digest() != ""


def test_temporaries_of_a_killed_process_are_removed_and_live_ones_kept(tmp_path):
    killed = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(killed.stdout)
    stale = tmp_path / f".assets.{dead_pid}.abc123"
    stale.mkdir()
    live = tmp_path / f".model.keras.{os.getpid()}.def456.keras"
    live.write_text("in progress")
    output = tmp_path / "model.keras"
    output.write_text("the real output")
    assert remove_stale_temps(tmp_path) == [stale]
    assert live.exists() and output.exists()


def test_a_failed_atomic_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "assets") as tmp:
        (tmp / "half.json").write_text("{")
        raise RuntimeError("killed half way")
    assert list(tmp_path.iterdir()) == []


_SAVE_IN_A_NEW_PROCESS = """
import sys
from pathlib import Path
import keras
from pipeline.core.io import normalise_keras_archive
keras.utils.set_random_seed(7)
inputs = keras.Input((8,))
shared = keras.layers.Dense(4, name="shared")
outputs = keras.layers.Rescaling(0.5)(shared(shared(keras.layers.Dense(4)(inputs))))
keras.Model(inputs, outputs).save(sys.argv[1])
normalise_keras_archive(Path(sys.argv[1]))
"""


def test_equal_weights_saved_by_two_processes_give_identical_bytes(tmp_path):
    keras = pytest.importorskip("keras")
    files = []
    for name in ("a.keras", "b.keras"):  # other processes: other object ids, other seconds
        subprocess.run(
            [sys.executable, "-c", _SAVE_IN_A_NEW_PROCESS, str(tmp_path / name)], check=True
        )
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]
    loaded = keras.models.load_model(tmp_path / "a.keras", safe_mode=True)
    assert loaded.get_layer("shared") is not None
