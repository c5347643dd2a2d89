"""Quiet start-up: library chatter hidden in normal runs, back with `--verbose`.

TensorFlow 2.21 logs its start-up through absl before absl is initialised, so these lines go
straight to file descriptor 2 and `TF_CPP_MIN_LOG_LEVEL` no longer hides them all
(tensorflow/tensorflow#100442): "oneDNN custom operations are on", "Could not find cuda
drivers", and on a machine without an NVIDIA driver a red `E0000 ... failed call to cuInit`.
They are written while `tensorflow` is imported and its devices are listed, so that first
import runs with descriptor 2 captured, and every captured line except those is written back.
A real GPU is never hidden: nothing here touches `CUDA_VISIBLE_DEVICES`, and the cuInit line is
dropped only where no NVIDIA driver is loaded.

Everything is set before TensorFlow or MLflow is imported (the CLI's root callback), and a
value the user exported wins. `pipeline --verbose` or `PIPELINE_VERBOSE=1` changes nothing.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import io
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

VERBOSE_ENV = "PIPELINE_VERBOSE"

#: environment read by the libraries when they load; set only where the user has not
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow's own C++ info and warnings; errors stay
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "2",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # download/upload bars of artifacts
    "MLFLOW_LOGGING_LEVEL": "ERROR",  # MLflow resets its logger's level when imported
}

#: Python loggers whose warnings are about the library, not about the user's data or run
#: (a new embedded store's schema migration logs each step at INFO: mlflow's db utils, alembic)
QUIET_LOGGERS = ("absl", "tensorflow", "h5py", "mlflow.store.db.utils", "alembic")

#: Python warnings about the libraries' own affairs that point at our line calling them
QUIET_WARNING_MESSAGES = (
    # keras.applications: ImageNet weights exist for a few square sizes; the nearest is used
    r"`input_shape` is undefined or non-square",
)

_NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    # absl/glog info and warning lines: I0000 00:00:1795618630.262245   26266 port.cc:153] ...
    re.compile(r"^[IW]\d{4} [\d:.]+\s+\d+ \S+:\d+\] "),
    # TensorFlow's older format: 2025-09-17 14:44:05.157831: I external/.../cudart_stub.cc:32]
    re.compile(r"^\d{4}-\d\d-\d\d [\d:.]+: [IW] \S+:\d+\] "),
    # the continuation of cpu_feature_guard's info line
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow"),
)
_NO_DRIVER_NOISE = re.compile(r"^E\d{4} .*(failed call to cuInit|Could not find cuda drivers)")


def is_verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def nvidia_driver_loaded() -> bool:
    """True where the NVIDIA kernel driver is loaded: CUDA errors then are real errors."""
    return Path("/proc/driver/nvidia/version").exists()


def is_noise(line: str, *, driver: bool) -> bool:
    """True for a TensorFlow/absl start-up line that says nothing the user can act on."""
    if any(pattern.match(line) for pattern in _NOISE):
        return True
    return not driver and _NO_DRIVER_NOISE.match(line) is not None


def configure(verbose: bool) -> None:
    """Set up quiet (or, with `verbose`, untouched) output for this process and its children."""
    if verbose:
        os.environ[VERBOSE_ENV] = "1"  # children (e.g. `mlflow models serve`) stay verbose
        return
    settings = dict(QUIET_ENV)
    if not nvidia_driver_loaded():
        # On a CPU machine TensorFlow's C++ "errors" are about CUDA and AVX-512 it does not
        # have ("oneDNN supports DT_INT32 only on platforms with AVX-512"); a real failure
        # still raises in Python with its message. With a driver, CUDA errors stay visible.
        settings["TF_CPP_MIN_LOG_LEVEL"] = "3"
    for name, value in settings.items():
        os.environ.setdefault(name, value)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for message in QUIET_WARNING_MESSAGES:
        warnings.filterwarnings("ignore", message=message)
    if not getattr(warnings.showwarning, "quiet", False):
        warnings.showwarning = library_warnings_hidden(warnings.showwarning)
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietImport("tensorflow", _after_tensorflow))


def from_library(filename: str) -> bool:
    """True for a file of an installed package (not of this project)."""
    return not {"site-packages", "dist-packages"}.isdisjoint(Path(filename).parts)


def library_warnings_hidden(show: Callable[..., None]) -> Callable[..., None]:
    """`warnings.showwarning` that drops warnings raised inside installed packages.

    Replacing the display, not adding a filter: MLflow wraps calls in
    `catch_warnings(); simplefilter("once")`, which puts its own filter before ours.
    """

    def showwarning(message: Any, category: Any, filename: str, *args: Any, **kw: Any) -> None:
        if not from_library(filename):
            show(message, category, filename, *args, **kw)

    showwarning.quiet = True  # type: ignore[attr-defined]
    return showwarning


@contextmanager
def library_output() -> Iterator[None]:
    """Hide what a library call prints itself (Python-level stdout and stderr), unless verbose.

    For messages the caller reports better on its own line: Keras' "Downloading data from"
    and its bar (printed even when the download then fails), MLflow's "Registered model
    ... already exists. Creating a new version". An exception still propagates with its
    message.
    """
    if is_verbose():
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


@contextmanager
def filtered_stderr(drop: Callable[[str], bool]) -> Iterator[None]:
    """Capture descriptor 2 (C++ libraries write there directly); replay the lines kept.

    The capture is a file, not a pipe: a library that writes a lot cannot block on it.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not drop(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _drop_startup_noise(line: str) -> bool:
    return is_noise(line, driver=nvidia_driver_loaded())


def _after_tensorflow(module: ModuleType) -> None:
    """List the devices now, inside the capture: that is when cuInit reports."""
    with contextlib.suppress(Exception):  # the first real use raises it again, in full
        module.config.list_physical_devices()
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Import one top-level package once with descriptor 2 filtered, then step aside."""

    def __init__(self, name: str, after: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.after = after

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader, self.after)
        return spec


class _FilteredLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, after: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.after = after

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with filtered_stderr(_drop_startup_noise):
            self.loader.exec_module(module)
            self.after(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self.loader, name)
