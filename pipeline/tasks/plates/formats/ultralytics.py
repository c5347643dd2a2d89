"""Ultralytics/Roboflow YOLO layout: `images/` beside `labels/`, class names in a `*.yaml`.

Both `<root>/{train,valid,test}/images/x.jpg` (Roboflow) and `<root>/images/{train,val}/x.jpg`
(Ultralytics) map to a label by putting `labels` in place of `images` (or `image`), as
Ultralytics does. The dataset's own split folder is recorded in `source_split`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.tasks.plates.formats.yolo import Located, read_yaml_names

IMAGE_DIRS = ("images", "image")
SPLIT_NAMES = {"train": "train", "valid": "val", "val": "val", "test": "test"}


class Ultralytics:
    """Finds labels and class names in one raw folder; each dataset's yaml is read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._names: dict[Path, tuple[list[str] | None, Path | None]] = {}

    def locate(self, image: Path) -> Located | None:
        """`image`'s label if it lies in an `images/` folder with a `labels/` sibling, else None."""
        parts = image.relative_to(self.root).parts
        for i in reversed(range(len(parts) - 1)):
            base = self.root.joinpath(*parts[:i])
            if parts[i].lower() in IMAGE_DIRS and (base / "labels").is_dir():
                label = base.joinpath("labels", *parts[i + 1 : -1], image.stem + ".txt")
                return self._located(parts, i, label)
        return None

    def locate_label(self, label: Path) -> Located | None:
        """For a `.txt` under `labels/` beside an `images/` folder: where its dataset is."""
        parts = label.relative_to(self.root).parts
        for i in reversed(range(len(parts) - 1)):
            base = self.root.joinpath(*parts[:i])
            if parts[i] == "labels" and any((base / name).is_dir() for name in IMAGE_DIRS):
                return self._located(parts, i, label)
        return None

    def _located(self, parts: tuple[str, ...], i: int, label: Path) -> Located:
        """Dataset folder (above images/ and any split folder), split and class names."""
        before = SPLIT_NAMES.get(parts[i - 1].lower()) if i > 0 else None
        after = SPLIT_NAMES.get(parts[i + 1].lower()) if i + 1 < len(parts) - 1 else None
        folder = self.root.joinpath(*(parts[: i - 1] if before else parts[:i]))
        names, classes_file = self._yaml_names(folder)
        return Located(label, folder, names, classes_file, before or after)

    def _yaml_names(self, folder: Path) -> tuple[list[str] | None, Path | None]:
        """Names from `data.yaml`, else another `*.yaml` with `names:`, here or one level up."""
        if folder not in self._names:
            self._names[folder] = (None, None)
            for place in (folder, folder.parent) if folder != self.root else (folder,):
                candidates = sorted([*place.glob("*.yaml"), *place.glob("*.yml")])
                candidates.sort(key=lambda path: path.name != "data.yaml")
                found = next(
                    (
                        (names, path)
                        for path in candidates
                        if (names := read_yaml_names(self.root, path))
                    ),
                    None,
                )
                if found:
                    self._names[folder] = found
                    break
        return self._names[folder]
