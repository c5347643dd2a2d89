"""`pretrain`: a self-supervised backbone (rotation prediction) on every task's train images.

It sees no label, so it is the backbone that works with no network and no ImageNet
weights (`backbone.weights: selfsup`), trained on the pipeline's own domains.
"""

import numpy as np

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.backbones import save_base_weights
from pipeline.core.io import write_json
from pipeline.core.pretext import pretrain_rotation
from pipeline.stages.inputs import require
from pipeline.tasks import tasks_with


def _pretext_images() -> np.ndarray:
    """Every task's pretext images (`pipeline pretext TASK`), in task order."""
    parts = []
    for name in tasks_with("ingest"):
        path = require(layout.pretext_images(name), "pretrain", None, "pretext", made_for=name)
        with np.load(path, allow_pickle=False) as stored:
            parts.append(stored["images"])
    return np.concatenate(parts)


def run(config: Config) -> str:
    params = config.pretrain
    images = _pretext_images()
    backbone, report = pretrain_rotation(images, config.backbone, params, config.seed)
    save_base_weights(backbone, layout.BACKBONE_DIR / "backbone.weights.h5")
    write_json(layout.REPORTS / "backbone" / "pretext.json", report)
    return (
        f"pretrain: rotation accuracy {report['val_accuracy']:.1%} on held-out images "
        f"(chance {report['chance']:.0%}); weights {layout.BACKBONE_DIR / 'backbone.weights.h5'}"
    )
