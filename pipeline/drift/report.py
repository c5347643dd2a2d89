"""The drift report: one self-contained HTML page (plots inlined as base64 PNG) and the same
verdict as JSON for CI, cron jobs and MLflow."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.io import atomic_file, write_json
from pipeline.drift.compare import DriftResult
from pipeline.drift.profile import Profile

REPORT_HTML, SUMMARY_JSON, FEATURES_PNG = "drift.html", "drift.json", "drift_features.png"
MAX_PANELS = 16
REFERENCE_COLOUR, NEW_COLOUR = "#4c72b0", "#dd8452"


def summary(result: DriftResult, reference: Profile, new: Profile, **facts: Any) -> dict[str, Any]:
    """The JSON summary: verdict, reasons, every test, and what was compared with what."""
    return {
        "task": new.task,
        **result.to_json(),
        "reference": {
            "source": reference.source,
            "images": reference.images,
            "embedding": reference.embedding,
            "facts": reference.facts,
        },
        "new": {
            "source": new.source,
            "images": new.images,
            "unreadable": new.unreadable,
            "embedding": new.embedding,
            "facts": new.facts,
        },
        **facts,
    }


def _png(figure: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def features_figure(result: DriftResult, reference: Profile, new: Profile) -> bytes:
    """Reference vs new histograms of the features compared, drifted ones titled in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = sorted(result.features, key=lambda f: (not f.drifted, f.group != "image", f.name))
    shown = shown[:MAX_PANELS]
    columns = min(4, max(1, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat[len(shown) :]:
        ax.axis("off")
    for ax, feature in zip(axes.flat, shown, strict=False):
        ref, now = reference.values[feature.name], new.values[feature.name]
        low, high = float(min(ref.min(), now.min())), float(max(ref.max(), now.max()))
        bins = np.linspace(low, high if high > low else low + 1, 25)
        ax.hist(ref, bins=bins, density=True, alpha=0.55, color=REFERENCE_COLOUR, label="reference")
        ax.hist(now, bins=bins, density=True, alpha=0.55, color=NEW_COLOUR, label="new")
        ax.set_title(
            f"{feature.name}\neffect {feature.effect:.2f} sd, p {feature.p_adjusted:.1e}",
            fontsize=8,
            color="#c0392b" if feature.drifted else "black",
        )
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    if shown:
        axes.flat[0].legend(fontsize=7)
    verdict = "DRIFT" if result.drifted else "no drift"
    figure.suptitle(f"{new.task}: {verdict} ({new.images} new vs {reference.images} reference)")
    figure.tight_layout()
    return _png(figure)


def embedding_figure(result: DriftResult, reference: Profile, new: Profile) -> bytes | None:
    """The two embedding samples projected on their first two principal components."""
    if result.embedding is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    kind = result.embedding.embedding
    ref, now = reference.embeddings[kind], new.embeddings[kind]
    both = np.vstack([ref, now]).astype(np.float64)
    points = PCA(n_components=2, random_state=0).fit_transform(both - both.mean(axis=0))
    figure, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(
        points[: len(ref), 0],
        points[: len(ref), 1],
        s=8,
        alpha=0.5,
        color=REFERENCE_COLOUR,
        label="reference",
    )
    ax.scatter(
        points[len(ref) :, 0], points[len(ref) :, 1], s=8, alpha=0.5, color=NEW_COLOUR, label="new"
    )
    ax.set_title(
        f"{kind} embeddings, PCA; classifier ROC AUC {result.embedding.auc:.2f}", fontsize=9
    )
    ax.legend(fontsize=8)
    return _png(figure)


def _image(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _number(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.3g}"


def _table(result: DriftResult) -> str:
    head = (
        "<tr><th>feature</th><th>n ref / new</th><th>mean ref</th><th>mean new</th><th>KS</th>"
        "<th>p (Bonferroni)</th><th>Wasserstein / sd</th><th>SMD</th><th>drift</th></tr>"
    )
    rows = [
        f'<tr class="{"drift" if f.drifted else ""}"><td>{html.escape(f.name)}</td>'
        f"<td>{f.n_reference} / {f.n_new}</td><td>{_number(f.mean_reference)}</td>"
        f"<td>{_number(f.mean_new)}</td><td>{f.ks:.3f}</td><td>{f.p_adjusted:.2g}</td>"
        f"<td>{_number(f.effect)}</td><td>{_number(f.smd)}</td>"
        f"<td>{'yes' if f.drifted else ''}</td></tr>"
        for f in result.features
    ]
    return f"<table>{head}{''.join(rows)}</table>"


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}
tr.drift td{background:#fdecea}.verdict{font-size:1.3em;font-weight:bold}
.drift-yes{color:#c0392b}.drift-no{color:#27ae60}img{max-width:100%}
"""


def write(
    out_dir: Path, result: DriftResult, reference: Profile, new: Profile, **facts: Any
) -> Path:
    """`drift.html`, `drift.json` and `drift_features.png` in `out_dir`; the HTML's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = summary(result, reference, new, **facts)
    write_json(out_dir / SUMMARY_JSON, data)
    features_png = features_figure(result, reference, new)
    (out_dir / FEATURES_PNG).write_bytes(features_png)
    embedding_png = embedding_figure(result, reference, new)
    verdict = "DRIFT" if result.drifted else "no drift"
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result.reasons) or "<li>none</li>"
    emb = result.embedding
    embedding_line = (
        f"{emb.embedding} embeddings ({emb.n_reference} / {emb.n_new}): ROC AUC {emb.auc:.3f}, "
        f"p = {emb.p_value:.2g}; {html.escape(emb.method)}"
        if emb
        else "not tested (too few embeddings on one side)"
    )
    notes = "".join(
        f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in facts.items()
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>drift: {html.escape(new.task)}</title><style>{STYLE}</style></head><body>
<h1>Drift report: {html.escape(new.task)}</h1>
<p class="verdict drift-{"yes" if result.drifted else "no"}">{verdict}</p>
<ul>{reasons}</ul>
<p><b>Reference</b>: {html.escape(reference.source)} ({reference.images} images;
{html.escape(str(reference.facts.get("embedding_note", reference.embedding)))})<br>
<b>New</b>: {html.escape(new.source)} ({new.images} images, {new.unreadable} unreadable)</p>
<ul>{notes}</ul>
<h2>Distributions</h2>{_image(features_png, "feature histograms")}
<h2>Embeddings</h2><p>{embedding_line}</p>
{_image(embedding_png, "embedding projection") if embedding_png else ""}
<h2>Every test</h2>{_table(result)}
<p>Thresholds: {html.escape(str(result.thresholds))}</p>
</body></html>
"""
    with atomic_file(out_dir / REPORT_HTML) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out_dir / REPORT_HTML
