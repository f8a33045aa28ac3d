"""Which files of a service repository are read, and the references to the family found in them.

Below a folder: every Dockerfile (`Dockerfile`, `*.Dockerfile`, `Dockerfile.*`), bake file
(`docker-bake*.hcl`, `docker-bake*.json`) and compose file (`compose.y[a]ml`, `docker-compose.y[a]ml`,
and their `*.override.*` variants); hidden folders (`.git`...) and `node_modules` are passed over. A file
named on the command line is read whatever its name, as the kind its name says (a Dockerfile otherwise).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..catalog.tags import parse_immutable
from ..core.errors import ConfigError
from ..core.reference import parse_reference
from .bake import scan_bake
from .compose import scan_compose
from .dockerfile import scan_dockerfile
from .model import Family, PinKind, Use, pin_kind

_BAKE = re.compile(r"^docker-bake(?:\.[\w-]+)*\.(?:hcl|json)$")
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:\.[\w-]+)*\.ya?ml$")
_SKIPPED = {"node_modules"}


@dataclass(frozen=True)
class FamilyUse:
    """A use that names a family image: which one, and how it is pinned."""

    use: Use
    image: str
    kind: PinKind


def kind_of(name: str) -> str | None:
    """`bake`, `compose` or `dockerfile` by a file's name; None for any other file."""
    if _BAKE.match(name):
        return "bake"
    if _COMPOSE.match(name):
        return "compose"
    if name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile."):
        return "dockerfile"
    return None


def files_below(paths: Iterable[Path]) -> list[Path]:
    """The files to read: each PATH that is a file, and the known files below each folder (sorted).
    A PATH that does not exist is a ConfigError naming it."""
    out: list[Path] = []
    for path in paths:
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(sorted(_walk(path)))
        else:
            raise ConfigError(str(path), "PATH", "no such file or folder")
    return list(dict.fromkeys(out))


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        for name in names:
            if kind_of(name) is not None:
                yield Path(root) / name


def scan_file(path: Path) -> list[Use]:
    """Every image reference of one file, by its kind."""
    kind = kind_of(path.name)
    if kind == "bake":
        return scan_bake(path)
    if kind == "compose":
        return scan_compose(path)
    return scan_dockerfile(path)


def family_uses(files: Iterable[Path], family: Family) -> list[FamilyUse]:
    """The uses of FILES that name a family image, each place once (a Dockerfile read on its own and
    through a bake target reports its FROM once), in file and line order."""
    found: dict[tuple[str, int, str], FamilyUse] = {}
    for path in files:
        for use in scan_file(path):
            try:
                ref = parse_reference(use.reference)
            except ValueError:
                continue
            image = family.image(ref)
            if image is not None and use.key not in found:
                found[use.key] = FamilyUse(use, image, pin_kind(ref, lambda tag: parse_immutable(tag) is not None))
    return sorted(found.values(), key=lambda f: (str(f.use.file), f.use.line))
