"""The package is laid out as the pipeline it is: every import, including function-local and
``TYPE_CHECKING`` ones, points down the stages (docs/architecture.md), and each library is
imported by the one stage that owns it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "auditor"

# Lower number, lower stage. Stages of one rank do not import each other.
RANKS = {
    "output": 0,
    "reading": 1,
    "github": 2, "gitlab": 2,
    "upload": 3,
    "repository": 4,
    "facts": 5,
    "publishers": 6,
    "checks": 7,
    "engine": 8,
    "formats": 9, "explainlog": 9, "history": 9, "fix": 9, "online": 9,
    "cli": 10, "docs": 10, "__main__": 11,
}

# Third-party libraries and the modules allowed to import them.
OWNERS = {
    # pyyaml imports it (sparing a pattern compile); yamlsource is the only one to use it
    "yaml": {"auditor.reading.yamlsource", "auditor.reading.pyyaml"},
    "typer": {"auditor.cli"},
    "httpx": {"auditor.online"},
    "ruamel": {"auditor.fix"},
    "jsonschema": set(),  # tests only
    # repository TOML goes through tomlsource's limits; the other two read shipped data
    "tomllib": {"auditor.reading.tomlsource", "auditor.reading.catalogue",
                "auditor.github.releases"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports, anywhere in the file, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            out += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names
                    if f"{node.module}.{alias.name}" in MODULES]
    return out


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "auditor" else None


def test_every_module_belongs_to_a_stage() -> None:
    for module in MODULES:
        stage = _stage(module)
        assert stage is None or stage in RANKS, f"{module}: add its stage to RANKS and docs"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    own = _stage(module)
    if own is None:
        return  # auditor/__init__.py
    for target, line in _imports(MODULES[module]):
        stage = _stage(target)
        if stage is None or stage == own:
            continue
        assert RANKS[stage] < RANKS[own], (
            f"{module}:{line} imports {target}: {stage} is not below {own}")


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_is_imported_by_its_owner_only(library: str) -> None:
    for module, path in MODULES.items():
        for target, line in _imports(path):
            if target == library or target.startswith(library + "."):
                assert any(module == owner or module.startswith(owner + ".")
                           for owner in OWNERS[library]), f"{module}:{line} imports {library}"


def test_pyyaml_is_reached_only_through_yamlsource() -> None:
    for module, path in MODULES.items():
        for target, line in _imports(path):
            if target.startswith("auditor.reading.pyyaml"):
                assert module == "auditor.reading.yamlsource", f"{module}:{line} imports {target}"


def test_no_import_cycles_within_a_stage() -> None:
    graph = {m: {t for t, _ in _imports(p) if t in MODULES and t != m and
                 _stage(t) == _stage(m)} for m, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
