"""No import cycle between the files of the server's packages, lazy (function-level) imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fhir_server", "search", "consent", "profiles")


def module_file(root: Path, name: str) -> Path | None:
    """The file that defines the dotted module `name` under `root`, or None."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(root: Path, path: Path) -> str:
    """The dotted name of the module defined by `path`."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(node: ast.If) -> bool:
    """Whether `node` is `if TYPE_CHECKING:` (bare or `typing.` qualified)."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth, except those under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        children = node.orelse if isinstance(node, ast.If) and is_type_checking(node) else ast.iter_child_nodes(node)
        pending.extend(children)
    return found


def absolute(root: Path, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module name an `ImportFrom` reads from, relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, node.module] if node.module else package)


def targets(root: Path, path: Path, node: ast.Import | ast.ImportFrom) -> set[Path]:
    """The files of the packages that one import statement reads names from."""
    if isinstance(node, ast.Import):
        return {found for alias in node.names if (found := module_file(root, alias.name))}
    source = absolute(root, path, node)
    files: set[Path] = set()
    for alias in node.names:
        found = module_file(root, f"{source}.{alias.name}") or module_file(root, source)
        if found:
            files.add(found)
    return files


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[Path, set[Path]]:
    """File -> files it imports, for every .py file of `packages` under `root`."""
    graph: dict[Path, set[Path]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            edges = set().union(*(targets(root, path, node) for node in imports(tree)))
            graph[path] = edges - {path}
    return graph


def tangles(graph: dict[Path, set[Path]]) -> list[set[Path]]:
    """The strongly connected components of more than one file (Tarjan): each holds a cycle."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on_stack: set[Path] = set()
    found: list[set[Path]] = []

    def connect(node: Path) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: set[Path] = set()
            while node not in component:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def cycles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """Closed chains of files, shortest first through each file of a tangle that no earlier chain passes."""
    found: list[list[Path]] = []
    for component in tangles(graph):
        covered: set[Path] = set()
        for start in sorted(component):
            if start not in covered:
                found.append(chain(graph, component, start))
                covered.update(found[-1])
    return found


def chain(graph: dict[Path, set[Path]], component: set[Path], start: Path) -> list[Path]:
    """A shortest closed path from ``start`` within the component, found breadth-first."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def described(root: Path, found: list[list[Path]]) -> str:
    """The cycles as readable chains of files, one a line."""
    return "\n".join(" -> ".join(str(path.relative_to(root)) for path in cycle) for cycle in found)


def test_no_import_cycle() -> None:
    found = cycles(import_graph(ROOT, PACKAGES))
    if found:
        pytest.fail(f"{len(found)} import cycle(s):\n{described(ROOT, found)}", pytrace=False)


def test_a_cycle_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from pkg.sub import leaf\nNAME = 1\n",
        "sub/__init__.py": "",
        "sub/leaf.py": "def f():\n    from ..top import VALUE\n    return VALUE\n",
        "top.py": "from typing import TYPE_CHECKING\nfrom . import sub\nfrom .sub import leaf\nVALUE = 1\n"
        "if TYPE_CHECKING:\n    from pkg import other\nelse:\n    import pkg.side\n",
        "side.py": "from pkg.top import VALUE\n",
        "other.py": "import pkg.top\nfrom pkg import NAME\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(tmp_path, ("pkg",))
    assert graph[package / "__init__.py"] == {package / "sub/leaf.py"}
    assert graph[package / "top.py"] == {package / "sub/__init__.py", package / "sub/leaf.py", package / "side.py"}
    assert graph[package / "other.py"] == {package / "top.py", package / "__init__.py"}
    assert described(tmp_path, cycles(graph)).splitlines() == [
        "pkg/side.py -> pkg/top.py -> pkg/side.py",
        "pkg/sub/leaf.py -> pkg/top.py -> pkg/sub/leaf.py",
    ]
    (package / "side.py").write_text("VALUE = 2\n")
    (package / "sub/leaf.py").write_text("")
    assert cycles(import_graph(tmp_path, ("pkg",))) == []
