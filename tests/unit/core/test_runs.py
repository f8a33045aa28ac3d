"""A run's identity and whether the run that made something is dead: pids gone or reused, other hosts,
temporary folders named after their run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from baseimages.core.runs import (
    MARKER,
    RunId,
    folder_owner,
    is_dead,
    owned_tempdir,
    process_started,
    this_host,
    this_run,
)

HOST = this_host()


def _gone(pid: int) -> int | None:
    return None


def test_an_identity_reads_back_from_its_label_and_anything_else_is_none():
    run = RunId(4242, "builder-7", 1796536075)
    assert run.label == "4242@builder-7:1796536075"
    assert RunId.parse(run.label) == run
    assert RunId.parse("4242") is None and RunId.parse("") is None and RunId.parse("x@y:z") is None


def test_this_run_is_this_process_started_now_on_this_host():
    run = this_run()
    assert (run.pid, run.host) == (os.getpid(), HOST)
    assert abs(run.started - (process_started(os.getpid()) or 0)) <= 2
    assert not is_dead(run)


def test_a_run_whose_pid_is_gone_is_dead():
    assert is_dead(RunId(4242, HOST, 1000), started_of=_gone)


def test_a_real_process_that_ended_is_dead_and_one_that_runs_is_not():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.1)
        started = process_started(child.pid)
        assert started is not None and abs(started - time.time()) < 30
        assert not is_dead(RunId(child.pid, HOST, started))
    finally:
        child.kill()
        child.wait()
    assert is_dead(RunId(child.pid, HOST, started))


def test_a_pid_reused_by_a_process_started_at_another_time_is_dead():
    assert is_dead(RunId(4242, HOST, 1000), started_of=lambda pid: 5000)
    assert not is_dead(RunId(4242, HOST, 1000), started_of=lambda pid: 1001)  # within the rounding


def test_a_live_pid_whose_start_is_unknown_is_alive():
    assert not is_dead(RunId(4242, HOST, 0), started_of=lambda pid: 1000)
    assert not is_dead(RunId(4242, HOST, 1000), started_of=lambda pid: 0)


def test_a_run_of_another_host_is_never_dead_here():
    assert not is_dead(RunId(4242, "elsewhere", 1000), started_of=_gone)


def test_a_temporary_folder_names_its_pid_and_its_marker_the_whole_identity():
    with owned_tempdir("run") as name:
        folder = Path(name)
        assert folder.name.startswith(f"baseimages-run-{os.getpid()}-")
        assert (folder / MARKER).read_text().strip() == this_run().label
        assert folder_owner(folder) == this_run()
    assert not folder.exists()


def test_a_folder_without_its_marker_is_owned_by_the_pid_its_name_holds(tmp_path):
    folder = tmp_path / "baseimages-export-4242-abc"
    folder.mkdir()
    assert folder_owner(folder) == RunId(4242, HOST, 0)
    for other in ("baseimages-run-abcdef", "something-4242-x", "baseimages-run-4242"):
        (tmp_path / other).mkdir()
        assert folder_owner(tmp_path / other) is None
