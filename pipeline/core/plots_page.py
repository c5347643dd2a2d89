"""An HTML page template for `dvc plots show` that renders with no network.

DVC's own page loads Vega, Vega-Lite and vega-embed from a CDN, so offline its interactive
plots stay blank. This template inlines one bundle of the three libraries, taken from the
installed `vl-convert-python` (a Vega project package that ships them, BSD-3-Clause), and
leaves out DVC's `{scripts}` placeholder, so the CDN script tags are never written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import PipelineError
from pipeline.core.io import atomic_file

if TYPE_CHECKING:
    from types import ModuleType

# Where `.dvc/config`'s `plots.html_template` (a path relative to `.dvc/`) points.
TEMPLATE_PATH = Path(".dvc/plots/offline.html")
# DVC 3.67 (dvc-render 1.0) writes Vega-Lite v5 specs: render them with the newest v5.
VEGA_LITE_MAJOR = "5"
# What DVC fills in (dvc_render.html.HTML); `{scripts}` is left out on purpose.
_PLACEHOLDERS = ("{plot_divs}", "{refresh_tag}", "{scripts}")
_MARKER = "<!-- offline vega bundle: {versions} -->"

_PAGE = """<!DOCTYPE html>
<html>
<head>
    {{refresh_tag}}
    <meta charset="utf-8">
    <title>DVC Plot</title>
    {marker}
    <script type="text/javascript">
{bundle}
    </script>
    <style>
        table {{
            border-spacing: 15px;
        }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


def _vl_convert() -> ModuleType:
    try:
        import vl_convert
    except ImportError:
        raise PipelineError(
            "vl-convert-python is not installed: it ships the Vega libraries the offline "
            "plots page inlines; run `make install`"
        ) from None
    return vl_convert


def vega_lite_version(available: list[str]) -> str:
    """The newest Vega-Lite of DVC's major version among `available` ("5.8", "5.21", ...)."""
    matching = [v for v in available if v.split(".")[0] == VEGA_LITE_MAJOR]
    if not matching:
        raise PipelineError(
            f"the installed vl-convert-python has no Vega-Lite {VEGA_LITE_MAJOR}.x "
            f"(it has {', '.join(available) or 'none'}): DVC's plots need one"
        )
    return max(matching, key=lambda v: tuple(int(part) for part in v.split(".")))


def versions() -> str:
    """The library versions the page would inline, e.g. `vega 6.2.0, vega-lite 5.21, ...`."""
    vlc = _vl_convert()
    lite = vega_lite_version(vlc.get_vegalite_versions())
    return (
        f"vega {vlc.get_vega_version()}, vega-lite {lite}, "
        f"vega-embed {vlc.get_vega_embed_version()}"
    )


def render_template(bundle: str, versions: str) -> str:
    """The page around `bundle` (JavaScript that sets window.vega, vegaLite, vegaEmbed)."""
    if any(placeholder in bundle for placeholder in _PLACEHOLDERS):
        raise PipelineError("the Vega bundle contains a DVC template placeholder")
    # A function scope keeps the bundle's top-level names out of the page's global scope
    # (DVC's plot scripts declare `var spec`); `<\/` keeps the HTML parser inside the script.
    wrapped = "(() => {\n" + re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    wrapped += "\n})();"
    return _PAGE.format(marker=_MARKER.format(versions=versions), bundle=wrapped)


def build_template() -> str:
    """The offline page template, from the installed vl-convert-python (takes ~5 s)."""
    vlc = _vl_convert()
    lite = vega_lite_version(vlc.get_vegalite_versions())
    return render_template(vlc.javascript_bundle(vl_version=lite), versions())


def ensure_template(path: Path = TEMPLATE_PATH) -> bool:
    """Write the template at `path` unless it is there for the installed versions.

    Returns whether it was (re)written.
    """
    marker = _MARKER.format(versions=versions())
    if path.is_file() and marker in path.read_text(encoding="utf-8"):
        return False
    page = build_template()
    with atomic_file(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return True
