"""A run removes what killed runs left, under its lock: their temporary folders at its start, their
containers at its first use of the engine (a run that needs no engine starts none for this); each removal
is a warning of the report. What a live run owns stays. Fake engine, in-memory registry."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile

import pytest
from fakes import FakeEngine, MemoryRegistry

import baseimages
from baseimages.core.runs import MARKER, RunId, this_host, this_run

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def _dead_run() -> RunId:
    child = subprocess.Popen(["true"])
    child.wait()
    return RunId(child.pid, this_host(), this_run().started)


class ContainerEngine(FakeEngine):
    """A FakeEngine that also holds containers (name -> run label), as DockerEngine lists and removes them."""

    def __init__(self, containers: dict[str, str]) -> None:
        super().__init__()
        self.containers = containers

    def labelled_containers(self, label: str) -> list[tuple[str, str]]:
        return list(self.containers.items())

    def remove_container(self, name: str) -> None:
        del self.containers[name]


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _run(catalog_writer, tmp_path, engine, push=False):
    catalog_writer.add("uv")
    settings = baseimages.Settings(root=catalog_writer.root, registry="registry.test:5000", lock_dir=tmp_path / "locks")
    catalog = catalog_writer.load()
    factory = baseimages.Factory(settings, catalog, engine=engine, registry=MemoryRegistry())
    return factory.run(baseimages.make_plan(catalog, settings, now=NOW), baseimages.RunOptions(push=push))


def test_a_run_removes_the_folders_and_containers_of_killed_runs_and_keeps_a_live_runs(
    catalog_writer, tmp_path, temp_dir
):
    dead = _dead_run()
    work = temp_dir / f"baseimages-run-{dead.pid}-abc"
    work.mkdir()
    (work / MARKER).write_text(dead.label)
    (work / "uv.oci.tar").write_bytes(b"\0" * 1000)
    live = temp_dir / f"baseimages-run-{this_run().pid}-other"  # this process: alive
    live.mkdir()
    engine = ContainerEngine({"baseimages-run-killed": dead.label, "baseimages-run-alive": this_run().label})
    report = _run(catalog_writer, tmp_path, engine)
    assert report.exit_code == 0, [i.error for i in report.images]
    assert not work.exists() and live.exists()
    assert list(engine.containers) == ["baseimages-run-alive"]
    removed = [w for w in report.warnings if w.startswith("removed ")]
    assert len(removed) == 2
    assert any(w.startswith(f"removed folder {work} (1.0 kB") and f"pid {dead.pid}" in w for w in removed)
    assert any(w.startswith("removed container baseimages-run-killed") for w in removed)
    # Its own work folder, named after it, is gone at its end.
    assert [p.name for p in temp_dir.iterdir()] == [live.name]


def test_a_run_that_never_uses_the_engine_does_not_ask_it_for_containers(catalog_writer, tmp_path, temp_dir):
    class NoEngine:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"asked the engine for {name}")

    registry = MemoryRegistry()
    catalog_writer.add("uv")
    settings = baseimages.Settings(root=catalog_writer.root, registry="registry.test:5000", lock_dir=tmp_path / "l")
    catalog = catalog_writer.load()
    plan = baseimages.make_plan(catalog, settings, now=NOW)
    first = baseimages.Factory(settings, catalog, engine=FakeEngine(), registry=registry)
    assert first.run(plan, baseimages.RunOptions(push=True)).exit_code == 0
    second = baseimages.Factory(settings, catalog, engine=NoEngine(), registry=registry)  # type: ignore[arg-type]
    report = second.run(plan, baseimages.RunOptions(push=True))
    assert report.exit_code == 0 and report.warnings == []
