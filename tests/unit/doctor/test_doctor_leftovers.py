"""doctor's leftovers check: containers and temporary folders of killed runs are a warning each, with their
size and the fix; a clean machine is ok; an engine that is down is not asked for containers."""

from __future__ import annotations

from fake_probe import FakeProbe, doctor_context

from baseimages.core.runs import MARKER, RUN_LABEL, RunId, this_host
from baseimages.doctor.checkup import Verdict
from baseimages.doctor.engine import check_engine
from baseimages.doctor.leftovers import check_leftovers

DEAD = RunId(4001, this_host(), 1000)
LIVE = RunId(4002, this_host(), 2000)


def _context(catalog_writer, tmp_path, probe):
    catalog_writer.add("uv")
    ctx = doctor_context(catalog_writer.load(), probe)
    ctx.temp_dir = tmp_path
    ctx.started_of = lambda pid: 2000 if pid == LIVE.pid else None
    check_engine(ctx)  # as doctor runs it first: the leftovers check needs dockerd's answer
    return ctx


def test_a_clean_machine_has_no_leftovers(catalog_writer, tmp_path):
    findings = check_leftovers(_context(catalog_writer, tmp_path, FakeProbe()))
    assert [(f.subject, f.verdict) for f in findings] == [("containers", Verdict.OK), ("folders", Verdict.OK)]


def test_containers_and_folders_of_killed_runs_are_warnings_with_their_size_and_the_fix(catalog_writer, tmp_path):
    probe = FakeProbe(containers=[("baseimages-run-aaa", DEAD.label), ("baseimages-run-bbb", LIVE.label)])
    folder = tmp_path / f"baseimages-run-{DEAD.pid}-q1"
    folder.mkdir()
    (folder / MARKER).write_text(DEAD.label)
    (folder / "uv.oci.tar").write_bytes(b"\0" * 2_500_000)
    containers, folders = check_leftovers(_context(catalog_writer, tmp_path, probe))
    assert f"containers {RUN_LABEL}" in probe.asked
    assert containers.verdict is Verdict.WARN and containers.summary == "1 container(s) of killed runs"
    assert containers.details == (f"container baseimages-run-aaa left by a killed run ({DEAD.describe()})",)
    assert "the next `push` or `build` removes them" in containers.fix
    assert "docker container rm --force --volumes baseimages-run-aaa" in containers.fix
    assert folders.verdict is Verdict.WARN and "hold 2.5 MB" in folders.summary
    assert str(folder) in folders.details[0] and folders.fix.endswith(f"rm -rf {folder}")
    assert folder.exists()  # doctor changes nothing


def test_an_engine_that_is_down_is_not_asked_for_containers_and_folders_are_still_checked(catalog_writer, tmp_path):
    probe = FakeProbe(down=True)
    findings = check_leftovers(_context(catalog_writer, tmp_path, probe))
    assert [f.subject for f in findings] == ["folders"]
    assert not any(a.startswith("containers") for a in probe.asked)
