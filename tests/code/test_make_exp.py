"""`make exp`: a failed `dvc exp run -S` leaves params.yaml as it was, not with its values."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

DVC_YAML = "stages:\n  fit:\n    cmd: python fit.py\n    deps: [fit.py]\n    params: [foo]\n"
# The stage fails when foo is 2 (an experiment's typo, a param the code rejects); when foo
# is 3 it says it started and waits to be interrupted.
FIT = """import pathlib, sys, time, yaml
foo = yaml.safe_load(open("params.yaml"))["foo"]
if foo == 3:
    pathlib.Path("started").touch()
    time.sleep(120)
sys.exit(3 if foo == 2 else 0)
"""


def _env(cwd: Path) -> dict[str, str]:
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd), "DVC_NO_ANALYTICS": "1"}


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, timeout=120, env=_env(cwd)
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").write_text("foo: 1\n")
    (project / "dvc.yaml").write_text(DVC_YAML)
    (project / "fit.py").write_text(FIT)
    for command in (
        ["git", "init", "-q"],
        ["git", "config", "user.name", "t"],
        ["git", "config", "user.email", "t@example.invalid"],
        [str(BIN / "dvc"), "init", "-q"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "i"],
    ):
        assert _run(project, *command).returncode == 0, command
    return project


def _make_exp_command(project: Path, args: str) -> list[str]:
    """The project's Makefile in another folder: its venv named, `install` not remade."""
    venv = project.parent / "venv"
    return [
        "make", "--no-print-directory", "-f", str(ROOT / "Makefile"),
        "-o", f"{venv}/.installed", f"VENV={venv}", f"BIN={BIN}", "exp", f"ARGS={args}",
    ]  # fmt: skip


def _make_exp(project: Path, args: str) -> subprocess.CompletedProcess[str]:
    return _run(project, *_make_exp_command(project, args))


def test_a_failed_experiment_puts_params_yaml_back(project):
    (project / "params.yaml").write_text("foo: 1  # an uncommitted edit, kept\n")
    done = _make_exp(project, "-S foo=2")
    assert done.returncode != 0
    assert "params.yaml is back as it was before the run" in done.stdout
    assert "failed to reproduce 'fit'" in done.stderr
    assert (project / "params.yaml").read_text() == "foo: 1  # an uncommitted edit, kept\n"
    assert not (project / ".dvc/tmp/params.yaml.before-exp").exists()


def test_a_finished_experiment_keeps_dvcs_behaviour(project):
    done = _make_exp(project, "-S foo=5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "foo: 5" in (project / "params.yaml").read_text()  # the workspace shows the run
    assert not (project / ".dvc/tmp/params.yaml.before-exp").exists()


def _default_sigint() -> None:
    """A job started in the background (`cmd &`, CI) inherits SIGINT ignored: undo that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_an_interrupted_experiment_puts_params_yaml_back(project):
    """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
    with subprocess.Popen(
        _make_exp_command(project, "-S foo=3"),
        cwd=project,
        env=_env(project),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    ) as make:
        deadline = time.monotonic() + 60
        while not (project / "started").exists() and make.poll() is None:
            assert time.monotonic() < deadline, "the stage never started"
            time.sleep(0.2)
        assert "foo: 3" in (project / "params.yaml").read_text()  # what DVC wrote
        os.killpg(make.pid, signal.SIGINT)
        output, _ = make.communicate(timeout=60)
    assert make.returncode != 0
    assert "dvc exp run interrupted: params.yaml is back as it was before the run" in output
    assert (project / "params.yaml").read_text() == "foo: 1\n"
