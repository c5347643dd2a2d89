"""labelImg's YOLO layout: a same-stem `.txt` beside each image, classes in `classes.txt`."""

from __future__ import annotations

from pathlib import Path

from pipeline.tasks.plates.formats.yolo import Located, read_classes_txt

CLASSES_FILE = "classes.txt"


class LabelImg:
    """Finds labels and class lists in one raw folder; each `classes.txt` is read once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._classes: dict[Path, tuple[Path, list[str] | None]] = {}

    def locate(self, image: Path) -> Located:
        """The label beside `image` and the nearest `classes.txt` at or above its folder.

        The dataset folder is where that `classes.txt` is, else the image's folder.
        """
        folder, names = self._nearest_classes(image.parent)
        classes_file = folder / CLASSES_FILE if names is not None else None
        return Located(image.with_suffix(".txt"), folder, names, classes_file)

    def _nearest_classes(self, start: Path) -> tuple[Path, list[str] | None]:
        if start not in self._classes:
            folder = start
            while (names := read_classes_txt(self.root, folder / CLASSES_FILE)) is None:
                if folder == self.root:
                    break
                folder = folder.parent
            self._classes[start] = (folder, names) if names is not None else (start, None)
        return self._classes[start]
