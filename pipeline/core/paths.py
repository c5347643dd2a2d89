"""Safe resolution of paths read from data: nothing outside a dataset's root is ever followed."""

from pathlib import Path, PureWindowsPath


class UnsafePathError(ValueError):
    """A path from the data points outside the dataset root."""


def resolve_inside(root: Path, relative: str | Path) -> Path:
    """Return `root / relative`, resolved (symlinks included), or raise if it escapes `root`."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        raise UnsafePathError(f"{relative} resolves outside the dataset root {root}")
    return candidate


def relative_to_root(root: Path, path: Path) -> str:
    """Path of `path` relative to `root`, POSIX style, for manifests that move between machines."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def file_name(recorded_path: str) -> str:
    """Last component of a path recorded on any OS (Windows backslashes or POSIX slashes)."""
    # PureWindowsPath splits on both "\\" and "/", so one call covers every recording OS.
    return PureWindowsPath(recorded_path.strip()).name


def is_utf8(text: str) -> bool:
    """Whether `text` (e.g. a file name read from disk) can be stored as UTF-8 text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """A name safe to store and print: a byte that is not UTF-8 shown as `\\xff`, the rest
    unchanged (Linux hands such bytes to Python as surrogates, which Parquet refuses)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
