"""Outputs are readable by the group, as any file the user creates: atomic writes included."""

import os
import stat
import zipfile
from pathlib import Path

import pytest

from pipeline.core.io import atomic_dir, atomic_file, normalise_keras_archive, write_json


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_atomic_file_gets_the_mode_of_any_new_file(tmp_path, umask):
    with atomic_file(tmp_path / "reports" / "metrics.csv") as tmp:
        assert mode(tmp) == 0o666 & ~umask  # already while it is written
        tmp.write_text("mse\n0.1\n")
    assert mode(tmp_path / "reports" / "metrics.csv") == 0o666 & ~umask


def test_json_reports_are_group_readable_under_the_usual_umask(tmp_path, umask):
    write_json(tmp_path / "metrics.json", {"test_mse": 0.1})
    assert mode(tmp_path / "metrics.json") == 0o666 & ~umask
    if umask == 0o022:
        assert mode(tmp_path / "metrics.json") == 0o644


def test_an_atomic_folder_gets_the_mode_of_any_new_folder(tmp_path, umask):
    with atomic_dir(tmp_path / "processed") as tmp:
        (tmp / "a.png").write_bytes(b"x")
    assert mode(tmp_path / "processed") == 0o777 & ~umask
    assert mode(tmp_path / "processed" / "a.png") == 0o666 & ~umask


def test_a_normalised_keras_archive_stays_readable(tmp_path, umask):
    model = tmp_path / "model.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("metadata.json", '{"date_saved": "today"}')
    normalise_keras_archive(model)
    assert mode(model) == 0o666 & ~umask
