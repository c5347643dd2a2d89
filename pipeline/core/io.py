"""Atomic writes: an output is either the complete new version or the previous one.

They are created with the modes of any other new file (0644 and 0755 under the usual umask
022, group-writable under 002): `mkstemp`/`mkdtemp` make them 0600/0700, which would leave
outputs unreadable by the rest of the team once renamed into place.

Temporary siblings are named `.<target>.<pid>.<random>` so that the leftovers of a killed
process (kill -9 runs no cleanup) can be told from those of a live one and removed.
"""

import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+")


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _umask() -> int:
    """The process umask, read from /proc where it can be (setting it to read it, the only
    other way, changes it for every thread for a moment)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this host)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files and folders that dead processes left in `folder`."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _TEMP_NAME.match(entry.name)
        if match is None or pid_alive(int(match["pid"])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield an empty sibling folder that replaces `target` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), dir=target.parent))
    tmp.chmod(0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)


@contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder that is renamed onto `target` on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=_temp_prefix(target), suffix=target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    tmp.chmod(0o666 & ~_umask())
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)


def write_json(target: Path, payload: Any) -> None:
    """Write pretty, key-sorted JSON atomically (stable diffs, DVC-friendly)."""
    with atomic_file(target) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def normalise_keras_archive(path: Path) -> None:
    """Make a `.keras` file a function of the model alone: same weights, same bytes.

    Keras stamps `date_saved` into `metadata.json`, the save time onto the weights entry
    of the zip, and Python object ids (`shared_object_id`, memory addresses) into
    `config.json`; each changes the file's hash (and so DVC's and the registry's view of
    "a new model") on every save. They are fixed here: the ids are renumbered in order of
    first appearance, which keeps which objects are shared.
    """
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with atomic_file(path) as tmp, zipfile.ZipFile(tmp, "w") as out:
        for info, payload in entries:
            if info.filename == "metadata.json":
                metadata = json.loads(payload)
                metadata.pop("date_saved", None)
                payload = json.dumps(metadata, sort_keys=True).encode()
            elif info.filename == "config.json":
                payload = json.dumps(_renumber_shared_ids(json.loads(payload), {})).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            out.writestr(fixed, payload)


def _renumber_shared_ids(node: Any, ids: dict[int, int]) -> Any:
    """A copy of a Keras config with each `shared_object_id` replaced by 1, 2, ... in order."""
    if isinstance(node, dict):
        renumbered = {}
        for key, value in node.items():
            if key == "shared_object_id" and isinstance(value, int):
                renumbered[key] = ids.setdefault(value, len(ids) + 1)
            else:
                renumbered[key] = _renumber_shared_ids(value, ids)
        return renumbered
    if isinstance(node, list):
        return [_renumber_shared_ids(item, ids) for item in node]
    return node
