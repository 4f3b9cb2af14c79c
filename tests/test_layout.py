"""The layout's promises, checked on the source: networks know nothing above them, the
worker path imports no request machinery, and no two modules import each other in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Modules ``path`` imports at import time (module level and class bodies; not inside
    functions, not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return found


MODULES = {module_name(path): path for path in APP.rglob("*.py")}
GRAPH = {
    name: {other for other in imports(path) if other in MODULES and other != name}
    for name, path in MODULES.items()
}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("app.networks")))
def test_networks_import_nothing_above_them(name: str) -> None:
    above = ("flask", "flask_login", "flask_wtf", "authlib.integrations.flask_client")
    app_above = [m for m in GRAPH[name] if not m.startswith(("app.networks", "app.analysis"))]
    assert app_above == [], f"{name} imports {app_above}"
    assert not [
        m for m in imports(MODULES[name]) if m.split(".")[0] in {a.split(".")[0] for a in above}
    ]


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(GRAPH.get(name, ()))
        # importing a submodule runs its package's __init__ first
        parent = name.rpartition(".")[0]
        if parent in MODULES:
            todo.append(parent)
    return seen


def test_the_worker_path_imports_no_request_session_or_url_for() -> None:
    for name in reachable("app.sync.runner"):
        for imported in imports(MODULES[name]):
            assert imported not in {"flask.request", "flask.session", "flask.url_for"}, name
        assert not name.startswith(("app.connect", "app.dashboard", "app.auth", "app.user"))


def test_no_import_cycles() -> None:
    cycles = []
    for name in GRAPH:
        for other in GRAPH[name]:
            if name in reachable_direct(other):
                cycles.append(tuple(sorted((name, other))))
    assert sorted(set(cycles)) == []


def reachable_direct(start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(GRAPH.get(start, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(GRAPH.get(name, ()))
    return seen
