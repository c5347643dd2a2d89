"""`pretrain`: a self-supervised backbone (rotation prediction) on every task's train images.

It sees no label, so it is the backbone that works with no network and no ImageNet
weights (`backbone.weights: selfsup`), trained on the pipeline's own domains.
"""

import numpy as np

from pipeline.config import Config
from pipeline.core import layout
from pipeline.core.backbones import save_base_weights
from pipeline.core.io import write_json
from pipeline.core.manifest import read_manifest
from pipeline.core.pretext import load_images, pretrain_rotation
from pipeline.tasks import TASKS


def _train_images(config: Config, per_task: int) -> list:
    """Up to `per_task` train-split image paths of each task, drawn with the seed."""
    rng = np.random.default_rng(config.seed)
    paths = []
    for name, task in TASKS.items():
        valid = read_manifest(layout.valid_path(name))
        raw_dir = getattr(config.data, name).raw_dir
        train = valid.loc[valid["split"] == "train", task.image_columns[0]].dropna().tolist()
        chosen = rng.choice(len(train), size=min(per_task, len(train)), replace=False)
        paths += [raw_dir / train[i] for i in sorted(chosen)]
    return paths


def run(config: Config) -> str:
    params = config.pretrain
    images = load_images(_train_images(config, params.images_per_task), params.image_size)
    backbone, report = pretrain_rotation(images, config.backbone, params, config.seed)
    save_base_weights(backbone, layout.BACKBONE_DIR / "backbone.weights.h5")
    write_json(layout.REPORTS / "backbone" / "pretext.json", report)
    return (
        f"pretrain: rotation accuracy {report['val_accuracy']:.1%} on held-out images "
        f"(chance {report['chance']:.0%}); weights {layout.BACKBONE_DIR / 'backbone.weights.h5'}"
    )
