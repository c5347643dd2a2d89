"""Thresholds of `pipeline drift`: when a difference counts as drift.

params.yaml's `drift:` section; the command's options override it.
"""

from __future__ import annotations

from pydantic import Field

from pipeline.core.section import Section


class DriftParams(Section):
    alpha: float = Field(
        0.01,
        gt=0,
        lt=1,
        description="family-wise significance of the per-feature tests (Bonferroni-corrected)",
    )
    min_effect: float = Field(
        0.5,
        ge=0,
        description="a feature drifts only when its Wasserstein distance is at least this "
        "many reference standard deviations (a significant but tiny change is not drift)",
    )
    max_drifted_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="drift when at least this share of the image statistics drift (0.1: any one "
        "of the nine: blur moves sharpness alone)",
    )
    max_auc: float = Field(
        0.75,
        gt=0.5,
        le=1,
        description="drift when a classifier tells new embeddings from the reference's "
        "with a cross-validated ROC AUC at least this high (and significantly above 0.5)",
    )
    predictions: bool = Field(True, description="a drifted prediction feature is drift")
    labels: bool = Field(False, description="a drifted label feature is drift")
    max_images: int = Field(1000, gt=0, description="images profiled per batch, drawn at random")
    max_embeddings: int = Field(400, gt=0, description="embeddings kept per profile")
    at_register: bool = Field(
        True,
        description="store the train split's profile with each registered version (register "
        "then loads the model to predict the val split: seconds per task)",
    )
