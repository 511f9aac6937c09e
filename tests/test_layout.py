"""The layout keeps its rules: use cases never live in the CLI, and no import circles.

Read from the source with ``ast`` (nothing is imported): every ``import`` of
a module of ``fieldapp/``, at module level or inside a function, and every
``importlib.import_module("fieldapp.…")`` with a literal start.

The graph's nodes are the top-level packages and modules under ``fieldapp``
(``fieldapp.admin``, ``fieldapp.campaigns``, …). The package root
(``fieldapp/__init__.py``, ``create_app``) is the composition root: it imports
the blueprints and the CLI to wire them together, so it stands above the
graph, and only the entry points that build an app (the ``fieldapp``
command, the gunicorn server) may import it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "fieldapp"
CLI_MODULES = ("fieldapp.cli", "fieldapp.commands")
ENTRY_POINTS = {"fieldapp.__main__", "fieldapp.cli", "fieldapp.server"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _literal_start(node: ast.expr) -> str | None:
    """The string, or the literal start of an f-string, passed to ``import_module``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def imports_of(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, wherever the import statement stands."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if _is_module(full) else base
        elif (isinstance(node, ast.Call) and node.args
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"):
            start = _literal_start(node.args[0])
            if start and start.startswith("fieldapp"):
                yield start.rstrip(".")


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.relative_to(PACKAGE).parts)


def _unit(module: str) -> str | None:
    """The top-level package or module of ``fieldapp`` that ``module`` belongs to."""
    parts = module.split(".")
    if parts[0] != "fieldapp":
        return None
    return "fieldapp" if len(parts) == 1 else f"fieldapp.{parts[1]}"


def _within(module: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def import_graph() -> dict[str, set[str]]:
    """Top-level unit -> the units it imports (the package root left out: see above)."""
    graph: dict[str, set[str]] = {}
    for path in _sources():
        source = _unit(_module_name(path))
        if source is None or source == "fieldapp":
            continue
        targets = {_unit(target) for target in imports_of(path)}
        graph.setdefault(source, set()).update(
            t for t in targets if t is not None and t not in (source, "fieldapp"))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of ``graph`` with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_only_the_cli_imports_the_commands() -> None:
    offenders = [
        f"{_module_name(path)} imports {target}"
        for path in _sources() if not _within(_module_name(path), CLI_MODULES)
        for target in imports_of(path) if _within(target, ("fieldapp.commands",))
    ]
    assert offenders == []


def test_no_import_cycle_among_the_packages_of_fieldapp() -> None:
    graph = import_graph()
    # The reader sees ``from package import module`` and import_module inside a function.
    assert "fieldapp.audit" in graph["fieldapp.admin"]
    assert "fieldapp.commands" in graph["fieldapp.cli"]
    assert cycles(graph) == []


def test_only_the_entry_points_import_the_app_factory() -> None:
    importers = {_module_name(path) for path in _sources()
                 if _unit(_module_name(path)) != "fieldapp" and "fieldapp" in set(imports_of(path))}
    assert importers <= ENTRY_POINTS


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


_JS_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]""")


def test_no_module_of_the_pwa_imports_its_entry_module() -> None:
    """``app.js`` boots the app when it is loaded: a screen that imported it would start a
    second app (and close a circle); screens get what they need from ``show()``'s context."""
    js = REPO / "static" / "js"
    entry = js / "app.js"
    importers = [
        str(path.relative_to(REPO))
        for path in sorted(js.rglob("*.js")) if path != entry
        for spec in _JS_IMPORT.findall(path.read_text(encoding="utf-8"))
        if spec.startswith(".") and (path.parent / spec).resolve() == entry
    ]
    assert importers == []
