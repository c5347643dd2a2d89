"""Which source files each DVC stage runs, found by reading the imports (`pipeline deps`).

DVC interpolates only strings into a stage's `deps`, so a `foreach` stage cannot list other
files for each task. Each stage@task therefore depends on one folder,
`code_deps/<stage>/<task>/`, of symbolic links to the files its code reaches: DVC hashes
the files the links point to, so an edit of one of them makes exactly the stages that reach
it out of date. `pipeline deps --write` rewrites the links when the imports change;
`pipeline deps --check` (and the tests) fail while they are stale.

What a stage reaches, read from the source with `ast` (imports inside functions too):
- its module `pipeline/stages/<command>.py` and every module of `pipeline/` it imports;
- of the task, its package's `__init__.py` and the modules bound to the members of its
  class that the stage's code reads (`task.read_raw`, `task.primary_metric`; any attribute
  name or string in those modules counts), and what they import.
Two rules keep the tasks apart, since importing any module of a task runs its package:
- the imports of the task registry (`pipeline.tasks`, which imports every task) are followed
  only into the shared modules, not into the task packages;
- importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py`: those files are deps, but
  their own imports are not followed (a task package's `__init__` declares the class).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT_PACKAGE = "pipeline"
REGISTRY = "pipeline.tasks"
STAGES_PACKAGE = "pipeline.stages"
TASK_BASE = "pipeline.tasks.base"  # the stage protocols: the names `*_modules` bind
STAGE_MODULES = {"data_modules", "model_modules"}  # a task class's modules of stage functions
LINKS_DIR = Path("code_deps")
DVC_FILE = Path("dvc.yaml")
PARAMS_FILE = Path("params.yaml")


@dataclass
class Sources:
    """The modules of `pipeline/` under `root`, parsed once each."""

    root: Path
    _trees: dict[str, ast.Module] = field(default_factory=dict)
    _paths: dict[str, Path | None] = field(default_factory=dict)
    _imports: dict[str, set[str]] = field(default_factory=dict)
    _names: dict[str, set[str]] = field(default_factory=dict)

    def path(self, module: str) -> Path | None:
        """`a/b.py` or `a/b/__init__.py` for `a.b` (relative to `root`), None outside `pipeline`."""
        if module not in self._paths:
            self._paths[module] = self._find(module)
        return self._paths[module]

    def _find(self, module: str) -> Path | None:
        parts = module.split(".")
        if parts[0] != ROOT_PACKAGE:
            return None
        base = Path(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if (self.root / candidate).is_file():
                return candidate
        return None

    def is_package(self, module: str) -> bool:
        found = self.path(module)
        return found is not None and found.name == "__init__.py"

    def tree(self, module: str) -> ast.Module:
        if module not in self._trees:
            path = self.path(module)
            if path is None:
                raise KeyError(module)
            self._trees[module] = ast.parse((self.root / path).read_text(), str(path))
        return self._trees[module]

    def imported(self, module: str, node: ast.AST | None = None) -> set[str]:
        """The `pipeline` modules the import statements in `node` (default: the whole module,
        function bodies and `TYPE_CHECKING` blocks included) load by name."""
        if node is None:
            if module not in self._imports:
                self._imports[module] = self.imported(module, self.tree(module))
            return self._imports[module]
        return {
            loaded for stmt in ast.walk(node) for _, _, loaded in self._imports_in(module, stmt)
        }

    def names_read(self, module: str) -> set[str]:
        """The attribute names `module` reads, and the names it gives `getattr`/`hasattr`."""
        if module not in self._names:
            self._names[module] = set()
            for node in ast.walk(self.tree(module)):
                if isinstance(node, ast.Attribute):
                    self._names[module].add(node.attr)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in {"getattr", "hasattr"}
                    and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)
                ):
                    self._names[module].add(node.args[1].value)
        return self._names[module]

    def bindings(self, module: str) -> dict[str, str]:
        """Name -> module for the module-level imports of `module` (`from m import f` binds
        `f` to `m`; `from p import sub` binds `sub` to the submodule `p.sub`)."""
        return {
            name: bound
            for stmt in self.tree(module).body
            for name, bound, _ in self._imports_in(module, stmt)
        }

    def _imports_in(self, module: str, stmt: ast.AST) -> Iterator[tuple[str, str, str]]:
        """(name bound, module it names, module loaded) of each `pipeline` module an import
        statement of `module` loads: `import a.b` binds `a` and loads `a.b`."""
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if self.path(alias.name):
                    top = alias.name.split(".")[0]
                    bound = alias.name if alias.asname else top
                    yield alias.asname or top, bound, alias.name
        elif isinstance(stmt, ast.ImportFrom):
            base = self._absolute(module, stmt.module, stmt.level)
            if self.path(base) is None:
                return
            for alias in stmt.names:
                child = f"{base}.{alias.name}"
                loaded = child if self.path(child) else base
                yield alias.asname or alias.name, loaded, loaded

    def _absolute(self, module: str, name: str | None, level: int) -> str:
        if level == 0:
            return name or ""
        package = module if self.is_package(module) else module.rpartition(".")[0]
        for _ in range(level - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{name}" if name else package


def task_packages(sources: Sources) -> set[str]:
    """`pipeline.tasks.<name>` for every task package (a folder under pipeline/tasks/)."""
    folder = sources.root / Path(*REGISTRY.split("."))
    return {
        f"{REGISTRY}.{entry.name}"
        for entry in folder.iterdir()
        if (entry / "__init__.py").is_file()
    }


def _task_of(module: str, tasks: set[str]) -> str | None:
    return next((t for t in tasks if module == t or module.startswith(t + ".")), None)


def _parents(module: str) -> Iterator[str]:
    parts = module.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def closure(sources: Sources, roots: Iterable[str]) -> tuple[set[str], set[str]]:
    """(modules whose imports were followed, packages only run as parents) from `roots`."""
    tasks = task_packages(sources)
    followed: set[str] = set()
    todo = [root for root in roots if sources.path(root)]
    while todo:
        module = todo.pop()
        if module in followed:
            continue
        followed.add(module)
        for child in sources.imported(module):
            if module == REGISTRY and _task_of(child, tasks):
                continue  # the registry imports every task: not a dep of each stage
            todo.append(child)
    parents = {p for m in followed for p in _parents(m) if sources.path(p)} - followed
    return followed, parents


def _names_read(sources: Sources, modules: Iterable[str]) -> set[str]:
    """Every attribute name read in `modules`, and every name given to `getattr`/`hasattr`:
    the task members their code may read (`task.read_raw`, `getattr(task, "summarize")`)."""
    return set().union(*(sources.names_read(module) for module in modules))


def _targets(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Assign):
        return {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id}
    return set()


def _referenced(sources: Sources, module: str, nodes: Iterable[ast.AST]) -> set[str]:
    """Modules the names in `nodes` are bound to by `module`'s imports, and the modules
    imported inside them."""
    bindings = sources.bindings(module)
    found: set[str] = set()
    for node in nodes:
        found |= sources.imported(module, node)
        for name in ast.walk(node):
            if isinstance(name, ast.Name) and name.id in bindings:
                found.add(bindings[name.id])
    return found


def task_roots(sources: Sources, task: str, members_read: set[str]) -> set[str]:
    """The modules of task package `task` behind the members the stage reads.

    Each class of the package's `__init__` contributes its bases and those class-body
    statements that define a member in `members_read`; the rest of the module (constants,
    helpers) contributes everything it references."""
    nodes: list[ast.AST] = []
    for stmt in sources.tree(task).body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            continue
        if not isinstance(stmt, ast.ClassDef):
            nodes.append(stmt)
            continue
        nodes += [*stmt.bases, *stmt.decorator_list]
        nodes += [s for s in stmt.body if _targets(s) & members_read]
        nodes += _stage_modules_read(sources, task, stmt, members_read)
    found = _referenced(sources, task, nodes)
    if "params" in members_read and sources.path(f"{task}.params"):
        found.add(f"{task}.params")  # `Task.params`: the models its stage functions take
    return found


def _method_names(sources: Sources, module: str) -> set[str]:
    """The names of the methods of `module`'s classes (the stage protocols' vocabulary)."""
    return {
        node.name
        for cls in sources.tree(module).body
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.FunctionDef)
    }


def _stage_modules_read(
    sources: Sources, task: str, cls: ast.ClassDef, members_read: set[str]
) -> list[ast.AST]:
    """The names in the class's `data_modules` / `model_modules` whose module defines a
    member the stage reads (`Task` binds each module's stage functions by name)."""
    bindings = sources.bindings(task)
    wanted = members_read & _method_names(sources, TASK_BASE)
    found: list[ast.AST] = []
    for stmt in cls.body:
        if not _targets(stmt) & STAGE_MODULES or not isinstance(stmt, ast.Assign):
            continue
        for element in getattr(stmt.value, "elts", []):
            module = bindings.get(element.id) if isinstance(element, ast.Name) else None
            if module is None or sources.path(module) is None:
                continue
            tree = sources.tree(module)
            functions = {top.name for top in tree.body if isinstance(top, ast.FunctionDef)}
            if functions & wanted:
                found.append(element)
    return found


def code_deps(sources: Sources, stage: str, task: str | None) -> list[Path]:
    """The source files stage `stage` runs for task `task` (None: a stage of no task)."""
    stage_module = f"{STAGES_PACKAGE}.{stage}"
    if sources.path(stage_module) is None:
        raise ValueError(f"no module {stage_module} for stage {stage!r}")
    tasks = task_packages(sources)
    followed, parents = closure(sources, [stage_module])
    if task is not None:
        package = f"{REGISTRY}.{task}"
        if package not in tasks:
            raise ValueError(f"no task package {package} for {stage}@{task}")
        shared = [m for m in followed if not _task_of(m, tasks)]
        roots = task_roots(sources, package, _names_read(sources, shared))
        more, more_parents = closure(sources, roots)
        followed |= more | {package}
        parents |= more_parents
    files = {sources.path(m) for m in followed | parents}
    return sorted(f for f in files if f is not None)


@dataclass(frozen=True)
class StageSpec:
    """A stage of dvc.yaml run by `pipeline <command>`, per task or once."""

    name: str
    command: str
    tasks: tuple[str, ...] | None  # None: not a foreach stage

    def targets(self) -> list[tuple[str, str | None]]:
        return (
            [(self.name, t) for t in self.tasks] if self.tasks is not None else [(self.name, None)]
        )


def pipeline_stages(root: Path) -> list[StageSpec]:
    """The stages of `root/dvc.yaml` whose command is `pipeline <command> ...`; a foreach
    over `${section}` runs for each key of that params.yaml section."""
    stages = yaml.safe_load((root / DVC_FILE).read_text())["stages"]
    params = yaml.safe_load((root / PARAMS_FILE).read_text())
    found = []
    for name, spec in stages.items():
        body = spec.get("do", spec)
        words = str(body.get("cmd", "")).split()
        if len(words) < 2 or words[0] != ROOT_PACKAGE:
            continue
        tasks = None
        if "foreach" in spec:
            section = str(spec["foreach"]).removeprefix("${").removesuffix("}")
            tasks = tuple(params[section])
        found.append(StageSpec(name, words[1], tasks))
    return found


def links_dir(stage: str, task: str | None) -> Path:
    """`code_deps/<stage>/<task>` (or `code_deps/<stage>`), relative to the repository."""
    return LINKS_DIR / stage / task if task is not None else LINKS_DIR / stage


def dvc_entry(stage: StageSpec) -> str:
    """The one code dep dvc.yaml lists for the stage."""
    return str(links_dir(stage.name, "${key}" if stage.tasks is not None else None))


def link_name(path: Path) -> str:
    """`pipeline.tasks.plates.formats.yolo` for its file (no `.py`: not a module to import)."""
    return ".".join(path.with_suffix("").parts)


def expected_links(root: Path) -> dict[Path, dict[str, Path]]:
    """Folder -> {link name: file} for every stage@task of dvc.yaml."""
    sources = Sources(root)
    return {
        links_dir(name, task): {link_name(f): f for f in code_deps(sources, stage.command, task)}
        for stage in pipeline_stages(root)
        for name, task in stage.targets()
    }


def stale(root: Path) -> list[str]:
    """What differs between `code_deps/` and the imports (empty when up to date)."""
    problems: list[str] = []
    wanted = expected_links(root)
    for folder, links in wanted.items():
        here = root / folder
        have = {p.name: p for p in here.iterdir()} if here.is_dir() else {}
        for name in sorted(set(links) - set(have)):
            problems.append(f"{folder}: no link to {links[name]}")
        for name in sorted(set(have) - set(links)):
            problems.append(f"{folder}: {name} is no longer imported")
        for name in sorted(set(links) & set(have)):
            if not have[name].is_symlink() or Path(os.readlink(have[name])) != _target(
                folder, links[name]
            ):
                problems.append(f"{folder}/{name}: not a link to {links[name]}")
    if (root / LINKS_DIR).is_dir():
        known = {root / folder for folder in wanted}
        for path in sorted((root / LINKS_DIR).rglob("*")):
            unused = path.is_dir() and not path.is_symlink() and path not in known
            if unused and not any(k.is_relative_to(path) for k in known):
                problems.append(f"{path.relative_to(root)}: no stage of dvc.yaml uses it")
    return problems


def _target(folder: Path, file: Path) -> Path:
    return Path(*[".."] * len(folder.parts), file)


def write_links(root: Path) -> dict[Path, dict[str, Path]]:
    """Rewrite `code_deps/` from the imports; what it now holds."""
    import shutil

    wanted = expected_links(root)
    shutil.rmtree(root / LINKS_DIR, ignore_errors=True)
    for folder, links in wanted.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name, file in links.items():
            (root / folder / name).symlink_to(_target(folder, file))
    return wanted


def dvc_entries_missing(root: Path) -> list[str]:
    """Stages of dvc.yaml that do not list their `code_deps` folder, or still list files
    of `pipeline/` by hand (those belong in the folder, where nothing is forgotten)."""
    stages: dict[str, Any] = yaml.safe_load((root / DVC_FILE).read_text())["stages"]
    problems = []
    for stage in pipeline_stages(root):
        deps = [str(d) for d in stages[stage.name].get("do", stages[stage.name]).get("deps", [])]
        if dvc_entry(stage) not in deps:
            problems.append(f"{stage.name}: deps lack {dvc_entry(stage)}")
        problems += [
            f"{stage.name}: {d} is listed by hand" for d in deps if d.startswith(ROOT_PACKAGE + "/")
        ]
    return problems
