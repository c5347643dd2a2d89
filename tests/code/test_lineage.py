"""Code deps of DVC stages come from the imports (`pipeline deps`), and the layers import
one way: tasks never import the command layer, plates never imports plates_text, and the
registry's types live in core."""

import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from pipeline.core import lineage

ROOT = Path(__file__).resolve().parents[2]
DVC = Path(sys.executable).with_name("dvc")


SOURCES = lineage.Sources(ROOT)


def _deps(stage: str, task: str | None) -> set[str]:
    return {str(p) for p in lineage.code_deps(SOURCES, stage, task)}


def test_code_deps_folders_match_the_imports():
    problems = lineage.stale(ROOT) + lineage.dvc_entries_missing(ROOT)
    assert not problems, "run `pipeline deps --write`:\n" + "\n".join(problems)


def test_a_task_reaches_the_modules_of_another_only_through_its_own_imports():
    yolo = "pipeline/tasks/plates/formats/yolo.py"
    assert yolo in _deps("ingest", "plates")
    assert yolo in _deps("ingest", "plates_text")  # it reads plates folders
    assert "pipeline/tasks/plates/formats/text.py" in _deps("sample", "plates")
    assert "pipeline/tasks/captions/probe.py" in _deps("features", "captions")
    for stage in lineage.pipeline_stages(ROOT):
        for name, task in stage.targets():
            deps = _deps(stage.command, task)
            assert "pipeline/stages/" + stage.command + ".py" in deps
            if task != "captions":
                assert not any(d.startswith("pipeline/tasks/captions/") for d in deps), name
            if task not in ("plates", "plates_text"):
                assert not any(d.startswith("pipeline/tasks/plates/") for d in deps), name
    assert lineage.task_packages(SOURCES) >= {"pipeline.tasks.plates", "pipeline.tasks.captions"}


def test_a_new_import_makes_the_links_stale(tmp_path):
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(
        ROOT / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("*.pyc")
    )
    lineage.write_links(tmp_path)
    assert lineage.stale(tmp_path) == []
    reader = tmp_path / "pipeline/tasks/plates/formats/yolo.py"
    reader.write_text(
        reader.read_text() + "\n\ndef _late():\n    from pipeline.core import tracking\n"
    )
    problems = lineage.stale(tmp_path)
    assert "code_deps/ingest/plates: no link to pipeline/core/tracking.py" in problems
    assert "code_deps/ingest/plates_text: no link to pipeline/core/tracking.py" in problems
    assert not any("captions" in p or "driving" in p for p in problems)


def _imports_under(folder: str) -> dict[str, set[str]]:
    sources = lineage.Sources(ROOT)
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[module] = sources.imported(module)
    return found


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_plates_imports_nothing_of_plates_text():
    wrong = {
        module: sorted(m for m in imported if _under(m, "pipeline.tasks.plates_text"))
        for module, imported in _imports_under("pipeline/tasks/plates").items()
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_tasks_never_import_the_command_layer():
    """Nor does a stage's code reach a task's benchmarks: only they may use `pipeline.bench`
    (its `Case` scaffold), and no other task module imports them."""
    from pipeline.tasks import TASKS

    above = ("pipeline.cli", "pipeline.predict", "pipeline.stages", "pipeline.bench")
    rows = tuple(f"pipeline.tasks.{task}.benchmarks" for task in TASKS)
    wrong = {}
    for module, imported in _imports_under("pipeline/tasks").items():
        in_rows = _under(module, *rows)
        forbidden = tuple(p for p in above if not (in_rows and p == "pipeline.bench"))
        wrong[module] = sorted(
            m for m in imported if _under(m, *forbidden) or (not in_rows and _under(m, *rows))
        )
    assert not {k: v for k, v in wrong.items() if v}


def test_core_imports_no_task_and_no_command():
    above = ("pipeline.tasks", "pipeline.cli", "pipeline.predict", "pipeline.stages")
    wrong = {
        module: sorted(m for m in imported if _under(m, *above))
        for module, imported in _imports_under("pipeline/core").items()
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_the_registry_is_typed_with_the_core_primary_metric():
    from pipeline.core import registry
    from pipeline.core.evaluation import PrimaryMetric
    from pipeline.core.registry import gate
    from pipeline.tasks import base

    assert base.PrimaryMetric is PrimaryMetric  # tasks keep importing it from base
    for function in (registry.register, registry.promote, registry.rollback, gate.decide):
        assert typing.get_type_hints(function)["primary"] is PrimaryMetric, function.__name__


def _dvc(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [str(DVC), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def _changed(cwd: Path) -> list[str]:
    lines = _dvc(cwd, "status").splitlines()
    return [line.rstrip(":") for line in lines if line.endswith(":") and not line[0].isspace()]


@pytest.mark.slow
def test_dvc_status_names_exactly_the_stages_whose_code_changed(tmp_path):
    """In a copy with every output faked and committed, editing a plates format reader makes
    the two ingest stages that read plates folders out of date, a captions module only
    captions stages."""
    from dvc.repo import Repo

    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(
        ROOT / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("*.pyc")
    )
    lineage.write_links(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    _dvc(tmp_path, "init", "-q")
    _dvc(tmp_path, "config", "core.analytics", "false")
    for stage in Repo(str(tmp_path)).index.stages:  # outputs stand-ins: nothing runs
        for out in stage.outs:
            path = Path(out.fs_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    _dvc(tmp_path, "commit", "--force", "-q")
    assert _changed(tmp_path) == []

    reader = tmp_path / "pipeline/tasks/plates/formats/yolo.py"
    original = reader.read_text()
    reader.write_text(original + "# edited\n")
    assert sorted(_changed(tmp_path)) == ["ingest@plates", "ingest@plates_text"]
    reader.write_text(original)

    probe = tmp_path / "pipeline/tasks/captions/probe.py"
    probe.write_text(probe.read_text() + "# edited\n")
    changed = _changed(tmp_path)
    assert "features@captions" in changed
    assert all(name.endswith("@captions") for name in changed), changed


def test_dvc_yaml_plots_are_the_tasks_declarations():
    from pipeline.core import dvc_plots
    from pipeline.tasks import TASKS

    declared = {name: task.plots for name, task in TASKS.items()}
    assert dvc_plots.stale(ROOT, declared) == []  # else: `pipeline deps --write`
    more = {**declared, "shapes": ("evaluation/confusion.png",)}
    assert dvc_plots.stale(ROOT, more) == ["dvc.yaml: `plots` is stale"]
    text = dvc_plots.rewritten((ROOT / "dvc.yaml").read_text(), more)
    assert text.endswith("  - reports/shapes/evaluation/confusion.png\n")
    assert text.split("\nplots:\n")[0] == (ROOT / "dvc.yaml").read_text().split("\nplots:\n")[0]
