"""What killed runs left on this machine, found and removed: the containers a run created (labelled with
its identity, `io.baseimages.run`) and its temporary folders (`baseimages-<kind>-<pid>-*` in the temp dir:
the run's work folder holds multi-GB OCI archives).

A run that ends, however it ends short of SIGKILL, removes its own. What a killed one left belongs to a
run that is dead (`baseimages.core.runs.is_dead`): its pid is gone on this host. Only those are removed,
never what a live run owns, nor anything of another host (an engine several machines share).
The factory removes them at the start of a run, under the run lock; `doctor` reports them.

Not here: local candidate tags in the engine's image store, which `prune --local` removes, and blobs a
killed upload left in the registry, which no manifest references and the registry's garbage collection
sweeps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..core.errors import EngineError
from ..core.runs import RUN_LABEL, TEMP_PREFIX, RunId, StartedOf, folder_owner, is_dead, process_started

CONTAINER = "container"
FOLDER = "folder"


class ContainerLister(Protocol):
    """The engine's containers as `doctor` looks for leftovers (`DockerProbe` is one)."""

    def labelled_containers(self, label: str) -> list[tuple[str, str]]:
        """(name, value of LABEL) of every container, running or not, that carries LABEL."""
        ...


@runtime_checkable
class ContainerStore(ContainerLister, Protocol):
    """The engine's containers as the clean-up needs them (`DockerEngine` is one)."""

    def remove_container(self, name: str) -> None: ...


@dataclass(frozen=True)
class Leftover:
    """One thing a dead run left: a CONTAINER (NAME) or a FOLDER (its path, SIZE bytes), and its OWNER."""

    kind: str
    name: str
    owner: RunId
    size: int = 0

    def describe(self) -> str:
        what = f"container {self.name}" if self.kind == CONTAINER else f"folder {self.name} ({human_size(self.size)})"
        return f"{what} left by a killed run ({self.owner.describe()})"


def dead_containers(store: ContainerLister, started_of: StartedOf = process_started) -> list[Leftover]:
    """The containers of STORE whose run is dead (STARTED_OF: a pid's start time, injectable)."""
    found = []
    for name, label in store.labelled_containers(RUN_LABEL):
        owner = RunId.parse(label)
        if owner is not None and is_dead(owner, started_of):
            found.append(Leftover(CONTAINER, name, owner))
    return sorted(found, key=lambda item: item.name)


def dead_folders(tmp: Path | None = None, started_of: StartedOf = process_started) -> list[Leftover]:
    """The temporary folders in TMP (default: the temp dir) whose run is dead, with their size."""
    root = Path(tmp or tempfile.gettempdir())
    found = []
    for path in sorted(root.glob(f"{TEMP_PREFIX}*")):
        owner = folder_owner(path)
        if owner is not None and is_dead(owner, started_of):
            found.append(Leftover(FOLDER, str(path), owner, _size(path)))
    return found


def clean_containers(engine: object, started_of: StartedOf = process_started) -> list[str]:
    """Remove ENGINE's containers of dead runs (nothing when ENGINE cannot list containers): what was
    removed and what could not be, a line each (the report's warnings)."""
    if not isinstance(engine, ContainerStore):
        return []
    try:
        found = dead_containers(engine, started_of)
    except EngineError as exc:
        return [f"could not look for containers killed runs left: {exc}"]
    return list(_removed(found, engine))


def clean_folders(tmp: Path | None = None, started_of: StartedOf = process_started) -> list[str]:
    """Remove the temporary folders of dead runs in TMP: a line for each, as `clean_containers`."""
    return list(_removed(dead_folders(tmp, started_of), None))


def _removed(found: list[Leftover], store: ContainerStore | None) -> Iterator[str]:
    for item in found:
        try:
            if store is not None:
                store.remove_container(item.name)
            else:
                shutil.rmtree(item.name)
        except (EngineError, OSError) as exc:
            yield f"could not remove {item.describe()}: {exc}"
        else:
            yield f"removed {item.describe()}"


def _size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def human_size(size: int) -> str:
    """SIZE bytes as people read it: 3.2 GB, 41.0 MB, 12.5 kB, 80 B."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


__all__ = [
    "ContainerLister",
    "ContainerStore",
    "Leftover",
    "clean_containers",
    "clean_folders",
    "dead_containers",
    "dead_folders",
    "human_size",
]
