"""The figures of the plates reports: augmented samples and plate widths, precision-recall
and test detections."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.layout import TaskPaths
from pipeline.core.plots import new_figure, save_figure
from pipeline.tasks.plates import boxes as bx
from pipeline.tasks.plates.drawing import GREEN, RED, draw
from pipeline.tasks.plates.images import read_rgb
from pipeline.tasks.plates.inference import Detections


def write_augment_reports(report: dict[str, Any], paths: TaskPaths) -> None:
    """A grid of augmented samples with their boxes, and plate widths before vs after."""
    folder = paths.reports_dir
    _write_samples(report["examples"], folder / "augmented_samples.png", paths.processed_dir)
    widths = report["plate_width"]
    edges = np.array(widths["bin_edges"])
    figure = new_figure(9, 4.5)
    axes = figure.subplots()
    labels = {
        "before": "train before",
        "after": "train after (all)",
        "border_only": "variants with border, no crop",
        "crop_only": "variants with crop, no border",
    }
    used = [i for counts in widths["histograms"].values() for i, n in enumerate(counts) if n]
    right = min(1.0, edges[max(used, default=len(edges) - 2) + 1] + 0.05)
    for group, counts in widths["histograms"].items():
        total = max(sum(counts), 1)
        shares = np.asarray(counts) / total
        median = widths["quantiles"][group].get("q50")
        label = labels.get(group, group) + (f" (median {median:.2f})" if median else "")
        axes.stairs(shares, edges, label=label, linewidth=1.8)
    axes.set(
        xlabel="plate width / image width",
        ylabel="share of boxes",
        title="Plate widths: a border makes plates smaller, a crop larger",
        xlim=(0, right),
    )
    axes.legend()
    save_figure(figure, folder / "plate_sizes.png")


def _write_samples(examples: list[dict[str, Any]], target: Path, processed_dir: Path) -> None:
    from matplotlib.patches import Rectangle

    cols = max(1, min(4, len(examples)))
    rows = max(1, math.ceil(len(examples) / cols))
    figure = new_figure(3.2 * cols, 2.8 * rows)
    grid = figure.subplots(rows, cols, squeeze=False).ravel()
    for axes in grid:
        axes.axis("off")
    if not examples:
        grid[0].text(0.5, 0.5, "no augmented images", ha="center", va="center")
    for axes, example in zip(grid, examples, strict=False):
        image = read_rgb(processed_dir / example["image"])
        height, width = image.shape[:2]
        axes.imshow(image)
        for x1, y1, x2, y2 in bx.yolo_to_xyxy(example["boxes"], width, height):
            axes.add_patch(
                Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor="red", linewidth=1.5)
            )
        axes.set_title(", ".join(example["ops"]) or "unchanged", fontsize=9)
    save_figure(figure, target)


def plot_precision_recall(
    ours: dict[str, Any], point: dict[str, Any], baseline: dict[str, Any], path: Path
) -> None:
    figure = new_figure(5.5, 5)
    axes = figure.subplots()
    curve = ours["curve"]
    axes.plot(curve["recall"], curve["precision"], label=f"detector (AP50 {ours['ap50']:.3f})")
    axes.plot(
        [0, 1], [0, 0], color="grey", linestyle="--",
        label=f"{baseline['name']} (AP50 {baseline['ap50']:.3f})",
    )  # fmt: skip
    axes.scatter(
        [point["recall"]], [point["precision"]], color="red", zorder=3, label="operating point"
    )
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall at IoU 0.5")
    axes.set_xlim(0, 1)
    axes.set_ylim(-0.02, 1.02)
    axes.legend(loc="best")
    save_figure(figure, path)


def plot_detections(
    images: list[np.ndarray],
    truth: list[np.ndarray],
    detections: list[Detections],
    score_threshold: float,
    path: Path,
) -> None:
    """Test images with plates in green and the boxes above the threshold in red."""
    shown = max(1, len(images))
    columns = min(3, shown)
    rows = -(-shown // columns)
    figure = new_figure(4 * columns, 3.4 * rows)
    for i, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.axis("off")
        if i >= len(images):
            continue
        plates = [dict(zip(("x1", "y1", "x2", "y2"), box, strict=True)) for box in truth[i]]
        found = [r for r in detections[i].as_rows() if r["score"] >= score_threshold]
        axes.imshow(draw(draw(images[i], plates, GREEN), found, RED))
        axes.set_title(f"plates: {len(truth[i])}, found: {len(found)}", fontsize=9)
    save_figure(figure, path)
