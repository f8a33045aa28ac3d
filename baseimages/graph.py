"""The dependency graph of the catalog: build waves, --only closures, cycle detection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from .catalog import Catalog


def catalog_parent(catalog: Catalog, name: str) -> str | None:
    spec = catalog[name]
    return None if spec.parent_is_external else spec.parent


def build_order(catalog: Catalog) -> list[list[str]]:
    """Waves of image names: every image comes in a later wave than its parent; siblings share a wave.

    Raises ConfigError naming the `parent` field of an image on a cycle.
    """
    depth: dict[str, int] = {}
    for name in sorted(catalog.images):
        _depth(catalog, name, depth, [])
    waves: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in sorted(depth):
        waves[depth[name]].append(name)
    return waves


def _depth(catalog: Catalog, name: str, depth: dict[str, int], stack: list[str]) -> int:
    if name in depth:
        return depth[name]
    if name in stack:
        cycle = stack[stack.index(name) :] + [name]
        raise ConfigError(str(catalog[name].spec_file), "parent", f"dependency cycle: {' -> '.join(cycle)}")
    parent = catalog_parent(catalog, name)
    value = 0 if parent is None else _depth(catalog, parent, depth, stack + [name]) + 1
    depth[name] = value
    return value


def with_parents(catalog: Catalog, names: Iterable[str], source: str = "--only") -> set[str]:
    """NAMES plus every catalog ancestor they need. Unknown names raise ConfigError."""
    selected: set[str] = set()
    for name in names:
        if name not in catalog.images:
            raise ConfigError(source, name, f"unknown image (known: {', '.join(catalog.names())})")
        current: str | None = name
        while current is not None and current not in selected:
            selected.add(current)
            current = catalog_parent(catalog, current)
    return selected
