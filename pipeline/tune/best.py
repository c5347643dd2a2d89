"""Evaluate and register the best trial in its workspace: `python -m pipeline.tune.best TASK`.

The same stages as `pipeline evaluate` and `pipeline register` (the same gate), run one
after the other in one process so TensorFlow and MLflow load once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipeline.core.errors import PipelineError


def main(task: str, params: Path) -> int:
    from pipeline.config import load_config
    from pipeline.core import quiet
    from pipeline.stages import evaluate, register

    quiet.configure(bool(os.environ.get(quiet.VERBOSE_ENV)))
    try:
        config = load_config(params)
        for stage in (evaluate, register):
            print(stage.run(task, config), flush=True)
    except PipelineError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2])))
