"""The module_utils packages keep their boundaries (docs/architecture.md, "Where code lives").

* No import cycle between packages, and every import between packages is one the picture in
  docs/architecture.md allows (ALLOWED below).
* No private name (``_x``) and no private module is imported across packages: not by
  another package, not by the modules or the filters. Inside a package, anything goes.
  ``_`` itself is gettext's public "translate this" function (i18n), not a private name.

Imports are read from the source (ast), including those inside functions and
``if TYPE_CHECKING`` blocks, relative (``from ..description.model import X``) and absolute
(``ansible_collections.webcert_siths.onboarding.plugins.module_utils.description...``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ansible_collections.webcert_siths.onboarding.plugins.module_utils."

# package -> packages it may import (keep in step with docs/architecture.md).
ALLOWED = {
    "i18n": set(),
    "description": {"i18n"},
    "reports": {"description", "i18n"},
    "directory": {"description", "reports", "i18n"},
    "siths": {"description", "directory", "reports", "i18n"},
    "workstation": {"description", "siths", "reports", "i18n"},
}


@dataclass(frozen=True)
class Use:
    file: str          # path relative to the root
    line: int
    source: str        # package of the importing file ("" for modules and filters)
    target: str        # imported package
    module: str        # dotted module inside module_utils, e.g. "description.model"
    names: tuple[str, ...]


def packages(root: Path) -> list[str]:
    utils = root / "plugins" / "module_utils"
    return sorted(p.name for p in utils.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def uses(root: Path) -> list[Use]:
    """Every import of a module_utils package, from module_utils, modules and filters."""
    utils = root / "plugins" / "module_utils"
    files = sorted(utils.rglob("*.py")) + sorted((root / "plugins" / "modules").glob("*.py")) \
        + sorted((root / "plugins" / "filter").glob("*.py"))
    found = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        inside = path.is_relative_to(utils)
        here = path.relative_to(utils).parts[:-1] if inside else ()
        source = here[0] if here else ""
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            targets: list[tuple[str, tuple[str, ...]]] = []
            if isinstance(node, ast.ImportFrom):
                names = tuple(a.name for a in node.names)
                if node.level:
                    if not inside:
                        continue
                    if node.level > len(here) + 1:
                        continue  # above module_utils: not ours
                    base = list(here[:len(here) - (node.level - 1)])
                    dotted = ".".join(base + ([node.module] if node.module else []))
                    if not node.module:  # "from .. import description" names modules
                        targets += [(f"{dotted}.{n}".strip("."), ()) for n in names]
                        continue
                    targets.append((dotted, names))
                elif node.module and node.module.startswith(PREFIX):
                    targets.append((node.module[len(PREFIX):], names))
            elif isinstance(node, ast.Import):
                targets += [(a.name[len(PREFIX):], ()) for a in node.names
                            if a.name.startswith(PREFIX)]
            for dotted, names in targets:
                target = dotted.split(".")[0]
                found.append(Use(rel, node.lineno, source, target, dotted, names))
    return found


def cross_package(all_uses: list[Use]) -> list[Use]:
    return [u for u in all_uses if u.source != u.target]


def edges(all_uses: list[Use]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for use in cross_package(all_uses):
        if use.source:
            graph.setdefault(use.source, set()).add(use.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every package cycle (as a path that returns to its start), found by depth-first search."""
    found, seen = [], set()

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycle = [*path[path.index(nxt):], nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle)
            else:
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def private_uses(all_uses: list[Use]) -> list[str]:
    problems = []
    for use in cross_package(all_uses):
        private_module = [part for part in use.module.split(".")[1:]
                          if part.startswith("_") and part != "__init__"]
        # "_" itself is gettext's public "translate this" (i18n), not a private name.
        private_names = [n for n in use.names if n.startswith("_") and n != "_"]
        if private_module or private_names:
            what = ", ".join(private_names) or use.module
            problems.append(f"{use.file}:{use.line}: imports private {what} from {use.module}")
    return problems


def disallowed(all_uses: list[Use]) -> list[str]:
    return [f"{u.file}:{u.line}: {u.source} imports {u.module} ({u.source} may import only "
            f"{', '.join(sorted(ALLOWED.get(u.source, ()))) or 'nothing of ours'})"
            for u in cross_package(all_uses)
            if u.source and u.target not in ALLOWED.get(u.source, set())]


# --------------------------------------------------------------------------- this repository


def test_every_package_is_in_the_picture():
    assert packages(ROOT) == sorted(ALLOWED), \
        "a package was added or removed: update ALLOWED and docs/architecture.md"


def test_no_import_cycle_between_packages():
    assert cycles(edges(uses(ROOT))) == []


def test_every_import_between_packages_is_allowed():
    assert disallowed(uses(ROOT)) == []


def test_no_private_name_is_imported_across_packages():
    assert private_uses(uses(ROOT)) == []


def test_the_architecture_page_names_every_package():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in ALLOWED:
        assert f"plugins/module_utils/{package}/" in text, package


# --------------------------------------------------------------------------- the checks bite


@pytest.fixture
def fake(tmp_path):
    utils = tmp_path / "plugins" / "module_utils"
    for package in ("description", "directory", "reports"):
        (utils / package).mkdir(parents=True)
        (utils / package / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "plugins" / "modules").mkdir()
    (tmp_path / "plugins" / "filter").mkdir()
    (utils / "description" / "model.py").write_text("def _hidden():\n    pass\n", "utf-8")
    (utils / "directory" / "plan.py").write_text(
        "from ..description.model import load\n", encoding="utf-8")
    return tmp_path


def test_a_cycle_is_found(fake):
    (fake / "plugins/module_utils/description/rules.py").write_text(
        "def f():\n    from ..directory import plan\n    return plan\n", encoding="utf-8")
    assert cycles(edges(uses(fake))) == [["description", "directory", "description"]]


def test_a_disallowed_edge_is_found(fake):
    (fake / "plugins/module_utils/reports/drift.py").write_text(
        "from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan"
        " import make_plan\n", encoding="utf-8")
    (problem,) = disallowed(uses(fake))
    assert problem.startswith("plugins/module_utils/reports/drift.py:1: reports imports "
                              "directory.plan")


def test_private_imports_across_packages_are_found(fake):
    (fake / "plugins/module_utils/reports/a.py").write_text(
        "from ..description.model import _hidden\n", encoding="utf-8")
    (fake / "plugins/modules/m.py").write_text(
        "from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory"
        "._private import x\n", encoding="utf-8")
    (fake / "plugins/module_utils/description/ok.py").write_text(
        "from .model import _hidden\n", encoding="utf-8")  # inside the package: fine
    assert private_uses(uses(fake)) == [
        "plugins/module_utils/reports/a.py:1: imports private _hidden from description.model",
        "plugins/modules/m.py:1: imports private directory._private from directory._private",
    ]
