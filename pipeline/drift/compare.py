"""Is a new profile drawn from the same distribution as the reference?

Per feature (image statistics, labels, predictions): the two-sample Kolmogorov-Smirnov test
(`scipy.stats.ks_2samp`) for significance, Bonferroni-corrected over the features tested,
and two effect sizes: the Wasserstein distance in reference standard deviations, and the
standardised mean difference. A feature drifts only when it is both significant and large
(`min_effect`): with a thousand images a harmless shift is significant, with twenty a large
one may not be.

Embeddings: a domain classifier (scikit-learn: scaling, PCA, logistic regression), scored by
the ROC AUC of its cross-validated decisions at telling new images from reference ones.
Chosen over MMD because its effect size reads without a kernel bandwidth (0.5: cannot tell
them apart, 1.0: always can) on any embedding, 192 pixels or 1280 backbone features alike,
and because its significance costs no permutations: the out-of-fold decisions of the two
groups are compared with a one-sided Mann-Whitney U test (its statistic is the AUC), which
is conservative here (cross-validation biases a null AUC slightly below 0.5). Evidently's
embedding drift offers the same classifier method; this keeps the dependency set unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pipeline.drift.drift_params import DriftParams
from pipeline.drift.profile import Profile

MIN_SAMPLES = 8  # fewer values on either side: the feature is not tested
GROUPS = ("image", "label", "prediction")
PCA_COMPONENTS = 20
FOLDS = 5


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    group: str  # image | label | prediction
    n_reference: int
    n_new: int
    mean_reference: float
    mean_new: float
    ks: float
    p_value: float
    p_adjusted: float  # Bonferroni over the features tested
    wasserstein: float
    effect: float  # wasserstein in reference standard deviations
    smd: float  # standardised mean difference (pooled standard deviation)
    drifted: bool


@dataclass(frozen=True)
class EmbeddingDrift:
    embedding: str  # backbone | pixels
    n_reference: int
    n_new: int
    auc: float
    p_value: float
    drifted: bool
    method: str = "domain classifier: scaler + PCA + logistic regression, 5-fold ROC AUC"


@dataclass
class DriftResult:
    features: list[FeatureDrift]
    embedding: EmbeddingDrift | None
    drifted: bool
    reasons: list[str] = field(default_factory=list)
    thresholds: dict[str, Any] = field(default_factory=dict)

    def feature(self, name: str) -> FeatureDrift | None:
        return next((f for f in self.features if f.name == name), None)

    def drifted_share(self, group: str = "image") -> float:
        tested = [f for f in self.features if f.group == group]
        return sum(f.drifted for f in tested) / len(tested) if tested else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "drifted": self.drifted,
            "reasons": self.reasons,
            "thresholds": self.thresholds,
            "drifted_share": {g: round(self.drifted_share(g), 4) for g in GROUPS},
            "features": [asdict(f) for f in self.features],
            "embedding": asdict(self.embedding) if self.embedding else None,
        }


def _scale(reference: np.ndarray, new: np.ndarray) -> float:
    """The reference's spread; the new one's when the reference has none; 0 when neither."""
    for values in (reference, new):
        spread = float(np.std(values))
        if spread > 1e-12:
            return spread
    return 0.0


def _feature(name: str, ref: np.ndarray, new: np.ndarray, tests: int, params: DriftParams):
    from scipy.stats import ks_2samp, wasserstein_distance

    ks = ks_2samp(ref, new)
    p_value = float(ks.pvalue)
    distance = float(wasserstein_distance(ref, new))
    scale = _scale(ref, new)
    effect = distance / scale if scale else (0.0 if distance == 0 else float("inf"))
    pooled = float(np.sqrt((np.var(ref) + np.var(new)) / 2))
    gap = float(np.mean(new) - np.mean(ref))
    smd = gap / pooled if pooled > 1e-12 else (0.0 if gap == 0 else float("inf"))
    p_adjusted = min(1.0, p_value * tests)
    return FeatureDrift(
        name=name,
        group=name.partition(".")[0],
        n_reference=len(ref),
        n_new=len(new),
        mean_reference=float(np.mean(ref)),
        mean_new=float(np.mean(new)),
        ks=float(ks.statistic),
        p_value=p_value,
        p_adjusted=p_adjusted,
        wasserstein=distance,
        effect=effect,
        smd=smd,
        drifted=p_adjusted < params.alpha and effect >= params.min_effect,
    )


def compare_features(reference: Profile, new: Profile, params: DriftParams) -> list[FeatureDrift]:
    names = [
        n
        for n in sorted(set(reference.values) & set(new.values))
        if min(len(reference.values[n]), len(new.values[n])) >= MIN_SAMPLES
    ]
    return [_feature(n, reference.values[n], new.values[n], len(names), params) for n in names]


def blocks(n: int, folds: int) -> np.ndarray:
    """Fold numbers of `n` rows in order: `folds` contiguous blocks of (nearly) equal size."""
    return (np.arange(n) * folds) // max(n, 1)


def domain_classifier(reference: np.ndarray, new: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """(cross-validated ROC AUC, one-sided p-value) of telling `new` rows from `reference`.

    Each sample keeps the order its images were recorded in, and the folds are contiguous
    blocks of it: near-duplicate neighbours (consecutive video frames, an export's copies of
    one photo) never sit on both sides of a fold, where the classifier would recognise the
    very scene instead of learning what sets the two samples apart.
    """
    from scipy.stats import mannwhitneyu
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import PredefinedSplit, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([reference, new]).astype(np.float64)
    y = np.r_[np.zeros(len(reference)), np.ones(len(new))]
    folds = min(FOLDS, len(reference), len(new))
    components = min(PCA_COMPONENTS, x.shape[1], int(len(x) * (folds - 1) / folds) - 1)
    model = make_pipeline(
        StandardScaler(),
        PCA(n_components=components, random_state=seed),
        LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced"),
    )
    cv = PredefinedSplit(np.r_[blocks(len(reference), folds), blocks(len(new), folds)])
    scores = cross_val_predict(model, x, y, cv=cv, method="decision_function")
    auc = float(roc_auc_score(y, scores))
    p_value = float(mannwhitneyu(scores[y == 1], scores[y == 0], alternative="greater").pvalue)
    return auc, p_value


def compare_embeddings(
    reference: Profile, new: Profile, params: DriftParams, seed: int = 0
) -> EmbeddingDrift | None:
    """The domain classifier on the best embedding both profiles hold (None: too few)."""
    kinds = [k for k in ("backbone", "pixels") if k in reference.embeddings and k in new.embeddings]
    for kind in kinds:
        ref, now = reference.embeddings[kind], new.embeddings[kind]
        if min(len(ref), len(now)) < MIN_SAMPLES or ref.shape[1:] != now.shape[1:]:
            continue
        auc, p_value = domain_classifier(ref, now, seed)
        drifted = auc >= params.max_auc and p_value < params.alpha
        return EmbeddingDrift(kind, len(ref), len(now), auc, p_value, drifted)
    return None


def compare(reference: Profile, new: Profile, params: DriftParams, seed: int = 0) -> DriftResult:
    """Every test, and the verdict against `params`' thresholds, with its reasons."""
    features = compare_features(reference, new, params)
    embedding = compare_embeddings(reference, new, params, seed)
    result = DriftResult(features, embedding, False, thresholds=params.model_dump())
    reasons = result.reasons
    share = result.drifted_share("image")
    drifted_images = [f.name for f in features if f.group == "image" and f.drifted]
    if drifted_images and share >= params.max_drifted_share:
        reasons.append(
            f"{len(drifted_images)} image statistics drifted ({share:.0%} >= "
            f"{params.max_drifted_share:.0%}): {', '.join(drifted_images)}"
        )
    if embedding is not None and embedding.drifted:
        reasons.append(
            f"a classifier tells the new {embedding.embedding} embeddings from the reference's "
            f"(ROC AUC {embedding.auc:.2f} >= {params.max_auc}, p = {embedding.p_value:.1e})"
        )
    for group, counts in (("prediction", params.predictions), ("label", params.labels)):
        moved = [f.name for f in features if f.group == group and f.drifted]
        if counts and moved:
            reasons.append(f"{group}s drifted: {', '.join(moved)}")
    result.drifted = bool(reasons)
    return result
