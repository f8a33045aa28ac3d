"""The package's floors: each subpackage imports only from the floors below it (lazy imports inside
functions included), so that loading retention or doctor never loads the pipeline, and the pipeline
never reaches up into the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "baseimages"

# Lowest first. Subpackages on one floor do not import each other.
FLOORS: list[set[str]] = [
    {"core"},
    {"settings"},
    {"catalog"},
    {"engine", "oci"},
    {"registry"},
    {"checks", "trust", "changelog"},
    {"updates"},
    {"outputs"},
    {"pipeline"},
    {"prune", "doctor", "audit", "dependents"},
    {"cli"},
]
FLOOR = {name: level for level, names in enumerate(FLOORS) for name in names}


def _subpackage_of(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _imported_subpackages(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, subpackage) for every import of another part of the package, relative or absolute."""
    here = list(path.relative_to(package).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [alias.name for alias in node.names] if not node.module and not base else []
            elif node.module and node.module.split(".")[0] == "baseimages":
                target, names = node.module.split(".")[1:], []
            else:
                continue
            for top in [target[0]] if target else names:
                found.append((node.lineno, top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "baseimages" and len(parts) > 1:
                    found.append((node.lineno, parts[1]))
    return found


def test_every_subpackage_has_a_floor():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert subpackages == set(FLOOR)


def test_imports_flow_only_downward():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _subpackage_of(path)
        if own is None:  # baseimages/__init__.py and __main__.py sit on top of everything
            continue
        for line, other in _imported_subpackages(path):
            if other in FLOOR and other != own and FLOOR[other] >= FLOOR[own]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({own}) imports {other}")
    assert not upward, "imports that do not flow downward:\n" + "\n".join(upward)


def test_the_walker_resolves_relative_and_absolute_imports_to_their_subpackage(tmp_path):
    """`..pipeline.factory` from core/ is the pipeline (so the test above can fail), `.` is core itself."""
    fake = tmp_path / "baseimages"
    (fake / "core").mkdir(parents=True)
    source = "from ..pipeline.factory import Factory\nfrom . import errors\nimport baseimages.cli.main\n"
    (fake / "core" / "x.py").write_text(source)
    assert _imported_subpackages(fake / "core" / "x.py", fake) == [(1, "pipeline"), (2, "core"), (3, "cli")]
