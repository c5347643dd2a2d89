"""`dvc plots show` renders every plot with no network, each with a title and labelled axes.

Runs DVC on tiny plot files written from the fields `dvc.yaml` declares, with the page template
`pipeline plots` generates; where Debian's chromium is installed, renders the page with the
network off and checks that every Vega plot drew.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core import plots_page
from pipeline.core.errors import PipelineError

REPO = Path(__file__).parents[2]
runner = CliRunner()


def _plot_definitions() -> dict[str, dict | None]:
    """dvc.yaml's top-level plots: {file: properties, or None for an image}."""
    plots: dict[str, dict | None] = {}
    for entry in yaml.safe_load((REPO / "dvc.yaml").read_text())["plots"]:
        if isinstance(entry, str):
            plots[entry] = None
        else:
            ((name, properties),) = entry.items()
            plots[name] = properties or {}
    return plots


DATA_PLOTS = {name: p for name, p in _plot_definitions().items() if p is not None}
IMAGE_PLOTS = [name for name, p in _plot_definitions().items() if p is None]


def test_every_data_plot_has_a_title_and_axis_titles_with_units():
    assert DATA_PLOTS
    for name, properties in DATA_PLOTS.items():
        for key in ("title", "x_label", "y_label"):
            assert str(properties.get(key, "")).strip(), f"{name}: no {key}"
        for key in ("x_label", "y_label"):  # a unit or scale in brackets, not a bare field name
            assert re.search(r"\(.+\)", properties[key]), f"{name}: {key} names no unit"


def test_vega_lite_version_is_the_newest_of_dvcs_major():
    assert plots_page.vega_lite_version(["5.8", "5.21", "5.9", "6.4"]) == "5.21"
    with pytest.raises(PipelineError, match="no Vega-Lite 5"):
        plots_page.vega_lite_version(["6.1", "6.4"])


def test_template_inlines_the_bundle_and_drops_dvcs_cdn_scripts():
    page = plots_page.render_template('window.vegaEmbed = 1; var s = "</script>";', "v")
    assert "{plot_divs}" in page and "{refresh_tag}" in page
    assert "{scripts}" not in page  # where DVC writes its CDN <script src> tags
    assert '</script>"' not in page and "<\\/script>" in page
    with pytest.raises(PipelineError, match="placeholder"):
        plots_page.render_template("x = '{plot_divs}'", "v")


def test_plots_command_without_vl_convert_fails_in_one_line(tmp_path, monkeypatch):
    (tmp_path / ".dvc").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # import raises ImportError
    result = runner.invoke(app, ["plots"])
    assert result.exit_code == 1
    assert "vl-convert-python is not installed" in result.output
    assert not (tmp_path / "dvc_plots").exists()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    pytest.importorskip(
        "vl_convert", reason="vl-convert-python (ships the Vega libraries) is not installed"
    )
    path = tmp_path_factory.mktemp("template") / "offline.html"
    assert plots_page.ensure_template(path)
    assert not plots_page.ensure_template(path)  # up to date: not rebuilt
    return path


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), 128).save(path)


def _rows(properties: dict) -> list[dict]:
    """Rows with the plot's declared x and y fields (and the histogram's `when`)."""
    ys = properties["y"] if isinstance(properties["y"], list) else [properties["y"]]
    return [
        {properties["x"]: i / 10, **{y: (i * (k + 2)) % 7 / 7 for k, y in enumerate(ys)}, "when": w}
        for i in range(12)
        for w in ("before", "after")
    ]


def _make_project(root: Path, template: Path) -> Path:
    """A DVC project with the repository's dvc.yaml, .dvc/config and templates, tiny plots."""
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, root / name)
    (root / ".dvc").mkdir()
    shutil.copy(REPO / ".dvc" / "config", root / ".dvc" / "config")
    shutil.copytree(REPO / ".dvc" / "plots", root / ".dvc" / "plots", dirs_exist_ok=True)
    shutil.copy(template, root / plots_page.TEMPLATE_PATH)
    for name, properties in DATA_PLOTS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(_rows(properties)))
    for name in IMAGE_PLOTS:
        _png(root / name)
    return root


@pytest.fixture
def project(tmp_path: Path, template: Path) -> Path:
    return _make_project(tmp_path, template)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, template: Path) -> tuple[Path, str]:
    """A project after `dvc plots show`, and its page."""
    root = _make_project(tmp_path_factory.mktemp("project"), template)
    return root, _dvc_plots_show(root)


def _json_text(text: str) -> str:
    """`text` as it appears inside the page's JSON specs."""
    return json.dumps(text)[1:-1]


def _dvc_plots_show(project: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "dvc", "plots", "show"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed to load" not in done.stdout + done.stderr
    return (project / "dvc_plots" / "index.html").read_text(encoding="utf-8")


def test_dvc_plots_show_writes_a_page_that_loads_nothing_from_the_network(rendered):
    project, page = rendered  # the template came from .dvc/config
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"""(src|href)\s*=\s*["']?https?://""", page, re.IGNORECASE)
    assert "cdn.jsdelivr.net" not in page
    assert "window.vegaEmbed" in page
    assert page.count("vegaEmbed('#") == len(DATA_PLOTS)
    for properties in DATA_PLOTS.values():
        for key in ("title", "x_label", "y_label"):
            assert _json_text(properties[key]) in page
    images = re.findall(r"<img[^>]*src\s*=\s*\"([^\"]+)\"", page.rsplit("<body>", 1)[1])
    assert len(images) == len(IMAGE_PLOTS)
    for source in images:  # copied beside the page
        assert (project / "dvc_plots" / source).is_file()


def test_plots_command_renders_with_the_generated_template(project, template, monkeypatch):
    (project / plots_page.TEMPLATE_PATH).unlink()
    monkeypatch.chdir(project / "reports")  # from a sub-folder, as DVC allows
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    cached = template.read_text(encoding="utf-8")  # building it again would take ~5 s
    monkeypatch.setattr(plots_page, "build_template", lambda: cached)
    result = runner.invoke(app, ["plots"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "vega-lite 5." in result.output
    page = (project / "dvc_plots" / "index.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in page and page.count("vegaEmbed('#") == len(DATA_PLOTS)


def _offline_prefix() -> list[str]:
    """`unshare -n` (a network namespace with no interface up) where this user may."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        return [unshare, "-n"]
    return []


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed")
def test_the_page_draws_every_plot_in_chromium_with_no_network(rendered):
    project, _ = rendered
    command = [
        *_offline_prefix(),
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        "--virtual-time-budget=5000",
        "--dump-dom",
        (project / "dvc_plots" / "index.html").as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    drawn = len(re.findall(r"<canvas[^>]*class=\"marks\"|<svg[^>]*class=\"marks\"", dom))
    assert drawn == len(DATA_PLOTS), dom[-2000:]
