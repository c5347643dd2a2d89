"""Normal runs show the pipeline's own lines only; `--verbose` gives the libraries' back."""

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core import quiet

# Lines TensorFlow 2.21 writes to descriptor 2 when it is imported on a CPU machine.
STARTUP = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1795618808.886014   28939 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results.\n",
    "I0000 00:00:1795618808.887033   28939 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n",
    "I0000 00:00:1795618808.979985   28939 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.\n",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
    "with the appropriate compiler flags.\n",
    "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could "
    "not find cuda drivers on your machine, GPU will not be used.\n",
]
CUINIT = (
    "E0000 00:00:1795618815.030479   28939 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
)


@pytest.mark.parametrize("line", STARTUP)
def test_startup_lines_are_noise(line):
    assert quiet.is_noise(line, driver=False)
    assert quiet.is_noise(line, driver=True)


def test_a_cuda_error_is_noise_only_without_an_nvidia_driver():
    assert quiet.is_noise(CUINIT, driver=False)
    assert not quiet.is_noise(CUINIT, driver=True)  # a GPU machine must see it


@pytest.mark.parametrize(
    "line",
    [
        "E0000 00:00:1795618815.030479   28939 cuda_dnn.cc:8579] Unable to register cuDNN\n",
        "F0000 00:00:1795618815.030479   28939 stream.cc:12] Check failed: ok\n",
        "Traceback (most recent call last):\n",
        "WARNING: disk full\n",
        "error: no such image file: x.png\n",
    ],
)
def test_errors_and_other_lines_are_kept(line):
    assert not quiet.is_noise(line, driver=False)


def test_filtered_stderr_drops_what_libraries_write_to_the_descriptor(capfd):
    with quiet.filtered_stderr(lambda line: quiet.is_noise(line, driver=False)):
        os.write(2, "".join([*STARTUP, CUINIT]).encode())
        os.write(2, b"E0000 00:00:1.2   7 gpu.cc:1] a real failure\n")
        os.write(2, b"UserWarning: a warning of our own\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == (
        "E0000 00:00:1.2   7 gpu.cc:1] a real failure\nUserWarning: a warning of our own\nafter\n"
    )


def test_filtered_stderr_replays_even_when_the_block_fails(capfd):
    with pytest.raises(ImportError), quiet.filtered_stderr(lambda line: False):
        os.write(2, b"why it failed\n")
        raise ImportError("broken build")
    assert capfd.readouterr().err == "why it failed\n"


def test_warnings_raised_inside_installed_packages_are_not_shown():
    shown: list[str] = []
    show = quiet.library_warnings_hidden(
        lambda message, category, filename, *a: shown.append(filename)
    )
    venv = "/work/.venv/lib/python3.11/site-packages"
    show("Add type hints", UserWarning, f"{venv}/mlflow/pyfunc/utils/data_validation.py", 187)
    show("shuffle=True ignored", UserWarning, f"{venv}/keras/src/trainers/epoch_iterator.py", 74)
    show("odd", UserWarning, "/usr/lib/python3/dist-packages/numpy/core/_methods.py", 1)
    show("ours", UserWarning, "/work/main/pipeline/core/images.py", 33)
    assert shown == ["/work/main/pipeline/core/images.py"]


IMPORT_TENSORFLOW = textwrap.dedent(
    """
    import sys
    from pipeline.core import quiet

    quiet.configure(verbose=sys.argv[1] == "verbose")
    import keras  # imports tensorflow
    import tensorflow as tf

    print(tf.reduce_sum(tf.constant([1.0, 2.0])).numpy())
    """
)


def run_python(code: str, *args: str, env: dict[str, str] | None = None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PIPELINE_"))}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=300,
        check=False,
    )


def test_tensorflow_starts_without_a_line_and_verbose_brings_them_back():
    verbose = run_python(IMPORT_TENSORFLOW, "verbose")
    assert verbose.returncode == 0, verbose.stderr
    if not any(quiet.is_noise(line, driver=False) for line in verbose.stderr.splitlines()):
        pytest.skip("this TensorFlow build prints no start-up line on this machine")
    quiet_run = run_python(IMPORT_TENSORFLOW, "quiet")
    assert quiet_run.returncode == 0, quiet_run.stderr
    assert quiet_run.stdout == "3.0\n"
    assert quiet_run.stderr == ""


def test_the_verbose_option_and_the_env_var_reach_the_libraries(monkeypatch):
    monkeypatch.delenv(quiet.VERBOSE_ENV, raising=False)
    monkeypatch.setattr(quiet, "configure", lambda verbose: seen.append(verbose))
    seen: list[bool] = []
    runner = CliRunner()
    runner.invoke(app, ["augment", "captions"])
    runner.invoke(app, ["--verbose", "augment", "captions"])
    runner.invoke(app, ["augment", "captions"], env={quiet.VERBOSE_ENV: "1"})
    assert seen == [False, True, True]


def test_quiet_settings_leave_what_the_user_exported(monkeypatch):
    for name in quiet.QUIET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    with warnings.catch_warnings():
        quiet.configure(verbose=False)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "ERROR"
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"


STEERING_MODEL = textwrap.dedent(
    """
    import mlflow
    import pandas as pd


    class Steering(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return pd.DataFrame({"steering": [-0.25] * len(model_input)})


    mlflow.models.set_model(Steering())
    """
)


@pytest.fixture(scope="module")
def steering_model(tmp_path_factory) -> Path:
    """A tiny pyfunc in the MLflow format, logged like ours (models from code)."""
    import mlflow

    folder = tmp_path_factory.mktemp("steering")
    code = folder / "steering.py"
    code.write_text(STEERING_MODEL)
    mlflow.pyfunc.save_model(folder / "model", python_model=str(code), pip_requirements=["mlflow"])
    return folder / "model"


def test_predict_prints_its_answer_and_nothing_else(tmp_path, steering_model, write_image):
    """As a user runs it: TensorFlow and MLflow load for real, in their own process."""
    frame = write_image(tmp_path / "center.png", 320, 160)
    command = ["predict", "driving", str(frame), "--model", str(steering_model)]
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PIPELINE_"))},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{frame}: steering -0.2500\n"
    assert result.stderr == ""
