"""The dependency graph of the catalog: build waves, --only closures, cycle detection.

It works on a plain mapping of image names to their catalog parent (None for an external base), so
that it needs nothing of the catalog but that graph."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..core.errors import ConfigError

Parents = Mapping[str, "str | None"]


def build_order(parents: Parents, where: Callable[[str], str] = str) -> list[list[str]]:
    """Waves of image names: every image comes in a later wave than its parent; siblings share a wave.

    Raises ConfigError naming the `parent` field of an image (in the file WHERE says) on a cycle.
    """
    depth: dict[str, int] = {}
    for name in sorted(parents):
        _depth(parents, name, depth, [], where)
    waves: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in sorted(depth):
        waves[depth[name]].append(name)
    return waves


def _depth(parents: Parents, name: str, depth: dict[str, int], stack: list[str], where: Callable[[str], str]) -> int:
    if name in depth:
        return depth[name]
    if name in stack:
        cycle = stack[stack.index(name) :] + [name]
        raise ConfigError(where(name), "parent", f"dependency cycle: {' -> '.join(cycle)}")
    parent = parents[name]
    value = 0 if parent is None else _depth(parents, parent, depth, stack + [name], where) + 1
    depth[name] = value
    return value


def with_parents(parents: Parents, names: Iterable[str], source: str = "--only") -> set[str]:
    """NAMES plus every catalog ancestor they need. Unknown names raise ConfigError."""
    selected: set[str] = set()
    for name in names:
        if name not in parents:
            raise ConfigError(source, name, f"unknown image (known: {', '.join(sorted(parents))})")
        current: str | None = name
        while current is not None and current not in selected:
            selected.add(current)
            current = parents[current]
    return selected
