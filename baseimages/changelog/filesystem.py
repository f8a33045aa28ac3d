"""The final filesystem of an image, as far as a changelog looks at it: its layers' facts applied in
order, whiteouts and opaque directories honoured, and what it has installed.

A file of layer i shows in the image unless a layer above i removes it (a whiteout of the file or of a
folder it is in), hides it (an opaque marker on a folder it is in; an entry that is not a directory at
the file's path or at a folder's path above it) or replaces it (its own file at the same path). The
facts of a layer shared by two images are the same in both; what they add up to is not (a whiteout in a
layer only one image has may remove a file of the shared base), so the merge is per image.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from .contents import DPKG_STATUS, Distribution, Package
from .layers import Fact, LayerFacts

T = TypeVar("T")


def final_files(layers: Sequence[LayerFacts]) -> dict[str, Fact]:
    """Path -> fact of every status and METADATA file the image (LAYERS, lowest first) has at the end."""
    return _merged(layers, lambda layer: layer.files)


def final_sources(layers: Sequence[LayerFacts]) -> dict[str, str]:
    """Path -> text of every apt sources file the image (LAYERS, lowest first) has at the end."""
    return _merged(layers, lambda layer: layer.sources)


def final_tree(layers: Sequence[LayerFacts]) -> dict[str, str]:
    """Path -> signature of every entry the image (LAYERS, lowest first) has at the end, directories
    included (a directory does not hide the lower content under it, but its own mode and owner count)."""
    return _merged(layers, lambda layer: layer.tree)


def _merged(layers: Sequence[LayerFacts], part: Callable[[LayerFacts], Mapping[str, T]]) -> dict[str, T]:
    """PART of each layer applied in order: the top layer's entry of a path wins, a lower one shows when
    nothing above hides it."""
    final: dict[str, T] = {}
    removed: set[str] = set()  # whiteouts above: the path and everything under it
    covered: set[str] = set()  # opaque folders above: everything under them
    replaced: set[str] = set()  # non-directory entries above: the path and everything under it
    for layer in reversed(layers):
        for path, value in part(layer).items():
            if path not in final and not _hidden(path, removed, covered, replaced):
                final[path] = value
        removed |= layer.whiteouts
        covered |= layer.opaque
        replaced |= layer.entries
    return final


def _hidden(path: str, removed: set[str], covered: set[str], replaced: set[str]) -> bool:
    if path in removed or path in replaced:
        return True
    parts = path.split("/")
    for end in range(1, len(parts)):
        folder = "/".join(parts[:end])
        if folder in removed or folder in covered or folder in replaced:
            return True
    return "" in covered  # an opaque root


def packages(files: dict[str, Fact]) -> dict[str, str]:
    """Debian package (name or name:arch) -> version: the status file's, then status.d's (distroless)."""
    found: dict[str, str] = {}
    for path in sorted(files, key=lambda p: (p != DPKG_STATUS, p)):
        fact = files[path]
        if isinstance(fact, tuple):
            found.update({package.name: package.version for package in fact if isinstance(package, Package)})
    return found


def distributions(files: dict[str, Fact]) -> dict[tuple[str, str], str]:
    """(environment, normalised name) -> version of every Python distribution in a site-packages folder; an
    environment with two METADATA of one name (a broken install) lists both versions."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(files):
        fact = files[path]
        if isinstance(fact, Distribution):
            key = (fact.environment, fact.name)
            found[key] = f"{found[key]}, {fact.version}" if key in found else fact.version
    return found
