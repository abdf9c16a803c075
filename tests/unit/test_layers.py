"""The layout's one rule: a package of chalicelib imports only packages on lower layers (docs/architecture.md).

Read from the source (every import, module-level or inside a function), so a cycle or an arrow that runs
back up fails here before anyone draws the house again.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
# Lowest first; packages on one layer do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("platform",),
    ("domain",),
    ("ports",),
    ("scenarios", "store"),
    ("channels",),
    ("core",),
    ("edge",),
    ("desk",),
    ("engine", "console"),
    ("imports", "campaigns", "connectors"),
    ("handlers",),
)
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def _package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported(tree: ast.Module, path: Path) -> set[str]:
    here = ("chalicelib", *path.relative_to(ROOT).with_suffix("").parts)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here[:-node.level] if path.name != "__init__.py" else here[:len(here) - node.level]
                base = ".".join((*parent, base) if base else parent)
            names |= {f"{base}.{alias.name}" for alias in node.names} if base == "chalicelib" else {base}
    return {name.split(".")[1] for name in names if name.startswith("chalicelib.")}


def arrows_up() -> list[str]:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.parent == ROOT and path.name == "__init__.py":
            continue
        mine = _package(path)
        for other in sorted(_imported(ast.parse(path.read_text()), path) - {mine}):
            if RANK.get(other, -1) >= RANK.get(mine, -1):
                wrong.append(f"{path.relative_to(ROOT.parent)} imports chalicelib.{other}")
    return wrong


def test_every_package_of_chalicelib_has_a_layer() -> None:
    packages = {_package(p) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert packages == set(RANK), "add the new package to LAYERS and to docs/architecture.md"


def test_no_import_runs_back_up() -> None:
    assert arrows_up() == []


def test_the_rule_reads_imports_inside_functions_and_from_the_root_package() -> None:
    tree = ast.parse("from chalicelib import wiring\ndef f():\n    from chalicelib.handlers import sweeper\n")
    assert _imported(tree, ROOT / "edge" / "limits.py") == {"wiring", "handlers"}
