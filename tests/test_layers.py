"""The packages form layers: each imports only the layers below it, and no modules import each other in a circle."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cardsender"
# From the bottom up; a package may import the packages of a lower rank, and its own modules.
LAYERS = {
    "domain": 0,
    "system": 1,
    "config": 2,
    "store": 3,
    "importers": 4,
    "planning": 4,
    "cards": 5,
    "sending": 6,
    "printing": 6,
    "reports": 7,
    "app": 8,
    "service": 9,
    "cli": 10,
}


def module_name(path: Path) -> str:
    """Return the dotted name of a module file of the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Return the cardsender modules a file imports (at module level only, when asked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("cardsender")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cardsender"):
            found.add(node.module)
            # ``from cardsender.store import notes`` imports a module, not only a name.
            found |= {
                f"{node.module}.{alias.name}" for alias in node.names if _is_module(f"{node.module}.{alias.name}")
            }
    return found


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def layer_of(module: str) -> str | None:
    """Return the package (layer) a module belongs to; None for the package's own top level."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_module_shares_a_name_with_another_or_with_a_package() -> None:
    """Each module's name says which one it is: no two modules, and no module and package, have the same name."""
    names = Counter(path.stem for path in PACKAGE.rglob("*.py") if path.stem not in ("__init__", "__main__"))
    packages = {path.parent.name for path in PACKAGE.rglob("__init__.py")}
    assert sorted(name for name, count in names.items() if count > 1 or name in packages) == []


def test_every_package_has_a_layer() -> None:
    """Every sub-package of cardsender is one of the layers, and every layer exists."""
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert packages == set(LAYERS)


def test_only_the_entry_points_sit_at_the_top_level() -> None:
    """Besides the layers, the top level holds only the version and ``python -m cardsender``."""
    assert sorted(path.name for path in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py"]


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_every_package_says_what_it_may_import(package: str) -> None:
    """Each package's docstring says what it holds and which packages it may import."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))) or ""
    assert "may import" in doc or "imports nothing" in doc, package


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str) -> None:
    """A module imports its own package and the layers below it, never a layer above or beside it."""
    own = layer_of(module)
    if own is None:
        return
    upward = sorted(
        imported
        for imported in imports_of(MODULES[module])
        if (layer := layer_of(imported)) is not None and layer != own and LAYERS[layer] >= LAYERS[own]
    )
    assert upward == [], f"{module} imports {upward}, which are not below {own}"


def test_no_import_cycle() -> None:
    """No modules import each other in a circle at module level."""
    # A module may import its own parent package: Python has already begun loading that one.
    graph = {
        name: {
            i
            for i in imports_of(path, top_level_only=True)
            if i in MODULES and i != name and not name.startswith(f"{i}.")
        }
        for name, path in MODULES.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert cycles == []


def test_the_checks_see_an_upward_import(tmp_path: Path) -> None:
    """The import reader finds every form of import, so an upward one cannot hide."""
    source = tmp_path / "sample.py"
    source.write_text(
        "import cardsender.cli\n"
        "from cardsender.app import workspace\n"
        "from cardsender.store.outbox import OutboxRow\n"
        "def later():\n"
        "    from cardsender.printing import layout\n",
        encoding="utf-8",
    )
    assert imports_of(source) == {
        "cardsender.cli",
        "cardsender.app",
        "cardsender.app.workspace",
        "cardsender.store.outbox",
        "cardsender.printing",
        "cardsender.printing.layout",
    }
    assert imports_of(source, top_level_only=True) == {
        "cardsender.cli",
        "cardsender.app",
        "cardsender.app.workspace",
        "cardsender.store.outbox",
    }
