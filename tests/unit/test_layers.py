"""The layout's one rule: a package of chalicelib imports only packages on lower layers (docs/architecture.md).

Read from the source (every import, module-level or inside a function), so a cycle or an arrow that runs
back up fails here before anyone draws the house again.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

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


# ---- the store's keys stay in the store ------------------------------------------------------------------

_INDEX_NAME = re.compile(r"\bgsi\d")


def keys_outside_the_store() -> list[str]:
    """Modules outside chalicelib/store/ that build a table key (`scoped(…)`) or mention an index (`gsi1`…)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if _package(path) == "store":
            continue
        text = path.read_text()
        where = f"{path.relative_to(ROOT.parent)}"
        found += [f"{where}:{text.count(chr(10), 0, m.start()) + 1}" for m in _INDEX_NAME.finditer(text)]
        found += [f"{where}:{node.lineno}" for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "scoped")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "scoped"))]
    return found


def test_no_module_outside_the_store_builds_a_key_or_names_an_index() -> None:
    assert keys_outside_the_store() == [], "ask the records port a named query (chalicelib/ports.py Records)"


def test_the_key_rule_sees_a_scoped_call_and_an_index_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_root = tmp_path / "chalicelib"
    (fake_root / "desk").mkdir(parents=True)
    (fake_root / "store").mkdir()
    (fake_root / "desk" / "a.py").write_text('x = store.query(T, "gsi1", scoped(c, "OPEN"))\n')
    (fake_root / "desk" / "b.py").write_text('from chalicelib.store import models\n\n'
                                            'y = models.scoped(c, "WL")  # gsi3\n')
    (fake_root / "store" / "c.py").write_text('z = scoped(c, "gsi2")\n')  # the store itself may
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert keys_outside_the_store() == ["chalicelib/desk/a.py:1", "chalicelib/desk/a.py:1", "chalicelib/desk/b.py:3",
                                        "chalicelib/desk/b.py:3"]


def test_only_the_composition_root_knows_the_concrete_store() -> None:
    """Services take the records port; only handlers/wiring.py builds the DynamoDB repository."""
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        if _package(path) == "store" or path == ROOT / "handlers" / "wiring.py":
            continue
        modules = {n.module for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)}
        if {"chalicelib.store.repository", "chalicelib.store.models"} & modules:
            wrong.append(str(path.relative_to(ROOT.parent)))
    assert wrong == []


# ---- a scenario is one module: nothing outside scenarios/ imports one by name ----------------------------

SCENARIOS = ROOT / "scenarios"
SCENARIO_MODULES = frozenset(p.stem for p in SCENARIOS.glob("*.py")) - {"__init__", "base"}
PRODUCTION = (ROOT, ROOT.parent / "embedded", ROOT.parent / "app.py")


def _named_scenarios(tree: ast.Module) -> set[str]:
    """The scenario modules an import names (`scenarios.base` and the registry, `scenarios`, are allowed)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[2] for alias in node.names
                      if alias.name.startswith("chalicelib.scenarios.")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("chalicelib.scenarios."):
                found.add(node.module.split(".")[2])
            elif node.module == "chalicelib.scenarios":
                found |= {alias.name for alias in node.names if alias.name in SCENARIO_MODULES}
    return found - {"base"}


def scenario_imports() -> list[str]:
    wrong = []
    for place in PRODUCTION:
        for path in sorted(place.rglob("*.py")) if place.is_dir() else [place]:
            if SCENARIOS in path.parents:
                continue
            wrong += [f"{path.relative_to(ROOT.parent)} imports scenarios.{name}"
                      for name in sorted(_named_scenarios(ast.parse(path.read_text())))]
    return wrong


def test_no_module_outside_scenarios_imports_a_scenario_by_name() -> None:
    """The engine asks the registry for a capability (`scenarios.one`, `starting_on`, `offering`...)."""
    assert {"recall", "waitlist", "win_back"} <= SCENARIO_MODULES
    assert scenario_imports() == []


def test_the_scenario_rule_sees_every_form_of_import() -> None:
    for source in ("from chalicelib.scenarios.recall import DUE", "import chalicelib.scenarios.waitlist",
                   "from chalicelib.scenarios import birthday",
                   "def f():\n    from chalicelib.scenarios import win_back"):
        assert _named_scenarios(ast.parse(source)), source
    for source in ("from chalicelib import scenarios", "from chalicelib.scenarios import SCENARIOS, one",
                   "from chalicelib.scenarios.base import Occasion"):
        assert _named_scenarios(ast.parse(source)) == set(), source


# ---- stored records keep their own models ----------------------------------------------------------------

CONTRACT = "chalicelib.edge.contract"


def _modules_imported(path: Path) -> set[str]:
    """The chalicelib modules a file imports (a `from package import name` counts when `name` is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("chalicelib.") and _source(name) is not None}


def _source(module: str) -> Path | None:
    base = ROOT.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reaches(start: str) -> set[str]:
    """Every chalicelib module `start` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        path = _source(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        todo += sorted(_modules_imported(path) - seen)
    return seen - {start}


def test_stored_records_do_not_reach_the_http_contract() -> None:
    """A change to the public contract's models changes no stored schema (records use domain/details.py).

    The layers say it too (the contract is the edge's); this names the reason."""
    assert CONTRACT not in reaches("chalicelib.domain.records")
    assert "chalicelib.domain.details" in reaches("chalicelib.domain.records")


def test_the_reach_rule_follows_imports_through_other_modules() -> None:
    assert CONTRACT in reaches("chalicelib.engine.appliers.leads")  # through the appliers' package
    assert "chalicelib.domain.phones" in reaches("chalicelib.engine.appliers.leads")  # through the contract
