"""The shape of the code, checked from its syntax tree: what review would otherwise catch late.

No import cycle among a package's own modules (type-only imports count: a cycle under
`TYPE_CHECKING` is still two modules that cannot be understood apart), few modules at the top of
the tap, short functions, and the bank's paths named in one module only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_TOP_MODULES = 6
MAX_FUNCTION_LINES = 40
BANK_PATHS = ("/EBank", "sywsquery")
ENDPOINTS = ROOT / "tap_fibank" / "bank" / "endpoints.py"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The first-party modules a module imports, at any depth of its tree (TYPE_CHECKING too)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from package import module` imports the module only
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {target for target in found if target in known and target != name}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules that import each other, directly or not: one sorted list per knot."""
    reach = {node: reachable(graph, node) for node in graph}
    knots = {
        tuple(sorted(other for other in reach[node] if node in reach[other]))
        for node in graph
        if node in reach[node]
    }
    return sorted(list(knot) for knot in knots)


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def package_cycles(package: str) -> list[list[str]]:
    found = modules(package)
    return cycles({name: imported(name, path, set(found)) for name, path in found.items()})


def in_doctor(knot: list[str]) -> bool:
    return all(name.startswith("tap_fibank.doctor.") for name in knot)


@pytest.mark.parametrize(
    "package",
    ["tap_fibank", "fibank_sandbox"],
)
def test_no_import_cycle_among_first_party_modules(package: str) -> None:
    assert [knot for knot in package_cycles(package) if not in_doctor(knot)] == []


def test_no_import_cycle_in_the_doctor() -> None:
    assert [knot for knot in package_cycles("tap_fibank") if in_doctor(knot)] == []


def test_the_tap_package_has_at_most_six_modules_at_its_top() -> None:
    top = sorted(path.name for path in (ROOT / "tap_fibank").glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_no_function_in_the_tap_is_longer_than_forty_lines() -> None:
    long = []
    for name, path in modules("tap_fibank").items():
        for function in functions(ast.parse(path.read_text(encoding="utf-8"))):
            length = (function.end_lineno or function.lineno) - function.lineno + 1  # decorators excluded
            if length > MAX_FUNCTION_LINES:
                long.append(f"{name}.{function.name}: {length} lines")
    assert long == []


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the constants that are docstrings: text about a path is not a path."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_the_bank_paths_are_named_only_in_the_endpoints_module() -> None:
    outside = []
    for name, path in modules("tap_fibank").items():
        if path == ENDPOINTS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        texts = [
            (node.lineno, node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ]
        outside += [f"{name}:{line} {text!r}" for line, text in texts if any(p in text for p in BANK_PATHS)]
    assert outside == []
