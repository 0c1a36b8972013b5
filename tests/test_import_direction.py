"""The import rules of docs/ARCHITECTURE.md, checked on the source of every module.

Imports inside functions count too: a lazy import still ties two modules together.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "labkit"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project's modules that `name` imports (a package when an attribute of it is imported)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            candidates = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in MODULES else origin for a in node.names]
        else:
            continue
        for target in candidates:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _area(name: str) -> str:
    for area in ("labkit.kube", "labkit.sandbox"):
        if name == area or name.startswith(area + "."):
            return area
    return "client"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_run_one_way(name):
    area = _area(name)
    for target in GRAPH[name]:
        if area == "labkit.kube":
            assert _area(target) == "labkit.kube", f"{name} imports {target}: the core imports only itself"
        elif area == "labkit.sandbox":
            assert _area(target) != "client", f"{name} imports {target}: the sandbox never imports the client"
        elif _area(target) == "labkit.sandbox":
            assert target == "labkit.sandbox", f"{name} imports {target}: the client uses the sandbox's package face"


# Inside the sandbox, packages import only those below them (docs/ARCHITECTURE.md, "Import rules").
SANDBOX_LAYERS = [
    {"top"},                          # the package face, the CLI and the wiring (_sandbox)
    {"apiserver", "controllers"},
    {"dns"},
    {"registry", "runtime"},
    {"auth"},                         # who asks (tokens) and what they may do (RBAC)
    {"storage"},
    {"apis"},
    {"validation"},
    {"base", "home"},                 # settings, clock, release, cluster view; the home on disk
]
_TOP = {"labkit.sandbox", "labkit.sandbox._cli", "labkit.sandbox._sandbox"}


def _layer(name: str) -> tuple[str, int]:
    if name in _TOP:
        area = "top"
    else:
        rest = name[len("labkit.sandbox."):].split(".")
        area = rest[0] if len(rest) > 1 or not rest[0].startswith("_") else "base"
    return area, next(i for i, areas in enumerate(SANDBOX_LAYERS) if area in areas)


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if _area(n) == "labkit.sandbox"))
def test_sandbox_packages_import_only_those_below(name):
    area, rank = _layer(name)
    for target in GRAPH[name]:
        if _area(target) != "labkit.sandbox":
            continue
        target_area, target_rank = _layer(target)
        assert target_area == area or target_rank > rank, (
            f"{name} ({area}) imports {target} ({target_area}): a sandbox package imports only those below it")


def test_no_import_circles():
    state: dict[str, int] = {}
    circles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt])
            elif not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(GRAPH):
        if not state.get(node):
            visit(node, [node])
    assert circles == []
