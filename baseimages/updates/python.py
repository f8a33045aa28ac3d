"""The Python side of `updates`: each distribution of an image's Python environments against the newest final
release on the package index, unless a requirements file of the image pins it.

Debian's own Python modules (`/usr/lib/python3/dist-packages`, the environment `/usr`) are Debian packages:
the Debian side covers them. An environment with two METADATA of one name (a broken install) is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from packaging.version import InvalidVersion, Version

from .model import PinnedDistribution, PythonUpdate

DEBIAN_ENVIRONMENT = "/usr"


def python_updates(
    installed: Mapping[tuple[str, str], str], pinned: frozenset[str], latest: Callable[[str], str | None]
) -> tuple[tuple[PythonUpdate, ...], tuple[PinnedDistribution, ...]]:
    """The updates of INSTALLED ((environment, normalised name) -> version) whose name PINNED does not hold, and
    the pinned ones apart; LATEST(name) is the newest release on the index (None: not on it)."""
    updates: list[PythonUpdate] = []
    pins: list[PinnedDistribution] = []
    for (environment, name), version in sorted(installed.items()):
        if environment == DEBIAN_ENVIRONMENT or "," in version:
            continue
        newest = latest(name)
        if name in pinned:
            pins.append(PinnedDistribution(environment, name, version, newest))
        elif newest is not None and _newer(newest, version):
            updates.append(PythonUpdate(environment, name, version, newest))
    return tuple(updates), tuple(pins)


def _newer(candidate: str, installed: str) -> bool:
    try:
        return Version(candidate) > Version(installed)
    except InvalidVersion:
        return False
