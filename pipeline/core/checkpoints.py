"""Resumable training that never resumes the wrong training.

A checkpoint folder belongs to one training: the fingerprint of everything that decides it
(its params, the bytes of its data and backbone, the pipeline's code). A rerun with the
same fingerprint resumes; any change starts afresh and says so.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pipeline

FINGERPRINT_FILE = "fingerprint.json"


def _digest_files(paths: Iterable[Path], root: Path, digest: Any) -> None:
    for path in sorted(paths):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)


def tree_digest(root: Path, pattern: str = "**/*") -> str:
    """sha256 of every file under `root` (names and bytes), or of the single file `root`."""
    digest = hashlib.sha256()
    if root.is_file():
        _digest_files([root], root.parent, digest)
    elif root.is_dir():
        _digest_files(root.glob(pattern), root, digest)
    return digest.hexdigest()


def code_digest() -> str:
    """sha256 of the pipeline package's Python sources: the code version of a training."""
    package = Path(pipeline.__file__).parent
    return tree_digest(package, "**/*.py")


def fingerprint(params: dict[str, Any], inputs: dict[str, Path]) -> dict[str, str]:
    """What decides a training: its params, and the digest of each input and of the code."""
    return {
        "params": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
        **{f"input:{name}": tree_digest(path) for name, path in sorted(inputs.items())},
        "code": code_digest(),
    }


#: what a work folder holds besides checkpoints: its fingerprint, the decoded-frames store
FRAMES_DIR = "frames"
KEPT_FILES = {FINGERPRINT_FILE, FRAMES_DIR}


def prepare(work_dir: Path, key: dict[str, str]) -> str:
    """Make `work_dir` hold only checkpoints of the training `key`; say what was done."""
    stamp = work_dir / FINGERPRINT_FILE
    if work_dir.is_dir():
        try:
            previous = json.loads(stamp.read_text())
        except (OSError, json.JSONDecodeError):
            previous = None
        if previous == key:
            if any(path.name not in KEPT_FILES for path in work_dir.iterdir()):
                return "resuming from the checkpoints of an interrupted run of the same training"
            return ""
        shutil.rmtree(work_dir)
        changed = sorted(k for k in key if previous is None or previous.get(k) != key[k])
        note = (
            "checkpoints of another training found and discarded "
            f"({', '.join(changed)} changed): starting afresh"
        )
    else:
        note = ""
    work_dir.mkdir(parents=True)
    stamp.write_text(json.dumps(key, indent=2, sort_keys=True))
    return note
