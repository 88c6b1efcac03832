"""The package's layering, as docs/architecture.md draws it, held by reading every import.

Every import counts: at the top of a module, inside a function, and under `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archcompiler"

# Floors, lowest first: a module may import from its own floor and the floors below it only.
FLOORS = [
    # the ground floor
    {"errors", "limits", "strict", "grammar", "registry", "atomic", "zoo", "model_files"},
    {"ops"},  # primitive ops: arguments, shape rule, cost
    {"blocks", "graph"},  # built-in blocks (through the Builder protocol); the IR
    {"spec"},  # reading and checking spec files: loader, expressions, models, validation
    {"compiler"},  # the walk: spec files → Graph
    # readers
    {
        "summary",
        "render",
        "reference",
        "schema",
        "backends",
        "sizes",
        "resolve",
        "diff",
        "sweep",
        "provenance",
    },
    {"build", "train", "export", "optimize"},  # commands that run a backend
    {"api"},  # the Python API (archcompiler.compile, Network): over all of the above
    {"cli"},  # the command line: nothing imports it
]
FRAMEWORKS = ("tensorflow", "keras")  # imported only where a backend runs
MAY_IMPORT_FRAMEWORKS = (  # keras_weights too
    "archcompiler.backends.keras",
    "archcompiler.train.",
    "archcompiler.export",  # loads .keras models, runs the artifacts in TensorFlow and LiteRT
    "archcompiler.optimize",  # rewrites Keras models (BN folding) through the functional API
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """Every module `name` imports, written absolutely (relative imports resolved)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            out.add(base)  # `from base import name`: base is a module, name may be one too
            out |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
    return out


def ours(name: str) -> set[str]:
    """The package's modules `name` imports, less its own parent packages (Python has run them
    before `name`: importing them cannot make a circle)."""
    return {m for m in imports(name) if m in MODULES and not (name + ".").startswith(m + ".")}


def floor(name: str) -> int:
    # the package's own __init__ is the API's front door (`archcompiler.compile`)
    part = name.split(".")[1] if "." in name else "api"
    for i, names in enumerate(FLOORS):
        if part in names:
            return i
    return -1


def test_every_import_of_the_package_names_a_module_it_has() -> None:
    """A relative import one level off (`from .atomic` in a subpackage) fails only when it runs."""
    missing = {
        (name, m) for name in MODULES for m in imports(name)
        if m.split(".")[0] == "archcompiler" and m not in MODULES
    }  # fmt: skip
    assert not missing, sorted(missing)


def test_every_module_has_a_floor() -> None:
    lost = [m for m in MODULES if floor(m) < 0]
    assert not lost, f"add these to a floor in FLOORS: {lost}"


@pytest.mark.parametrize("name", list(MODULES))
def test_imports_go_down_the_floors(name: str) -> None:
    up = sorted(m for m in ours(name) if floor(m) > floor(name))
    assert not up, f"{name} (floor {floor(name)}) imports from a floor above: {up}"


@pytest.mark.parametrize("name", list(MODULES))
def test_only_backends_and_training_import_tensorflow(name: str) -> None:
    if name.startswith(MAY_IMPORT_FRAMEWORKS):
        return
    used = sorted(m for m in imports(name) if m.split(".")[0] in FRAMEWORKS)
    assert not used, f"{name} imports {used}"


def test_blocks_and_ops_do_not_import_the_walk() -> None:
    for name in MODULES:
        if name.startswith(("archcompiler.blocks", "archcompiler.ops")):
            walk = sorted(m for m in ours(name) if m.startswith("archcompiler.compiler"))
            assert not walk, f"{name} imports {walk}"


def test_ops_import_only_the_ground_floor_and_ops() -> None:
    for name in MODULES:
        if name.startswith("archcompiler.ops"):
            assert all(floor(m) <= 1 for m in ours(name)), name


def test_nothing_imports_the_command_line() -> None:
    users = sorted(m for m in MODULES if "archcompiler.cli" in ours(m))
    assert not users


def test_no_import_circles() -> None:
    graph = {m: ours(m) for m in MODULES}

    def reaches(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted(m for m in MODULES if m in reaches(m))
    assert not circles, f"modules in import circles: {circles}"
