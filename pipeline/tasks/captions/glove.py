"""GloVe text vectors (`glove.6B.200d.txt`: `word v1 ... vd` per line) for a vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.errors import PipelineError

PREFIX = "glove:"


@dataclass(frozen=True)
class WordVectors:
    matrix: np.ndarray  # (vocabulary size, dim); zero rows for words the file lacks
    found: int  # vocabulary words found in the file (special tokens not counted)
    wanted: int

    @property
    def coverage(self) -> float:
        return self.found / self.wanted if self.wanted else 0.0


def glove_path(embeddings: str) -> Path | None:
    """The file of `glove:<path>`, or None for `learned`."""
    if embeddings == "learned":
        return None
    if not embeddings.startswith(PREFIX):
        raise PipelineError(
            f"train.captions.embeddings: {embeddings!r} is neither 'learned' nor 'glove:<path>'"
        )
    path = Path(embeddings.removeprefix(PREFIX))
    if not path.is_file():
        raise PipelineError(
            f"GloVe file {path} not found: download glove.6B.zip from "
            "https://nlp.stanford.edu/projects/glove/ and unzip it, or use embeddings: learned"
        )
    return path


def read_glove(path: Path, words: tuple[str, ...], special: int) -> WordVectors:
    """Vectors of `words` (the first `special` ones are tokens GloVe cannot know)."""
    index = {w: i for i, w in enumerate(words)}
    matrix: np.ndarray | None = None
    found = 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            word, _, rest = line.rstrip("\n").partition(" ")
            row = index.get(word)
            if matrix is None:  # the first line tells the dimension
                dim = len(rest.split())
                if dim == 0:
                    raise PipelineError(f"{path}:{number}: not a GloVe text line")
                matrix = np.zeros((len(words), dim), np.float32)
            if row is None or row < special:
                continue
            values = np.array(rest.split(), np.float32)
            if values.shape != (matrix.shape[1],):
                raise PipelineError(
                    f"{path}:{number}: {values.size} numbers where {matrix.shape[1]} were expected"
                )
            matrix[row] = values
            found += 1
    if matrix is None:
        raise PipelineError(f"{path}: empty GloVe file")
    return WordVectors(matrix, found, len(words) - special)
