"""Who owns what a run leaves on the machine: the run's identity, whether the run that made something is
still alive, and temporary folders named after their run.

A run is identified by its process: `PID@HOST:STARTED` (STARTED: when the process started, in whole
seconds since the epoch). Everything a run makes on the machine carries it: each container it creates
(the label `io.baseimages.run`), each temporary folder (`baseimages-<kind>-<pid>-*` in the temp dir, with
a marker file inside naming the whole identity). A run killed with SIGKILL removes none of them; the
next run removes those of runs that are dead (`is_dead`), never those of a live one.

A run is dead when it ran on this host and its pid is gone, or the pid now belongs to a process that
started at another time (the pid was reused). Something of another host is never said to be dead:
this machine cannot tell.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RUN_LABEL = "io.baseimages.run"  # the label each container of a run carries: its run's identity
MARKER = ".baseimages-run"  # the file in a run's temporary folder that names its run
TEMP_PREFIX = "baseimages-"
_TEMP_NAME = re.compile(r"^baseimages-([a-z]+)-(\d+)-")
_IDENTITY = re.compile(r"^(\d+)@([^:\s]+):(\d+)$")
START_SLACK = 2  # seconds: the start time read back from /proc is rounded

StartedOf = Callable[[int], "int | None"]  # a pid's start time (epoch seconds); None: no such process


@dataclass(frozen=True)
class RunId:
    """A run's identity: its process PID on HOST, started at STARTED (epoch seconds; 0: unknown)."""

    pid: int
    host: str
    started: int

    @property
    def label(self) -> str:
        return f"{self.pid}@{self.host}:{self.started}"

    def describe(self) -> str:
        """For people: `pid 123 on host, started 2026-12-06 05:38:16`."""
        if not self.started:
            return f"pid {self.pid} on {self.host}"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"pid {self.pid} on {self.host}, started {when}"

    @classmethod
    def parse(cls, text: str) -> RunId | None:
        """The identity a label or marker holds; None when TEXT is not one."""
        match = _IDENTITY.match(text.strip())
        return cls(int(match[1]), match[2], int(match[3])) if match else None


def this_host() -> str:
    return socket.gethostname() or "localhost"


@functools.cache
def _this_run(pid: int) -> RunId:
    return RunId(pid, this_host(), process_started(pid) or int(time.time()))


def this_run() -> RunId:
    """This process's identity (asked again after a fork: the pid is part of it)."""
    return _this_run(os.getpid())


@functools.cache
def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_started(pid: int) -> int | None:
    """When process PID started (epoch seconds), from /proc; None when there is no such process. Without
    /proc a process that exists gives 0 (its start unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        return _exists_without_proc(pid)
    except (OSError, IndexError):
        return None
    boot = _boot_time()
    if boot is None or len(fields) < 20:
        return 0
    return round(boot + int(fields[19]) / os.sysconf("SC_CLK_TCK"))


def _exists_without_proc(pid: int) -> int | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return 0
    return 0


def is_dead(run: RunId, started_of: StartedOf = process_started, host: str | None = None) -> bool:
    """Whether RUN is over: it ran on HOST (default: this one) and its pid is gone, or names a process that
    started at another time. STARTED_OF is injectable (tests)."""
    if run.host != (host or this_host()):
        return False
    started = started_of(run.pid)
    if started is None:
        return True
    return bool(started and run.started and abs(started - run.started) > START_SLACK)


def owned_tempdir(kind: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder of this run: `baseimages-KIND-PID-*` in the temp dir, its marker naming the run."""
    folder = tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{kind}-{os.getpid()}-")
    (Path(folder.name) / MARKER).write_text(this_run().label + "\n")
    return folder


def folder_owner(path: Path) -> RunId | None:
    """The run that made the temporary folder PATH: its marker's identity, else the pid its name holds
    (on this host, start unknown); None when PATH is no run's folder."""
    match = _TEMP_NAME.match(path.name)
    if match is None or not path.is_dir():
        return None
    try:
        owner = RunId.parse((path / MARKER).read_text())
    except OSError:
        owner = None
    return owner or RunId(int(match[2]), this_host(), 0)


__all__ = [
    "MARKER",
    "RUN_LABEL",
    "RunId",
    "folder_owner",
    "is_dead",
    "owned_tempdir",
    "process_started",
    "this_host",
    "this_run",
]
