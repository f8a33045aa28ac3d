"""What killed runs left, found and removed: containers (through a fake engine) and temporary folders (in
tmp_path), only those of dead runs; pid liveness is injected."""

from __future__ import annotations

import os
from pathlib import Path

from baseimages.core.errors import EngineError
from baseimages.core.runs import MARKER, RUN_LABEL, RunId, this_host, this_run
from baseimages.engine.leftovers import clean_containers, clean_folders, dead_containers, dead_folders, human_size

HOST = this_host()
DEAD = RunId(4001, HOST, 1000)
LIVE = RunId(4002, HOST, 2000)
REUSED = RunId(4003, HOST, 3000)  # its pid now belongs to a process started later
ELSEWHERE = RunId(4001, "other-host", 1000)


def started_of(pid: int) -> int | None:
    """4002 runs, 4003 was reused by a later process, this process runs; no other pid exists."""
    return {4002: 2000, 4003: 9000, os.getpid(): this_run().started}.get(pid)


class FakeContainers:
    def __init__(self, containers: dict[str, str], broken: set[str] | None = None) -> None:
        self.containers = containers
        self.broken = broken or set()
        self.asked: list[str] = []

    def labelled_containers(self, label: str) -> list[tuple[str, str]]:
        self.asked.append(label)
        return list(self.containers.items())

    def remove_container(self, name: str) -> None:
        if name in self.broken:
            raise EngineError(f"removing the container {name} failed: device busy")
        del self.containers[name]


def _store() -> FakeContainers:
    return FakeContainers(
        {
            "baseimages-run-dead": DEAD.label,
            "baseimages-run-live": LIVE.label,
            "baseimages-run-reused": REUSED.label,
            "baseimages-run-elsewhere": ELSEWHERE.label,
            "not-ours": "garbage",
        }
    )


def test_containers_of_dead_runs_are_removed_and_those_of_live_runs_and_other_hosts_stay():
    store = _store()
    warnings = clean_containers(store, started_of)
    assert store.asked == [RUN_LABEL]
    assert sorted(store.containers) == ["baseimages-run-elsewhere", "baseimages-run-live", "not-ours"]
    assert len(warnings) == 2 and all(w.startswith("removed container baseimages-run-") for w in warnings)
    assert f"pid {DEAD.pid} on {HOST}" in warnings[0]


def test_a_container_that_cannot_be_removed_is_said_and_the_others_still_go():
    store = _store()
    store.broken = {"baseimages-run-dead"}
    warnings = clean_containers(store, started_of)
    assert warnings[0].startswith("could not remove container baseimages-run-dead") and "device busy" in warnings[0]
    assert "baseimages-run-reused" not in store.containers


def test_an_engine_that_cannot_list_containers_is_left_alone():
    assert clean_containers(object(), started_of) == []


def test_dead_containers_only_reads():
    store = _store()
    found = dead_containers(store, started_of)
    assert [(item.name, item.owner) for item in found] == [
        ("baseimages-run-dead", DEAD),
        ("baseimages-run-reused", REUSED),
    ]
    assert len(store.containers) == 5


def _folder(tmp: Path, kind: str, owner: RunId | None, pid: int, size: int = 0) -> Path:
    folder = tmp / f"baseimages-{kind}-{pid}-x1y2"
    folder.mkdir()
    if owner is not None:
        (folder / MARKER).write_text(owner.label + "\n")
    (folder / "archive.oci.tar").write_bytes(b"\0" * size)
    return folder


def test_folders_of_dead_runs_are_removed_with_their_size_and_live_ones_stay(tmp_path):
    dead = _folder(tmp_path, "run", DEAD, DEAD.pid, size=3_000_000)
    unmarked = _folder(tmp_path, "export", None, 4999)  # killed before its marker was written; pid gone
    live = _folder(tmp_path, "run", LIVE, LIVE.pid)
    reused = _folder(tmp_path, "contract", REUSED, REUSED.pid)
    mine = _folder(tmp_path, "build", this_run(), os.getpid())
    other = tmp_path / "baseimages-run-abcdef12"  # no pid in its name: not a run's folder we can judge
    other.mkdir()
    found = dead_folders(tmp_path, started_of)
    assert [Path(item.name) for item in found] == [reused, unmarked, dead]
    assert found[2].size == 3_000_000 + len(DEAD.label) + 1 and "(3.0 MB)" in found[2].describe()
    warnings = clean_folders(tmp_path, started_of)
    assert len(warnings) == 3 and all(w.startswith("removed folder ") for w in warnings)
    assert not dead.exists() and not unmarked.exists() and not reused.exists()
    assert live.exists() and mine.exists() and other.exists()


def test_sizes_read_as_people_read_them():
    assert [human_size(n) for n in (80, 12_500, 41_000_000, 3_200_000_000)] == ["80 B", "12.5 kB", "41.0 MB", "3.2 GB"]
